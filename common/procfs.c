/*
 * procfs.c - the bounded file reader and the parsers of /proc/stat, meminfo,
 * vmstat, loadavg, uptime, cpuinfo, /proc/<pid>/stat and /etc/os-release
 * (library tfo_procfs; run by tfo-system, tfo-process, tfo-heartbeat and the
 * resource builder of every worker), and the UTF-8 cleaner for the strings
 * they yield. Device tables are in procfs_dev.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/procfs_scan.h"

enum tfo_err
tfo_procfs_path(const char *root, const char *rel, char *out, size_t cap)
{
	int n;

	if (root == NULL || root[0] == '\0')
		root = "/";
	while (rel[0] == '/')
		rel++;
	n = snprintf(out, cap, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", rel);
	if (n < 0 || (size_t)n >= cap)
		return TFO_ERANGE;
	return TFO_OK;
}

/* read_all - read fd from offset 0 until EOF or the buffer is full; with
 * whole, a short read is taken as the end (read_fd_whole) */
static enum tfo_err
read_upto(int fd, char *buf, size_t cap, size_t *len, int whole)
{
	size_t got = 0;

	*len = 0;
	if (cap == 0)
		return TFO_EINVAL;
	while (got < cap - 1) {
		ssize_t r = pread(fd, buf + got, cap - 1 - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf[got] = '\0';
			*len = got;
			return TFO_EIO;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (whole && got < cap - 1)
			break;
	}
	buf[got] = '\0';
	*len = got;
	if (got == cap - 1) {
		char c;
		if (pread(fd, &c, 1, (off_t)got) == 1)
			return TFO_ERANGE;
	}
	return TFO_OK;
}

static enum tfo_err
read_all(int fd, char *buf, size_t cap, size_t *len)
{
	return read_upto(fd, buf, cap, len, 0);
}

enum tfo_err
tfo_procfs_read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	return read_all(fd, buf, cap, len);
}

enum tfo_err
tfo_procfs_read_fd_whole(int fd, char *buf, size_t cap, size_t *len)
{
	return read_upto(fd, buf, cap, len, 1);
}

enum tfo_err
tfo_procfs_read(const char *root, const char *rel, char *buf, size_t cap, size_t *len)
{
	char path[4096];
	enum tfo_err e;
	int fd, saved;

	*len = 0;
	if (cap > 0)
		buf[0] = '\0';
	if ((e = tfo_procfs_path(root, rel, path, sizeof(path))) != TFO_OK)
		return e;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ENOENT || errno == ENOTDIR ? TFO_ENOENT : TFO_EIO;
	e = read_all(fd, buf, cap, len);
	saved = errno;
	close(fd);
	errno = saved;
	return e;
}

enum tfo_err
tfo_procfs_u64(const char *buf, size_t len, uint64_t *v)
{
	struct tfo_scan s;

	sc_init(&s, buf, len);
	if (sc_u64(&s, v) != 0)
		return TFO_EINVAL;
	sc_blanks(&s);
	while (s.p < s.end && (*s.p == '\n' || *s.p == ' '))
		s.p++;
	return s.p == s.end ? TFO_OK : TFO_EINVAL;
}

/* ------------------------------------------------------------- /proc/stat */

/* stat_cpu_line - the numbers after "cpu" / "cpuN" */
static int
stat_cpu_line(struct tfo_scan *s, struct tfo_cpu_times *ct, int cpu)
{
	memset(ct, 0, sizeof(*ct));
	ct->cpu = cpu;
	while (ct->nfields < TFO_CPU_NMODES && !sc_eol(s)) {
		if (sc_u64(s, &ct->t[ct->nfields]) != 0)
			return -1;
		ct->nfields++;
	}
	return ct->nfields >= 4 ? 0 : -1;
}

/* stat_cpu - a "cpu..." line; w/n is its first word */
static void
stat_cpu(struct tfo_scan *s, const char *w, size_t n, struct tfo_proc_stat *out)
{
	struct tfo_cpu_times ct;
	uint64_t num = 0;

	if (n == 3) {
		if (stat_cpu_line(s, &ct, -1) == 0) {
			out->total = ct;
			out->have |= TFO_STAT_HAVE_TOTAL;
		}
		return;
	}
	for (size_t i = 3; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || num > 1000000)
			return;
		num = num * 10 + (uint64_t)(w[i] - '0');
	}
	if (stat_cpu_line(s, &ct, (int)num) != 0)
		return;
	if (out->ncpus < out->cpus_cap && out->cpus != NULL)
		out->cpus[out->ncpus++] = ct;
	else
		out->cpus_dropped++;
}

static const struct {
	const char *key;
	unsigned bit;
	size_t off;
} stat_keys[] = {
	{ "ctxt", TFO_STAT_HAVE_CTXT, offsetof(struct tfo_proc_stat, ctxt) },
	{ "btime", TFO_STAT_HAVE_BTIME, offsetof(struct tfo_proc_stat, btime) },
	{ "processes", TFO_STAT_HAVE_PROCESSES, offsetof(struct tfo_proc_stat, processes) },
	{ "procs_running", TFO_STAT_HAVE_RUNNING, offsetof(struct tfo_proc_stat, procs_running) },
	{ "procs_blocked", TFO_STAT_HAVE_BLOCKED, offsetof(struct tfo_proc_stat, procs_blocked) },
	{ "intr", TFO_STAT_HAVE_INTR, offsetof(struct tfo_proc_stat, intr_total) },
	{ "softirq", TFO_STAT_HAVE_SOFTIRQ, offsetof(struct tfo_proc_stat, softirq_total) },
};

enum tfo_err
tfo_procfs_stat(const char *buf, size_t len, struct tfo_proc_stat *out)
{
	struct tfo_scan s;
	const char *w;
	size_t n;

	out->ncpus = out->cpus_dropped = 0;
	out->have = 0;
	memset(&out->total, 0, sizeof(out->total));
	out->ctxt = out->btime = out->processes = out->procs_running = 0;
	out->procs_blocked = out->intr_total = out->softirq_total = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (sc_word(&s, &w, &n) != 0)
			continue;
		if (n >= 3 && memcmp(w, "cpu", 3) == 0) {
			stat_cpu(&s, w, n, out);
			continue;
		}
		for (size_t i = 0; i < sizeof(stat_keys) / sizeof(stat_keys[0]); i++) {
			uint64_t v;
			if (!sc_is(w, n, stat_keys[i].key) || sc_u64(&s, &v) != 0)
				continue;
			*(uint64_t *)(void *)((char *)out + stat_keys[i].off) = v;
			out->have |= stat_keys[i].bit;
			break;
		}
	}
	return (out->have & TFO_STAT_HAVE_TOTAL) ? TFO_OK : TFO_EINVAL;
}

/* ---------------------------------------------------------- /proc/meminfo */

static const char *const mem_names[TFO_MEM_NKEYS] = {
	[TFO_MEM_TOTAL] = "MemTotal", [TFO_MEM_FREE] = "MemFree",
	[TFO_MEM_AVAILABLE] = "MemAvailable", [TFO_MEM_BUFFERS] = "Buffers",
	[TFO_MEM_CACHED] = "Cached", [TFO_MEM_SWAP_CACHED] = "SwapCached",
	[TFO_MEM_ACTIVE] = "Active", [TFO_MEM_INACTIVE] = "Inactive",
	[TFO_MEM_SWAP_TOTAL] = "SwapTotal", [TFO_MEM_SWAP_FREE] = "SwapFree",
	[TFO_MEM_DIRTY] = "Dirty", [TFO_MEM_WRITEBACK] = "Writeback",
	[TFO_MEM_ANON_PAGES] = "AnonPages", [TFO_MEM_MAPPED] = "Mapped",
	[TFO_MEM_SHMEM] = "Shmem", [TFO_MEM_SLAB] = "Slab",
	[TFO_MEM_SRECLAIMABLE] = "SReclaimable", [TFO_MEM_SUNRECLAIM] = "SUnreclaim",
	[TFO_MEM_KERNEL_STACK] = "KernelStack", [TFO_MEM_PAGE_TABLES] = "PageTables",
	[TFO_MEM_COMMIT_LIMIT] = "CommitLimit", [TFO_MEM_COMMITTED_AS] = "Committed_AS",
	[TFO_MEM_HUGE_TOTAL] = "HugePages_Total", [TFO_MEM_HUGE_FREE] = "HugePages_Free",
	[TFO_MEM_HUGE_RSVD] = "HugePages_Rsvd", [TFO_MEM_HUGE_SURP] = "HugePages_Surp",
	[TFO_MEM_HUGE_SIZE] = "Hugepagesize",
};

/* key_value - "Key: <u64> [kB]"; the key is w/n without the colon */
static int
key_value(struct tfo_scan *s, const char **w, size_t *n, uint64_t *v, int *kb)
{
	const char *unit;
	size_t un;

	if (sc_word(s, w, n) != 0 || (*w)[*n - 1] != ':')
		return -1;
	(*n)--;
	if (sc_u64(s, v) != 0)
		return -1;
	*kb = 0;
	if (sc_eol(s))
		return 0;
	if (sc_word(s, &unit, &un) != 0 || !sc_is(unit, un, "kB"))
		return -1;
	*kb = 1;
	return 0;
}

enum tfo_err
tfo_procfs_meminfo(const char *buf, size_t len, struct tfo_meminfo *out)
{
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		const char *w;
		size_t n;
		uint64_t v;
		int kb;

		if (key_value(&s, &w, &n, &v, &kb) != 0)
			continue;
		for (unsigned k = 0; k < TFO_MEM_NKEYS; k++) {
			if (!sc_is(w, n, mem_names[k]))
				continue;
			if (kb && v > UINT64_MAX / 1024)
				break;
			out->v[k] = kb ? v * 1024 : v;
			out->have |= (uint64_t)1 << k;
			break;
		}
	}
	return TFO_MEM_HAS(out, TFO_MEM_TOTAL) ? TFO_OK : TFO_EINVAL;
}

/* ----------------------------------------------------------- /proc/vmstat */

static const char *const vm_names[TFO_VM_NKEYS] = {
	[TFO_VM_PGPGIN] = "pgpgin", [TFO_VM_PGPGOUT] = "pgpgout",
	[TFO_VM_PSWPIN] = "pswpin", [TFO_VM_PSWPOUT] = "pswpout",
	[TFO_VM_PGFAULT] = "pgfault", [TFO_VM_PGMAJFAULT] = "pgmajfault",
	[TFO_VM_OOM_KILL] = "oom_kill",
};

enum tfo_err
tfo_procfs_vmstat(const char *buf, size_t len, struct tfo_vmstat *out)
{
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		const char *w;
		size_t n;
		uint64_t v;

		/* only keys starting with 'p' or 'o' are ours: skip the rest fast */
		if (*s.p != 'p' && *s.p != 'o')
			continue;
		if (sc_word(&s, &w, &n) != 0 || sc_u64(&s, &v) != 0)
			continue;
		for (unsigned k = 0; k < TFO_VM_NKEYS; k++) {
			if (sc_is(w, n, vm_names[k])) {
				out->v[k] = v;
				out->have |= 1u << k;
				break;
			}
		}
	}
	return out->have != 0 ? TFO_OK : TFO_EINVAL;
}

/* ------------------------------------------------- /proc/loadavg, /uptime */

enum tfo_err
tfo_procfs_loadavg(const char *buf, size_t len, struct tfo_loadavg *out)
{
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	sc_init(&s, buf, len);
	if (sc_double(&s, &out->load1) != 0 || sc_double(&s, &out->load5) != 0 ||
	    sc_double(&s, &out->load15) != 0)
		return TFO_EINVAL;
	if (out->load1 < 0 || out->load5 < 0 || out->load15 < 0)
		return TFO_EINVAL;
	/* "1/89 7272": optional on very old kernels */
	if (sc_u64(&s, &out->running) == 0 && s.p < s.end && *s.p == '/') {
		s.p++;
		if (sc_u64(&s, &out->total) != 0)
			return TFO_EINVAL;
		(void)sc_u64(&s, &out->last_pid);
	}
	return TFO_OK;
}

enum tfo_err
tfo_procfs_uptime(const char *buf, size_t len, struct tfo_uptime *out)
{
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	sc_init(&s, buf, len);
	if (sc_double(&s, &out->uptime_s) != 0 || out->uptime_s < 0)
		return TFO_EINVAL;
	if (sc_double(&s, &out->idle_s) != 0 || out->idle_s < 0)
		out->idle_s = 0;
	return TFO_OK;
}

/* ---------------------------------------------------------- /proc/cpuinfo */

struct cpuinfo_acc {
	int64_t pkg, core;              /* of the current processor; -1 unknown */
	uint64_t cpu_cores;             /* "cpu cores" of the first processor */
	unsigned npkgs, npairs;
	int64_t pkgs[256];
	int64_t pairs[1024][2];
};

/* cpuinfo_commit - account the processor just finished */
static void
cpuinfo_commit(struct cpuinfo_acc *a)
{
	unsigned i;

	if (a->pkg >= 0) {
		for (i = 0; i < a->npkgs && a->pkgs[i] != a->pkg; i++)
			;
		if (i == a->npkgs && a->npkgs < 256)
			a->pkgs[a->npkgs++] = a->pkg;
		if (a->core >= 0) {
			for (i = 0; i < a->npairs; i++)
				if (a->pairs[i][0] == a->pkg && a->pairs[i][1] == a->core)
					break;
			if (i == a->npairs && a->npairs < 1024) {
				a->pairs[a->npairs][0] = a->pkg;
				a->pairs[a->npairs++][1] = a->core;
			}
		}
	}
	a->pkg = a->core = -1;
}

/* cpuinfo_value - trimmed value after the colon */
static void
cpuinfo_kv(struct tfo_scan *s, const char **k, size_t *kn, const char **v, size_t *vn)
{
	const char *eol = memchr(s->p, '\n', (size_t)(s->end - s->p));
	const char *colon;

	if (eol == NULL)
		eol = s->end;
	*k = s->p;
	colon = memchr(s->p, ':', (size_t)(eol - s->p));
	*kn = *vn = 0;
	*v = eol;
	if (colon == NULL)
		return;
	*kn = (size_t)(colon - *k);
	while (*kn > 0 && ((*k)[*kn - 1] == ' ' || (*k)[*kn - 1] == '\t'))
		(*kn)--;
	*v = colon + 1;
	while (*v < eol && (**v == ' ' || **v == '\t'))
		(*v)++;
	*vn = (size_t)(eol - *v);
	while (*vn > 0 && ((*v)[*vn - 1] == ' ' || (*v)[*vn - 1] == '\t'))
		(*vn)--;
}

static int
cpuinfo_num(const char *v, size_t vn, int64_t *out)
{
	struct tfo_scan s;

	sc_init(&s, v, vn);
	return sc_i64(&s, out) == 0 && sc_eol(&s) ? 0 : -1;
}

/* cpuinfo_field - one "key : value" line of the first processor or any */
static void
cpuinfo_field(struct tfo_cpuinfo *out, struct cpuinfo_acc *a, const char *k, size_t kn,
              const char *v, size_t vn)
{
	int first = out->logical <= 1;
	int64_t x;

	if (sc_is(k, kn, "physical id") && cpuinfo_num(v, vn, &x) == 0 && x >= 0)
		a->pkg = x;
	else if (sc_is(k, kn, "core id") && cpuinfo_num(v, vn, &x) == 0 && x >= 0)
		a->core = x;
	else if (out->model_name[0] == '\0' && (sc_is(k, kn, "model name") ||
	         sc_is(k, kn, "Processor") || sc_is(k, kn, "Hardware") || sc_is(k, kn, "cpu model")))
		/* arm32 names the model in "Processor"/"Hardware", outside the entries */
		(void)sc_copy(out->model_name, sizeof(out->model_name), v, vn < 127 ? vn : 127);
	else if (!first)
		return;
	else if (sc_is(k, kn, "vendor_id") || sc_is(k, kn, "CPU implementer"))
		(void)sc_copy(out->vendor, sizeof(out->vendor), v, vn < 63 ? vn : 63);
	else if (sc_is(k, kn, "cpu MHz")) {
		struct tfo_scan s;
		sc_init(&s, v, vn);
		if (sc_double(&s, &out->mhz) != 0 || out->mhz < 0)
			out->mhz = 0;
	} else if (sc_is(k, kn, "cache size")) {
		struct tfo_scan s;
		uint64_t c;
		const char *u;
		size_t un;
		sc_init(&s, v, vn);
		if (sc_u64(&s, &c) == 0 && sc_word(&s, &u, &un) == 0 && sc_is(u, un, "KB") &&
		    c <= UINT64_MAX / 1024)
			out->cache_bytes = c * 1024;
	} else if (sc_is(k, kn, "cpu cores") && cpuinfo_num(v, vn, &x) == 0 && x > 0)
		a->cpu_cores = (uint64_t)x;
	else if (sc_is(k, kn, "cpu family") && cpuinfo_num(v, vn, &x) == 0 && x >= 0 && x < 65536)
		out->family = (int)x;
	else if (sc_is(k, kn, "model") && cpuinfo_num(v, vn, &x) == 0 && x >= 0 && x < 65536)
		out->model = (int)x;
	else if (sc_is(k, kn, "stepping") && cpuinfo_num(v, vn, &x) == 0 && x >= 0 && x < 65536)
		out->stepping = (int)x;
}

enum tfo_err
tfo_procfs_cpuinfo(const char *buf, size_t len, struct tfo_cpuinfo *out)
{
	struct cpuinfo_acc *a = calloc(1, sizeof(*a));
	struct tfo_scan s;

	if (a == NULL)
		return TFO_ENOMEM;
	memset(out, 0, sizeof(*out));
	out->family = out->model = out->stepping = -1;
	a->pkg = a->core = -1;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		const char *k, *v;
		size_t kn, vn;
		int64_t x;

		cpuinfo_kv(&s, &k, &kn, &v, &vn);
		if (sc_is(k, kn, "processor") && cpuinfo_num(v, vn, &x) == 0) {
			if (out->logical > 0)
				cpuinfo_commit(a);
			out->logical++;
			continue;
		}
		if (kn > 0)
			cpuinfo_field(out, a, k, kn, v, vn);
	}
	cpuinfo_commit(a);
	out->packages = a->npkgs;
	/* semconv: sockets x cores per socket; else distinct core ids; else logical */
	if (a->npkgs > 0 && a->cpu_cores > 0 && a->cpu_cores <= 65536)
		out->cores = a->npkgs * (unsigned)a->cpu_cores;
	else if (a->npairs > 0)
		out->cores = a->npairs;
	else
		out->cores = out->logical;
	free(a);
	return out->logical > 0 ? TFO_OK : TFO_EINVAL;
}

/* ------------------------------------------------------ /proc/<pid>/stat */

enum tfo_err
tfo_procfs_task_state(const char *buf, size_t len, enum tfo_task_state *st)
{
	const char *rp = NULL;

	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			rp = buf + i - 1;
			break;
		}
	}
	if (rp == NULL || (size_t)(rp - buf) + 3 > len || rp[1] != ' ')
		return TFO_EINVAL;
	switch (rp[2]) {
	case 'R': *st = TFO_TASK_RUNNING; break;
	case 'S': case 'I': *st = TFO_TASK_SLEEPING; break;
	case 'D': *st = TFO_TASK_DISK_SLEEP; break;
	case 'T': case 't': *st = TFO_TASK_STOPPED; break;
	case 'Z': *st = TFO_TASK_ZOMBIE; break;
	case 'X': case 'x': *st = TFO_TASK_DEAD; break;
	default: *st = TFO_TASK_OTHER; break;
	}
	return TFO_OK;
}

/* task_one - read and classify one <pid>/stat relative to the /proc dirfd */
static void
task_one(int dfd, const char *pid, struct tfo_task_counts *c)
{
	char path[64], buf[512];
	enum tfo_task_state st;
	size_t len;
	ssize_t r;
	int fd;

	if (snprintf(path, sizeof(path), "%s/stat", pid) >= (int)sizeof(path))
		return;
	if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return;     /* exited meanwhile */
	/* One read, not read_all's read to EOF: the kernel makes the whole line
	 * in one go, so a second read only finds the end, a system call per
	 * process of every walk. comm is at most 16 bytes: the head
	 * "pid (comm) S" is always in the first 511; the rest may be cut. */
	do
		r = pread(fd, buf, sizeof(buf) - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		len = (size_t)r;
		buf[len] = '\0';
		if (tfo_procfs_task_state(buf, len, &st) == TFO_OK)
			c->n[st]++;
	}
	close(fd);
}

enum tfo_err
tfo_procfs_task_counts(const char *root, int proc_dirfd, struct tfo_task_counts *c)
{
	struct dirent *de;
	DIR *d;
	int fd;

	memset(c, 0, sizeof(*c));
	if (proc_dirfd >= 0)
		fd = openat(proc_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		char path[4096];
		if (tfo_procfs_path(root, "proc", path, sizeof(path)) != TFO_OK)
			return TFO_ERANGE;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ENOENT ? TFO_ENOENT : TFO_EIO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return TFO_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		task_one(dirfd(d), de->d_name, c);
	}
	closedir(d);
	return TFO_OK;
}

/* ------------------------------------------------------------------ text */

/* utf8_len - length of the valid UTF-8 sequence at s[0..n), 0 if invalid */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

size_t
tfo_procfs_text_clean(char *s, size_t len, int keep_nl)
{
	unsigned char *u = (unsigned char *)s;
	size_t i = 0, fixed = 0;

	while (i < len) {
		size_t n;
		/* printable ASCII is kept as it is: most text, done a byte a step */
		while (i < len && (unsigned)(u[i] - 0x20) < 0x5fu)
			i++;
		if (i == len)
			break;
		n = utf8_len(u + i, len - i);
		if (n == 0 || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f) &&
		    !(keep_nl && u[i] == '\n'))) {
			u[i++] = '?';
			fixed++;
			continue;
		}
		i += n;
	}
	return fixed;
}

size_t
tfo_procfs_utf8_cut(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;
		while (i < len && u[i] < 0x80)
			i++;    /* ASCII: a character a byte */
		if (i == len)
			break;
		/* the length the lead byte announces: the rest may lie past len */
		n = u[i] < 0xc2 || u[i] > 0xf4 ? 1 : u[i] < 0xe0 ? 2 : u[i] < 0xf0 ? 3 : 4;
		if (i + n > len) {
			size_t k = i + 1;
			while (k < len && (u[k] & 0xc0) == 0x80)
				k++;
			if (k == len)
				break;  /* a character continuing past len */
			n = 1;          /* broken before len: one invalid byte */
		} else if (n > 1 && utf8_len(u + i, n) == 0)
			n = 1;          /* an invalid byte is one (cleaned) character */
		i += n;
	}
	return i;
}

/* ------------------------------------------------------- /etc/os-release */

/*
 * osrel_value - unquote v[0..n) into out as printable UTF-8. A quoted value
 * is taken up to its closing quote; one that never closes is copied as
 * written. A value longer than out is cut on a character boundary.
 */
static void
osrel_value(const char *v, size_t n, char *out, size_t cap)
{
	char q = n > 0 && (v[0] == '"' || v[0] == '\'') ? v[0] : 0;
	int esc = q != '\'';           /* escapes in "..." and bare values */
	size_t i = 0, o = 0;
	int cut = 0;

	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	if (q) {
		for (i = 1; i < n && v[i] != q; i++)
			if (esc && v[i] == '\\' && i + 1 < n)
				i++;
		if (i < n) {            /* closed: the text between the quotes */
			v++;
			n = i - 1;
		} else                  /* never closed: as written */
			esc = 0;
	}
	for (i = 0; i < n; i++) {
		if (esc && v[i] == '\\' && i + 1 < n)
			i++;
		if ((cut = o + 1 >= cap) != 0)
			break;
		out[o++] = v[i];
	}
	if (cut)
		o = tfo_procfs_utf8_cut(out, o);
	out[o] = '\0';
	tfo_procfs_text_clean(out, o, 0);
}

/* osrel_line - the value part of line[0..n) when it assigns key, else NULL */
static const char *
osrel_line(const char *line, size_t n, const char *key, size_t kl)
{
	if (n > kl && memcmp(line, key, kl) == 0 && line[kl] == '=')
		return line + kl + 1;
	return NULL;
}

enum tfo_err
tfo_osrelease_get(const char *text, size_t len, const char *key, char *out, size_t cap)
{
	const char *p = text, *end = text + len;
	size_t kl = strlen(key);
	enum tfo_err e = TFO_ENOENT;

	if (cap == 0)
		return TFO_ERANGE;
	out[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *v = osrel_line(p, n, key, kl);
		if (v != NULL) {
			osrel_value(v, n - kl - 1, out, cap);
			e = TFO_OK;
		}
		p += n + 1;
	}
	return e;
}

enum tfo_err
tfo_osrelease_parse(const char *text, size_t len, struct tfo_osrelease *out)
{
	const struct {
		const char *key;
		char *dst;
		size_t cap;
	} f[] = {
		{ "ID", out->id, sizeof(out->id) },
		{ "ID_LIKE", out->id_like, sizeof(out->id_like) },
		{ "VERSION_ID", out->version_id, sizeof(out->version_id) },
		{ "PRETTY_NAME", out->pretty_name, sizeof(out->pretty_name) },
	};
	int found = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		found |= tfo_osrelease_get(text, len, f[i].key, f[i].dst, f[i].cap) == TFO_OK;
	return found ? TFO_OK : TFO_ENOENT;
}

enum tfo_err
tfo_osrelease_read(const char *root, char *buf, size_t cap, struct tfo_osrelease *out)
{
	static const char *const paths[] = { "etc/os-release", "usr/lib/os-release" };
	size_t len = 0;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		enum tfo_err e = tfo_procfs_read(root, paths[i], buf, cap, &len);
		if (e == TFO_OK || e == TFO_ERANGE)
			return tfo_osrelease_parse(buf, len, out);
	}
	memset(out, 0, sizeof(*out));
	return TFO_ENOENT;
}
