/*
 * test_status_line.c - the supervisor's one-line summary (systemd STATUS=,
 * tfoctl status): the buffer's "disk full" status is shown, and a worker's
 * text can never add a line to the sd_notify message (a newline there would
 * let a compromised buffer send READY=1 or WATCHDOG=1 in the supervisor's
 * name) nor run past its bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/supervisor.h"

static struct sv sv;

static void
setup_buffer(const char *text, enum sv_state state)
{
	memset(&sv, 0, sizeof(sv));
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		sv.w[r].enabled = r == TFO_ROLE_BUFFER || r == TFO_ROLE_EXPORTER;
		sv.w[r].state = SV_READY;
	}
	sv.w[TFO_ROLE_BUFFER].state = state;
	/* as on_pong keeps a Pong's status (every Pong carries it, stats or not) */
	sv_copy_printable(sv.w[TFO_ROLE_BUFFER].said, sizeof(sv.w[TFO_ROLE_BUFFER].said), text);
}

static void
test_disk_full_shown(void **state)
{
	char line[SV_STATUS_MAX];

	(void)state;
	setup_buffer("disk full at /var/lib/tfo-agent/buffer (0 MiB free), dropping oldest",
	    SV_READY);
	sv_status_line(&sv, line, sizeof(line));
	assert_string_equal(line, "2/2 workers ready; buffer: disk full at "
	    "/var/lib/tfo-agent/buffer (0 MiB free), dropping oldest");
	setup_buffer("", SV_READY);
	sv_status_line(&sv, line, sizeof(line));
	assert_string_equal(line, "2/2 workers ready");
	/* what a buffer no longer ready said is not shown */
	setup_buffer("disk full at /x (0 MiB free), dropping oldest", SV_BACKOFF);
	sv_status_line(&sv, line, sizeof(line));
	assert_string_equal(line, "1/2 workers ready");
}

static void
test_hostile_text(void **state)
{
	char line[SV_STATUS_MAX], big[4096];

	(void)state;
	setup_buffer("x\nREADY=1\nWATCHDOG=1\x1b[2J\x7f\xff", SV_READY);
	sv_status_line(&sv, line, sizeof(line));
	assert_null(strchr(line, '\n'));
	for (const char *p = line; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setup_buffer(big, SV_READY);
	sv_status_line(&sv, line, sizeof(line));
	assert_true(strlen(line) < SV_STATUS_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full_shown),
		cmocka_unit_test(test_hostile_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
