/*
 * select.c - the bounded choice of processes tfo-process reports each cycle
 * (included ones, top_n by CPU, top_n by resident memory).
 */
#include <stdlib.h>

#include "workers/process/select.h"

static int
pid_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
by_cpu(const void *a, const void *b)
{
	const struct tfo_cand *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu > y->cpu ? -1 : 1;
	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return pid_cmp(x->pid, y->pid);
}

static int
by_rss(const void *a, const void *b)
{
	const struct tfo_cand *x = a, *y = b;

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

size_t
tfo_select(struct tfo_cand *c, size_t n, unsigned top_n, size_t max_included)
{
	size_t k, inc = 0, sel = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		c[i].why &= TFO_SEL_INCLUDED;
	/* by CPU: also the order in which included processes are pinned */
	qsort(c, n, sizeof(*c), by_cpu);
	for (size_t i = 0, k2 = 0; i < n; i++) {
		if (k2 < top_n && c[i].cpu > 0) {
			c[i].why |= TFO_SEL_TOP_CPU;
			k2++;
		}
		if ((c[i].why & TFO_SEL_INCLUDED) && inc < max_included) {
			c[i].why |= TFO_SEL_PINNED;
			inc++;
		}
	}
	qsort(c, n, sizeof(*c), by_rss);
	for (k = 0; k < n && k < top_n && c[k].rss > 0; k++)
		c[k].why |= TFO_SEL_TOP_MEM;
	qsort(c, n, sizeof(*c), by_pid);
	for (size_t i = 0; i < n; i++)
		sel += TFO_SELECTED(&c[i]);
	return sel;
}
