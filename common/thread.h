/*
 * thread.h - the two steps every helper thread of ours takes: a condition
 * variable on the monotonic clock (its deadlines do not move when the wall
 * clock steps), and a start with every signal blocked (the loop thread owns
 * the signals; a helper that takes one would run the loop's handler).
 */
#ifndef TFO_THREAD_H
#define TFO_THREAD_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* tfo_cond_init_mono - pthread_cond_init with CLOCK_MONOTONIC; 0 or an errno */
int tfo_cond_init_mono(pthread_cond_t *cv);

/* tfo_mono_deadline - CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on
 * a condition variable made by tfo_cond_init_mono */
struct timespec tfo_mono_deadline(unsigned ms);

/*
 * tfo_thread_start_quiet - start fn(arg) with all signals blocked; detached
 * when th is NULL, on a stack of stack_size bytes when not 0. 0 or an errno.
 */
int tfo_thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack_size);

#endif
