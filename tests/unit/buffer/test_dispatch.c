/*
 * test_dispatch.c - unit tests of tfo-buffer's request dispatch (workers/
 * buffer/dispatch.c): valid requests answered, garbage / wrong version /
 * unknown case answered with Error and counted, replies held for the commit,
 * and the fuzz seeds are what their names say.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "tests/lib/logcapture.h"
#include "tests/unit/buffer/helpers.h"
#include "workers/buffer/dispatch.h"

#define V TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION
#define COLLECTORS (TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_SYSTEM) | \
    TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_PROCESS) | TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_LOGS))

/* who sends the ingest requests: one uid for every collector (dev mode)
 * unless a test says otherwise */
static struct buffer_peer g_peer = { 1000, COLLECTORS, 1 };

static uint8_t *
pack_msg(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*len + 1);
	assert_non_null(b);
	protobuf_c_message_pack(m, b);
	return b;
}

static Tfo__V1__IngestReply *
ingest(struct fix *f, struct buffer_counters *c, const Tfo__V1__IngestRequest *req,
    int *after_commit)
{
	struct buffer_reply r;
	size_t len;
	uint8_t *b = pack_msg(&req->base, &len);
	Tfo__V1__IngestReply *rep;

	buffer_ingest_dispatch(f->st, c, &g_peer, b, len, &r);
	free(b);
	assert_non_null(r.buf);
	*after_commit = r.after_commit;
	rep = tfo__v1__ingest_reply__unpack(NULL, r.len, r.buf);
	assert_non_null(rep);
	assert_int_equal(rep->version, V);
	buffer_reply_free(&r);
	return rep;
}

/* Export replies are packed into the caller's memory (tfo-buffer: the nng
 * message): every one, errors included, and each given back exactly once. */
static struct {
	size_t allocs, releases;
	uint8_t *last;
} g_mem;

static uint8_t *
mem_alloc(void *arg, size_t len)
{
	(void)arg;
	g_mem.allocs++;
	return g_mem.last = malloc(len ? len : 1);
}

static void
mem_release(void *arg, uint8_t *buf)
{
	(void)arg;
	g_mem.releases++;
	free(buf);
}

static Tfo__V1__ExportReply *
export_raw(struct fix *f, struct buffer_counters *c, const void *b, size_t len,
    int *after_commit)
{
	static const struct buffer_reply_mem mem = { mem_alloc, mem_release, NULL };
	struct buffer_reply r;
	Tfo__V1__ExportReply *rep;

	buffer_export_dispatch(f->st, c, b, len, &mem, &r);
	assert_non_null(r.buf);
	assert_ptr_equal(r.buf, g_mem.last);
	*after_commit = r.after_commit;
	rep = tfo__v1__export_reply__unpack(NULL, r.len, r.buf);
	assert_non_null(rep);
	buffer_reply_free(&r);
	assert_int_equal(g_mem.allocs, g_mem.releases);
	return rep;
}

static Tfo__V1__ExportReply *
export_req(struct fix *f, struct buffer_counters *c, const Tfo__V1__ExportRequest *req,
    int *after_commit)
{
	size_t len;
	uint8_t *b = pack_msg(&req->base, &len);
	Tfo__V1__ExportReply *rep = export_raw(f, c, b, len, after_commit);

	free(b);
	return rep;
}

/* fetch - a Fetch of any signal, its reply */
static Tfo__V1__ExportReply *
fetch(struct fix *f, struct buffer_counters *c, int *after_commit)
{
	Tfo__V1__ExportRequest ereq = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Fetch fe = TFO__V1__FETCH__INIT;

	ereq.version = V;
	ereq.msg_case = TFO__V1__EXPORT_REQUEST__MSG_FETCH;
	ereq.fetch = &fe;
	return export_req(f, c, &ereq, after_commit);
}

static void
test_put_fetch_ack(void **state)
{
	struct fix f;
	struct buffer_counters c = { 0 };
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put put = TFO__V1__PUT__INIT;
	Tfo__V1__ExportRequest ereq = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Ack ack = TFO__V1__ACK__INIT;
	Tfo__V1__IngestReply *ir;
	Tfo__V1__ExportReply *er;
	uint64_t seq;
	int ac;

	(void)state;
	fix_init(&f, 0, 0);
	put.role = TFO__V1__ROLE__ROLE_SYSTEM;
	put.incarnation = 9;
	put.seq = 1;
	put.signal = TFO__V1__SIGNAL__SIGNAL_METRICS;
	put.payload.data = (uint8_t *)"hello";
	put.payload.len = 5;
	put.points = 100;
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	req.put = &put;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	assert_int_equal(ir->put_ok->seq, 1);
	assert_true(ac);            /* answered only once durable */
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	commit_ok(&f);

	er = fetch(&f, &c, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_int_equal(er->batch->n_entries, 1);
	assert_int_equal(er->batch->points, 100);
	assert_int_equal(er->batch->signal, TFO__V1__SIGNAL__SIGNAL_METRICS);
	assert_memory_equal(er->batch->entries[0].data, "hello", 5);
	/* each entry's seq and points: how the exporter knows it again */
	assert_int_equal(er->batch->n_seqs, 1);
	assert_int_equal(er->batch->n_entry_points, 1);
	assert_int_equal(er->batch->entry_points[0], 100);
	seq = er->batch->seqs[0];
	ack.id = er->batch->id;
	tfo__v1__export_reply__free_unpacked(er, NULL);

	ereq.version = V;
	ereq.msg_case = TFO__V1__EXPORT_REQUEST__MSG_ACK;
	ereq.ack = &ack;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_DONE);
	assert_true(ac);
	/* the committed heads: this ack's deletion is not committed yet */
	assert_int_equal(er->done->n_heads, 3);
	assert_int_equal(er->done->heads[1], seq);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	commit_ok(&f);
	/* the same ack again (a resend, or to a restarted buffer): Done, and
	 * the heads now cover the deletion */
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_DONE);
	assert_int_equal(er->done->n_heads, 3);
	assert_int_equal(er->done->heads[1], seq + 1);
	tfo__v1__export_reply__free_unpacked(er, NULL);

	er = fetch(&f, &c, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_EMPTY);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	assert_int_equal(c.bad_ingest + c.bad_export, 0);
	fix_fini(&f);
}

static Tfo__V1__IngestReply *put_more(struct fix *f, struct buffer_counters *c, uint64_t seq,
    Tfo__V1__PutItem **more, size_t n, int block_when_full, int *ac);

/* put_one - put_more of one payload, committed */
static void
put_one(struct fix *f, struct buffer_counters *c, uint64_t seq)
{
	int ac;
	Tfo__V1__IngestReply *ir = put_more(f, c, seq, NULL, 0, 0, &ac);

	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	commit_ok(f);
}

/*
 * ExportRequest.acks (issue 18 §3): an idle exporter's ack rides on its next
 * Fetch. The batch it names is acked before the fetch is served (deleted:
 * never offered again, not even once the exporter's connection goes), the
 * reply says the heads; an ack of an unknown id is no error; more than 64
 * are refused, counted, and ack nothing. Old code: the acks were ignored,
 * the batch offered again after a reoffer.
 */
static void
test_acks_ride_on_fetch(void **state)
{
	struct fix f;
	struct buffer_counters c = { 0 };
	Tfo__V1__ExportRequest ereq = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Fetch fe = TFO__V1__FETCH__INIT;
	Tfo__V1__ExportReply *er;
	uint64_t ids[65], seq1, id2;
	int ac;

	(void)state;
	fix_init(&f, 0, 0);
	put_one(&f, &c, 1);
	er = fetch(&f, &c, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_int_equal(er->n_heads, 0);          /* no acks carried: no heads */
	ids[0] = er->batch->id;
	seq1 = er->batch->seqs[0];
	tfo__v1__export_reply__free_unpacked(er, NULL);
	put_one(&f, &c, 2);

	/* the next fetch carries the first batch's ack, and an unknown id */
	ids[1] = 999999;
	ereq.version = V;
	ereq.msg_case = TFO__V1__EXPORT_REQUEST__MSG_FETCH;
	ereq.fetch = &fe;
	ereq.acks = ids;
	ereq.n_acks = 2;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_int_equal(er->batch->seqs[0], seq1 + 1);
	assert_int_equal(er->n_heads, 3);
	assert_int_equal(er->heads[1], seq1);      /* the ack's delete is not committed yet */
	tfo__v1__export_reply__free_unpacked(er, NULL);
	commit_ok(&f);

	/* the exporter goes: what is in flight is offered again, not the acked */
	tfo_store_reoffer_all(f.st);
	ereq.acks = NULL;
	ereq.n_acks = 0;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_int_equal(er->batch->seqs[0], seq1 + 1);
	id2 = er->batch->id;
	tfo__v1__export_reply__free_unpacked(er, NULL);

	/* 65 acks: refused, counted, the batch among them not acked */
	for (size_t i = 0; i < 65; i++)
		ids[i] = id2;
	ereq.acks = ids;
	ereq.n_acks = 65;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_ERROR);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	assert_int_equal(c.bad_export, 1);
	tfo_store_reoffer_all(f.st);
	ereq.n_acks = 0;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_int_equal(er->batch->seqs[0], seq1 + 1);

	/* riding on an empty fetch: Empty, with the heads */
	ids[0] = er->batch->id;
	tfo__v1__export_reply__free_unpacked(er, NULL);
	ereq.n_acks = 1;
	er = export_req(&f, &c, &ereq, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_EMPTY);
	assert_int_equal(er->n_heads, 3);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	commit_ok(&f);
	tfo_store_reoffer_all(f.st);
	er = fetch(&f, &c, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_EMPTY);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	assert_int_equal(c.export_requests, 7);
	fix_fini(&f);
}

/* put_more - a metrics Put of seq from role system: "p0" and n more payloads */
static Tfo__V1__IngestReply *
put_more(struct fix *f, struct buffer_counters *c, uint64_t seq, Tfo__V1__PutItem **more,
    size_t n, int block_when_full, int *ac)
{
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put put = TFO__V1__PUT__INIT;

	put.role = TFO__V1__ROLE__ROLE_PROCESS;
	put.incarnation = 3;
	put.seq = seq;
	put.signal = TFO__V1__SIGNAL__SIGNAL_METRICS;
	put.payload.data = (uint8_t *)"p0";
	put.payload.len = 2;
	put.points = 1;
	put.more = more;
	put.n_more = n;
	put.block_when_full = block_when_full;
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	req.put = &put;
	return ingest(f, c, &req, ac);
}

/* Put.more: every payload an entry of its own, in order, in one write batch;
 * a resend stores nothing again; a bad item refuses the whole put */
static void
test_put_more(void **state)
{
	static const char *bodies[] = { "p1", "p22", "p333" };
	Tfo__V1__PutItem it[3], bad = TFO__V1__PUT_ITEM__INIT, **many;
	Tfo__V1__PutItem *more[3] = { &it[0], &it[1], &it[2] };
	struct buffer_counters c = { 0 };
	Tfo__V1__IngestReply *ir;
	Tfo__V1__ExportReply *er;
	struct fix f;
	int ac;

	(void)state;
	fix_init(&f, 0, 0);
	for (size_t i = 0; i < 3; i++) {
		tfo__v1__put_item__init(&it[i]);
		it[i].payload.data = (uint8_t *)bodies[i];
		it[i].payload.len = strlen(bodies[i]);
		it[i].points = 10 * (uint32_t)(i + 1);
	}
	ir = put_more(&f, &c, 1, more, 3, 0, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	assert_true(ac);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(tfo_store_pending(f.st), 4);
	commit_ok(&f);
	ir = put_more(&f, &c, 1, more, 3, 0, &ac);      /* resent: a duplicate */
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(tfo_store_pending(f.st), 0);

	/* refused whole, nothing staged: an empty item, more with
	 * block_when_full, more items than the buffer takes */
	more[1] = &bad;
	ir = put_more(&f, &c, 2, more, 3, 0, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	more[1] = &it[1];
	ir = put_more(&f, &c, 2, more, 3, 1, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	many = calloc(TFO_STORE_MAX_MORE + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= TFO_STORE_MAX_MORE; i++)
		many[i] = &it[0];
	ir = put_more(&f, &c, 2, many, TFO_STORE_MAX_MORE + 1, 0, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(tfo_store_pending(f.st), 0);
	assert_int_equal(c.bad_ingest, 3);
	/* the largest count is taken */
	ir = put_more(&f, &c, 2, many, TFO_STORE_MAX_MORE, 0, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(tfo_store_pending(f.st), 1 + TFO_STORE_MAX_MORE);
	free(many);
	commit_ok(&f);

	er = fetch(&f, &c, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_BATCH);
	assert_true(er->batch->n_entries >= 4);
	assert_memory_equal(er->batch->entries[0].data, "p0", 2);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(er->batch->entries[i + 1].len, strlen(bodies[i]));
		assert_memory_equal(er->batch->entries[i + 1].data, bodies[i], strlen(bodies[i]));
	}
	tfo__v1__export_reply__free_unpacked(er, NULL);
	fix_fini(&f);
}

static void
test_bad_requests(void **state)
{
	struct fix f;
	struct buffer_counters c = { 0 };
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put put = TFO__V1__PUT__INIT;
	Tfo__V1__IngestReply *ir;
	Tfo__V1__ExportReply *er;
	struct buffer_reply r;
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };
	int ac;

	(void)state;
	fix_init(&f, 0, 0);
	/* Wrong protocol version. */
	req.version = V + 1;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	req.put = &put;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_false(ac);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	/* No oneof case. */
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG__NOT_SET;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	/* A put the store refuses (no signal, empty payload). */
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(c.bad_ingest, 3);
	/* Garbage and truncated bytes on both channels. */
	buffer_ingest_dispatch(f.st, &c, &g_peer, garbage, sizeof(garbage), &r);
	assert_non_null(r.buf);
	buffer_reply_free(&r);
	er = export_raw(&f, &c, garbage, sizeof(garbage), &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_ERROR);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	er = export_raw(&f, &c, garbage, 3, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_ERROR);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	assert_int_equal(c.bad_ingest, 4);
	assert_int_equal(c.bad_export, 2);
	/* Oversized requests are refused before decoding. */
	uint8_t *big = calloc(1, BUFFER_EXPORT_MAX + 1);
	er = export_raw(&f, &c, big, BUFFER_EXPORT_MAX + 1, &ac);
	assert_int_equal(er->msg_case, TFO__V1__EXPORT_REPLY__MSG_ERROR);
	tfo__v1__export_reply__free_unpacked(er, NULL);
	free(big);
	assert_int_equal(c.bad_export, 3);
	/* A payload encoding this buffer does not know, and an LZ4 one without
	 * its raw length: refused, never stored as something else. */
	put.role = TFO__V1__ROLE__ROLE_LOGS;
	put.incarnation = 1;
	put.seq = 1;
	put.signal = TFO__V1__SIGNAL__SIGNAL_LOGS;
	put.payload.data = (uint8_t *)"\x10" "abc";
	put.payload.len = 4;
	put.encoding = (Tfo__V1__PayloadEncoding)7;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_non_null(strstr(ir->error->message, "encoding"));
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	put.encoding = TFO__V1__PAYLOAD_ENCODING__PAYLOAD_LZ4;
	put.raw_len = 0;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_non_null(strstr(ir->error->message, "raw_len"));
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	assert_int_equal(c.bad_ingest, 6);
	fix_fini(&f);
}

static void
test_busy_reply(void **state)
{
	struct fix f;
	struct buffer_counters c = { 0 };
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put put = TFO__V1__PUT__INIT;
	Tfo__V1__IngestReply *ir;
	int ac;

	(void)state;
	fix_init(&f, 100, 0);
	put.role = TFO__V1__ROLE__ROLE_LOGS;
	put.incarnation = 1;
	put.signal = TFO__V1__SIGNAL__SIGNAL_LOGS;
	put.payload.data = (uint8_t *)"0123456789012345678901234567890123456789";
	put.payload.len = 40;
	put.block_when_full = 1;
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	req.put = &put;
	put.seq = 1;                /* 64 bytes stored of 100 */
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	put.seq = 2;
	ir = ingest(&f, &c, &req, &ac);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_BUSY);
	assert_true(ir->busy->retry_after_ms > 0);
	/* the cause, for the collector's log (issue 23 item 9) */
	assert_string_equal(ir->busy->reason, "buffer full (max_size_mb)");
	assert_false(ac);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	fix_fini(&f);
}

/* put_sig - a Put of seq (incarnation 5), one record of signal sig as role,
 * with one checkpoint at offset */
static Tfo__V1__IngestReply *
put_sig(struct fix *f, struct buffer_counters *c, Tfo__V1__Role role, Tfo__V1__Signal sig,
    uint64_t seq, uint64_t offset)
{
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put put = TFO__V1__PUT__INIT;
	Tfo__V1__Checkpoint cp = TFO__V1__CHECKPOINT__INIT, *cps[1] = { &cp };
	int ac;

	cp.file_id = "2049:77:00ff";
	cp.path = "/var/log/app.log";
	cp.offset = offset;
	put.role = role;
	put.incarnation = 5;
	put.seq = seq;
	put.signal = sig;
	put.payload.data = (uint8_t *)"a log record";
	put.payload.len = 12;
	put.points = 1;
	put.checkpoints = cps;
	put.n_checkpoints = 1;
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	req.put = &put;
	return ingest(f, c, &req, &ac);
}

/* a logs Put of seq (incarnation 5) with one checkpoint at offset */
static Tfo__V1__IngestReply *
put_logs(struct fix *f, struct buffer_counters *c, Tfo__V1__Role role, uint64_t seq,
    uint64_t offset)
{
	return put_sig(f, c, role, TFO__V1__SIGNAL__SIGNAL_LOGS, seq, offset);
}

/* the stored offset of role's one checkpoint (0: none), asked as that role */
static Tfo__V1__IngestReply *
get_checkpoints(struct fix *f, struct buffer_counters *c, Tfo__V1__Role role)
{
	Tfo__V1__IngestRequest req = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__GetCheckpoints g = TFO__V1__GET_CHECKPOINTS__INIT;
	int ac;

	g.role = role;
	req.version = V;
	req.msg_case = TFO__V1__INGEST_REQUEST__MSG_GET_CHECKPOINTS;
	req.get_checkpoints = &g;
	return ingest(f, c, &req, &ac);
}

static void
expect(Tfo__V1__IngestReply *ir, Tfo__V1__IngestReply__MsgCase mc)
{
	assert_int_equal(ir->msg_case, mc);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
}

/*
 * Issue 24 §1, at the dispatcher: a role is what the connection's uid proves.
 * tfo-system's uid naming role logs is refused (forged records, a seq that
 * would swallow tfo-logs' puts as duplicates, reading or overwriting tfo-logs'
 * checkpoints); counted each time, logged once per connection; dedupe and
 * checkpoints stay tfo-logs' own.
 */
static void
test_role_from_peer(void **state)
{
	const struct buffer_peer sys = { 101, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_SYSTEM), 7 };
	const struct buffer_peer logs = { 103, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_LOGS), 8 };
	struct buffer_counters c = { 0 };
	Tfo__V1__IngestReply *ir;
	struct fix f;

	(void)state;
	fix_init(&f, 0, 0);
	g_peer = logs;
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_LOGS, 1, 100), TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	commit_ok(&f);

	g_peer = sys;               /* the three attacks, as tfo-system */
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_LOGS, 2, 100), TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_LOGS, INT64_MAX, 1u << 30),
	    TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(get_checkpoints(&f, &c, TFO__V1__ROLE__ROLE_LOGS), TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_int_equal(tfo_store_pending(f.st), 0);
	assert_int_equal(c.forged_role, 3);
	assert_int_equal(c.forged_next, 1);         /* logged once for connection 7 */
	assert_int_equal(c.bad_ingest, 0);
	/* its own role is its own: a huge seq there leaves tfo-logs' dedupe alone */
	expect(put_sig(&f, &c, TFO__V1__ROLE__ROLE_SYSTEM, TFO__V1__SIGNAL__SIGNAL_METRICS,
	    INT64_MAX, 1u << 30), TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	commit_ok(&f);
	g_peer.pipe = 9;            /* a new connection: logged again */
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_PROCESS, 3, 1), TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_int_equal(c.forged_next, 2);

	g_peer = logs;              /* the genuine tfo-logs carries on */
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_LOGS, 2, 200), TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	assert_int_equal(tfo_store_pending(f.st), 1);   /* stored, not a duplicate */
	commit_ok(&f);
	ir = get_checkpoints(&f, &c, TFO__V1__ROLE__ROLE_LOGS);
	assert_int_equal(ir->msg_case, TFO__V1__INGEST_REPLY__MSG_CHECKPOINTS);
	assert_int_equal(ir->checkpoints->n_checkpoints, 1);
	assert_int_equal(ir->checkpoints->checkpoints[0]->offset, 200);
	tfo__v1__ingest_reply__free_unpacked(ir, NULL);
	expect(get_checkpoints(&f, &c, TFO__V1__ROLE__ROLE_SYSTEM), TFO__V1__INGEST_REPLY__MSG_ERROR);

	/* one uid for every collector (dev mode): any collector role, no other */
	g_peer = (struct buffer_peer){ 1000, COLLECTORS, 10 };
	expect(put_sig(&f, &c, TFO__V1__ROLE__ROLE_PROCESS, TFO__V1__SIGNAL__SIGNAL_METRICS, 1, 1),
	    TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_BUFFER, 1, 1), TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(put_logs(&f, &c, (Tfo__V1__Role)40, 1, 1), TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_int_equal(c.bad_ingest, 1);          /* no role of ours: a bad request */
	assert_int_equal(c.forged_role, 6);
	g_peer = (struct buffer_peer){ 1000, COLLECTORS, 1 };
	fix_fini(&f);
}

/*
 * A collector puts only its own role's signal: tfo-system's uid, speaking as
 * its own role, putting log records (forged lines shipped as if tfo-logs read
 * them, out of tfo-logs' dedupe and checkpoints) is refused as a forgery,
 * counted, logged once per connection; so is tfo-logs' uid putting metrics.
 * Each role's own signal is taken, in dev mode (one uid, every role) too.
 */
static void
test_signal_of_role(void **state)
{
	const struct buffer_peer sys = { 101, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_SYSTEM), 7 };
	const struct buffer_peer logs = { 103, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_LOGS), 8 };
	struct buffer_counters c = { 0 };
	struct fix f;

	(void)state;
	fix_init(&f, 0, 0);
	g_peer = sys;
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_SYSTEM, 1, 0), TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_SYSTEM, 2, 0), TFO__V1__INGEST_REPLY__MSG_ERROR);
	assert_int_equal(tfo_store_pending(f.st), 0);
	assert_int_equal(c.forged_role, 2);
	assert_int_equal(c.forged_next, 1);         /* logged once for connection 7 */
	expect(put_sig(&f, &c, TFO__V1__ROLE__ROLE_SYSTEM, TFO__V1__SIGNAL__SIGNAL_METRICS, 3, 0),
	    TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	commit_ok(&f);
	g_peer = logs;
	expect(put_sig(&f, &c, TFO__V1__ROLE__ROLE_LOGS, TFO__V1__SIGNAL__SIGNAL_METRICS, 1, 0),
	    TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_LOGS, 2, 10), TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	commit_ok(&f);
	g_peer = (struct buffer_peer){ 1000, COLLECTORS, 10 };
	expect(put_logs(&f, &c, TFO__V1__ROLE__ROLE_PROCESS, 1, 0), TFO__V1__INGEST_REPLY__MSG_ERROR);
	expect(put_sig(&f, &c, TFO__V1__ROLE__ROLE_PROCESS, TFO__V1__SIGNAL__SIGNAL_METRICS, 1, 0),
	    TFO__V1__INGEST_REPLY__MSG_PUT_OK);
	commit_ok(&f);
	assert_int_equal(c.forged_role, 4);
	assert_int_equal(c.bad_ingest, 0);
	g_peer = (struct buffer_peer){ 1000, COLLECTORS, 1 };
	fix_fini(&f);
}

/*
 * A compromised peer sending garbage as fast as the buffer answers: every
 * request refused and counted, at most BUFFER_BAD_LOGGED lines a minute
 * logged (the old code logged one per request: 3000 lines here), then one
 * line saying how many were not.
 */
static void
test_bad_flood_logged_bounded(void **state)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };
	struct buffer_counters c = { 0 };
	struct tfo_test_capture cap;
	struct buffer_reply r;
	struct fix f;
	char *text;
	int lines;

	(void)state;
	fix_init(&f, 0, 0);
	tfo_test_capture_start(&cap, "buffer", TFO_LOG_TEXT);
	for (int i = 0; i < 1000; i++) {
		buffer_ingest_dispatch(f.st, &c, &g_peer, garbage, sizeof(garbage), &r);
		buffer_reply_free(&r);
		expect(put_logs(&f, &c, (Tfo__V1__Role)40, 1, 1), TFO__V1__INGEST_REPLY__MSG_ERROR);
		buffer_export_dispatch(f.st, &c, garbage, sizeof(garbage), NULL, &r);
		buffer_reply_free(&r);
	}
	assert_int_equal(c.bad_ingest, 2000);
	assert_int_equal(c.bad_export, 1000);
	assert_int_equal(c.bad_unlogged, 3000 - BUFFER_BAD_LOGGED);
	c.bad_window_ms -= BUFFER_BAD_WINDOW_MS;        /* a minute later */
	buffer_ingest_dispatch(f.st, &c, &g_peer, garbage, sizeof(garbage), &r);
	buffer_reply_free(&r);
	text = tfo_test_capture_end(&cap, NULL, &lines);
	assert_int_equal(lines, BUFFER_BAD_LOGGED + 2);
	assert_non_null(strstr(text, "2990 more refused requests were not logged"));
	free(text);
	fix_fini(&f);
}

/* The fuzz seeds: the valid ones are answered without Error. */
static void
test_fuzz_seeds(void **state)
{
	static const char *const ok[] = { "ingest_put_logs", "ingest_put_metrics",
		"ingest_put_metrics_more",
		"ingest_get_checkpoints", "export_fetch_any", "export_fetch_logs",
		"export_ack", "export_nack" };
	struct fix f;
	struct buffer_counters c = { 0 };

	(void)state;
	fix_init(&f, 0, 0);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char p[256];
		uint8_t buf[4096];
		struct buffer_reply r;
		snprintf(p, sizeof(p), "tests/fuzz/buffer/corpus/%s", ok[i]);
		FILE *fp = fopen(p, "rb");
		assert_non_null(fp);
		size_t n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		assert_true(n > 1);
		if (buf[0] & 1)
			buffer_ingest_dispatch(f.st, &c, &g_peer, buf + 1, n - 1, &r);
		else
			buffer_export_dispatch(f.st, &c, buf + 1, n - 1, NULL, &r);
		assert_non_null(r.buf);
		buffer_reply_free(&r);
		commit_ok(&f);
		if (c.bad_ingest + c.bad_export)
			fail_msg("seed %s answered with Error", ok[i]);
	}
	fix_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_fetch_ack),
		cmocka_unit_test(test_acks_ride_on_fetch),
		cmocka_unit_test(test_put_more),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_busy_reply),
		cmocka_unit_test(test_role_from_peer),
		cmocka_unit_test(test_signal_of_role),
		cmocka_unit_test(test_bad_flood_logged_bounded),
		cmocka_unit_test(test_fuzz_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
