/*
 * tailer_int.h - tfo-logs engine internals shared by its files (tailer.c
 * reading and batching, scan.c globs, open.c placement, copies.c held
 * copies, slots.c the open-file limit, watch.c what inotify reports,
 * tfile.c per-file helpers). Not an API.
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
#define MAP_BUCKETS   4096                /* path -> file map (tfile.c) */
#define RETRY_MIN_MS  10
#define RETRY_MAX_MS  5000
#define TAIL_CHECK    64                  /* bytes before the read offset checked on growth */
#define IDLE_RELEASE_MS 10000             /* a file at its end gives its read buffer back */
#define BUF_KEEP      64                  /* beyond this many open files, at once */

struct held;

struct tfile {
	struct tfile *next;
	char *path;
	const char *name;        /* basename, inside path */
	int fd;
	uint64_t dev, ino;
	struct fprint fp;
	uint8_t head[TFO_LOGS_FP_MAX];   /* the fp.len bytes fp was taken from */
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
	char *cur;               /* the name it was last seen under (watch.c's map) */
	struct tfile *hnext;     /* watch.c's map chain */
	int dirty;               /* an event, or work left: service it at the next run */
	int remote;              /* on a filesystem whose changes inotify may not see */
	int via_link;            /* reached through a symlink: lives outside the watched dir */
	int polled;              /* logs_file_polled, kept current */
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
	uint32_t max_open;       /* files open at once (slots.c) */
	struct waitq *wait;      /* matches with no slot, in order (slots.c) */
	size_t nwait, capwait;
	struct idset *waited;    /* distinct files that ever waited */
	int cap_warned;
	uint64_t behind;         /* unread bytes of waiting files, at the last look */
	size_t ndirs;            /* entries of dirs */
	int inotify;             /* events say which files changed (watch.c) */
	uint8_t *dir_ok;         /* per dirs[]: watched, and inotify sees its changes */
	int rescan_periodic;     /* some pattern is not fully watched */
	uint64_t next_poll;
	struct tfile **map;      /* name -> followed file (watch.c) */
	size_t nmap;
	char **wake;             /* names that changed, not followed (watch.c) */
	size_t nwake;
	struct held *held;       /* possible copies not placed yet (copies.c) */
	char **roots;            /* where matches and their links may lead (linkrule.c) */
	uint64_t *refused;       /* hashes of refusals logged (linkrule.c) */
	size_t nrefused;
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

/* linkrule.c - why a match could not be opened (tailer.h: TFO_LOGS_OPEN_ERRS) */
enum logs_open_err {
	LOE_NONE,
	LOE_LINK_OWNER,          /* a symlink not owned by root or by its target's owner */
	LOE_HARDLINK,            /* other names, in a directory others may write */
	LOE_OUTSIDE,             /* leads outside the configured directories */
	LOE_DENIED,              /* EACCES/EPERM (Landlock, or permissions) */
	LOE_LOOP,                /* too many links */
	LOE_OTHER,
	LOE_MISSING,             /* gone meanwhile, or not a regular file: not an error */
	LOE_N
};
_Static_assert(LOE_N <= TFO_LOGS_OPEN_ERRS, "tailer_stats.open_errors holds every reason");
/*
 * logs_open_match - open the matched path for reading under the link rule;
 * an fd, or -1 with *err and a sentence in why. *linked: a symlink was on
 * the way (the file lives elsewhere: inotify on the glob's directory does not
 * see it change).
 */
int logs_open_match(struct tailer *t, const char *path, int *linked, enum logs_open_err *err,
    char *why, size_t whysz);
/* logs_open_failed - log (once per path and reason) and count a refusal */
void logs_open_failed(struct tailer *t, const char *path, enum logs_open_err e, const char *why);
const char *logs_open_err_name(enum logs_open_err e);

/* a match that found no free slot (slots.c) */
struct waitq {
	char *path;
	uint64_t dev, ino;
	uint64_t behind;         /* its unread bytes when it was found */
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

/*
 * slots.c - the open-file limit. logs_dormant_unchanged: (dev, ino) was
 * closed while idle and has not changed since (nothing to read). logs_slot:
 * a file may be opened now, else it waits (logs_wait).
 */
struct idset;
int logs_dormant_unchanged(struct tailer *t, const struct stat *sb);
int logs_slot(struct tailer *t);
void logs_wait(struct tailer *t, const char *path, const struct stat *sb);
void logs_wait_clear(struct tailer *t);
void logs_slots_free(struct tailer *t);
/* admit.c - logs_slots_balance: files at their end make room for waiting
 * ones, oldest activity first (closed, remembered where they stopped) */
void logs_slots_balance(struct tailer *t, uint64_t now);
/* logs_consider - a match not followed: held, skipped (dormant, unchanged),
 * waiting, or opened */
void logs_consider(struct tailer *t, const char *path, const struct stat *sb, uint64_t now);

/*
 * watch.c - what inotify reports: the names of changed files that are not
 * followed, woken (looked at) at the next run.
 */
void logs_wake_run(struct tailer *t, uint64_t now);
void logs_watch_free(struct tailer *t);

/* logs_matches - whether path is matched by a pattern and by no exclude */
int logs_matches(const struct tailer *t, const char *path);
/* logs_glob_dirs - the literal parent directory of each pattern (inotify) */
char **logs_glob_dirs(char **paths, size_t n);
/* logs_glob_roots - the literal directory part of each pattern (up to its
 * first glob character) and the extra directories: where files may be */
char **logs_glob_roots(char **paths, size_t n, char *const *extra, size_t nextra);
/* logs_scan - evaluate the globs: open new files, mark vanished ones gone */
void logs_scan(struct tailer *t, uint64_t now);
/* logs_file_head - take f's head again (it grew, or was truncated): fp and head */
enum tfo_err logs_file_head(struct tfile *f);
/* logs_file_close - close and free f, whose batch slots forget it (not unlinked) */
void logs_file_close(struct tailer *t, struct tfile *f);
/* logs_entry_mark - write e's checkpoint fingerprint once its offset stopped moving */
void logs_entry_mark(struct bentry *e, int may_read);
/* logs_file_settle_marks - f is about to lose the bytes its open-batch offsets end at */
void logs_file_settle_marks(struct tailer *t, struct tfile *f, int may_read);
/* logs_unlink_file - take f out of t->files and close it (counted) */
void logs_unlink_file(struct tailer *t, struct tfile *f);
/* the name -> followed file map inotify events are looked up in */
void logs_map_set(struct tailer *t, struct tfile *f, const char *name);
void logs_map_del(struct tailer *t, struct tfile *f);
struct tfile *logs_map_get(struct tailer *t, const char *name);
/* logs_file_polled - whether f must be polled: inotify cannot see its changes */
int logs_file_polled(const struct tailer *t, const struct tfile *f);
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
