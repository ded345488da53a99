/*
 * collect.c - tfo-system's collection cycle: long-lived /proc fds, the read
 * buffer, the cumulative-series table and the OTLP encode of one cycle.
 * Families live in fam_host.c and fam_dev.c, what they share in source.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include "common/zarray.h"
#include "workers/system/collect_int.h"

#define SYS_BUF_INIT (64u * 1024u)

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
	struct statfs sfs;

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
		c->fd[f] = sys_open_file(c, (enum sys_file)f);
	c->mnt_poll = c->fd[F_MOUNTINFO] >= 0 && fstatfs(c->fd[F_MOUNTINFO], &sfs) == 0 &&
	    sfs.f_type == PROC_SUPER_MAGIC;
	c->proc_dirfd = -1;
	if (tfo_procfs_path(c->root, "proc", path, sizeof(path)) == TFO_OK)
		c->proc_dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((c->families & (1u << TFO_SYS_FILESYSTEM)) && (c->sf = sys_statfs_new(NULL)) == NULL)
		return -1;
	return 0;
}

void
tfo_syscol_release(struct tfo_syscol *c)
{
	tfo_arena_reset(c->arena);
	c->b = NULL;                    /* it lived in the arena */
	tfo_arena_release(c->arena);
	tfo_pages_release(c->buf, c->bufcap);
}

struct tfo_syscol *
tfo_syscol_new(const Tfo__V1__SystemConfig *cfg,
               const Opentelemetry__Proto__Resource__V1__Resource *res)
{
	/* from mmap: of its 21 KiB (the swap table, cpufreq fds, the root)
	 * an ordinary host touches a few pages; calloc zeroed all resident */
	struct tfo_syscol *c = tfo_zarray_alloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	for (int f = 0; f < F_NFILES; f++)
		c->fd[f] = -1;
	c->proc_dirfd = -1;
	snprintf(c->root, sizeof(c->root), "%s", cfg->proc_root != NULL ? cfg->proc_root : "");
	c->families = families_of(cfg);
	c->res = res;
	c->statfs_timeout_ms = SYS_STATFS_TIMEOUT_MS;
	c->slow_ns = TFO_TASKS_REFRESH_MS * 1000000ull;
	c->tcp_ns = TFO_TCP_REFRESH_MS * 1000000ull;
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
	c->slow_ns = c->tcp_ns = (uint64_t)ms * 1000000ull;
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
	tfo_zarray_free(c, 1, sizeof(*c));
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
	sys_series_gc(c);
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
