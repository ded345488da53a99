/*
 * logcapture.h - what the logger writes to stderr while a unit test runs,
 * as a string, for the tests that count the lines a behaviour logs (a run of
 * failures is one line, a forged file name cannot end a line). Needs cmocka.h
 * included before it; one capture at a time.
 */
#ifndef TFO_TEST_LOGCAPTURE_H
#define TFO_TEST_LOGCAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"

struct tfo_test_capture {
	FILE *tmp;
	int saved;
};

/* tfo_test_capture_start - stderr goes to a temporary file; the logger is
 * set up for role at level debug in format fmt */
static inline void
tfo_test_capture_start(struct tfo_test_capture *c, const char *role,
    enum tfo_log_format fmt)
{
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(c->tmp), 2), 2);
	tfo_log_init(role, TFO_LOG_DEBUG, fmt);
}

/* tfo_test_capture_end - stderr back; the bytes written since the start as
 * one string (caller frees), their length and line count (either may be NULL) */
static inline char *
tfo_test_capture_end(struct tfo_test_capture *c, size_t *len, int *lines)
{
	long n;
	char *buf;

	fflush(stderr);
	assert_int_equal(dup2(c->saved, 2), 2);
	close(c->saved);
	n = ftell(c->tmp);
	assert_true(n >= 0);
	rewind(c->tmp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, c->tmp), (size_t)n);
	fclose(c->tmp);
	if (len != NULL)
		*len = (size_t)n;
	if (lines != NULL) {
		*lines = 0;
		for (const char *p = buf; *p; p++)
			*lines += *p == '\n';
	}
	return buf;
}

#endif
