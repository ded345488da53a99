/*
 * collector.h - the periodic loop the metric collectors share (tfo-system,
 * tfo-process): an interval timer aligned to wall-clock multiples on the
 * worker's libevent loop, one ingest client to tfo-buffer, per-cycle CPU
 * accounting, and the counters every collector reports.
 */
#ifndef TFO_COLLECTOR_H
#define TFO_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/bufclient.h"
#include "common/err.h"
#include "common/hist.h"
#include "common/logrepeat.h"
#include "common/worker.h"

struct tfo_collector;

/* One collection cycle at now_ns (CLOCK_REALTIME); it puts what it built
 * with tfo_collector_put. A non-OK return is counted and logged (rate-limited). */
typedef enum tfo_err (*tfo_collector_cycle_fn)(struct tfo_collector *c, uint64_t now_ns,
    void *arg);

/* Between cycles: give back the pages of the role's scratch buffers
 * (tfo_pages_release, tfo_arena_release). */
typedef void (*tfo_collector_idle_fn)(void *arg);

/* Cycles this far apart give their scratch pages back after each one (the
 * idle hook and the put buffer): a few dozen page faults at the next cycle,
 * instead of the largest cycle's buffers resident for good. Shorter
 * intervals keep them (that is a busy collector: the faults would cost). */
#define TFO_COLLECTOR_RELEASE_MS 10000

/* A payload added to the cycle's put (tfo_collector_add): at off in pend. */
struct tfo_collector_pend {
	size_t off, len;
	uint32_t points;
};

struct tfo_collector {
	const char *role;               /* "system": log prefix and stat prefix */
	struct tfo_bufclient bc;
	int bc_open;
	struct event *tick;
	int stopped;                    /* tfo_collector_stop was called */
	uint32_t interval_ms;
	uint64_t puts, put_errors, cycle_errors;
	/* cycles whose data never reached the buffer: failed ones, and the
	 * interval multiples skipped while a cycle or a put ran late */
	uint64_t cycles_lost;
	uint64_t due_mono_ms;           /* when the armed tick is due; 0 = first */
	struct tfo_hist cycle_s;        /* wall time of each cycle, put included */
	struct tfo_logrepeat putlog;    /* failed puts: once a run, with a count */
	double last_cpu_us;             /* CPU time of the last cycle */
	tfo_collector_cycle_fn cycle;
	tfo_collector_idle_fn idle;     /* may be NULL; set before tfo_collector_start */
	void *arg;
	/* payloads added this cycle, sent together (tfo_collector_add) */
	uint8_t *pend;
	size_t pend_len, pend_cap;
	struct tfo_collector_pend *items;
	size_t nitems, items_cap;
};

uint64_t tfo_clock_ns(clockid_t id);

/* tfo_collector_interval - the configured interval, or dflt when 0, never below 100 ms */
uint32_t tfo_collector_interval(uint32_t configured_ms, uint32_t dflt_ms);

/*
 * tfo_collector_start - from post_init: dial the buffer's ingest socket and
 * schedule the first cycle soon (1 s, or the interval when shorter), then
 * every interval_ms on wall-clock multiples so many hosts' series line up.
 * c->role and c->interval_ms must be set. Logs its own failure. With fn
 * NULL no cycle runs: the client serves tfo_collector_put alone.
 */
enum tfo_err tfo_collector_start(struct tfo_collector *c, struct tfo_worker *w,
    const Tfo__V1__WorkerConfig *cfg, Tfo__V1__Role role_id, tfo_collector_cycle_fn fn,
    void *arg);

/* tfo_collector_put - one encoded ResourceMetrics into the buffer; 0, or -1
 * after a failure (counted; logged every 20th time) */
int tfo_collector_put(struct tfo_collector *c, const uint8_t *p, size_t len, uint32_t points);

/*
 * tfo_collector_add - one encoded ResourceMetrics (copied) into the cycle's
 * put. Everything added in a cycle goes to the buffer as one put (one write
 * batch, one fsync) when the cycle returns, or earlier in pieces of
 * TFO_COLLECTOR_PUT_BYTES. 0, or -1 when an earlier piece failed (the buffer
 * is down) or memory ran out: the cycle should stop.
 */
int tfo_collector_add(struct tfo_collector *c, const uint8_t *p, size_t len, uint32_t points);

/* tfo_collector_flush - what was added, as one put now (the loop does it
 * when a cycle returns); 0, or -1 when the put failed (what it held is
 * dropped, as a failed tfo_collector_put's payload is: counted and logged) */
int tfo_collector_flush(struct tfo_collector *c);

#define TFO_COLLECTOR_PUT_BYTES (1u << 20)
#define TFO_COLLECTOR_PUT_ITEMS 1024

/* tfo_collector_due_ms - how long until the next cycle runs; UINT64_MAX
 * when none is scheduled (no cycle function, or stopped) */
uint64_t tfo_collector_due_ms(const struct tfo_collector *c);

/* tfo_collector_stop - no further cycles (shutdown) */
void tfo_collector_stop(struct tfo_collector *c);
/* tfo_collector_fini - free the timer and close the buffer client */
void tfo_collector_fini(struct tfo_collector *c);
/* tfo_collector_stats - "<role>.puts", ".put_errors", ".cycle_errors", ".cycle_cpu_us",
 * ".cycles_lost" and the histogram "<role>.cycle_duration" */
void tfo_collector_stats(const struct tfo_collector *c, struct tfo_stats *st);

#endif
