/*
 * sigsys.c - tfo-supervisor: which system call a worker killed by seccomp
 * (SIGSYS) attempted. The kernel's audit record (type=1326) is read back
 * from /dev/kmsg when readable (no auditd, no ProtectKernelLogs); the record
 * is kernel text but names a process the worker controls: parsed as hostile.
 */
#include <errno.h>
#include <fcntl.h>
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

void
sv_sigsys_describe(struct sv_worker *w, pid_t pid)
{
	char buf[sizeof(w->last_exit.reason) + 64];
	size_t k;
	long nr = sv_sigsys_syscall(pid);
	char *name = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr) : NULL;

	if (nr >= 0) {
		snprintf(buf, sizeof(buf), "%s (syscall %ld %s)", w->last_exit.reason, nr,
		    name ? name : "?");
		/* cut to the reason's size (a long syscall name loses its end) */
		k = strnlen(buf, sizeof(w->last_exit.reason) - 1);
		memcpy(w->last_exit.reason, buf, k);
		w->last_exit.reason[k] = '\0';
		log_error("seccomp violation in %s (pid %d): syscall %ld (%s)",
		    tfo_role_name(w->role), (int)pid, nr, name ? name : "?");
	} else
		log_error("seccomp violation in %s (pid %d): syscall unknown (no readable "
		    "audit record: see journalctl -k or the audit log)", tfo_role_name(w->role),
		    (int)pid);
	free(name);
}
