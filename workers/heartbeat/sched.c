/*
 * sched.c - tfo-heartbeat's beat schedule (see sched.h): the first beat
 * anywhere in the interval, then an interval plus up to 10 % each time.
 */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "workers/heartbeat/sched.h"

uint32_t
hb_sched_first_ms(uint32_t interval_ms, uint32_t r)
{
	return interval_ms ? r % interval_ms : 0;
}

uint32_t
hb_sched_next_ms(uint32_t interval_ms, uint32_t r)
{
	uint32_t tenth = interval_ms / 10;

	/* a beat a little later each time still keeps the fleet apart once
	 * the first beats were: the phases stay uniform */
	return interval_ms + (tenth ? r % (tenth + 1) : 0);
}

uint32_t
hb_sched_mix(uint64_t mono_ns, uint64_t real_ns, uint32_t pid)
{
	uint64_t z = mono_ns ^ (real_ns * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)pid << 32);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

uint32_t
hb_sched_random(void)
{
	struct timespec m, t;
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	/* not time(NULL) alone: agents booted in the same second would all
	 * draw the same delay, the stampede the jitter is for */
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &t);
	return hb_sched_mix((uint64_t)m.tv_sec * 1000000000ull + (uint64_t)m.tv_nsec,
	    (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec, (uint32_t)getpid());
}
