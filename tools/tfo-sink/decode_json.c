/*
 * decode_json.c - tfo-sink (tool process): OTLP/JSON Export*ServiceRequest
 * bodies into counts and the normalised body. Field names are accepted in
 * lowerCamelCase and snake_case; unknown fields are ignored (OTLP rule), but
 * a wrong type or a missing resourceMetrics/resourceLogs is a 400.
 */
#include "tools/tfo-sink/decode_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x) do { enum tfo_err e_ = (x); if (e_ != TFO_OK) return e_; } while (0)

/* j_field - member key of o, spelled lowerCamelCase or snake_case; JSON
 * null counts as absent, as in the protobuf JSON mapping */
static const cJSON *
j_field(const cJSON *o, const char *key)
{
	char snake[64];
	size_t n = 0;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL) {
		for (const char *k = key; *k && n + 2 < sizeof(snake); k++) {
			if (isupper((unsigned char)*k)) {
				snake[n++] = '_';
				snake[n++] = (char)tolower((unsigned char)*k);
			} else
				snake[n++] = *k;
		}
		snake[n] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(o, snake);
	}
	return cJSON_IsNull(v) ? NULL : v;
}

static enum tfo_err
j_bad(struct sink_ctx *c, const char *what, const char *key, const char *expected)
{
	return sink_fail(c->s, TFO_EINVAL, "json: %s.%s: expected %s", what, key, expected);
}

/* j_list - optional array member (NULL when absent) */
static enum tfo_err
j_list(struct sink_ctx *c, const cJSON *o, const char *key, const char *what, const cJSON **out)
{
	*out = j_field(o, key);
	if (*out != NULL && !cJSON_IsArray(*out))
		return j_bad(c, what, key, "an array");
	return TFO_OK;
}

/* j_obj - optional object member (NULL when absent) */
static enum tfo_err
j_obj(struct sink_ctx *c, const cJSON *o, const char *key, const char *what, const cJSON **out)
{
	*out = j_field(o, key);
	if (*out != NULL && !cJSON_IsObject(*out))
		return j_bad(c, what, key, "an object");
	return TFO_OK;
}

static enum tfo_err
j_str(struct sink_ctx *c, const cJSON *o, const char *key, const char *what, const char **out)
{
	const cJSON *v = j_field(o, key);

	*out = "";
	if (v == NULL)
		return TFO_OK;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return j_bad(c, what, key, "a string");
	*out = v->valuestring;
	return TFO_OK;
}

/* j_int_value - an integer given as a JSON number or a decimal string (the
 * protobuf JSON mapping writes 64-bit integers as strings); v NULL = 0 */
static enum tfo_err
j_int_value(struct sink_ctx *c, const cJSON *v, const char *key, const char *what,
    int is_signed, int64_t *i, uint64_t *u)
{
	const char *str;
	char *end;

	*i = 0;
	*u = 0;
	if (v == NULL)
		return TFO_OK;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d != floor(d) || (!is_signed && d < 0) || d < -9.2e18 || d > 1.8e19 ||
		    (is_signed && d > 9.2e18))
			return j_bad(c, what, key, "an integer");
		if (is_signed)
			*i = (int64_t)d;
		else
			*u = (uint64_t)d;
		return TFO_OK;
	}
	str = cJSON_GetStringValue(v);
	if (str == NULL || !(isdigit((unsigned char)str[0]) || (is_signed && str[0] == '-')))
		return j_bad(c, what, key, "an integer");
	errno = 0;
	if (is_signed)
		*i = strtoll(str, &end, 10);
	else
		*u = strtoull(str, &end, 10);
	if (errno != 0 || end == str || *end != '\0')
		return j_bad(c, what, key, "an integer");
	return TFO_OK;
}

/* j_int - member key of o as j_int_value reads it */
static enum tfo_err
j_int(struct sink_ctx *c, const cJSON *o, const char *key, const char *what,
    int is_signed, int64_t *i, uint64_t *u)
{
	return j_int_value(c, j_field(o, key), key, what, is_signed, i, u);
}

static enum tfo_err
j_u64(struct sink_ctx *c, const cJSON *o, const char *key, const char *what, uint64_t *out)
{
	int64_t unused;

	return j_int(c, o, key, what, 0, &unused, out);
}

static enum tfo_err
j_u32(struct sink_ctx *c, const cJSON *o, const char *key, const char *what, uint32_t *out)
{
	uint64_t v;

	TRY(j_u64(c, o, key, what, &v));
	if (v > UINT32_MAX)
		return j_bad(c, what, key, "a 32-bit integer");
	*out = (uint32_t)v;
	return TFO_OK;
}

/* j_double - a number, or a string ("NaN", "Infinity", "1.5") as in
 * the protobuf JSON mapping */
static enum tfo_err
j_double(struct sink_ctx *c, const cJSON *v, const char *what, const char *key, double *out)
{
	const char *str = cJSON_GetStringValue(v);
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return TFO_OK;
	}
	if (str != NULL && *str != '\0' && !isspace((unsigned char)*str)) {
		errno = 0;
		*out = strtod(str, &end);
		if (*end == '\0' && (errno == 0 || isinf(*out)))
			return TFO_OK;
	}
	return j_bad(c, what, key, "a number");
}

/* j_enum - enum as number or as its name (prefix + one of names[]) */
static enum tfo_err
j_enum(struct sink_ctx *c, const cJSON *o, const char *key, const char *what,
    const char *prefix, const char *const *names, int nnames, int *out)
{
	const cJSON *v = j_field(o, key);
	const char *str = cJSON_GetStringValue(v);
	size_t plen = strlen(prefix);

	*out = 0;
	if (v == NULL)
		return TFO_OK;
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 2147483647.0)
			return j_bad(c, what, key, "an enum value");
		*out = (int)v->valuedouble;
		return TFO_OK;
	}
	if (str != NULL && strncmp(str, prefix, plen) == 0)
		for (int i = 0; i < nnames; i++)
			if (strcmp(str + plen, names[i]) == 0) {
				*out = i;
				return TFO_OK;
			}
	return j_bad(c, what, key, "an enum value");
}

static enum tfo_err j_attrs(struct sink_ctx *c, const cJSON *list, int depth, cJSON **out);

/* j_any - an OTLP/JSON AnyValue ({"stringValue": ..} etc.) as plain JSON */
static enum tfo_err
j_any(struct sink_ctx *c, const cJSON *v, int depth, cJSON **out)
{
	const cJSON *x, *vals;
	double d;
	int64_t i;
	uint64_t u;

	*out = NULL;
	if (depth > TFO_SINK_MAX_DEPTH)
		return sink_fail(c->s, TFO_EINVAL, "json: values nested deeper than %d",
		    TFO_SINK_MAX_DEPTH);
	if (v == NULL || cJSON_IsNull(v))
		return (*out = cJSON_CreateNull()) ? TFO_OK : TFO_ENOMEM;
	if (!cJSON_IsObject(v))
		return sink_fail(c->s, TFO_EINVAL, "json: AnyValue: expected an object");
	if ((x = j_field(v, "stringValue")) != NULL) {
		if (!cJSON_IsString(x))
			return j_bad(c, "AnyValue", "stringValue", "a string");
		*out = sink_string(x->valuestring);
	} else if ((x = j_field(v, "boolValue")) != NULL) {
		if (!cJSON_IsBool(x))
			return j_bad(c, "AnyValue", "boolValue", "a boolean");
		*out = cJSON_CreateBool(cJSON_IsTrue(x));
	} else if (j_field(v, "intValue") != NULL) {
		TRY(j_int(c, v, "intValue", "AnyValue", 1, &i, &u));
		*out = sink_i64(i);
	} else if ((x = j_field(v, "doubleValue")) != NULL) {
		TRY(j_double(c, x, "AnyValue", "doubleValue", &d));
		*out = cJSON_CreateNumber(d);
	} else if ((x = j_field(v, "bytesValue")) != NULL) {
		if (!cJSON_IsString(x))
			return j_bad(c, "AnyValue", "bytesValue", "a base64 string");
		*out = sink_string(x->valuestring);
	} else if ((x = j_field(v, "arrayValue")) != NULL) {
		if (!cJSON_IsObject(x))
			return j_bad(c, "AnyValue", "arrayValue", "an object");
		TRY(j_list(c, x, "values", "arrayValue", &vals));
		if ((*out = cJSON_CreateArray()) == NULL)
			return TFO_ENOMEM;
		for (const cJSON *e = vals ? vals->child : NULL; e; e = e->next) {
			cJSON *item;
			enum tfo_err err = j_any(c, e, depth + 1, &item);
			if (err != TFO_OK) {
				cJSON_Delete(*out);
				*out = NULL;
				return err;
			}
			sink_append(*out, item);
		}
	} else if ((x = j_field(v, "kvlistValue")) != NULL) {
		if (!cJSON_IsObject(x))
			return j_bad(c, "AnyValue", "kvlistValue", "an object");
		TRY(j_list(c, x, "values", "kvlistValue", &vals));
		return j_attrs(c, vals, depth + 1, out);
	} else
		*out = cJSON_CreateNull();
	return *out ? TFO_OK : sink_fail(c->s, TFO_ENOMEM, "out of memory");
}

/* j_attrs - [{"key":..,"value":AnyValue}] as a JSON object {key: value} */
static enum tfo_err
j_attrs(struct sink_ctx *c, const cJSON *list, int depth, cJSON **out)
{
	cJSON *o = cJSON_CreateObject();

	*out = NULL;
	if (o == NULL)
		return sink_fail(c->s, TFO_ENOMEM, "out of memory");
	for (const cJSON *kv = list ? list->child : NULL; kv; kv = kv->next) {
		const char *key;
		cJSON *val;
		enum tfo_err e = TFO_EINVAL;

		if (!cJSON_IsObject(kv))
			sink_fail(c->s, e, "json: attributes: expected objects");
		else if ((e = j_str(c, kv, "key", "attribute", &key)) == TFO_OK &&
		    (e = j_any(c, j_field(kv, "value"), depth + 1, &val)) == TFO_OK)
			sink_put(o, key, val);
		if (e != TFO_OK) {
			cJSON_Delete(o);
			return e;
		}
	}
	*out = o;
	return TFO_OK;
}

/* j_resource - check a resource, note host.name, add the entry if detailed */
static enum tfo_err
j_resource(struct sink_ctx *c, cJSON *list, const cJSON *r, const char *scopes_key,
    cJSON **scopes)
{
	const cJSON *res, *attrs;
	cJSON *a;

	*scopes = NULL;
	if (!cJSON_IsObject(r))
		return sink_fail(c->s, TFO_EINVAL, "json: resource entries must be objects");
	TRY(j_obj(c, r, "resource", "resource entry", &res));
	TRY(j_list(c, res, "attributes", "resource", &attrs));
	TRY(j_attrs(c, attrs, 0, &a));
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a, "host.name")))
		sink_note_host(c->s, cJSON_GetObjectItemCaseSensitive(a, "host.name")->valuestring);
	c->s->resources++;
	if (!sink_detail(c, list)) {
		cJSON_Delete(a);
		return TFO_OK;
	}
	*scopes = sink_resource_add(list, scopes_key, a);
	return TFO_OK;
}

/* j_scope - check a scope entry; returns its item list and detail array */
static enum tfo_err
j_scope(struct sink_ctx *c, cJSON *scopes, const cJSON *sc, const char *items_key,
    const char *json_items, const cJSON **items, cJSON **out)
{
	const cJSON *scope;
	const char *name = "", *version = "";

	*out = NULL;
	*items = NULL;
	if (!cJSON_IsObject(sc))
		return sink_fail(c->s, TFO_EINVAL, "json: scope entries must be objects");
	TRY(j_obj(c, sc, "scope", "scope entry", &scope));
	if (scope != NULL) {
		TRY(j_str(c, scope, "name", "scope", &name));
		TRY(j_str(c, scope, "version", "scope", &version));
	}
	TRY(j_list(c, sc, json_items, "scope entry", items));
	if (sink_detail(c, scopes))
		*out = sink_scope_add(scopes, items_key, name, version);
	return TFO_OK;
}

static enum tfo_err
j_point(struct sink_ctx *c, cJSON *pts, const cJSON *dp)
{
	struct sink_point p = { 0 };
	const cJSON *attrs, *v;
	uint64_t u;
	int detail;

	if (!cJSON_IsObject(dp))
		return sink_fail(c->s, TFO_EINVAL, "json: dataPoints: expected objects");
	TRY(j_list(c, dp, "attributes", "dataPoint", &attrs));
	TRY(j_u64(c, dp, "startTimeUnixNano", "dataPoint", &p.start_time));
	TRY(j_u64(c, dp, "timeUnixNano", "dataPoint", &p.time));
	TRY(j_u32(c, dp, "flags", "dataPoint", &p.flags));
	if ((v = j_field(dp, "asDouble")) != NULL) {
		TRY(j_double(c, v, "dataPoint", "asDouble", &p.as_double));
		p.kind = SINK_VALUE_DOUBLE;
	} else if (j_field(dp, "asInt") != NULL) {
		TRY(j_int(c, dp, "asInt", "dataPoint", 1, &p.as_int, &u));
		p.kind = SINK_VALUE_INT;
	}
	c->s->points++;
	if ((detail = sink_detail(c, pts)) || attrs != NULL)
		TRY(j_attrs(c, attrs, 0, &p.attributes));   /* checked either way */
	if (detail)
		sink_point_add(pts, &p);
	else
		cJSON_Delete(p.attributes);
	return TFO_OK;
}

/* j_hist_arrays - bucketCounts and explicitBounds of a point into malloc'd
 * arrays (*buckets / *bounds, freed by the caller even on error) */
static enum tfo_err
j_hist_arrays(struct sink_ctx *c, const cJSON *dp, struct sink_hpoint *p, uint64_t **buckets,
    double **bounds)
{
	const cJSON *bc, *eb;
	size_t i = 0;
	int64_t unused;

	TRY(j_list(c, dp, "bucketCounts", "histogramDataPoint", &bc));
	TRY(j_list(c, dp, "explicitBounds", "histogramDataPoint", &eb));
	p->nbuckets = (size_t)cJSON_GetArraySize(bc);
	p->nbounds = (size_t)cJSON_GetArraySize(eb);
	if ((p->nbuckets && (*buckets = calloc(p->nbuckets, sizeof(**buckets))) == NULL) ||
	    (p->nbounds && (*bounds = calloc(p->nbounds, sizeof(**bounds))) == NULL))
		return sink_fail(c->s, TFO_ENOMEM, "out of memory");
	for (const cJSON *v = bc ? bc->child : NULL; v; v = v->next, i++) {
		if (cJSON_IsNull(v))
			return j_bad(c, "histogramDataPoint", "bucketCounts", "integers");
		TRY(j_int_value(c, v, "bucketCounts", "histogramDataPoint", 0, &unused,
		    &(*buckets)[i]));
	}
	i = 0;
	for (const cJSON *v = eb ? eb->child : NULL; v; v = v->next, i++)
		TRY(j_double(c, v, "histogramDataPoint", "explicitBounds", &(*bounds)[i]));
	p->buckets = *buckets;
	p->bounds = *bounds;
	return TFO_OK;
}

static enum tfo_err
j_hpoint(struct sink_ctx *c, cJSON *pts, const cJSON *dp)
{
	struct sink_hpoint p = { 0 };
	const cJSON *attrs, *v;
	uint64_t *buckets = NULL;
	double *bounds = NULL;
	enum tfo_err e;
	int detail;

	if (!cJSON_IsObject(dp))
		return sink_fail(c->s, TFO_EINVAL, "json: dataPoints: expected objects");
	if ((e = j_list(c, dp, "attributes", "histogramDataPoint", &attrs)) == TFO_OK &&
	    (e = j_u64(c, dp, "startTimeUnixNano", "histogramDataPoint", &p.start_time)) == TFO_OK &&
	    (e = j_u64(c, dp, "timeUnixNano", "histogramDataPoint", &p.time)) == TFO_OK &&
	    (e = j_u64(c, dp, "count", "histogramDataPoint", &p.count)) == TFO_OK &&
	    (e = j_u32(c, dp, "flags", "histogramDataPoint", &p.flags)) == TFO_OK &&
	    ((v = j_field(dp, "sum")) == NULL ||
	    (e = j_double(c, v, "histogramDataPoint", "sum", &p.sum)) == TFO_OK) &&
	    (e = j_hist_arrays(c, dp, &p, &buckets, &bounds)) == TFO_OK &&
	    (e = sink_hpoint_check(c->s, &p)) == TFO_OK) {
		c->s->points++;
		if ((detail = sink_detail(c, pts)) || attrs != NULL)
			e = j_attrs(c, attrs, 0, &p.attributes);    /* checked either way */
		if (e == TFO_OK && detail)
			sink_hpoint_add(pts, &p);
		cJSON_Delete(p.attributes);
	}
	free(buckets);
	free(bounds);
	return e;
}

/* j_metric_data - which of gauge, sum, histogram the metric holds */
static enum tfo_err
j_metric_data(struct sink_ctx *c, const cJSON *m, struct sink_metric *sm, const cJSON **data)
{
	static const char *const temporality[] = { "UNSPECIFIED", "DELTA", "CUMULATIVE" };
	const cJSON *mono;

	TRY(j_obj(c, m, "gauge", "metric", data));
	if (*data != NULL) {
		sm->type = "gauge";
		return TFO_OK;
	}
	TRY(j_obj(c, m, "sum", "metric", data));
	if (*data != NULL) {
		sm->type = "sum";
		if ((mono = j_field(*data, "isMonotonic")) != NULL && !cJSON_IsBool(mono))
			return j_bad(c, "sum", "isMonotonic", "a boolean");
		sm->is_monotonic = cJSON_IsTrue(mono);
	} else {
		TRY(j_obj(c, m, "histogram", "metric", data));
		if (*data == NULL)
			return TFO_OK;
		sm->type = "histogram";
	}
	return j_enum(c, *data, "aggregationTemporality", sm->type, "AGGREGATION_TEMPORALITY_",
	    temporality, 3, &sm->temporality);
}

static enum tfo_err
j_metric(struct sink_ctx *c, cJSON *list, const cJSON *m)
{
	struct sink_metric sm = { .type = "none" };
	const cJSON *data, *dps = NULL;
	cJSON *pts = NULL;
	int hist;

	if (!cJSON_IsObject(m))
		return sink_fail(c->s, TFO_EINVAL, "json: metrics: expected objects");
	if (!cJSON_IsString(j_field(m, "name")))
		return j_bad(c, "metric", "name", "a string");
	TRY(j_str(c, m, "name", "metric", &sm.name));
	TRY(j_str(c, m, "description", "metric", &sm.description));
	TRY(j_str(c, m, "unit", "metric", &sm.unit));
	TRY(j_metric_data(c, m, &sm, &data));
	if (data != NULL)
		TRY(j_list(c, data, "dataPoints", sm.type, &dps));
	hist = strcmp(sm.type, "histogram") == 0;
	c->s->metrics++;
	if (sink_detail(c, list))
		pts = sink_metric_add(list, &sm);
	for (const cJSON *dp = dps ? dps->child : NULL; dp; dp = dp->next)
		TRY(hist ? j_hpoint(c, pts, dp) : j_point(c, pts, dp));
	return TFO_OK;
}

/* j_hex_id - traceId/spanId: empty or exactly nbytes*2 hex digits */
static enum tfo_err
j_hex_id(struct sink_ctx *c, const cJSON *lr, const char *key, char *out, size_t nbytes)
{
	const char *str;
	size_t n;

	TRY(j_str(c, lr, key, "logRecord", &str));
	n = strlen(str);
	if (n != 0 && n != nbytes * 2)
		return j_bad(c, "logRecord", key, "hex id");
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)str[i]))
			return j_bad(c, "logRecord", key, "hex id");
		out[i] = (char)tolower((unsigned char)str[i]);
	}
	out[n] = '\0';
	return TFO_OK;
}

static enum tfo_err
j_record(struct sink_ctx *c, cJSON *records, const cJSON *lr)
{
	static const char *const sev[] = {
		"UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2",
		"DEBUG3", "DEBUG4", "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2",
		"WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL",
		"FATAL2", "FATAL3", "FATAL4",
	};
	struct sink_record r = { 0 };
	const cJSON *attrs;
	enum tfo_err e;

	if (!cJSON_IsObject(lr))
		return sink_fail(c->s, TFO_EINVAL, "json: logRecords: expected objects");
	TRY(j_u64(c, lr, "timeUnixNano", "logRecord", &r.time));
	TRY(j_u64(c, lr, "observedTimeUnixNano", "logRecord", &r.observed_time));
	TRY(j_enum(c, lr, "severityNumber", "logRecord", "SEVERITY_NUMBER_", sev, 25,
	    &r.severity_number));
	TRY(j_str(c, lr, "severityText", "logRecord", &r.severity_text));
	TRY(j_str(c, lr, "eventName", "logRecord", &r.event_name));
	TRY(j_u32(c, lr, "flags", "logRecord", &r.flags));
	TRY(j_u32(c, lr, "droppedAttributesCount", "logRecord", &r.dropped_attributes_count));
	TRY(j_hex_id(c, lr, "traceId", r.trace_id, 16));
	TRY(j_hex_id(c, lr, "spanId", r.span_id, 8));
	TRY(j_list(c, lr, "attributes", "logRecord", &attrs));
	c->s->records++;
	/* Body and attributes are checked even when not detailed. */
	TRY(j_any(c, j_field(lr, "body"), 0, &r.body));
	if ((e = j_attrs(c, attrs, 0, &r.attributes)) != TFO_OK) {
		cJSON_Delete(r.body);
		return e;
	}
	if (sink_detail(c, records))
		sink_record_add(records, &r);
	else {
		cJSON_Delete(r.body);
		cJSON_Delete(r.attributes);
	}
	return TFO_OK;
}

/* The nesting of one signal: resource list -> scopes -> items. */
struct j_shape {
	const char *list_key;                   /* body key of the resource list */
	const char *scopes_json, *scopes_key;   /* scope list: in the request, in body */
	const char *items_json, *items_key;     /* items of a scope: same */
	enum tfo_err (*item)(struct sink_ctx *, cJSON *, const cJSON *);
};

static const struct j_shape j_shapes[] = {
	[TFO_SINK_METRICS] = { "resource_metrics", "scopeMetrics", "scope_metrics",
	    "metrics", "metrics", j_metric },
	[TFO_SINK_LOGS] = { "resource_logs", "scopeLogs", "scope_logs",
	    "logRecords", "log_records", j_record },
};

/* j_walk - check every resource, scope and item of the request's list */
static enum tfo_err
j_walk(struct sink_ctx *c, const cJSON *resources, const struct j_shape *sh)
{
	cJSON *list = sink_body_new(c->s, sh->list_key);

	for (const cJSON *r = resources->child; r; r = r->next) {
		const cJSON *scs, *items = NULL;
		cJSON *scopes, *out;

		TRY(j_resource(c, list, r, sh->scopes_key, &scopes));
		TRY(j_list(c, r, sh->scopes_json, "resource entry", &scs));
		for (const cJSON *sc = scs ? scs->child : NULL; sc; sc = sc->next) {
			TRY(j_scope(c, scopes, sc, sh->items_key, sh->items_json, &items, &out));
			for (const cJSON *it = items ? items->child : NULL; it; it = it->next)
				TRY(sh->item(c, out, it));
		}
	}
	return TFO_OK;
}

/* j_heartbeat - any JSON object; host and field count from systemInfo */
static enum tfo_err
j_heartbeat(struct sink_ctx *c, cJSON *root)
{
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "systemInfo");
	const char *host;

	if (!cJSON_IsObject(info))
		info = root;
	host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "hostname"));
	if (host == NULL)
		host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "host.name"));
	sink_note_host(c->s, host);
	c->s->fields = (uint64_t)cJSON_GetArraySize(info);
	c->s->body = root;
	return TFO_OK;
}

enum tfo_err
sink_decode_json(struct sink_ctx *c, const uint8_t *p, size_t n)
{
	static const char *const lists[] = { "resourceMetrics", "resourceLogs" };
	const char *end = NULL;
	const cJSON *list;
	cJSON *root;
	enum tfo_err e;

	if (!sink_utf8_valid(p, n))
		return sink_fail(c->s, TFO_EINVAL, "json: body is not valid UTF-8");
	root = cJSON_ParseWithLengthOpts((const char *)p, n, &end, 0);
	if (root == NULL)
		return sink_fail(c->s, TFO_EINVAL, "json: parse error at byte %zu",
		    end ? (size_t)(end - (const char *)p) : (size_t)0);
	while (end < (const char *)p + n && isspace((unsigned char)*end))
		end++;
	if (end != (const char *)p + n) {
		cJSON_Delete(root);
		return sink_fail(c->s, TFO_EINVAL, "json: trailing data at byte %zu",
		    (size_t)(end - (const char *)p));
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return sink_fail(c->s, TFO_EINVAL, "json: body must be an object");
	}
	if (c->s->signal == TFO_SINK_HEARTBEAT)
		return j_heartbeat(c, root);
	list = j_field(root, lists[c->s->signal]);
	if (!cJSON_IsArray(list))
		e = sink_fail(c->s, TFO_EINVAL, "json: %s missing or not an array",
		    lists[c->s->signal]);
	else
		e = j_walk(c, list, &j_shapes[c->s->signal]);
	cJSON_Delete(root);
	if (e == TFO_OK && c->s->body == NULL)
		e = sink_fail(c->s, TFO_ENOMEM, "out of memory");
	return e;
}
