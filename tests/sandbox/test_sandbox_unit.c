/*
 * test_sandbox_unit.c - unit tests of the sandbox pieces (test process; each
 * restriction is applied in a forked child): the supervisor's audit-record
 * parser on hostile text, the seccomp mode and profiles, and Landlock and
 * seccomp actually denying in a child (the process role: read-only opens
 * and a Landlock domain like every role; tfo-procpriv's pinned filter: its
 * real operations pass, any other name or call does not).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/netlink.h>

#include "common/sandbox.h"
#include "supervisor/supervisor.h"
#include "workers/procpriv/ops.h"

#define EXE "/usr/libexec/tfo-agent/tfo-system"
#define SINCE 1795597697284LL      /* the stamp of REC, in ms */
#define RECX(stamp, pid, comm, exe, sig, sys) "5,339,1801882090,-;audit: type=1326 " \
	"audit(" stamp ":2): auid=4294967295 uid=997 gid=997 ses=4294967295 " \
	"pid=" pid " comm=" comm " exe=" exe " sig=" sig \
	" arch=c000003e syscall=" sys " compat=0 ip=0x7f1928dc54f7 code=0x80000000\n"
#define REC(pid, comm, sig, sys) RECX("1795597697.284", pid, comm, "\"" EXE "\"", sig, sys)

static int
parse_at(const char *rec, pid_t pid, const char *exe, int64_t since, long *nr)
{
	struct sv_audit_match m = { pid, exe, since };

	return sv_kmsg_seccomp_parse(rec, strlen(rec), &m, nr);
}

static int
parse(const char *rec, pid_t pid, long *nr)
{
	return parse_at(rec, pid, EXE, SINCE, nr);
}

static void
test_kmsg_parse(void **state)
{
	struct sv_audit_match m = { 1, EXE, 0 };
	long nr = -7;

	(void)state;
	assert_int_equal(parse(REC("4242", "\"tfo-system\"", "31", "59"), 4242, &nr), 0);
	assert_int_equal(nr, 59);
	/* another pid, a LOG record (sig=0), no syscall */
	assert_int_equal(parse(REC("4242", "\"tfo-system\"", "31", "59"), 424, &nr), -1);
	assert_int_equal(parse(REC("4242", "\"tfo-system\"", "0", "59"), 4242, &nr), -1);
	assert_int_equal(parse(REC("4242", "\"x\"", "31", ""), 4242, &nr), -1);
	assert_int_equal(parse(REC("4242", "\"x\"", "31", "5x"), 4242, &nr), -1);
	assert_int_equal(parse(REC("42a", "\"x\"", "31", "59"), 42, &nr), -1);
	assert_int_equal(parse(REC("4242", "\"x\"", "31", "99999999999999999999"), 4242, &nr), -1);
	/* a comm that tries to name another pid (audit would hex-encode it, but
	 * the pid is taken only from before comm=) */
	assert_int_equal(parse(REC("4242", "\"a pid=77 \"", "31", "1"), 77, &nr), -1);
	/* not audit, no ';', empty, truncated */
	assert_int_equal(parse("6,1,2,-;EXT4-fs (vda): mounted pid=1 sig=31 syscall=2", 1, &nr),
	    -1);
	assert_int_equal(parse("no separator pid=1 sig=31 syscall=2", 1, &nr), -1);
	assert_int_equal(parse("", 1, &nr), -1);
	assert_int_equal(sv_kmsg_seccomp_parse("5,1,2,-;audit: type=1326 pid=1", 27, &m, &nr),
	    -1);
	assert_int_equal(nr, 59);
}

/* A reused pid: only a record stamped since the spawn, naming the role's
 * executable, is this death's. */
static void
test_kmsg_parse_reuse(void **state)
{
	const char *rec = REC("4242", "\"tfo-system\"", "31", "59");
	long nr = -7;

	(void)state;
	/* same ms as the spawn (coarse clock), later, earlier */
	assert_int_equal(parse_at(rec, 4242, EXE, SINCE, &nr), 0);
	assert_int_equal(parse_at(rec, 4242, EXE, SINCE - 5000, &nr), 0);
	nr = -7;
	assert_int_equal(parse_at(rec, 4242, EXE, SINCE + 1, &nr), -1);
	assert_int_equal(parse_at(rec, 4242, EXE, SINCE + 86400000, &nr), -1);
	/* another executable with that pid, a prefix, a longer path */
	assert_int_equal(parse_at(rec, 4242, "/usr/libexec/tfo-agent/tfo-logs", 0, &nr), -1);
	assert_int_equal(parse_at(rec, 4242, "/usr/libexec/tfo-agent/tfo-sys", 0, &nr), -1);
	assert_int_equal(parse_at(rec, 4242, EXE "x", 0, &nr), -1);
	assert_int_equal(nr, -7);
	/* replaced since the spawn: audit hex-encodes "<path> (deleted)" */
	assert_int_equal(parse_at(RECX("1795597697.284", "4242", "\"tfo-system\"",
	    "2F612F74666F2D73797374656D202864656C6574656429", "31", "62"), 4242,
	    "/a/tfo-system", 0, &nr), 0);
	assert_int_equal(nr, 62);
	/* a path with a space, hex-encoded (lower case accepted too) */
	assert_int_equal(parse_at(RECX("1795597697.284", "4242", "\"tfo-system\"",
	    "2f6120622f74666f", "31", "63"), 4242, "/a b/tfo", 0, &nr), 0);
	assert_int_equal(nr, 63);
	/* odd hex, bad hex, unterminated quote, no exe */
	assert_int_equal(parse_at(RECX("1795597697.284", "4242", "\"t\"", "2F6", "31", "1"),
	    4242, "/", 0, &nr), -1);
	assert_int_equal(parse_at(RECX("1795597697.284", "4242", "\"t\"", "2G", "31", "1"),
	    4242, "/", 0, &nr), -1);
	assert_int_equal(parse_at("5,1,2,-;audit: type=1326 audit(1.000:1): pid=5 comm=\"t\" "
	    "exe=\"/x sig=31 syscall=1", 5, "/x", 0, &nr), -1);
	assert_int_equal(parse_at("5,1,2,-;audit: type=1326 audit(1.000:1): pid=5 comm=\"t\" "
	    "sig=31 syscall=1", 5, "/x", 0, &nr), -1);
	/* malformed stamps */
	assert_int_equal(parse_at(RECX("1795597697.28", "4242", "\"t\"", "\"" EXE "\"", "31",
	    "1"), 4242, EXE, 0, &nr), -1);
	assert_int_equal(parse_at(RECX("1795597697", "4242", "\"t\"", "\"" EXE "\"", "31",
	    "1"), 4242, EXE, 0, &nr), -1);
	assert_int_equal(parse_at(RECX(".284", "4242", "\"t\"", "\"" EXE "\"", "31", "1"),
	    4242, EXE, 0, &nr), -1);
	assert_int_equal(parse_at(RECX("99999999999999999999.284", "4242", "\"t\"",
	    "\"" EXE "\"", "31", "1"), 4242, EXE, 0, &nr), -1);
	assert_int_equal(parse_at("5,1,2,-;audit: type=1326 audit(17", 1, EXE, 0, &nr), -1);
	assert_int_equal(nr, 63);
}

static void
test_modes_and_profiles(void **state)
{
	static const char *const roles[] = { "system", "process", "logs", "buffer", "exporter",
		"heartbeat" };
	enum tfo_seccomp_mode m;

	(void)state;
	assert_int_equal(tfo_seccomp_mode_parse("kill", &m), 0);
	assert_int_equal(m, TFO_SECCOMP_KILL);
	assert_int_equal(tfo_seccomp_mode_parse("", &m), 0);
	assert_int_equal(m, TFO_SECCOMP_KILL);
	assert_int_equal(tfo_seccomp_mode_parse("log", &m), 0);
	assert_int_equal(m, TFO_SECCOMP_LOG);
	assert_int_equal(tfo_seccomp_mode_parse("off", &m), 0);
	assert_int_equal(m, TFO_SECCOMP_OFF);
	assert_int_equal(tfo_seccomp_mode_parse("trap", &m), -1);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const struct tfo_sandbox_profile *p = tfo_sandbox_profile(roles[i]);
		assert_non_null(p);
		/* only the buffer writes files; only the exporter talks TCP (it
		 * sends the heartbeat too) */
		assert_int_equal(p->writes_files, strcmp(roles[i], "buffer") == 0);
		assert_int_equal(!!(p->features & TFO_SB_INET), strcmp(roles[i], "exporter") == 0);
	}
	assert_null(tfo_sandbox_profile("nosuchrole"));
	assert_null(tfo_sandbox_profile(NULL));
}

/* The process role's seccomp profile keeps its write fence (read-only
 * opens) and no write-type or network feature; tfo-procpriv's profile is
 * bare (no base list) and is the only one. */
static void
test_process_profile(void **state)
{
	static const char *const roles[] = { "system", "process", "logs", "buffer", "exporter",
		"heartbeat" };
	const struct tfo_sandbox_profile *p = tfo_sandbox_profile("process");
	const struct tfo_sandbox_profile *h = tfo_sandbox_profile("procpriv");

	(void)state;
	assert_non_null(p);
	assert_true(p->open_rdonly);
	assert_int_equal(p->writes_files, 0);
	assert_int_equal(p->features & (TFO_SB_FS_WRITE | TFO_SB_LISTEN | TFO_SB_INET |
	    TFO_SB_NETLINK | TFO_SB_INOTIFY), 0);
	assert_null(p->extra);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		assert_false(tfo_sandbox_profile(roles[i])->bare);
	assert_non_null(h);
	assert_true(h->bare);
	assert_int_equal(h->features, 0);
	/* a bare profile without its pins, or pins for a full profile: refused */
	assert_int_equal(tfo_seccomp_apply(h, TFO_SECCOMP_KILL), TFO_EINVAL);
	assert_int_equal(tfo_seccomp_apply_pinned(p, TFO_SECCOMP_KILL, NULL), TFO_EINVAL);
}

/* in_child - run fn in a child; its wait status */
static int
in_child(int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* child_landlock - rw on dir, nothing else: exits 0 when all checks held */
static int
child_landlock(void *arg)
{
	const char *dir = arg;
	struct tfo_sandbox_rules r = { 0 };
	char path[512], report[96];
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    tfo_sandbox_rules_add_path(&r, dir, 1) != TFO_OK ||
	    tfo_landlock_apply(&r, report, sizeof(report)) != TFO_OK)
		return 10;
	if (tfo_landlock_abi() < 0)
		return strcmp(report, "unsupported by kernel") == 0 ? 0 : 11;
	snprintf(path, sizeof(path), "%s/ok", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
		return 12;
	close(fd);
	if (unlink(path) == -1)
		return 13;
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 14;
	if (open("/tmp/tfo-sandbox-unit-x", O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		return 15;
	if (strncmp(report, "abi ", 4) != 0)
		return 16;
	tfo_sandbox_rules_fini(&r);
	return 0;
}

/* child_sockdir - sockets only in dir: bind a unix socket and remove it,
 * but make no regular file or directory there */
static int
child_sockdir(void *arg)
{
	const char *dir = arg;
	struct tfo_sandbox_rules r = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[512], report[96];
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    tfo_sandbox_rules_add_path(&r, dir, TFO_SANDBOX_SOCKDIR) != TFO_OK ||
	    tfo_landlock_apply(&r, report, sizeof(report)) != TFO_OK)
		return 10;
	if (tfo_landlock_abi() < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.ipc", dir);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return 11;
	close(fd);
	if (unlink(sa.sun_path) == -1)
		return 12;
	snprintf(path, sizeof(path), "%s/file", dir);
	if (open(path, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		return 13;
	snprintf(path, sizeof(path), "%s/sub", dir);
	if (mkdir(path, 0700) != -1 || errno != EACCES)
		return 14;
	tfo_sandbox_rules_fini(&r);
	return 0;
}

static void
test_landlock_sockdir(void **state)
{
	char dir[] = "/tmp/tfo-sandbox-unit-XXXXXX";
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	st = in_child(child_sockdir, dir);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_landlock_child(void **state)
{
	char dir[] = "/tmp/tfo-sandbox-unit-XXXXXX";
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	st = in_child(child_landlock, dir);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* child_seccomp - the system profile in kill mode, then one action */
static int
child_seccomp(void *arg)
{
	const char *what = arg;
	void *p;

	if (tfo_seccomp_apply(tfo_sandbox_profile("system"), TFO_SECCOMP_KILL) != TFO_OK)
		return 10;
	if (strcmp(what, "mmap_exec") == 0) {
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED && errno == EPERM ? 0 : 11;
	}
	if (strcmp(what, "mmap_rw") == 0) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p != MAP_FAILED ? 0 : 12;
	}
	if (strcmp(what, "clone3") == 0)
		return syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS ? 0 : 13;
	if (strcmp(what, "unix") == 0)
		return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 14;
	if (strcmp(what, "inet") == 0)
		(void)socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "kill_parent") == 0)
		(void)kill(getppid(), 0);
	else if (strcmp(what, "ptrace") == 0)
		(void)syscall(SYS_ptrace, 0, 0, 0, 0);
	return 20;                  /* reached only if the sandbox let it through */
}

static void
test_seccomp_child(void **state)
{
	static const char *const ok[] = { "mmap_exec", "mmap_rw", "clone3", "unix" };
	static const char *const killed[] = { "inet", "kill_parent", "ptrace" };
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		st = in_child(child_seccomp, (void *)ok[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		st = in_child(child_seccomp, (void *)killed[i]);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* child_heartbeat_profile - the heartbeat profile in kill mode: it keeps
 * unix and netlink (getifaddrs) sockets; an inet socket is not reached */
static int
child_heartbeat_profile(void *arg)
{
	const char *what = arg;
	int fd;

	if (tfo_seccomp_apply(tfo_sandbox_profile("heartbeat"), TFO_SECCOMP_KILL) != TFO_OK)
		return 10;
	if (strcmp(what, "unix") == 0)
		return socket(AF_UNIX, SOCK_SEQPACKET, 0) >= 0 ? 0 : 11;
	if (strcmp(what, "netlink") == 0)
		return (fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) >= 0 &&
		    getsockname(fd, &(struct sockaddr){ 0 }, &(socklen_t){ sizeof(struct sockaddr) }) == 0 ?
		    0 : 12;
	if (strcmp(what, "inet") == 0)
		(void)socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "inet6") == 0)
		(void)socket(AF_INET6, SOCK_DGRAM, 0);
	return 20;
}

/* The heartbeat has no network: AF_INET and AF_INET6 kill it (issue 18). */
static void
test_heartbeat_profile_child(void **state)
{
	static const char *const ok[] = { "unix", "netlink" };
	static const char *const killed[] = { "inet", "inet6" };
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		st = in_child(child_heartbeat_profile, (void *)ok[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		st = in_child(child_heartbeat_profile, (void *)killed[i]);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* child_process_profile - the process profile in kill mode, then one
 * action; exits 0 when the action got the expected errno */
static int
child_process_profile(void *arg)
{
	const char *what = arg;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/tfo-sandbox-unit-%d", (int)getpid());
	if (tfo_seccomp_apply(tfo_sandbox_profile("process"), TFO_SECCOMP_KILL) != TFO_OK)
		return 10;
	if (strcmp(what, "read") == 0) {
		if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
			return 11;
		close(fd);
		/* O_PATH and O_DIRECTORY are no write */
		if ((fd = openat(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			return 12;
		close(fd);
		/* bits above the int flags are masked off, not a bypass nor a kill */
		fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/stat",
		    (unsigned long)0xffffffff00000000ULL | O_RDONLY);
		return fd >= 0 ? 0 : 13;
	}
	if (strcmp(what, "write_high") == 0)
		return syscall(SYS_openat, AT_FDCWD, path,
		    (unsigned long)0xffffffff00000000ULL | O_WRONLY | O_CREAT, 0600) == -1 &&
		    errno == EPERM ? 0 : 14;
	if (strcmp(what, "write") == 0) {
		static const int modes[] = { O_WRONLY | O_CREAT | O_EXCL, O_RDWR,
			O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC, O_RDONLY | O_APPEND,
			O_RDWR | O_TMPFILE };
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			const char *pth = modes[i] & O_TMPFILE ? "/tmp" : path;
			if (open(pth, modes[i] | O_CLOEXEC, 0600) != -1 || errno != EPERM)
				return 20 + (int)i;
			if (syscall(SYS_open, pth, modes[i], 0600) != -1 || errno != EPERM)
				return 30 + (int)i;
		}
		return 0;
	}
	if (strcmp(what, "inet") == 0)
		(void)socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "ptrace") == 0)
		(void)syscall(SYS_ptrace, 0, 0, 0, 0);
	else if (strcmp(what, "process_vm_readv") == 0)
		(void)syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
	else if (strcmp(what, "unlink") == 0)
		(void)unlink(path);
	else if (strcmp(what, "rename") == 0)
		(void)rename(path, "/tmp/tfo-sandbox-unit-renamed");
	else if (strcmp(what, "mkdir") == 0)
		(void)mkdir(path, 0700);
	else if (strcmp(what, "chmod") == 0)
		(void)chmod("/tmp", 0777);
	else if (strcmp(what, "truncate") == 0)
		(void)truncate(path, 0);
	else if (strcmp(what, "symlink") == 0)
		(void)symlink("/etc/shadow", path);
	else if (strcmp(what, "open_by_handle_at") == 0)
		(void)syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
	return 40;                  /* reached only if the sandbox let it through */
}

static void
test_process_profile_child(void **state)
{
	static const char *const ok[] = { "read", "write", "write_high" };
	static const char *const killed[] = { "inet", "ptrace", "process_vm_readv", "unlink",
		"rename", "mkdir", "chmod", "truncate", "symlink", "open_by_handle_at" };
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		st = in_child(child_process_profile, (void *)ok[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: wait status %#x", ok[i], st);
	}
	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		st = in_child(child_process_profile, (void *)killed[i]);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s: not killed by SIGSYS: wait status %#x", killed[i], st);
	}
}

/* child_apply - tfo_sandbox_apply for a role, then readlink of the parent's
 * exe (outside any Landlock domain): Landlock denies that ptrace-mode read
 * to every role, the process role included, whatever its capabilities:
 * which is why tfo-procpriv, outside Landlock, does it */
static int
child_apply(void *arg)
{
	const char *role = arg;
	Tfo__V1__WorkerConfig cfg = TFO__V1__WORKER_CONFIG__INIT;
	struct tfo_sandbox_rules r = { 0 };
	char report[96], link[64], target[512];
	const char *what = "";
	int abi = tfo_landlock_abi();  /* before seccomp, which forbids the call */
	ssize_t n;

	cfg.seccomp_mode = "kill";
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)getppid());
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    tfo_sandbox_rules_add_path(&r, "/proc", 0) != TFO_OK ||
	    tfo_sandbox_apply(role, &cfg, &r, report, sizeof(report), &what) != TFO_OK)
		return 10;
	n = readlink(link, target, sizeof(target));
	tfo_sandbox_rules_fini(&r);
	if (abi < 0)
		return n > 0 ? 0 : 12;
	return strncmp(report, "abi ", 4) == 0 && n == -1 && errno == EACCES ? 0 : 13;
}

static void
test_apply_landlock_every_role(void **state)
{
	int st;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const char *role = i == 0 ? "process" : "system";
		st = in_child(child_apply, (void *)role);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: wait status %#x", role, st);
	}
}

/* ------------------------------------------------------ tfo-procpriv's filter */

/* pinned - tfo-procpriv's own filter (workers/procpriv/main.c), fd 1 as its
 * channel (the test's stdout is open) */
static int
pinned(int list_dirs)
{
	const struct tfo_sandbox_pins pins = {
		.file = tfo_privops_name_io, .link = tfo_privops_name_exe,
		.stat = tfo_privops_name_fd, .dir_flags = TFO_PRIVOPS_DIR_FLAGS,
		.file_flags = TFO_PRIVOPS_FILE_FLAGS, .chan_fd = 1, .list_dirs = list_dirs,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return tfo_seccomp_apply_pinned(tfo_sandbox_profile("procpriv"), TFO_SECCOMP_KILL,
	    &pins) == TFO_OK ? 0 : -1;
}

/* serve_parent - the helper's real operations on the parent (another
 * process) under the real filter: io, exe and the fd count come back */
static int
serve_parent(int procfd, int list_fds, pid_t ppid)
{
	static uint8_t reply[TFO_PRIVOPS_REPLY_MAX];
	struct tfo_privops_env env = { .procfd = procfd, .list_fds = list_fds };
	struct { struct tfo_privops_hdr h; struct tfo_privops_req q; } req = {
		{ TFO_PRIVOPS_MAGIC, TFO_PRIVMSG_READ, 1, 0 }, { (int32_t)ppid, TFO_PRIVOP_ALL } };
	struct tfo_privops_res r;
	size_t rlen;

	if (tfo_privops_serve(&env, (const uint8_t *)&req, sizeof(req), reply, sizeof(reply),
	    &rlen) != TFO_OK || rlen < sizeof(req.h) + sizeof(r))
		return 1;
	memcpy(&r, reply + sizeof(req.h), sizeof(r));
	if (r.err_io != 0 || r.err_exe != 0 || r.err_nfds != 0 || r.exe_len == 0 || r.nfds < 3 ||
	    r.rchar == 0)
		return 2;
	return 0;
}

/* child_pinned - the filter, then one action: 0 when it got what it should */
static int
child_pinned(void *arg)
{
	const char *what = arg;
	char io_copy[] = "io", name[16], buf[64];
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd, list;
	pid_t ppid = getppid();
	struct stat st;

	list = strcmp(what, "serve_list") == 0 || strcmp(what, "getdents") == 0;
	snprintf(name, sizeof(name), "%d", (int)ppid);
	if (procfd < 0 || pinned(list) != 0)
		return 10;
	if (strncmp(what, "serve", 5) == 0)
		return serve_parent(procfd, list, ppid);
	if ((dfd = openat(procfd, name, TFO_PRIVOPS_DIR_FLAGS)) < 0)
		return 11;
	if (strcmp(what, "dir_shadow") == 0) {    /* a directory open yields no file */
		snprintf(buf, sizeof(buf), "%s/root/etc/shadow", name);
		return openat(procfd, buf, TFO_PRIVOPS_DIR_FLAGS) == -1 && errno == ENOTDIR ? 0 : 12;
	}
	if (strcmp(what, "io_symlink") == 0)      /* the pinned name, not followed */
		return openat(procfd, tfo_privops_name_io, TFO_PRIVOPS_FILE_FLAGS) == -1 ? 0 : 13;
	if (strcmp(what, "getdents") == 0)
		return syscall(SYS_getdents64, dfd, buf, sizeof(buf)) > 0 ? 0 : 14;
	/* everything below must kill */
	if (strcmp(what, "open") == 0)
		(void)open("/etc/shadow", O_RDONLY);
	else if (strcmp(what, "openat_copy") == 0)  /* same text, other address */
		(void)openat(dfd, io_copy, TFO_PRIVOPS_FILE_FLAGS);
	else if (strcmp(what, "openat_flags") == 0) /* the pinned name, other flags */
		(void)openat(dfd, tfo_privops_name_io, O_RDONLY | O_CLOEXEC);
	else if (strcmp(what, "openat_root") == 0)
		(void)openat(procfd, "1/root/etc/shadow", TFO_PRIVOPS_FILE_FLAGS);
	else if (strcmp(what, "readlink_cwd") == 0)
		(void)readlinkat(dfd, "cwd", buf, sizeof(buf));
	else if (strcmp(what, "stat_root") == 0)
		(void)fstatat(dfd, "root", &st, AT_SYMLINK_NOFOLLOW);
	else if (strcmp(what, "stat_follow") == 0)
		(void)fstatat(dfd, tfo_privops_name_fd, &st, 0);
	else if (strcmp(what, "getdents_sized") == 0)
		(void)syscall(SYS_getdents64, dfd, buf, sizeof(buf));
	else if (strcmp(what, "write_stdout_other") == 0)
		(void)write(0, "x", 1);
	else if (strcmp(what, "socket") == 0)
		(void)socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(what, "sendmsg") == 0)
		(void)syscall(SYS_sendmsg, 1, NULL, 0);
	else if (strcmp(what, "kill_parent") == 0)
		(void)kill(ppid, 0);
	else if (strcmp(what, "ptrace") == 0)
		(void)syscall(SYS_ptrace, 0, 0, 0, 0);
	else if (strcmp(what, "mprotect") == 0)
		(void)mprotect((void *)((uintptr_t)tfo_privops_name_io & ~(uintptr_t)4095), 4096,
		    PROT_READ | PROT_WRITE | PROT_EXEC);
#ifndef TFO_SANITIZE
	/* release builds: no mapping may replace the page of the pinned names */
	else if (strcmp(what, "mmap_fixed") == 0)
		(void)mmap((void *)((uintptr_t)tfo_privops_name_io & ~(uintptr_t)4095), 4096,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else if (strcmp(what, "munmap") == 0)
		(void)munmap((void *)((uintptr_t)tfo_privops_name_io & ~(uintptr_t)4095), 4096);
	else if (strcmp(what, "mremap") == 0)
		(void)syscall(SYS_mremap, 0, 0, 0, 0, 0);
#endif
	else
		return 30;
	return 40;                  /* reached only if the filter let it through */
}

static void
test_pinned_filter(void **state)
{
	static const char *const ok[] = { "serve_sized", "serve_list", "dir_shadow",
		"io_symlink", "getdents" };
	static const char *const killed[] = { "open", "openat_copy", "openat_flags",
		"openat_root", "readlink_cwd", "stat_root", "stat_follow", "getdents_sized",
		"write_stdout_other", "socket", "sendmsg", "kill_parent", "ptrace", "mprotect",
#ifndef TFO_SANITIZE
		"mmap_fixed", "munmap", "mremap",
#endif
	};
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		/* the sized count needs Linux >= 6.2 */
		if (strcmp(ok[i], "serve_sized") == 0 &&
		    !tfo_privops_fd_count_sized(open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)))
			continue;
		st = in_child(child_pinned, (void *)ok[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: wait status %#x", ok[i], st);
	}
	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		st = in_child(child_pinned, (void *)killed[i]);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s: not killed by SIGSYS: wait status %#x", killed[i], st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_parse),
		cmocka_unit_test(test_kmsg_parse_reuse),
		cmocka_unit_test(test_modes_and_profiles),
		cmocka_unit_test(test_landlock_child),
		cmocka_unit_test(test_landlock_sockdir),
		cmocka_unit_test(test_seccomp_child),
		cmocka_unit_test(test_process_profile),
		cmocka_unit_test(test_process_profile_child),
		cmocka_unit_test(test_heartbeat_profile_child),
		cmocka_unit_test(test_apply_landlock_every_role),
		cmocka_unit_test(test_pinned_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
