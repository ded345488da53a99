/*
 * tailer.c - tfo-logs engine (runs in tfo-logs, and in tests/bench through a
 * fake sink). Offsets: a file's emit_off is the end of the last record put
 * into a batch, ack_off the end of the last record the sink stored. The
 * checkpoint sent with a batch is emit_off at that time, so a stored offset
 * never runs ahead of stored records; unframed and held bytes are re-read
 * after a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/otlp_logs.h"
#include "common/zarray.h"
#include "workers/logs/fileid.h"
#include "workers/logs/lines.h"
#include "workers/logs/multiline.h"
#include "workers/logs/tailer.h"
#include "workers/logs/tailer_int.h"

static char **
strv_dup(char *const *v, size_t n)
{
	char **r = calloc(n + 1, sizeof(*r));

	for (size_t i = 0; r != NULL && i < n; i++) {
		if ((r[i] = strdup(v[i] ? v[i] : "")) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(r[j]);
			free(r);
			return NULL;
		}
	}
	return r;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * open_limit - files open at once: the configured number, or RLIMIT_NOFILE
 * less what the worker needs besides files (nng, inotify, pipes, the short
 * opens of the copy and identity checks); never more than that either.
 */
static uint32_t
open_limit(uint32_t want)
{
	struct rlimit rl;
	uint64_t room = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		room = rl.rlim_cur;
	room = room > TFO_LOGS_FD_RESERVE + TFO_LOGS_MIN_OPEN ? room - TFO_LOGS_FD_RESERVE :
	    TFO_LOGS_MIN_OPEN;
	if (room > UINT32_MAX)
		room = UINT32_MAX;
	if (want == 0)
		return (uint32_t)room;
	if (want > room) {
		log_warn("logs: collectors.logs.max_open_files %u is more than RLIMIT_NOFILE allows "
		    "(%llu with %u kept for the worker): using %llu", want,
		    (unsigned long long)room + TFO_LOGS_FD_RESERVE, TFO_LOGS_FD_RESERVE,
		    (unsigned long long)room);
		return (uint32_t)room;
	}
	return want;
}

static enum tfo_err
tailer_config(struct tailer *t, const Tfo__V1__LogsConfig *cfg)
{
	if (cfg == NULL || cfg->n_paths == 0)
		return TFO_EINVAL;
	if (cfg->start_at == NULL || cfg->start_at[0] == '\0' || strcmp(cfg->start_at, "end") == 0)
		t->start_end = 1;
	else if (strcmp(cfg->start_at, "beginning") != 0)
		return TFO_EINVAL;
	t->max_line = cfg->max_line_size ? cfg->max_line_size : TFO_LOGS_DEF_MAX_LINE;
	if (t->max_line < 64 || t->max_line > TFO_LOGS_MAX_LINE_MAX)
		return TFO_ERANGE;
	t->batch_lines = cfg->batch_max_lines ? cfg->batch_max_lines : TFO_LOGS_DEF_BATCH_LINES;
	t->batch_ms = cfg->batch_max_ms ? cfg->batch_max_ms : TFO_LOGS_DEF_BATCH_MS;
	t->rescan_ms = cfg->rescan_interval_ms ? cfg->rescan_interval_ms : TFO_LOGS_DEF_RESCAN_MS;
	if (t->batch_ms > 60000 || t->rescan_ms > 3600000)
		return TFO_ERANGE;
	t->npaths = cfg->n_paths;
	t->nexclude = cfg->n_exclude;
	t->paths = strv_dup(cfg->paths, cfg->n_paths);
	t->exclude = strv_dup(cfg->exclude, cfg->n_exclude);
	if (t->paths == NULL || t->exclude == NULL)
		return TFO_ENOMEM;
	t->dirs = logs_glob_dirs(t->paths, t->npaths);
	if ((t->roots = logs_glob_roots(t->paths, t->npaths, cfg->link_target_dirs,
	    cfg->n_link_target_dirs)) == NULL)
		return TFO_ENOMEM;
	for (t->ndirs = 0; t->dirs != NULL && t->dirs[t->ndirs] != NULL; t->ndirs++)
		;
	if ((t->dir_ok = calloc(t->ndirs + 1, 1)) == NULL)
		return TFO_ENOMEM;
	t->max_open = open_limit(cfg->max_open_files);
	t->st.max_open = t->max_open;
	return mline_rule_init(&t->rule, cfg->multiline_start_pattern, t->max_line,
	    cfg->multiline_timeout_ms ? cfg->multiline_timeout_ms : TFO_LOGS_DEF_ML_TIMEOUT_MS);
}

/* batch_new - from mmap: its BATCH_FILES slots are 14 KiB, of which a quiet
 * host's few files touch one page; calloc zeroed them all resident */
static struct batch *
batch_new(const Opentelemetry__Proto__Resource__V1__Resource *res)
{
	struct batch *b = tfo_zarray_alloc(1, sizeof(*b));

	if (b != NULL && (b->enc = tfo_otlp_logs_new(res, "tfo-logs", TFO_VERSION)) == NULL) {
		tfo_zarray_free(b, 1, sizeof(*b));
		b = NULL;
	}
	return b;
}

/* batch_empty - forget b's records and checkpoint slots */
static void
batch_empty(struct batch *b)
{
	for (size_t i = 0; i < b->nbe; i++)
		free(b->be[i].path);
	b->nbe = 0;
	tfo_otlp_logs_reset(b->enc);
}

static void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	batch_empty(b);
	tfo_otlp_logs_free(b->enc);
	tfo_zarray_free(b, 1, sizeof(*b));
}

struct tailer *
tailer_new(const Tfo__V1__LogsConfig *cfg, const Opentelemetry__Proto__Resource__V1__Resource *res,
    const struct tfo_logs_sink *sink, enum tfo_err *err)
{
	struct tailer *t = calloc(1, sizeof(*t));

	*err = TFO_ENOMEM;
	if (t == NULL)
		return NULL;
	known_init(&t->known);
	t->first_scan = 1;
	t->rescan_now = 1;
	t->sink = *sink;
	if ((*err = tailer_config(t, cfg)) != TFO_OK) {
		tailer_free(t);
		return NULL;
	}
	t->open = batch_new(res);
	if (t->sink.wait != NULL) {
		t->fly = batch_new(res);
		t->next = batch_new(res);
	}
	t->scratch = malloc(3 * t->max_line + 1);
	if (t->open == NULL || (t->sink.wait != NULL && (t->fly == NULL || t->next == NULL)) ||
	    t->scratch == NULL || t->dirs == NULL) {
		*err = TFO_ENOMEM;
		tailer_free(t);
		return NULL;
	}
	return t;
}

static void
batch_clear(struct tailer *t)
{
	batch_empty(t->open);
	t->sealed = 0;
}

void
tailer_free(struct tailer *t)
{
	struct tfile *f, *n;

	if (t == NULL)
		return;
	logs_held_free(t);
	logs_slots_free(t);
	for (f = t->files; f != NULL; f = n) {
		n = f->next;
		logs_file_close(t, f);
	}
	logs_watch_free(t);
	free(t->dir_ok);
	batch_free(t->open);
	batch_free(t->fly);
	batch_free(t->next);
	mline_rule_fini(&t->rule);
	known_fini(&t->known);
	strv_free(t->paths);
	strv_free(t->exclude);
	strv_free(t->dirs);
	strv_free(t->roots);
	free(t->refused);
	free(t->scratch);
	free(t);
}

void
tailer_load_checkpoints(struct tailer *t, const Tfo__V1__Checkpoint *const *cps, size_t n)
{
	known_load(&t->known, cps, n);
	t->st.checkpoints_rejected = t->known.rejected;
}

void
tailer_rescan_soon(struct tailer *t)
{
	t->rescan_now = 1;
}

const struct tailer_stats *
tailer_stats(const struct tailer *t)
{
	return &t->st;
}

const char *const *
tailer_roots(const struct tailer *t)
{
	return (const char *const *)t->roots;
}

const char *
tailer_open_err_name(size_t i)
{
	return i > 0 && i < LOE_MISSING ? logs_open_err_name((enum logs_open_err)i) : NULL;
}

const char *const *
tailer_dirs(const struct tailer *t)
{
	return (const char *const *)t->dirs;
}

/* ------------------------------------------------------------ batches */

/* batch_entry - the checkpoint slot of f in the open batch, or NULL when full */
static struct bentry *
batch_entry(struct tailer *t, struct tfile *f)
{
	struct batch *b = t->open;
	struct bentry *e;

	for (size_t i = 0; i < b->nbe; i++)
		if (b->be[i].f == f && b->be[i].gen == f->gen)
			return &b->be[i];
	if (b->nbe == BATCH_FILES)
		return NULL;
	e = &b->be[b->nbe];
	if ((e->path = strdup(f->path)) == NULL)
		return NULL;
	b->nbe++;
	e->f = f;
	e->gen = f->gen;
	e->mark_pending = 0;
	tfo__v1__checkpoint__init(&e->cp);
	e->cp.file_id = NULL;      /* set by the first record */
	e->cp.path = e->path;
	e->cp.dev = f->dev;
	e->cp.ino = f->ino;
	return e;
}

/* batch_stored - b's records are stored: its checkpoints are now the files' acks */
static void
batch_stored(struct tailer *t, struct batch *b)
{
	for (size_t i = 0; i < b->nbe; i++) {
		struct bentry *e = &b->be[i];
		if (e->f != NULL && e->f->gen == e->gen && e->cp.file_id != NULL)
			e->f->ack_off = e->cp.offset;
	}
	t->st.puts++;
	t->backoff = 0;
	batch_empty(b);
}

/* batch_put - hand b to the sink (finished: its envelope written) */
static enum tfo_err
batch_put(struct tailer *t, struct batch *b, uint32_t *retry)
{
	const Tfo__V1__Checkpoint *cps[BATCH_FILES];
	const uint8_t *p;
	size_t len, ncps = 0;
	enum tfo_err e;

	for (size_t i = 0; i < b->nbe; i++)
		logs_entry_mark(&b->be[i], 1);
	if ((e = tfo_otlp_logs_finish(b->enc, &p, &len)) != TFO_OK)
		return e;
	for (size_t i = 0; i < b->nbe; i++)
		if (b->be[i].cp.file_id != NULL && b->be[i].cp.file_id[0] != '\0')
			cps[ncps++] = &b->be[i].cp;
	/* cps is copied by a sink that keeps it (the asynchronous one) */
	return t->sink.put(t->sink.arg, p, len, (uint32_t)tfo_otlp_logs_count(b->enc), cps, ncps,
	    retry);
}

/* batch_seal - b is finished while a put is in flight: the sink may prepare it */
static void
batch_seal(struct tailer *t, struct batch *b)
{
	const uint8_t *p;
	size_t len;

	for (size_t i = 0; i < b->nbe; i++)
		logs_entry_mark(&b->be[i], 1);
	if (tfo_otlp_logs_finish(b->enc, &p, &len) == TFO_OK)
		t->sink.seal(t->sink.arg, p, len);
}

/* put_failed - count a failed put and set when to try again */
static void
put_failed(struct tailer *t, enum tfo_err e, uint32_t retry, uint64_t now)
{
	if (e == TFO_EAGAIN) {
		t->st.put_busy++;
		retry = retry < RETRY_MIN_MS ? RETRY_MIN_MS : retry > RETRY_MAX_MS ? RETRY_MAX_MS : retry;
	} else {
		t->st.put_errors++;
		t->backoff = t->backoff ? t->backoff * 2 : 100;
		if (t->backoff > RETRY_MAX_MS)
			t->backoff = RETRY_MAX_MS;
		retry = t->backoff;
	}
	t->retry_at = now + retry;
}

static int
batch_has(const struct batch *b)
{
	return b != NULL && tfo_otlp_logs_count(b->enc) > 0;
}

/*
 * next_go - nothing is in flight: the sealed batch waiting (if any) is put
 * now. One that cannot be started is due again like a failed put.
 */
static void
next_go(struct tailer *t, uint64_t now)
{
	uint32_t retry = 0;
	struct batch *b;
	enum tfo_err e;

	if (t->fly_state != FLY_NONE || !batch_has(t->next))
		return;
	b = t->fly;
	t->fly = t->next;
	t->next = b;
	t->fly_state = FLY_BUSY;
	if ((e = batch_put(t, t->fly, &retry)) != TFO_OK) {
		put_failed(t, e, retry, now);
		t->fly_state = FLY_FAILED;
	}
}

/*
 * fly_one - the outcome of the batch in flight: TFO_OK once it is stored
 * (and the waiting batch, if any, started), TFO_EAGAIN while it is not
 * (still going, when !block, or failed and due again at retry_at). A failed
 * batch is started again, before any later one, and waited for when block.
 */
static enum tfo_err
fly_one(struct tailer *t, uint64_t now, int block)
{
	uint32_t retry = 0;
	enum tfo_err e;

	if (t->fly_state == FLY_FAILED) {
		if (now < t->retry_at)
			return TFO_EAGAIN;
		if ((e = batch_put(t, t->fly, &retry)) != TFO_OK) {
			put_failed(t, e, retry, now);
			return TFO_EAGAIN;
		}
		t->fly_state = FLY_BUSY;
	}
	e = t->sink.wait(t->sink.arg, block, &retry);
	if (e == TFO_EINPROGRESS)
		return TFO_EAGAIN;
	if (e != TFO_OK) {
		put_failed(t, e, retry, now);
		t->fly_state = FLY_FAILED;
		return TFO_EAGAIN;
	}
	batch_stored(t, t->fly);
	t->fly_state = FLY_NONE;
	next_go(t, now);
	return TFO_OK;
}

/* fly_settle - fly_one until nothing is in flight or waiting (TFO_OK) or
 * one cannot be settled now (TFO_EAGAIN) */
static enum tfo_err
fly_settle(struct tailer *t, uint64_t now, int block)
{
	next_go(t, now);
	while (t->fly_state != FLY_NONE)
		if (fly_one(t, now, block) != TFO_OK)
			return TFO_EAGAIN;
	return TFO_OK;
}

/* what batch_wait did with the open batch */
enum wait_res {
	WAIT_QUEUED,            /* it goes next, behind the put in flight */
	WAIT_PUT_NOW,           /* nothing is in flight: the caller puts it */
	WAIT_NOT_NOW,           /* the put in flight failed and is not due yet */
};

/*
 * batch_wait - the open batch is finished while a put is in flight: it
 * becomes the batch that goes next (the sink may prepare it: seal) and
 * framing goes on in a fresh one. Only when one already waits does the loop
 * block, until the put in flight is stored. So framing, the sink's
 * preparing and the put overlap, and still one put at a time, in order.
 */
static enum wait_res
batch_wait(struct tailer *t, uint64_t now)
{
	struct batch *b;

	while (t->fly_state != FLY_NONE && batch_has(t->next))
		if (fly_one(t, now, 1) != TFO_OK)
			return t->fly_state == FLY_NONE ? WAIT_PUT_NOW : WAIT_NOT_NOW;
	if (t->fly_state == FLY_NONE)
		return WAIT_PUT_NOW;
	if (t->sink.seal != NULL)
		batch_seal(t, t->open);
	b = t->next;
	t->next = t->open;
	t->open = b;
	return WAIT_QUEUED;
}

/*
 * batch_send - put the open batch; TFO_OK when stored (or empty) or, with an
 * asynchronous sink, handed over (the previous one stored first)
 */
static enum tfo_err
batch_send(struct tailer *t, uint64_t now)
{
	uint32_t retry = 0;
	enum tfo_err e;

	if (tfo_otlp_logs_count(t->open->enc) == 0) {
		batch_clear(t);        /* only slots reserved for records never framed */
		return TFO_OK;
	}
	t->sealed = 1;
	if (t->fly != NULL) {
		(void)fly_settle(t, now, 0);    /* acks of a finished put; the waiting batch started */
		switch (batch_wait(t, now)) {
		case WAIT_QUEUED:
			batch_clear(t);
			return TFO_OK;
		case WAIT_NOT_NOW:
			return TFO_EAGAIN;
		case WAIT_PUT_NOW:
			break;
		}
	}
	if (now < t->retry_at)
		return TFO_EAGAIN;
	if ((e = batch_put(t, t->open, &retry)) != TFO_OK) {
		put_failed(t, e, retry, now);
		return TFO_EAGAIN;
	}
	if (t->fly == NULL) {
		batch_stored(t, t->open);
	} else {
		struct batch *b = t->fly;
		t->fly = t->open;
		t->open = b;
		t->fly_state = FLY_BUSY;
	}
	batch_clear(t);
	return TFO_OK;
}

/*
 * batch_slot - f's checkpoint slot in a batch that can take a record now,
 * sending a sealed or full batch first; NULL when the sink is not taking
 * data (the caller stops reading: the file is the queue).
 */
static struct bentry *
batch_slot(struct tailer *t, struct tfile *f, uint64_t now)
{
	struct bentry *e;

	if (t->sealed && batch_send(t, now) != TFO_OK)
		return NULL;
	if ((e = batch_entry(t, f)) != NULL)
		return e;
	if (batch_send(t, now) != TFO_OK)
		return NULL;
	return batch_entry(t, f);
}

/* emit - one record of f into the open batch, under f's slot e */
static void
emit(struct tailer *t, struct tfile *f, struct bentry *e, const struct mrec *r, uint64_t now)
{
	/* fields set one by one: "= { 0 }" zeroed the whole attrs array for every
	 * line, over half of emit's own time; only attrs[0..nattrs) are read */
	struct tfo_log_record rec;
	const uint8_t *w = NULL;
	size_t wl = 0, fixed, blen;
	char sev[16];

	rec.time_ns = 0;
	rec.severity_text = NULL;
	rec.nattrs = 0;
	if (tfo_otlp_logs_count(t->open->enc) == 0)
		t->batch_start = now;
	/* most lines are clean: encoded from the read buffer, not copied first */
	if (tfo_logs_utf8_clean(r->p, r->len) == r->len) {
		rec.body = r->len ? (const char *)r->p : "";  /* body_len 0 means a C string */
		blen = r->len;
		fixed = 0;
	} else {
		blen = tfo_logs_utf8_repair(r->p, r->len, t->scratch, &fixed);
		rec.body = t->scratch;
	}
	rec.observed_ns = t->obs_ns;
	rec.severity_number = tfo_logs_severity((const uint8_t *)rec.body, blen, &w, &wl);
	if (rec.severity_number != 0) {
		memcpy(sev, w, wl);     /* level words are at most 8 bytes */
		sev[wl] = '\0';
		rec.severity_text = sev;
	}
	rec.body_len = blen;
	rec.attrs_packed = f->attrs;
	rec.attrs_packed_len = f->attrs_len;
	if (r->truncated) {
		rec.attrs[rec.nattrs++] = (struct tfo_log_attr){ TFO_LOGS_ATTR_TRUNCATED, NULL, 1 };
		t->st.truncated_records++;
	}
	if (tfo_otlp_logs_add(t->open->enc, &rec) != TFO_OK) {
		log_error("logs: cannot encode a record of %s", f->path);
		return;
	}
	t->st.utf8_repaired += fixed != 0;
	t->st.records++;
	f->emit_off = r->end_off;
	if (e->cp.file_id == NULL || e->fp.len != f->fp.len || e->fp.hash != f->fp.hash) {
		e->fp = f->fp;          /* the head grew: a longer fingerprint */
		file_id_format(e->id, sizeof(e->id), f->dev, f->ino, &f->fp);
		e->cp.file_id = e->id;
		e->cp.fingerprint.data = e->cpw;
		e->cp.fingerprint.len = sizeof(e->cpw);
	}
	e->cp.offset = f->emit_off;
	e->mark_pending = 1;    /* hashed once, when the batch is finished */
	if (tfo_otlp_logs_count(t->open->enc) >= t->batch_lines ||
	    tfo_otlp_logs_bytes(t->open->enc) >= TFO_LOGS_BATCH_MAX_BYTES)
		batch_send(t, now);
}

/* ------------------------------------------------------------ files */

enum pump { PUMP_IDLE, PUMP_BLOCKED, PUMP_MORE };

/* file_line - one framed line through multiline assembly into the batch */
static void
file_line(struct tailer *t, struct tfile *f, struct bentry *e, const struct lline *l, uint64_t now)
{
	struct mrec r;
	int k = mline_push(&f->ml, &t->rule, l, now, &r);

	if (k < 0) {
		/* ENOMEM joining: send the line alone rather than lose it */
		r = (struct mrec){ l->p, l->len, l->end_off, l->truncated };
		k = 1;
	}
	t->st.lines++;
	t->st.bytes += l->len + 1;
	if (k == 1)
		emit(t, f, e, &r, now);
}

/* file_read - read the next bytes of f into its splitter; bytes read, 0 at EOF, -1 on error */
static ssize_t
file_read(struct tfile *f, size_t max)
{
	size_t room;
	uint8_t *p = lsplit_space(&f->ls, &room);
	ssize_t n;

	if (p == NULL)
		return -1;
	if (room > TFO_LOGS_READ_CHUNK)
		room = TFO_LOGS_READ_CHUNK;
	if (room > max)
		room = max;
	do {
		n = pread(f->fd, p, room, (off_t)lsplit_read_off(&f->ls));
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		lsplit_commit(&f->ls, (size_t)n);
	return n;
}

/* file_pump - frame and read f until EOF, the budget, or back-pressure */
static enum pump
file_pump(struct tailer *t, struct tfile *f, uint64_t now)
{
	size_t budget = FILE_BUDGET;
	struct bentry *e;
	struct lline l;
	ssize_t n;

	for (;;) {
		if ((e = batch_slot(t, f, now)) == NULL)
			return PUMP_BLOCKED;
		if (lsplit_next(&f->ls, &l)) {
			file_line(t, f, e, &l, now);
			continue;
		}
		if (budget == 0)
			return PUMP_MORE;
		if ((n = file_read(f, budget)) > 0) {
			budget -= (size_t)n;
			f->last_data_ms = now;
			continue;
		}
		if (n < 0) {
			t->st.read_errors++;
			log_warn("logs: read %s: %s", f->path, strerror(errno));
		}
		f->eof = 1;
		return PUMP_IDLE;
	}
}

/* file_flush_tail - frame what f holds unterminated and flush its held record */
static enum pump
file_flush_tail(struct tailer *t, struct tfile *f, uint64_t now)
{
	struct bentry *e;
	struct lline l;
	struct mrec r;

	for (;;) {
		if ((e = batch_slot(t, f, now)) == NULL)
			return PUMP_BLOCKED;
		if (lsplit_next(&f->ls, &l) || lsplit_flush(&f->ls, &l)) {
			file_line(t, f, e, &l, now);
			continue;
		}
		if (mline_flush(&f->ml, &t->rule, now, 1, &r))
			emit(t, f, e, &r, now);
		return PUMP_IDLE;
	}
}

/* file_truncated - f's content was cut or replaced in place: finish the old, read from 0 */
static enum pump
file_truncated(struct tailer *t, struct tfile *f, uint64_t now)
{
	struct fprint mark;
	struct bentry *e;
	struct lline l;

	if (!f->copied) {
		/* complete lines we hold are ours; the rest may be in a copy */
		for (;;) {
			if ((e = batch_slot(t, f, now)) == NULL)
				return PUMP_BLOCKED;
			if (!lsplit_next(&f->ls, &l))
				break;
			file_line(t, f, e, &l, now);
		}
		if (logs_follow_copy(t, f, now))
			f->copied = 1;
		else if (file_flush_tail(t, f, now) == PUMP_BLOCKED)
			return PUMP_BLOCKED;
	}
	if (f->copied) {
		mline_fini(&f->ml);     /* the copy reads these bytes again */
		f->copied = 0;
	}
	/* remembered so that a copy of the old content (copytruncate) resumes
	 * here; the file lost the bytes, so the mark comes from memory or not at all */
	logs_file_settle_marks(t, f, 0);
	known_add(&t->known, f->dev, f->ino, &f->fp,
	    logs_file_mark(f, f->emit_off, 0, &mark) ? &mark : NULL, f->emit_off, f->path);
	log_info("logs: %s truncated at %llu, reading from 0", f->path,
	    (unsigned long long)f->emit_off);
	f->gen++;
	f->mark_ok = 0;
	lsplit_reset(&f->ls, 0);
	f->emit_off = f->ack_off = 0;
	if (logs_file_head(f) != TFO_OK)
		t->st.read_errors++;
	t->st.truncations++;
	return PUMP_IDLE;
}

/*
 * tail_same - the bytes just before f's read offset are still the ones read.
 * A file truncated and written again past our offset between two looks is
 * not smaller, and with a fixed header longer than the head fingerprint its
 * head is the same too: these bytes tell.
 */
static int
tail_same(struct tfile *f)
{
	uint64_t off = lsplit_read_off(&f->ls);
	size_t n = off < TAIL_CHECK ? (size_t)off : TAIL_CHECK;
	const uint8_t *p = lsplit_before(&f->ls, off, n);
	uint8_t buf[TAIL_CHECK];

	if (n == 0)
		return 1;
	if (p == NULL)          /* the buffer was given back: the mark kept for it */
		return !f->mark_ok || f->mark_off != off || mark_verify(f->fd, off, &f->mark);
	return pread(f->fd, buf, n, (off_t)(off - n)) == (ssize_t)n && memcmp(buf, p, n) == 0;
}

/* file_service - check f for truncation, deletion and growth, then read it */
static enum pump
file_service(struct tailer *t, struct tfile *f, uint64_t now)
{
	struct stat sb;
	int changed;

	if (fstat(f->fd, &sb) != 0) {
		t->st.read_errors++;
		return PUMP_IDLE;
	}
	if (sb.st_nlink == 0 && !f->gone) {
		f->gone = 1;            /* deleted while open: read to its end */
		f->gone_ms = now;
	}
	changed = sb.st_size != f->last_size || sb.st_mtim.tv_sec != f->last_mtime.tv_sec ||
	    sb.st_mtim.tv_nsec != f->last_mtime.tv_nsec;
	if (!changed && f->eof && lsplit_pending(&f->ls) == 0)
		return PUMP_IDLE;
	if ((uint64_t)sb.st_size < lsplit_read_off(&f->ls) ||
	    (changed && (!fp_verify(f->fd, &f->fp) || !tail_same(f)))) {
		if (file_truncated(t, f, now) == PUMP_BLOCKED)
			return PUMP_BLOCKED;
	} else if (f->fp.len < TFO_LOGS_FP_MAX && (uint64_t)sb.st_size > f->fp.len) {
		if (logs_file_head(f) != TFO_OK)
			t->st.read_errors++;
	}
	f->last_size = sb.st_size;
	f->last_mtime = sb.st_mtim;
	f->eof = 0;
	return file_pump(t, f, now);
}

/* file_let_go - a gone file at its end after the grace period: finish it and close it */
static enum pump
file_let_go(struct tailer *t, struct tfile **pf, uint64_t now)
{
	struct tfile *f = *pf;
	struct fprint mark;

	if (!f->gone || !f->eof || now < f->gone_ms + t->rescan_ms)
		return PUMP_IDLE;
	/* a last look first: f->eof is as of the last read, and a file no event
	 * names (reached through a link, renamed away) is read only at the
	 * poll; late lines written since (a writer still on it after the link
	 * moved on) would be closed unread */
	if (file_service(t, f, now) == PUMP_BLOCKED)
		return PUMP_BLOCKED;
	if (!f->eof)
		return PUMP_IDLE;
	if (file_flush_tail(t, f, now) == PUMP_BLOCKED)
		return PUMP_BLOCKED;
	if (f->ack_off != f->emit_off)
		return PUMP_IDLE;       /* wait until its last records are stored */
	known_add(&t->known, f->dev, f->ino, &f->fp,
	    logs_file_mark(f, f->emit_off, 1, &mark) ? &mark : NULL, f->emit_off, f->path);
	log_info("logs: done with %s at %llu", f->path, (unsigned long long)f->emit_off);
	*pf = f->next;
	logs_file_close(t, f);
	t->st.files_open--;
	t->st.files_closed++;
	return PUMP_IDLE;
}

/* file_timers - multiline flush timeout and idle buffer release: after
 * IDLE_RELEASE_MS, or at once when more than BUF_KEEP files are open (a read
 * buffer is a line, the history and a read chunk: 144 KiB by default) */
static enum pump
file_timers(struct tailer *t, struct tfile *f, uint64_t now)
{
	struct bentry *e;
	struct mrec r;

	if (now >= mline_deadline(&f->ml, &t->rule)) {
		if ((e = batch_slot(t, f, now)) == NULL)
			return PUMP_BLOCKED;
		if (mline_flush(&f->ml, &t->rule, now, 0, &r))
			emit(t, f, e, &r, now);
	}
	if (f->eof && f->ls.buf != NULL && lsplit_pending(&f->ls) == 0 &&
	    (now >= f->last_data_ms + IDLE_RELEASE_MS || t->st.files_open > BUF_KEEP)) {
		struct fprint mark;

		/* idle: give the read buffer back, keeping the marks it held */
		logs_file_settle_marks(t, f, 1);
		(void)logs_file_mark(f, f->emit_off, 1, &mark);
		lsplit_release(&f->ls);
	}
	return PUMP_IDLE;
}

static uint64_t
until(uint64_t at, uint64_t now)
{
	return at > now ? at - now : 0;
}

/* gauges - files waiting for a slot, and the bytes not read yet */
static void
gauges(struct tailer *t)
{
	uint64_t b = t->behind;

	for (const struct tfile *f = t->files; f != NULL; f = f->next)
		if (f->last_size > 0 && (uint64_t)f->last_size > lsplit_read_off(&f->ls))
			b += (uint64_t)f->last_size - lsplit_read_off(&f->ls);
	t->st.files_waiting = (uint32_t)t->nwait;
	t->st.bytes_behind = b;
}

/* need_poll - with inotify, whether anything needs the poll: files it cannot
 * see, and files held as possible copies (their settling is timed) */
static int
need_poll(const struct tailer *t)
{
	if (t->held != NULL)
		return 1;
	for (const struct tfile *f = t->files; f != NULL; f = f->next)
		if (f->polled)
			return 1;
	return 0;
}

/* tailer_next - ms until the earliest thing due */
static uint64_t
tailer_next(const struct tailer *t, uint64_t now, uint32_t poll_ms)
{
	uint64_t d = until(t->next_scan, now);

	if (!t->inotify && poll_ms != 0 && poll_ms < d)
		d = poll_ms;
	else if (t->inotify && poll_ms != 0 && need_poll(t) && until(t->next_poll, now) < d)
		d = until(t->next_poll, now);
	/* a put in flight wakes the caller itself (tailer.h); a failed one is due */
	if (t->fly_state == FLY_FAILED && until(t->retry_at, now) < d)
		d = until(t->retry_at, now);
	if (tfo_otlp_logs_count(t->open->enc) > 0 && until(t->batch_start + t->batch_ms, now) < d)
		d = until(t->batch_start + t->batch_ms, now);
	for (const struct tfile *f = t->files; f != NULL; f = f->next) {
		uint64_t ml = mline_deadline(&f->ml, &t->rule);
		if (ml != UINT64_MAX && until(ml, now) < d)
			d = until(ml, now);
		if (f->gone && until(f->gone_ms + t->rescan_ms, now) < d)
			d = until(f->gone_ms + t->rescan_ms, now);
		if (f->ls.buf != NULL && f->eof && until(f->last_data_ms + IDLE_RELEASE_MS, now) < d)
			d = until(f->last_data_ms + IDLE_RELEASE_MS, now);
	}
	return d;
}

uint64_t
tailer_run(struct tailer *t, uint64_t now, uint32_t poll_ms)
{
	struct timespec ts;
	enum pump r = PUMP_IDLE;
	int more = 0, poll;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->obs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (t->fly != NULL)
		(void)fly_settle(t, now, 0);    /* acks of a finished put; a failed one again */
	if (t->sealed && batch_send(t, now) != TFO_OK)
		return until(t->retry_at, now) ? until(t->retry_at, now) : RETRY_MIN_MS;
	if (t->rescan_now || now >= t->next_scan)
		logs_scan(t, now);
	if (t->nwake > 0)
		logs_wake_run(t, now);
	poll = !t->inotify || now >= t->next_poll;
	if (t->inotify && poll)
		t->next_poll = now + poll_ms;
	for (struct tfile *f = t->files; f != NULL && r != PUMP_BLOCKED; f = f->next) {
		/* with inotify, only what an event named, what has work left, and
		 * at the poll what inotify cannot see */
		if (f->dirty || (f->polled && poll) || !t->inotify) {
			r = file_service(t, f, now);
			f->dirty = r != PUMP_IDLE;
			more |= r == PUMP_MORE;
		}
		if (r != PUMP_BLOCKED)
			r = file_timers(t, f, now);
	}
	for (struct tfile **pf = &t->files; *pf != NULL && r != PUMP_BLOCKED;) {
		struct tfile *f = *pf;
		r = file_let_go(t, pf, now);
		if (*pf == f)
			pf = &f->next;
	}
	/* after the files: an original truncated in this run took its copy first */
	if (t->held != NULL)
		logs_held_run(t, now);
	if (t->nwait > 0 && r != PUMP_BLOCKED)
		logs_slots_balance(t, now);
	gauges(t);
	if (r != PUMP_BLOCKED && tfo_otlp_logs_count(t->open->enc) > 0 &&
	    now >= t->batch_start + t->batch_ms)
		batch_send(t, now);
	if (t->sealed)
		return until(t->retry_at, now) ? until(t->retry_at, now) : RETRY_MIN_MS;
	return more ? 0 : tailer_next(t, now, poll_ms);
}

enum tfo_err
tailer_drain(struct tailer *t, uint64_t now)
{
	struct bentry *be;
	struct mrec r;
	enum tfo_err e;

	for (struct tfile *f = t->files; f != NULL; f = f->next) {
		if (!f->ml.have)
			continue;
		if ((be = batch_slot(t, f, now)) == NULL)
			return TFO_EAGAIN;
		if (mline_flush(&f->ml, &t->rule, now, 1, &r))
			emit(t, f, be, &r, now);
	}
	t->retry_at = 0;
	if ((e = batch_send(t, now)) != TFO_OK || t->fly == NULL)
		return e;
	t->retry_at = 0;
	return fly_settle(t, now, 1);
}
