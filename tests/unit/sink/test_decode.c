/*
 * test_decode.c - unit tests of tfo-sink's decoder (tools/tfo-sink/decode.h):
 * protobuf built in-test with protobuf-c, gzip, OTLP/JSON, heartbeat, and
 * hostile input (truncated, garbage, zip bomb, deep nesting, size caps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "common/otlp.h"
#include "tools/tfo-sink/decode.h"

#define PB "application/x-protobuf"
#define JS "application/json"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

struct buf {
	uint8_t *p;
	size_t n;
};

static void
kv_str(KeyValue *kv, AnyValue *v, const char *key, const char *val)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)val;
}

/* metrics_pb - host.name=h1; gauge g (2 double points, attr cpu=0);
 * sum s (1 int point 2^53+1, monotonic, cumulative) */
static struct buf
metrics_pb(const char *host)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
	    OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT, *rmp = &rm;
	Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
	    OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT, *smp = &sm;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric g = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT,
	    s = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT, *ms[2] = { &g, &s };
	Opentelemetry__Proto__Metrics__V1__Gauge gauge = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
	Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint p[3], *gp[2] = { &p[0], &p[1] },
	    *sp[1] = { &p[2] };
	KeyValue kv[2], *rkv[1] = { &kv[0] }, *pkv[1] = { &kv[1] };
	AnyValue av[2];
	struct buf b;

	kv_str(&kv[0], &av[0], "host.name", host);
	kv_str(&kv[1], &av[1], "cpu", "0");
	res.n_attributes = 1;
	res.attributes = rkv;
	for (int i = 0; i < 3; i++)
		opentelemetry__proto__metrics__v1__number_data_point__init(&p[i]);
	p[0].value_case = p[1].value_case =
	    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	p[0].as_double = 1.5;
	p[1].as_double = -2.25;
	p[0].n_attributes = 1;
	p[0].attributes = pkv;
	p[0].time_unix_nano = 1700000000123456789ull;
	p[2].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
	p[2].as_int = 9007199254740993ll;
	p[2].start_time_unix_nano = 1;
	gauge.n_data_points = 2;
	gauge.data_points = gp;
	sum.n_data_points = 1;
	sum.data_points = sp;
	sum.is_monotonic = 1;
	sum.aggregation_temporality =
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	g.name = "g";
	g.unit = "1";
	g.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
	g.gauge = &gauge;
	s.name = "s";
	s.unit = "By";
	s.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
	s.sum = &sum;
	scope.name = "tfo";
	sm.scope = &scope;
	sm.n_metrics = 2;
	sm.metrics = ms;
	rm.resource = &res;
	rm.n_scope_metrics = 1;
	rm.scope_metrics = &smp;
	req.n_resource_metrics = 1;
	req.resource_metrics = &rmp;
	b.n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(&req);
	b.p = malloc(b.n + 1);
	assert_non_null(b.p);
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(&req, b.p);
	return b;
}

/* logs_pb - n records "line <i>", severity INFO, attr log.file.name */
static struct buf
logs_pb(size_t n)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT, *rlp = &rl;
	Opentelemetry__Proto__Resource__V1__Resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT,
	    *slp = &sl;
	Opentelemetry__Proto__Logs__V1__LogRecord *recs = calloc(n, sizeof(*recs)), **rp =
	    calloc(n, sizeof(*rp));
	AnyValue *bodies = calloc(n, sizeof(*bodies)), hv, fv;
	KeyValue hkv, fkv, *hkvp = &hkv, *fkvp = &fkv;
	char (*text)[32] = calloc(n, sizeof(*text));
	static uint8_t trace[16] = { 0xab, 0xcd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xef };
	struct buf b;

	assert_true(recs && rp && bodies && text);
	kv_str(&hkv, &hv, "host.name", "logs-host");
	kv_str(&fkv, &fv, "log.file.name", "syslog");
	res.n_attributes = 1;
	res.attributes = &hkvp;
	for (size_t i = 0; i < n; i++) {
		opentelemetry__proto__logs__v1__log_record__init(&recs[i]);
		opentelemetry__proto__common__v1__any_value__init(&bodies[i]);
		snprintf(text[i], sizeof(text[i]), "line %zu", i);
		bodies[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		bodies[i].string_value = text[i];
		recs[i].body = &bodies[i];
		recs[i].severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
		recs[i].severity_text = "INFO";
		recs[i].time_unix_nano = 1000 + i;
		recs[i].n_attributes = 1;
		recs[i].attributes = &fkvp;
		recs[i].trace_id.data = trace;
		recs[i].trace_id.len = sizeof(trace);
		rp[i] = &recs[i];
	}
	sl.n_log_records = n;
	sl.log_records = rp;
	rl.resource = &res;
	rl.n_scope_logs = 1;
	rl.scope_logs = &slp;
	req.n_resource_logs = 1;
	req.resource_logs = &rlp;
	b.n = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(&req);
	b.p = malloc(b.n + 1);
	assert_non_null(b.p);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, b.p);
	free(recs);
	free(rp);
	free(bodies);
	free(text);
	return b;
}

/* gzip_of - gzip-compress p[0..n), optionally twice as two members */
static struct buf
gzip_of(const uint8_t *p, size_t n)
{
	z_stream z = { 0 };
	struct buf b;

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	b.n = deflateBound(&z, (uLong)n) + 64;
	b.p = malloc(b.n);
	assert_non_null(b.p);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = b.p;
	z.avail_out = (uInt)b.n;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	b.n = z.total_out;
	deflateEnd(&z);
	return b;
}

/* zeros_gzip - gzip of n zero bytes, streamed (a zip bomb for large n) */
static struct buf
zeros_gzip(size_t n)
{
	static uint8_t zero[1 << 16];
	z_stream z = { 0 };
	struct buf b = { malloc(n / 500 + 4096), 0 };

	assert_non_null(b.p);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_out = b.p;
	z.avail_out = (uInt)(n / 500 + 4096);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(zero) ? n - done : sizeof(zero);
		z.next_in = zero;
		z.avail_in = (uInt)k;
		done += k;
		assert_int_equal(deflate(&z, done == n ? Z_FINISH : Z_NO_FLUSH),
		    done == n ? Z_STREAM_END : Z_OK);
	}
	b.n = z.total_out;
	deflateEnd(&z);
	return b;
}

static enum tfo_err
decode_str(enum tfo_sink_signal sig, const char *ct, const char *enc, const char *body,
    struct tfo_sink_summary *s)
{
	return tfo_sink_decode(sig, ct, enc, (const uint8_t *)body, strlen(body), s);
}

/* path - body node by a path of object keys and array indexes ("#0") */
static const cJSON *
path(const cJSON *j, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, j);
	while (j != NULL && (k = va_arg(ap, const char *)) != NULL)
		j = k[0] == '#' ? cJSON_GetArrayItem(j, atoi(k + 1))
		                : cJSON_GetObjectItemCaseSensitive(j, k);
	va_end(ap);
	return j;
}

static const char *
str_at(const cJSON *j)
{
	assert_true(cJSON_IsString(j));
	return j->valuestring;
}

/* check_metrics - the summary and body of metrics_pb("h1") */
static void
check_metrics(const struct tfo_sink_summary *s)
{
	const cJSON *sc = path(s->body, "resource_metrics", "#0", "scope_metrics", "#0", NULL);
	const cJSON *g = path(sc, "metrics", "#0", NULL), *sm = path(sc, "metrics", "#1", NULL);
	char *text;

	assert_int_equal(s->resources, 1);
	assert_int_equal(s->metrics, 2);
	assert_int_equal(s->points, 3);
	assert_int_equal(s->records, 0);
	assert_string_equal(s->host, "h1");
	assert_string_equal(str_at(path(s->body, "resource_metrics", "#0", "resource", "host.name", NULL)), "h1");
	assert_string_equal(str_at(path(sc, "scope", "name", NULL)), "tfo");
	assert_string_equal(str_at(path(g, "name", NULL)), "g");
	assert_string_equal(str_at(path(g, "type", NULL)), "gauge");
	assert_null(path(g, "is_monotonic", NULL));
	assert_int_equal(cJSON_GetArraySize(path(g, "data_points", NULL)), 2);
	assert_true(path(g, "data_points", "#0", "value", NULL)->valuedouble == 1.5);
	assert_string_equal(str_at(path(g, "data_points", "#0", "value_type", NULL)), "double");
	assert_string_equal(str_at(path(g, "data_points", "#0", "attributes", "cpu", NULL)), "0");
	assert_string_equal(str_at(path(g, "data_points", "#0", "time_unix_nano", NULL)),
	    "1700000000123456789");
	assert_string_equal(str_at(path(sm, "unit", NULL)), "By");
	assert_string_equal(str_at(path(sm, "type", NULL)), "sum");
	assert_true(cJSON_IsTrue(path(sm, "is_monotonic", NULL)));
	assert_string_equal(str_at(path(sm, "aggregation_temporality", NULL)), "cumulative");
	assert_string_equal(str_at(path(sm, "data_points", "#0", "value_type", NULL)), "int");
	assert_string_equal(str_at(path(sm, "data_points", "#0", "start_time_unix_nano", NULL)), "1");
	/* 2^53+1 survives exactly: a double would print ...992. */
	text = cJSON_PrintUnformatted(path(sm, "data_points", "#0", NULL));
	assert_non_null(strstr(text, "\"value\":9007199254740993,"));
	free(text);
}

static void
test_metrics_protobuf(void **state)
{
	struct buf b = metrics_pb("h1");
	struct tfo_sink_summary s;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s), TFO_OK);
	assert_int_equal(s.format, TFO_SINK_PROTOBUF);
	assert_false(s.gzip);
	assert_int_equal(s.wire_bytes, b.n);
	assert_int_equal(s.decoded_bytes, b.n);
	assert_string_equal(s.error, "");
	check_metrics(&s);
	tfo_sink_summary_fini(&s);
	/* Media types compare case-insensitively and ignore parameters. */
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, " Application/X-Protobuf ; q=1",
	    "identity", b.p, b.n, &s), TFO_OK);
	tfo_sink_summary_fini(&s);
	free(b.p);
}

static void
test_metrics_gzip(void **state)
{
	struct buf b = metrics_pb("h1"), z = gzip_of(b.p, b.n), two;
	struct tfo_sink_summary s;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "gzip", z.p, z.n, &s), TFO_OK);
	assert_true(s.gzip);
	assert_int_equal(s.wire_bytes, z.n);
	assert_int_equal(s.decoded_bytes, b.n);
	check_metrics(&s);
	tfo_sink_summary_fini(&s);
	/* Two gzip members inflate to the concatenation: two resources. */
	two.p = malloc(2 * z.n);
	assert_non_null(two.p);
	memcpy(two.p, z.p, z.n);
	memcpy(two.p + z.n, z.p, z.n);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "GZIP", two.p, 2 * z.n, &s), TFO_OK);
	assert_int_equal(s.resources, 2);
	assert_int_equal(s.points, 6);
	tfo_sink_summary_fini(&s);
	free(two.p);
	free(z.p);
	free(b.p);
}

static void
test_gzip_bad(void **state)
{
	struct buf b = metrics_pb("h1"), z = gzip_of(b.p, b.n);
	struct tfo_sink_summary s;
	uint8_t *t = malloc(z.n + 3);

	(void)state;
	assert_non_null(t);
	for (size_t cut = 0; cut < z.n; cut++) {
		assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "gzip", z.p, cut, &s), TFO_EINVAL);
		assert_null(s.body);
		assert_true(strncmp(s.error, "gzip: ", 6) == 0);
	}
	memcpy(t, z.p, z.n);
	memcpy(t + z.n, "xyz", 3);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "gzip", t, z.n + 3, &s), TFO_EINVAL);
	assert_string_equal(s.error, "gzip: trailing data after stream");
	/* Plain protobuf labelled gzip is not a gzip stream. */
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "gzip", b.p, b.n, &s), TFO_EINVAL);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "br", z.p, z.n, &s), TFO_EPROTO);
	assert_int_equal(tfo_sink_http_status(TFO_EPROTO), 415);
	free(t);
	free(z.p);
	free(b.p);
}

static void
test_zip_bomb(void **state)
{
	struct buf z = zeros_gzip((size_t)TFO_SINK_MAX_INFLATED + 4096);
	struct buf j = zeros_gzip((size_t)TFO_SINK_MAX_JSON + 1);
	struct tfo_sink_summary s;

	(void)state;
	assert_true(z.n < TFO_SINK_MAX_BODY / 64);  /* small on the wire */
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, "gzip", z.p, z.n, &s), TFO_ERANGE);
	assert_int_equal(tfo_sink_http_status(TFO_ERANGE), 413);
	assert_null(s.body);
	assert_non_null(strstr(s.error, "inflates past"));
	/* JSON has the lower cap. */
	assert_int_equal(tfo_sink_decode(TFO_SINK_LOGS, JS, "gzip", j.p, j.n, &s), TFO_ERANGE);
	free(z.p);
	free(j.p);
}

static void
test_truncated_protobuf(void **state)
{
	struct buf b = metrics_pb("h1");
	struct tfo_sink_summary s;
	enum tfo_err e;

	(void)state;
	/* Every prefix decodes or is refused; none crashes or leaks. */
	for (size_t cut = 0; cut < b.n; cut++) {
		e = tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, cut, &s);
		assert_true(e == TFO_OK || e == TFO_EINVAL);
		assert_true((e == TFO_OK) == (s.body != NULL));
		tfo_sink_summary_fini(&s);
	}
	/* Cut inside the outer ResourceMetrics: truncated field. */
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n - 1, &s), TFO_EINVAL);
	assert_string_equal(s.error, "protobuf: truncated field");
	assert_int_equal(tfo_sink_http_status(TFO_EINVAL), 400);
	free(b.p);
}

static void
test_garbage(void **state)
{
	static const struct {
		enum tfo_sink_signal sig;
		const char *ct, *body, *error;
	} cases[] = {
		{ TFO_SINK_METRICS, PB, "garbage!!", "protobuf: unsupported wire type 7" },
		{ TFO_SINK_LOGS, PB, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "protobuf: bad field tag" },
		{ TFO_SINK_METRICS, PB, "\x0a\x05\x0a", "protobuf: truncated field" },
		{ TFO_SINK_METRICS, PB, "\x08\x01", "protobuf: not a valid ExportMetricsServiceRequest" },
		{ TFO_SINK_METRICS, JS, "{\"foo\":1}", "json: resourceMetrics missing or not an array" },
		{ TFO_SINK_LOGS, JS, "{\"resourceMetrics\":[]}", "json: resourceLogs missing or not an array" },
		{ TFO_SINK_METRICS, JS, "[1,2]", "json: body must be an object" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[]} x", "json: trailing data at byte 23" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[", "json: parse error at byte 19" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[\"x\"]}", "json: resource entries must be objects" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":7}]}]}]}",
		  "json: metric.name: expected a string" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\","
		  "\"gauge\":{\"dataPoints\":[{\"asInt\":\"12x\"}]}}]}]}]}", "json: dataPoint.asInt: expected an integer" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\","
		  "\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":-1}]}}]}]}]}",
		  "json: dataPoint.timeUnixNano: expected an integer" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"k\","
		  "\"value\":{\"stringValue\":1}}]}}]}", "json: AnyValue.stringValue: expected a string" },
		{ TFO_SINK_LOGS, JS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"xyz\"}]}]}]}",
		  "json: logRecord.traceId: expected hex id" },
		{ TFO_SINK_LOGS, JS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":"
		  "\"LOUD\"}]}]}]}", "json: logRecord.severityNumber: expected an enum value" },
		{ TFO_SINK_METRICS, JS, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"k\","
		  "\"value\":{\"stringValue\":\"\xc3\x28\"}}]}}]}", "json: body is not valid UTF-8" },
		{ TFO_SINK_HEARTBEAT, JS, "\"just a string\"", "json: body must be an object" },
		{ TFO_SINK_HEARTBEAT, JS, "", "json: parse error at byte 0" },
	};
	struct tfo_sink_summary s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode_str(cases[i].sig, cases[i].ct, NULL, cases[i].body, &s), TFO_EINVAL);
		assert_string_equal(s.error, cases[i].error);
		assert_null(s.body);
	}
}

static void
test_media_types(void **state)
{
	struct tfo_sink_summary s;

	(void)state;
	assert_int_equal(decode_str(TFO_SINK_METRICS, NULL, NULL, "{}", &s), TFO_EPROTO);
	assert_string_equal(s.error, "unsupported content type '(none)'");
	assert_int_equal(decode_str(TFO_SINK_METRICS, "text/plain", NULL, "{}", &s), TFO_EPROTO);
	assert_int_equal(decode_str(TFO_SINK_HEARTBEAT, PB, NULL, "", &s), TFO_EPROTO);
	assert_string_equal(s.error, "heartbeat takes application/json");
	assert_int_equal(decode_str(TFO_SINK_METRICS, JS, "deflate", "{}", &s), TFO_EPROTO);
	assert_string_equal(s.error, "unsupported content encoding 'deflate'");
	assert_int_equal(decode_str(TFO_SINK_METRICS, "application/json; charset=utf-8", "",
	    "{\"resourceMetrics\":[]}", &s), TFO_OK);
	tfo_sink_summary_fini(&s);
	/* An empty protobuf body is an empty, valid request. */
	assert_int_equal(tfo_sink_decode(TFO_SINK_LOGS, PB, NULL, NULL, 0, &s), TFO_OK);
	assert_int_equal(s.records, 0);
	assert_int_equal(cJSON_GetArraySize(path(s.body, "resource_logs", NULL)), 0);
	tfo_sink_summary_fini(&s);
}

static void
test_logs_protobuf(void **state)
{
	struct buf b = logs_pb(3);
	struct tfo_sink_summary s;
	const cJSON *r;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_LOGS, PB, NULL, b.p, b.n, &s), TFO_OK);
	assert_int_equal(s.resources, 1);
	assert_int_equal(s.records, 3);
	assert_int_equal(s.points, 0);
	assert_string_equal(s.host, "logs-host");
	r = path(s.body, "resource_logs", "#0", "scope_logs", "#0", "log_records", "#2", NULL);
	assert_string_equal(str_at(path(r, "body", NULL)), "line 2");
	assert_int_equal(path(r, "severity_number", NULL)->valueint, 9);
	assert_string_equal(str_at(path(r, "severity_text", NULL)), "INFO");
	assert_string_equal(str_at(path(r, "time_unix_nano", NULL)), "1002");
	assert_string_equal(str_at(path(r, "attributes", "log.file.name", NULL)), "syslog");
	assert_string_equal(str_at(path(r, "trace_id", NULL)), "abcd0102030405060708090a0b0c0def");
	assert_string_equal(str_at(path(r, "span_id", NULL)), "");
	tfo_sink_summary_fini(&s);
	free(b.p);
}

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"jhost\"}},"
    "{\"key\":\"n\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
    "{\"key\":\"l\",\"value\":{\"arrayValue\":{\"values\":[{\"boolValue\":true},{\"doubleValue\":0.5}]}}}]},"
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"js\",\"version\":\"1\"},\"metrics\":["
    "{\"name\":\"system.cpu.time\",\"unit\":\"s\",\"sum\":{\"aggregationTemporality\":"
    "\"AGGREGATION_TEMPORALITY_CUMULATIVE\",\"isMonotonic\":true,\"dataPoints\":["
    "{\"asDouble\":12.5,\"timeUnixNano\":\"1700000000000000001\",\"attributes\":["
    "{\"key\":\"cpu.mode\",\"value\":{\"stringValue\":\"user\"}}]},"
    "{\"as_double\":\"NaN\",\"time_unix_nano\":5}]}},"
    "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"42\"}]}},"
    "{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{}]}}]}]}]}";

static void
test_metrics_json(void **state)
{
	struct tfo_sink_summary s;
	const cJSON *rm, *m;

	(void)state;
	assert_int_equal(decode_str(TFO_SINK_METRICS, JS, NULL, metrics_json, &s), TFO_OK);
	assert_int_equal(s.format, TFO_SINK_JSON);
	assert_int_equal(s.metrics, 3);
	assert_int_equal(s.points, 4);  /* the empty histogram point too */
	assert_string_equal(s.host, "jhost");
	rm = path(s.body, "resource_metrics", "#0", NULL);
	assert_true(cJSON_IsTrue(path(rm, "resource", "l", "#0", NULL)));
	assert_true(path(rm, "resource", "l", "#1", NULL)->valuedouble == 0.5);
	m = path(rm, "scope_metrics", "#0", "metrics", "#0", NULL);
	assert_string_equal(str_at(path(m, "aggregation_temporality", NULL)), "cumulative");
	assert_string_equal(str_at(path(m, "data_points", "#0", "attributes", "cpu.mode", NULL)), "user");
	assert_string_equal(str_at(path(m, "data_points", "#1", "time_unix_nano", NULL)), "5");
	assert_string_equal(str_at(path(rm, "scope_metrics", "#0", "metrics", "#2", "type", NULL)),
	    "histogram");
	assert_string_equal(str_at(path(rm, "scope_metrics", "#0", "scope", "version", NULL)), "1");
	{
		char *text = cJSON_PrintUnformatted(s.body);
		assert_non_null(strstr(text, "\"n\":-9223372036854775808"));
		assert_non_null(strstr(text, "\"value\":42,\"value_type\":\"int\""));
		free(text);
	}
	tfo_sink_summary_fini(&s);
}

static void
test_logs_json(void **state)
{
	static const char body[] =
	    "{\"resource_logs\":[{\"resource\":{\"attributes\":[{\"key\":\"host.name\","
	    "\"value\":{\"stringValue\":\"lj\"}}]},\"scopeLogs\":[{\"logRecords\":["
	    "{\"timeUnixNano\":\"7\",\"severityNumber\":\"SEVERITY_NUMBER_WARN\",\"severityText\":\"WARN\","
	    "\"body\":{\"stringValue\":\"disk full\"},\"spanId\":\"00112233AABBCCDD\"},"
	    "{\"severityNumber\":17,\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\","
	    "\"value\":{\"stringValue\":\"b\"}}]}}}]}]}]}";
	struct tfo_sink_summary s;
	const cJSON *recs;

	(void)state;
	assert_int_equal(decode_str(TFO_SINK_LOGS, JS, NULL, body, &s), TFO_OK);
	assert_int_equal(s.records, 2);
	assert_string_equal(s.host, "lj");
	recs = path(s.body, "resource_logs", "#0", "scope_logs", "#0", "log_records", NULL);
	assert_int_equal(path(recs, "#0", "severity_number", NULL)->valueint, 13);
	assert_string_equal(str_at(path(recs, "#0", "body", NULL)), "disk full");
	assert_string_equal(str_at(path(recs, "#0", "span_id", NULL)), "00112233aabbccdd");
	assert_string_equal(str_at(path(recs, "#1", "body", "a", NULL)), "b");
	assert_int_equal(path(recs, "#1", "severity_number", NULL)->valueint, 17);
	tfo_sink_summary_fini(&s);
}

static void
test_heartbeat(void **state)
{
	struct tfo_sink_summary s;

	(void)state;
	assert_int_equal(decode_str(TFO_SINK_HEARTBEAT, JS, NULL,
	    "{\"systemInfo\":{\"hostname\":\"hb1\",\"os\":\"linux\",\"cpuCores\":8}}", &s), TFO_OK);
	assert_string_equal(s.host, "hb1");
	assert_int_equal(s.fields, 3);
	assert_int_equal(path(s.body, "systemInfo", "cpuCores", NULL)->valueint, 8);
	tfo_sink_summary_fini(&s);
	assert_int_equal(decode_str(TFO_SINK_HEARTBEAT, JS, NULL, "{\"hostname\":\"flat\",\"x\":1}", &s),
	    TFO_OK);
	assert_string_equal(s.host, "flat");
	assert_int_equal(s.fields, 2);
	tfo_sink_summary_fini(&s);
}

/* put_varint / put_field - hand-written protobuf wire data */
static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* deep_any - attribute value nested depth arrays deep in a resource */
static struct buf
deep_any(int depth)
{
	struct buf b = { malloc((size_t)depth * 16 + 64), 0 };
	uint8_t *tmp = malloc((size_t)depth * 16 + 64), *swap;
	size_t n = 0;

	assert_true(b.p && tmp);
	/* innermost AnyValue{string_value:"x"} */
	memcpy(b.p, "\x0a\x01x", 3);
	b.n = 3;
	for (int i = 0; i < depth; i++) {
		/* ArrayValue{values: AnyValue} then AnyValue{array_value: ...} */
		for (int k = 0; k < 2; k++) {
			n = 0;
			tmp[n++] = k == 0 ? 0x0a : 0x2a;
			n += put_varint(tmp + n, b.n);
			memcpy(tmp + n, b.p, b.n);
			n += b.n;
			swap = b.p, b.p = tmp, tmp = swap;
			b.n = n;
		}
	}
	/* KeyValue{key:"k", value} -> Resource{attributes} -> ResourceMetrics{resource}
	 * -> request{resource_metrics} */
	static const uint8_t wrap[] = { 0x12, 0x0a, 0x0a, 0x0a };
	for (int k = 0; k < 4; k++) {
		n = 0;
		if (k == 0) {
			memcpy(tmp, "\x0a\x01k", 3);
			n = 3;
		}
		tmp[n++] = wrap[k];
		n += put_varint(tmp + n, b.n);
		memcpy(tmp + n, b.p, b.n);
		n += b.n;
		swap = b.p, b.p = tmp, tmp = swap;
		b.n = n;
	}
	free(tmp);
	return b;
}

static void
test_depth_limit(void **state)
{
	struct buf ok = deep_any(8), deep = deep_any(TFO_SINK_MAX_DEPTH);
	struct tfo_sink_summary s;
	char *text;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, ok.p, ok.n, &s), TFO_OK);
	text = cJSON_PrintUnformatted(path(s.body, "resource_metrics", "#0", "resource", NULL));
	assert_string_equal(text, "{\"k\":[[[[[[[[\"x\"]]]]]]]]}");
	free(text);
	tfo_sink_summary_fini(&s);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, deep.p, deep.n, &s), TFO_EINVAL);
	assert_string_equal(s.error, "protobuf: nested deeper than 32");
	free(ok.p);
	free(deep.p);
}

/* many_points - one gauge metric with n empty data points */
static struct buf
many_points(size_t n)
{
	size_t inner = 2 * n + 3, cap = inner + 64;
	struct buf b = { malloc(cap), 0 };
	uint8_t *p = b.p;
	size_t gauge_len = 2 * n, metric_len, sm_len, rm_len;

	assert_non_null(p);
	metric_len = 3 + 1 + (size_t)put_varint((uint8_t[10]){ 0 }, gauge_len) + gauge_len;
	sm_len = 1 + (size_t)put_varint((uint8_t[10]){ 0 }, metric_len) + metric_len;
	rm_len = 1 + (size_t)put_varint((uint8_t[10]){ 0 }, sm_len) + sm_len;
	p[b.n++] = 0x0a;
	b.n += put_varint(p + b.n, rm_len);
	p[b.n++] = 0x12;            /* ResourceMetrics.scope_metrics */
	b.n += put_varint(p + b.n, sm_len);
	p[b.n++] = 0x12;            /* ScopeMetrics.metrics */
	b.n += put_varint(p + b.n, metric_len);
	memcpy(p + b.n, "\x0a\x01m", 3);
	b.n += 3;
	p[b.n++] = 0x2a;            /* Metric.gauge */
	b.n += put_varint(p + b.n, gauge_len);
	for (size_t i = 0; i < n; i++) {
		p[b.n++] = 0x0a;    /* Gauge.data_points, empty */
		p[b.n++] = 0x00;
	}
	assert_true(b.n <= cap);
	return b;
}

static void
test_detail_cap(void **state)
{
	struct buf b = many_points(TFO_SINK_MAX_DETAIL + 10);
	struct tfo_sink_summary s;
	const cJSON *pts;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s), TFO_OK);
	assert_int_equal(s.points, TFO_SINK_MAX_DETAIL + 10);
	assert_true(s.body_truncated);
	pts = path(s.body, "resource_metrics", "#0", "scope_metrics", "#0", "metrics", "#0",
	    "data_points", NULL);
	/* resource, scope and metric took three elements of the budget */
	assert_int_equal(cJSON_GetArraySize(pts), TFO_SINK_MAX_DETAIL - 3);
	assert_string_equal(str_at(path(pts, "#0", "value_type", NULL)), "none");
	tfo_sink_summary_fini(&s);
	free(b.p);
}

static void
test_size_caps(void **state)
{
	size_t n = (size_t)TFO_SINK_MAX_MESSAGES + 1;
	uint8_t *p = malloc(2 * n > TFO_SINK_MAX_BODY + 1 ? 2 * n : TFO_SINK_MAX_BODY + 1);
	struct tfo_sink_summary s;

	(void)state;
	assert_non_null(p);
	/* n empty ResourceMetrics: cheap on the wire, costly in protobuf-c */
	for (size_t i = 0; i < n; i++)
		memcpy(p + 2 * i, "\x0a\x00", 2);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, p, 2 * n, &s), TFO_ERANGE);
	assert_string_equal(s.error, "protobuf: more than 2097152 messages");
	memset(p, ' ', TFO_SINK_MAX_BODY + 1);
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, JS, NULL, p, TFO_SINK_MAX_BODY + 1, &s),
	    TFO_ERANGE);
	assert_string_equal(s.error, "body larger than 16777216 bytes");
	free(p);
}

static void
test_invalid_utf8_sanitised(void **state)
{
	struct buf b = metrics_pb("bad\xff" "host");
	struct tfo_sink_summary s;
	char *text;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s), TFO_OK);
	text = cJSON_PrintUnformatted(s.body);
	assert_non_null(strstr(text, "\"host.name\":\"bad\xef\xbf\xbdhost\""));
	free(text);
	tfo_sink_summary_fini(&s);
	free(b.p);
}

/* strict mode: the same body is refused, as protobuf-go refuses it; valid
 * strings (multi-byte included) still pass */
static void
test_invalid_utf8_strict(void **state)
{
	struct buf b = metrics_pb("bad\xff" "host"), ok = metrics_pb("caf\xc3\xa9-host");
	struct tfo_sink_summary s;

	(void)state;
	assert_int_equal(tfo_sink_decode_flags(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s,
	    TFO_SINK_STRICT_UTF8), TFO_EINVAL);
	assert_non_null(strstr(s.error, "contains invalid UTF-8"));
	assert_null(s.body);
	assert_int_equal(tfo_sink_decode_flags(TFO_SINK_METRICS, PB, NULL, ok.p, ok.n, &s,
	    TFO_SINK_STRICT_UTF8), TFO_OK);
	tfo_sink_summary_fini(&s);
	free(b.p);
	free(ok.p);
}

/* count_same - tfo_sink_count agrees with tfo_sink_decode on a good body */
static void
count_same(enum tfo_sink_signal sig, const char *enc, const struct buf *b)
{
	struct tfo_sink_summary d, c;

	assert_int_equal(tfo_sink_decode(sig, PB, enc, b->p, b->n, &d), TFO_OK);
	assert_int_equal(tfo_sink_count(sig, PB, enc, b->p, b->n, &c), TFO_OK);
	assert_null(c.body);
	assert_int_equal(c.resources, d.resources);
	assert_int_equal(c.metrics, d.metrics);
	assert_int_equal(c.points, d.points);
	assert_int_equal(c.records, d.records);
	assert_int_equal(c.decoded_bytes, d.decoded_bytes);
	assert_int_equal(c.gzip, d.gzip);
	assert_string_equal(c.host, d.host);
	tfo_sink_summary_fini(&d);
	tfo_sink_summary_fini(&c);
}

static void
test_count_only(void **state)
{
	struct buf m = metrics_pb("h1"), l = logs_pb(5), z = gzip_of(m.p, m.n);
	struct tfo_sink_summary s;
	enum tfo_err e;

	(void)state;
	count_same(TFO_SINK_METRICS, NULL, &m);
	count_same(TFO_SINK_METRICS, "gzip", &z);
	count_same(TFO_SINK_LOGS, NULL, &l);
	assert_int_equal(tfo_sink_count(TFO_SINK_LOGS, PB, NULL, l.p, l.n, &s), TFO_OK);
	assert_int_equal(s.records, 5);
	assert_string_equal(s.host, "logs-host");
	tfo_sink_summary_fini(&s);
	/* Every truncation is refused or, cut on a field boundary, counts less. */
	for (size_t cut = 0; cut < l.n; cut++) {
		e = tfo_sink_count(TFO_SINK_LOGS, PB, NULL, l.p, cut, &s);
		assert_true(e == TFO_EINVAL || (e == TFO_OK && s.records < 5));
		assert_true(e == TFO_OK || s.error[0] != '\0');
		tfo_sink_summary_fini(&s);
	}
	/* A known message field with a varint wire type; a bad tag; gzip errors. */
	assert_int_equal(tfo_sink_count(TFO_SINK_LOGS, PB, NULL, (const uint8_t *)"\x08\x01", 2, &s),
	    TFO_EINVAL);
	assert_non_null(strstr(s.error, "not a message"));
	assert_int_equal(tfo_sink_count(TFO_SINK_METRICS, PB, NULL, (const uint8_t *)"\x0a\x02\x12\x05",
	    4, &s), TFO_EINVAL);
	assert_int_equal(tfo_sink_count(TFO_SINK_METRICS, PB, NULL, (const uint8_t *)"\x00", 1, &s),
	    TFO_EINVAL);
	assert_int_equal(tfo_sink_count(TFO_SINK_METRICS, PB, "gzip", m.p, m.n, &s), TFO_EINVAL);
	assert_int_equal(tfo_sink_count(TFO_SINK_METRICS, "text/plain", NULL, m.p, m.n, &s),
	    TFO_EPROTO);
	/* JSON is decoded in full even in count mode. */
	assert_int_equal(tfo_sink_count(TFO_SINK_LOGS, JS, NULL, (const uint8_t *)"{\"resourceLogs\":[]}",
	    19, &s), TFO_OK);
	assert_non_null(s.body);
	tfo_sink_summary_fini(&s);
	free(m.p);
	free(l.p);
	free(z.p);
}

/* as_request - rm as field 1 of an ExportMetricsServiceRequest (as the
 * exporter concatenates stored entries) */
static struct buf
as_request(const uint8_t *rm, size_t len)
{
	struct buf out;
	size_t h = 1;

	assert_true(len < 16384);
	out.p = malloc(len + 3);
	assert_non_null(out.p);
	out.p[0] = 0x0a;
	if (len >= 128)
		out.p[h++] = (uint8_t)(0x80 | (len & 0x7f));
	out.p[h++] = (uint8_t)(len >= 128 ? len >> 7 : len);
	memcpy(out.p + h, rm, len);
	out.n = len + h;
	return out;
}

/* hist_pb - one histogram built by common/otlp.c, as the agent's self
 * metrics are: bounds {0.1, 1}, buckets {1, 2, 3}, count 6, sum 4.5 */
static struct buf
hist_pb(void)
{
	static const double bounds[] = { 0.1, 1 };
	static const uint64_t b[] = { 1, 2, 3 }, wrong[] = { 1, 2, 4 };
	struct tfo_arena *a = tfo_arena_new(0);
	struct tfo_otlp_metrics *mb;
	struct tfo_otlp_metric *m, *g;
	tfo_kv *kv[1];
	uint8_t *enc;
	size_t len;
	struct buf out;

	assert_non_null(a);
	mb = tfo_otlp_metrics_new(a, NULL, "tfo-agent/self", "1", NULL);
	m = tfo_otlp_metric(mb, "tfo.exporter.request.duration", "s", "", TFO_OTLP_HISTOGRAM);
	g = tfo_otlp_metric(mb, "g", "1", "", TFO_OTLP_GAUGE);
	kv[0] = tfo_otlp_kv_str(a, "tfo.signal", "metrics");
	assert_int_equal(tfo_otlp_point_hist(mb, m, 7, 9, 6, 4.5, bounds, 2, b, kv, 1), TFO_OK);
	/* the builder refuses a count that is not the buckets' total, bounds out
	 * of order, and number points on a histogram or buckets on a gauge */
	assert_int_equal(tfo_otlp_point_hist(mb, m, 7, 9, 6, 4.5, bounds, 2, wrong, NULL, 0),
	    TFO_EINVAL);
	assert_int_equal(tfo_otlp_point_hist(mb, m, 7, 9, 6, 4.5, (const double[]){ 1, 0.1 }, 2, b,
	    NULL, 0), TFO_EINVAL);
	assert_int_equal(tfo_otlp_point_int(mb, m, 7, 9, 1, NULL, 0), TFO_EINVAL);
	assert_int_equal(tfo_otlp_point_hist(mb, g, 7, 9, 6, 4.5, bounds, 2, b, NULL, 0), TFO_EINVAL);
	assert_int_equal(tfo_otlp_metrics_points(mb), 1);
	assert_int_equal(tfo_otlp_metrics_encode(mb, &enc, &len), TFO_OK);
	out = as_request(enc, len);
	tfo_arena_free(a);
	return out;
}

/* hist_pb_wrong - a histogram point whose count is not its buckets' total,
 * as a careless sender would encode it */
static struct buf
hist_pb_wrong(void)
{
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
	    OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
	    OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT, *smp = &sm;
	Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT,
	    *mp = &m;
	Opentelemetry__Proto__Metrics__V1__Histogram h = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint p =
	    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT, *pp = &p;
	uint64_t b[] = { 1, 2, 4 };
	double bounds[] = { 0.1, 1 };
	uint8_t enc[128];
	size_t len;

	p.count = 6;
	p.bucket_counts = b;
	p.n_bucket_counts = 3;
	p.explicit_bounds = bounds;
	p.n_explicit_bounds = 2;
	h.data_points = &pp;
	h.n_data_points = 1;
	m.name = "h";
	m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
	m.histogram = &h;
	sm.metrics = &mp;
	sm.n_metrics = 1;
	rm.scope_metrics = &smp;
	rm.n_scope_metrics = 1;
	len = opentelemetry__proto__metrics__v1__resource_metrics__get_packed_size(&rm);
	assert_true(len <= sizeof(enc));
	opentelemetry__proto__metrics__v1__resource_metrics__pack(&rm, enc);
	return as_request(enc, len);
}

static void count_same(enum tfo_sink_signal sig, const char *enc, const struct buf *b);

static void
test_histogram(void **state)
{
	struct tfo_sink_summary s;
	const cJSON *m, *p;
	struct buf b = hist_pb();
	char *text;

	(void)state;
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s), TFO_OK);
	assert_int_equal(s.metrics, 1);    /* the gauge without points is not encoded */
	assert_int_equal(s.points, 1);
	m = path(s.body, "resource_metrics", "#0", "scope_metrics", "#0", "metrics", "#0", NULL);
	assert_string_equal(str_at(path(m, "type", NULL)), "histogram");
	assert_string_equal(str_at(path(m, "aggregation_temporality", NULL)), "cumulative");
	assert_null(path(m, "is_monotonic", NULL));
	p = path(m, "data_points", "#0", NULL);
	assert_string_equal(str_at(path(p, "attributes", "tfo.signal", NULL)), "metrics");
	assert_string_equal(str_at(path(p, "start_time_unix_nano", NULL)), "7");
	text = cJSON_PrintUnformatted(p);
	assert_non_null(strstr(text, "\"count\":6,\"sum\":4.5,\"bucket_counts\":[1,2,3],"
	    "\"explicit_bounds\":[0.1,1]"));
	free(text);
	tfo_sink_summary_fini(&s);
	count_same(TFO_SINK_METRICS, NULL, &b);
	free(b.p);
	b = hist_pb_wrong();
	assert_int_equal(tfo_sink_decode(TFO_SINK_METRICS, PB, NULL, b.p, b.n, &s), TFO_EINVAL);
	assert_non_null(strstr(s.error, "count 6, buckets hold 7"));
	assert_null(s.body);
	tfo_sink_summary_fini(&s);
	free(b.p);
}

/* hist_json - one histogram point with the given members, decoded */
static enum tfo_err
hist_json(const char *members, struct tfo_sink_summary *s)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
	    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{%s}]}}]}]}]}",
	    members);
	return decode_str(TFO_SINK_METRICS, JS, NULL, text, s);
}

static void
test_histogram_json(void **state)
{
	static const struct { const char *members, *error; } bad[] = {
		{ "\"count\":3,\"bucketCounts\":[1,2],\"explicitBounds\":[0.5,1]", "2 bucket counts for 2" },
		{ "\"count\":3,\"bucketCounts\":[1,1,1],\"explicitBounds\":[1,0.5]", "not increasing" },
		{ "\"count\":4,\"bucketCounts\":[1,1,1],\"explicitBounds\":[0.5,1]", "count 4, buckets hold 3" },
		{ "\"bucketCounts\":[\"x\"],\"explicitBounds\":[]", "bucketCounts" },
		{ "\"bucketCounts\":[null]", "bucketCounts" },
		{ "\"explicitBounds\":[\"a\"]", "explicitBounds" },
		{ "\"sum\":\"lots\"", "sum" },
		{ "\"bucketCounts\":{}", "bucketCounts" },
	};
	struct tfo_sink_summary s;
	char *text;

	(void)state;
	assert_int_equal(hist_json("\"count\":\"3\",\"sum\":0.25,\"bucketCounts\":[1,\"2\",0],"
	    "\"explicitBounds\":[0.5,1],\"startTimeUnixNano\":\"1\"", &s), TFO_OK);
	assert_int_equal(s.points, 1);
	text = cJSON_PrintUnformatted(s.body);
	assert_non_null(strstr(text, "\"type\":\"histogram\",\"aggregation_temporality\":\"cumulative\""));
	assert_non_null(strstr(text, "\"count\":3,\"sum\":0.25,\"bucket_counts\":[1,2,0],"
	    "\"explicit_bounds\":[0.5,1]"));
	free(text);
	tfo_sink_summary_fini(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hist_json(bad[i].members, &s), TFO_EINVAL);
		if (strstr(s.error, bad[i].error) == NULL)
			fail_msg("case %zu: error '%s' lacks '%s'", i, s.error, bad[i].error);
		assert_null(s.body);
		tfo_sink_summary_fini(&s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_protobuf),
		cmocka_unit_test(test_metrics_gzip),
		cmocka_unit_test(test_gzip_bad),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_truncated_protobuf),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_logs_protobuf),
		cmocka_unit_test(test_metrics_json),
		cmocka_unit_test(test_logs_json),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_detail_cap),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_invalid_utf8_sanitised),
		cmocka_unit_test(test_invalid_utf8_strict),
		cmocka_unit_test(test_count_only),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
