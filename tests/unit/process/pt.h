/*
 * pt.h - what the tfo-process unit tests share: an emit callback that
 * decodes each ResourceMetrics, finding a process's by pid, and the real
 * tfo-procpriv started over a /proc for a collector.
 */
#ifndef TFO_TEST_PT_H
#define TFO_TEST_PT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "workers/process/collect.h"
#include "workers/process/priv.h"
#include "tests/unit/system/tu.h"

#define PT_MAXOUT 64

struct pt_out {
	rm_t *rm[PT_MAXOUT];
	size_t n;
	int fail_after;                 /* emit fails from this call on (0 = never) */
	size_t calls;
};

/* pt_emit - tfo_proccol_emit_fn into a struct pt_out */
int pt_emit(void *arg, const uint8_t *p, size_t len, uint32_t points);
void pt_out_free(struct pt_out *o);
/* pt_of_pid - the resource of pid in o, NULL if it was not emitted */
const rm_t *pt_of_pid(const struct pt_out *o, pid_t pid);
/* pt_helper_start - the real tfo-procpriv over proc (the test's own
 * identity), attached to c; pt_helper_stop closes its channel (it exits 0) */
struct tfo_priv *pt_helper_start(struct tfo_proccol *c, const char *proc);
void pt_helper_stop(struct tfo_proccol *c, struct tfo_priv *p);

#endif
