/*
 * clock.h - CLOCK_MONOTONIC in ns and ms, any clock in ns (any process). The clock is the
 * same in every process of a boot, so a deadline can travel in a message
 * (the heartbeat's Beat.deadline_ms).
 */
#ifndef TFO_CLOCK_H
#define TFO_CLOCK_H

#include <stdint.h>
#include <time.h>

/* tfo_clock_id_ns - clock id in ns (the CPU-time clocks too, for benches) */
static inline uint64_t
tfo_clock_id_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
tfo_mono_ns(void)
{
	return tfo_clock_id_ns(CLOCK_MONOTONIC);
}

static inline uint64_t
tfo_mono_ms(void)
{
	return tfo_mono_ns() / 1000000u;
}

#endif
