/*
 * sched.h - when tfo-heartbeat beats: the first beat at a random point of
 * the whole interval, so a fleet started in the same second (an upgrade, a
 * reboot) spreads its beats over the interval from the first one; then one
 * beat an interval plus a little jitter. Pure functions of a random number,
 * so tests drive them without a clock.
 */
#ifndef TFO_HB_SCHED_H
#define TFO_HB_SCHED_H

#include <stdint.h>

/* hb_sched_first_ms - the first beat's delay from start: uniform in
 * [0, interval_ms) for a uniform r */
uint32_t hb_sched_first_ms(uint32_t interval_ms, uint32_t r);
/* hb_sched_next_ms - from one beat to the next: interval_ms plus up to a
 * tenth of it */
uint32_t hb_sched_next_ms(uint32_t interval_ms, uint32_t r);
/* hb_sched_mix - a random number from what tells two agents apart when the
 * kernel has none to give (getrandom before its pool is ready, early at
 * boot): the clocks' nanoseconds and the pid, mixed so that every bit of
 * each moves the result (splitmix64's finaliser) */
uint32_t hb_sched_mix(uint64_t mono_ns, uint64_t real_ns, uint32_t pid);
/* hb_sched_random - getrandom, or hb_sched_mix of now when it has nothing */
uint32_t hb_sched_random(void);

#endif
