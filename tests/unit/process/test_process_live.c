/*
 * test_process_live.c - tfo-process over the live /proc with a child it
 * reports every cycle: the files a selected process's report reads (status,
 * cmdline, cgroup) are kept open between cycles, and what they say must
 * still follow the process: a thread started, a command line rewritten in
 * place (setproctitle style) between two cycles are in the next report; a
 * process dropped from the selection (an exec makes it excluded) or exited
 * keeps no file open past the first cycle without its report; a pid taken by
 * another user's process while the files of its old owner are kept is
 * reported as the new process's alone; read directly and through the real
 * tfo-procpriv.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/otlp.h"
#include "workers/process/collect.h"
#include "workers/process/collect_int.h"
#include "workers/process/priv.h"
#include "tests/unit/process/pidreuse.h"
#include "tests/unit/process/pt.h"
#include "tests/unit/system/tu.h"

#define T0 (1700000000ull * 1000000000ull)
#define STEP 10000000000ull             /* 10 s between cycles */

/* ------------------------------------------------------------------ child */

static void *
sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* child - obeys one byte at a time from cmd, acks on ack: 't' start a
 * thread, 'n' / 'm' rewrite argv[0] in place, 'b' burn CPU, 'x' exec sleep
 * (no ack) */
static void
child(int cmd, int ack)
{
	char c;
	pthread_t t;

	while (read(cmd, &c, 1) == 1) {
		if (c == 't' && pthread_create(&t, NULL, sleeper, NULL) != 0)
			_exit(3);
		if (c == 'n' || c == 'm')   /* argv[0] is longer: the test's path */
			strcpy(program_invocation_name, c == 'n' ? "renamed" : "moved");
		if (c == 'b') {     /* burn 40 ms of CPU: 4 ticks of utime+stime */
			struct timespec b0, b1;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b0);
			do
				clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b1);
			while ((b1.tv_sec - b0.tv_sec) * 1000000000L + b1.tv_nsec - b0.tv_nsec <
			    40000000L);
		}
		if (c == 'x') {
			execl("/bin/sleep", "sleep", "1000", (char *)NULL);
			_exit(4);
		}
		if (write(ack, &c, 1) != 1)
			_exit(5);
	}
	_exit(0);
}

struct kid {
	pid_t pid;
	int cmd, ack;
};

static void
kid_start(struct kid *k)
{
	int c[2], a[2];

	assert_int_equal(pipe2(c, O_CLOEXEC), 0);
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_true((k->pid = fork()) >= 0);
	if (k->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		/* gone with the test, even one failing half-way; not holding its output */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || null < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(6);
		close(c[1]);
		close(a[0]);
		child(c[0], a[1]);
	}
	close(c[0]);
	close(a[1]);
	k->cmd = c[1];
	k->ack = a[0];
}

static void
kid_do(struct kid *k, char c)
{
	char got = 0;

	assert_int_equal(write(k->cmd, &c, 1), 1);
	assert_int_equal(read(k->ack, &got, 1), 1);
	assert_int_equal(got, c);
}

/* kid_exec - exec sleep; wait until /proc shows it */
static void
kid_exec(struct kid *k)
{
	char path[64], comm[32] = "";
	char c = 'x';

	assert_int_equal(write(k->cmd, &c, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)k->pid);
	for (int i = 0; i < 500 && strcmp(comm, "sleep\n") != 0; i++) {
		FILE *f = fopen(path, "r");
		comm[0] = '\0';
		if (f != NULL) {
			if (fgets(comm, sizeof(comm), f) == NULL)
				comm[0] = '\0';
			fclose(f);
		}
		if (strcmp(comm, "sleep\n") != 0)
			usleep(10000);
	}
	assert_string_equal(comm, "sleep\n");
}

static void
kid_stop(struct kid *k)
{
	int st;

	kill(k->pid, SIGKILL);
	assert_int_equal(waitpid(k->pid, &st, 0), k->pid);
	close(k->cmd);
	close(k->ack);
}

/* fds_on - this process's fds open on /proc/<pid>/ files */
static int
fds_on(pid_t pid)
{
	char want[32], link[256];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	snprintf(want, sizeof(want), "/proc/%d/", (int)pid);
	while ((de = readdir(d)) != NULL) {
		ssize_t r = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (r <= 0)
			continue;
		link[r] = '\0';
		n += strncmp(link, want, strlen(want)) == 0;
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ tests */

/* report - one cycle; the child's report (the test fails without it) */
static const rm_t *
report(struct tfo_proccol *c, uint64_t at, struct pt_out *o, pid_t pid)
{
	const rm_t *rm;

	pt_out_free(o);
	assert_int_equal(tfo_proccol_cycle(c, at, pt_emit, o), TFO_OK);
	rm = pt_of_pid(o, pid);
	assert_non_null(rm);
	return rm;
}

static void
follow(int with_helper)
{
	static char *inc[] = { "^test_process_live$" };
	static char *exc[] = { "^sleep$" };
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	struct tfo_priv *p = NULL;
	struct pt_out o = { 0 };
	struct tfo_proccol *c;
	struct pc_det *d;
	struct kid k;
	const rm_t *rm;
	char err[256], cmd0[512];
	int kept[PC_DET_N];

	cfg.proc_root = "";
	cfg.top_n = 1;
	cfg.cmdline_max_len = 256;
	cfg.include = inc;
	cfg.n_include = 1;
	cfg.exclude = exc;
	cfg.n_exclude = 1;
	c = tfo_proccol_new(&cfg, NULL, err, sizeof(err));
	if (c == NULL)
		fail_msg("tfo_proccol_new: %s", err);
	if (with_helper)
		p = pt_helper_start(c, "/proc");
	kid_start(&k);

	rm = report(c, T0, &o, k.pid);
	assert_int_equal(tu_int(rm, "process.thread.count", NULL), 1);
	snprintf(cmd0, sizeof(cmd0), "%s", tu_res(rm, "process.command"));
	assert_non_null(strstr(cmd0, "test_process_live"));
	assert_non_null(tu_res(rm, "process.linux.cgroup"));
	/* its files are kept: the stat and the three detail files */
	assert_non_null(d = pc_det_find(c, k.pid));
	for (int i = 0; i < PC_DET_N; i++)
		assert_true((kept[i] = d->fd[i]) >= 0);
	assert_int_equal(fds_on(k.pid), 1 + PC_DET_N);

	/* a thread and a new argv[0] between two cycles: in the next report,
	 * read through the same fds; twice, each read from the start again */
	for (int round = 1; round <= 2; round++) {
		kid_do(&k, 't');
		kid_do(&k, round == 1 ? 'n' : 'm');
		rm = report(c, T0 + (uint64_t)round * STEP, &o, k.pid);
		assert_int_equal(tu_int(rm, "process.thread.count", NULL), 1 + round);
		assert_string_equal(tu_res(rm, "process.command"), round == 1 ? "renamed" :
		    "moved");
		assert_non_null(d = pc_det_find(c, k.pid));
		for (int i = 0; i < PC_DET_N; i++)
			assert_int_equal(d->fd[i], kept[i]);
		assert_int_equal(fds_on(k.pid), 1 + PC_DET_N);
	}

	/* an exec makes it "sleep", excluded: the first cycle without its
	 * report closes the detail files */
	kid_exec(&k);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, T0 + 3 * STEP, pt_emit, &o), TFO_OK);
	assert_null(pt_of_pid(&o, k.pid));
	assert_null(pc_det_find(c, k.pid));
	assert_int_equal(fds_on(k.pid), 1);     /* its stat only, for the walk */

	/* exited: nothing of it stays open */
	kid_stop(&k);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, T0 + 4 * STEP, pt_emit, &o), TFO_OK);
	assert_null(pc_tab_find(c, k.pid));
	assert_int_equal(fds_on(k.pid), 0);
	pt_out_free(&o);
	if (p != NULL)
		pt_helper_stop(c, p);
	tfo_proccol_free(c);
}

static void
test_follow_direct(void **state)
{
	(void)state;
	follow(0);
}

static void
test_follow_helper(void **state)
{
	(void)state;
	follow(1);
}

static void
kill_kid(void *arg)
{
	struct kid *k = arg;
	int st;

	kill(k->pid, SIGKILL);
	assert_int_equal(waitpid(k->pid, &st, 0), k->pid);
}

/* live_col - a collector over the live /proc reporting this test's
 * processes (by name) and the top 1 */
static struct tfo_proccol *
live_col(void)
{
	static char *inc[] = { "^test_process_live$" };
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	struct tfo_proccol *c;
	char err[256];

	cfg.proc_root = "";
	cfg.top_n = 1;
	cfg.include = inc;
	cfg.n_include = 1;
	if ((c = tfo_proccol_new(&cfg, NULL, err, sizeof(err))) == NULL)
		fail_msg("tfo_proccol_new: %s", err);
	return c;
}

/* a selected process that exits between the walk and its reads (the
 * cycle's hook): reported as vanished, and its kept files are closed at
 * the end of the next cycle, which does not report it */
static void
test_exit_while_kept(void **state)
{
	struct pt_out o = { 0 };
	struct tfo_proccol *c = live_col();
	struct kid k;

	(void)state;
	kid_start(&k);
	(void)report(c, T0, &o, k.pid);
	assert_int_equal(fds_on(k.pid), 1 + PC_DET_N);
	tfo_proccol_set_hook(c, kill_kid, &k);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, T0 + STEP, pt_emit, &o), TFO_OK);
	assert_null(pt_of_pid(&o, k.pid));
	assert_true(tfo_proccol_stats(c)->vanished >= 1);
	assert_int_equal(tfo_proccol_stats(c)->read_errors, 0);
	tfo_proccol_set_hook(c, NULL, NULL);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, T0 + 2 * STEP, pt_emit, &o), TFO_OK);
	assert_null(pc_tab_find(c, k.pid));
	assert_int_equal(fds_on(k.pid), 0);
	pt_out_free(&o);
	close(k.cmd);
	close(k.ack);
	tfo_proccol_free(c);
}

struct unselect {
	struct tfo_proccol *c;
	pid_t pid;
};

/* unselect - the cycle's hook: pid out of this cycle's candidates, as a
 * process that fell out of the top by CPU (alive, not excluded) */
static void
unselect(void *arg)
{
	struct unselect *u = arg;
	size_t keep = 0;

	for (size_t i = 0; i < u->c->ncand; i++)
		if (u->c->cand[i].pid != u->pid)
			u->c->cand[keep++] = u->c->cand[i];
	assert_int_equal(keep + 1, u->c->ncand);
	u->c->ncand = keep;
}

/*
 * A process out of the selection for a cycle or two (the churn of the top
 * by CPU) keeps its detail files, and a report when it comes back reads
 * through the same fds; PC_DET_AGE cycles without its report close them.
 */
static void
test_unselected_kept(void **state)
{
	struct pt_out o = { 0 };
	struct tfo_proccol *c = live_col();
	struct unselect u;
	struct pc_det *d;
	struct kid k;
	uint64_t at = T0;
	int kept[PC_DET_N];

	(void)state;
	kid_start(&k);
	u = (struct unselect){ .c = c, .pid = k.pid };
	(void)report(c, at, &o, k.pid);
	assert_non_null(d = pc_det_find(c, k.pid));
	for (int i = 0; i < PC_DET_N; i++)
		kept[i] = d->fd[i];
	for (int round = 0; round < 2; round++) {
		/* PC_DET_AGE - 1 cycles without its report: kept */
		tfo_proccol_set_hook(c, unselect, &u);
		for (int i = 0; i < PC_DET_AGE - 1; i++) {
			pt_out_free(&o);
			assert_int_equal(tfo_proccol_cycle(c, at += STEP, pt_emit, &o), TFO_OK);
			assert_null(pt_of_pid(&o, k.pid));
			assert_int_equal(fds_on(k.pid), 1 + PC_DET_N);
		}
		tfo_proccol_set_hook(c, NULL, NULL);
		if (round == 0) {       /* back: read through the same fds */
			(void)report(c, at += STEP, &o, k.pid);
			assert_non_null(d = pc_det_find(c, k.pid));
			for (int i = 0; i < PC_DET_N; i++)
				assert_int_equal(d->fd[i], kept[i]);
		}
	}
	/* the PC_DET_AGE-th cycle without it: closed, its stat kept for the walk */
	tfo_proccol_set_hook(c, unselect, &u);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, at += STEP, pt_emit, &o), TFO_OK);
	tfo_proccol_set_hook(c, NULL, NULL);
	assert_null(pc_det_find(c, k.pid));
	assert_int_equal(fds_on(k.pid), 1);
	pt_out_free(&o);
	kid_stop(&k);
	tfo_proccol_free(c);
}

/* cpu_ticks - utime and stime of pid from its stat */
static void
cpu_ticks(pid_t pid, uint64_t *ut, uint64_t *st)
{
	char buf[1024];
	unsigned long long u, s;

	/* "S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime" */
	assert_int_equal(sscanf(pr_stat_tail(pid, buf, sizeof(buf)),
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s), 2);
	*ut = u;
	*st = s;
}

struct burn {
	struct kid *k;
	uint64_t ut, st;                /* its ticks when the walk was done */
};

/* burn_after_walk - the cycle's hook: note the child's CPU ticks (the
 * walk's, it was idle since), then make it burn 40 ms of CPU */
static void
burn_after_walk(void *arg)
{
	struct burn *b = arg;

	cpu_ticks(b->k->pid, &b->ut, &b->st);
	kid_do(b->k, 'b');
}

/*
 * A report is the cycle's one snapshot: a process whose files are kept
 * (status bound to its instance) is reported with the stat the walk read
 * and ranked it by, not with a second read of it a moment later: CPU it
 * burns between the walk and its report is the next cycle's. (The walk's
 * stat read is not made twice: ~a quarter of a report's cost.)
 */
static void
snapshot(int with_helper)
{
	struct tfo_priv *p = NULL;
	struct pt_out o = { 0 };
	struct tfo_proccol *c = live_col();
	struct kid k;
	struct burn b = { .k = &k };
	const rm_t *rm;
	double hz = (double)sysconf(_SC_CLK_TCK);
	uint64_t ut, st;

	if (with_helper)
		p = pt_helper_start(c, "/proc");
	kid_start(&k);
	(void)report(c, T0, &o, k.pid);            /* its files kept from here */
	tfo_proccol_set_hook(c, burn_after_walk, &b);
	rm = report(c, T0 + STEP, &o, k.pid);
	tfo_proccol_set_hook(c, NULL, NULL);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), (double)b.ut / hz, 1e-9);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=system", NULL), (double)b.st / hz,
	    1e-9);
	/* the burn is in the next cycle's report */
	cpu_ticks(k.pid, &ut, &st);
	assert_true(ut + st >= b.ut + b.st + 2);
	rm = report(c, T0 + 2 * STEP, &o, k.pid);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), (double)ut / hz, 1e-9);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=system", NULL), (double)st / hz, 1e-9);
	pt_out_free(&o);
	kid_stop(&k);
	if (p != NULL)
		pt_helper_stop(c, p);
	tfo_proccol_free(c);
}

static void
test_snapshot_direct(void **state)
{
	(void)state;
	snapshot(0);
}

static void
test_snapshot_helper(void **state)
{
	(void)state;
	snapshot(1);
}

/* ------------------------------------------------------------- pid reuse */

/* creation_of - process.creation.time of pid as the collector must say it:
 * btime + its start ticks, to the millisecond */
static void
creation_of(pid_t pid, char *out, size_t cap)
{
	char line[256], day[32];
	unsigned long long btime = 0, v;
	uint64_t ticks = pr_starttime(pid), hz = (uint64_t)sysconf(_SC_CLK_TCK), ns;
	FILE *f = fopen("/proc/stat", "r");
	struct tm tm;
	time_t s;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &v) == 1)
			btime = v;
	fclose(f);
	assert_true(btime > 0);
	ns = btime * 1000000000ull + ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
	s = (time_t)(ns / 1000000000ull);
	assert_non_null(gmtime_r(&s, &tm));
	assert_true(strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) > 0);
	snprintf(out, cap, "%s.%03uZ", day, (unsigned)(ns / 1000000ull % 1000ull));
}

/*
 * The promise "no confusion between processes" against the files kept open
 * between cycles (the collector's stat and detail files, tfo-procpriv's
 * directory and io): a process reported every cycle exits and its pid is
 * taken at once by another user's process, while every kept fd still
 * belongs to the old one. The next report for that pid is the new
 * process's alone: its owner and uid, its start time, its exe, command
 * and command line, its 3 fds and its io; and the files kept from then on
 * are the new process's.
 */
static void
reuse(int with_helper)
{
	static char *inc[] = { "^test_process_live$", "^tfo-reuse-new$" };
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	struct tfo_priv *p = NULL;
	struct pt_out o = { 0 };
	struct tfo_proccol *c;
	struct kid k;
	const rm_t *rm;
	char err[256], old_when[64], when[64], num[32];
	uint64_t rb, wb;
	pid_t pid;

	if (pr_user_add(&pr_user) != 0)
		skip();     /* a throw-away user and a chosen pid need root */
	cfg.proc_root = "";
	cfg.top_n = 1;
	cfg.cmdline_max_len = 256;
	cfg.include = inc;
	cfg.n_include = 2;
	assert_non_null(c = tfo_proccol_new(&cfg, NULL, err, sizeof(err)));
	if (with_helper)
		p = pt_helper_start(c, "/proc");
	kid_start(&k);
	pid = k.pid;
	(void)report(c, T0, &o, pid);
	rm = report(c, T0 + STEP, &o, pid);
	assert_string_equal(tu_res(rm, "process.owner"), "root");
	snprintf(old_when, sizeof(old_when), "%s", tu_res(rm, "process.creation.time"));
	assert_int_equal(fds_on(pid), 1 + PC_DET_N);
	if (p != NULL)
		assert_int_equal(pr_fds_on(tfo_priv_pid(p), pid), 2);

	kid_stop(&k);
	usleep(30000);          /* a start time some ticks later */
	if (pr_spawn_at(&pr_user, pid) != 0) {
		pt_out_free(&o);
		if (p != NULL)
			pt_helper_stop(c, p);
		tfo_proccol_free(c);
		skip();     /* no way to choose a pid here */
	}
	/* every kept fd is still the old process's */
	assert_int_equal(fds_on(pid), 1 + PC_DET_N);
	if (p != NULL)
		assert_int_equal(pr_fds_on(tfo_priv_pid(p), pid), 2);

	rm = report(c, T0 + 2 * STEP, &o, pid);
	assert_string_equal(tu_res(rm, "process.owner"), pr_user.name);
	snprintf(num, sizeof(num), "%u", (unsigned)pr_user.uid);
	assert_string_equal(tu_res(rm, "process.user.id"), num);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	assert_string_equal(tu_res(rm, "process.parent_pid"), num);
	creation_of(pid, when, sizeof(when));
	assert_string_equal(tu_res(rm, "process.creation.time"), when);
	assert_string_not_equal(when, old_when);
	assert_string_equal(tu_res(rm, "process.executable.path"), pr_user.exe);
	assert_string_equal(tu_res(rm, "process.executable.name"), "tfo-reuse-new");
	assert_string_equal(tu_res(rm, "process.command"), "tfo-reuse-new");
	assert_string_equal(tu_res(rm, "process.command_line"), "tfo-reuse-new 1000");
	assert_int_equal(tu_int(rm, "process.unix.file_descriptor.count", NULL), 3);
	assert_int_equal(tu_int(rm, "process.thread.count", NULL), 1);
	pr_io(pid, &rb, &wb);
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=read", NULL), rb);
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=write", NULL), wb);
	/* the uptime is the new process's: under the 10 s since its start */
	assert_true(tu_dbl(rm, "process.uptime", NULL) < 10.0);
	/* kept from now on: the new process's files */
	assert_int_equal(fds_on(pid), 1 + PC_DET_N);
	if (p != NULL)
		assert_int_equal(pr_fds_on(tfo_priv_pid(p), pid), 2);

	pr_kill(&pr_user);
	pt_out_free(&o);
	assert_int_equal(tfo_proccol_cycle(c, T0 + 3 * STEP, pt_emit, &o), TFO_OK);
	assert_null(pt_of_pid(&o, pid));
	assert_int_equal(fds_on(pid), 0);
	pt_out_free(&o);
	if (p != NULL)
		pt_helper_stop(c, p);
	tfo_proccol_free(c);
}

static void
test_reuse_direct(void **state)
{
	(void)state;
	reuse(0);
}

static void
test_reuse_helper(void **state)
{
	(void)state;
	reuse(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow_direct),
		cmocka_unit_test(test_follow_helper),
		cmocka_unit_test(test_exit_while_kept),
		cmocka_unit_test(test_unselected_kept),
		cmocka_unit_test(test_snapshot_direct),
		cmocka_unit_test(test_snapshot_helper),
		cmocka_unit_test_teardown(test_reuse_direct, pr_teardown),
		cmocka_unit_test_teardown(test_reuse_helper, pr_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
