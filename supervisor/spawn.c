/*
 * spawn.c - tfo-supervisor: find each role's executable, resolve its user, and
 * fork+exec it with the control socket on fd 3 (DESIGN §1: only
 * async-signal-safe calls between fork and exec, empty environment).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/safepath.h"
#include "common/selfdir.h"
#include "common/worker.h"
#include "supervisor/spawn.h"

#define ENV_MAX 6
static char *child_env[ENV_MAX + 1];

#ifdef TFO_TEST_HOOKS
/* test_override - TFO_WORKER_<ROLE>=path or TFO_WORKER_DIR (test builds only) */
static int
test_override(const char *role, char *out, size_t outsz)
{
	char var[64];
	const char *v;
	size_t i;

	snprintf(var, sizeof(var), "TFO_WORKER_%s", role);
	for (i = strlen("TFO_WORKER_"); var[i]; i++)
		var[i] = (char)toupper((unsigned char)var[i]);
	if ((v = getenv(var)) != NULL && *v)
		return snprintf(out, outsz, "%s", v) < (int)outsz ? 0 : -1;
	if ((v = getenv("TFO_WORKER_DIR")) != NULL && *v)
		return snprintf(out, outsz, "%s/tfo-%s", v, role) < (int)outsz ? 0 : -1;
	return -1;
}
#endif

const char *
sv_worker_dir_pick(const char *self_dir, const char *build_dir, const char *libexec)
{
	return self_dir != NULL && build_dir != NULL && strcmp(self_dir, build_dir) == 0 ?
	    build_dir : libexec;
}

int
sv_worker_path(const char *role, char *out, size_t outsz)
{
	char self[PATH_MAX], build[PATH_MAX];
	const char *dir;

#ifdef TFO_TEST_HOOKS
	if (test_override(role, out, outsz) == 0)
		return 0;
#endif
	dir = sv_worker_dir_pick(tfo_self_dir(self, sizeof(self)) == 0 ? self : NULL,
	    realpath(TFO_BUILD_BINDIR, build) ? build : NULL, TFO_INSTALL_LIBEXECDIR);
	if ((size_t)snprintf(out, outsz, "%s/tfo-%s", dir, role) >= outsz)
		return -1;
	return access(out, X_OK) == 0 ? 0 : -1;
}

int
sv_worker_trusted(const char *path, char *err, size_t errsz)
{
	struct tfo_safe_opts o = { .self = geteuid() };
	char abs[PATH_MAX], cwd[PATH_MAX];
	struct stat st;
	int fd;

	/* test builds may name a worker relative to where they run */
	if (path[0] != '/' && (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs))) {
		snprintf(err, errsz, "%s: cannot make the path absolute", path);
		return -1;
	}
	if ((fd = tfo_safe_open_file(path[0] == '/' ? path : abs, &o, O_RDONLY, err, errsz)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !(st.st_mode & S_IXUSR)) {
		snprintf(err, errsz, "%s is not executable", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
sv_identity(const char *user, const char *group, int root, struct sv_identity *id)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	id->ngroups = 0;
	if (!root) {
		id->uid = getuid();
		id->gid = getgid();
		if (getpwuid_r(id->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
			snprintf(id->user, sizeof(id->user), "%s", pwp->pw_name);
		else
			snprintf(id->user, sizeof(id->user), "%u", (unsigned)id->uid);
		return 0;
	}
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return -1;
	id->uid = pwp->pw_uid;
	id->gid = pwp->pw_gid;
	snprintf(id->user, sizeof(id->user), "%s", user);
	if (id->uid == 0)
		return -1;
	if (group && *group && getgrnam_r(group, &gr, buf, sizeof(buf), &grp) == 0 && grp)
		id->gid = grp->gr_gid;
	/* the worker's initgroups, done here: NSS stays out of the workers */
	id->ngroups = TFO_PRIV_MAX_GROUPS;
	if (getgrouplist(user, id->gid, id->groups, &id->ngroups) < 0)
		return -1;
	return 0;
}

static char env_store[ENV_MAX][1024];

/* env_add - one NAME=value for the worker (never a secret) */
static void
env_add(size_t *n, const char *name, const char *value, const char *extra)
{
	if (*n >= ENV_MAX)
		return;
	snprintf(env_store[*n], sizeof(env_store[*n]), "%s=%s%s%s", name,
	    value ? value : "", value && *value && extra ? ":" : "", extra ? extra : "");
	child_env[*n] = env_store[*n];
	(*n)++;
}

void
sv_spawn_env_init(void)
{
	size_t n = 0;

	/* Workers get no environment but the one below: no secrets, nothing
	 * inherited. Sanitizer builds pass their options on; leak checks stay in unit tests, since a
	 * worker that changed uid is not dumpable and LSan cannot ptrace it. */
#ifdef TFO_SANITIZE
	env_add(&n, "ASAN_OPTIONS", getenv("ASAN_OPTIONS"), "detect_leaks=0");
	if (getenv("UBSAN_OPTIONS"))
		env_add(&n, "UBSAN_OPTIONS", getenv("UBSAN_OPTIONS"), NULL);
#endif
	/* libcurl links GnuTLS in through librtmp and libldap, whose constructor
	 * initialises it (and p11-kit) at load: ~0.8 MiB of pages in tfo-exporter
	 * for a library never used (curl speaks TLS through OpenSSL, and only
	 * http and https). Read by GnuTLS only. */
	env_add(&n, "GNUTLS_NO_IMPLICIT_INIT", "1", NULL);
	/*
	 * Every library's symbols bound at exec, not at each function's first
	 * call: a lazy binding looks the name up in the symbol tables of the
	 * executable and of each library before it, so one made after the
	 * start-up trim (common/pagetrim.c; a cycle's first call of a libc
	 * function from libnng) maps their first pages again, 16-64 KiB with
	 * fault-around, in the executable alone 16 KiB of each worker's PSS
	 * (issue 18 §2). The executables are linked -z now too (full RELRO);
	 * Debian's libnng, libleveldb and libstdc++ are not.
	 */
	env_add(&n, "LD_BIND_NOW", "1", NULL);
	/*
	 * No per-thread cache of freed blocks in glibc's malloc: malloc_trim
	 * (common/memtrim.c) gives back the pages of free chunks, but blocks
	 * held in the cache are not free to it, and each pins the page it is on
	 * and keeps its neighbours from coalescing. Start-up frees hundreds of
	 * small blocks (config decode, the seccomp filter build): an idle
	 * worker kept 10-40 KiB more heap resident (issue 18 §2). The workers
	 * allocate a few thousand blocks a second at most, from one arena
	 * (tune_malloc), where the cache saved a lock each.
	 */
	env_add(&n, "GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", NULL);
	child_env[n] = NULL;
}

/*
 * spawn_slot - a role's place in the round robin over the CPUs. At full
 * speed the log pipeline's stages weigh about 45 % (tfo-logs), 25 % (the
 * buffer) and 25 % (the exporter) of its CPU (bench_logs_e2e): tfo-logs gets
 * a CPU of its own where the set allows, and on two CPUs the buffer and the
 * exporter share the other. With logs and the exporter sharing one of two
 * CPUs the pipeline lost 17 % of its peak throughput, this way 12 %
 * (docs/testing.md).
 */
static unsigned
spawn_slot(enum tfo_role role, int ncpu)
{
	switch (role) {
	case TFO_ROLE_LOGS:
		return 0;
	case TFO_ROLE_BUFFER:
		return 1;
	case TFO_ROLE_EXPORTER:
		return ncpu == 2 ? 1 : 2;
	case TFO_ROLE_SYSTEM:
		return 3;
	case TFO_ROLE_PROCESS:
		return 4;
	default:
		return 5;
	}
}

/*
 * sv_spawn_cpu - why one CPU per worker: an idle worker's work is a chain of
 * hand-offs between its own threads (nng's poller and task threads, its
 * loop, a helper thread), a few hundred a minute across the tree. Threads
 * free to run anywhere are woken on the other CPU: an inter-processor
 * interrupt each, a VM exit on a virtual machine, and a TLB shoot-down at
 * every heap trim. Bound to one CPU the same chain costs about 8 % less of
 * the idle tree's CPU (docs/testing.md).
 */
int
sv_spawn_cpu(int pin, enum tfo_role role)
{
	cpu_set_t set;
	unsigned nth;
	int n, seen = 0;

	if (!pin || sched_getaffinity(0, sizeof(set), &set) == -1)
		return -1;
	if ((n = CPU_COUNT(&set)) < 2)
		return -1;
	nth = spawn_slot(role, n) % (unsigned)n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && (unsigned)seen++ == nth)
			return cpu;
	return -1;
}

/*
 * Why SCHED_BATCH (with pin_workers): a bound worker's threads share one CPU,
 * and each hand-off between them (nng's poller to its task threads, a task
 * thread to the role's loop, the loop's reply back to a task thread) woke a
 * thread that preempted the one waking it at once, which then ran again to
 * finish: two context switches where one would do, about 340 of the idle
 * tree's 890 runs a minute. A batch thread woken does not preempt; it runs
 * when the waker sleeps, which on an idle worker is microseconds later. Its
 * weight (nice) is the same: only that wake-up preemption differs. An
 * operator's own policy (systemd's CPUSchedulingPolicy=, chrt) is kept.
 */
pid_t
sv_spawn(const char *path, const char *argv0, int child_fd, int cpu, int batch)
{
	char *const argv[] = { (char *)argv0, NULL };
	struct sigaction dfl, ign;
	sigset_t all, none, saved;
	pid_t pid;
	int err;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	ign = dfl;
	ign.sa_handler = SIG_IGN;
	sigemptyset(&none);
	sigfillset(&all);

	/* Blocked across the fork: until the child has reset its dispositions a
	 * signal would run our libevent handler there, which writes to the
	 * socketpair this process's loop reads (a worker's SIGTERM taken for
	 * the supervisor's own). */
	(void)pthread_sigmask(SIG_SETMASK, &all, &saved);
	pid = fork();
	if (pid != 0) {
		err = errno;
		(void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
		errno = err;
		return pid;
	}
	/* Child: async-signal-safe calls only until execve. */
	if (child_fd == TFO_CONTROL_FD) {
		if (fcntl(TFO_CONTROL_FD, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(child_fd, TFO_CONTROL_FD) == -1)
		_exit(127);
	if (close_range(TFO_CONTROL_FD + 1, ~0U, 0) == -1) {
		for (int fd = TFO_CONTROL_FD + 1; fd < 1024; fd++)
			(void)close(fd);
	}
	(void)setsid();
	if (cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		/* a failure leaves the worker on the whole set: slower, not wrong */
		(void)sched_setaffinity(0, sizeof(one), &one);
	}
	if (batch && sched_getscheduler(0) == SCHED_OTHER) {
		struct sched_param sp = { .sched_priority = 0 };

		/* a failure leaves the worker as the supervisor runs: same */
		(void)sched_setscheduler(0, SCHED_BATCH, &sp);
	}
	/* Every disposition back to the default, except the stop signals: SIG_IGN
	 * survives execve, so a worker stopped while it starts is never killed by
	 * the SIGTERM that backs up our Shutdown (it reads that Shutdown once its
	 * loop runs; common/worker.c keeps them ignored outside the loop). */
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, s == SIGTERM || s == SIGINT ? &ign : &dfl, NULL);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, child_env);
	_exit(127);
}
