/*
 * tu.c - decode helpers for tests of encoded OTLP ResourceMetrics (tu.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/system/tu.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

const metric_t *
tu_metric(const rm_t *rm, const char *name)
{
	for (size_t s = 0; s < rm->n_scope_metrics; s++)
		for (size_t i = 0; i < rm->scope_metrics[s]->n_metrics; i++)
			if (strcmp(rm->scope_metrics[s]->metrics[i]->name, name) == 0)
				return rm->scope_metrics[s]->metrics[i];
	return NULL;
}

int
tu_kind(const metric_t *m)
{
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE)
		return TU_GAUGE;
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_int_equal(m->sum->aggregation_temporality,
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	return m->sum->is_monotonic ? TU_COUNTER : TU_UPDOWN;
}

point_t **
tu_points_of(const metric_t *m, size_t *n)
{
	if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
		*n = m->gauge->n_data_points;
		return m->gauge->data_points;
	}
	*n = m->sum->n_data_points;
	return m->sum->data_points;
}

size_t
tu_count(const rm_t *rm, const char *name)
{
	const metric_t *m = tu_metric(rm, name);
	size_t n = 0;

	if (m != NULL)
		(void)tu_points_of(m, &n);
	return n;
}

uint32_t
tu_points(const rm_t *rm)
{
	uint32_t total = 0;

	for (size_t s = 0; s < rm->n_scope_metrics; s++)
		for (size_t i = 0; i < rm->scope_metrics[s]->n_metrics; i++) {
			size_t n;
			(void)tu_points_of(rm->scope_metrics[s]->metrics[i], &n);
			total += (uint32_t)n;
		}
	return total;
}

static const char *
kv_text(const kv_t *kv, char *tmp, size_t cap)
{
	switch (kv->value->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return kv->value->string_value;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		snprintf(tmp, cap, "%lld", (long long)kv->value->int_value);
		return tmp;
	default:
		return "?";
	}
}

const char *
tu_attr(const point_t *p, const char *key, char *tmp, size_t cap)
{
	for (size_t i = 0; i < p->n_attributes; i++)
		if (strcmp(p->attributes[i]->key, key) == 0)
			return kv_text(p->attributes[i], tmp, cap);
	return "";
}

/* matches - does p satisfy every "key=value" in the va_list? */
static int
matches(const point_t *p, va_list ap)
{
	const char *f;

	while ((f = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(f, '=');
		char key[128], tmp[32];
		size_t kl;
		assert_non_null(eq);
		kl = (size_t)(eq - f);
		assert_true(kl < sizeof(key));
		memcpy(key, f, kl);
		key[kl] = '\0';
		if (strcmp(tu_attr(p, key, tmp, sizeof(tmp)), eq + 1) != 0)
			return 0;
	}
	return 1;
}

static const point_t *
vpoint(const rm_t *rm, const char *name, va_list ap)
{
	const metric_t *m = tu_metric(rm, name);
	point_t **pts;
	size_t n;

	if (m == NULL)
		return NULL;
	pts = tu_points_of(m, &n);
	for (size_t i = 0; i < n; i++) {
		va_list cp;
		int ok;
		va_copy(cp, ap);
		ok = matches(pts[i], cp);
		va_end(cp);
		if (ok)
			return pts[i];
	}
	return NULL;
}

const point_t *
tu_point(const rm_t *rm, const char *name, ...)
{
	const point_t *p;
	va_list ap;

	va_start(ap, name);
	p = vpoint(rm, name, ap);
	va_end(ap);
	return p;
}

/* typed - the point vpoint finds, which must exist and hold value_case */
static const point_t *
typed(const rm_t *rm, const char *name, int value_case, va_list ap)
{
	const point_t *p = vpoint(rm, name, ap);

	if (p == NULL)
		fail_msg("no point of %s", name);
	assert_int_equal(p->value_case, value_case);
	return p;
}

int64_t
tu_int(const rm_t *rm, const char *name, ...)
{
	const point_t *p;
	va_list ap;

	va_start(ap, name);
	p = typed(rm, name, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT, ap);
	va_end(ap);
	return p->as_int;
}

double
tu_dbl(const rm_t *rm, const char *name, ...)
{
	const point_t *p;
	va_list ap;

	va_start(ap, name);
	p = typed(rm, name, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE,
	    ap);
	va_end(ap);
	return p->as_double;
}

int
tu_same_attrs(const point_t *a, const point_t *b)
{
	char t1[32], t2[32];

	if (a->n_attributes != b->n_attributes)
		return 0;
	for (size_t i = 0; i < a->n_attributes; i++)
		if (strcmp(a->attributes[i]->key, b->attributes[i]->key) != 0 ||
		    strcmp(kv_text(a->attributes[i], t1, sizeof(t1)),
		           kv_text(b->attributes[i], t2, sizeof(t2))) != 0)
			return 0;
	return 1;
}

const char *
tu_res(const rm_t *rm, const char *key)
{
	static char tmp[32];

	if (rm->resource == NULL)
		return NULL;
	for (size_t i = 0; i < rm->resource->n_attributes; i++)
		if (strcmp(rm->resource->attributes[i]->key, key) == 0)
			return kv_text(rm->resource->attributes[i], tmp, sizeof(tmp));
	return NULL;
}

void
tu_near(double a, double b, double eps, const char *expr, const char *file, int line)
{
	double d = a > b ? a - b : b - a;

	if (!(d <= eps))
		fail_msg("%s:%d: %s = %.12g, expected %.12g", file, line, expr, a, b);
}
