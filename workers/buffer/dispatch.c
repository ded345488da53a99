/*
 * dispatch.c - tfo-buffer's ingest and export request handlers: validating
 * decode, one switch per channel, replies packed for the caller to send.
 */
#include "workers/buffer/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/log.h"

#define VERSION TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION

static void
pack(struct buffer_reply *out, const ProtobufCMessage *m, int after_commit)
{
	size_t len = protobuf_c_message_get_packed_size(m);

	out->after_commit = after_commit;
	out->len = 0;
	out->buf = out->mem.alloc ? out->mem.alloc(out->mem.arg, len) : malloc(len ? len : 1);
	if (out->buf == NULL)
		return;
	out->len = protobuf_c_message_pack(m, out->buf);
}

void
buffer_reply_free(struct buffer_reply *out)
{
	struct buffer_reply_mem mem = out->mem;

	if (out->buf != NULL && mem.release)
		mem.release(mem.arg, out->buf);
	else if (!mem.release)
		free(out->buf);
	memset(out, 0, sizeof(*out));
	out->mem = mem;
}

void
buffer_reply_error(struct buffer_reply *out, int ingest, const char *msg)
{
	Tfo__V1__Error err = TFO__V1__ERROR__INIT;

	buffer_reply_free(out);
	err.message = (char *)msg;
	if (ingest) {
		Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
		r.version = VERSION;
		r.msg_case = TFO__V1__INGEST_REPLY__MSG_ERROR;
		r.error = &err;
		pack(out, &r.base, 0);
	} else {
		Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
		r.version = VERSION;
		r.msg_case = TFO__V1__EXPORT_REPLY__MSG_ERROR;
		r.error = &err;
		pack(out, &r.base, 0);
	}
}

void
buffer_reply_busy(struct buffer_reply *out, uint32_t retry_after_ms, const char *reason)
{
	Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
	Tfo__V1__Busy busy = TFO__V1__BUSY__INIT;

	buffer_reply_free(out);
	busy.retry_after_ms = retry_after_ms;
	busy.reason = (char *)(reason ? reason : "");
	r.version = VERSION;
	r.msg_case = TFO__V1__INGEST_REPLY__MSG_BUSY;
	r.busy = &busy;
	pack(out, &r.base, 0);
}

/*
 * bad_log_ok - whether a refused request (malformed, unknown, naming no role
 * of ours, an invalid put) may be logged: BUFFER_BAD_LOGGED a minute, the
 * rest only counted (bad_ingest, bad_export) and said in one line when the
 * next minute's first is logged. A compromised peer sending garbage as fast
 * as the buffer answers made a warning line per request: the journal flooded,
 * and journald's own rate limit then dropped the agent's other lines.
 */
static int
bad_log_ok(struct buffer_counters *c)
{
	uint64_t now = tfo_ipc_mono_ms();

	if (c->bad_logged == 0 || now - c->bad_window_ms >= BUFFER_BAD_WINDOW_MS) {
		if (c->bad_unlogged > 0)
			log_warn("%llu more refused requests were not logged (%u a minute are; "
			    "bad_ingest and bad_export count them all)",
			    (unsigned long long)c->bad_unlogged, BUFFER_BAD_LOGGED);
		c->bad_window_ms = now;
		c->bad_logged = 0;
		c->bad_unlogged = 0;
	}
	if (c->bad_logged < BUFFER_BAD_LOGGED) {
		c->bad_logged++;
		return 1;
	}
	c->bad_unlogged++;
	return 0;
}

/* ------------------------------------------------------------------ ingest */

/*
 * role_signal - the one signal a collector role produces: its puts of another
 * would be another role's data (tfo-system's uid putting log records, forged
 * lines of a file tfo-logs never read, under its own role and dedupe).
 */
static uint32_t
role_signal(uint32_t role)
{
	switch (role) {
	case TFO__V1__ROLE__ROLE_SYSTEM:
	case TFO__V1__ROLE__ROLE_PROCESS:
		return TFO__V1__SIGNAL__SIGNAL_METRICS;
	case TFO__V1__ROLE__ROLE_LOGS:
		return TFO__V1__SIGNAL__SIGNAL_LOGS;
	default:
		return 0;
	}
}

/*
 * peer_speaks_as - whether the connection's peer may speak as role; else the
 * message is refused. A role that is none of ours is a bad request; one that
 * is another role's is a forgery: counted, and logged once per connection (a
 * compromised role must not be able to flood the log). Dev mode, every role
 * one user: that uid speaks as each collector role (docs/security.md).
 * signal: a Put's, refused as a forgery when it is a signal another role
 * produces (0, a GetCheckpoints, or one of no role: the store judges it).
 */
static int
peer_speaks_as(struct buffer_counters *c, const struct buffer_peer *peer, uint32_t role,
    uint32_t signal, const char *what)
{
	const ProtobufCEnumValue *v = role > 0 && role < 32 ?
	    protobuf_c_enum_descriptor_get_value(&tfo__v1__role__descriptor, (int)role) : NULL;
	int other_signal = (signal == TFO__V1__SIGNAL__SIGNAL_METRICS ||
	    signal == TFO__V1__SIGNAL__SIGNAL_LOGS) && signal != role_signal(role);

	if (v == NULL) {
		c->bad_ingest++;
		if (bad_log_ok(c))
			log_warn("ingest: %s naming no known role (%u) refused", what, role);
		return 0;
	}
	if ((peer->roles & TFO_IPC_ROLE_BIT(role)) != 0 && !other_signal)
		return 1;
	c->forged_role++;
	for (unsigned i = 0; i < BUFFER_FORGED_LOGGED; i++)
		if (peer->pipe != 0 && c->forged_pipes[i] == peer->pipe)
			return 0;
	c->forged_pipes[c->forged_next++ % BUFFER_FORGED_LOGGED] = peer->pipe;
	if (bad_log_ok(c))      /* a new connection per forgery is still a flood */
			log_warn("ingest: %s as %s from peer uid %u (connection %u) refused: %s; "
		    "further refusals on this connection are only counted (forged_role)", what,
		    v->name, peer->uid, peer->pipe, (peer->roles & TFO_IPC_ROLE_BIT(role)) == 0 ?
		    "that uid does not speak as this role" : "a signal this role does not produce");
	return 0;
}

static void
ingest_put(struct tfo_store *st, struct buffer_counters *c, const struct buffer_peer *peer,
    const Tfo__V1__Put *p, struct buffer_reply *out)
{
	Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
	Tfo__V1__PutOk ok = TFO__V1__PUT_OK__INIT;
	struct tfo_store_put sp = {
		.role = (uint32_t)p->role, .incarnation = p->incarnation, .seq = p->seq,
		.signal = (uint32_t)p->signal, .payload = p->payload.data,
		.len = p->payload.len, .points = p->points,
		.lz4 = p->encoding == TFO__V1__PAYLOAD_ENCODING__PAYLOAD_LZ4, .raw_len = p->raw_len,
		.checkpoints = p->checkpoints, .ncheckpoints = p->n_checkpoints,
		.block_when_full = p->block_when_full,
	};
	const char *why = NULL;
	enum tfo_put_result res = TFO_PUT_INVALID;
	struct tfo_store_item *more = NULL;

	r.version = VERSION;
	if (!peer_speaks_as(c, peer, sp.role, sp.signal, "a Put")) {
		buffer_reply_error(out, 1, "refused: not a role this connection speaks as");
		return;
	}
	if (p->encoding != TFO__V1__PAYLOAD_ENCODING__PAYLOAD_RAW && !sp.lz4)
		why = "unknown payload encoding";
	else if (p->n_more > TFO_STORE_MAX_MORE)
		why = "too many payloads";
	else if (p->n_more > 0 && (more = calloc(p->n_more, sizeof(*more))) == NULL)
		why = "out of memory";
	else {
		for (size_t i = 0; i < p->n_more; i++) {
			if (p->more[i] == NULL) {
				why = "empty payload";
				break;
			}
			more[i] = (struct tfo_store_item){ p->more[i]->payload.data,
			    p->more[i]->payload.len, p->more[i]->points };
		}
		sp.more = more;
		sp.nmore = p->n_more;
		if (why == NULL)
			res = tfo_store_put(st, &sp, &why);
	}
	free(more);
	switch (res) {
	case TFO_PUT_STAGED:
	case TFO_PUT_DUP:
		ok.seq = p->seq;
		r.msg_case = TFO__V1__INGEST_REPLY__MSG_PUT_OK;
		r.put_ok = &ok;
		pack(out, &r.base, 1);
		return;
	case TFO_PUT_BUSY:
		buffer_reply_busy(out, TFO_STORE_BUSY_RETRY_MS, why);
		return;
	case TFO_PUT_INVALID:
		c->bad_ingest++;
		if (bad_log_ok(c))
			log_warn("ingest: put from role %d refused: %s", (int)p->role, why);
		buffer_reply_error(out, 1, why);
		return;
	}
	buffer_reply_error(out, 1, "internal error");
}

static void
ingest_checkpoints(struct tfo_store *st, struct buffer_counters *c,
    const struct buffer_peer *peer, const Tfo__V1__GetCheckpoints *g, struct buffer_reply *out)
{
	Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
	Tfo__V1__Checkpoints cps = TFO__V1__CHECKPOINTS__INIT;
	Tfo__V1__Checkpoint **v = NULL;
	size_t n = 0;
	enum tfo_err e;

	if (!peer_speaks_as(c, peer, (uint32_t)g->role, 0, "a GetCheckpoints")) {
		buffer_reply_error(out, 1, "refused: not a role this connection speaks as");
		return;
	}
	e = tfo_store_checkpoints(st, (uint32_t)g->role, BUFFER_MAX_CHECKPOINTS_REPLY, &v, &n);
	if (e != TFO_OK) {
		log_error("ingest: reading checkpoints of role %d: %s", (int)g->role,
		    tfo_strerror(e));
		buffer_reply_error(out, 1, tfo_strerror(e));
		return;
	}
	r.version = VERSION;
	r.msg_case = TFO__V1__INGEST_REPLY__MSG_CHECKPOINTS;
	r.checkpoints = &cps;
	cps.checkpoints = v;
	cps.n_checkpoints = n;
	pack(out, &r.base, 0);
	tfo_store_checkpoints_free(v, n);
}

void
buffer_ingest_dispatch(struct tfo_store *st, struct buffer_counters *c,
    const struct buffer_peer *peer, const void *buf, size_t len, struct buffer_reply *out)
{
	Tfo__V1__IngestRequest *req;
	enum tfo_err e;

	memset(out, 0, sizeof(*out));
	c->ingest_requests++;
	req = (Tfo__V1__IngestRequest *)tfo_msg_decode(&tfo__v1__ingest_request__descriptor,
	    buf, len, BUFFER_INGEST_MAX, &e);
	if (req == NULL) {
		c->bad_ingest++;
		if (bad_log_ok(c))
			log_warn("ingest: bad request (%zu bytes): %s", len, tfo_strerror(e));
		buffer_reply_error(out, 1, tfo_strerror(e));
		return;
	}
	switch (req->msg_case) {
	case TFO__V1__INGEST_REQUEST__MSG_PUT:
		ingest_put(st, c, peer, req->put, out);
		tfo__v1__ingest_request__free_unpacked(req, NULL);
		return;
	case TFO__V1__INGEST_REQUEST__MSG_GET_CHECKPOINTS:
		ingest_checkpoints(st, c, peer, req->get_checkpoints, out);
		tfo__v1__ingest_request__free_unpacked(req, NULL);
		return;
	case TFO__V1__INGEST_REQUEST__MSG__NOT_SET:
	case _TFO__V1__INGEST_REQUEST__MSG__CASE_IS_INT_SIZE:
	default:
		c->bad_ingest++;
		if (bad_log_ok(c))
			log_warn("ingest: unknown request %d", (int)req->msg_case);
		buffer_reply_error(out, 1, "unknown request");
		tfo__v1__ingest_request__free_unpacked(req, NULL);
		return;
	}
}

/* ------------------------------------------------------------------ export */

/* heads_fill - the committed heads (what the exporter may forget of what it
 * delivered, docs/buffer.md) into v, TFO_STORE_NSIG of them */
static void
heads_fill(const struct tfo_store *st, uint64_t *v)
{
	v[0] = 0;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		v[s] = tfo_store_committed_head(st, s);
}

/* export_simple - Empty, or Done with the committed heads (st not NULL);
 * acks_st not NULL: a Fetch carried acks, its Empty says the heads */
static void
export_simple(struct buffer_reply *out, Tfo__V1__ExportReply__MsgCase mc, int after_commit,
    const struct tfo_store *st, const struct tfo_store *acks_st)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Empty empty = TFO__V1__EMPTY__INIT;
	Tfo__V1__Done done = TFO__V1__DONE__INIT;
	uint64_t heads[TFO_STORE_NSIG] = { 0 };

	r.version = VERSION;
	r.msg_case = mc;
	if (st != NULL || acks_st != NULL)
		heads_fill(st != NULL ? st : acks_st, heads);
	if (st != NULL) {
		done.heads = heads;
		done.n_heads = TFO_STORE_NSIG;
	}
	if (acks_st != NULL) {
		r.heads = heads;
		r.n_heads = TFO_STORE_NSIG;
	}
	if (mc == TFO__V1__EXPORT_REPLY__MSG_EMPTY)
		r.empty = &empty;
	else
		r.done = &done;
	pack(out, &r.base, after_commit);
}

/* export_fetch - the next batch; acked: the request carried acks (the
 * reply says the heads) */
static void
export_fetch(struct tfo_store *st, const Tfo__V1__Fetch *f, int acked, struct buffer_reply *out)
{
	Tfo__V1__ExportReply r = TFO__V1__EXPORT_REPLY__INIT;
	Tfo__V1__Batch batch = TFO__V1__BATCH__INIT;
	struct tfo_store_batch b;
	ProtobufCBinaryData *ents;
	uint64_t heads[TFO_STORE_NSIG];
	enum tfo_err e;

	e = tfo_store_fetch(st, (uint32_t)f->signal, f->max_bytes, &b);
	if (e == TFO_ENOENT) {
		export_simple(out, TFO__V1__EXPORT_REPLY__MSG_EMPTY, 0, NULL, acked ? st : NULL);
		return;
	}
	if (e != TFO_OK) {
		const char *why = tfo_store_busy_reason(st);   /* the store not open: why */
		buffer_reply_error(out, 0, why[0] ? why : tfo_strerror(e));
		return;
	}
	if ((ents = calloc(b.n ? b.n : 1, sizeof(*ents))) == NULL) {
		tfo_store_reoffer_all(st);  /* the batch stays owed: offer it again */
		tfo_store_batch_free(&b);
		return;
	}
	for (size_t i = 0; i < b.n; i++)
		ents[i] = (ProtobufCBinaryData){ b.len[i], (uint8_t *)b.data[i] };
	batch.id = b.id;
	batch.signal = (Tfo__V1__Signal)b.signal;
	batch.points = b.points;
	batch.entries = ents;
	batch.n_entries = b.n;
	batch.seqs = b.seqs;
	batch.n_seqs = b.n;
	batch.entry_points = b.points_each;
	batch.n_entry_points = b.n;
	batch.rest_empty = b.rest_empty;
	for (size_t i = 0; b.raw_lens != NULL && i < b.n; i++)
		if (b.raw_lens[i] != 0) {      /* sent only when some entry is LZ4 */
			batch.raw_lens = b.raw_lens;
			batch.n_raw_lens = b.n;
			break;
		}
	r.version = VERSION;
	r.msg_case = TFO__V1__EXPORT_REPLY__MSG_BATCH;
	r.batch = &batch;
	if (acked) {
		heads_fill(st, heads);
		r.heads = heads;
		r.n_heads = TFO_STORE_NSIG;
	}
	pack(out, &r.base, 0);
	if (out->buf == NULL)
		tfo_store_reoffer_all(st);
	free(ents);
	tfo_store_batch_free(&b);
}

void
buffer_export_dispatch(struct tfo_store *st, struct buffer_counters *c, const void *buf,
    size_t len, const struct buffer_reply_mem *mem, struct buffer_reply *out)
{
	Tfo__V1__ExportRequest *req;
	enum tfo_err e;

	memset(out, 0, sizeof(*out));
	c->export_requests++;
	if (mem != NULL)
		out->mem = *mem;
	req = (Tfo__V1__ExportRequest *)tfo_msg_decode(&tfo__v1__export_request__descriptor,
	    buf, len, BUFFER_EXPORT_MAX, &e);
	if (req == NULL) {
		c->bad_export++;
		if (bad_log_ok(c))
			log_warn("export: bad request (%zu bytes): %s", len, tfo_strerror(e));
		buffer_reply_error(out, 0, tfo_strerror(e));
		return;
	}
	if (req->n_acks > BUFFER_EXPORT_MAX_ACKS) {
		c->bad_export++;
		if (bad_log_ok(c))
			log_warn("export: a request with %zu acks refused (at most %u)",
			    req->n_acks, BUFFER_EXPORT_MAX_ACKS);
		buffer_reply_error(out, 0, "too many acks");
		tfo__v1__export_request__free_unpacked(req, NULL);
		return;
	}
	/* Acks riding on a request are settled before it, as Acks would be: an
	 * unknown id (an earlier run's batch, one deleted) is no error. Their
	 * deletes are committed with this wake-up's group; the reply does not
	 * wait for that (a Done does not say more, see main.c). */
	for (size_t i = 0; i < req->n_acks; i++)
		(void)tfo_store_ack(st, req->acks[i]);
	switch (req->msg_case) {
	case TFO__V1__EXPORT_REQUEST__MSG_FETCH:
		export_fetch(st, req->fetch, req->n_acks > 0, out);
		tfo__v1__export_request__free_unpacked(req, NULL);
		return;
	case TFO__V1__EXPORT_REQUEST__MSG_ACK:
		/* Unknown id: a batch of an earlier buffer run (offered again; the
		 * exporter knows its entries by seq) or one already deleted. */
		e = tfo_store_ack(st, req->ack->id);
		export_simple(out, TFO__V1__EXPORT_REPLY__MSG_DONE, e == TFO_OK, st, NULL);
		tfo__v1__export_request__free_unpacked(req, NULL);
		return;
	case TFO__V1__EXPORT_REQUEST__MSG_NACK:
		(void)tfo_store_nack(st, req->nack->id, req->nack->retry_after_ms);
		export_simple(out, TFO__V1__EXPORT_REPLY__MSG_DONE, 0, st, NULL);
		tfo__v1__export_request__free_unpacked(req, NULL);
		return;
	case TFO__V1__EXPORT_REQUEST__MSG__NOT_SET:
	case _TFO__V1__EXPORT_REQUEST__MSG__CASE_IS_INT_SIZE:
	default:
		c->bad_export++;
		if (bad_log_ok(c))
			log_warn("export: unknown request %d", (int)req->msg_case);
		buffer_reply_error(out, 0, "unknown request");
		tfo__v1__export_request__free_unpacked(req, NULL);
		return;
	}
}
