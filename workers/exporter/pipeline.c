/*
 * pipeline.c - tfo-exporter's fetch -> send -> settle loop on libevent:
 * in-flight slots kept in fetch order so acks/nacks reach the source in the
 * order it handed batches out; retry pauses with backoff, for the endpoint
 * and for the source alike; the ledger of delivered entries, so an entry is
 * never sent twice because its ack was lost; pacing for a fleet (pace.c:
 * jittered first flush, each signal's flush at its own phase, the cap after
 * an outage); outcome logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/exporter/ledger.h"
#include "workers/exporter/pace.h"
#include "workers/exporter/pipeline.h"

#define DEF_IN_FLIGHT 2u
#define DEF_BATCH_BYTES (256u * 1024)
#define DEF_POLL_MS 1000u
#define PARTIAL_LOG_EVERY_S 60
#define RETRY_LOG_EVERY_S 10
/* The pause after a nack outlasts the nack's delay by this much: a wake-up a
 * hair early would find the batch still held back, read it as an empty
 * source and wait a whole poll interval (or end a drain) instead. */
#define PAUSE_SLACK_MS 10

enum slot_state { SLOT_FREE = 0, SLOT_SENDING, SLOT_DONE };

/* How the pipeline is ending: not, stop (settle what is in flight), drain. */
enum ending { RUNNING = 0, END_STOP, END_DRAIN };

/* What one fetch came to. */
enum sent { SENT, NOTHING, SOURCE_ERROR, LOCAL_ERROR };

struct slot {
	struct tfo_exp_pipeline *p;
	enum slot_state state;
	uint64_t id;
	int is_logs;
	int requeue;                     /* overlapped a batch in flight: nacked, not sent */
	uint32_t points;                 /* of the entries sent */
	size_t bytes, wire;
	size_t n;                        /* entries sent (0: all were delivered before) */
	uint64_t *seqs, *hashes;         /* theirs, ascending seq; NULL without seqs */
	struct tfo_exp_outcome out;
};

struct tfo_exp_pipeline {
	struct event_base *base;
	struct tfo_exp_transport *tr;
	struct tfo_exp_source src;
	struct tfo_exp_pipeline_cfg cfg;
	struct tfo_exp_backoff backoff;
	struct tfo_exp_pace pace;        /* first flush, cap after an outage */
	uint64_t rng;                    /* the first flush's jitter */
	struct tfo_exp_backoff src_backoff;  /* the buffer's failures, as the endpoint's */
	struct tfo_exp_ledger ledger;    /* delivered entries the source may offer again */
	struct tfo_exp_sched sched;      /* each signal's flush, at its own phase */
	int tick_sig;                    /* the flush under way: its signal, 0 = any */
	int tick_host;                   /* whose point on the schedule it is (0: a
	                                  * retry pause's or the cap's wake-up) */
	uint32_t tick_sent[3];           /* batches of each signal it sent */
	int wake_tick;                   /* the wake-up armed is that signal's flush
	                                  * (0: a retry pause or the cap's gap) */
	int last_sig;                    /* what the last fetch asked for */
	int flush_over;                  /* its signal was empty: nothing is fetched
	                                  * until the next flush (an answer coming
	                                  * back does not start one) */
	struct event *wake;              /* flush / resume after pause */
	size_t head, count;              /* ring of slots in fetch order */
	int paused;                      /* waiting out a retry delay */
	uint64_t pause_end_ms;           /* monotonic end of that delay */
	int probing;                     /* after a failure: one request until a success */
	enum ending ending;
	int drain_over;                  /* drain: fetch no more (why in drain_why) */
	enum tfo_exp_drain_end drain_why;
	int in_pump;
	/* per signal (1 metrics, 2 logs): the last batch of a fetch that asked
	 * for it said nothing else was there (Batch.rest_empty). A fetch of it
	 * is then not made, as it would answer Empty (issue 18 §3), until the
	 * next wake-up, a nack or a drain */
	int src_empty[3];
	void (*drained)(void *);
	void (*drain_done)(void *, enum tfo_exp_drain_end);
	void *drained_arg;
	struct tfo_exp_stats st;
	time_t partial_logged, retry_logged;
	uint64_t partial_suppressed;
	/* cfg.max_in_flight of them: pump keeps count below it. 64 were 73 KiB,
	 * over a quarter of an idle exporter's heap, for the default 2 */
	struct slot slots[];
};

static time_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* forget_empty - what a batch said of the source no longer holds: puts came
 * since (a wake-up, a drain) or a nack made a batch due again */
static void
forget_empty(struct tfo_exp_pipeline *p)
{
	p->src_empty[1] = p->src_empty[2] = 0;
}

static void
arm(struct tfo_exp_pipeline *p, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	/* from now, not from when a callback that blocked on the source began */
	event_base_update_cache_time(p->base);
	evtimer_add(p->wake, &tv);
}

static void
note_error(struct tfo_exp_pipeline *p, const char *what, const char *msg)
{
	/* cut to fit: the what part is short, the message may be a server's */
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%.63s: %.*s", what,
	    (int)sizeof(p->st.last_error) - 66, msg);
	p->st.last_error_at = time(NULL);
}

static void pump(struct tfo_exp_pipeline *p);

/* drain_end - a drain fetches no more, for the first reason that came */
static void
drain_end(struct tfo_exp_pipeline *p, enum tfo_exp_drain_end why)
{
	if (p->ending != END_DRAIN || p->drain_over)
		return;
	p->drain_over = 1;
	p->drain_why = why;
}

/*
 * finish - an ending pipeline with nothing in flight that will fetch no more
 * tells its caller, once. Returns 1 when it did (p may be on its way out).
 */
static int
finish(struct tfo_exp_pipeline *p)
{
	void *arg = p->drained_arg;

	if (p->ending == RUNNING || p->count > 0 || (p->ending == END_DRAIN && !p->drain_over))
		return 0;
	if (p->drained) {
		void (*fn)(void *) = p->drained;
		p->drained = NULL;
		fn(arg);
		return 1;
	}
	if (p->drain_done) {
		void (*fn)(void *, enum tfo_exp_drain_end) = p->drain_done;
		p->drain_done = NULL;
		fn(arg, p->drain_why);
		return 1;
	}
	return 0;
}

/* outcome_text - "HTTP 503" / "gRPC 14" / the network error, for logs and stats */
static void
outcome_text(const struct slot *s, char *buf, size_t sz)
{
	if (s->out.grpc_code >= 0)
		snprintf(buf, sz, "gRPC status %d", s->out.grpc_code);
	else if (s->out.http_status > 0)
		snprintf(buf, sz, "HTTP %ld", s->out.http_status);
	else
		snprintf(buf, sz, "connection error");
}

static void
settle_success(struct tfo_exp_pipeline *p, struct slot *s)
{
	time_t now = mono_s();

	if (s->n == 0)
		return;                 /* delivered before: nothing sent this time */
	p->st.sent_batches++;
	if (p->ending == END_DRAIN)
		p->st.drained_batches++;
	p->st.sent_points += s->points;
	p->st.sent_bytes += s->bytes;
	p->st.wire_bytes += s->wire;
	p->probing = 0;
	p->st.backoff_ms = 0;
	tfo_exp_backoff_reset(&p->backoff);
	tfo_exp_pace_answered(&p->pace, mono_ms(), s->bytes);
	if (s->out.malformed)
		p->st.malformed_replies++;
	if (s->out.rejected <= 0)
		return;
	p->st.rejected_points += (uint64_t)s->out.rejected;
	/* partial_success is logged at most once a minute, with what was hidden */
	if (p->partial_logged == 0 || now - p->partial_logged >= PARTIAL_LOG_EVERY_S) {
		log_warn("endpoint rejected %lld of a batch's %s (%llu more partial rejections "
		    "not logged): %s", (long long)s->out.rejected,
		    s->is_logs ? "log records" : "data points",
		    (unsigned long long)p->partial_suppressed, s->out.message);
		p->partial_logged = now;
		p->partial_suppressed = 0;
	} else {
		p->partial_suppressed++;
	}
}

static void
settle_drop(struct tfo_exp_pipeline *p, struct slot *s)
{
	char what[64];

	outcome_text(s, what, sizeof(what));
	p->st.dropped_batches[s->out.reason]++;
	p->st.dropped_points[s->out.reason] += s->points;
	note_error(p, what, s->out.message);
	if (s->out.reason == TFO_EXP_R_AUTH)
		log_error("credentials refused by %s (%s): check exporter.api_key_id/api_key_secret;"
		    " dropped batch %llu (%u points): %s", p->st.endpoint, what,
		    (unsigned long long)s->id, s->points, s->out.message);
	else
		log_error("%s refused batch %llu permanently (%s, %s): dropped %u points: %s",
		    p->st.endpoint, (unsigned long long)s->id, what,
		    tfo_exp_reason_name(s->out.reason), s->points, s->out.message);
	/* a permanent answer still proves the endpoint is up */
	p->probing = 0;
	p->st.backoff_ms = 0;
	tfo_exp_backoff_reset(&p->backoff);
	tfo_exp_pace_answered(&p->pace, mono_ms(), s->bytes);
}

static uint32_t
settle_retry(struct tfo_exp_pipeline *p, struct slot *s)
{
	uint32_t delay = s->out.has_delay ? s->out.delay_ms : tfo_exp_backoff_next(&p->backoff);
	time_t now = mono_s();
	char what[64];

	outcome_text(s, what, sizeof(what));
	p->st.retries++;
	p->probing = 1;
	tfo_exp_pace_failed(&p->pace, mono_ms());
	note_error(p, what, s->out.message);
	if (p->retry_logged == 0 || now - p->retry_logged >= RETRY_LOG_EVERY_S) {
		log_warn("export to %s failed (%s: %s); batch %llu retried in %u ms%s",
		    p->st.endpoint, what, s->out.message, (unsigned long long)s->id, delay,
		    s->out.has_delay ? " (server's delay)" : "");
		p->retry_logged = now;
	}
	return delay;
}

/* pause_for - fetch nothing for ms (the longer of two pauses wins) */
static void
pause_for(struct tfo_exp_pipeline *p, uint32_t ms)
{
	uint64_t end = mono_ms() + ms + PAUSE_SLACK_MS;

	if (p->paused && p->pause_end_ms >= end)
		return;
	p->paused = 1;
	p->pause_end_ms = end;
	p->st.backoff_ms = ms;
	evtimer_del(p->wake);
	p->wake_tick = 0;
	arm(p, ms + PAUSE_SLACK_MS);
}

/* source_failed - the buffer did not answer or refused: back off as after a
 * failed export (no storm of fetches or acks against a buffer that cannot
 * write), and a drain ends */
static void
source_failed(struct tfo_exp_pipeline *p)
{
	p->st.source_errors++;
	pause_for(p, tfo_exp_backoff_next(&p->src_backoff));
	drain_end(p, TFO_EXP_DRAIN_SOURCE);
}

/* heads_apply - what the source says is deleted for good is forgotten */
static void
heads_apply(struct tfo_exp_pipeline *p, const struct tfo_exp_heads *h)
{
	if (!h->known)
		return;
	for (uint32_t sig = 1; sig < TFO_EXP_LEDGER_NSIG; sig++)
		tfo_exp_ledger_forget_below(&p->ledger, sig, h->v[sig]);
}

/*
 * remember - a delivered (or refused for good) batch's entries go to the
 * ledger before its ack: if the ack is lost, fails, or reaches a restarted
 * buffer, the entries offered again are acked, never sent again.
 */
static void
remember(struct tfo_exp_pipeline *p, const struct slot *s)
{
	for (size_t i = 0; s->seqs != NULL && i < s->n; i++)
		if (tfo_exp_ledger_add(&p->ledger, s->is_logs ? 2 : 1, s->seqs[i],
		    s->hashes[i]) != 0)
			log_warn("no memory for the ledger: batch %llu may be sent again",
			    (unsigned long long)s->id);
}

static void
slot_free(struct slot *s)
{
	free(s->seqs);
	free(s->hashes);
	s->seqs = s->hashes = NULL;
	s->state = SLOT_FREE;
}

/* settle_one - ack or nack one finished slot; 0, or -1 when the source
 * failed. After a failure (quiet) the source is not called: its answer
 * would take as long again; what was delivered goes to the ledger only. */
static int
settle_one(struct tfo_exp_pipeline *p, struct slot *s, uint32_t *pause, int *retried,
    int quiet)
{
	struct tfo_exp_heads h = { 0 };
	int rc;

	if (quiet) {
		/* a batch left unsettled is offered again: a retry is sent then,
		 * a delivery is acked unsent */
		if (s->requeue || s->out.cls == TFO_EXP_RETRY)
			return 0;
		if (s->out.cls == TFO_EXP_SUCCESS)
			settle_success(p, s);
		else
			settle_drop(p, s);
		remember(p, s);
		return 0;
	}
	if (s->requeue) {
		/* offered again while its entries were in flight: ask for it again
		 * now that their outcome is known */
		rc = p->src.nack(p->src.arg, s->id, 0, &h);
		forget_empty(p);
	} else if (s->out.cls == TFO_EXP_RETRY) {
		uint32_t d = settle_retry(p, s);
		rc = p->src.nack(p->src.arg, s->id, d, &h);
		forget_empty(p);
		if (!*retried || d > *pause)
			*pause = d;
		*retried = 1;
	} else {
		if (s->out.cls == TFO_EXP_SUCCESS)
			settle_success(p, s);
		else
			settle_drop(p, s);
		remember(p, s);
		/* Running with no retry ahead, the next request to the source
		 * is a fetch within a flush interval (the next point on the
		 * schedule, or at once): the ack rides on it, no round trip
		 * of its own (issue 18 §3). Stop and drain send it. */
		if (!*retried && p->ending == RUNNING && !p->paused && p->src.ack_later != NULL &&
		    p->src.ack_later(p->src.arg, s->id) == 0) {
			p->st.acks_later++;
			return 0;
		}
		rc = p->src.ack(p->src.arg, s->id, &h);
	}
	if (rc != 0)
		return -1;
	tfo_exp_backoff_reset(&p->src_backoff);
	heads_apply(p, &h);
	return 0;
}

/* acks_send - the acks the source kept go now: nothing will fetch soon */
static void
acks_send(struct tfo_exp_pipeline *p)
{
	struct tfo_exp_heads h = { 0 };

	if (p->src.acks_send == NULL)
		return;
	if (p->src.acks_send(p->src.arg, &h) == 0)
		heads_apply(p, &h);
}

/* settle - release finished slots from the head, in fetch order */
static void
settle(struct tfo_exp_pipeline *p)
{
	uint32_t pause = 0;
	int retried = 0, failed = 0;

	while (p->count > 0 && p->slots[p->head].state == SLOT_DONE) {
		struct slot *s = &p->slots[p->head];

		if (settle_one(p, s, &pause, &retried, failed) != 0)
			failed = 1;
		slot_free(s);
		p->head = (p->head + 1) % p->cfg.max_in_flight;
		p->count--;
	}
	p->st.ledger_entries = tfo_exp_ledger_count(&p->ledger);
	if (retried) {
		pause_for(p, pause);
		/* at stop a refusal ends the drain: no retry pause is waited out */
		drain_end(p, TFO_EXP_DRAIN_REFUSED);
	}
	if (failed)
		source_failed(p);
}

/* account - one answered request in the per-signal figures (self metrics) */
static void
account(struct tfo_exp_pipeline *p, const struct slot *s, uint32_t latency_ms)
{
	struct tfo_exp_sigstats *g = &p->st.sig[s->is_logs ? 1 : 0];

	tfo_hist_observe(&p->st.request_s, (double)latency_ms / 1000.0);
	switch (s->out.cls) {
	case TFO_EXP_SUCCESS:
		g->sent_items += s->points;
		g->wire_bytes += s->wire;
		return;
	case TFO_EXP_RETRY:
		g->failed_retryable += s->points;
		g->retries++;
		return;
	case TFO_EXP_DROP:
		g->failed_permanent += s->points;
		return;
	}
}

static void
on_done(void *arg, const struct tfo_exp_response *resp, uint32_t latency_ms, const char *endpoint)
{
	struct slot *s = arg;
	struct tfo_exp_pipeline *p = s->p;

	tfo_exp_classify(resp, p->cfg.transport.grpc, s->is_logs, time(NULL), &s->out);
	account(p, s, latency_ms);
	s->state = SLOT_DONE;
	p->st.last_latency_ms = latency_ms;
	p->st.endpoint = endpoint;
	settle(p);
	if (finish(p))
		return;
	pump(p);
}

/* in_flight_has - an entry of a request not settled yet (on the wire, or
 * answered and waiting for an older one: not in the ledger yet either way) */
static int
in_flight_has(const struct tfo_exp_pipeline *p, int is_logs, uint64_t seq, uint64_t hash)
{
	for (size_t k = 0; k < p->count; k++) {
		const struct slot *s = &p->slots[(p->head + k) % p->cfg.max_in_flight];
		if (s->is_logs != is_logs || s->seqs == NULL)
			continue;
		for (size_t i = 0; i < s->n; i++)
			if (s->seqs[i] == seq && s->hashes[i] == hash)
				return 1;
	}
	return 0;
}

/* What of a fetched batch goes on the wire. */
struct pick {
	const uint8_t **entries;
	size_t *lens;
	uint32_t *raw;
	size_t n, skipped;
	int overlap;                     /* an entry is in flight already */
	uint32_t points;
	size_t bytes;
	uint64_t *seqs, *hashes;         /* of the picked entries, for the slot */
};

static void
pick_free(struct pick *k)
{
	free(k->entries);
	free(k->lens);
	free(k->raw);
	free(k->seqs);
	free(k->hashes);
}

/*
 * pick - the entries of b not delivered before (the ledger), and whether one
 * is in a request still in flight (a buffer that restarted, or re-offered on
 * a new connection, offers what this exporter is still sending). Without
 * seqs from the source every entry is picked. -1 on ENOMEM.
 */
static int
pick(const struct tfo_exp_pipeline *p, const struct tfo_exp_batch *b, struct pick *k)
{
	size_t n = b->n ? b->n : 1;

	memset(k, 0, sizeof(*k));
	k->entries = calloc(n, sizeof(*k->entries));
	k->lens = calloc(n, sizeof(*k->lens));
	k->raw = calloc(n, sizeof(*k->raw));
	if (b->seqs != NULL) {
		k->seqs = calloc(n, sizeof(*k->seqs));
		k->hashes = calloc(n, sizeof(*k->hashes));
	}
	if (k->entries == NULL || k->lens == NULL || k->raw == NULL ||
	    (b->seqs != NULL && (k->seqs == NULL || k->hashes == NULL)))
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		uint64_t h = 0;
		if (b->seqs != NULL) {
			h = tfo_exp_entry_hash(b->entries[i], b->lens[i]);
			if (tfo_exp_ledger_has(&p->ledger, b->is_logs ? 2 : 1, b->seqs[i], h)) {
				k->skipped++;
				continue;
			}
			k->overlap |= in_flight_has(p, b->is_logs, b->seqs[i], h);
			k->seqs[k->n] = b->seqs[i];
			k->hashes[k->n] = h;
		}
		k->entries[k->n] = b->entries[i];
		k->lens[k->n] = b->lens[i];
		k->raw[k->n] = b->raw != NULL ? b->raw[i] : 0;
		k->bytes += k->raw[k->n] ? k->raw[k->n] : b->lens[i];
		k->points += b->points_each != NULL ? b->points_each[i] : 0;
		k->n++;
	}
	if (b->points_each == NULL)
		k->points = k->n == b->n ? b->points : 0;
	return 0;
}

/* slot_next - the next slot of the ring, filled from b and k (k's seqs move) */
static struct slot *
slot_next(struct tfo_exp_pipeline *p, const struct tfo_exp_batch *b, struct pick *k,
    size_t wire)
{
	struct slot *s = &p->slots[(p->head + p->count) % p->cfg.max_in_flight];

	*s = (struct slot){ .p = p, .state = SLOT_SENDING, .id = b->id, .is_logs = b->is_logs,
	    .points = k->points, .bytes = k->bytes, .wire = wire, .n = k->n,
	    .seqs = k->seqs, .hashes = k->hashes };
	k->seqs = k->hashes = NULL;
	p->count++;
	return s;
}

/* settle_now - a slot that needs no request: settled in its turn */
static void
settle_now(struct tfo_exp_pipeline *p, struct slot *s, enum tfo_exp_class cls)
{
	s->state = SLOT_DONE;
	s->out = (struct tfo_exp_outcome){ .cls = cls, .grpc_code = -1 };
	settle(p);
}

/* local_failure - memory, mostly: the batch is retried later, never dropped */
static void
local_failure(struct tfo_exp_pipeline *p, struct slot *s, enum tfo_err e)
{
	s->state = SLOT_DONE;
	s->out = (struct tfo_exp_outcome){ .cls = TFO_EXP_RETRY, .grpc_code = -1 };
	snprintf(s->out.message, sizeof(s->out.message), "local: %s", tfo_strerror(e));
	settle(p);
}

/*
 * fetch_sig - the signal a fetch asks for: the flush's own while all is
 * well, so that an agent's metrics and logs leave half an interval apart
 * (either, when the other signal is quiet: it has no flush of its own);
 * any after a failure and at stop, where the whole queue goes as fast as
 * allowed; under the cap the backlogged one first (pace.c)
 */
static int
fetch_sig(const struct tfo_exp_pipeline *p)
{
	if (p->ending != RUNNING || p->probing)
		return 0;
	if (tfo_exp_pace_cap(&p->pace, mono_ms()) != 0)
		return tfo_exp_pace_sig(&p->pace);
	return p->tick_sig;
}

/* known_empty - a fetch of sig (0: either) would answer Empty: the batch
 * before said so */
static int
known_empty(const struct tfo_exp_pipeline *p, int sig)
{
	return sig == 0 ? p->src_empty[1] && p->src_empty[2] : p->src_empty[sig];
}

/* note_empty - a batch of a fetch of sig (0: either) left nothing else */
static void
note_empty(struct tfo_exp_pipeline *p, int sig)
{
	for (int i = 1; i <= 2; i++)
		if (sig == 0 || sig == i)
			p->src_empty[i] = 1;
}

/* send_one - fetch one batch and put on the wire what was not delivered before */
static enum sent
send_one(struct tfo_exp_pipeline *p)
{
	struct tfo_exp_batch b;
	struct tfo_exp_buf body = { 0 };
	struct pick k;
	struct slot *s;
	size_t bad = 0;
	enum tfo_err e = TFO_OK;
	int rc;

	memset(&b, 0, sizeof(b));
	p->last_sig = fetch_sig(p);
	if (known_empty(p, p->last_sig))
		return NOTHING;         /* as the fetch's Empty answer would have */
	rc = p->src.fetch(p->src.arg, p->last_sig, p->cfg.batch_max_bytes, &b);
	if (p->src.heads != NULL) {     /* it carried the acks kept: settled */
		struct tfo_exp_heads h = { 0 };
		p->src.heads(p->src.arg, &h);
		heads_apply(p, &h);
	}
	if (rc < 0) {
		source_failed(p);
		return SOURCE_ERROR;
	}
	/* The source's pause is over when it settles a batch, or has none to
	 * settle: a batch read while deletes fail (a full disk) is no progress,
	 * and its ack would fail again after the shortest pause, for ever. */
	if (rc == 0) {
		tfo_exp_backoff_reset(&p->src_backoff);
		return NOTHING;
	}
	if (b.rest_empty)
		note_empty(p, p->last_sig);
	if (pick(p, &b, &k) != 0) {
		/* no memory: nacked in its turn, offered again after a pause */
		pick_free(&k);
		memset(&k, 0, sizeof(k));
		s = slot_next(p, &b, &k, 0);
		p->src.release(p->src.arg, &b);
		local_failure(p, s, TFO_ENOMEM);
		return LOCAL_ERROR;
	}
	p->st.skipped_entries += k.skipped;
	if (k.overlap) {
		p->st.requeued_batches++;
		s = slot_next(p, &b, &k, 0);
		s->requeue = 1;
		p->src.release(p->src.arg, &b);
		pick_free(&k);
		settle_now(p, s, TFO_EXP_RETRY);
		return SENT;
	}
	if (k.n > 0)
		e = tfo_exp_body_build(&body, k.entries, k.lens, k.raw, k.n, p->cfg.transport.grpc,
		    p->cfg.transport.gzip, &bad);
	if (bad) {
		/* damaged on disk, or a collector lied: left out, acked with the rest */
		p->st.bad_entries += bad;
		log_warn("batch %llu: %zu entries did not inflate, left out (%llu so far)",
		    (unsigned long long)b.id, bad, (unsigned long long)p->st.bad_entries);
	}
	s = slot_next(p, &b, &k, body.len);
	p->src.release(p->src.arg, &b);
	pick_free(&k);
	if (s->n == 0) {
		/* every entry was delivered before: ack it, send nothing */
		tfo_exp_buf_fini(&body);
		settle_now(p, s, TFO_EXP_SUCCESS);
		return SENT;
	}
	if (e == TFO_OK)
		e = tfo_exp_transport_send(p->tr, s->is_logs, &body, on_done, s);
	tfo_exp_buf_fini(&body);
	if (e != TFO_OK) {
		local_failure(p, s, e);
		return LOCAL_ERROR;
	}
	return SENT;
}

/*
 * paced - after an outage the next send waits for the cap (pace.c): the
 * wake-up is set for when it may go. Never at stop: the drain is bounded
 * by its deadline and sends what it can.
 */
static int
paced(struct tfo_exp_pipeline *p)
{
	uint32_t w;

	if (p->ending == END_DRAIN || (w = tfo_exp_pace_wait(&p->pace, mono_ms())) == 0)
		return 0;
	evtimer_del(p->wake);
	p->wake_tick = 0;
	arm(p, w);
	return 1;
}

/* arm_tick - the wake-up for the next flush on the schedule (pace.c), at
 * once when it is late */
static void
arm_tick(struct tfo_exp_pipeline *p)
{
	uint64_t at, now = mono_ms();

	p->wake_tick = tfo_exp_sched_next(&p->sched, &at);
	arm(p, at > now ? (uint32_t)(at - now) : 0);
}

/* last_sent - the batch just sent: its bytes, for the cap (pace.c), and
 * whether it came near batch_max_bytes (one that did not says the queue
 * held less than a batch) */
static void
last_sent(struct tfo_exp_pipeline *p)
{
	const struct slot *s = &p->slots[(p->head + p->count - 1) % p->cfg.max_in_flight];
	int full = s->bytes >= p->cfg.batch_max_bytes / 2;
	int sig = s->is_logs ? TFO_EXP_SIG_LOGS : TFO_EXP_SIG_METRICS;
	uint64_t now = mono_ms();

	tfo_exp_pace_sent(&p->pace, now, s->bytes, full);
	tfo_exp_pace_fetched(&p->pace, sig, full);
	p->tick_sent[sig]++;
	tfo_exp_sched_busy(&p->sched, sig, now);
}

/* flush_found - the fetch of this flush found nothing more: a flush at its
 * signal's own point that sent none of it makes that signal quiet (pace.h);
 * not while the fetches ask for what a failure or the cap chooses */
static void
flush_found(struct tfo_exp_pipeline *p)
{
	if (p->tick_host == 0 || p->ending != RUNNING || p->probing ||
	    tfo_exp_pace_cap(&p->pace, mono_ms()) != 0)
		return;
	if (p->tick_sent[p->tick_host] == 0)
		tfo_exp_sched_quiet(&p->sched, p->tick_host);
}

/*
 * pump - fetch and send while there is room and the pace allows. Running,
 * an empty source (of the flush's signal) ends that flush until its next
 * point on the schedule (and, empty of every signal, ends a cap: caught up);
 * draining, it ends the drain (the collectors have stopped: nothing more
 * will come).
 */
static void
pump(struct tfo_exp_pipeline *p)
{
	size_t limit;
	enum sent r = SENT;

	if (p->in_pump || p->paused || p->ending == END_STOP || p->drain_over ||
	    (p->flush_over && p->ending == RUNNING))
		return;
	p->in_pump = 1;
	limit = p->probing ? 1 : p->cfg.max_in_flight;
	while (p->count < limit && !p->paused && !paced(p) && (r = send_one(p)) == SENT)
		last_sent(p);
	p->in_pump = 0;
	if (r == NOTHING && p->last_sig == 0)
		tfo_exp_pace_empty(&p->pace);
	else if (r == NOTHING)
		tfo_exp_pace_fetched(&p->pace, p->last_sig, 0);
	if (r == NOTHING) {
		flush_found(p);
		tfo_exp_sched_done(&p->sched, p->last_sig, mono_ms());
	}
	if (p->ending == END_DRAIN) {
		if (r == NOTHING || r == SOURCE_ERROR)
			drain_end(p, r == NOTHING ? TFO_EXP_DRAIN_EMPTY : TFO_EXP_DRAIN_SOURCE);
		(void)finish(p);
	} else if (r == SOURCE_ERROR && !p->paused && !evtimer_pending(p->wake, NULL)) {
		p->wake_tick = 0;
		arm(p, p->cfg.poll_ms);
	} else if (r == NOTHING && !p->paused) {
		p->flush_over = 1;
		if (!evtimer_pending(p->wake, NULL))
			arm_tick(p);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_pipeline *p = arg;

	(void)fd;
	(void)what;
	p->paused = 0;
	p->st.backoff_ms = 0;
	/* a flush fetches its signal (either, when the other is quiet); the
	 * end of a pause or of a gap, any */
	p->tick_host = p->wake_tick;
	p->wake_tick = 0;
	p->flush_over = 0;
	memset(p->tick_sent, 0, sizeof(p->tick_sent));
	forget_empty(p);                /* puts came since */
	tfo_exp_sched_begin(&p->sched, p->tick_host, mono_ms());
	p->tick_sig = p->tick_host ? tfo_exp_sched_asks(&p->sched, p->tick_host) : 0;
	pump(p);
}

enum tfo_err
tfo_exp_pipeline_new(struct tfo_exp_pipeline **out, struct event_base *base,
    const struct tfo_exp_pipeline_cfg *cfg, const struct tfo_exp_source *src)
{
	struct tfo_exp_pipeline *p;
	struct timespec ts;
	uint64_t seed;
	uint32_t slots = cfg->max_in_flight == 0 ? DEF_IN_FLIGHT :
	    cfg->max_in_flight > TFO_EXP_MAX_IN_FLIGHT ? TFO_EXP_MAX_IN_FLIGHT : cfg->max_in_flight;
	enum tfo_err e;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p) + slots * sizeof(p->slots[0]))) == NULL)
		return TFO_ENOMEM;
	p->base = base;
	p->src = *src;
	p->cfg = *cfg;
	p->cfg.max_in_flight = slots;
	if (p->cfg.batch_max_bytes == 0)
		p->cfg.batch_max_bytes = DEF_BATCH_BYTES;
	if (p->cfg.poll_ms == 0)
		p->cfg.poll_ms = DEF_POLL_MS;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = cfg->seed ? cfg->seed :
	    ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
	tfo_exp_backoff_init(&p->backoff, cfg->retry_initial_ms, cfg->retry_max_ms,
	    cfg->retry_multiplier, seed);
	p->rng = seed * 0x9e3779b97f4a7c15ull + 1;      /* not the backoff's sequence */
	tfo_exp_pace_init(&p->pace, p->cfg.poll_ms, p->cfg.max_in_flight, p->cfg.batch_max_bytes);
	tfo_exp_backoff_init(&p->src_backoff, cfg->retry_initial_ms, cfg->retry_max_ms,
	    cfg->retry_multiplier, seed ^ 0x5bd1e995u);
	tfo_exp_ledger_init(&p->ledger);
	if ((e = tfo_exp_transport_new(&p->tr, base, &cfg->transport)) != TFO_OK) {
		free(p);
		return e;
	}
	p->st.endpoint = tfo_exp_transport_endpoint(p->tr);
	tfo_hist_init(&p->st.request_s, TFO_HIST_REQUEST);
	if ((p->wake = evtimer_new(base, on_wake, p)) == NULL) {
		tfo_exp_pipeline_free(p);
		return TFO_ENOMEM;
	}
	*out = p;
	return TFO_OK;
}

void
tfo_exp_pipeline_free(struct tfo_exp_pipeline *p)
{
	if (p == NULL)
		return;
	/* unsettled batches stay unacked: the source offers them again */
	tfo_exp_transport_free(p->tr);
	for (size_t i = 0; i < p->cfg.max_in_flight; i++)
		slot_free(&p->slots[i]);
	tfo_exp_ledger_fini(&p->ledger);
	if (p->wake)
		event_free(p->wake);
	free(p);
}

/* A fleet started in one second (an upgrade) must not flush in one second
 * ever after: each agent's first flush, hence its phase, is at random, and
 * its logs flush half an interval from its metrics. */
void
tfo_exp_pipeline_start(struct tfo_exp_pipeline *p)
{
	tfo_exp_sched_init(&p->sched, mono_ms(), p->cfg.poll_ms,
	    tfo_exp_pace_first_ms(p->cfg.poll_ms, &p->rng));
	arm_tick(p);
}

void
tfo_exp_pipeline_kick(struct tfo_exp_pipeline *p)
{
	p->flush_over = 0;
	forget_empty(p);
	if (!p->paused)
		pump(p);
}

void
tfo_exp_pipeline_stop(struct tfo_exp_pipeline *p, void (*drained)(void *), void *arg)
{
	p->ending = END_STOP;
	evtimer_del(p->wake);
	acks_send(p);
	p->drained = drained;
	p->drained_arg = arg;
	(void)finish(p);
}

void
tfo_exp_pipeline_drain(struct tfo_exp_pipeline *p, uint32_t budget_ms,
    void (*done)(void *, enum tfo_exp_drain_end), void *arg)
{
	uint64_t now = mono_ms();

	p->ending = END_DRAIN;
	p->drain_done = done;
	p->drained_arg = arg;
	acks_send(p);
	if (p->paused) {
		/* the last answer before the stop was a refusal: its pause is
		 * waited out only when the drain would still have time after it */
		if (p->pause_end_ms > now + budget_ms)
			drain_end(p, TFO_EXP_DRAIN_REFUSED);
		if (!finish(p) && p->drain_over)
			evtimer_del(p->wake);
		return;
	}
	/* no flush interval at stop: fetch now (puts may have come since the
	 * source said it was empty) */
	evtimer_del(p->wake);
	forget_empty(p);
	if (!finish(p))
		pump(p);
}

void
tfo_exp_pipeline_stats(const struct tfo_exp_pipeline *p, struct tfo_exp_stats *st)
{
	*st = p->st;
	st->in_flight = p->count;
	st->drain_cap = tfo_exp_pace_cap(&p->pace, mono_ms());
	st->connects = tfo_exp_transport_connects(p->tr);
	st->timeout_ms = tfo_exp_transport_timeout(p->tr);
	st->endpoint = tfo_exp_transport_endpoint(p->tr);
}
