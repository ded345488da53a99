/*
 * test_idlelook.c - the supervisor's look before a ping (supervisor/
 * looks.c): only a worker sleeping in epoll_wait counts as idle in its
 * loop. A stopped one (whose syscall file still names the epoll_wait it
 * was stopped in), one blocked anywhere else (a hang: pause, a read of a
 * pipe), one running, and one dead must all be pinged, or a hang would go
 * unkilled.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/supervisor.h"

static void
test_judge(void **state)
{
	(void)state;
	assert_true(sv_idle_judge('S', SYS_epoll_wait));
	assert_true(sv_idle_judge('S', SYS_epoll_pwait));
	assert_false(sv_idle_judge('T', SYS_epoll_wait));       /* SIGSTOP */
	assert_false(sv_idle_judge('t', SYS_epoll_wait));       /* traced */
	assert_false(sv_idle_judge('D', SYS_epoll_wait));
	assert_false(sv_idle_judge('R', SYS_epoll_wait));
	assert_false(sv_idle_judge('S', SYS_pause));
	assert_false(sv_idle_judge('S', SYS_read));
	assert_false(sv_idle_judge('S', SYS_futex));
	assert_false(sv_idle_judge('S', SYS_poll));
	assert_false(sv_idle_judge('S', -1));
}

/* child_in - a child that sleeps in epoll_wait (how = 'e'), in pause ('p'),
 * or spins ('r') */
static pid_t
child_in(char how)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (how == 'e') {
		struct epoll_event ev;
		int ep = epoll_create1(0);

		for (;;)
			(void)epoll_wait(ep, &ev, 1, -1);
	}
	if (how == 'p')
		for (;;)
			pause();
	for (volatile unsigned long n = 0;; n++)
		;
}

/* settle - let the child reach its wait (its syscall file says so) */
static void
settle(void)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void
worker_of(struct sv_worker *w, pid_t pid)
{
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->look_fd[0] = w->look_fd[1] = -1;
}

static void
reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void
test_live_epoll(void **state)
{
	struct sv_worker w;
	pid_t pid = child_in('e');

	(void)state;
	settle();
	worker_of(&w, pid);
	assert_true(sv_loop_idle(&w));
	assert_true(w.look_fd[0] >= 0 && w.look_fd[1] >= 0);
	assert_true(sv_loop_idle(&w));          /* read again through the kept fds */
	/* stopped in its wait: the syscall file still says epoll_wait */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	settle();
	assert_false(sv_loop_idle(&w));
	assert_int_equal(kill(pid, SIGCONT), 0);
	settle();
	assert_true(sv_loop_idle(&w));
	/* dead (a zombie) and reaped: never idle, the kept fds never lie */
	assert_int_equal(kill(pid, SIGKILL), 0);
	settle();
	assert_false(sv_loop_idle(&w));
	reap(pid);
	assert_false(sv_loop_idle(&w));
	sv_look_close(&w);
	assert_int_equal(w.look_fd[0], -1);
	assert_int_equal(w.look_fd[1], -1);
}

static void
test_live_not_idle(void **state)
{
	struct sv_worker w;
	pid_t p = child_in('p'), r = child_in('r');

	(void)state;
	settle();
	worker_of(&w, p);
	assert_false(sv_loop_idle(&w));         /* a hang: blocked, not in its loop */
	sv_look_close(&w);
	worker_of(&w, r);
	assert_false(sv_loop_idle(&w));         /* running */
	sv_look_close(&w);
	worker_of(&w, 0);
	assert_false(sv_loop_idle(&w));         /* no process */
	reap(p);
	reap(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_live_epoll),
		cmocka_unit_test(test_live_not_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
