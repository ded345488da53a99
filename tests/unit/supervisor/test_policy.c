/*
 * test_policy.c - unit tests of tfo-supervisor's restart policy, exit
 * reasons and /proc/<pid>/status parsing (table driven, hostile input).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/supervisor.h"

static const struct sv_limits L = { 500, 60000, 5, 300000 };

static void
test_first_death_when_ready_is_immediate(void **state)
{
	struct sv_policy p = { 0 };

	(void)state;
	assert_int_equal(sv_policy_on_death(&p, &L, 1000, 5000), 0);
	/* The next death in the streak backs off: 0.5 s, 1 s, 2 s ... */
	assert_int_equal(sv_policy_on_death(&p, &L, 2000, 500), 500);
	assert_int_equal(sv_policy_on_death(&p, &L, 3000, 500), 1000);
	assert_int_equal(sv_policy_on_death(&p, &L, 4000, 500), 2000);
	assert_int_equal(p.restarts, 4);
}

static void
test_death_before_ready_backs_off_at_once(void **state)
{
	struct sv_policy p = { 0 };

	(void)state;
	assert_int_equal(sv_policy_on_death(&p, &L, 1000, -1), 500);
	assert_int_equal(sv_policy_on_death(&p, &L, 2000, -1), 1000);
}

static void
test_backoff_is_capped(void **state)
{
	struct sv_limits l = { 500, 3000, 1000, 300000 };
	struct sv_policy p = { 0 };
	int64_t d = 0;

	(void)state;
	for (int i = 0; i < 40; i++)
		d = sv_policy_on_death(&p, &l, 1000 + i, -1);
	assert_int_equal(d, 3000);
}

static void
test_long_ready_resets_the_streak(void **state)
{
	struct sv_policy p = { 0 };

	(void)state;
	assert_int_equal(sv_policy_on_death(&p, &L, 1000, 1000), 0);
	assert_int_equal(sv_policy_on_death(&p, &L, 2000, 100), 500);
	/* ready for 60 s: the next death is a first death again */
	assert_int_equal(sv_policy_on_death(&p, &L, 70000, SV_READY_RESET_MS), 0);
}

static void
test_more_than_max_in_window_is_fatal(void **state)
{
	struct sv_policy p = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_not_equal(sv_policy_on_death(&p, &L, 1000 + i, -1), SV_FATAL_DELAY);
	assert_int_equal(sv_policy_on_death(&p, &L, 1010, -1), SV_FATAL_DELAY);
}

static void
test_window_forgets_old_deaths(void **state)
{
	struct sv_policy p = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++)
		(void)sv_policy_on_death(&p, &L, 1000 + i, -1);
	assert_int_equal(sv_policy_in_window(&p, &L, 2000), 5);
	assert_int_equal(sv_policy_in_window(&p, &L, 1000 + 300000 + 10), 0);
	assert_int_not_equal(sv_policy_on_death(&p, &L, 1000 + 300000 + 10, -1), SV_FATAL_DELAY);
}

static void
test_exit_reasons(void **state)
{
	static const struct {
		int wstatus;
		enum sv_kill why;
		int ready;
		const char *reason, *cls;       /* cls: how restarts count it */
	} t[] = {
		{ 0x0300, SV_KILL_NONE, 1, "exit 3", "exit" },
		{ 0x0300, SV_KILL_NONE, 0, "before-ready: exit 3", "exit" },
		{ SIGKILL, SV_KILL_NONE, 1, "signal SIGKILL", "crash" },
		{ SIGSEGV, SV_KILL_NONE, 1, "signal SIGSEGV", "crash" },
		{ SIGSYS, SV_KILL_NONE, 1, "seccomp violation", "seccomp" },
		{ SIGKILL, SV_KILL_HUNG, 1, "hung", "hung" },
		{ SIGKILL, SV_KILL_HUNG, 0, "before-ready: hung", "hung" },
		{ SIGKILL, SV_KILL_PROTO, 1, "protocol error", "protocol" },
		{ 0, SV_KILL_REQUEST, 0, "exit 0", "requested" },
		{ SIGTERM, SV_KILL_REQUEST, 1, "signal SIGTERM", "requested" },
	};
	struct sv_exit e;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sv_exit_describe(&e, t[i].wstatus, t[i].why, t[i].ready, 42);
		assert_string_equal(e.reason, t[i].reason);
		assert_string_equal(sv_reason_name(e.cls), t[i].cls);
		assert_int_equal(e.at, 42);
	}
	assert_string_equal(sv_reason_name(SV_R_COUNT), "unknown");
	sv_exit_describe(&e, SIGKILL, SV_KILL_NONE, 1, 1);
	assert_int_equal(e.sig, SIGKILL);
	assert_int_equal(e.code, -1);
}

static void
test_proc_status(void **state)
{
	static const char good[] = "Name:\tx\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	    "Seccomp_filters:\t1\nCapEff:\t0000000000080004\n";
	static const struct {
		const char *text;
		int rv, nnp, seccomp;
		const char *cap;
	} t[] = {
		{ good, 0, 1, 2, "0000000000080004" },
		{ "", -1, -1, -1, "" },
		{ "NoNewPrivs:\t1", -1, 1, -1, "" },                  /* truncated */
		{ "NoNewPrivs:\tx\nSeccomp:\t99\nCapEff:\tzz\n", -1, -1, -1, "" },
		{ "NoNewPrivs:\n", -1, -1, -1, "" },
		{ "CapEff:\t0000000000000000000000000000000000000000\n", -1, -1, -1, "" },
		{ "NoNewPrivsX:\t1\nSeccomp:\t0\nCapEff:\t0\n", -1, -1, 0, "0" },
	};
	struct sv_sandbox sb;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(sv_proc_status_parse(t[i].text, strlen(t[i].text), &sb), t[i].rv);
		assert_int_equal(sb.no_new_privs, t[i].nnp);
		assert_int_equal(sb.seccomp, t[i].seccomp);
		assert_string_equal(sb.cap_eff, t[i].cap);
	}
	/* a length shorter than the text: nothing past it is read */
	assert_int_equal(sv_proc_status_parse(good, 10, &sb), -1);
	assert_int_equal(sv_proc_status_read(getpid(), &sb), 0);
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(sv_state_name(SV_BACKOFF), "backoff");
	assert_string_equal(sv_state_name(SV_FATAL), "fatal");
	assert_string_equal(sv_signal_name(SIGTERM), "SIGTERM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_death_when_ready_is_immediate),
		cmocka_unit_test(test_death_before_ready_backs_off_at_once),
		cmocka_unit_test(test_backoff_is_capped),
		cmocka_unit_test(test_long_ready_resets_the_streak),
		cmocka_unit_test(test_more_than_max_in_window_is_fatal),
		cmocka_unit_test(test_window_forgets_old_deaths),
		cmocka_unit_test(test_exit_reasons),
		cmocka_unit_test(test_proc_status),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
