/*
 * bench_heartbeat.c - CPU time of one tfo-heartbeat beat against the real
 * root: the collection (hb_collect: /proc, /sys, /etc, statvfs, getifaddrs)
 * and the JSON payload, the median of many beats, in microseconds, with the
 * minor faults per beat. The slow walks (TCP tables, process states) run at
 * most every 5 minutes in the worker: the first beat of the collector's life
 * pays them, the runs measured here do not.
 * Run: bench_heartbeat [runs] [root]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/clock.h"
#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/payload.h"

static long
minflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	const char *root = argc > 2 ? argv[2] : "/";
	double *col, *pay;
	struct hb_collector *c;
	uint64_t t0 = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
	long f0;
	size_t bytes = 0;

	if (runs < 10 || runs > 1000000)
		runs = 200;
	if ((col = calloc((size_t)runs, sizeof(*col))) == NULL ||
	    (pay = calloc((size_t)runs, sizeof(*pay))) == NULL ||
	    (c = hb_collector_new(root, NULL, NULL)) == NULL)
		return 1;
#ifdef TFO_SANITIZE
	printf("note: sanitizer build; build with -DTFO_SANITIZE=OFF for the real figure\n");
#endif
	printf("tfo-heartbeat beat CPU time, %d runs (collector start with its first walks: "
	    "%.1f us)\n", runs, (double)(tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1000.0);
	f0 = minflt();
	for (int i = 0; i < runs; i++) {
		struct hb_sysinfo si;
		char *body;
		uint64_t a = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID), b;
		if (hb_collect(c, &si) != TFO_OK) {
			fprintf(stderr, "collection failed\n");
			return 1;
		}
		b = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
		if ((body = hb_payload_body(&si, true)) == NULL)
			return 1;
		col[i] = (double)(b - a) / 1000.0;
		pay[i] = (double)(tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID) - b) / 1000.0;
		bytes = strlen(body);
		free(body);
		hb_sysinfo_free(&si);
	}
	qsort(col, (size_t)runs, sizeof(*col), cmp);
	qsort(pay, (size_t)runs, sizeof(*pay), cmp);
	printf("collection   median %8.1f us   p90 %8.1f us   %.1f minor faults per beat\n",
	    col[runs / 2], col[runs * 9 / 10], (double)(minflt() - f0) / runs);
	printf("payload      median %8.1f us   p90 %8.1f us   %zu bytes\n", pay[runs / 2],
	    pay[runs * 9 / 10], bytes);
	hb_collector_free(c);
	free(col);
	free(pay);
	return 0;
}
