/*
 * faultbuf.c - the real tfo-exporter (started as the supervisor would, fd 3)
 * against a buffer that fails the way issue 23 measured on a full disk, and
 * worse. The export channel here is served by this program: a queue of
 * numbered log entries with tfo-buffer's contract (FIFO batches, a batch
 * deleted only by its ack, offered again when unacked or when the exporter
 * connects anew, Done.heads) and, phase by phase:
 *
 *   ok        every request answered as tfo-buffer does;
 *   ack_fail  every Ack answered Error and the queue reloaded from its head,
 *             as tfo-buffer does when the commit of the delete fails (ENOSPC);
 *   fetch_fail every Fetch answered Error;
 *   silent    no answer at all (a stalled buffer);
 *   ok        until every entry was acked, then the exporter is stopped.
 *
 * Each phase makes new entries available at its start. Prints one JSON line:
 * the phases (unix start, end), the buffer's requests per second, and the
 * exporter's counters; the caller (test_buffer_faults.py) counts what reached
 * its tfo-sink. Exit 0 once every entry was acked, 2 otherwise.
 *
 * usage: exp_faultbuf <tfo-exporter> <endpoint> <entries> <records> <phase_ms>
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "common/ipc.h"
#include "tests/lib/exp_config.h"
#include "tests/lib/worker_spawn.h"
#include "tfo/v1/tfo.pb-c.h"
#include "workers/exporter/sample.h"

#define MAX_ENTRIES 4096
#define MAX_BATCHES 64            /* tfo-buffer's TFO_STORE_MAX_INFLIGHT order */
#define MAX_BATCH_ENTRIES 64
#define MAX_SECONDS 120
#define LOGS TFO__V1__SIGNAL__SIGNAL_LOGS

enum phase { P_OK, P_ACK_FAIL, P_FETCH_FAIL, P_SILENT, P_END, NPHASE };
static const char *const phase_name[NPHASE] = { "ok", "ack_fail", "fetch_fail", "silent",
    "end" };

enum bstate { B_INFLIGHT, B_ACKED, B_REOFFER, B_NACKED };

struct fbatch {
	uint64_t id, first, end;    /* entries [first, end) */
	enum bstate state;
	uint64_t retry_at_ms;
};

struct fbuf {
	uint8_t *ent[MAX_ENTRIES];
	size_t len[MAX_ENTRIES];
	uint32_t records;
	uint64_t avail;             /* entries put so far */
	uint64_t head;              /* every entry below is deleted */
	uint64_t next_offer;
	uint64_t next_id;
	struct fbatch b[MAX_BATCHES];
	size_t nb;
	uint32_t last_pipe;
	/* what the exporter asked: per second since start, and per kind */
	uint32_t per_s[MAX_SECONDS];
	uint64_t fetches, acks, nacks, errors_sent, unanswered, reoffers, batches_out;
	/* the serving thread's run */
	nng_socket s;
	uint64_t entries, phase_ms, t_unix[NPHASE];
	atomic_int result;          /* 0 running, 1 everything acked, -1 failed */
	atomic_int leave;           /* set by main once the exporter stopped */
};

static uint64_t
now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ queue */

static void
reoffer_all(struct fbuf *f)
{
	for (size_t i = 0; i < f->nb; i++)
		if (f->b[i].state == B_INFLIGHT)
			f->b[i].state = B_REOFFER;
}

/* reload - what tfo-buffer does after a failed commit: memory forgets every
 * batch, the queue is read again from its head */
static void
reload(struct fbuf *f)
{
	f->nb = 0;
	f->next_offer = f->head;
}

static struct fbatch *
batch_find(struct fbuf *f, uint64_t id)
{
	for (size_t i = 0; i < f->nb; i++)
		if (f->b[i].id == id)
			return &f->b[i];
	return NULL;
}

static void
pop_acked(struct fbuf *f)
{
	while (f->nb > 0 && f->b[0].state == B_ACKED) {
		f->head = f->b[0].end;
		memmove(&f->b[0], &f->b[1], (f->nb - 1) * sizeof(f->b[0]));
		f->nb--;
	}
}

/* next_batch - the batch a Fetch gets: a due one again, else a fresh one */
static struct fbatch *
next_batch(struct fbuf *f, uint32_t max_bytes)
{
	uint64_t now = now_ms(CLOCK_MONOTONIC), end, bytes = 0;

	for (size_t i = 0; i < f->nb; i++) {
		struct fbatch *b = &f->b[i];
		if (b->state == B_REOFFER || (b->state == B_NACKED && b->retry_at_ms <= now)) {
			b->state = B_INFLIGHT;
			f->reoffers++;
			return b;
		}
		if (b->state == B_NACKED)
			return NULL;        /* FIFO: newer data waits behind it */
	}
	if (f->next_offer >= f->avail || f->nb >= MAX_BATCHES)
		return NULL;
	if (max_bytes == 0)
		max_bytes = 1u << 20;
	for (end = f->next_offer; end < f->avail && end - f->next_offer < MAX_BATCH_ENTRIES; end++) {
		if (end > f->next_offer && bytes + f->len[end] > max_bytes)
			break;
		bytes += f->len[end];
	}
	f->b[f->nb] = (struct fbatch){ .id = ++f->next_id, .first = f->next_offer, .end = end,
	    .state = B_INFLIGHT };
	f->next_offer = end;
	return &f->b[f->nb++];
}

/* ------------------------------------------------------------------ replies */

static int
reply(nng_socket s, Tfo__V1__ExportReply *r)
{
	r->version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	return tfo_msg_send(s, &r->base) == TFO_OK ? 0 : -1;
}

static int
reply_error(struct fbuf *f, nng_socket s, const char *msg)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Error e = TFO__V1__ERROR__INIT;

	e.message = (char *)msg;
	r.msg_case = TFO__V1__EXPORT_REPLY__MSG_ERROR;
	r.error = &e;
	f->errors_sent++;
	return reply(s, &r);
}

static int
reply_done(struct fbuf *f, nng_socket s)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Done d = TFO__V1__DONE__INIT;
	uint64_t heads[3] = { 0, 0, f->head };

	d.heads = heads;
	d.n_heads = 3;
	r.msg_case = TFO__V1__EXPORT_REPLY__MSG_DONE;
	r.done = &d;
	return reply(s, &r);
}

static int
reply_batch(struct fbuf *f, nng_socket s, const struct fbatch *b)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Batch m = TFO__V1__BATCH__INIT;
	ProtobufCBinaryData ents[MAX_BATCH_ENTRIES];
	uint64_t seqs[MAX_BATCH_ENTRIES];
	uint32_t pts[MAX_BATCH_ENTRIES];
	size_t n = (size_t)(b->end - b->first);

	for (size_t i = 0; i < n; i++) {
		ents[i] = (ProtobufCBinaryData){ f->len[b->first + i], f->ent[b->first + i] };
		seqs[i] = b->first + i;
		pts[i] = f->records;
	}
	m.id = b->id;
	m.signal = LOGS;
	m.entries = ents;
	m.n_entries = n;
	m.points = (uint32_t)n * f->records;
	m.seqs = seqs;
	m.n_seqs = n;
	m.entry_points = pts;
	m.n_entry_points = n;
	r.msg_case = TFO__V1__EXPORT_REPLY__MSG_BATCH;
	r.batch = &m;
	f->batches_out++;
	return reply(s, &r);
}

static int
reply_empty(nng_socket s)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Empty e = TFO__V1__EMPTY__INIT;

	r.msg_case = TFO__V1__EXPORT_REPLY__MSG_EMPTY;
	r.empty = &e;
	return reply(s, &r);
}

/* serve - one request in phase ph; 0, or -1 when the reply could not go */
static int
serve(struct fbuf *f, nng_socket s, enum phase ph, const Tfo__V1__ExportRequest *req)
{
	struct fbatch *b;

	if (ph == P_SILENT) {
		f->unanswered++;        /* the next receive drops it: REP answers nothing */
		return 0;
	}
	/* acks riding on the request (ExportRequest.acks): settled first, as
	 * tfo-buffer does; in ack_fail, as a failed Ack */
	if (req->n_acks > 0) {
		f->acks += req->n_acks;
		if (ph == P_ACK_FAIL) {
			reload(f);
			return reply_error(f, s, "store write failed");
		}
		for (size_t i = 0; i < req->n_acks; i++)
			if ((b = batch_find(f, req->acks[i])) != NULL)
				b->state = B_ACKED;
		pop_acked(f);
	}
	switch (req->msg_case) {
	case TFO__V1__EXPORT_REQUEST__MSG_FETCH:
		f->fetches++;
		if (ph == P_FETCH_FAIL)
			return reply_error(f, s, "store read failed");
		if ((b = next_batch(f, req->fetch->max_bytes)) == NULL)
			return reply_empty(s);
		return reply_batch(f, s, b);
	case TFO__V1__EXPORT_REQUEST__MSG_ACK:
		f->acks++;
		if (ph == P_ACK_FAIL) {
			reload(f);
			return reply_error(f, s, "store write failed");
		}
		if ((b = batch_find(f, req->ack->id)) != NULL)
			b->state = B_ACKED;
		pop_acked(f);
		return reply_done(f, s);
	case TFO__V1__EXPORT_REQUEST__MSG_NACK:
		f->nacks++;
		if ((b = batch_find(f, req->nack->id)) != NULL && b->state != B_ACKED) {
			b->state = B_NACKED;
			b->retry_at_ms = now_ms(CLOCK_MONOTONIC) +
			    (req->nack->retry_after_ms > 60000 ? 60000 : req->nack->retry_after_ms);
		}
		return reply_done(f, s);
	default:
		return reply_error(f, s, "unknown request");
	}
}

/* ------------------------------------------------------------------ exporter */

static int
exp_start(struct tfo_wspawn *x, const char *bin, const char *dir, const char *url,
    const char *endpoint)
{
	struct tfo_exp_testcfg c;

	tfo_exp_testcfg(&c, endpoint, dir, url, "info");
	c.ai.id = "agent-faultbuf";
	/* a real agent's pauses scaled down, so a phase sees several */
	c.rc.initial_interval_ms = 200;
	c.rc.max_interval_ms = 4000;
	c.ec.batch_max_bytes = 4096;
	c.ec.flush_interval_ms = 100;
	return tfo_wspawn_start(x, bin, "tfo-exporter", &c.wc, 20000);
}

/* exp_stats - the exporter's counters (a Pong) as JSON members into out */
static void
exp_stats(struct tfo_wspawn *x, char *out, size_t sz)
{
	static const char *const names[] = { "sent_batches", "sent_points", "retries",
	    "buffer_errors", "skipped_entries", "requeued_batches", "ledger_entries" };
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Ping ping = TFO__V1__PING__INIT;
	Tfo__V1__Control *pong;
	size_t off = 0;

	out[0] = '\0';
	ping.nonce = 77;
	ping.stats = 1;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &ping;
	if (tfo_control_send(x->ctl, &m) != TFO_OK ||
	    (pong = tfo_wspawn_wait(x, TFO__V1__CONTROL__MSG_PONG, 5000)) == NULL)
		return;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		for (size_t i = 0; i < pong->pong->n_stats; i++)
			if (strcmp(pong->pong->stats[i]->name, names[k]) == 0 && off < sz)
				off += (size_t)snprintf(out + off, sz - off, ",\"%s\":%.0f", names[k],
				    pong->pong->stats[i]->value);
	tfo__v1__control__free_unpacked(pong, NULL);
}

/* ------------------------------------------------------------------ run */

static int
put_entries(struct fbuf *f, uint64_t upto)
{
	for (; f->avail < upto; f->avail++)
		if ((f->ent[f->avail] = tfo_exp_sample_logs((uint32_t)f->avail, f->records,
		    &f->len[f->avail])) == NULL)
			return -1;
	return 0;
}

/* recv_one - one request served in phase ph; 0, 1 when none came, -1 on a bad one */
static int
recv_one(struct fbuf *f, enum phase ph, uint64_t el)
{
	Tfo__V1__ExportRequest *req;
	enum tfo_err e;
	nng_msg *msg;
	nng_pipe p;

	if (nng_recvmsg(f->s, &msg, 0) != 0)
		return 1;               /* the receive timeout: look at the clock */
	if (el / 1000 < MAX_SECONDS)
		f->per_s[el / 1000]++;
	/* a request on another connection: the old one is gone, what went out
	 * on it is owed again (tfo-buffer's export_owner) */
	p = nng_msg_get_pipe(msg);
	if (nng_pipe_id(p) > 0 && (uint32_t)nng_pipe_id(p) != f->last_pipe) {
		if (f->last_pipe != 0)
			reoffer_all(f);
		f->last_pipe = (uint32_t)nng_pipe_id(p);
	}
	req = (Tfo__V1__ExportRequest *)tfo_msg_decode(&tfo__v1__export_request__descriptor,
	    nng_msg_body(msg), nng_msg_len(msg), 1u << 20, &e);
	nng_msg_free(msg);
	if (req == NULL) {
		fprintf(stderr, "exp_faultbuf: bad request: %s\n", tfo_strerror(e));
		return -1;
	}
	if (serve(f, f->s, ph, req) != 0)
		fprintf(stderr, "exp_faultbuf: reply not sent\n");
	tfo__v1__export_request__free_unpacked(req, NULL);
	return 0;
}

/*
 * serve_thread - the phases, then the last (ok) one until main says leave:
 * the exporter's stop drains through this buffer too. result: 1 once every
 * entry was acked in the last phase, -1 when that took over 30 s or failed.
 */
static void *
serve_thread(void *arg)
{
	struct fbuf *f = arg;
	uint64_t t0 = now_ms(CLOCK_MONOTONIC), deadline = 0;
	enum phase ph = NPHASE;

	while (!atomic_load(&f->leave)) {
		uint64_t el = now_ms(CLOCK_MONOTONIC) - t0;
		enum phase want = el / f->phase_ms < P_END ? (enum phase)(el / f->phase_ms) : P_END;

		if (want != ph) {
			ph = want;
			f->t_unix[ph] = now_ms(CLOCK_REALTIME);
			if (put_entries(f, f->entries * (ph + 1) / NPHASE) != 0)
				atomic_store(&f->result, -1);
			if (ph == P_END)
				deadline = el + 30000;
		}
		if (ph == P_END && f->head >= f->entries && atomic_load(&f->result) == 0)
			atomic_store(&f->result, 1);
		if (deadline && el > deadline && atomic_load(&f->result) == 0)
			atomic_store(&f->result, -1);
		if (recv_one(f, ph, el) < 0)
			atomic_store(&f->result, -1);
	}
	return NULL;
}

static void
report(const struct fbuf *f, const char *stats)
{
	printf("{\"entries\":%llu,\"records\":%u,\"acked_to\":%llu,\"phases\":[",
	    (unsigned long long)f->entries, f->records, (unsigned long long)f->head);
	for (int i = 0; i < NPHASE; i++)
		printf("%s{\"name\":\"%s\",\"start\":%.3f}", i ? "," : "", phase_name[i],
		    (double)f->t_unix[i] / 1e3);
	printf("],\"buffer_per_s\":[");
	for (int i = 0; i < MAX_SECONDS; i++)
		printf("%s%u", i ? "," : "", f->per_s[i]);
	printf("],\"fetches\":%llu,\"acks\":%llu,\"nacks\":%llu,\"errors_sent\":%llu,"
	    "\"unanswered\":%llu,\"reoffers\":%llu,\"batches_out\":%llu%s}\n",
	    (unsigned long long)f->fetches, (unsigned long long)f->acks,
	    (unsigned long long)f->nacks, (unsigned long long)f->errors_sent,
	    (unsigned long long)f->unanswered, (unsigned long long)f->reoffers,
	    (unsigned long long)f->batches_out, stats);
}

/* wait_result - the serving thread's verdict (bounded by its own deadline) */
static int
wait_result(struct fbuf *f)
{
	struct timespec ts = { 0, 50 * 1000000 };
	int r;

	while ((r = atomic_load(&f->result)) == 0)
		nanosleep(&ts, NULL);
	return r;
}

static void
cleanup_dir(const char *dir)
{
	char sock[160];

	snprintf(sock, sizeof(sock), "%s/export.sock", dir);
	(void)unlink(sock);
	(void)rmdir(dir);
}

int
main(int argc, char **argv)
{
	static struct fbuf f;
	struct tfo_wspawn x = TFO_WSPAWN_INIT;
	struct tfo_ipc_policy pol;
	char dir[] = "/tmp/tfo-faultbuf-XXXXXX", url[128], stats[512] = "";
	pthread_t th;
	int rc = 2, ok, stop;

	if (argc != 6) {
		fprintf(stderr, "usage: exp_faultbuf <tfo-exporter> <endpoint> <entries> <records> "
		    "<phase_ms>\n");
		return 64;
	}
	f.entries = strtoull(argv[3], NULL, 10);
	f.records = (uint32_t)strtoul(argv[4], NULL, 10);
	f.phase_ms = strtoull(argv[5], NULL, 10);
	if (f.entries == 0 || f.entries > MAX_ENTRIES || f.records == 0 || f.phase_ms < 500 ||
	    f.phase_ms * NPHASE / 1000 + 40 >= MAX_SECONDS) {
		fprintf(stderr, "exp_faultbuf: entries 1..%d, records > 0, phase_ms 500..15000\n",
		    MAX_ENTRIES);
		return 64;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(url, sizeof(url), "ipc://%s/export.sock", dir);
	tfo_ipc_policy_init(&pol, "export");
	tfo_ipc_policy_allow(&pol, (uint32_t)getuid());
	if (tfo_ipc_rep_listen(&f.s, url, 1u << 20, 0600, &pol) != 0 ||
	    nng_socket_set_ms(f.s, NNG_OPT_RECVTIMEO, 20) != 0) {
		fprintf(stderr, "exp_faultbuf: cannot listen on %s\n", url);
		cleanup_dir(dir);
		return 1;
	}
	if (exp_start(&x, argv[1], dir, url, argv[2]) != 0) {
		fprintf(stderr, "exp_faultbuf: tfo-exporter did not start\n");
		nng_close(f.s);
		cleanup_dir(dir);
		return 1;
	}
	if (pthread_create(&th, NULL, serve_thread, &f) != 0) {
		(void)tfo_wspawn_kill(&x);
		nng_close(f.s);
		cleanup_dir(dir);
		return 1;
	}
	ok = wait_result(&f) > 0;
	exp_stats(&x, stats, sizeof(stats));
	/* served meanwhile: the stop's drain asks this buffer */
	if ((stop = tfo_wspawn_stop(&x, 3000)) != 0)
		fprintf(stderr, "exp_faultbuf: tfo-exporter did not stop cleanly (%d)\n", stop);
	atomic_store(&f.leave, 1);
	pthread_join(th, NULL);
	nng_close(f.s);
	report(&f, stats);
	rc = ok && stop == 0 ? 0 : 2;
	for (uint64_t i = 0; i < f.avail; i++)
		free(f.ent[i]);
	cleanup_dir(dir);
	return rc;
}
