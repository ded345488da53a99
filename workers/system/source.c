/*
 * source.c - what every family of tfo-system uses: its sources read into the
 * collector's buffer, and the points it builds, with the cumulative-series
 * table behind counters. Its own file so calls run one way: collect.c and the
 * fam_*.c files call in here, nothing here calls them.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workers/system/collect_int.h"

#define SYS_BUF_MAX (8u * 1024u * 1024u)
#define SYS_SERIES_GC 64            /* cycles a vanished series is remembered */

static const char *const file_rel[F_NFILES] = {
	[F_STAT] = "proc/stat", [F_MEMINFO] = "proc/meminfo", [F_VMSTAT] = "proc/vmstat",
	[F_LOADAVG] = "proc/loadavg", [F_UPTIME] = "proc/uptime",
	[F_DISKSTATS] = "proc/diskstats", [F_NETDEV] = "proc/net/dev",
	[F_TCP] = "proc/net/tcp", [F_TCP6] = "proc/net/tcp6",
	[F_MOUNTINFO] = "proc/self/mountinfo", [F_SWAPS] = "proc/swaps",
	[F_SOCKSTAT] = "proc/net/sockstat", [F_SOCKSTAT6] = "proc/net/sockstat6",
};

/* the files the kernel makes whole at each read (single_open seq_files):
 * one pread shorter than the buffer is all of it, no second read for EOF.
 * vmstat, diskstats, net/dev, swaps, mountinfo and tcp are record by record
 * (a read stops at the kernel's page-sized buffer): read until EOF. */
static const unsigned char file_whole[F_NFILES] = {
	[F_STAT] = 1, [F_MEMINFO] = 1, [F_LOADAVG] = 1, [F_UPTIME] = 1,
	[F_SOCKSTAT] = 1, [F_SOCKSTAT6] = 1,
};

/* ------------------------------------------------------------------ reads */

static int
open_rel(struct tfo_syscol *c, const char *rel)
{
	char path[2048];

	if (tfo_procfs_path(c->root, rel, path, sizeof(path)) != TFO_OK)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int
sys_open_file(struct tfo_syscol *c, enum sys_file f)
{
	return open_rel(c, file_rel[f]);
}

/* read_grow - read fd into c->buf, doubling the buffer while the file is
 * longer; whole: a short read is the whole file (file_whole) */
static int
read_grow(struct tfo_syscol *c, int fd, size_t *len, int whole)
{
	for (;;) {
		enum tfo_err e = whole ? tfo_procfs_read_fd_whole(fd, c->buf, c->bufcap, len) :
		    tfo_procfs_read_fd(fd, c->buf, c->bufcap, len);
		char *nb;
		if (e == TFO_OK)
			return 0;
		if (e != TFO_ERANGE || c->bufcap >= SYS_BUF_MAX)
			return e == TFO_ERANGE ? 0 : -1;    /* at the cap: parse what fits */
		if ((nb = realloc(c->buf, c->bufcap * 2)) == NULL)
			return 0;
		c->buf = nb;
		c->bufcap *= 2;
	}
}

int
sys_read(struct tfo_syscol *c, enum sys_file f, const char **text, size_t *len)
{
	if (c->fd[f] < 0 && (c->fd[f] = open_rel(c, file_rel[f])) < 0)
		return -1;      /* missing (no swap, no ipv6): omitted quietly */
	if (read_grow(c, c->fd[f], len, file_whole[f]) != 0) {
		c->stats.read_errors++;
		close(c->fd[f]);
		c->fd[f] = -1;
		return -1;
	}
	*text = c->buf;
	return 0;
}

int
sys_read_path(struct tfo_syscol *c, const char *rel, const char **text, size_t *len)
{
	int fd = open_rel(c, rel), rc;

	if (fd < 0)
		return -1;
	rc = read_grow(c, fd, len, 0);
	close(fd);
	*text = c->buf;
	return rc;
}

const struct tfo_proc_stat *
sys_stat(struct tfo_syscol *c)
{
	const char *t;
	size_t len;

	if (c->stat_ok == 0) {
		c->stat_ok = -1;
		c->stat.cpus = c->cpus;
		c->stat.cpus_cap = SYS_MAX_CPUS;
		if (sys_read(c, F_STAT, &t, &len) == 0) {
			if (tfo_procfs_stat(t, len, &c->stat) == TFO_OK)
				c->stat_ok = 1;
			else
				c->stats.read_errors++;
		}
	}
	return c->stat_ok > 0 ? &c->stat : NULL;
}

/* ----------------------------------------------------------------- points */

struct tfo_otlp_metric *
sys_metric(struct tfo_syscol *c, const char *name, const char *unit, const char *desc,
           enum tfo_otlp_kind kind)
{
	struct tfo_otlp_metric *m = tfo_otlp_metric(c->b, name, unit, desc, kind);

	if (m == NULL)
		c->oom = 1;
	return m;
}

tfo_kv *
sys_kv(struct tfo_syscol *c, const char *key, const char *value)
{
	tfo_kv *kv = tfo_otlp_kv_str(c->arena, key, value);

	if (kv == NULL)
		c->oom = 1;
	return kv;
}

tfo_kv *
sys_kv_int(struct tfo_syscol *c, const char *key, int64_t value)
{
	tfo_kv *kv = tfo_otlp_kv_int(c->arena, key, value);

	if (kv == NULL)
		c->oom = 1;
	return kv;
}

/* usable - a metric and all attributes exist (an ENOMEM left NULLs) */
static int
usable(struct tfo_otlp_metric *m, tfo_kv *const *kv, size_t n)
{
	if (m == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (kv[i] == NULL)
			return 0;
	return 1;
}

void
sys_gauge_d(struct tfo_syscol *c, struct tfo_otlp_metric *m, double v, tfo_kv *const *kv, size_t n)
{
	if (usable(m, kv, n) &&
	    tfo_otlp_point_double(c->b, m, 0, c->now_ns, v, kv, n) != TFO_OK)
		c->oom = 1;
}

void
sys_gauge_i(struct tfo_syscol *c, struct tfo_otlp_metric *m, int64_t v, tfo_kv *const *kv, size_t n)
{
	if (usable(m, kv, n) &&
	    tfo_otlp_point_int(c->b, m, 0, c->now_ns, v, kv, n) != TFO_OK)
		c->oom = 1;
}

void
sys_updown(struct tfo_syscol *c, struct tfo_otlp_metric *m, int64_t v, tfo_kv *const *kv, size_t n)
{
	if (usable(m, kv, n) &&
	    tfo_otlp_point_int(c->b, m, c->boot_ns, c->now_ns, v, kv, n) != TFO_OK)
		c->oom = 1;
}

/* ----------------------------------------------------------------- series */

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= 0xff;      /* separator, so "ab"+"c" != "a"+"bc" */
	return h * 0x100000001b3ull;
}

static uint64_t
series_key(struct tfo_otlp_metric *m, tfo_kv *const *kv, size_t n)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, tfo_otlp_metric_name(m));

	for (size_t i = 0; i < n; i++) {
		h = fnv(h, kv[i]->key);
		if (kv[i]->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			h = fnv(h, kv[i]->value->string_value);
		else if (kv[i]->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			h = (h ^ (uint64_t)kv[i]->value->int_value) * 0x100000001b3ull;
	}
	return h != 0 ? h : 1;
}

/* series_rehash - new table of cap slots keeping series seen lately */
static int
series_rehash(struct tfo_syscol *c, size_t cap)
{
	struct sys_series *nt = calloc(cap, sizeof(*nt));
	size_t n = 0;

	if (nt == NULL)
		return -1;
	for (size_t i = 0; i < c->tabcap; i++) {
		struct sys_series *s = &c->tab[i];
		size_t j;
		if (s->key == 0 || c->gen - s->seen > SYS_SERIES_GC)
			continue;
		for (j = s->key & (cap - 1); nt[j].key != 0; j = (j + 1) & (cap - 1))
			;
		nt[j] = *s;
		n++;
	}
	free(c->tab);
	c->tab = nt;
	c->tabcap = cap;
	c->tabn = n;
	return 0;
}

static struct sys_series *
series_get(struct tfo_syscol *c, uint64_t key, int *fresh)
{
	size_t j;

	if ((c->tabn + 1) * 2 > c->tabcap &&
	    series_rehash(c, c->tabcap != 0 ? c->tabcap * 2 : 256) != 0)
		return NULL;
	for (j = key & (c->tabcap - 1); c->tab[j].key != 0; j = (j + 1) & (c->tabcap - 1)) {
		if (c->tab[j].key == key) {
			*fresh = 0;
			return &c->tab[j];
		}
	}
	*fresh = 1;
	c->tab[j].key = key;
	c->tabn++;
	return &c->tab[j];
}

void
sys_counter(struct tfo_syscol *c, struct tfo_otlp_metric *m, uint64_t raw, double scale,
            tfo_kv *const *kv, size_t n)
{
	struct sys_series *s;
	int fresh;
	enum tfo_err e;

	if (!usable(m, kv, n))
		return;
	if ((s = series_get(c, series_key(m, kv, n), &fresh)) == NULL) {
		c->oom = 1;
		return;
	}
	if (fresh) {
		s->start_ns = c->boot_ns;   /* /proc counters count from boot */
		s->last = raw;
	} else if (raw < s->last && raw >= s->last / 2) {
		raw = s->last;              /* jitter (iowait ticks): never go backwards */
	} else if (raw < s->last) {
		/* wrap or device reset: a new series, starting after the last point */
		s->start_ns = s->last_ns + 1;
		s->last = raw;
		c->stats.series_resets++;
	} else {
		s->last = raw;
	}
	s->last_ns = c->now_ns;
	s->seen = c->gen;
	if (scale == 1.0)
		e = tfo_otlp_point_int(c->b, m, s->start_ns, c->now_ns,
		                       raw > INT64_MAX ? INT64_MAX : (int64_t)raw, kv, n);
	else
		e = tfo_otlp_point_double(c->b, m, s->start_ns, c->now_ns, (double)raw * scale, kv, n);
	if (e != TFO_OK)
		c->oom = 1;
}

/* ------------------------------------------------------------- lifecycle */

int
sys_due(const struct tfo_syscol *c, uint64_t at, uint64_t period_ns)
{
	/* a clock step backwards also forces a rescan */
	return at == 0 || c->now_ns < at || c->now_ns - at >= period_ns;
}

int
sys_slow_due(const struct tfo_syscol *c, uint64_t at)
{
	return sys_due(c, at, c->slow_ns);
}

void
sys_series_gc(struct tfo_syscol *c)
{
	if (c->gen % SYS_SERIES_GC == 0 && c->tabcap > 0)
		(void)series_rehash(c, c->tabcap);
}
