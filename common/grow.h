/*
 * grow.h - the one growable-array step the workers share: capacity doubled
 * (from `first`) until `need` elements of `elem` bytes fit.
 */
#ifndef TFO_GROW_H
#define TFO_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* tfo_grow - *buf holds at least need elements; 0, or -1 (no memory, or a
 * size that does not fit in size_t) with *buf and *cap unchanged */
static inline int
tfo_grow(void **buf, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (elem != 0 && ncap > SIZE_MAX / elem)
		return -1;
	if ((nb = realloc(*buf, ncap * elem)) == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

#endif
