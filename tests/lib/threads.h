/*
 * threads.h - how many threads this process runs now (/proc/self/task), for
 * the unit tests that count the threads nng or our helpers start and end.
 * Needs cmocka.h included before it.
 */
#ifndef TFO_TEST_THREADS_H
#define TFO_TEST_THREADS_H

#include <dirent.h>

static inline int
tfo_test_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
