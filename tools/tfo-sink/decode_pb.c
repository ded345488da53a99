/*
 * decode_pb.c - tfo-sink (tool process): OTLP protobuf Export*ServiceRequest
 * bodies into counts and the normalised body. A descriptor-driven pre-scan
 * bounds nesting and sub-message count before protobuf-c allocates anything,
 * and in strict mode refuses strings that are not UTF-8.
 */
#include "tools/tfo-sink/decode_int.h"

#include "common/pbwire.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#include <string.h>

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsReq;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsReq;

#define METRICS_REQ_DESC opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor
#define LOGS_REQ_DESC opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor

/*
 * pb_scan - walk the wire form of a message of type d: fail on truncation,
 * nesting deeper than TFO_SINK_MAX_DEPTH or more than TFO_SINK_MAX_MESSAGES
 * sub-messages. Each byte is visited once, at its innermost message.
 */
static enum tfo_err
pb_scan(struct tfo_sink_summary *s, const ProtobufCMessageDescriptor *d,
    const uint8_t *p, const uint8_t *end, int depth, uint64_t *count)
{
	while (p < end) {
		struct tfo_pb_field fl;
		const ProtobufCFieldDescriptor *f;
		enum tfo_err e;

		if (tfo_pb_field_next(&p, end, &fl) != TFO_OK)
			return sink_fail(s, TFO_EINVAL, "protobuf: %s", fl.error);
		if (fl.wire != TFO_PB_LEN)
			continue;
		f = protobuf_c_message_descriptor_get_field(d, fl.number);
		if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && s->strict_utf8 &&
		    !sink_utf8_valid(fl.data, fl.len))
			return sink_fail(s, TFO_EINVAL, "protobuf: string field %s.%s contains invalid UTF-8",
			    d->short_name, f->name);
		if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (++*count > TFO_SINK_MAX_MESSAGES)
				return sink_fail(s, TFO_ERANGE, "protobuf: more than %u messages",
				    TFO_SINK_MAX_MESSAGES);
			if (depth >= TFO_SINK_MAX_DEPTH)
				return sink_fail(s, TFO_EINVAL, "protobuf: nested deeper than %d",
				    TFO_SINK_MAX_DEPTH);
			e = pb_scan(s, f->descriptor, fl.data, fl.data + fl.len, depth + 1, count);
			if (e != TFO_OK)
				return e;
		}
	}
	return TFO_OK;
}

static cJSON *pb_attrs(size_t n, KeyValue **kv);

/* pb_any - an AnyValue as plain JSON (depth bounded by pb_scan) */
static cJSON *
pb_any(const AnyValue *v)
{
	cJSON *a;

	if (v == NULL)
		return cJSON_CreateNull();
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return sink_string(v->string_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		return cJSON_CreateBool(v->bool_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		return sink_i64(v->int_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		return cJSON_CreateNumber(v->double_value);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		if ((a = cJSON_CreateArray()) == NULL || v->array_value == NULL)
			return a;
		for (size_t i = 0; i < v->array_value->n_values; i++)
			sink_append(a, pb_any(v->array_value->values[i]));
		return a;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (v->kvlist_value == NULL)
			return cJSON_CreateObject();
		return pb_attrs(v->kvlist_value->n_values, v->kvlist_value->values);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		return sink_base64(v->bytes_value.data, v->bytes_value.len);
	default:
		return cJSON_CreateNull();
	}
}

/* pb_attrs - KeyValue list as a JSON object {key: value} */
static cJSON *
pb_attrs(size_t n, KeyValue **kv)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *key;

	for (size_t i = 0; o != NULL && i < n; i++) {
		/* The key is sanitised like every string from the wire. */
		if ((key = sink_string(kv[i]->key)) == NULL)
			continue;
		sink_put(o, key->valuestring, pb_any(kv[i]->value));
		cJSON_Delete(key);
	}
	return o;
}

/* pb_resource - note host.name; add the resource entry when detailed */
static cJSON *
pb_resource(struct sink_ctx *c, cJSON *list, const char *scopes_key, const Resource *r)
{
	size_t n = r ? r->n_attributes : 0;

	for (size_t i = 0; i < n; i++) {
		const AnyValue *v = r->attributes[i]->value;
		if (strcmp(r->attributes[i]->key, "host.name") == 0 && v != NULL &&
		    v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			sink_note_host(c->s, v->string_value);
	}
	c->s->resources++;
	if (!sink_detail(c, list))
		return NULL;
	return sink_resource_add(list, scopes_key, pb_attrs(n, r ? r->attributes : NULL));
}

static cJSON *
pb_scope(struct sink_ctx *c, cJSON *scopes, const char *items_key, const Scope *sc)
{
	if (!sink_detail(c, scopes))
		return NULL;
	return sink_scope_add(scopes, items_key, sc ? sc->name : "", sc ? sc->version : "");
}

/* pb_hist - a histogram's points: checked, counted, detailed */
static enum tfo_err
pb_hist(struct sink_ctx *c, cJSON *pts, const Opentelemetry__Proto__Metrics__V1__Histogram *h)
{
	for (size_t i = 0; i < h->n_data_points; i++) {
		const HistogramDataPoint *dp = h->data_points[i];
		struct sink_hpoint p = {
			.start_time = dp->start_time_unix_nano, .time = dp->time_unix_nano,
			.count = dp->count, .sum = dp->sum, .nbuckets = dp->n_bucket_counts,
			.buckets = dp->bucket_counts, .nbounds = dp->n_explicit_bounds,
			.bounds = dp->explicit_bounds, .flags = dp->flags,
		};
		enum tfo_err e = sink_hpoint_check(c->s, &p);

		if (e != TFO_OK)
			return e;
		c->s->points++;
		if (!sink_detail(c, pts))
			continue;
		p.attributes = pb_attrs(dp->n_attributes, dp->attributes);
		sink_hpoint_add(pts, &p);
	}
	return TFO_OK;
}

static enum tfo_err
pb_metric(struct sink_ctx *c, cJSON *list, const Metric *m)
{
	struct sink_metric sm = { m->name, m->description, m->unit, "none", 0, 0 };
	NumberDataPoint **dp = NULL;
	size_t n = 0;
	cJSON *pts = NULL;

	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE && m->gauge) {
		sm.type = "gauge";
		n = m->gauge->n_data_points;
		dp = m->gauge->data_points;
	} else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM && m->sum) {
		sm.type = "sum";
		sm.is_monotonic = m->sum->is_monotonic;
		sm.temporality = (int)m->sum->aggregation_temporality;
		n = m->sum->n_data_points;
		dp = m->sum->data_points;
	} else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM &&
	    m->histogram) {
		sm.type = "histogram";
		sm.temporality = (int)m->histogram->aggregation_temporality;
	}
	c->s->metrics++;
	if (sink_detail(c, list))
		pts = sink_metric_add(list, &sm);
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM && m->histogram)
		return pb_hist(c, pts, m->histogram);
	c->s->points += n;
	for (size_t i = 0; i < n && sink_detail(c, pts); i++) {
		struct sink_point p = {
			.attributes = pb_attrs(dp[i]->n_attributes, dp[i]->attributes),
			.start_time = dp[i]->start_time_unix_nano,
			.time = dp[i]->time_unix_nano,
			.flags = dp[i]->flags,
		};
		if (dp[i]->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE) {
			p.kind = SINK_VALUE_DOUBLE;
			p.as_double = dp[i]->as_double;
		} else if (dp[i]->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT) {
			p.kind = SINK_VALUE_INT;
			p.as_int = dp[i]->as_int;
		}
		sink_point_add(pts, &p);
	}
	return TFO_OK;
}

static enum tfo_err
pb_metrics(struct sink_ctx *c, const MetricsReq *req)
{
	cJSON *list = sink_body_new(c->s, "resource_metrics");
	enum tfo_err e;

	for (size_t i = 0; i < req->n_resource_metrics; i++) {
		const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[i];
		cJSON *scopes = pb_resource(c, list, "scope_metrics", rm->resource);
		for (size_t j = 0; j < rm->n_scope_metrics; j++) {
			const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
			cJSON *metrics = pb_scope(c, scopes, "metrics", sm->scope);
			for (size_t k = 0; k < sm->n_metrics; k++)
				if ((e = pb_metric(c, metrics, sm->metrics[k])) != TFO_OK)
					return e;
		}
	}
	return TFO_OK;
}

static void
pb_record(struct sink_ctx *c, cJSON *records, const LogRecord *lr)
{
	struct sink_record r = {
		.time = lr->time_unix_nano,
		.observed_time = lr->observed_time_unix_nano,
		.severity_number = (int)lr->severity_number,
		.severity_text = lr->severity_text,
		.event_name = lr->event_name,
		.flags = lr->flags,
		.dropped_attributes_count = lr->dropped_attributes_count,
	};

	c->s->records++;
	if (!sink_detail(c, records))
		return;
	r.body = lr->body ? pb_any(lr->body) : NULL;
	r.attributes = pb_attrs(lr->n_attributes, lr->attributes);
	sink_hex(r.trace_id, sizeof(r.trace_id), lr->trace_id.data, lr->trace_id.len);
	sink_hex(r.span_id, sizeof(r.span_id), lr->span_id.data, lr->span_id.len);
	sink_record_add(records, &r);
}

static void
pb_logs(struct sink_ctx *c, const LogsReq *req)
{
	cJSON *list = sink_body_new(c->s, "resource_logs");

	for (size_t i = 0; i < req->n_resource_logs; i++) {
		const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[i];
		cJSON *scopes = pb_resource(c, list, "scope_logs", rl->resource);
		for (size_t j = 0; j < rl->n_scope_logs; j++) {
			const Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[j];
			cJSON *records = pb_scope(c, scopes, "log_records", sl->scope);
			for (size_t k = 0; k < sl->n_log_records; k++)
				pb_record(c, records, sl->log_records[k]);
		}
	}
}

enum tfo_err
sink_decode_pb(struct sink_ctx *c, const uint8_t *p, size_t n)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *msg;
	uint64_t count = 0;
	enum tfo_err e;

	if (c->s->signal == TFO_SINK_METRICS)
		d = &METRICS_REQ_DESC;
	else if (c->s->signal == TFO_SINK_LOGS)
		d = &LOGS_REQ_DESC;
	else
		return sink_fail(c->s, TFO_EPROTO, "heartbeat takes application/json");
	if ((e = pb_scan(c->s, d, p, p + n, 0, &count)) != TFO_OK)
		return e;
	if ((msg = protobuf_c_message_unpack(d, NULL, n, p)) == NULL)
		return sink_fail(c->s, TFO_EINVAL, "protobuf: not a valid %s", d->short_name);
	if (c->s->signal == TFO_SINK_METRICS)
		e = pb_metrics(c, (const MetricsReq *)msg);
	else
		pb_logs(c, (const LogsReq *)msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	if (e != TFO_OK)
		return e;
	if (c->s->body == NULL)
		return sink_fail(c->s, TFO_ENOMEM, "out of memory");
	return TFO_OK;
}
