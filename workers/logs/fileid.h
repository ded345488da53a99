/*
 * fileid.h - tfo-logs file identity: (device, inode), a fingerprint of the
 * first bytes (the head) and one of the bytes just before a stored offset
 * (the mark), and the table of known checkpoints (loaded from the buffer at
 * start, or left by files let go) that decides where a newly seen file is
 * read from. Rules and their reasons: docs/logs.md "Identity".
 */
#ifndef TFO_LOGS_FILEID_H
#define TFO_LOGS_FILEID_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_LOGS_FP_MAX 256      /* bytes hashed into a head fingerprint */
#define TFO_LOGS_MARK_MAX 256    /* bytes before an offset hashed into its mark */
#define TFO_LOGS_FP_WIRE 12      /* one fingerprint: u32 len BE + u64 hash BE */
/* Checkpoint.fingerprint: the head, then the mark of Checkpoint.offset. A
 * checkpoint of 12 bytes (an agent before marks) has no mark. */
#define TFO_LOGS_CP_WIRE (2 * TFO_LOGS_FP_WIRE)
#define TFO_LOGS_FILE_ID_MAX 72  /* "<dev>:<ino>:<24 hex>" */
#define TFO_LOGS_KNOWN_MAX 65536
#define TFO_LOGS_MARK_NONE UINT32_MAX  /* fprint.len of a mark that could not be taken */

struct fprint {
	uint32_t len;            /* bytes hashed */
	uint64_t hash;           /* FNV-1a 64 of those bytes */
};

/* fp_compute - fingerprint the first min(size, FP_MAX) bytes of fd; TFO_EIO on a read error */
enum tfo_err fp_compute(int fd, struct fprint *fp);
/* fp_verify - 1 if fd's first fp->len bytes still hash to fp->hash */
int fp_verify(int fd, const struct fprint *fp);
/* mark_compute - the mark of offset off: the min(off, MARK_MAX) bytes before it, read
 * from fd; 0 when fd no longer holds them (shorter: truncated) */
int mark_compute(int fd, uint64_t off, struct fprint *mark);
/* mark_of - the mark of the n bytes at p that end at an offset (taken from memory) */
void mark_of(const uint8_t *p, size_t n, struct fprint *mark);
/* mark_verify - 1 if fd holds, just before off, the bytes mark was taken from */
int mark_verify(int fd, uint64_t off, const struct fprint *mark);
uint64_t fp_hash(const uint8_t *p, size_t n);
void fp_encode(const struct fprint *fp, uint8_t out[TFO_LOGS_FP_WIRE]);
/* fp_decode - TFO_EINVAL unless exactly TFO_LOGS_FP_WIRE bytes with len <= FP_MAX */
enum tfo_err fp_decode(const uint8_t *p, size_t n, struct fprint *fp);
/* cp_decode - Checkpoint.fingerprint: head and, when present, mark (*has_mark) */
enum tfo_err cp_decode(const uint8_t *p, size_t n, struct fprint *head, struct fprint *mark,
    int *has_mark);
/* file_id_format - "<dev>:<ino>:<fingerprint hex>", the buffer's checkpoint key */
void file_id_format(char *buf, size_t sz, uint64_t dev, uint64_t ino, const struct fprint *fp);

/*
 * struct head - the first bytes of a newly seen file, hashed once so that
 * every known head fingerprint is checked against it in O(1): FNV-1a is a
 * running hash, and pre[i] is its state after i bytes.
 */
struct head {
	uint32_t len;            /* bytes read: min(size, FP_MAX) */
	uint64_t pre[TFO_LOGS_FP_MAX + 1];
	uint8_t bytes[TFO_LOGS_FP_MAX];
};

/* head_read - the head of fd; TFO_EIO on a read error */
enum tfo_err head_read(int fd, struct head *h);
/* head_match - whether the file's first fp->len bytes are the ones fp was taken from */
int head_match(const struct head *h, const struct fprint *fp);

/* struct known - one remembered checkpoint */
struct known {
	uint64_t dev, ino, off;
	struct fprint fp;        /* head */
	struct fprint mark;      /* of off */
	int has_mark;            /* 0: a checkpoint from an agent before marks */
	char *path;
	uint64_t age;            /* insertion order, for eviction */
	/* closed while idle (the open-file limit): its size and mtime then, so
	 * that it is opened again only when it changed */
	int dormant;
	int64_t dsize;
	struct timespec dmtime;
	uint64_t seen;           /* the last scan (tfo-logs' count) that found it */
};

struct known_set {
	struct known *k;
	size_t n, cap;
	uint64_t clock;
	uint64_t rejected;       /* malformed checkpoints refused */
};

void known_init(struct known_set *ks);
void known_fini(struct known_set *ks);
/* known_add - remember (replacing the same dev, ino, head); evicts the oldest when full.
 * mark NULL: none known (the entry can place no copy). */
enum tfo_err known_add(struct known_set *ks, uint64_t dev, uint64_t ino,
    const struct fprint *fp, const struct fprint *mark, uint64_t off, const char *path);
/* known_find - the newest entry of (dev, ino), or NULL */
struct known *known_find(struct known_set *ks, uint64_t dev, uint64_t ino);
/* known_load - add checkpoints from the buffer; malformed ones are counted and skipped */
void known_load(struct known_set *ks, const Tfo__V1__Checkpoint *const *cps, size_t n);

/* Where a newly seen file is read from, and the rule that decided it. */
enum place_rule {
	PLACE_NEW,               /* never seen: offset 0 (start_at: end at the first scan) */
	PLACE_RESUME,            /* same file: (dev, ino), head and mark agree: its offset */
	PLACE_RESUME_LEGACY,     /* same (dev, ino) and head, a checkpoint without a mark */
	PLACE_SHRUNK,            /* same (dev, ino), now smaller than the offset: from 0 */
	PLACE_REWRITTEN,         /* same (dev, ino), head or mark differ: from 0 */
	PLACE_SUCCESSOR,         /* another file at a path a checkpoint names: from 0 */
	PLACE_COPY,              /* another inode holding a checkpoint's head and mark */
};

struct placement {
	enum place_rule rule;
	uint64_t off;            /* RESUME*, COPY: the checkpoint's offset; else 0 */
	const struct known *k;   /* the checkpoint that decided, when one did */
};

/*
 * known_place - where to read a newly opened file (fd, dev, ino) of `size`
 * bytes with head h from. A file is resumed at a stored offset only when the
 * offset fits in it and both its head and the bytes just before the offset
 * are the ones read (the mark); a head match alone is never proof. COPY is
 * a candidate only: the caller decides whether the checkpoint's own file
 * still holds those bytes (then the copy adds nothing).
 */
void known_place(const struct known_set *ks, int fd, uint64_t dev, uint64_t ino,
    const struct head *h, uint64_t size, const char *path, struct placement *pl);
/* place_rule_text - the rule in the words of the log line */
const char *place_rule_text(enum place_rule r);

#endif
