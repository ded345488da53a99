/*
 * pipeline.h - tfo-exporter's core loop: fetch batches from a batch source,
 * send them (up to max_in_flight at once), and settle each with ack or nack
 * in fetch order once the endpoint's answer is classified. The batch source
 * is an interface so tests and benches feed batches without the buffer.
 */
#ifndef TFO_EXP_PIPELINE_H
#define TFO_EXP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/hist.h"
#include "workers/exporter/outcome.h"
#include "workers/exporter/transport.h"

#define TFO_EXP_MAX_IN_FLIGHT 64

/* One batch as handed out by a source; entries stay valid until release. */
struct tfo_exp_batch {
	uint64_t id;
	int is_logs;
	size_t n;
	const uint8_t *const *entries;  /* stored ResourceMetrics / ResourceLogs */
	const size_t *lens;
	const uint32_t *raw;            /* NULL, or per entry: 0 as it is, else an LZ4
	                                 * block of entries[i] inflating to raw[i] bytes */
	uint32_t points;
	const uint64_t *seqs;           /* NULL, or per entry: its seq in the signal's
	                                 * queue, the same when offered again by a
	                                 * restarted buffer (the id is not) */
	const uint32_t *points_each;    /* NULL, or per entry: its points */
	int rest_empty;                 /* the source has nothing else to offer now */
	void *priv;                     /* the source's own */
};

/* What the source said with a settled ack or nack: for each signal (1
 * metrics, 2 logs) every entry below v[signal] is deleted for good. */
struct tfo_exp_heads {
	int known;
	uint64_t v[3];
};

struct tfo_exp_source {
	/* fetch - next batch of signal (1 metrics, 2 logs, 0 either) of at most
	 * max_bytes: 1 filled, 0 nothing now, -1 error. A source may answer
	 * with the other signal; the pipeline sends what it got. */
	int (*fetch)(void *arg, int signal, uint32_t max_bytes, struct tfo_exp_batch *b);
	void (*release)(void *arg, struct tfo_exp_batch *b);
	/* ack / nack - settle a batch; 0 (heads filled when the source knows
	 * them) or -1 (the source logs its own errors). An id the source does
	 * not know (a batch of a buffer run before its restart) is no error. */
	int (*ack)(void *arg, uint64_t id, struct tfo_exp_heads *h);
	int (*nack)(void *arg, uint64_t id, uint32_t retry_after_ms, struct tfo_exp_heads *h);
	/* Optional (NULL: every ack is a request of its own). ack_later - keep
	 * a delivered batch's ack for the source's next request (a fetch, an
	 * ack, a nack): 0 kept, -1 not (ack it now). acks_send - send the kept
	 * ones now: 0 (heads filled as ack's) or -1. heads - what the last
	 * fetch's reply said of the kept acks it carried (known 0: nothing). */
	int (*ack_later)(void *arg, uint64_t id);
	int (*acks_send)(void *arg, struct tfo_exp_heads *h);
	void (*heads)(void *arg, struct tfo_exp_heads *h);
	void *arg;
};

struct tfo_exp_pipeline_cfg {
	struct tfo_exp_transport_cfg transport;
	uint32_t max_in_flight;         /* 0 = 2 */
	uint32_t batch_max_bytes;       /* 0 = 1 MiB */
	uint32_t poll_ms;               /* wait when the source is empty; 0 = 1 s */
	uint32_t retry_initial_ms;      /* 0 = 5 s */
	uint32_t retry_max_ms;          /* 0 = 30 s */
	double retry_multiplier;        /* 0 = 1.5 */
	uint64_t seed;                  /* jitter; 0 = from the clock */
};

/* What the endpoint answered, per signal (0 metrics, 1 logs): items are
 * data points or log records; every answer to a request is counted once. */
struct tfo_exp_sigstats {
	uint64_t sent_items, wire_bytes;        /* accepted (partially or not) */
	uint64_t failed_retryable, failed_permanent;    /* items of refused requests */
	uint64_t retries;                       /* requests refused for a retry */
};

struct tfo_exp_stats {
	uint64_t sent_batches, sent_points, sent_bytes, wire_bytes;
	struct tfo_exp_sigstats sig[2];
	struct tfo_hist request_s;      /* every request answered, whatever the answer */
	uint64_t retries;
	uint64_t dropped_batches[TFO_EXP_R_COUNT];
	uint64_t dropped_points[TFO_EXP_R_COUNT];
	uint64_t rejected_points;       /* partial_success */
	uint64_t malformed_replies;
	uint64_t source_errors;         /* fetches, acks and nacks the source failed */
	uint64_t skipped_entries;       /* offered again after their delivery: not sent */
	uint64_t requeued_batches;      /* offered while their entries were in flight */
	uint64_t acks_later;            /* acks kept to ride on the next fetch */
	size_t ledger_entries;          /* delivered entries the source may offer again */
	uint64_t bad_entries;           /* stored entries that did not inflate: left out */
	char last_error[TFO_EXP_MSG_MAX];
	time_t last_error_at;           /* unix seconds, 0 = never */
	uint32_t backoff_ms;            /* current pause, 0 when flowing */
	uint32_t last_latency_ms;
	uint32_t timeout_ms;            /* a request's whole time now (stretched after timeouts) */
	size_t in_flight;
	uint64_t connects;
	uint64_t drained_batches;       /* delivered during the stop's drain */
	uint32_t drain_cap;             /* after an outage: full batches an interval, 0 = none */
	const char *endpoint;
};

struct tfo_exp_pipeline;

enum tfo_err tfo_exp_pipeline_new(struct tfo_exp_pipeline **out, struct event_base *base,
    const struct tfo_exp_pipeline_cfg *cfg, const struct tfo_exp_source *src);
void tfo_exp_pipeline_free(struct tfo_exp_pipeline *p);

/* tfo_exp_pipeline_start - begin fetching, at a random point of the first
 * poll interval (pace.c) */
void tfo_exp_pipeline_start(struct tfo_exp_pipeline *p);
/* tfo_exp_pipeline_kick - data may be there: fetch now unless paused */
void tfo_exp_pipeline_kick(struct tfo_exp_pipeline *p);
/*
 * tfo_exp_pipeline_stop - fetch nothing more; drained(arg) is called once
 * every request in flight has been settled (at once if none is). It runs
 * inside the transport's callback: it may break the loop, never free p.
 */
void tfo_exp_pipeline_stop(struct tfo_exp_pipeline *p, void (*drained)(void *), void *arg);

/* Why a drain ended. */
enum tfo_exp_drain_end {
	TFO_EXP_DRAIN_EMPTY,            /* the source had nothing more */
	TFO_EXP_DRAIN_REFUSED,          /* the endpoint asked for a retry */
	TFO_EXP_DRAIN_SOURCE,           /* the source failed */
};

/*
 * tfo_exp_pipeline_drain - at stop: fetch and send at once, without waiting
 * for the poll interval, until the source is empty, the endpoint refuses (a
 * retryable answer during the drain, or a retry pause running at the call
 * that would outlast budget_ms) or the source fails; then, once nothing is
 * in flight, done(arg, why), as stop's drained. The caller bounds the time:
 * what is in flight when it gives up stays unacked and is offered again.
 */
void tfo_exp_pipeline_drain(struct tfo_exp_pipeline *p, uint32_t budget_ms,
    void (*done)(void *, enum tfo_exp_drain_end), void *arg);

/* tfo_exp_pipeline_stats - a snapshot (endpoint points into the pipeline) */
void tfo_exp_pipeline_stats(const struct tfo_exp_pipeline *p, struct tfo_exp_stats *st);

#endif
