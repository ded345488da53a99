/*
 * fileid.h - tfo-logs file identity: (device, inode) plus a fingerprint of
 * the first bytes, and the table of known checkpoints (loaded from the
 * buffer at start, or left by files let go) that decides where a newly seen
 * file is read from.
 */
#ifndef TFO_LOGS_FILEID_H
#define TFO_LOGS_FILEID_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_LOGS_FP_MAX 256      /* bytes hashed into a fingerprint */
#define TFO_LOGS_FP_WIRE 12      /* Checkpoint.fingerprint: u32 len BE + u64 hash BE */
#define TFO_LOGS_FILE_ID_MAX 72  /* "<dev>:<ino>:<24 hex>" */
#define TFO_LOGS_KNOWN_MAX 1024

struct fprint {
	uint32_t len;            /* bytes hashed: min(file size, TFO_LOGS_FP_MAX) */
	uint64_t hash;           /* FNV-1a 64 of those bytes */
};

/* fp_compute - fingerprint the first bytes of fd; TFO_EIO on a read error */
enum tfo_err fp_compute(int fd, struct fprint *fp);
/* fp_verify - 1 if fd's first fp->len bytes still hash to fp->hash */
int fp_verify(int fd, const struct fprint *fp);
uint64_t fp_hash(const uint8_t *p, size_t n);
void fp_encode(const struct fprint *fp, uint8_t out[TFO_LOGS_FP_WIRE]);
/* fp_decode - TFO_EINVAL unless exactly TFO_LOGS_FP_WIRE bytes with len <= FP_MAX */
enum tfo_err fp_decode(const uint8_t *p, size_t n, struct fprint *fp);
/* file_id_format - "<dev>:<ino>:<fingerprint hex>", the buffer's checkpoint key */
void file_id_format(char *buf, size_t sz, uint64_t dev, uint64_t ino, const struct fprint *fp);

/* struct known - one remembered checkpoint */
struct known {
	uint64_t dev, ino, off;
	struct fprint fp;
	char *path;
	uint64_t age;            /* insertion order, for eviction */
};

struct known_set {
	struct known *k;
	size_t n, cap;
	uint64_t clock;
	uint64_t rejected;       /* malformed checkpoints refused */
};

void known_init(struct known_set *ks);
void known_fini(struct known_set *ks);
/* known_add - remember (replacing the same dev, ino, fingerprint); evicts the oldest when full */
enum tfo_err known_add(struct known_set *ks, uint64_t dev, uint64_t ino,
    const struct fprint *fp, uint64_t off, const char *path);
/* known_load - add checkpoints from the buffer; malformed ones are counted and skipped */
void known_load(struct known_set *ks, const Tfo__V1__Checkpoint *const *cps, size_t n);

enum place_why {
	PLACE_CHECKPOINT,        /* same dev, ino and fingerprint: resume there */
	PLACE_COPY,              /* same full fingerprint elsewhere: a copy (copytruncate) */
	PLACE_REPLACED,          /* known inode or path with other content: from 0 */
	PLACE_NEW,               /* never seen: start_at decides */
};

/*
 * known_place - where to start reading a newly opened file of `size` bytes
 * whose fingerprint is fp. *off is set for CHECKPOINT and COPY.
 */
enum place_why known_place(const struct known_set *ks, int fd, uint64_t dev, uint64_t ino,
    const struct fprint *fp, uint64_t size, const char *path, uint64_t *off);

#endif
