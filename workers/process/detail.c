/*
 * detail.c - tfo-process's full report of one selected process: its files
 * (status, io, cmdline, exe, fd, cgroup) read through one /proc/<pid> dirfd,
 * or through fds kept from the cycle before while it stays selected, then
 * its own Resource (host attributes + process.*) and its metrics encoded as
 * one OTLP ResourceMetrics for the emit callback.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/procfs.h"
#include "workers/process/collect_int.h"

#define OWNERS_RELOAD_NS (60ull * 1000000000ull)
#define PASSWD_MAX (8u << 20)
#define PROC_ATTRS 10

/* everything read about one process */
struct pc_info {
	const struct tfo_pid_stat *st;  /* the walk's, or fresh */
	struct tfo_pid_stat fresh;      /* read again by the report */
	struct tfo_pid_status status;
	struct tfo_pid_io io;
	int have_io;
	int64_t nfds;                   /* -1 unknown */
	const struct pc_walk *w;
	struct pc_det *d;               /* its kept detail files, or NULL */
	int dfd;                        /* its /proc/<pid>, when a read needs it; -1 */
	int keep;                       /* files opened now may be kept */
	const struct tfo_priv_ans *ans; /* the helper's reads, or NULL: read here */
	const char *exe_path;           /* NULL unknown */
	const char *exe_name;
	const char *command;            /* NULL none */
	const char *command_line;       /* NULL none */
	const char *cgroup;             /* NULL none */
	uint64_t creation_ns;
};

void
pc_owners_load(struct tfo_proccol *c)
{
	char *buf = malloc(PASSWD_MAX);
	size_t len;

	c->owners_ns = c->now_ns;
	if (buf == NULL)
		return;
	if (tfo_procfs_read(c->root, "etc/passwd", buf, PASSWD_MAX, &len) != TFO_EIO)
		(void)tfo_owners_parse(&c->owners, buf, len);
	free(buf);
}

static const char *
owner_of(struct tfo_proccol *c, uint32_t uid)
{
	const char *n = tfo_owners_name(&c->owners, uid);

	if (n == NULL && c->now_ns - c->owners_ns > OWNERS_RELOAD_NS) {
		pc_owners_load(c);      /* a user added since the last read */
		c->stats.owner_reloads++;
		n = tfo_owners_name(&c->owners, uid);
	}
	return n;
}

/* ------------------------------------------------------------------ reads */

int
pc_errno_rc(int err)
{
	if (pc_gone(err))
		return -1;
	return err == EACCES || err == EPERM ? -2 : -3;
}

/* read_at - dfd/name into buf; 0 ok (a longer file is cut), -1 gone, -2 denied, -3 error */
static int
read_at(int dfd, const char *name, char *buf, size_t cap, size_t *len)
{
	int fd, err, rc;

	*len = 0;
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		err = errno;
	else {
		rc = pc_pread1(fd, buf, cap, len);
		err = errno;
		close(fd);
		if (rc == 0)
			return 0;
	}
	return pc_errno_rc(err);
}

static const char *const det_name[PC_DET_N] = {
	[PC_DET_STATUS] = "status", [PC_DET_CMDLINE] = "cmdline", [PC_DET_CGROUP] = "cgroup",
};

/*
 * read_det - detail file k of the process: through the fd kept since an
 * earlier cycle, else opened under its dir and kept while the process stays
 * selected. A /proc/<pid> file read again from offset 0 is made anew, and
 * it is bound to the process instance it was opened for: once that exits,
 * its reads fail (ESRCH), whoever has the pid now. Results as read_at's.
 */
static int
read_det(struct tfo_proccol *c, struct pc_info *p, int k, char *buf, size_t cap, size_t *len)
{
	int *kept = p->d != NULL ? &p->d->fd[k] : NULL, fd, err, rc;

	*len = 0;
	if (kept != NULL && *kept >= 0) {
		if (pc_pread1(*kept, buf, cap, len) == 0)
			return 0;
		err = errno;
		close(*kept);
		*kept = -1;
		c->nkept--;
		return pc_errno_rc(err);
	}
	if (p->dfd < 0)
		return -3;
	if ((fd = openat(p->dfd, det_name[k], O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return pc_errno_rc(errno);
	rc = pc_pread1(fd, buf, cap, len);
	err = errno;
	if (rc == 0 && kept != NULL && p->keep && c->nkept < c->maxkept) {
		*kept = fd;
		c->nkept++;
	} else {
		close(fd);
	}
	return rc == 0 ? 0 : pc_errno_rc(err);
}

/* count - the outcome of an optional read into the stats; 1 when usable */
static int
count(struct tfo_proccol *c, int rc)
{
	if (rc == -2)
		c->stats.denied++;
	else if (rc == -3)
		c->stats.read_errors++;
	return rc == 0;
}

/* count_fds - entries of <pid>/fd: since 6.2 the size stat() gives for the
 * directory, without listing it (a process holding thousands of fds, such as
 * this collector with its kept stat fds, costs a long getdents); else listed */
static int64_t
count_fds(struct tfo_proccol *c, int dfd, int may_list)
{
	struct dirent *de;
	struct stat sb;
	int64_t n = 0;
	DIR *d;
	int fd;

	if (c->procfs && fstatat(dfd, "fd", &sb, 0) == 0 && sb.st_size > 0)
		return (int64_t)sb.st_size;
	if (!may_list) {
		c->stats.denied++;
		return -1;
	}
	if ((fd = openat(dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		(void)count(c, errno == EACCES || errno == EPERM ? -2 : pc_gone(errno) ? -1 : -3);
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		c->stats.read_errors++;
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

const char *
pc_exe_finish(struct tfo_proccol *c, size_t n)
{
	const char *base;
	size_t cut;

	if (n >= sizeof(c->exe))
		n = sizeof(c->exe) - 1;
	c->exe[n] = '\0';
	cut = n > 10 ? n - 10 : 0;
	if (cut > 0 && strcmp(&c->exe[cut], " (deleted)") == 0)
		c->exe[n = cut] = '\0';    /* upgraded binary: same process, same series */
	tfo_procfs_text_clean(c->exe, n, 0);
	base = strrchr(c->exe, '/');
	base = base != NULL ? base + 1 : c->exe;
	return base[0] != '\0' ? base : NULL;
}

/* read_exe - the exe link, from the helper's answer or read here */
static void
read_exe(struct tfo_proccol *c, int dfd, struct pc_info *p)
{
	ssize_t n;
	const char *base;

	p->exe_name = p->st->comm;
	if (p->ans != NULL) {
		if (p->ans->err_exe != 0) {
			(void)count(c, pc_errno_rc(p->ans->err_exe));
			return;
		}
		memcpy(c->exe, p->ans->exe, p->ans->exe_len);
		n = (ssize_t)p->ans->exe_len;
	} else if ((n = readlinkat(dfd, "exe", c->exe, sizeof(c->exe) - 1)) <= 0) {
		/* ENOENT: kernel thread or zombie; EACCES: no CAP_SYS_PTRACE */
		(void)count(c, n == 0 ? -3 : pc_errno_rc(errno));
		return;
	}
	base = pc_exe_finish(c, (size_t)n);
	p->exe_path = c->exe;
	if (base != NULL)
		p->exe_name = base;
}

/* read_io - the io counters, from the helper's answer or read here */
static void
read_io(struct tfo_proccol *c, int dfd, struct pc_info *p, int mine)
{
	size_t len;

	if (p->ans != NULL) {
		if (count(c, p->ans->err_io == 0 ? 0 : pc_errno_rc(p->ans->err_io))) {
			p->io.read_bytes = p->ans->read_bytes;
			p->io.write_bytes = p->ans->write_bytes;
			p->have_io = 1;
		}
		return;
	}
	if (count(c, mine ? read_at(dfd, "io", c->buf, PC_BUF, &len) : -2) &&
	    tfo_procfs_pid_io(c->buf, len, &p->io) == TFO_OK)
		p->have_io = 1;
}

/* read_nfds - the fd count, from the helper's answer or read here */
static int64_t
read_nfds(struct tfo_proccol *c, int dfd, const struct pc_info *p, int mine)
{
	if (p->ans == NULL)
		return count_fds(c, dfd, mine);
	if (p->ans->err_nfds == 0)
		return p->ans->nfds;
	(void)count(c, pc_errno_rc(p->ans->err_nfds));
	return -1;
}

/* redacted - an arena copy of s[0..n) with the redaction applied */
static char *
redacted(struct tfo_proccol *c, const char *s, size_t n)
{
	size_t cap = 3 * n + 4;     /* each masked byte may grow to "***" */
	char *r = tfo_arena_alloc(c->arena, cap);

	if (r == NULL)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	c->stats.redactions += tfo_redact_apply(&c->redact, r, cap);
	return r;
}

/* read_cmdline - process.command and (when enabled) process.command_line */
static int
read_cmdline(struct tfo_proccol *c, struct pc_info *p)
{
	struct tfo_pid_cmdline ci;
	size_t len, cut;
	int rc = read_det(c, p, PC_DET_CMDLINE, c->cmdraw, c->cmdcap, &len);
	char *cl;

	if (!count(c, rc) || len == 0)
		return 0;
	tfo_procfs_pid_cmdline(c->cmdraw, len, c->cmd, c->cmdcap, &ci);
	if (ci.argv0_len > 0 && (p->command = redacted(c, c->cmd, ci.argv0_len)) == NULL)
		return -1;
	if (c->cmdline_max == 0 || ci.len == 0)
		return 0;
	if ((cl = redacted(c, c->cmd, ci.len)) == NULL)
		return -1;
	/* cut AFTER redaction: a secret straddling the cut is still masked */
	cut = strlen(cl);
	if (cut > c->cmdline_max)
		cl[tfo_procfs_utf8_cut(cl, c->cmdline_max)] = '\0';
	p->command_line = cl;
	return 0;
}

/* read_all - every file of one process; 0 ok, 1 gone, 2 unreadable, -1 out of memory */
static int
read_all(struct tfo_proccol *c, struct pc_info *p)
{
	int dfd = p->dfd, rc, mine;
	size_t len;

	/* Same instance as the walk's? With its status file kept (opened for
	 * this start time), the status read below proves it: it still reads,
	 * so the process was alive after dfd was opened and after the helper
	 * read it, and owned the pid then; the walk's stat is then this
	 * cycle's, not read again. Else through the kept stat fd, the same
	 * proof; without one, the start time read through dfd must match. */
	if (p->d != NULL && p->d->fd[PC_DET_STATUS] >= 0)
		p->st = &p->w->st;
	else {
		rc = p->w->fd >= 0 ? pc_parse_fd(p->w->fd, c->buf, PC_BUF, &p->fresh) :
		    pc_read_stat(dfd, "stat", c->buf, PC_BUF, &p->fresh);
		p->st = &p->fresh;
		if (rc != 0 || p->fresh.starttime != p->w->st.starttime) {
			if (rc != -2)
				return 1;   /* exited (or the pid was reused) since the walk */
			c->stats.read_errors++;
			return 2;
		}
	}
	if ((rc = read_det(c, p, PC_DET_STATUS, c->buf, PC_BUF, &len)) != 0 ||
	    tfo_procfs_pid_status(c->buf, len, &p->status) != TFO_OK) {
		if (rc == -1)
			return 1;
		c->stats.read_errors++;
		return 2;
	}
	/* ptrace-mode reads: io, exe, the fd list; by the helper (tfo-procpriv),
	 * or here for this process only (tfo_proccol_own_reads_only) */
	mine = p->ans != NULL || pc_may_ptrace(c, p->st->pid);
	read_io(c, dfd, p, mine);
	p->exe_name = p->st->comm;
	if (!(p->st->flags & TFO_PF_KTHREAD)) {  /* kernel threads: no exe, cmdline, fds */
		p->nfds = read_nfds(c, dfd, p, mine);
		if (mine)
			read_exe(c, dfd, p);
		else
			c->stats.denied++;
		if (read_cmdline(c, p) != 0)
			return -1;
	}
	if (count(c, read_det(c, p, PC_DET_CGROUP, c->buf, PC_BUF, &len)) && len > 0) {
		tfo_procfs_pid_cgroup(c->buf, len, c->cgroup, sizeof(c->cgroup));
		p->cgroup = c->cgroup;
	}
	return 0;
}

/* ------------------------------------------------------------------ build */

/* iso8601 - "2023-11-21T09:25:34.853Z" */
static void
iso8601(uint64_t ns, char *out, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char day[32];

	if (gmtime_r(&s, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		day[0] = '\0';
	snprintf(out, cap, "%s.%03uZ", day, (unsigned)(ns / 1000000ull % 1000ull));
}

/* resource - the host attributes followed by this process's */
static tfo_resource_msg *
resource(struct tfo_proccol *c, const struct pc_info *p)
{
	tfo_resource_msg *r = tfo_arena_alloc(c->arena, sizeof(*r));
	size_t nh = c->host != NULL ? c->host->n_attributes : 0, n = nh;
	const char *owner = owner_of(c, p->status.uid[TFO_ID_EFFECTIVE]);
	char when[48];
	tfo_kv **a;

	if (r == NULL || (a = tfo_arena_alloc(c->arena, (nh + PROC_ATTRS) * sizeof(*a))) == NULL)
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	for (size_t i = 0; i < nh; i++)
		a[i] = c->host->attributes[i];
	iso8601(p->creation_ns, when, sizeof(when));
	a[n++] = tfo_otlp_kv_int(c->arena, "process.pid", p->st->pid);
	a[n++] = tfo_otlp_kv_int(c->arena, "process.parent_pid", p->st->ppid);
	a[n++] = tfo_otlp_kv_str(c->arena, "process.executable.name", p->exe_name);
	if (p->exe_path != NULL)
		a[n++] = tfo_otlp_kv_str(c->arena, "process.executable.path", p->exe_path);
	if (p->command != NULL)
		a[n++] = tfo_otlp_kv_str(c->arena, "process.command", p->command);
	if (p->command_line != NULL)
		a[n++] = tfo_otlp_kv_str(c->arena, "process.command_line", p->command_line);
	if (owner != NULL)
		a[n++] = tfo_otlp_kv_str(c->arena, "process.owner", owner);
	a[n++] = tfo_otlp_kv_int(c->arena, "process.user.id", p->status.uid[TFO_ID_EFFECTIVE]);
	a[n++] = tfo_otlp_kv_str(c->arena, "process.creation.time", when);
	if (p->cgroup != NULL)
		a[n++] = tfo_otlp_kv_str(c->arena, "process.linux.cgroup", p->cgroup);
	for (size_t i = nh; i < n; i++)
		if (a[i] == NULL)
			return NULL;
	r->attributes = a;
	r->n_attributes = n;
	return r;
}

/* builder state of one process */
struct pc_b {
	struct tfo_proccol *c;
	struct tfo_otlp_metrics *b;
	uint64_t start_ns;
	int oom;
};

static void
pt(struct pc_b *x, const char *name, const char *unit, const char *desc, enum tfo_otlp_kind k,
   int dbl, double dv, int64_t iv, tfo_kv *const *kv, size_t nkv)
{
	struct tfo_otlp_metric *m = tfo_otlp_metric(x->b, name, unit, desc, k);
	enum tfo_err e;

	if (m == NULL) {
		x->oom = 1;
		return;
	}
	e = dbl ? tfo_otlp_point_double(x->b, m, x->start_ns, x->c->now_ns, dv, kv, nkv)
	        : tfo_otlp_point_int(x->b, m, x->start_ns, x->c->now_ns, iv, kv, nkv);
	if (e != TFO_OK)
		x->oom = 1;
}

/* pair - one metric with two points told apart by one attribute (kv1,
 * kv2: the collector's shared ones) */
static void
pair(struct pc_b *x, const char *name, const char *unit, const char *desc,
     enum tfo_otlp_kind k, int dbl, tfo_kv *kv1, double d1, uint64_t i1,
     tfo_kv *kv2, double d2, uint64_t i2)
{
	struct tfo_otlp_metric *m = tfo_otlp_metric(x->b, name, unit, desc, k);
	uint64_t s = x->start_ns, t = x->c->now_ns;
	int64_t j1 = i1 > INT64_MAX ? INT64_MAX : (int64_t)i1;
	int64_t j2 = i2 > INT64_MAX ? INT64_MAX : (int64_t)i2;

	if (m == NULL ||
	    (dbl ? tfo_otlp_point_double(x->b, m, s, t, d1, &kv1, 1) != TFO_OK ||
	           tfo_otlp_point_double(x->b, m, s, t, d2, &kv2, 1) != TFO_OK
	         : tfo_otlp_point_int(x->b, m, s, t, j1, &kv1, 1) != TFO_OK ||
	           tfo_otlp_point_int(x->b, m, s, t, j2, &kv2, 1) != TFO_OK))
		x->oom = 1;
}

/* utilization - share of all CPUs since the last walk (or since start) */
static void
utilization(struct tfo_proccol *c, const struct pc_info *p, double *u, double *s)
{
	const struct pc_walk *w = p->w;
	/* every live entry was seen by the walk before */
	uint64_t from = w->have_prev ? c->prev_walk_ns : p->creation_ns;
	uint64_t pu = w->have_prev ? w->prev_utime : 0, ps = w->have_prev ? w->prev_stime : 0;
	double span;

	*u = *s = 0;
	if (c->now_ns <= from)
		return;
	span = (double)(c->now_ns - from) / 1e9 * (double)c->hz * (double)c->ncpus;
	*u = p->st->utime > pu ? (double)(p->st->utime - pu) / span : 0;
	*s = p->st->stime > ps ? (double)(p->st->stime - ps) / span : 0;
}

static void
metrics(struct pc_b *x, const struct pc_info *p)
{
	struct tfo_proccol *c = x->c;
	double hz = (double)c->hz, u, s;
	uint64_t threads = (p->status.have & TFO_PST_THREADS) ? p->status.threads : p->st->num_threads;

	utilization(c, p, &u, &s);
	pair(x, "process.cpu.time", "s", "Total CPU seconds broken down by different CPU modes.",
	    TFO_OTLP_COUNTER, 1, c->kv_user, (double)p->st->utime / hz, 0,
	    c->kv_system, (double)p->st->stime / hz, 0);
	pair(x, "process.cpu.utilization", "1", "Difference in process.cpu.time since the last "
	    "measurement, divided by the elapsed time and number of CPUs available to the process.",
	    TFO_OTLP_GAUGE, 1, c->kv_user, u, 0, c->kv_system, s, 0);
	pt(x, "process.memory.usage", "By", "The amount of physical memory in use.",
	    TFO_OTLP_UPDOWN, 0, 0, (int64_t)(p->st->rss * (uint64_t)c->page), NULL, 0);
	pt(x, "process.memory.virtual", "By", "The amount of committed virtual memory.",
	    TFO_OTLP_UPDOWN, 0, 0, p->st->vsize > INT64_MAX ? INT64_MAX : (int64_t)p->st->vsize,
	    NULL, 0);
	if (p->have_io)
		pair(x, "process.disk.io", "By", "Disk bytes transferred.", TFO_OTLP_COUNTER, 0,
		    c->kv_read, 0, p->io.read_bytes, c->kv_write, 0, p->io.write_bytes);
	pt(x, "process.thread.count", "{thread}", "Process threads count.", TFO_OTLP_UPDOWN, 0, 0,
	    (int64_t)threads, NULL, 0);
	if (p->nfds >= 0)
		pt(x, "process.unix.file_descriptor.count", "{file_descriptor}",
		    "Number of UNIX file descriptors in use by the process.", TFO_OTLP_UPDOWN, 0, 0,
		    p->nfds, NULL, 0);
	if ((p->status.have & (TFO_PST_VCTX | TFO_PST_NVCTX)) == (TFO_PST_VCTX | TFO_PST_NVCTX))
		pair(x, "process.context_switches", "{context_switch}",
		    "Number of times the process has been context switched.", TFO_OTLP_COUNTER, 0,
		    c->kv_vol, 0, p->status.vol_ctxt, c->kv_invol, 0, p->status.nonvol_ctxt);
	pair(x, "process.paging.faults", "{fault}", "Number of page faults the process has made.",
	    TFO_OTLP_COUNTER, 0, c->kv_major, 0, p->st->majflt, c->kv_minor, 0, p->st->minflt);
	pt(x, "process.uptime", "s", "The time the process has been running.", TFO_OTLP_GAUGE, 1,
	    c->now_ns > p->creation_ns ? (double)(c->now_ns - p->creation_ns) / 1e9 : 0, 0, NULL, 0);
}

/* creation_ns - boot time + starttime ticks, without overflow */
static uint64_t
creation_ns(const struct tfo_proccol *c, uint64_t ticks)
{
	uint64_t hz = (uint64_t)c->hz;

	return c->boot_ns + ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}

/* need_dir - a read of this report goes through /proc/<pid>: a file not
 * kept yet, the stat without its kept fd, or a read done here, not by the
 * helper. Opened before the stat read, which then proves the dir is the
 * walked instance's. */
static int
need_dir(const struct pc_info *p)
{
	const struct pc_det *d = p->d;

	return d == NULL || p->w->fd < 0 || p->ans == NULL || d->fd[PC_DET_STATUS] < 0 ||
	    d->fd[PC_DET_CGROUP] < 0 || (!PC_KTHREAD(p->w) && d->fd[PC_DET_CMDLINE] < 0);
}

int
pc_report(struct tfo_proccol *c, const struct tfo_cand *cand, const struct tfo_priv_ans *ans,
          tfo_proccol_emit_fn emit, void *arg)
{
	struct pc_info p = { .nfds = -1, .w = &c->walk[cand->idx], .dfd = -1, .ans = ans };
	struct pc_b x = { .c = c };
	tfo_resource_msg *res;
	char dir[24];
	uint8_t *out;
	size_t len;
	int rc;

	tfo_arena_reset(c->arena);
	/* files are kept only on a real procfs (a fixture's are plain files,
	 * replaced by renames) and for an instance its kept stat fd pins */
	p.keep = c->procfs && p.w->fd >= 0;
	p.d = p.keep ? pc_det_get(c, (int32_t)cand->pid, p.w->st.starttime) : NULL;
	snprintf(dir, sizeof(dir), "%lld", (long long)cand->pid);
	if (need_dir(&p) &&
	    (p.dfd = openat(c->procfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (pc_gone(errno))
			c->stats.vanished++;
		else
			c->stats.read_errors++;
		return 0;
	}
	rc = read_all(c, &p);
	if (p.dfd >= 0)
		close(p.dfd);
	if (rc != 0) {
		c->stats.vanished += rc == 1;
		return rc > 0 ? 0 : -2;
	}
	p.creation_ns = creation_ns(c, p.st->starttime);
	x.start_ns = p.creation_ns;
	if ((res = resource(c, &p)) == NULL ||
	    (x.b = tfo_otlp_metrics_new(c->arena, res, "tfo-agent/process", TFO_VERSION,
	    "https://opentelemetry.io/schemas/1.44.0")) == NULL)
		return -2;
	metrics(&x, &p);
	if (x.oom || tfo_otlp_metrics_encode(x.b, &out, &len) != TFO_OK)
		return -2;
	c->stats.points += tfo_otlp_metrics_points(x.b);
	c->stats.bytes += len;
	return emit(arg, out, len, tfo_otlp_metrics_points(x.b)) == 0 ? 1 : -1;
}
