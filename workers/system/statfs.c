/*
 * statfs.c - the statvfs helper thread of tfo-system (see statfs.h): a
 * long-lived thread fed a list of mountpoints per cycle; the loop thread
 * waits with a deadline and abandons a thread stuck in the kernel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/thread.h"
#include "common/zarray.h"
#include "workers/system/statfs.h"

struct sf_ctx {
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* job posted / job done */
	pthread_t thr;
	tfo_statvfs_fn fn;
	int refs;                       /* owner + thread; last one frees */
	int quit, abandoned, exited;
	int has_job, done;
	size_t n, next, cap;            /* next = index in progress */
	char (*paths)[SYS_STATFS_PATH_MAX];
	struct sys_statfs_res *res;
};

struct sys_statfs {
	tfo_statvfs_fn fn;
	struct sf_ctx *live;
	struct sf_ctx *stuck[SYS_STATFS_MAX_STUCK];
	char stuck_path[SYS_STATFS_MAX_STUCK][SYS_STATFS_PATH_MAX];
	size_t nstuck;
};

static void
ctx_unref_locked(struct sf_ctx *x)
{
	int last = --x->refs == 0;

	pthread_mutex_unlock(&x->mu);
	if (last) {
		pthread_mutex_destroy(&x->mu);
		pthread_cond_destroy(&x->cv);
		free(x->paths);
		free(x->res);
		free(x);
	}
}

static void *
sf_thread(void *arg)
{
	struct sf_ctx *x = arg;
	char path[SYS_STATFS_PATH_MAX];

	pthread_mutex_lock(&x->mu);
	for (;;) {
		struct statvfs st;
		size_t i;
		int rc;

		while (!x->has_job && !x->quit)
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->quit)
			break;
		i = x->next;
		memcpy(path, x->paths[i], sizeof(path));
		pthread_mutex_unlock(&x->mu);
		memset(&st, 0, sizeof(st));
		rc = x->fn(path, &st) == 0 ? 0 : (errno != 0 ? errno : EIO);
		pthread_mutex_lock(&x->mu);
		if (x->abandoned)
			break;
		x->res[i].status = rc;
		x->res[i].st = st;
		if (++x->next == x->n) {
			x->has_job = 0;
			x->done = 1;
			pthread_cond_broadcast(&x->cv);
		}
	}
	x->exited = 1;
	ctx_unref_locked(x);
	return NULL;
}

/* ctx_new - a fresh thread with signals blocked (the loop thread owns them) */
static struct sf_ctx *
ctx_new(tfo_statvfs_fn fn)
{
	struct sf_ctx *x = calloc(1, sizeof(*x));
	int rc;

	if (x == NULL)
		return NULL;
	pthread_mutex_init(&x->mu, NULL);
	(void)tfo_cond_init_mono(&x->cv);
	x->fn = fn;
	x->refs = 2;
	rc = tfo_thread_start_quiet(&x->thr, sf_thread, x, 0);
	if (rc != 0) {
		pthread_mutex_destroy(&x->mu);
		pthread_cond_destroy(&x->cv);
		free(x);
		return NULL;
	}
	return x;
}

struct sys_statfs *
sys_statfs_new(tfo_statvfs_fn fn)
{
	/* from mmap: the stuck mounts' paths (16 KiB) are written only when a
	 * mount hangs; calloc zeroed them resident */
	struct sys_statfs *sf = tfo_zarray_alloc(1, sizeof(*sf));

	if (sf != NULL)
		sf->fn = fn != NULL ? fn : statvfs;
	return sf;
}

void
sys_statfs_set_fn(struct sys_statfs *sf, tfo_statvfs_fn fn)
{
	sf->fn = fn != NULL ? fn : statvfs;
	if (sf->live != NULL) {
		pthread_mutex_lock(&sf->live->mu);
		sf->live->fn = sf->fn;
		pthread_mutex_unlock(&sf->live->mu);
	}
}

void
sys_statfs_reap(struct sys_statfs *sf)
{
	size_t j = 0;

	for (size_t i = 0; i < sf->nstuck; i++) {
		struct sf_ctx *x = sf->stuck[i];
		pthread_mutex_lock(&x->mu);
		if (x->exited) {
			ctx_unref_locked(x);
			continue;
		}
		pthread_mutex_unlock(&x->mu);
		if (j != i)
			memcpy(sf->stuck_path[j], sf->stuck_path[i], SYS_STATFS_PATH_MAX);
		sf->stuck[j++] = x;
	}
	sf->nstuck = j;
}

int
sys_statfs_is_stuck(struct sys_statfs *sf, const char *path)
{
	for (size_t i = 0; i < sf->nstuck; i++)
		if (strcmp(sf->stuck_path[i], path) == 0)
			return 1;
	return 0;
}

void
sys_statfs_stuck_list(struct sys_statfs *sf, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sf->nstuck && o < cap; i++) {
		int n = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", sf->stuck_path[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* ctx_reserve - room for n paths; only while the thread has no job */
static int
ctx_reserve(struct sf_ctx *x, size_t n)
{
	void *p, *r;

	if (n <= x->cap)
		return 0;
	if ((p = realloc(x->paths, n * sizeof(*x->paths))) == NULL)
		return -1;
	x->paths = p;
	if ((r = realloc(x->res, n * sizeof(*x->res))) == NULL)
		return -1;
	x->res = r;
	x->cap = n;
	return 0;
}

enum tfo_err
sys_statfs_submit(struct sys_statfs *sf, const char *const *paths, size_t n)
{
	struct sf_ctx *x;

	if (sf->live == NULL) {
		if (sf->nstuck >= SYS_STATFS_MAX_STUCK)
			return TFO_EAGAIN;
		if ((sf->live = ctx_new(sf->fn)) == NULL)
			return TFO_ENOMEM;
	}
	x = sf->live;
	pthread_mutex_lock(&x->mu);
	if (ctx_reserve(x, n) != 0) {
		pthread_mutex_unlock(&x->mu);
		return TFO_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(x->paths[i], SYS_STATFS_PATH_MAX, "%s", paths[i]);
		x->res[i].status = ETIMEDOUT;
	}
	x->n = n;
	x->next = 0;
	x->done = n == 0;
	x->has_job = n > 0;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	return TFO_OK;
}

int
sys_statfs_wait(struct sys_statfs *sf, unsigned timeout_ms, struct sys_statfs_res *res)
{
	struct sf_ctx *x = sf->live;
	struct timespec dl;

	if (x == NULL || x->n == 0)
		return 0;
	dl = tfo_mono_deadline(timeout_ms);
	pthread_mutex_lock(&x->mu);
	while (!x->done)
		if (pthread_cond_timedwait(&x->cv, &x->mu, &dl) == ETIMEDOUT)
			break;
	memcpy(res, x->res, x->n * sizeof(*res));
	if (x->done) {
		pthread_mutex_unlock(&x->mu);
		return 0;
	}
	/* stuck in the kernel: abandon this thread, skip its path from now on */
	x->abandoned = 1;
	x->has_job = 0;
	memcpy(sf->stuck_path[sf->nstuck], x->paths[x->next], SYS_STATFS_PATH_MAX);
	pthread_mutex_unlock(&x->mu);
	pthread_detach(x->thr);
	sf->stuck[sf->nstuck++] = x;
	sf->live = NULL;
	return 1;
}

void
sys_statfs_free(struct sys_statfs *sf)
{
	if (sf == NULL)
		return;
	if (sf->live != NULL) {
		struct sf_ctx *x = sf->live;
		pthread_t t = x->thr;
		pthread_mutex_lock(&x->mu);
		x->quit = 1;
		pthread_cond_broadcast(&x->cv);
		pthread_mutex_unlock(&x->mu);
		pthread_join(t, NULL);
		pthread_mutex_lock(&x->mu);
		ctx_unref_locked(x);
	}
	for (size_t i = 0; i < sf->nstuck; i++) {
		pthread_mutex_lock(&sf->stuck[i]->mu);
		ctx_unref_locked(sf->stuck[i]);     /* the thread frees it if still inside */
	}
	tfo_zarray_free(sf, 1, sizeof(*sf));
}
