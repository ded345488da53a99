/*
 * sandbox_testaction.c - TEST BUILDS ONLY (TFO_TEST_HOOKS; not compiled
 * otherwise): a sandboxed worker (or tfo-procpriv, relayed by tfo-process)
 * attempts one forbidden action on request and says what happened, for
 * tests/sandbox/. An action the sandbox kills never returns: the supervisor
 * (or tfo-process, for its helper) reports the SIGSYS death instead.
 */
#include "common/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

/* sys_result - errno of a call that returned rv (0 = it worked; a
 * returned fd is closed) */
static int
sys_result(long rv)
{
	if (rv < 0)
		return errno;
	if (rv > 2)
		close((int)rv);
	return 0;
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

/* ------------------------------------------------------------- the actions */

static int
a_open_shadow(const char *arg)
{
	(void)arg;
	return try_open("/etc/shadow", O_RDONLY, 0);
}

/* through the magic link of pid 1's root: every file of another mount namespace */
static int
a_open_root_shadow(const char *arg)
{
	(void)arg;
	return try_open("/proc/1/root/etc/shadow", O_RDONLY, 0);
}

/* through /proc/self/fd/N of a directory outside the role's set (an O_PATH
 * open is never refused by Landlock: the open through it must be) */
static int
a_open_fd_dir(const char *arg)
{
	char path[64];
	int d = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), err;

	(void)arg;
	if (d == -1)
		return errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/etc/shadow", d);
	err = try_open(path, O_RDONLY, 0);
	close(d);
	return err;
}

/* another role's state file: arg = its path */
static int
a_open_state(const char *arg)
{
	return arg == NULL || arg[0] != '/' ? EINVAL : try_open(arg, O_RDONLY, 0);
}

static int
a_write_tmp(const char *arg)
{
	char path[64];

	(void)arg;
	snprintf(path, sizeof(path), "/tmp/tfo-sandbox-%d", (int)getpid());
	return try_open(path, O_WRONLY | O_CREAT | O_EXCL, 1);
}

static int
a_write_state(const char *arg)
{
	char path[PATH_MAX];

	if (arg == NULL || arg[0] != '/' ||
	    (size_t)snprintf(path, sizeof(path), "%s/tfo-sandbox-%d", arg, (int)getpid()) >=
	    sizeof(path))
		return EINVAL;
	return try_open(path, O_WRONLY | O_CREAT | O_EXCL, 1);
}

static int
a_exec(const char *arg)
{
	char *const argv[] = { "sh", "-c", "exit 0", NULL };
	char *const envp[] = { NULL };

	(void)arg;
	execve("/bin/sh", argv, envp);
	return errno;
}

/* a TCP connect to 127.0.0.1:arg (configured or not: the test says which) */
static int
a_connect(const char *arg)
{
	long port = arg_long(arg, 65535);

	return port == -1 ? EINVAL : try_connect(port);
}

static int
a_socket_inet(const char *arg)
{
	(void)arg;
	return sys_result(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int
a_socket_inet6(const char *arg)
{
	(void)arg;
	return sys_result(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int
a_netlink_route(const char *arg)
{
	(void)arg;
	return sys_result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
}

/* sock_diag lists every socket of the host with its owner: no role needs it */
static int
a_netlink_diag(const char *arg)
{
	(void)arg;
	return sys_result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
}

static int
a_ptrace(const char *arg)
{
	long pid = arg_long(arg, INT_MAX);

	if (pid == -1)
		return EINVAL;
	if (ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) == -1)
		return errno;
	(void)ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
	return 0;
}

/* vm_rw - process_vm_readv / writev of one byte at the target's stack end
 * (any address: the permission check comes first) */
static int
vm_rw(const char *arg, int write)
{
	long pid = arg_long(arg, INT_MAX);
	char byte = 0;
	struct iovec local = { &byte, 1 }, remote = { (void *)0x1000, 1 };
	ssize_t n;

	if (pid == -1)
		return EINVAL;
	n = write ? process_vm_writev((pid_t)pid, &local, 1, &remote, 1, 0) :
	    process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
	/* EFAULT: the kernel let us at the target's memory, only the address was bad */
	return n < 0 && errno != EFAULT ? errno : 0;
}

static int
a_vm_readv(const char *arg)
{
	return vm_rw(arg, 0);
}

static int
a_vm_writev(const char *arg)
{
	return vm_rw(arg, 1);
}

/* signal 0: the permission check without a signal */
static int
a_kill(const char *arg)
{
	long pid = arg_long(arg, INT_MAX);

	if (pid == -1)
		return EINVAL;
	return kill((pid_t)pid, 0) == -1 ? errno : 0;
}

static int
a_setuid(const char *arg)
{
	(void)arg;
	return syscall(SYS_setuid, 0) == -1 ? errno : 0;
}

static int
a_mount(const char *arg)
{
	(void)arg;
	return mount("none", "/tmp", "tmpfs", 0, NULL) == -1 ? errno : 0;
}

/* a user namespace: the way to regain every capability inside it */
static int
a_unshare(const char *arg)
{
	(void)arg;
	return unshare(CLONE_NEWUSER) == -1 ? errno : 0;
}

static int
a_setns(const char *arg)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), err;

	(void)arg;
	/* when even the open is refused, fd 0: an allowed setns would say EINVAL */
	err = setns(fd >= 0 ? fd : 0, CLONE_NEWNET) == -1 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

static int
a_bpf(const char *arg)
{
	union bpf_attr attr;

	(void)arg;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return sys_result(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

static int
a_io_uring(const char *arg)
{
	struct io_uring_params p;

	(void)arg;
	memset(&p, 0, sizeof(p));
	return sys_result(syscall(SYS_io_uring_setup, 4, &p));
}

static int
a_userfaultfd(const char *arg)
{
	(void)arg;
	return sys_result(syscall(SYS_userfaultfd, O_CLOEXEC));
}

static int
a_perf_event(const char *arg)
{
	struct perf_event_attr pa;

	(void)arg;
	memset(&pa, 0, sizeof(pa));
	pa.size = sizeof(pa);
	pa.type = PERF_TYPE_SOFTWARE;
	pa.config = PERF_COUNT_SW_TASK_CLOCK;
	pa.exclude_kernel = 1;
	return sys_result(syscall(SYS_perf_event_open, &pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

static int
a_keyctl(const char *arg)
{
	(void)arg;
	return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) == -1 ?
	    errno : 0;
}

static int
a_add_key(const char *arg)
{
	(void)arg;
	return syscall(SYS_add_key, "user", "tfo-sandbox", "x", (size_t)1,
	    KEY_SPEC_PROCESS_KEYRING) == -1 ? errno : 0;
}

static int
a_self_mem_write(const char *arg)
{
	(void)arg;
	return try_open("/proc/self/mem", O_RDWR, 0);
}

/* another process's memory, read-only: arg = its pid */
static int
a_proc_mem(const char *arg)
{
	char path[64];
	long pid = arg_long(arg, INT_MAX);

	if (pid == -1)
		return EINVAL;
	snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
	return try_open(path, O_RDONLY, 0);
}

static const struct {
	const char *name;
	int (*fn)(const char *arg);
} actions[] = {
	{ "open_shadow", a_open_shadow },
	{ "open_root_shadow", a_open_root_shadow },
	{ "open_fd_dir", a_open_fd_dir },
	{ "open_state", a_open_state },
	{ "write_tmp", a_write_tmp },
	{ "write_state", a_write_state },
	{ "self_mem_write", a_self_mem_write },
	{ "proc_mem", a_proc_mem },
	{ "exec", a_exec },
	{ "connect", a_connect },
	{ "socket_inet", a_socket_inet },
	{ "socket_inet6", a_socket_inet6 },
	{ "netlink_route", a_netlink_route },
	{ "netlink_diag", a_netlink_diag },
	{ "ptrace", a_ptrace },
	{ "vm_readv", a_vm_readv },
	{ "vm_writev", a_vm_writev },
	{ "kill", a_kill },
	{ "setuid", a_setuid },
	{ "mount", a_mount },
	{ "unshare", a_unshare },
	{ "setns", a_setns },
	{ "bpf", a_bpf },
	{ "io_uring", a_io_uring },
	{ "userfaultfd", a_userfaultfd },
	{ "perf_event", a_perf_event },
	{ "keyctl", a_keyctl },
	{ "add_key", a_add_key },
};

int
tfo_sandbox_test_run(const char *action, const char *arg)
{
	for (size_t i = 0; action != NULL && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(action, actions[i].name) == 0)
			return actions[i].fn(arg);
	return -1;
}

/* ------------------------------------------------------------- the relay */

static struct {
	const char *prefix;
	int (*fn)(void *, const char *, const char *, char *, size_t);
	void *arg;
} fwd;

void
tfo_sandbox_test_forward(const char *prefix,
    int (*fn)(void *arg, const char *action, const char *aarg, char *detail, size_t detailsz),
    void *arg)
{
	fwd.prefix = prefix;
	fwd.fn = fn;
	fwd.arg = arg;
}

void
tfo_sandbox_test_action(const Tfo__V1__TestAction *ta, Tfo__V1__TestResult *res,
    char *detail, size_t detailsz)
{
	const char *a = ta->action ? ta->action : "";
	size_t pl = fwd.prefix != NULL ? strlen(fwd.prefix) : 0;
	int err;

	log_warn("test hook: attempting forbidden action \"%s\" (%s)", a,
	    ta->arg ? ta->arg : "");
	res->action = (char *)a;
	detail[0] = '\0';
	if (pl > 0 && strncmp(a, fwd.prefix, pl) == 0)
		err = fwd.fn(fwd.arg, a + pl, ta->arg ? ta->arg : "", detail, detailsz);
	else
		err = tfo_sandbox_test_run(a, ta->arg);
	if (err == -1) {
		res->err = EINVAL;
		snprintf(detail, detailsz, "unknown action \"%.64s\"", a);
	} else {
		res->err = err;
		if (detail[0] == '\0')
			snprintf(detail, detailsz, "%s", err == 0 ? "ALLOWED" :
			    err < 0 ? "died" : strerror(err));
	}
	res->detail = detail;
}
