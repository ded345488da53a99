/*
 * threads.h - how many threads this process runs now (/proc/self/task), for
 * the unit tests that count the threads nng or our helpers start and end,
 * and how often some of them woke. Needs cmocka.h included before it.
 */
#ifndef TFO_TEST_THREADS_H
#define TFO_TEST_THREADS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* tfo_test_read_text - the start of a small /proc file; 0, or -1 when it is gone */
static inline int
tfo_test_read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* tfo_test_thread_wakeups - how often the threads of this process whose name
 * starts with prefix went to sleep so far (voluntary context switches: each
 * is a wake-up) */
static inline long
tfo_test_thread_wakeups(const char *prefix)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	long n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[4096], *v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (tfo_test_read_text(path, buf, sizeof(buf)) != 0 ||
		    strncmp(buf, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		if (tfo_test_read_text(path, buf, sizeof(buf)) == 0 &&
		    (v = strstr(buf, "voluntary_ctxt_switches:")) != NULL)
			n += strtol(v + strlen("voluntary_ctxt_switches:"), NULL, 10);
	}
	closedir(d);
	return n;
}

#endif
