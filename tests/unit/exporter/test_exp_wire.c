/*
 * test_exp_wire.c - tfo-exporter wire helpers: body concatenation decoded
 * back with protobuf-c, gRPC framing, gzip, and the hostile parsers
 * (partial_success, RetryInfo, Retry-After, grpc-status, text cleaning).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <zlib.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "workers/exporter/sample.h"
#include "workers/exporter/wire.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MReq;

/* build - n sample metrics entries (entry i has i+1 points) into body */
static void
build(struct tfo_exp_buf *body, size_t n, int grpc, int gzip)
{
	uint8_t *e[8];
	size_t lens[8], bad = 1;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		assert_non_null(e[i] = tfo_exp_sample_metrics((uint32_t)i, (uint32_t)i + 1, &lens[i]));
	assert_int_equal(tfo_exp_body_build(body, (const uint8_t *const *)e, lens, NULL, n, grpc,
	    gzip, &bad), TFO_OK);
	assert_int_equal(bad, 0);
	for (size_t i = 0; i < n; i++)
		free(e[i]);
}

static void
check_request(const uint8_t *msg, size_t len, size_t n)
{
	MReq *r = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, len, msg);

	assert_non_null(r);
	assert_int_equal(r->n_resource_metrics, n);
	for (size_t i = 0; i < n; i++) {
		Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[i];
		assert_int_equal(rm->resource->n_attributes, 3);
		assert_string_equal(rm->resource->attributes[2]->key, "tfo.entry.index");
		assert_int_equal(rm->resource->attributes[2]->value->int_value, (int64_t)i);
		assert_int_equal(rm->n_scope_metrics, 1);
		assert_string_equal(rm->scope_metrics[0]->metrics[0]->name, "test.requests");
		assert_int_equal(rm->scope_metrics[0]->metrics[0]->sum->n_data_points, i + 1);
	}
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
}

static void
test_body_plain(void **state)
{
	struct tfo_exp_buf b = { 0 };
	size_t bad = 0;

	(void)state;
	build(&b, 5, 0, 0);
	assert_int_equal(b.data[0], 0x0a);   /* field 1, length-delimited */
	check_request(b.data, b.len, 5);
	/* an empty batch is a valid, empty request */
	assert_int_equal(tfo_exp_body_build(&b, NULL, NULL, NULL, 0, 0, 0, &bad), TFO_OK);
	assert_int_equal(b.len, 0);
	tfo_exp_buf_fini(&b);
}

/* LZ4 entries (as the buffer serves them) are inflated straight into the
 * body; one that does not inflate to its raw length is left out and counted,
 * and the request is exactly the good entries, in order. */
static void
test_body_lz4_entries(void **state)
{
	uint8_t *e[4], *z[4];
	const uint8_t *in[4];
	size_t lens[4], zlens[4], bad = 0;
	uint32_t raw[4];
	struct tfo_exp_buf b = { 0 }, want = { 0 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		int bound, n;
		assert_non_null(e[i] = tfo_exp_sample_metrics((uint32_t)i, 3, &lens[i]));
		bound = LZ4_compressBound((int)lens[i]);
		assert_non_null(z[i] = malloc((size_t)bound));
		n = LZ4_compress_default((const char *)e[i], (char *)z[i], (int)lens[i], bound);
		assert_true(n > 0);
		zlens[i] = (size_t)n;
	}
	/* entry 0 raw, 1 and 3 LZ4, 2 an LZ4 block that claims one byte more */
	in[0] = e[0];
	raw[0] = 0;
	zlens[0] = lens[0];
	for (size_t i = 1; i < 4; i++) {
		in[i] = z[i];
		raw[i] = (uint32_t)lens[i] + (i == 2);
	}
	assert_int_equal(tfo_exp_body_build(&b, in, zlens, raw, 4, 0, 0, &bad), TFO_OK);
	assert_int_equal(bad, 1);
	/* the same request built from the three good entries as they were */
	const uint8_t *good[3] = { e[0], e[1], e[3] };
	size_t glens[3] = { lens[0], lens[1], lens[3] };
	assert_int_equal(tfo_exp_body_build(&want, good, glens, NULL, 3, 0, 0, &bad), TFO_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, b.len);
	for (size_t i = 0; i < 4; i++) {
		free(z[i]);
		free(e[i]);
	}
	tfo_exp_buf_fini(&b);
	tfo_exp_buf_fini(&want);
}

static void
test_body_grpc_frame(void **state)
{
	struct tfo_exp_buf b = { 0 }, scratch = { 0 };
	const uint8_t *msg;
	size_t len;
	uint32_t n;

	(void)state;
	build(&b, 3, 1, 0);
	assert_int_equal(b.data[0], 0);      /* not compressed */
	n = (uint32_t)b.data[1] << 24 | (uint32_t)b.data[2] << 16 | (uint32_t)b.data[3] << 8 | b.data[4];
	assert_int_equal(n, b.len - 5);
	check_request(b.data + 5, n, 3);
	/* the same framing read back */
	assert_int_equal(tfo_exp_grpc_unframe(b.data, b.len, &scratch, &msg, &len), TFO_OK);
	assert_ptr_equal(msg, b.data + 5);
	assert_int_equal(len, n);
	/* compressed frame: flag 1, gzip payload that inflates to the request */
	build(&b, 4, 1, 1);
	assert_int_equal(b.data[0], 1);
	assert_int_equal(b.data[1] << 24 | b.data[2] << 16 | b.data[3] << 8 | b.data[4], (int)(b.len - 5));
	assert_int_equal(b.data[5], 0x1f);   /* gzip magic */
	assert_int_equal(b.data[6], 0x8b);
	assert_int_equal(tfo_exp_grpc_unframe(b.data, b.len, &scratch, &msg, &len), TFO_OK);
	check_request(msg, len, 4);
	tfo_exp_buf_fini(&b);
	tfo_exp_buf_fini(&scratch);
}

static void
test_body_gzip_http(void **state)
{
	struct tfo_exp_buf b = { 0 }, out = { 0 };

	(void)state;
	build(&b, 6, 0, 1);
	assert_int_equal(b.data[0], 0x1f);
	assert_int_equal(tfo_exp_gunzip(&out, b.data, b.len, 1 << 20), TFO_OK);
	check_request(out.data, out.len, 6);
	/* the inflate bound holds */
	out.len = 0;
	assert_int_equal(tfo_exp_gunzip(&out, b.data, b.len, 10), TFO_ERANGE);
	/* truncated and garbage streams are refused */
	out.len = 0;
	assert_int_equal(tfo_exp_gunzip(&out, b.data, b.len / 2, 1 << 20), TFO_EPROTO);
	out.len = 0;
	assert_int_not_equal(tfo_exp_gunzip(&out, (const uint8_t *)"garbage!", 8, 1 << 20), TFO_OK);
	tfo_exp_buf_fini(&b);
	tfo_exp_buf_fini(&out);
}

/* fill - n bytes of a fixed pseudo-random sequence of 64 symbols: Huffman
 * codes it (6 bits a byte, never a stored block), short matches are rare */
static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)('0' + ((seed >> 16) & 63));
	}
}

static size_t
gzip_len(const uint8_t *src, size_t len)
{
	struct tfo_exp_buf z = { 0 }, back = { 0 };
	size_t n;

	assert_int_equal(tfo_exp_gzip(&z, src, len), TFO_OK);
	assert_int_equal(tfo_exp_gunzip(&back, z.data, z.len, len), TFO_OK);
	assert_int_equal(back.len, len);
	assert_memory_equal(back.data, src, len);
	n = z.len;
	tfo_exp_buf_fini(&z);
	tfo_exp_buf_fini(&back);
	return n;
}

/*
 * The deflate state is sized to the body (262 KiB for any body before), and
 * that must not cost a match: a body whose tail repeats its head, as far
 * back as a body can reach, compresses by it. The lengths sit just under
 * each window size, where a window that left out zlib's lookahead would not
 * reach (a body over 32 KiB is past any window).
 */
static void
test_gzip_window_reach(void **state)
{
	static const size_t lens[] = { 100, 500, 1000, 2030, 4080, 8180, 16370, 32500 };
	int wb, ml;

	(void)state;
	tfo_exp_gzip_window(0, &wb, &ml);
	assert_true(wb == 9 && ml == 5);
	tfo_exp_gzip_window(4096, &wb, &ml);
	assert_true(wb == 13 && ml == 6);
	tfo_exp_gzip_window(1 << 20, &wb, &ml);
	assert_true(wb == 15 && ml == 6);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i], k = n / 3 < 200 ? n / 3 : 200;
		uint8_t *rep = malloc(n), *rnd = malloc(n);

		assert_non_null(rep);
		assert_non_null(rnd);
		fill(rep, n - k, 7);
		memcpy(rep + n - k, rep, k);            /* the farthest match */
		memcpy(rnd, rep, n - k);
		fill(rnd + n - k, k, 99);               /* the same, no match */
		if (gzip_len(rep, n) + k / 3 > gzip_len(rnd, n))
			fail_msg("%zu bytes: the match %zu bytes back was not found", n, n - k);
		free(rep);
		free(rnd);
	}
}

/* telemetry compresses as well as with zlib's largest window and hash */
static void
test_gzip_ratio(void **state)
{
	struct tfo_exp_buf b = { 0 };
	z_stream zs;
	uint8_t *ref;
	size_t ours, theirs;

	(void)state;
	build(&b, 8, 0, 0);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	theirs = deflateBound(&zs, b.len);
	assert_non_null(ref = malloc(theirs));
	zs.next_in = b.data;
	zs.avail_in = (uInt)b.len;
	zs.next_out = ref;
	zs.avail_out = (uInt)theirs;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	theirs = zs.total_out;
	deflateEnd(&zs);
	free(ref);
	ours = gzip_len(b.data, b.len);
	if (ours > theirs + theirs / 50)
		fail_msg("%zu bytes of OTLP: %zu gzipped, %zu with a 32 KiB window", b.len, ours,
		    theirs);
	tfo_exp_buf_fini(&b);
}

/*
 * What one gzipped request allocates, zeroes (the hash) and, after a heap
 * trim, faults in again, every flush of an idle agent (issue 18 §3): at
 * most 160 KiB of deflate state for an idle flush's body of 80-100 KiB of
 * metrics (256 KiB with memLevel 8: 4x the hash and symbol buffer for 0.7 %
 * of the bytes).
 */
static void
test_gzip_state_bytes(void **state)
{
	struct tfo_exp_buf z = { 0 };
	size_t len = 96 * 1024;
	uint8_t *src = malloc(len);

	(void)state;
	assert_non_null(src);
	fill(src, len, 3);
	assert_int_equal(tfo_exp_gzip(&z, src, len), TFO_OK);
	if (tfo_exp_gzip_state_last() > 160 * 1024 + 8 * 1024)
		fail_msg("a %zu-byte body took %zu bytes of deflate state", len,
		    tfo_exp_gzip_state_last());
	tfo_exp_buf_fini(&z);
	free(src);
}

static void
test_unframe_hostile(void **state)
{
	struct tfo_exp_buf scratch = { 0 };
	const uint8_t *msg;
	size_t len;
	const uint8_t longer[] = { 0, 0, 0, 0, 9, 1, 2 };        /* says 9, has 2 */
	const uint8_t junk[] = { 0, 0, 0, 0, 1, 8, 0xff };       /* trailing byte */
	const uint8_t flag[] = { 7, 0, 0, 0, 0 };                /* unknown flag */
	const uint8_t badz[] = { 1, 0, 0, 0, 3, 1, 2, 3 };       /* not gzip */
	const uint8_t empty[] = { 0, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(tfo_exp_grpc_unframe(NULL, 0, &scratch, &msg, &len), TFO_ENOENT);
	assert_int_equal(tfo_exp_grpc_unframe(longer, 3, &scratch, &msg, &len), TFO_EPROTO);
	assert_int_equal(tfo_exp_grpc_unframe(longer, sizeof(longer), &scratch, &msg, &len), TFO_EPROTO);
	assert_int_equal(tfo_exp_grpc_unframe(junk, sizeof(junk), &scratch, &msg, &len), TFO_EPROTO);
	assert_int_equal(tfo_exp_grpc_unframe(flag, sizeof(flag), &scratch, &msg, &len), TFO_EPROTO);
	assert_int_equal(tfo_exp_grpc_unframe(badz, sizeof(badz), &scratch, &msg, &len), TFO_EPROTO);
	assert_int_equal(tfo_exp_grpc_unframe(empty, sizeof(empty), &scratch, &msg, &len), TFO_OK);
	assert_int_equal(len, 0);
	tfo_exp_buf_fini(&scratch);
}

static void
test_partial_success(void **state)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse r =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse lr =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess lps =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
	struct tfo_exp_partial out;
	uint8_t buf[256];
	size_t n;

	(void)state;
	ps.rejected_data_points = 7;
	ps.error_message = "bad\npoint";
	r.partial_success = &ps;
	n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&r, buf);
	assert_int_equal(tfo_exp_partial_parse(buf, n, 0, &out), TFO_OK);
	assert_int_equal(out.rejected, 7);
	assert_string_equal(out.message, "bad?point");     /* no log injection */
	/* truncated: protobuf-c refuses it */
	assert_int_equal(tfo_exp_partial_parse(buf, n - 3, 0, &out), TFO_EPROTO);
	/* garbage */
	assert_int_equal(tfo_exp_partial_parse((const uint8_t *)"\xff\xff\xff\xff", 4, 0, &out), TFO_EPROTO);
	/* empty = full success */
	assert_int_equal(tfo_exp_partial_parse(buf, 0, 0, &out), TFO_OK);
	assert_int_equal(out.rejected, 0);
	/* negative counts from a hostile server are clamped */
	ps.rejected_data_points = -5;
	n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&r, buf);
	assert_int_equal(tfo_exp_partial_parse(buf, n, 0, &out), TFO_OK);
	assert_int_equal(out.rejected, 0);
	/* logs: rejected_log_records */
	lps.rejected_log_records = 3;
	lps.error_message = "too old";
	lr.partial_success = &lps;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(&lr, buf);
	assert_int_equal(tfo_exp_partial_parse(buf, n, 1, &out), TFO_OK);
	assert_int_equal(out.rejected, 3);
	assert_string_equal(out.message, "too old");
}

static void
test_base64(void **state)
{
	struct tfo_exp_buf b = { 0 };

	(void)state;
	assert_int_equal(tfo_exp_base64_decode("aGVsbG8=", 8, &b), TFO_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	b.len = 0;
	assert_int_equal(tfo_exp_base64_decode("aGVsbG8", 7, &b), TFO_OK);   /* unpadded (gRPC) */
	assert_int_equal(b.len, 5);
	b.len = 0;
	assert_int_equal(tfo_exp_base64_decode("-_-_", 4, &b), TFO_OK);      /* URL alphabet */
	assert_int_equal(b.len, 3);
	b.len = 0;
	assert_int_equal(tfo_exp_base64_decode("a", 1, &b), TFO_EINVAL);
	assert_int_equal(tfo_exp_base64_decode("ab$d", 4, &b), TFO_EINVAL);
	assert_int_equal(tfo_exp_base64_decode("ab=d", 4, &b), TFO_EINVAL);
	tfo_exp_buf_fini(&b);
}

/* status_b64 - a google.rpc.Status with one detail, base64'ed (no padding) */
static char *
status_b64(const char *type_url, int64_t secs, int32_t nanos, int with_delay)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	Google__Rpc__Duration d = GOOGLE__RPC__DURATION__INIT;
	Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
	Google__Rpc__Any any = GOOGLE__RPC__ANY__INIT, *anyp = &any;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t inner[64], raw[256];
	char *out;
	size_t n, o = 0;

	d.seconds = secs;
	d.nanos = nanos;
	if (with_delay)
		ri.retry_delay = &d;
	any.type_url = (char *)type_url;
	any.value.data = inner;
	any.value.len = google__rpc__retry_info__pack(&ri, inner);
	st.code = 14;
	st.message = "later";
	st.n_details = 1;
	st.details = &anyp;
	n = google__rpc__status__pack(&st, raw);
	out = calloc(1, n * 2 + 4);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < n ? raw[i + 1] << 8 : 0) | (i + 2 < n ? raw[i + 2] : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = tbl[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = tbl[v & 63];
	}
	return out;
}

static void
test_retryinfo(void **state)
{
	const char *url = "type.googleapis.com/google.rpc.RetryInfo";
	uint32_t ms = 0;
	char *s;

	(void)state;
	s = status_b64(url, 2, 500000000, 1);
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_OK);
	assert_int_equal(ms, 2500);
	free(s);
	s = status_b64(url, 0, 0, 1);                    /* zero delay is valid */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_OK);
	assert_int_equal(ms, 0);
	free(s);
	s = status_b64(url, INT64_MAX, 0, 1);            /* huge: capped */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_OK);
	assert_int_equal(ms, TFO_EXP_RETRY_CAP_MS);
	free(s);
	s = status_b64(url, -30, 0, 1);                  /* negative: ignored */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_ENOENT);
	free(s);
	s = status_b64(url, 1, -5, 1);                   /* negative nanos */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_ENOENT);
	free(s);
	s = status_b64(url, 1, 2000000000, 1);           /* nanos out of range */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_ENOENT);
	free(s);
	s = status_b64("type.googleapis.com/google.rpc.DebugInfo", 3, 0, 1);
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_ENOENT);
	free(s);
	s = status_b64(url, 3, 0, 0);                    /* RetryInfo without delay */
	assert_int_equal(tfo_exp_retryinfo_parse(s, strlen(s), &ms), TFO_ENOENT);
	free(s);
	assert_int_equal(tfo_exp_retryinfo_parse("%%%%", 4, &ms), TFO_EPROTO);
	assert_int_equal(tfo_exp_retryinfo_parse("/////////w", 10, &ms), TFO_EPROTO);
	assert_int_equal(tfo_exp_retryinfo_parse("", 0, &ms), TFO_ENOENT);
}

static void
test_retry_after(void **state)
{
	const time_t now = 1700000000;   /* Tue, 14 Nov 2023 22:13:20 GMT */
	uint32_t ms = 1;

	(void)state;
	assert_int_equal(tfo_exp_retry_after_parse("120", 3, now, &ms), TFO_OK);
	assert_int_equal(ms, 120000);
	assert_int_equal(tfo_exp_retry_after_parse(" 0 ", 3, now, &ms), TFO_OK);
	assert_int_equal(ms, 0);
	assert_int_equal(tfo_exp_retry_after_parse("99999999999999999999999", 23, now, &ms), TFO_OK);
	assert_int_equal(ms, TFO_EXP_RETRY_CAP_MS);
	assert_int_equal(tfo_exp_retry_after_parse("4000", 4, now, &ms), TFO_OK);
	assert_int_equal(ms, TFO_EXP_RETRY_CAP_MS);
	assert_int_equal(tfo_exp_retry_after_parse("-5", 2, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("5s", 2, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("1.5", 3, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("", 0, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("soon", 4, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("1\0002", 3, now, &ms), TFO_EINVAL);
	{
		char big[200];
		memset(big, '1', sizeof(big));
		assert_int_equal(tfo_exp_retry_after_parse(big, sizeof(big), now, &ms), TFO_EINVAL);
	}
	/* HTTP-date: 30 s ahead, in the past, far ahead */
	assert_int_equal(tfo_exp_retry_after_parse("Tue, 14 Nov 2023 22:13:50 GMT", 29, now, &ms), TFO_OK);
	assert_int_equal(ms, 30000);
	assert_int_equal(tfo_exp_retry_after_parse("Tue, 14 Nov 2023 22:00:00 GMT", 29, now, &ms), TFO_OK);
	assert_int_equal(ms, 0);
	assert_int_equal(tfo_exp_retry_after_parse("Fri, 01 Jan 2100 00:00:00 GMT", 29, now, &ms), TFO_OK);
	assert_int_equal(ms, TFO_EXP_RETRY_CAP_MS);
	assert_int_equal(tfo_exp_retry_after_parse("Tue, 14 Nov 2023 22:13:50 PST", 29, now, &ms), TFO_EINVAL);
	assert_int_equal(tfo_exp_retry_after_parse("Tue, 99 Nov 2023 22:13:50 GMT", 29, now, &ms), TFO_EINVAL);
}

static void
test_grpc_status_parse(void **state)
{
	int code = -1;

	(void)state;
	assert_int_equal(tfo_exp_grpc_status_parse("14", 2, &code), TFO_OK);
	assert_int_equal(code, 14);
	assert_int_equal(tfo_exp_grpc_status_parse(" 0", 2, &code), TFO_OK);
	assert_int_equal(code, 0);
	assert_int_equal(tfo_exp_grpc_status_parse("-1", 2, &code), TFO_EINVAL);
	assert_int_equal(tfo_exp_grpc_status_parse("1a", 2, &code), TFO_EINVAL);
	assert_int_equal(tfo_exp_grpc_status_parse("1000", 4, &code), TFO_EINVAL);
	assert_int_equal(tfo_exp_grpc_status_parse("", 0, &code), TFO_EINVAL);
	assert_int_equal(tfo_exp_grpc_status_parse("99999999999", 11, &code), TFO_EINVAL);
}

static void
test_text_clean(void **state)
{
	char out[16];

	(void)state;
	tfo_exp_text_clean(out, sizeof(out), "a%20b%0Ac%zz%4", 14, 1);
	assert_string_equal(out, "a b?c%zz%4");
	tfo_exp_text_clean(out, sizeof(out), "no%20pct", 8, 0);
	assert_string_equal(out, "no%20pct");
	tfo_exp_text_clean(out, sizeof(out), "0123456789abcdefghij", 20, 0);
	assert_string_equal(out, "0123456789abcde");                 /* truncated */
	tfo_exp_text_clean(out, sizeof(out), "x\0y\x1b", 4, 0);
	assert_string_equal(out, "x?y?");
}

static void
test_endpoint_parse(void **state)
{
	static const struct { const char *ep; int grpc, tls; const char *url; unsigned port; } ok[] = {
		{ "collector", 1, 0, "http://collector:4317", 4317 },
		{ "collector", 0, 1, "https://collector:4318", 4318 },
		{ "10.0.0.1:9000", 1, 1, "https://10.0.0.1:9000", 9000 },
		{ "[::1]:4317", 1, 0, "http://[::1]:4317", 4317 },
		{ "[::1]", 0, 0, "http://[::1]:4318", 4318 },
		{ "https://otlp.example.com", 0, 0, "https://otlp.example.com", 443 },
		{ "http://otlp.example.com/", 1, 1, "http://otlp.example.com", 80 },
		{ "https://gw:8443/otlp/", 0, 0, "https://gw:8443/otlp", 8443 },
	};
	static const char *const bad[] = {
		"", "/", ":4317", "host:", "host:0", "host:65536", "host:12x", "host:-1",
		"unix:///run/x.sock", "user@host:1", "ho st:1", "host/path", "[::1", "[::1]x",
		"http://", "https://:443", "host:99999999999999999999",
	};
	char url[64];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (tfo_exp_endpoint_parse(ok[i].ep, ok[i].grpc, ok[i].tls, url, sizeof(url), &port) != TFO_OK)
			fail_msg("refused %s", ok[i].ep);
		assert_string_equal(url, ok[i].url);
		assert_int_equal(port, ok[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tfo_exp_endpoint_parse(bad[i], 1, 0, url, sizeof(url), &port) == TFO_OK)
			fail_msg("accepted %s as %s", bad[i], url);
	assert_int_equal(tfo_exp_endpoint_parse("a-very-long-host-name-that-does-not-fit.example.com:4317",
	    1, 0, url, 16, &port), TFO_ERANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_plain),
		cmocka_unit_test(test_body_lz4_entries),
		cmocka_unit_test(test_body_grpc_frame),
		cmocka_unit_test(test_body_gzip_http),
		cmocka_unit_test(test_gzip_window_reach),
		cmocka_unit_test(test_gzip_state_bytes),
		cmocka_unit_test(test_gzip_ratio),
		cmocka_unit_test(test_unframe_hostile),
		cmocka_unit_test(test_partial_success),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_retryinfo),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_grpc_status_parse),
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_endpoint_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
