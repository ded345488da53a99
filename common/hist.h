/*
 * hist.h - a cumulative explicit-bucket histogram of durations that a role
 * keeps of itself (tfo-exporter's requests, a collector's cycles). It travels
 * to the supervisor as Pong stats (<prefix>.count, <prefix>.sum_s and one
 * cumulative <prefix>.le_<bound> per bucket, the last le_inf), which tfoctl
 * shows and tfo-system turns back into an OTLP histogram (docs/metrics.md).
 * The bounds are fixed here per kind, so both ends agree without sending them.
 */
#ifndef TFO_HIST_H
#define TFO_HIST_H

#include <stddef.h>
#include <stdint.h>

enum tfo_hist_kind {
	TFO_HIST_REQUEST = 0,           /* an export request: 5 ms .. 10 s */
	TFO_HIST_CYCLE,                 /* a collection cycle: 100 us .. 10 s */
	TFO_HIST_NKINDS
};

#define TFO_HIST_MAX_BOUNDS 16

struct tfo_hist {
	enum tfo_hist_kind kind;
	uint64_t count;
	double sum;                     /* seconds */
	uint64_t buckets[TFO_HIST_MAX_BOUNDS + 1];   /* per bucket, not cumulative */
};

/* tfo_hist_init - an empty histogram of kind k */
void tfo_hist_init(struct tfo_hist *h, enum tfo_hist_kind k);
/* tfo_hist_observe - one duration in seconds (negative or NaN counts as 0) */
void tfo_hist_observe(struct tfo_hist *h, double seconds);
/* tfo_hist_bounds - the ascending upper bounds of kind k; *n of them */
const double *tfo_hist_bounds(enum tfo_hist_kind k, size_t *n);
/*
 * tfo_hist_stat_name - the stat of bucket i (0 .. n, n = the +inf bucket) of
 * a histogram reported under prefix: "<prefix>.le_<bound>" ("%g"), or
 * "<prefix>.le_inf". 0, or -1 when it does not fit.
 */
int tfo_hist_stat_name(const char *prefix, enum tfo_hist_kind k, size_t i, char *buf,
    size_t bufsz);

#endif
