/*
 * test_diskwait.c - the supervisor's look at a worker that stopped answering
 * (supervisor/diskwait.c): blocked on storage (not killed) or hung (killed).
 * /proc's text is read as hostile; a wait for a peer (a FIFO's open, a
 * socket's read) is never taken for a wait on the disk, since that is the
 * hang the check exists for. And the one-line status names the wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/supervisor.h"

static void
test_stat_state(void **state)
{
	(void)state;
	assert_int_equal(sv_stat_state("123 (tfo-buffer) S 1 123 123 0 -1"), 'S');
	assert_int_equal(sv_stat_state("123 (tfo-buffer) D 1 123"), 'D');
	/* a comm holding ") R " is the worker's to choose: the last ')' counts */
	assert_int_equal(sv_stat_state("123 (x) R (y) D 1 2"), 'D');
	assert_int_equal(sv_stat_state("123 (x)"), '\0');
	assert_int_equal(sv_stat_state("123 (x) "), '\0');
	assert_int_equal(sv_stat_state("123 (x) Q 1"), '\0');
	assert_int_equal(sv_stat_state("no paren at all"), '\0');
	assert_int_equal(sv_stat_state(""), '\0');
}

static void
test_syscall_parse(void **state)
{
	unsigned long long a0;
	long nr;

	(void)state;
	assert_int_equal(sv_syscall_parse("75 0x5 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f12\n", &nr, &a0),
	    0);
	assert_int_equal(nr, 75);
	assert_int_equal(a0, 5);
	assert_int_equal(sv_syscall_parse("running\n", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("-1 0x7ffc 0x7f12\n", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("75 zz 0x0\n", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("75", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("99999999999999999999999 0x1 0x2", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("75 0xffffffffffffffffffffff 0x2", &nr, &a0), -1);
	assert_int_equal(sv_syscall_parse("", &nr, &a0), -1);
}

static void
test_judge(void **state)
{
	char what[48];

	(void)state;
	/* a sync waits on storage only, whatever the fd */
	assert_int_equal(sv_disk_wait_judge('S', SYS_fdatasync, 0, what, sizeof(what)), 1);
	assert_string_equal(what, "in fdatasync, state S");
	assert_int_equal(sv_disk_wait_judge('S', SYS_fsync, 1, what, sizeof(what)), 1);
	/* a read or write counts on a file, not on a socket or a pipe */
	assert_int_equal(sv_disk_wait_judge('S', SYS_read, 1, what, sizeof(what)), 1);
	assert_int_equal(sv_disk_wait_judge('S', SYS_read, 0, what, sizeof(what)), 0);
	assert_int_equal(sv_disk_wait_judge('S', SYS_pwrite64, 0, what, sizeof(what)), 0);
	/* a path call sleeping interruptibly may wait for a FIFO's writer */
	assert_int_equal(sv_disk_wait_judge('S', SYS_openat, 0, what, sizeof(what)), 0);
	/* uninterruptible: I/O, whatever the call; a page fault too */
	assert_int_equal(sv_disk_wait_judge('D', SYS_openat, 0, what, sizeof(what)), 1);
	assert_string_equal(what, "in openat, state D");
	assert_int_equal(sv_disk_wait_judge('D', -1, 0, what, sizeof(what)), 1);
	assert_string_equal(what, "in a page fault, state D");
	/* the hangs: waiting for a peer, running, stopped */
	assert_int_equal(sv_disk_wait_judge('S', SYS_futex, 0, what, sizeof(what)), 0);
	assert_int_equal(sv_disk_wait_judge('S', SYS_epoll_wait, 0, what, sizeof(what)), 0);
	assert_int_equal(sv_disk_wait_judge('S', SYS_poll, 0, what, sizeof(what)), 0);
	assert_int_equal(sv_disk_wait_judge('R', SYS_fdatasync, 1, what, sizeof(what)), 0);
	assert_int_equal(sv_disk_wait_judge('T', SYS_fdatasync, 1, what, sizeof(what)), 0);
}

/* this very process, sleeping in poll(): not a wait on the disk; its own
 * pid read from /proc the way the supervisor reads a worker's */
static void
test_live_not_disk(void **state)
{
	static const pid_t pids[] = { 0, -1, 0 };
	struct sv_worker w;
	char what[48] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		memset(&w, 0, sizeof(w));
		w.pid = i == 2 ? getpid() : pids[i];    /* running, then none */
		w.look_fd[0] = w.look_fd[1] = -1;
		assert_int_equal(sv_disk_wait(&w, what, sizeof(what)), 0);
		sv_look_close(&w);
	}
}

static void
test_status_names_wait(void **state)
{
	static struct sv sv;
	char line[SV_STATUS_MAX];

	(void)state;
	memset(&sv, 0, sizeof(sv));
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		sv.w[r].role = (enum tfo_role)r;
		sv.w[r].enabled = r == TFO_ROLE_BUFFER || r == TFO_ROLE_EXPORTER;
		sv.w[r].state = SV_READY;
	}
	sv.w[TFO_ROLE_BUFFER].disk_since_ms = sv_now_ms() - 12500;
	snprintf(sv.w[TFO_ROLE_BUFFER].disk_what, sizeof(sv.w[TFO_ROLE_BUFFER].disk_what),
	    "in fdatasync, state D");
	sv_status_line(&sv, line, sizeof(line));
	assert_string_equal(line, "2/2 workers ready; buffer waiting on the disk 12 s "
	    "(in fdatasync, state D)");
	assert_string_equal(sv_worker_state_name(&sv.w[TFO_ROLE_BUFFER]), "disk-wait");
	assert_string_equal(sv_worker_state_name(&sv.w[TFO_ROLE_EXPORTER]), "ready");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_state),
		cmocka_unit_test(test_syscall_parse),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_live_not_disk),
		cmocka_unit_test(test_status_names_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
