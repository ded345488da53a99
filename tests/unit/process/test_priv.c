/*
 * test_priv.c - tfo-process's privileged reader over the live /proc: the
 * real tfo-procpriv (build tree) answers batches, one round trip per 32
 * processes (the count the cycle budget rests on); a helper that dies or is
 * sent garbage is seen as gone, never answered around; an executable others
 * may write is not run; the client refuses a reply that breaks the contract
 * (common/privops.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "workers/process/collect.h"
#include "workers/process/priv.h"
#include "tests/unit/process/pidreuse.h"

#define KIDS 100

static struct tfo_priv *
start(void)
{
	char err[256];
	struct tfo_priv_spawn sp = { .path = TFO_BUILD_BINDIR "/tfo-procpriv", .uid = -1,
		.gid = -1, .seccomp = "kill", .log_level = "warn", .log_format = "text" };
	struct tfo_priv *p;

	assert_true((sp.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	if ((p = tfo_priv_start(&sp, err, sizeof(err))) == NULL)
		fail_msg("tfo_priv_start: %s", err);
	close(sp.procfd);
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
count(void *arg, const uint8_t *p, size_t len, uint32_t points)
{
	(void)p;
	(void)len;
	(void)points;
	++*(size_t *)arg;
	return 0;
}

/* sleepers - n children that wait for SIGKILL */
static void
sleepers(pid_t *v, int n)
{
	for (int i = 0; i < n; i++) {
		if ((v[i] = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		assert_true(v[i] > 0);
	}
}

static void
reap(pid_t *v, int n)
{
	for (int i = 0; i < n; i++)
		kill(v[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(v[i], NULL, 0);
}

/* one round trip per 32 selected processes; with patterns, per 32 names
 * to read (new processes), none for the names already known */
static void
test_batches(void **state)
{
	static char *inc[] = { "^tfo-none$" };
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	struct tfo_proccol *c;
	struct tfo_priv *p = start();
	const struct tfo_proccol_stats *s;
	pid_t kids[KIDS];
	uint64_t before;
	size_t emitted = 0;
	char err[256];

	(void)state;
	sleepers(kids, KIDS);
	cfg.top_n = 40;                         /* up to 80 selected: 3 round trips */
	assert_non_null(c = tfo_proccol_new(&cfg, NULL, err, sizeof(err)));
	tfo_proccol_set_priv(c, p);
	assert_int_equal(tfo_proccol_prime(c, now_ns()), TFO_OK);
	s = tfo_proccol_stats(c);
	assert_int_equal(s->priv_round_trips, 0);       /* no patterns: no names */
	assert_int_equal(tfo_proccol_cycle(c, now_ns(), count, &emitted), TFO_OK);
	assert_true(s->selected > 32);
	assert_int_equal(s->priv_round_trips, (s->selected + 31) / 32);
	assert_int_equal(s->read_errors, 0);     /* (pid 1 may deny even root: a VM) */
	assert_int_equal(emitted, s->selected);
	tfo_proccol_free(c);

	/* patterns: the first walk reads every name, 32 a round trip */
	cfg.include = inc;
	cfg.n_include = 1;
	cfg.top_n = 5;
	assert_non_null(c = tfo_proccol_new(&cfg, NULL, err, sizeof(err)));
	tfo_proccol_set_priv(c, p);
	assert_int_equal(tfo_proccol_prime(c, now_ns()), TFO_OK);
	s = tfo_proccol_stats(c);
	assert_true(s->walked > KIDS);
	assert_int_equal(s->priv_round_trips, (s->walked + 31) / 32);
	before = s->priv_round_trips;
	reap(kids, KIDS);
	/* the names are known now: the reports alone (new processes may
	 * appear meanwhile on a shared machine: at most one more round trip) */
	assert_int_equal(tfo_proccol_cycle(c, now_ns(), count, &emitted), TFO_OK);
	assert_true(s->priv_round_trips - before >= 1 && s->priv_round_trips - before <= 2);
	tfo_proccol_free(c);
	tfo_priv_close(p);
}

/* the helper's answer about this process matches what it can read itself */
static void
test_answer_self(void **state)
{
	struct tfo_priv *p = start();
	struct tfo_privops_req q = { .pid = (int32_t)getpid(), .ops = TFO_PRIVOP_ALL };
	struct tfo_priv_ans a;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(a.pid, getpid());
	assert_int_equal(a.err_io, 0);
	assert_int_equal(a.err_exe, 0);
	assert_int_equal(a.err_nfds, 0);
	assert_string_equal(a.exe, exe);
	assert_true(a.nfds >= 3);
	/* a pid that does not exist: gone, for every op */
	q.pid = 0x3fffff;
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(a.err_io, ENOENT);
	assert_int_equal(a.err_exe, ENOENT);
	assert_null(a.exe);
	tfo_priv_close(p);
}

/* fds - open fds of process pid */
static int
fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * a process asked for its io keeps its directory and io file open in the
 * helper while it is asked for (two fds, not more at the next ask), with the
 * same answers; its exit closes them and says gone; a process no longer
 * asked for is closed after 4 requests with io; one asked for its exe only
 * (a name) keeps nothing
 */
static void
test_kept(void **state)
{
	struct tfo_priv *p = start();
	struct tfo_privops_req q = { .ops = TFO_PRIVOP_ALL }, self = { .pid = (int32_t)getpid(),
		.ops = TFO_PRIVOP_IO };
	struct tfo_priv_ans a;
	pid_t kid, helper = tfo_priv_pid(p);
	int base;

	(void)state;
	sleepers(&kid, 1);
	q.pid = (int32_t)kid;
	base = fds(helper);
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(a.err_io, 0);
	assert_int_equal(a.err_nfds, 0);
	assert_int_equal(fds(helper), base + 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
		assert_int_equal(a.err_io, 0);
		assert_int_equal(a.err_exe, 0);
		assert_true(a.nfds >= 3);
	}
	assert_int_equal(fds(helper), base + 2);
	/* it exits: gone, and nothing of it stays open */
	reap(&kid, 1);
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_true(a.err_io == ENOENT || a.err_io == ESRCH);
	assert_int_equal(fds(helper), base);
	/* asked no more: closed after KEEP_AGE requests with io */
	assert_int_equal(tfo_priv_query(p, &self, 1, &a), TFO_OK);
	assert_int_equal(fds(helper), base + 2);
	sleepers(&kid, 1);
	q.pid = (int32_t)kid;
	q.ops = TFO_PRIVOP_EXE;             /* a name: nothing kept */
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(a.err_exe, 0);
	assert_int_equal(fds(helper), base + 2);
	q.ops = TFO_PRIVOP_IO;
	for (int i = 0; i < 4; i++)
		assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(fds(helper), base + 4);   /* self missed 4: kept still */
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_int_equal(fds(helper), base + 2);   /* the fifth: closed */
	reap(&kid, 1);
	tfo_priv_close(p);
}

/* old_process - a child of the test (root) that is easy to tell from the
 * new one: 20 more fds, 256 KiB written to a file on disk (write_bytes);
 * ready when it returns */
static pid_t
old_process(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		static char block[256 * 1024];
		char path[] = "/var/tmp/tfo-reuse-old.XXXXXX";
		int fd = mkstemp(path);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || unlink(path) != 0 ||
		    write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			_exit(3);
		for (int i = 0; i < 20; i++)
			if (dup(fd) < 0)
				_exit(4);
		if (write(ready[1], "r", 1) != 1)
			_exit(5);
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

/*
 * The promise "no confusion between processes" against the helper's kept
 * fds: a process asked for every cycle (its /proc/<pid> and io kept open)
 * exits, and its pid is taken at once by another user's process. The next
 * answer for that pid is the new process's own (its exe, its 3 fds, its io
 * counters as /proc/<pid>/io gives them), none of the old one's (the test
 * binary, 23+ fds, 256 KiB written), and the kept fds are the new
 * process's from then on, still two.
 */
static void
test_kept_pid_reused(void **state)
{
	struct tfo_privops_req q = { .ops = TFO_PRIVOP_ALL };
	struct tfo_priv_ans a;
	struct tfo_priv *p;
	char self[4096];
	uint64_t rb, wb;
	pid_t old, helper;
	ssize_t n;

	(void)state;
	if (pr_user_add(&pr_user) != 0)
		skip();     /* a throw-away user and a chosen pid need root */
	assert_true((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0);
	self[n] = '\0';
	p = start();
	helper = tfo_priv_pid(p);
	old = old_process();
	q.pid = (int32_t)old;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
		assert_int_equal(a.err_io, 0);
		assert_int_equal(a.err_exe, 0);
		assert_int_equal(a.err_nfds, 0);
		assert_string_equal(a.exe, self);
		assert_true(a.nfds >= 23);
		assert_true(a.write_bytes >= 256 * 1024);
	}
	assert_int_equal(pr_fds_on(helper, old), 2);
	reap(&old, 1);
	if (pr_spawn_at(&pr_user, old) != 0) {
		tfo_priv_close(p);
		skip();     /* no way to choose a pid here */
	}
	/* the helper still holds the old process's directory and io */
	assert_int_equal(pr_fds_on(helper, old), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
		assert_int_equal(a.pid, old);
		assert_int_equal(a.err_io, 0);
		assert_int_equal(a.err_exe, 0);
		assert_int_equal(a.err_nfds, 0);
		assert_string_equal(a.exe, pr_user.exe);
		assert_int_equal(a.nfds, 3);
		pr_io(old, &rb, &wb);
		assert_int_equal(a.read_bytes, rb);
		assert_int_equal(a.write_bytes, wb);
		assert_true(a.write_bytes < 256 * 1024);
		assert_int_equal(pr_fds_on(helper, old), 2);    /* the new one's, kept */
	}
	pr_kill(&pr_user);
	assert_int_equal(tfo_priv_query(p, &q, 1, &a), TFO_OK);
	assert_true(a.err_io == ENOENT || a.err_io == ESRCH);
	assert_int_equal(pr_fds_on(helper, old), 0);
	tfo_priv_close(p);
}

/* a helper killed under the collector: the cycle says so, never answers
 * for it; the status is there to be reported */
static void
test_helper_killed(void **state)
{
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	struct tfo_priv *p = start();
	struct tfo_proccol *c;
	size_t emitted = 0;
	char err[256];
	int st;

	(void)state;
	assert_non_null(c = tfo_proccol_new(&cfg, NULL, err, sizeof(err)));
	tfo_proccol_set_priv(c, p);
	assert_int_equal(kill(tfo_priv_pid(p), SIGKILL), 0);
	assert_int_equal(tfo_proccol_cycle(c, now_ns(), count, &emitted), TFO_ECLOSED);
	assert_int_equal(emitted, 0);
	assert_int_equal(tfo_priv_reap(p, &st), 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	tfo_proccol_free(c);
	tfo_priv_close(p);
}

/* a request that breaks the contract stops the helper (status 1); so does
 * one over the batch size, refused before it is sent */
static void
test_helper_malformed(void **state)
{
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_READ, .n = 1 };
	struct tfo_privops_req q[TFO_PRIVOPS_BATCH + 1] = { { 0 } };
	struct tfo_priv_ans a[TFO_PRIVOPS_BATCH + 1];
	struct tfo_priv *p = start();
	int st;

	(void)state;
	assert_int_equal(tfo_priv_query(p, q, TFO_PRIVOPS_BATCH + 1, a), TFO_EINVAL);
	/* header says one entry, none follows */
	assert_int_equal(send(tfo_priv_fd(p), &h, sizeof(h), 0), (ssize_t)sizeof(h));
	assert_int_equal(tfo_priv_reap(p, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	q[0] = (struct tfo_privops_req){ .pid = 1, .ops = TFO_PRIVOP_IO };
	assert_int_equal(tfo_priv_query(p, q, 1, a), TFO_ECLOSED);
	tfo_priv_close(p);
}

/* an executable others may write is not run as root's helper: the same
 * rule as for the workers (common/safepath.h) */
static void
test_untrusted_helper(void **state)
{
	char dir[] = "/tmp/tfo-priv-XXXXXX", exe[64], cmd[160], err[256];
	struct tfo_priv_spawn sp = { .path = exe, .uid = -1, .gid = -1, .seccomp = "kill",
		.log_level = "warn", .log_format = "text" };
	struct tfo_priv *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/tfo-procpriv", dir);
	snprintf(cmd, sizeof(cmd), "cp %s/tfo-procpriv %s", TFO_BUILD_BINDIR, exe);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(exe, 0775), 0);
	assert_true((sp.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	assert_null(tfo_priv_start(&sp, err, sizeof(err)));
	if (strstr(err, "writable by group or other") == NULL)
		fail_msg("refused for another reason: %s", err);
	assert_int_equal(chmod(exe, 0755), 0);      /* the same file, fixed: it runs */
	if ((p = tfo_priv_start(&sp, err, sizeof(err))) == NULL)
		fail_msg("tfo_priv_start: %s", err);
	tfo_priv_close(p);
	close(sp.procfd);
	unlink(exe);
	rmdir(dir);
}

/* record - one reply record (privops.h) with exe at b + *off */
static void
record(uint8_t *b, size_t *off, int32_t pid, const char *exe)
{
	struct tfo_privops_res r = { .pid = pid, .nfds = 4 };
	size_t n = exe != NULL ? strlen(exe) : 0;

	r.err_exe = exe != NULL ? 0 : ENOENT;
	r.exe_len = (uint32_t)n;
	memcpy(b + *off, &r, sizeof(r));
	*off += sizeof(r);
	memset(b + *off, 0, TFO_PRIVOPS_PAD8(n));
	memcpy(b + *off, exe != NULL ? exe : "", n);
	*off += TFO_PRIVOPS_PAD8(n);
}

static size_t
reply(uint8_t *b, uint32_t n, const char *exe1, const char *exe2)
{
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_READ, .n = n };
	size_t off = sizeof(h);

	memcpy(b, &h, sizeof(h));
	record(b, &off, 1, exe1);
	if (n > 1)
		record(b, &off, 2, exe2);
	return off;
}

/* the client's parser: exact records, exe paths terminated in place (also
 * one of exactly 8 bytes, whose NUL lands on the next record) */
static void
test_parse_reply(void **state)
{
	static uint8_t b[TFO_PRIVOPS_REPLY_MAX + 1];
	struct tfo_privops_req q[2] = { { 1, TFO_PRIVOP_ALL }, { 2, TFO_PRIVOP_ALL } };
	struct tfo_priv_ans a[2];
	size_t len;

	(void)state;
	len = reply(b, 2, "/bin/abc", "/usr/bin/longer");
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 2, a), TFO_OK);
	assert_string_equal(a[0].exe, "/bin/abc");
	assert_string_equal(a[1].exe, "/usr/bin/longer");
	assert_int_equal(a[1].nfds, 4);
	len = reply(b, 2, NULL, "/x");
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 2, a), TFO_OK);
	assert_null(a[0].exe);
	/* truncated, trailing bytes, a count or a pid that is not the request's */
	len = reply(b, 2, "/a", "/b");
	assert_int_equal(tfo_priv_parse_reply(b, len - 1, q, 2, a), TFO_EPROTO);
	assert_int_equal(tfo_priv_parse_reply(b, len + 8, q, 2, a), TFO_EPROTO);
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 1, a), TFO_EPROTO);
	q[1].pid = 3;
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 2, a), TFO_EPROTO);
	q[1].pid = 2;
	/* an exe with a NUL inside, or an exe length past the limit */
	len = reply(b, 1, "/a\0b", NULL);
	((struct tfo_privops_res *)(b + sizeof(struct tfo_privops_hdr)))->exe_len = 4;
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 1, a), TFO_EPROTO);
	len = reply(b, 1, "/a", NULL);
	((struct tfo_privops_res *)(b + sizeof(struct tfo_privops_hdr)))->exe_len =
	    TFO_PRIVOPS_EXE_MAX + 1;
	assert_int_equal(tfo_priv_parse_reply(b, len, q, 1, a), TFO_EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_answer_self),
		cmocka_unit_test(test_kept),
		cmocka_unit_test_teardown(test_kept_pid_reused, pr_teardown),
		cmocka_unit_test(test_helper_killed),
		cmocka_unit_test(test_helper_malformed),
		cmocka_unit_test(test_untrusted_helper),
		cmocka_unit_test(test_parse_reply),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
