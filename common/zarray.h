/*
 * zarray.h - zeroed capacity tables from mmap (any process). A table sized
 * for the largest host (1024 CPUs, 512 disks or interfaces) of which a
 * handful of entries are used costs only the pages those entries touch.
 * From the heap it would not: calloc zeroes whatever part of it comes from
 * memory the heap held before, which makes those pages resident for good.
 */
#ifndef TFO_ZARRAY_H
#define TFO_ZARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

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

#endif
