/*
 * decode_int.h - internals shared by tfo-sink's decoders (decode.c,
 * decode_pb.c, decode_json.c) and the body builders (body.c). The builders
 * are the one place that fixes the --out "body" schema of docs/tfo-sink.md.
 */
#ifndef TFO_SINK_DECODE_INT_H
#define TFO_SINK_DECODE_INT_H

#include "tools/tfo-sink/decode.h"

struct sink_ctx {
	struct tfo_sink_summary *s;
	uint64_t budget;        /* body elements still to detail */
};

/* One data point as both decoders see it; attributes ownership passes on. */
enum sink_value_kind { SINK_VALUE_NONE = 0, SINK_VALUE_DOUBLE, SINK_VALUE_INT };
struct sink_point {
	cJSON *attributes;
	uint64_t start_time, time;
	enum sink_value_kind kind;
	double as_double;
	int64_t as_int;
	uint32_t flags;
};

/* One explicit-bucket histogram point; attributes ownership passes on,
 * buckets and bounds are the decoder's (copied into the body). */
struct sink_hpoint {
	cJSON *attributes;
	uint64_t start_time, time, count;
	double sum;
	size_t nbuckets, nbounds;
	const uint64_t *buckets;
	const double *bounds;
	uint32_t flags;
};

/* type: "gauge", "sum", "histogram" or "none"; monotonic only for "sum",
 * temporality for "sum" and "histogram". */
struct sink_metric {
	const char *name, *description, *unit, *type;
	int is_monotonic;
	int temporality;        /* AggregationTemporality number */
};

/* One log record; body and attributes ownership passes on. */
struct sink_record {
	uint64_t time, observed_time;
	int severity_number;
	const char *severity_text, *event_name;
	cJSON *body, *attributes;
	char trace_id[33], span_id[17]; /* lowercase hex, "" when absent */
	uint32_t flags, dropped_attributes_count;
};

/* sink_fail - record why decoding failed; returns e for tail calls */
enum tfo_err sink_fail(struct tfo_sink_summary *s, enum tfo_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* sink_utf8_valid - whether p[0..n) is well-formed UTF-8 */
int sink_utf8_valid(const uint8_t *p, size_t n);
/* sink_detail - take one element of the detail budget (0: skip detail) */
int sink_detail(struct sink_ctx *c, const cJSON *list);
/* sink_note_host - keep the first non-empty host name seen */
void sink_note_host(struct tfo_sink_summary *s, const char *host);

cJSON *sink_string(const char *str);    /* invalid UTF-8 becomes U+FFFD */
cJSON *sink_u64_string(uint64_t v);     /* "123": nanosecond times */
cJSON *sink_i64(int64_t v);             /* exact integer, not a double */
cJSON *sink_base64(const uint8_t *p, size_t n);
void sink_hex(char *out, size_t outsz, const uint8_t *p, size_t n);
/* sink_put - add item under key; frees item when it cannot be added */
void sink_put(cJSON *obj, const char *key, cJSON *item);
void sink_append(cJSON *arr, cJSON *item);

/* Body builders: each returns the child array to fill (NULL: no detail). */
cJSON *sink_body_new(struct tfo_sink_summary *s, const char *list_key);
cJSON *sink_resource_add(cJSON *list, const char *scopes_key, cJSON *attributes);
cJSON *sink_scope_add(cJSON *scopes, const char *items_key, const char *name,
    const char *version);
cJSON *sink_metric_add(cJSON *metrics, const struct sink_metric *m);
void sink_point_add(cJSON *points, struct sink_point *p);
/* sink_hpoint_check - the OTLP rules of a histogram point (one more bucket
 * than bounds, or neither; bounds increasing; count = the buckets' total):
 * TFO_OK, or TFO_EINVAL with s->error saying why */
enum tfo_err sink_hpoint_check(struct tfo_sink_summary *s, const struct sink_hpoint *p);
void sink_hpoint_add(cJSON *points, struct sink_hpoint *p);
void sink_record_add(cJSON *records, struct sink_record *r);
const char *sink_temporality_name(int t);

/* The two content decoders; *c->s already holds signal/format/sizes. */
enum tfo_err sink_decode_pb(struct sink_ctx *c, const uint8_t *p, size_t n);
enum tfo_err sink_decode_json(struct sink_ctx *c, const uint8_t *p, size_t n);
/* sink_count_pb - --count-only: framing walk and counts, no body (decode_count.c) */
enum tfo_err sink_count_pb(struct tfo_sink_summary *s, const uint8_t *p, size_t n);

#endif
