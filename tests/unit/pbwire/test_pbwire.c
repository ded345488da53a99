/*
 * test_pbwire.c - unit tests of common/pbwire: varint and length-delimited
 * header encoding against golden bytes and protobuf-c's own packing, and the
 * bounded decoder on truncated, overlong and garbage input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbwire.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

static const struct {
	uint64_t v;
	size_t n;
	uint8_t b[TFO_PB_VARINT_MAX];
} varints[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x80, 0x01 } },
	{ 300, 2, { 0xac, 0x02 } },
	{ 16383, 2, { 0xff, 0x7f } },
	{ 16384, 3, { 0x80, 0x80, 0x01 } },
	{ 1ull << 32, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 } },
	{ (1ull << 63) - 1, 9, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
	{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
};

#define NVARINTS (sizeof(varints) / sizeof(varints[0]))

/* Golden bytes both ways; every strict prefix is truncated and rejected. */
static void
test_varint_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVARINTS; i++) {
		uint8_t out[TFO_PB_VARINT_MAX + 1];
		const uint8_t *p = varints[i].b;
		uint64_t v = 12345;

		memset(out, 0xee, sizeof(out));
		assert_int_equal(tfo_pb_varint_size(varints[i].v), varints[i].n);
		assert_int_equal(tfo_pb_varint_put(out, varints[i].v), varints[i].n);
		assert_memory_equal(out, varints[i].b, varints[i].n);
		assert_int_equal(out[varints[i].n], 0xee);
		assert_int_equal(tfo_pb_varint_get(&p, varints[i].b + varints[i].n, &v), TFO_OK);
		assert_true(v == varints[i].v);
		assert_ptr_equal(p, varints[i].b + varints[i].n);
		for (size_t cut = 0; cut < varints[i].n; cut++) {
			p = varints[i].b;
			assert_int_equal(tfo_pb_varint_get(&p, varints[i].b + cut, &v), TFO_EINVAL);
			assert_ptr_equal(p, varints[i].b);
		}
	}
}

/* Longer than 10 bytes or wider than 64 bits is rejected; padding that still
 * fits (0x80 0x00 = 0) is valid protobuf and accepted. */
static void
test_varint_overlong(void **state)
{
	static const uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x00 };
	static const uint8_t wide[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	static const uint8_t padded[3] = { 0x80, 0x80, 0x00 };
	static const uint8_t ten_pad[10] = { 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	const uint8_t *p;
	uint64_t v = 7;

	(void)state;
	p = eleven;
	assert_int_equal(tfo_pb_varint_get(&p, eleven + sizeof(eleven), &v), TFO_EINVAL);
	assert_ptr_equal(p, eleven);
	p = wide;
	assert_int_equal(tfo_pb_varint_get(&p, wide + sizeof(wide), &v), TFO_EINVAL);
	assert_ptr_equal(p, wide);
	p = padded;
	assert_int_equal(tfo_pb_varint_get(&p, padded + sizeof(padded), &v), TFO_OK);
	assert_true(v == 0 && p == padded + 3);
	p = ten_pad;
	assert_int_equal(tfo_pb_varint_get(&p, ten_pad + sizeof(ten_pad), &v), TFO_OK);
	assert_true(v == 1 && p == ten_pad + 10);
	p = padded;
	assert_int_equal(tfo_pb_varint_get(&p, padded, &v), TFO_EINVAL);   /* empty input */
}

static void
test_lenhdr(void **state)
{
	static const struct {
		uint32_t field;
		size_t len, n;
		uint8_t b[TFO_PB_LENHDR_MAX];
	} h[] = {
		{ 1, 0, 2, { 0x0a, 0x00 } },
		{ 2, 5, 2, { 0x12, 0x05 } },
		{ 15, 127, 2, { 0x7a, 0x7f } },
		{ 16, 300, 4, { 0x82, 0x01, 0xac, 0x02 } },
		{ TFO_PB_FIELD_MAX, 1, 6, { 0xfa, 0xff, 0xff, 0xff, 0x0f, 0x01 } },
	};
	uint8_t out[TFO_PB_LENHDR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		assert_int_equal(tfo_pb_lenhdr_size(h[i].field, h[i].len), h[i].n);
		assert_int_equal(tfo_pb_lenhdr_put(out, h[i].field, h[i].len), h[i].n);
		assert_memory_equal(out, h[i].b, h[i].n);
	}
	assert_int_equal(tfo_pb_lenhdr_size(TFO_PB_FIELD_MAX, SIZE_MAX), TFO_PB_LENHDR_MAX);
}

/* A request framed by hand is byte-for-byte what protobuf-c packs. */
static void
test_lenhdr_matches_protobuf_c(void **state)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl[2], *rlp[2];
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
	Opentelemetry__Proto__Common__V1__InstrumentationScope sc =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	char name[400];
	uint8_t *want, *got;
	size_t wlen, o = 0;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);        /* a length that needs two bytes */
	name[sizeof(name) - 1] = '\0';
	sc.name = name;
	sl.scope = &sc;
	for (int i = 0; i < 2; i++) {
		opentelemetry__proto__logs__v1__resource_logs__init(&rl[i]);
		rl[i].n_scope_logs = 1;
		rl[i].scope_logs = &slp;
		rlp[i] = &rl[i];
	}
	req.n_resource_logs = 2;
	req.resource_logs = rlp;
	wlen = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(&req);
	assert_non_null(want = malloc(wlen));
	assert_non_null(got = malloc(wlen + 2 * TFO_PB_LENHDR_MAX));
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, want);
	for (int i = 0; i < 2; i++) {
		size_t n = opentelemetry__proto__logs__v1__resource_logs__get_packed_size(&rl[i]);
		o += tfo_pb_lenhdr_put(got + o, 1, n);
		o += opentelemetry__proto__logs__v1__resource_logs__pack(&rl[i], got + o);
	}
	assert_int_equal(o, wlen);
	assert_memory_equal(got, want, wlen);
	free(want);
	free(got);
}

/* field 1 varint 150, field 2 fixed64, field 3 "abc", field 4 fixed32, field 20 varint 1 */
static const uint8_t msg[] = {
	0x08, 0x96, 0x01,
	0x11, 1, 2, 3, 4, 5, 6, 7, 8,
	0x1a, 0x03, 'a', 'b', 'c',
	0x25, 9, 8, 7, 6,
	0xa0, 0x01, 0x01,
};

static void
test_field_walk(void **state)
{
	const uint8_t *p = msg, *end = msg + sizeof(msg);
	struct tfo_pb_field f;

	(void)state;
	assert_int_equal(tfo_pb_field_next(&p, end, &f), TFO_OK);
	assert_true(f.number == 1 && f.wire == TFO_PB_VARINT && f.value == 150);
	assert_int_equal(tfo_pb_field_next(&p, end, &f), TFO_OK);
	assert_true(f.number == 2 && f.wire == TFO_PB_I64 && f.len == 8 && f.data == msg + 4);
	assert_int_equal(tfo_pb_field_next(&p, end, &f), TFO_OK);
	assert_true(f.number == 3 && f.wire == TFO_PB_LEN && f.len == 3);
	assert_memory_equal(f.data, "abc", 3);
	assert_int_equal(tfo_pb_field_next(&p, end, &f), TFO_OK);
	assert_true(f.number == 4 && f.wire == TFO_PB_I32 && f.len == 4 && f.data[0] == 9);
	assert_int_equal(tfo_pb_field_next(&p, end, &f), TFO_OK);
	assert_true(f.number == 20 && f.wire == TFO_PB_VARINT && f.value == 1);
	assert_ptr_equal(p, end);
}

/* Every cut inside a field fails without moving; cuts at a field boundary
 * leave whole fields only. */
static void
test_field_truncations(void **state)
{
	static const size_t bounds[] = { 0, 3, 12, 17, 22, sizeof(msg) };

	(void)state;
	for (size_t cut = 0; cut <= sizeof(msg); cut++) {
		const uint8_t *p = msg, *end = msg + cut, *before;
		struct tfo_pb_field f;
		enum tfo_err e = TFO_OK;
		int boundary = 0;

		for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++)
			boundary |= bounds[b] == cut;
		for (before = p; p < end && (e = tfo_pb_field_next(&p, end, &f)) == TFO_OK; before = p)
			assert_true(p > before && p <= end);
		if (boundary) {
			assert_int_equal(e, TFO_OK);
			assert_ptr_equal(p, end);
		} else {
			assert_int_equal(e, TFO_EINVAL);
			assert_ptr_equal(p, before);
			assert_non_null(f.error);
		}
	}
}

static void
test_field_errors(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *why;
	} bad[] = {
		{ "\x00", 1, "bad field tag" },                         /* field 0 */
		{ "\x80", 1, "bad field tag" },                         /* tag cut */
		{ "\xf8\xff\xff\xff\xff\x01", 6, "bad field tag" },     /* field > 2^29-1 */
		{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11, "bad field tag" },
		{ "\x08\x80", 2, "truncated varint" },
		{ "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "truncated varint" },  /* > 64 bits */
		{ "\x09\x01\x02\x03", 4, "truncated fixed field" },
		{ "\x0d\x01", 2, "truncated fixed field" },
		{ "\x0a\x05\x0a", 3, "truncated field" },
		{ "\x0a", 1, "truncated field" },
		{ "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, "truncated field" },   /* 2^63 */
		{ "\x0b", 1, "unsupported wire type 3" },
		{ "\x0c", 1, "unsupported wire type 4" },
		{ "\x0e", 1, "unsupported wire type 6" },
		{ "garbage!!", 9, "unsupported wire type 7" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const uint8_t *in = (const uint8_t *)bad[i].in, *p = in;
		struct tfo_pb_field f;

		assert_int_equal(tfo_pb_field_next(&p, in + bad[i].len, &f), TFO_EINVAL);
		assert_ptr_equal(p, in);
		assert_string_equal(f.error, bad[i].why);
	}
}

/* Random bytes: the walk always moves forward, stays inside the input and ends. */
static void
test_field_garbage(void **state)
{
	uint8_t buf[64];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		const uint8_t *p = buf, *end = buf + n;
		struct tfo_pb_field f;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		while (p < end) {
			const uint8_t *before = p;
			if (tfo_pb_field_next(&p, end, &f) != TFO_OK) {
				assert_ptr_equal(p, before);
				break;
			}
			assert_true(p > before && p <= end);
			if (f.data != NULL)
				assert_true(f.data >= buf && f.data + f.len <= end);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_table),
		cmocka_unit_test(test_varint_overlong),
		cmocka_unit_test(test_lenhdr),
		cmocka_unit_test(test_lenhdr_matches_protobuf_c),
		cmocka_unit_test(test_field_walk),
		cmocka_unit_test(test_field_truncations),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_field_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
