/*
 * test_bufclient.c - unit tests of common/bufclient (test process): a put
 * gets through after the buffer dropped a connection before the SP
 * handshake, the moment a killed or restarting buffer does it, which stops
 * nng 1.5's dialer for good. A stand-in buffer answers on the same path.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/bufclient.h"
#include "common/collector.h"
#include "tests/lib/logcapture.h"
#include "tests/lib/threads.h"

#define MAX_SEEN 16

struct standin {
	nng_socket s;
	pthread_t th;
	int stop;
	unsigned answered;          /* Puts answered (or about to be) */
	int busy_even;              /* answer puts 0, 2, 4... Busy, as on a full disk */
	int late_first_ms;          /* answer the first put this late */
	int no_timeo;               /* receive without a timeout (stopped by closing) */
	int drop_first;             /* take the first put and leave without an answer */
	/* per Put answered: its payloads, and their first bytes in order */
	size_t payloads[MAX_SEEN];
	char heads[MAX_SEEN][64];
};

/* seen - note what a Put carried (the answered count is published after) */
static void
seen(struct standin *b, const Tfo__V1__Put *p)
{
	unsigned k = __atomic_load_n(&b->answered, __ATOMIC_SEQ_CST);
	size_t o = 0;

	if (k >= MAX_SEEN)
		return;
	b->payloads[k] = 1 + p->n_more;
	b->heads[k][o++] = p->payload.len ? (char)p->payload.data[0] : '-';
	for (size_t i = 0; i < p->n_more && o + 1 < sizeof(b->heads[k]); i++)
		b->heads[k][o++] = p->more[i]->payload.len ? (char)p->more[i]->payload.data[0] : '-';
	b->heads[k][o] = '\0';
}

/* serve - answer every Put with PutOk(seq), as tfo-buffer does once stored */
static void *
serve(void *arg)
{
	struct standin *b = arg;

	while (!__atomic_load_n(&b->stop, __ATOMIC_SEQ_CST)) {
		Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
		Tfo__V1__PutOk ok = TFO__V1__PUT_OK__INIT;
		Tfo__V1__Busy busy = TFO__V1__BUSY__INIT;
		char reason[64];
		Tfo__V1__IngestRequest *req;
		nng_msg *m;

		if (nng_recvmsg(b->s, &m, 0) != 0)
			continue;                       /* receive timeout: check stop */
		req = tfo__v1__ingest_request__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
		nng_msg_free(m);
		if (req == NULL || req->msg_case != TFO__V1__INGEST_REQUEST__MSG_PUT) {
			tfo__v1__ingest_request__free_unpacked(req, NULL);
			continue;
		}
		r.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
		r.msg_case = TFO__V1__INGEST_REPLY__MSG_PUT_OK;
		r.put_ok = &ok;
		ok.seq = req->put->seq;
		if (b->busy_even && __atomic_load_n(&b->answered, __ATOMIC_SEQ_CST) % 2 == 0) {
			/* its free figure changes from answer to answer, as a real one does */
			snprintf(reason, sizeof(reason), "disk full at /var/lib/tfo (%u MiB free)",
			    __atomic_load_n(&b->answered, __ATOMIC_SEQ_CST) / 2);
			busy.reason = reason;
			busy.retry_after_ms = 100;
			r.msg_case = TFO__V1__INGEST_REPLY__MSG_BUSY;
			r.busy = &busy;
		}
		if (b->drop_first) {            /* its connection drops (the caller) */
			tfo__v1__ingest_request__free_unpacked(req, NULL);
			__atomic_store_n(&b->drop_first, 2, __ATOMIC_SEQ_CST);
			return NULL;
		}
		seen(b, req->put);
		tfo__v1__ingest_request__free_unpacked(req, NULL);
		if (b->late_first_ms && __atomic_load_n(&b->answered, __ATOMIC_SEQ_CST) == 0)
			usleep((useconds_t)b->late_first_ms * 1000);
		if (nng_msg_alloc(&m, protobuf_c_message_get_packed_size(&r.base)) != 0)
			continue;
		protobuf_c_message_pack(&r.base, nng_msg_body(m));
		/* counted before the reply leaves, so the client sees the count */
		__atomic_add_fetch(&b->answered, 1, __ATOMIC_SEQ_CST);
		if (nng_sendmsg(b->s, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

/* raw_listen - a plain unix listener on path (no SP handshake) */
static int
raw_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void
test_put_after_dropped_handshake(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", path[128], url[160];
	struct pollfd p = { .events = POLLIN };
	struct standin b = { .stop = 0 };
	struct tfo_bufclient c;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ingest.ipc", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	p.fd = raw_listen(path);
	assert_int_equal(tfo_bufclient_open_ingest(&c, url, TFO__V1__ROLE__ROLE_SYSTEM, 1, 200,
	    (uint32_t)getuid()),
	    TFO_OK);
	c.give_up_ms = 20000;
	/* the client's first connection is dropped before its handshake */
	assert_int_equal(poll(&p, 1, 10000), 1);
	fd = accept(p.fd, NULL, NULL);
	assert_true(fd >= 0);
	close(fd);
	close(p.fd);
	assert_int_equal(unlink(path), 0);
	/* the buffer is back on the same path */
	assert_int_equal(nng_rep0_open(&b.s), 0);
	assert_int_equal(nng_socket_set_ms(b.s, NNG_OPT_RECVTIMEO, 100), 0);
	assert_int_equal(nng_listen(b.s, url, NULL, 0), 0);
	assert_int_equal(pthread_create(&b.th, NULL, serve, &b), 0);

	assert_int_equal(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, "x", 1, 1, NULL,
	    0, 0), TFO_OK);
	assert_int_equal(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, "y", 1, 1, NULL,
	    0, 0), TFO_OK);
	assert_true(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST) >= 2);

	__atomic_store_n(&b.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(b.th, NULL);
	tfo_bufclient_close(&c);
	nng_close(b.s);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* standin_start - a stand-in buffer on a fresh path; its url in url */
static void
standin_start(struct standin *b, char *dir, char *url, size_t len)
{
	assert_non_null(mkdtemp(dir));
	snprintf(url, len, "ipc://%s/ingest.ipc", dir);
	assert_int_equal(nng_rep0_open(&b->s), 0);
	if (!b->no_timeo)
		assert_int_equal(nng_socket_set_ms(b->s, NNG_OPT_RECVTIMEO, 100), 0);
	assert_int_equal(nng_listen(b->s, url, NULL, 0), 0);
	assert_int_equal(pthread_create(&b->th, NULL, serve, b), 0);
}

static void
standin_stop(struct standin *b, const char *dir)
{
	char path[160];

	__atomic_store_n(&b->stop, 1, __ATOMIC_SEQ_CST);
	if (b->no_timeo)
		nng_close(b->s);        /* ends its receive */
	pthread_join(b->th, NULL);
	if (!b->no_timeo)
		nng_close(b->s);
	snprintf(path, sizeof(path), "%s/ingest.ipc", dir);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* put_many: the payloads travel in one Put, in order */
static void
test_put_many(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	const struct tfo_bufclient_item it[] = { { "a1", 2, 1 }, { "b22", 3, 2 }, { "c", 1, 3 } };
	struct standin b = { .stop = 0 };
	struct tfo_bufclient c;

	(void)state;
	standin_start(&b, dir, url, sizeof(url));
	assert_int_equal(tfo_bufclient_open_ingest(&c, url, TFO__V1__ROLE__ROLE_PROCESS, 1, 1000,
	    (uint32_t)getuid()),
	    TFO_OK);
	assert_int_equal(tfo_bufclient_put_many(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, it, 3),
	    TFO_OK);
	assert_int_equal(tfo_bufclient_put_many(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, it, 0),
	    TFO_EINVAL);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(b.payloads[0], 3);
	assert_string_equal(b.heads[0], "abc");
	tfo_bufclient_close(&c);
	standin_stop(&b, dir);
}

/* the collector sends what a cycle added as one put, in pieces of at most
 * TFO_COLLECTOR_PUT_BYTES */
static void
test_collector_pieces(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	struct standin b = { .stop = 0 };
	struct tfo_collector col = { .role = "test" };
	size_t big = TFO_COLLECTOR_PUT_BYTES / 5 * 2;       /* two fit, three do not */
	uint8_t *p = malloc(big);

	(void)state;
	assert_non_null(p);
	standin_start(&b, dir, url, sizeof(url));
	assert_int_equal(tfo_bufclient_open_ingest(&col.bc, url, TFO__V1__ROLE__ROLE_PROCESS, 1,
	    1000, (uint32_t)getuid()), TFO_OK);
	col.bc_open = 1;
	assert_int_equal(tfo_collector_flush(&col), 0);         /* nothing: no put */
	for (char k = 'a'; k <= 'e'; k++) {
		memset(p, k, big);
		assert_int_equal(tfo_collector_add(&col, p, k == 'c' ? 10 : big, 1), 0);
	}
	/* a, b, c (small) fit; d would not: a piece went out */
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(tfo_collector_flush(&col), 0);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 2);
	assert_string_equal(b.heads[0], "abc");
	assert_string_equal(b.heads[1], "de");
	assert_int_equal(col.puts, 2);
	assert_int_equal(col.put_errors, 0);
	tfo_collector_fini(&col);
	free(p);
	standin_stop(&b, dir);
}

/* on a full disk Busy answers and stored puts alternate (each drop of the
 * oldest entry makes room for a put): a metric collector logs the run once,
 * as tfo-logs does, not a line per Busy answer; every failure is counted */
static void
test_collector_busy_run(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	struct standin b = { .stop = 0, .busy_even = 1 };
	struct tfo_collector col = { .role = "system" };
	struct tfo_test_capture cap;
	char *out;
	int lines;

	(void)state;
	standin_start(&b, dir, url, sizeof(url));
	assert_int_equal(tfo_bufclient_open_ingest(&col.bc, url, TFO__V1__ROLE__ROLE_SYSTEM, 1,
	    1000, (uint32_t)getuid()), TFO_OK);
	col.bc_open = 1;
	tfo_test_capture_start(&cap, "system", TFO_LOG_TEXT);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(tfo_collector_add(&col, (const uint8_t *)"m", 1, 1), 0);
		assert_int_equal(tfo_collector_flush(&col), i % 2 == 0 ? -1 : 0);
	}
	out = tfo_test_capture_end(&cap, NULL, &lines);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 8);
	assert_int_equal(col.puts, 4);
	assert_int_equal(col.put_errors, 4);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(out, "system: put failed: "));
	assert_non_null(strstr(out, "disk full at /var/lib/tfo (0 MiB free)"));
	free(out);
	tfo_collector_fini(&col);
	standin_stop(&b, dir);
}

/* a listener that is not run by the buffer's uid (a squatter on the path)
 * is refused at connect: nothing is put into it, the refusal is counted; a
 * client expecting the right uid gets through. (Two stand-ins: connections
 * closed during nng 1.5.2's handshake can stop a listener for good, which
 * tfo-buffer's channels repair, a plain one does not.) */
static void
test_refuses_other_listener(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	char dir2[] = "/tmp/tfo-bufclient-ut.XXXXXX", url2[160];
	struct standin b = { .stop = 0 }, b2 = { .stop = 0 };
	struct tfo_bufclient c;

	(void)state;
	standin_start(&b, dir, url, sizeof(url));
	/* the stand-in runs as us: expecting any other uid makes it a squatter */
	assert_int_equal(tfo_bufclient_open_ingest(&c, url, TFO__V1__ROLE__ROLE_SYSTEM, 1, 200,
	    (uint32_t)getuid() + 1), TFO_OK);
	c.give_up_ms = 1000;
	assert_int_equal(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, "secret", 6, 1,
	    NULL, 0, 0), TFO_ETIMEDOUT);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 0);
	assert_true(tfo_ipc_policy_rejected(&c.pol) > 0);
	tfo_bufclient_close(&c);
	standin_stop(&b, dir);
	standin_start(&b2, dir2, url2, sizeof(url2));
	assert_int_equal(tfo_bufclient_open_ingest(&c, url2, TFO__V1__ROLE__ROLE_SYSTEM, 2, 1000,
	    (uint32_t)getuid()), TFO_OK);
	c.give_up_ms = 20000;
	assert_int_equal(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, "x", 1, 1,
	    NULL, 0, 0), TFO_OK);
	assert_int_equal(__atomic_load_n(&b2.answered, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(tfo_ipc_policy_rejected(&c.pol), 0);
	tfo_bufclient_close(&c);
	standin_stop(&b2, dir2);
}

/* put_to - a system put client of url, waiting timeout_ms for each answer
 * and resending for up to 20 s */
static void
put_to(struct tfo_bufclient *c, const char *url, int timeout_ms)
{
	assert_int_equal(tfo_bufclient_open_ingest(c, url, TFO__V1__ROLE__ROLE_SYSTEM, 1,
	    timeout_ms, (uint32_t)getuid()), TFO_OK);
	c->give_up_ms = 20000;
}

/* put_one - one metrics put of the text s */
static enum tfo_err
put_one(struct tfo_bufclient *c, const char *s)
{
	return tfo_bufclient_put(c, TFO__V1__SIGNAL__SIGNAL_METRICS, s, strlen(s), 1, NULL, 0, 0);
}

/* put_wakeups - how often nng's thread `thread` woke over 10 puts, each
 * answered at once by a stand-in receiving without a timeout of its own,
 * gap_us apart (the client's answer deadline timeout_ms); none resent */
static long
put_wakeups(const char *thread, int timeout_ms, useconds_t gap_us)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	struct standin b = { .stop = 0, .no_timeo = 1 };
	struct tfo_bufclient c;
	long before;

	standin_start(&b, dir, url, sizeof(url));
	put_to(&c, url, timeout_ms);
	assert_int_equal(put_one(&c, "a"), TFO_OK);     /* connected */
	usleep(100000);
	before = tfo_test_thread_wakeups(thread);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(put_one(&c, "b"), TFO_OK);
		usleep(gap_us);
	}
	before = tfo_test_thread_wakeups(thread) - before;
	assert_int_equal(c.resends, 0);
	tfo_bufclient_close(&c);
	standin_stop(&b, dir);
	return before;
}

/*
 * A request answered at once wakes no nng thread for its deadline (issue
 * 18 §3): the wait for the answer is the caller's own poll, and the send
 * goes at once on the connection that is up. With an aio timeout each
 * request woke nng's expire thread when it was set and again when it
 * passed: puts spaced wider than their timeout, as a collector's are, woke
 * it about twice each.
 */
static void
test_no_expire_wakeups(void **state)
{
	long woke;

	(void)state;
	woke = put_wakeups("nng:aio:expire", 40, 60000);        /* past the deadline */
	if (woke > 3)
		fail_msg("nng's expire thread woke %ld times for 10 puts", woke);
}

/*
 * A put costs nng's timer thread nothing (issue 18 §3): the REQ protocol's
 * resend timer is off, so no send schedules it and no answer takes it back
 * (once or twice a put on the old code: 20 for these 10).
 */
static void
test_no_timer_wakeups(void **state)
{
	long woke;

	(void)state;
	woke = put_wakeups("nng:timer", 5000, 20000);
	if (woke > 3)
		fail_msg("nng's timer thread woke %ld times for 10 puts", woke);
}

struct restart {
	struct standin *first, *next;
	char url[160];
};

/* restarter - the buffer restarts with a put in flight: the first stand-in
 * takes it and leaves without an answer (its socket closed: the
 * connection drops), the next one listens on the same path */
static void *
restarter(void *arg)
{
	struct restart *r = arg;

	while (__atomic_load_n(&r->first->drop_first, __ATOMIC_SEQ_CST) != 2)
		usleep(1000);
	pthread_join(r->first->th, NULL);
	nng_close(r->first->s);
	assert_int_equal(nng_rep0_open(&r->next->s), 0);
	assert_int_equal(nng_socket_set_ms(r->next->s, NNG_OPT_RECVTIMEO, 100), 0);
	assert_int_equal(nng_listen(r->next->s, r->url, NULL, 0), 0);
	assert_int_equal(pthread_create(&r->next->th, NULL, serve, r->next), 0);
	return NULL;
}

/*
 * A put whose connection drops before its answer (the buffer restarted) is
 * sent again, the same seq, to the next buffer on the path, and stored
 * there: not lost, not failed, with a wait for the answer far longer than
 * the test (only the drop can end it).
 */
static void
test_put_survives_restart(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", path[160];
	struct standin a = { .stop = 0, .drop_first = 1 }, b = { .stop = 0 };
	struct restart r = { .first = &a, .next = &b };
	struct tfo_bufclient c;
	pthread_t th;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(r.url, sizeof(r.url), "ipc://%s/ingest.ipc", dir);
	assert_int_equal(nng_rep0_open(&a.s), 0);
	assert_int_equal(nng_socket_set_ms(a.s, NNG_OPT_RECVTIMEO, 100), 0);
	assert_int_equal(nng_listen(a.s, r.url, NULL, 0), 0);
	assert_int_equal(pthread_create(&a.th, NULL, serve, &a), 0);
	assert_int_equal(pthread_create(&th, NULL, restarter, &r), 0);
	put_to(&c, r.url, 600000);
	c.give_up_ms = 0;
	assert_int_equal(put_one(&c, "x"), TFO_OK);
	pthread_join(th, NULL);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 1);
	assert_string_equal(b.heads[0], "x");
	assert_int_equal(c.seq, 1);
	assert_int_equal(c.resends, 1);
	assert_int_equal(put_one(&c, "y"), TFO_OK);
	assert_int_equal(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST), 2);
	tfo_bufclient_close(&c);
	__atomic_store_n(&b.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(b.th, NULL);
	nng_close(b.s);
	snprintf(path, sizeof(path), "%s/ingest.ipc", dir);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * The wait for an answer still ends at its deadline: a put answered late
 * is sent again (the same seq) after timeout_ms, the late answer to the
 * first is not taken for the second's, and the put succeeds; a fetch that
 * nobody answers returns TFO_ETIMEDOUT within its two timeouts.
 */
static void
test_answer_deadline(void **state)
{
	char dir[] = "/tmp/tfo-bufclient-ut.XXXXXX", url[160];
	char dir2[] = "/tmp/tfo-bufclient-ut.XXXXXX";
	struct standin b = { .stop = 0, .late_first_ms = 300 };
	nng_socket mute;
	Tfo__V1__ExportReply *holder = NULL;
	const Tfo__V1__Batch *batch = NULL;
	struct tfo_bufclient c;
	uint64_t t0, took;

	(void)state;
	standin_start(&b, dir, url, sizeof(url));
	put_to(&c, url, 100);
	t0 = tfo_ipc_mono_ms();
	assert_int_equal(put_one(&c, "x"), TFO_OK);
	took = tfo_ipc_mono_ms() - t0;
	assert_true(c.resends >= 1);
	assert_true(took >= 100 && took < 10000);
	/* each copy was answered: the first late, the others in turn */
	assert_true(__atomic_load_n(&b.answered, __ATOMIC_SEQ_CST) >= 2);
	assert_int_equal(put_one(&c, "y"), TFO_OK);
	tfo_bufclient_close(&c);
	standin_stop(&b, dir);
	/* a listener that never answers */
	assert_non_null(mkdtemp(dir2));
	snprintf(url, sizeof(url), "ipc://%s/export.ipc", dir2);
	assert_int_equal(nng_rep0_open(&mute), 0);
	assert_int_equal(nng_listen(mute, url, NULL, 0), 0);
	assert_int_equal(tfo_bufclient_open_export(&c, url, 150, (uint32_t)getuid()), TFO_OK);
	t0 = tfo_ipc_mono_ms();
	assert_int_equal(tfo_bufclient_fetch(&c, 0, 0, &holder, &batch), TFO_ETIMEDOUT);
	took = tfo_ipc_mono_ms() - t0;
	assert_null(holder);
	assert_null(batch);
	if (took < 150 || took > 150 * 2 + 2000)
		fail_msg("an unanswered fetch took %llu ms (timeout 150 ms)",
		    (unsigned long long)took);
	tfo_bufclient_close(&c);
	nng_close(mute);
	snprintf(url, sizeof(url), "%s/export.ipc", dir2);
	(void)unlink(url);
	assert_int_equal(rmdir(dir2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_after_dropped_handshake),
		cmocka_unit_test(test_put_many),
		cmocka_unit_test(test_collector_pieces),
		cmocka_unit_test(test_collector_busy_run),
		cmocka_unit_test(test_refuses_other_listener),
		cmocka_unit_test(test_no_expire_wakeups),
		cmocka_unit_test(test_no_timer_wakeups),
		cmocka_unit_test(test_put_survives_restart),
		cmocka_unit_test(test_answer_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
