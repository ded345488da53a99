/*
 * test_ipcclose.c - tfo_ipc_close: a close that finishes returns 0 at once; a
 * close nng holds (here a pipe callback that blocks, as the pipe orphaned by
 * nng 1.5.2's close race holds it) returns -1 within its bound and leaves a
 * thread that finishes the close, and frees itself, once nng lets go.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/ipcclose.h"
#include "tests/lib/threads.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int up, hold, held;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_up(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p, (void)ev, (void)arg;
	pthread_mutex_lock(&mu);
	up = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* on_down - the pipe's removal waits here while `hold` is set */
static void
on_down(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p, (void)ev, (void)arg;
	pthread_mutex_lock(&mu);
	held = 1;
	while (hold)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

struct pair {
	char dir[32], path[64];
	nng_socket rep, req;
};

/* pair_up - a REP listener and a REQ dialer with a live pipe between them */
static void
pair_up(struct pair *p)
{
	char url[96];

	snprintf(p->dir, sizeof(p->dir), "/tmp/tfo-ipcclose-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/t.ipc", p->dir);
	snprintf(url, sizeof(url), "ipc://%s", p->path);
	up = 0;
	assert_int_equal(nng_rep0_open(&p->rep), 0);
	assert_int_equal(nng_listen(p->rep, url, NULL, 0), 0);
	assert_int_equal(nng_req0_open(&p->req), 0);
	assert_int_equal(nng_pipe_notify(p->req, NNG_PIPE_EV_ADD_POST, on_up, NULL), 0);
	assert_int_equal(nng_pipe_notify(p->req, NNG_PIPE_EV_REM_POST, on_down, NULL), 0);
	assert_int_equal(nng_dial(p->req, url, NULL, 0), 0);
	pthread_mutex_lock(&mu);
	while (!up)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void
done(struct pair *p)
{
	assert_int_equal(tfo_ipc_close(p->rep, "test rep", 0), 0);
	unlink(p->path);
	rmdir(p->dir);
}

static void
test_close_finishes(void **state)
{
	struct pair p;
	uint64_t t0;

	(void)state;
	pair_up(&p);
	t0 = now_ms();
	assert_int_equal(tfo_ipc_close(p.req, "test req", 0), 0);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(nng_send(p.req, "x", 1, 0), NNG_ECLOSED);
	done(&p);
}

static void
test_close_held(void **state)
{
	int before;
	struct pair p;
	uint64_t t0, t;

	(void)state;
	pair_up(&p);
	before = tfo_test_threads();
	hold = 1;
	t0 = now_ms();
	assert_int_equal(tfo_ipc_close(p.req, "test req", 300), -1);
	t = now_ms() - t0;
	assert_true(t >= 300 && t < 2000);
	pthread_mutex_lock(&mu);
	assert_true(held);              /* nng was closing the pipe, held by us */
	hold = 0;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	/* the closer finishes the close, frees itself and ends */
	for (t0 = now_ms(); tfo_test_threads() > before && now_ms() - t0 < 5000;)
		usleep(10000);
	assert_int_equal(tfo_test_threads(), before);
	assert_int_equal(nng_send(p.req, "x", 1, 0), NNG_ECLOSED);
	done(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_finishes),
		cmocka_unit_test(test_close_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
