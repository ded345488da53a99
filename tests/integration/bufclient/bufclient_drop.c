/*
 * bufclient_drop.c - a put against a peer that takes every connection and
 * drops it as soon as the put arrives (a buffer crashing on each put, or a
 * stranger on the path): the put is sent again after a pause, not as fast
 * as nng's dialer reconnects (every 10-20 ms). Counts the connections the
 * peer took and the puts it saw while the put tried for give_up_ms, and
 * fails when there were more than 4 a second (DROP_PAUSE_MS 250 in
 * common/bufclient.c) plus the first. Arrival is never before the send:
 * load on the machine only lowers the counts. Exit 0 when it holds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/bufclient.h"

#define TIMEOUT_MS 1000     /* the collectors' PUT_TIMEOUT_MS */
#define GIVE_UP_MS 3000

struct dropper {
	nng_socket s;
	pthread_t th;
	int stop;
	unsigned conns;         /* connections that came up */
	unsigned puts;          /* puts received (each dropped) */
};

static void
conn_up(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct dropper *d = arg;

	(void)p;
	(void)ev;
	__atomic_add_fetch(&d->conns, 1, __ATOMIC_SEQ_CST);
}

/* drop - every request received: its connection closed, no answer */
static void *
drop(void *arg)
{
	struct dropper *d = arg;

	while (!__atomic_load_n(&d->stop, __ATOMIC_SEQ_CST)) {
		nng_msg *m;

		if (nng_recvmsg(d->s, &m, 0) != 0)
			continue;                       /* receive timeout: check stop */
		__atomic_add_fetch(&d->puts, 1, __ATOMIC_SEQ_CST);
		(void)nng_pipe_close(nng_msg_get_pipe(m));
		nng_msg_free(m);
	}
	return NULL;
}

static int
fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	return 1;
}

int
main(void)
{
	char dir[] = "/tmp/tfo-bufclient-drop.XXXXXX", url[160], path[160];
	struct dropper d = { .stop = 0 };
	struct tfo_bufclient c;
	uint64_t t0, took;
	unsigned conns, puts, allowed;
	enum tfo_err e;
	int rc = 0;

	if (mkdtemp(dir) == NULL)
		return fail("mkdtemp");
	snprintf(url, sizeof(url), "ipc://%s/ingest.ipc", dir);
	snprintf(path, sizeof(path), "%s/ingest.ipc", dir);
	if (nng_rep0_open(&d.s) != 0 || nng_socket_set_ms(d.s, NNG_OPT_RECVTIMEO, 100) != 0 ||
	    nng_pipe_notify(d.s, NNG_PIPE_EV_ADD_POST, conn_up, &d) != 0 ||
	    nng_listen(d.s, url, NULL, 0) != 0 ||
	    pthread_create(&d.th, NULL, drop, &d) != 0)
		return fail("stand-in listener");
	if (tfo_bufclient_open_ingest(&c, url, TFO__V1__ROLE__ROLE_SYSTEM, 1, TIMEOUT_MS,
	    (uint32_t)getuid()) != TFO_OK)
		return fail("open ingest");
	c.give_up_ms = GIVE_UP_MS;
	t0 = tfo_ipc_mono_ms();
	e = tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_LOGS, "x", 1, 1, NULL, 0, 0);
	took = tfo_ipc_mono_ms() - t0;
	conns = __atomic_load_n(&d.conns, __ATOMIC_SEQ_CST);
	puts = __atomic_load_n(&d.puts, __ATOMIC_SEQ_CST);
	/* the first put, then at most one a quarter of the timeout */
	allowed = 2 + (unsigned)(took / (TIMEOUT_MS / 4));
	printf("put: %s after %llu ms; the peer took %u connections and %u puts "
	    "(%.1f a second), the client counted %llu resends; allowed %u\n",
	    tfo_strerror(e), (unsigned long long)took, conns, puts,
	    took ? puts * 1000.0 / (double)took : 0.0, (unsigned long long)c.resends,
	    allowed);
	if (e != TFO_ETIMEDOUT)
		rc = fail("the put did not end with its give-up time");
	if (puts < 2)
		rc = fail("the peer saw fewer than 2 puts: the case tests nothing");
	if (puts > allowed)
		rc = fail("puts resent in a hot loop after dropped connections");
	if (conns > allowed + 1)
		rc = fail("connections in a hot loop after dropped connections");
	if (took > GIVE_UP_MS + 2 * TIMEOUT_MS)
		rc = fail("the put outlived its give-up time by more than one wait");
	tfo_bufclient_close(&c);
	__atomic_store_n(&d.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(d.th, NULL);
	nng_close(d.s);
	/* closed sockets' dialers and pipes are freed by nng's reaper thread:
	 * an exit before it ran was reported as a leak by LeakSanitizer (one
	 * full ctest in ~20); nng_fini waits for it */
	nng_fini();
	(void)unlink(path);
	(void)rmdir(dir);
	if (rc == 0)
		printf("ok bufclient drop\n");
	return rc;
}
