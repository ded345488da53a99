/*
 * tailer.h - the tfo-logs engine: finds files by glob, follows them by
 * identity across rotation and truncation, frames lines into OTLP log
 * records and hands batches with their checkpoints to a sink. It does no
 * waiting of its own: the caller (main.c's libevent loop, a test, the bench)
 * calls tailer_run() when told to and when files change.
 */
#ifndef TFO_LOGS_TAILER_H
#define TFO_LOGS_TAILER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_LOGS_DEF_MAX_LINE      (64 * 1024)
#define TFO_LOGS_DEF_BATCH_LINES   10000
#define TFO_LOGS_DEF_BATCH_MS      200
#define TFO_LOGS_DEF_RESCAN_MS     5000
#define TFO_LOGS_DEF_ML_TIMEOUT_MS 1000
/* payload cap per Put: each put costs a synced group commit and a request of
 * its own; 2 MiB (not 1) was 30 % more throughput in bench-logs-e2e, and keeps
 * an export request of one batch well under the 4 MiB that gRPC servers,
 * the OpenTelemetry Collector's included, accept by default. */
#define TFO_LOGS_BATCH_MAX_BYTES   (2 * 1024 * 1024)
/* max_line_size's ceiling. A batch closes once it reaches the cap above, so
 * it can hold the cap plus one record; a record's body is at most 3x the line
 * (every invalid byte becomes U+FFFD). Both must stay under tfo-buffer's 4 MiB
 * ingest limit and gRPC's default 4 MiB message, or one hostile line would
 * make a put that is refused forever and stall the tailer. */
#define TFO_LOGS_MAX_LINE_MAX      (512 * 1024)
_Static_assert(TFO_LOGS_BATCH_MAX_BYTES + 3 * TFO_LOGS_MAX_LINE_MAX + 64 * 1024 < 4 * 1024 * 1024,
    "a batch of the cap plus one longest record must fit a 4 MiB put and request");
/* max_open_files 0: RLIMIT_NOFILE less what the worker needs besides files */
#define TFO_LOGS_FD_RESERVE        128
#define TFO_LOGS_MIN_OPEN          16
#define TFO_LOGS_ATTR_TRUNCATED    "telemetryflow.log.truncated"

/*
 * struct tfo_logs_sink - where batches go. put returns TFO_OK once the records
 * and checkpoints are stored, TFO_EAGAIN when the store is full (Busy; set
 * *retry_after_ms), anything else when the outcome is unknown or failed: the
 * same records are offered again later, never dropped.
 *
 * With wait set the sink is asynchronous: put only starts the put (TFO_OK:
 * started) and wait gives its outcome as above, or TFO_EINPROGRESS when it
 * has not finished and block is 0. The batch and checkpoints given to put
 * stay untouched until wait has answered, and at most one put is ever in
 * flight: the tailer frames the next batch meanwhile. A failed put is started
 * again with the same batch before any later one.
 *
 * seal, optional with wait, is given a finished batch that must wait for the
 * put in flight (the tailer frames the one after it meanwhile): the sink may
 * prepare it (tfo-logs compresses it). The batch is unchanged until its put,
 * which comes before any other batch is sealed; a failed put in flight may
 * be started again in between.
 */
struct tfo_logs_sink {
	enum tfo_err (*put)(void *arg, const uint8_t *payload, size_t len, uint32_t records,
	    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry_after_ms);
	enum tfo_err (*wait)(void *arg, int block, uint32_t *retry_after_ms);
	void (*seal)(void *arg, const uint8_t *payload, size_t len);
	void *arg;
};

/* reasons a match is not opened, counted in tailer_stats.open_errors (index:
 * tailer_open_err_name; 0 is unused) */
#define TFO_LOGS_OPEN_ERRS 8

struct tailer_stats {
	uint64_t lines, bytes, records, puts, put_busy, put_errors;
	uint64_t truncated_records, utf8_repaired, files_opened, files_closed;
	uint64_t truncations, copies_found, checkpoints_resumed, checkpoints_rejected;
	uint64_t files_skipped;          /* distinct files that ever waited for a slot */
	uint64_t files_slept;            /* closed at their end to make room */
	uint64_t read_errors;
	uint32_t files_open, files_waiting;
	uint64_t bytes_behind;           /* unread bytes of waiting and open files */
	uint32_t max_open;
	uint64_t open_errors[TFO_LOGS_OPEN_ERRS];  /* distinct paths refused, by reason */
};

struct tailer;

/* tailer_new - validate cfg (defaults for zeros); NULL with *err on a bad config or ENOMEM */
struct tailer *tailer_new(const Tfo__V1__LogsConfig *cfg,
    const Opentelemetry__Proto__Resource__V1__Resource *res,
    const struct tfo_logs_sink *sink, enum tfo_err *err);
void tailer_free(struct tailer *t);
/* tailer_load_checkpoints - the buffer's stored checkpoints; call before the first run */
void tailer_load_checkpoints(struct tailer *t, const Tfo__V1__Checkpoint *const *cps, size_t n);
/*
 * tailer_run - do all work due at now_ms (monotonic): rescan, read, frame,
 * flush. Returns the delay in ms before it wants to run again (0 = more work
 * is ready now); poll_ms caps it (the polling fallback when no inotify).
 */
uint64_t tailer_run(struct tailer *t, uint64_t now_ms, uint32_t poll_ms);
/* tailer_rescan_soon - re-evaluate the globs at the next run (a directory changed) */
void tailer_rescan_soon(struct tailer *t);
/*
 * tailer_drain - flush held multiline records and the open batch (shutdown).
 * Unterminated last lines stay unread: the checkpoint does not cover them.
 * TFO_OK when nothing is left, else the put's error.
 */
enum tfo_err tailer_drain(struct tailer *t, uint64_t now_ms);
const struct tailer_stats *tailer_stats(const struct tailer *t);
/* tailer_open_err_name - "link_owner", "hardlink", ... for open_errors[i]; NULL when unused */
const char *tailer_open_err_name(size_t i);
/* tailer_roots - where matched files and their links may lead (the literal
 * directory part of each pattern, and link_target_dirs): Landlock's read rules */
const char *const *tailer_roots(const struct tailer *t);
/* tailer_dirs - the directories named by the globs (for inotify), NULL-terminated */
const char *const *tailer_dirs(const struct tailer *t);
/*
 * With inotify the caller says which of tailer_dirs() it watches
 * (tailer_set_watched; ok 0: not, or changes there are not all seen: network
 * and overlay filesystems), then reports each change by name (tailer_notify),
 * a lost event queue (tailer_overflow), and directory changes (create,
 * rename, delete) with tailer_rescan_soon. From the first tailer_set_watched
 * on, a run reads only the files named and polls only what inotify cannot see.
 */
void tailer_set_watched(struct tailer *t, size_t dir, int ok);
void tailer_notify(struct tailer *t, size_t dir, const char *name);
void tailer_overflow(struct tailer *t);
/* tailer_fs_remote - whether inotify may miss changes on a filesystem of
 * f_type: network filesystems (a change made on another host), FUSE, overlay
 * (a change made in a lower layer) */
int tailer_fs_remote(unsigned long f_type);

#endif
