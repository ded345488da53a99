/*
 * pace.h - when tfo-exporter may send, so that a fleet of agents never
 * stampedes its collector (docs/exporter.md, Fleet): the first flush at a
 * random point of the flush interval, and after an outage a send rate aimed
 * at sending the queue the outage left within TFO_EXP_PACE_AIM intervals
 * (estimated from the bytes this agent sent before it and the outage's
 * length), doubling every interval after that until the queue is empty.
 * Pure logic: the caller passes the monotonic time and the random state, so
 * tests drive it without a clock.
 */
#ifndef TFO_EXP_PACE_H
#define TFO_EXP_PACE_H

#include <stdint.h>

/* Signals with a flush phase of their own: 1 metrics, 2 logs (index 0 unused). */
#define TFO_EXP_SCHED_NSIG 3
#define TFO_EXP_SIG_METRICS 1
#define TFO_EXP_SIG_LOGS 2

/*
 * The flush schedule: each signal is fetched once an interval at its own
 * fixed phase, the two half an interval apart, so an agent's metrics and
 * logs do not reach the endpoint in the same second, and the phases drawn
 * at the first flush are kept for good: a late flush (a slow answer, a
 * backlog, an outage) moves the next one to the next point of the same grid,
 * never to "an interval from now", which would line up every agent that an
 * endpoint answered at the same moment.
 */
struct tfo_exp_sched {
	uint32_t interval_ms;
	uint64_t due[TFO_EXP_SCHED_NSIG];       /* next flush of each signal */
	int quiet[TFO_EXP_SCHED_NSIG];          /* its last flush of its own found
	                                         * nothing (tfo_exp_sched_quiet) */
};

/* tfo_exp_sched_init - first flushes from now: metrics after first_ms (in
 * [0, interval_ms), tfo_exp_pace_first_ms), logs half an interval from it,
 * both within the first interval */
void tfo_exp_sched_init(struct tfo_exp_sched *sc, uint64_t now_ms, uint32_t interval_ms,
    uint32_t first_ms);
/* tfo_exp_sched_begin - the flush of sig begins: its point is taken, even
 * when the wake-up came a few ms before it (the loop's timers run on a
 * coarser clock than CLOCK_MONOTONIC), so it is not flushed again at once */
void tfo_exp_sched_begin(struct tfo_exp_sched *sc, int sig, uint64_t now_ms);
/* tfo_exp_sched_done - signal sig (0: every signal) has nothing more to send
 * now: its flushes that are due are over, the next is its first grid point
 * after now */
void tfo_exp_sched_done(struct tfo_exp_sched *sc, int sig, uint64_t now_ms);
/* tfo_exp_sched_next - the signal whose flush comes first, and when (*at;
 * in the past when it is late): a quiet signal has no flush of its own, and
 * when both are quiet the metrics' flush is the one left */
int tfo_exp_sched_next(const struct tfo_exp_sched *sc, uint64_t *at);
/*
 * At idle most flushes of a signal find nothing, and an Empty answer is a
 * round trip to the buffer all the same (issue 18 §3). A signal whose own
 * flush found nothing is quiet: it has no flush of its own, the other's
 * flush (the metrics' when both are quiet) asks for either signal instead,
 * so an entry put meanwhile still leaves within one interval. Once a batch
 * of it is sent it flushes at its own phase again: a signal with data every
 * interval keeps leaving half an interval from the other.
 */
/* tfo_exp_sched_quiet - sig's own flush found nothing */
void tfo_exp_sched_quiet(struct tfo_exp_sched *sc, int sig);
/* tfo_exp_sched_busy - a batch of sig was sent: its own flushes again, the
 * next at its first grid point after now when the one due has passed */
void tfo_exp_sched_busy(struct tfo_exp_sched *sc, int sig, uint64_t now_ms);
/* tfo_exp_sched_asks - what the flush of sig fetches: sig, or 0 (either)
 * when the other signal is quiet */
int tfo_exp_sched_asks(const struct tfo_exp_sched *sc, int sig);

/* After this many doublings (64x the rate it started at) the cap is lifted. */
#define TFO_EXP_PACE_DOUBLINGS 6
/* The catch-up after an outage is aimed at this many flush intervals from
 * the first answer: the first answer comes at most retry.max_interval after
 * the endpoint is back, so at the defaults (10 s, 60 s) every agent's queue
 * is out 50 + 60 = 110 s after it, within issue 20's 2 minutes. */
#define TFO_EXP_PACE_AIM 5
/* A long outage's aim would be many times the agent's traffic (1 + outage /
 * 50 s): the aimed rate is at most this many times the requests an interval
 * before the outage, in full batches (never under the floor), held as long
 * as the estimated queue needs at that rate, up to TFO_EXP_PACE_HOLD_MAX
 * intervals. A 5-minute outage of an agent sending less than full batches
 * stays under it; a longer one takes longer to catch up instead of sending
 * harder, so a fleet's request peak after any outage is no higher than
 * after a short one. */
#define TFO_EXP_PACE_PEAK 3
#define TFO_EXP_PACE_HOLD_MAX 360

struct tfo_exp_pace {
	uint32_t interval_ms;           /* the flush interval: the unit of the rates */
	uint32_t floor;                 /* least batches an interval after an outage */
	uint64_t batch_max;             /* bytes of a full batch (batch_max_bytes) */
	uint64_t win_start_ms;          /* what the endpoint took, per interval */
	uint32_t win_count, prev_count; /* batches */
	uint64_t win_bytes, prev_bytes; /* their payload bytes */
	uint64_t ok_ms;                 /* the last answer (0: none yet) */
	int failing;                    /* a retryable failure since the last answer */
	uint32_t before;                /* batches an interval before the outage */
	uint64_t before_bytes;          /* bytes an interval before the outage */
	uint64_t since_ms;              /* the last answer before the outage */
	uint64_t keep_bytes;            /* failed while capped: the next cap's rate */
	int recovering;                 /* the cap holds */
	uint64_t rec_start_ms;
	uint64_t hold_ms;               /* the aimed rate holds this long, then doubles */
	uint32_t rate0;                 /* batches an interval when the cap began */
	uint64_t rate0_bytes;           /* bytes an interval aimed at (0: count batches) */
	uint64_t next_ms;               /* earliest next send while it holds */
	int peek;                       /* the last batch was not full: look at once */
	int hot_sig;                    /* the signal whose last batch was full */
};

/* tfo_exp_pace_init - interval_ms > 0; floor >= 1 (max_in_flight);
 * batch_max: exporter.batch_max_bytes */
void tfo_exp_pace_init(struct tfo_exp_pace *pc, uint32_t interval_ms, uint32_t floor,
    uint64_t batch_max);

/* tfo_exp_pace_first_ms - the first flush: uniform in [0, interval_ms) */
uint32_t tfo_exp_pace_first_ms(uint32_t interval_ms, uint64_t *rng);

/* tfo_exp_pace_answered - the endpoint took a batch of bytes (or refused it
 * for good: it is up); the first answer after a failure begins the cap */
void tfo_exp_pace_answered(struct tfo_exp_pace *pc, uint64_t now_ms, uint64_t bytes);
/* tfo_exp_pace_failed - a retryable failure: the outage (or blip) begins */
void tfo_exp_pace_failed(struct tfo_exp_pace *pc, uint64_t now_ms);
/* tfo_exp_pace_empty - the queue is empty: caught up, the cap ends */
void tfo_exp_pace_empty(struct tfo_exp_pace *pc);

/* tfo_exp_pace_wait - ms until the next batch may be sent; 0 = now */
uint32_t tfo_exp_pace_wait(struct tfo_exp_pace *pc, uint64_t now_ms);
/* tfo_exp_pace_sent - a batch of bytes went on the wire at now_ms; full =
 * it came near batch_max_bytes. One that did not says the queue held less
 * than a batch: the next fetch may look at once (once), so that an empty
 * queue ends the cap instead of new data trickling out at the cap's rate, a
 * small request each gap. That look counts as a send: over time the cap
 * holds. */
void tfo_exp_pace_sent(struct tfo_exp_pace *pc, uint64_t now_ms, uint64_t bytes, int full);
/* tfo_exp_pace_fetched - a batch of signal sig (1 metrics, 2 logs) went on
 * the wire, full = near batch_max_bytes; or a fetch of sig found nothing
 * (full = 0) */
void tfo_exp_pace_fetched(struct tfo_exp_pace *pc, int sig, int full);
/* tfo_exp_pace_sig - the signal to fetch under the cap: the one whose last
 * batch was full, until it comes back less than full (its backlog first; a
 * collector's entries of the other, put in the same second on every agent of
 * a fleet, wait for it instead of leaving as a small request each); 0: either,
 * in turn */
int tfo_exp_pace_sig(const struct tfo_exp_pace *pc);
/* tfo_exp_pace_cap - batches an interval allowed now (full ones, when the
 * cap counts bytes); 0 = no cap */
uint32_t tfo_exp_pace_cap(const struct tfo_exp_pace *pc, uint64_t now_ms);

#endif
