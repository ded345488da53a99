/*
 * nnginit.c - nng's thread pools sized for one CPU (every process). nng
 * asks sysconf(_SC_NPROCESSORS_ONLN) while it initialises; this file
 * defines sysconf, which the executable exports and libnng's call binds to,
 * and answers 1 for the CPU count only while tfo_nng_init runs. Every other
 * call, and every call outside that window, is glibc's own (__sysconf).
 * The thread count is checked by unit.test_nnginit.
 */
#include "common/nnginit.h"

#include <unistd.h>

#include <nng/nng.h>

/* glibc's implementation, exported for interposers like this one */
extern long __sysconf(int name);

static volatile int one_cpu;

long
sysconf(int name)
{
	if (one_cpu && (name == _SC_NPROCESSORS_ONLN || name == _SC_NPROCESSORS_CONF))
		return 1;
	return __sysconf(name);
}

int
tfo_nng_init(void)
{
	nng_aio *aio = NULL;
	int rv;

	one_cpu = 1;
	rv = nng_aio_alloc(&aio, NULL, NULL);    /* the first nng call starts nng */
	one_cpu = 0;
	if (rv == 0)
		nng_aio_free(aio);
	return rv;
}
