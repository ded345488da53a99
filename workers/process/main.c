/*
 * main.c - tfo-process, the per-process metrics collector (runs as
 * tfo-process with no capability, under Landlock and seccomp like
 * tfo-system): every interval, the collection library (collect.c) ranks all
 * processes and puts one OTLP ResourceMetrics per selected process into
 * tfo-buffer. The reads that need privileges (exe, io and fd/ of other
 * users' processes) are asked of its helper tfo-procpriv (priv.c), started
 * here while still root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/collector.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/procfs.h"
#include "common/resource.h"
#include "common/sandbox.h"
#include "common/selfdir.h"
#include "common/worker.h"
#include "workers/process/collect.h"

#define DEFAULT_INTERVAL_MS 30000

#define HELPER_NAME "tfo-procpriv"

struct procw {
	struct tfo_collector c;
	struct tfo_resource *res;
	struct tfo_proccol *col;
	struct tfo_priv *priv;          /* the privileged reader (privileged_reads) */
	struct event *ev_priv;          /* its channel: EOF = it died */
	struct tfo_worker *w;
	int priv_status, priv_reaped;
};

/*
 * No capability: tfo-process reads what every user may read of /proc
 * (stat, status, cmdline, cgroup) under Landlock, and asks tfo-procpriv for
 * the rest (privileged_reads, the default). The helper keeps CAP_SYS_PTRACE
 * + CAP_DAC_READ_SEARCH (docs/process.md says why each) outside Landlock,
 * which would deny the very ptrace-mode reads it exists for.
 */
static const int no_caps[] = { -1 };

/* emit - one process's ResourceMetrics into the cycle's put: the top
 * processes of a cycle reach the buffer together, one write batch and one
 * fsync rather than one per process. A failure stops the cycle (the buffer
 * is down: every further put would wait for it too). */
static int
emit(void *arg, const uint8_t *p, size_t len, uint32_t points)
{
	struct procw *s = arg;

	return tfo_collector_add(&s->c, p, len, points);
}

/* priv_gone - the helper died or broke its contract: it cannot be started
 * again from inside the sandbox, so this worker exits and the supervisor
 * restarts both */
static void
priv_gone(struct procw *s, const char *why)
{
	int st = 0;

	if (!s->priv_reaped && tfo_priv_reap(s->priv, &st) == 0) {
		s->priv_reaped = 1;
		s->priv_status = st;
	}
	st = s->priv_status;
	if (!s->priv_reaped)
		log_error("process: privileged reader %s (exit status unknown): exiting", why);
	else if (WIFSIGNALED(st))
		log_error("process: privileged reader %s: killed by signal %d%s: exiting", why,
		    WTERMSIG(st), WTERMSIG(st) == SIGSYS ? " (seccomp violation)" : "");
	else
		log_error("process: privileged reader %s: exit status %d: exiting", why,
		    WEXITSTATUS(st));
	tfo_worker_exit(s->w, 1);
}

static enum tfo_err
process_cycle(struct tfo_collector *c, uint64_t now_ns, void *arg)
{
	struct procw *s = arg;
	enum tfo_err e;

	(void)c;
	e = tfo_proccol_cycle(s->col, now_ns, emit, s);
	if (s->priv != NULL && (e == TFO_ECLOSED || e == TFO_EPROTO || e == TFO_ETIMEDOUT))
		priv_gone(s, tfo_strerror(e));
	return e;
}

/* process_idle - between cycles (common/collector.h) */
static void
process_idle(void *arg)
{
	struct procw *s = arg;

	tfo_proccol_release(s->col);
}

/* on_priv - the helper's channel is readable while no request is out: it
 * closed (died), or sent what nobody asked for */
static void
on_priv(evutil_socket_t fd, short what, void *arg)
{
	struct procw *s = arg;
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	event_del(s->ev_priv);
	priv_gone(s, n == 0 ? "closed its channel" : "spoke unasked");
}

/* helper_path - tfo-procpriv beside this executable (both are installed in
 * libexec/tfo-agent, or both are in the build tree) */
static int
helper_path(char *out, size_t cap)
{
	char dir[PATH_MAX];

	if (tfo_self_dir(dir, sizeof(dir)) != 0)
		return -1;
	return (size_t)snprintf(out, cap, "%s/%s", dir, HELPER_NAME) < cap ? 0 : -1;
}

/* start_priv - still root: start tfo-procpriv with a /proc dirfd */
static int
start_priv(struct procw *s, struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg)
{
	const Tfo__V1__ProcessConfig *pc = cfg->process;
	int drop = cfg->drop_privileges && geteuid() == 0;
	char exe[PATH_MAX], proc[1024], err[256];
	struct tfo_priv_spawn sp = {
		.path = exe, .uid = drop ? (long)cfg->uid : -1, .gid = drop ? (long)cfg->gid : -1,
		.seccomp = cfg->seccomp_mode != NULL && cfg->seccomp_mode[0] ? cfg->seccomp_mode :
		    "kill",
		.log_level = cfg->logging && cfg->logging->level ? cfg->logging->level : "info",
		.log_format = cfg->logging && cfg->logging->format ? cfg->logging->format : "text",
	};

	if (helper_path(exe, sizeof(exe)) != 0 ||
	    tfo_procfs_path(pc->proc_root, "proc", proc, sizeof(proc)) != TFO_OK) {
		log_error("process: cannot name the privileged reader %s", HELPER_NAME);
		return -1;
	}
	if ((sp.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_error("process: cannot open %s: %s", proc, strerror(errno));
		return -1;
	}
	s->priv = tfo_priv_start(&sp, err, sizeof(err));
	close(sp.procfd);
	if (s->priv == NULL) {
		log_error("process: cannot start the privileged reader %s: %s "
		    "(collectors.process.privileged_reads: false does without it)", exe, err);
		return -1;
	}
	tfo_proccol_set_priv(s->col, s->priv);
	tfo_worker_sandbox_child(w, (int)tfo_priv_pid(s->priv));
	log_info("process: privileged reader %s started (pid %d)", exe, (int)tfo_priv_pid(s->priv));
	return 0;
}

/* process_pre_init - still root: open /proc, read /etc, compile patterns */
static int
process_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct procw *s = arg;
	const Tfo__V1__ProcessConfig *pc;
	char path[1024], err[256];

	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_PROCESS || cfg->process == NULL) {
		log_error("process: config has no process section");
		return -1;
	}
	pc = cfg->process;
	s->c.role = "process";
	s->c.interval_ms = tfo_collector_interval(pc->interval_ms, DEFAULT_INTERVAL_MS);
	/* the collector keeps one stat fd per process (pread is half the cost
	 * of open+read+close) */
	if (tfo_priv_raise_nofile() != 0)
		log_warn("process: cannot raise the fd limit: %s", strerror(errno));
	if ((s->res = tfo_resource_new(cfg->agent, pc->proc_root)) == NULL) {
		log_error("process: out of memory");
		return -1;
	}
	if ((s->col = tfo_proccol_new(pc, tfo_resource_get(s->res), err, sizeof(err))) == NULL) {
		log_error("process: %s", err);
		return -1;
	}
	s->w = w;
	if (!pc->privileged_reads)
		tfo_proccol_own_reads_only(s->col);
	else if (start_priv(s, w, cfg) != 0)
		return -1;
	/* Landlock paths, all read-only: /proc, the passwd file (re-read for
	 * users added later), the runtime dir (ingest socket) */
	if (tfo_procfs_path(pc->proc_root, "proc", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	if (tfo_procfs_path(pc->proc_root, "etc/passwd", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	if (cfg->runtime_dir != NULL && cfg->runtime_dir[0] != '\0')
		tfo_worker_landlock_ro(w, cfg->runtime_dir);
	return 0;
}

#ifdef TFO_TEST_HOOKS
/* priv_test - test builds: "procpriv.<action>" is attempted by the helper;
 * -signal when it died of it (this worker then exits: on_priv) */
static int
priv_test(void *arg, const char *action, const char *aarg, char *detail, size_t detailsz)
{
	struct procw *s = arg;
	enum tfo_err e;
	int err = 0, st, pid = (int)tfo_priv_pid(s->priv);

	if ((e = tfo_priv_test(s->priv, action, aarg, &err)) == TFO_OK)
		return err;
	if (e == TFO_ECLOSED && tfo_priv_reap(s->priv, &st) == 0) {
		s->priv_reaped = 1;
		s->priv_status = st;
		snprintf(detail, detailsz, "procpriv (pid %d) died: %s %d", pid,
		    WIFSIGNALED(st) ? "signal" : "exit",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		return WIFSIGNALED(st) && WTERMSIG(st) > 1 ? -WTERMSIG(st) : -1000;
	}
	snprintf(detail, detailsz, "procpriv: %s", tfo_strerror(e));
	return -1000;
}
#endif

static int
process_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct procw *s = arg;
	const Tfo__V1__ProcessConfig *pc = cfg->process;
	enum tfo_err e;

	/* rank the first cycle's CPU over a known interval, not since boot */
	if ((e = tfo_proccol_prime(s->col, tfo_clock_ns(CLOCK_REALTIME))) != TFO_OK)
		log_warn("process: first walk of /proc failed: %s", tfo_strerror(e));
	if (s->priv != NULL) {
		s->ev_priv = event_new(tfo_worker_base(w), tfo_priv_fd(s->priv), EV_READ | EV_PERSIST,
		    on_priv, s);
		if (s->ev_priv == NULL || event_add(s->ev_priv, NULL) != 0)
			return -1;
#ifdef TFO_TEST_HOOKS
		tfo_sandbox_test_forward("procpriv.", priv_test, s);
#endif
	}
	s->c.idle = process_idle;
	if (tfo_collector_start(&s->c, w, cfg, TFO__V1__ROLE__ROLE_PROCESS, process_cycle, s) != TFO_OK)
		return -1;
	log_info("process: every %u ms, top %u, %zu include, %zu exclude, %zu redact, root \"%s\"%s",
	    s->c.interval_ms, pc->top_n != 0 ? pc->top_n : TFO_PROC_DEFAULT_TOP_N, pc->n_include,
	    pc->n_exclude, pc->n_redact_patterns,
	    pc->proc_root != NULL && pc->proc_root[0] ? pc->proc_root : "/",
	    pc->privileged_reads ? "" : ", privileged_reads off: exe and io of others not read");
	return 0;
}

static void
process_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct procw *s = arg;

	(void)deadline_ms;
	tfo_collector_stop(&s->c);
	tfo_worker_exit(w, 0);
}

static void
process_fini(struct tfo_worker *w, void *arg)
{
	struct procw *s = arg;

	(void)w;
	tfo_collector_fini(&s->c);
	if (s->ev_priv != NULL)
		event_free(s->ev_priv);
	tfo_proccol_free(s->col);
	tfo_priv_close(s->priv);
	tfo_resource_free(s->res);
	memset(s, 0, sizeof(*s));
}

static void
process_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct procw *s = arg;
	const struct tfo_proccol_stats *cs;

	(void)w;
	if (s->col == NULL)
		return;
	cs = tfo_proccol_stats(s->col);
	tfo_stats_num(st, "process.cycles", (double)cs->cycles);
	tfo_stats_num(st, "process.walked", (double)cs->walked);
	tfo_stats_num(st, "process.selected", (double)cs->selected);
	tfo_stats_num(st, "process.points", (double)cs->points);
	tfo_stats_num(st, "process.bytes", (double)cs->bytes);
	tfo_collector_stats(&s->c, st);
	tfo_stats_num(st, "process.vanished", (double)cs->vanished);
	tfo_stats_num(st, "process.denied", (double)cs->denied);
	tfo_stats_num(st, "process.read_errors", (double)cs->read_errors);
	tfo_stats_num(st, "process.redactions", (double)cs->redactions);
	tfo_stats_num(st, "process.emit_failed", (double)cs->emit_failed);
	tfo_stats_num(st, "process.priv_round_trips", (double)cs->priv_round_trips);
}

int
main(int argc, char **argv)
{
	static struct procw s;
	static const struct tfo_worker_ops ops = {
		.role = "process",
		.role_id = TFO__V1__ROLE__ROLE_PROCESS,
		.caps = no_caps,
		.pre_init = process_pre_init,
		.post_init = process_post_init,
		.shutdown = process_shutdown,
		.fini = process_fini,
		.stats = process_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &s);
}
