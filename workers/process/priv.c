/*
 * priv.c - tfo-process's client of tfo-procpriv (common/privops.h): spawns
 * the helper while still root, then sends batches of (pid, ops) and reads
 * back numbers and exe paths. The reply comes from a more privileged peer
 * but is parsed with the same bounds as anything else read from outside.
 */
#include "workers/process/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/safepath.h"

#define REPLY_WAIT_MS 5000
#define HIGH_FD 10              /* child: fds moved above 3 and 4 first */

extern char **environ;

struct tfo_priv {
	int fd;
	pid_t pid;
	uint8_t *reply;                 /* TFO_PRIVOPS_REPLY_MAX + 1 bytes */
};

pid_t
tfo_priv_pid(const struct tfo_priv *p)
{
	return p->pid;
}

int
tfo_priv_fd(const struct tfo_priv *p)
{
	return p->fd;
}

/* child - between fork and exec: async-signal-safe calls only. fd 3 = the
 * helper's end of the channel, fd 4 = /proc; everything else closed but the
 * checked executable, which is run through its fd (no second lookup of
 * its path) and closed by the exec itself. */
static void
child(int chan, int procfd, int exefd, char *const argv[])
{
	struct sigaction dfl;
	int c, d, x, e = TFO_PRIVOPS_PROC_FD + 1;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGTERM, &dfl, NULL);
	(void)sigaction(SIGINT, &dfl, NULL);
	if ((c = fcntl(chan, F_DUPFD, HIGH_FD)) < 0 || (d = fcntl(procfd, F_DUPFD, HIGH_FD)) < 0 ||
	    (x = fcntl(exefd, F_DUPFD, HIGH_FD)) < 0 || dup2(c, TFO_PRIVOPS_CHAN_FD) < 0 ||
	    dup2(d, TFO_PRIVOPS_PROC_FD) < 0 || dup2(x, e) < 0 || fcntl(e, F_SETFD, FD_CLOEXEC) < 0)
		_exit(126);
	(void)syscall(SYS_close_range, e + 1, ~0U, 0);
	(void)syscall(SYS_execveat, e, "", argv, environ, AT_EMPTY_PATH);
	_exit(127);
}

/* sized_socket - room for the largest reply in one SOCK_SEQPACKET packet,
 * whatever net.core.wmem_default says (FORCE: root may pass wmem_max) */
static void
sized_socket(int fd)
{
	int sz = (int)TFO_PRIVOPS_REPLY_MAX * 2;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
}

/* read_packet - one packet within ms; its length, or -1 (errno; ETIMEDOUT) */
static ssize_t
read_packet(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rv;

	do
		rv = poll(&pfd, 1, ms);
	while (rv < 0 && errno == EINTR);
	if (rv == 0)
		errno = ETIMEDOUT;
	if (rv <= 0)
		return -1;
	do
		n = recv(fd, buf, cap, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n;
}

/* wait_hello - the helper's first packet: its sandbox is in place */
static int
wait_hello(struct tfo_priv *p, char *err, size_t errcap)
{
	struct tfo_privops_hdr h;
	ssize_t n = read_packet(p->fd, p->reply, TFO_PRIVOPS_REPLY_MAX + 1, REPLY_WAIT_MS);

	if (n == (ssize_t)sizeof(h)) {
		memcpy(&h, p->reply, sizeof(h));
		if (h.magic == TFO_PRIVOPS_MAGIC && h.type == TFO_PRIVMSG_HELLO && h.n == 0)
			return 0;
	}
	snprintf(err, errcap, "%s", n == 0 ? "it exited before it was ready (its log says why)" :
	    n < 0 ? strerror(errno) : "it does not speak this version");
	return -1;
}

struct tfo_priv *
tfo_priv_start(const struct tfo_priv_spawn *sp, char *err, size_t errcap)
{
	char uid[24], gid[24];
	char *argv[] = { "tfo-procpriv", uid, gid, (char *)sp->seccomp, (char *)sp->log_level,
		(char *)sp->log_format, NULL };
	/* root runs what root (or the dev-mode user) owns, as for the workers */
	struct tfo_safe_opts trust = { .self = geteuid() };
	struct tfo_priv *p = calloc(1, sizeof(*p));
	int sv[2], exefd = -1;

	if (p == NULL || (p->reply = malloc(TFO_PRIVOPS_REPLY_MAX + 1)) == NULL) {
		snprintf(err, errcap, "out of memory");
		goto fail;
	}
	p->fd = -1;
	if ((exefd = tfo_safe_open_file(sp->path, &trust, O_RDONLY, err, errcap)) < 0)
		goto fail;
	snprintf(uid, sizeof(uid), sp->uid > 0 ? "%ld" : "-", sp->uid);
	snprintf(gid, sizeof(gid), sp->gid > 0 ? "%ld" : "-", sp->gid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errcap, "socketpair: %s", strerror(errno));
		goto fail;
	}
	sized_socket(sv[1]);
	if ((p->pid = fork()) == 0)
		child(sv[1], sp->procfd, exefd, argv);
	close(sv[1]);
	close(exefd);
	exefd = -1;
	p->fd = sv[0];
	if (p->pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(errno));
		goto fail;
	}
	if (wait_hello(p, err, errcap) == 0)
		return p;
fail:
	if (exefd >= 0)
		close(exefd);
	tfo_priv_close(p);
	return NULL;
}

void
tfo_priv_close(struct tfo_priv *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->reply);
	free(p);
}

int
tfo_priv_reap(struct tfo_priv *p, int *status)
{
	struct timespec ms10 = { 0, 10 * 1000000L };

	for (int i = 0; p->pid > 0 && i < 100; i++) {
		pid_t r = waitpid(p->pid, status, WNOHANG);
		if (r == p->pid) {
			p->pid = 0;
			return 0;
		}
		if (r < 0)
			return -1;
		nanosleep(&ms10, NULL);
	}
	return -1;
}

/* round_trip - send req (len bytes), read one reply packet into p->reply */
static enum tfo_err
round_trip(struct tfo_priv *p, const void *req, size_t len, ssize_t *rlen)
{
	ssize_t n;

	if (p->fd < 0)
		return TFO_ECLOSED;
	do
		n = send(p->fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return n < 0 && (errno == EPIPE || errno == ECONNRESET) ? TFO_ECLOSED : TFO_EIO;
	if ((n = read_packet(p->fd, p->reply, TFO_PRIVOPS_REPLY_MAX + 1, REPLY_WAIT_MS)) <= 0)
		return n == 0 || errno == ECONNRESET ? TFO_ECLOSED :
		    errno == ETIMEDOUT ? TFO_ETIMEDOUT : TFO_EIO;
	*rlen = n;
	return TFO_OK;
}

/* parse_one - the record at *off for request q; -1 when it breaks the contract */
static int
parse_one(uint8_t *buf, size_t len, size_t *off, const struct tfo_privops_req *q,
    struct tfo_priv_ans *a)
{
	struct tfo_privops_res r;
	size_t body;

	if (len - *off < sizeof(r))
		return -1;
	memcpy(&r, buf + *off, sizeof(r));
	*off += sizeof(r);
	if (r.pid != q->pid || r.exe_len > TFO_PRIVOPS_EXE_MAX ||
	    (body = TFO_PRIVOPS_PAD8(r.exe_len)) > len - *off)
		return -1;
	memset(a, 0, sizeof(*a));
	a->pid = r.pid;
	a->err_io = r.err_io;
	a->err_exe = r.err_exe;
	a->err_nfds = r.err_nfds;
	a->read_bytes = r.read_bytes;
	a->write_bytes = r.write_bytes;
	a->nfds = r.nfds;
	if (a->err_exe == 0) {
		/* NUL-terminated by terminate_exes once every record is parsed */
		if (r.exe_len == 0 || memchr(buf + *off, '\0', r.exe_len) != NULL)
			return -1;
		a->exe = (const char *)buf + *off;
		a->exe_len = r.exe_len;
	}
	*off += body;
	return 0;
}

/* terminate_exes - NUL after each exe path, once every record is parsed:
 * where a path fills its padding the NUL lands on the next record's first
 * byte (already copied out) or on the byte past the reply, which the
 * buffer has (tfo_priv_parse_reply) */
static void
terminate_exes(struct tfo_priv_ans *ans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ans[i].exe != NULL)
			((char *)ans[i].exe)[ans[i].exe_len] = '\0';
}

enum tfo_err
tfo_priv_parse_reply(uint8_t *buf, size_t len, const struct tfo_privops_req *req, size_t n,
    struct tfo_priv_ans *ans)
{
	struct tfo_privops_hdr h;
	size_t off = sizeof(h);

	if (len < sizeof(h) || len > TFO_PRIVOPS_REPLY_MAX)
		return TFO_EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != TFO_PRIVOPS_MAGIC || h.type != TFO_PRIVMSG_READ || h.n != n ||
	    h.reserved != 0)
		return TFO_EPROTO;
	for (size_t i = 0; i < n; i++)
		if (parse_one(buf, len, &off, &req[i], &ans[i]) != 0)
			return TFO_EPROTO;
	if (off != len)
		return TFO_EPROTO;
	terminate_exes(ans, n);
	return TFO_OK;
}

enum tfo_err
tfo_priv_query(struct tfo_priv *p, const struct tfo_privops_req *req, size_t n,
    struct tfo_priv_ans *ans)
{
	uint8_t out[TFO_PRIVOPS_REQ_MAX];
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_READ,
		.n = (uint32_t)n };
	size_t len = sizeof(h) + n * sizeof(*req);
	enum tfo_err e;
	ssize_t rlen;

	if (n == 0 || n > TFO_PRIVOPS_BATCH)
		return TFO_EINVAL;
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), req, n * sizeof(*req));
	if ((e = round_trip(p, out, len, &rlen)) != TFO_OK)
		return e;
	return tfo_priv_parse_reply(p->reply, (size_t)rlen, req, n, ans);
}

struct tfo_priv *
tfo_priv_adopt(int fd, pid_t pid)
{
	struct tfo_priv *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->reply = malloc(TFO_PRIVOPS_REPLY_MAX + 1)) == NULL) {
		free(p);
		return NULL;
	}
	p->fd = fd;
	p->pid = pid;
	return p;
}

#ifdef TFO_TEST_HOOKS
enum tfo_err
tfo_priv_test(struct tfo_priv *p, const char *action, const char *arg, int *err)
{
	uint8_t out[sizeof(struct tfo_privops_hdr) + sizeof(struct tfo_privops_test)];
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_TEST, .n = 1 };
	struct tfo_privops_test t;
	struct tfo_privops_test_res r;
	enum tfo_err e;
	ssize_t rlen;

	memset(&t, 0, sizeof(t));
	snprintf(t.action, sizeof(t.action), "%s", action);
	snprintf(t.arg, sizeof(t.arg), "%s", arg != NULL ? arg : "");
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), &t, sizeof(t));
	if ((e = round_trip(p, out, sizeof(out), &rlen)) != TFO_OK)
		return e;
	if ((size_t)rlen != sizeof(h) + sizeof(r))
		return TFO_EPROTO;
	memcpy(&r, p->reply + sizeof(h), sizeof(r));
	*err = r.err;
	return TFO_OK;
}
#endif
