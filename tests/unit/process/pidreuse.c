/*
 * pidreuse.c - the pid-reuse attack's tools (pidreuse.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <linux/sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/process/pidreuse.h"

struct pr_user pr_user;

int
pr_teardown(void **state)
{
	(void)state;
	pr_user_del(&pr_user);
	return 0;
}

int
pr_user_add(struct pr_user *u)
{
	char cmd[256];
	struct passwd *pw = NULL;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0)
		return -1;
	snprintf(u->name, sizeof(u->name), "tfo-reuse%d", (int)getpid() % 100000);
	snprintf(cmd, sizeof(cmd), "useradd --system --no-create-home --shell /usr/sbin/nologin "
	    "%s", u->name);
	if (system(cmd) == 0)
		pw = getpwnam(u->name);
	if (pw == NULL)
		fail_msg("useradd %s failed", u->name);
	assert_non_null(pw);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->dir, sizeof(u->dir), "/tmp/tfo-reuse.XXXXXX");
	assert_non_null(mkdtemp(u->dir));
	assert_int_equal(chmod(u->dir, 0755), 0);
	snprintf(u->exe, sizeof(u->exe), "%s/tfo-reuse-new", u->dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s && chmod 0755 %s", u->exe, u->exe);
	assert_int_equal(system(cmd), 0);
	return 0;
}

void
pr_kill(struct pr_user *u)
{
	if (u->pid > 0 && kill(u->pid, SIGKILL) == 0)
		waitpid(u->pid, NULL, 0);
	u->pid = 0;
}

void
pr_user_del(struct pr_user *u)
{
	char cmd[256];

	pr_kill(u);
	if (u->exe[0] != '\0')
		unlink(u->exe);
	if (u->dir[0] != '\0')
		rmdir(u->dir);
	if (u->name[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "userdel %s 2>/dev/null", u->name);
		if (system(cmd) != 0)
			fprintf(stderr, "userdel %s failed\n", u->name);
	}
	memset(u, 0, sizeof(*u));
}

/* become - the child, between fork and exec: u's identity, fds 0-2 on
 * /dev/null and nothing else, u->exe */
static void
become(const struct pr_user *u)
{
	char *argv[] = { "tfo-reuse-new", "1000", NULL };
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    setgroups(0, NULL) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
		_exit(126);
	/* after setuid, which clears it: gone with the test */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)syscall(SYS_close_range, 3, ~0U, 0);
	execv(u->exe, argv);
	_exit(127);
}

/* clone_at - fork into pid want (clone3's set_tid: CAP_SYS_ADMIN) */
static pid_t
clone_at(pid_t want)
{
	struct clone_args ca;
	pid_t tid = want;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

/* last_pid_at - fork into pid want through ns_last_pid (older kernels):
 * another process's fork may take it first, so a few tries */
static pid_t
last_pid_at(const struct pr_user *u, pid_t want)
{
	for (int i = 0; i < 50; i++) {
		int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		char num[16];
		int len = snprintf(num, sizeof(num), "%d", (int)want - 1);
		pid_t pid;

		if (fd < 0 || write(fd, num, (size_t)len) != len) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		if ((pid = fork()) == 0)
			become(u);
		if (pid == want || pid < 0)
			return pid;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* sleeping - its exec is done (exe is u's) and it sleeps (state S) */
static int
sleeping(const struct pr_user *u, pid_t pid)
{
	char path[64], link[128], buf[512];
	const char *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
		return 0;
	link[n] = '\0';
	if (strcmp(link, u->exe) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (rp = strrchr(buf, ')')) != NULL && rp[1] == ' ' && rp[2] == 'S';
}

int
pr_spawn_at(struct pr_user *u, pid_t want)
{
	struct timespec ms = { 0, 1000000L };
	pid_t pid = -1;

	for (int i = 0; i < 100; i++) {
		if ((pid = clone_at(want)) == 0)
			become(u);
		if (pid >= 0 || errno != EEXIST)
			break;
		nanosleep(&ms, NULL);      /* still being released */
	}
	if (pid < 0 && errno != EEXIST)
		pid = last_pid_at(u, want);
	if (pid < 0)
		return -1;
	u->pid = pid;
	assert_int_equal(pid, want);
	for (int i = 0; i < 5000 && !sleeping(u, pid); i++)
		nanosleep(&ms, NULL);
	assert_true(sleeping(u, pid));
	return 0;
}

int
pr_fds_on(pid_t holder, pid_t pid)
{
	char dir[64], want[32], link[256];
	struct dirent *de;
	size_t wl;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)holder);
	assert_non_null(d = opendir(dir));
	wl = (size_t)snprintf(want, sizeof(want), "/proc/%d", (int)pid);
	while ((de = readdir(d)) != NULL) {
		ssize_t r = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (r <= 0)
			continue;
		link[r] = '\0';
		/* an exited process's directory reads "/proc/<pid> (deleted)" */
		n += strncmp(link, want, wl) == 0 &&
		    (link[wl] == '\0' || link[wl] == '/' || link[wl] == ' ');
	}
	closedir(d);
	return n;
}

/* io_once - the two counters of /proc/<pid>/io */
static void
io_once(pid_t pid, uint64_t *rb, uint64_t *wb)
{
	char path[64], line[128];
	FILE *f;
	unsigned long long v;
	int got = 0;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "read_bytes: %llu", &v) == 1)
			*rb = v, got |= 1;
		else if (sscanf(line, "write_bytes: %llu", &v) == 1)
			*wb = v, got |= 2;
	}
	fclose(f);
	assert_int_equal(got, 3);
}

void
pr_io(pid_t pid, uint64_t *read_bytes, uint64_t *write_bytes)
{
	uint64_t r2 = 0, w2 = 0;

	io_once(pid, read_bytes, write_bytes);
	for (int i = 0; i < 100; i++) {
		io_once(pid, &r2, &w2);
		if (r2 == *read_bytes && w2 == *write_bytes)
			return;
		*read_bytes = r2;
		*write_bytes = w2;
		usleep(10000);
	}
	fail_msg("/proc/%d/io keeps moving", (int)pid);
}

const char *
pr_stat_tail(pid_t pid, char *buf, size_t cap)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, cap - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(p = strrchr(buf, ')'));
	assert_true(p[1] == ' ');
	return p + 2;
}

uint64_t
pr_starttime(pid_t pid)
{
	char buf[1024];
	const char *p = pr_stat_tail(pid, buf, sizeof(buf));
	unsigned long long v = 0;

	/* fields 3.. after ") ": starttime is the 20th of them */
	for (int f = 0; f < 19 && p != NULL; f++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	assert_non_null(p);
	assert_int_equal(sscanf(p, "%llu", &v), 1);
	return v;
}
