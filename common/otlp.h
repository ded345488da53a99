/*
 * otlp.h - an arena allocator and a builder for one OTLP ResourceMetrics of
 * gauges and cumulative sums of NumberDataPoints (collector roles). Everything
 * a cycle builds lives in one arena and is released by tfo_arena_reset.
 */
#ifndef TFO_OTLP_H
#define TFO_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue tfo_kv;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics tfo_resource_metrics;
typedef Opentelemetry__Proto__Resource__V1__Resource tfo_resource_msg;

/* ------------------------------------------------------------------- arena */

struct tfo_arena;

/* tfo_arena_new - chunk is the usual chunk size (0 = 16 KiB); NULL on ENOMEM */
struct tfo_arena *tfo_arena_new(size_t chunk);
/* tfo_arena_alloc - n zeroed bytes aligned for any type; NULL on ENOMEM */
void *tfo_arena_alloc(struct tfo_arena *a, size_t n);
char *tfo_arena_strdup(struct tfo_arena *a, const char *s);
char *tfo_arena_strndup(struct tfo_arena *a, const char *s, size_t n);
/* tfo_arena_reset - free everything allocated, keep the first chunk for reuse */
void tfo_arena_reset(struct tfo_arena *a);
void tfo_arena_free(struct tfo_arena *a);
/* tfo_arena_release - after a reset: the kept chunk's pages back to the
 * kernel until the next cycle writes them (common/zarray.h) */
void tfo_arena_release(struct tfo_arena *a);
/* tfo_arena_size - bytes of chunks currently held (for stats) */
size_t tfo_arena_size(const struct tfo_arena *a);

/* ------------------------------------------------------------ attributes */

/* Key and value are copied into the arena. A KeyValue may be shared by many
 * data points of one cycle (one "system.device=sda" for all of sda's points). */
tfo_kv *tfo_otlp_kv_str(struct tfo_arena *a, const char *key, const char *value);
tfo_kv *tfo_otlp_kv_int(struct tfo_arena *a, const char *key, int64_t value);
tfo_kv *tfo_otlp_kv_double(struct tfo_arena *a, const char *key, double value);
tfo_kv *tfo_otlp_kv_bool(struct tfo_arena *a, const char *key, int value);

/* ---------------------------------------------------------------- metrics */

enum tfo_otlp_kind {
	TFO_OTLP_GAUGE,
	TFO_OTLP_COUNTER,           /* cumulative monotonic Sum (semconv "counter") */
	TFO_OTLP_UPDOWN,            /* cumulative non-monotonic Sum ("updowncounter") */
	TFO_OTLP_HISTOGRAM,         /* cumulative explicit-bucket Histogram */
};

struct tfo_otlp_metrics;
struct tfo_otlp_metric;

/*
 * tfo_otlp_metrics_new - start a ResourceMetrics in arena a with one
 * ScopeMetrics. res is referenced, not copied (it must outlive the encode);
 * scope name/version and schema_url are copied (may be NULL).
 */
struct tfo_otlp_metrics *tfo_otlp_metrics_new(struct tfo_arena *a, const tfo_resource_msg *res,
                                              const char *scope_name, const char *scope_version,
                                              const char *schema_url);

/* tfo_otlp_metric - add a metric (name, unit, description copied); NULL on ENOMEM */
struct tfo_otlp_metric *tfo_otlp_metric(struct tfo_otlp_metrics *b, const char *name,
                                        const char *unit, const char *description,
                                        enum tfo_otlp_kind kind);

/* tfo_otlp_metric_name - the metric's name (as copied into the arena) */
const char *tfo_otlp_metric_name(const struct tfo_otlp_metric *m);

/*
 * tfo_otlp_point_int / _double - add a data point. start_ns is ignored for
 * gauges. attrs (nattrs pointers) are referenced: build them with
 * tfo_otlp_kv_* in the same arena. TFO_ENOMEM on allocation failure.
 */
enum tfo_err tfo_otlp_point_int(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m,
                                uint64_t start_ns, uint64_t time_ns, int64_t value,
                                tfo_kv *const *attrs, size_t nattrs);
enum tfo_err tfo_otlp_point_double(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m,
                                   uint64_t start_ns, uint64_t time_ns, double value,
                                   tfo_kv *const *attrs, size_t nattrs);

/*
 * tfo_otlp_point_hist - add a cumulative histogram point: count and sum of
 * every observation since start_ns, buckets[nbounds + 1] per-bucket counts
 * for the ascending bounds (the last bucket is above the last bound). bounds
 * and buckets are copied; count must be the buckets' total (TFO_EINVAL).
 */
enum tfo_err tfo_otlp_point_hist(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m,
                                 uint64_t start_ns, uint64_t time_ns, uint64_t count, double sum,
                                 const double *bounds, size_t nbounds, const uint64_t *buckets,
                                 tfo_kv *const *attrs, size_t nattrs);

/* tfo_otlp_metrics_points - data points added so far */
uint32_t tfo_otlp_metrics_points(const struct tfo_otlp_metrics *b);
/* tfo_otlp_metrics_count - metrics holding at least one point */
size_t tfo_otlp_metrics_count(const struct tfo_otlp_metrics *b);

/*
 * tfo_otlp_metrics_encode - drop metrics without points and serialise the
 * ResourceMetrics into the arena; *out stays valid until the arena is reset.
 */
enum tfo_err tfo_otlp_metrics_encode(struct tfo_otlp_metrics *b, uint8_t **out, size_t *len);

/* tfo_otlp_metrics_msg - the message being built (for tests and inspection) */
const tfo_resource_metrics *tfo_otlp_metrics_msg(const struct tfo_otlp_metrics *b);

#endif
