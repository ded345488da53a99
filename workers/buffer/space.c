/*
 * space.c - the buffer's room on its filesystem (tfo-buffer): how much queue
 * the filesystem can hold now, the reserve file that keeps LevelDB able to
 * flush, delete and compact when the disk fills, compaction when room runs
 * low, and the "disk full" status. docs/buffer.md "A full disk".
 *
 * The queue bound is the smaller of max_size_mb and half of what the store
 * may occupy (its files plus the free space, less the reserve when it is not
 * held, less room for its logs and level-0 tables): a compaction writes the
 * live data again before the old tables go.
 */
#include "workers/buffer/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define MIB (1ull << 20)
#define MEMTABLE_MIN (256u << 10)      /* a 16 MiB filesystem: a 64th is less */
#define MEMTABLE_MAX (32 * MIB)         /* docs/buffer.md: fewer flushes stalling syncs */
#define MEMTABLE_SHARE 64               /* of the filesystem's size */
#define SLACK MIB                       /* MANIFEST, info log, CURRENT */
#define MEMTABLES 6                     /* the log, a memtable being flushed, four level-0
                                         * tables before LevelDB compacts them */
#define REFRESH_US 200000               /* statvfs at most so often */
#define RESCAN_US 60000000              /* far from full: the store's files at least so often */
#define COMPACT_LOW_US 2000000          /* compaction for room at most so often */
#define FULL_HOLD_US 10000000           /* "disk full" stays shown this long after the bound was met */
#define RESERVE_LOW 16                  /* the reserve is held below this many of it free */
#define COMPACT_RANGE_MIN (512u << 10)  /* consumed bytes that get their range merged */

static uint64_t
now_us(void)
{
	return tfo_mono_ns() / 1000;
}

/* fs_room - free bytes (for an unprivileged user) and size of the filesystem */
static int
fs_room(struct tfo_store *st, uint64_t *free, uint64_t *total)
{
	struct statvfs v;

	if (st->o.statfs)
		return st->o.statfs(st->o.statfs_arg, free, total);
	if (statvfs(st->dir, &v) != 0)
		return -1;
	*free = (uint64_t)v.f_bavail * v.f_frsize;
	*total = (uint64_t)v.f_blocks * v.f_frsize;
	return 0;
}

/* files_bytes - the regular files of dir whose name ends in suffix ("" =
 * all): their space on disk (blocks) or their size */
static uint64_t
files_bytes(const char *path, const char *suffix, int blocks)
{
	DIR *d = opendir(path);
	struct dirent *de;
	uint64_t total = 0;
	size_t sl = strlen(suffix);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		size_t n = strlen(de->d_name);
		if (n >= sl && strcmp(de->d_name + n - sl, suffix) == 0 &&
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode))
			total += blocks ? (uint64_t)sb.st_blocks * 512 : (uint64_t)sb.st_size;
	}
	closedir(d);
	return total;
}

uint64_t
store_disk_usage(const char *path)
{
	return files_bytes(path, "", 1);
}

uint64_t
store_log_bytes(const char *path)
{
	return files_bytes(path, ".log", 0);
}

int
space_error(const char *err)
{
	return err != NULL && (strstr(err, strerror(ENOSPC)) != NULL ||
	    strstr(err, strerror(EDQUOT)) != NULL);
}

/* ------------------------------------------------------------------ reserve */

/* reserve_hold - the reserve file, allocated (not sparse) and synced, made
 * under a temporary name so a half-made one is never taken for it */
static int
reserve_hold(struct tfo_store *st)
{
	struct space *sp = &st->sp;
	char tmp[4200];
	int fd, rc;

	if (st->o.reserve_path == NULL || sp->held)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->o.reserve_path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	rc = posix_fallocate(fd, 0, (off_t)sp->reserve);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	close(fd);
	if (rc == 0 && rename(tmp, st->o.reserve_path) != 0)
		rc = errno;
	if (rc != 0) {
		(void)unlink(tmp);
		return -1;
	}
	sp->held = 1;
	return 0;
}

/* reserve_found - a reserve file left by the last run, if it is whole */
static void
reserve_found(struct tfo_store *st)
{
	struct stat sb;

	if (st->o.reserve_path != NULL && lstat(st->o.reserve_path, &sb) == 0 &&
	    S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == st->sp.reserve &&
	    (uint64_t)sb.st_blocks * 512 >= st->sp.reserve)
		st->sp.held = 1;
	else if (st->o.reserve_path != NULL)
		(void)unlink(st->o.reserve_path);   /* another size, sparse, or not a file */
}

void
space_release(struct tfo_store *st, const char *why)
{
	if (!st->sp.held || st->o.reserve_path == NULL)
		return;
	if (unlink(st->o.reserve_path) != 0 && errno != ENOENT) {
		log_error("store: reserve %s not released: %s", st->o.reserve_path,
		    strerror(errno));
		return;
	}
	st->sp.held = 0;
	st->s.reserve_releases++;
	log_warn("store: disk full at %s (%s): the reserve of %.1f MiB released so the store "
	    "can delete, flush and compact", st->dir, why, (double)st->sp.reserve / MIB);
	space_refresh(st, 1);
}

/* ------------------------------------------------------------------ bound */

void
space_init(struct tfo_store *st)
{
	struct space *sp = &st->sp;
	uint64_t free = 0, total = 0, m = MEMTABLE_MAX;

	if (fs_room(st, &free, &total) == 0 && total > 0) {
		m = total / MEMTABLE_SHARE;
		m = m < MEMTABLE_MIN ? MEMTABLE_MIN : m > MEMTABLE_MAX ? MEMTABLE_MAX : m;
	}
	sp->memtable = m;
	/* a flush of a whole memtable, the live part of a compaction's input,
	 * and a group of puts retried after the flush */
	sp->reserve = 2 * m + MIB;
	reserve_found(st);
}

/*
 * rescan_due - whether the store's files are summed again (a directory walk
 * and a stat per file) at this refresh. The free space is read at every one:
 * another writer filling the disk is seen as before. The files' sum matters
 * only beside it (disk + free), and our own writes and deletes move the two
 * by the same amount, another writer's only the free space; so, far from
 * full, it is taken again only after RESCAN_US (the figure of disk_bytes, and
 * what a compaction gave back). It was taken whenever the free space moved
 * by a memtable too: on a host whose other writers move that much every few
 * seconds (builds, log rotation), an idle buffer walked its directory up to
 * 6 times a minute for nothing (issue 18 §3). Below RESERVE_LOW reserves
 * free, where the bound decides Busy, it is taken at every refresh as
 * before, so a sum gone stale far from full is exact again before it counts.
 */
static int
rescan_due(const struct space *sp, uint64_t t, int fs_ok)
{
	return !fs_ok || sp->scanned_us == 0 || t - sp->scanned_us >= RESCAN_US ||
	    sp->free < RESERVE_LOW * sp->reserve;
}

void
space_refresh(struct tfo_store *st, int force)
{
	struct space *sp = &st->sp;
	uint64_t t = now_us(), avail;
	int fs_ok;

	if (!force && sp->checked_us != 0 && t - sp->checked_us < REFRESH_US)
		return;
	sp->checked_us = t;
	fs_ok = fs_room(st, &sp->free, &sp->total) == 0;
	if (force || rescan_due(sp, t, fs_ok)) {
		sp->disk = store_disk_usage(st->path);
		sp->scanned_us = t;
		sp->free_at_scan = sp->free;
		st->s.disk_scans++;
	}
	if (!fs_ok) {
		sp->bound = UINT64_MAX;
		return;
	}
	avail = sp->disk + sp->free;
	if (!sp->held && st->o.reserve_path != NULL)
		avail = avail > sp->reserve ? avail - sp->reserve : 0;
	/* a compaction writes the live data again before the old tables go:
	 * the queue may have half of what is left once the logs, the level-0
	 * tables and LevelDB's own files have theirs */
	avail = avail > SLACK + MEMTABLES * sp->memtable ? avail - SLACK -
	    MEMTABLES * sp->memtable : 0;
	sp->bound = avail / 2;
}

uint64_t
space_limit(struct tfo_store *st, int *disk)
{
	uint64_t max = st->o.max_bytes ? st->o.max_bytes : UINT64_MAX;

	space_refresh(st, 0);
	*disk = st->sp.bound < max;
	return *disk ? st->sp.bound : max;
}

void
space_full(struct tfo_store *st)
{
	st->sp.last_full_us = now_us();
	if (!st->sp.full)
		space_status(st);
}

/* ------------------------------------------------------------------ upkeep */

void
space_status(struct tfo_store *st)
{
	struct space *sp = &st->sp;
	uint64_t t = now_us();
	/* met lately (not flapping at every put), or writes failing for room */
	int full = (sp->last_full_us != 0 && t - sp->last_full_us < FULL_HOLD_US) ||
	    (st->failing && space_error(st->s.last_error));

	if (full)
		snprintf(st->s.status, sizeof(st->s.status), "disk full at %s (%llu MiB free), "
		    "dropping oldest", st->dir, (unsigned long long)(sp->free / MIB));
	if (full && !sp->full)
		log_warn("store: %s", st->s.status);
	else if (!full && sp->full) {
		log_info("store: room again at %s (%llu MiB free)", st->dir,
		    (unsigned long long)(sp->free / MIB));
		st->s.status[0] = '\0';
	}
	sp->full = full;
}

void
space_maintain(struct tfo_store *st)
{
	struct space *sp = &st->sp;
	uint64_t t;

	space_refresh(st, 0);
	/* Held only while room runs low (a big disk far from full carries no
	 * such file), and only with room for it and as much again. */
	if (!sp->held && st->o.reserve_path != NULL && !st->failing &&
	    sp->free >= 2 * sp->reserve && sp->free < RESERVE_LOW * sp->reserve &&
	    reserve_hold(st) == 0) {
		log_info("store: reserve of %.1f MiB held at %s (%llu MiB free)",
		    (double)sp->reserve / MIB, st->dir, (unsigned long long)(sp->free / MIB));
		space_refresh(st, 1);
	}
	/* low on room: reclaim what drops and acks freed now, not within a minute */
	t = now_us();
	if (st->db != NULL && !st->failing && sp->free < 2 * sp->reserve &&
	    t - sp->compact_us >= COMPACT_LOW_US) {
		if (!sp->low)
			log_info("store: room runs low at %s (%llu MiB free): the consumed range "
			    "is compacted every %u s until it is back", st->dir,
			    (unsigned long long)(sp->free / MIB), (unsigned)(COMPACT_LOW_US / 1000000));
		sp->low = 1;
		sp->compact_us = t;
		st->s.room_compactions++;
		tfo_store_compact(st);
		space_refresh(st, 1);
	} else if (sp->free >= 2 * sp->reserve)
		sp->low = 0;
	space_status(st);
}

/* ------------------------------------------------------------------ orphans */

/* table_number - n of "<n>.ldb" or "<n>.sst", else -1 */
static long long
table_number(const char *name)
{
	char *end;
	unsigned long long n;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(name, &end, 10);
	if (errno != 0 || n > (1ull << 62) || (strcmp(end, ".ldb") != 0 && strcmp(end, ".sst") != 0))
		return -1;
	return (long long)n;
}

/* live_table - whether LevelDB's list of live tables ("--- level N ---" then
 * " <n>:<size>[...]" per table) names table n */
static int
live_table(const char *list, long long n)
{
	for (const char *p = list; (p = strchr(p, '\n')) != NULL; ) {
		char *end;
		long long v;

		p++;
		while (*p == ' ')
			p++;
		v = strtoll(p, &end, 10);
		if (end != p && *end == ':' && v == n)
			return 1;
	}
	return 0;
}

uint64_t
space_sweep_orphans(struct tfo_store *st)
{
	char *list;
	DIR *d;
	struct dirent *de;
	uint64_t freed = 0;
	long long n;

	if (st->db == NULL || (list = leveldb_property_value(st->db, "leveldb.sstables")) == NULL)
		return 0;
	if ((d = opendir(st->path)) == NULL) {
		leveldb_free(list);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		char file[4200];
		if ((n = table_number(de->d_name)) < 0 || live_table(list, n) ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) || (size_t)snprintf(file, sizeof(file), "%s/%s",
		    st->path, de->d_name) >= sizeof(file) || unlink(file) != 0)
			continue;
		freed += (uint64_t)sb.st_blocks * 512;
		st->s.orphans_removed++;
		log_warn("store: %s/%s removed: a table no version of the store holds (the "
		    "output of a flush or compaction that failed), %llu KiB", st->path,
		    de->d_name, (unsigned long long)(sb.st_blocks / 2));
	}
	closedir(d);
	leveldb_free(list);
	space_refresh(st, 1);
	return freed;
}

void
tfo_store_compact(struct tfo_store *st)
{
	if (st->db == NULL)
		return;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		struct sigq *q = &st->q[s];
		uint8_t a[TFO_STORE_KEYLEN], b[TFO_STORE_KEYLEN];

		if (q->head <= q->compacted_to)
			continue;
		tfo_store_key(a, s, 0);
		tfo_store_key(b, s, q->head);
		leveldb_compact_range(st->db, (const char *)a, sizeof(a), (const char *)b,
		    sizeof(b));
		q->compacted_to = q->flushed_to = q->head;
		st->s.compactions++;
	}
	st->consumed = st->consumed_flush = 0;
}

/*
 * flush_memtable - LevelDB's memtable written to a level-0 table, and nothing
 * merged: a compaction of a key range no key of the store falls in (every key
 * sorts below 0xff) flushes the memtable whatever its keys, then finds no
 * table of that range to merge.
 */
static void
flush_memtable(struct tfo_store *st)
{
	static const char past[] = "\xff";

	leveldb_compact_range(st->db, past, 1, past, 1);
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		st->q[s].flushed_to = st->q[s].head;
	st->consumed_flush = 0;
	st->s.flushes++;
}

void
tfo_store_set_flush_min(struct tfo_store *st, uint64_t bytes)
{
	st->flush_min = bytes;
}

/* queue_empty - nothing queued, nothing staged: all of every table is consumed */
static int
queue_empty(const struct tfo_store *st)
{
	if (st->npending != 0)
		return 0;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		if (st->q[s].head < st->q[s].tail)
			return 0;
	return 1;
}

/* consumed_since_flush - entries acked or dropped since the last flush */
static int
consumed_since_flush(const struct tfo_store *st)
{
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		if (st->q[s].head > st->q[s].flushed_to)
			return 1;
	return 0;
}

/*
 * tfo_store_compact_paced - see store.h. What was consumed since the last
 * range compaction decides which: a trickle (an idle host's collector
 * cycles, ~130 KiB a minute) gets its memtable flushed alone once flush_min
 * of it came (TFO_STORE_FLUSH_MIN: every second minute idle), and the
 * consumed range is merged once COMPACT_RANGE_MIN of it came, about every
 * four minutes idle, when LevelDB would merge its four level-0 tables by
 * itself. A merge each minute wrote a table, the MANIFEST and the directory,
 * each synced, and unlinked its inputs: three fsyncs a minute of an idle
 * buffer for a few KiB of disk. A flush each minute still made two files,
 * synced three times and unlinked one: about 40 % of an idle buffer's CPU
 * on a VM, for a memtable of 130 KiB (issue 18 §3). Waiting for a quarter
 * MiB keeps what the memtable holds (heap) that small.
 */
int
tfo_store_compact_paced(struct tfo_store *st, uint64_t period_ms)
{
	uint64_t now = store_now(st), since;

	if (st->compact_ms == 0 || now < st->compact_ms)
		st->compact_ms = now;   /* the first call, or the clock stepped back */
	since = now - st->compact_ms;
	if (since < period_ms || (since < 2 * period_ms && !queue_empty(st)))
		return 0;
	st->compact_ms = now;
	if (st->db == NULL || !consumed_since_flush(st))
		return 0;
	if (st->consumed >= COMPACT_RANGE_MIN)
		tfo_store_compact(st);
	else if (st->consumed_flush >= st->flush_min)
		flush_memtable(st);
	else
		return 0;
	return 1;
}
