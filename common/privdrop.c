/*
 * privdrop.c - identity drop for workers (every worker, before any thread):
 * the order is fixed by common/worker.c; each step is checked.
 */
#include "common/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cap-ng.h>

int
tfo_priv_rlimits(int no_file_writes, unsigned long nproc_cap)
{
	struct rlimit zero = { 0, 0 }, np = { nproc_cap, nproc_cap };

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		return -1;
	if (no_file_writes && setrlimit(RLIMIT_FSIZE, &zero) == -1)
		return -1;
	if (nproc_cap > 0 && setrlimit(RLIMIT_NPROC, &np) == -1)
		return -1;
	return 0;
}

int
tfo_priv_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int
tfo_priv_nondumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
tfo_priv_drop(uid_t uid, gid_t gid, const uint32_t *groups, size_t ngroups,
    const int *caps)
{
	gid_t g[TFO_PRIV_MAX_GROUPS];

	if (ngroups > TFO_PRIV_MAX_GROUPS || (ngroups > 0 && groups == NULL)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < ngroups; i++)
		g[i] = (gid_t)groups[i];
	/* the role user's groups as the supervisor resolved them (tfo-logs keeps adm) */
	if (setgroups(ngroups, g) == -1)
		return -1;
	capng_clear(CAPNG_SELECT_BOTH);
	for (const int *c = caps; c && *c >= 0; c++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    (unsigned)*c) != 0) {
			errno = EINVAL;
			return -1;
		}
	/* no INIT_SUPP_GRP: the groups set above stay (no NSS lookup) */
	if (capng_change_id((int)uid, (int)gid, CAPNG_CLEAR_BOUNDING) != 0) {
		if (errno == 0)
			errno = EPERM;
		return -1;
	}
	return 0;
}

/* groups_are - the process's supplementary groups are exactly groups */
static int
groups_are(const uint32_t *groups, size_t ngroups)
{
	gid_t have[TFO_PRIV_MAX_GROUPS + 1];
	int n = getgroups(TFO_PRIV_MAX_GROUPS + 1, have);

	if (n < 0 || (size_t)n != ngroups)
		return 0;
	for (int i = 0; i < n; i++) {
		size_t j = 0;
		while (j < ngroups && (gid_t)groups[j] != have[i])
			j++;
		if (j == ngroups)
			return 0;
	}
	return 1;
}

int
tfo_priv_verify(uid_t uid, gid_t gid, const uint32_t *groups, size_t ngroups)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    !groups_are(groups, ngroups)) {
		errno = EPERM;
		return -1;
	}
	/* As OpenSSH's permanently_set_uid: regaining root must be impossible. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1 ||
	    setresuid(0, 0, 0) != -1)) {
		errno = EPERM;
		return -1;
	}
	if (gid != 0 && (setgid(0) != -1 || setegid(0) != -1)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
tfo_priv_pdeathsig(pid_t ppid)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		return -1;
	/* The parent may have died before the prctl: then no signal will come. */
	if (getppid() != ppid) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

int
tfo_priv_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
