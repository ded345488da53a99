/*
 * test_exp_pace.c - tfo-exporter's fleet pacing (workers/exporter/pace.c):
 * the first flush lies in [0, interval) and spreads over it; each signal on
 * its own grid, half an interval apart, kept after a late flush or a stall
 * that answers a whole fleet at once; no cap without an outage (one agent's
 * normal catch-up runs at full speed); after an outage the send rate, in
 * bytes, is aimed at sending the queue (estimated from the bytes taken
 * before it and the outage's length) within TFO_EXP_PACE_AIM intervals at
 * an even rate (at least the floor's full batches), doubles each interval
 * after that, lifts after the last doubling or when the queue is empty;
 * without an estimate it counts batches from the floor and doubles at once.
 * Time and randomness are the test's own: no wall clock anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "workers/exporter/outcome.h"
#include "workers/exporter/pace.h"

#define IV 10000u               /* the default flush interval, ms */
#define T0 1000000000ull        /* a monotonic clock far from zero */

static void
test_first_flush_window(void **state)
{
	uint32_t bins[10] = { 0 };
	uint64_t rng = 12345;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint32_t d = tfo_exp_pace_first_ms(IV, &rng);
		assert_true(d < IV);
		bins[d / (IV / 10)]++;
	}
	/* uniform: every tenth of the interval holds its share (1000 +- 20 %),
	 * so a fleet started in one second exports over the whole interval */
	for (int i = 0; i < 10; i++)
		assert_true(bins[i] > 800 && bins[i] < 1200);
	assert_int_equal(tfo_exp_pace_first_ms(0, &rng), 0);
	assert_int_equal(tfo_exp_pace_first_ms(1, &rng), 0);
}

#define B 262144u              /* exporter.batch_max_bytes, a full batch */

/* greedy - send a batch of `bytes` whenever allowed from `from` for `ms`;
 * per-interval counts */
static void
greedy(struct tfo_exp_pace *pc, uint64_t from, uint64_t ms, uint32_t *per, size_t nper,
    uint64_t bytes)
{
	uint64_t now = from;

	while (now < from + ms) {
		uint32_t w = tfo_exp_pace_wait(pc, now);
		if (w > 0) {
			now += w;
			continue;
		}
		tfo_exp_pace_sent(pc, now, bytes, bytes >= B / 2);
		tfo_exp_pace_answered(pc, now, bytes);
		if ((now - from) / IV < nper)
			per[(now - from) / IV]++;
		now += 1;       /* a request takes a millisecond here */
	}
}

/* healthy - the endpoint takes n batches of `bytes` an interval for
 * `intervals` */
static uint64_t
healthy(struct tfo_exp_pace *pc, uint64_t now, uint32_t n, int intervals, uint64_t bytes)
{
	for (int i = 0; i < intervals; i++) {
		for (uint32_t k = 0; k < n; k++) {
			assert_int_equal(tfo_exp_pace_wait(pc, now + k), 0);
			tfo_exp_pace_sent(pc, now + k, bytes, bytes >= B / 2);
			tfo_exp_pace_answered(pc, now + k, bytes);
		}
		now += IV + 7;
	}
	return now;
}

/* down - the endpoint fails every retry from now for ms; returns its end */
static uint64_t
down(struct tfo_exp_pace *pc, uint64_t now, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10000)
		tfo_exp_pace_failed(pc, now + t);
	return now + ms;
}

/* light_outage - an agent taking 2 batches of a fifth of B an interval for
 * 6 intervals, then down for ms, then answered again: the time of that
 * answer; *gone, the ms since its last answer before the outage */
static uint64_t
light_outage(struct tfo_exp_pace *pc, uint64_t ms, uint64_t *gone)
{
	uint64_t now;

	tfo_exp_pace_init(pc, IV, 2, B);
	now = healthy(pc, T0, 2, 6, B / 5);
	*gone = now + ms - (now - IV - 7 + 1);
	now = down(pc, now, ms);
	tfo_exp_pace_answered(pc, now, B / 5);
	return now;
}

static void
test_no_outage_no_cap(void **state)
{
	struct tfo_exp_pace pc;
	uint32_t per[3] = { 0 };

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	/* a backlog without a failure (bench-logs-e2e): never held back */
	greedy(&pc, T0, 3 * IV, per, 3, B);
	for (int i = 0; i < 3; i++)
		assert_true(per[i] > 5000);     /* one a millisecond: no cap */
	assert_int_equal(tfo_exp_pace_cap(&pc, T0 + 3 * IV), 0);
}

/*
 * The fleet's case (bench/fleet, 256 KiB batches): a light agent, two
 * requests an interval of 2/5 of a batch together, is down 5 minutes and
 * comes back to about 14 full batches. The cap aims at sending them within
 * TFO_EXP_PACE_AIM intervals at an even rate: ~3 batches an interval, never
 * more than the aim allows, the whole queue out by then. The cap before it
 * doubled from the 2 requests of before (2, 4, 8 ... batches an interval):
 * 200 agents doing so together peaked at 3.38x their steady requests.
 */
static void
test_cap_aims_at_backlog(void **state)
{
	struct tfo_exp_pace pc;
	uint32_t per[TFO_EXP_PACE_AIM + 1] = { 0 }, sum = 0, want;
	uint64_t now, before = 2 * (B / 5), gone;

	(void)state;
	now = light_outage(&pc, 300000, &gone);
	/* the queue and what comes meanwhile, over the aim, in full batches */
	want = (uint32_t)((before + before * gone / (TFO_EXP_PACE_AIM * IV) + B - 1) / B);
	assert_int_equal(tfo_exp_pace_cap(&pc, now), want);
	assert_true(want >= 2 && want <= 3);
	greedy(&pc, now, (TFO_EXP_PACE_AIM + 1) * IV, per, TFO_EXP_PACE_AIM + 1, B);
	for (int k = 0; k < TFO_EXP_PACE_AIM; k++) {
		assert_true(per[k] <= want);            /* even: no doubling */
		assert_true(per[k] + 1 >= want);
		sum += per[k];
	}
	/* the aim holds all of it: the queue (gone at the rate before) and what
	 * came during the aim */
	assert_true((uint64_t)sum * B >= before * (gone + TFO_EXP_PACE_AIM * IV) / IV);
	/* the estimate fell short (more was queued): doubling from there */
	assert_int_equal(tfo_exp_pace_cap(&pc, now + TFO_EXP_PACE_AIM * IV), 2 * want);
	assert_true(per[TFO_EXP_PACE_AIM] <= 2 * want + 1);
	assert_true(per[TFO_EXP_PACE_AIM] + 1 >= 2 * want);
	/* lifted after the last doubling: full speed again */
	assert_true(tfo_exp_pace_cap(&pc, now + (TFO_EXP_PACE_AIM + TFO_EXP_PACE_DOUBLINGS) * IV -
	    1) > 0);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + (TFO_EXP_PACE_AIM + TFO_EXP_PACE_DOUBLINGS) *
	    IV), 0);
}

/* A long outage does not send harder, it takes longer: after an hour the
 * aim would be ~15x the requests before it (2 small batches an interval);
 * the cap is at most TFO_EXP_PACE_PEAK times those in full batches, held as
 * long as the queue needs at that rate, then doubling as after any aim. */
static void
test_cap_long_outage(void **state)
{
	enum { HOLD = 40 };
	struct tfo_exp_pace pc;
	uint32_t per[HOLD] = { 0 }, n, top = TFO_EXP_PACE_PEAK * 2;
	uint64_t now, before = 2 * (B / 5), gone, sum = 0;

	(void)state;
	now = light_outage(&pc, 3600000, &gone);
	/* unclamped it would be the queue over the aim: many times the peak */
	assert_true((before + before * gone / (TFO_EXP_PACE_AIM * IV)) / B > 2 * top);
	assert_int_equal(tfo_exp_pace_cap(&pc, now), top);
	/* held for the queue at that rate: queue / (top - traffic) intervals */
	n = (uint32_t)((before * gone / IV + (top * (uint64_t)B - before) - 1) /
	    (top * (uint64_t)B - before));
	assert_true(n > TFO_EXP_PACE_AIM && n < HOLD);
	greedy(&pc, now, (uint64_t)n * IV, per, HOLD, B);
	for (uint32_t k = 0; k < n; k++) {
		assert_true(per[k] <= top);             /* the peak: 3x the requests before */
		assert_true(per[k] + 1 >= top);         /* and even */
		sum += per[k];
	}
	/* the hold sends the queue and what came meanwhile */
	assert_true(sum * B >= before * (gone + (uint64_t)n * IV) / IV);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + (uint64_t)(n - 1) * IV), top);
	/* the estimate fell short (more was queued): doubling from there */
	assert_int_equal(tfo_exp_pace_cap(&pc, now + (uint64_t)n * IV), 2 * top);
}

/* The cap counts bytes: half a batch waits half the gap of a full one, and
 * an entry larger than a batch waits no longer than a full batch at the
 * floor's rate (it is one request). */
static void
test_cap_counts_bytes(void **state)
{
	struct tfo_exp_pace pc;
	uint64_t now;
	uint32_t full, half;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	now = healthy(&pc, T0, 2, 3, B / 5);
	now = down(&pc, now, 300000);
	tfo_exp_pace_answered(&pc, now, B);
	full = tfo_exp_pace_wait(&pc, now);
	assert_true(full > 0);
	now += full;
	assert_int_equal(tfo_exp_pace_wait(&pc, now), 0);
	tfo_exp_pace_sent(&pc, now, B / 2, 1);
	half = tfo_exp_pace_wait(&pc, now);
	assert_true(half + 1 >= full / 2 && half <= full / 2 + 1);
	now += half;
	tfo_exp_pace_sent(&pc, now, 40ull * B, 1);
	assert_int_equal(tfo_exp_pace_wait(&pc, now), IV / 2);
}

/* No estimate (nothing was ever answered before the outage: the agent
 * started into it): the cap counts batches from the floor and doubles every
 * interval, as integration.fleet.cap attacks it. */
static void
test_cap_after_outage(void **state)
{
	struct tfo_exp_pace pc;
	uint32_t per[8] = { 0 };
	uint64_t now;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	now = down(&pc, T0, 300000);
	tfo_exp_pace_answered(&pc, now, B);     /* back */
	assert_int_equal(tfo_exp_pace_cap(&pc, now), 2);
	assert_true(tfo_exp_pace_wait(&pc, now) > 0);
	greedy(&pc, now, 8 * IV, per, 8, B);
	/* interval k after the return: at most 2 * 2^k (+1 for the edge), and
	 * the cap is used (the backlog drains) */
	for (uint32_t k = 0; k < TFO_EXP_PACE_DOUBLINGS; k++) {
		assert_true(per[k] <= (2u << k) + 1);
		assert_true(per[k] >= (2u << k) - 1);
	}
	/* lifted after the last doubling: full speed again */
	assert_true(per[TFO_EXP_PACE_DOUBLINGS] > 5000);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + 8 * IV), 0);
}

static void
test_cap_starts_at_rate_before(void **state)
{
	struct tfo_exp_pace pc;
	uint32_t per[2] = { 0 }, cap;
	uint64_t now;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	now = healthy(&pc, T0, 500, 4, B);      /* a heavy agent */
	tfo_exp_pace_failed(&pc, now);          /* one 503 */
	now += 3000;
	tfo_exp_pace_answered(&pc, now, B);
	/* resumes at what the endpoint took from it and a share of what queued
	 * (13 s since the last answer: a quarter more), not at the floor */
	cap = tfo_exp_pace_cap(&pc, now);
	assert_true(cap > 600 && cap < 650);
	greedy(&pc, now + 1, 2 * IV, per, 2, B);
	assert_true(per[0] + 2 >= cap && per[0] <= cap + 1);
	assert_true(per[1] + 2 >= cap && per[1] <= cap + 1);
}

static void
test_empty_lifts(void **state)
{
	struct tfo_exp_pace pc;
	uint64_t now;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	now = healthy(&pc, T0, 2, 3, B);
	tfo_exp_pace_failed(&pc, now);
	tfo_exp_pace_answered(&pc, now + 60000, B);
	assert_true(tfo_exp_pace_wait(&pc, now + 60001) > 0);
	tfo_exp_pace_empty(&pc);                /* caught up */
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 60001), 0);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + 60001), 0);
}

static void
test_fail_while_recovering(void **state)
{
	struct tfo_exp_pace pc;
	uint32_t per[4] = { 0 }, cap;
	uint64_t now;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 3, B);
	now = healthy(&pc, T0, 1, 3, B);        /* below the floor: the floor counts */
	tfo_exp_pace_failed(&pc, now);
	now += 60000;
	tfo_exp_pace_answered(&pc, now, B);
	assert_int_equal(tfo_exp_pace_cap(&pc, now), 3);
	/* four full batches an interval before: a share of the queue on top */
	tfo_exp_pace_init(&pc, IV, 3, B);
	now = healthy(&pc, T0, 4, 3, B);
	tfo_exp_pace_failed(&pc, now);
	now += 60000;
	tfo_exp_pace_answered(&pc, now, B);
	cap = tfo_exp_pace_cap(&pc, now);       /* 4 * (1 + 70 / 50) */
	assert_int_equal(cap, 10);
	greedy(&pc, now, 3 * IV, per, 4, B);
	now += 3 * IV;
	assert_int_equal(tfo_exp_pace_cap(&pc, now), cap);
	/* the endpoint gives way under the catch-up: start again where the cap
	 * began, not at the catch-up rate nor at a longer outage's estimate */
	tfo_exp_pace_failed(&pc, now);
	assert_int_equal(tfo_exp_pace_cap(&pc, now), 0);
	tfo_exp_pace_answered(&pc, now + 5000, B);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + 5000), cap);
	/* a second failure before any answer changes nothing */
	tfo_exp_pace_failed(&pc, now + 6000);
	tfo_exp_pace_failed(&pc, now + 7000);
	tfo_exp_pace_answered(&pc, now + 8000, B);
	assert_int_equal(tfo_exp_pace_cap(&pc, now + 8000), cap);
}

static void
test_one_at_once(void **state)
{
	struct tfo_exp_pace pc;
	uint64_t now = T0;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	tfo_exp_pace_failed(&pc, now);          /* no estimate: batches from the floor */
	tfo_exp_pace_answered(&pc, now + 1000, B);
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 1000), 5000);
	/* time spent idle under the cap earns no burst: one send, then the gap */
	now += 1000 + 20000;
	assert_int_equal(tfo_exp_pace_wait(&pc, now), 0);
	tfo_exp_pace_sent(&pc, now, B, 1);
	assert_true(tfo_exp_pace_wait(&pc, now) > 0);
	/* two intervals in: 8 an interval, one every 1250 ms */
	assert_int_equal(tfo_exp_pace_cap(&pc, now), 8);
	assert_int_equal(tfo_exp_pace_wait(&pc, now), 1250);
	tfo_exp_pace_sent(&pc, now + 2500, B, 1);
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 2500), 1250);
	/* the same counting bytes: idle time earns nothing either */
	tfo_exp_pace_init(&pc, IV, 2, B);
	now = healthy(&pc, T0, 2, 3, B / 5);
	now = down(&pc, now, 300000);
	tfo_exp_pace_answered(&pc, now, B);
	now += 30000;
	assert_int_equal(tfo_exp_pace_wait(&pc, now), 0);
	tfo_exp_pace_sent(&pc, now, B, 1);
	assert_true(tfo_exp_pace_wait(&pc, now) > 0);
}

/*
 * The backlog is gone when a batch comes back less than full: the next fetch
 * looks at once, and an empty queue ends the cap. Without the look, data
 * arriving once a second went out a small request each gap for as long as
 * the gap was longer than a second (bench/fleet, 200 agents: 7 requests an
 * agent where 1 would do). Counted in batches here (no estimate: nothing
 * was taken before), so that every send weighs the same.
 */
static void
test_partial_looks(void **state)
{
	struct tfo_exp_pace pc;
	uint64_t now = T0;
	uint32_t n;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	tfo_exp_pace_failed(&pc, now);
	now += 60000;
	tfo_exp_pace_answered(&pc, now, 0);
	now += 5000;
	assert_int_equal(tfo_exp_pace_wait(&pc, now), 0);
	tfo_exp_pace_sent(&pc, now, B, 1);              /* full: the gap */
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 1), 4999);
	tfo_exp_pace_sent(&pc, now + 5000, B / 8, 0);   /* not full: look now */
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 5001), 0);
	tfo_exp_pace_empty(&pc);                        /* nothing there: caught up */
	assert_int_equal(tfo_exp_pace_cap(&pc, now + 5001), 0);

	/* the look found data (another signal's backlog): it goes, counted, and
	 * the next waits two gaps; a look never earns another look */
	tfo_exp_pace_failed(&pc, now + 6000);
	now += 60000;
	tfo_exp_pace_answered(&pc, now, 0);
	tfo_exp_pace_sent(&pc, now + 5000, B / 8, 0);
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 5001), 0);
	tfo_exp_pace_sent(&pc, now + 5001, B / 8, 0);
	assert_int_equal(tfo_exp_pace_wait(&pc, now + 5002), 9998);
	/* all batches small and every look finding one: still at most the cap
	 * (2, then 4 an interval) plus the one look, over two intervals */
	tfo_exp_pace_failed(&pc, now + 6000);
	now += 60000;
	tfo_exp_pace_answered(&pc, now, 0);
	n = 0;
	for (uint64_t t = now; t < now + 2 * IV; t++)
		if (tfo_exp_pace_wait(&pc, t) == 0) {
			tfo_exp_pace_sent(&pc, t, B / 8, 0);
			n++;
		}
	assert_true(n <= 2 + 4 + 1);
}

/*
 * Under the cap the backlogged signal goes first: the one whose last batch
 * was full, until one of its batches comes back less than full or a fetch
 * of it finds nothing; then either, in turn. A small batch of the other
 * signal does not move it: collectors put their entries in the same second
 * on every agent of a fleet (aligned cycles), and fetching either in turn
 * sent each as a small request at the agent's next send, followed at once by
 * the look after a small batch (bench/fleet: bands of 40-50 metrics requests
 * a second, 3 s long, every 10 s of the catch-up).
 */
static void
test_cap_backlog_first(void **state)
{
	struct tfo_exp_pace pc;

	(void)state;
	tfo_exp_pace_init(&pc, IV, 2, B);
	assert_int_equal(tfo_exp_pace_sig(&pc), 0);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_METRICS, 1);     /* the metrics' backlog */
	assert_int_equal(tfo_exp_pace_sig(&pc), TFO_EXP_SIG_METRICS);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_METRICS, 0);     /* ... is out */
	assert_int_equal(tfo_exp_pace_sig(&pc), 0);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_LOGS, 1);        /* the logs' */
	assert_int_equal(tfo_exp_pace_sig(&pc), TFO_EXP_SIG_LOGS);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_METRICS, 0);     /* a small other: waits */
	assert_int_equal(tfo_exp_pace_sig(&pc), TFO_EXP_SIG_LOGS);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_LOGS, 1);
	assert_int_equal(tfo_exp_pace_sig(&pc), TFO_EXP_SIG_LOGS);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_LOGS, 0);        /* out: either again */
	assert_int_equal(tfo_exp_pace_sig(&pc), 0);
	/* a backlog that ended on a full batch: the next fetch finds nothing */
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_LOGS, 1);
	tfo_exp_pace_fetched(&pc, TFO_EXP_SIG_LOGS, 0);
	assert_int_equal(tfo_exp_pace_sig(&pc), 0);
}

/* each signal's first flush lies in the first interval, the two half an
 * interval apart: an agent's metrics and logs never leave in one second */
static void
test_sched_first(void **state)
{
	uint64_t rng = 777;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct tfo_exp_sched sc;
		uint64_t at, d1, d2;
		int s;

		tfo_exp_sched_init(&sc, T0, IV, tfo_exp_pace_first_ms(IV, &rng));
		d1 = sc.due[1] - T0;
		d2 = sc.due[2] - T0;
		assert_true(sc.due[1] >= T0 && d1 < IV);
		assert_true(sc.due[2] >= T0 && d2 < IV);
		assert_int_equal((d2 + IV - d1) % IV, IV / 2);
		s = tfo_exp_sched_next(&sc, &at);
		assert_int_equal(at, d1 < d2 ? sc.due[1] : sc.due[2]);
		assert_int_equal(s, d1 < d2 ? 1 : 2);
	}
}

/* a late flush (a slow answer, a backlog) keeps the phase: the next is the
 * next point of the signal's own grid, not an interval after the lateness */
static void
test_sched_keeps_phase(void **state)
{
	struct tfo_exp_sched sc;
	uint64_t at, now = T0, m0, l0;

	(void)state;
	tfo_exp_sched_init(&sc, T0, IV, 1234);
	m0 = sc.due[1];
	l0 = sc.due[2];
	assert_int_equal(m0, T0 + 1234);
	assert_int_equal(l0, T0 + 1234 + IV / 2);
	/* metrics' flush ends 3.7 intervals late; logs are not touched */
	now = m0 + 3 * IV + 7 * IV / 10;
	tfo_exp_sched_done(&sc, 1, now);
	assert_true(sc.due[1] > now && sc.due[1] <= now + IV);
	assert_int_equal((sc.due[1] - m0) % IV, 0);
	assert_int_equal(sc.due[2], l0);
	/* logs are late now, so they come first, at once */
	assert_int_equal(tfo_exp_sched_next(&sc, &at), 2);
	assert_true(at <= now);
	/* everything sent (after an outage): every signal back on its grid */
	tfo_exp_sched_done(&sc, 0, now + 5);
	assert_true(sc.due[2] > now && sc.due[2] <= now + 5 + IV);
	assert_int_equal((sc.due[2] - l0) % IV, 0);
	assert_int_equal((sc.due[1] - m0) % IV, 0);
	/* done again at once: nothing moves */
	at = sc.due[1];
	tfo_exp_sched_done(&sc, 0, now + 6);
	assert_int_equal(sc.due[1], at);
	/* a wake-up 3 ms early (libevent's coarse clock) takes the point:
	 * the flush ending before it does not bring the same point again */
	tfo_exp_sched_init(&sc, T0, IV, 500);
	tfo_exp_sched_begin(&sc, 1, T0 + 497);
	assert_int_equal(sc.due[1], T0 + 500 + IV);
	tfo_exp_sched_done(&sc, 1, T0 + 498);
	assert_int_equal(sc.due[1], T0 + 500 + IV);
	assert_int_equal(sc.due[2], T0 + 500 + IV / 2);
	tfo_exp_sched_begin(&sc, 0, T0 + 498);          /* "either": no point */
	assert_int_equal(sc.due[2], T0 + 500 + IV / 2);
	/* a flush that ends on time moves by exactly one interval */
	tfo_exp_sched_init(&sc, T0, IV, 0);
	tfo_exp_sched_done(&sc, 1, T0 + 40);
	assert_int_equal(sc.due[1], T0 + IV);
	tfo_exp_sched_done(&sc, 1, T0 + IV);
	assert_int_equal(sc.due[1], T0 + 2 * IV);
}

/*
 * A quiet signal (its own flush found nothing) has no flush of its own: the
 * other's flush asks for either, the metrics' when both are quiet, so the
 * schedule still has a flush every interval; once a batch of it is sent it
 * is back on its own grid, never at once (a passed point is not a flush).
 */
static void
test_sched_quiet_joins(void **state)
{
	struct tfo_exp_sched sc;
	uint64_t at, m0, l0, now;

	(void)state;
	tfo_exp_sched_init(&sc, T0, IV, 1000);
	m0 = sc.due[1];
	l0 = sc.due[2];
	assert_int_equal(tfo_exp_sched_asks(&sc, 1), 1);
	assert_int_equal(tfo_exp_sched_asks(&sc, 2), 2);
	/* the metrics' first flush sends; the logs' finds nothing: from then
	 * on the metrics' asks for either */
	tfo_exp_sched_begin(&sc, 1, m0);
	tfo_exp_sched_done(&sc, 1, m0 + 2);
	tfo_exp_sched_begin(&sc, 2, l0);
	tfo_exp_sched_quiet(&sc, 2);
	tfo_exp_sched_done(&sc, 2, l0 + 3);
	assert_int_equal(tfo_exp_sched_next(&sc, &at), 1);
	assert_int_equal(at, m0 + IV);
	assert_int_equal(tfo_exp_sched_asks(&sc, 1), 0);
	/* several intervals on: only the metrics' points come */
	for (int i = 1; i <= 4; i++) {
		now = m0 + (uint64_t)i * IV;
		assert_int_equal(tfo_exp_sched_next(&sc, &at), 1);
		assert_int_equal(at, now);
		tfo_exp_sched_begin(&sc, 1, now);
		tfo_exp_sched_done(&sc, 0, now + 2);
	}
	/* a log batch sent in the metrics' flush: logs at their own phase
	 * again, the next point of their grid (not the passed ones) */
	now = m0 + 5 * IV;
	tfo_exp_sched_begin(&sc, 1, now);
	tfo_exp_sched_busy(&sc, 2, now + 1);
	assert_int_equal(tfo_exp_sched_asks(&sc, 1), 1);
	assert_int_equal(tfo_exp_sched_next(&sc, &at), 2);
	assert_true(at > now && at <= now + IV);
	assert_int_equal((at - l0) % IV, 0);
	/* both quiet: one flush an interval, the metrics', asking for either */
	tfo_exp_sched_quiet(&sc, 1);
	tfo_exp_sched_quiet(&sc, 2);
	assert_int_equal(tfo_exp_sched_next(&sc, &at), 1);
	assert_int_equal(at, m0 + 6 * IV);
	assert_int_equal(tfo_exp_sched_asks(&sc, 1), 0);
	/* metrics quiet, logs not: the logs' flush asks for either */
	tfo_exp_sched_busy(&sc, 2, now + 2);
	assert_int_equal(tfo_exp_sched_next(&sc, &at), 2);
	assert_int_equal(tfo_exp_sched_asks(&sc, 2), 0);
	/* busy twice, or for a signal that is not quiet: nothing moves */
	at = sc.due[2];
	tfo_exp_sched_busy(&sc, 2, now + 3 * IV);
	assert_int_equal(sc.due[2], at);
	tfo_exp_sched_quiet(&sc, 0);
	tfo_exp_sched_quiet(&sc, 3);
	assert_int_equal(tfo_exp_sched_asks(&sc, 0), 0);
}

/* sec_of - the second of the interval a time falls in */
static uint32_t
sec_of(uint64_t t)
{
	return (uint32_t)((t - T0) % IV / 1000);
}

/*
 * An endpoint that stalls and then answers every agent at the same moment
 * (a collector's pause, the end of an outage) must not line them up: 200
 * agents at random phases are all done at the same millisecond, and their
 * next flushes are spread over the interval as before, each at its own
 * phase. Re-arming "an interval from the answer" would put all 200 in one
 * second.
 */
static void
test_sched_stall_keeps_fleet_apart(void **state)
{
	static struct tfo_exp_sched sc[200];
	uint32_t before[10] = { 0 }, after[10] = { 0 };
	uint64_t rng = 4242, stall = T0 + 7 * IV + 321;

	(void)state;
	for (int i = 0; i < 200; i++) {
		tfo_exp_sched_init(&sc[i], T0, IV, tfo_exp_pace_first_ms(IV, &rng));
		before[sec_of(sc[i].due[1])]++;
	}
	for (int i = 0; i < 200; i++)
		tfo_exp_sched_done(&sc[i], 0, stall);
	for (int i = 0; i < 200; i++) {
		assert_true(sc[i].due[1] > stall && sc[i].due[1] <= stall + IV);
		after[sec_of(sc[i].due[1])]++;
	}
	for (int b = 0; b < 10; b++) {
		assert_int_equal(after[b], before[b]);
		assert_true(after[b] < 40);     /* 20 a second on average */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_flush_window),
		cmocka_unit_test(test_sched_first),
		cmocka_unit_test(test_sched_keeps_phase),
		cmocka_unit_test(test_sched_quiet_joins),
		cmocka_unit_test(test_sched_stall_keeps_fleet_apart),
		cmocka_unit_test(test_no_outage_no_cap),
		cmocka_unit_test(test_cap_aims_at_backlog),
		cmocka_unit_test(test_cap_long_outage),
		cmocka_unit_test(test_cap_counts_bytes),
		cmocka_unit_test(test_cap_backlog_first),
		cmocka_unit_test(test_cap_after_outage),
		cmocka_unit_test(test_cap_starts_at_rate_before),
		cmocka_unit_test(test_empty_lifts),
		cmocka_unit_test(test_fail_while_recovering),
		cmocka_unit_test(test_one_at_once),
		cmocka_unit_test(test_partial_looks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
