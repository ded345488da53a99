/*
 * test_sender.c - the heartbeat POST (tfo-exporter's hbsend.c): path and
 * headers, 2xx success, retry of 503/429/connection errors within the beat
 * deadline, no retry of 401/403/400, the result of each beat. Against the
 * in-test HTTP server (httpd.c) on an ephemeral port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/clock.h"
#include "httpd.h"
#include "workers/exporter/hbsend.h"

#define SECRET "tfs_very_secret"

struct script {
	int statuses[8];       /* answer i-th request with statuses[i]; past the end: last */
	int n;
	atomic_int seen;
	/* first request, for header checks */
	char path[1024], ctype[64], key_id[64], key_secret[64], ua[64], ver[64], method[16];
	char body[256];
};

static void
handler(void *arg, const struct t_req *r, struct t_resp *resp)
{
	struct script *s = arg;
	int i = atomic_fetch_add(&s->seen, 1);

	if (i == 0) {
		snprintf(s->path, sizeof(s->path), "%s", r->path);
		snprintf(s->method, sizeof(s->method), "%s", r->method);
		snprintf(s->body, sizeof(s->body), "%.255s", r->body);
		t_header(r, "Content-Type", s->ctype, sizeof(s->ctype));
		t_header(r, "X-API-Key-ID", s->key_id, sizeof(s->key_id));
		t_header(r, "X-API-Key-Secret", s->key_secret, sizeof(s->key_secret));
		t_header(r, "User-Agent", s->ua, sizeof(s->ua));
		t_header(r, "X-Agent-Version", s->ver, sizeof(s->ver));
	}
	resp->status = s->statuses[i < s->n ? i : s->n - 1];
	if (resp->status == 429)
		snprintf(resp->headers, sizeof(resp->headers), "Retry-After: 0\r\n");
}

struct outcome {
	struct event_base *base;
	int calls;
	struct hb_result r;
};

static void
done_cb(void *arg, const struct hb_result *r)
{
	struct outcome *o = arg;

	o->calls++;
	o->r = *r;
	event_base_loopbreak(o->base);
}

/* beat_until - one hb_sender_post against port with a deadline (0 = the
 * timeout's), loop until done (10 s guard) */
static struct outcome
beat_until(uint16_t port, uint32_t timeout_ms, uint64_t deadline_ns)
{
	struct outcome o = { .base = event_base_new() };
	char url[64];
	struct hb_sender_cfg cfg = {
		.endpoint = url, .agent_id = "0b7c9f5a-1234-5678-9abc-def012345678",
		.key_id = "tfk_id", .key_secret = SECRET, .version = "1.2.3",
		.timeout_ms = timeout_ms, .backoff_ms = 10,
	};
	struct hb_sender *s;
	struct timeval guard = { 10, 0 };

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/", port);
	assert_non_null(o.base);
	s = hb_sender_new(o.base, &cfg);
	assert_non_null(s);
	assert_int_equal(hb_sender_post(s, strdup("{\"systemInfo\":{}}"), 17, deadline_ns, done_cb,
	    &o), TFO_OK);
	assert_true(hb_sender_busy(s));
	/* a second beat while one is in flight is refused */
	assert_int_equal(hb_sender_post(s, strdup("{}"), 2, 0, done_cb, &o), TFO_EAGAIN);
	event_base_loopexit(o.base, &guard);
	event_base_dispatch(o.base);
	assert_int_equal(o.calls, 1);
	assert_false(hb_sender_busy(s));
	hb_sender_free(s);
	event_base_free(o.base);
	return o;
}

static struct outcome
beat(uint16_t port, uint32_t timeout_ms)
{
	return beat_until(port, timeout_ms, 0);
}

static void
test_headers_and_success(void **state)
{
	struct script sc = { .statuses = { 202 }, .n = 1 };
	struct t_httpd *h = t_httpd_start(handler, &sc);
	struct outcome o;

	(void)state;
	assert_non_null(h);
	o = beat(t_httpd_port(h), 5000);
	t_httpd_stop(h);
	assert_true(o.r.ok);
	assert_int_equal(atomic_load(&sc.seen), 1);
	assert_string_equal(sc.method, "POST");
	assert_string_equal(sc.path, "/api/v1/agents/0b7c9f5a-1234-5678-9abc-def012345678/heartbeat");
	assert_string_equal(sc.ctype, "application/json");
	assert_string_equal(sc.key_id, "tfk_id");
	assert_string_equal(sc.key_secret, SECRET);
	assert_string_equal(sc.ua, "tfo-agent/1.2.3");
	assert_string_equal(sc.ver, "1.2.3");
	assert_string_equal(sc.body, "{\"systemInfo\":{}}");
	assert_int_equal(o.r.attempts, 1);
	assert_false(o.r.auth || o.r.gave_up);
	assert_int_equal(o.r.status, 202);
	assert_true(o.r.latency_ms > 0);
	assert_string_equal(o.r.error, "");
}

static void
test_retry_then_success(void **state)
{
	struct script sc = { .statuses = { 503, 429, 502, 200 }, .n = 4 };
	struct t_httpd *h = t_httpd_start(handler, &sc);
	struct outcome o;

	(void)state;
	o = beat(t_httpd_port(h), 10000);
	t_httpd_stop(h);
	assert_true(o.r.ok);
	assert_int_equal(atomic_load(&sc.seen), 4);
	assert_int_equal(o.r.attempts, 4);
	assert_int_equal(o.r.status, 200);
}

static void
test_no_retry(void **state)
{
	static const int codes[] = { 401, 403, 400, 404 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct script sc = { .statuses = { codes[i], 200 }, .n = 2 };
		struct t_httpd *h = t_httpd_start(handler, &sc);
		struct outcome o = beat(t_httpd_port(h), 5000);
		t_httpd_stop(h);
		assert_false(o.r.ok);
		assert_int_equal(atomic_load(&sc.seen), 1);
		assert_int_equal(o.r.attempts, 1);
		assert_false(o.r.gave_up);
		assert_int_equal(o.r.status, codes[i]);
		assert_int_equal(o.r.auth, codes[i] == 401 || codes[i] == 403);
	}
}

/* Always 503: the beat gives up at its timeout, after more than one try. */
static void
test_give_up_at_timeout(void **state)
{
	struct script sc = { .statuses = { 503 }, .n = 1 };
	struct t_httpd *h = t_httpd_start(handler, &sc);
	struct outcome o;

	(void)state;
	o = beat(t_httpd_port(h), 400);
	t_httpd_stop(h);
	assert_false(o.r.ok);
	assert_true(o.r.gave_up);
	assert_true(atomic_load(&sc.seen) >= 2);
	assert_int_equal(o.r.attempts, (unsigned)atomic_load(&sc.seen));
	assert_int_equal(o.r.status, 503);
	assert_string_equal(o.r.error, "HTTP 503");
}

/* The deadline that travels with the beat wins over a longer timeout; one
 * already past still gets its one attempt, cut short, and no retry. */
static void
test_deadline_from_caller(void **state)
{
	struct script sc = { .statuses = { 503 }, .n = 1 };
	struct t_httpd *h = t_httpd_start(handler, &sc);
	uint64_t t0 = tfo_mono_ns();
	struct outcome o;

	(void)state;
	o = beat_until(t_httpd_port(h), 8000, t0 + 300 * 1000000ull);
	assert_true(o.r.gave_up);
	assert_true(tfo_mono_ns() - t0 < 3000 * 1000000ull);   /* not the 8 s timeout */
	o = beat_until(t_httpd_port(h), 8000, 1);
	t_httpd_stop(h);
	assert_false(o.r.ok);
	assert_int_equal(o.r.attempts, 1);
}

static void
test_connection_refused(void **state)
{
	struct outcome o;

	(void)state;
	o = beat(t_closed_port(), 300);
	assert_false(o.r.ok);
	assert_true(o.r.gave_up);
	assert_true(o.r.attempts >= 2);
	assert_int_equal(o.r.status, 0);
	assert_null(strstr(o.r.error, SECRET));
}

static void
test_classify_and_backoff(void **state)
{
	static const struct { CURLcode cc; long status; enum hb_verdict v; } t[] = {
		{ CURLE_OK, 200, HB_V_OK }, { CURLE_OK, 204, HB_V_OK }, { CURLE_OK, 299, HB_V_OK },
		{ CURLE_OK, 429, HB_V_RETRY }, { CURLE_OK, 500, HB_V_RETRY }, { CURLE_OK, 503, HB_V_RETRY },
		{ CURLE_OK, 401, HB_V_AUTH }, { CURLE_OK, 403, HB_V_AUTH }, { CURLE_OK, 400, HB_V_FATAL },
		{ CURLE_OK, 301, HB_V_FATAL }, { CURLE_OK, 0, HB_V_FATAL },
		{ CURLE_COULDNT_CONNECT, 0, HB_V_RETRY }, { CURLE_OPERATION_TIMEDOUT, 0, HB_V_RETRY },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, HB_V_RETRY }, { CURLE_URL_MALFORMAT, 0, HB_V_FATAL },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, HB_V_FATAL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(hb_classify(t[i].cc, t[i].status), t[i].v);
	assert_int_equal(hb_backoff_ms(100, 0, 0), 100);
	assert_int_equal(hb_backoff_ms(100, 3, 0), 800);
	assert_int_equal(hb_backoff_ms(100, 30, 0), 5000);   /* capped */
	assert_int_equal(hb_backoff_ms(0, 0, 0), 500);       /* default */
	assert_int_equal(hb_backoff_ms(100, 0, 7), 7000);    /* Retry-After wins when longer */
}

static void
test_bad_endpoint(void **state)
{
	struct event_base *b = event_base_new();
	struct hb_sender_cfg cfg = { .endpoint = "", .agent_id = "x", .version = "1" };

	(void)state;
	assert_null(hb_sender_new(b, &cfg));
	event_base_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_success),
		cmocka_unit_test(test_retry_then_success),
		cmocka_unit_test(test_no_retry),
		cmocka_unit_test(test_give_up_at_timeout),
		cmocka_unit_test(test_deadline_from_caller),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_classify_and_backoff),
		cmocka_unit_test(test_bad_endpoint),
	};
	return cmocka_run_group_tests(tests, t_curl_setup, t_curl_teardown);
}
