/*
 * memtrim.h - give an idle process's freed anonymous memory back to the
 * kernel: the heap's free pages (malloc_trim) and the main thread's stack
 * below the running frame (tfo-supervisor and every worker, issue 18 §2).
 */
#ifndef TFO_MEMTRIM_H
#define TFO_MEMTRIM_H

#include <stddef.h>
#include <stdint.h>

/* at most this often (a health ping comes every few seconds) */
#define TFO_MEMTRIM_EVERY_MS 10000

/*
 * tfo_memtrim_init - note the main thread's stack range (pthread_getattr_np
 * reads /proc/self/maps: call it from the main thread before the sandbox).
 * Without it, tfo_memtrim trims the heap only.
 */
void tfo_memtrim_init(void);

/*
 * tfo_memtrim - from the main thread, at most every TFO_MEMTRIM_EVERY_MS:
 * malloc_trim(0), then MADV_DONTNEED over the main stack's pages below the
 * caller's frame (less a margin): they hold only the frames of calls that
 * returned (start-up's config parse, a collection cycle's deepest calls) and
 * read as zeros when a deeper call touches them again. 1 when it trimmed.
 */
int tfo_memtrim(int64_t now_ms);

/* tfo_memtrim_stack - the stack part alone, now; bytes advised (tests) */
size_t tfo_memtrim_stack(void);

#endif
