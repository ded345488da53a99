/*
 * sandbox_profiles.c - the seccomp allowlists (every worker): one shared base
 * (glibc, libevent, nng, protobuf-c, threads, the ASan runtime) plus per-role
 * features. Calls that need their arguments checked (mmap, mprotect, clone,
 * socket, ioctl, prctl, kill...) are not here: see sandbox_seccomp.c.
 * Names unknown on an architecture are skipped when the filter is built.
 */
#include <string.h>

#include "common/sandbox.h"

static const char *const base[] = {
	/* files through descriptors (which files: Landlock decides; open and
	 * openat are in sandbox_seccomp.c, read-only for some roles) */
	"read", "write", "readv", "writev", "pread64", "preadv", "preadv2", "close",
	"close_range", "lseek", "fstat", "newfstatat", "stat", "lstat", "statx",
	"getdents64", "readlink", "readlinkat", "access",
	"faccessat", "faccessat2", "fcntl", "dup", "dup2", "dup3", "fstatfs",
	"fadvise64", "getcwd",
	/* memory (mmap and mprotect are argument-checked) */
	"brk", "munmap", "mremap", "madvise", "mincore",
	/* event loops */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "select", "pselect6", "eventfd2", "pipe",
	"pipe2",
	/* time */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep",
	/* signals (kill and tgkill: own process only, sandbox_seccomp.c) */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"sigaltstack", "restart_syscall", "pause",
	/* identity, read-only */
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "uname", "getrandom", "getrusage",
	"getrlimit", "sysinfo", "sched_getaffinity", "sched_yield", "getpriority",
	/* threads (clone is argument-checked) */
	"futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
	"membarrier", "exit", "exit_group",
	/* sockets: the family is checked at socket()/socketpair() */
	"connect", "getsockopt", "setsockopt", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown",
	NULL,
};

/* the buffer's store: LevelDB files in the state dir */
static const char *const fs_write[] = {
	"pwrite64", "pwritev", "pwritev2", "mkdir", "mkdirat", "rmdir", "rename",
	"renameat", "renameat2", "unlink", "unlinkat", "fsync", "fdatasync",
	"ftruncate", "fallocate", "flock", "sync_file_range",
	NULL,
};

/* ipc listeners: nng binds the socket file and sets its mode */
static const char *const listen_calls[] = {
	"bind", "listen", "accept", "accept4", "chmod", "fchmod", "fchmodat",
	"unlink", "unlinkat",
	NULL,
};

/* network clients: netlink sockets are bound (getifaddrs, getaddrinfo) */
static const char *const net_calls[] = { "bind", NULL };
static const char *const inotify_calls[] = {
	"inotify_init1", "inotify_add_watch", "inotify_rm_watch", NULL,
};
static const char *const statfs_calls[] = { "statfs", NULL };

/*
 * The roles (DESIGN §1, docs/security.md). Only the buffer writes files;
 * the others get RLIMIT_FSIZE 0 as well as a Landlock domain without
 * write rights.
 *
 * The process role lives under Landlock like the system role: the reads
 * Landlock would deny it (exe, io and fd/ of processes outside its domain,
 * ptrace-mode checks) are asked of its helper tfo-procpriv, which has no
 * Landlock domain and a bare, pinned profile of its own (below). Its opens
 * stay read-only in seccomp too, for kernels without Landlock.
 */

/*
 * tfo-procpriv, tfo-process's privileged /proc reader: no base list. It
 * reads its channel and the files it opened, closes them, and exits; what it
 * may open, read by name and write is pinned by tfo_seccomp_apply_pinned
 * (sandbox_seccomp.c). No socket call at all: its one socket is the
 * socketpair it was started with, used with read/write (no fd passing).
 */
static const char *const procpriv_calls[] = {
	"read", "pread64", "close", "brk", "exit", "exit_group", "rt_sigreturn",
	"rt_sigprocmask", "restart_syscall", "clock_gettime", "gettimeofday",
	"getpid", "gettid", "futex",
	NULL,
};

static const struct tfo_sandbox_profile profiles[] = {
	{ .role = "system", .features = TFO_SB_STATFS },
	{ .role = "process", .open_rdonly = 1 },
	{ .role = "logs", .features = TFO_SB_INOTIFY },
	{ .role = "buffer", .features = TFO_SB_FS_WRITE | TFO_SB_LISTEN | TFO_SB_STATFS,
	  .writes_files = 1 },
	/* the one role with network egress; it listens on heartbeat.ipc for
	 * the beats it sends for tfo-heartbeat */
	{ .role = "exporter", .features = TFO_SB_INET | TFO_SB_NETLINK | TFO_SB_LISTEN },
	/* no AF_INET/AF_INET6: netlink only, for getifaddrs (interface addresses) */
	{ .role = "heartbeat", .features = TFO_SB_NETLINK | TFO_SB_STATFS },
	{ .role = "procpriv", .bare = 1, .extra = procpriv_calls },
#ifdef TFO_TEST_HOOKS
	{ .role = "testworker" },
#endif
};

const struct tfo_sandbox_profile *
tfo_sandbox_profile(const char *role)
{
	for (size_t i = 0; role != NULL && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].role, role) == 0)
			return &profiles[i];
	return NULL;
}

const char *const *
tfo_sandbox_base_syscalls(void)
{
	return base;
}

const char *const *
tfo_sandbox_feature_syscalls(unsigned feature)
{
	switch (feature) {
	case TFO_SB_INET:
	case TFO_SB_NETLINK:
		return net_calls;
	case TFO_SB_LISTEN:
		return listen_calls;
	case TFO_SB_FS_WRITE:
		return fs_write;
	case TFO_SB_INOTIFY:
		return inotify_calls;
	case TFO_SB_STATFS:
		return statfs_calls;
	default:
		return NULL;
	}
}
