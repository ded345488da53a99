/*
 * otlp.c - arena allocator and the OTLP ResourceMetrics builder (library
 * tfo_otlp; run by the collectors: tfo-system, tfo-process).
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "common/otlp.h"
#include "common/zarray.h"

#define ARENA_ALIGN (alignof(max_align_t))
#define ARENA_DEFAULT_CHUNK (16u * 1024u)
#define ARENA_MAX_CHUNK (4u * 1024u * 1024u)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct tfo_arena {
	struct arena_chunk *head;       /* current chunk; ->next are older ones */
	size_t chunk;
	size_t held;                    /* bytes of all chunks */
};

static struct arena_chunk *
chunk_new(size_t size)
{
	struct arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct tfo_arena *
tfo_arena_new(size_t chunk)
{
	struct tfo_arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->chunk = chunk != 0 ? chunk : ARENA_DEFAULT_CHUNK;
	if ((a->head = chunk_new(a->chunk)) == NULL) {
		free(a);
		return NULL;
	}
	a->held = a->chunk;
	return a;
}

void *
tfo_arena_alloc(struct tfo_arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t off = 0;
	void *p;

	if (n == 0)
		n = 1;
	if (c != NULL)
		off = (c->used + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (c == NULL || off > c->size || n > c->size - off) {
		/* a big object gets its own chunk; otherwise start a fresh one */
		size_t sz = n > a->chunk / 4 ? n : a->chunk;
		struct arena_chunk *nc = chunk_new(sz);
		if (nc == NULL)
			return NULL;
		nc->next = a->head;
		a->head = nc;
		a->held += sz;
		c = nc;
		off = 0;
	}
	p = c->data + off;
	c->used = off + n;
	memset(p, 0, n);
	return p;
}

char *
tfo_arena_strndup(struct tfo_arena *a, const char *s, size_t n)
{
	char *d = tfo_arena_alloc(a, n + 1);

	if (d != NULL && n > 0)
		memcpy(d, s, n);
	return d;
}

char *
tfo_arena_strdup(struct tfo_arena *a, const char *s)
{
	return tfo_arena_strndup(a, s, strlen(s));
}

void
tfo_arena_reset(struct tfo_arena *a)
{
	size_t want = a->held > a->chunk ? a->held : a->chunk;

	/* the steady state is one chunk: grow it to what the last cycle needed */
	if (want > ARENA_MAX_CHUNK)
		want = ARENA_MAX_CHUNK;
	if (a->head != NULL && a->head->next == NULL && a->head->size >= want) {
		a->head->used = 0;
		return;
	}
	while (a->head != NULL) {
		struct arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
	a->chunk = want;
	a->head = chunk_new(want);      /* NULL is fine: alloc retries */
	a->held = a->head != NULL ? want : 0;
}

void
tfo_arena_release(struct tfo_arena *a)
{
	struct arena_chunk *c = a->head;

	if (c != NULL && c->next == NULL && c->used == 0)
		tfo_pages_release(c->data, c->size);
}

void
tfo_arena_free(struct tfo_arena *a)
{
	if (a == NULL)
		return;
	while (a->head != NULL) {
		struct arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
	free(a);
}

size_t
tfo_arena_size(const struct tfo_arena *a)
{
	return a->held;
}

/* ------------------------------------------------------------ attributes */

static tfo_kv *
kv_new(struct tfo_arena *a, const char *key, Opentelemetry__Proto__Common__V1__AnyValue **v)
{
	tfo_kv *kv = tfo_arena_alloc(a, sizeof(*kv));
	Opentelemetry__Proto__Common__V1__AnyValue *av = tfo_arena_alloc(a, sizeof(*av));

	if (kv == NULL || av == NULL)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(av);
	if ((kv->key = tfo_arena_strdup(a, key)) == NULL)
		return NULL;
	kv->value = av;
	*v = av;
	return kv;
}

tfo_kv *
tfo_otlp_kv_str(struct tfo_arena *a, const char *key, const char *value)
{
	Opentelemetry__Proto__Common__V1__AnyValue *av;
	tfo_kv *kv = kv_new(a, key, &av);

	if (kv == NULL)
		return NULL;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	if ((av->string_value = tfo_arena_strdup(a, value != NULL ? value : "")) == NULL)
		return NULL;
	return kv;
}

tfo_kv *
tfo_otlp_kv_int(struct tfo_arena *a, const char *key, int64_t value)
{
	Opentelemetry__Proto__Common__V1__AnyValue *av;
	tfo_kv *kv = kv_new(a, key, &av);

	if (kv == NULL)
		return NULL;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	av->int_value = value;
	return kv;
}

tfo_kv *
tfo_otlp_kv_double(struct tfo_arena *a, const char *key, double value)
{
	Opentelemetry__Proto__Common__V1__AnyValue *av;
	tfo_kv *kv = kv_new(a, key, &av);

	if (kv == NULL)
		return NULL;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
	av->double_value = value;
	return kv;
}

tfo_kv *
tfo_otlp_kv_bool(struct tfo_arena *a, const char *key, int value)
{
	Opentelemetry__Proto__Common__V1__AnyValue *av;
	tfo_kv *kv = kv_new(a, key, &av);

	if (kv == NULL)
		return NULL;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	av->bool_value = value != 0;
	return kv;
}

/* ---------------------------------------------------------------- metrics */

typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint otlp_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint otlp_hpoint;

struct tfo_otlp_metric {
	otlp_metric m;
	Opentelemetry__Proto__Metrics__V1__Gauge gauge;
	Opentelemetry__Proto__Metrics__V1__Sum sum;
	Opentelemetry__Proto__Metrics__V1__Histogram hist;
	size_t cap;                     /* of the data point array in use */
};

struct tfo_otlp_metrics {
	struct tfo_arena *a;
	tfo_resource_metrics rm;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
	size_t cap;                     /* of sm.metrics */
	uint32_t points;
};

/* grow - arr (n used of *cap pointers) with room for one more; NULL on ENOMEM */
static void *
grow(struct tfo_arena *a, void *arr, size_t n, size_t *cap, size_t elsz)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap != 0 ? *cap * 2 : 8;
	if ((na = tfo_arena_alloc(a, ncap * elsz)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(na, arr, n * elsz);
	*cap = ncap;
	return na;
}

struct tfo_otlp_metrics *
tfo_otlp_metrics_new(struct tfo_arena *a, const tfo_resource_msg *res, const char *scope_name,
                     const char *scope_version, const char *schema_url)
{
	struct tfo_otlp_metrics *b = tfo_arena_alloc(a, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->a = a;
	opentelemetry__proto__metrics__v1__resource_metrics__init(&b->rm);
	opentelemetry__proto__metrics__v1__scope_metrics__init(&b->sm);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&b->scope);
	/* protobuf-c's types are not const-correct; packing never writes */
	b->rm.resource = (tfo_resource_msg *)(uintptr_t)res;
	if (scope_name != NULL && (b->scope.name = tfo_arena_strdup(a, scope_name)) == NULL)
		return NULL;
	if (scope_version != NULL && (b->scope.version = tfo_arena_strdup(a, scope_version)) == NULL)
		return NULL;
	if (schema_url != NULL) {
		if ((b->rm.schema_url = tfo_arena_strdup(a, schema_url)) == NULL)
			return NULL;
		b->sm.schema_url = b->rm.schema_url;
	}
	b->sm.scope = &b->scope;
	b->smp = &b->sm;
	b->rm.n_scope_metrics = 1;
	b->rm.scope_metrics = &b->smp;
	return b;
}

struct tfo_otlp_metric *
tfo_otlp_metric(struct tfo_otlp_metrics *b, const char *name, const char *unit,
                const char *description, enum tfo_otlp_kind kind)
{
	struct tfo_otlp_metric *m = tfo_arena_alloc(b->a, sizeof(*m));
	otlp_metric **arr;

	if (m == NULL)
		return NULL;
	opentelemetry__proto__metrics__v1__metric__init(&m->m);
	if ((m->m.name = tfo_arena_strdup(b->a, name)) == NULL ||
	    (m->m.unit = tfo_arena_strdup(b->a, unit != NULL ? unit : "")) == NULL ||
	    (m->m.description = tfo_arena_strdup(b->a, description != NULL ? description : "")) == NULL)
		return NULL;
	if (kind == TFO_OTLP_GAUGE) {
		opentelemetry__proto__metrics__v1__gauge__init(&m->gauge);
		m->m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		m->m.gauge = &m->gauge;
	} else if (kind == TFO_OTLP_HISTOGRAM) {
		opentelemetry__proto__metrics__v1__histogram__init(&m->hist);
		m->hist.aggregation_temporality =
		    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m->m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m->m.histogram = &m->hist;
	} else {
		opentelemetry__proto__metrics__v1__sum__init(&m->sum);
		m->sum.aggregation_temporality =
		    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m->sum.is_monotonic = kind == TFO_OTLP_COUNTER;
		m->m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m->m.sum = &m->sum;
	}
	if ((arr = grow(b->a, b->sm.metrics, b->sm.n_metrics, &b->cap, sizeof(*arr))) == NULL)
		return NULL;
	b->sm.metrics = arr;
	b->sm.metrics[b->sm.n_metrics++] = &m->m;
	return m;
}

const char *
tfo_otlp_metric_name(const struct tfo_otlp_metric *m)
{
	return m->m.name;
}

/* attrs_copy - the point's attribute array, in the arena; -1 on ENOMEM */
static int
attrs_copy(struct tfo_otlp_metrics *b, tfo_kv *const *attrs, size_t nattrs, tfo_kv ***out,
           size_t *nout)
{
	if (nattrs == 0)
		return 0;
	if ((*out = tfo_arena_alloc(b->a, nattrs * sizeof(*attrs))) == NULL)
		return -1;
	memcpy(*out, attrs, nattrs * sizeof(*attrs));
	*nout = nattrs;
	return 0;
}

/* append_number - p as the next point of a gauge or sum; -1 on ENOMEM */
static int
append_number(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, otlp_point *p)
{
	int sum = m->m.data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
	otlp_point ***pts = sum ? &m->sum.data_points : &m->gauge.data_points;
	size_t *n = sum ? &m->sum.n_data_points : &m->gauge.n_data_points;
	otlp_point **arr = grow(b->a, *pts, *n, &m->cap, sizeof(*arr));

	if (arr == NULL)
		return -1;
	*pts = arr;
	arr[(*n)++] = p;
	b->points++;
	return 0;
}

/* append_hist - p as the next point of a histogram; -1 on ENOMEM */
static int
append_hist(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, otlp_hpoint *p)
{
	otlp_hpoint **arr = grow(b->a, m->hist.data_points, m->hist.n_data_points, &m->cap,
	    sizeof(*arr));

	if (arr == NULL)
		return -1;
	m->hist.data_points = arr;
	arr[m->hist.n_data_points++] = p;
	b->points++;
	return 0;
}

/* point_add - append a point with time and attributes set, value left to caller */
static otlp_point *
point_add(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, uint64_t start_ns,
          uint64_t time_ns, tfo_kv *const *attrs, size_t nattrs)
{
	otlp_point *p = tfo_arena_alloc(b->a, sizeof(*p));

	if (p == NULL)
		return NULL;
	opentelemetry__proto__metrics__v1__number_data_point__init(p);
	if (m->m.data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM)
		p->start_time_unix_nano = start_ns;
	p->time_unix_nano = time_ns;
	if (attrs_copy(b, attrs, nattrs, &p->attributes, &p->n_attributes) != 0 ||
	    append_number(b, m, p) != 0)
		return NULL;
	return p;
}

enum tfo_err
tfo_otlp_point_int(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, uint64_t start_ns,
                   uint64_t time_ns, int64_t value, tfo_kv *const *attrs, size_t nattrs)
{
	otlp_point *p;

	if (m->m.data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM)
		return TFO_EINVAL;
	if ((p = point_add(b, m, start_ns, time_ns, attrs, nattrs)) == NULL)
		return TFO_ENOMEM;
	p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
	p->as_int = value;
	return TFO_OK;
}

enum tfo_err
tfo_otlp_point_double(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, uint64_t start_ns,
                      uint64_t time_ns, double value, tfo_kv *const *attrs, size_t nattrs)
{
	otlp_point *p;

	if (m->m.data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM)
		return TFO_EINVAL;
	if ((p = point_add(b, m, start_ns, time_ns, attrs, nattrs)) == NULL)
		return TFO_ENOMEM;
	p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	p->as_double = value;
	return TFO_OK;
}

enum tfo_err
tfo_otlp_point_hist(struct tfo_otlp_metrics *b, struct tfo_otlp_metric *m, uint64_t start_ns,
                    uint64_t time_ns, uint64_t count, double sum, const double *bounds,
                    size_t nbounds, const uint64_t *buckets, tfo_kv *const *attrs, size_t nattrs)
{
	otlp_hpoint *p;
	uint64_t total = 0;

	if (m->m.data_case != OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM)
		return TFO_EINVAL;
	for (size_t i = 0; i <= nbounds; i++)
		total += buckets[i];
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i - 1] < bounds[i]))
			return TFO_EINVAL;
	if (total != count)
		return TFO_EINVAL;
	if ((p = tfo_arena_alloc(b->a, sizeof(*p))) == NULL)
		return TFO_ENOMEM;
	opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
	p->start_time_unix_nano = start_ns;
	p->time_unix_nano = time_ns;
	p->count = count;
	p->sum = sum;
	p->n_bucket_counts = nbounds + 1;
	p->n_explicit_bounds = nbounds;
	if ((p->bucket_counts = tfo_arena_alloc(b->a, (nbounds + 1) * sizeof(*buckets))) == NULL ||
	    (nbounds > 0 && (p->explicit_bounds = tfo_arena_alloc(b->a,
	    nbounds * sizeof(*bounds))) == NULL))
		return TFO_ENOMEM;
	memcpy(p->bucket_counts, buckets, (nbounds + 1) * sizeof(*buckets));
	if (nbounds > 0)
		memcpy(p->explicit_bounds, bounds, nbounds * sizeof(*bounds));
	if (attrs_copy(b, attrs, nattrs, &p->attributes, &p->n_attributes) != 0 ||
	    append_hist(b, m, p) != 0)
		return TFO_ENOMEM;
	return TFO_OK;
}

uint32_t
tfo_otlp_metrics_points(const struct tfo_otlp_metrics *b)
{
	return b->points;
}

/* metric_points - points of a metric through the message */
static size_t
metric_points(const otlp_metric *m)
{
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		return m->gauge->n_data_points;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		return m->histogram->n_data_points;
	default:
		return m->sum->n_data_points;
	}
}

size_t
tfo_otlp_metrics_count(const struct tfo_otlp_metrics *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->sm.n_metrics; i++)
		n += metric_points(b->sm.metrics[i]) > 0;
	return n;
}

enum tfo_err
tfo_otlp_metrics_encode(struct tfo_otlp_metrics *b, uint8_t **out, size_t *len)
{
	size_t j = 0, sz;
	uint8_t *buf;

	for (size_t i = 0; i < b->sm.n_metrics; i++)
		if (metric_points(b->sm.metrics[i]) > 0)
			b->sm.metrics[j++] = b->sm.metrics[i];
	b->sm.n_metrics = j;
	sz = opentelemetry__proto__metrics__v1__resource_metrics__get_packed_size(&b->rm);
	if ((buf = tfo_arena_alloc(b->a, sz)) == NULL)
		return TFO_ENOMEM;
	if (opentelemetry__proto__metrics__v1__resource_metrics__pack(&b->rm, buf) != sz)
		return TFO_EINVAL;
	*out = buf;
	*len = sz;
	return TFO_OK;
}

const tfo_resource_metrics *
tfo_otlp_metrics_msg(const struct tfo_otlp_metrics *b)
{
	return &b->rm;
}
