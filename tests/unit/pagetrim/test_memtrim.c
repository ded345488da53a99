/*
 * test_memtrim.c - tfo_memtrim gives back the main stack's pages below the
 * running frame and the heap's free pages, and loses nothing: the live
 * frames' data reads as before, a deep call works again, and the heap's live
 * blocks keep their contents; the trim runs at most every
 * TFO_MEMTRIM_EVERY_MS.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/memtrim.h"

#define DEEP (256 * 1024)
#define PG 4096

static uintptr_t deep_top;              /* the deep call's frame, when it ran */

/* resident - pages of [lo, lo + len) in memory */
static size_t
resident(uintptr_t lo, size_t len)
{
	unsigned char v[DEEP / PG];
	size_t n = 0;

	assert_true(len <= DEEP);
	lo &= ~(uintptr_t)(PG - 1);
	assert_int_equal(mincore((void *)lo, len, v), 0);
	for (size_t i = 0; i < len / PG; i++)
		n += v[i] & 1;
	return n;
}

/* deep - a call DEEP bytes deep, as a start-up or a big cycle makes */
__attribute__((noinline)) static int
deep(int seed)
{
	volatile unsigned char a[DEEP];

	for (size_t i = 0; i < sizeof(a); i += 512)
		a[i] = (unsigned char)(seed + (int)i);
	/* its array lies just below the frame: [deep_top - DEEP - a little, deep_top) */
	deep_top = (uintptr_t)__builtin_frame_address(0);
	return a[DEEP / 2] + a[DEEP - 512];
}

static void
test_without_init(void **state)
{
	(void)state;
	/* the range is unknown: nothing advised */
	assert_int_equal(tfo_memtrim_stack(), 0);
}

static void
test_stack_below_frame_freed(void **state)
{
	unsigned char live[8192];
	/* half the dead array, a page above its low end: clear of the margin */
	size_t span = DEEP / 2;
	uintptr_t lo;

	(void)state;
	tfo_memtrim_init();
	memset(live, 0x5a, sizeof(live));
	(void)deep(1);
	assert_true(deep_top != 0 && deep_top < (uintptr_t)live);
	lo = deep_top - DEEP + PG;
	assert_int_equal(resident(lo, span), span / PG);
	assert_true(tfo_memtrim_stack() >= span);
	assert_int_equal(resident(lo, span), 0);
	/* the live frame is whole; a deep call runs again on fresh pages */
	for (size_t i = 0; i < sizeof(live); i++)
		assert_int_equal(live[i], 0x5a);
	assert_int_equal(deep(3), (unsigned char)(3 + DEEP / 2) + (unsigned char)(3 + DEEP - 512));
	assert_int_equal(resident(lo, span), span / PG);
}

static void
test_heap_and_schedule(void **state)
{
	enum { N = 32, SZ = 64 * 1024 };
	char *b[N];
	size_t before = 0, after = 0;

	(void)state;
	/* as in a worker: freed memory kept until the trim */
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 32 << 20);
	for (int i = 0; i < N; i++) {
		assert_non_null(b[i] = malloc(SZ));
		memset(b[i], i, SZ);
	}
	for (int i = 0; i < N - 1; i += 2)
		free(b[i]);
	for (int i = 0; i < N - 1; i += 2)
		before += resident((uintptr_t)b[i] + PG, SZ - 2 * PG);
	assert_int_equal(tfo_memtrim(1000000), 1);
	for (int i = 0; i < N - 1; i += 2)
		after += resident((uintptr_t)b[i] + PG, SZ - 2 * PG);
	print_message("freed blocks' pages: %zu resident before the trim, %zu after\n", before,
	    after);
#ifdef TFO_SANITIZE
	/* ASan's allocator holds freed blocks in its quarantine and ignores
	 * malloc_trim: the release build (make test) checks the pages */
	(void)after;
#else
	assert_true(before > 0 && after < before / 4);
#endif
	for (int i = 1; i < N; i += 2) {
		for (size_t j = 0; j < SZ; j += 997)
			assert_int_equal(b[i][j], (char)i);
		free(b[i]);
	}
	/* at most every TFO_MEMTRIM_EVERY_MS */
	assert_int_equal(tfo_memtrim(1000000 + TFO_MEMTRIM_EVERY_MS - 1), 0);
	assert_int_equal(tfo_memtrim(1000000 + TFO_MEMTRIM_EVERY_MS), 1);
	assert_int_equal(tfo_memtrim(1000000 + TFO_MEMTRIM_EVERY_MS + 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_init),
		cmocka_unit_test(test_stack_below_frame_freed),
		cmocka_unit_test(test_heap_and_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
