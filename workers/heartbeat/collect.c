/*
 * collect.c - host, cpu, memory, process and resource fields of SystemInfo
 * (tfo-heartbeat); disk and network live in collect_io.c. Keeps the previous
 * samples so percentages and rates cover the last interval, not since boot.
 */
#include "workers/heartbeat/collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/procfs.h"
#include "common/zarray.h"
#include "workers/heartbeat/collect_io.h"

#define HB_BUF (256 * 1024)
/* /proc/sys files: the kernel allocates and zeroes a buffer as large as
 * the read asks for (proc_sys_call_handler), so they are read with a small one */
#define HB_SYSCTL_BUF 256

struct hb_collector {
	char root[1024];
	char hostname[HB_STR];
	char version[64];
	char *buf;                        /* one read buffer for every file */
	struct tfo_cpuinfo cpuinfo;       /* model, vendor, cores: read once */
	int have_cpuinfo;
	struct tfo_container_info container;
	struct tfo_virt_info virt;
	struct tfo_cloud_info cloud;
	uint64_t start_unix;
	/* previous samples */
	struct tfo_cpu_times prev_total, *prev_cpus, *cur_cpus;
	size_t prev_ncpus;
	uint64_t prev_swpin, prev_swpout, prev_vm_ns;
	int have_vm;
	struct hb_io_prev io;
	struct hb_io_tabs tabs;
	struct hb_tcp_cache tcp;
	struct tfo_task_counts tasks;     /* the last walk's, taken at tasks_ns */
	uint64_t tasks_ns;
	int tasks_ok;
};

struct tfo_cloud_info *hb_collector_cloud(struct hb_collector *c) { return &c->cloud; }

uint64_t
hb_collector_mount_reads(const struct hb_collector *c)
{
	return c->tabs.mount_reads;
}

/* cloud_field - a sibling's string into a payload field: printable ASCII
 * without JSON's quote and backslash, cut to the field */
static size_t
cloud_field(char *dst, size_t cap, const char *src)
{
	size_t j = 0;

	for (const char *p = src ? src : ""; *p != '\0' && j + 1 < cap; p++)
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			dst[j++] = *p;
	dst[j] = '\0';
	return j;
}

int
hb_cloud_merge(struct tfo_cloud_info *ci, const Tfo__V1__CloudInfo *in)
{
	struct tfo_cloud_info got;

	memset(&got, 0, sizeof(got));
	if (cloud_field(got.provider, sizeof(got.provider), in->provider) == 0 ||
	    cloud_field(got.instance_id, sizeof(got.instance_id), in->instance_id) == 0)
		return -1;
	cloud_field(got.instance_type, sizeof(got.instance_type), in->instance_type);
	cloud_field(got.region, sizeof(got.region), in->region);
	cloud_field(got.zone, sizeof(got.zone), in->zone);
	*ci = got;
	return 0;
}

/* rd_cap - read root/rel into the shared buffer, at most cap bytes; length,
 * or -1 if unreadable */
static long
rd_cap(struct hb_collector *c, const char *rel, size_t cap)
{
	size_t len = 0;
	enum tfo_err e = tfo_procfs_read(c->root, rel, c->buf, cap, &len);

	return (e == TFO_OK || e == TFO_ERANGE) ? (long)len : -1;
}

static long
rd(struct hb_collector *c, const char *rel)
{
	return rd_cap(c, rel, strncmp(rel, "proc/sys/", 9) == 0 ? HB_SYSCTL_BUF : HB_BUF);
}

static void
copy_trim(char *dst, size_t cap, const char *src, size_t n)
{
	if (cap == 0)
		return;
	while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == ' ' || src[n - 1] == '\r'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

/* read_str - first line of root/rel into dst; false if absent */
static int
read_str(struct hb_collector *c, const char *rel, char *dst, size_t cap)
{
	long n = rd(c, rel);
	const char *nl;

	if (n <= 0)
		return 0;
	nl = memchr(c->buf, '\n', (size_t)n);
	copy_trim(dst, cap, c->buf, nl ? (size_t)(nl - c->buf) : (size_t)n);
	return dst[0] != '\0';
}

/* ---------------------------------------------------------------- small parsers */

int
hb_parse_file_nr(const char *buf, size_t len, uint64_t *open_fds, uint64_t *max_fds)
{
	char tmp[128], *p, *end;
	unsigned long long v[3];

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	p = tmp;
	for (int i = 0; i < 3; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno != 0 || end == p)
			return -1;
		p = end;
	}
	if (v[1] > v[0])
		return -1;
	*open_fds = v[0] - v[1];   /* allocated minus allocated-but-unused */
	*max_fds = v[2];
	return 0;
}

/* ---------------------------------------------------------------- host */

/* go_arch - GOARCH-style names, as the spec's example ("amd64") uses */
static const char *
go_arch(const char *m)
{
	static const struct { const char *uname, *go; } map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },
		{ "i386", "386" }, { "armv7l", "arm" }, { "armv6l", "arm" },
		{ "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(m, map[i].uname) == 0)
			return map[i].go;
	return m;
}

static const char *
family_of(const char *id, const char *like)
{
	static const struct { const char *word, *family; } fam[] = {
		{ "debian", "debian" }, { "ubuntu", "debian" }, { "rhel", "rhel" },
		{ "centos", "rhel" }, { "fedora", "rhel" }, { "suse", "suse" },
		{ "arch", "arch" }, { "alpine", "alpine" }, { "gentoo", "gentoo" },
	};
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (strstr(like, fam[i].word) != NULL)
			return fam[i].family;
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (strcmp(id, fam[i].word) == 0)
			return fam[i].family;
	return id;
}

static void
os_release(struct hb_collector *c, struct hb_sysinfo *si)
{
	struct tfo_osrelease osr;

	if (tfo_osrelease_read(c->root, c->buf, HB_BUF, &osr) != TFO_OK)
		return;
	snprintf(si->platform, sizeof(si->platform), "%s", osr.id);
	snprintf(si->os_version, sizeof(si->os_version), "%s", osr.version_id);
	snprintf(si->platform_family, sizeof(si->platform_family), "%s",
		 family_of(si->platform, osr.id_like));
}

static void
timezone_name(struct hb_collector *c, struct hb_sysinfo *si)
{
	char path[1200], link[512];
	ssize_t n;
	const char *z;

	if (read_str(c, "etc/timezone", si->timezone, sizeof(si->timezone)))
		return;
	snprintf(path, sizeof(path), "%s/etc/localtime", c->root);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		z = strstr(link, "zoneinfo/");
		if (z != NULL) {
			copy_trim(si->timezone, sizeof(si->timezone), z + 9, strlen(z + 9));
			return;
		}
	}
	snprintf(si->timezone, sizeof(si->timezone), "UTC");
}

/* copy_uts - a uname field as read_str would give its /proc/sys file */
static int
copy_uts(char *dst, size_t cap, const char *v, size_t vcap)
{
	copy_trim(dst, cap, v, strnlen(v, vcap));
	return dst[0] != '\0';
}

static void
host_info(struct hb_collector *c, struct hb_sysinfo *si)
{
	struct utsname u;
	struct tfo_uptime up;
	int real;
	long n;

	memset(&u, 0, sizeof(u));
	real = uname(&u) == 0 && strcmp(c->root, "/") == 0;
	snprintf(si->os, sizeof(si->os), "linux");
	/* on the real root uname() says what /proc/sys/kernel/{hostname,
	 * osrelease} would (both are our UTS namespace's): no file read */
	if (c->hostname[0] != '\0')
		snprintf(si->hostname, sizeof(si->hostname), "%s", c->hostname);
	else if (!real || !copy_uts(si->hostname, sizeof(si->hostname), u.nodename,
	    sizeof(u.nodename)))
		if (!read_str(c, "proc/sys/kernel/hostname", si->hostname, sizeof(si->hostname)))
			snprintf(si->hostname, sizeof(si->hostname), "%s", u.nodename);
	if (!real || !copy_uts(si->kernel_version, sizeof(si->kernel_version), u.release,
	    sizeof(u.release)))
		if (!read_str(c, "proc/sys/kernel/osrelease", si->kernel_version,
		    sizeof(si->kernel_version)))
			snprintf(si->kernel_version, sizeof(si->kernel_version), "%s", u.release);
	snprintf(si->architecture, sizeof(si->architecture), "%s", go_arch(u.machine));
	read_str(c, "etc/machine-id", si->host_id, sizeof(si->host_id));
	os_release(c, si);
	timezone_name(c, si);
	if ((n = rd(c, "proc/uptime")) > 0 && tfo_procfs_uptime(c->buf, (size_t)n, &up) == TFO_OK)
		si->uptime = (uint64_t)up.uptime_s;
}

/* ---------------------------------------------------------------- cpu */

/* mode_delta - per-mode deltas cur-prev over the non-guest modes (guest time
 * is already inside user/nice); since boot when there is no usable prev */
static uint64_t
mode_delta(const struct tfo_cpu_times *cur, const struct tfo_cpu_times *prev,
	   uint64_t d[TFO_CPU_NMODES])
{
	uint64_t total = 0;
	int back = 0;

	for (int m = 0; m < TFO_CPU_NMODES; m++)
		if (prev != NULL && cur->t[m] < prev->t[m])
			back = 1;   /* hot-unplugged and back: counters restarted */
	for (int m = 0; m < TFO_CPU_NMODES; m++) {
		d[m] = (prev == NULL || back) ? cur->t[m] : cur->t[m] - prev->t[m];
		if (m <= TFO_CPU_STEAL)
			total += d[m];
	}
	if (total == 0 && prev != NULL && !back)
		return mode_delta(cur, NULL, d);
	return total;
}

static double
pct(uint64_t part, uint64_t total)
{
	return total == 0 ? 0.0 : 100.0 * (double)part / (double)total;
}

static void
cpu_total_pct(const struct tfo_cpu_times *cur, const struct tfo_cpu_times *prev,
	      struct hb_sysinfo *si)
{
	uint64_t d[TFO_CPU_NMODES], total = mode_delta(cur, prev, d);

	si->cpu_user_pct = pct(d[TFO_CPU_USER] + d[TFO_CPU_NICE], total);
	si->cpu_system_pct = pct(d[TFO_CPU_SYSTEM] + d[TFO_CPU_IRQ] + d[TFO_CPU_SOFTIRQ], total);
	si->cpu_idle_pct = pct(d[TFO_CPU_IDLE], total);
	si->cpu_iowait_pct = pct(d[TFO_CPU_IOWAIT], total);
	si->cpu_steal_pct = pct(d[TFO_CPU_STEAL], total);
	si->cpu_usage = pct(total - d[TFO_CPU_IDLE] - d[TFO_CPU_IOWAIT], total);
}

static const struct tfo_cpu_times *
prev_cpu(const struct hb_collector *c, size_t i, int cpu)
{
	if (i < c->prev_ncpus && c->prev_cpus[i].cpu == cpu)
		return &c->prev_cpus[i];
	for (size_t j = 0; j < c->prev_ncpus; j++)
		if (c->prev_cpus[j].cpu == cpu)
			return &c->prev_cpus[j];
	return NULL;
}

static enum tfo_err
cpu_cores_pct(struct hb_collector *c, const struct tfo_proc_stat *st, struct hb_sysinfo *si)
{
	si->cores = calloc(st->ncpus ? st->ncpus : 1, sizeof(*si->cores));
	if (si->cores == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < st->ncpus; i++) {
		uint64_t d[TFO_CPU_NMODES], total;
		struct hb_core *k = &si->cores[si->ncores++];
		total = mode_delta(&st->cpus[i], prev_cpu(c, i, st->cpus[i].cpu), d);
		k->core_id = st->cpus[i].cpu;
		k->user_pct = pct(d[TFO_CPU_USER] + d[TFO_CPU_NICE], total);
		k->system_pct = pct(d[TFO_CPU_SYSTEM] + d[TFO_CPU_IRQ] + d[TFO_CPU_SOFTIRQ], total);
		k->idle_pct = pct(d[TFO_CPU_IDLE], total);
		k->usage = pct(total - d[TFO_CPU_IDLE] - d[TFO_CPU_IOWAIT], total);
	}
	return TFO_OK;
}

/* sample_stat - parse /proc/stat into c->cur_cpus; false if unreadable */
static int
sample_stat(struct hb_collector *c, struct tfo_proc_stat *st)
{
	long n = rd(c, "proc/stat");

	memset(st, 0, sizeof(*st));
	st->cpus = c->cur_cpus;
	st->cpus_cap = HB_MAX_CORES;
	return n > 0 && tfo_procfs_stat(c->buf, (size_t)n, st) == TFO_OK;
}

/* remember_stat - the current sample becomes the previous one */
static void
remember_stat(struct hb_collector *c, const struct tfo_proc_stat *st)
{
	struct tfo_cpu_times *t = c->prev_cpus;

	c->prev_total = st->total;
	c->prev_cpus = c->cur_cpus;
	c->cur_cpus = t;
	c->prev_ncpus = st->ncpus;
}

static void
cpu_static(struct hb_collector *c, struct hb_sysinfo *si)
{
	const struct tfo_cpuinfo *ci = &c->cpuinfo;

	if (!c->have_cpuinfo)
		return;
	si->cpu_logical_cores = ci->logical;
	si->cpu_physical_cores = ci->cores;
	si->cpu_cores = ci->logical;
	snprintf(si->cpu_model, sizeof(si->cpu_model), "%s", ci->model_name);
	snprintf(si->cpu_vendor, sizeof(si->cpu_vendor), "%s", ci->vendor);
	si->cpu_mhz = ci->mhz;
	si->cpu_cache_size = (int64_t)(ci->cache_bytes / 1024);
}

static enum tfo_err
cpu_and_stat(struct hb_collector *c, struct hb_sysinfo *si)
{
	struct tfo_proc_stat st;
	struct tfo_loadavg la;
	enum tfo_err e = TFO_OK;
	long n;

	cpu_static(c, si);
	if (sample_stat(c, &st)) {
		int had = c->prev_ncpus > 0 || c->prev_total.nfields > 0;
		cpu_total_pct(&st.total, had ? &c->prev_total : NULL, si);
		e = cpu_cores_pct(c, &st, si);
		if (!c->have_cpuinfo || si->cpu_cores == 0)
			si->cpu_cores = si->cpu_logical_cores = (int64_t)st.ncpus;
		si->boot_time = st.btime;
		si->context_switches = st.ctxt;
		si->interrupts = st.intr_total;
		si->soft_interrupts = st.softirq_total;
		remember_stat(c, &st);
	}
	if ((n = rd(c, "proc/loadavg")) > 0 && tfo_procfs_loadavg(c->buf, (size_t)n, &la) == TFO_OK) {
		si->load1 = la.load1;
		si->load5 = la.load5;
		si->load15 = la.load15;
		si->thread_count = la.total;
	}
	return e;
}

/* ---------------------------------------------------------------- memory */

static void
memory(struct hb_collector *c, struct hb_sysinfo *si)
{
	struct tfo_meminfo mi;
	struct tfo_vmstat vm;
	uint64_t now = tfo_mono_ns();
	long n;

	if ((n = rd(c, "proc/meminfo")) > 0 && tfo_procfs_meminfo(c->buf, (size_t)n, &mi) == TFO_OK) {
		si->mem_total = mi.v[TFO_MEM_TOTAL];
		si->mem_free = mi.v[TFO_MEM_FREE];
		/* kernels before 3.14 have no MemAvailable: free + cache approximates it */
		si->mem_available = TFO_MEM_HAS(&mi, TFO_MEM_AVAILABLE) ? mi.v[TFO_MEM_AVAILABLE]
			: mi.v[TFO_MEM_FREE] + mi.v[TFO_MEM_BUFFERS] + mi.v[TFO_MEM_CACHED];
		if (si->mem_available > si->mem_total)
			si->mem_available = si->mem_total;
		si->mem_used = si->mem_total - si->mem_available;
		si->mem_usage = pct(si->mem_used, si->mem_total);
		si->mem_cached = mi.v[TFO_MEM_CACHED];
		si->mem_buffers = mi.v[TFO_MEM_BUFFERS];
		si->mem_active = mi.v[TFO_MEM_ACTIVE];
		si->mem_inactive = mi.v[TFO_MEM_INACTIVE];
		si->mem_slab = mi.v[TFO_MEM_SLAB];
		si->mem_wired = 0;   /* a macOS notion; Linux has no equivalent counter */
		si->swap_total = mi.v[TFO_MEM_SWAP_TOTAL];
		si->swap_free = mi.v[TFO_MEM_SWAP_FREE] <= si->swap_total ? mi.v[TFO_MEM_SWAP_FREE]
									  : si->swap_total;
		si->swap_used = si->swap_total - si->swap_free;
		si->swap_usage = pct(si->swap_used, si->swap_total);
	}
	if ((n = rd(c, "proc/vmstat")) > 0 && tfo_procfs_vmstat(c->buf, (size_t)n, &vm) == TFO_OK) {
		uint64_t in = vm.v[TFO_VM_PSWPIN], out = vm.v[TFO_VM_PSWPOUT];
		double dt = (double)(now - c->prev_vm_ns) / 1e9, page = (double)sysconf(_SC_PAGESIZE);
		if (c->have_vm && dt > 0 && in >= c->prev_swpin && out >= c->prev_swpout) {
			si->swap_in = (double)(in - c->prev_swpin) * page / dt;
			si->swap_out = (double)(out - c->prev_swpout) * page / dt;
		}
		c->prev_swpin = in;
		c->prev_swpout = out;
		c->prev_vm_ns = now;
		c->have_vm = 1;
	}
}

/* ---------------------------------------------------------------- processes, fds */

/* tasks_refresh - the process state counts, walked at most every
 * TFO_TASKS_REFRESH_MS (docs/heartbeat.md); NULL when the walk failed */
static const struct tfo_task_counts *
tasks_refresh(struct hb_collector *c)
{
	uint64_t now = tfo_mono_ns();

	if (c->tasks_ns == 0 || now < c->tasks_ns ||
	    now - c->tasks_ns >= TFO_TASKS_REFRESH_MS * 1000000ull) {
		memset(&c->tasks, 0, sizeof(c->tasks));
		c->tasks_ok = tfo_procfs_task_counts(c->root, -1, &c->tasks) == TFO_OK;
		c->tasks_ns = now;
	}
	return c->tasks_ok ? &c->tasks : NULL;
}

static void
processes(struct hb_collector *c, struct hb_sysinfo *si)
{
	const struct tfo_task_counts *tc = tasks_refresh(c);
	uint64_t v;
	long n;

	if (tc != NULL) {
		for (int s = 0; s < TFO_TASK_NSTATES; s++)
			si->proc_count += tc->n[s];
		si->proc_running = tc->n[TFO_TASK_RUNNING];
		si->proc_sleeping = tc->n[TFO_TASK_SLEEPING];
		si->proc_stopped = tc->n[TFO_TASK_STOPPED];
		si->proc_zombie = tc->n[TFO_TASK_ZOMBIE];
		si->proc_blocked = tc->n[TFO_TASK_DISK_SLEEP];
	}
	if ((n = rd(c, "proc/sys/fs/file-nr")) > 0 &&
	    hb_parse_file_nr(c->buf, (size_t)n, &si->open_fds, &si->max_fds) == 0)
		si->fds_usage = pct(si->open_fds, si->max_fds);
	if ((n = rd(c, "proc/sys/kernel/random/entropy_avail")) > 0 &&
	    tfo_procfs_u64(c->buf, (size_t)n, &v) == TFO_OK)
		si->entropy_available = v;
}

/* ---------------------------------------------------------------- lifecycle */

struct hb_collector *
hb_collector_new(const char *root, const char *hostname, const char *version)
{
	struct hb_collector *c = calloc(1, sizeof(*c));
	struct hb_sysinfo scratch;
	long n;

	if (c == NULL)
		return NULL;
	c->tabs.mnt_fd = -1;
	snprintf(c->root, sizeof(c->root), "%s", root && *root ? root : "/");
	snprintf(c->hostname, sizeof(c->hostname), "%s", hostname ? hostname : "");
	snprintf(c->version, sizeof(c->version), "%s", version && *version ? version : TFO_VERSION);
	c->buf = malloc(HB_BUF);
	c->prev_cpus = tfo_zarray_alloc(HB_MAX_CORES, sizeof(*c->prev_cpus));
	c->cur_cpus = tfo_zarray_alloc(HB_MAX_CORES, sizeof(*c->cur_cpus));
	if (c->buf == NULL || c->prev_cpus == NULL || c->cur_cpus == NULL ||
	    hb_io_tabs_init(&c->tabs, c->root) != 0) {
		hb_collector_free(c);
		return NULL;
	}
	c->start_unix = (uint64_t)time(NULL);
	if ((n = rd(c, "proc/cpuinfo")) > 0 &&
	    tfo_procfs_cpuinfo(c->buf, (size_t)n, &c->cpuinfo) == TFO_OK)
		c->have_cpuinfo = 1;
	tfo_detect_container(c->root, &c->container);
	tfo_detect_virt(c->root, &c->virt);
	tfo_detect_cloud(c->root, &c->cloud);
	/* first samples, so the first heartbeat covers [start, first beat] */
	if (hb_collect(c, &scratch) == TFO_OK)
		hb_sysinfo_free(&scratch);
	return c;
}

void
hb_collector_free(struct hb_collector *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	hb_io_tabs_fini(&c->tabs);
	tfo_zarray_free(c->prev_cpus, HB_MAX_CORES, sizeof(*c->prev_cpus));
	tfo_zarray_free(c->cur_cpus, HB_MAX_CORES, sizeof(*c->cur_cpus));
	free(c);
}

enum tfo_err
hb_collect(struct hb_collector *c, struct hb_sysinfo *si)
{
	uint64_t t0 = tfo_mono_ns();
	struct hb_io_ctx io = { c->root, c->buf, HB_BUF, &c->io, &c->tcp, &c->tabs };
	enum tfo_err e;
	struct timespec now;

	memset(si, 0, sizeof(*si));
	host_info(c, si);
	memory(c, si);
	processes(c, si);
	if ((e = cpu_and_stat(c, si)) != TFO_OK || (e = hb_collect_disk(&io, si)) != TFO_OK ||
	    (e = hb_collect_net(&io, si)) != TFO_OK) {
		hb_sysinfo_free(si);
		return e;
	}
	si->container = c->container;
	si->virt = c->virt;
	si->cloud = c->cloud;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(si->agent_version, sizeof(si->agent_version), "%s", c->version);
	si->agent_start_time = c->start_unix;
	si->agent_uptime = (uint64_t)now.tv_sec > c->start_unix ? (uint64_t)now.tv_sec - c->start_unix : 0;
	si->collection_time = (int64_t)now.tv_sec;
	si->collection_duration = (int64_t)(tfo_mono_ns() - t0);
	return TFO_OK;
}
