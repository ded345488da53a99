/*
 * spawn.c - start/kill/stop the real tfo-buffer for tests and bench (see spawn.h).
 */
#include "tests/integration/buffer/spawn.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/worker.h"

int
tbuf_setup(struct tbuf *t)
{
	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->ctl = -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/tfo-buffer-it.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	snprintf(t->ingest, sizeof(t->ingest), "ipc://%s/ingest.ipc", t->dir);
	snprintf(t->export_url, sizeof(t->export_url), "ipc://%s/export.ipc", t->dir);
	return 0;
}

static int
send_config(struct tbuf *t, uint64_t incarnation, int sync, uint64_t max_mb)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__WorkerConfig wc = TFO__V1__WORKER_CONFIG__INIT;
	Tfo__V1__BufferConfig bc = TFO__V1__BUFFER_CONFIG__INIT;
	Tfo__V1__LoggingConfig lc = TFO__V1__LOGGING_CONFIG__INIT;
	uint32_t uid = (uint32_t)getuid();

	lc.level = "warn";
	lc.format = "text";
	bc.path = t->state;
	bc.max_size_mb = max_mb;
	bc.sync = sync != 0;
	wc.role = TFO__V1__ROLE__ROLE_BUFFER;
	wc.incarnation = incarnation;
	wc.logging = &lc;
	wc.runtime_dir = t->dir;
	wc.ingest_url = t->ingest;
	wc.export_url = t->export_url;
	wc.ingest_peer_uids = &uid;
	wc.n_ingest_peer_uids = 1;
	wc.export_peer_uid = uid;
	wc.uid = uid;
	wc.gid = (uint32_t)getgid();
	wc.drop_privileges = 0;
	wc.seccomp_mode = "off";
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_BUFFER;
	wc.buffer = &bc;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_CONFIG;
	m.config = &wc;
	return tfo_control_send(t->ctl, &m) == TFO_OK ? 0 : -1;
}

/* wait_ready - the worker says Ready once its listeners are up */
static int
wait_ready(struct tbuf *t)
{
	struct pollfd p = { .fd = t->ctl, .events = POLLIN };

	for (;;) {
		Tfo__V1__Control *m;
		enum tfo_err e;
		if (poll(&p, 1, 20000) != 1)
			return -1;
		if ((m = tfo_control_recv(t->ctl, &e)) == NULL) {
			if (e == TFO_EAGAIN)
				continue;
			return -1;
		}
		int ready = m->msg_case == TFO__V1__CONTROL__MSG_READY;
		tfo__v1__control__free_unpacked(m, NULL);
		if (ready)
			return 0;
	}
}

int
tbuf_start(struct tbuf *t, const char *bin, uint64_t incarnation, int sync, uint64_t max_mb)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((t->pid = fork()) == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		if (dup2(sv[1], 3) == -1)
			_exit(127);
		execl(bin, "tfo-buffer", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	t->ctl = sv[0];
	if (t->pid < 0 || send_config(t, incarnation, sync, max_mb) != 0 || wait_ready(t) != 0) {
		fprintf(stderr, "tfo-buffer did not start\n");
		return -1;
	}
	return 0;
}

int
tbuf_kill(struct tbuf *t)
{
	int st = 0;

	if (t->pid <= 0)
		return -1;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	close(t->ctl);
	t->pid = -1;
	t->ctl = -1;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : -1;
}

int
tbuf_stop(struct tbuf *t)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Shutdown sd = TFO__V1__SHUTDOWN__INIT;
	int st = 0;

	if (t->pid <= 0)
		return -1;
	sd.deadline_ms = 5000;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_SHUTDOWN;
	m.shutdown = &sd;
	if (tfo_control_send(t->ctl, &m) != TFO_OK)
		kill(t->pid, SIGTERM);
	waitpid(t->pid, &st, 0);
	close(t->ctl);
	t->pid = -1;
	t->ctl = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
tbuf_cleanup(struct tbuf *t)
{
	char cmd[400];

	if (t->pid > 0)
		(void)tbuf_kill(t);
	if (t->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t->dir);
		t->dir[0] = '\0';
	}
}
