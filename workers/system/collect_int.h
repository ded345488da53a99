/*
 * collect_int.h - tfo-system collector state shared by collect.c (cycle,
 * reads, series) and the family files fam_host.c / fam_dev.c.
 */
#ifndef TFO_SYSTEM_COLLECT_INT_H
#define TFO_SYSTEM_COLLECT_INT_H

#include <stdint.h>

#include "common/otlp.h"
#include "common/procfs.h"
#include "workers/system/collect.h"
#include "workers/system/statfs.h"

enum sys_file {
	F_STAT, F_MEMINFO, F_VMSTAT, F_LOADAVG, F_UPTIME, F_DISKSTATS, F_NETDEV,
	F_TCP, F_TCP6, F_MOUNTINFO, F_SWAPS, F_SOCKSTAT, F_SOCKSTAT6, F_NFILES
};

#define SYS_MAX_CPUS 1024
#define SYS_MAX_FREQ 256            /* cpufreq fds held open */
#define SYS_MAX_DISKS 512
#define SYS_MAX_NETS 512
#define SYS_MAX_MOUNTS 512
#define SYS_MAX_SWAPS 32
#define SYS_STATFS_TIMEOUT_MS 500

struct sys_series {
	uint64_t key;                   /* 0 = empty slot */
	uint64_t last;                  /* highest raw value reported */
	uint64_t start_ns, last_ns;
	uint32_t seen;                  /* cycle number last seen */
};

struct tfo_syscol {
	char root[1024];
	unsigned families;
	char **exclude, **include;      /* fnmatch patterns on mountpoints */
	size_t nexclude, ninclude;
	const Opentelemetry__Proto__Resource__V1__Resource *res;

	int fd[F_NFILES];
	int proc_dirfd;
	char *buf;
	size_t bufcap;

	struct tfo_arena *arena;
	struct tfo_otlp_metrics *b;     /* the cycle being built */
	uint64_t now_ns, boot_ns;
	int oom;                        /* an allocation failed this cycle */

	struct tfo_proc_stat stat;      /* parsed once per cycle, shared */
	int stat_ok;
	struct tfo_cpu_times *cpus, *prev;
	size_t nprev;
	double tick_s;                  /* seconds per USER_HZ tick */
	unsigned phys_cores;            /* from cpuinfo at start; 0 unknown */
	int freq_fd[SYS_MAX_FREQ];
	int freq_cpu[SYS_MAX_FREQ];
	size_t nfreq;

	struct tfo_diskstat *disks;
	struct tfo_netdev *nets;
	struct tfo_mount *mounts;       /* the mounts to measure, [0, nwanted) */
	size_t nwanted;
	int mnt_valid;                  /* mounts holds the table as last read */
	int mnt_poll;                   /* its mountinfo is a procfs file: POLLPRI on change */
	size_t *fs_idx;                 /* this cycle's statfs i: mounts[fs_idx[i]] (arena) */
	struct tfo_swap swaps[SYS_MAX_SWAPS];

	struct sys_series *tab;
	size_t tabcap, tabn;
	uint32_t gen;

	struct sys_statfs *sf;
	unsigned statfs_timeout_ms;
	tfo_statvfs_fn statfs_fn;

	/* the slow scans (milliseconds each: one open+read per process, the
	 * kernel's whole TCP hash) are rescanned at most this often, their last
	 * counts reported in between */
	uint64_t slow_ns;               /* process states (TFO_TASKS_REFRESH_MS) */
	uint64_t tcp_ns;                /* TCP tables (TFO_TCP_REFRESH_MS) */
	uint64_t tcp_at, tasks_at;      /* now_ns of the last scan; 0 = never */
	int tcp_ok, tasks_ok;
	struct tfo_tcp_counts tcp;
	struct tfo_task_counts tasks;

	struct tfo_syscol_stats stats;
};

/* sys_open_file - open file f of the root (kept open between cycles); -1 if missing */
int sys_open_file(struct tfo_syscol *c, enum sys_file f);
/* sys_series_gc - every SYS_SERIES_GC cycles, forget the series not seen since */
void sys_series_gc(struct tfo_syscol *c);
/* sys_slow_due - time to rescan a slow source last scanned at *at? */
int sys_slow_due(const struct tfo_syscol *c, uint64_t at);
/* sys_due - the same with its own period */
int sys_due(const struct tfo_syscol *c, uint64_t at, uint64_t period_ns);

/* sys_read - (re)read file f into c->buf; 0 ok (text, len), -1 missing/failed */
int sys_read(struct tfo_syscol *c, enum sys_file f, const char **text, size_t *len);
/* sys_read_path - read root/rel into c->buf (files not kept open) */
int sys_read_path(struct tfo_syscol *c, const char *rel, const char **text, size_t *len);
/* sys_stat - /proc/stat of this cycle, parsed once; NULL when unavailable */
const struct tfo_proc_stat *sys_stat(struct tfo_syscol *c);

struct tfo_otlp_metric *sys_metric(struct tfo_syscol *c, const char *name, const char *unit,
                                   const char *desc, enum tfo_otlp_kind kind);
tfo_kv *sys_kv(struct tfo_syscol *c, const char *key, const char *value);
tfo_kv *sys_kv_int(struct tfo_syscol *c, const char *key, int64_t value);
void sys_gauge_d(struct tfo_syscol *c, struct tfo_otlp_metric *m, double v,
                 tfo_kv *const *kv, size_t n);
void sys_gauge_i(struct tfo_syscol *c, struct tfo_otlp_metric *m, int64_t v,
                 tfo_kv *const *kv, size_t n);
/* sys_updown - a cumulative non-monotonic sum (start = boot time) */
void sys_updown(struct tfo_syscol *c, struct tfo_otlp_metric *m, int64_t v,
                tfo_kv *const *kv, size_t n);
/*
 * sys_counter - a cumulative monotonic sum of raw counter value raw, reported
 * as raw * scale (a double when scale != 1). The series (metric + attribute
 * values) keeps a stable start time; a counter that went backwards starts a
 * new series, a tiny step back (jitter) repeats the last value.
 */
void sys_counter(struct tfo_syscol *c, struct tfo_otlp_metric *m, uint64_t raw, double scale,
                 tfo_kv *const *kv, size_t n);

/* families */
void sys_fam_cpu(struct tfo_syscol *c);
void sys_fam_load(struct tfo_syscol *c);
void sys_fam_memory(struct tfo_syscol *c);
void sys_fam_paging(struct tfo_syscol *c);
void sys_fam_processes(struct tfo_syscol *c);
void sys_fam_disk(struct tfo_syscol *c);
void sys_fam_network(struct tfo_syscol *c);
/* the filesystem family runs in two halves around the others */
void sys_fam_fs_start(struct tfo_syscol *c, size_t *nmounts, int *submitted);
void sys_fam_fs_finish(struct tfo_syscol *c, size_t nmounts, int submitted);
/* sys_cpu_init - cpufreq fds and cpuinfo physical cores, at start */
void sys_cpu_init(struct tfo_syscol *c);
void sys_cpu_fini(struct tfo_syscol *c);

#endif
