/*
 * scan.c - tfo-logs file discovery: globs and excludes, at the first scan
 * the search for files rotated away while we were down, and at a truncation
 * the search for its copy (copytruncate).
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
		    !S_ISREG(sb.st_mode) || logs_file_find(t, sb.st_dev, sb.st_ino) != NULL)
			continue;
		for (size_t i = 0; i < t->known.n; i++) {
			const struct known *k = &t->known.k[i];
			if (k->dev != (uint64_t)sb.st_dev || k->ino != (uint64_t)sb.st_ino)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path))
				logs_file_open(t, path, now, OPEN_RESUME_ONLY, 0);
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
	if (logs_held_take(t, f, &mark, has_mark, now)) {
		free(c);
		t->st.copies_found++;
		return 1;
	}
	dir = dirname(c);
	if ((d = opendir(dir)) == NULL) {
		free(c);
		return 0;
	}
	while (found == NULL && (de = readdir(d)) != NULL && n++ < 100000) {
		uint64_t at;
		int fd;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < f->fp.len ||
		    logs_file_find(t, sb.st_dev, sb.st_ino) != NULL ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			continue;
		if (logs_copy_fit(f, fd, (uint64_t)sb.st_size, &mark, has_mark, &at))
			found = logs_file_open(t, path, now, OPEN_COPY, at);
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
			if ((f = logs_file_find(t, sb.st_dev, sb.st_ino)) != NULL)
				f->seen_scan = t->scan_gen;
			else if (pass == 0 && known_inode(t, sb.st_dev, sb.st_ino))
				logs_file_open(t, p, now, OPEN_PLACE, 0);
			else if (pass == 1 && !logs_hold(t, p, &sb, now))
				logs_file_open(t, p, now, OPEN_PLACE, 0);
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

