/*
 * bench_system.c - CPU time of tfo-system's collection against the real /proc:
 * one full cycle (all families, encode included) and each family alone, the
 * median of many runs, in microseconds (DESIGN §8 budget: <= 300 us per cycle).
 * Process CPU time, so the statfs thread's work is counted too.
 * Run: bench_system [runs] [proc_root]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/resource.h"
#include "workers/system/collect.h"

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* run - median and p90 CPU us of `runs` cycles limited to mask */
static void
run(struct tfo_syscol *c, unsigned mask, int runs, const char *label, double *samples)
{
	uint32_t points = 0;
	size_t len = 0;

	for (int i = 0; i < runs; i++) {
		uint8_t *out;
		uint64_t t0 = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
		if (tfo_syscol_cycle_mask(c, mask, tfo_clock_id_ns(CLOCK_REALTIME), &out, &len, &points) != TFO_OK) {
			fprintf(stderr, "%s: cycle failed\n", label);
			exit(1);
		}
		samples[i] = (double)(tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1000.0;
	}
	qsort(samples, (size_t)runs, sizeof(*samples), cmp);
	printf("%-12s median %8.1f us   p90 %8.1f us   %5u points %7zu bytes\n", label,
	    samples[runs / 2], samples[runs * 9 / 10], points, len);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 500;
	Tfo__V1__SystemConfig cfg = TFO__V1__SYSTEM_CONFIG__INIT;
	struct tfo_resource *res;
	struct tfo_syscol *c;
	double *samples;

	if (runs < 10 || runs > 1000000)
		runs = 500;
	cfg.cpu = cfg.load = cfg.memory = cfg.paging = cfg.disk = 1;
	cfg.filesystem = cfg.network = cfg.processes = 1;
	cfg.proc_root = argc > 2 ? argv[2] : "";
	if ((res = tfo_resource_new(NULL, cfg.proc_root)) == NULL ||
	    (c = tfo_syscol_new(&cfg, tfo_resource_get(res))) == NULL ||
	    (samples = calloc((size_t)runs, sizeof(*samples))) == NULL)
		return 1;
#ifdef TFO_SANITIZE
	printf("note: sanitizer build; build with -DTFO_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Release "
	    "for the real figure\n");
#endif
	printf("tfo-system collection CPU time, %d runs each (budget: full cycle <= 300 us)\n", runs);
	run(c, TFO_SYS_ALL, runs, "full cycle", samples);
	for (unsigned f = 0; f < TFO_SYS_NFAMILIES; f++)
		run(c, 1u << f, runs, tfo_syscol_family_name(f), samples);
	/* the slow scans (TCP tables, per-process states) run once every 5
	 * minutes: their own cost, forced every cycle */
	printf("slow scans, forced every cycle (steady state: once per %s):\n", "5 min");
	tfo_syscol_set_slow_scan(c, 0);
	run(c, TFO_SYS_ALL, runs / 5 + 10, "full+slow", samples);
	run(c, 1u << TFO_SYS_NETWORK, runs / 5 + 10, "network+tcp", samples);
	run(c, 1u << TFO_SYS_PROCESSES, runs / 5 + 10, "proc states", samples);
	free(samples);
	tfo_syscol_free(c);
	tfo_resource_free(res);
	return 0;
}
