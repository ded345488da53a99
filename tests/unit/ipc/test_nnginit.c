/*
 * test_nnginit.c - nng started by tfo_nng_init runs 10 threads whatever the
 * CPU count (nng 1.5 alone: 7 + 3 per CPU, 13 on a 2-CPU host), sysconf
 * answers the real CPU count outside the window, and nng works: a request
 * and its reply over ipc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/nnginit.h"
#include "tests/lib/threads.h"

static void
test_threads(void **state)
{
	int before = tfo_test_threads();

	(void)state;
	assert_int_equal(tfo_nng_init(), 0);
	/* 2 task, 1 expiry, reaper, timer, poller, 4 resolver */
	assert_int_equal(tfo_test_threads() - before, 10);
	assert_int_equal(sysconf(_SC_NPROCESSORS_ONLN), get_nprocs());
	assert_int_equal(sysconf(_SC_NPROCESSORS_CONF), get_nprocs_conf());
	assert_true(sysconf(_SC_PAGESIZE) >= 4096);
}

static void
test_nng_works(void **state)
{
	char dir[] = "/tmp/tfo-nnginit-XXXXXX", url[96], path[64];
	nng_socket rep, req;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.ipc", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listen(rep, url, NULL, 0), 0);
	assert_int_equal(nng_req0_open(&req), 0);
	assert_int_equal(nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_dial(req, url, NULL, 0), 0);
	assert_int_equal(nng_send(req, "ping", 4, 0), 0);
	assert_int_equal(nng_recv(rep, &buf, &len, NNG_FLAG_ALLOC), 0);
	assert_int_equal(len, 4);
	nng_free(buf, len);
	assert_int_equal(nng_send(rep, "pong", 4, 0), 0);
	assert_int_equal(nng_recv(req, &buf, &len, NNG_FLAG_ALLOC), 0);
	assert_memory_equal(buf, "pong", 4);
	nng_free(buf, len);
	nng_close(req);
	nng_close(rep);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_nng_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
