/*
 * check.h - the checks of a test program that runs real processes: a failed
 * check prints its file, line and message and is counted, and the program
 * goes on to the next one (its main returns failures ? 1 : 0). One test
 * program, one counter: include it from the file that holds main only.
 */
#ifndef TFO_TEST_CHECK_H
#define TFO_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", \
    __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
    failures++; } } while (0)

#endif
