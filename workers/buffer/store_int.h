/*
 * store_int.h - internals shared by store.c (open, meta, commit, stats) and
 * queue.c (put, drop, fetch, ack) of the buffer's LevelDB queue. Private.
 *
 * Per signal the live entries are the seqs in [head, tail) but the holes:
 * puts append at tail; acked batches are deleted once every batch before them
 * is acked, drops at the head take the head, and at the bound a role's
 * oldest entry goes wherever it is (queue.c: evict), which leaves a hole.
 * Each entry records the role that put it (value.c), and per signal and role
 * `cursor` is a lower bound of that role's live entries: an entry of role r
 * below cursor[r] is gone (its deletion may still be pending), which is how
 * a hole whose key is still on disk until the commit is told from a live
 * entry (head_info, collect). Batches in flight cover [head, next_offer) in
 * order. Entries in [ctail, tail) are staged in the pending write batch, not
 * yet on disk, and so are the deletions of [chead, head) and of `ev`: entries
 * below chead are deleted on disk.
 */
#ifndef TFO_BUFFER_STORE_INT_H
#define TFO_BUFFER_STORE_INT_H

#include <leveldb/c.h>

#include "common/logrepeat.h"
#include "workers/buffer/store.h"

enum sbatch_state {
	SB_INFLIGHT = 0,           /* handed to the exporter, no answer yet */
	SB_ACKED,                  /* delivered; deleted once it reaches the head */
	SB_NACKED,                 /* offer again at retry_at */
	SB_REOFFER,                /* exporter went away: offer again now */
};

struct sbatch {
	uint64_t id;
	uint64_t first, end;       /* seq range [first, end) */
	uint64_t count, bytes;     /* live entries and their key+value bytes */
	uint32_t rbytes[TFO_STORE_NROLE];   /* the bytes per role that put them (a
	                                     * batch holds at most 8 MiB and one entry) */
	uint32_t points;
	int state;
	uint64_t retry_at;         /* ms, SB_NACKED */
};

struct sigq {
	uint64_t head, next_offer, ctail, tail;
	uint64_t chead;            /* head as written: [chead, head) are deletes pending */
	uint64_t count, bytes;
	uint64_t rbytes[TFO_STORE_NROLE];   /* live key+value bytes per role that put them */
	uint64_t cursor[TFO_STORE_NROLE];   /* role r has no live entry below cursor[r] */
	uint64_t head_ts;          /* cached timestamp and key+value size of the head entry */
	uint64_t head_size;
	uint32_t head_points;       /* records or points of the head entry */
	uint32_t head_role;         /* the role that put it */
	int head_ts_ok;            /* 1 cached, 0 unknown */
	uint64_t compacted_to;     /* head at the last compaction of [0, head) */
	uint64_t flushed_to;       /* head at the last memtable flush or compaction */
	struct sbatch b[TFO_STORE_MAX_INFLIGHT];
	size_t nb;
};

struct dedupe {
	uint64_t incarnation, seq;
	int used;
};

/* A put staged in the pending write batch (for drops before it is on disk). */
struct staged {
	uint32_t signal;
	uint64_t seq;
	uint64_t size;
	uint64_t ts;
	uint32_t points;
	uint32_t role;
	int gone;                  /* evicted in its own group */
};

/* The next oldest entries of one role in one signal, read ahead by one scan
 * of the store (queue.c: role_first): a flood making room from its own
 * oldest past another role's entries then reads the store once per
 * STORE_VCACHE evictions, not at each. */
#define STORE_VCACHE 32
struct vcache {
	uint32_t signal, role;
	size_t n, i;
	struct {
		uint64_t seq, size, ts;
		uint32_t points;
	} e[STORE_VCACHE];
};

/* An entry evicted above the head whose deletion is not written yet: staged
 * again should the write fail (unstage_puts), like the deletions below head. */
struct evicted {
	uint32_t signal;
	uint64_t seq;
};

/* The store's room on its filesystem (space.c). */
struct space {
	uint64_t free, total;      /* bytes free for us and in all, at checked_us */
	uint64_t disk;             /* bytes of the store's files */
	uint64_t bound;            /* queue bytes the filesystem allows now */
	uint64_t checked_us;
	uint64_t scanned_us;       /* disk summed then (space.c: rescan_due) */
	uint64_t free_at_scan;     /* free then */
	uint64_t memtable;         /* LevelDB write buffer, from the filesystem's size */
	uint64_t reserve;          /* reserve file size */
	int held;                  /* the reserve file is there */
	int full;                  /* "disk full" shown */
	int low;                   /* compacting for room (logged once) */
	uint64_t last_full_us, compact_us;
};

struct tfo_store {
	leveldb_t *db;
	leveldb_options_t *opt;
	leveldb_readoptions_t *ro;
	leveldb_writeoptions_t *wo_sync, *wo_async;
	leveldb_cache_t *cache;
	leveldb_writebatch_t *wb;
	struct tfo_store_opts o;
	char *path;
	char *dir;                 /* the directory holding path (buffer.path) */
	struct sigq q[TFO_STORE_NSIG];
	struct dedupe dd[TFO_STORE_NROLE];
	struct dedupe dd_written[TFO_STORE_NROLE];   /* the table as the store holds it */
	struct staged *stg;
	size_t nstg, stgcap;
	struct evicted *ev;        /* evictions above the head not yet written */
	size_t nev, evcap;
	struct vcache vc;
	size_t npending;           /* mutations staged */
	size_t pending_bytes;      /* payload bytes staged */
	int pending_durable;       /* staged puts/checkpoints: commit must sync */
	uint8_t *scratch;          /* value being built for a put */
	size_t scratchcap;
	uint64_t next_id;
	uint64_t epoch;            /* opens of the store (EPOCH_KEY): high bits of batch ids */
	uint32_t format;           /* the format the store had when opened */
	int format_pending;        /* format and epoch keys not yet written */
	char refusal[384];         /* why a store of an unknown format was refused */
	uint32_t rr;               /* round robin for fetch of any signal */
	struct tfo_store_stats s;
	struct tfo_logrepeat gaplog;   /* puts below their incarnation's last seq */
	struct tfo_logrepeat errlog;   /* failed writes, reopens */
	struct space sp;
	int failing;               /* the last write failed: its deletions kept, retried */
	int need_reopen;           /* a write failed: reopen before the next one */
	int table_error;           /* it failed with a table write's (background) error */
	uint64_t retry_at_us;      /* next attempt while failing */
	uint32_t backoff_ms;
	uint64_t disk_at_ms;       /* store_now of the last stats refresh of sp (DISK_SCAN_MS) */
	uint64_t compact_ms;       /* store_now of the last paced compaction (or the first call) */
	uint64_t consumed;         /* key+value bytes acked or dropped since the last compaction */
	uint64_t consumed_flush;   /* the same, since the last flush of the memtable */
	uint64_t flush_min;        /* consumed_flush that gets a trickle's memtable flushed */
};

uint64_t store_now(struct tfo_store *st);
void store_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);
void store_be32(uint8_t *p, uint32_t v);
uint32_t store_get_be32(const uint8_t *p);
/* store_staged_find - the staged put (signal, seq), or NULL */
struct staged *store_staged_find(struct tfo_store *st, uint32_t signal, uint64_t seq);
uint64_t store_total_bytes(const struct tfo_store *st);
void store_held_by_role(const struct tfo_store *st, uint64_t held[TFO_STORE_NROLE]);
/* store_head_ts - timestamp of the head entry; 0 ok, 1 missing/corrupt, -1 empty */
int store_head_ts(struct tfo_store *st, uint32_t s, uint64_t *ts);
/*
 * store_share_victim - whose entries go at the bound (queue.c): of the roles
 * holding bytes (held, per role), the one holding the most, the putter
 * counted with the size bytes it puts and chosen on a tie; TFO_STORE_NROLE
 * when no role holds anything. So no role loses data to one that holds more
 * than it, and a role holding no more than an equal part of the bound keeps
 * it whoever floods.
 */
uint32_t store_share_victim(const uint64_t held[TFO_STORE_NROLE], uint32_t putter,
    uint64_t size);
/* store_scratch - a buffer of at least len bytes owned by the store, or NULL */
uint8_t *store_scratch(struct tfo_store *st, size_t len);

/* space.c - room on the filesystem, the reserve file, "disk full" */
void space_init(struct tfo_store *st);
/* space_refresh - statvfs and the store's size, at most every 200 ms unless force */
void space_refresh(struct tfo_store *st, int force);
/* space_limit - the queue's bound now: min(max_bytes, the filesystem's);
 * *disk = 1 when the filesystem's is the lower */
uint64_t space_limit(struct tfo_store *st, int *disk);
/* space_full - the filesystem's bound was met: the oldest dropped or a put held back */
void space_full(struct tfo_store *st);
/* space_release - free the reserve file (a write failed for lack of room) */
void space_release(struct tfo_store *st, const char *why);
/* space_maintain - reserve back, compaction when room runs low, status */
void space_maintain(struct tfo_store *st);
void space_status(struct tfo_store *st);
/* space_sweep_orphans - with LevelDB stopped by a table write's error (no
 * background work runs then), delete the tables its live version does not
 * hold: the outputs of the flush or compaction that failed, which only a
 * reopen would delete and which may leave it no room to reopen. Bytes freed. */
uint64_t space_sweep_orphans(struct tfo_store *st);
/* space_error - whether a LevelDB error text is a lack of room (ENOSPC, EDQUOT) */
int space_error(const char *err);
uint64_t store_disk_usage(const char *path);
/* store_log_bytes - bytes of the store's LevelDB logs (what a reopen flushes) */
uint64_t store_log_bytes(const char *path);

/* A stored value, parsed (value.c). */
struct store_value {
	uint32_t points;
	uint32_t role;             /* the role that put it; 0 before format 3 */
	int lz4;                   /* body is an LZ4 block of raw_len bytes */
	const uint8_t *body;
	size_t body_len, raw_len;
};

/*
 * store_value_encode - the value for put p (in the store's scratch, valid
 * until the next use of it) at *out; its length, 0 when out of memory or the
 * payload is over TFO_STORE_VALUE_MAX. A raw payload is compressed here when
 * that pays; an LZ4 one (compressed by the collector) is kept as it is.
 */
size_t store_value_encode(struct tfo_store *st, uint64_t ts, const struct tfo_store_put *p,
    const uint8_t **out);
/* store_value_parse - header of a stored value; -1 when it is damaged */
int store_value_parse(const uint8_t *v, size_t vl, struct store_value *sv);


#endif
