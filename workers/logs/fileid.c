/*
 * fileid.c - tfo-logs fingerprints and known checkpoints. Checkpoints come
 * back from the buffer, a sibling process: they are validated like any
 * outside input before they decide an offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workers/logs/fileid.h"

uint64_t
fp_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* read_head - up to want bytes from offset 0; -1 on error */
static ssize_t
read_head(int fd, uint8_t *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
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
	ssize_t n = read_head(fd, buf, sizeof(buf));

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
	n = read_head(fd, buf, fp->len);
	return n == (ssize_t)fp->len && fp_hash(buf, fp->len) == fp->hash;
}

void
fp_encode(const struct fprint *fp, uint8_t out[TFO_LOGS_FP_WIRE])
{
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(fp->len >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(fp->hash >> (56 - 8 * i));
}

enum tfo_err
fp_decode(const uint8_t *p, size_t n, struct fprint *fp)
{
	uint32_t len = 0;
	uint64_t h = 0;

	if (p == NULL || n != TFO_LOGS_FP_WIRE)
		return TFO_EINVAL;
	for (int i = 0; i < 4; i++)
		len = len << 8 | p[i];
	for (int i = 0; i < 8; i++)
		h = h << 8 | p[4 + i];
	if (len > TFO_LOGS_FP_MAX)
		return TFO_EINVAL;
	fp->len = len;
	fp->hash = h;
	return TFO_OK;
}

void
file_id_format(char *buf, size_t sz, uint64_t dev, uint64_t ino, const struct fprint *fp)
{
	snprintf(buf, sz, "%" PRIu64 ":%" PRIu64 ":%08" PRIx32 "%016" PRIx64,
	    dev, ino, fp->len, fp->hash);
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
    uint64_t off, const char *path)
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
	k->off = off;
	k->path = p;
	k->age = ++ks->clock;
	return p == NULL ? TFO_ENOMEM : TFO_OK;
}

void
known_load(struct known_set *ks, const Tfo__V1__Checkpoint *const *cps, size_t n)
{
	struct fprint fp;

	for (size_t i = 0; i < n; i++) {
		const Tfo__V1__Checkpoint *c = cps[i];
		if (c == NULL || fp_decode(c->fingerprint.data, c->fingerprint.len, &fp) != TFO_OK ||
		    c->path == NULL || strnlen(c->path, PATH_MAX) >= PATH_MAX ||
		    c->offset > (uint64_t)INT64_MAX) {
			ks->rejected++;
			continue;
		}
		if (known_add(ks, c->dev, c->ino, &fp, c->offset, c->path) != TFO_OK)
			ks->rejected++;
	}
}

enum place_why
known_place(const struct known_set *ks, int fd, uint64_t dev, uint64_t ino,
    const struct fprint *fp, uint64_t size, const char *path, uint64_t *off)
{
	const struct known *best = NULL;
	int replaced = 0;

	for (size_t i = 0; i < ks->n; i++) {
		const struct known *k = &ks->k[i];
		if (k->dev != dev || k->ino != ino)
			continue;
		if (!fp_verify(fd, &k->fp)) {
			replaced = 1;   /* the inode was reused, or rewritten while away */
			continue;
		}
		/* the longest fingerprint is the latest; then the furthest offset */
		if (best == NULL || k->fp.len > best->fp.len ||
		    (k->fp.len == best->fp.len && k->off > best->off))
			best = k;
	}
	*off = 0;
	if (best != NULL) {
		if (best->off > size)
			return PLACE_REPLACED;   /* truncated while we were away */
		*off = best->off;
		return PLACE_CHECKPOINT;
	}
	for (size_t i = 0; fp->len == TFO_LOGS_FP_MAX && i < ks->n; i++) {
		const struct known *k = &ks->k[i];
		if (k->fp.len == fp->len && k->fp.hash == fp->hash) {
			/* a copy shorter than our offset holds only what we read already */
			*off = k->off <= size ? k->off : size;
			return PLACE_COPY;
		}
	}
	for (size_t i = 0; !replaced && path != NULL && i < ks->n; i++)
		if (ks->k[i].path != NULL && strcmp(ks->k[i].path, path) == 0)
			replaced = 1;   /* a successor at a known path (rotated while away) */
	return replaced ? PLACE_REPLACED : PLACE_NEW;
}
