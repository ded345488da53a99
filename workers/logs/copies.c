/*
 * copies.c - tfo-logs and copytruncate with globs that also match the copies
 * (app.log*). logrotate creates the copy empty, fills it, then truncates the
 * original: seen at once (inotify), the copy is a short file that looks new.
 * A file that appears next to a followed file and so far holds exactly that
 * file's first bytes may be such a copy, so it is held, not placed, until
 * that is decided:
 *   - its original is truncated: it is the copy, read from where we were in
 *     the original (logs_held_take, at the truncation);
 *   - it stops growing while the original still holds its bytes: a copy of
 *     lines we read or will read there, followed from its end;
 *   - it stops being a prefix of any followed file: a file of its own, placed
 *     by the identity rules (a new file with a shared header ends here).
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/logs/tailer_int.h"

#define HELD_MAX   256          /* beyond, new files are placed at once */
#define CMP_BYTES  256          /* compared just before the end */
#define CANDIDATES 16           /* followed files with the same head compared */
#define RECENT_MS  60000        /* data this recent: a live log, looked at first */

struct held {
	struct held *next;
	char *path;
	uint64_t dev, ino;
	int64_t size;               /* at the last look */
	struct timespec mtime;
	uint64_t since_ms;          /* size and mtime unchanged since */
	int verified;               /* at the last look, a byte prefix of a followed file */
};

/* same_dir - whether a and b name entries of the same directory */
static int
same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;

	return la == lb && memcmp(a, b, la) == 0;
}

/* bytes_equal - fd and o hold the same n bytes at off */
static int
bytes_equal(int fd, int o, uint64_t off, size_t n)
{
	uint8_t a[CMP_BYTES], b[CMP_BYTES];

	return pread(fd, a, n, (off_t)off) == (ssize_t)n && pread(o, b, n, (off_t)off) == (ssize_t)n &&
	    memcmp(a, b, n) == 0;
}

/*
 * prefix_state - how the file (fd, size bytes, head h) relates to followed
 * file o: 2 its bytes are o's first bytes (compared at the head and just
 * before its end), 1 o looks truncated or rewritten (not serviced yet) and the
 * file starts with o's old head, 0 neither. Files whose heads differ cost no
 * system call: o's head is kept.
 */
static int
prefix_state(struct tfile *o, int fd, uint64_t size, const struct head *h)
{
	uint32_t hn = h->len < o->fp.len ? h->len : o->fp.len;
	size_t n = size < CMP_BYTES ? (size_t)size : CMP_BYTES;
	struct stat sb;

	if (memcmp(h->bytes, o->head, hn) != 0 || fstat(o->fd, &sb) != 0)
		return 0;
	if ((uint64_t)sb.st_size < lsplit_read_off(&o->ls) || !fp_verify(o->fd, &o->fp))
		return size < o->fp.len || head_match(h, &o->fp) ? 1 : 0;
	if ((uint64_t)sb.st_size < size)
		return 0;
	return bytes_equal(fd, o->fd, size - n, n) ? 2 : 0;
}

/*
 * copy_state - the best prefix_state over the followed files of path's
 * directory. Files whose data is recent come first (copies are made of live
 * logs), and at most CANDIDATES heads that match are compared, so many files
 * sharing a header cost a bounded number of reads.
 */
static int
copy_state(struct tailer *t, const char *path, const struct stat *sb, int fd, uint64_t now)
{
	struct head h;
	int best = 0, tried = 0;

	if (head_read(fd, &h) != TFO_OK)
		return 0;
	for (int recent = 1; recent >= 0 && best < 2; recent--) {
		for (struct tfile *o = t->files; o != NULL && best < 2 && tried < CANDIDATES;
		    o = o->next) {
			int s;
			if (o->dev != (uint64_t)sb->st_dev || o->ino == (uint64_t)sb->st_ino ||
			    (now < o->last_data_ms + RECENT_MS) != recent || !same_dir(o->path, path) ||
			    memcmp(h.bytes, o->head, h.len < o->fp.len ? h.len : o->fp.len) != 0)
				continue;
			tried++;
			if ((s = prefix_state(o, fd, (uint64_t)sb->st_size, &h)) > best)
				best = s;
		}
	}
	return best;
}

static struct held *
held_find(struct tailer *t, uint64_t dev, uint64_t ino)
{
	for (struct held *h = t->held; h != NULL; h = h->next)
		if (h->dev == dev && h->ino == ino)
			return h;
	return NULL;
}

int
logs_hold(struct tailer *t, const char *path, const struct stat *sb, uint64_t now)
{
	struct held *h;
	int fd, st;

	if (held_find(t, sb->st_dev, sb->st_ino) != NULL)
		return 1;
	/* at the first scan a copy made while we were stopped is placed by its
	 * checkpoint (open.c); holding is for copies being made now */
	if (t->nheld >= HELD_MAX || t->files == NULL || t->first_scan)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;       /* the opener reports it */
	st = copy_state(t, path, sb, fd, now);
	close(fd);
	if (st == 0 || (h = calloc(1, sizeof(*h))) == NULL)
		return 0;
	if ((h->path = strdup(path)) == NULL) {
		free(h);
		return 0;
	}
	h->dev = sb->st_dev;
	h->ino = sb->st_ino;
	h->size = sb->st_size;
	h->mtime = sb->st_mtim;
	h->since_ms = now;
	h->verified = st == 2;
	h->next = t->held;
	t->held = h;
	t->nheld++;
	log_info("logs: %s: holds the first %lld bytes of a followed file: a copy being made? "
	    "not read until that is known", path, (long long)sb->st_size);
	return 1;
}

static void
held_drop(struct tailer *t, struct held **ph)
{
	struct held *h = *ph;

	*ph = h->next;
	free(h->path);
	free(h);
	t->nheld--;
}

/*
 * held_look - one held file now: 1 keep holding, 0 decided (placed or gone;
 * the caller drops it)
 */
static int
held_look(struct tailer *t, struct held *h, uint64_t now)
{
	struct stat sb;
	int fd, st, changed;
	uint64_t settle = t->rescan_ms > 1000 ? t->rescan_ms : 1000;

	if ((fd = open(h->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_dev != h->dev || (uint64_t)sb.st_ino != h->ino) {
		close(fd);
		return 0;       /* gone or replaced: the next scan sees what is there */
	}
	changed = sb.st_size != h->size || sb.st_mtim.tv_sec != h->mtime.tv_sec ||
	    sb.st_mtim.tv_nsec != h->mtime.tv_nsec;
	if (changed) {
		h->size = sb.st_size;
		h->mtime = sb.st_mtim;
		h->since_ms = now;
	}
	st = copy_state(t, h->path, &sb, fd, now);
	close(fd);
	/* 1: its original is being truncated; an unchanged file keeps what the
	 * last look proved */
	h->verified = st == 2 || (st == 1 && !changed && h->verified);
	if (st == 0) {
		log_info("logs: %s: no longer the start of a followed file: placed as a file of its own",
		    h->path);
		(void)logs_file_open(t, h->path, now, OPEN_PLACE, 0);
		return 0;
	}
	if (st == 2 && now >= h->since_ms + settle) {
		log_info("logs: %s: a copy of the first %lld bytes of a followed file, which still holds "
		    "them: reading from its end", h->path, (long long)h->size);
		(void)logs_file_open(t, h->path, now, OPEN_AT, (uint64_t)h->size);
		return 0;
	}
	return 1;
}

void
logs_held_run(struct tailer *t, uint64_t now)
{
	for (struct held **ph = &t->held; *ph != NULL;) {
		if (held_look(t, *ph, now))
			ph = &(*ph)->next;
		else
			held_drop(t, ph);
	}
}

int
logs_held_seen(struct tailer *t, uint64_t dev, uint64_t ino)
{
	return held_find(t, dev, ino) != NULL;
}

int
logs_copy_fit(struct tfile *f, int fd, uint64_t size, const struct fprint *mark, int has_mark,
    uint64_t *at)
{
	size_t n = size < CMP_BYTES ? (size_t)size : CMP_BYTES;
	uint8_t buf[CMP_BYTES];
	const uint8_t *p;

	if (size >= f->emit_off) {
		/* it holds all we read and more: the rest is what the truncation took */
		*at = f->emit_off;
		return fp_verify(fd, &f->fp) && (!has_mark || mark_verify(fd, f->emit_off, mark));
	}
	/* shorter than what we read (the writer went on after the copy): nothing in
	 * it is unread if it ends with the bytes we read there */
	*at = size;
	if (size < f->fp.len || !fp_verify(fd, &f->fp) || (p = lsplit_before(&f->ls, size, n)) == NULL)
		return 0;
	return pread(fd, buf, n, (off_t)(size - n)) == (ssize_t)n && memcmp(buf, p, n) == 0;
}

/* take_one - whether held file h is f's copy; if so it is followed from the right place */
static int
take_one(struct tailer *t, struct held *h, struct tfile *f, const struct fprint *mark,
    int has_mark, uint64_t now)
{
	struct stat sb;
	uint64_t at;
	int fd, ok;

	if (!same_dir(h->path, f->path) ||
	    (fd = open(h->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_ino != h->ino || (uint64_t)sb.st_dev != h->dev) {
		close(fd);
		return 0;
	}
	ok = logs_copy_fit(f, fd, (uint64_t)sb.st_size, mark, has_mark, &at);
	/* too short to tell from what we hold: it was a byte prefix of f at our
	 * last look and has not changed since */
	if (!ok && (uint64_t)sb.st_size < f->emit_off && h->verified && sb.st_size == h->size) {
		ok = 1;
		at = (uint64_t)sb.st_size;
	}
	close(fd);
	if (!ok)
		return 0;
	log_info("logs: %s: the copy of %s, truncated at %llu: reading it from %llu", h->path,
	    f->path, (unsigned long long)f->emit_off, (unsigned long long)at);
	return logs_file_open(t, h->path, now, OPEN_AT, at) != NULL;
}

int
logs_held_take(struct tailer *t, struct tfile *f, const struct fprint *mark, int has_mark,
    uint64_t now)
{
	for (struct held **ph = &t->held; *ph != NULL; ph = &(*ph)->next) {
		if (take_one(t, *ph, f, mark, has_mark, now)) {
			held_drop(t, ph);
			return 1;
		}
	}
	return 0;
}

void
logs_held_free(struct tailer *t)
{
	while (t->held != NULL)
		held_drop(t, &t->held);
}
