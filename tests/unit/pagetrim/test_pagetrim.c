/*
 * test_pagetrim.c - tfo_pagetrim unmaps the pages of read-only and
 * executable file segments, and loses nothing: data written before, the
 * relocated read-only tables (RELRO), heap, libraries' functions and their
 * own state all read and work as before; its schedule trims at the start and
 * a minute on, once each. And it leaves no object's first page mapped (its
 * ELF and program headers, then its symbol tables: what reading the program
 * headers after the advice mapped again, 64 KiB with fault-around, in every
 * library of every process), nor the last page of that segment (its end is
 * a page's start: it was left mapped, 4 KiB per segment of every object).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pagetrim.h"

/* .data, written below; RELRO: pointers the loader relocated */
static int counter = 41;
static const char *const names[] = { "system", "process", "logs" };
static double (*volatile fn_sqrt)(double) = sqrt;

/* file_ro_rss - KiB resident in this process's non-writable file mappings */
static long
file_ro_rss(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long sum = 0, v;
	int ro_file = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char perm[8] = "", path[256] = "";

		if (sscanf(line, "%*x-%*x %7s %*s %*s %*s %255s", perm, path) >= 1 &&
		    strchr(line, '-') != NULL && line[0] != ' ' && strchr(perm, 'p') != NULL) {
			ro_file = perm[1] != 'w' && path[0] == '/';
			continue;
		}
		if (ro_file && sscanf(line, "Rss: %ld", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum;
}

static void
test_trim_unmaps_keeps_data(void **state)
{
	char *heap = malloc(1 << 20);
	long before, after;
	char text[64];

	(void)state;
	assert_non_null(heap);
	memset(heap, 0x5a, 1 << 20);
	counter++;
	snprintf(text, sizeof(text), "%s %.1f", names[1], fn_sqrt(2.0));   /* touch libc, libm */
	before = file_ro_rss();
	assert_true(tfo_pagetrim() > 0);
	after = file_ro_rss();
	/* the pages this test runs come back (reading smaps runs libc): far fewer */
	print_message("non-writable file pages resident: %ld KiB before, %ld KiB after\n",
	    before, after);
	assert_true(after < before);
	assert_int_equal(counter, 42);
	assert_string_equal(names[0], "system");
	assert_string_equal(names[2], "logs");
	assert_string_equal(text, "process 1.4");
	assert_true(fn_sqrt(16.0) == 4.0);
	for (size_t i = 0; i < (1 << 20); i += 4096)
		assert_int_equal((unsigned char)heap[i], 0x5a);
	free(heap);
	/* twice in a row: nothing left to lose either */
	assert_true(tfo_pagetrim() > 0);
	assert_int_equal(counter, 42);
}

#define MAX_OBJS 64

/* page_present - whether this process maps the page at addr (pagemap bit 63) */
static int
page_present(int fd, uintptr_t addr)
{
	uint64_t e = 0;

	assert_int_equal(pread(fd, &e, sizeof(e), (off_t)(addr / 4096 * sizeof(e))),
	    (ssize_t)sizeof(e));
	return (int)(e >> 63);
}

static void
test_headers_unmapped(void **state)
{
	uintptr_t start[MAX_OBJS], end[MAX_OBJS];
	char name[MAX_OBJS][128];
	size_t n = 0, left = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int fd;

	(void)state;
	assert_non_null(f);
#ifdef TFO_SANITIZE
	/* the sanitizers' runtime, linked into the executable, reads its headers
	 * again: only the libraries are checked there */
	char self[256];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(len > 0);
	self[len] = '\0';
#endif
	/* each object's first mapping: file offset 0, read-only, longer than a
	 * page (a one-page segment is shared with the next and left mapped) */
	while (n < MAX_OBJS && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi, off;
		char perm[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &lo, &hi, perm, &off, path) < 4 ||
		    off != 0 || path[0] != '/' || strcmp(perm, "r--p") != 0 || hi - lo <= 4096)
			continue;
#ifdef TFO_SANITIZE
		if (strcmp(path, self) == 0)
			continue;
#endif
		start[n] = lo;
		end[n] = hi;
		snprintf(name[n], sizeof(name[n]), "%s", path);
		n++;
	}
	fclose(f);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(n >= 3);            /* the test, libc, cmocka at least */
	(void)page_present(fd, start[0]);
	assert_true(tfo_pagetrim() > 0);
	for (size_t i = 0; i < n; i++) {
		if (page_present(fd, start[i])) {
			print_message("first page still mapped: %s\n", name[i]);
			left++;
		}
		/* and the last, partly the segment's (its end is file bytes) */
		if (page_present(fd, end[i] - 4096)) {
			print_message("last page of the first segment still mapped: %s\n", name[i]);
			left++;
		}
	}
	close(fd);
	assert_int_equal(left, 0);
}

static void
test_schedule(void **state)
{
	struct tfo_pagetrim_sched s = { { 0, 0 } };

	(void)state;
	assert_int_equal(tfo_pagetrim_tick(&s, 1000), 0);        /* never armed */
	tfo_pagetrim_arm(&s, 1000);
	assert_int_equal(tfo_pagetrim_tick(&s, 999), 0);
	assert_int_equal(tfo_pagetrim_tick(&s, 1000), 1);        /* the start's */
	assert_int_equal(tfo_pagetrim_tick(&s, 5000), 0);
	assert_int_equal(tfo_pagetrim_tick(&s, 1000 + TFO_PAGETRIM_LATER_MS - 1), 0);
	assert_int_equal(tfo_pagetrim_tick(&s, 1000 + TFO_PAGETRIM_LATER_MS), 1);
	assert_int_equal(tfo_pagetrim_tick(&s, 1000 + 10 * TFO_PAGETRIM_LATER_MS), 0);
	/* a reload re-arms; ticks that come late make one trim, not two */
	tfo_pagetrim_arm(&s, 200000);
	assert_int_equal(tfo_pagetrim_tick(&s, 200000 + 2 * TFO_PAGETRIM_LATER_MS), 1);
	assert_int_equal(tfo_pagetrim_tick(&s, 200000 + 3 * TFO_PAGETRIM_LATER_MS), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_unmaps_keeps_data),
		cmocka_unit_test(test_headers_unmapped),
		cmocka_unit_test(test_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
