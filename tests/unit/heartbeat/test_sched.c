/*
 * test_sched.c - tfo-heartbeat's beat schedule (workers/heartbeat/sched.c):
 * a fleet started in one second beats over the whole interval from the first
 * beat, not in its first tenth; later beats an interval apart plus at most a
 * tenth; without the kernel's randomness, agents started in the same second
 * (same clocks to the second, neighbouring pids) still draw apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "workers/heartbeat/sched.h"

#define IV 60000u               /* heartbeat.interval's default, ms */

/* xorshift32: the test's own uniform numbers, the same every run */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_first_beat_whole_interval(void **state)
{
	uint32_t bins[10] = { 0 }, s = 2463534242u;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint32_t d = hb_sched_first_ms(IV, next(&s));
		assert_true(d < IV);
		bins[d / (IV / 10)]++;
	}
	/* every tenth of the interval holds its share (1000 +- 20 %): 10 000
	 * agents started together send their first beats at an even rate */
	for (int i = 0; i < 10; i++)
		assert_true(bins[i] > 800 && bins[i] < 1200);
	assert_int_equal(hb_sched_first_ms(0, 123), 0);
	assert_int_equal(hb_sched_first_ms(IV, UINT32_MAX), UINT32_MAX % IV);
}

static void
test_next_beat(void **state)
{
	uint32_t s = 88172645u, lo = UINT32_MAX, hi = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint32_t d = hb_sched_next_ms(IV, next(&s));
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo >= IV && lo < IV + 100);
	assert_true(hi <= IV + IV / 10 && hi > IV + IV / 10 - 100);
	assert_int_equal(hb_sched_next_ms(5, 7), 5);
	assert_int_equal(hb_sched_next_ms(0, 7), 0);
}

/* the fallback: 200 agents whose clocks read the same second (different
 * nanoseconds) and whose pids follow each other spread like random ones */
static void
test_mix_spreads_a_fleet(void **state)
{
	uint32_t bins[10] = { 0 };
	uint64_t sec = 1796601020ull * 1000000000ull;

	(void)state;
	for (uint32_t i = 0; i < 2000; i++) {
		uint64_t ns = (i * 7919u) % 1000000u;          /* all within 1 ms */
		uint32_t d = hb_sched_first_ms(IV, hb_sched_mix(42ull * 1000000000ull + ns, sec + ns,
		    4000 + i));
		bins[d / (IV / 10)]++;
	}
	for (int i = 0; i < 10; i++)
		assert_true(bins[i] > 140 && bins[i] < 260);
	/* one bit of any input moves the draw */
	assert_true(hb_sched_mix(1, 2, 3) != hb_sched_mix(1, 2, 4));
	assert_true(hb_sched_mix(1, 2, 3) != hb_sched_mix(1, 3, 3));
	assert_true(hb_sched_mix(1, 2, 3) != hb_sched_mix(0, 2, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_beat_whole_interval),
		cmocka_unit_test(test_next_beat),
		cmocka_unit_test(test_mix_spreads_a_fleet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
