/*
 * until_settled.h - test and bench helper: a libevent timer that ends its loop
 * once an in-memory batch source (workers/exporter/memsource.h) holds nothing
 * queued, i.e. every entry was settled. Used by the exporter's pipeline unit
 * test, its benchmark and the interop driver.
 */
#ifndef TFO_TESTS_UNTIL_SETTLED_H
#define TFO_TESTS_UNTIL_SETTLED_H

#include <event2/event.h>

#include "workers/exporter/memsource.h"

struct tfo_test_until_settled {
	struct event_base *base;
	struct tfo_exp_memsource *ms;
	struct event *ev;
};

/* tfo_test_until_settled_start - check ms every `us` microseconds on base; 0, or -1
 * when the timer could not be made */
int tfo_test_until_settled_start(struct tfo_test_until_settled *d, struct event_base *base,
    struct tfo_exp_memsource *ms, long us);
/* tfo_test_until_settled_stop - remove the timer */
void tfo_test_until_settled_stop(struct tfo_test_until_settled *d);

#endif
