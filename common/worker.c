/*
 * worker.c - the worker skeleton (every worker process): config from fd 3,
 * pre_init, identity drop, no_new_privs, sandbox hook, post_init, Ready, then
 * the libevent loop answering the supervisor on fd 3.
 */
#include "common/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/memtrim.h"
#include "common/nnginit.h"
#include "common/pagetrim.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "common/version.h"

#define CONFIG_WAIT_MS 30000        /* the supervisor sends config at once */
#define DEFAULT_DEADLINE_MS 5000
/* The supervisor is gone: its successor may start 2 s later (the unit's
 * RestartSec=) and needs the buffer's store; nobody SIGKILLs a straggler. */
#define ORPHAN_DEADLINE_MS 1500
#define ORPHAN_GRACE_MS 500
/* A SIGTERM with no Shutdown before it: PR_SET_PDEATHSIG's when the
 * supervisor's main thread died, which may come before fd 3 closes (its
 * other threads still hold it). Wait this long for the EOF that says so. */
#define SIGNAL_WAIT_MS 200
#define TFO_MALLOC_KEEP (32 << 20)   /* glibc's largest mmap threshold */
#define NPROC_CAP 512                /* role users run threads, never processes */

#ifdef TFO_SANITIZE
/*
 * LeakSanitizer's exit-time scan attaches to the process with ptrace from a
 * cloned thread: a sandboxed worker's seccomp filter kills it for that (and
 * a worker is not dumpable). Leak checks run in the unit tests instead; a
 * worker started by hand (tests) gets this default, ASAN_OPTIONS wins.
 */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

struct tfo_stats {
	Tfo__V1__Stat **v;
	size_t n, cap;
};

struct tfo_worker {
	const struct tfo_worker_ops *ops;
	void *arg;
	Tfo__V1__Control *cfg_msg;          /* owns cfg */
	const Tfo__V1__WorkerConfig *cfg;
	struct event_base *base;
	struct event *ev_ctl, *ev_term, *ev_int;
	int status;
	int done;                           /* tfo_worker_exit was called */
	struct tfo_pagetrim_sched pagetrim; /* start-up's file pages unmapped (pagetrim.h) */
	int stopping;
	int orphaned;                       /* the supervisor is gone */
	struct event *ev_orphan;            /* then: the hard end of the stop */
	struct event *ev_sigwait;           /* SIGTERM: fd 3 given SIGNAL_WAIT_MS */
	struct tfo_sandbox_rules sb;        /* declared by the role in pre_init */
	char landlock[96];                  /* what Landlock applied, for Ready */
};

struct event_base *
tfo_worker_base(struct tfo_worker *w)
{
	return w->base;
}

#define PUT_WAIT_MAX_MS 1000    /* one wait for the buffer's answer */
#define PUT_GIVE_UP_MAX_MS 5000 /* then back to the loop to answer pings */

void
tfo_worker_put_limits(const Tfo__V1__WorkerConfig *cfg, int *timeout_ms, uint32_t *give_up_ms)
{
	/* 0: a supervisor that did not say; its default was 15 s */
	uint32_t hung = cfg != NULL && cfg->hung_timeout_ms != 0 ? cfg->hung_timeout_ms : 15000u;
	uint32_t bm = hung / 3u < PUT_GIVE_UP_MAX_MS ? hung / 3u : PUT_GIVE_UP_MAX_MS;

	*give_up_ms = bm;
	*timeout_ms = (int)(bm / 2u < PUT_WAIT_MAX_MS ? bm / 2u : PUT_WAIT_MAX_MS);
}

const Tfo__V1__WorkerConfig *
tfo_worker_config(struct tfo_worker *w)
{
	return w->cfg;
}

int
tfo_worker_orphaned(const struct tfo_worker *w)
{
	return w->orphaned;
}

void
tfo_worker_exit(struct tfo_worker *w, int status)
{
	w->status = status;
	w->done = 1;
	event_base_loopbreak(w->base);
}

/* Landlock rules are recorded now and applied after the identity drop. */
static void
landlock_add(struct tfo_worker *w, const char *path, int rw)
{
	enum tfo_err e = tfo_sandbox_rules_add_path(&w->sb, path, rw);

	if (e != TFO_OK)
		log_warn("landlock: rule for %s not recorded: %s", path, tfo_strerror(e));
}

void
tfo_worker_landlock_ro(struct tfo_worker *w, const char *path)
{
	landlock_add(w, path, 0);
}

void
tfo_worker_landlock_rw(struct tfo_worker *w, const char *path)
{
	landlock_add(w, path, 1);
}

void
tfo_worker_landlock_sockdir(struct tfo_worker *w, const char *path)
{
	landlock_add(w, path, TFO_SANDBOX_SOCKDIR);
}

void
tfo_worker_landlock_connect_tcp(struct tfo_worker *w, uint16_t port)
{
	enum tfo_err e = tfo_sandbox_rules_add_port(&w->sb, port);

	if (e != TFO_OK)
		log_warn("landlock: tcp port %u not recorded: %s", (unsigned)port, tfo_strerror(e));
}

void
tfo_worker_sandbox_child(struct tfo_worker *w, int pid)
{
	w->sb.child = pid;
}

/* ------------------------------------------------------------------ stats */

static void
stats_add(struct tfo_stats *st, const char *name, double value, const char *text)
{
	Tfo__V1__Stat *s;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;
		Tfo__V1__Stat **v = realloc(st->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		st->v = v;
		st->cap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;
	tfo__v1__stat__init(s);
	s->name = strdup(name);
	s->value = value;
	s->text = strdup(text ? text : "");
	if (s->name == NULL || s->text == NULL) {
		free(s->name);
		free(s->text);
		free(s);
		return;
	}
	st->v[st->n++] = s;
}

void
tfo_stats_num(struct tfo_stats *st, const char *name, double value)
{
	stats_add(st, name, value, NULL);
}

void
tfo_stats_text(struct tfo_stats *st, const char *name, const char *text)
{
	stats_add(st, name, 0, text);
}

void
tfo_stats_hist(struct tfo_stats *st, const char *prefix, const struct tfo_hist *h)
{
	char name[128];
	uint64_t cum = 0;
	size_t n;

	(void)tfo_hist_bounds(h->kind, &n);
	snprintf(name, sizeof(name), "%s.count", prefix);
	stats_add(st, name, (double)h->count, NULL);
	snprintf(name, sizeof(name), "%s.sum_s", prefix);
	stats_add(st, name, h->sum, NULL);
	for (size_t i = 0; i <= n; i++) {
		cum += h->buckets[i];
		if (tfo_hist_stat_name(prefix, h->kind, i, name, sizeof(name)) == 0)
			stats_add(st, name, (double)cum, NULL);
	}
}

static void
stats_free(struct tfo_stats *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i]->name);
		free(st->v[i]->text);
		free(st->v[i]);
	}
	free(st->v);
}

/* ------------------------------------------------------------------ fd 3 */

static void
send_or_exit(struct tfo_worker *w, Tfo__V1__Control *m)
{
	enum tfo_err e;

	m->version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	if ((e = tfo_control_send(TFO_CONTROL_FD, m)) != TFO_OK) {
		log_error("control: send to supervisor failed: %s", tfo_strerror(e));
		tfo_worker_exit(w, 1);
	}
}

static void
on_ping(struct tfo_worker *w, const Tfo__V1__Ping *ping)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Pong pong = TFO__V1__PONG__INIT;
	struct tfo_stats st = { 0 };
	const char *status;
	char stall[256];

	/* stats only when asked: building, packing and decoding them at every
	 * liveness ping was most of an idle worker's cost of being pinged */
	if (ping->stats && w->ops->stats)
		w->ops->stats(w, &st, w->arg);
	if (w->ops->status && (status = w->ops->status(w, w->arg)) != NULL)
		pong.status = (char *)status;
	stall[0] = '\0';
	if (w->ops->health && (pong.stalled_ms = w->ops->health(w, stall, sizeof(stall),
	    w->arg)) != 0)
		pong.stall = stall;
	pong.nonce = ping->nonce;
	pong.stats = st.v;
	pong.n_stats = st.n;
	m.msg_case = TFO__V1__CONTROL__MSG_PONG;
	m.pong = &pong;
	send_or_exit(w, &m);
	stats_free(&st);
}

static void
begin_shutdown(struct tfo_worker *w, uint32_t deadline_ms)
{
	if (w->stopping)
		return;
	w->stopping = 1;
	log_info("shutting down (deadline %u ms)", deadline_ms);
	if (w->ops->shutdown)
		w->ops->shutdown(w, deadline_ms, w->arg);
	else
		tfo_worker_exit(w, 0);
}

#ifdef TFO_TEST_HOOKS
/* Test builds only: attempt one forbidden action (tests/sandbox/). */
static void
on_test_action(struct tfo_worker *w, const Tfo__V1__TestAction *ta)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__TestResult r = TFO__V1__TEST_RESULT__INIT;
	char detail[256];

	tfo_sandbox_test_action(ta, &r, detail, sizeof(detail));
	m.msg_case = TFO__V1__CONTROL__MSG_TEST_RESULT;
	m.test_result = &r;
	send_or_exit(w, &m);
}
#endif

static void
unexpected(struct tfo_worker *w, const Tfo__V1__Control *m)
{
	log_error("control: unexpected message %d from supervisor", (int)m->msg_case);
	tfo_worker_exit(w, 1);
}

/* on_self_stats - tfo-system's snapshot for the self metrics; any other
 * role is not meant to get one */
static void
on_self_stats(struct tfo_worker *w, const Tfo__V1__Control *m)
{
	if (w->ops->self_stats == NULL) {
		unexpected(w, m);
		return;
	}
	if (!w->stopping)
		w->ops->self_stats(w, m->self_stats, w->arg);
}

/* dispatch - one message from the supervisor; anything unexpected is fatal */
static void
dispatch(struct tfo_worker *w, const Tfo__V1__Control *m)
{
	switch (m->msg_case) {
	case TFO__V1__CONTROL__MSG_PING:
		on_ping(w, m->ping);
		return;
	case TFO__V1__CONTROL__MSG_SHUTDOWN:
		begin_shutdown(w, m->shutdown->deadline_ms ?
		    m->shutdown->deadline_ms : DEFAULT_DEADLINE_MS);
		return;
	case TFO__V1__CONTROL__MSG_SELF_STATS:
		on_self_stats(w, m);
		return;
#ifdef TFO_TEST_HOOKS
	case TFO__V1__CONTROL__MSG_TEST_ACTION:
		on_test_action(w, m->test_action);
		return;
#endif
	default:
		unexpected(w, m);
		return;
	}
}

static void
on_orphan_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_worker *w = arg;

	(void)fd;
	(void)what;
	log_warn("supervisor gone: still stopping after %d ms: exiting", ORPHAN_DEADLINE_MS +
	    ORPHAN_GRACE_MS);
	tfo_worker_exit(w, 0);
}

/*
 * orphan - the supervisor is gone (fd 3 at EOF: killed, or crashed). The
 * role stops as at a stop, briefly: the exporter settles what it has on the
 * wire while the buffer still answers its acks (or a kill of the
 * supervisor would send those batches again), tfo-logs stores what it
 * read. ORPHAN_GRACE_MS after the deadline the skeleton ends it anyway.
 */
static void
orphan(struct tfo_worker *w)
{
	struct timeval tv = { (ORPHAN_DEADLINE_MS + ORPHAN_GRACE_MS) / 1000,
	    ((ORPHAN_DEADLINE_MS + ORPHAN_GRACE_MS) % 1000) * 1000 };

	event_del(w->ev_ctl);               /* EOF stays readable */
	if (w->orphaned)
		return;
	w->orphaned = 1;
	log_info("control: supervisor gone (EOF on fd 3): stopping within %d ms",
	    ORPHAN_DEADLINE_MS);
	if ((w->ev_orphan = evtimer_new(w->base, on_orphan_deadline, w)) == NULL ||
	    evtimer_add(w->ev_orphan, &tv) == -1) {
		tfo_worker_exit(w, 0);
		return;
	}
	begin_shutdown(w, ORPHAN_DEADLINE_MS);
}

static void
on_control(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_worker *w = arg;
	Tfo__V1__Control *m;
	enum tfo_err e;

	(void)what;
	while ((m = tfo_control_recv(fd, &e)) != NULL) {
		dispatch(w, m);
		tfo__v1__control__free_unpacked(m, NULL);
	}
	if (e == TFO_EAGAIN)
		return;
	if (e == TFO_ECLOSED) {
		orphan(w);
		return;
	}
	log_error("control: bad message from supervisor: %s", tfo_strerror(e));
	tfo_worker_exit(w, 1);
}

/* on_sigwait - SIGNAL_WAIT_MS after a bare SIGTERM: fd 3 said nothing (no
 * Shutdown, no EOF), so it is a stop of its own */
static void
on_sigwait(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->stopping && !w->done)
		on_control(TFO_CONTROL_FD, EV_READ, w);
	if (!w->stopping && !w->done)
		begin_shutdown(w, DEFAULT_DEADLINE_MS);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct tfo_worker *w = arg;
	struct timeval tv = { 0, SIGNAL_WAIT_MS * 1000 };

	(void)what;
	/* the supervisor's Shutdown comes before its SIGTERM: take it first */
	if (!w->stopping && !w->orphaned)
		on_control(TFO_CONTROL_FD, EV_READ, w);
	/* a repeated signal (or the supervisor's after its Shutdown) is a no-op */
	if (w->stopping || w->done || w->ev_sigwait != NULL) {
		log_debug("signal %d received: already stopping", (int)sig);
		return;
	}
	log_info("signal %d received", (int)sig);
	/* Maybe the supervisor's death (see SIGNAL_WAIT_MS): its EOF, read by
	 * on_control meanwhile, makes this an orphan's stop. */
	if ((w->ev_sigwait = evtimer_new(w->base, on_sigwait, w)) == NULL ||
	    evtimer_add(w->ev_sigwait, &tv) == -1)
		begin_shutdown(w, DEFAULT_DEADLINE_MS);
}

/* ------------------------------------------------------------------ startup */

/* read_config - the first packet on fd 3 must be this role's WorkerConfig */
static int
read_config(struct tfo_worker *w)
{
	struct pollfd pfd = { .fd = TFO_CONTROL_FD, .events = POLLIN };
	Tfo__V1__Control *m;
	enum tfo_err e;
	int rv;

	do
		rv = poll(&pfd, 1, CONFIG_WAIT_MS);
	while (rv == -1 && errno == EINTR);
	if (rv <= 0) {
		log_error("control: no config from supervisor on fd 3");
		return -1;
	}
	if ((m = tfo_control_recv(TFO_CONTROL_FD, &e)) == NULL) {
		log_error("control: reading config: %s", tfo_strerror(e));
		return -1;
	}
	if (m->msg_case != TFO__V1__CONTROL__MSG_CONFIG) {
		log_error("control: first message is %d, not config", (int)m->msg_case);
		tfo__v1__control__free_unpacked(m, NULL);
		return -1;
	}
	w->cfg_msg = m;
	w->cfg = m->config;
#ifdef TFO_TEST_HOOKS
	/* tfo-testworker (role_id unspecified) stands in for any role. */
	if (w->ops->role_id == TFO__V1__ROLE__ROLE_UNSPECIFIED)
		return 0;
#endif
	if (w->cfg->role != w->ops->role_id) {
		log_error("control: config is for role %d, I am %s", (int)w->cfg->role,
		    w->ops->role);
		return -1;
	}
	return 0;
}

/* writes_nothing - the role writes no file and stdout/stderr are not files
 * (a log file as stderr would hit RLIMIT_FSIZE 0: SIGXFSZ) */
static int
writes_nothing(const struct tfo_worker *w)
{
	const struct tfo_sandbox_profile *p = tfo_sandbox_profile(w->ops->role);
	struct stat st;

	if (p == NULL || p->writes_files)
		return 0;
	for (int fd = 1; fd <= 2; fd++)
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	return 1;
}

/* drop_identity - rlimits, uid change with the role's caps, proof, pdeathsig,
 * nnp, not dumpable */
static int
drop_identity(struct tfo_worker *w, pid_t ppid)
{
	const Tfo__V1__WorkerConfig *c = w->cfg;
	const int *caps = w->ops->caps_for ? w->ops->caps_for(c, w->arg) : w->ops->caps;
	int role_user = c->drop_privileges && geteuid() == 0;

	/* RLIMIT_NPROC counts the real uid's threads: capped only for a role user */
	if (tfo_priv_rlimits(writes_nothing(w), role_user ? NPROC_CAP : 0) == -1) {
		log_error("rlimits: %s", strerror(errno));
		return -1;
	}
	if (c->drop_privileges && geteuid() == 0) {
		if (c->uid == 0) {
			log_error("privdrop: refusing to run role %s as uid 0", w->ops->role);
			return -1;
		}
		if (tfo_priv_drop(c->uid, c->gid, c->groups, c->n_groups, caps) == -1 ||
		    tfo_priv_verify(c->uid, c->gid, c->groups, c->n_groups) == -1) {
			log_error("privdrop: to %u:%u: %s", c->uid, c->gid, strerror(errno));
			return -1;
		}
		log_debug("privdrop: now uid %u gid %u", c->uid, c->gid);
	} else
		log_info("non-root mode: no uid change, running as uid %u", (unsigned)getuid());
	if (tfo_priv_pdeathsig(ppid) == -1) {
		log_error("pdeathsig: supervisor already gone");
		return -1;
	}
	if (tfo_priv_no_new_privs() == -1) {
		log_error("no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (tfo_priv_nondumpable() == -1) {
		log_error("PR_SET_DUMPABLE 0: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* sandbox - Landlock with the declared rules, then seccomp */
static int
sandbox(struct tfo_worker *w)
{
	const char *what = "";
	enum tfo_err e = tfo_sandbox_apply(w->ops->role, w->cfg, &w->sb, w->landlock,
	    sizeof(w->landlock), &what);

	if (e != TFO_OK) {
		log_error("sandbox: %s: %s%s%s", what, tfo_strerror(e), w->landlock[0] ? ": " : "",
		    w->landlock);
		return -1;
	}
	return 0;
}

/*
 * ignore_stop_signals - SIGTERM and SIGINT ignored from the first instruction
 * of the skeleton on; the fd-3 Shutdown is the stop request, the signal only
 * backs it up. The supervisor's stop sends Shutdown on fd 3 and then SIGTERM.
 * With the default action anywhere in the worker's life that SIGTERM killed
 * it: before setup_loop (a stop during startup), and after a fast stop
 * (heartbeat) freed its events, since event_free() restores the disposition
 * libevent found when the event was added. With SIG_IGN found there, a
 * signal is a libevent event while the loop runs and ignored in every thread
 * before and after it, however many arrive: the exit status is the worker's.
 * (tfo-supervisor already execs workers with both ignored, closing the gap
 * before main; a test's spawner may not.)
 */
static void
ignore_stop_signals(void)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	(void)sigaction(SIGTERM, &ign, NULL);
	(void)sigaction(SIGINT, &ign, NULL);
}

static int
setup_loop(struct tfo_worker *w)
{
	struct event_config *ec = event_config_new();

	/* No cached time: a timer added after a blocking call (the exporter's
	 * and the collectors' synchronous buffer calls) would count from the
	 * time the callback began and fire at once. */
	if (ec == NULL || event_config_set_flag(ec, EVENT_BASE_FLAG_NO_CACHE_TIME) != 0 ||
	    (w->base = event_base_new_with_config(ec)) == NULL) {
		if (ec)
			event_config_free(ec);
		return -1;
	}
	event_config_free(ec);
	if (fcntl(TFO_CONTROL_FD, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(TFO_CONTROL_FD, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	w->ev_ctl = event_new(w->base, TFO_CONTROL_FD, EV_READ | EV_PERSIST, on_control, w);
	w->ev_term = evsignal_new(w->base, SIGTERM, on_signal, w);
	w->ev_int = evsignal_new(w->base, SIGINT, on_signal, w);
	if (!w->ev_ctl || !w->ev_term || !w->ev_int || event_add(w->ev_ctl, NULL) ||
	    event_add(w->ev_term, NULL) || event_add(w->ev_int, NULL))
		return -1;
	return 0;
}

static void
send_ready(struct tfo_worker *w)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Ready r = TFO__V1__READY__INIT;

	r.pid = (uint32_t)getpid();
	r.landlock = w->landlock;
	m.msg_case = TFO__V1__CONTROL__MSG_READY;
	m.ready = &r;
	send_or_exit(w, &m);
}

static void
worker_free(struct tfo_worker *w)
{
	if (w->ev_ctl)
		event_free(w->ev_ctl);
	if (w->ev_term)
		event_free(w->ev_term);
	if (w->ev_int)
		event_free(w->ev_int);
	if (w->ev_orphan)
		event_free(w->ev_orphan);
	if (w->ev_sigwait)
		event_free(w->ev_sigwait);
	if (w->base)
		event_base_free(w->base);
	if (w->cfg_msg)
		tfo__v1__control__free_unpacked(w->cfg_msg, NULL);
	tfo_sandbox_rules_fini(&w->sb);
	free(w);
}

/* fd3_ok - fd 3 must be the socket the supervisor handed us */
static int
fd3_ok(void)
{
	struct stat st;

	return fstat(TFO_CONTROL_FD, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * tune_malloc - payloads of a megabyte or more (a log batch, a fetched
 * batch) are allocated and freed hundreds of times a second under load. With
 * glibc's defaults each one was a fresh mmap or a heap trim: page faults and
 * zeroed pages cost more than the copies. Freed memory is kept for reuse
 * instead, and given back at a health ping at most every TFO_MEMTRIM_EVERY_MS
 * (tfo_memtrim): an idle worker holds no more than it did before a burst, a
 * busy one does not fault its buffers in again after every ping.
 * One arena: nng's dozen threads, LevelDB's and libcurl's would each get an
 * arena of their own (a heap's first pages, resident for good) for the few
 * allocations they make; nothing here allocates hard from several threads.
 */
static void
tune_malloc(void)
{
	(void)mallopt(M_ARENA_MAX, 1);
	(void)mallopt(M_MMAP_THRESHOLD, TFO_MALLOC_KEEP);
	(void)mallopt(M_TRIM_THRESHOLD, TFO_MALLOC_KEEP);
}

/*
 * run_loop - the loop, one wake-up at a time. After each, what the wake-up
 * freed goes back in it: kept heap memory and dead stack frames (tfo_memtrim,
 * at most every TFO_MEMTRIM_EVERY_MS) and, when due, the start-up's file
 * pages (pagetrim). A health ping did this, but a worker found idle in its
 * loop is no longer pinged (supervisor/looks.c), and a wake-up of its own
 * for it would cost more than it gives back. An idle worker is still pinged
 * once a minute, so memory freed by a burst is given back within a minute
 * of its end at the latest.
 * A loopbreak before the first iteration is forgotten by libevent: done is
 * checked first.
 */
static void
run_loop(struct tfo_worker *w)
{
	while (!w->done) {
		int rv = event_base_loop(w->base, EVLOOP_ONCE);
		int64_t now = (int64_t)tfo_mono_ms();

		(void)tfo_memtrim(now);
		tfo_pagetrim_tick(&w->pagetrim, now);
		if (rv != 0 || event_base_got_break(w->base))
			break;
	}
}

/* worker_args - tfo-supervisor execs a worker with argv[0] alone: any
 * argument is a person asking (--version, --help) or a mistake (usage, 2) */
static int
worker_args(int argc, char **argv, const struct tfo_worker_ops *ops)
{
	char prog[64];
	FILE *fp = stderr;

	snprintf(prog, sizeof(prog), "tfo-%s", ops->role);
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		tfo_version_print(stdout, prog);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		fp = stdout;
	fprintf(fp, "usage: %s --version | --help\n"
	    "%s is the %s worker of tfo-agent. tfo-supervisor starts it with no\n"
	    "arguments and its control socket on fd 3; it is not run by hand.\n"
	    "See tfo-supervisor(8).\n", prog, prog, ops->role);
	return fp == stdout ? 0 : 2;
}

int
tfo_worker_main(int argc, char **argv, const struct tfo_worker_ops *ops, void *arg)
{
	struct tfo_worker *w;
	pid_t ppid = getppid();
	int status = 1, inited = 0;

	if (argc > 1)
		return worker_args(argc, argv, ops);
	tune_malloc();
	tfo_memtrim_init();
	ignore_stop_signals();
	tfo_log_init(ops->role, TFO_LOG_INFO, TFO_LOG_TEXT);
	tfo_log_hook_libevent();
	if (!fd3_ok()) {
		log_error("fd 3 is not a control socket: workers are started by tfo-supervisor");
		return 1;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 1;
	w->ops = ops;
	w->arg = arg;
	w->status = 0;
	if (read_config(w) == -1)
		goto out;
	tfo_log_configure(w->cfg->logging ? w->cfg->logging->level : NULL,
	    w->cfg->logging ? w->cfg->logging->format : NULL);
	if (setup_loop(w) == -1) {
		log_error("event loop setup failed");
		goto out;
	}
	if (ops->pre_init && ops->pre_init(w, w->cfg, arg) == -1)
		goto out;
	inited = 1;
	if (drop_identity(w, ppid) == -1 || sandbox(w) == -1)
		goto out;
	if (tfo_nng_init() != 0) {
		log_error("nng: cannot start");
		goto out;
	}
	if (ops->post_init && ops->post_init(w, w->cfg, arg) == -1)
		goto out;
	send_ready(w);
	tfo_pagetrim_arm(&w->pagetrim, (int64_t)tfo_mono_ms());
	log_debug("ready (incarnation %llu)", (unsigned long long)w->cfg->incarnation);
	run_loop(w);
	status = w->status;
out:
	if (inited && ops->fini)
		ops->fini(w, arg);
	worker_free(w);
	return status;
}
