/*
 * body.c - tfo-sink (tool process): builders of the normalised "body" JSON
 * written to --out, shared by the protobuf and the OTLP/JSON decoders so
 * both produce the one schema of docs/tfo-sink.md; plus small JSON helpers.
 */
#include "tools/tfo-sink/decode_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tfo_err
sink_fail(struct tfo_sink_summary *s, enum tfo_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return e;
}

/* utf8_seq - length of the well-formed UTF-8 sequence at p, 0 if invalid */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;      /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;      /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int
sink_utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return 0;
	return 1;
}

cJSON *
sink_string(const char *str)
{
	const uint8_t *p = (const uint8_t *)(str ? str : "");
	size_t n = strlen((const char *)p), o = 0;
	char *fixed;
	cJSON *j;

	if (sink_utf8_valid(p, n))
		return cJSON_CreateString((const char *)p);
	if ((fixed = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0, k; i < n; i += k) {
		if ((k = utf8_seq(p + i, n - i)) == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);   /* U+FFFD */
			o += 3;
			k = 1;
		} else {
			memcpy(fixed + o, p + i, k);
			o += k;
		}
	}
	fixed[o] = '\0';
	j = cJSON_CreateString(fixed);
	free(fixed);
	return j;
}

cJSON *
tfo_sink_json_string(const char *s)
{
	return sink_string(s);
}

cJSON *
sink_u64_string(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_CreateString(buf);
}

cJSON *
sink_i64(int64_t v)
{
	char buf[24];

	/* Raw keeps all 64 bits; a cJSON number is a double. */
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_CreateRaw(buf);
}

cJSON *
sink_base64(const uint8_t *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1);
	size_t o = 0;
	cJSON *j;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	j = cJSON_CreateString(out);
	free(out);
	return j;
}

void
sink_hex(char *out, size_t outsz, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < outsz; i++) {
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	if (outsz)
		out[o] = '\0';
}

void
sink_put(cJSON *obj, const char *key, cJSON *item)
{
	if (item != NULL && !cJSON_AddItemToObject(obj, key, item))
		cJSON_Delete(item);
}

void
sink_append(cJSON *arr, cJSON *item)
{
	if (item != NULL && !cJSON_AddItemToArray(arr, item))
		cJSON_Delete(item);
}

int
sink_detail(struct sink_ctx *c, const cJSON *list)
{
	if (list == NULL)
		return 0;
	if (c->budget == 0) {
		c->s->body_truncated = 1;
		return 0;
	}
	c->budget--;
	return 1;
}

void
sink_note_host(struct tfo_sink_summary *s, const char *host)
{
	if (s->host[0] == '\0' && host != NULL)
		snprintf(s->host, sizeof(s->host), "%s", host);
}

const char *
sink_temporality_name(int t)
{
	switch (t) {
	case 1:
		return "delta";
	case 2:
		return "cumulative";
	default:
		return "unspecified";
	}
}

/* add_array - a new empty array under key of obj, NULL when out of memory */
static cJSON *
add_array(cJSON *obj, const char *key)
{
	cJSON *a = cJSON_CreateArray();

	if (a != NULL && !cJSON_AddItemToObject(obj, key, a)) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* new_entry - a new object appended to list, NULL when out of memory */
static cJSON *
new_entry(cJSON *list)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
sink_body_new(struct tfo_sink_summary *s, const char *list_key)
{
	if ((s->body = cJSON_CreateObject()) == NULL)
		return NULL;
	return add_array(s->body, list_key);
}

cJSON *
sink_resource_add(cJSON *list, const char *scopes_key, cJSON *attributes)
{
	cJSON *r = new_entry(list);

	if (r == NULL) {
		cJSON_Delete(attributes);
		return NULL;
	}
	sink_put(r, "resource", attributes ? attributes : cJSON_CreateObject());
	return add_array(r, scopes_key);
}

cJSON *
sink_scope_add(cJSON *scopes, const char *items_key, const char *name, const char *version)
{
	cJSON *sc = new_entry(scopes), *scope;

	if (sc == NULL)
		return NULL;
	if ((scope = cJSON_CreateObject()) != NULL) {
		sink_put(scope, "name", sink_string(name));
		sink_put(scope, "version", sink_string(version));
		sink_put(sc, "scope", scope);
	}
	return add_array(sc, items_key);
}

cJSON *
sink_metric_add(cJSON *metrics, const struct sink_metric *m)
{
	cJSON *o = new_entry(metrics);

	if (o == NULL)
		return NULL;
	sink_put(o, "name", sink_string(m->name));
	sink_put(o, "description", sink_string(m->description));
	sink_put(o, "unit", sink_string(m->unit));
	sink_put(o, "type", cJSON_CreateString(m->type));
	if (strcmp(m->type, "sum") == 0)
		sink_put(o, "is_monotonic", cJSON_CreateBool(m->is_monotonic));
	if (strcmp(m->type, "sum") == 0 || strcmp(m->type, "histogram") == 0)
		sink_put(o, "aggregation_temporality",
		    cJSON_CreateString(sink_temporality_name(m->temporality)));
	return add_array(o, "data_points");
}

void
sink_point_add(cJSON *points, struct sink_point *p)
{
	cJSON *o = new_entry(points);
	static const char *const kinds[] = { "none", "double", "int" };

	if (o == NULL) {
		cJSON_Delete(p->attributes);
		return;
	}
	sink_put(o, "attributes", p->attributes ? p->attributes : cJSON_CreateObject());
	sink_put(o, "start_time_unix_nano", sink_u64_string(p->start_time));
	sink_put(o, "time_unix_nano", sink_u64_string(p->time));
	if (p->kind == SINK_VALUE_DOUBLE)
		sink_put(o, "value", cJSON_CreateNumber(p->as_double));
	else if (p->kind == SINK_VALUE_INT)
		sink_put(o, "value", sink_i64(p->as_int));
	else
		sink_put(o, "value", cJSON_CreateNull());
	sink_put(o, "value_type", cJSON_CreateString(kinds[p->kind]));
	sink_put(o, "flags", cJSON_CreateNumber(p->flags));
	p->attributes = NULL;
}

enum tfo_err
sink_hpoint_check(struct tfo_sink_summary *s, const struct sink_hpoint *p)
{
	uint64_t total = 0;

	if (p->nbuckets != p->nbounds + 1 && !(p->nbuckets == 0 && p->nbounds == 0))
		return sink_fail(s, TFO_EINVAL, "histogram point: %zu bucket counts for %zu bounds",
		    p->nbuckets, p->nbounds);
	for (size_t i = 1; i < p->nbounds; i++)
		if (!(p->bounds[i - 1] < p->bounds[i]))
			return sink_fail(s, TFO_EINVAL, "histogram point: bounds not increasing at %zu",
			    i);
	for (size_t i = 0; i < p->nbuckets; i++) {
		if (total + p->buckets[i] < total)
			return sink_fail(s, TFO_EINVAL, "histogram point: bucket counts overflow");
		total += p->buckets[i];
	}
	if (p->nbuckets > 0 && total != p->count)
		return sink_fail(s, TFO_EINVAL, "histogram point: count %llu, buckets hold %llu",
		    (unsigned long long)p->count, (unsigned long long)total);
	return TFO_OK;
}

/* u64_json - an exact integer, or a decimal string above 2^63 - 1 */
static cJSON *
u64_json(uint64_t v)
{
	return v <= INT64_MAX ? sink_i64((int64_t)v) : sink_u64_string(v);
}

void
sink_hpoint_add(cJSON *points, struct sink_hpoint *p)
{
	cJSON *o = new_entry(points), *b, *e;

	if (o == NULL) {
		cJSON_Delete(p->attributes);
		p->attributes = NULL;
		return;
	}
	sink_put(o, "attributes", p->attributes ? p->attributes : cJSON_CreateObject());
	sink_put(o, "start_time_unix_nano", sink_u64_string(p->start_time));
	sink_put(o, "time_unix_nano", sink_u64_string(p->time));
	sink_put(o, "count", u64_json(p->count));
	sink_put(o, "sum", cJSON_CreateNumber(p->sum));
	if ((b = add_array(o, "bucket_counts")) != NULL)
		for (size_t i = 0; i < p->nbuckets; i++)
			sink_append(b, u64_json(p->buckets[i]));
	if ((e = add_array(o, "explicit_bounds")) != NULL)
		for (size_t i = 0; i < p->nbounds; i++)
			sink_append(e, cJSON_CreateNumber(p->bounds[i]));
	sink_put(o, "flags", cJSON_CreateNumber(p->flags));
	p->attributes = NULL;
}

void
sink_record_add(cJSON *records, struct sink_record *r)
{
	cJSON *o = new_entry(records);

	if (o == NULL) {
		cJSON_Delete(r->body);
		cJSON_Delete(r->attributes);
		return;
	}
	sink_put(o, "time_unix_nano", sink_u64_string(r->time));
	sink_put(o, "observed_time_unix_nano", sink_u64_string(r->observed_time));
	sink_put(o, "severity_number", cJSON_CreateNumber(r->severity_number));
	sink_put(o, "severity_text", sink_string(r->severity_text));
	sink_put(o, "body", r->body ? r->body : cJSON_CreateNull());
	sink_put(o, "attributes", r->attributes ? r->attributes : cJSON_CreateObject());
	sink_put(o, "event_name", sink_string(r->event_name));
	sink_put(o, "trace_id", cJSON_CreateString(r->trace_id));
	sink_put(o, "span_id", cJSON_CreateString(r->span_id));
	sink_put(o, "flags", cJSON_CreateNumber(r->flags));
	sink_put(o, "dropped_attributes_count", cJSON_CreateNumber(r->dropped_attributes_count));
	r->body = r->attributes = NULL;
}
