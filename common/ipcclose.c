/*
 * ipcclose.c - nng_close with a bound (see ipcclose.h).
 */
#include "common/ipcclose.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/thread.h"

struct closer {
	nng_socket s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;         /* nng_close returned */
	int abandoned;    /* the caller stopped waiting: the thread frees */
};

static void
closer_free(struct closer *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void *
closer_main(void *arg)
{
	struct closer *c = arg;
	int mine;

	nng_close(c->s);
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	mine = c->abandoned;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (mine)
		closer_free(c);
	return NULL;
}

/* closer_new - the state, its condition variable on the monotonic clock */
static struct closer *
closer_new(nng_socket s)
{
	struct closer *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->s = s;
	if (tfo_cond_init_mono(&c->cv) != 0) {
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		pthread_cond_destroy(&c->cv);
		free(c);
		return NULL;
	}
	return c;
}

int
tfo_ipc_close(nng_socket s, const char *what, int timeout_ms)
{
	struct closer *c = closer_new(s);
	struct timespec until;
	int ms = timeout_ms > 0 ? timeout_ms : TFO_IPC_CLOSE_MS, done;

	/* it only calls nng_close: a small stack */
	if (c == NULL || tfo_thread_start_quiet(NULL, closer_main, c, 64 * 1024) != 0) {
		if (c != NULL)
			closer_free(c);
		nng_close(s);        /* no thread to spare: the plain, unbounded close */
		return 0;
	}
	until = tfo_mono_deadline((unsigned)ms);
	pthread_mutex_lock(&c->mu);
	while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	done = c->done;
	c->abandoned = !done;
	pthread_mutex_unlock(&c->mu);
	if (done) {
		closer_free(c);
		return 0;
	}
	log_warn("%s: closing its socket did not finish within %d ms (an nng 1.5 close race); "
	    "left to finish in the background", what ? what : "ipc", ms);
	return -1;
}
