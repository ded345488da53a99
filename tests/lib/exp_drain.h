/*
 * exp_drain.h - test and bench helper: a libevent timer that ends its loop
 * once an in-memory batch source (workers/exporter/memsource.h) holds nothing
 * queued, i.e. every entry was settled. Used by the exporter's pipeline unit
 * test, its benchmark and the interop driver.
 */
#ifndef TFO_TESTS_EXP_DRAIN_H
#define TFO_TESTS_EXP_DRAIN_H

#include <event2/event.h>

#include "workers/exporter/memsource.h"

struct tfo_exp_drain {
	struct event_base *base;
	struct tfo_exp_memsource *ms;
	struct event *ev;
};

/* tfo_exp_drain_start - check ms every `us` microseconds on base; 0, or -1
 * when the timer could not be made */
int tfo_exp_drain_start(struct tfo_exp_drain *d, struct event_base *base,
    struct tfo_exp_memsource *ms, long us);
/* tfo_exp_drain_stop - remove the timer */
void tfo_exp_drain_stop(struct tfo_exp_drain *d);

#endif
