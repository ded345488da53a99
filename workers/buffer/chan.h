/*
 * chan.h - tfo-buffer's nng REP channels: several contexts per socket receive
 * concurrently on nng's threads; completed requests are queued and an eventfd
 * wakes the libevent loop, which owns the store and answers them.
 */
#ifndef TFO_BUFFER_CHAN_H
#define TFO_BUFFER_CHAN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "common/ipc.h"
#include "workers/buffer/peer.h"
#include "workers/buffer/probe.h"

#define BCHAN_SEND_MS 2000         /* a reply not sent within this: its connection is closed */
#define BCHAN_PROBE_MS 2000        /* each step of a health probe */
/* a channel where nobody came or left: probed this often (bchan_health).
 * Only a peer that connects needs the listener, and one that left or was
 * refused triggers a probe at the next ping; this bounds the one stop no
 * peer's coming or going shows (docs/buffer.md). Each probe is a fresh
 * socket, connection, handshake and a closing thread on both channels:
 * once a minute they were a tenth of an idle buffer's CPU. */
#define BCHAN_PROBE_IDLE_MS 300000

struct bqueue;
struct bchan;

/* One REP context: a request in flight between nng and the loop. */
struct bctx {
	struct bchan *ch;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *req;              /* received, waiting for the loop */
	nng_msg *rep;              /* a reply packed in place (bctx_reply_buf) */
	struct buffer_peer peer;   /* of req, read when it arrived */
	nng_pipe pipe;             /* req's connection: closed when its reply cannot go */
	int state;
	struct bctx *next;
};

/* What a channel counts (bchan_counters). */
struct bchan_counters {
	uint64_t refused;          /* connections refused (peer uid not allowed) */
	uint64_t send_timeouts;    /* replies not sent within BCHAN_SEND_MS */
	uint64_t relistens;        /* listeners replaced: they had stopped accepting */
	uint64_t probes_failed;    /* health probes not answered */
	uint64_t probes;           /* health probes sent */
};

struct bchan {
	const char *name;
	int ingest;                /* 1 ingest, 0 export */
	nng_socket sock;
	int open;
	nng_listener l;
	char *url;
	size_t maxsz;
	struct tfo_ipc_policy pol;
	struct bctx *ctxs;
	size_t nctx;
	struct bqueue *q;
	/* health (loop thread), and counters the nng threads add to (atomic) */
	struct bprobe probe;
	uint64_t unserved_since_ms; /* the first probe not answered since one was; 0: none */
	uint32_t probe_pipe;       /* the last probe's connection (nng pipe id) */
	uint64_t probe_ok_ms;      /* when the last probe was judged answered; 0: never */
	uint64_t rejected_seen;    /* bchan_refused at the last probe's start */
	uint64_t away_ms;          /* the loop held by the disk, in all (bchan_loop_away) */
	uint64_t probe_away_ms;    /* away_ms at the last probe's start */
	int watch_peers;           /* report export pipe removals through bqueue.gone */
	int peer_left;             /* a peer's connection closed since the last probe (atomic) */
	uint64_t send_timeouts, relistens, probes_failed, probes;
};

#define BQUEUE_GONE_MAX 8

/* Requests ready for the loop, and "an exporter connection went away" events. */
struct bqueue {
	pthread_mutex_t mu;
	struct bctx *head, *tail;
	int efd;                   /* eventfd: readable when something was queued */
	/* export pipes closed since the last take (nng pipe ids; 0 = more were
	 * lost than fit: any of them) */
	uint32_t gone[BQUEUE_GONE_MAX];
	size_t ngone;
};

int bqueue_init(struct bqueue *q);
void bqueue_fini(struct bqueue *q);
/* bqueue_take - every queued request (a list by ->next), and the export pipes
 * closed since the last take: gone[BQUEUE_GONE_MAX], *ngone of them */
struct bctx *bqueue_take(struct bqueue *q, uint32_t *gone, size_t *ngone);
/* bctx_pipe - the id of the connection a queued request came on (0 unknown) */
uint32_t bctx_pipe(const struct bctx *c);
/* bctx_peer - who sent the queued request (its connection's peer) */
const struct buffer_peer *bctx_peer(const struct bctx *c);
/* bqueue_discard - forget queued requests (their channels are closed) */
void bqueue_discard(struct bqueue *q);

/*
 * bchan_open - listen on url (REP, mode 0660, RECVMAXSZ maxsz) for peers with
 * the given uids, each speaking as roles[i] (a Tfo__V1__Role; roles may be
 * NULL: no role), and start nctx receiving contexts. A request whose
 * connection is gone before it could be read is dropped unanswered.
 * watch_peers: report pipe removals through bqueue.gone. Returns 0 or an nng error.
 */
int bchan_open(struct bchan *ch, struct bqueue *q, const char *name, int ingest,
    const char *url, size_t maxsz, const uint32_t *uids, const uint32_t *roles,
    size_t nuids, size_t nctx, int watch_peers);
/* bchan_refused - connections refused so far (peer uid not allowed) */
uint64_t bchan_refused(const struct bchan *ch);
/* bchan_counters - what the channel counted so far */
void bchan_counters(const struct bchan *ch, struct bchan_counters *out);
/*
 * bchan_health - at each health ping (loop thread): judge the probe sent at
 * the last one and send the next when one is wanted: while the last was not
 * answered, after a peer's connection closed or a peer was refused (someone
 * will connect: the listener must take it), and every BCHAN_PROBE_IDLE_MS.
 * A probe whose connection came up but that the listener never took (nng
 * 1.5.2's accept loop dead) gets the listener replaced. Returns how long the
 * channel has served no new connection (0: it does, or nothing is known
 * yet), with why in why (a line for status).
 */
uint64_t bchan_health(struct bchan *ch, uint64_t now_ms, char *why, size_t len);
/*
 * bchan_loop_away - the loop was held for ms (a commit's fsync on a slow
 * disk, a compaction): the requests holding the channel's contexts waited
 * for the loop, not for the listener, so a probe that failed across that
 * time proves nothing (it is sent again) and a stall already counted does
 * not count that time. The supervisor sees such a wait itself
 * (supervisor/diskwait.c); killed as "stalled" for it, the buffer was
 * restarted onto the same slow disk.
 */
void bchan_loop_away(struct bchan *ch, uint64_t ms);
/*
 * bchan_close - close the socket, stop every context and free the requests
 * still queued (idempotent). Once every channel of a queue is closed, call
 * bqueue_discard before the queue is read again.
 */
void bchan_close(struct bchan *ch);

/*
 * bctx_reply - answer the context's request with buf and receive the next
 * one: sent as it is when buf is the body bctx_reply_buf gave, else copied.
 * buf NULL: no answer (the peer's REQ resends after its timeout).
 */
void bctx_reply(struct bctx *c, const void *buf, size_t len);
/* bctx_reply_buf - len bytes to pack the reply into, in place (NULL: no memory) */
uint8_t *bctx_reply_buf(struct bctx *c, size_t len);
/* bctx_reply_drop - free the bctx_reply_buf memory unsent */
void bctx_reply_drop(struct bctx *c);
/* bctx_reply_req - answer with the request message itself, its body replaced by the caller */
void bctx_reply_req(struct bctx *c);

#endif
