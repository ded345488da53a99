/*
 * store.h - the buffer's durable FIFO queue on LevelDB (tfo-buffer process;
 * also linked by unit tests, fuzz harness and bench as tfo_buffer_store).
 *
 * Keys: "q/<signal digit>/" + seq big-endian u64 -> [ts_ms u64 BE][points u32 BE][payload]
 *       (payload possibly LZ4: see value.c)
 *       "c/<role>/<file_id>"                       -> packed tfo.v1.Checkpoint
 *       "m"                                        -> meta: head/tail/count/bytes per
 *                                                     signal + dedupe table
 * Every mutation is staged in one pending write batch (group commit) and made
 * durable by tfo_store_commit(), which also writes the meta key in that batch.
 * Not thread-safe: one caller (the worker's event loop) owns the store.
 */
#ifndef TFO_BUFFER_STORE_H
#define TFO_BUFFER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/payload.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_STORE_FORMAT 3         /* store format written; 1..this are read (docs/buffer.md) */
#define TFO_STORE_NSIG 3           /* index = Tfo__V1__Signal; 0 unused */
#define TFO_STORE_NROLE 8          /* index = Tfo__V1__Role; 0: put before format 3 (unattributed) */
#define TFO_STORE_POINTS_MAX 0x0fffffffu   /* per payload: the points word keeps the role above */
#define TFO_STORE_HDR 12           /* ts_ms u64 + points u32 before each payload */
#define TFO_STORE_BLOCK (64u << 10)   /* LevelDB table block size (store.c) */
#define TFO_STORE_KEYLEN 12        /* "q/1/" + 8 bytes */
#define TFO_STORE_VALUE_MAX TFO_PAYLOAD_RAW_MAX  /* largest payload stored (ingest takes 4 MiB) */
#define TFO_STORE_MAX_CHECKPOINTS 256  /* per Put */
#define TFO_STORE_MAX_MORE 4096        /* further payloads per Put (Put.more) */
#define TFO_STORE_MAX_FILE_ID 512
#define TFO_STORE_MAX_BATCH_ENTRIES 4096
#define TFO_STORE_DEFAULT_FETCH (1u << 20)
#define TFO_STORE_MAX_FETCH (8u << 20)
#define TFO_STORE_MAX_INFLIGHT 64  /* batches fetched and not yet acked, per signal */
#define TFO_STORE_BUSY_RETRY_MS 500
#define TFO_STORE_MAX_NACK_MS (5u * 60 * 1000)

enum tfo_drop_reason {
	TFO_DROP_SIZE = 0,         /* max_size_mb reached: oldest dropped */
	TFO_DROP_AGE,              /* older than max_age */
	TFO_DROP_CORRUPT,          /* unreadable entry skipped */
	TFO_DROP_DISK,             /* the filesystem's bound reached: oldest dropped */
	TFO_DROP_NREASONS,
};

struct tfo_store_opts {
	const char *path;          /* LevelDB directory */
	uint64_t max_bytes;        /* queued key+value bytes; 0 = unbounded */
	uint64_t max_age_ms;       /* 0 = no age bound */
	int sync;                  /* fsync every commit */
	/* Wall clock in ms (persisted timestamps); NULL = CLOCK_REALTIME. Tests inject. */
	uint64_t (*now_ms)(void *arg);
	void *now_arg;
	/* The reserve file (docs/buffer.md "A full disk"); NULL = none. */
	const char *reserve_path;
	/* Free bytes and size of the store's filesystem; NULL = statvfs. Tests inject. */
	int (*statfs)(void *arg, uint64_t *free, uint64_t *total);
	void *statfs_arg;
	/* Tests: the error a write fails with instead of being made (NULL = none):
	 * LevelDB's C API has no fault-injecting environment. */
	const char *(*write_fault)(void *arg);
	void *write_fault_arg;
};

/* One further payload of a Put (raw), stored as an entry of its own. */
struct tfo_store_item {
	const void *payload;
	size_t len;
	uint32_t points;
};

/* One Put, as decoded from IngestRequest.put (pointers borrowed for the call). */
struct tfo_store_put {
	uint32_t role;
	uint64_t incarnation;
	uint64_t seq;
	uint32_t signal;
	const void *payload;
	size_t len;
	int lz4;                   /* payload is an LZ4 block of raw_len bytes */
	size_t raw_len;
	uint32_t points;
	Tfo__V1__Checkpoint *const *checkpoints;
	size_t ncheckpoints;
	int block_when_full;
	const struct tfo_store_item *more;   /* stored after payload, same batch */
	size_t nmore;
};

enum tfo_put_result {
	TFO_PUT_STAGED = 0,        /* in the pending batch: answer PutOk after commit */
	TFO_PUT_DUP,               /* resent duplicate: answer PutOk after commit */
	TFO_PUT_BUSY,              /* full and block_when_full, or the store failing: Busy now */
	TFO_PUT_INVALID,           /* bad role/signal/size/checkpoint: answer Error now */
};

/* A fetched batch: entries point into one owned blob. Free with tfo_store_batch_free. */
struct tfo_store_batch {
	uint64_t id;
	uint32_t signal;
	uint32_t points;
	size_t n;
	const uint8_t **data;
	size_t *len;
	uint32_t *raw_lens;        /* per entry: 0 as it is, else an LZ4 block of this many bytes */
	uint64_t *seqs;            /* per entry: its seq in the signal's queue */
	uint32_t *points_each;     /* per entry: its points */
	uint8_t *blob;
	int rest_empty;            /* a fetch now would find nothing else to offer */
};

struct tfo_store_stats {
	uint64_t entries[TFO_STORE_NSIG];
	uint64_t bytes[TFO_STORE_NSIG];
	double oldest_age_s;       /* of the oldest queued entry; 0 when empty */
	double oldest_age_sig_s[TFO_STORE_NSIG];    /* the same per signal */
	uint64_t puts, dup_puts, busy, points_in;
	uint64_t dup_gaps;         /* "duplicates" below their incarnation's last seq */
	uint64_t fetches, acks, nacks, reoffers;
	uint64_t commits, commit_errors;
	uint64_t reopens;          /* LevelDB reopened in place after a failed write */
	uint64_t orphans_removed;  /* tables of a failed flush/compaction deleted before a reopen */
	uint64_t disk_scans;       /* walks of the store's directory (space.c) */
	uint64_t sticky_errors;    /* writes failed with a table write's error (healed by reopen) */
	uint64_t reserve_releases;
	uint64_t room_compactions; /* consumed range compacted early: room ran low */
	uint64_t compactions;      /* compactions of a consumed range, room's included */
	uint64_t flushes;          /* the memtable flushed alone (a trickle consumed) */
	uint64_t fs_free, fs_bound;    /* bytes free on the filesystem; the queue bound it allows */
	int reserve_held;
	int failing;               /* writes failing: pending kept and retried */
	char status[256];          /* "disk full at <dir> (N MiB free), dropping oldest", or "" */
	char last_error[256];      /* LevelDB's text of the last failed write */
	uint64_t drops[TFO_STORE_NSIG][TFO_DROP_NREASONS];
	/* what the dropped entries held (log records, metric points), and the part
	 * of it dropped from batches already handed to the exporter (those arrive
	 * if that delivery succeeds) */
	uint64_t drop_points[TFO_STORE_NSIG], drop_points_in_flight[TFO_STORE_NSIG];
	/* per putting role (0: entries of a store before format 3): key+value
	 * bytes queued, and entries dropped (any reason but delivery) */
	uint64_t role_bytes[TFO_STORE_NROLE], role_drops[TFO_STORE_NROLE];
	uint64_t disk_bytes;
	uint64_t lz4_raw, lz4_stored;  /* payload bytes compressed, and what they became */
	uint64_t last_sync_us;
	uint32_t format_opened;    /* the store's format when opened (< TFO_STORE_FORMAT: migrated) */
	uint64_t quarantines;
	char quarantine[384];      /* last quarantine event, "" if none */
};

struct tfo_store;

/*
 * tfo_store_open - open (creating) the store with paranoid checks. A store
 * that will not open (other than a held lock) is renamed <path>.corrupt-<time>,
 * repaired in place there, and a fresh store is opened; the event is kept for
 * stats. Returns NULL with *err set (TFO_EAGAIN: locked by another process,
 * or no room on its filesystem even with the reserve given back: see
 * tfo_store_no_room; TFO_EVERSION: a format newer than TFO_STORE_FORMAT,
 * refused and left as it is). errbuf (may be NULL) receives the one-line
 * reason on failure. A store of an older format is migrated in place.
 */
struct tfo_store *tfo_store_open(const struct tfo_store_opts *o, enum tfo_err *err,
    char *errbuf, size_t errlen);

/* tfo_store_no_room - whether tfo_store_open's reason is a lack of room
 * (ENOSPC, EDQUOT): LevelDB writes a table of its log and a new MANIFEST at
 * every open, so a full disk keeps a store from opening until room returns */
int tfo_store_no_room(const char *reason);
void tfo_store_close(struct tfo_store *st);

/* tfo_store_put - validate, dedupe, apply bounds and stage one put. */
enum tfo_put_result tfo_store_put(struct tfo_store *st, const struct tfo_store_put *p,
    const char **why);

/* tfo_store_pending - mutations staged since the last commit (0 = nothing to write). */
size_t tfo_store_pending(const struct tfo_store *st);
/* tfo_store_pending_bytes - payload bytes staged since the last commit. */
size_t tfo_store_pending_bytes(const struct tfo_store *st);

/*
 * tfo_store_commit - write the pending batch (+ meta) in one LevelDB write,
 * synced when opts.sync. A failed write heals itself at once if it can: the
 * reserve released (lack of room), LevelDB reopened in place (a sticky
 * background error cleared, a torn last record dropped), the write retried.
 * If it still fails, nothing is undone: the pending batch is kept (memory is
 * the store plus it), TFO_EIO is returned, and tfo_store_retry writes it
 * later; an acked batch stays acked (never offered again); the group's puts
 * are taken back (answered Busy, their resends are new puts). While failing
 * and before the retry is due: TFO_EAGAIN, nothing tried. With nothing
 * pending it still reopens a store a failed write left to reopen (call it
 * from a timer: tfo_store_retry_ms).
 */
enum tfo_err tfo_store_commit(struct tfo_store *st, char *errbuf, size_t errlen);
/* tfo_store_retry_ms - ms until a failing store's next write attempt; -1 when not failing */
int64_t tfo_store_retry_ms(const struct tfo_store *st);
/* tfo_store_maintain - room: the reserve back, compaction when low, status (timer) */
void tfo_store_maintain(struct tfo_store *st);
/* tfo_store_status - "disk full at <dir> (N MiB free), dropping oldest", else the
 * last write error, else "" */
const char *tfo_store_status(struct tfo_store *st);
/* tfo_store_disk_status - "disk full at <dir> (N MiB free), dropping oldest" or "":
 * the stat "status" and the Pong's status (the supervisor's STATUS= line) */
const char *tfo_store_disk_status(const struct tfo_store *st);
/* tfo_store_busy_reason - why puts are not taken now ("" when they are) */
const char *tfo_store_busy_reason(struct tfo_store *st);

/*
 * tfo_store_fetch - next batch for signal (0 = any, round robin), at most
 * max_bytes (0 = default; at least one entry). Re-offers a nacked batch once
 * its delay has passed, and holds newer data back meanwhile (FIFO).
 * TFO_ENOENT = nothing to offer now.
 */
enum tfo_err tfo_store_fetch(struct tfo_store *st, uint32_t signal, uint32_t max_bytes,
    struct tfo_store_batch *out);
void tfo_store_batch_free(struct tfo_store_batch *b);

/* tfo_store_ack - the batch was delivered: stage its deletion. TFO_ENOENT if unknown. */
enum tfo_err tfo_store_ack(struct tfo_store *st, uint64_t id);
/* tfo_store_nack - offer the batch again after retry_after_ms. TFO_ENOENT if unknown. */
enum tfo_err tfo_store_nack(struct tfo_store *st, uint64_t id, uint32_t retry_after_ms);
/* tfo_store_committed_head - every entry of signal below this seq is deleted
 * on disk: no run of the store offers it again (0 for an unknown signal) */
uint64_t tfo_store_committed_head(const struct tfo_store *st, uint32_t signal);
/* tfo_store_reoffer_all - the exporter went away: every batch in flight is offered again. */
void tfo_store_reoffer_all(struct tfo_store *st);

/*
 * tfo_store_checkpoints - the committed log checkpoints of role (at most
 * `max`). *out is an array of unpacked messages: free with
 * tfo_store_checkpoints_free.
 */
enum tfo_err tfo_store_checkpoints(struct tfo_store *st, uint32_t role, size_t max,
    Tfo__V1__Checkpoint ***out, size_t *n);
void tfo_store_checkpoints_free(Tfo__V1__Checkpoint **cps, size_t n);

/* tfo_store_expire - stage drops of entries older than max_age. Returns drops staged. */
size_t tfo_store_expire(struct tfo_store *st);
/* tfo_store_flush_logs - report repeats of a warning logged once a burst (timer) */
void tfo_store_flush_logs(struct tfo_store *st);
/* tfo_store_compact - compact the consumed key range of each signal if it grew. */
void tfo_store_compact(struct tfo_store *st);
/*
 * tfo_store_compact_paced - the periodic flush of LevelDB's memtable, and
 * compaction of the consumed ranges (tfo_store_compact) once half a MiB or
 * more was consumed since the last (less: the memtable flushed alone, counted
 * in flushes, once TFO_STORE_FLUSH_MIN was consumed since the last flush;
 * tfo_store_set_flush_min changes that, for tests): due period_ms after the
 * last one, it waits for a moment
 * nothing is queued, so the memtable it flushes and the tables it merges hold
 * only consumed entries and nothing live is written again; with entries
 * always queued it runs one period late. Nothing consumed since the last:
 * nothing to do. Call it after each commit and from the timer. 1 when it
 * flushed or compacted now.
 */
int tfo_store_compact_paced(struct tfo_store *st, uint64_t period_ms);
#define TFO_STORE_FLUSH_MIN (256u << 10)
void tfo_store_set_flush_min(struct tfo_store *st, uint64_t bytes);

void tfo_store_get_stats(struct tfo_store *st, struct tfo_store_stats *s);
const char *tfo_store_drop_reason_name(enum tfo_drop_reason r);

/* Key encoding, exposed for tests: buf must hold TFO_STORE_KEYLEN bytes. */
void tfo_store_key(uint8_t *buf, uint32_t signal, uint64_t seq);
int tfo_store_key_parse(const void *key, size_t len, uint32_t *signal, uint64_t *seq);

#endif
