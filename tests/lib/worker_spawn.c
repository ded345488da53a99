/*
 * worker_spawn.c - run a real worker over fd 3 for tests and benches (see
 * worker_spawn.h); the test process plays tfo-supervisor's part.
 */
#include "tests/lib/worker_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void
tfo_wspawn_config(Tfo__V1__WorkerConfig *wc, Tfo__V1__LoggingConfig *lc, Tfo__V1__Role role,
    const char *level)
{
	tfo__v1__worker_config__init(wc);
	tfo__v1__logging_config__init(lc);
	lc->level = (char *)level;
	lc->format = "text";
	wc->role = role;
	wc->incarnation = 1;
	wc->logging = lc;
	wc->uid = (uint32_t)getuid();
	wc->gid = (uint32_t)getgid();
	wc->drop_privileges = 0;
	wc->seccomp_mode = "off";
	wc->buffer_uid = wc->uid;       /* every worker of a test runs as the test */
}

void
tfo_wspawn_ingest_peers(Tfo__V1__WorkerConfig *wc)
{
	/* one uid for every collector, as in the unprivileged dev mode */
	static uint32_t uids[3];
	static Tfo__V1__Role roles[3] = { TFO__V1__ROLE__ROLE_SYSTEM,
		TFO__V1__ROLE__ROLE_PROCESS, TFO__V1__ROLE__ROLE_LOGS };

	uids[0] = uids[1] = uids[2] = (uint32_t)getuid();
	wc->ingest_peer_uids = uids;
	wc->n_ingest_peer_uids = 3;
	wc->ingest_peer_roles = roles;
	wc->n_ingest_peer_roles = 3;
	wc->export_peer_uid = uids[0];
}

int
tfo_wspawn_exec(struct tfo_wspawn *w, const char *bin, const char *argv0)
{
	int sv[2];

	w->pid = -1;
	w->ctl = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((w->pid = fork()) == 0) {
		/* Async-signal-safe calls only: fd 3 without CLOEXEC, then exec.
		 * dup2 onto itself would leave CLOEXEC set. */
		if (sv[1] == TFO_CONTROL_FD ? fcntl(TFO_CONTROL_FD, F_SETFD, 0) == -1 :
		    dup2(sv[1], TFO_CONTROL_FD) == -1)
			_exit(127);
		execl(bin, argv0 != NULL ? argv0 : bin, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (w->pid < 0) {
		close(sv[0]);
		return -1;
	}
	w->ctl = sv[0];
	return 0;
}

int
tfo_wspawn_send_config(struct tfo_wspawn *w, Tfo__V1__WorkerConfig *wc)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;

	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_CONFIG;
	m.config = wc;
	return tfo_control_send(w->ctl, &m) == TFO_OK ? 0 : -1;
}

Tfo__V1__Control *
tfo_wspawn_wait(struct tfo_wspawn *w, Tfo__V1__Control__MsgCase kind, int ms)
{
	struct pollfd p = { .fd = w->ctl, .events = POLLIN };

	while (poll(&p, 1, ms) == 1) {
		enum tfo_err e;
		Tfo__V1__Control *m = tfo_control_recv(w->ctl, &e);
		if (m == NULL) {
			if (e == TFO_EAGAIN)
				continue;
			return NULL;
		}
		if (m->msg_case == kind)
			return m;
		tfo__v1__control__free_unpacked(m, NULL);
	}
	return NULL;
}

int
tfo_wspawn_start(struct tfo_wspawn *w, const char *bin, const char *argv0,
    Tfo__V1__WorkerConfig *wc, int ready_ms)
{
	Tfo__V1__Control *m;

	if (tfo_wspawn_exec(w, bin, argv0) != 0)
		return -1;
	if (tfo_wspawn_send_config(w, wc) != 0 ||
	    (m = tfo_wspawn_wait(w, TFO__V1__CONTROL__MSG_READY, ready_ms)) == NULL) {
		(void)tfo_wspawn_kill(w);
		return -1;
	}
	tfo__v1__control__free_unpacked(m, NULL);
	return 0;
}

int
tfo_wspawn_reap(struct tfo_wspawn *w)
{
	if (w->pid <= 0)
		return -1;
	w->status = 0;
	while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
		;
	if (w->ctl >= 0)
		close(w->ctl);
	w->pid = -1;
	w->ctl = -1;
	return WIFEXITED(w->status) ? WEXITSTATUS(w->status) : -1;
}

int
tfo_wspawn_kill(struct tfo_wspawn *w)
{
	if (w->pid <= 0)
		return -1;
	kill(w->pid, SIGKILL);
	(void)tfo_wspawn_reap(w);
	return WIFSIGNALED(w->status) && WTERMSIG(w->status) == SIGKILL ? 0 : -1;
}

int
tfo_wspawn_shutdown(struct tfo_wspawn *w, uint32_t deadline_ms)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Shutdown sd = TFO__V1__SHUTDOWN__INIT;

	if (w->pid <= 0)
		return -1;
	sd.deadline_ms = deadline_ms;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_SHUTDOWN;
	m.shutdown = &sd;
	if (tfo_control_send(w->ctl, &m) == TFO_OK)
		return 0;
	kill(w->pid, SIGTERM);
	return -1;
}

int
tfo_wspawn_stop(struct tfo_wspawn *w, uint32_t deadline_ms)
{
	if (w->pid <= 0)
		return -1;
	(void)tfo_wspawn_shutdown(w, deadline_ms);
	return tfo_wspawn_reap(w);
}
