/*
 * memtrim.c - the heap's and the main stack's freed pages given back
 * (memtrim.h).
 *
 * Why the stack: the kernel never takes back a stack page once touched. A
 * worker's start-up (config decode, sandbox build) and its deepest cycle
 * left 20-56 KiB of the main stack resident, read again only when as deep a
 * call comes, while an idle worker's loop runs a few KiB deep.
 *
 * Why it is safe: everything below the stack pointer is dead (the frames of
 * returned calls); the x86-64 ABI's red zone and the syscall wrapper this
 * file calls are spared by TRIM_MARGIN. Only the main thread
 * runs on that stack, and signal handlers run on it only when delivered to
 * that thread, which is then here, not in a handler. The range comes from
 * pthread_getattr_np, which bounds the main stack by RLIMIT_STACK and by the
 * mapping below it: no other mapping is advised. The part of that range the
 * stack never grew into is not mapped: madvise then fails with ENOMEM after
 * advising what is.
 */
#include "common/memtrim.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

/* kept above the advised range: the red zone (128 bytes) and the one call
 * made below this frame after hi is known (madvise, a syscall wrapper) */
#define TRIM_MARGIN 1024
/* advised at most this far below: the kernel keeps other mappings a stack
 * guard gap (1 MiB) below the stack's lowest page, so the range is stack or
 * nothing even if a mapping were made inside the range noted at start */
#define TRIM_SPAN (1024 * 1024)

static uintptr_t stack_lo;      /* 0: not known */
static int64_t last_ms;
static int trimmed_once;

void
tfo_memtrim_init(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &addr, &size) == 0)
		stack_lo = (uintptr_t)addr;
	pthread_attr_destroy(&a);
}

size_t
tfo_memtrim_stack(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t pg = ps > 0 ? (uintptr_t)ps : 4096;
	/* this frame on the real stack (a local may live on ASan's fake stack) */
	uintptr_t hi = ((uintptr_t)__builtin_frame_address(0) - TRIM_MARGIN) & ~(pg - 1);
	uintptr_t lo = (stack_lo + pg - 1) & ~(pg - 1);

	if (stack_lo == 0 || hi <= lo)
		return 0;
	if (hi - lo > TRIM_SPAN)
		lo = hi - TRIM_SPAN;
	(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	return hi - lo;
}

int
tfo_memtrim(int64_t now_ms)
{
	if (trimmed_once && now_ms - last_ms < TFO_MEMTRIM_EVERY_MS)
		return 0;
	trimmed_once = 1;
	last_ms = now_ms;
	(void)malloc_trim(0);
	(void)tfo_memtrim_stack();
	return 1;
}
