/*
 * test_worker_dir.c - where tfo-supervisor looks for its workers (issue 24
 * §4): an installed supervisor uses libexec and nothing else, whatever the
 * compile-time build dir holds; only the build tree's own binary uses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/spawn.h"

static void
test_pick(void **state)
{
	static const char lx[] = "/usr/libexec/tfo-agent", build[] = "/src/build/bin";

	(void)state;
	assert_string_equal(sv_worker_dir_pick("/usr/bin", build, lx), lx);
	assert_string_equal(sv_worker_dir_pick("/usr/local/bin", build, lx), lx);
	/* no fallback: a missing libexec never leads elsewhere */
	assert_string_equal(sv_worker_dir_pick("/opt/x/bin", NULL, lx), lx);
	assert_string_equal(sv_worker_dir_pick(NULL, build, lx), lx);
	assert_string_equal(sv_worker_dir_pick("/src/build/bin/", build, lx), lx);
	assert_string_equal(sv_worker_dir_pick(build, build, lx), build);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
