/*
 * test_exp_pipeline.c - tfo-exporter's pipeline against an in-process
 * libevent HTTP server (OTLP/HTTP): acks reach the source in fetch order even
 * when replies come back swapped, retry then success, permanent drops, stop
 * (what is in flight settled) and the stop's drain (the source emptied at
 * once, a refusal or a long retry pause ending it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/log.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "tests/lib/until_settled.h"
#include "workers/exporter/memsource.h"
#include "workers/exporter/pipeline.h"
#include "workers/exporter/sample.h"

#define MAX_SEEN 64
#define PIPE_SEED 27

struct srv;

struct pending {
	struct evhttp_request *req;
	int status;
	struct event *ev;
};

/* What the fake endpoint does for the entry with tfo.entry.index = i. */
struct rule {
	int index;
	int times;              /* how many times (then success) */
	int status;             /* reply status while active */
	int delay_ms;           /* reply delay (with status 200 when times==0) */
};

struct srv {
	struct event_base *base;
	struct evhttp *http;
	uint16_t port;
	struct rule rules[4];
	size_t nrules;
	int seen[MAX_SEEN];     /* entry index of each request, in arrival order */
	size_t nseen;
	int got[MAX_SEEN];      /* per entry index: how often it arrived (200 or not) */
};

/* first_index - the first entry's tfo.entry.index; every entry counted in got */
static int
first_index(const uint8_t *p, size_t n, int *got)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
	    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, n, p);
	int idx = -1;

	if (r && r->n_resource_metrics > 0)
		idx = (int)r->resource_metrics[0]->resource->attributes[2]->value->int_value;
	for (size_t i = 0; r != NULL && i < r->n_resource_metrics; i++) {
		int64_t k = r->resource_metrics[i]->resource->attributes[2]->value->int_value;
		if (k >= 0 && k < MAX_SEEN)
			got[k]++;
	}
	if (r)
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
	return idx;
}

static void
reply_now(evutil_socket_t fd, short what, void *arg)
{
	struct pending *pd = arg;

	(void)fd;
	(void)what;
	evhttp_send_reply(pd->req, pd->status, pd->status == 200 ? "OK" : "ERR", NULL);
	event_free(pd->ev);
	free(pd);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	uint8_t *body = malloc(n ? n : 1);
	struct pending *pd = calloc(1, sizeof(*pd));
	struct timeval tv = { 0, 0 };
	int idx;

	evbuffer_remove(in, body, n);
	idx = first_index(body, n, s->got);
	free(body);
	if (s->nseen < MAX_SEEN)
		s->seen[s->nseen++] = idx;
	pd->req = req;
	pd->status = idx < 0 ? 400 : 200;
	for (size_t i = 0; i < s->nrules; i++) {
		struct rule *r = &s->rules[i];
		if (r->index != idx)
			continue;
		if (r->times > 0) {
			r->times--;
			pd->status = r->status;
		}
		tv.tv_usec = r->delay_ms * 1000;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/x-protobuf");
	pd->ev = evtimer_new(s->base, reply_now, pd);
	evtimer_add(pd->ev, &tv);
}

static void
srv_start(struct srv *s, struct event_base *base)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->base = base;
	assert_non_null(s->http = evhttp_new(base));
	evhttp_set_gencb(s->http, on_request, s);
	assert_non_null(h = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0));
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
}

struct run {
	struct event_base *base;
	struct tfo_exp_memsource *ms;
	struct tfo_exp_pipeline *p;
	struct srv srv;
	char endpoint[64];
	int drained;
	int drain_why;          /* -1 = drain not over */
};

/* add_of - entries numbered from .. from + entries - 1: metrics (3 points
 * each) or log records (2 each) */
static void
add_of(struct run *r, int logs, uint32_t from, uint32_t entries)
{
	for (uint32_t i = from; i < from + entries; i++) {
		size_t len;
		uint8_t *e = logs ? tfo_exp_sample_logs(i, 2, &len) :
		    tfo_exp_sample_metrics(i, 2, &len);
		assert_non_null(e);
		assert_int_equal(tfo_exp_memsource_add(r->ms, logs, e, len, logs ? 2 : 3), 0);
		free(e);
	}
}

static void
add_entries(struct run *r, uint32_t from, uint32_t entries)
{
	add_of(r, 0, from, entries);
}

static void
add_logs(struct run *r, uint32_t from, uint32_t entries)
{
	add_of(r, 1, from, entries);
}

/* pipeline_over - a pipeline on r's source and server: in_flight requests,
 * batches of max_bytes (1: one entry each), retries from retry_ms */
static void
pipeline_over(struct run *r, uint32_t in_flight, uint32_t max_bytes, uint32_t poll_ms,
    uint32_t retry_ms)
{
	struct tfo_exp_pipeline_cfg cfg;
	struct tfo_exp_source src;

	memset(&cfg, 0, sizeof(cfg));
	cfg.transport.endpoints[0] = r->endpoint;
	cfg.transport.n_endpoints = 1;
	cfg.transport.timeout_ms = 5000;
	cfg.max_in_flight = in_flight;
	cfg.batch_max_bytes = max_bytes;
	cfg.poll_ms = poll_ms;
	cfg.retry_initial_ms = retry_ms;
	cfg.retry_max_ms = 2 * retry_ms;
	/* full jitter draws from 0: with this seed and retry_ms 200 the first
	 * retry pauses 188 ms and the second 296 ms. test_drain_after_pause needs
	 * a pause running when its 1 ms tick comes, which a loaded machine may
	 * hold back a while */
	cfg.seed = PIPE_SEED;
	src = tfo_exp_memsource_source(r->ms);
	assert_int_equal(tfo_exp_pipeline_new(&r->p, r->base, &cfg, &src), TFO_OK);
}

static void
run_setup_poll(struct run *r, uint32_t entries, uint32_t in_flight, uint32_t poll_ms)
{
	memset(r, 0, sizeof(*r));
	r->drain_why = -1;
	assert_non_null(r->base = event_base_new());
	srv_start(&r->srv, r->base);
	assert_non_null(r->ms = tfo_exp_memsource_new());
	add_entries(r, 0, entries);
	snprintf(r->endpoint, sizeof(r->endpoint), "127.0.0.1:%u", r->srv.port);
	pipeline_over(r, in_flight, 1, poll_ms, 200);
}

static void
run_setup(struct run *r, uint32_t entries, uint32_t in_flight)
{
	run_setup_poll(r, entries, in_flight, 10);
}

/* run_setup_bytes - as run_setup, with batches of up to max_bytes */
static void
run_setup_bytes(struct run *r, uint32_t entries, uint32_t in_flight, uint32_t max_bytes)
{
	run_setup(r, entries, in_flight);
	tfo_exp_pipeline_free(r->p);
	pipeline_over(r, in_flight, max_bytes, 10, 50);
}

/* each_once - every one of n entries reached the endpoint exactly once */
static void
each_once(const struct run *r, int n)
{
	for (int i = 0; i < n; i++)
		if (r->srv.got[i] != 1)
			fail_msg("entry %d arrived %d times", i, r->srv.got[i]);
}

/* run_more - run r's loop until its source is drained (10 s at most) */
static void
run_more(struct run *r)
{
	struct timeval limit = { 10, 0 };
	struct tfo_test_until_settled drain;

	assert_int_equal(tfo_test_until_settled_start(&drain, r->base, r->ms, 5000), 0);
	/* the time limit only ends a broken run; the assertions decide */
	event_base_loopexit(r->base, &limit);
	event_base_dispatch(r->base);
	tfo_test_until_settled_stop(&drain);
}

static void
run_loop(struct run *r)
{
	tfo_exp_pipeline_start(r->p);
	run_more(r);
}

static void
run_teardown(struct run *r)
{
	tfo_exp_pipeline_free(r->p);
	evhttp_free(r->srv.http);
	tfo_exp_memsource_free(r->ms);
	event_base_free(r->base);
}

static void
test_ack_order_swapped_replies(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;

	(void)state;
	run_setup(&r, 4, 2);
	/* entry 0 answers late: entry 1's success must wait for it */
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 0, .delay_ms = 200 };
	run_loop(&r);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.acks, 4);
	assert_int_equal(c.order_violations, 0);
	assert_int_equal(st.sent_batches, 4);
	assert_int_equal(st.sent_points, 12);
	assert_int_equal(st.retries, 0);
	/* both were in flight together: entry 1 reached the server before 0 replied */
	assert_int_equal(r.srv.seen[0] + r.srv.seen[1], 1);
	run_teardown(&r);
}

/*
 * Each signal flushes at its own phase (pace.c), half an interval from the
 * other: a flush asks the source for its own signal only, so an agent's
 * metrics and logs never leave together, and it ends when that signal is
 * empty: an answer that comes back after that fetches nothing until the next
 * flush. Two entries of each, two in flight: the fetches are exactly three
 * of one signal (two batches, then nothing) and three of the other. The
 * pipeline before this fetched "either" every time, and once more per answer.
 */
static void
test_flush_per_signal(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;

	(void)state;
	/* 3 s: the second flush comes 1.5 s after the first, long after the
	 * first one's answers even on a loaded machine */
	run_setup_poll(&r, 2, 2, 3000);
	add_logs(&r, 2, 2);
	run_loop(&r);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.fetches_for[0], 0);
	/* a seventh: the next flush, when the loop saw it before the end */
	assert_true(c.n_asked >= 6);
	assert_true(c.asked[0] == 1 || c.asked[0] == 2);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(c.asked[i], i < 3 ? c.asked[0] : 3 - c.asked[0]);
	run_teardown(&r);
}

static void
test_retry_and_drop(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;

	(void)state;
	run_setup(&r, 5, 2);
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 1, .times = 2, .status = 503 };
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 3, .times = 1, .status = 400 };
	run_loop(&r);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.order_violations, 0);
	assert_int_equal(c.nacks, 2);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.dropped_batches[TFO_EXP_R_INVALID], 1);
	assert_int_equal(st.dropped_points[TFO_EXP_R_INVALID], 3);
	assert_int_equal(st.sent_batches, 4);
	assert_int_equal(st.backoff_ms, 0);
	assert_non_null(strstr(st.last_error, "HTTP 400"));
	assert_true(st.last_error_at > 0);
	run_teardown(&r);
}

static void
on_drained(void *arg)
{
	struct run *r = arg;

	r->drained = 1;
	event_base_loopbreak(r->base);
}

static void
stop_after(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	tfo_exp_pipeline_stop(r->p, on_drained, r);
}

static void
test_stop_drains(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;
	struct event *ev;
	struct timeval at = { 0, 50000 }, limit = { 10, 0 };

	(void)state;
	run_setup(&r, 6, 2);
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 0, .delay_ms = 300 };
	ev = evtimer_new(r.base, stop_after, &r);
	evtimer_add(ev, &at);
	event_base_loopexit(r.base, &limit);
	tfo_exp_pipeline_start(r.p);
	event_base_dispatch(r.base);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(r.drained, 1);
	/* the two in flight at stop were settled; nothing else was fetched */
	assert_int_equal(c.acks, 2);
	assert_int_equal(c.queued, 4);
	event_free(ev);
	run_teardown(&r);
}

static void
on_drain_done(void *arg, enum tfo_exp_drain_end why)
{
	struct run *r = arg;

	r->drain_why = (int)why;
	event_base_loopbreak(r->base);
}

/* What a drain test does at `at`: entries to add first, then the drain. */
struct drain_at {
	struct run *r;
	uint32_t add_from, add;
	uint32_t budget_ms;
	int when_paused;        /* drain only once a retry pause runs */
	int done;
	struct event *ev;
};

static void
drain_now(evutil_socket_t fd, short what, void *arg)
{
	struct drain_at *d = arg;
	struct tfo_exp_stats st;

	(void)fd;
	(void)what;
	tfo_exp_pipeline_stats(d->r->p, &st);
	if (d->done || (d->when_paused && st.backoff_ms == 0))
		return;
	d->done = 1;
	evtimer_del(d->ev);
	add_entries(d->r, d->add_from, d->add);
	tfo_exp_pipeline_drain(d->r->p, d->budget_ms, on_drain_done, d->r);
}

/* drain_run - start, drain at at_ms (or the first 1 ms tick after it with a
 * retry pause running), run until the drain is over (or 10 s) */
static void
drain_run(struct run *r, struct drain_at *d, long at_ms)
{
	struct timeval at = { at_ms / 1000, (at_ms % 1000) * 1000 }, limit = { 10, 0 };
	struct event *ev = event_new(r->base, -1, EV_PERSIST, drain_now, d);

	d->ev = ev;
	if (d->when_paused)
		at = (struct timeval){ 0, 1000 };
	event_add(ev, &at);
	event_base_loopexit(r->base, &limit);
	tfo_exp_pipeline_start(r->p);
	/* at once, not at the first flush's random point of the 60 s interval */
	tfo_exp_pipeline_kick(r->p);
	event_base_dispatch(r->base);
	event_free(ev);
}

/* Data came after the last poll of a long flush interval: the drain sends it
 * at once, every entry, and ends because the source is empty. */
static void
test_drain_no_flush_wait(void **state)
{
	struct run r;
	struct drain_at d = { &r, 0, 7, 5000, 0, 0, NULL };
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;
	struct timespec t0, t1;

	(void)state;
	run_setup_poll(&r, 0, 2, 60000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	drain_run(&r, &d, 100);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	assert_int_equal(r.drain_why, TFO_EXP_DRAIN_EMPTY);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.acks, 7);
	assert_int_equal(c.order_violations, 0);
	assert_int_equal(st.drained_batches, 7);
	assert_int_equal(st.in_flight, 0);
	/* well before the 60 s poll (the 10 s loop limit would have ended it) */
	assert_true(t1.tv_sec - t0.tv_sec < 9);
	run_teardown(&r);
}

/* A retryable answer during the drain ends it: nothing after is fetched. */
static void
test_drain_refused(void **state)
{
	struct run r;
	struct drain_at d = { &r, 0, 0, 5000, 0, 0, NULL };
	struct tfo_exp_memsource_counts c;

	(void)state;
	run_setup_poll(&r, 6, 1, 60000);
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 2, .times = 5, .status = 503 };
	drain_run(&r, &d, 0);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(r.drain_why, TFO_EXP_DRAIN_REFUSED);
	assert_int_equal(c.acks, 2);
	assert_int_equal(c.nacks, 1);
	assert_int_equal(c.queued, 4);
	assert_int_equal(r.srv.nseen, 3);
	run_teardown(&r);
}

/* A retry pause running at the stop: waited out when the budget allows it
 * (then everything is sent), not when it would outlast the budget. */
static void
test_drain_after_pause(void **state)
{
	struct run r;
	struct drain_at d = { &r, 0, 0, 5000, 1, 0, NULL };
	struct tfo_exp_memsource_counts c;

	(void)state;
	/* a retry pause of 188 ms (the seed); the drain comes during it */
	run_setup_poll(&r, 4, 1, 60000);
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 0, .times = 1, .status = 503 };
	drain_run(&r, &d, 0);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(r.drain_why, TFO_EXP_DRAIN_EMPTY);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.nacks, 1);
	run_teardown(&r);

	/* the same pause against a budget of 1 ms: over at once, nothing more sent */
	run_setup_poll(&r, 4, 1, 60000);
	d = (struct drain_at){ &r, 0, 0, 1, 1, 0, NULL };
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 0, .times = 1, .status = 503 };
	drain_run(&r, &d, 0);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(r.drain_why, TFO_EXP_DRAIN_REFUSED);
	assert_int_equal(c.queued, 4);
	assert_int_equal(r.srv.nseen, 1);
	run_teardown(&r);
}

static void
restart_source(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tfo_exp_memsource_restart(arg);
}

/*
 * The buffer restarts while batches are on the wire: their acks reach a
 * buffer that no longer knows them, and it offers their entries again under
 * new ids, one batch of them while it is still in flight. Every entry
 * reaches the endpoint once: the delivered ones are acked unsent, the one
 * still in flight is asked for again once its outcome is known.
 */
static void
test_buffer_restart_no_resend(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;
	struct event *ev;
	struct timeval at = { 0, 10000 };
	size_t len0, len1;
	uint8_t *e0 = tfo_exp_sample_metrics(0, 2, &len0), *e1 = tfo_exp_sample_metrics(1, 2, &len1);

	(void)state;
	free(e0);
	free(e1);
	/* two entries a batch: [0,1] [2,3] ... [8,9], all on the wire at once */
	run_setup_bytes(&r, 10, 6, (uint32_t)(len0 + len1));
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 0, .delay_ms = 40 };
	r.srv.rules[r.srv.nrules++] = (struct rule){ .index = 2, .delay_ms = 400 };
	ev = evtimer_new(r.base, restart_source, r.ms);
	evtimer_add(ev, &at);
	run_loop(&r);
	event_free(ev);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	assert_int_equal(c.queued, 0);
	each_once(&r, 10);
	assert_int_equal(c.unknown_ids, 5);    /* the acks that reached "the new buffer" */
	assert_int_equal(st.skipped_entries, 10);
	assert_true(st.requeued_batches >= 1);
	assert_int_equal(st.sent_batches, 5);  /* deliveries, not attempts */
	assert_int_equal(st.sent_points, 30);
	run_teardown(&r);
}

/*
 * A batch that says it left nothing else of the signal its fetch asked for
 * (Batch.rest_empty) ends its flush: no fetch follows that would answer
 * Empty (issue 18 §3). Two metrics and two logs entries, one batch holds a
 * signal's: each flush is one fetch, where without the flag it is the batch
 * and an Empty answer. The metrics batch says so while logs are queued: it
 * speaks of its signal only. What comes after is fetched at the next flush.
 */
static void
test_rest_empty_no_empty_fetch(void **state)
{
	struct tfo_exp_memsource_counts c;
	struct run r;

	(void)state;
	for (int say = 0; say <= 1; say++) {
		run_setup_poll(&r, 2, 2, 3000);
		tfo_exp_pipeline_free(r.p);
		pipeline_over(&r, 2, 1 << 20, 3000, 50);        /* one batch holds a signal */
		add_logs(&r, 2, 2);
		tfo_exp_memsource_say_empty(r.ms, say);
		run_loop(&r);
		tfo_exp_memsource_counts(r.ms, &c);
		assert_int_equal(c.queued, 0);
		assert_int_equal(c.fetches, 2);
		if (say) {
			assert_int_equal(c.empty_fetches, 0);
			assert_int_equal(c.n_asked, 2);
			assert_true(c.asked[0] + c.asked[1] == 3);      /* one of each */
		} else {
			assert_int_equal(c.empty_fetches, 2);
			assert_int_equal(c.n_asked, 4);
		}
		/* what comes after is fetched at its next flush */
		add_entries(&r, 4, 1);
		run_more(&r);
		tfo_exp_memsource_counts(r.ms, &c);
		assert_int_equal(c.queued, 0);
		assert_int_equal(c.fetches, 3);
		if (say)
			assert_int_equal(c.empty_fetches, 0);
		/* the metrics, numbered 0, 1 and 4, each once (the logs carry no
		 * number the fake endpoint reads: acked above) */
		each_once(&r, 2);
		assert_int_equal(r.srv.got[4], 1);
		run_teardown(&r);
	}
}

/* run_for - run r's loop for ms */
static void
run_for(struct run *r, long ms)
{
	struct timeval limit = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(r->base, &limit);
	event_base_dispatch(r->base);
}

/*
 * Acks at idle (issue 18 §3, docs/exporter.md): a delivered batch's ack is
 * kept for the next request to the source, not a request of its own: the
 * next flush's fetch carries it, a nack would, and a stop sends it. Here the
 * flush interval is 60 s: the batch is delivered at once (a kick), its ack
 * still kept 400 ms later (the entries not yet deleted at the source, no ack
 * request); an entry put then and a kick: its fetch carries the ack; at the
 * stop the second batch's kept ack goes in one request. Old code: 2 ack
 * requests, the entries acked before the second fetch.
 */
static void
test_acks_ride_on_fetch(void **state)
{
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;
	struct run r;

	(void)state;
	run_setup_poll(&r, 2, 2, 60000);
	tfo_exp_pipeline_free(r.p);
	pipeline_over(&r, 2, 1 << 20, 60000, 50);       /* one batch holds both */
	tfo_exp_memsource_say_empty(r.ms, 1);
	tfo_exp_memsource_keep_acks(r.ms, 1);
	tfo_exp_pipeline_start(r.p);
	tfo_exp_pipeline_kick(r.p);
	run_for(&r, 400);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	each_once(&r, 2);
	assert_int_equal(st.sent_batches, 1);
	assert_int_equal(c.ack_requests, 0);
	assert_int_equal(c.queued, 2);           /* kept: not yet deleted */
	assert_int_equal(st.acks_later, 1);
	/* the next fetch carries it */
	add_entries(&r, 2, 1);
	tfo_exp_pipeline_kick(r.p);
	run_for(&r, 400);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(r.srv.got[2], 1);
	assert_int_equal(c.acks_riding, 1);
	assert_int_equal(c.ack_requests, 0);
	assert_int_equal(c.queued, 1);           /* the second batch's ack kept */
	assert_int_equal(c.order_violations, 0);
	/* a stop sends it: everything delivered is acked, in one request */
	r.drained = 0;
	tfo_exp_pipeline_stop(r.p, on_drained, &r);
	assert_int_equal(r.drained, 1);
	tfo_exp_memsource_counts(r.ms, &c);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.ack_requests, 1);
	assert_int_equal(c.requests, 3);        /* two fetches, one ack */
	run_teardown(&r);
}

/*
 * The buffer cannot commit acks (a full disk): each failure offers every
 * batch in flight again at once. The exporter sends nothing twice, backs off
 * between attempts instead of storming the buffer, and counts deliveries.
 */
static void
test_ack_failures_back_off(void **state)
{
	struct run r;
	struct tfo_exp_memsource_counts c;
	struct tfo_exp_stats st;

	(void)state;
	run_setup_bytes(&r, 6, 2, 1);
	tfo_exp_memsource_fail(r.ms, 4);
	run_loop(&r);
	tfo_exp_memsource_counts(r.ms, &c);
	tfo_exp_pipeline_stats(r.p, &st);
	assert_int_equal(c.queued, 0);
	each_once(&r, 6);
	assert_int_equal(c.failed_settles, 4);
	assert_int_equal(st.source_errors, 4);
	/* one fetch again after each failure, not a loop of re-fetches (the
	 * pauses are jittered from 0: their length is
	 * integration.exporter.buffer_faults's to measure) */
	assert_true(c.fetches <= 6 + 4 * 2);
	assert_int_equal(st.sent_batches, 6);
	assert_int_equal(st.sent_points, 18);
	run_teardown(&r);
}

/* What each fetch of a quiet-signal run asked for and got, and when. */
#define QUIET_FETCHES 256
struct quiet_run {
	struct run r;
	struct tfo_exp_source inner;    /* the memsource */
	struct event *feed;             /* a metrics entry every interval */
	uint32_t metrics;               /* numbered 0 .. metrics - 1 */
	size_t n;
	uint64_t at_ms[QUIET_FETCHES];
	int asked[QUIET_FETCHES];
	int got[QUIET_FETCHES];         /* 0 nothing, 1 metrics, 2 logs */
};

static int
quiet_fetch(void *arg, int signal, uint32_t max_bytes, struct tfo_exp_batch *b)
{
	struct quiet_run *q = arg;
	int rc = q->inner.fetch(q->inner.arg, signal, max_bytes, b);

	if (q->n < QUIET_FETCHES) {
		q->at_ms[q->n] = tfo_mono_ms();
		q->asked[q->n] = signal;
		q->got[q->n++] = rc == 1 ? (b->is_logs ? 2 : 1) : 0;
	}
	return rc;
}

static void
quiet_release(void *arg, struct tfo_exp_batch *b)
{
	struct quiet_run *q = arg;

	q->inner.release(q->inner.arg, b);
}

static int
quiet_ack(void *arg, uint64_t id, struct tfo_exp_heads *h)
{
	struct quiet_run *q = arg;

	return q->inner.ack(q->inner.arg, id, h);
}

static int
quiet_nack(void *arg, uint64_t id, uint32_t retry_after_ms, struct tfo_exp_heads *h)
{
	struct quiet_run *q = arg;

	return q->inner.nack(q->inner.arg, id, retry_after_ms, h);
}

static void
quiet_feed(evutil_socket_t fd, short what, void *arg)
{
	struct quiet_run *q = arg;

	(void)fd;
	(void)what;
	add_entries(&q->r, q->metrics++, 1);
}

/* quiet_for - run the loop for ms, the metrics fed meanwhile */
static void
quiet_for(struct quiet_run *q, long ms)
{
	struct timeval limit = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(q->r.base, &limit);
	event_base_dispatch(q->r.base);
}

/* quiet_asked - fetches from index `from` on that asked for sig */
static size_t
quiet_asked(const struct quiet_run *q, size_t from, int sig)
{
	size_t n = 0;

	for (size_t i = from; i < q->n; i++)
		n += q->asked[i] == sig;
	return n;
}

/*
 * At idle the logs have nothing: today each of their flushes is a fetch the
 * buffer answers Empty, a round trip and several wake-ups on both sides
 * every interval (issue 18 §3). Once a logs flush found nothing, the logs
 * have no flush of their own: the metrics' flush (its entries coming every
 * interval, as a collector's) asks for either signal. A log record put then
 * leaves with the next metrics flush, within one interval of its put, and
 * the logs then flush at their own phase again (the next of which finds
 * nothing: quiet again). The buffer's way of saying a signal is empty
 * (Batch.rest_empty) is on, as tfo-buffer's is.
 */
static void
test_quiet_logs_join_metrics(void **state)
{
	static struct quiet_run q;
	struct tfo_exp_memsource_counts c;
	const uint32_t iv = 800;
	size_t put_at, log_at;
	uint64_t put_ms;
	struct timeval every = { 0, iv * 1000 };

	(void)state;
	memset(&q, 0, sizeof(q));
	run_setup_poll(&q.r, 1, 2, iv);
	q.metrics = 1;
	tfo_exp_pipeline_free(q.r.p);
	q.inner = tfo_exp_memsource_source(q.r.ms);
	{
		struct tfo_exp_pipeline_cfg cfg;
		struct tfo_exp_source src = { .fetch = quiet_fetch, .release = quiet_release,
		    .ack = quiet_ack, .nack = quiet_nack, .arg = &q };
		memset(&cfg, 0, sizeof(cfg));
		cfg.transport.endpoints[0] = q.r.endpoint;
		cfg.transport.n_endpoints = 1;
		cfg.transport.timeout_ms = 5000;
		cfg.max_in_flight = 2;
		cfg.batch_max_bytes = 1 << 20;
		cfg.poll_ms = iv;
		cfg.retry_initial_ms = 50;
		cfg.retry_max_ms = 100;
		cfg.seed = PIPE_SEED;
		assert_int_equal(tfo_exp_pipeline_new(&q.r.p, q.r.base, &cfg, &src), TFO_OK);
	}
	tfo_exp_memsource_say_empty(q.r.ms, 1);
	assert_non_null(q.feed = event_new(q.r.base, -1, EV_PERSIST, quiet_feed, &q));
	assert_int_equal(event_add(q.feed, &every), 0);
	tfo_exp_pipeline_start(q.r.p);

	/* six intervals: the first logs flush finds nothing, no other is made */
	quiet_for(&q, 6 * iv);
	assert_true(q.n >= 5);
	assert_int_equal(quiet_asked(&q, 0, 2), 1);
	for (size_t i = 0; i < q.n; i++)
		assert_int_not_equal(q.got[i], 2);

	/* a log record put now leaves with the next metrics flush */
	put_at = q.n;
	put_ms = tfo_mono_ms();
	add_logs(&q.r, 100, 1);
	quiet_for(&q, 2 * iv);
	for (log_at = put_at; log_at < q.n && q.got[log_at] != 2; log_at++)
		;
	if (log_at == q.n)
		fail_msg("the log record put %u ms ago was not fetched", 2 * iv);
	assert_int_equal(q.asked[log_at], 0);
	assert_int_equal(quiet_asked(&q, put_at, 2) - quiet_asked(&q, log_at, 2), 0);
	/* the schedule says within one interval; half of one more for a loaded
	 * machine's late timers */
	if (q.at_ms[log_at] - put_ms > iv + iv / 2)
		fail_msg("the log record was fetched %llu ms after its put (interval %u ms)",
		    (unsigned long long)(q.at_ms[log_at] - put_ms), iv);

	/* it had data: the logs flush at their own phase again, once (that
	 * flush finds nothing: quiet again) */
	quiet_for(&q, 2 * iv);
	assert_int_equal(quiet_asked(&q, log_at, 2), 1);
	assert_true(q.n < QUIET_FETCHES);

	/* every entry reached the endpoint once */
	event_free(q.feed);
	run_more(&q.r);
	tfo_exp_memsource_counts(q.r.ms, &c);
	assert_int_equal(c.queued, 0);
	each_once(&q.r, (int)q.metrics);
	run_teardown(&q.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_order_swapped_replies),
		cmocka_unit_test(test_flush_per_signal),
		cmocka_unit_test(test_retry_and_drop),
		cmocka_unit_test(test_stop_drains),
		cmocka_unit_test(test_drain_no_flush_wait),
		cmocka_unit_test(test_drain_refused),
		cmocka_unit_test(test_drain_after_pause),
		cmocka_unit_test(test_buffer_restart_no_resend),
		cmocka_unit_test(test_ack_failures_back_off),
		cmocka_unit_test(test_rest_empty_no_empty_fetch),
		cmocka_unit_test(test_acks_ride_on_fetch),
		cmocka_unit_test(test_quiet_logs_join_metrics),
	};

	tfo_log_init("test-exporter", TFO_LOG_ERROR, TFO_LOG_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
