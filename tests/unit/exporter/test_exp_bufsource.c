/*
 * test_exp_bufsource.c - tfo-exporter's buffer batch source against a fake
 * tfo-buffer export channel (nng REP in a thread): batches map to the
 * pipeline's view (per-entry seqs and points when sent), Empty is "nothing
 * now", Ack/Nack reach the buffer and bring back its committed heads, and
 * an Error reply is a failure, not a crash.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ipc.h"
#include "common/log.h"
#include "tests/lib/threads.h"
#include "workers/exporter/bufsource.h"

#define VERSION TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION

struct fake {
	nng_socket s;
	struct tfo_ipc_policy pol;
	pthread_t th;
	int batches_left;       /* Batch replies before Empty */
	uint64_t acked[8], nacked[8];
	uint32_t nack_delay[8];
	size_t nacks, acks;
	int fail_acks;          /* answer Ack with Error */
	int mute_acks;          /* answer no Ack at all */
	int muted;              /* Acks left unanswered */
	uint32_t last_max_bytes;
	uint64_t riders[8];     /* ExportRequest.acks seen, in order */
	size_t nriders;
	size_t requests;
};

static void
reply(struct fake *f, Tfo__V1__ExportReply *r)
{
	r->version = VERSION;
	assert_int_equal(tfo_msg_send(f->s, &r->base), TFO_OK);
}

/* serve - answer until the socket closes */
static void *
serve(void *arg)
{
	static uint8_t e0[] = { 0x0a, 0x00 }, e1[] = { 0x0a, 0x02, 0x08, 0x01 };
	struct fake *f = arg;
	Tfo__V1__ExportRequest *req;
	enum tfo_err err;

	while ((req = (Tfo__V1__ExportRequest *)tfo_msg_recv(f->s, &tfo__v1__export_request__descriptor,
	    1 << 20, &err)) != NULL) {
		Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
		Tfo__V1__Batch b = TFO__V1__BATCH__INIT;
		Tfo__V1__Empty em = TFO__V1__EMPTY__INIT;
		Tfo__V1__Done dn = TFO__V1__DONE__INIT;
		Tfo__V1__Error er = TFO__V1__ERROR__INIT;
		ProtobufCBinaryData ents[2] = { { sizeof(e0), e0 }, { sizeof(e1), e1 } };
		uint64_t seqs[2] = { 40, 41 }, heads[3] = { 0, 7, 40 };
		uint32_t pts[2] = { 4, 5 };

		f->requests++;
		for (size_t i = 0; i < req->n_acks; i++)
			f->riders[f->nriders++ % 8] = req->acks[i];
		if (req->n_acks > 0) {          /* tfo-buffer says the heads then */
			r.heads = heads;
			r.n_heads = 3;
		}
		switch (req->msg_case) {
		case TFO__V1__EXPORT_REQUEST__MSG_FETCH:
			f->last_max_bytes = req->fetch->max_bytes;
			if (f->batches_left > 0) {
				b.id = 100 + (uint64_t)f->batches_left;
				b.signal = f->batches_left % 2 ? TFO__V1__SIGNAL__SIGNAL_LOGS :
				    TFO__V1__SIGNAL__SIGNAL_METRICS;
				b.n_entries = 2;
				b.entries = ents;
				b.points = 9;
				if (f->batches_left == 2) {     /* the first: with seqs */
					b.seqs = seqs;
					b.n_seqs = 2;
					b.entry_points = pts;
					b.n_entry_points = 2;
				}
				f->batches_left--;
				r.msg_case = TFO__V1__EXPORT_REPLY__MSG_BATCH;
				r.batch = &b;
			} else {
				r.msg_case = TFO__V1__EXPORT_REPLY__MSG_EMPTY;
				r.empty = &em;
			}
			break;
		case TFO__V1__EXPORT_REQUEST__MSG_ACK:
			if (f->mute_acks) {
				f->muted++;
				tfo__v1__export_request__free_unpacked(req, NULL);
				continue;
			}
			if (f->fail_acks) {
				er.message = "no such batch";
				r.msg_case = TFO__V1__EXPORT_REPLY__MSG_ERROR;
				r.error = &er;
				break;
			}
			f->acked[f->acks++ % 8] = req->ack->id;
			dn.heads = heads;
			dn.n_heads = 3;
			r.msg_case = TFO__V1__EXPORT_REPLY__MSG_DONE;
			r.done = &dn;
			break;
		case TFO__V1__EXPORT_REQUEST__MSG_NACK:
			f->nack_delay[f->nacks % 8] = req->nack->retry_after_ms;
			f->nacked[f->nacks++ % 8] = req->nack->id;
			r.msg_case = TFO__V1__EXPORT_REPLY__MSG_DONE;
			r.done = &dn;
			break;
		default:
			fail_msg("unexpected request %d", req->msg_case);
		}
		reply(f, &r);
		tfo__v1__export_request__free_unpacked(req, NULL);
	}
	return NULL;
}

/* fake_start - the fake buffer listening on ipc://<dir>/export.ipc
 * (dir a mkdtemp template), answering on its own thread */
static void
fake_start(struct fake *f, char *dir, char *url, size_t urlsz)
{
	assert_non_null(mkdtemp(dir));
	snprintf(url, urlsz, "ipc://%s/export.ipc", dir);
	tfo_ipc_policy_init(&f->pol, "export");
	tfo_ipc_policy_allow(&f->pol, (uint32_t)getuid());
	assert_int_equal(tfo_ipc_rep_listen(&f->s, url, 1 << 20, 0600, &f->pol), 0);
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void
fake_stop(struct fake *f, char *dir, const char *url)
{
	nng_close(f->s);
	pthread_join(f->th, NULL);
	unlink(url + strlen("ipc://"));
	rmdir(dir);
}

static void
test_bufsource(void **state)
{
	char dir[] = "/tmp/tfo-exp-bs-XXXXXX", url[128];
	struct fake f;
	struct tfo_exp_bufsource bs;
	struct tfo_exp_source src;
	struct tfo_exp_batch b;
	struct tfo_exp_heads h;
	struct timespec t0, t1;
	long ms;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.batches_left = 2;
	fake_start(&f, dir, url, sizeof(url));

	assert_int_equal(tfo_exp_bufsource_open(&bs, url, 2000, (uint32_t)getuid()), TFO_OK);
	src = tfo_exp_bufsource_source(&bs);
	memset(&b, 0, sizeof(b));
	assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 1);
	assert_int_equal(f.last_max_bytes, 4096);
	assert_int_equal(b.id, 102);
	assert_int_equal(b.is_logs, 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.points, 9);
	assert_int_equal(b.lens[0], 2);
	assert_int_equal(b.lens[1], 4);
	assert_memory_equal(b.entries[1], "\x0a\x02\x08\x01", 4);
	assert_non_null(b.seqs);
	assert_int_equal(b.seqs[0], 40);
	assert_int_equal(b.seqs[1], 41);
	assert_int_equal(b.points_each[1], 5);
	src.release(src.arg, &b);
	assert_null(b.priv);
	assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 1);
	assert_int_equal(b.id, 101);
	assert_int_equal(b.is_logs, 1);
	assert_null(b.seqs);            /* none sent: none made up */
	assert_null(b.points_each);
	src.release(src.arg, &b);
	/* drained: Empty is "nothing now", not an error */
	assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 0);
	memset(&h, 0, sizeof(h));
	assert_int_equal(src.ack(src.arg, 102, &h), 0);
	assert_int_equal(h.known, 1);
	assert_int_equal(h.v[1], 7);
	assert_int_equal(h.v[2], 40);
	assert_int_equal(src.nack(src.arg, 101, 2500, &h), 0);
	assert_int_equal(h.known, 0);   /* a Done without heads says nothing */
	assert_int_equal(f.acks, 1);
	assert_int_equal(f.acked[0], 102);
	assert_int_equal(f.nacks, 1);
	assert_int_equal(f.nacked[0], 101);
	assert_int_equal(f.nack_delay[0], 2500);
	/* the buffer refusing an ack is a failure the pipeline counts */
	f.fail_acks = 1;
	assert_int_equal(src.ack(src.arg, 555, &h), -1);
	assert_int_equal(h.known, 0);
	assert_int_equal(bs.errors, 1);
	assert_non_null(strstr(bs.c.error, "no such batch"));
	/* a buffer that does not answer holds the exporter's loop for one
	 * timeout (here 2 s), not three: an ack is tried once, the pipeline's
	 * ledger settles the rest; the connection is dialled afresh */
	f.fail_acks = 0;
	f.mute_acks = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(src.ack(src.arg, 556, &h), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 1900 && ms < 3900);
	assert_int_equal(f.muted, 1);
	assert_int_equal(bs.errors, 2);
	f.mute_acks = 0;
	assert_int_equal(src.ack(src.arg, 557, &h), 0);   /* on the new connection */
	assert_int_equal(h.known, 1);

	tfo_exp_bufsource_close(&bs);
	fake_stop(&f, dir, url);
}

/*
 * Acks kept (ack_later) ride on the next request, a fetch here, and that
 * reply's heads come back (heads); acks_send sends the kept ones in one Ack
 * (the last as its id, the rest riding); nothing is sent twice, and with
 * none kept nothing is sent at all.
 */
static void
test_acks_later(void **state)
{
	char dir[] = "/tmp/tfo-exp-bs-XXXXXX", url[128];
	struct fake f;
	struct tfo_exp_bufsource bs;
	struct tfo_exp_source src;
	struct tfo_exp_batch b;
	struct tfo_exp_heads h;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.batches_left = 1;
	fake_start(&f, dir, url, sizeof(url));
	assert_int_equal(tfo_exp_bufsource_open(&bs, url, 2000, (uint32_t)getuid()), TFO_OK);
	src = tfo_exp_bufsource_source(&bs);
	assert_non_null(src.ack_later);
	assert_int_equal(src.ack_later(src.arg, 31), 0);
	assert_int_equal(src.ack_later(src.arg, 32), 0);
	assert_int_equal(f.requests, 0);        /* kept: nothing sent yet */
	memset(&b, 0, sizeof(b));
	assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 1);
	src.release(src.arg, &b);
	assert_int_equal(f.requests, 1);
	assert_int_equal(f.nriders, 2);
	assert_int_equal(f.riders[0], 31);
	assert_int_equal(f.riders[1], 32);
	memset(&h, 0, sizeof(h));
	src.heads(src.arg, &h);
	assert_int_equal(h.known, 1);
	assert_int_equal(h.v[2], 40);
	/* the next fetch carries nothing again, and says no heads */
	assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 0);
	assert_int_equal(f.nriders, 2);
	src.heads(src.arg, &h);
	assert_int_equal(h.known, 0);
	/* at a stop: the kept ones in one request */
	assert_int_equal(src.acks_send(src.arg, &h), 0);
	assert_int_equal(f.requests, 2);        /* none kept: none sent */
	assert_int_equal(src.ack_later(src.arg, 33), 0);
	assert_int_equal(src.ack_later(src.arg, 34), 0);
	assert_int_equal(src.acks_send(src.arg, &h), 0);
	assert_int_equal(f.requests, 3);
	assert_int_equal(f.acks, 1);
	assert_int_equal(f.acked[0], 34);
	assert_int_equal(f.nriders, 3);
	assert_int_equal(f.riders[2], 33);
	assert_int_equal(h.known, 1);
	assert_int_equal(src.acks_send(src.arg, &h), 0);
	assert_int_equal(f.requests, 3);
	/* at most TFO_BUFCLIENT_ACKS_MAX kept: then acked at once */
	for (int i = 0; i < TFO_BUFCLIENT_ACKS_MAX; i++)
		assert_int_equal(src.ack_later(src.arg, 100 + (uint64_t)i), 0);
	assert_int_equal(src.ack_later(src.arg, 999), -1);
	assert_int_equal(src.acks_send(src.arg, &h), 0);
	assert_int_equal(f.nriders, 3 + TFO_BUFCLIENT_ACKS_MAX - 1);
	tfo_exp_bufsource_close(&bs);
	fake_stop(&f, dir, url);
}

/*
 * An idle exporter's fetches and acks wake no nng thread for a resend
 * (issue 18 §3): the REQ protocol's own resend timer, which nng 1.5 set at
 * every send and took back at every answer, is off on the export channel
 * (a fetch is never resent, an ack tried once), also after a redial. 20
 * exchanges woke nng:timer about 20 times with it on.
 */
static void
test_no_timer_wakeups(void **state)
{
	char dir[] = "/tmp/tfo-exp-bs-XXXXXX", url[128];
	struct fake f;
	struct tfo_exp_bufsource bs;
	struct tfo_exp_source src;
	struct tfo_exp_batch b;
	struct tfo_exp_heads h;
	long before, woke;

	(void)state;
	memset(&f, 0, sizeof(f));
	fake_start(&f, dir, url, sizeof(url));
	assert_int_equal(tfo_exp_bufsource_open(&bs, url, 300, (uint32_t)getuid()), TFO_OK);
	src = tfo_exp_bufsource_source(&bs);
	memset(&b, 0, sizeof(b));
	for (int round = 0; round < 2; round++) {
		assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 0);     /* connected */
		usleep(50000);
		before = tfo_test_thread_wakeups("nng:timer");
		for (int i = 0; i < 10; i++) {
			assert_int_equal(src.fetch(src.arg, 0, 4096, &b), 0);
			assert_int_equal(src.ack(src.arg, 200 + (uint64_t)i, &h), 0);
			usleep(5000);
		}
		woke = tfo_test_thread_wakeups("nng:timer") - before;
		if (woke > 3)
			fail_msg("nng's timer thread woke %ld times for 20 exchanges%s", woke,
			    round ? " after a redial" : "");
		if (round == 0) {
			/* an unanswered ack redials: the new socket keeps it off */
			f.mute_acks = 1;
			assert_int_equal(src.ack(src.arg, 300, &h), -1);
			f.mute_acks = 0;
			assert_true(bs.c.redials >= 1);
		}
	}
	assert_int_equal(f.acks, 20);
	tfo_exp_bufsource_close(&bs);
	fake_stop(&f, dir, url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bufsource),
		cmocka_unit_test(test_acks_later),
		cmocka_unit_test(test_no_timer_wakeups),
	};

	tfo_log_init("test-exporter", TFO_LOG_ERROR, TFO_LOG_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
