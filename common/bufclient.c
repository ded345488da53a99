/*
 * bufclient.c - synchronous clients of tfo-buffer's ingest channel (the
 * collectors) and export channel (the exporter). See bufclient.h.
 */
#include "common/bufclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/req.h>

#include "common/ipc.h"
#include "common/ipcclose.h"

#define VERSION TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION
#define EXPORT_ATTEMPTS 3           /* ack/nack/checkpoints: answers are idempotent */
/* A live dialer retries at least every second (tfo_ipc_req_dial): a socket
 * with no connection for twice that while the buffer accepts has a dead
 * one. Closing a socket while its dialer is in the handshake is what nng
 * 1.5.2 can leak or hang on, so it is not done sooner. */
#define REDIAL_DOWN_MS 2000
/* A put whose connection dropped before its answer is sent again after
 * this pause (or a quarter of timeout_ms, when shorter): a peer that takes
 * every connection and drops it at once (a buffer crashing on each put, a
 * stranger on the path) would otherwise see the put again as soon as nng's
 * dialer is back, every 10-20 ms, a hot loop on both sides. A restarted
 * buffer takes longer than this to listen again, so it costs a restart
 * nothing. */
#define DROP_PAUSE_MS 250

static enum tfo_err
dial(struct tfo_bufclient *c)
{
	int rv = tfo_ipc_req_dial(&c->s, c->url, TFO_BUFCLIENT_REPLY_MAX, c->timeout_ms, &c->pol);

	if (rv != 0)
		return rv == NNG_ENOMEM ? TFO_ENOMEM : TFO_EIO;
	/* Resends are ours (same seq, after timeout_ms), not the REQ protocol's:
	 * its own resend timer (1 min) never fires before ours. */
	(void)nng_socket_set_ms(c->s, NNG_OPT_SENDTIMEO, c->timeout_ms);
	/* So that timer is off: nng 1.5 scheduled it at every send and took it
	 * back at every answer, waking its timer thread twice a request
	 * (nng:timer: ~13 runs a minute in an idle exporter, 8 in tfo-system,
	 * 4 in tfo-process, issue 18 §3). Its one other use was to send a
	 * request again on the next connection when its own dropped; without
	 * it the request fails at once (ECONNRESET). On export that is an I/O
	 * error: a fetch is never resent and an ack is tried once (the
	 * exporter's ledger settles the rest). On ingest exchange() sends the
	 * put again itself, the same seq, as after a timeout: a put in flight
	 * when the buffer restarts is stored by the next one. */
	(void)nng_socket_set_ms(c->s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	c->open = 1;
	return TFO_OK;
}

/*
 * redial - a fresh socket and dialer. nng 1.5's dialer stops for good when a
 * peer drops a new connection before the SP handshake (the buffer killed or
 * restarting at that moment: the connect landed in a listen queue that died)
 * and nothing reports it: the socket just never has a connection again. A
 * new socket dials again.
 */
static enum tfo_err
redial(struct tfo_bufclient *c)
{
	c->redials++;
	if (c->open) {
		(void)tfo_ipc_close(c->s, "buffer client", 0);
		c->open = 0;
	}
	return dial(c);
}

/* answered - nng thread: the receive ended (an answer, or its cancel) */
static void
answered(void *arg)
{
	struct tfo_bufclient *c = arg;
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the waiter wakes */
	(void)!write(c->wake_fd, &one, sizeof(one));
}

static enum tfo_err
open_common(struct tfo_bufclient *c, const char *url, int timeout_ms, uint32_t buffer_uid,
    const char *name, int ingest)
{
	memset(c, 0, sizeof(*c));
	c->ingest = ingest;
	snprintf(c->polname, sizeof(c->polname), "%s: a socket not run by the buffer's uid %u",
	    name, buffer_uid);
	tfo_ipc_policy_init(&c->pol, c->polname);
	tfo_ipc_policy_allow(&c->pol, buffer_uid);
	if (url == NULL || timeout_ms <= 0)
		return TFO_EINVAL;
	if ((c->url = strdup(url)) == NULL)
		return TFO_ENOMEM;
	if (nng_aio_alloc(&c->aio, NULL, NULL) != 0)
		return TFO_ENOMEM;
	if ((c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return errno == ENOMEM ? TFO_ENOMEM : TFO_EIO;
	c->wake_open = 1;
	if (nng_aio_alloc(&c->raio, answered, c) != 0)
		return TFO_ENOMEM;
	c->timeout_ms = timeout_ms;
	return dial(c);
}

enum tfo_err
tfo_bufclient_open_ingest(struct tfo_bufclient *c, const char *url, Tfo__V1__Role role,
    uint64_t incarnation, int timeout_ms, uint32_t buffer_uid)
{
	enum tfo_err e = open_common(c, url, timeout_ms, buffer_uid, "ingest", 1);

	c->role = role;
	c->incarnation = incarnation;
	return e;
}

enum tfo_err
tfo_bufclient_open_export(struct tfo_bufclient *c, const char *url, int timeout_ms,
    uint32_t buffer_uid)
{
	return open_common(c, url, timeout_ms, buffer_uid, "export", 0);
}

void
tfo_bufclient_close(struct tfo_bufclient *c)
{
	if (c->open)
		(void)tfo_ipc_close(c->s, "buffer client", 0);
	c->open = 0;
	if (c->aio != NULL)
		nng_aio_free(c->aio);
	c->aio = NULL;
	if (c->raio != NULL)
		nng_aio_free(c->raio);
	c->raio = NULL;
	if (c->wake_open)
		close(c->wake_fd);
	c->wake_open = 0;
	free(c->url);
	c->url = NULL;
}

static enum tfo_err
nng_to_err(int rv)
{
	return rv == NNG_ETIMEDOUT ? TFO_ETIMEDOUT : rv == NNG_ENOMEM ? TFO_ENOMEM :
	    rv == NNG_ECLOSED ? TFO_ECLOSED : TFO_EIO;
}

/*
 * tfo_bufclient_request_msg - a request packed into its own nng message: on
 * a send that fails it is freed (tfo_ipc_send_timed), on one that succeeds it
 * is nng's. A frame of its own, so the leak check can name it (below).
 */
static __attribute__((noinline)) nng_msg *
tfo_bufclient_request_msg(const ProtobufCMessage *req, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, len) != 0)
		return NULL;
	protobuf_c_message_pack(req, nng_msg_body(m));
	return m;
}

#ifdef TFO_SANITIZE
/*
 * nng 1.5.2 can lose a request it owns when its REQ socket is closed while
 * the request is on the wire (nng PR #1643, "Socket close may leak
 * messages", fixed in 1.6.0; Debian bookworm ships 1.5.2). The buffer
 * clients close such sockets on every redial, and tests/stress/buffer_hang.sh
 * met it once in 500 runs (LeakSanitizer: one 70-byte put). Only a message
 * made above is exempt: everything else a sanitizer build leaks still fails.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:tfo_bufclient_request_msg\n";
}
#endif

/* send_request - m on the wire: at once when a connection is ready, as
 * nearly always (no deadline for nng's expire thread), else within
 * timeout_ms; m is nng's, sent or freed */
static int
send_request(struct tfo_bufclient *c, nng_msg *m)
{
	int rv;

	nng_aio_set_msg(c->aio, m);
	nng_aio_set_timeout(c->aio, NNG_DURATION_ZERO);
	nng_send_aio(c->s, c->aio);
	nng_aio_wait(c->aio);
	rv = nng_aio_result(c->aio);
	m = nng_aio_get_msg(c->aio);
	nng_aio_set_msg(c->aio, NULL);
	if (rv == NNG_ETIMEDOUT)        /* no connection ready: wait for one */
		return tfo_ipc_send_timed(c->s, c->aio, m, c->timeout_ms);
	if (rv != 0)
		nng_msg_free(m);
	return rv;
}

/* wait_answer - the answer to the request just sent, within timeout_ms:
 * the receive has no deadline of its own, this thread polls the eventfd its
 * callback writes and cancels it when the time is up */
static int
wait_answer(struct tfo_bufclient *c, nng_msg **m)
{
	uint64_t end = tfo_ipc_mono_ms() + (uint64_t)c->timeout_ms, now, v;
	struct pollfd pfd = { .fd = c->wake_fd, .events = POLLIN };
	int rv;

	*m = NULL;
	nng_aio_set_timeout(c->raio, NNG_DURATION_INFINITE);
	nng_recv_aio(c->s, c->raio);
	while ((now = tfo_ipc_mono_ms()) < end) {
		int n = poll(&pfd, 1, (int)(end - now));
		if (n > 0 || (n < 0 && errno != EINTR))
			break;
	}
	nng_aio_cancel(c->raio);        /* no effect once it ended */
	nng_aio_wait(c->raio);          /* its callback has run */
	(void)!read(c->wake_fd, &v, sizeof(v));
	if ((rv = nng_aio_result(c->raio)) == 0)
		*m = nng_aio_get_msg(c->raio);
	else if (rv == NNG_ECANCELED)
		rv = NNG_ETIMEDOUT;     /* ours: the time was up */
	nng_aio_set_msg(c->raio, NULL);
	return rv;
}

/* once - send the packed request and wait for the answer, each within
 * timeout_ms; the decoded answer or NULL with *e */
static ProtobufCMessage *
once(struct tfo_bufclient *c, const ProtobufCMessage *req, size_t len,
    const ProtobufCMessageDescriptor *d, enum tfo_err *e)
{
	ProtobufCMessage *rep;
	nng_msg *m;
	int rv;

	c->dropped = 0;
	/* packed into the message itself (puts are up to megabytes: no staging
	 * copy); a resend packs the same request again */
	if ((m = tfo_bufclient_request_msg(req, len)) == NULL) {
		*e = TFO_ENOMEM;
		return NULL;
	}
	if ((rv = send_request(c, m)) != 0 || (rv = wait_answer(c, &m)) != 0) {
		/* a put whose connection dropped is sent again, as after a
		 * timeout (dial: no REQ resend timer) */
		*e = rv == NNG_ECONNRESET && c->ingest ? TFO_ETIMEDOUT : nng_to_err(rv);
		c->dropped = rv == NNG_ECONNRESET;
		return NULL;
	}
	rep = tfo_msg_decode(d, nng_msg_body(m), nng_msg_len(m), TFO_BUFCLIENT_REPLY_MAX, e);
	nng_msg_free(m);
	return rep;
}

/* drop_pause - after a dropped connection, DROP_PAUSE_MS (a quarter of
 * timeout_ms when shorter) or until give_up_ms, whichever comes first */
static void
drop_pause(const struct tfo_bufclient *c, uint64_t start)
{
	uint64_t now = tfo_ipc_mono_ms(), end;
	uint64_t pause = (uint64_t)c->timeout_ms / 4 < DROP_PAUSE_MS ?
	    (uint64_t)c->timeout_ms / 4 : DROP_PAUSE_MS;

	end = now + pause;
	if (c->give_up_ms && start + c->give_up_ms < end)
		end = start + c->give_up_ms;
	while ((now = tfo_ipc_mono_ms()) < end)
		(void)poll(NULL, 0, (int)(end - now));  /* EINTR: the loop waits the rest */
}

/*
 * exchange - send req and wait for its answer; on a timeout send the same
 * bytes again, up to `attempts` times (0 = until give_up_ms, if set).
 */
static enum tfo_err
exchange(struct tfo_bufclient *c, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *d, unsigned attempts, ProtobufCMessage **reply)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint64_t start = tfo_ipc_mono_ms();
	enum tfo_err e = TFO_ETIMEDOUT;

	*reply = NULL;
	if (!c->open)
		return TFO_EINVAL;
	for (unsigned n = 1;; n++) {
		if ((*reply = once(c, req, len, d, &e)) != NULL)
			break;
		if (e != TFO_ETIMEDOUT || (attempts && n >= attempts) ||
		    (c->give_up_ms && tfo_ipc_mono_ms() - start >= c->give_up_ms))
			break;
		c->resends++;
		if (c->dropped) {
			c->drops++;
			drop_pause(c, start);
		}
		/* ingest: a fresh socket only when none of its connections has
		 * been up for a while (see redial). On export an ack or fetch
		 * stuck on a dead connection would hold the exporter until every
		 * attempt timed out, so it is resent on a fresh one; the buffer
		 * then offers every batch in flight again, and the exporter
		 * acks unsent the entries it delivered (its ledger). */
		if ((!c->ingest || tfo_ipc_policy_down_ms(&c->pol, tfo_ipc_mono_ms()) >=
		    (uint64_t)(c->timeout_ms > REDIAL_DOWN_MS ? c->timeout_ms : REDIAL_DOWN_MS)) &&
		    (e = redial(c)) != TFO_OK)
			break;
	}
	return *reply ? TFO_OK : e;
}

static void
keep_error(struct tfo_bufclient *c, const Tfo__V1__Error *err)
{
	snprintf(c->error, sizeof(c->error), "%s", err && err->message ? err->message : "");
}

/* ------------------------------------------------------------------ ingest */

/* put - one Put of payload as encoded (raw_len: its size once inflated),
 * and nmore further raw payloads */
static enum tfo_err
put(struct tfo_bufclient *c, Tfo__V1__Signal signal, Tfo__V1__PayloadEncoding enc,
    const void *payload, size_t len, size_t raw_len, uint32_t points,
    Tfo__V1__Checkpoint *const *checkpoints, size_t n, int block_when_full,
    Tfo__V1__PutItem **more, size_t nmore)
{
	Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put p = TFO__V1__PUT__INIT;
	Tfo__V1__IngestReply *rep;
	enum tfo_err e;

	if (raw_len > UINT32_MAX)
		return TFO_ERANGE;
	p.encoding = enc;
	p.raw_len = enc == TFO__V1__PAYLOAD_ENCODING__PAYLOAD_RAW ? 0 : (uint32_t)raw_len;
	p.role = c->role;
	p.incarnation = c->incarnation;
	p.seq = ++c->seq;
	p.signal = signal;
	p.payload.data = (uint8_t *)payload;
	p.payload.len = len;
	p.points = points;
	p.checkpoints = (Tfo__V1__Checkpoint **)checkpoints;
	p.n_checkpoints = n;
	p.block_when_full = block_when_full != 0;
	p.more = more;
	p.n_more = nmore;
	r.version = VERSION;
	r.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	r.put = &p;
	e = exchange(c, &r.base, &tfo__v1__ingest_reply__descriptor, 0,
	    (ProtobufCMessage **)&rep);
	if (e != TFO_OK)
		return e;
	switch (rep->msg_case) {
	case TFO__V1__INGEST_REPLY__MSG_PUT_OK:
		e = rep->put_ok->seq == p.seq ? TFO_OK : TFO_EPROTO;
		break;
	case TFO__V1__INGEST_REPLY__MSG_BUSY:
		c->retry_after_ms = rep->busy->retry_after_ms;
		/* the cause, for the collector's log (a full disk, a full buffer) */
		snprintf(c->error, sizeof(c->error), "%s", rep->busy->reason ? rep->busy->reason :
		    "");
		e = TFO_EAGAIN;
		break;
	case TFO__V1__INGEST_REPLY__MSG_ERROR:
		keep_error(c, rep->error);
		e = TFO_EINVAL;
		break;
	default:
		e = TFO_EPROTO;
		break;
	}
	tfo__v1__ingest_reply__free_unpacked(rep, NULL);
	return e;
}

enum tfo_err
tfo_bufclient_put(struct tfo_bufclient *c, Tfo__V1__Signal signal, const void *payload,
    size_t len, uint32_t points, Tfo__V1__Checkpoint *const *checkpoints, size_t n,
    int block_when_full)
{
	return put(c, signal, TFO__V1__PAYLOAD_ENCODING__PAYLOAD_RAW, payload, len, len, points,
	    checkpoints, n, block_when_full, NULL, 0);
}

enum tfo_err
tfo_bufclient_put_lz4(struct tfo_bufclient *c, Tfo__V1__Signal signal, const void *block,
    size_t len, size_t raw_len, uint32_t points, Tfo__V1__Checkpoint *const *checkpoints,
    size_t n, int block_when_full)
{
	return put(c, signal, TFO__V1__PAYLOAD_ENCODING__PAYLOAD_LZ4, block, len, raw_len, points,
	    checkpoints, n, block_when_full, NULL, 0);
}

enum tfo_err
tfo_bufclient_put_many(struct tfo_bufclient *c, Tfo__V1__Signal signal,
    const struct tfo_bufclient_item *items, size_t n)
{
	Tfo__V1__PutItem *pi, **pp;
	enum tfo_err e;

	if (n == 0 || n > TFO_BUFCLIENT_MAX_ITEMS)
		return TFO_EINVAL;
	pi = calloc(n, sizeof(*pi));
	pp = calloc(n, sizeof(*pp));
	if (pi == NULL || pp == NULL) {
		free(pi);
		free(pp);
		return TFO_ENOMEM;
	}
	for (size_t i = 1; i < n; i++) {
		tfo__v1__put_item__init(&pi[i]);
		pi[i].payload.data = (uint8_t *)items[i].payload;
		pi[i].payload.len = items[i].len;
		pi[i].points = items[i].points;
		pp[i - 1] = &pi[i];
	}
	e = put(c, signal, TFO__V1__PAYLOAD_ENCODING__PAYLOAD_RAW, items[0].payload, items[0].len,
	    items[0].len, items[0].points, NULL, 0, 0, pp, n - 1);
	free(pi);
	free(pp);
	return e;
}

enum tfo_err
tfo_bufclient_checkpoints(struct tfo_bufclient *c, Tfo__V1__Role role,
    Tfo__V1__IngestReply **holder, const Tfo__V1__Checkpoints **out)
{
	Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__GetCheckpoints g = TFO__V1__GET_CHECKPOINTS__INIT;
	enum tfo_err e;

	*out = NULL;
	g.role = role;
	r.version = VERSION;
	r.msg_case = TFO__V1__INGEST_REQUEST__MSG_GET_CHECKPOINTS;
	r.get_checkpoints = &g;
	e = exchange(c, &r.base, &tfo__v1__ingest_reply__descriptor, EXPORT_ATTEMPTS,
	    (ProtobufCMessage **)holder);
	if (e != TFO_OK)
		return e;
	if ((*holder)->msg_case == TFO__V1__INGEST_REPLY__MSG_CHECKPOINTS) {
		*out = (*holder)->checkpoints;
		return TFO_OK;
	}
	if ((*holder)->msg_case == TFO__V1__INGEST_REPLY__MSG_ERROR)
		keep_error(c, (*holder)->error);
	tfo__v1__ingest_reply__free_unpacked(*holder, NULL);
	*holder = NULL;
	return TFO_EPROTO;
}

/* ------------------------------------------------------------------ export */

/* keep_heads - what a reply says is deleted for good (hostile: any count) */
static void
keep_heads(struct tfo_bufclient *c, size_t n, const uint64_t *v)
{
	c->heads_known = n == TFO_BUFCLIENT_NSIG;
	for (size_t s = 0; s < TFO_BUFCLIENT_NSIG; s++)
		c->heads[s] = c->heads_known ? v[s] : 0;
}

/*
 * export_call - one export request, carrying the acks kept for it
 * (tfo_bufclient_ack_later). They are gone from the client whatever came
 * of it: answered, they are settled (the reply says the heads); not, the
 * connection was redialled or will be, and the buffer offers those batches
 * again (the exporter acks their entries unsent, from its ledger).
 */
static enum tfo_err
export_call(struct tfo_bufclient *c, Tfo__V1__ExportRequest *r, unsigned attempts,
    Tfo__V1__ExportReply **rep)
{
	enum tfo_err e;

	r->version = VERSION;
	r->acks = c->acks_due;
	r->n_acks = c->n_acks_due;
	c->heads_known = 0;
	e = exchange(c, &r->base, &tfo__v1__export_reply__descriptor, attempts,
	    (ProtobufCMessage **)rep);
	c->n_acks_due = 0;
	if (e == TFO_OK && (*rep)->n_heads > 0)
		keep_heads(c, (*rep)->n_heads, (*rep)->heads);
	return e;
}

int
tfo_bufclient_ack_later(struct tfo_bufclient *c, uint64_t id)
{
	if (c->n_acks_due >= TFO_BUFCLIENT_ACKS_MAX)
		return -1;
	c->acks_due[c->n_acks_due++] = id;
	return 0;
}

enum tfo_err
tfo_bufclient_acks_send(struct tfo_bufclient *c)
{
	if (c->n_acks_due == 0)
		return TFO_OK;
	/* the last one as the Ack, the rest riding on it */
	return tfo_bufclient_ack(c, c->acks_due[--c->n_acks_due]);
}

enum tfo_err
tfo_bufclient_fetch(struct tfo_bufclient *c, Tfo__V1__Signal signal, uint32_t max_bytes,
    Tfo__V1__ExportReply **holder, const Tfo__V1__Batch **out)
{
	Tfo__V1__ExportRequest r = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Fetch f = TFO__V1__FETCH__INIT;
	enum tfo_err e;

	*out = NULL;
	*holder = NULL;
	f.signal = signal;
	f.max_bytes = max_bytes;
	r.msg_case = TFO__V1__EXPORT_REQUEST__MSG_FETCH;
	r.fetch = &f;
	/* A fetch is not resent: a lost answer would leave a batch owed. Redial
	 * instead, so the buffer sees the exporter leave and offers it again. */
	if ((e = export_call(c, &r, 1, holder)) != TFO_OK) {
		if (e == TFO_ETIMEDOUT && c->open)
			(void)redial(c);
		return e;
	}
	switch ((*holder)->msg_case) {
	case TFO__V1__EXPORT_REPLY__MSG_BATCH:
		*out = (*holder)->batch;
		return TFO_OK;
	case TFO__V1__EXPORT_REPLY__MSG_EMPTY:
		e = TFO_ENOENT;
		break;
	case TFO__V1__EXPORT_REPLY__MSG_ERROR:
		keep_error(c, (*holder)->error);
		e = TFO_EIO;
		break;
	default:
		e = TFO_EPROTO;
		break;
	}
	tfo__v1__export_reply__free_unpacked(*holder, NULL);
	*holder = NULL;
	return e;
}

static enum tfo_err
export_done(struct tfo_bufclient *c, Tfo__V1__ExportRequest *r)
{
	Tfo__V1__ExportReply *rep;
	enum tfo_err e;

	if ((e = export_call(c, r, c->ack_attempts ? c->ack_attempts : EXPORT_ATTEMPTS,
	    &rep)) != TFO_OK) {
		if (e == TFO_ETIMEDOUT && c->open)
			(void)redial(c);    /* the next call goes out on a live connection */
		return e;
	}
	e = rep->msg_case == TFO__V1__EXPORT_REPLY__MSG_DONE ? TFO_OK : TFO_EPROTO;
	if (e == TFO_OK)
		keep_heads(c, rep->done->n_heads, rep->done->heads);
	if (rep->msg_case == TFO__V1__EXPORT_REPLY__MSG_ERROR) {
		keep_error(c, rep->error);
		e = TFO_EIO;
	}
	tfo__v1__export_reply__free_unpacked(rep, NULL);
	return e;
}

enum tfo_err
tfo_bufclient_ack(struct tfo_bufclient *c, uint64_t id)
{
	Tfo__V1__ExportRequest r = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Ack a = TFO__V1__ACK__INIT;

	a.id = id;
	r.msg_case = TFO__V1__EXPORT_REQUEST__MSG_ACK;
	r.ack = &a;
	return export_done(c, &r);
}

enum tfo_err
tfo_bufclient_nack(struct tfo_bufclient *c, uint64_t id, uint32_t retry_after_ms)
{
	Tfo__V1__ExportRequest r = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Nack n = TFO__V1__NACK__INIT;

	n.id = id;
	n.retry_after_ms = retry_after_ms;
	r.msg_case = TFO__V1__EXPORT_REQUEST__MSG_NACK;
	r.nack = &n;
	return export_done(c, &r);
}
