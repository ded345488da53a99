/*
 * workers.c - tfo-supervisor's worker slots: start, fd-3 messages, health
 * pings, deaths and the restart policy, ordered shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/memtrim.h"
#include "common/worker.h"
#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"

static void shutdown_advance(struct sv *sv);
static void on_count_timeout(evutil_socket_t fd, short what, void *arg);

static struct sv_limits
limits(const struct sv *sv)
{
	struct sv_limits l = {
		sv->cfg.supervisor.backoff_initial_ms, sv->cfg.supervisor.backoff_max_ms,
		sv->cfg.supervisor.max_restarts, sv->cfg.supervisor.window_ms,
	};
	return l;
}

static void
timer_in(struct sv_worker *w, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

	evtimer_add(w->ev_timer, &tv);
}

/* watched - fd 3 read as messages come (sv_worker_watch) */
static int
watched(const struct sv_worker *w)
{
	return w->ev_fd != NULL && event_pending(w->ev_fd, EV_READ, NULL);
}

static void
kill_worker(struct sv_worker *w, enum sv_kill why, int sig)
{
	if (w->pid <= 0)
		return;
	if (w->kill_why == SV_KILL_NONE || why == SV_KILL_HUNG || why == SV_KILL_PROTO ||
	    why == SV_KILL_STALLED)
		w->kill_why = why;
	sv_worker_watch(w);             /* its last words and EOF, as they come */
	if (kill(w->pid, sig) == -1 && errno != ESRCH)
		log_warn("%s: kill %d: %s", tfo_role_name(w->role), (int)w->pid, strerror(errno));
}

/* close_channel - forget the fd-3 socket and the last stats */
static void
close_channel(struct sv_worker *w)
{
	if (w->ev_fd) {
		event_free(w->ev_fd);
		w->ev_fd = NULL;
	}
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	w->fd_done = 1;
	if (w->stats) {
		tfo__v1__pong__free_unpacked(w->stats, NULL);
		w->stats = NULL;
	}
	w->stats_asked = w->stats_wanted = 0;
	w->said[0] = '\0';
	if (w->sv->stats_answered != NULL)
		w->sv->stats_answered(w->sv);
}

static void
send_ctl(struct sv_worker *w, Tfo__V1__Control *m)
{
	enum tfo_err e;

	m->version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	if (w->fd >= 0 && (e = tfo_control_send(w->fd, m)) != TFO_OK)
		log_warn("%s: control send: %s", tfo_role_name(w->role), tfo_strerror(e));
}

/* ------------------------------------------------------------------ fd 3 */

static void
protocol_error(struct sv_worker *w, const char *what)
{
	log_error("%s: protocol error from pid %d: %s: killing it",
	    tfo_role_name(w->role), (int)w->pid, what);
	w->fd_done = 1;
	if (w->ev_fd)
		event_del(w->ev_fd);
	kill_worker(w, SV_KILL_PROTO, SIGKILL);
}

static void disk_wait_over(struct sv_worker *w);
static int disk_wait_seen(struct sv_worker *w, int64_t now);

static void
on_ready(struct sv_worker *w, const Tfo__V1__Ready *r)
{
	/* stopped while starting: its Ready crossed our Shutdown, which it
	 * reads next (it ignores the SIGTERM until its loop runs) */
	if (w->state == SV_STOPPING && w->ready_ms == 0) {
		w->ready_ms = w->last_pong_ms = sv_now_ms();
		sv_copy_printable(w->landlock, sizeof(w->landlock), r->landlock);
		log_info("%s: ready while stopping (pid %d)", tfo_role_name(w->role), (int)w->pid);
		return;
	}
	if (w->state != SV_STARTING) {
		protocol_error(w, "Ready twice");
		return;
	}
	sv_copy_printable(w->landlock, sizeof(w->landlock), r->landlock);
	w->state = SV_READY;
	w->ready_ms = w->last_pong_ms = sv_now_ms();
	w->ping_nonce = 0;
	w->stats_asked = 0;
	evtimer_del(w->ev_timer);
	disk_wait_over(w);
	log_info("%s: ready (pid %d, user %s, %lld ms)", tfo_role_name(w->role),
	    (int)w->pid, w->user, (long long)(w->ready_ms - w->started_ms));
	sv_notify_update(w->sv);
}

/*
 * stalled - a worker that answers pings but says it has made no progress
 * (tfo-buffer: a new connection not served) for hung_timeout is as good as
 * hung: killed and restarted, the reason kept for tfoctl status.
 */
static int
stalled(struct sv_worker *w, const Tfo__V1__Pong *p)
{
	uint32_t limit = w->sv->cfg.supervisor.hung_timeout_ms;

	if (p->stalled_ms < limit || w->state != SV_READY)
		return 0;
	sv_copy_printable(w->stall, sizeof(w->stall), p->stall && p->stall[0] ? p->stall :
	    "no progress");
	log_warn("%s: answers pings but made no progress for %llu ms (%s): killing it as "
	    "stalled", tfo_role_name(w->role), (unsigned long long)p->stalled_ms, w->stall);
	kill_worker(w, SV_KILL_STALLED, SIGKILL);
	return 1;
}

/* disk_wait_over - a pong again after a wait on the disk */
static void
disk_wait_over(struct sv_worker *w)
{
	if (w->disk_since_ms == 0)
		return;
	log_info("%s: answers again after waiting on the disk for %lld ms",
	    tfo_role_name(w->role), (long long)(sv_now_ms() - w->disk_since_ms));
	w->disk_seen_ms = 0;
	w->disk_since_ms = 0;
	sv_notify_update(w->sv);
}

/* keep_stats - a pong that answers a stats ping replaces the stats held */
static void
keep_stats(struct sv_worker *w, Tfo__V1__Control *m)
{
	if (w->stats)
		tfo__v1__pong__free_unpacked(w->stats, NULL);
	/* Keep the pong (and its stats) by detaching it from the envelope. */
	w->stats = m->pong;
	m->pong = NULL;
	m->msg_case = TFO__V1__CONTROL__MSG__NOT_SET;
	w->stats_wanted = 0;
}

static void
on_pong(struct sv_worker *w, Tfo__V1__Control *m)
{
	int asked = w->stats_asked;

	if (w->ping_nonce == 0 || m->pong->nonce != w->ping_nonce) {
		protocol_error(w, "Pong with an unexpected nonce");
		return;
	}
	w->ping_nonce = 0;
	w->stats_asked = 0;
	/* read as it came: now; read at a tick or a hung check: it came at
	 * some time since its ping, which is when it counts from (never later
	 * than it came: a hang is never killed later for being read late) */
	w->last_pong_ms = watched(w) ? sv_now_ms() : w->ping_sent_ms;
	disk_wait_over(w);
	if (stalled(w, m->pong))
		return;
	sv_copy_printable(w->said, sizeof(w->said), m->pong->status);
	if (asked)
		keep_stats(w, m);
	if (w->sv->shutdown_phase)
		sv_shutdown_on_pong(w);
	else {
		if (w->stats_wanted)
			sv_worker_ping(w);      /* a gather began with this ping on the wire */
		if (w->role == TFO_ROLE_BUFFER)
			sv_notify_update(w->sv);    /* STATUS= says when the disk is full */
	}
	if (w->sv->stats_answered != NULL)
		w->sv->stats_answered(w->sv);
}

/* dispatch - one message from a worker; anything unexpected kills it */
static void
dispatch(struct sv_worker *w, Tfo__V1__Control *m)
{
	switch (m->msg_case) {
	case TFO__V1__CONTROL__MSG_READY:
		on_ready(w, m->ready);
		return;
	case TFO__V1__CONTROL__MSG_PONG:
		if (w->state == SV_READY || w->state == SV_STOPPING)
			on_pong(w, m);
		else
			protocol_error(w, "Pong before Ready");
		return;
	case TFO__V1__CONTROL__MSG_TEST_RESULT:
#ifdef TFO_TEST_HOOKS
		if (w->test_pending) {
			sv_test_action_result(w, m->test_result);
			return;
		}
#endif
		log_info("%s: test result %s: err %d %s", tfo_role_name(w->role),
		    m->test_result->action, m->test_result->err, m->test_result->detail);
		return;
	default:
		protocol_error(w, "unexpected message type");
		return;
	}
}

static void
handle(struct sv_worker *w, Tfo__V1__Control *m, enum tfo_err e)
{
	if (m == NULL) {
		if (e == TFO_ECLOSED) {
			log_debug("%s: EOF on control channel", tfo_role_name(w->role));
			w->fd_done = 1;
			if (w->ev_fd)
				event_del(w->ev_fd);
		} else if (e != TFO_EAGAIN)
			protocol_error(w, tfo_strerror(e));
		return;
	}
	dispatch(w, m);
	tfo__v1__control__free_unpacked(m, NULL);
}

static void
on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct sv_worker *w = arg;
	Tfo__V1__Control *m;
	enum tfo_err e;

	(void)what;
	/* Stop after a protocol error: the rest of the queue is not trusted. */
	while (w->kill_why != SV_KILL_PROTO) {
		m = tfo_control_recv(fd, &e);
		handle(w, m, e);
		if (m == NULL)
			break;
	}
	if (w->fd >= 0)             /* not closed by a handler (the worker's death) */
		sv_worker_watch(w);
}

/*
 * Reading fd 3. A ready worker that nothing waits on (no stats asked, no
 * test result, no stop) is read at each ping tick, before its ping, and at
 * its hung check, not as its Pong comes: the Pong of a liveness ping is
 * wanted only there, and reading each as it came woke the supervisor once a
 * worker a tick, about 40 of its 50 wake-ups a minute in an idle tree (issue
 * 18 §3). Such a Pong counts from its ping (on_pong), so a hang is killed
 * hung_timeout after the last ping answered, never later. A worker's death is
 * seen by SIGCHLD, which reads the channel first (sv_reap).
 */
static int
want_watch(const struct sv_worker *w)
{
	if (w->ev_fd == NULL || w->fd < 0 || w->fd_done)
		return 0;
	if (w->state != SV_READY || w->kill_why != SV_KILL_NONE || w->sv->shutdown_phase)
		return 1;
#ifdef TFO_TEST_HOOKS
	if (w->test_pending)
		return 1;
#endif
	return w->stats_wanted || w->stats_asked;
}

void
sv_worker_watch(struct sv_worker *w)
{
	int want = want_watch(w);

	if (want && !watched(w))
		event_add(w->ev_fd, NULL);
	else if (!want && watched(w))
		event_del(w->ev_fd);
}

/* drain - what the worker wrote since (a Pong read at a tick) */
static void
drain(struct sv_worker *w)
{
	if (w->fd >= 0 && !w->fd_done && !watched(w))
		on_fd(w->fd, EV_READ, w);
}

void
sv_worker_on_packet(struct sv_worker *w, const void *buf, size_t len)
{
	enum tfo_err e;
	Tfo__V1__Control *m = tfo_control_decode(buf, len, &e);

	handle(w, m, m ? TFO_OK : e);
}

/* ------------------------------------------------------------------ start */

/* config_packet - this role's WorkerConfig, identities filled in */
static int
send_config(struct sv_worker *w, int fd)
{
	struct sv *sv = w->sv;
	struct tfo_worker_msg *wm;
	Tfo__V1__WorkerConfig *wc;
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	uint32_t ingest[3];
	Tfo__V1__Role roles[3] = { TFO__V1__ROLE__ROLE_SYSTEM, TFO__V1__ROLE__ROLE_PROCESS,
		TFO__V1__ROLE__ROLE_LOGS };
	enum tfo_err e;

	wm = tfo_config_worker_msg(&sv->cfg, w->role, sv->agent_id, w->incarnation);
	if (wm == NULL)
		return -1;
	wc = tfo_worker_msg_get(wm);
	wc->uid = w->uid;
	wc->gid = w->gid;
	wc->groups = w->groups;
	wc->n_groups = w->ngroups;
	wc->drop_privileges = sv->root;
	ingest[0] = sv->w[TFO_ROLE_SYSTEM].uid;
	ingest[1] = sv->w[TFO_ROLE_PROCESS].uid;
	ingest[2] = sv->w[TFO_ROLE_LOGS].uid;
	/* the buffer takes each put's role from the uid that sent it */
	wc->ingest_peer_uids = ingest;
	wc->n_ingest_peer_uids = 3;
	wc->ingest_peer_roles = roles;
	wc->n_ingest_peer_roles = 3;
	wc->export_peer_uid = sv->w[TFO_ROLE_EXPORTER].uid;
	wc->heartbeat_peer_uid = sv->w[TFO_ROLE_HEARTBEAT].uid;
	wc->buffer_uid = sv->w[TFO_ROLE_BUFFER].uid;    /* whom a dialer must reach */
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_CONFIG;
	m.config = wc;
	e = tfo_control_send(fd, &m);
	wc->groups = NULL;              /* the worker's array and stack arrays: */
	wc->n_groups = 0;               /* not the message's to free */
	wc->ingest_peer_uids = NULL;
	wc->n_ingest_peer_uids = 0;
	wc->ingest_peer_roles = NULL;
	wc->n_ingest_peer_roles = 0;
	tfo_worker_msg_free(wm);
	if (e != TFO_OK)
		log_error("%s: config hand-off: %s", tfo_role_name(w->role), tfo_strerror(e));
	return e == TFO_OK ? 0 : -1;
}

static int
open_channel(struct sv_worker *w, int pair[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1) {
		log_error("%s: socketpair: %s", tfo_role_name(w->role), strerror(errno));
		return -1;
	}
	if (fcntl(pair[0], F_SETFL, O_NONBLOCK) == -1 || send_config(w, pair[0]) == -1) {
		close(pair[0]);
		close(pair[1]);
		return -1;
	}
	return 0;
}

void
sv_worker_start(struct sv_worker *w)
{
	struct sv *sv = w->sv;
	char argv0[32], err[1024];
	int pair[2], refused = 0;

	evtimer_del(w->ev_timer);
	if (sv->no_spawn || (sv->shutdown_phase && !sv->stop_spawn) || !w->enabled || w->pid > 0)
		return;
	w->incarnation = sv_next_incarnation(sv);
	w->kill_why = SV_KILL_NONE;
	w->ready_ms = 0;
	w->ping_nonce = 0;
	w->stats_asked = 0;
	w->started_ms = sv_now_ms();
	w->started_unix_ns = sv_wall_ns();
	w->state = SV_STARTING;
	w->landlock[0] = '\0';
	snprintf(w->seccomp_mode, sizeof(w->seccomp_mode), "%s",
	    sv->cfg.supervisor.seccomp ? sv->cfg.supervisor.seccomp : "kill");
	if (sv_worker_trusted(w->path, err, sizeof(err)) != 0) {
		/* replaced since the start by something root must not run */
		log_error("%s: refusing the worker executable: %s", tfo_role_name(w->role), err);
		w->pid = -1;
		refused = 1;               /* said: not "Operation not permitted" too */
	} else if (open_channel(w, pair) == -1) {
		w->pid = -1;
	} else {
		snprintf(argv0, sizeof(argv0), "tfo-%s", tfo_role_name(w->role));
		w->spawned_audit_ms = sv_audit_clock_ms();
		w->pid = sv_spawn(w->path, argv0, pair[1],
		    sv_spawn_cpu(sv->cfg.supervisor.pin_workers, w->role),
		    sv->cfg.supervisor.pin_workers);
		close(pair[1]);
		w->fd = pair[0];
	}
	if (w->pid <= 0) {
		if (!refused)
			log_error("%s: cannot start %s: %s", tfo_role_name(w->role), w->path,
			    strerror(errno));
		if (w->fd >= 0)
			close_channel(w);
		w->pid = 0;
		w->state = SV_BACKOFF;     /* retried like a bad startup */
		timer_in(w, sv->cfg.supervisor.backoff_max_ms);
		return;
	}
	w->fd_done = 0;
	w->ev_fd = event_new(sv->base, w->fd, EV_READ | EV_PERSIST, on_fd, w);
	if (w->ev_fd)
		event_add(w->ev_fd, NULL);      /* read at once until Ready */
	/* Startup deadline: no Ready within the hung timeout = hung. */
	timer_in(w, sv->cfg.supervisor.hung_timeout_ms);
	log_info("%s: started pid %d (%s, user %s)", tfo_role_name(w->role), (int)w->pid,
	    w->path, w->user);
}

/* ------------------------------------------------------------------ stop */

void
sv_worker_stop(struct sv_worker *w, uint32_t deadline_ms)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Shutdown sd = TFO__V1__SHUTDOWN__INIT;

	if (w->pid <= 0) {
		evtimer_del(w->ev_timer);
		if (w->state != SV_FATAL)
			w->state = SV_STOPPED;
		return;
	}
	if (w->state == SV_STOPPING)
		return;
	w->state = SV_STOPPING;
	w->kill_why = w->kill_why == SV_KILL_NONE ? SV_KILL_REQUEST : w->kill_why;
	sd.deadline_ms = deadline_ms;
	m.msg_case = TFO__V1__CONTROL__MSG_SHUTDOWN;
	m.shutdown = &sd;
	send_ctl(w, &m);
	kill_worker(w, w->kill_why, SIGTERM);
	timer_in(w, (int64_t)deadline_ms + SV_STOP_GRACE_MS);
}

void
sv_worker_restart(struct sv_worker *w)
{
	/* An operator's restart is a fresh start: the backoff streak is over. */
	w->pol.fails = w->pol.backoffs = 0;
	if (w->pid > 0) {
		w->respawn = 1;
		sv_worker_stop(w, SV_STOP_GRACE_MS);
		return;
	}
	/* ... and clears a fatal state with its window. */
	memset(&w->pol.deaths, 0, sizeof(w->pol.deaths));
	w->pol.ndeaths = 0;
	if (w->enabled)
		sv_worker_start(w);
	else
		sv_worker_stop(w, 0);
}

/* answered_ms - its last pong, or its loop last seen waiting for events:
 * the same sign (looks.c) */
static int64_t
answered_ms(const struct sv_worker *w)
{
	return w->idle_seen_ms > w->last_pong_ms ? w->idle_seen_ms : w->last_pong_ms;
}

int64_t
sv_worker_alive_ms(const struct sv_worker *w)
{
	int64_t a = answered_ms(w);

	return w->disk_seen_ms > a ? w->disk_seen_ms : a;
}

/* disk_wait_seen - its loop waits on the disk now: a sign of life, said
 * once per wait (diskwait.c says why a kill would not help) */
static int
disk_wait_seen(struct sv_worker *w, int64_t now)
{
	char what[sizeof(w->disk_what)];

	if (!sv_disk_wait(w, what, sizeof(what)))
		return 0;
	w->disk_seen_ms = now;
	if (w->disk_since_ms == 0) {
		w->disk_since_ms = now;
		memcpy(w->disk_what, what, sizeof(what));
		log_warn("%s: no %s for %lld ms, but its loop waits on the disk (%s): not "
		    "killed while it does", tfo_role_name(w->role),
		    w->state == SV_STARTING ? "Ready" : "pong", (long long)(now -
		    (w->state == SV_STARTING ? w->started_ms : answered_ms(w))), what);
		sv_notify_update(w->sv);
	}
	return 1;
}

/*
 * hung_check - a ready worker with a ping unanswered: killed once it has
 * not ponged for hung_timeout, else checked again at that very moment (the
 * worker's timer, on_timer). Checking only at ping ticks killed a hang a
 * tick late (20 s with the old 5 s / 15 s defaults); with the exact check
 * two pings per hung timeout do, a third fewer wake-ups (issue 18 §3).
 * Overdue, its loop is looked at every DISK_RECHECK_MS: seen waiting on the
 * disk, it is not killed; it is once it has been neither answering nor seen
 * waiting for hung_timeout (a loop between two slow writes is not taken for
 * a hang by one unlucky look).
 */
#define DISK_RECHECK_MS 1000

static void
hung_check(struct sv_worker *w, int64_t now)
{
	int64_t hung = (int64_t)w->sv->cfg.supervisor.hung_timeout_ms;
	int64_t left = answered_ms(w) + hung - now;

	if (left >= 0) {
		if (!evtimer_pending(w->ev_timer, NULL))
			timer_in(w, left + 1);
		return;
	}
	if (disk_wait_seen(w, now) || (left = sv_worker_alive_ms(w) + hung - now) >= 0) {
		timer_in(w, left >= 0 && left < DISK_RECHECK_MS ? left + 1 : DISK_RECHECK_MS);
		return;
	}
	if (w->disk_since_ms != 0)
		log_warn("%s: no pong for %lld ms, and not seen waiting on the disk for %lld ms: "
		    "killing it as hung", tfo_role_name(w->role),
		    (long long)(now - answered_ms(w)), (long long)(now - w->disk_seen_ms));
	else
		log_warn("%s: no pong for %lld ms: killing it as hung",
		    tfo_role_name(w->role), (long long)(now - answered_ms(w)));
	kill_worker(w, SV_KILL_HUNG, SIGKILL);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sv_worker *w = arg;

	(void)fd;
	(void)what;
	switch (w->state) {
	case SV_BACKOFF:
		sv_worker_start(w);
		return;
	case SV_STARTING:
		/* opening its store on a slow disk is no hang either: looked at
		 * every second, killed once not seen waiting for hung_timeout */
		if (disk_wait_seen(w, sv_now_ms()) || (w->disk_seen_ms != 0 && sv_now_ms() -
		    w->disk_seen_ms < (int64_t)w->sv->cfg.supervisor.hung_timeout_ms)) {
			timer_in(w, DISK_RECHECK_MS);
			return;
		}
		log_warn("%s: no Ready within %u ms: killing it as hung",
		    tfo_role_name(w->role), w->sv->cfg.supervisor.hung_timeout_ms);
		kill_worker(w, SV_KILL_HUNG, SIGKILL);
		return;
	case SV_STOPPING:
		log_warn("%s: still running after its stop deadline: SIGKILL",
		    tfo_role_name(w->role));
		kill_worker(w, SV_KILL_REQUEST, SIGKILL);
		return;
	case SV_READY:
		drain(w);               /* its Pong may be waiting unread */
		if (w->state == SV_READY && w->ping_nonce != 0 && w->kill_why == SV_KILL_NONE)
			hung_check(w, sv_now_ms());
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------------ slots */

int
sv_workers_init(struct sv *sv)
{
	char err[1024], path[PATH_MAX] = "";
	int bad = 0;

	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		struct sv_worker *w = &sv->w[r];
		int found;

		w->sv = sv;
		w->role = (enum tfo_role)r;
		w->fd = -1;
		w->look_fd[0] = w->look_fd[1] = -1;
		w->enabled = tfo_role_enabled(&sv->cfg, w->role);
		w->state = SV_STOPPED;
		found = sv_worker_path(tfo_role_name(w->role), path, sizeof(path)) == 0;
		if ((w->path = strdup(path)) == NULL)
			return -1;
		if (!found && w->enabled)
			log_warn("%s: no executable found (tried %s)", tfo_role_name(w->role),
			    w->path);
		else if (w->enabled && !sv->no_spawn &&
		    sv_worker_trusted(w->path, err, sizeof(err)) != 0) {
			log_error("%s: refusing the worker executable: %s", tfo_role_name(w->role),
			    err);
			bad = 1;
		}
		if ((w->ev_timer = evtimer_new(sv->base, on_timer, w)) == NULL)
			return -1;
	}
	if ((sv->ev_phase = evtimer_new(sv->base, on_count_timeout, sv)) == NULL)
		return -1;
	return bad ? -1 : 0;
}

void
sv_workers_fini(struct sv *sv)
{
	if (sv->ev_phase)
		event_free(sv->ev_phase);
	sv->ev_phase = NULL;
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		struct sv_worker *w = &sv->w[r];
		if (w->ev_timer)
			event_free(w->ev_timer);
		if (w->ev_fd)
			event_free(w->ev_fd);
		if (w->fd >= 0)
			close(w->fd);
		if (w->stats)
			tfo__v1__pong__free_unpacked(w->stats, NULL);
		free(w->path);
		w->path = NULL;
	}
}

/* ------------------------------------------------------------------ deaths */

static void
after_death(struct sv_worker *w, int was_ready, int64_t now)
{
	struct sv *sv = w->sv;
	struct sv_limits l = limits(sv);
	int64_t delay;

	delay = sv_policy_on_death(&w->pol, &l, now, was_ready ? now - w->ready_ms : -1);
	if (delay != SV_FATAL_DELAY)
		w->pol.restarts_by[w->last_exit.cls]++;
	if (delay == SV_FATAL_DELAY) {
		w->state = SV_FATAL;
		log_error("%s: more than %u restarts in %u s: fatal", tfo_role_name(w->role),
		    l.max_restarts, l.window_ms / 1000);
		if (w->role == TFO_ROLE_BUFFER || w->role == TFO_ROLE_EXPORTER) {
			log_error("%s is fatal: stopping the agent", tfo_role_name(w->role));
			sv_shutdown_begin(sv, 1);
		}
		return;
	}
	if (delay == 0) {
		sv_worker_start(w);
		return;
	}
	w->state = SV_BACKOFF;
	w->next_start_ms = now + delay;
	timer_in(w, delay);
	log_info("%s: restart in %lld ms", tfo_role_name(w->role), (long long)delay);
}

static void
on_death(struct sv_worker *w, int wstatus)
{
	struct sv *sv = w->sv;
	int was_ready = w->ready_ms != 0;
	int requested = w->kill_why == SV_KILL_REQUEST;
	int64_t now = sv_now_ms();

	sv_exit_describe(&w->last_exit, wstatus, w->kill_why, was_ready, sv_wall_s());
	if (w->kill_why == SV_KILL_STALLED && was_ready) {
		char why[sizeof(w->last_exit.reason)];
		snprintf(why, sizeof(why), "stalled: %s", w->stall);
		memcpy(w->last_exit.reason, why, sizeof(why));
	}
	if (w->last_exit.sig == SIGSYS)
		sv_sigsys_describe(w, w->pid);
#ifdef TFO_TEST_HOOKS
	if (w->test_pending)
		sv_test_action_died(w);
#endif
	if (requested)
		log_info("%s: pid %d stopped (%s)", tfo_role_name(w->role), (int)w->pid,
		    w->last_exit.reason);
	else
		log_warn("%s: pid %d died: %s", tfo_role_name(w->role), (int)w->pid,
		    w->last_exit.reason);
	close_channel(w);
	evtimer_del(w->ev_timer);
	sv_look_close(w);
	w->pid = 0;
	w->kill_why = SV_KILL_NONE;
	w->disk_seen_ms = w->disk_since_ms = w->idle_seen_ms = 0;
	w->pings = w->idle_looks = 0;
	if (sv->shutdown_phase) {
		if (w->state != SV_FATAL)
			w->state = SV_STOPPED;
		shutdown_advance(sv);
		return;
	}
	if (w->respawn || (requested && w->enabled)) {
		w->respawn = 0;
		w->pol.restarts_by[w->last_exit.cls]++;
		sv_worker_start(w);
	} else if (requested || !w->enabled)
		w->state = SV_STOPPED;
	else
		after_death(w, was_ready, now);
	/* No rest-for-one for the exporter: it outlives a buffer restart and
	 * knows the entries it delivered when the new buffer offers them again
	 * (docs/exporter.md); restarting it killed its exports in flight,
	 * which came back as duplicates. */
	sv_notify_update(sv);
}

/*
 * sv_reap - each dead child: first what it wrote before dying (a Ready that
 * crossed our Shutdown, a last Pong), read while it is still a zombie so that
 * its pid cannot be anyone else's if those words call for a kill; then its
 * death. Reading the channel after the reap lost such a Ready whenever the
 * loop saw SIGCHLD before the channel.
 */
void
sv_reap(struct sv *sv)
{
	siginfo_t si;
	int st;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			break;
		for (int r = 0; r < TFO_ROLE_COUNT; r++)
			if (sv->w[r].pid == si.si_pid && sv->w[r].fd >= 0)
				on_fd(sv->w[r].fd, EV_READ, &sv->w[r]);
		if (waitpid(si.si_pid, &st, 0) != si.si_pid)
			break;
		for (int r = 0; r < TFO_ROLE_COUNT; r++)
			if (sv->w[r].pid == si.si_pid) {
				on_death(&sv->w[r], st);
				break;
			}
	}
}

/* ------------------------------------------------------------------ pings */

/*
 * seen_idle - a worker found waiting for events at a tick is as good as one
 * that answered, and is not woken (looks.c), except the buffer, whose
 * Pong carries what no look can see (its stall clock, whether its disk is
 * full: STATUS=), and each worker once a SV_IDLE_PING_MS (any ping counts,
 * a stats gather's too): a channel its loop no longer reads is still found,
 * and its Pong's status stays fresh for tfoctl status.
 */
static int
seen_idle(struct sv_worker *w, int64_t now)
{
	if (w->role == TFO_ROLE_BUFFER || now - w->ping_sent_ms >= SV_IDLE_PING_MS ||
	    !sv_loop_idle(w))
		return 0;
	w->idle_seen_ms = now;
	w->idle_looks++;
	return 1;
}

/* sv_worker_ping - a Ping with a fresh nonce */
void
sv_worker_ping(struct sv_worker *w)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Ping p = TFO__V1__PING__INIT;

	w->ping_nonce = ((uint64_t)sv_now_ms() << 8) ^ w->incarnation ^ (uint64_t)random();
	if (w->ping_nonce == 0)
		w->ping_nonce = 1;
	p.nonce = w->ping_nonce;
	/* a liveness ping alone asks for no stats: only someone reading them */
	w->stats_asked = w->stats_wanted;
	p.stats = w->stats_asked != 0;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &p;
	w->ping_sent_ms = sv_now_ms();
	w->pings++;
	send_ctl(w, &m);
	sv_worker_watch(w);             /* stats asked: read the Pong as it comes */
}

static void
on_ping(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;
	int64_t now = sv_now_ms();

	(void)fd;
	(void)what;
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		struct sv_worker *w = &sv->w[r];

		if (w->state != SV_READY || w->kill_why != SV_KILL_NONE)
			continue;
		drain(w);               /* the Pong of the last tick's ping */
		if (w->state != SV_READY || w->kill_why != SV_KILL_NONE)
			continue;
		if (w->ping_nonce != 0) {
			hung_check(w, now);
			continue;
		}
		if (!seen_idle(w, now))
			sv_worker_ping(w);
	}
	sv_notify_update(sv);
	/* freed heap and dead stack frames back, as in every worker */
	(void)tfo_memtrim(now);
	tfo_pagetrim_tick(&sv->pagetrim, now);
}

void
sv_ping_timer_set(struct sv *sv)
{
	uint32_t ms = sv->cfg.supervisor.ping_interval_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

	if (sv->ev_ping == NULL)
		sv->ev_ping = event_new(sv->base, -1, EV_PERSIST, on_ping, sv);
	if (sv->ev_ping)
		event_add(sv->ev_ping, &tv);
}

/* ------------------------------------------------------------------ shutdown */

/* phase_of - collectors first, then the exporter drains, the buffer last */
static int
phase_of(enum tfo_role r)
{
	return r == TFO_ROLE_EXPORTER ? 2 : r == TFO_ROLE_BUFFER ? 3 : 1;
}

/* stat_of - a numeric stat of the worker's last pong, -1 when absent */
static double
stat_of(const struct sv_worker *w, const char *name)
{
	for (size_t i = 0; w->stats != NULL && i < w->stats->n_stats; i++)
		if (strcmp(w->stats->stats[i]->name, name) == 0)
			return w->stats->stats[i]->value;
	return -1;
}

/* say_queued - after the drain, one line on what stays in the buffer */
static void
say_queued(const struct sv_worker *b, int answered)
{
	double m = stat_of(b, "metrics.entries"), l = stat_of(b, "logs.entries");

	if (!answered || m < 0 || l < 0)
		log_warn("stopping; the buffer did not say what stays queued: it is sent at "
		    "the next start");
	else if (m + l > 0)
		log_warn("stopping with %.0f metric and %.0f log entries queued; they are sent at "
		    "the next start", m, l);
	else
		log_info("stopping with nothing queued: everything collected was delivered");
}

/*
 * count_queued - the buffer's own count after the exporter is gone, for
 * say_queued: a ping whose pong (on_pong calls sv_shutdown_on_pong) or
 * SV_COUNT_WAIT_MS ends the wait. An earlier ping still unanswered is waited
 * for first (a second nonce would make its pong a protocol error). Returns 1
 * while waiting.
 */
static int
count_queued(struct sv *sv)
{
	struct sv_worker *b = &sv->w[TFO_ROLE_BUFFER];
	struct timeval tv = { SV_COUNT_WAIT_MS / 1000, (SV_COUNT_WAIT_MS % 1000) * 1000 };

	if (sv->counting == SV_COUNT_DONE)
		return 0;
	if (b->pid <= 0 || b->state != SV_READY || b->fd < 0 || sv->ev_phase == NULL) {
		sv->counting = SV_COUNT_DONE;
		return 0;
	}
	if (sv->counting == SV_COUNT_NONE)
		evtimer_add(sv->ev_phase, &tv);
	if (b->ping_nonce != 0) {
		sv->counting = SV_COUNT_EARLIER;
		return 1;
	}
	sv->counting = SV_COUNT_OURS;
	b->stats_wanted = 1;            /* say_queued reads its entries */
	sv_worker_ping(b);
	return 1;
}

/* sv_shutdown_on_pong - the buffer answered while the stop counts what stays */
void
sv_shutdown_on_pong(struct sv_worker *w)
{
	struct sv *sv = w->sv;

	if (w->role != TFO_ROLE_BUFFER || sv->shutdown_phase != 2)
		return;
	if (sv->counting == SV_COUNT_EARLIER) {
		(void)count_queued(sv);
		return;
	}
	if (sv->counting != SV_COUNT_OURS)
		return;
	sv->counting = SV_COUNT_DONE;
	evtimer_del(sv->ev_phase);
	say_queued(w, 1);
	shutdown_advance(sv);
}

static void
on_count_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	(void)fd;
	(void)what;
	if (sv->counting == SV_COUNT_DONE)
		return;
	sv->counting = SV_COUNT_DONE;
	say_queued(&sv->w[TFO_ROLE_BUFFER], 0);
	shutdown_advance(sv);
}

/* sv_worker_state_name - the state tfoctl shows: the exporter stopping while
 * the agent stops is draining the buffer */
const char *
sv_worker_state_name(const struct sv_worker *w)
{
	if (w->role == TFO_ROLE_EXPORTER && w->state == SV_STOPPING && w->sv->shutdown_phase == 2)
		return "draining";
	if (w->state == SV_READY && w->disk_since_ms != 0)
		return "disk-wait";     /* not answering, its loop blocked on storage */
	return sv_state_name(w->state);
}

static void
shutdown_advance(struct sv *sv)
{
	while (sv->shutdown_phase > 0 && sv->shutdown_phase < 4) {
		int running = 0;
		for (int r = 0; r < TFO_ROLE_COUNT; r++)
			if (phase_of((enum tfo_role)r) == sv->shutdown_phase && sv->w[r].pid > 0)
				running = 1;
		if (running)
			return;
		/* the exporter is gone: what the buffer still holds, before it stops */
		if (sv->shutdown_phase == 2 && count_queued(sv))
			return;
		sv->shutdown_phase++;
		if (sv->shutdown_phase == 2 && sv->w[TFO_ROLE_EXPORTER].pid > 0)
			sv_notify_status(sv, "draining the buffer to the endpoint");
		for (int r = 0; r < TFO_ROLE_COUNT && sv->shutdown_phase < 4; r++) {
			struct sv_worker *w = &sv->w[r];
			if (phase_of((enum tfo_role)r) != sv->shutdown_phase)
				continue;
			sv_worker_stop(w, r == TFO_ROLE_EXPORTER ?
			    sv->cfg.exporter.shutdown_drain_ms : SV_STOP_GRACE_MS);
		}
	}
	if (sv->shutdown_phase >= 4) {
		log_info("every worker has exited");
		event_base_loopexit(sv->base, NULL);
	}
}

/*
 * buffer_for_stop - a stop that finds the buffer down (in its restart
 * backoff, or fatal: the reason the agent stops) starts it once more: the
 * collectors' last puts, the exporter's drain and the acks of what the
 * exporter delivered while it was down land there, instead of being sent
 * again (and read again) at the next start.
 */
static void
buffer_for_stop(struct sv *sv)
{
	struct sv_worker *b = &sv->w[TFO_ROLE_BUFFER];

	if (!b->enabled || b->pid > 0 || sv->no_spawn)
		return;
	log_info("buffer: not running: starting it for the stop");
	sv->stop_spawn = 1;
	sv_worker_start(b);
	sv->stop_spawn = 0;
}

void
sv_shutdown_begin(struct sv *sv, int exit_code)
{
	if (exit_code > sv->exit_code)
		sv->exit_code = exit_code;
	if (sv->shutdown_phase)
		return;
	log_info("shutting down: collectors, then the exporter drains the buffer (up to %u ms), "
	    "then the buffer", sv->cfg.exporter.shutdown_drain_ms);
	sv_notify_stopping(sv);
	if (sv->ev_ping)
		event_del(sv->ev_ping);
	/* phase 1 begins by stopping the collectors */
	sv->shutdown_phase = 1;
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		sv_worker_watch(&sv->w[r]);     /* no more ticks: read as it comes */
	buffer_for_stop(sv);
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		if (phase_of((enum tfo_role)r) == 1)
			sv_worker_stop(&sv->w[r], SV_STOP_GRACE_MS);
		else if (sv->w[r].pid <= 0)
			sv_worker_stop(&sv->w[r], 0);  /* cancel a pending restart */
	}
	shutdown_advance(sv);
}
