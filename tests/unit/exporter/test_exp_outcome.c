/*
 * test_exp_outcome.c - tfo-exporter's OTLP outcome table (every gRPC code,
 * HTTP statuses), classification of whole responses (trailers, trailers-only,
 * Retry-After, RetryInfo, garbage bodies) and backoff bounds with full jitter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "workers/exporter/outcome.h"

static void
test_grpc_table(void **state)
{
	static const struct { int code, ri; enum tfo_exp_class cls; enum tfo_exp_reason why; } t[] = {
		{ GRPC_OK, 0, TFO_EXP_SUCCESS, TFO_EXP_R_OTHER },
		{ GRPC_CANCELLED, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_UNKNOWN, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ GRPC_INVALID_ARGUMENT, 0, TFO_EXP_DROP, TFO_EXP_R_INVALID },
		{ GRPC_DEADLINE_EXCEEDED, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_NOT_FOUND, 0, TFO_EXP_DROP, TFO_EXP_R_NOT_FOUND },
		{ GRPC_ALREADY_EXISTS, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ GRPC_PERMISSION_DENIED, 0, TFO_EXP_DROP, TFO_EXP_R_AUTH },
		{ GRPC_RESOURCE_EXHAUSTED, 0, TFO_EXP_DROP, TFO_EXP_R_EXHAUSTED },
		{ GRPC_RESOURCE_EXHAUSTED, 1, TFO_EXP_RETRY, TFO_EXP_R_EXHAUSTED },
		{ GRPC_FAILED_PRECONDITION, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ GRPC_ABORTED, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_OUT_OF_RANGE, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_UNIMPLEMENTED, 0, TFO_EXP_DROP, TFO_EXP_R_NOT_FOUND },
		{ GRPC_INTERNAL, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ GRPC_UNAVAILABLE, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_UNAVAILABLE, 1, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_DATA_LOSS, 0, TFO_EXP_RETRY, TFO_EXP_R_OTHER },
		{ GRPC_UNAUTHENTICATED, 0, TFO_EXP_DROP, TFO_EXP_R_AUTH },
		{ 17, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ 999, 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
	};
	enum tfo_exp_reason why;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum tfo_exp_class c = tfo_exp_classify_grpc_code(t[i].code, t[i].ri, &why);
		if (c != t[i].cls || (c == TFO_EXP_DROP && why != t[i].why))
			fail_msg("gRPC code %d (retryinfo %d): class %d reason %d", t[i].code, t[i].ri, c, why);
	}
}

static void
test_http_table(void **state)
{
	static const struct { long status; enum tfo_exp_class cls; enum tfo_exp_reason why; } t[] = {
		{ 200, TFO_EXP_SUCCESS, 0 }, { 202, TFO_EXP_SUCCESS, 0 },
		{ 429, TFO_EXP_RETRY, 0 }, { 502, TFO_EXP_RETRY, 0 },
		{ 503, TFO_EXP_RETRY, 0 }, { 504, TFO_EXP_RETRY, 0 },
		{ 400, TFO_EXP_DROP, TFO_EXP_R_INVALID }, { 401, TFO_EXP_DROP, TFO_EXP_R_AUTH },
		{ 403, TFO_EXP_DROP, TFO_EXP_R_AUTH }, { 404, TFO_EXP_DROP, TFO_EXP_R_NOT_FOUND },
		{ 413, TFO_EXP_DROP, TFO_EXP_R_TOO_LARGE }, { 405, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ 418, TFO_EXP_DROP, TFO_EXP_R_OTHER }, { 500, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ 501, TFO_EXP_DROP, TFO_EXP_R_OTHER }, { 301, TFO_EXP_DROP, TFO_EXP_R_OTHER },
		{ 0, TFO_EXP_DROP, TFO_EXP_R_OTHER },
	};
	enum tfo_exp_reason why;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum tfo_exp_class c = tfo_exp_classify_http_status(t[i].status, &why);
		if (c != t[i].cls || (c == TFO_EXP_DROP && why != t[i].why))
			fail_msg("HTTP %ld: class %d reason %d", t[i].status, c, why);
	}
}

static void
hdr(struct tfo_exp_response *r, const char *line)
{
	tfo_exp_response_header(r, line, strlen(line));
}

static void
set_body(struct tfo_exp_response *r, const void *p, size_t n)
{
	r->body.data = realloc(r->body.data, n ? n : 1);
	memcpy(r->body.data, p, n);
	r->body.len = r->body.cap = n;
}

static void
test_classify_grpc(void **state)
{
	struct tfo_exp_response r = { 0 };
	struct tfo_exp_outcome o;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse resp =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	uint8_t buf[128];
	size_t n;

	(void)state;
	/* status in trailers, partial success in the framed body */
	ps.rejected_data_points = 4;
	ps.error_message = "dup";
	resp.partial_success = &ps;
	n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&resp, buf + 5);
	buf[0] = 0;
	buf[1] = buf[2] = buf[3] = 0;
	buf[4] = (uint8_t)n;
	r.http_status = 200;
	hdr(&r, "HTTP/2 200\r\n");
	hdr(&r, "content-type: application/grpc\r\n");
	set_body(&r, buf, n + 5);
	hdr(&r, "grpc-status: 0\r\n");
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_SUCCESS);
	assert_int_equal(o.rejected, 4);
	assert_string_equal(o.message, "dup");
	assert_int_equal(o.malformed, 0);
	/* OK with a garbage body: accepted, noted as malformed */
	set_body(&r, "\0\0\0\0\x03\xff\xff\xff", 8);
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_SUCCESS);
	assert_int_equal(o.malformed, 1);
	/* trailers-only UNAVAILABLE with a percent-encoded message */
	tfo_exp_response_reset(&r);
	r.http_status = 200;
	hdr(&r, "grpc-status: 14\r\n");
	hdr(&r, "grpc-message: shutting%20down\r\n");
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	assert_int_equal(o.grpc_code, 14);
	assert_int_equal(o.has_delay, 0);
	assert_string_equal(o.message, "shutting down");
	/* RESOURCE_EXHAUSTED with a garbage details header: no RetryInfo -> drop */
	tfo_exp_response_reset(&r);
	r.http_status = 200;
	hdr(&r, "Grpc-Status: 8\r\n");
	hdr(&r, "grpc-status-details-bin: !!!!\r\n");
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_DROP);
	assert_int_equal(o.reason, TFO_EXP_R_EXHAUSTED);
	/* garbage grpc-status: UNKNOWN, permanent */
	tfo_exp_response_reset(&r);
	r.http_status = 200;
	hdr(&r, "grpc-status: banana\r\n");
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_DROP);
	assert_int_equal(o.grpc_code, GRPC_UNKNOWN);
	/* 200 without grpc-status: keep the data */
	tfo_exp_response_reset(&r);
	r.http_status = 200;
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	/* no grpc-status, HTTP 503 from a proxy: UNAVAILABLE; 401: UNAUTHENTICATED */
	r.http_status = 503;
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	assert_int_equal(o.grpc_code, GRPC_UNAVAILABLE);
	r.http_status = 401;
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_DROP);
	assert_int_equal(o.reason, TFO_EXP_R_AUTH);
	/* connection errors are retryable whatever else is there */
	r.net = TFO_EXP_NET_CONNECT;
	snprintf(r.net_detail, sizeof(r.net_detail), "Connection refused");
	tfo_exp_classify(&r, 1, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	assert_string_equal(o.message, "Connection refused");
	tfo_exp_buf_fini(&r.body);
}

static void
test_classify_http(void **state)
{
	struct tfo_exp_response r = { 0 };
	struct tfo_exp_outcome o;

	(void)state;
	r.http_status = 503;
	hdr(&r, "Retry-After: 7\r\n");
	hdr(&r, "Content-Type: text/plain\r\n");
	set_body(&r, "overloaded\n", 11);
	tfo_exp_classify(&r, 0, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	assert_int_equal(o.has_delay, 1);
	assert_int_equal(o.delay_ms, 7000);
	assert_string_equal(o.message, "overloaded?");
	/* garbage Retry-After: backoff decides */
	tfo_exp_response_reset(&r);
	r.http_status = 429;
	hdr(&r, "retry-after: -3\r\n");
	tfo_exp_classify(&r, 0, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_RETRY);
	assert_int_equal(o.has_delay, 0);
	/* Retry-After on a permanent error is not a reason to retry */
	tfo_exp_response_reset(&r);
	r.http_status = 400;
	hdr(&r, "retry-after: 3\r\n");
	hdr(&r, "content-type: application/x-protobuf\r\n");
	set_body(&r, "\x08\x03\x12\x08" "bad data", 12);    /* google.rpc.Status{3, "bad data"} */
	tfo_exp_classify(&r, 0, 0, 0, &o);
	assert_int_equal(o.cls, TFO_EXP_DROP);
	assert_int_equal(o.reason, TFO_EXP_R_INVALID);
	assert_int_equal(o.has_delay, 0);
	assert_string_equal(o.message, "bad data");
	/* an over-long header value is cut, not overflowed */
	{
		char line[3000];
		memset(line, 'x', sizeof(line));
		memcpy(line, "grpc-message: ", 14);
		line[sizeof(line) - 1] = '\0';
		hdr(&r, line);
		assert_int_equal(r.truncated, 1);
		assert_int_equal(strlen(r.grpc_message), TFO_EXP_MSG_MAX - 1);
	}
	tfo_exp_buf_fini(&r.body);
}

static void
test_backoff_bounds(void **state)
{
	struct tfo_exp_backoff b;
	uint32_t lo = UINT32_MAX, hi = 0, first_lo = UINT32_MAX, first_hi = 0;

	(void)state;
	tfo_exp_backoff_init(&b, 100, 1000, 2.0, 42);
	/* full jitter: attempt k waits in [0, min(max, initial*2^k)] */
	for (int round = 0; round < 200; round++) {
		tfo_exp_backoff_reset(&b);
		for (uint32_t k = 0; k < 8; k++) {
			uint32_t cap = 100u << k, d;
			if (cap > 1000)
				cap = 1000;
			assert_int_equal(tfo_exp_backoff_cap(&b), cap);
			d = tfo_exp_backoff_next(&b);
			assert_true(d <= cap);
			if (k == 0) {
				first_lo = d < first_lo ? d : first_lo;
				first_hi = d > first_hi ? d : first_hi;
			}
			if (k == 7) {
				lo = d < lo ? d : lo;
				hi = d > hi ? d : hi;
			}
		}
	}
	/* from 0, not from initial: agents that failed together spread over the
	 * whole window (the old draw never went below initial) */
	assert_true(first_lo < 10);
	assert_true(first_hi > 90);
	assert_true(lo < 50);
	assert_true(hi > 950);
	/* never overflows or stalls, and never above max, after very many attempts */
	b.attempt = UINT32_MAX - 1;
	for (int i = 0; i < 4; i++)
		assert_true(tfo_exp_backoff_next(&b) <= 1000);
	/* defaults for zero / absurd settings */
	tfo_exp_backoff_init(&b, 0, 0, 0.0, 0);
	assert_int_equal(b.initial_ms, 5000);
	assert_int_equal(b.max_ms, 30000);
	assert_true(b.multiplier > 1.0);
	tfo_exp_backoff_init(&b, 2000, 10, 1.0, 1);
	assert_int_equal(b.max_ms, 2000);       /* max below initial is raised */
	assert_true(tfo_exp_backoff_next(&b) <= 2000);
}

/* the same seed gives the same delays: tests and benches can replay them */
static void
test_backoff_seeded(void **state)
{
	struct tfo_exp_backoff a, b;

	(void)state;
	tfo_exp_backoff_init(&a, 5000, 30000, 1.5, 99);
	tfo_exp_backoff_init(&b, 5000, 30000, 1.5, 99);
	for (int i = 0; i < 50; i++)
		assert_int_equal(tfo_exp_backoff_next(&a), tfo_exp_backoff_next(&b));
	/* a zero state would repeat zero forever: it is reseeded */
	{
		uint64_t s = 0;
		assert_true(tfo_exp_rand(&s) != 0);
		assert_true(s != 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grpc_table),
		cmocka_unit_test(test_http_table),
		cmocka_unit_test(test_classify_grpc),
		cmocka_unit_test(test_classify_http),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_seeded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
