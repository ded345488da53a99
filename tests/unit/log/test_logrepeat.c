/*
 * test_logrepeat.c - a failure met on every attempt is logged once, then
 * counted: also when its cause carries a figure that changes from attempt to
 * attempt ("(0 MiB free)", "(1 MiB free)"); a different message or level
 * starts a new burst, and the end of a burst reports its count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/logrepeat.h"
#include "tests/lib/logcapture.h"

static struct tfo_test_capture cap;

static void
test_changing_figures_one_burst(void **state)
{
	struct tfo_logrepeat r = { 0 };
	char *out;
	int lines;

	(void)state;
	tfo_test_capture_start(&cap, "logs", TFO_LOG_TEXT);
	for (int i = 0; i < 10; i++)
		tfo_logrepeat(&r, TFO_LOG_WARN, "logs: buffer busy: disk full at /s/buffer (%d MiB "
		    "free), dropping oldest", i % 2);
	tfo_logrepeat_end(&r);
	out = tfo_test_capture_end(&cap, NULL, &lines);
	assert_int_equal(lines, 2);
	assert_non_null(strstr(out, "(0 MiB free), dropping oldest\n"));
	/* the count line carries the latest figure */
	assert_non_null(strstr(out, "(1 MiB free), dropping oldest (9 more times in 0 s, 10 in all)"));
	free(out);
}

static void
test_other_message_or_level_new_burst(void **state)
{
	struct tfo_logrepeat r = { 0 };
	char *out;
	int lines;

	(void)state;
	tfo_test_capture_start(&cap, "logs", TFO_LOG_TEXT);
	tfo_logrepeat(&r, TFO_LOG_WARN, "put failed: disk full (%d MiB free)", 3);
	tfo_logrepeat(&r, TFO_LOG_WARN, "put failed: disk full (%d MiB free)", 4);
	tfo_logrepeat(&r, TFO_LOG_WARN, "put failed: store not open");        /* new text */
	tfo_logrepeat(&r, TFO_LOG_ERROR, "put failed: store not open");       /* new level */
	tfo_logrepeat(&r, TFO_LOG_ERROR, "put failed: store not open 7");     /* a number more */
	tfo_logrepeat_end(&r);
	out = tfo_test_capture_end(&cap, NULL, &lines);
	/* first, its count as the burst ended, and each new one */
	assert_int_equal(lines, 5);
	assert_non_null(strstr(out, "(4 MiB free) (1 more times"));
	assert_non_null(strstr(out, "warn: put failed: store not open\n"));
	assert_non_null(strstr(out, "error: put failed: store not open\n"));
	assert_non_null(strstr(out, "error: put failed: store not open 7\n"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changing_figures_one_burst),
		cmocka_unit_test(test_other_message_or_level_new_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
