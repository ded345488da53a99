/*
 * dispatch.h - the buffer's two request handlers (tfo-buffer; also driven
 * directly by unit tests and the fuzz harness): one per nng channel, each a
 * switch on the request's oneof where every case answers.
 */
#ifndef TFO_BUFFER_DISPATCH_H
#define TFO_BUFFER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "workers/buffer/peer.h"
#include "workers/buffer/store.h"

#define BUFFER_INGEST_MAX (4u << 20)        /* largest IngestRequest accepted */
#define BUFFER_EXPORT_MAX (4u << 10)        /* largest ExportRequest accepted */
#define BUFFER_MAX_CHECKPOINTS_REPLY 2048
#define BUFFER_EXPORT_MAX_ACKS 64           /* ExportRequest.acks taken at most */

/*
 * Where an export reply is packed: malloc when none is given. tfo-buffer packs
 * into the body of the nng message it then sends as it is, so a fetched batch
 * (megabytes) is not packed and then copied. release frees buf unsent.
 */
struct buffer_reply_mem {
	uint8_t *(*alloc)(void *arg, size_t len);
	void (*release)(void *arg, uint8_t *buf);
	void *arg;
};

/* A packed IngestReply / ExportReply ready to send. */
struct buffer_reply {
	uint8_t *buf;
	size_t len;
	int after_commit;          /* send only once tfo_store_commit succeeded */
	struct buffer_reply_mem mem;
};

#define BUFFER_FORGED_LOGGED 16   /* connections whose forgeries were logged, remembered */
#define BUFFER_BAD_LOGGED 10      /* refused requests logged a minute; the rest counted */
#define BUFFER_BAD_WINDOW_MS 60000

/* Requests refused per channel (siblings sending what they should not). */
struct buffer_counters {
	uint64_t ingest_requests;  /* requests served, per channel (refused ones too) */
	uint64_t export_requests;
	uint64_t bad_ingest;
	uint64_t bad_export;
	uint64_t forged_role;      /* Put / GetCheckpoints naming a role not the peer's */
	/* the last connections a forgery was logged for: logged once per connection */
	uint32_t forged_pipes[BUFFER_FORGED_LOGGED];
	unsigned forged_next;
	/* refused requests logged in the current minute, and those not logged */
	uint64_t bad_window_ms;
	uint32_t bad_logged;
	uint64_t bad_unlogged;
};

/*
 * buffer_ingest_dispatch / buffer_export_dispatch - decode one request,
 * act on the store and fill *out. out->buf is NULL only when memory ran out
 * (the peer's REQ resends). Mutations are staged: the caller commits. mem,
 * when not NULL, is where export replies are packed (out->mem keeps it).
 * Ingest: peer is who sent it; a Put or GetCheckpoints naming a role that is
 * not among peer->roles is refused (Error), counted and logged once per
 * connection, and the store is keyed by that proven role.
 */
void buffer_ingest_dispatch(struct tfo_store *st, struct buffer_counters *c,
    const struct buffer_peer *peer, const void *req, size_t len, struct buffer_reply *out);
void buffer_export_dispatch(struct tfo_store *st, struct buffer_counters *c,
    const void *req, size_t len, const struct buffer_reply_mem *mem,
    struct buffer_reply *out);

/* buffer_reply_busy - replace *out with a Busy reply (ingest) naming its reason */
void buffer_reply_busy(struct buffer_reply *out, uint32_t retry_after_ms, const char *reason);
/* buffer_reply_error - replace *out with an Error reply (ingest or export channel) */
void buffer_reply_error(struct buffer_reply *out, int ingest, const char *msg);
void buffer_reply_free(struct buffer_reply *out);

#endif
