/*
 * zarray.h - zeroed capacity tables from mmap (any process). A table sized
 * for the largest host (1024 CPUs, 512 disks or interfaces) of which a
 * handful of entries are used costs only the pages those entries touch.
 * From the heap it would not: calloc zeroes whatever part of it comes from
 * memory the heap held before, which makes those pages resident for good.
 * tfo_pages_release gives back the pages of a scratch buffer between uses.
 */
#ifndef TFO_ZARRAY_H
#define TFO_ZARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* tfo_zarray_alloc - n zeroed elements of size bytes; NULL on failure */
static inline void *
tfo_zarray_alloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0 || n > SIZE_MAX / size)
		return NULL;
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* tfo_zarray_free - p from tfo_zarray_alloc(n, size), or NULL */
static inline void
tfo_zarray_free(void *p, size_t n, size_t size)
{
	if (p != NULL)
		(void)munmap(p, n * size);
}

/*
 * tfo_pages_release - the whole pages inside [p, p + len) back to the
 * kernel; they read as zeros at the next touch. For a buffer, from malloc or
 * tfo_zarray_alloc, whose contents are not needed until it is written again
 * (a collector's read and encode buffers between cycles: an idle collector
 * then holds a page or two of each, not the largest cycle's). The partial
 * pages at either end are left alone (a heap chunk's header lives there).
 */
static inline void
tfo_pages_release(void *p, size_t len)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p, pg = ps > 0 ? (uintptr_t)ps : 4096, lo, hi;

	if (p == NULL || len < pg || a > UINTPTR_MAX - len)
		return;
	lo = (a + pg - 1) & ~(pg - 1);
	hi = (a + len) & ~(pg - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

#endif
