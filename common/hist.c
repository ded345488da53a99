/*
 * hist.c - duration histograms a role keeps of itself (library tfo_hist: the
 * exporter, the collectors, and tfo-system that rebuilds them).
 */
#include "common/hist.h"

#include <stdio.h>
#include <string.h>

/* The OpenTelemetry default bounds for request durations (the HTTP client
 * and server duration conventions), and a finer scale for collection cycles
 * whose budget is 300 us (DESIGN §8). */
static const double request_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};
static const double cycle_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

_Static_assert(sizeof(request_bounds) / sizeof(double) <= TFO_HIST_MAX_BOUNDS, "bounds");
_Static_assert(sizeof(cycle_bounds) / sizeof(double) <= TFO_HIST_MAX_BOUNDS, "bounds");

const double *
tfo_hist_bounds(enum tfo_hist_kind k, size_t *n)
{
	if (k == TFO_HIST_CYCLE) {
		*n = sizeof(cycle_bounds) / sizeof(cycle_bounds[0]);
		return cycle_bounds;
	}
	*n = sizeof(request_bounds) / sizeof(request_bounds[0]);
	return request_bounds;
}

void
tfo_hist_init(struct tfo_hist *h, enum tfo_hist_kind k)
{
	memset(h, 0, sizeof(*h));
	h->kind = k;
}

void
tfo_hist_observe(struct tfo_hist *h, double seconds)
{
	size_t n, i = 0;
	const double *b = tfo_hist_bounds(h->kind, &n);

	if (!(seconds > 0))             /* negative, zero or NaN */
		seconds = 0;
	/* an explicit bucket holds (previous bound, bound] */
	while (i < n && seconds > b[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum += seconds;
}

int
tfo_hist_stat_name(const char *prefix, enum tfo_hist_kind k, size_t i, char *buf, size_t bufsz)
{
	size_t n;
	const double *b = tfo_hist_bounds(k, &n);
	int w;

	if (i > n)
		return -1;
	if (i == n)
		w = snprintf(buf, bufsz, "%s.le_inf", prefix);
	else
		w = snprintf(buf, bufsz, "%s.le_%g", prefix, b[i]);
	return w < 0 || (size_t)w >= bufsz ? -1 : 0;
}
