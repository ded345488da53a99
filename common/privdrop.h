/*
 * privdrop.h - the identity drop of a worker (every worker, still root and
 * single-threaded): rlimits, uid/gid change keeping only the role's
 * capabilities (libcap-ng), proof it cannot be undone, parent-death signal,
 * no_new_privs. Each step returns 0 or -1 with errno set; the caller logs.
 */
#ifndef TFO_PRIVDROP_H
#define TFO_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * tfo_priv_rlimits - RLIMIT_CORE 0 (no core files holding secrets); with
 * no_file_writes also RLIMIT_FSIZE 0 (a role that never writes a file);
 * nproc_cap > 0 caps RLIMIT_NPROC (never 0: every role runs threads, and
 * threads count against the user's RLIMIT_NPROC).
 */
int tfo_priv_rlimits(int no_file_writes, unsigned long nproc_cap);
/* tfo_priv_raise_nofile - the soft RLIMIT_NOFILE up to the hard one (roles
 * that keep many files open: tfo-process, tfo-logs) */
int tfo_priv_raise_nofile(void);
/* tfo_priv_nondumpable - PR_SET_DUMPABLE 0 (no ptrace, no core, /proc/<pid>
 * owned by root), checked */
int tfo_priv_nondumpable(void);
/* supplementary groups a role user may have (the supervisor resolves them) */
#define TFO_PRIV_MAX_GROUPS 64

/*
 * tfo_priv_drop - setgroups(groups), setresgid/setresuid to uid:gid, keep
 * only `caps` (-1 terminated). The supplementary groups are the list the
 * supervisor resolved for the role user (getgrouplist): an initgroups here
 * would load the NSS modules of nsswitch.conf into every worker for good
 * (libnss_systemd, libcap, libm, their heap: ~100 KiB each). ngroups at
 * most TFO_PRIV_MAX_GROUPS, else -1 (EINVAL).
 */
int tfo_priv_drop(uid_t uid, gid_t gid, const uint32_t *groups, size_t ngroups,
    const int *caps);
/* tfo_priv_verify - 0 when uid/gid are exactly uid:gid, the supplementary
 * groups exactly groups (any order), and setuid(0), setgid(0) and setresuid
 * back to root all fail */
int tfo_priv_verify(uid_t uid, gid_t gid, const uint32_t *groups, size_t ngroups);
/* tfo_priv_pdeathsig - SIGTERM when the parent dies; -1 if `ppid` already died */
int tfo_priv_pdeathsig(pid_t ppid);
/* tfo_priv_no_new_privs - PR_SET_NO_NEW_PRIVS, checked */
int tfo_priv_no_new_privs(void);

#endif
