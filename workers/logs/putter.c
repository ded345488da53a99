/*
 * putter.c - tfo-logs (runs as tfo-logs): the put thread behind the tailer's
 * asynchronous sink. The loop hands over a finished batch and goes on
 * framing; the thread waits for the buffer's answer (group commit and fsync:
 * milliseconds) and wakes the loop through a pipe. See putter.h.
 */
#include "workers/logs/putter.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/logrepeat.h"

/* LZ4 acceleration: 4 costs ~7 % of the ratio and saves ~1/3 of the time
 * (measured on bench-logs-e2e varied lines) */
#define TFO_LOGS_LZ4_ACCEL 4

struct putter {
	struct tfo_bufclient *bc;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int job, done, quit;       /* under mu */
	/* the put in flight: the tailer keeps payload and checkpoints alive */
	const uint8_t *p;
	size_t len;
	uint32_t records;
	const Tfo__V1__Checkpoint **cps;
	size_t ncps, cpcap;
	enum tfo_err result;
	uint32_t retry_after_ms;
	int running;               /* the thread was started */
	int zn;                    /* z holds the job's LZ4 block of zn bytes (0: send raw), or -1 */
	/* thread side only (swapped with the loop's under mu, between jobs) */
	int resend;
	struct tfo_logrepeat putlog;   /* failed puts: once a run, with a count */
	char *z;                   /* the batch as an LZ4 block */
	size_t zcap;
	/* loop side only: a sealed batch compressed while a put was in flight */
	const uint8_t *sp;
	size_t slen;
	int sn;
	char *sz;
	size_t szcap;
	int wfd[2];
	struct event *ev;
	void (*wake)(void *);
	void *arg;
};

/*
 * compress - p as one LZ4 block in *z (grown to fit): its size, or 0 to send
 * it as it is (no gain, or no memory). Here in tfo-logs, and not in
 * tfo-buffer: the buffer's one thread stores every collector's puts. The put
 * thread compresses a batch it is given; the loop compresses one that waits
 * for the put in flight (putter_seal), so compressing overlaps that put.
 */
static int
compress(char **z, size_t *zcap, const uint8_t *p, size_t len)
{
	size_t bound;
	int n;

	if (len > LZ4_MAX_INPUT_SIZE)
		return 0;
	bound = (size_t)LZ4_compressBound((int)len);
	if (bound > *zcap) {
		char *nz = realloc(*z, bound);
		if (nz == NULL)
			return 0;
		*z = nz;
		*zcap = bound;
	}
	n = LZ4_compress_fast((const char *)p, *z, (int)len, (int)*zcap, TFO_LOGS_LZ4_ACCEL);
	return n > 0 && (size_t)n < len ? n : 0;
}

/*
 * put_logged - a failed put is logged once for a run of the same failure,
 * with a count; Busy names the buffer's cause ("disk full at ...") as the
 * metric collectors do. The batch is kept and sent again in every case. A
 * put that succeeds does not end the run: on a full disk Busy and success
 * alternate (each drop of the oldest makes room for a put or two), and
 * ending the run there logged a line per Busy answer again. The count is
 * logged at the next failure a minute on, or when tfo-logs stops.
 */
static void
put_logged(struct putter *pu, enum tfo_err e)
{
	const char *why = pu->bc->error;

	if (e == TFO_OK)
		return;
	if (e == TFO_EAGAIN)
		tfo_logrepeat(&pu->putlog, TFO_LOG_WARN, "logs: buffer busy: %s; batch kept, "
		    "retrying", why[0] ? why : "no reason given");
	else if (e == TFO_EINVAL)
		tfo_logrepeat(&pu->putlog, TFO_LOG_ERROR, "logs: buffer refused a batch (%s); "
		    "kept, retrying", why);
	else
		tfo_logrepeat(&pu->putlog, TFO_LOG_WARN, "logs: put failed: %s; retrying",
		    tfo_strerror(e));
}

/*
 * put_once - one put with block_when_full. A failed put comes back as the
 * very same batch (the tailer's rule), so it goes out under the same seq and
 * the buffer stores it once even if the first one landed.
 */
static enum tfo_err
put_once(struct putter *pu, uint32_t *retry_after_ms)
{
	struct tfo_bufclient *bc = pu->bc;
	enum tfo_err e;

	int zn = pu->zn >= 0 ? pu->zn : compress(&pu->z, &pu->zcap, pu->p, pu->len);

	if (pu->resend)
		bc->seq--;
	if (zn > 0)
		e = tfo_bufclient_put_lz4(bc, TFO__V1__SIGNAL__SIGNAL_LOGS, pu->z, (size_t)zn,
		    pu->len, pu->records, (Tfo__V1__Checkpoint *const *)pu->cps, pu->ncps, 1);
	else
		e = tfo_bufclient_put(bc, TFO__V1__SIGNAL__SIGNAL_LOGS, pu->p, pu->len, pu->records,
		    (Tfo__V1__Checkpoint *const *)pu->cps, pu->ncps, 1);
	pu->resend = e != TFO_OK;
	if (e == TFO_EAGAIN)
		*retry_after_ms = bc->retry_after_ms;
	put_logged(pu, e);
	return e;
}

static void *
put_thread(void *arg)
{
	struct putter *pu = arg;
	uint32_t retry;
	enum tfo_err e;

	for (;;) {
		pthread_mutex_lock(&pu->mu);
		while (!pu->quit && !pu->job)
			pthread_cond_wait(&pu->cv, &pu->mu);
		if (pu->quit) {
			pthread_mutex_unlock(&pu->mu);
			return NULL;
		}
		pthread_mutex_unlock(&pu->mu);
		retry = 0;
		e = put_once(pu, &retry);
		pthread_mutex_lock(&pu->mu);
		pu->result = e;
		pu->retry_after_ms = retry;
		pu->job = 0;
		pu->done = 1;
		pthread_cond_broadcast(&pu->cv);
		pthread_mutex_unlock(&pu->mu);
		/* a full pipe already holds a wake-up: nothing is lost */
		while (write(pu->wfd[1], "", 1) < 0 && errno == EINTR)
			;
	}
}

static enum tfo_err
putter_start(void *arg, const uint8_t *p, size_t len, uint32_t records,
    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry_after_ms)
{
	struct putter *pu = arg;
	enum tfo_err e = TFO_OK;

	(void)retry_after_ms;
	pthread_mutex_lock(&pu->mu);
	if (!pu->running || pu->job || pu->done) {
		e = TFO_EINVAL;        /* one put at a time (tailer.h): a bug if seen */
	} else if (ncps > pu->cpcap) {
		const Tfo__V1__Checkpoint **n = realloc(pu->cps, ncps * sizeof(*n));
		if (n == NULL)
			e = TFO_ENOMEM;
		else {
			pu->cps = n;
			pu->cpcap = ncps;
		}
	}
	if (e == TFO_OK) {
		if (ncps)
			memcpy(pu->cps, cps, ncps * sizeof(*cps));  /* the array is the caller's */
		pu->zn = -1;
		if (pu->sp != NULL && pu->sp == p && pu->slen == len) {
			char *z = pu->z;            /* the thread waits: its block is free */
			size_t zcap = pu->zcap;
			pu->z = pu->sz;
			pu->zcap = pu->szcap;
			pu->sz = z;
			pu->szcap = zcap;
			pu->zn = pu->sn;
			pu->sp = NULL;
		}   /* else a failed put again: the sealed batch still waits behind it */
		pu->p = p;
		pu->len = len;
		pu->records = records;
		pu->ncps = ncps;
		pu->job = 1;
		pthread_cond_broadcast(&pu->cv);
	}
	pthread_mutex_unlock(&pu->mu);
	return e;
}

/* putter_seal - compress the batch the loop must hold until the put in
 * flight is answered; putter_start sends this block if given that batch */
static void
putter_seal(void *arg, const uint8_t *p, size_t len)
{
	struct putter *pu = arg;

	pu->sn = compress(&pu->sz, &pu->szcap, p, len);
	pu->sp = p;
	pu->slen = len;
}

static enum tfo_err
putter_wait(void *arg, int block, uint32_t *retry_after_ms)
{
	struct putter *pu = arg;
	enum tfo_err e = TFO_EINPROGRESS;

	pthread_mutex_lock(&pu->mu);
	while (block && pu->job)
		pthread_cond_wait(&pu->cv, &pu->mu);
	if (pu->done) {
		pu->done = 0;
		e = pu->result;
		*retry_after_ms = pu->retry_after_ms;
	} else if (!pu->job) {
		e = TFO_EINVAL;        /* nothing was started */
	}
	pthread_mutex_unlock(&pu->mu);
	return e;
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct putter *pu = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pu->wake(pu->arg);
}

struct putter *
putter_new(void)
{
	struct putter *pu = calloc(1, sizeof(*pu));

	if (pu == NULL)
		return NULL;
	pu->wfd[0] = pu->wfd[1] = -1;
	pthread_mutex_init(&pu->mu, NULL);
	pthread_cond_init(&pu->cv, NULL);
	return pu;
}

int
putter_run(struct putter *pu, struct tfo_bufclient *bc, struct event_base *base,
    void (*wake)(void *), void *arg)
{
	pu->bc = bc;
	pu->wake = wake;
	pu->arg = arg;
	if (pipe2(pu->wfd, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	pu->ev = event_new(base, pu->wfd[0], EV_READ | EV_PERSIST, on_wake, pu);
	if (pu->ev == NULL || event_add(pu->ev, NULL) != 0)
		return -1;
	if (pthread_create(&pu->th, NULL, put_thread, pu) != 0)
		return -1;
	pu->running = 1;
	return 0;
}

struct tfo_logs_sink
putter_sink(struct putter *pu)
{
	struct tfo_logs_sink k = { .put = putter_start, .wait = putter_wait, .seal = putter_seal,
	    .arg = pu };

	return k;
}

void
putter_free(struct putter *pu)
{
	if (pu == NULL)
		return;
	if (pu->running) {
		pthread_mutex_lock(&pu->mu);
		pu->quit = 1;
		pthread_cond_broadcast(&pu->cv);
		pthread_mutex_unlock(&pu->mu);
		pthread_join(pu->th, NULL);
	}
	tfo_logrepeat_end(&pu->putlog);    /* the count of a burst still open */
	pthread_cond_destroy(&pu->cv);
	pthread_mutex_destroy(&pu->mu);
	if (pu->ev != NULL)
		event_free(pu->ev);
	if (pu->wfd[0] >= 0) {
		close(pu->wfd[0]);
		close(pu->wfd[1]);
	}
	free(pu->cps);
	free(pu->z);
	free(pu->sz);
	free(pu);
}
