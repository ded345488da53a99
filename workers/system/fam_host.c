/*
 * fam_host.c - tfo-system's host-wide families: cpu, load, memory, paging,
 * processes. Names, units and attributes are those of the semconv v1.44
 * model files (docs/metrics.md lists them).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "workers/system/collect_int.h"

/* ------------------------------------------------------------------- cpu */

enum { M_USER, M_SYSTEM, M_NICE, M_IDLE, M_IOWAIT, M_INTERRUPT, M_STEAL, M_N };

static const char *const mode_names[M_N] = {
	"user", "system", "nice", "idle", "iowait", "interrupt", "steal",
};

/* modes - /proc/stat columns folded into the semconv cpu.mode values */
static void
modes(const struct tfo_cpu_times *ct, uint64_t m[M_N])
{
	m[M_USER] = ct->t[TFO_CPU_USER];        /* includes guest time */
	m[M_SYSTEM] = ct->t[TFO_CPU_SYSTEM];
	m[M_NICE] = ct->t[TFO_CPU_NICE];        /* includes guest_nice */
	m[M_IDLE] = ct->t[TFO_CPU_IDLE];
	m[M_IOWAIT] = ct->t[TFO_CPU_IOWAIT];
	m[M_INTERRUPT] = ct->t[TFO_CPU_IRQ] + ct->t[TFO_CPU_SOFTIRQ];
	m[M_STEAL] = ct->t[TFO_CPU_STEAL];
}

static const struct tfo_cpu_times *
prev_of(const struct tfo_syscol *c, size_t i, int cpu)
{
	if (i < c->nprev && c->prev[i].cpu == cpu)
		return &c->prev[i];
	for (size_t j = 0; j < c->nprev; j++)
		if (c->prev[j].cpu == cpu)
			return &c->prev[j];
	return NULL;
}

/* cpu_one - time and utilization points of one logical CPU */
static void
cpu_one(struct tfo_syscol *c, struct tfo_otlp_metric *mt, struct tfo_otlp_metric *mu,
        tfo_kv *const *mode_kv, const struct tfo_cpu_times *ct, const struct tfo_cpu_times *pv)
{
	tfo_kv *kv[2] = { NULL, sys_kv_int(c, "cpu.logical_number", ct->cpu) };
	uint64_t now[M_N], before[M_N], dtotal = 0;

	modes(ct, now);
	for (int k = 0; k < M_N; k++) {
		kv[0] = mode_kv[k];
		sys_counter(c, mt, now[k], c->tick_s, kv, 2);
	}
	if (pv == NULL)
		return;
	modes(pv, before);
	for (int k = 0; k < M_N; k++)
		dtotal += now[k] > before[k] ? now[k] - before[k] : 0;
	if (dtotal == 0)
		return;
	for (int k = 0; k < M_N; k++) {
		uint64_t d = now[k] > before[k] ? now[k] - before[k] : 0;
		kv[0] = mode_kv[k];
		sys_gauge_d(c, mu, (double)d / (double)dtotal, kv, 2);
	}
}

/* cpu_freq - system.cpu.frequency from cpufreq, where /sys has it */
static void
cpu_freq(struct tfo_syscol *c)
{
	struct tfo_otlp_metric *m = NULL;
	char buf[64];

	for (size_t i = 0; i < c->nfreq; i++) {
		uint64_t khz;
		size_t len;
		tfo_kv *kv;
		if (tfo_procfs_read_fd(c->freq_fd[i], buf, sizeof(buf), &len) != TFO_OK ||
		    tfo_procfs_u64(buf, len, &khz) != TFO_OK || khz > INT64_MAX / 1000)
			continue;
		if (m == NULL && (m = sys_metric(c, "system.cpu.frequency", "Hz",
		    "Operating frequency of the logical CPU in Hertz.", TFO_OTLP_GAUGE)) == NULL)
			return;
		kv = sys_kv_int(c, "cpu.logical_number", c->freq_cpu[i]);
		sys_gauge_i(c, m, (int64_t)(khz * 1000), &kv, 1);
	}
}

void
sys_fam_cpu(struct tfo_syscol *c)
{
	const struct tfo_proc_stat *st = sys_stat(c);
	struct tfo_otlp_metric *mt, *mu, *ml, *mp;
	tfo_kv *mode_kv[M_N];

	if (st == NULL)
		return;
	mt = sys_metric(c, "system.cpu.time", "s", "Seconds each logical CPU spent on each mode.",
	                TFO_OTLP_COUNTER);
	mu = sys_metric(c, "system.cpu.utilization", "1",
	                "Fraction of time each logical CPU spent on each mode over the interval.",
	                TFO_OTLP_GAUGE);
	for (int k = 0; k < M_N; k++)
		mode_kv[k] = sys_kv(c, "cpu.mode", mode_names[k]);
	for (size_t i = 0; i < st->ncpus; i++)
		cpu_one(c, mt, mu, mode_kv, &st->cpus[i], prev_of(c, i, st->cpus[i].cpu));
	memcpy(c->prev, st->cpus, st->ncpus * sizeof(*st->cpus));
	c->nprev = st->ncpus;
	ml = sys_metric(c, "system.cpu.logical.count", "{cpu}",
	                "Number of logical (virtual) processor cores online.", TFO_OTLP_UPDOWN);
	sys_updown(c, ml, (int64_t)(st->ncpus + st->cpus_dropped), NULL, 0);
	if (c->phys_cores > 0) {
		mp = sys_metric(c, "system.cpu.physical.count", "{cpu}",
		                "Number of physical processor cores.", TFO_OTLP_UPDOWN);
		sys_updown(c, mp, c->phys_cores, NULL, 0);
	}
	cpu_freq(c);
}

void
sys_cpu_init(struct tfo_syscol *c)
{
	const struct tfo_proc_stat *st;
	struct tfo_cpuinfo ci;
	const char *t;
	size_t len;
	long hz = sysconf(_SC_CLK_TCK);

	c->tick_s = 1.0 / (double)(hz > 0 ? hz : 100);
	c->stat_ok = 0;
	/* prime the previous sample so the first cycle has utilization */
	if ((st = sys_stat(c)) != NULL) {
		memcpy(c->prev, st->cpus, st->ncpus * sizeof(*st->cpus));
		c->nprev = st->ncpus;
	}
	c->stat_ok = 0;
	if (sys_read_path(c, "proc/cpuinfo", &t, &len) == 0 &&
	    tfo_procfs_cpuinfo(t, len, &ci) == TFO_OK)
		c->phys_cores = ci.cores;
	for (size_t i = 0; i < c->nprev && c->nfreq < SYS_MAX_FREQ; i++) {
		char rel[96], path[2048];
		int fd;
		snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq",
		         c->prev[i].cpu);
		if (tfo_procfs_path(c->root, rel, path, sizeof(path)) != TFO_OK ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;   /* no cpufreq (VMs): the metric is omitted */
		c->freq_fd[c->nfreq] = fd;
		c->freq_cpu[c->nfreq++] = c->prev[i].cpu;
	}
}

void
sys_cpu_fini(struct tfo_syscol *c)
{
	for (size_t i = 0; i < c->nfreq; i++)
		close(c->freq_fd[i]);
	c->nfreq = 0;
}

/* ------------------------------------------------------------------ load */

void
sys_fam_load(struct tfo_syscol *c)
{
	struct tfo_loadavg la;
	const char *t;
	size_t len;

	if (sys_read(c, F_LOADAVG, &t, &len) != 0)
		return;
	if (tfo_procfs_loadavg(t, len, &la) != TFO_OK) {
		c->stats.read_errors++;
		return;
	}
	/* semconv has no load average: these are the hostmetrics receiver's names */
	sys_gauge_d(c, sys_metric(c, "system.cpu.load_average.1m", "{thread}",
	            "Average CPU load over 1 minute.", TFO_OTLP_GAUGE), la.load1, NULL, 0);
	sys_gauge_d(c, sys_metric(c, "system.cpu.load_average.5m", "{thread}",
	            "Average CPU load over 5 minutes.", TFO_OTLP_GAUGE), la.load5, NULL, 0);
	sys_gauge_d(c, sys_metric(c, "system.cpu.load_average.15m", "{thread}",
	            "Average CPU load over 15 minutes.", TFO_OTLP_GAUGE), la.load15, NULL, 0);
}

/* ---------------------------------------------------------------- memory */

static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static int64_t
i64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* mem_states - usage and utilization by system.memory.state */
static void
mem_states(struct tfo_syscol *c, const struct tfo_meminfo *mi)
{
	const uint64_t *v = mi->v;
	uint64_t total = v[TFO_MEM_TOTAL], used;
	const char *names[4] = { "used", "free", "buffers", "cached" };
	uint64_t vals[4];
	struct tfo_otlp_metric *mu, *mf;

	if (TFO_MEM_HAS(mi, TFO_MEM_AVAILABLE))
		used = sub0(total, v[TFO_MEM_AVAILABLE]);
	else    /* before 3.14: the older formula, as semconv allows */
		used = sub0(total, v[TFO_MEM_FREE] + v[TFO_MEM_BUFFERS] + v[TFO_MEM_CACHED]);
	vals[0] = used;
	vals[1] = v[TFO_MEM_FREE];
	vals[2] = v[TFO_MEM_BUFFERS];
	vals[3] = v[TFO_MEM_CACHED];
	mu = sys_metric(c, "system.memory.usage", "By", "Reports memory in use by state.",
	                TFO_OTLP_UPDOWN);
	mf = total > 0 ? sys_metric(c, "system.memory.utilization", "1",
	                 "Fraction of memory bytes in use, by state.", TFO_OTLP_GAUGE) : NULL;
	for (int i = 0; i < 4; i++) {
		tfo_kv *kv = sys_kv(c, "system.memory.state", names[i]);
		if (i >= 2 && !TFO_MEM_HAS(mi, i == 2 ? TFO_MEM_BUFFERS : TFO_MEM_CACHED))
			continue;
		sys_updown(c, mu, i64(vals[i]), &kv, 1);
		if (mf != NULL)
			sys_gauge_d(c, mf, (double)vals[i] / (double)total, &kv, 1);
	}
}

void
sys_fam_memory(struct tfo_syscol *c)
{
	struct tfo_meminfo mi;
	const char *t;
	size_t len;

	if (sys_read(c, F_MEMINFO, &t, &len) != 0)
		return;
	if (tfo_procfs_meminfo(t, len, &mi) != TFO_OK) {
		c->stats.read_errors++;
		return;
	}
	mem_states(c, &mi);
	sys_updown(c, sys_metric(c, "system.memory.limit", "By",
	           "Total memory available in the system.", TFO_OTLP_UPDOWN),
	           i64(mi.v[TFO_MEM_TOTAL]), NULL, 0);
	if (TFO_MEM_HAS(&mi, TFO_MEM_AVAILABLE))
		sys_updown(c, sys_metric(c, "system.memory.linux.available", "By",
		           "Estimate of memory available for new applications without swapping.",
		           TFO_OTLP_UPDOWN), i64(mi.v[TFO_MEM_AVAILABLE]), NULL, 0);
	if (TFO_MEM_HAS(&mi, TFO_MEM_SHMEM))
		sys_updown(c, sys_metric(c, "system.memory.linux.shared", "By",
		           "Shared memory used (mostly by tmpfs).", TFO_OTLP_UPDOWN),
		           i64(mi.v[TFO_MEM_SHMEM]), NULL, 0);
	if (TFO_MEM_HAS(&mi, TFO_MEM_SRECLAIMABLE) && TFO_MEM_HAS(&mi, TFO_MEM_SUNRECLAIM)) {
		struct tfo_otlp_metric *m = sys_metric(c, "system.memory.linux.slab.usage", "By",
		    "Memory used by the kernel's slab caches, by state.", TFO_OTLP_UPDOWN);
		tfo_kv *kr = sys_kv(c, "system.memory.linux.slab.state", "reclaimable");
		tfo_kv *ku = sys_kv(c, "system.memory.linux.slab.state", "unreclaimable");
		sys_updown(c, m, i64(mi.v[TFO_MEM_SRECLAIMABLE]), &kr, 1);
		sys_updown(c, m, i64(mi.v[TFO_MEM_SUNRECLAIM]), &ku, 1);
	}
}

/* ---------------------------------------------------------------- paging */

/* paging_usage - per swap device from /proc/swaps; none configured = no points */
static void
paging_usage(struct tfo_syscol *c)
{
	struct tfo_otlp_metric *mu = NULL, *mf = NULL;
	const char *t;
	size_t len, n = 0;

	if (sys_read(c, F_SWAPS, &t, &len) != 0)
		return;
	(void)tfo_procfs_swaps(t, len, c->swaps, SYS_MAX_SWAPS, &n, NULL);
	if (n == 0)
		return;
	mu = sys_metric(c, "system.paging.usage", "By", "Swap usage.", TFO_OTLP_UPDOWN);
	mf = sys_metric(c, "system.paging.utilization", "1", "Swap utilization.", TFO_OTLP_GAUGE);
	for (size_t i = 0; i < n; i++) {
		const struct tfo_swap *sw = &c->swaps[i];
		uint64_t fr = sub0(sw->size_bytes, sw->used_bytes);
		tfo_kv *ku[2] = { sys_kv(c, "system.device", sw->filename),
		                  sys_kv(c, "system.paging.state", "used") };
		tfo_kv *kf[2] = { ku[0], sys_kv(c, "system.paging.state", "free") };
		sys_updown(c, mu, i64(sw->used_bytes), ku, 2);
		sys_updown(c, mu, i64(fr), kf, 2);
		if (sw->size_bytes == 0)
			continue;
		sys_gauge_d(c, mf, (double)sw->used_bytes / (double)sw->size_bytes, ku, 2);
		sys_gauge_d(c, mf, (double)fr / (double)sw->size_bytes, kf, 2);
	}
}

void
sys_fam_paging(struct tfo_syscol *c)
{
	struct tfo_vmstat vm;
	struct tfo_otlp_metric *mo, *mf;
	tfo_kv *major, *minor, *in, *out, *kv[2];
	const char *t;
	size_t len;

	paging_usage(c);
	if (sys_read(c, F_VMSTAT, &t, &len) != 0)
		return;
	if (tfo_procfs_vmstat(t, len, &vm) != TFO_OK) {
		c->stats.read_errors++;
		return;
	}
	major = sys_kv(c, "system.paging.fault.type", "major");
	minor = sys_kv(c, "system.paging.fault.type", "minor");
	in = sys_kv(c, "system.paging.direction", "in");
	out = sys_kv(c, "system.paging.direction", "out");
	/* as hostmetrics: swap-ins/outs are "major", page-ins/outs "minor" */
	mo = sys_metric(c, "system.paging.operations", "{operation}",
	                "The number of paging operations.", TFO_OTLP_COUNTER);
	if (TFO_VM_HAS(&vm, TFO_VM_PSWPIN) && TFO_VM_HAS(&vm, TFO_VM_PSWPOUT)) {
		kv[0] = major, kv[1] = in;
		sys_counter(c, mo, vm.v[TFO_VM_PSWPIN], 1.0, kv, 2);
		kv[1] = out;
		sys_counter(c, mo, vm.v[TFO_VM_PSWPOUT], 1.0, kv, 2);
	}
	if (TFO_VM_HAS(&vm, TFO_VM_PGPGIN) && TFO_VM_HAS(&vm, TFO_VM_PGPGOUT)) {
		kv[0] = minor, kv[1] = in;
		sys_counter(c, mo, vm.v[TFO_VM_PGPGIN], 1.0, kv, 2);
		kv[1] = out;
		sys_counter(c, mo, vm.v[TFO_VM_PGPGOUT], 1.0, kv, 2);
	}
	if (TFO_VM_HAS(&vm, TFO_VM_PGFAULT) && TFO_VM_HAS(&vm, TFO_VM_PGMAJFAULT)) {
		mf = sys_metric(c, "system.paging.faults", "{fault}", "The number of page faults.",
		                TFO_OTLP_COUNTER);
		sys_counter(c, mf, vm.v[TFO_VM_PGMAJFAULT], 1.0, &major, 1);
		/* pgfault counts every fault, major ones included */
		sys_counter(c, mf, sub0(vm.v[TFO_VM_PGFAULT], vm.v[TFO_VM_PGMAJFAULT]), 1.0, &minor, 1);
	}
}

/* ------------------------------------------------------------- processes */

void
sys_fam_processes(struct tfo_syscol *c)
{
	const struct tfo_proc_stat *st = sys_stat(c);
	const struct tfo_task_counts *tc = &c->tasks;
	struct tfo_uptime up;
	const char *t;
	size_t len;

	if (sys_slow_due(c, c->tasks_at)) {
		c->tasks_ok = tfo_procfs_task_counts(c->root, c->proc_dirfd, &c->tasks) == TFO_OK;
		c->tasks_at = c->now_ns;
	}
	if (c->tasks_ok) {
		static const char *const names[4] = { "running", "sleeping", "stopped", "defunct" };
		uint64_t v[4] = {
			tc->n[TFO_TASK_RUNNING],
			tc->n[TFO_TASK_SLEEPING] + tc->n[TFO_TASK_DISK_SLEEP],
			tc->n[TFO_TASK_STOPPED],
			tc->n[TFO_TASK_ZOMBIE],
		};
		struct tfo_otlp_metric *m = sys_metric(c, "system.process.count", "{process}",
		    "Total number of processes in each state.", TFO_OTLP_UPDOWN);
		for (int i = 0; i < 4; i++) {
			tfo_kv *kv = sys_kv(c, "process.state", names[i]);
			sys_updown(c, m, i64(v[i]), &kv, 1);
		}
	}
	if (st != NULL && (st->have & TFO_STAT_HAVE_PROCESSES))
		sys_counter(c, sys_metric(c, "system.process.created", "{process}",
		            "Total number of processes created over uptime of the host.",
		            TFO_OTLP_COUNTER), st->processes, 1.0, NULL, 0);
	if (sys_read(c, F_UPTIME, &t, &len) == 0) {
		if (tfo_procfs_uptime(t, len, &up) == TFO_OK)
			sys_gauge_d(c, sys_metric(c, "system.uptime", "s",
			            "The time the system has been running.", TFO_OTLP_GAUGE),
			            up.uptime_s, NULL, 0);
		else
			c->stats.read_errors++;
	}
}
