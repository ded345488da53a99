/*
 * open.c - tfo-logs: opening a newly seen file and deciding where it is read
 * from (the identity rules of fileid.h, plus copies of followed files), with
 * the one log line each placement other than "new" or "same file" gets.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/logs/tailer_int.h"

struct tfile *
logs_file_find(struct tailer *t, uint64_t dev, uint64_t ino)
{
	for (struct tfile *f = t->files; f != NULL; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

/*
 * copy_of - a followed file whose content f (newly seen, h its head) copies
 * up to where we read it: the same head and, at that file's emit_off, the
 * same bytes before it (copytruncate's copy matched by the globs). A head
 * alone is not enough: many formats start every file with the same header.
 */
static struct tfile *
copy_of(struct tailer *t, const struct tfile *f, const struct head *h, uint64_t size)
{
	struct fprint m;

	for (struct tfile *o = t->files; o != NULL; o = o->next)
		if (o->emit_off > 0 && o->emit_off <= size && head_match(h, &o->fp) &&
		    logs_file_mark(o, o->emit_off, 1, &m) && mark_verify(f->fd, o->emit_off, &m))
			return o;
	return NULL;
}

/*
 * original_holds - the file a checkpoint k was taken from is still there with
 * k's head and mark (followed, or at k's path): a copy of it adds nothing.
 */
static int
original_holds(struct tailer *t, const struct known *k)
{
	struct stat sb;
	int fd, r = 0;

	for (struct tfile *o = t->files; o != NULL; o = o->next)
		if (o->dev == k->dev && o->ino == k->ino)
			return fp_verify(o->fd, &k->fp) && mark_verify(o->fd, k->off, &k->mark);
	if (k->path == NULL || (fd = open(k->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;
	if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_dev == k->dev && (uint64_t)sb.st_ino == k->ino)
		r = fp_verify(fd, &k->fp) && mark_verify(fd, k->off, &k->mark);
	close(fd);
	return r;
}

/* file_start - where a newly opened file of size bytes is read from, and why (logged) */
static uint64_t
file_start(struct tailer *t, struct tfile *f, uint64_t size, const struct head *h,
    enum place_rule *rule)
{
	struct placement pl;
	struct tfile *o;

	known_place(&t->known, f->fd, f->dev, f->ino, h, size, f->path, &pl);
	*rule = pl.rule;
	switch (pl.rule) {
	case PLACE_RESUME:
		t->st.checkpoints_resumed++;
		return pl.off;
	case PLACE_RESUME_LEGACY:
		t->st.checkpoints_resumed++;
		log_info("logs: %s: %s: reading from offset %llu", f->path, place_rule_text(pl.rule),
		    (unsigned long long)pl.off);
		return pl.off;
	default:
		break;
	}
	if ((o = copy_of(t, f, h, size)) != NULL) {
		/* the copy goes on from where the original's records end; the
		 * original's unframed bytes are the copy's now */
		o->copied = 1;
		t->st.copies_found++;
		*rule = PLACE_COPY;
		log_info("logs: %s: a copy of %s (same head and bytes before offset %llu): "
		    "reading from there", f->path, o->path, (unsigned long long)o->emit_off);
		return o->emit_off;
	}
	switch (pl.rule) {
	case PLACE_COPY:
		if (original_holds(t, pl.k)) {
			log_info("logs: %s: a copy of %s, which still holds these lines: reading "
			    "from its end, %llu", f->path, pl.k->path, (unsigned long long)size);
			return size;
		}
		t->st.copies_found++;
		log_info("logs: %s: %s, %s at %llu: reading from there", f->path,
		    place_rule_text(pl.rule), pl.k->path, (unsigned long long)pl.off);
		return pl.off;
	case PLACE_SHRUNK:
	case PLACE_REWRITTEN:
	case PLACE_SUCCESSOR:
		log_info("logs: %s: %s: reading from 0 (checkpoint of %s at %llu not used)", f->path,
		    place_rule_text(pl.rule), pl.k->path, (unsigned long long)pl.k->off);
		return 0;
	default:
		break;
	}
	/* start_at applies to files present at startup; later ones are new data */
	if (t->first_scan && t->start_end && size > 0) {
		log_info("logs: %s: new file present at start, start_at end: reading from its end, %llu",
		    f->path, (unsigned long long)size);
		return size;
	}
	return 0;
}

/*
 * file_attrs - log.file.path and log.file.name, framed once. proto3 strings
 * must be UTF-8 and strict receivers refuse a whole request for one raw
 * byte, so a name that is not UTF-8 is repaired as bodies are (U+FFFD).
 */
static enum tfo_err
file_attrs(struct tfile *f)
{
	struct tfo_log_attr attrs[2];
	size_t len = strlen(f->path), fixed;
	char *fixed_path = malloc(3 * len + 1);
	enum tfo_err e;

	if (fixed_path == NULL)
		return TFO_ENOMEM;
	(void)tfo_logs_utf8_repair((const uint8_t *)f->path, len, fixed_path, &fixed);
	attrs[0] = (struct tfo_log_attr){ "log.file.path", fixed_path, 0 };
	attrs[1] = (struct tfo_log_attr){ "log.file.name",
	    strrchr(fixed_path, '/') ? strrchr(fixed_path, '/') + 1 : fixed_path, 0 };
	e = tfo_otlp_logs_pack_attrs(attrs, 2, &f->attrs, &f->attrs_len);
	free(fixed_path);
	return e;
}

struct tfile *
logs_file_open(struct tailer *t, const char *path, uint64_t now, enum open_how how, uint64_t at)
{
	int resume_only = how == OPEN_RESUME_ONLY;
	int64_t forced_off = how == OPEN_COPY || how == OPEN_AT ? (int64_t)at : -1;

	enum place_rule rule = PLACE_NEW;
	struct tfile *f = NULL;
	enum logs_open_err oerr;
	struct known *k;
	struct statfs fs;
	char why[PATH_MAX + 160];
	struct head h;
	int linked = 0;
	struct stat sb;
	uint64_t off;
	int fd;

	if (how == OPEN_PLACE && !logs_slot(t)) {
		/* the scan checked; a held file let go, or a rotation, may find none */
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			logs_wait(t, path, &sb);
		return NULL;
	}
	if ((fd = logs_open_match(t, path, &linked, &oerr, why, sizeof(why))) < 0) {
		logs_open_failed(t, path, oerr, why);
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (f = logs_file_find(t, sb.st_dev, sb.st_ino)) != NULL || (f = calloc(1, sizeof(*f))) == NULL) {
		if (f != NULL)
			f->seen_scan = t->scan_gen;   /* raced with a rename: known already */
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->last_size = -1;
	f->seen_scan = t->scan_gen;
	f->last_data_ms = now;
	if ((f->path = strdup(path)) == NULL || head_read(fd, &h) != TFO_OK) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	f->fp = (struct fprint){ h.len, h.pre[h.len] };
	memcpy(f->head, h.bytes, h.len);
	off = forced_off >= 0 ? (uint64_t)forced_off : file_start(t, f, (uint64_t)sb.st_size, &h, &rule);
	if (forced_off < 0 && resume_only && ((rule != PLACE_RESUME && rule != PLACE_RESUME_LEGACY) ||
	    off >= (uint64_t)sb.st_size)) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	f->gone = resume_only || how == OPEN_COPY;   /* the next scan says if a glob matches it */
	f->gone_ms = now;
	f->name = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;
	if (file_attrs(f) != TFO_OK) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	f->emit_off = f->ack_off = off;
	lsplit_init(&f->ls, t->max_line, f->emit_off);
	mline_init(&f->ml);
	f->remote = fstatfs(fd, &fs) != 0 || tailer_fs_remote((unsigned long)fs.f_type);
	f->via_link = linked;
	f->dirty = 1;
	logs_map_set(t, f, path);
	f->polled = logs_file_polled(t, f);
	if ((k = known_find(&t->known, f->dev, f->ino)) != NULL)
		k->dormant = 0;         /* open again: its next close says where it is */
	f->next = t->files;
	t->files = f;
	t->st.files_open++;
	t->st.files_opened++;
	log_info("logs: following %s from offset %llu%s", path, (unsigned long long)f->emit_off,
	    how == OPEN_COPY ? " (copy of a truncated file)" :
	    resume_only ? " (rotated away while we were down)" : "");
	return f;
}

