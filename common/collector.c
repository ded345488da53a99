/*
 * collector.c - the periodic loop shared by the metric collectors (runs in
 * tfo-system and tfo-process, after the sandbox is in place).
 */
#include "common/collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/log.h"
#include "common/zarray.h"

#define MIN_INTERVAL_MS 100
#define FIRST_CYCLE_MS 1000     /* first sample soon after start */
#define LOG_EVERY 20            /* repeated cycle failures: every 20th is logged */

uint64_t
tfo_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t
tfo_collector_interval(uint32_t configured_ms, uint32_t dflt_ms)
{
	uint32_t ms = configured_ms != 0 ? configured_ms : dflt_ms;

	return ms < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : ms;
}

static void
arm(struct tfo_collector *c, uint32_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(c->tick, &tv);
}

/* schedule - the next tick in ms, remembered on the monotonic clock so that
 * a late tick knows how many multiples it missed (a wall clock step does not
 * count as a loss) */
static void
schedule(struct tfo_collector *c, uint32_t ms)
{
	c->due_mono_ms = tfo_clock_ns(CLOCK_MONOTONIC) / 1000000 + ms;
	arm(c, ms);
}

/* count_skipped - multiples of the interval that passed while this tick was
 * late (a slow cycle, a put waiting for a busy buffer): lost cycles */
static void
count_skipped(struct tfo_collector *c)
{
	uint64_t now = tfo_clock_ns(CLOCK_MONOTONIC) / 1000000;

	if (c->due_mono_ms != 0 && now >= c->due_mono_ms + c->interval_ms)
		c->cycles_lost += (now - c->due_mono_ms) / c->interval_ms;
}

/* put_failed - counted; logged once for a run of the same failure, with a
 * count (the buffer's reason names the cause: "disk full at ..."). A put
 * that succeeds does not end the run, as in tfo-logs: on a full disk Busy
 * answers and stored puts alternate, and ending the run there logged a line
 * per Busy answer. The count is logged a minute on, or at the stop. */
static void
put_failed(struct tfo_collector *c, size_t len, enum tfo_err e)
{
	(void)len;
	c->put_errors++;
	tfo_logrepeat(&c->putlog, TFO_LOG_WARN, "%s: put failed: %s%s%s",
	    c->role, tfo_strerror(e), c->bc.error[0] ? ": " : "", c->bc.error);
}

int
tfo_collector_flush(struct tfo_collector *c)
{
	struct tfo_bufclient_item *it;
	enum tfo_err e;
	size_t n = c->nitems, len = c->pend_len;

	if (n == 0)
		return 0;
	c->nitems = c->pend_len = 0;
	if ((it = calloc(n, sizeof(*it))) == NULL) {
		put_failed(c, len, TFO_ENOMEM);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		it[i] = (struct tfo_bufclient_item){ c->pend + c->items[i].off, c->items[i].len,
		    c->items[i].points };
	e = tfo_bufclient_put_many(&c->bc, TFO__V1__SIGNAL__SIGNAL_METRICS, it, n);
	free(it);
	if (e != TFO_OK) {
		put_failed(c, len, e);
		return -1;
	}
	c->puts++;
	return 0;
}

int
tfo_collector_add(struct tfo_collector *c, const uint8_t *p, size_t len, uint32_t points)
{
	if (c->nitems > 0 && (c->pend_len + len > TFO_COLLECTOR_PUT_BYTES ||
	    c->nitems >= TFO_COLLECTOR_PUT_ITEMS) && tfo_collector_flush(c) != 0)
		return -1;
	if (tfo_grow((void **)&c->pend, &c->pend_cap, c->pend_len + len, 1, 4096) != 0 ||
	    tfo_grow((void **)&c->items, &c->items_cap, c->nitems + 1, sizeof(*c->items), 16) != 0) {
		put_failed(c, len, TFO_ENOMEM);
		return -1;
	}
	memcpy(c->pend + c->pend_len, p, len);
	c->items[c->nitems++] = (struct tfo_collector_pend){ c->pend_len, len, points };
	c->pend_len += len;
	return 0;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_collector *c = arg;
	uint64_t cpu0 = tfo_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t t0 = tfo_clock_ns(CLOCK_MONOTONIC);
	enum tfo_err e;

	(void)fd;
	(void)what;
	count_skipped(c);
	/* aligned to the interval so series from many hosts line up */
	schedule(c, c->interval_ms - (uint32_t)((tfo_clock_ns(CLOCK_REALTIME) / 1000000) %
	    c->interval_ms));
	e = c->cycle(c, tfo_clock_ns(CLOCK_REALTIME), c->arg);
	if (tfo_collector_flush(c) != 0 && e == TFO_OK)
		c->cycle_errors++;      /* logged by put_failed, with the buffer's cause */
	c->last_cpu_us = (double)(tfo_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000.0;
	tfo_hist_observe(&c->cycle_s, (double)(tfo_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	if (e != TFO_OK)
		c->cycles_lost++;
	if (e != TFO_OK && c->cycle_errors++ % LOG_EVERY == 0)
		log_error("%s: collection failed: %s", c->role, tfo_strerror(e));
	if (c->interval_ms >= TFO_COLLECTOR_RELEASE_MS) {
		tfo_pages_release(c->pend, c->pend_cap);
		if (c->idle != NULL)
			c->idle(c->arg);
	}
}

enum tfo_err
tfo_collector_start(struct tfo_collector *c, struct tfo_worker *w,
    const Tfo__V1__WorkerConfig *cfg, Tfo__V1__Role role_id, tfo_collector_cycle_fn fn,
    void *arg)
{
	uint32_t give_up;
	enum tfo_err e;
	int wait;

	tfo_worker_put_limits(cfg, &wait, &give_up);
	e = tfo_bufclient_open_ingest(&c->bc, cfg->ingest_url, role_id, cfg->incarnation, wait,
	    cfg->buffer_uid);
	if (e != TFO_OK) {
		log_error("%s: cannot dial ingest %s: %s", c->role,
		    cfg->ingest_url != NULL ? cfg->ingest_url : "", tfo_strerror(e));
		return e;
	}
	c->bc_open = 1;
	c->bc.give_up_ms = give_up;
	c->cycle = fn;
	c->arg = arg;
	tfo_hist_init(&c->cycle_s, TFO_HIST_CYCLE);
	if (fn == NULL)
		return TFO_OK;          /* puts only (tfo-system with host metrics off) */
	if ((c->tick = evtimer_new(tfo_worker_base(w), on_tick, c)) == NULL)
		return TFO_ENOMEM;
	arm(c, c->interval_ms < FIRST_CYCLE_MS ? c->interval_ms : FIRST_CYCLE_MS);
	return TFO_OK;
}

int
tfo_collector_put(struct tfo_collector *c, const uint8_t *p, size_t len, uint32_t points)
{
	enum tfo_err e = tfo_bufclient_put(&c->bc, TFO__V1__SIGNAL__SIGNAL_METRICS, p, len,
	    points, NULL, 0, 0);

	if (e == TFO_OK) {
		c->puts++;
		return 0;
	}
	put_failed(c, len, e);
	return -1;
}

uint64_t
tfo_collector_due_ms(const struct tfo_collector *c)
{
	uint64_t now;

	if (c->tick == NULL || c->stopped)
		return UINT64_MAX;
	if (c->due_mono_ms == 0)
		return FIRST_CYCLE_MS;  /* the first tick, armed without schedule() */
	now = tfo_clock_ns(CLOCK_MONOTONIC) / 1000000;
	return c->due_mono_ms > now ? c->due_mono_ms - now : 0;
}

void
tfo_collector_stop(struct tfo_collector *c)
{
	c->stopped = 1;
	if (c->tick != NULL)
		evtimer_del(c->tick);
}

void
tfo_collector_fini(struct tfo_collector *c)
{
	tfo_logrepeat_end(&c->putlog);  /* the count of a run still open */
	if (c->tick != NULL)
		event_free(c->tick);
	c->tick = NULL;
	if (c->bc_open)
		tfo_bufclient_close(&c->bc);
	c->bc_open = 0;
	free(c->pend);
	free(c->items);
	c->pend = NULL;
	c->items = NULL;
	c->pend_len = c->pend_cap = c->nitems = c->items_cap = 0;
}

static void
stat_num(struct tfo_stats *st, const char *role, const char *name, double v)
{
	char key[96];

	snprintf(key, sizeof(key), "%s.%s", role, name);
	tfo_stats_num(st, key, v);
}

void
tfo_collector_stats(const struct tfo_collector *c, struct tfo_stats *st)
{
	char key[96];

	stat_num(st, c->role, "cycle_cpu_us", c->last_cpu_us);
	stat_num(st, c->role, "puts", (double)c->puts);
	stat_num(st, c->role, "put_errors", (double)c->put_errors);
	stat_num(st, c->role, "cycle_errors", (double)c->cycle_errors);
	stat_num(st, c->role, "cycles_lost", (double)c->cycles_lost);
	snprintf(key, sizeof(key), "%s.cycle_duration", c->role);
	tfo_stats_hist(st, key, &c->cycle_s);
}
