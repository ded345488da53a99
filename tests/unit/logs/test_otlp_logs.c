/*
 * test_otlp_logs.c - common/otlp_logs: the hand-framed ResourceLogs decodes
 * with protobuf-c to exactly the records, resource and scope added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/otlp_logs.h"

static Opentelemetry__Proto__Logs__V1__ResourceLogs *
build(struct tfo_otlp_logs *b)
{
	const uint8_t *p;
	size_t len;

	assert_int_equal(tfo_otlp_logs_finish(b, &p, &len), TFO_OK);
	return opentelemetry__proto__logs__v1__resource_logs__unpack(NULL, len, p);
}

static void
test_roundtrip(void **state)
{
	Opentelemetry__Proto__Common__V1__AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue *kvs[1] = { &kv };
	Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	struct tfo_otlp_logs *b;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rl;
	char body[32];

	(void)state;
	v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v.string_value = "tfo-agent";
	kv.key = "service.name";
	kv.value = &v;
	res.n_attributes = 1;
	res.attributes = kvs;
	assert_non_null(b = tfo_otlp_logs_new(&res, "tfo-logs", "0.1.0"));
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000; i++) {   /* past the first buffer size */
			struct tfo_log_record r = { 0 };
			snprintf(body, sizeof(body), "line %d", i);
			r.body = body;
			r.observed_ns = 1000 + (uint64_t)i;
			r.severity_number = i % 2 ? 17 : 0;
			r.severity_text = i % 2 ? "ERROR" : NULL;
			r.attrs[0] = (struct tfo_log_attr){ "log.file.path", "/var/log/a.log", 0 };
			r.attrs[1] = (struct tfo_log_attr){ "log.file.name", "a.log", 0 };
			r.attrs[2] = (struct tfo_log_attr){ "x.flag", NULL, 1 };
			r.nattrs = 3;
			assert_int_equal(tfo_otlp_logs_add(b, &r), TFO_OK);
		}
		assert_int_equal(tfo_otlp_logs_count(b), 3000);
		assert_non_null(rl = build(b));
		assert_non_null(rl->resource);
		assert_int_equal(rl->resource->n_attributes, 1);
		assert_string_equal(rl->resource->attributes[0]->value->string_value, "tfo-agent");
		assert_int_equal(rl->n_scope_logs, 1);
		assert_string_equal(rl->scope_logs[0]->scope->name, "tfo-logs");
		assert_string_equal(rl->scope_logs[0]->scope->version, "0.1.0");
		assert_int_equal(rl->scope_logs[0]->n_log_records, 3000);
		for (size_t i = 0; i < 3000; i++) {
			Opentelemetry__Proto__Logs__V1__LogRecord *lr = rl->scope_logs[0]->log_records[i];
			snprintf(body, sizeof(body), "line %zu", i);
			assert_string_equal(lr->body->string_value, body);
			assert_int_equal(lr->observed_time_unix_nano, 1000 + i);
			assert_int_equal(lr->severity_number, i % 2 ? 17 : 0);
			assert_string_equal(lr->severity_text, i % 2 ? "ERROR" : "");
			assert_int_equal(lr->n_attributes, 3);
			assert_string_equal(lr->attributes[1]->value->string_value, "a.log");
			assert_int_equal(lr->attributes[2]->value->bool_value, 1);
		}
		opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
		tfo_otlp_logs_reset(b);
		assert_int_equal(tfo_otlp_logs_count(b), 0);
	}
	tfo_otlp_logs_free(b);
}

static void
test_packed_attrs_and_body_len(void **state)
{
	struct tfo_log_attr a[2] = { { "log.file.path", "/x/y.log", 0 }, { "log.file.name", "y.log", 0 } };
	struct tfo_log_record r = { 0 };
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rl;
	Opentelemetry__Proto__Logs__V1__LogRecord *lr;
	struct tfo_otlp_logs *b;
	uint8_t *packed;
	size_t plen;

	(void)state;
	assert_int_equal(tfo_otlp_logs_pack_attrs(a, 2, &packed, &plen), TFO_OK);
	assert_non_null(b = tfo_otlp_logs_new(NULL, "s", "v"));
	r.body = "abcdef";
	r.body_len = 3;                          /* only "abc" */
	r.attrs_packed = packed;
	r.attrs_packed_len = plen;
	r.attrs[0] = (struct tfo_log_attr){ "extra", NULL, 1 };
	r.nattrs = 1;
	r.severity_number = 13;
	r.severity_text = "WARN";
	assert_int_equal(tfo_otlp_logs_add(b, &r), TFO_OK);
	assert_non_null(rl = build(b));
	lr = rl->scope_logs[0]->log_records[0];
	assert_string_equal(lr->body->string_value, "abc");
	assert_int_equal(lr->n_attributes, 3);   /* per-record first, then the packed ones */
	assert_string_equal(lr->attributes[0]->key, "extra");
	assert_string_equal(lr->attributes[1]->key, "log.file.path");
	assert_string_equal(lr->attributes[1]->value->string_value, "/x/y.log");
	assert_string_equal(lr->attributes[2]->value->string_value, "y.log");
	assert_string_equal(lr->severity_text, "WARN");
	opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
	tfo_otlp_logs_free(b);
	free(packed);
}

static void
test_empty_and_no_resource(void **state)
{
	struct tfo_otlp_logs *b;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rl;
	struct tfo_log_record r = { 0 };

	(void)state;
	assert_non_null(b = tfo_otlp_logs_new(NULL, NULL, NULL));
	assert_non_null(rl = build(b));
	assert_null(rl->resource);
	assert_int_equal(rl->n_scope_logs, 1);
	assert_int_equal(rl->scope_logs[0]->n_log_records, 0);
	opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
	assert_int_equal(tfo_otlp_logs_add(b, &r), TFO_EINVAL);   /* no body */
	r.body = "";
	r.nattrs = TFO_OTLP_LOGS_MAX_ATTRS + 1;
	assert_int_equal(tfo_otlp_logs_add(b, &r), TFO_EINVAL);
	r.nattrs = 0;
	assert_int_equal(tfo_otlp_logs_add(b, &r), TFO_OK);
	assert_non_null(rl = build(b));
	assert_int_equal(rl->scope_logs[0]->n_log_records, 1);
	assert_string_equal(rl->scope_logs[0]->log_records[0]->body->string_value, "");
	opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
	tfo_otlp_logs_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_packed_attrs_and_body_len),
		cmocka_unit_test(test_empty_and_no_resource),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
