/*
 * collect.c - tfo-process's cycle: the stat-only walk of /proc (one openat
 * and read per process), the pid table that turns cumulative CPU into CPU
 * over the last interval, the selection, then the full report of the chosen
 * few (detail.c). Lifecycle of the collector.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/zarray.h"
#include "workers/process/collect_int.h"

#define STAT_LINE_MAX 2048
#define ROOT_STAT_MAX (256u * 1024u)
/* The pid table's first size: it doubles at half full, so it holds twice the
 * host's processes rounded up to a power of two. Hashed pids touch every
 * page of it: starting at 1024 slots (56 KiB) kept 14 pages resident in
 * tfo-process on a host of 120 processes, where 256 slots (4) serve. */
#define PC_TAB_MIN 64

/* ------------------------------------------------------------- pid table */

static size_t
slot_of(int64_t pid, size_t cap)
{
	uint64_t h = (uint64_t)pid * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (cap - 1);
}

/* tab_rebuild - move every entry into a new table of cap slots (growth) */
static int
tab_rebuild(struct tfo_proccol *c, size_t cap)
{
	struct pc_ent *nt = calloc(cap, sizeof(*nt));

	if (nt == NULL)
		return -1;
	for (size_t i = 0; i < c->tabcap; i++) {
		size_t j;
		if (c->tab[i].pid == 0)
			continue;
		for (j = slot_of(c->tab[i].pid, cap); nt[j].pid != 0; j = (j + 1) & (cap - 1))
			;
		nt[j] = c->tab[i];
	}
	free(c->tab);
	c->tab = nt;
	c->tabcap = cap;
	return 0;
}

/* tab_del - empty slot i, shifting back the entries of its probe run so no
 * lookup meets a hole (linear probing without tombstones) */
static void
tab_del(struct tfo_proccol *c, size_t i)
{
	size_t mask = c->tabcap - 1, j = i;

	for (;;) {
		size_t k;
		j = (j + 1) & mask;
		if (c->tab[j].pid == 0)
			break;
		k = slot_of(c->tab[j].pid, c->tabcap);
		/* entry j stays if its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		c->tab[i] = c->tab[j];
		i = j;
	}
	memset(&c->tab[i], 0, sizeof(c->tab[i]));
	c->tabn--;
}

/* tab_gc - forget the processes this walk did not see (they exited), in
 * place: no table-sized allocation per cycle */
static int
tab_gc(struct tfo_proccol *c)
{
	for (size_t i = 0; i < c->tabcap;) {
		struct pc_ent *e = &c->tab[i];
		if (e->pid == 0 || e->seen == c->gen) {
			i++;
			continue;
		}
		free(e->name);
		if (e->fd >= 0) {
			close(e->fd);
			c->nkept--;
		}
		tab_del(c, i);      /* slot i may now hold a later entry: look again */
	}
	/* after a fork storm: give the memory back */
	if (c->tabcap > 4096 && c->tabn * 8 < c->tabcap)
		return tab_rebuild(c, c->tabcap / 2);
	return 0;
}

struct pc_ent *
pc_tab_find(struct tfo_proccol *c, int32_t pid)
{
	if (c->tabcap == 0)
		return NULL;
	for (size_t j = slot_of(pid, c->tabcap); c->tab[j].pid != 0; j = (j + 1) & (c->tabcap - 1))
		if (c->tab[j].pid == pid)
			return &c->tab[j];
	return NULL;
}

/* ent_init - a fresh entry of pid with its stat fd (or -1) */
static void
ent_init(struct pc_ent *e, int32_t pid, int fd)
{
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->fd = fd;
}

static struct pc_ent *
tab_get(struct tfo_proccol *c, int32_t pid, int *fresh)
{
	size_t j;

	if ((c->tabn + 1) * 2 > c->tabcap &&
	    tab_rebuild(c, c->tabcap != 0 ? c->tabcap * 2 : PC_TAB_MIN) != 0)
		return NULL;
	for (j = slot_of(pid, c->tabcap); c->tab[j].pid != 0; j = (j + 1) & (c->tabcap - 1)) {
		if (c->tab[j].pid == pid) {
			*fresh = 0;
			return &c->tab[j];
		}
	}
	*fresh = 1;
	ent_init(&c->tab[j], pid, -1);
	c->tabn++;
	return &c->tab[j];
}

/* ------------------------------------------------------------------ walk */

/* comm_hash - FNV-1a of comm: an exec changes comm, so the name is re-read */
static uint64_t
comm_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* name_from - the pattern name: base name of the exe path in c->exe (n
 * bytes), else comm (kernel thread, zombie, or not readable) */
static char *
name_from(struct tfo_proccol *c, ssize_t n, const char *comm)
{
	const char *base = n > 0 ? pc_exe_finish(c, (size_t)n) : NULL;

	return strdup(base != NULL ? base : comm);
}

/* names_direct - the names this walk needs, read here */
static int
names_direct(struct tfo_proccol *c)
{
	for (size_t i = 0; i < c->ncand; i++) {
		struct pc_walk *w = &c->walk[c->cand[i].idx];
		struct pc_ent *e;
		char path[32];
		ssize_t n = 0;

		if (!w->need_name || (e = pc_tab_find(c, (int32_t)c->cand[i].pid)) == NULL)
			continue;
		snprintf(path, sizeof(path), "%lld/exe", (long long)c->cand[i].pid);
		if (pc_may_ptrace(c, c->cand[i].pid))
			n = readlinkat(c->procfd, path, c->exe, sizeof(c->exe) - 1);
		if ((e->name = name_from(c, n, w->st.comm)) == NULL)
			return -1;
	}
	return 0;
}

/* names_flush - the c->batch[0..n) names from one helper round trip */
static int
names_flush(struct tfo_proccol *c, size_t n)
{
	if (n > 0 && pc_priv_batch(c, n) != 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		const struct tfo_cand *cd = &c->cand[c->batch[k]];
		const struct tfo_priv_ans *a = &c->ans[k];
		struct pc_ent *e = pc_tab_find(c, (int32_t)cd->pid);
		size_t len = a->err_exe == 0 ? a->exe_len : 0;

		if (e == NULL)
			continue;
		memcpy(c->exe, a->exe != NULL ? a->exe : "", len);
		if ((e->name = name_from(c, (ssize_t)len, c->walk[cd->idx].st.comm)) == NULL)
			return -1;
	}
	return 0;
}

/* names_priv - the names this walk needs, a batch per helper round trip */
static int
names_priv(struct tfo_proccol *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ncand; i++) {
		if (!c->walk[c->cand[i].idx].need_name)
			continue;
		c->req[n] = (struct tfo_privops_req){ .pid = (int32_t)c->cand[i].pid,
		    .ops = TFO_PRIVOP_EXE };
		c->batch[n++] = i;
		if (n == TFO_PRIVOPS_BATCH) {
			if (names_flush(c, n) != 0)
				return -1;
			n = 0;
		}
	}
	return names_flush(c, n);
}

/* det_expire - the detail files of pid (if kept) closed at the end of this
 * cycle: it exited, or it is excluded now (an exec) */
static void
det_expire(struct tfo_proccol *c, int32_t pid)
{
	struct pc_det *d = pc_det_find(c, pid);

	if (d != NULL)
		d->gen = c->gen - PC_DET_AGE;
}

/* det_gone - expire the detail files of the processes this walk did not
 * see, or saw as another instance (pid reused) */
static void
det_gone(struct tfo_proccol *c)
{
	for (size_t i = 0; i < c->ndet; i++) {
		struct pc_det *d = &c->det[i];
		const struct pc_ent *e = pc_tab_find(c, d->pid);
		if (e == NULL || e->seen != c->gen || e->starttime != d->starttime)
			d->gen = c->gen - PC_DET_AGE;
	}
}

/* walk_match - with include/exclude patterns: read the names that are new
 * or stale (an exec changes comm), drop the excluded candidates, mark the
 * included ones. -1: out of memory or the helper failed (c->priv_err). */
static int
walk_match(struct tfo_proccol *c)
{
	size_t keep = 0;

	if (c->inc.n == 0 && c->exc.n == 0)
		return 0;
	if ((c->priv != NULL ? names_priv(c) : names_direct(c)) != 0)
		return -1;
	for (size_t i = 0; i < c->ncand; i++) {
		const struct pc_ent *e = pc_tab_find(c, (int32_t)c->cand[i].pid);
		const char *name = e != NULL ? e->name : NULL;

		if (name != NULL && tfo_namepats_match(&c->exc, name)) {
			det_expire(c, (int32_t)c->cand[i].pid);        /* never reported again */
			continue;
		}
		if (name != NULL && tfo_namepats_match(&c->inc, name))
			c->cand[i].why = TFO_SEL_INCLUDED;
		c->cand[keep++] = c->cand[i];
	}
	c->ncand = keep;
	return 0;
}

static int
cand_room(struct tfo_proccol *c)
{
	size_t cap;
	struct tfo_cand *nc;
	struct pc_walk *nw;

	if (c->ncand < c->candcap)
		return 0;
	cap = c->candcap ? c->candcap * 2 : 1024;
	if ((nc = realloc(c->cand, cap * sizeof(*nc))) == NULL)
		return -1;
	c->cand = nc;
	if ((nw = realloc(c->walk, cap * sizeof(*nw))) == NULL)
		return -1;
	c->walk = nw;
	c->candcap = cap;
	return 0;
}

/*
 * stat_of - this walk's stat of pid. A stat fd kept from an earlier walk is
 * bound to that process instance: pread costs half of open+read+close, and
 * ESRCH says the instance is gone (the pid may be a new process's now).
 * 0 ok, -1 gone, -2 failed.
 */
static int
stat_of(struct tfo_proccol *c, struct pc_ent *e, const char *pid, char *line, size_t cap,
        struct tfo_pid_stat *st)
{
	char rel[32];
	int fd, rc;

	if (e->fd >= 0) {
		if ((rc = pc_parse_fd(e->fd, line, cap, st)) == 0)
			return 0;
		close(e->fd);
		e->fd = -1;
		c->nkept--;
		if (rc == -2)
			return -2;
	}
	snprintf(rel, sizeof(rel), "%s/stat", pid);
	if ((fd = openat(c->procfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return pc_gone(errno) ? -1 : -2;
	if ((rc = pc_parse_fd(fd, line, cap, st)) == 0 && c->nkept < c->maxkept) {
		e->fd = fd;
		c->nkept++;
	} else {
		close(fd);
	}
	return rc;
}

/* walk_one - rank one process; 0 ok or skipped, -1 out of memory */
static int
walk_one(struct tfo_proccol *c, const char *pid, int32_t npid)
{
	char line[STAT_LINE_MAX];
	struct pc_walk *w;
	struct pc_ent *e;
	uint64_t cpu;
	int fresh, rc;

	if ((e = tab_get(c, npid, &fresh)) == NULL || cand_room(c) != 0)
		return -1;
	w = &c->walk[c->ncand];         /* taken only once its stat is read */
	if ((rc = stat_of(c, e, pid, line, sizeof(line), &w->st)) != 0) {
		if (rc == -2)
			c->stats.read_errors++;
		return 0;       /* not seen: forgotten (fd closed) at the end of the walk */
	}
	c->stats.walked++;
	w->have_prev = !fresh && e->starttime == w->st.starttime;
	if (!w->have_prev) {            /* new process, or the pid was reused */
		free(e->name);
		ent_init(e, npid, e->fd);
		e->starttime = w->st.starttime;
	}
	w->fd = e->fd;
	w->prev_utime = e->utime;
	w->prev_stime = e->stime;
	cpu = w->st.utime + w->st.stime;
	cpu = !w->have_prev ? cpu : cpu >= e->utime + e->stime ? cpu - e->utime - e->stime : 0;
	e->utime = w->st.utime;
	e->stime = w->st.stime;
	e->seen = c->gen;
	w->need_name = 0;
	if (c->inc.n > 0 || c->exc.n > 0) {
		uint64_t ch = comm_hash(w->st.comm);
		if (e->name == NULL || e->comm_hash != ch) {
			/* read after the walk (walk_match): with the helper, in batches */
			free(e->name);
			e->name = NULL;
			e->comm_hash = ch;
			w->need_name = 1;
		}
	}
	c->cand[c->ncand] = (struct tfo_cand){ .pid = npid, .cpu = cpu, .rss = w->st.rss,
	    .idx = c->ncand };
	c->ncand++;
	return 0;
}

/* pid_of - a /proc entry name that is a pid */
static int64_t
pid_of(const char *s)
{
	int64_t v = 0;

	if (s[0] < '1' || s[0] > '9')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > INT32_MAX)
			return 0;       /* PID_MAX_LIMIT is 2^22 */
	}
	return v;
}

static enum tfo_err
walk(struct tfo_proccol *c)
{
	struct dirent *de;
	DIR *d;
	int fd, oom = 0;

	c->gen++;
	c->ncand = 0;
	c->prev_walk_ns = c->walk_ns;
	c->walk_ns = c->now_ns;
	c->stats.walked = 0;
	if ((fd = openat(c->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return TFO_EIO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return TFO_EIO;
	}
	while (!oom && (de = readdir(d)) != NULL) {
		int32_t pid = (int32_t)pid_of(de->d_name);
		if (pid > 0 && walk_one(c, de->d_name, pid) != 0)
			oom = 1;
	}
	closedir(d);
	if (oom)
		return TFO_ENOMEM;
	if (walk_match(c) != 0)
		return c->priv_err != TFO_OK ? c->priv_err : TFO_ENOMEM;
	if (tab_gc(c) != 0)
		return TFO_ENOMEM;
	return TFO_OK;
}

/* ----------------------------------------------------------------- cycle */

enum tfo_err
tfo_proccol_prime(struct tfo_proccol *c, uint64_t now_ns)
{
	c->now_ns = now_ns;
	return walk(c);
}

int
pc_priv_batch(struct tfo_proccol *c, size_t n)
{
	enum tfo_err e = tfo_priv_query(c->priv, c->req, n, c->ans);

	c->stats.priv_round_trips++;
	if (e != TFO_OK) {
		c->priv_err = e;
		return -1;
	}
	return 0;
}

/* next_batch - the next selected candidates from *i on into c->batch, and
 * with the helper their reads in one round trip; how many, or -1 */
static ssize_t
next_batch(struct tfo_proccol *c, size_t *i)
{
	size_t n = 0;

	for (; *i < c->ncand && n < TFO_PRIVOPS_BATCH; (*i)++) {
		const struct tfo_cand *cd = &c->cand[*i];
		if (!TFO_SELECTED(cd))
			continue;
		c->req[n] = (struct tfo_privops_req){ .pid = (int32_t)cd->pid,
		    .ops = PC_KTHREAD(&c->walk[cd->idx]) ? TFO_PRIVOP_IO : TFO_PRIVOP_ALL };
		c->batch[n++] = *i;
	}
	if (c->priv != NULL && n > 0 && pc_priv_batch(c, n) != 0)
		return -1;
	return (ssize_t)n;
}

/* report_selected - read, encode and emit every selected process; how many
 * were emitted, or an error */
static enum tfo_err
report_selected(struct tfo_proccol *c, tfo_proccol_emit_fn emit, void *arg, size_t *emitted)
{
	size_t i = 0;
	ssize_t n;

	while ((n = next_batch(c, &i)) > 0) {
		for (ssize_t k = 0; k < n; k++) {
			int rc = pc_report(c, &c->cand[c->batch[k]], c->priv != NULL ? &c->ans[k] :
			    NULL, emit, arg);
			if (rc == -2)
				return TFO_ENOMEM;
			if (rc == -1) {
				c->stats.emit_failed++;
				return TFO_OK;
			}
			*emitted += rc == 1;
		}
	}
	return n < 0 ? c->priv_err : TFO_OK;
}

enum tfo_err
tfo_proccol_cycle(struct tfo_proccol *c, uint64_t now_ns, tfo_proccol_emit_fn emit, void *arg)
{
	enum tfo_err e;
	size_t n = 0;

	c->now_ns = now_ns;
	c->stats.points = 0;
	c->stats.bytes = 0;
	if ((e = walk(c)) != TFO_OK)
		return e;
	if (c->hook != NULL)
		c->hook(c->hook_arg);
	tfo_select(c->cand, c->ncand, c->top_n, TFO_PROC_MAX_INCLUDED, c->sel_heap);
	e = report_selected(c, emit, arg, &n);
	det_gone(c);
	pc_det_sweep(c, 0);     /* the files of processes gone or long unreported closed */
	if (e != TFO_OK)
		return e;
	c->stats.selected = n;
	c->stats.cycles++;
	return TFO_OK;
}

/* ------------------------------------------------------------- lifecycle */

/* shared_kvs - the point attributes of every report (c->kv_*); -1 ENOMEM */
static int
shared_kvs(struct tfo_proccol *c)
{
	static const char *const ctx = "process.context_switch.type", *const flt =
	    "system.paging.fault.type";
	struct tfo_arena *a = c->kv_arena = tfo_arena_new(1024);

	if (a == NULL)
		return -1;
	c->kv_user = tfo_otlp_kv_str(a, "cpu.mode", "user");
	c->kv_system = tfo_otlp_kv_str(a, "cpu.mode", "system");
	c->kv_read = tfo_otlp_kv_str(a, "disk.io.direction", "read");
	c->kv_write = tfo_otlp_kv_str(a, "disk.io.direction", "write");
	c->kv_vol = tfo_otlp_kv_str(a, ctx, "voluntary");
	c->kv_invol = tfo_otlp_kv_str(a, ctx, "involuntary");
	c->kv_major = tfo_otlp_kv_str(a, flt, "major");
	c->kv_minor = tfo_otlp_kv_str(a, flt, "minor");
	return c->kv_user != NULL && c->kv_system != NULL && c->kv_read != NULL &&
	    c->kv_write != NULL && c->kv_vol != NULL && c->kv_invol != NULL &&
	    c->kv_major != NULL && c->kv_minor != NULL ? 0 : -1;
}

static int
copy_cfg(struct tfo_proccol *c, const Tfo__V1__ProcessConfig *cfg, char *err, size_t errcap)
{
	size_t cap;

	snprintf(c->root, sizeof(c->root), "%s", cfg->proc_root != NULL ? cfg->proc_root : "");
	c->top_n = cfg->top_n != 0 ? cfg->top_n : TFO_PROC_DEFAULT_TOP_N;
	c->cmdline_max = cfg->cmdline_max_len;
	if (tfo_namepats_init(&c->inc, cfg->include, cfg->n_include, err, errcap) != TFO_OK ||
	    tfo_namepats_init(&c->exc, cfg->exclude, cfg->n_exclude, err, errcap) != TFO_OK ||
	    tfo_redact_init(&c->redact, cfg->redact_patterns, cfg->n_redact_patterns, err,
	    errcap) != TFO_OK)
		return -1;
	cap = (size_t)c->cmdline_max + PC_CMD_MARGIN;
	c->cmdcap = cap > PC_CMD_MIN_READ ? cap : PC_CMD_MIN_READ;
	if ((c->buf = malloc(PC_BUF)) == NULL || (c->cmdraw = malloc(c->cmdcap)) == NULL ||
	    (c->cmd = malloc(c->cmdcap)) == NULL || (c->arena = tfo_arena_new(32 * 1024)) == NULL ||
	    (c->sel_heap = calloc(TFO_SELECT_HEAP(c->top_n, TFO_PROC_MAX_INCLUDED),
	    sizeof(*c->sel_heap))) == NULL || shared_kvs(c) != 0) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	return 0;
}

void
tfo_proccol_release(struct tfo_proccol *c)
{
	tfo_arena_reset(c->arena);
	tfo_arena_release(c->arena);
	tfo_pages_release(c->buf, PC_BUF);
	tfo_pages_release(c->cmdraw, c->cmdcap);
	tfo_pages_release(c->cmd, c->cmdcap);
	tfo_pages_release(c->cand, c->candcap * sizeof(*c->cand));
	tfo_pages_release(c->walk, c->candcap * sizeof(*c->walk));
	c->ncand = 0;
}

/* boot_and_cpus - btime and the cpuN count of <root>/proc/stat, read once */
static void
boot_and_cpus(struct tfo_proccol *c)
{
	struct tfo_cpu_times one[1];
	struct tfo_proc_stat st = { .cpus = one, .cpus_cap = 1 };
	char *buf = malloc(ROOT_STAT_MAX);
	struct tfo_uptime up;
	struct timespec ts;
	size_t len;

	c->ncpus = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->boot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (buf != NULL && tfo_procfs_read(c->root, "proc/stat", buf, ROOT_STAT_MAX, &len) !=
	    TFO_EIO && tfo_procfs_stat(buf, len, &st) == TFO_OK) {
		c->ncpus = (unsigned)(st.ncpus + st.cpus_dropped);
		if (st.have & TFO_STAT_HAVE_BTIME)
			c->boot_ns = st.btime * 1000000000ull;
	}
	if ((buf == NULL || !(st.have & TFO_STAT_HAVE_BTIME)) &&
	    tfo_procfs_read(c->root, "proc/uptime", c->buf, PC_BUF, &len) == TFO_OK &&
	    tfo_procfs_uptime(c->buf, len, &up) == TFO_OK && up.uptime_s * 1e9 < (double)c->boot_ns)
		c->boot_ns -= (uint64_t)(up.uptime_s * 1e9);
	if (c->ncpus == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->ncpus = n > 0 ? (unsigned)n : 1;
	}
	free(buf);
}

/* kept_cap - stat fds kept open: the fd limit less a reserve for everything
 * else (nng, reads of selected processes), at most PC_KEPT_MAX */
static size_t
kept_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur <= PC_FD_RESERVE)
		return 0;
	return rl.rlim_cur - PC_FD_RESERVE < PC_KEPT_MAX ? rl.rlim_cur - PC_FD_RESERVE : PC_KEPT_MAX;
}

struct tfo_proccol *
tfo_proccol_new(const Tfo__V1__ProcessConfig *cfg,
                const Opentelemetry__Proto__Resource__V1__Resource *host, char *err, size_t errcap)
{
	struct tfo_proccol *c = calloc(1, sizeof(*c));
	struct statfs sfs;
	char path[1100];

	if (errcap > 0)
		err[0] = '\0';
	if (c == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	c->procfd = -1;
	c->host = host;
	c->hz = sysconf(_SC_CLK_TCK);
	c->page = sysconf(_SC_PAGESIZE);
	if (c->hz <= 0)
		c->hz = 100;
	if (c->page <= 0)
		c->page = 4096;
	if (copy_cfg(c, cfg, err, errcap) != 0)
		goto fail;
	if (tfo_procfs_path(c->root, "proc", path, sizeof(path)) != TFO_OK ||
	    (c->procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstatfs(c->procfd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
		c->procfs = 1;
	boot_and_cpus(c);
	pc_owners_load(c);
	c->maxkept = kept_cap();
	return c;
fail:
	tfo_proccol_free(c);
	return NULL;
}

void
tfo_proccol_free(struct tfo_proccol *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->tabcap; i++) {
		if (c->tab[i].pid == 0)
			continue;
		free(c->tab[i].name);
		if (c->tab[i].fd >= 0)
			close(c->tab[i].fd);
	}
	pc_det_sweep(c, 1);
	free(c->det);
	free(c->tab);
	free(c->cand);
	free(c->walk);
	free(c->sel_heap);
	if (c->procfd >= 0)
		close(c->procfd);
	tfo_namepats_fini(&c->inc);
	tfo_namepats_fini(&c->exc);
	tfo_redact_fini(&c->redact);
	tfo_owners_fini(&c->owners);
	tfo_arena_free(c->arena);
	tfo_arena_free(c->kv_arena);
	free(c->buf);
	free(c->cmdraw);
	free(c->cmd);
	free(c);
}

const struct tfo_proccol_stats *
tfo_proccol_stats(const struct tfo_proccol *c)
{
	return &c->stats;
}

void
tfo_proccol_own_reads_only(struct tfo_proccol *c)
{
	char buf[24], *end;
	ssize_t n = readlinkat(c->procfd, "self", buf, sizeof(buf) - 1);
	long long v = 0;

	/* "self" of <root>/proc names us in that proc's pid namespace */
	if (n > 0) {
		buf[n] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (errno != 0 || *end != '\0' || v <= 0)
			v = 0;
	}
	c->own_pid = v > 0 ? (int64_t)v : (int64_t)getpid();
}

void
tfo_proccol_set_priv(struct tfo_proccol *c, struct tfo_priv *p)
{
	c->priv = p;
}

void
tfo_proccol_set_units(struct tfo_proccol *c, long hz, long page_size)
{
	if (hz > 0)
		c->hz = hz;
	if (page_size > 0)
		c->page = page_size;
}

void
tfo_proccol_set_hook(struct tfo_proccol *c, void (*hook)(void *), void *arg)
{
	c->hook = hook;
	c->hook_arg = arg;
}
