/*
 * sigsys.c - tfo-supervisor: which system call a worker killed by seccomp
 * (SIGSYS) attempted. The kernel's audit record (type=1326) is read back
 * from /dev/kmsg when readable (no auditd, no ProtectKernelLogs); the record
 * is kernel text but names a process the worker controls: parsed as hostile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

#define KMSG_REC_MAX 8192      /* one /dev/kmsg record at most */
#define KMSG_MAX_RECORDS 100000

/* field_num - decimal value of " name=<digits>" in s[0..len), -1 if absent */
static long
field_num(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 2 <= len; i++) {
		long v = 0;
		size_t k;

		if (s[i] != ' ' || memcmp(s + i + 1, name, nl) != 0 || s[i + 1 + nl] != '=')
			continue;
		for (k = i + nl + 2; k < len && s[k] >= '0' && s[k] <= '9'; k++) {
			if (v > 100000000)
				return -1;
			v = v * 10 + (s[k] - '0');
		}
		if (k == i + nl + 2 || (k < len && s[k] != ' ' && s[k] != '\n'))
			return -1;
		return v;
	}
	return -1;
}

int
sv_kmsg_seccomp_parse(const char *rec, size_t len, pid_t pid, long *nr)
{
	const char *msg = memchr(rec, ';', len);
	const char *comm;
	size_t mlen, head;
	long sys;

	if (msg == NULL)
		return -1;
	msg++;
	mlen = len - (size_t)(msg - rec);
	/* "audit: type=1326 audit(...): ... pid=N comm=... exe=... sig=31 ...
	 * syscall=N ..."; comm and exe are escaped by audit (no spaces), and
	 * pid is taken only from before comm= */
	if (mlen < 17 || memcmp(msg, "audit: type=1326 ", 17) != 0)
		return -1;
	comm = memmem(msg, mlen, " comm=", 6);
	head = comm ? (size_t)(comm - msg) : mlen;
	if (field_num(msg, head, "pid") != (long)pid || field_num(msg, mlen, "sig") != 31)
		return -1;
	if ((sys = field_num(msg, mlen, "syscall")) < 0)
		return -1;
	*nr = sys;
	return 0;
}

long
sv_sigsys_syscall(pid_t pid)
{
	char *rec = malloc(KMSG_REC_MAX);
	long nr = -1, found;
	ssize_t n;
	int fd, i = 0;

	if (rec == NULL)
		return -1;
	if ((fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		free(rec);
		return -1;
	}
	/* every record still in the ring; the last match is this death */
	while (i++ < KMSG_MAX_RECORDS) {
		n = read(fd, rec, KMSG_REC_MAX);
		if (n == -1 && errno == EPIPE)
			continue;           /* overwritten while reading: go on */
		if (n <= 0)
			break;
		if (sv_kmsg_seccomp_parse(rec, (size_t)n, pid, &found) == 0)
			nr = found;
	}
	close(fd);
	free(rec);
	return nr;
}

#define RETRY_MS 50
#define RETRIES 4

/* A death awaiting its audit record: kauditd prints it asynchronously, so it
 * may reach /dev/kmsg a moment after the reaping. */
struct sigsys_wait {
	struct sv_worker *w;
	pid_t pid;
	int64_t at;                  /* last_exit.at of that death */
	int tries;
};

/* annotate - add the call to the reason and log; 0 when the record was found */
static int
annotate(struct sv_worker *w, pid_t pid, int last_try)
{
	char buf[sizeof(w->last_exit.reason) + 64];
	size_t k;
	long nr = sv_sigsys_syscall(pid);
	char *name;

	if (nr < 0) {
		if (last_try)
			log_error("seccomp violation in %s (pid %d): syscall unknown (no readable "
			    "audit record: see journalctl -k or the audit log)",
			    tfo_role_name(w->role), (int)pid);
		return -1;
	}
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	snprintf(buf, sizeof(buf), "%s (syscall %ld %s)", w->last_exit.reason, nr,
	    name ? name : "?");
	/* cut to the reason's size (a long syscall name loses its end) */
	k = strnlen(buf, sizeof(w->last_exit.reason) - 1);
	memcpy(w->last_exit.reason, buf, k);
	w->last_exit.reason[k] = '\0';
	log_error("seccomp violation in %s (pid %d): syscall %ld (%s)",
	    tfo_role_name(w->role), (int)pid, nr, name ? name : "?");
	free(name);
	return 0;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sigsys_wait *sw = arg;
	struct timeval tv = { 0, RETRY_MS * 1000 };

	(void)fd;
	(void)what;
	/* the slot has seen another death since: that reason is not ours */
	if (sw->w->last_exit.at != sw->at || sw->w->last_exit.sig != SIGSYS ||
	    strstr(sw->w->last_exit.reason, "(syscall ") != NULL ||
	    annotate(sw->w, sw->pid, ++sw->tries >= RETRIES) == 0 || sw->tries >= RETRIES ||
	    event_base_once(sw->w->sv->base, -1, EV_TIMEOUT, on_retry, sw, &tv) != 0)
		free(sw);
}

void
sv_sigsys_describe(struct sv_worker *w, pid_t pid)
{
	struct timeval tv = { 0, RETRY_MS * 1000 };
	struct sigsys_wait *sw;

	if (annotate(w, pid, 0) == 0)
		return;
	if (w->sv == NULL || w->sv->base == NULL || (sw = calloc(1, sizeof(*sw))) == NULL) {
		(void)annotate(w, pid, 1);
		return;
	}
	sw->w = w;
	sw->pid = pid;
	sw->at = w->last_exit.at;
	if (event_base_once(w->sv->base, -1, EV_TIMEOUT, on_retry, sw, &tv) != 0) {
		free(sw);
		(void)annotate(w, pid, 1);
	}
}
