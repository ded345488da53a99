/*
 * test_selfmet.c - the self metrics encoder (workers/system/selfmet.c): every
 * metric of the catalogue is documented in docs/metrics.md with its unit,
 * instrument and attributes and nothing else is (the test fails when they
 * drift); a snapshot becomes the right points, start times and histograms;
 * what a hostile worker writes in its stats never becomes a bad point.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hist.h"
#include "workers/system/selfmet.h"

#define DOC "docs/metrics.md"
#define NOW 1700000100000000000ull
#define SV_START 1700000000000000000ull
#define W_START 1700000050000000000ull

typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm_t;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint point_t;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint hpoint_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

/* ------------------------------------------------------------ the doc */

static const char *
kind_name(enum tfo_otlp_kind k)
{
	switch (k) {
	case TFO_OTLP_GAUGE:
		return "gauge";
	case TFO_OTLP_COUNTER:
		return "counter";
	case TFO_OTLP_UPDOWN:
		return "updown";
	case TFO_OTLP_HISTOGRAM:
		return "histogram";
	}
	return "?";
}

/* cell - the n-th cell (0-based) of a Markdown table row, trimmed, into out */
static void
cell(const char *row, int n, char *out, size_t outsz)
{
	const char *p = row + 1, *end;
	size_t len;

	for (int i = 0; i < n && p != NULL; i++)
		if ((p = strchr(p, '|')) != NULL)
			p++;
	assert_non_null(p);
	end = strchr(p, '|');
	assert_non_null(end);
	while (*p == ' ')
		p++;
	len = (size_t)(end - p);
	while (len > 0 && p[len - 1] == ' ')
		len--;
	assert_true(len < outsz);
	memcpy(out, p, len);
	out[len] = '\0';
}

static int
pipes(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '|';
	return n;
}

/* unquote - "`a`, `b`" -> "a, b"; "–" -> "" */
static void
unquote(char *s)
{
	char *w = s;

	if (strcmp(s, "–") == 0) {
		s[0] = '\0';
		return;
	}
	for (char *r = s; *r; r++)
		if (*r != '`')
			*w++ = *r;
	*w = '\0';
}

/* Every `tfo.` row of the doc's self metrics table is a catalogue metric with
 * the same unit, instrument and attributes, and every metric has its row. */
static void
test_doc_matches_catalogue(void **state)
{
	size_t n, rows = 0;
	const struct tfo_selfmet_def *d = tfo_selfmet_defs(&n);
	int *found = calloc(n, sizeof(*found));
	char line[1024], name[128], unit[64], inst[32], attrs[256];
	FILE *fp = fopen(DOC, "r");
	int in = 0;

	(void)state;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "## ", 3) == 0)
			in = strcmp(line, "## Self metrics\n") == 0;
		if (!in || strncmp(line, "| `tfo.", 7) != 0 || pipes(line) != 6)
			continue;       /* the attribute table's rows have 3 */
		cell(line, 0, name, sizeof(name));
		cell(line, 1, unit, sizeof(unit));
		cell(line, 2, inst, sizeof(inst));
		cell(line, 3, attrs, sizeof(attrs));
		unquote(name);
		unquote(attrs);
		rows++;
		size_t i = 0;
		while (i < n && strcmp(d[i].name, name) != 0)
			i++;
		if (i == n)
			fail_msg(DOC ": %s is documented but not emitted", name);
		if (found[i]++)
			fail_msg(DOC ": %s documented twice", name);
		if (strcmp(unit, d[i].unit) != 0 || strcmp(inst, kind_name(d[i].kind)) != 0 ||
		    strcmp(attrs, d[i].attrs) != 0)
			fail_msg(DOC ": %s: documented %s %s [%s], emitted %s %s [%s]", name, unit, inst,
			    attrs, d[i].unit, kind_name(d[i].kind), d[i].attrs);
	}
	fclose(fp);
	for (size_t i = 0; i < n; i++)
		if (!found[i])
			fail_msg("%s is emitted but not documented in " DOC, d[i].name);
	assert_int_equal(rows, n);
	free(found);
}

/* Names follow the semconv rules the doc states: tfo. namespace, lowercase
 * dot-separated snake_case, no "total", UCUM-ish units. */
static void
test_catalogue_naming(void **state)
{
	size_t n;
	const struct tfo_selfmet_def *d = tfo_selfmet_defs(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const char *p = d[i].name;
		assert_true(strncmp(p, "tfo.", 4) == 0);
		for (; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '_'))
				fail_msg("%s: not lowercase dot/snake case", d[i].name);
		assert_null(strstr(d[i].name, "total"));
		assert_null(strstr(d[i].name, ".."));
		if (d[i].kind == TFO_OTLP_HISTOGRAM && strcmp(d[i].unit, "s") == 0)
			assert_non_null(strstr(d[i].name, ".duration"));
		assert_true(strcmp(d[i].unit, "s") == 0 || strcmp(d[i].unit, "By") == 0 ||
		    strcmp(d[i].unit, "1") == 0 || d[i].unit[0] == '{');
	}
}

/* ------------------------------------------------------------ snapshots */

struct snap {
	Tfo__V1__SelfStats ss;
	Tfo__V1__WorkerStatus ws[6], *wp[6];
	Tfo__V1__Stat st[6][64], *sp[6][64];
	Tfo__V1__Stat rr[6][6], *rrp[6][6];
	char names[6][64][48];
};

static const char *const roles[6] = { "system", "process", "logs", "buffer", "exporter",
	"heartbeat" };

static void
stat_add(struct snap *s, int r, const char *name, double v)
{
	size_t k = s->ws[r].n_stats;

	assert_true(k < 64);
	tfo__v1__stat__init(&s->st[r][k]);
	snprintf(s->names[r][k], sizeof(s->names[r][k]), "%s", name);
	s->st[r][k].name = s->names[r][k];
	s->st[r][k].value = v;
	s->st[r][k].text = (char *)"";
	s->sp[r][k] = &s->st[r][k];
	s->ws[r].stats = s->sp[r];
	s->ws[r].n_stats = k + 1;
}

/* hist_add - a histogram's stats as tfo_stats_hist writes them */
static void
hist_add(struct snap *s, int r, const char *prefix, enum tfo_hist_kind k, const double *obs,
    size_t nobs)
{
	struct tfo_hist h;
	char name[64];
	uint64_t cum = 0;
	size_t nb;

	tfo_hist_init(&h, k);
	for (size_t i = 0; i < nobs; i++)
		tfo_hist_observe(&h, obs[i]);
	(void)tfo_hist_bounds(k, &nb);
	snprintf(name, sizeof(name), "%s.count", prefix);
	stat_add(s, r, name, (double)h.count);
	snprintf(name, sizeof(name), "%s.sum_s", prefix);
	stat_add(s, r, name, h.sum);
	for (size_t i = 0; i <= nb; i++) {
		cum += h.buckets[i];
		assert_int_equal(tfo_hist_stat_name(prefix, k, i, name, sizeof(name)), 0);
		stat_add(s, r, name, (double)cum);
	}
}

/* snap_init - every role ready and running, restarts as given */
static void
snap_init(struct snap *s)
{
	static const char *const reasons[6] = { "crash", "exit", "seccomp", "hung", "protocol",
		"requested" };

	memset(s, 0, sizeof(*s));
	tfo__v1__self_stats__init(&s->ss);
	s->ss.supervisor_started_unix_nano = SV_START;
	for (int r = 0; r < 6; r++) {
		tfo__v1__worker_status__init(&s->ws[r]);
		s->ws[r].role = (char *)roles[r];
		s->ws[r].state = (char *)"ready";
		s->ws[r].pid = 100 + (unsigned)r;
		s->ws[r].started_unix_nano = W_START + (uint64_t)r;
		for (int k = 0; k < 6; k++) {
			tfo__v1__stat__init(&s->rr[r][k]);
			s->rr[r][k].name = (char *)reasons[k];
			s->rr[r][k].text = (char *)"";
			s->rrp[r][k] = &s->rr[r][k];
		}
		s->ws[r].restart_reasons = s->rrp[r];
		s->ws[r].n_restart_reasons = 6;
		s->wp[r] = &s->ws[r];
	}
	s->ss.workers = s->wp;
	s->ss.n_workers = 6;
}

/* snap_full - the stats every role reports (names as the workers write them) */
static void
snap_full(struct snap *s)
{
	static const double req[] = { 0.003, 0.02, 0.02, 0.3, 12 }, cyc[] = { 0.0002, 0.004 };

	snap_init(s);
	s->rr[0][0].value = 2;          /* system crashed twice */
	s->rr[4][5].value = 1;          /* exporter restarted on request */
	s->ws[2].state = (char *)"backoff";
	hist_add(s, 0, "system.cycle_duration", TFO_HIST_CYCLE, cyc, 2);
	stat_add(s, 0, "system.cycles_lost", 3);
	stat_add(s, 0, "system.puts", 9);       /* not a self metric: ignored */
	hist_add(s, 1, "process.cycle_duration", TFO_HIST_CYCLE, cyc, 1);
	stat_add(s, 1, "process.cycles_lost", 0);
	stat_add(s, 2, "logs.files_open", 4);
	stat_add(s, 2, "logs.files_waiting", 2);
	stat_add(s, 2, "logs.bytes_behind", 1234);
	stat_add(s, 3, "metrics.entries", 10);
	stat_add(s, 3, "metrics.bytes", 2048);
	stat_add(s, 3, "metrics.oldest_age_s", 1.5);
	stat_add(s, 3, "metrics.drops.size", 7);
	stat_add(s, 3, "metrics.drops.age", 0);
	stat_add(s, 3, "metrics.drops.disk", 3);
	stat_add(s, 3, "logs.entries", 0);
	stat_add(s, 3, "logs.bytes", 0);
	stat_add(s, 3, "logs.oldest_age_s", 0);
	stat_add(s, 3, "logs.drops.size", 0);
	stat_add(s, 4, "metrics.sent_points", 500);
	stat_add(s, 4, "logs.sent_records", 40);
	stat_add(s, 4, "metrics.wire_bytes", 9000);
	stat_add(s, 4, "logs.wire_bytes", 800);
	stat_add(s, 4, "metrics.failed_points.retryable", 30);
	stat_add(s, 4, "metrics.failed_points.permanent", 5);
	stat_add(s, 4, "logs.failed_records.retryable", 0);
	stat_add(s, 4, "logs.failed_records.permanent", 0);
	stat_add(s, 4, "metrics.retries", 2);
	stat_add(s, 4, "logs.retries", 0);
	stat_add(s, 4, "in_flight", 1);
	hist_add(s, 4, "request_duration", TFO_HIST_REQUEST, req, 5);
	stat_add(s, 5, "heartbeat.sent", 6);
	stat_add(s, 5, "heartbeat.failed", 1);
}

struct enc {
	struct tfo_arena *a;
	struct tfo_selfmet_out out;
	rm_t *rm;
};

static enum tfo_err
encode(struct snap *s, struct enc *e)
{
	enum tfo_err err;

	e->a = tfo_arena_new(0);
	assert_non_null(e->a);
	err = tfo_selfmet_encode(e->a, NULL, "9.9", &s->ss, NOW, &e->out);
	e->rm = NULL;
	if (err == TFO_OK) {
		e->rm = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL, e->out.len,
		    e->out.buf);
		assert_non_null(e->rm);
		assert_string_equal(e->rm->scope_metrics[0]->scope->name, TFO_SELFMET_SCOPE);
		assert_string_equal(e->rm->scope_metrics[0]->scope->version, "9.9");
	}
	return err;
}

static void
enc_fini(struct enc *e)
{
	if (e->rm)
		opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(e->rm, NULL);
	tfo_arena_free(e->a);
}

static const metric_t *
find(const struct enc *e, const char *name)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = e->rm->scope_metrics[0];

	for (size_t i = 0; i < sm->n_metrics; i++)
		if (strcmp(sm->metrics[i]->name, name) == 0)
			return sm->metrics[i];
	return NULL;
}

/* attrs_are - the point's attributes are exactly the "k=v" list (NULL ended) */
static int
attrs_match(kv_t **kv, size_t n, va_list ap)
{
	const char *want;
	size_t seen = 0;

	while ((want = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(want, '=');
		int ok = 0;
		for (size_t i = 0; i < n && !ok; i++)
			ok = strlen(kv[i]->key) == (size_t)(eq - want) &&
			    strncmp(kv[i]->key, want, (size_t)(eq - want)) == 0 &&
			    strcmp(kv[i]->value->string_value, eq + 1) == 0;
		if (!ok)
			return 0;
		seen++;
	}
	return seen == n;
}

/* num - the value of the number point of name with exactly these attributes */
static const point_t *
num(const struct enc *e, const char *name, ...)
{
	const metric_t *m = find(e, name);
	point_t **p;
	size_t n;
	va_list ap;

	if (m == NULL)
		fail_msg("%s not emitted", name);
	p = m->sum ? m->sum->data_points : m->gauge->data_points;
	n = m->sum ? m->sum->n_data_points : m->gauge->n_data_points;
	for (size_t i = 0; i < n; i++) {
		va_start(ap, name);
		if (attrs_match(p[i]->attributes, p[i]->n_attributes, ap)) {
			va_end(ap);
			return p[i];
		}
		va_end(ap);
	}
	return NULL;
}

static int64_t
ival(const point_t *p)
{
	assert_non_null(p);
	assert_int_equal(p->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
	return p->as_int;
}

static void
test_snapshot(void **state)
{
	struct snap s;
	struct enc e;
	const metric_t *m;
	const hpoint_t *h;
	size_t n;

	(void)state;
	snap_full(&s);
	assert_int_equal(encode(&s, &e), TFO_OK);
	assert_int_equal(e.out.rejected, 0);
	/* every metric of the catalogue is there */
	const struct tfo_selfmet_def *d = tfo_selfmet_defs(&n);
	for (size_t i = 0; i < n; i++)
		if (find(&e, d[i].name) == NULL)
			fail_msg("%s missing", d[i].name);
	/* the supervisor's figures */
	assert_true(num(&e, "tfo.role.up", "tfo.role=system", NULL)->as_double == 1);
	assert_true(num(&e, "tfo.role.up", "tfo.role=logs", NULL)->as_double == 0);
	assert_int_equal(ival(num(&e, "tfo.role.restart.count", "tfo.role=system",
	    "tfo.restart.reason=crash", NULL)), 2);
	assert_int_equal(num(&e, "tfo.role.restart.count", "tfo.role=system",
	    "tfo.restart.reason=crash", NULL)->start_time_unix_nano, SV_START);
	assert_int_equal(ival(num(&e, "tfo.role.restart.count", "tfo.role=exporter",
	    "tfo.restart.reason=requested", NULL)), 1);
	m = find(&e, "tfo.role.restart.count");
	assert_true(m->sum->is_monotonic);
	assert_int_equal(m->sum->n_data_points, 36);    /* 6 roles x 6 reasons, zeros too */
	/* the workers' figures, their start times the worker's start */
	assert_int_equal(ival(num(&e, "tfo.buffer.entry.count", "tfo.signal=metrics", NULL)), 10);
	assert_int_equal(num(&e, "tfo.buffer.entry.count", "tfo.signal=metrics", NULL)->
	    start_time_unix_nano, W_START + 3);
	assert_false(find(&e, "tfo.buffer.entry.count")->sum->is_monotonic);
	assert_true(num(&e, "tfo.buffer.oldest_entry.age", "tfo.signal=metrics", NULL)->as_double
	    == 1.5);
	assert_int_equal(ival(num(&e, "tfo.buffer.entry.dropped", "tfo.signal=metrics",
	    "tfo.drop.reason=size", NULL)), 7);
	assert_int_equal(ival(num(&e, "tfo.buffer.entry.dropped", "tfo.signal=metrics",
	    "tfo.drop.reason=disk", NULL)), 3);
	assert_int_equal(ival(num(&e, "tfo.buffer.entry.dropped", "tfo.signal=logs",
	    "tfo.drop.reason=size", NULL)), 0);
	assert_int_equal(ival(num(&e, "tfo.exporter.data_point.sent", NULL)), 500);
	assert_int_equal(ival(num(&e, "tfo.exporter.log_record.sent", NULL)), 40);
	assert_int_equal(ival(num(&e, "tfo.exporter.io", "tfo.signal=logs", NULL)), 800);
	assert_int_equal(ival(num(&e, "tfo.exporter.data_point.failed", "error.type=retryable",
	    NULL)), 30);
	assert_int_equal(ival(num(&e, "tfo.exporter.data_point.failed", "error.type=permanent",
	    NULL)), 5);
	assert_int_equal(ival(num(&e, "tfo.exporter.retry.count", "tfo.signal=metrics", NULL)), 2);
	assert_int_equal(ival(num(&e, "tfo.collector.cycle.lost", "tfo.role=system", NULL)), 3);
	assert_int_equal(ival(num(&e, "tfo.logs.lag", NULL)), 1234);
	assert_int_equal(ival(num(&e, "tfo.logs.file.count", "tfo.logs.file.state=open", NULL)), 4);
	assert_int_equal(ival(num(&e, "tfo.logs.file.count", "tfo.logs.file.state=waiting",
	    NULL)), 2);
	assert_int_equal(ival(num(&e, "tfo.heartbeat.beat.failed", NULL)), 1);
	/* the request histogram: 3 ms, 20 ms x2, 300 ms, 12 s */
	m = find(&e, "tfo.exporter.request.duration");
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_int_equal(m->histogram->aggregation_temporality,
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	h = m->histogram->data_points[0];
	assert_int_equal(h->count, 5);
	assert_true(h->sum > 12.34 && h->sum < 12.35);
	assert_int_equal(h->start_time_unix_nano, W_START + 4);
	assert_int_equal(h->n_bucket_counts, h->n_explicit_bounds + 1);
	assert_int_equal(h->bucket_counts[0], 1);                       /* <= 5 ms */
	assert_int_equal(h->bucket_counts[2], 2);                       /* (10, 25] ms */
	assert_int_equal(h->bucket_counts[7], 1);                       /* (250, 500] ms */
	assert_int_equal(h->bucket_counts[h->n_bucket_counts - 1], 1);  /* > 10 s */
	assert_int_equal(find(&e, "tfo.collector.cycle.duration")->histogram->n_data_points, 2);
	enc_fini(&e);
}

/* A role not running, or without its first Pong, has no points; a disabled
 * one has no up either. */
static void
test_absent_roles(void **state)
{
	struct snap s;
	struct enc e;

	(void)state;
	snap_full(&s);
	s.ws[2].state = (char *)"disabled";
	s.ws[2].started_unix_nano = 0;
	s.ws[3].n_stats = 0;            /* no Pong yet */
	assert_int_equal(encode(&s, &e), TFO_OK);
	assert_null(num(&e, "tfo.role.up", "tfo.role=logs", NULL));
	assert_null(find(&e, "tfo.logs.lag"));
	assert_null(find(&e, "tfo.buffer.entry.count"));
	assert_non_null(num(&e, "tfo.role.up", "tfo.role=buffer", NULL));
	enc_fini(&e);
}

/* What a compromised worker could write in its Pong: every bad value or name
 * is left out and counted; what is emitted stays valid (no repeated series,
 * no attribute value outside [a-z0-9_]). */
static void
test_hostile_stats(void **state)
{
	static const double req[] = { 0.02 };
	struct snap s;
	struct enc e;
	char longname[64];

	(void)state;
	snap_init(&s);
	stat_add(&s, 3, "metrics.entries", -1);                 /* negative */
	stat_add(&s, 3, "metrics.bytes", NAN);                   /* NaN */
	stat_add(&s, 3, "logs.bytes", 1e300);                   /* beyond int64 */
	stat_add(&s, 3, "logs.entries", 2.5);                   /* fractional count */
	stat_add(&s, 3, "metrics.oldest_age_s", INFINITY);      /* infinite gauge */
	stat_add(&s, 3, "metrics.drops.size", 1);
	stat_add(&s, 3, "metrics.drops.size", 99);              /* repeated: the first wins */
	stat_add(&s, 3, "metrics.drops.Size", 1);               /* not a token */
	stat_add(&s, 3, "metrics.drops.", 1);                   /* empty token */
	stat_add(&s, 3, "metrics.drops.a\"b", 1);
	snprintf(longname, sizeof(longname), "logs.drops.%040d", 0);
	stat_add(&s, 3, longname, 1);                           /* token too long */
	for (int i = 0; i < 20; i++) {                          /* more than 16 reasons */
		char n[48];
		snprintf(n, sizeof(n), "logs.drops.r%d", i);
		stat_add(&s, 3, n, 1);
	}
	stat_add(&s, 4, "metrics.sent_points", 5);
	hist_add(&s, 4, "request_duration", TFO_HIST_REQUEST, req, 1);
	s.st[4][3].value = 0;           /* le_0.005 below... */
	s.st[4][4].value = 5;           /* ...le_0.01 above the count: not cumulative */
	hist_add(&s, 0, "system.cycle_duration", TFO_HIST_CYCLE, req, 1);
	s.st[0][0].value = 7;           /* count is not the buckets' total */
	assert_int_equal(encode(&s, &e), TFO_OK);
	/* 5 values, 1 repeat, 4 names, 4 reasons over 16, 2 histograms */
	assert_int_equal(e.out.rejected, 5 + 1 + 4 + 4 + 2);
	assert_null(find(&e, "tfo.buffer.entry.count"));
	assert_null(find(&e, "tfo.buffer.usage"));
	assert_null(find(&e, "tfo.buffer.oldest_entry.age"));
	assert_null(find(&e, "tfo.exporter.request.duration"));
	assert_null(find(&e, "tfo.collector.cycle.duration"));
	assert_int_equal(ival(num(&e, "tfo.buffer.entry.dropped", "tfo.signal=metrics",
	    "tfo.drop.reason=size", NULL)), 1);
	assert_int_equal(find(&e, "tfo.buffer.entry.dropped")->sum->n_data_points, 1 + 16);
	assert_int_equal(ival(num(&e, "tfo.exporter.data_point.sent", NULL)), 5);
	enc_fini(&e);
	/* an unknown or repeated role is refused whole */
	snap_init(&s);
	s.ws[1].role = (char *)"system";
	s.ws[2].role = (char *)"intruder";
	assert_int_equal(encode(&s, &e), TFO_OK);
	assert_int_equal(e.out.rejected, 2);
	assert_int_equal(find(&e, "tfo.role.up")->gauge->n_data_points, 4);
	enc_fini(&e);
	/* nothing left: refused, nothing to put */
	snap_init(&s);
	s.ss.n_workers = 0;
	assert_int_equal(encode(&s, &e), TFO_EINVAL);
	enc_fini(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_matches_catalogue),
		cmocka_unit_test(test_catalogue_naming),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_absent_roles),
		cmocka_unit_test(test_hostile_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
