/*
 * fileid.c - tfo-logs fingerprints, marks and known checkpoints (runs in
 * tfo-logs). Checkpoints come back from the buffer, a sibling process: they
 * are validated like any outside input before they decide an offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workers/logs/fileid.h"

#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

uint64_t
fp_hash(const uint8_t *p, size_t n)
{
	uint64_t h = FNV_BASIS;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* read_at - up to want bytes from offset off; -1 on error */
static ssize_t
read_at(int fd, uint64_t off, uint8_t *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

enum tfo_err
fp_compute(int fd, struct fprint *fp)
{
	uint8_t buf[TFO_LOGS_FP_MAX];
	ssize_t n = read_at(fd, 0, buf, sizeof(buf));

	if (n < 0)
		return TFO_EIO;
	fp->len = (uint32_t)n;
	fp->hash = fp_hash(buf, (size_t)n);
	return TFO_OK;
}

int
fp_verify(int fd, const struct fprint *fp)
{
	uint8_t buf[TFO_LOGS_FP_MAX];
	ssize_t n;

	if (fp->len > TFO_LOGS_FP_MAX)
		return 0;
	n = read_at(fd, 0, buf, fp->len);
	return n == (ssize_t)fp->len && fp_hash(buf, fp->len) == fp->hash;
}

void
mark_of(const uint8_t *p, size_t n, struct fprint *mark)
{
	mark->len = (uint32_t)n;
	mark->hash = fp_hash(p, n);
}

int
mark_compute(int fd, uint64_t off, struct fprint *mark)
{
	uint8_t buf[TFO_LOGS_MARK_MAX];
	size_t n = off < TFO_LOGS_MARK_MAX ? (size_t)off : TFO_LOGS_MARK_MAX;

	if (read_at(fd, off - n, buf, n) != (ssize_t)n)
		return 0;
	mark_of(buf, n, mark);
	return 1;
}

int
mark_verify(int fd, uint64_t off, const struct fprint *mark)
{
	uint8_t buf[TFO_LOGS_MARK_MAX];

	if (mark->len > TFO_LOGS_MARK_MAX || mark->len > off)
		return 0;       /* TFO_LOGS_MARK_NONE, or not a mark of this offset */
	if (read_at(fd, off - mark->len, buf, mark->len) != (ssize_t)mark->len)
		return 0;
	return fp_hash(buf, mark->len) == mark->hash;
}

void
fp_encode(const struct fprint *fp, uint8_t out[TFO_LOGS_FP_WIRE])
{
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(fp->len >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(fp->hash >> (56 - 8 * i));
}

/* fp_decode_raw - one wire fingerprint, any len */
static void
fp_decode_raw(const uint8_t *p, struct fprint *fp)
{
	uint32_t len = 0;
	uint64_t h = 0;

	for (int i = 0; i < 4; i++)
		len = len << 8 | p[i];
	for (int i = 0; i < 8; i++)
		h = h << 8 | p[4 + i];
	fp->len = len;
	fp->hash = h;
}

enum tfo_err
fp_decode(const uint8_t *p, size_t n, struct fprint *fp)
{
	if (p == NULL || n != TFO_LOGS_FP_WIRE)
		return TFO_EINVAL;
	fp_decode_raw(p, fp);
	return fp->len > TFO_LOGS_FP_MAX ? TFO_EINVAL : TFO_OK;
}

enum tfo_err
cp_decode(const uint8_t *p, size_t n, struct fprint *head, struct fprint *mark, int *has_mark)
{
	if (p == NULL || (n != TFO_LOGS_FP_WIRE && n != TFO_LOGS_CP_WIRE) ||
	    fp_decode(p, TFO_LOGS_FP_WIRE, head) != TFO_OK)
		return TFO_EINVAL;
	*has_mark = n == TFO_LOGS_CP_WIRE;
	mark->len = 0;
	mark->hash = 0;
	if (*has_mark) {
		fp_decode_raw(p + TFO_LOGS_FP_WIRE, mark);
		if (mark->len > TFO_LOGS_MARK_MAX && mark->len != TFO_LOGS_MARK_NONE)
			return TFO_EINVAL;
	}
	return TFO_OK;
}

void
file_id_format(char *buf, size_t sz, uint64_t dev, uint64_t ino, const struct fprint *fp)
{
	snprintf(buf, sz, "%" PRIu64 ":%" PRIu64 ":%08" PRIx32 "%016" PRIx64,
	    dev, ino, fp->len, fp->hash);
}

enum tfo_err
head_read(int fd, struct head *h)
{
	ssize_t n = read_at(fd, 0, h->bytes, sizeof(h->bytes));
	uint64_t v = FNV_BASIS;

	if (n < 0)
		return TFO_EIO;
	h->len = (uint32_t)n;
	h->pre[0] = v;
	for (ssize_t i = 0; i < n; i++) {
		v ^= h->bytes[i];
		v *= FNV_PRIME;
		h->pre[i + 1] = v;
	}
	return TFO_OK;
}

int
head_match(const struct head *h, const struct fprint *fp)
{
	return fp->len <= h->len && h->pre[fp->len] == fp->hash;
}

void
known_init(struct known_set *ks)
{
	memset(ks, 0, sizeof(*ks));
}

void
known_fini(struct known_set *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i].path);
	free(ks->k);
	known_init(ks);
}

/* known_slot - the entry to (re)use for dev, ino, fp */
static struct known *
known_slot(struct known_set *ks, uint64_t dev, uint64_t ino, const struct fprint *fp)
{
	size_t oldest = 0;

	for (size_t i = 0; i < ks->n; i++) {
		struct known *k = &ks->k[i];
		if (k->dev == dev && k->ino == ino && k->fp.len == fp->len && k->fp.hash == fp->hash)
			return k;
		if (k->age < ks->k[oldest].age)
			oldest = i;
	}
	if (ks->n == ks->cap && ks->cap < TFO_LOGS_KNOWN_MAX) {
		size_t ncap = ks->cap ? ks->cap * 2 : 16;
		struct known *nk = realloc(ks->k, ncap * sizeof(*nk));
		if (nk == NULL)
			return NULL;
		ks->k = nk;
		ks->cap = ncap;
	}
	if (ks->n < ks->cap) {
		memset(&ks->k[ks->n], 0, sizeof(ks->k[0]));
		return &ks->k[ks->n++];
	}
	return &ks->k[oldest];         /* full: the oldest is forgotten */
}

enum tfo_err
known_add(struct known_set *ks, uint64_t dev, uint64_t ino, const struct fprint *fp,
    const struct fprint *mark, uint64_t off, const char *path)
{
	struct known *k = known_slot(ks, dev, ino, fp);
	char *p;

	if (k == NULL)
		return TFO_ENOMEM;
	p = strdup(path ? path : "");
	free(k->path);
	k->dev = dev;
	k->ino = ino;
	k->fp = *fp;
	k->has_mark = 1;
	k->mark = mark ? *mark : (struct fprint){ TFO_LOGS_MARK_NONE, 0 };
	k->off = off;
	k->path = p;
	k->age = ++ks->clock;
	k->dormant = 0;
	return p == NULL ? TFO_ENOMEM : TFO_OK;
}

struct known *
known_find(struct known_set *ks, uint64_t dev, uint64_t ino)
{
	struct known *best = NULL;

	for (size_t i = 0; i < ks->n; i++)
		if (ks->k[i].dev == dev && ks->k[i].ino == ino && (best == NULL || ks->k[i].age > best->age))
			best = &ks->k[i];
	return best;
}

void
known_load(struct known_set *ks, const Tfo__V1__Checkpoint *const *cps, size_t n)
{
	struct fprint fp, mark;
	int has_mark;

	for (size_t i = 0; i < n; i++) {
		const Tfo__V1__Checkpoint *c = cps[i];
		if (c == NULL || cp_decode(c->fingerprint.data, c->fingerprint.len, &fp, &mark,
		    &has_mark) != TFO_OK || c->path == NULL || strnlen(c->path, PATH_MAX) >= PATH_MAX ||
		    c->offset > (uint64_t)INT64_MAX) {
			ks->rejected++;
			continue;
		}
		if (known_add(ks, c->dev, c->ino, &fp, has_mark ? &mark : NULL, c->offset,
		    c->path) != TFO_OK) {
			ks->rejected++;
			continue;
		}
		if (!has_mark)          /* written by an agent before marks */
			known_slot(ks, c->dev, c->ino, &fp)->has_mark = 0;
	}
}

/* better - whether a (a verified candidate) beats b: a mark beats none, then the furthest */
static int
better(const struct known *a, const struct known *b)
{
	if (b == NULL || a->has_mark != b->has_mark)
		return b == NULL || a->has_mark;
	return a->off > b->off;
}

/* same_inode - the checkpoints of (dev, ino): the verified one in *best, else why not */
static void
same_inode(const struct known_set *ks, int fd, uint64_t dev, uint64_t ino,
    const struct head *h, uint64_t size, struct placement *pl)
{
	const struct known *best = NULL, *shrunk = NULL, *other = NULL;

	for (size_t i = 0; i < ks->n; i++) {
		const struct known *k = &ks->k[i];
		if (k->dev != dev || k->ino != ino)
			continue;
		if (k->off > size)
			shrunk = k;     /* never resumed past its end */
		else if (head_match(h, &k->fp) && (!k->has_mark || mark_verify(fd, k->off, &k->mark))) {
			if (better(k, best))
				best = k;
		} else {
			other = k;      /* inode reused, or rewritten while away */
		}
	}
	if (best != NULL)
		*pl = (struct placement){ best->has_mark ? PLACE_RESUME : PLACE_RESUME_LEGACY,
		    best->off, best };
	else if (shrunk != NULL)
		*pl = (struct placement){ PLACE_SHRUNK, 0, shrunk };
	else if (other != NULL)
		*pl = (struct placement){ PLACE_REWRITTEN, 0, other };
}

void
known_place(const struct known_set *ks, int fd, uint64_t dev, uint64_t ino,
    const struct head *h, uint64_t size, const char *path, struct placement *pl)
{
	const struct known *copy = NULL;

	*pl = (struct placement){ PLACE_NEW, 0, NULL };
	same_inode(ks, fd, dev, ino, h, size, pl);
	if (pl->rule == PLACE_RESUME || pl->rule == PLACE_RESUME_LEGACY)
		return;
	/* another inode with a checkpoint's head and the bytes before its offset:
	 * a copy of that file (copytruncate's, made while we were away) */
	for (size_t i = 0; i < ks->n; i++) {
		const struct known *k = &ks->k[i];
		if ((k->dev == dev && k->ino == ino) || !k->has_mark || k->off > size ||
		    k->off == 0 || !head_match(h, &k->fp) || (copy != NULL && copy->off >= k->off))
			continue;
		if (mark_verify(fd, k->off, &k->mark))
			copy = k;
	}
	if (copy != NULL) {
		*pl = (struct placement){ PLACE_COPY, copy->off, copy };
		return;
	}
	if (pl->rule != PLACE_NEW)
		return;
	for (size_t i = 0; path != NULL && i < ks->n; i++)
		if (ks->k[i].path != NULL && strcmp(ks->k[i].path, path) == 0) {
			*pl = (struct placement){ PLACE_SUCCESSOR, 0, &ks->k[i] };
			return;
		}
}

const char *
place_rule_text(enum place_rule r)
{
	switch (r) {
	case PLACE_NEW:
		return "new file";
	case PLACE_RESUME:
		return "same file (inode, head and the bytes before the offset agree)";
	case PLACE_RESUME_LEGACY:
		return "same inode and head, a checkpoint without a mark (written by an older agent)";
	case PLACE_SHRUNK:
		return "same inode, now smaller than its checkpoint (truncated or replaced while stopped)";
	case PLACE_REWRITTEN:
		return "same inode, other content (inode reused, or rewritten while stopped)";
	case PLACE_SUCCESSOR:
		return "a new file at a path a checkpoint names (rotated while stopped)";
	case PLACE_COPY:
		return "a copy of a checkpointed file (its head and the bytes before the offset)";
	}
	return "?";
}
