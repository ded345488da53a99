/*
 * tu.h - decode helpers for tests of encoded OTLP ResourceMetrics: find a
 * metric, a point by attribute filters ("key=value"), its kind and values.
 */
#ifndef TFO_TEST_TU_H
#define TFO_TEST_TU_H

#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"

typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint point_t;

enum { TU_GAUGE, TU_COUNTER, TU_UPDOWN };

const metric_t *tu_metric(const rm_t *rm, const char *name);
int tu_kind(const metric_t *m);
/* tu_points_of - the points of m and their count */
point_t **tu_points_of(const metric_t *m, size_t *n);
size_t tu_count(const rm_t *rm, const char *name);
uint32_t tu_points(const rm_t *rm);
/* tu_attr - the value of attribute key of p as text ("" when absent) */
const char *tu_attr(const point_t *p, const char *key, char *tmp, size_t cap);
/* tu_point - the first point of metric name whose attributes match every
 * "key=value" filter (NULL-terminated list); NULL if none */
const point_t *tu_point(const rm_t *rm, const char *name, ...);
/* tu_int / tu_dbl - the value of that point; the test fails if it is missing */
int64_t tu_int(const rm_t *rm, const char *name, ...);
double tu_dbl(const rm_t *rm, const char *name, ...);
/* tu_same_attrs - do two points carry the same attributes (same order)? */
int tu_same_attrs(const point_t *a, const point_t *b);
const char *tu_res(const rm_t *rm, const char *key);

/* assert_near - |a - b| <= eps, printing both on failure (old cmocka has no
 * assert_double_equal) */
void tu_near(double a, double b, double eps, const char *expr, const char *file, int line);
#define assert_near(a, b, eps) tu_near((a), (b), (eps), #a, __FILE__, __LINE__)

#endif
