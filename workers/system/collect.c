/*
 * collect.c - tfo-system's collection cycle: long-lived /proc fds, the read
 * buffer, the cumulative-series table and the OTLP encode of one cycle.
 * Families live in fam_host.c and fam_dev.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/zarray.h"
#include "workers/system/collect_int.h"

#define SYS_BUF_INIT (64u * 1024u)
#define SYS_BUF_MAX (8u * 1024u * 1024u)
#define SYS_SERIES_GC 64            /* cycles a vanished series is remembered */

static const char *const file_rel[F_NFILES] = {
	[F_STAT] = "proc/stat", [F_MEMINFO] = "proc/meminfo", [F_VMSTAT] = "proc/vmstat",
	[F_LOADAVG] = "proc/loadavg", [F_UPTIME] = "proc/uptime",
	[F_DISKSTATS] = "proc/diskstats", [F_NETDEV] = "proc/net/dev",
	[F_TCP] = "proc/net/tcp", [F_TCP6] = "proc/net/tcp6",
	[F_MOUNTINFO] = "proc/self/mountinfo", [F_SWAPS] = "proc/swaps",
};

static const char *const family_names[TFO_SYS_NFAMILIES] = {
	[TFO_SYS_CPU] = "cpu", [TFO_SYS_LOAD] = "load", [TFO_SYS_MEMORY] = "memory",
	[TFO_SYS_PAGING] = "paging", [TFO_SYS_DISK] = "disk",
	[TFO_SYS_FILESYSTEM] = "filesystem", [TFO_SYS_NETWORK] = "network",
	[TFO_SYS_PROCESSES] = "processes",
};

const char *
tfo_syscol_family_name(enum tfo_sys_family f)
{
	return (unsigned)f < TFO_SYS_NFAMILIES ? family_names[f] : "?";
}

/* ------------------------------------------------------------------ reads */

static int
open_rel(struct tfo_syscol *c, const char *rel)
{
	char path[2048];

	if (tfo_procfs_path(c->root, rel, path, sizeof(path)) != TFO_OK)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/* read_grow - read fd into c->buf, doubling the buffer while the file is longer */
static int
read_grow(struct tfo_syscol *c, int fd, size_t *len)
{
	for (;;) {
		enum tfo_err e = tfo_procfs_read_fd(fd, c->buf, c->bufcap, len);
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
	if (read_grow(c, c->fd[f], len) != 0) {
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
	rc = read_grow(c, fd, len);
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

static int
copy_list(char ***dst, size_t *n, char *const *src, size_t count)
{
	*n = 0;
	if (count == 0)
		return 0;
	if ((*dst = calloc(count, sizeof(**dst))) == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (src[i] == NULL || src[i][0] == '\0')
			continue;
		if (((*dst)[*n] = strdup(src[i])) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

static unsigned
families_of(const Tfo__V1__SystemConfig *cfg)
{
	unsigned f = 0;

	f |= cfg->cpu ? 1u << TFO_SYS_CPU : 0;
	f |= cfg->load ? 1u << TFO_SYS_LOAD : 0;
	f |= cfg->memory ? 1u << TFO_SYS_MEMORY : 0;
	f |= cfg->paging ? 1u << TFO_SYS_PAGING : 0;
	f |= cfg->disk ? 1u << TFO_SYS_DISK : 0;
	f |= cfg->filesystem ? 1u << TFO_SYS_FILESYSTEM : 0;
	f |= cfg->network ? 1u << TFO_SYS_NETWORK : 0;
	f |= cfg->processes ? 1u << TFO_SYS_PROCESSES : 0;
	return f;
}

/* boot_time - btime of /proc/stat, else now - uptime */
static void
boot_time(struct tfo_syscol *c)
{
	const struct tfo_proc_stat *st = sys_stat(c);
	struct tfo_uptime up;
	struct timespec ts;
	const char *t;
	size_t len;

	c->stat_ok = 0;
	if (st != NULL && (st->have & TFO_STAT_HAVE_BTIME)) {
		c->boot_ns = st->btime * 1000000000ull;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	c->boot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (sys_read(c, F_UPTIME, &t, &len) == 0 && tfo_procfs_uptime(t, len, &up) == TFO_OK &&
	    up.uptime_s * 1e9 < (double)c->boot_ns)
		c->boot_ns -= (uint64_t)(up.uptime_s * 1e9);
}

static int
syscol_alloc(struct tfo_syscol *c, const Tfo__V1__SystemConfig *cfg)
{
	char path[2048];

	c->bufcap = SYS_BUF_INIT;
	if ((c->buf = malloc(c->bufcap)) == NULL ||
	    (c->cpus = tfo_zarray_alloc(SYS_MAX_CPUS, sizeof(*c->cpus))) == NULL ||
	    (c->prev = tfo_zarray_alloc(SYS_MAX_CPUS, sizeof(*c->prev))) == NULL ||
	    (c->disks = tfo_zarray_alloc(SYS_MAX_DISKS, sizeof(*c->disks))) == NULL ||
	    (c->nets = tfo_zarray_alloc(SYS_MAX_NETS, sizeof(*c->nets))) == NULL ||
	    (c->mounts = tfo_zarray_alloc(SYS_MAX_MOUNTS, sizeof(*c->mounts))) == NULL ||
	    (c->arena = tfo_arena_new(64 * 1024)) == NULL)
		return -1;
	if (copy_list(&c->exclude, &c->nexclude, cfg->exclude_mounts, cfg->n_exclude_mounts) ||
	    copy_list(&c->include, &c->ninclude, cfg->disk_paths, cfg->n_disk_paths))
		return -1;
	for (int f = 0; f < F_NFILES; f++)
		c->fd[f] = open_rel(c, file_rel[f]);
	c->proc_dirfd = -1;
	if (tfo_procfs_path(c->root, "proc", path, sizeof(path)) == TFO_OK)
		c->proc_dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((c->families & (1u << TFO_SYS_FILESYSTEM)) && (c->sf = sys_statfs_new(NULL)) == NULL)
		return -1;
	return 0;
}

struct tfo_syscol *
tfo_syscol_new(const Tfo__V1__SystemConfig *cfg,
               const Opentelemetry__Proto__Resource__V1__Resource *res)
{
	struct tfo_syscol *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	for (int f = 0; f < F_NFILES; f++)
		c->fd[f] = -1;
	c->proc_dirfd = -1;
	snprintf(c->root, sizeof(c->root), "%s", cfg->proc_root != NULL ? cfg->proc_root : "");
	c->families = families_of(cfg);
	c->res = res;
	c->statfs_timeout_ms = SYS_STATFS_TIMEOUT_MS;
	c->slow_ns = SYS_SLOW_SCAN_MS * 1000000ull;
	if (syscol_alloc(c, cfg) != 0) {
		tfo_syscol_free(c);
		return NULL;
	}
	boot_time(c);
	sys_cpu_init(c);
	return c;
}

void
tfo_syscol_set_statfs(struct tfo_syscol *c, unsigned timeout_ms, tfo_statvfs_fn fn)
{
	c->statfs_timeout_ms = timeout_ms;
	c->statfs_fn = fn;
	if (c->sf != NULL)
		sys_statfs_set_fn(c->sf, fn);
}

void
tfo_syscol_set_slow_scan(struct tfo_syscol *c, unsigned ms)
{
	c->slow_ns = (uint64_t)ms * 1000000ull;
}

int
sys_slow_due(const struct tfo_syscol *c, uint64_t at)
{
	/* a clock step backwards also forces a rescan */
	return at == 0 || c->now_ns < at || c->now_ns - at >= c->slow_ns;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
tfo_syscol_free(struct tfo_syscol *c)
{
	if (c == NULL)
		return;
	sys_statfs_free(c->sf);
	sys_cpu_fini(c);
	for (int f = 0; f < F_NFILES; f++)
		if (c->fd[f] >= 0)
			close(c->fd[f]);
	if (c->proc_dirfd >= 0)
		close(c->proc_dirfd);
	free_list(c->exclude, c->nexclude);
	free_list(c->include, c->ninclude);
	tfo_arena_free(c->arena);
	free(c->tab);
	tfo_zarray_free(c->mounts, SYS_MAX_MOUNTS, sizeof(*c->mounts));
	tfo_zarray_free(c->nets, SYS_MAX_NETS, sizeof(*c->nets));
	tfo_zarray_free(c->disks, SYS_MAX_DISKS, sizeof(*c->disks));
	tfo_zarray_free(c->prev, SYS_MAX_CPUS, sizeof(*c->prev));
	tfo_zarray_free(c->cpus, SYS_MAX_CPUS, sizeof(*c->cpus));
	free(c->buf);
	free(c);
}

const struct tfo_syscol_stats *
tfo_syscol_stats(const struct tfo_syscol *c)
{
	return &c->stats;
}

/* ------------------------------------------------------------------ cycle */

static void (*const family_fn[TFO_SYS_NFAMILIES])(struct tfo_syscol *) = {
	[TFO_SYS_CPU] = sys_fam_cpu, [TFO_SYS_LOAD] = sys_fam_load,
	[TFO_SYS_MEMORY] = sys_fam_memory, [TFO_SYS_PAGING] = sys_fam_paging,
	[TFO_SYS_DISK] = sys_fam_disk, [TFO_SYS_NETWORK] = sys_fam_network,
	[TFO_SYS_PROCESSES] = sys_fam_processes,
};

enum tfo_err
tfo_syscol_cycle_mask(struct tfo_syscol *c, unsigned mask, uint64_t now_ns, uint8_t **out,
                      size_t *len, uint32_t *points)
{
	size_t nmounts = 0;
	int submitted = 0;
	enum tfo_err e;

	tfo_arena_reset(c->arena);
	c->oom = 0;
	c->stat_ok = 0;
	c->now_ns = now_ns;
	c->gen++;
	mask &= c->families;
	if ((c->b = tfo_otlp_metrics_new(c->arena, c->res, "tfo-agent/system", TFO_VERSION,
	                                 "https://opentelemetry.io/schemas/1.44.0")) == NULL)
		return TFO_ENOMEM;
	/* statfs first: it runs on its thread while the other families are read */
	if (mask & (1u << TFO_SYS_FILESYSTEM))
		sys_fam_fs_start(c, &nmounts, &submitted);
	for (unsigned f = 0; f < TFO_SYS_NFAMILIES; f++)
		if ((mask & (1u << f)) && family_fn[f] != NULL)
			family_fn[f](c);
	if (mask & (1u << TFO_SYS_FILESYSTEM))
		sys_fam_fs_finish(c, nmounts, submitted);
	if (c->gen % SYS_SERIES_GC == 0 && c->tabcap > 0)
		(void)series_rehash(c, c->tabcap);
	if (c->oom)
		return TFO_ENOMEM;
	if ((e = tfo_otlp_metrics_encode(c->b, out, len)) != TFO_OK)
		return e;
	*points = tfo_otlp_metrics_points(c->b);
	c->stats.cycles++;
	c->stats.points = *points;
	c->stats.bytes = *len;
	return TFO_OK;
}

enum tfo_err
tfo_syscol_cycle(struct tfo_syscol *c, uint64_t now_ns, uint8_t **out, size_t *len,
                 uint32_t *points)
{
	return tfo_syscol_cycle_mask(c, TFO_SYS_ALL, now_ns, out, len, points);
}
