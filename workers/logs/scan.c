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

/*
 * file_open_at - follow the file at path. With resume_only (recovery) it is
 * followed only if a stored checkpoint names it, and as a file already gone;
 * forced_off >= 0 (a copy found at a truncation) is followed, gone, from there.
 */
static struct tfile *
file_open_at(struct tailer *t, const char *path, uint64_t now, int resume_only,
    int64_t forced_off)
{
	enum place_rule rule = PLACE_NEW;
	struct tfile *f = NULL;
	struct head h;
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
	if ((f->path = strdup(path)) == NULL || head_read(fd, &h) != TFO_OK) {
		free(f->path);
		free(f);
		close(fd);
		return NULL;
	}
	f->fp = (struct fprint){ h.len, h.pre[h.len] };
	off = forced_off >= 0 ? (uint64_t)forced_off : file_start(t, f, (uint64_t)sb.st_size, &h, &rule);
	if (forced_off < 0 && resume_only && ((rule != PLACE_RESUME && rule != PLACE_RESUME_LEGACY) ||
	    off >= (uint64_t)sb.st_size)) {
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
	struct fprint mark;
	struct dirent *de;
	struct stat sb;
	int has_mark;
	DIR *d;
	size_t n = 0;

	if (c == NULL)
		return 0;
	/* the bytes before our offset, from memory (the file lost them): with
	 * them a header shared by older files cannot pick the wrong copy */
	has_mark = logs_file_mark(f, f->emit_off, 0, &mark);
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
		if (fp_verify(fd, &f->fp) && (!has_mark || mark_verify(fd, f->emit_off, &mark)))
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

/* known_inode - whether a checkpoint names (dev, ino) */
static int
known_inode(const struct tailer *t, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < t->known.n; i++)
		if (t->known.k[i].dev == dev && t->known.k[i].ino == ino)
			return 1;
	return 0;
}

/*
 * scan_pass - open the matches of the globs not followed yet. At the first
 * scan, pass 0 takes only files a checkpoint names by inode: they are placed
 * (and files rotated away are recovered) before any other file is, so that
 * whether a copy's original still holds its lines never depends on glob order.
 */
static void
scan_pass(struct tailer *t, glob_t *g, size_t ng, int pass, uint64_t now)
{
	struct stat sb;

	for (size_t i = 0; i < ng; i++) {
		for (size_t j = 0; j < g[i].gl_pathc; j++) {
			const char *p = g[i].gl_pathv[j];
			struct tfile *f;
			if (excluded(t, p) || stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			if ((f = file_find(t, sb.st_dev, sb.st_ino)) != NULL)
				f->seen_scan = t->scan_gen;
			else if (pass == 1 || known_inode(t, sb.st_dev, sb.st_ino))
				file_open(t, p, now, 0);
		}
	}
}

void
logs_scan(struct tailer *t, uint64_t now)
{
	glob_t *g = calloc(t->npaths, sizeof(*g));
	size_t ng = 0;

	t->scan_gen++;
	for (size_t i = 0; g != NULL && i < t->npaths; i++) {
		if (glob(t->paths[i], GLOB_NOSORT, NULL, &g[ng]) == 0)
			ng++;
		else
			globfree(&g[ng]);   /* GLOB_NOMATCH or a partial result */
	}
	if (t->first_scan) {
		scan_pass(t, g, ng, 0, now);
		recover(t, now);
	}
	scan_pass(t, g, ng, 1, now);
	for (size_t i = 0; i < ng; i++)
		globfree(&g[i]);
	free(g);
	for (struct tfile *f = t->files; f != NULL; f = f->next) {
		if (f->seen_scan != t->scan_gen && !f->gone) {
			f->gone = 1;            /* renamed away or deleted: read to its end */
			f->gone_ms = now;
		} else if (f->seen_scan == t->scan_gen && f->gone) {
			f->gone = 0;            /* back under a matching name */
		}
	}
	t->first_scan = 0;
	t->rescan_now = 0;
	t->next_scan = now + t->rescan_ms;
}

