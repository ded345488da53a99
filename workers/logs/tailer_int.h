/*
 * tailer_int.h - tfo-logs engine internals shared by tailer.c (reading,
 * batching) and scan.c (globs, identity, placement). Not an API.
 */
#ifndef TFO_LOGS_TAILER_INT_H
#define TFO_LOGS_TAILER_INT_H

#include <stdint.h>
#include <time.h>

#include "common/otlp_logs.h"
#include "workers/logs/fileid.h"
#include "workers/logs/lines.h"
#include "workers/logs/multiline.h"
#include "workers/logs/tailer.h"

#define FILE_BUDGET   (4u * 1024 * 1024)  /* bytes per file per run: fairness */
#define BATCH_FILES   64                  /* distinct files per batch */
#define RETRY_MIN_MS  10
#define RETRY_MAX_MS  5000
#define TAIL_CHECK    64                  /* bytes before the read offset checked on growth */

struct held;

struct tfile {
	struct tfile *next;
	char *path;
	const char *name;        /* basename, inside path */
	int fd;
	uint64_t dev, ino;
	struct fprint fp;
	struct lsplit ls;
	struct mline ml;
	uint64_t emit_off, ack_off;
	struct fprint mark;      /* the mark of mark_off, when mark_ok */
	uint64_t mark_off;
	int mark_ok;
	uint32_t gen;            /* bumped on truncation: older acks no longer apply */
	int copied;              /* a copy of it took over its unread bytes */
	uint8_t *attrs;          /* log.file.path and log.file.name, framed once */
	size_t attrs_len;
	uint64_t seen_scan;
	int gone, eof, closing;
	uint64_t gone_ms, last_data_ms;
	int64_t last_size;
	struct timespec last_mtime;
};

struct bentry {
	struct tfile *f;
	uint32_t gen;
	struct fprint fp;        /* the head fingerprint id and cpw are made from */
	char id[TFO_LOGS_FILE_ID_MAX];
	uint8_t cpw[TFO_LOGS_CP_WIRE];   /* head + the mark of cp.offset */
	int mark_pending;        /* cp.offset moved since cpw was written */
	char *path;
	Tfo__V1__Checkpoint cp;
};

/* One batch: its records and the checkpoint slot of each file in it. */
struct batch {
	struct tfo_otlp_logs *enc;
	struct bentry be[BATCH_FILES];
	size_t nbe;
};

enum { FLY_NONE, FLY_BUSY, FLY_FAILED };

struct tailer {
	char **paths, **exclude, **dirs;
	size_t npaths, nexclude;
	int start_end;
	size_t max_line;
	uint32_t batch_lines, batch_ms, rescan_ms;
	struct mline_rule rule;
	struct tfo_logs_sink sink;

	struct tfile *files;
	struct held *held;       /* possible copies not placed yet (copies.c) */
	size_t nheld;
	struct known_set known;
	uint64_t scan_gen, next_scan;
	int first_scan, rescan_now;

	struct batch *open;      /* being framed */
	struct batch *fly;       /* handed to an asynchronous sink (see tailer.h) */
	struct batch *next;      /* finished while fly was out: put after it (sealed) */
	int fly_state;           /* FLY_NONE, FLY_BUSY (put started), FLY_FAILED */
	uint64_t batch_start;
	int sealed;
	uint64_t retry_at;
	uint32_t backoff;

	char *scratch;           /* UTF-8 repair output: 3 * max_line + 1 */
	uint64_t obs_ns;
	struct tailer_stats st;
};

/* How logs_file_open places a file. */
enum open_how {
	OPEN_PLACE,              /* by the identity rules (fileid.h) */
	OPEN_RESUME_ONLY,        /* only if a checkpoint resumes it; followed as gone */
	OPEN_COPY,               /* a copy found at a truncation: from `at`, as gone */
	OPEN_AT,                 /* from `at` (a held copy let go at its end) */
};

/* logs_file_find - the followed file (dev, ino), or NULL */
struct tfile *logs_file_find(struct tailer *t, uint64_t dev, uint64_t ino);
/* logs_file_open - follow the file at path (open.c); NULL when not followed */
struct tfile *logs_file_open(struct tailer *t, const char *path, uint64_t now, enum open_how how,
    uint64_t at);

/*
 * copies.c: logs_hold - a new match at path that may be a copy being made of
 * a followed file is held instead of placed (1), or not (0: place it).
 * logs_held_run - look at the held files again, place those decided.
 * logs_held_seen - whether (dev, ino) is held. logs_held_take - f was
 * truncated: a held file that is its copy is followed from f's offset (mark:
 * the bytes before it, from memory); 1 if one was.
 */
struct stat;
int logs_hold(struct tailer *t, const char *path, const struct stat *sb, uint64_t now);
void logs_held_run(struct tailer *t, uint64_t now);
int logs_held_seen(struct tailer *t, uint64_t dev, uint64_t ino);
int logs_held_take(struct tailer *t, struct tfile *f, const struct fprint *mark, int has_mark,
    uint64_t now);
void logs_held_free(struct tailer *t);
/*
 * logs_copy_fit - f was truncated: whether fd (size bytes) is a copy of what
 * f held, and where to read it from (*at): from f's offset when it holds all
 * we read (head and mark agree), from its end when it ends inside what we
 * read (head agrees, and its last bytes are the ones f's splitter still holds).
 */
int logs_copy_fit(struct tfile *f, int fd, uint64_t size, const struct fprint *mark, int has_mark,
    uint64_t *at);

/* logs_glob_dirs - the literal parent directory of each pattern (inotify) */
char **logs_glob_dirs(char **paths, size_t n);
/* logs_scan - evaluate the globs: open new files, mark vanished ones gone */
void logs_scan(struct tailer *t, uint64_t now);
void logs_file_close(struct tailer *t, struct tfile *f);
/*
 * logs_file_mark - the mark of f's offset off: from what f's splitter still
 * holds, else (may_read) read from the file; 0 when neither has the bytes.
 */
int logs_file_mark(struct tfile *f, uint64_t off, int may_read, struct fprint *mark);
/*
 * logs_follow_copy - f was truncated: a copy of its old head in the same
 * directory (copytruncate's copy, complete by then) is followed from f's
 * emit_off to its end, so the lines f lost unread are read from the copy.
 */
int logs_follow_copy(struct tailer *t, struct tfile *f, uint64_t now);

#endif
