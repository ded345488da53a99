/*
 * sandbox.h - Landlock + seccomp for workers (every worker, through the
 * skeleton, after the identity drop and no_new_privs). The per-role
 * allowlists live in sandbox_profiles.c; docs/security.md explains them.
 */
#ifndef TFO_SANDBOX_H
#define TFO_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_SANDBOX_MAX_RULES 64

/* ------------------------------------------------------------------ rules */

/* What a role declared in pre_init (tfo_worker_landlock_*): paths it reads
 * (or reads and writes) and the TCP ports it connects to. */
struct tfo_sandbox_path {
	char *path;
	int rw;          /* 0 read, 1 read-write, TFO_SANDBOX_SOCKDIR */
};

/* read, make unix sockets, remove files: a directory a role only listens in */
#define TFO_SANDBOX_SOCKDIR 2

struct tfo_sandbox_rules {
	struct tfo_sandbox_path paths[TFO_SANDBOX_MAX_RULES];
	size_t npaths;
	uint16_t ports[TFO_SANDBOX_MAX_RULES];
	size_t nports;
	int child;                      /* > 0: the one child process the worker may
	                                 * reap (wait4): tfo-process's helper */
};

/* tfo_sandbox_rules_add_path / _port - TFO_ERANGE when full, TFO_ENOMEM */
enum tfo_err tfo_sandbox_rules_add_path(struct tfo_sandbox_rules *r, const char *path, int rw);
enum tfo_err tfo_sandbox_rules_add_port(struct tfo_sandbox_rules *r, uint16_t port);
void tfo_sandbox_rules_fini(struct tfo_sandbox_rules *r);

/* ------------------------------------------------------------------ profiles */

/* Features a role adds to the shared base allowlist (sandbox_profiles.c). */
enum {
	TFO_SB_INET = 1 << 0,        /* AF_INET/AF_INET6 sockets (TCP via Landlock ports) */
	TFO_SB_NETLINK = 1 << 1,     /* AF_NETLINK/NETLINK_ROUTE: getifaddrs, getaddrinfo */
	TFO_SB_LISTEN = 1 << 2,      /* bind/listen/accept on its ipc sockets */
	TFO_SB_FS_WRITE = 1 << 3,    /* create/rename/unlink/fsync files (the store) */
	TFO_SB_INOTIFY = 1 << 4,
	TFO_SB_STATFS = 1 << 5,
};

struct tfo_sandbox_profile {
	const char *role;
	unsigned features;           /* TFO_SB_* */
	const char *const *extra;    /* more syscall names, NULL-terminated (or NULL) */
	int writes_files;            /* 0: RLIMIT_FSIZE 0 (when stderr is no file) */
	int open_rdonly;             /* open/openat only read-only (no write access mode,
	                              * O_CREAT, O_TRUNC, O_APPEND): a fence against
	                              * writes that holds without Landlock too */
	int bare;                    /* no base allowlist: only `extra` and the pinned
	                              * rules of tfo_seccomp_apply_pinned (tfo-procpriv) */
};

/* tfo_sandbox_profile - the profile of `role`; NULL for an unknown role (test
 * builds: "testworker" gets the bare base profile) */
const struct tfo_sandbox_profile *tfo_sandbox_profile(const char *role);
/* tfo_sandbox_base_syscalls - NULL-terminated names every worker may call
 * without argument checks (argument-checked calls are in sandbox_seccomp.c) */
const char *const *tfo_sandbox_base_syscalls(void);
const char *const *tfo_sandbox_feature_syscalls(unsigned feature);

/* ------------------------------------------------------------------ apply */

enum tfo_seccomp_mode { TFO_SECCOMP_KILL, TFO_SECCOMP_LOG, TFO_SECCOMP_OFF };

/* tfo_seccomp_mode_parse - "kill" (also ""), "log", "off"; -1 otherwise */
int tfo_seccomp_mode_parse(const char *s, enum tfo_seccomp_mode *m);

/* tfo_landlock_abi - the kernel's Landlock ABI version, or -1 with errno
 * (ENOSYS: not built in, EOPNOTSUPP: disabled at boot) */
int tfo_landlock_abi(void);

/*
 * tfo_landlock_apply - restrict the calling thread (and its future threads)
 * to `r`: read-only / read-write paths, TCP connect to the ports (ABI >= 4),
 * no signals or abstract sockets outside the domain (ABI >= 6). `report`
 * receives what was applied ("abi 7: fs net scope", "unsupported by kernel").
 * A kernel without Landlock is not an error (TFO_OK, reported); a rule or
 * restrict_self that fails is (TFO_EIO, errno set, `report` says which).
 */
enum tfo_err tfo_landlock_apply(const struct tfo_sandbox_rules *r, char *report, size_t reportsz);

/* tfo_seccomp_apply - load the allowlist of profile `p` in mode `m` (all
 * threads, TSYNC). TFO_EINVAL: a rule could not be built; TFO_EIO: load failed. */
enum tfo_err tfo_seccomp_apply(const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m);
/* tfo_seccomp_apply_child - the same, and wait4 of process `child` (> 0) */
enum tfo_err tfo_seccomp_apply_child(const struct tfo_sandbox_profile *p,
    enum tfo_seccomp_mode m, int child);

/*
 * tfo-procpriv's fence (tfo_seccomp_apply_pinned): a profile with `bare`
 * set, plus openat of a directory under any name (flags exactly dir_flags:
 * a directory yields no content), and by name only the three strings at
 * these addresses (read-only data of the helper's executable, compared by
 * address, not content): openat of `file` (flags exactly file_flags),
 * readlinkat of `link`, newfstatat of `stat` (AT_SYMLINK_NOFOLLOW). write
 * only to stderr and chan_fd; getdents64 only with list_dirs.
 */
struct tfo_sandbox_pins {
	const char *file, *link, *stat;
	unsigned long dir_flags, file_flags;
	int chan_fd;
	int list_dirs;
};

/* tfo_seccomp_apply_pinned - load profile p (bare) with the pins in mode m */
enum tfo_err tfo_seccomp_apply_pinned(const struct tfo_sandbox_profile *p,
    enum tfo_seccomp_mode m, const struct tfo_sandbox_pins *pins);

/*
 * tfo_sandbox_apply - Landlock then seccomp for `role` (called once by the
 * skeleton, single-threaded, after no_new_privs). Refuses to run with more
 * than one thread (Landlock restricts only the caller). `landlock` receives
 * the report sent in Ready. Returns TFO_OK or an error (fatal for the
 * worker; *what says which step failed).
 */
enum tfo_err tfo_sandbox_apply(const char *role, const Tfo__V1__WorkerConfig *cfg,
    const struct tfo_sandbox_rules *r, char *landlock, size_t landlocksz, const char **what);

#ifdef TFO_TEST_HOOKS
/*
 * tfo_sandbox_test_run - test builds only: attempt forbidden action `action`
 * (sandbox_testaction.c has the list; arg: a pid, port or path where one is
 * needed) in this sandboxed process. Its errno, 0 when it SUCCEEDED, -1 for
 * an unknown action; an action the sandbox kills does not return.
 */
int tfo_sandbox_test_run(const char *action, const char *arg);
/*
 * tfo_sandbox_test_forward - actions named "<prefix><action>" are handed to
 * fn instead (tfo-process: "procpriv." to its helper). fn returns like
 * tfo_sandbox_test_run, or -signal when the helper died of it, and may fill
 * detail.
 */
void tfo_sandbox_test_forward(const char *prefix,
    int (*fn)(void *arg, const char *action, const char *aarg, char *detail, size_t detailsz),
    void *arg);
/*
 * tfo_sandbox_test_action - the worker's answer to a TestAction from the
 * supervisor: fill `res` (err = errno of the attempt, 0 when it SUCCEEDED,
 * negative when a forwarded helper died). `detail` is a buffer for res->detail.
 */
void tfo_sandbox_test_action(const Tfo__V1__TestAction *ta, Tfo__V1__TestResult *res,
    char *detail, size_t detailsz);
#endif

#endif
