/*
 * pipeline.c - tfo-exporter's fetch -> send -> settle loop on libevent:
 * in-flight slots kept in fetch order so acks/nacks reach the source in the
 * order it handed batches out; retry pauses with backoff; pacing for a
 * fleet (pace.c: jittered first flush, the cap after an outage); outcome
 * logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/exporter/pace.h"
#include "workers/exporter/pipeline.h"

#define DEF_IN_FLIGHT 2u
#define DEF_BATCH_BYTES (1024u * 1024)
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
	uint32_t points;
	size_t bytes, wire;
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
	struct event *wake;              /* poll / resume after pause */
	struct slot slots[TFO_EXP_MAX_IN_FLIGHT];
	size_t head, count;              /* ring of slots in fetch order */
	int paused;                      /* waiting out a retry delay */
	uint64_t pause_end_ms;           /* monotonic end of that delay */
	int probing;                     /* after a failure: one request until a success */
	enum ending ending;
	int drain_over;                  /* drain: fetch no more (why in drain_why) */
	enum tfo_exp_drain_end drain_why;
	int in_pump;
	void (*drained)(void *);
	void (*drain_done)(void *, enum tfo_exp_drain_end);
	void *drained_arg;
	struct tfo_exp_stats st;
	time_t partial_logged, retry_logged;
	uint64_t partial_suppressed;
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

static void
arm(struct tfo_exp_pipeline *p, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(p->wake, &tv);
}

static void
note_error(struct tfo_exp_pipeline *p, const char *what, const char *msg)
{
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%s: %s", what, msg);
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

	p->st.sent_batches++;
	if (p->ending == END_DRAIN)
		p->st.drained_batches++;
	p->st.sent_points += s->points;
	p->st.sent_bytes += s->bytes;
	p->st.wire_bytes += s->wire;
	p->probing = 0;
	p->st.backoff_ms = 0;
	tfo_exp_backoff_reset(&p->backoff);
	tfo_exp_pace_answered(&p->pace, mono_ms());
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
	tfo_exp_pace_answered(&p->pace, mono_ms());
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

/* settle - release finished slots from the head, in fetch order */
static void
settle(struct tfo_exp_pipeline *p)
{
	uint32_t pause = 0;
	int retried = 0;

	while (p->count > 0 && p->slots[p->head].state == SLOT_DONE) {
		struct slot *s = &p->slots[p->head];
		int rc;

		if (s->out.cls == TFO_EXP_RETRY) {
			uint32_t d = settle_retry(p, s);
			rc = p->src.nack(p->src.arg, s->id, d);
			if (!retried || d > pause)
				pause = d;
			retried = 1;
		} else {
			if (s->out.cls == TFO_EXP_SUCCESS)
				settle_success(p, s);
			else
				settle_drop(p, s);
			rc = p->src.ack(p->src.arg, s->id);
		}
		if (rc != 0)
			p->st.source_errors++;
		s->state = SLOT_FREE;
		p->head = (p->head + 1) % TFO_EXP_MAX_IN_FLIGHT;
		p->count--;
	}
	if (retried) {
		p->paused = 1;
		p->pause_end_ms = mono_ms() + pause + PAUSE_SLACK_MS;
		p->st.backoff_ms = pause;
		evtimer_del(p->wake);
		arm(p, pause + PAUSE_SLACK_MS);
		/* at stop a refusal ends the drain: no retry pause is waited out */
		drain_end(p, TFO_EXP_DRAIN_REFUSED);
	}
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

/* send_one - fetch one batch and put it on the wire */
static enum sent
send_one(struct tfo_exp_pipeline *p)
{
	struct tfo_exp_batch b;
	struct tfo_exp_buf body = { 0 };
	struct slot *s;
	size_t bytes = 0, bad = 0;
	enum tfo_err e;
	int rc;

	memset(&b, 0, sizeof(b));
	if ((rc = p->src.fetch(p->src.arg, p->cfg.batch_max_bytes, &b)) <= 0) {
		if (rc < 0)
			p->st.source_errors++;
		return rc < 0 ? SOURCE_ERROR : NOTHING;
	}
	for (size_t i = 0; i < b.n; i++)
		bytes += b.raw != NULL && b.raw[i] ? b.raw[i] : b.lens[i];
	e = tfo_exp_body_build(&body, b.entries, b.lens, b.raw, b.n, p->cfg.transport.grpc,
	    p->cfg.transport.gzip, &bad);
	if (bad) {
		/* damaged on disk, or a collector lied: left out, acked with the rest */
		p->st.bad_entries += bad;
		log_warn("batch %llu: %zu entries did not inflate, left out (%llu so far)",
		    (unsigned long long)b.id, bad, (unsigned long long)p->st.bad_entries);
	}
	s = &p->slots[(p->head + p->count) % TFO_EXP_MAX_IN_FLIGHT];
	memset(s, 0, sizeof(*s));
	*s = (struct slot){ .p = p, .state = SLOT_SENDING, .id = b.id, .is_logs = b.is_logs,
	    .points = b.points, .bytes = bytes, .wire = body.len };
	p->src.release(p->src.arg, &b);
	if (e == TFO_OK)
		e = tfo_exp_transport_send(p->tr, s->is_logs, &body, on_done, s);
	tfo_exp_buf_fini(&body);
	p->count++;
	if (e != TFO_OK) {
		/* local failure (memory): retry the batch later, never drop it */
		s->state = SLOT_DONE;
		s->out = (struct tfo_exp_outcome){ .cls = TFO_EXP_RETRY, .grpc_code = -1 };
		snprintf(s->out.message, sizeof(s->out.message), "local: %s", tfo_strerror(e));
		settle(p);
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
	arm(p, w);
	return 1;
}

/* last_full - the batch just sent came near batch_max_bytes (pace.c: one
 * that did not says the queue held less than a batch) */
static int
last_full(const struct tfo_exp_pipeline *p)
{
	const struct slot *s = &p->slots[(p->head + p->count - 1) % TFO_EXP_MAX_IN_FLIGHT];

	return s->bytes >= p->cfg.batch_max_bytes / 2;
}

/*
 * pump - fetch and send while there is room and the pace allows. Running,
 * an empty source is polled again after poll_ms (and ends a cap: caught
 * up); draining, it ends the drain (the collectors have stopped: nothing
 * more will come).
 */
static void
pump(struct tfo_exp_pipeline *p)
{
	size_t limit;
	enum sent r = SENT;

	if (p->in_pump || p->paused || p->ending == END_STOP || p->drain_over)
		return;
	p->in_pump = 1;
	limit = p->probing ? 1 : p->cfg.max_in_flight;
	while (p->count < limit && !p->paused && !paced(p) && (r = send_one(p)) == SENT)
		tfo_exp_pace_sent(&p->pace, mono_ms(), last_full(p));
	p->in_pump = 0;
	if (r == NOTHING)
		tfo_exp_pace_empty(&p->pace);
	if (p->ending == END_DRAIN) {
		if (r == NOTHING || r == SOURCE_ERROR)
			drain_end(p, r == NOTHING ? TFO_EXP_DRAIN_EMPTY : TFO_EXP_DRAIN_SOURCE);
		(void)finish(p);
	} else if ((r == NOTHING || r == SOURCE_ERROR) && !p->paused &&
	    !evtimer_pending(p->wake, NULL))
		arm(p, p->cfg.poll_ms);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_pipeline *p = arg;

	(void)fd;
	(void)what;
	p->paused = 0;
	p->st.backoff_ms = 0;
	pump(p);
}

enum tfo_err
tfo_exp_pipeline_new(struct tfo_exp_pipeline **out, struct event_base *base,
    const struct tfo_exp_pipeline_cfg *cfg, const struct tfo_exp_source *src)
{
	struct tfo_exp_pipeline *p;
	struct timespec ts;
	uint64_t seed;
	enum tfo_err e;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return TFO_ENOMEM;
	p->base = base;
	p->src = *src;
	p->cfg = *cfg;
	if (p->cfg.max_in_flight == 0)
		p->cfg.max_in_flight = DEF_IN_FLIGHT;
	if (p->cfg.max_in_flight > TFO_EXP_MAX_IN_FLIGHT)
		p->cfg.max_in_flight = TFO_EXP_MAX_IN_FLIGHT;
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
	tfo_exp_pace_init(&p->pace, p->cfg.poll_ms, p->cfg.max_in_flight);
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
	if (p->wake)
		event_free(p->wake);
	free(p);
}

/* A fleet started in one second (an upgrade) must not flush in one second
 * ever after: each agent's first flush, hence its phase, is at random. */
void
tfo_exp_pipeline_start(struct tfo_exp_pipeline *p)
{
	arm(p, tfo_exp_pace_first_ms(p->cfg.poll_ms, &p->rng));
}

void
tfo_exp_pipeline_kick(struct tfo_exp_pipeline *p)
{
	if (!p->paused)
		pump(p);
}

void
tfo_exp_pipeline_stop(struct tfo_exp_pipeline *p, void (*drained)(void *), void *arg)
{
	p->ending = END_STOP;
	evtimer_del(p->wake);
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
	if (p->paused) {
		/* the last answer before the stop was a refusal: its pause is
		 * waited out only when the drain would still have time after it */
		if (p->pause_end_ms > now + budget_ms)
			drain_end(p, TFO_EXP_DRAIN_REFUSED);
		if (!finish(p) && p->drain_over)
			evtimer_del(p->wake);
		return;
	}
	/* no flush interval at stop: fetch now */
	evtimer_del(p->wake);
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
	st->endpoint = tfo_exp_transport_endpoint(p->tr);
}
