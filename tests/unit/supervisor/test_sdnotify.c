/*
 * test_sdnotify.c - tfo-supervisor's sd_notify without libsystemd: the
 * datagram reaches a path socket and an abstract one, nothing is sent
 * without NOTIFY_SOCKET, bad addresses are refused; WATCHDOG_USEC and
 * WATCHDOG_PID as sd_watchdog_enabled(3) reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/sdnotify.h"

/* listener - a datagram socket at path ("@x": abstract) */
static int
listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'))), 0);
	return fd;
}

static void
expect(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_notify(void **state)
{
	char dir[] = "/tmp/tfo-sdnotify-XXXXXX", path[64], abs[64];
	char longp[200];
	int fd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify.sock", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(tfo_sd_notify("READY=1\nSTATUS=6/6 workers ready"), 1);
	expect(fd, "READY=1\nSTATUS=6/6 workers ready");

	snprintf(abs, sizeof(abs), "@tfo-sdnotify-%d", (int)getpid());
	afd = listener(abs);
	setenv("NOTIFY_SOCKET", abs, 1);
	assert_int_equal(tfo_sd_notify("WATCHDOG=1"), 1);
	expect(afd, "WATCHDOG=1");

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(tfo_sd_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(tfo_sd_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_true(tfo_sd_notify("READY=1") < 0);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_true(tfo_sd_notify("READY=1") < 0);
	snprintf(longp, sizeof(longp), "%s/nobody-listens", dir);
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_true(tfo_sd_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	close(afd);
	unlink(path);
	rmdir(dir);
}

static void
test_watchdog(void **state)
{
	char pid[32];
	uint64_t us = 0;

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(tfo_sd_watchdog_usec(&us), 0);
	setenv("WATCHDOG_USEC", "400000", 1);
	assert_int_equal(tfo_sd_watchdog_usec(&us), 1);
	assert_int_equal(us, 400000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(tfo_sd_watchdog_usec(&us), 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(tfo_sd_watchdog_usec(&us), 0);     /* another process's */
	setenv("WATCHDOG_PID", "x1", 1);
	assert_int_equal(tfo_sd_watchdog_usec(&us), 0);
	unsetenv("WATCHDOG_PID");
	static const char *const bad[] = { "0", "", "-5", "12x", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(tfo_sd_watchdog_usec(&us), 0);
	}
	unsetenv("WATCHDOG_USEC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
