/*
 * select.c - the bounded choice of processes tfo-process reports each cycle
 * (included ones, top_n by CPU, top_n by resident memory). Each top is kept
 * in a bounded heap while the candidates are read once: O(n log k) with no
 * reordering, where three sorts of every process cost ~10 % of a
 * 1000-process cycle's instructions.
 */
#include <stdlib.h>

#include "workers/process/select.h"

static int
pid_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* by_cpu - <0 when x ranks before y by CPU (then memory, then the lower pid) */
static int
by_cpu(const struct tfo_cand *x, const struct tfo_cand *y)
{
	if (x->cpu != y->cpu)
		return x->cpu > y->cpu ? -1 : 1;
	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return pid_cmp(x->pid, y->pid);
}

static int
by_rss(const struct tfo_cand *x, const struct tfo_cand *y)
{
	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return pid_cmp(x->pid, y->pid);
}

static int
by_pid(const void *a, const void *b)
{
	const struct tfo_cand *x = a, *y = b;

	return pid_cmp(x->pid, y->pid);
}

typedef int (*rank_fn)(const struct tfo_cand *, const struct tfo_cand *);

/* sift_down - restore the heap h[0..n) from i: every parent ranks after
 * its children, so h[0] is the last of those kept */
static void
sift_down(const struct tfo_cand *c, size_t *h, size_t n, size_t i, rank_fn rank)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < n && rank(&c[h[l]], &c[h[m]]) > 0)
			m = l;
		if (r < n && rank(&c[h[r]], &c[h[m]]) > 0)
			m = r;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

static void
sift_up(const struct tfo_cand *c, size_t *h, size_t i, rank_fn rank)
{
	while (i > 0) {
		size_t p = (i - 1) / 2, t;
		if (rank(&c[h[i]], &c[h[p]]) <= 0)
			return;
		t = h[i], h[i] = h[p], h[p] = t;
		i = p;
	}
}

static int
uses_cpu(const struct tfo_cand *x)
{
	return x->cpu > 0;
}

static int
uses_memory(const struct tfo_cand *x)
{
	return x->rss > 0;
}

static int
included(const struct tfo_cand *x)
{
	return (x->why & TFO_SEL_INCLUDED) != 0;
}

/* mark_top - set bit on the first k in rank order of the candidates that
 * pass the filter in; h: room for k indices */
static void
mark_top(struct tfo_cand *c, size_t n, size_t k, int (*in)(const struct tfo_cand *),
         rank_fn rank, unsigned bit, size_t *h)
{
	size_t m = 0;

	if (k == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!in(&c[i]))
			continue;
		if (m < k) {
			h[m] = i;
			sift_up(c, h, m++, rank);
		} else if (rank(&c[i], &c[h[0]]) < 0) {
			h[0] = i;       /* the last kept goes */
			sift_down(c, h, m, 0, rank);
		}
	}
	for (size_t j = 0; j < m; j++)
		c[h[j]].why |= bit;
}

size_t
tfo_select(struct tfo_cand *c, size_t n, unsigned top_n, size_t max_included, size_t *heap)
{
	size_t sel = 0;
	int sorted = 1;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		c[i].why &= TFO_SEL_INCLUDED;
		sorted &= i == 0 || c[i - 1].pid <= c[i].pid;
	}
	/* a walk of /proc lists pids in order; a fixture tree may not */
	if (!sorted)
		qsort(c, n, sizeof(*c), by_pid);
	mark_top(c, n, top_n, uses_cpu, by_cpu, TFO_SEL_TOP_CPU, heap);
	/* more included ones than the cap: the busiest pinned */
	mark_top(c, n, max_included, included, by_cpu, TFO_SEL_PINNED, heap);
	mark_top(c, n, top_n, uses_memory, by_rss, TFO_SEL_TOP_MEM, heap);
	for (size_t i = 0; i < n; i++)
		sel += TFO_SELECTED(&c[i]);
	return sel;
}
