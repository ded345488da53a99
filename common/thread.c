/*
 * thread.c - helper threads' common steps (thread.h).
 */
#include "common/thread.h"

#include <signal.h>
#include <time.h>

int
tfo_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc;

	if ((rc = pthread_condattr_init(&ca)) != 0)
		return rc;
	if ((rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) == 0)
		rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

struct timespec
tfo_mono_deadline(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

int
tfo_thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack_size)
{
	pthread_attr_t a;
	pthread_t self_th;
	sigset_t all, old;
	int rc;

	if ((rc = pthread_attr_init(&a)) != 0)
		return rc;
	if (th == NULL)
		(void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (stack_size != 0)
		(void)pthread_attr_setstacksize(&a, stack_size);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);     /* the new thread inherits it */
	rc = pthread_create(th != NULL ? th : &self_th, &a, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	return rc;
}
