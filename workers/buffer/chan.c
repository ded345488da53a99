/*
 * chan.c - tfo-buffer's nng REP channels bridged to the libevent loop (see
 * chan.h). nng callbacks only move messages and signal the eventfd; every
 * store access happens on the loop thread.
 */
#include "workers/buffer/chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/rep.h>

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

/* peer_of - who sent msg: read from its connection now, once, on the nng
 * thread; -1 when the connection is already gone (nobody to answer) */
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
	peer->roles = tfo_ipc_policy_roles(&ch->pol, peer->uid);
	return 0;
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
			nng_ctx_recv(c->ctx, c->aio);
			return;
		}
		c->req = nng_aio_get_msg(c->aio);
		if (peer_of(c->ch, c->req, &c->peer) != 0) {
			nng_msg_free(c->req);
			c->req = NULL;
			nng_ctx_recv(c->ctx, c->aio);
			return;
		}
		c->state = CTX_WAIT;
		bqueue_push(c->ch->q, c);
		return;
	case CTX_SEND:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(c->aio));
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			c->state = CTX_DEAD;
			return;
		}
		c->state = CTX_RECV;
		nng_ctx_recv(c->ctx, c->aio);
		return;
	default:
		return;
	}
}

/* pipe_gone - nng thread: an exporter connection closed; the loop decides
 * whether it held the batches in flight */
static void
pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct bqueue *q = arg;
	int id = nng_pipe_id(p);

	(void)ev;
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
	c->state = CTX_RECV;
	nng_ctx_recv(c->ctx, c->aio);
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
	tfo_ipc_policy_init(&ch->pol, name);
	for (size_t i = 0; i < nuids; i++)
		if (roles != NULL)
			tfo_ipc_policy_allow_role(&ch->pol, uids[i], roles[i]);
		else
			tfo_ipc_policy_allow(&ch->pol, uids[i]);
	if ((ch->ctxs = calloc(nctx, sizeof(*ch->ctxs))) == NULL)
		return NNG_ENOMEM;
	/* Before the listener starts, so no pipe is missed. */
	if ((rv = tfo_ipc_rep_listen(&ch->sock, url, maxsz, 0660, &ch->pol)) != 0)
		return rv;
	ch->open = 1;
	if (watch_peers &&
	    (rv = nng_pipe_notify(ch->sock, NNG_PIPE_EV_REM_POST, pipe_gone, q)) != 0)
		return rv;
	for (size_t i = 0; i < nctx; i++, ch->nctx++)
		if ((rv = ctx_start(ch, &ch->ctxs[i])) != 0)
			return rv;
	return 0;
}

void
bchan_close(struct bchan *ch)
{
	if (ch->open) {
		nng_close(ch->sock);
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
		c->state = CTX_RECV;
		nng_ctx_recv(c->ctx, c->aio);
		return;
	} else {
		memcpy(nng_msg_body(m), buf, len);
		bctx_reply_drop(c);
	}
	nng_aio_set_msg(c->aio, m);
	c->state = CTX_SEND;
	nng_ctx_send(c->ctx, c->aio);
}

void
bctx_reply_req(struct bctx *c)
{
	nng_msg *m = c->req;

	c->req = NULL;
	nng_aio_set_msg(c->aio, m);
	c->state = CTX_SEND;
	nng_ctx_send(c->ctx, c->aio);
}
