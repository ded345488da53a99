/*
 * putter.h - tfo-logs' asynchronous sink (see struct tfo_logs_sink): a thread
 * that makes the blocking put to tfo-buffer while the loop frames the next
 * batch, so reading and storing overlap. One put at a time, in order; a put
 * that failed is resent with the same seq (the buffer stores it once).
 */
#ifndef TFO_LOGS_PUTTER_H
#define TFO_LOGS_PUTTER_H

#include <event2/event.h>

#include "common/bufclient.h"
#include "workers/logs/tailer.h"

struct putter;

/* putter_new - the sink's state (the tailer is made before the sandbox) */
struct putter *putter_new(void);
/*
 * putter_run - start the thread that puts through bc. The caller makes no
 * call of its own on bc while a put may be in flight (tfo-logs reads its
 * checkpoints before the tailer's first put). wake(arg) runs on base's loop
 * when a put has finished. -1 when the pipe or thread cannot be made.
 */
int putter_run(struct putter *pu, struct tfo_bufclient *bc, struct event_base *base,
    void (*wake)(void *), void *arg);
/* putter_sink - the tailer's sink bound to pu */
struct tfo_logs_sink putter_sink(struct putter *pu);
/* putter_free - stop the thread (after the put in flight, if any) and free pu */
void putter_free(struct putter *pu);

#endif
