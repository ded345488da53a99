/*
 * scan.c - tfo-logs file discovery: globs and excludes, identity of newly
 * seen files and where each is read from (checkpoint, copy, start_at), and
 * at the first scan the search for files rotated away while we were down.
 */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/logs/tailer_int.h"

/* glob_dirs - the literal parent directory of each pattern, for inotify */
char **
logs_glob_dirs(char **paths, size_t n)
{
	char **d = calloc(n + 1, sizeof(*d));
	size_t k = 0;

	for (size_t i = 0; d != NULL && i < n; i++) {
		char *c = strdup(paths[i]), *dir;
		if (c == NULL)
			continue;
		dir = dirname(c);
		if (strpbrk(dir, "*?[") == NULL && (d[k] = strdup(dir)) != NULL)
			k++;
		free(c);
	}
	return d;
}

static int
excluded(const struct tailer *t, const char *path)
{
	for (size_t i = 0; i < t->nexclude; i++)
		if (fnmatch(t->exclude[i], path, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static struct tfile *
file_find(struct tailer *t, uint64_t dev, uint64_t ino)
{
	for (struct tfile *f = t->files; f != NULL; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

/* copy_of - a followed file whose content f copies (copytruncate), or NULL */
static struct tfile *
copy_of(struct tailer *t, const struct tfile *f)
{
	if (f->fp.len < TFO_LOGS_FP_MAX)
		return NULL;            /* short heads are too common to mean "same file" */
	for (struct tfile *o = t->files; o != NULL; o = o->next)
		if (o->fp.len == f->fp.len && o->fp.hash == f->fp.hash)
			return o;
	return NULL;
}

/* file_start - where a newly opened file is read from; *why says how it was placed */
static uint64_t
file_start(struct tailer *t, struct tfile *f, uint64_t size, enum place_why *pwhy)
{
	uint64_t off = 0;
	enum place_why why;
	struct tfile *o;

	why = *pwhy = known_place(&t->known, f->fd, f->dev, f->ino, &f->fp, size, f->path, &off);
	if (why == PLACE_CHECKPOINT) {
		t->st.checkpoints_resumed++;
		return off;
	}
	if ((o = copy_of(t, f)) != NULL) {
		/* the copy goes on from where the original's records end; the
		 * original's unframed bytes are the copy's now */
		o->copied = 1;
		t->st.copies_found++;
		return o->emit_off <= size ? o->emit_off : size;
	}
	switch (why) {
	case PLACE_CHECKPOINT:
	case PLACE_COPY:
		t->st.copies_found += why == PLACE_COPY;
		return off;
	case PLACE_REPLACED:
		return 0;
	case PLACE_NEW:
		/* start_at applies to files present at startup; later ones are new data */
		return t->first_scan && t->start_end ? size : 0;
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

/*
 * file_open_at - follow the file at path. With resume_only (recovery) it is
 * followed only if a stored checkpoint names it, and as a file already gone;
 * forced_off >= 0 (a copy found at a truncation) is followed, gone, from there.
 */
static struct tfile *
file_open_at(struct tailer *t, const char *path, uint64_t now, int resume_only,
    int64_t forced_off)
{
	struct tfile *f = NULL;
	enum place_why why;
	struct stat sb;
	uint64_t off;
	int fd;

	if (t->st.files_open >= TFO_LOGS_MAX_FILES) {
		t->st.files_skipped++;
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (f = file_find(t, sb.st_dev, sb.st_ino)) != NULL || (f = calloc(1, sizeof(*f))) == NULL) {
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
	if ((f->path = strdup(path)) == NULL || fp_compute(fd, &f->fp) != TFO_OK) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	off = forced_off >= 0 ? (uint64_t)forced_off : file_start(t, f, (uint64_t)sb.st_size, &why);
	if (forced_off < 0 && resume_only && (why != PLACE_CHECKPOINT || off >= (uint64_t)sb.st_size)) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	f->gone = resume_only || forced_off >= 0;
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
	f->next = t->files;
	t->files = f;
	t->st.files_open++;
	t->st.files_opened++;
	log_info("logs: following %s from offset %llu%s", path, (unsigned long long)f->emit_off,
	    forced_off >= 0 ? " (copy of a truncated file)" :
	    resume_only ? " (rotated away while we were down)" : "");
	return f;
}

static struct tfile *
file_open(struct tailer *t, const char *path, uint64_t now, int resume_only)
{
	return file_open_at(t, path, now, resume_only, -1);
}

/* recover_dir - follow files in dir that stored checkpoints name but the globs miss */
static void
recover_dir(struct tailer *t, const char *dir, uint64_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat sb;
	char path[PATH_MAX];
	size_t n = 0;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n++ < 100000) {
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) || file_find(t, sb.st_dev, sb.st_ino) != NULL)
			continue;
		for (size_t i = 0; i < t->known.n; i++) {
			const struct known *k = &t->known.k[i];
			if (k->dev != (uint64_t)sb.st_dev || k->ino != (uint64_t)sb.st_ino)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path))
				file_open(t, path, now, 1);
			break;
		}
	}
	closedir(d);
}

int
logs_follow_copy(struct tailer *t, struct tfile *f, uint64_t now)
{
	char *c = strdup(f->path), *dir, path[PATH_MAX];
	struct tfile *found = NULL;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	size_t n = 0;

	if (c == NULL)
		return 0;
	dir = dirname(c);
	if ((d = opendir(dir)) == NULL) {
		free(c);
		return 0;
	}
	while (found == NULL && (de = readdir(d)) != NULL && n++ < 100000) {
		int fd;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < f->emit_off ||
		    (uint64_t)sb.st_size < f->fp.len || file_find(t, sb.st_dev, sb.st_ino) != NULL ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			continue;
		if (fp_verify(fd, &f->fp))
			found = file_open_at(t, path, now, 0, (int64_t)f->emit_off);
		close(fd);
	}
	closedir(d);
	free(c);
	if (found != NULL)
		t->st.copies_found++;
	return found != NULL;
}

/*
 * recover - at start, a file rotated away (renamed out of the globs) while
 * the agent was down still holds unread lines: look for it, by inode, in
 * the directories of the stored checkpoints.
 */
static void
recover(struct tailer *t, uint64_t now)
{
	char *dirs[32];
	size_t nd = 0;

	for (size_t i = 0; i < t->known.n && nd < 32; i++) {
		char *c = strdup(t->known.k[i].path), *dir;
		size_t j;
		if (c == NULL)
			break;
		dir = dirname(c);
		for (j = 0; j < nd && strcmp(dirs[j], dir) != 0; j++)
			;
		if (j == nd && dir[0] == '/' && (dirs[nd] = strdup(dir)) != NULL)
			nd++;
		free(c);
	}
	for (size_t j = 0; j < nd; j++) {
		recover_dir(t, dirs[j], now);
		free(dirs[j]);
	}
}

void
logs_scan(struct tailer *t, uint64_t now)
{
	struct stat sb;
	glob_t g;

	t->scan_gen++;
	for (size_t i = 0; i < t->npaths; i++) {
		if (glob(t->paths[i], GLOB_NOSORT, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc; j++) {
			const char *p = g.gl_pathv[j];
			struct tfile *f;
			if (excluded(t, p) || stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			if ((f = file_find(t, sb.st_dev, sb.st_ino)) != NULL)
				f->seen_scan = t->scan_gen;
			else
				file_open(t, p, now, 0);
		}
		globfree(&g);
	}
	for (struct tfile *f = t->files; f != NULL; f = f->next) {
		if (f->seen_scan != t->scan_gen && !f->gone) {
			f->gone = 1;            /* renamed away or deleted: read to its end */
			f->gone_ms = now;
		} else if (f->seen_scan == t->scan_gen && f->gone) {
			f->gone = 0;            /* back under a matching name */
		}
	}
	if (t->first_scan)
		recover(t, now);
	t->first_scan = 0;
	t->rescan_now = 0;
	t->next_scan = now + t->rescan_ms;
}

