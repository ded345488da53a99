/*
 * until_settled.c - end an event loop once a memsource is drained (until_settled.h).
 */
#include "tests/lib/until_settled.h"

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_test_until_settled *d = arg;
	struct tfo_exp_memsource_counts c;

	(void)fd;
	(void)what;
	tfo_exp_memsource_counts(d->ms, &c);
	if (c.queued == 0)
		event_base_loopbreak(d->base);
}

int
tfo_test_until_settled_start(struct tfo_test_until_settled *d, struct event_base *base,
    struct tfo_exp_memsource *ms, long us)
{
	struct timeval tv = { us / 1000000, us % 1000000 };

	d->base = base;
	d->ms = ms;
	d->ev = event_new(base, -1, EV_PERSIST, drain_tick, d);
	if (d->ev == NULL || event_add(d->ev, &tv) != 0)
		return -1;
	return 0;
}

void
tfo_test_until_settled_stop(struct tfo_test_until_settled *d)
{
	if (d->ev != NULL)
		event_free(d->ev);
	d->ev = NULL;
}
