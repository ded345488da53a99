/*
 * selfmet.c - tfo-system: the supervisor's SelfStats (each role's status and
 * last Pong stats, what tfoctl status shows) encoded as the agent's tfo.*
 * self metrics. The stats were written by the other workers: every name and
 * value is checked before it becomes a data point.
 */
#include "workers/system/selfmet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/hist.h"

#define SCHEMA "https://opentelemetry.io/schemas/1.44.0"
#define TOKEN_MAX 32                    /* an attribute value taken from a stat name */
#define PREFIXED_MAX 16                 /* points of one prefixed series */

enum {
	M_UP, M_RESTARTS,
	M_BUF_ENTRIES, M_BUF_USAGE, M_BUF_AGE, M_BUF_DROPPED,
	M_EXP_POINTS, M_EXP_RECORDS, M_EXP_IO, M_EXP_POINTS_FAILED, M_EXP_RECORDS_FAILED,
	M_EXP_RETRIES, M_EXP_DURATION, M_EXP_INFLIGHT,
	M_COL_DURATION, M_COL_LOST,
	M_LOGS_FILES, M_LOGS_LAG,
	M_HB_SENT, M_HB_FAILED,
	M_COUNT
};

static const struct tfo_selfmet_def defs[M_COUNT] = {
	[M_UP] = { "tfo.role.up", "1", "1 when the role is ready, else 0 (starting, "
	    "backoff, fatal, stopping)", TFO_OTLP_GAUGE, "tfo.role" },
	[M_RESTARTS] = { "tfo.role.restart.count", "{restart}", "restarts of the role since "
	    "the supervisor started", TFO_OTLP_COUNTER, "tfo.role, tfo.restart.reason" },
	[M_BUF_ENTRIES] = { "tfo.buffer.entry.count", "{entry}", "entries queued in the buffer",
	    TFO_OTLP_UPDOWN, "tfo.signal" },
	[M_BUF_USAGE] = { "tfo.buffer.usage", "By", "payload bytes queued in the buffer",
	    TFO_OTLP_UPDOWN, "tfo.signal" },
	[M_BUF_AGE] = { "tfo.buffer.oldest_entry.age", "s", "age of the oldest queued entry; "
	    "0 when none", TFO_OTLP_GAUGE, "tfo.signal" },
	[M_BUF_DROPPED] = { "tfo.buffer.entry.dropped", "{entry}", "entries the buffer dropped",
	    TFO_OTLP_COUNTER, "tfo.signal, tfo.drop.reason" },
	[M_EXP_POINTS] = { "tfo.exporter.data_point.sent", "{data_point}", "data points the "
	    "endpoint accepted", TFO_OTLP_COUNTER, "" },
	[M_EXP_RECORDS] = { "tfo.exporter.log_record.sent", "{log_record}", "log records the "
	    "endpoint accepted", TFO_OTLP_COUNTER, "" },
	[M_EXP_IO] = { "tfo.exporter.io", "By", "request bytes on the wire (compressed) the "
	    "endpoint accepted", TFO_OTLP_COUNTER, "tfo.signal" },
	[M_EXP_POINTS_FAILED] = { "tfo.exporter.data_point.failed", "{data_point}", "data "
	    "points of refused requests: retryable ones are sent again, permanent ones dropped",
	    TFO_OTLP_COUNTER, "error.type" },
	[M_EXP_RECORDS_FAILED] = { "tfo.exporter.log_record.failed", "{log_record}", "log "
	    "records of refused requests: retryable ones are sent again, permanent ones dropped",
	    TFO_OTLP_COUNTER, "error.type" },
	[M_EXP_RETRIES] = { "tfo.exporter.retry.count", "{retry}", "requests handed back to the "
	    "buffer for a later retry", TFO_OTLP_COUNTER, "tfo.signal" },
	[M_EXP_DURATION] = { "tfo.exporter.request.duration", "s", "duration of export "
	    "requests, whatever the answer", TFO_OTLP_HISTOGRAM, "" },
	[M_EXP_INFLIGHT] = { "tfo.exporter.request.inflight", "{request}", "export requests "
	    "awaiting their answer", TFO_OTLP_UPDOWN, "" },
	[M_COL_DURATION] = { "tfo.collector.cycle.duration", "s", "wall time of a collection "
	    "cycle, its put to the buffer included", TFO_OTLP_HISTOGRAM, "tfo.role" },
	[M_COL_LOST] = { "tfo.collector.cycle.lost", "{cycle}", "cycles whose data never "
	    "reached the buffer: failed, or skipped while one ran late", TFO_OTLP_COUNTER,
	    "tfo.role" },
	[M_LOGS_FILES] = { "tfo.logs.file.count", "{file}", "files followed: open, or waiting "
	    "for an open-file slot", TFO_OTLP_UPDOWN, "tfo.logs.file.state" },
	[M_LOGS_LAG] = { "tfo.logs.lag", "By", "bytes between where the files are read and "
	    "their ends, over every followed file", TFO_OTLP_UPDOWN, "" },
	[M_HB_SENT] = { "tfo.heartbeat.beat.sent", "{beat}", "heartbeats the API accepted",
	    TFO_OTLP_COUNTER, "" },
	[M_HB_FAILED] = { "tfo.heartbeat.beat.failed", "{beat}", "heartbeats that failed "
	    "(retries exhausted, refused)", TFO_OTLP_COUNTER, "" },
};

enum sm_role { R_SYSTEM, R_PROCESS, R_LOGS, R_BUFFER, R_EXPORTER, R_HEARTBEAT, R_COUNT };

static const char *const role_names[R_COUNT] = {
	"system", "process", "logs", "buffer", "exporter", "heartbeat",
};

/*
 * One series source: a role's stat. With var set, stat is a prefix and each
 * stat "<prefix><token>" is a point whose attribute var is the token. With
 * hist >= 0, stat is the prefix of a histogram (common/hist.h).
 */
struct series {
	int metric;
	enum sm_role role;
	const char *stat;
	const char *k1, *v1;            /* a fixed attribute, or NULL */
	const char *var;
	int hist;
};

#define S(m, r, st, k, v) { m, r, st, k, v, NULL, -1 }
#define SV(m, r, st, k, v, var) { m, r, st, k, v, var, -1 }
#define SH(m, r, st, k, v, h) { m, r, st, k, v, NULL, h }
#define SIG "tfo.signal"

static const struct series series[] = {
	S(M_BUF_ENTRIES, R_BUFFER, "metrics.entries", SIG, "metrics"),
	S(M_BUF_ENTRIES, R_BUFFER, "logs.entries", SIG, "logs"),
	S(M_BUF_USAGE, R_BUFFER, "metrics.bytes", SIG, "metrics"),
	S(M_BUF_USAGE, R_BUFFER, "logs.bytes", SIG, "logs"),
	S(M_BUF_AGE, R_BUFFER, "metrics.oldest_age_s", SIG, "metrics"),
	S(M_BUF_AGE, R_BUFFER, "logs.oldest_age_s", SIG, "logs"),
	SV(M_BUF_DROPPED, R_BUFFER, "metrics.drops.", SIG, "metrics", "tfo.drop.reason"),
	SV(M_BUF_DROPPED, R_BUFFER, "logs.drops.", SIG, "logs", "tfo.drop.reason"),
	S(M_EXP_POINTS, R_EXPORTER, "metrics.sent_points", NULL, NULL),
	S(M_EXP_RECORDS, R_EXPORTER, "logs.sent_records", NULL, NULL),
	S(M_EXP_IO, R_EXPORTER, "metrics.wire_bytes", SIG, "metrics"),
	S(M_EXP_IO, R_EXPORTER, "logs.wire_bytes", SIG, "logs"),
	SV(M_EXP_POINTS_FAILED, R_EXPORTER, "metrics.failed_points.", NULL, NULL, "error.type"),
	SV(M_EXP_RECORDS_FAILED, R_EXPORTER, "logs.failed_records.", NULL, NULL, "error.type"),
	S(M_EXP_RETRIES, R_EXPORTER, "metrics.retries", SIG, "metrics"),
	S(M_EXP_RETRIES, R_EXPORTER, "logs.retries", SIG, "logs"),
	SH(M_EXP_DURATION, R_EXPORTER, "request_duration", NULL, NULL, TFO_HIST_REQUEST),
	S(M_EXP_INFLIGHT, R_EXPORTER, "in_flight", NULL, NULL),
	SH(M_COL_DURATION, R_SYSTEM, "system.cycle_duration", "tfo.role", "system",
	    TFO_HIST_CYCLE),
	SH(M_COL_DURATION, R_PROCESS, "process.cycle_duration", "tfo.role", "process",
	    TFO_HIST_CYCLE),
	S(M_COL_LOST, R_SYSTEM, "system.cycles_lost", "tfo.role", "system"),
	S(M_COL_LOST, R_PROCESS, "process.cycles_lost", "tfo.role", "process"),
	S(M_LOGS_FILES, R_LOGS, "logs.files_open", "tfo.logs.file.state", "open"),
	S(M_LOGS_FILES, R_LOGS, "logs.files_waiting", "tfo.logs.file.state", "waiting"),
	S(M_LOGS_LAG, R_LOGS, "logs.bytes_behind", NULL, NULL),
	S(M_HB_SENT, R_HEARTBEAT, "heartbeat.sent", NULL, NULL),
	S(M_HB_FAILED, R_HEARTBEAT, "heartbeat.failed", NULL, NULL),
};

#define NSERIES (sizeof(series) / sizeof(series[0]))

/* The message being built and what it needs. */
struct enc {
	struct tfo_arena *a;
	struct tfo_otlp_metrics *b;
	struct tfo_otlp_metric *m[M_COUNT];     /* made on first use */
	uint64_t now_ns;
	uint32_t rejected;
	int oom;
};

const struct tfo_selfmet_def *
tfo_selfmet_defs(size_t *n)
{
	*n = M_COUNT;
	return defs;
}

/* token_ok - a stat name part as an attribute value: [a-z0-9_], 1..32 */
static int
token_ok(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++)
		if (n >= TOKEN_MAX || !((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= '0' && t[n] <= '9') ||
		    t[n] == '_'))
			return 0;
	return n > 0;
}

/* counted - v as a count: finite, not negative, integral, below 2^63 */
static int
counted(double v)
{
	return isfinite(v) && v >= 0 && v < 9.2e18 && v == floor(v);
}

static struct tfo_otlp_metric *
metric(struct enc *e, int i)
{
	if (e->m[i] == NULL && (e->m[i] = tfo_otlp_metric(e->b, defs[i].name, defs[i].unit,
	    defs[i].desc, defs[i].kind)) == NULL)
		e->oom = 1;
	return e->m[i];
}

/* kvs - up to two attributes (either may be NULL) into kv; their number */
static size_t
kvs(struct enc *e, tfo_kv **kv, const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t n = 0;

	if (k1 != NULL && (kv[n++] = tfo_otlp_kv_str(e->a, k1, v1)) == NULL)
		e->oom = 1;
	if (k2 != NULL && (kv[n++] = tfo_otlp_kv_str(e->a, k2, v2)) == NULL)
		e->oom = 1;
	return e->oom ? 0 : n;
}

/* number - one checked value as a point of metric i */
static void
number(struct enc *e, int i, uint64_t start_ns, double v, tfo_kv **kv, size_t nkv)
{
	struct tfo_otlp_metric *m;
	enum tfo_err err;

	if (defs[i].kind == TFO_OTLP_GAUGE ? !isfinite(v) || v < 0 : !counted(v)) {
		e->rejected++;
		return;
	}
	if (e->oom || (m = metric(e, i)) == NULL)
		return;
	if (defs[i].kind == TFO_OTLP_GAUGE)
		err = tfo_otlp_point_double(e->b, m, 0, e->now_ns, v, kv, nkv);
	else
		err = tfo_otlp_point_int(e->b, m, start_ns, e->now_ns, (int64_t)v, kv, nkv);
	if (err != TFO_OK)
		e->oom = 1;
}

static const Tfo__V1__Stat *
stat_find(const Tfo__V1__WorkerStatus *ws, const char *name)
{
	for (size_t i = 0; i < ws->n_stats; i++)
		if (ws->stats[i]->name != NULL && strcmp(ws->stats[i]->name, name) == 0)
			return ws->stats[i];
	return NULL;
}

/* hist - a histogram rebuilt from its cumulative stats, when they hold */
static void
hist(struct enc *e, const struct series *sr, const Tfo__V1__WorkerStatus *ws)
{
	const Tfo__V1__Stat *cnt, *sum, *le;
	uint64_t buckets[TFO_HIST_MAX_BOUNDS + 1], prev = 0;
	char name[128];
	size_t nb, nkv;
	const double *bounds = tfo_hist_bounds((enum tfo_hist_kind)sr->hist, &nb);
	tfo_kv *kv[2];
	struct tfo_otlp_metric *m;

	snprintf(name, sizeof(name), "%s.count", sr->stat);
	if ((cnt = stat_find(ws, name)) == NULL)
		return;                 /* not reported (yet): no point */
	snprintf(name, sizeof(name), "%s.sum_s", sr->stat);
	sum = stat_find(ws, name);
	for (size_t i = 0; i <= nb; i++) {
		if (tfo_hist_stat_name(sr->stat, (enum tfo_hist_kind)sr->hist, i, name,
		    sizeof(name)) != 0 || (le = stat_find(ws, name)) == NULL || !counted(le->value) ||
		    (uint64_t)le->value < prev)
			goto bad;
		buckets[i] = (uint64_t)le->value - prev;
		prev = (uint64_t)le->value;
	}
	if (!counted(cnt->value) || (uint64_t)cnt->value != prev || sum == NULL ||
	    !isfinite(sum->value) || sum->value < 0)
		goto bad;
	nkv = kvs(e, kv, sr->k1, sr->v1, NULL, NULL);
	if (e->oom || (m = metric(e, sr->metric)) == NULL ||
	    tfo_otlp_point_hist(e->b, m, ws->started_unix_nano, e->now_ns, prev, sum->value,
	    bounds, nb, buckets, kv, nkv) != TFO_OK)
		e->oom = 1;
	return;
bad:
	e->rejected++;
}

/* seen_before - a stat of the same name earlier in the list */
static int
seen_before(const Tfo__V1__WorkerStatus *ws, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (ws->stats[k]->name != NULL && strcmp(ws->stats[k]->name, ws->stats[i]->name) == 0)
			return 1;
	return 0;
}

/*
 * prefixed - every "<prefix><token>" stat as a point with var = token. A
 * repeated token would be two points of one series, which a receiver may
 * refuse with the whole request (and the other entries of its batch): the
 * first is kept. At most PREFIXED_MAX.
 */
static void
prefixed(struct enc *e, const struct series *sr, const Tfo__V1__WorkerStatus *ws)
{
	size_t plen = strlen(sr->stat), nkv, taken = 0;
	tfo_kv *kv[2];

	for (size_t i = 0; i < ws->n_stats && !e->oom; i++) {
		const Tfo__V1__Stat *st = ws->stats[i];
		if (st->name == NULL || strncmp(st->name, sr->stat, plen) != 0)
			continue;
		if (!token_ok(st->name + plen) || seen_before(ws, i) || taken >= PREFIXED_MAX) {
			e->rejected++;
			continue;
		}
		taken++;
		nkv = kvs(e, kv, sr->k1, sr->v1, sr->var, st->name + plen);
		number(e, sr->metric, ws->started_unix_nano, st->value, kv, nkv);
	}
}

/* role_series - every series of role r from its worker's stats */
static void
role_series(struct enc *e, enum sm_role r, const Tfo__V1__WorkerStatus *ws)
{
	const Tfo__V1__Stat *st;
	tfo_kv *kv[2];
	size_t nkv;

	if (ws->n_stats == 0 || ws->started_unix_nano == 0)
		return;                 /* not running, or no Pong yet */
	for (size_t i = 0; i < NSERIES && !e->oom; i++) {
		const struct series *sr = &series[i];
		if (sr->role != r)
			continue;
		if (sr->hist >= 0)
			hist(e, sr, ws);
		else if (sr->var != NULL)
			prefixed(e, sr, ws);
		else if ((st = stat_find(ws, sr->stat)) != NULL) {
			nkv = kvs(e, kv, sr->k1, sr->v1, NULL, NULL);
			number(e, sr->metric, ws->started_unix_nano, st->value, kv, nkv);
		}
	}
}

/* supervisor_series - up and restarts of role r, the supervisor's figures */
static void
supervisor_series(struct enc *e, enum sm_role r, const Tfo__V1__WorkerStatus *ws,
    uint64_t sv_start_ns)
{
	tfo_kv *kv[2];
	size_t nkv;

	if (ws->state != NULL && strcmp(ws->state, "disabled") != 0) {
		nkv = kvs(e, kv, "tfo.role", role_names[r], NULL, NULL);
		number(e, M_UP, 0, strcmp(ws->state, "ready") == 0 ? 1 : 0, kv, nkv);
	}
	for (size_t i = 0; i < ws->n_restart_reasons && !e->oom; i++) {
		const Tfo__V1__Stat *st = ws->restart_reasons[i];
		if (st->name == NULL || !token_ok(st->name)) {
			e->rejected++;
			continue;
		}
		nkv = kvs(e, kv, "tfo.role", role_names[r], "tfo.restart.reason", st->name);
		number(e, M_RESTARTS, sv_start_ns, st->value, kv, nkv);
	}
}

static int
role_of(const char *name)
{
	for (int r = 0; name != NULL && r < R_COUNT; r++)
		if (strcmp(name, role_names[r]) == 0)
			return r;
	return -1;
}

enum tfo_err
tfo_selfmet_encode(struct tfo_arena *a, const tfo_resource_msg *res, const char *version,
    const Tfo__V1__SelfStats *ss, uint64_t now_ns, struct tfo_selfmet_out *out)
{
	struct enc e = { .a = a, .now_ns = now_ns };
	unsigned seen = 0;
	enum tfo_err err;

	memset(out, 0, sizeof(*out));
	if ((e.b = tfo_otlp_metrics_new(a, res, TFO_SELFMET_SCOPE, version, SCHEMA)) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < ss->n_workers && !e.oom; i++) {
		const Tfo__V1__WorkerStatus *ws = ss->workers[i];
		int r = role_of(ws->role);
		if (r < 0 || (seen & (1u << r))) {
			e.rejected++;   /* unknown or repeated: the supervisor sends each once */
			continue;
		}
		seen |= 1u << r;
		supervisor_series(&e, (enum sm_role)r, ws, ss->supervisor_started_unix_nano);
		role_series(&e, (enum sm_role)r, ws);
	}
	out->rejected = e.rejected;
	if (e.oom)
		return TFO_ENOMEM;
	if (tfo_otlp_metrics_points(e.b) == 0)
		return TFO_EINVAL;
	if ((err = tfo_otlp_metrics_encode(e.b, &out->buf, &out->len)) != TFO_OK)
		return err;
	out->points = tfo_otlp_metrics_points(e.b);
	return TFO_OK;
}
