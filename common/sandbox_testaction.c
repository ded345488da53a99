/*
 * sandbox_testaction.c - TEST BUILDS ONLY (TFO_TEST_HOOKS; not compiled
 * otherwise): a sandboxed worker attempts one forbidden action on request
 * and says what happened, for tests/sandbox/. An action the sandbox kills
 * never returns: the supervisor reports the SIGSYS death instead.
 */
#include "common/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

/* arg_long - the action's numeric argument, -1 when absent or bad */
static long
arg_long(const char *s, long max)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end != '\0' || v <= 0 || v > max ? -1 : v;
}

/* try_open - 0 when the open succeeded (then the file is closed/removed) */
static int
try_open(const char *path, int flags, int unlink_after)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd == -1)
		return errno;
	close(fd);
	if (unlink_after)
		(void)unlink(path);
	return 0;
}

static int
try_connect(long port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, rv = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		rv = errno;
	close(fd);
	/* refused = the kernel let us try: the sandbox did not stop it */
	return rv == ECONNREFUSED ? 0 : rv;
}

static int
try_exec(void)
{
	char *const argv[] = { "sh", "-c", "exit 0", NULL };
	char *const envp[] = { NULL };

	execve("/bin/sh", argv, envp);
	return errno;
}

/* run - one action; returns its errno (0 = it worked), -1 = unknown action */
static int
run(const char *a, const char *arg)
{
	char path[PATH_MAX];
	long pid;

	if (strcmp(a, "open_shadow") == 0)
		return try_open("/etc/shadow", O_RDONLY, 0);
	if (strcmp(a, "write_tmp") == 0) {
		snprintf(path, sizeof(path), "/tmp/tfo-sandbox-%d", (int)getpid());
		return try_open(path, O_WRONLY | O_CREAT | O_EXCL, 1);
	}
	if (strcmp(a, "write_state") == 0) {
		if (arg == NULL || arg[0] != '/' ||
		    (size_t)snprintf(path, sizeof(path), "%s/tfo-sandbox-%d", arg,
		    (int)getpid()) >= sizeof(path))
			return EINVAL;
		return try_open(path, O_WRONLY | O_CREAT | O_EXCL, 1);
	}
	if (strcmp(a, "exec") == 0)
		return try_exec();
	if (strcmp(a, "proc_mem") == 0) {
		/* another process's memory: arg = its pid, default 1 */
		if (arg != NULL && *arg != '\0' && (pid = arg_long(arg, INT_MAX)) == -1)
			return EINVAL;
		snprintf(path, sizeof(path), "/proc/%ld/mem", arg != NULL && *arg ? pid : 1L);
		return try_open(path, O_RDONLY, 0);
	}
	if (strcmp(a, "setuid") == 0)
		return syscall(SYS_setuid, 0) == -1 ? errno : 0;
	if (strcmp(a, "connect") == 0)
		return (pid = arg_long(arg, 65535)) == -1 ? EINVAL : try_connect(pid);
	if (strcmp(a, "kill") == 0) {
		if ((pid = arg_long(arg, INT_MAX)) == -1)
			return EINVAL;
		/* signal 0: the permission check without a signal */
		return kill((pid_t)pid, 0) == -1 ? errno : 0;
	}
	if (strcmp(a, "ptrace") == 0) {
		if ((pid = arg_long(arg, INT_MAX)) == -1)
			return EINVAL;
		if (ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) == -1)
			return errno;
		(void)ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
		return 0;
	}
	return -1;
}

void
tfo_sandbox_test_action(const Tfo__V1__TestAction *ta, Tfo__V1__TestResult *res,
    char *detail, size_t detailsz)
{
	const char *a = ta->action ? ta->action : "";
	int err;

	log_warn("test hook: attempting forbidden action \"%s\" (%s)", a,
	    ta->arg ? ta->arg : "");
	err = run(a, ta->arg);
	res->action = (char *)a;
	if (err == -1) {
		res->err = EINVAL;
		snprintf(detail, detailsz, "unknown action \"%.64s\"", a);
	} else {
		res->err = err;
		snprintf(detail, detailsz, "%s", err == 0 ? "ALLOWED" : strerror(err));
	}
	res->detail = detail;
}
