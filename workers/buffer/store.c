/*
 * store.c - the buffer's LevelDB store (tfo-buffer): open with paranoid checks
 * and quarantine of a store that will not open, the meta key, group commit,
 * and stats. Queue operations are in queue.c, room and compaction in space.c,
 * the helpers they all use in storeutil.c.
 */
#include "workers/buffer/store_int.h"

#define RETRY_MIN_MS 100           /* a failing store's write retried after this, doubling */
#define RETRY_MAX_MS 5000
#define REOPEN_SLACK (1u << 20)    /* a new MANIFEST, log and info log beside the flush */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define META_KEY "m"
#define META_MAGIC 0x54464f51u     /* "TFOQ" */
#define META_VERSION 2u            /* 1: formats 1 and 2, without bytes per role */
#define META_SIG_LEN 32            /* head, tail, count, bytes */
#define META_ROLE_LEN 17           /* incarnation, seq, used */
#define META_V1_LEN (8 + (TFO_STORE_NSIG - 1) * META_SIG_LEN + TFO_STORE_NROLE * META_ROLE_LEN)
#define META_RB_LEN ((TFO_STORE_NSIG - 1) * TFO_STORE_NROLE * 8)   /* bytes per signal, role */
#define META_LEN (META_V1_LEN + META_RB_LEN)
#define FORMAT_KEY "v"             /* format: magic + version; every future format keeps it */
#define FORMAT_MAGIC 0x54464f56u   /* "TFOV" */
#define FORMAT_LEN 8
#define EPOCH_KEY "e"              /* opens of the store: the high bits of batch ids */
#define EPOCH_BITS 24
#define EPOCH_FALLBACK (1u << (EPOCH_BITS - 1))  /* set on an epoch not written (random) */

/* ------------------------------------------------------------------ helpers */

static uint64_t
realtime_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
mono_us(void)
{
	return tfo_mono_ns() / 1000;
}

static void
copy_err(char *buf, size_t len, const char *msg)
{
	if (buf && len)
		snprintf(buf, len, "%s", msg ? msg : "");
}

/* set_text - format a status text; a long one is cut, which is fine for status */
static void __attribute__((format(printf, 3, 4)))
set_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ meta */

static void
meta_encode(const struct tfo_store *st, uint8_t *m)
{
	uint8_t *p = m;

	store_be32(p, META_MAGIC);
	store_be32(p + 4, META_VERSION);
	p += 8;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++, p += META_SIG_LEN) {
		store_be64(p, st->q[s].head);
		store_be64(p + 8, st->q[s].tail);
		store_be64(p + 16, st->q[s].count);
		store_be64(p + 24, st->q[s].bytes);
	}
	for (int r = 0; r < TFO_STORE_NROLE; r++, p += META_ROLE_LEN) {
		store_be64(p, st->dd[r].incarnation);
		store_be64(p + 8, st->dd[r].seq);
		p[16] = (uint8_t)(st->dd[r].used != 0);
	}
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		for (int r = 0; r < TFO_STORE_NROLE; r++, p += 8)
			store_be64(p, st->q[s].rbytes[r]);
}

/*
 * meta_decode - the meta key of version 2, or of version 1 (formats 1 and 2,
 * before entries recorded their role): what such a store holds was put by no
 * role it knows, and counts as role 0's (unattributed: the values say role 0
 * too), so it is shared at the bound as one more role's, oldest first.
 */
static int
meta_decode(struct tfo_store *st, const uint8_t *m, size_t len)
{
	const uint8_t *p = m + 8;
	uint32_t ver;

	if (len < 8 || store_get_be32(m) != META_MAGIC)
		return -1;
	ver = store_get_be32(m + 4);
	if (!(ver == META_VERSION && len == META_LEN) && !(ver == 1 && len == META_V1_LEN))
		return -1;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++, p += META_SIG_LEN) {
		struct sigq *q = &st->q[s];
		q->head = store_get_be64(p);
		q->tail = store_get_be64(p + 8);
		q->count = store_get_be64(p + 16);
		q->bytes = store_get_be64(p + 24);
		if (q->head > q->tail || q->count > q->tail - q->head)
			return -1;
	}
	for (int r = 0; r < TFO_STORE_NROLE; r++, p += META_ROLE_LEN) {
		st->dd[r].incarnation = store_get_be64(p);
		st->dd[r].seq = store_get_be64(p + 8);
		st->dd[r].used = p[16] != 0;
	}
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		struct sigq *q = &st->q[s];
		if (ver == 1) {
			q->rbytes[0] = q->bytes;
			continue;
		}
		for (int r = 0; r < TFO_STORE_NROLE; r++, p += 8)
			q->rbytes[r] = store_get_be64(p);
	}
	return 0;
}

/* meta_rebuild - no usable meta key: recount the queue from its keys */
static int
meta_rebuild(struct tfo_store *st, char **err)
{
	leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ro);
	int seen[TFO_STORE_NSIG] = { 0 };
	struct store_value sv;

	memset(st->q, 0, sizeof(st->q));
	memset(st->dd, 0, sizeof(st->dd));
	for (leveldb_iter_seek(it, "q/", 2); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl);
		uint32_t s;
		uint64_t seq;

		(void)leveldb_iter_value(it, &vl);
		if (kl < 2 || memcmp(k, "q/", 2) != 0)
			break;
		if (tfo_store_key_parse(k, kl, &s, &seq) != 0)
			continue;
		if (!seen[s]++)
			st->q[s].head = seq;
		st->q[s].tail = seq + 1;
		st->q[s].count++;
		st->q[s].bytes += kl + vl;
		if (store_value_parse((const uint8_t *)leveldb_iter_value(it, &vl), vl, &sv) != 0)
			sv.role = 0;
		st->q[s].rbytes[sv.role] += kl + vl;
	}
	leveldb_iter_get_error(it, err);
	leveldb_iter_destroy(it);
	return *err ? -1 : 0;
}

/* state_load - in-memory queue state from the meta key (or the keys themselves) */
static int
state_load(struct tfo_store *st, char **err)
{
	size_t len = 0;
	char *m = leveldb_get(st->db, st->ro, META_KEY, 1, &len, err);

	if (*err)
		return -1;
	memset(st->q, 0, sizeof(st->q));
	memset(st->dd, 0, sizeof(st->dd));
	if (m == NULL || meta_decode(st, (const uint8_t *)m, len) != 0) {
		if (m)
			log_warn("store: meta key unreadable; recounting the queue");
		leveldb_free(m);
		if (meta_rebuild(st, err) != 0)
			return -1;
	} else
		leveldb_free(m);
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		struct sigq *q = &st->q[s];
		q->next_offer = q->head;
		q->ctail = q->tail;
		q->chead = q->head;
		q->compacted_to = q->flushed_to = 0;
		for (int r = 0; r < TFO_STORE_NROLE; r++)
			q->cursor[r] = q->head;
	}
	memcpy(st->dd_written, st->dd, sizeof(st->dd));
	return 0;
}

/* ------------------------------------------------------------------ format */

/* get_small - a key's value of at most cap bytes into buf: its length, 0 if absent, -1 on error */
static ssize_t
get_small(struct tfo_store *st, const char *key, uint8_t *buf, size_t cap, char **err)
{
	size_t len = 0;
	char *v = leveldb_get(st->db, st->ro, key, strlen(key), &len, err);
	ssize_t n;

	if (*err)
		return -1;
	if (v == NULL)
		return 0;
	n = (ssize_t)len;
	memcpy(buf, v, len < cap ? len : cap);
	leveldb_free(v);
	return n;
}

/*
 * format_read - the store's format: the FORMAT_KEY, else 1 (what tfo-buffer
 * wrote before formats were numbered, and an empty store). 0 = a format this
 * code does not know; st->refusal then says which. -1 on a read error.
 */
static int
format_read(struct tfo_store *st, uint32_t *fmt, char **err)
{
	uint8_t b[META_LEN];
	ssize_t n = get_small(st, FORMAT_KEY, b, sizeof(b), err);

	if (n < 0)
		return -1;
	if (n == FORMAT_LEN && store_get_be32(b) == FORMAT_MAGIC)
		*fmt = store_get_be32(b + 4);
	else if (n != 0) {
		set_text(st->refusal, sizeof(st->refusal), "store %s has a format key this "
		    "tfo-buffer cannot read (%zd bytes); it reads formats 1 to %u", st->path, n,
		    TFO_STORE_FORMAT);
		return 0;
	} else {
		/* No format key: format 1, whose meta key says version 1. A meta
		 * key of another version there is no format this code knows. */
		if ((n = get_small(st, META_KEY, b, sizeof(b), err)) < 0)
			return -1;
		/* every commit of format 1 wrote the meta key: none = a new store */
		*fmt = n == 0 ? TFO_STORE_FORMAT : 1;
		if (n >= 8 && store_get_be32(b) == META_MAGIC && store_get_be32(b + 4) != 1) {
			set_text(st->refusal, sizeof(st->refusal), "store %s has no format key and "
			    "a meta key of version %u; this tfo-buffer reads formats 1 to %u",
			    st->path, store_get_be32(b + 4), TFO_STORE_FORMAT);
			return 0;
		}
	}
	if (*fmt == 0 || *fmt > TFO_STORE_FORMAT) {
		set_text(st->refusal, sizeof(st->refusal), "store %s is format %u; this "
		    "tfo-buffer reads formats 1 to %u: not opened and not moved aside (run the "
		    "tfo-agent that wrote it, or move the store away to start an empty one)",
		    st->path, *fmt, TFO_STORE_FORMAT);
		return 0;
	}
	return 1;
}

/* epoch_read - this open's batch id epoch: one more than the last open's */
static int
epoch_read(struct tfo_store *st, char **err)
{
	uint8_t b[8];
	ssize_t n = get_small(st, EPOCH_KEY, b, sizeof(b), err);

	if (n < 0)
		return -1;
	st->epoch = n == (ssize_t)sizeof(b) ? store_get_be64(b) : 0;
	/* beyond the deterministic range (8 M opens), go round */
	st->epoch = (st->epoch & (EPOCH_FALLBACK - 1)) + 1;
	if (st->epoch >= EPOCH_FALLBACK)
		st->epoch = 1;
	return 0;
}

/* ids_start - batch ids of this open: epoch << 40 | count. A stale ack (of a
 * batch of an earlier open) never names a batch of this one, whatever the
 * clock did meanwhile. */
static void
ids_start(struct tfo_store *st)
{
	st->next_id = st->epoch << (64 - EPOCH_BITS);
}

/* stage_format - the format and epoch keys into the pending write batch */
static void
stage_format(struct tfo_store *st)
{
	uint8_t f[FORMAT_LEN], e[8];

	store_be32(f, FORMAT_MAGIC);
	store_be32(f + 4, TFO_STORE_FORMAT);
	store_be64(e, st->epoch);
	leveldb_writebatch_put(st->wb, FORMAT_KEY, 1, (const char *)f, sizeof(f));
	leveldb_writebatch_put(st->wb, EPOCH_KEY, 1, (const char *)e, sizeof(e));
}

/*
 * format_write - mark the store with this format and the new epoch, synced,
 * before anything is fetched. A format-1 store is migrated by this alone:
 * its keys and values are format 2's. If the write fails (a full disk), the
 * epoch is random (EPOCH_FALLBACK set) and the keys go with the next commit.
 */
static void
format_write(struct tfo_store *st, uint32_t was)
{
	char *err = NULL;
	uint8_t meta[META_LEN];
	uint64_t r = 0;

	stage_format(st);
	meta_encode(st, meta);
	leveldb_writebatch_put(st->wb, META_KEY, 1, (const char *)meta, sizeof(meta));
	leveldb_write(st->db, st->wo_sync, st->wb, &err);
	leveldb_writebatch_clear(st->wb);
	if (err == NULL) {
		st->format_pending = 0;
		if (was != TFO_STORE_FORMAT)
			log_info("store %s: format %u migrated to %u (the format, epoch and meta "
			    "keys written; its %llu entries kept as they are, shared at the bound as "
			    "put by no known role)", st->path, was, TFO_STORE_FORMAT,
			    (unsigned long long)(st->q[1].count + st->q[2].count));
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = mono_us();
	st->epoch = EPOCH_FALLBACK | (r & (EPOCH_FALLBACK - 1));
	st->format_pending = 1;
	log_warn("store %s: format and epoch not written (%s): batch ids of this open use a "
	    "random epoch; written with the next commit", st->path, err);
	leveldb_free(err);
}

/* ------------------------------------------------------------------ open */

/*
 * db_open - open LevelDB and load the queue. -1 with *err set: LevelDB or a
 * read failed (corruption: the caller quarantines). 1: a format this code
 * does not know (st->refusal): refused, never taken for corruption.
 */
static int
db_open(struct tfo_store *st, char **err)
{
	uint32_t fmt = 0;
	int r;

	st->db = leveldb_open(st->opt, st->path, err);
	if (*err)
		return -1;
	if ((r = format_read(st, &fmt, err)) == 1 && state_load(st, err) == 0 &&
	    epoch_read(st, err) == 0) {
		format_write(st, fmt);
		ids_start(st);
		st->format = fmt;
		return 0;
	}
	leveldb_close(st->db);
	st->db = NULL;
	return r == 0 ? 1 : -1;
}

/* quarantine - move a store that will not open aside, try a repair there, start fresh */
static int
quarantine(struct tfo_store *st, const char *why, char **err)
{
	char dst[4096], *rerr = NULL;
	long long now = (long long)time(NULL);
	int n;

	n = snprintf(dst, sizeof(dst), "%s.corrupt-%lld", st->path, now);
	for (int i = 1; n > 0 && (size_t)n < sizeof(dst) && access(dst, F_OK) == 0; i++)
		n = snprintf(dst, sizeof(dst), "%s.corrupt-%lld.%d", st->path, now, i);
	if (n < 0 || (size_t)n >= sizeof(dst) || rename(st->path, dst) != 0) {
		set_text(st->s.quarantine, sizeof(st->s.quarantine),
		    "store would not open (%s) and could not be moved aside: %s", why,
		    strerror(errno));
		return -1;
	}
	leveldb_repair_db(st->opt, dst, &rerr);
	set_text(st->s.quarantine, sizeof(st->s.quarantine),
	    "at %lld store would not open (%s): moved to %s, repair %s%s; fresh store opened",
	    now, why, dst, rerr ? "failed: " : "ok", rerr ? rerr : "");
	leveldb_free(rerr);
	st->s.quarantines++;
	/* a fresh store: never of an unknown format */
	return db_open(st, err) == 0 ? 0 : -1;
}

static int
store_alloc_opts(struct tfo_store *st)
{
	st->opt = leveldb_options_create();
	st->ro = leveldb_readoptions_create();
	st->wo_sync = leveldb_writeoptions_create();
	st->wo_async = leveldb_writeoptions_create();
	st->cache = leveldb_cache_create_lru(2u << 20);
	st->wb = leveldb_writebatch_create();
	if (!st->opt || !st->ro || !st->wo_sync || !st->wo_async || !st->cache || !st->wb)
		return -1;
	leveldb_options_set_create_if_missing(st->opt, 1);
	leveldb_options_set_paranoid_checks(st->opt, 1);
	leveldb_options_set_max_open_files(st->opt, 64);
	leveldb_options_set_cache(st->opt, st->cache);
	/* No snappy: large payloads are LZ4-compressed before LevelDB sees
	 * them (value.c), which also shrinks its log; snappy on top would only
	 * spend CPU on flush and on drain. */
	leveldb_options_set_compression(st->opt, leveldb_no_compression);
	/* Up to 32 MiB of memtable (LevelDB's default is 4): under a burst the
	 * exporter then reads what it fetches from memory, not back from a
	 * table just flushed. It costs memory only while data flows: the
	 * minute's flush (tfo_store_compact_paced) empties it, so an idle agent holds at most a minute of its trickle. On a small
	 * filesystem it is a 64th of it (space.c): a flush must fit beside it. */
	leveldb_options_set_write_buffer_size(st->opt, (size_t)st->sp.memtable);
	/* Tables in 64 KiB blocks (LevelDB's default is 4): LevelDB writes each
	 * block of a table with a write() of its own, so the minute's flush of an
	 * idle host's trickle (~150 KiB of values of 4-7 KiB, each a block) was
	 * some 35 writes on its thread, and a full memtable's 8000. The queue is
	 * read in order, never by random key, so a bigger block costs no read;
	 * tables written with other sizes read as before (each says its own). */
	leveldb_options_set_block_size(st->opt, TFO_STORE_BLOCK);
	leveldb_readoptions_set_verify_checksums(st->ro, 1);
	leveldb_readoptions_set_fill_cache(st->ro, 0);  /* a queue is read once */
	leveldb_writeoptions_set_sync(st->wo_sync, 1);
	leveldb_writeoptions_set_sync(st->wo_async, 0);
	return 0;
}

/* lock_error - LevelDB's "IO error: lock <path>/LOCK: ..." (not "block checksum") */
static int
lock_error(const char *err)
{
	return strncmp(err, "IO error: lock ", 15) == 0 || strstr(err, "/LOCK:") != NULL;
}

struct tfo_store *
tfo_store_open(const struct tfo_store_opts *o, enum tfo_err *e, char *errbuf, size_t errlen)
{
	struct tfo_store *st = calloc(1, sizeof(*st));
	char *err = NULL;
	int r;

	copy_err(errbuf, errlen, "");
	if (st == NULL || o->path == NULL || (st->path = strdup(o->path)) == NULL) {
		free(st);
		*e = o->path ? TFO_ENOMEM : TFO_EINVAL;
		return NULL;
	}
	st->o = *o;
	st->o.path = st->path;
	st->flush_min = TFO_STORE_FLUSH_MIN;
	if (st->o.now_ms == NULL)
		st->o.now_ms = realtime_ms;
	if ((st->dir = strdup(st->path)) == NULL) {
		*e = TFO_ENOMEM;
		goto fail;
	}
	if (strrchr(st->dir, '/') != NULL && strrchr(st->dir, '/') != st->dir)
		*strrchr(st->dir, '/') = '\0';
	space_init(st);
	if (store_alloc_opts(st) != 0) {
		*e = TFO_ENOMEM;
		goto fail;
	}
	if ((r = db_open(st, &err)) == 1) {
		/* Newer than this code: refused, never moved aside as corrupt. */
		copy_err(errbuf, errlen, st->refusal);
		*e = TFO_EVERSION;
		goto fail;
	}
	if (r != 0 && space_error(err)) {
		/* No room to recover the log into a table: the reserve is for that. */
		space_release(st, err);
		leveldb_free(err);
		err = NULL;
		r = db_open(st, &err);
	}
	if (r != 0) {
		/* A lock held by a live process is not corruption: never move it
		 * aside; nor is a disk without room (tried again by the caller). */
		if (lock_error(err) || space_error(err)) {
			copy_err(errbuf, errlen, err);
			*e = TFO_EAGAIN;
			goto fail;
		}
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		leveldb_free(err);
		err = NULL;
		if (quarantine(st, why, &err) != 0) {
			copy_err(errbuf, errlen, err ? err : st->s.quarantine);
			*e = TFO_EIO;
			goto fail;
		}
	}
	space_maintain(st);
	*e = TFO_OK;
	return st;
fail:
	leveldb_free(err);
	tfo_store_close(st);
	return NULL;
}

int
tfo_store_no_room(const char *reason)
{
	return space_error(reason);
}

void
tfo_store_close(struct tfo_store *st)
{
	if (st == NULL)
		return;
	if (st->db)
		leveldb_close(st->db);
	if (st->wb)
		leveldb_writebatch_destroy(st->wb);
	if (st->opt)
		leveldb_options_destroy(st->opt);
	if (st->cache)
		leveldb_cache_destroy(st->cache);
	if (st->ro)
		leveldb_readoptions_destroy(st->ro);
	if (st->wo_sync)
		leveldb_writeoptions_destroy(st->wo_sync);
	if (st->wo_async)
		leveldb_writeoptions_destroy(st->wo_async);
	free(st->stg);
	free(st->ev);
	free(st->scratch);
	free(st->path);
	free(st->dir);
	free(st);
}

/* ------------------------------------------------------------------ commit */

size_t
tfo_store_pending(const struct tfo_store *st)
{
	return st->npending;
}

size_t
tfo_store_pending_bytes(const struct tfo_store *st)
{
	return st->pending_bytes;
}

/* a batch that grew beyond this is not kept for the next write (pending_clear) */
#define WB_KEEP_BYTES (16u * 1024u)

/*
 * pending_clear - the batch emptied for the next group. LevelDB's batch is a
 * string it clears but never shrinks: after a big group (tfo-process's
 * report, 80 KiB, every 30 s) an idle buffer held that much, 17 pages
 * resident, for writes of a few KiB (issue 18 §2). Such a batch is made anew
 * instead: one allocation per big group.
 */
static void
pending_clear(struct tfo_store *st)
{
	leveldb_writebatch_t *wb;

	if (st->pending_bytes + st->npending * (TFO_STORE_KEYLEN + 8) > WB_KEEP_BYTES &&
	    (wb = leveldb_writebatch_create()) != NULL) {
		leveldb_writebatch_destroy(st->wb);
		st->wb = wb;
	} else
		leveldb_writebatch_clear(st->wb);
	st->nstg = 0;
	st->npending = 0;
	st->pending_bytes = 0;
	st->pending_durable = 0;
}

/* write_pending - the pending batch with the meta key (and format keys) at
 * its end, in one LevelDB write. A batch written again after a failure gets
 * a newer meta appended: the last one wins, and every other mutation in it is
 * an absolute key (the same seq, the same checkpoint), so writing it twice is
 * the same as once. NULL, or LevelDB's error (free with leveldb_free). */
static char *
write_pending(struct tfo_store *st)
{
	uint8_t meta[META_LEN];
	char *err = NULL;
	const char *fault;
	uint64_t t0;
	int durable = st->pending_durable && st->o.sync;

	meta_encode(st, meta);
	leveldb_writebatch_put(st->wb, META_KEY, 1, (const char *)meta, sizeof(meta));
	if (st->format_pending)
		stage_format(st);
	t0 = mono_us();
	if (st->o.write_fault != NULL && (fault = st->o.write_fault(st->o.write_fault_arg)) != NULL)
		return strdup(fault);           /* tests; leveldb_free is free() */
	/* Deletes alone need no fsync: a lost delete only re-delivers (at-least-once). */
	leveldb_write(st->db, durable ? st->wo_sync : st->wo_async, st->wb, &err);
	if (durable && err == NULL)
		st->s.last_sync_us = mono_us() - t0;
	return err;
}

/*
 * reopen - LevelDB closed and opened again in place: a write that failed may
 * have left a torn record in its log (later records would follow it, and a
 * paranoid open would take the log for corrupt), and a table write that hit
 * ENOSPC (a flush, a compaction) leaves a background error that fails every
 * later write until the store is reopened. The queue in memory is kept: it
 * is what is on disk plus the pending batch. -1 with *err when it will not
 * open (st->db NULL: tried again later).
 */
static int
reopen(struct tfo_store *st, char **err)
{
	if (st->db != NULL)
		leveldb_close(st->db);
	st->db = leveldb_open(st->opt, st->path, err);
	if (*err != NULL) {
		st->db = NULL;
		return -1;
	}
	st->s.reopens++;
	return 0;
}

/* failed - a write (or the reopen before it) failed: try again after a backoff */
static void
failed(struct tfo_store *st, const char *err)
{
	snprintf(st->s.last_error, sizeof(st->s.last_error), "%s", err);
	st->backoff_ms = st->backoff_ms == 0 ? RETRY_MIN_MS : st->backoff_ms * 2;
	if (st->backoff_ms > RETRY_MAX_MS)
		st->backoff_ms = RETRY_MAX_MS;
	st->retry_at_us = mono_us() + (uint64_t)st->backoff_ms * 1000;
	if (!st->failing)
		log_error("store %s: writes fail (%s): puts are answered Busy until they work "
		    "again; the deletions of acked batches are kept and written again every "
		    "%u..%u ms (those batches are not offered again)", st->path, err, RETRY_MIN_MS,
		    RETRY_MAX_MS);
	else
		tfo_logrepeat(&st->errlog, TFO_LOG_ERROR, "store %s: writes still fail: %s",
		    st->path, err);
	st->failing = 1;
	space_status(st);
}

static void
committed(struct tfo_store *st)
{
	pending_clear(st);
	st->nev = 0;
	if (st->evcap > 1024) {         /* one group made room from many entries */
		free(st->ev);
		st->ev = NULL;
		st->evcap = 0;
	}
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		st->q[s].ctail = st->q[s].tail;
		st->q[s].chead = st->q[s].head;
	}
	memcpy(st->dd_written, st->dd, sizeof(st->dd));
	st->format_pending = 0;
	st->s.commits++;
	if (st->failing) {
		tfo_logrepeat_end(&st->errlog);
		log_info("store %s: writes work again (%llu reopens so far)", st->path,
		    (unsigned long long)st->s.reopens);
	}
	st->failing = 0;
	st->backoff_ms = 0;
	space_maintain(st);
}

/*
 * unstage_puts - a write failed: forget what the pending batch put (entries,
 * checkpoints, dedupe table), keep what it deleted. The puts were not
 * acknowledged (their group is answered Busy) and come again as new puts;
 * the deletions are of delivered or dropped entries, which must not come
 * back. The batch is rebuilt with the deletions alone: small, it fits where
 * the puts did not, and once written a compaction can free their room.
 */
static void
unstage_puts(struct tfo_store *st)
{
	uint8_t key[TFO_STORE_KEYLEN];
	size_t ndel = 0, kept = 0;

	for (size_t i = 0; i < st->nstg; i++) {
		const struct staged *sg = &st->stg[i];
		struct sigq *q = &st->q[sg->signal];
		if (sg->seq >= q->head && sg->seq < q->tail && !sg->gone) {
			q->count = q->count > 0 ? q->count - 1 : 0;
			q->bytes = q->bytes > sg->size ? q->bytes - sg->size : 0;
			q->rbytes[sg->role] = q->rbytes[sg->role] > sg->size ?
			    q->rbytes[sg->role] - sg->size : 0;
		}
	}
	memcpy(st->dd, st->dd_written, sizeof(st->dd));
	pending_clear(st);
	st->vc.n = 0;                   /* read ahead from the store: read again */
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		struct sigq *q = &st->q[s];
		q->tail = q->ctail;
		if (q->head > q->tail)          /* dropped while only staged */
			q->head = q->tail;
		if (q->next_offer > q->tail)
			q->next_offer = q->tail;
		if (q->head >= q->tail) {
			q->count = q->bytes = 0;
			memset(q->rbytes, 0, sizeof(q->rbytes));
		}
		/* a role's oldest among the puts taken back: its next entry comes at tail */
		for (int r = 0; r < TFO_STORE_NROLE; r++)
			if (q->cursor[r] > q->tail)
				q->cursor[r] = q->tail;
		q->head_ts_ok = 0;
		for (uint64_t seq = q->chead; seq < q->head; seq++, ndel++) {
			tfo_store_key(key, s, seq);
			leveldb_writebatch_delete(st->wb, (const char *)key, sizeof(key));
		}
	}
	/* the evictions above the head (entries on disk; those of the puts
	 * taken back are gone with them) */
	for (size_t i = 0; i < st->nev; i++) {
		const struct evicted e = st->ev[i];
		if (e.seq >= st->q[e.signal].ctail)
			continue;
		tfo_store_key(key, e.signal, e.seq);
		leveldb_writebatch_delete(st->wb, (const char *)key, sizeof(key));
		st->ev[kept++] = e;
		ndel++;
	}
	st->nev = kept;
	st->npending = ndel;
}

/* room_to_reopen - whether the reopen can flush what the logs hold (LevelDB
 * writes the recovered memtable to a table): an open that fails half way
 * leaves its files behind, and repeated ones would fill the disk for good */
static int
room_to_reopen(struct tfo_store *st)
{
	space_refresh(st, 1);
	return st->o.statfs != NULL || st->sp.free >= store_log_bytes(st->path) +
	    st->sp.memtable + REOPEN_SLACK;
}

enum attempt {
	ATTEMPT_OK = 0,
	ATTEMPT_NOROOM,            /* not tried: no room to reopen (ebuf says so) */
	ATTEMPT_FAILED,            /* LevelDB's reopen or write failed (ebuf) */
};

/* attempt - (reopen if a write failed before, then) one write */
static enum attempt
attempt(struct tfo_store *st, char *ebuf, size_t elen)
{
	char *err = NULL;

	if (st->need_reopen) {
		/* the failed table write's output may be what fills the disk: a
		 * reopen would delete it, but may find no room to open */
		if (st->table_error)
			(void)space_sweep_orphans(st);
		if (!room_to_reopen(st)) {
			snprintf(ebuf, elen, "no room to reopen the store at %s (%llu MiB free)",
			    st->dir, (unsigned long long)(st->sp.free >> 20));
			return ATTEMPT_NOROOM;
		}
		if (reopen(st, &err) == 0)
			st->need_reopen = st->table_error = 0;
	}
	if (err == NULL && (st->npending == 0 || (err = write_pending(st)) == NULL))
		return ATTEMPT_OK;
	copy_err(ebuf, elen, err);
	leveldb_free(err);
	return ATTEMPT_FAILED;
}

/* fail_write - what a failed write leaves to do: count it, release the
 * reserve when room is what lacked, and reopen before writing again */
static void
fail_write(struct tfo_store *st, const char *err)
{
	st->s.commit_errors++;
	/* a table's name: a flush or compaction failed earlier, and LevelDB
	 * now fails every write with it (its background error) */
	st->table_error = strstr(err, ".ldb") != NULL || strstr(err, ".sst") != NULL;
	if (st->table_error)
		st->s.sticky_errors++;
	snprintf(st->s.last_error, sizeof(st->s.last_error), "%s", err);
	if (space_error(err))
		space_release(st, err);
	st->need_reopen = 1;
}

enum tfo_err
tfo_store_commit(struct tfo_store *st, char *errbuf, size_t errlen)
{
	char err[sizeof(st->s.last_error)];
	enum attempt a;
	int puts = st->nstg > 0;
	uint64_t commits = st->s.commits;

	/* nothing to write, unless a failed write left the store to reopen:
	 * a group of puts alone was taken back whole, and nothing else may come
	 * (the store not open answers every put Busy and every fetch Error) */
	if (st->npending == 0 && !st->need_reopen)
		return TFO_OK;
	if (st->failing && mono_us() < st->retry_at_us) {
		copy_err(errbuf, errlen, st->s.last_error);
		return TFO_EAGAIN;
	}
	if ((a = attempt(st, err, sizeof(err))) == ATTEMPT_OK) {
		committed(st);
		return TFO_OK;
	}
	if (a == ATTEMPT_FAILED)
		fail_write(st, err);
	if (puts) {
		/* not acknowledged: the group's puts come again; heal now with
		 * the deletions alone (the reopen, if there is room) */
		unstage_puts(st);
		if (st->npending > 0) {
			if ((a = attempt(st, err, sizeof(err))) == ATTEMPT_OK)
				committed(st);
			else if (a == ATTEMPT_FAILED)
				fail_write(st, err);
		}
	}
	/* not healed: puts are Busy until the retry is due, then tried again */
	if (a != ATTEMPT_OK || !puts || st->s.commits == commits)
		failed(st, err);
	copy_err(errbuf, errlen, err);
	return TFO_EIO;
}

int64_t
tfo_store_retry_ms(const struct tfo_store *st)
{
	uint64_t now = mono_us();

	if (!st->failing)
		return -1;
	return st->retry_at_us > now ? (int64_t)((st->retry_at_us - now + 999) / 1000) : 0;
}

const char *
tfo_store_status(struct tfo_store *st)
{
	if (st->s.status[0])
		return st->s.status;
	return st->failing ? st->s.last_error : "";
}

const char *
tfo_store_disk_status(const struct tfo_store *st)
{
	return st->s.status;
}

void
tfo_store_maintain(struct tfo_store *st)
{
	space_maintain(st);
}

uint64_t
tfo_store_committed_head(const struct tfo_store *st, uint32_t signal)
{
	return signal > 0 && signal < TFO_STORE_NSIG ? st->q[signal].chead : 0;
}

/* ------------------------------------------------------------------ maintenance */

void
tfo_store_flush_logs(struct tfo_store *st)
{
	tfo_logrepeat_flush(&st->gaplog);
	tfo_logrepeat_flush(&st->errlog);
}

/* statvfs and a scan of the store's directory (a stat per file): a health
 * ping, every few seconds, does them at most so often; the write path
 * refreshes them for itself when it puts (space.c) */
#define DISK_SCAN_MS 60000u

void
tfo_store_get_stats(struct tfo_store *st, struct tfo_store_stats *out)
{
	uint64_t now = store_now(st), oldest = UINT64_MAX;

	*out = st->s;
	out->format_opened = st->format;
	store_held_by_role(st, out->role_bytes);
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		uint64_t ts;
		out->entries[s] = st->q[s].count;
		out->bytes[s] = st->q[s].bytes;
		out->oldest_age_sig_s[s] = 0;
		if (store_head_ts(st, s, &ts) != 0)
			continue;
		if (now > ts)
			out->oldest_age_sig_s[s] = (double)(now - ts) / 1000.0;
		if (ts < oldest)
			oldest = ts;
	}
	out->oldest_age_s = oldest != UINT64_MAX && now > oldest ? (double)(now - oldest) / 1000.0 : 0;
	if (st->disk_at_ms == 0 || now < st->disk_at_ms || now - st->disk_at_ms >= DISK_SCAN_MS) {
		space_refresh(st, 1);
		st->disk_at_ms = now ? now : 1;
	}
	out->disk_bytes = st->sp.disk;     /* idle: at most DISK_SCAN_MS old */
	out->disk_scans = st->s.disk_scans;   /* with the walk just made */
	out->fs_free = st->sp.free;
	out->fs_bound = st->sp.bound;
	out->reserve_held = st->sp.held;
	out->failing = st->failing;
}
