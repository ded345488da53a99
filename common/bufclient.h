/*
 * bufclient.h - the client side of tfo-buffer's two channels: the put client
 * the collectors use on `ingest`, and the fetch/ack/nack client the exporter
 * uses on `export`. Synchronous, one client per thread.
 *
 * Deadlines (issue 16 §2): no call waits on nng without one. Each send and
 * each wait for an answer is bounded by timeout_ms (given at open) of its
 * own, whatever the socket's options say: a send that cannot go at once is
 * an aio with that timeout, the wait for the answer this thread's poll on
 * an eventfd the receive's callback writes (an aio timeout wakes nng's
 * expire thread when it is set and again when it passes, answered or not:
 * two wake-ups a request on an idle agent, issue 18 §3); a call returns within
 *   - put, put_lz4, put_many: give_up_ms (when set) plus one timeout_ms;
 *     never returns when give_up_ms is 0 and the buffer never answers (the
 *     collectors set it; tfo-logs' put thread may wait forever by design);
 *   - fetch: 2 x timeout_ms (send, then the answer);
 *   - ack, nack, checkpoints: 3 attempts, each 2 x timeout_ms;
 * plus the close of a socket when one is replaced (see below).
 *
 * Delivery contract (DESIGN §3): a put returns TFO_OK only once the record is
 * in LevelDB. On a timeout the SAME (incarnation, seq) is sent again, until
 * the buffer answers; the buffer stores it once. It is resent on the same
 * connection while that connection is up (a buffer that is slow or stopped
 * answers it when it resumes), on the next connection when its own
 * drops (a buffer restarted; after a pause of a quarter of timeout_ms, at
 * most 250 ms, so a peer that drops every connection sees at most 4 a
 * second, not one every 10 ms), and on a fresh socket once no connection has
 * been up for 2 s or timeout_ms (nng 1.5's dialer stops for good when the buffer
 * drops a connection during the handshake; a socket closed while it connects
 * can leak or hang in nng 1.5.2, so sockets are not replaced more often than
 * that). A batch fetched is deleted only by tfo_bufclient_ack; a batch never
 * acked is offered again.
 *
 * A fetch's reply fills c->heads too when the fetch carried kept acks.
 */
#ifndef TFO_BUFCLIENT_H
#define TFO_BUFCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/payload.h"   /* a fetched Batch's payloads: tfo_payloads_of */
#include "tfo/v1/tfo.pb-c.h"

#define TFO_BUFCLIENT_FETCH_MAX (8u << 20)   /* tfo-buffer's largest batch */
#define TFO_BUFCLIENT_REPLY_MAX (16u << 20)  /* reply size cap on both channels */
#define TFO_BUFCLIENT_NSIG 3                 /* index = Tfo__V1__Signal */
#define TFO_BUFCLIENT_ACKS_MAX 64            /* acks one request carries (tfo-buffer's cap) */

struct tfo_bufclient {
	nng_socket s;
	int open;
	nng_aio *aio;               /* every send, with its deadline when it waits */
	nng_aio *raio;              /* every receive: its callback writes wake_fd */
	int wake_fd;                /* eventfd: an answer (or the receive's end) came */
	int wake_open;
	struct tfo_ipc_policy pol;  /* the buffer's uid: a listener run by another is refused */
	char polname[64];           /* pol's name in its log lines */
	int ingest;                 /* ingest channel: a put resends until answered */
	char *url;
	int timeout_ms;
	Tfo__V1__Role role;
	uint64_t incarnation;
	uint64_t seq;               /* last seq assigned to a put */
	uint32_t give_up_ms;        /* put: stop resending after this long (0 = never) */
	unsigned ack_attempts;      /* ack/nack: tries, each on a fresh socket (0 = 3) */
	uint32_t retry_after_ms;    /* set when a put answered Busy */
	uint64_t resends;           /* puts sent again after a timeout or a drop */
	uint64_t redials;           /* sockets replaced (no connection up for timeout_ms) */
	uint64_t drops;             /* resends after the connection dropped (each paused) */
	int dropped;                /* the last attempt ended with its connection dropped */
	char error[256];            /* the buffer's text of the last Error, or Busy's reason */
	/* the last Done: per signal, every entry below is deleted for good
	 * (heads_known 0 when that Done carried none) */
	uint64_t heads[TFO_BUFCLIENT_NSIG];
	int heads_known;
	/* acks kept for the next export request (tfo_bufclient_ack_later) */
	uint64_t acks_due[TFO_BUFCLIENT_ACKS_MAX];
	size_t n_acks_due;
};

/*
 * tfo_bufclient_open_ingest - dial ingest_url as `role` of this spawn
 * `incarnation` (the supervisor's WorkerConfig.incarnation). timeout_ms is the
 * wait for each answer before the put is sent again. buffer_uid
 * (WorkerConfig.buffer_uid): a socket served by any other uid is refused at
 * connect (logged), as if the buffer were down: nothing is sent to it.
 */
enum tfo_err tfo_bufclient_open_ingest(struct tfo_bufclient *c, const char *url,
    Tfo__V1__Role role, uint64_t incarnation, int timeout_ms, uint32_t buffer_uid);
/* tfo_bufclient_open_export - dial export_url (the exporter); buffer_uid as above. */
enum tfo_err tfo_bufclient_open_export(struct tfo_bufclient *c, const char *url,
    int timeout_ms, uint32_t buffer_uid);
void tfo_bufclient_close(struct tfo_bufclient *c);

/*
 * tfo_bufclient_put - store one encoded ResourceMetrics / ResourceLogs
 * (`points` data points or log records) with the log checkpoints it covers,
 * written in the same batch. Returns TFO_OK once durable; TFO_EAGAIN when the
 * buffer is full and block_when_full was set (wait c->retry_after_ms, then put
 * again); TFO_EINVAL when refused (c->error says why); TFO_ETIMEDOUT only
 * after give_up_ms; TFO_EVERSION / TFO_EPROTO on a bad answer.
 */
enum tfo_err tfo_bufclient_put(struct tfo_bufclient *c, Tfo__V1__Signal signal,
    const void *payload, size_t len, uint32_t points,
    Tfo__V1__Checkpoint *const *checkpoints, size_t n, int block_when_full);
/* tfo_bufclient_put_lz4 - tfo_bufclient_put of a payload compressed by the
 * caller into one LZ4 block that inflates to raw_len bytes */
enum tfo_err tfo_bufclient_put_lz4(struct tfo_bufclient *c, Tfo__V1__Signal signal,
    const void *block, size_t len, size_t raw_len, uint32_t points,
    Tfo__V1__Checkpoint *const *checkpoints, size_t n, int block_when_full);

/* One payload of tfo_bufclient_put_many. */
struct tfo_bufclient_item {
	const void *payload;
	size_t len;
	uint32_t points;
};

#define TFO_BUFCLIENT_MAX_ITEMS 4097   /* per put_many: tfo-buffer takes 1 + 4096 */

/*
 * tfo_bufclient_put_many - store n (>= 1) payloads of one signal as n
 * entries in one write batch: one fsync, all or none. For a collector cycle
 * that yields a resource per object (a process each). Returns as
 * tfo_bufclient_put; no checkpoints, never block_when_full.
 */
enum tfo_err tfo_bufclient_put_many(struct tfo_bufclient *c, Tfo__V1__Signal signal,
    const struct tfo_bufclient_item *items, size_t n);

/* tfo_bufclient_checkpoints - the stored checkpoints of role (free with
 * tfo__v1__ingest_reply__free_unpacked(*holder)). */
enum tfo_err tfo_bufclient_checkpoints(struct tfo_bufclient *c, Tfo__V1__Role role,
    Tfo__V1__IngestReply **holder, const Tfo__V1__Checkpoints **out);

/*
 * tfo_bufclient_fetch - the next batch (signal 0 = any, max_bytes 0 = the
 * buffer's default). TFO_OK: *out is the batch, owned by *holder (free with
 * tfo__v1__export_reply__free_unpacked). TFO_ENOENT: nothing to send now.
 * On a timeout the connection is redialled, so the buffer offers every batch
 * in flight again, and TFO_ETIMEDOUT is returned.
 */
enum tfo_err tfo_bufclient_fetch(struct tfo_bufclient *c, Tfo__V1__Signal signal,
    uint32_t max_bytes, Tfo__V1__ExportReply **holder, const Tfo__V1__Batch **out);
/* tfo_bufclient_ack - the batch was delivered: the buffer deletes it (an id
 * it does not know is answered Done too). ack and nack fill c->heads. */
enum tfo_err tfo_bufclient_ack(struct tfo_bufclient *c, uint64_t id);
/* tfo_bufclient_nack - delivery failed: offer the batch again after retry_after_ms. */
enum tfo_err tfo_bufclient_nack(struct tfo_bufclient *c, uint64_t id, uint32_t retry_after_ms);
/*
 * tfo_bufclient_ack_later - the batch was delivered: its ack rides on the
 * next export request (fetch, ack, nack: ExportRequest.acks), not a request
 * of its own; -1 when TFO_BUFCLIENT_ACKS_MAX are kept already (ack it now).
 * An idle exporter's ack then costs nothing until its next flush's fetch
 * (issue 18 §3). Kept acks are lost with the process: those batches are
 * offered again to the next exporter, as a batch in flight is.
 */
int tfo_bufclient_ack_later(struct tfo_bufclient *c, uint64_t id);
/* tfo_bufclient_acks_send - send the kept acks now (one Ack request), as
 * tfo_bufclient_ack; TFO_OK when none are kept */
enum tfo_err tfo_bufclient_acks_send(struct tfo_bufclient *c);

#endif
