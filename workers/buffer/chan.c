/*
 * chan.c - tfo-buffer's nng REP channels bridged to the libevent loop (see
 * chan.h). nng callbacks only move messages and signal the eventfd; every
 * store access happens on the loop thread.
 */
#include "workers/buffer/chan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/rep.h>

#include "common/ipcclose.h"
#include "common/log.h"

enum { CTX_IDLE = 0, CTX_RECV, CTX_WAIT, CTX_SEND, CTX_DEAD };

int
bqueue_init(struct bqueue *q)
{
	memset(q, 0, sizeof(*q));
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		close(q->efd);
		q->efd = -1;
		return -1;
	}
	return 0;
}

void
bqueue_fini(struct bqueue *q)
{
	if (q->efd < 0)
		return;
	pthread_mutex_destroy(&q->mu);
	close(q->efd);
	q->efd = -1;
}

static void
bqueue_wake(struct bqueue *q)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	(void)!write(q->efd, &one, sizeof(one));
}

static void
bqueue_push(struct bqueue *q, struct bctx *c)
{
	pthread_mutex_lock(&q->mu);
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	pthread_mutex_unlock(&q->mu);
	bqueue_wake(q);
}

struct bctx *
bqueue_take(struct bqueue *q, uint32_t *gone, size_t *ngone)
{
	struct bctx *list;
	uint64_t v;

	(void)!read(q->efd, &v, sizeof(v));
	pthread_mutex_lock(&q->mu);
	list = q->head;
	q->head = q->tail = NULL;
	memcpy(gone, q->gone, q->ngone * sizeof(*gone));
	*ngone = q->ngone;
	q->ngone = 0;
	pthread_mutex_unlock(&q->mu);
	return list;
}

uint32_t
bctx_pipe(const struct bctx *c)
{
	return c->req ? c->peer.pipe : 0;
}

const struct buffer_peer *
bctx_peer(const struct bctx *c)
{
	return &c->peer;
}

uint64_t
bchan_refused(const struct bchan *ch)
{
	return tfo_ipc_policy_rejected(&ch->pol);
}

void
bchan_counters(const struct bchan *ch, struct bchan_counters *out)
{
	out->refused = tfo_ipc_policy_rejected(&ch->pol);
	out->send_timeouts = __atomic_load_n(&ch->send_timeouts, __ATOMIC_RELAXED);
	out->relistens = ch->relistens;
	out->probes_failed = ch->probes_failed;
	out->probes = ch->probes;
}

/* peer_of - who sent msg: read from its connection now, once, on the nng
 * thread; -1 when the connection is already gone (nobody to answer), 1 when
 * it is this process (the health probe), else 0 */
static int
peer_of(const struct bchan *ch, nng_msg *msg, struct buffer_peer *peer)
{
	nng_pipe p = nng_msg_get_pipe(msg);
	uint32_t pid;
	int id = nng_pipe_id(p);

	memset(peer, 0, sizeof(*peer));
	if (id <= 0 || tfo_ipc_pipe_peer(p, &peer->uid, &pid) != 0)
		return -1;
	peer->pipe = (uint32_t)id;
	if (pid == (uint32_t)getpid())
		return 1;
	peer->roles = tfo_ipc_policy_roles(&ch->pol, peer->uid);
	return 0;
}

/* recv_next - wait for the next request, as long as it takes */
static void
recv_next(struct bctx *c)
{
	c->state = CTX_RECV;
	nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(c->ctx, c->aio);
}

/* send_reply - send what the aio holds, within BCHAN_SEND_MS: a peer that
 * does not read its answers must not hold a context (issue 16 §2) */
static void
send_reply(struct bctx *c)
{
	c->state = CTX_SEND;
	nng_aio_set_timeout(c->aio, BCHAN_SEND_MS);
	nng_ctx_send(c->ctx, c->aio);
}

/* send_failed - nng thread: a reply could not go within its bound; its
 * connection, which will not take it, is closed (the peer redials) */
static void
send_failed(struct bctx *c)
{
	uint64_t n;

	if (nng_pipe_id(c->pipe) <= 0)
		return;
	n = __atomic_add_fetch(&c->ch->send_timeouts, 1, __ATOMIC_RELAXED);
	if ((n & (n - 1)) == 0)
		log_warn("%s: a reply to connection %d not sent within %d ms: that connection "
		    "is closed (%llu so far)", c->ch->name, nng_pipe_id(c->pipe), BCHAN_SEND_MS,
		    (unsigned long long)n);
	(void)nng_pipe_close(c->pipe);
}

void
bqueue_discard(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
}

/* ctx_cb - nng thread: a receive or a send of this context completed */
static void
ctx_cb(void *arg)
{
	struct bctx *c = arg;
	int rv = nng_aio_result(c->aio);

	switch (c->state) {
	case CTX_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			c->state = CTX_DEAD;
			return;
		}
		if (rv != 0) {
			recv_next(c);
			return;
		}
		c->req = nng_aio_get_msg(c->aio);
		c->pipe = nng_msg_get_pipe(c->req);
		switch (peer_of(c->ch, c->req, &c->peer)) {
		case -1:
			nng_msg_free(c->req);
			c->req = NULL;
			recv_next(c);
			return;
		case 1:
			/* the health probe: echoed here, which proves the
			 * listener, a free context and the send; the loop
			 * answers the supervisor's ping itself */
			__atomic_store_n(&c->ch->probe_pipe, c->peer.pipe, __ATOMIC_RELAXED);
			if (!bprobe_is_probe(nng_msg_body(c->req), nng_msg_len(c->req))) {
				nng_msg_free(c->req);
				c->req = NULL;
				recv_next(c);
				return;
			}
			nng_aio_set_msg(c->aio, c->req);
			c->req = NULL;
			send_reply(c);
			return;
		default:
			c->state = CTX_WAIT;
			bqueue_push(c->ch->q, c);
			return;
		}
	case CTX_SEND:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(c->aio));
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			c->state = CTX_DEAD;
			return;
		}
		if (rv == NNG_ETIMEDOUT)
			send_failed(c);
		recv_next(c);
		return;
	default:
		return;
	}
}

/* pipe_gone - nng thread: a peer's connection closed (never a health
 * probe's): it will connect again, so the next ping probes the listener; an
 * exporter's is queued for the loop, which decides whether it held the
 * batches in flight */
static void
pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct bchan *ch = arg;
	struct bqueue *q = ch->q;
	int id = nng_pipe_id(p);
	uint32_t uid, pid;

	(void)ev;
	if ((id > 0 && (uint32_t)id == __atomic_load_n(&ch->probe_pipe, __ATOMIC_RELAXED)) ||
	    (tfo_ipc_pipe_peer(p, &uid, &pid) == 0 && pid == (uint32_t)getpid()))
		return;
	__atomic_store_n(&ch->peer_left, 1, __ATOMIC_RELEASE);
	if (!ch->watch_peers)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->ngone < BQUEUE_GONE_MAX)
		q->gone[q->ngone++] = id > 0 ? (uint32_t)id : 0;
	else
		q->gone[BQUEUE_GONE_MAX - 1] = 0;      /* too many: any of them */
	pthread_mutex_unlock(&q->mu);
	bqueue_wake(q);
}

static int
ctx_start(struct bchan *ch, struct bctx *c)
{
	int rv;

	c->ch = ch;
	if ((rv = nng_ctx_open(&c->ctx, ch->sock)) != 0)
		return rv;
	if ((rv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0) {
		nng_ctx_close(c->ctx);
		return rv;
	}
	recv_next(c);
	return 0;
}

int
bchan_open(struct bchan *ch, struct bqueue *q, const char *name, int ingest,
    const char *url, size_t maxsz, const uint32_t *uids, const uint32_t *roles,
    size_t nuids, size_t nctx, int watch_peers)
{
	int rv;

	memset(ch, 0, sizeof(*ch));
	ch->name = name;
	ch->ingest = ingest;
	ch->q = q;
	ch->watch_peers = watch_peers;
	tfo_ipc_policy_init(&ch->pol, name);
	for (size_t i = 0; i < nuids; i++)
		if (roles != NULL)
			tfo_ipc_policy_allow_role(&ch->pol, uids[i], roles[i]);
		else
			tfo_ipc_policy_allow(&ch->pol, uids[i]);
	ch->pol.allow_self = 1;     /* the health probe: this process, nobody else */
	ch->maxsz = maxsz;
	if ((ch->ctxs = calloc(nctx, sizeof(*ch->ctxs))) == NULL ||
	    (ch->url = strdup(url)) == NULL)
		return NNG_ENOMEM;
	if ((rv = tfo_ipc_rep_open(&ch->sock, maxsz, &ch->pol)) != 0)
		return rv;
	ch->open = 1;
	/* Before the listener starts, so no pipe is missed. */
	if ((rv = nng_pipe_notify(ch->sock, NNG_PIPE_EV_REM_POST, pipe_gone, ch)) != 0)
		return rv;
	if ((rv = tfo_ipc_listen(ch->sock, url, maxsz, 0660, &ch->l)) != 0)
		return rv;
	for (size_t i = 0; i < nctx; i++, ch->nctx++)
		if ((rv = ctx_start(ch, &ch->ctxs[i])) != 0)
			return rv;
	return 0;
}

/*
 * relisten - the listener took connections it never served: nng 1.5.2 stops
 * a listener's accepting for good when a peer leaves during the SP handshake
 * (nng issue #1518; a collector or exporter timing out, a peer killed, any
 * local member of the group), and its connections then pile up unread. A new
 * listener on the same path; closing the old one closes what it held (the
 * peers resend).
 */
static void
relisten(struct bchan *ch)
{
	int rv;

	(void)nng_listener_close(ch->l);
	ch->relistens++;
	if ((rv = tfo_ipc_listen(ch->sock, ch->url, ch->maxsz, 0660, &ch->l)) != 0)
		log_error("%s: listen %s again: %s", ch->name, ch->url, nng_strerror(rv));
	else
		log_warn("%s: the listener stopped serving new connections (an nng 1.5.2 "
		    "defect when a peer leaves during the handshake): listening again (%llu "
		    "times so far)", ch->name, (unsigned long long)ch->relistens);
}

/*
 * probe_wanted - whether to probe now. The listener only matters to a peer
 * that connects: one that left (its connection closed) or was refused comes
 * back; while every peer keeps its connection nobody needs it, and a probe at
 * every ping (two fresh connections, handshakes and closes each 5 s) was most
 * of an idle buffer's CPU. A listener stopped by someone invisible (a peer
 * that left during the handshake makes no pipe) is found by the next trigger
 * or within BCHAN_PROBE_IDLE_MS.
 */
static int
probe_wanted(struct bchan *ch, uint64_t now_ms)
{
	uint64_t refused = tfo_ipc_policy_rejected(&ch->pol);
	int left = __atomic_exchange_n(&ch->peer_left, 0, __ATOMIC_ACQ_REL);
	int want = left || ch->probe_ok_ms == 0 || ch->unserved_since_ms != 0 ||
	    refused != ch->rejected_seen || now_ms < ch->probe_ok_ms ||
	    now_ms - ch->probe_ok_ms >= BCHAN_PROBE_IDLE_MS;

	ch->rejected_seen = refused;
	return want;
}

uint64_t
bchan_health(struct bchan *ch, uint64_t now_ms, char *why, size_t len)
{
	struct bprobe *p = &ch->probe;
	enum bprobe_state st = p->open ? bprobe_state(p) : BPROBE_IDLE;
	uint64_t stalled;

	why[0] = '\0';
	if (!ch->open)
		return 0;
	if (p->open && (st == BPROBE_OK || st == BPROBE_FAILED ||
	    now_ms - p->started_ms >= 2 * (uint64_t)BCHAN_PROBE_MS)) {
		if (st == BPROBE_OK) {
			ch->unserved_since_ms = 0;
			ch->probe_ok_ms = now_ms;
		} else if (ch->away_ms != ch->probe_away_ms) {
			/* the loop was held meanwhile: again, at once */
			__atomic_store_n(&ch->peer_left, 1, __ATOMIC_RELEASE);
		} else {
			ch->probes_failed++;
			if (ch->unserved_since_ms == 0)
				ch->unserved_since_ms = p->started_ms;
			/* it connected, yet the listener never took it */
			if (bprobe_connected(p) &&
			    tfo_ipc_policy_self_seen(&ch->pol) == p->server_seen)
				relisten(ch);
		}
		bprobe_stop(p);
	}
	if (!p->open && probe_wanted(ch, now_ms)) {
		uint64_t seen = tfo_ipc_policy_self_seen(&ch->pol);
		int rv = bprobe_start(p, ch->url, now_ms, BCHAN_PROBE_MS);
		p->server_seen = seen;
		ch->probe_away_ms = ch->away_ms;
		ch->probes++;
		if (rv != 0) {
			log_warn("%s: health probe: %s", ch->name, nng_strerror(rv));
			__atomic_store_n(&ch->peer_left, 1, __ATOMIC_RELEASE);  /* again next ping */
		}
	}
	stalled = ch->unserved_since_ms ? now_ms - ch->unserved_since_ms : 0;
	if (stalled)
		snprintf(why, len, "%s: no new connection served for %llu ms (listener "
		    "replaced %llu times)", ch->name, (unsigned long long)stalled,
		    (unsigned long long)ch->relistens);
	return stalled;
}

void
bchan_loop_away(struct bchan *ch, uint64_t ms)
{
	ch->away_ms += ms;
	if (ch->unserved_since_ms != 0)
		ch->unserved_since_ms += ms;
}

void
bchan_close(struct bchan *ch)
{
	bprobe_stop(&ch->probe);
	if (ch->open) {
		(void)tfo_ipc_close(ch->sock, ch->name, 0);
		ch->open = 0;
	}
	for (size_t i = 0; i < ch->nctx; i++) {
		struct bctx *c = &ch->ctxs[i];
		nng_aio_stop(c->aio);
		nng_aio_free(c->aio);
		nng_ctx_close(c->ctx);
		if (c->req) {       /* still queued for the loop: see bqueue_discard */
			nng_msg_free(c->req);
			c->req = NULL;
		}
		bctx_reply_drop(c);
	}
	ch->nctx = 0;
	free(ch->ctxs);
	ch->ctxs = NULL;
	free(ch->url);
	ch->url = NULL;
}

uint8_t *
bctx_reply_buf(struct bctx *c, size_t len)
{
	bctx_reply_drop(c);
	if (nng_msg_alloc(&c->rep, len) != 0) {
		c->rep = NULL;
		return NULL;
	}
	return nng_msg_body(c->rep);
}

void
bctx_reply_drop(struct bctx *c)
{
	if (c->rep != NULL)
		nng_msg_free(c->rep);
	c->rep = NULL;
}

void
bctx_reply(struct bctx *c, const void *buf, size_t len)
{
	nng_msg *m = NULL;

	nng_msg_free(c->req);
	c->req = NULL;
	if (buf != NULL && c->rep != NULL && buf == nng_msg_body(c->rep) &&
	    len <= nng_msg_len(c->rep)) {
		m = c->rep;             /* packed in place: no copy */
		c->rep = NULL;
		nng_msg_chop(m, nng_msg_len(m) - len);
	} else if (buf == NULL || nng_msg_alloc(&m, len) != 0) {
		bctx_reply_drop(c);
		recv_next(c);
		return;
	} else {
		memcpy(nng_msg_body(m), buf, len);
		bctx_reply_drop(c);
	}
	nng_aio_set_msg(c->aio, m);
	send_reply(c);
}

void
bctx_reply_req(struct bctx *c)
{
	nng_msg *m = c->req;

	c->req = NULL;
	nng_aio_set_msg(c->aio, m);
	send_reply(c);
}
