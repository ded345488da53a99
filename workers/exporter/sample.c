/*
 * sample.c - builds prepared ResourceMetrics/ResourceLogs entries with
 * protobuf-c for the exporter's tests, interop driver and bench.
 */
#include <stdio.h>
#include <stdlib.h>

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "workers/exporter/sample.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KV;
typedef Opentelemetry__Proto__Common__V1__AnyValue AV;

#define BASE_NS 1700000000000000000ull

/* kv_* - fill caller-owned KeyValue + AnyValue pairs */
static void
kv_str(KV *kv, AV *av, const char *key, char *val)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(av);
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	av->string_value = val;
	kv->key = (char *)key;
	kv->value = av;
}

static void
kv_int(KV *kv, AV *av, const char *key, int64_t val)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(av);
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	av->int_value = val;
	kv->key = (char *)key;
	kv->value = av;
}

struct res {
	Opentelemetry__Proto__Resource__V1__Resource r;
	KV kv[3];
	AV av[3];
	KV *kvp[3];
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
};

static void
res_init(struct res *s, uint32_t index)
{
	opentelemetry__proto__resource__v1__resource__init(&s->r);
	kv_str(&s->kv[0], &s->av[0], "service.name", "tfo-agent");
	kv_str(&s->kv[1], &s->av[1], "host.name", "interop-host");
	kv_int(&s->kv[2], &s->av[2], "tfo.entry.index", index);
	for (int i = 0; i < 3; i++)
		s->kvp[i] = &s->kv[i];
	s->r.n_attributes = 3;
	s->r.attributes = s->kvp;
	opentelemetry__proto__common__v1__instrumentation_scope__init(&s->scope);
	s->scope.name = "tfo-interop";
	s->scope.version = "1";
}

uint8_t *
tfo_exp_sample_metrics(uint32_t index, uint32_t points, size_t *len)
{
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm = OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric m[2], *mp[2] = { &m[0], &m[1] };
	Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
	Opentelemetry__Proto__Metrics__V1__Gauge gauge = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint gp, *gpp = &gp;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = calloc(points ? points : 1, sizeof(*dp));
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dpp = calloc(points ? points : 1, sizeof(*dpp));
	KV *kv = calloc(2 * (size_t)(points ? points : 1), sizeof(*kv));
	AV *av = calloc(2 * (size_t)(points ? points : 1), sizeof(*av));
	KV **kvp = calloc(2 * (size_t)(points ? points : 1), sizeof(*kvp));
	struct res res;
	uint8_t *out = NULL;

	if (!dp || !dpp || !kv || !av || !kvp)
		goto done;
	res_init(&res, index);
	for (uint32_t j = 0; j < points; j++) {
		opentelemetry__proto__metrics__v1__number_data_point__init(&dp[j]);
		kv_str(&kv[2 * j], &av[2 * j], "cpu.mode", "user");
		kv_int(&kv[2 * j + 1], &av[2 * j + 1], "seq", (int64_t)index * points + j);
		kvp[2 * j] = &kv[2 * j];
		kvp[2 * j + 1] = &kv[2 * j + 1];
		dp[j].n_attributes = 2;
		dp[j].attributes = &kvp[2 * j];
		dp[j].start_time_unix_nano = BASE_NS;
		dp[j].time_unix_nano = BASE_NS + (uint64_t)index * 1000000000ull;
		dp[j].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
		dp[j].as_int = (int64_t)index * points + j;
		dpp[j] = &dp[j];
	}
	sum.n_data_points = points;
	sum.data_points = dpp;
	sum.aggregation_temporality = OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	sum.is_monotonic = 1;
	opentelemetry__proto__metrics__v1__metric__init(&m[0]);
	m[0].name = "test.requests";
	m[0].unit = "{request}";
	m[0].data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
	m[0].sum = &sum;
	opentelemetry__proto__metrics__v1__number_data_point__init(&gp);
	gp.time_unix_nano = BASE_NS;
	gp.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	gp.as_double = index + 0.5;
	gauge.n_data_points = 1;
	gauge.data_points = &gpp;
	opentelemetry__proto__metrics__v1__metric__init(&m[1]);
	m[1].name = "test.temperature";
	m[1].unit = "Cel";
	m[1].data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
	m[1].gauge = &gauge;
	sm.scope = &res.scope;
	sm.n_metrics = 2;
	sm.metrics = mp;
	rm.resource = &res.r;
	rm.n_scope_metrics = 1;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp = &sm;
	rm.scope_metrics = &smp;
	*len = opentelemetry__proto__metrics__v1__resource_metrics__get_packed_size(&rm);
	if ((out = malloc(*len ? *len : 1)) != NULL)
		opentelemetry__proto__metrics__v1__resource_metrics__pack(&rm, out);
done:
	free(dp);
	free(dpp);
	free(kv);
	free(av);
	free(kvp);
	return out;
}

uint8_t *
tfo_exp_sample_logs(uint32_t index, uint32_t records, size_t *len)
{
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT, *slp = &sl;
	size_t n = records ? records : 1;
	Opentelemetry__Proto__Logs__V1__LogRecord *lr = calloc(n, sizeof(*lr));
	Opentelemetry__Proto__Logs__V1__LogRecord **lrp = calloc(n, sizeof(*lrp));
	AV *body = calloc(n, sizeof(*body));
	char (*text)[48] = calloc(n, sizeof(*text));
	struct res res;
	uint8_t *out = NULL;

	if (!lr || !lrp || !body || !text)
		goto done;
	res_init(&res, index);
	for (uint32_t j = 0; j < records; j++) {
		opentelemetry__proto__logs__v1__log_record__init(&lr[j]);
		opentelemetry__proto__common__v1__any_value__init(&body[j]);
		snprintf(text[j], sizeof(text[j]), "line %u-%u", index, j);
		body[j].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		body[j].string_value = text[j];
		lr[j].body = &body[j];
		lr[j].time_unix_nano = BASE_NS + j;
		lr[j].observed_time_unix_nano = BASE_NS + j;
		lr[j].severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
		lr[j].severity_text = "INFO";
		lrp[j] = &lr[j];
	}
	sl.scope = &res.scope;
	sl.n_log_records = records;
	sl.log_records = lrp;
	rl.resource = &res.r;
	rl.n_scope_logs = 1;
	rl.scope_logs = &slp;
	*len = opentelemetry__proto__logs__v1__resource_logs__get_packed_size(&rl);
	if ((out = malloc(*len ? *len : 1)) != NULL)
		opentelemetry__proto__logs__v1__resource_logs__pack(&rl, out);
done:
	free(lr);
	free(lrp);
	free(body);
	free(text);
	return out;
}
