/*
 * select.h - which processes tfo-process reports in a cycle: the included
 * ones plus the top_n by CPU and the top_n by resident memory over the last
 * interval, so the number of series is bounded whatever the host runs.
 */
#ifndef TFO_PROCESS_SELECT_H
#define TFO_PROCESS_SELECT_H

#include <stddef.h>
#include <stdint.h>

#define TFO_SEL_INCLUDED 0x1u           /* matched an include pattern */
#define TFO_SEL_TOP_CPU  0x2u
#define TFO_SEL_TOP_MEM  0x4u
#define TFO_SEL_PINNED   0x8u           /* included and within the include cap */

struct tfo_cand {
	int64_t pid;
	uint64_t cpu;                   /* CPU ticks over the last interval */
	uint64_t rss;                   /* resident pages now */
	unsigned why;                   /* TFO_SEL_*; the caller sets INCLUDED */
	size_t idx;                     /* caller's index */
};

/*
 * tfo_select - set TOP_CPU on the top_n candidates with cpu > 0, TOP_MEM on
 * the top_n with rss > 0, PINNED on at most max_included INCLUDED ones (the
 * busiest first); ties go to the lower pid. Candidates end sorted by pid.
 * Returns how many carry TOP_CPU, TOP_MEM or PINNED. Excluded processes are
 * never candidates (the caller leaves them out). heap: scratch of
 * TFO_SELECT_HEAP(top_n, max_included) entries (n will do when fewer), so a
 * cycle allocates nothing.
 */
size_t tfo_select(struct tfo_cand *c, size_t n, unsigned top_n, size_t max_included,
                  size_t *heap);

#define TFO_SELECT_HEAP(top_n, max_included) \
	((size_t)(top_n) > (max_included) ? (size_t)(top_n) : (max_included))

#define TFO_SELECTED(c) (((c)->why & (TFO_SEL_TOP_CPU | TFO_SEL_TOP_MEM | TFO_SEL_PINNED)) != 0)

#endif
