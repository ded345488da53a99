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

char **
logs_glob_roots(char **paths, size_t n, char *const *extra, size_t nextra)
{
	char **d = calloc(n + nextra + 1, sizeof(*d));
	size_t k = 0;

	for (size_t i = 0; d != NULL && i < n; i++) {
		const char *g = paths[i], *glob = strpbrk(g, "*?["), *slash = NULL;
		size_t end = glob ? (size_t)(glob - g) : strlen(g);
		while (end > 0 && g[end - 1] != '/')
			end--;
		if (end == 0 || g[0] != '/')
			continue;
		slash = g + end - 1;
		if ((d[k] = slash == g ? strdup("/") : strndup(g, (size_t)(slash - g))) != NULL)
			k++;
	}
	for (size_t i = 0; d != NULL && i < nextra; i++)
		if (extra[i] != NULL && extra[i][0] == '/' && (d[k] = strdup(extra[i])) != NULL) {
			size_t l = strlen(d[k]);
			while (l > 1 && d[k][l - 1] == '/')
				d[k][--l] = '\0';      /* "/var/log/pods/" names /var/log/pods */
			k++;
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

int
logs_matches(const struct tailer *t, const char *path)
{
	for (size_t i = 0; i < t->npaths; i++)
		if (fnmatch(t->paths[i], path, FNM_PATHNAME | FNM_PERIOD) == 0)
			return !excluded(t, path);
	return 0;
}

/* wanted - whether a checkpoint is looked for by recover: all at the first
 * scan, else files closed while idle that their names no longer lead to */
static int
wanted(const struct tailer *t, const struct known *k, int dormant_only)
{
	return !dormant_only || (k->dormant && k->seen != t->scan_gen);
}

/* recover_dir - follow files in dir that wanted checkpoints name but the globs miss */
static void
recover_dir(struct tailer *t, const char *dir, int dormant_only, uint64_t now)
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
			if (k->dev != (uint64_t)sb.st_dev || k->ino != (uint64_t)sb.st_ino ||
			    !wanted(t, k, dormant_only))
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
 * recover - a file rotated away (renamed out of the globs) while we did not
 * hold it open still holds unread lines: look for it, by inode, in the
 * directories of the checkpoints. At the first scan for every stored
 * checkpoint (rotated while the agent was down); later for files closed while
 * idle (the open-file limit) whose names no longer lead to them. A file found
 * is resumed by the identity rules and read to its end, as a file gone.
 */
static void
recover(struct tailer *t, int dormant_only, uint64_t now)
{
	char *dirs[32];
	size_t nd = 0;

	for (size_t i = 0; i < t->known.n && nd < 32; i++) {
		char *c, *dir;
		size_t j;
		if (!wanted(t, &t->known.k[i], dormant_only))
			continue;
		if ((c = strdup(t->known.k[i].path)) == NULL)
			break;
		dir = dirname(c);
		for (j = 0; j < nd && strcmp(dirs[j], dir) != 0; j++)
			;
		if (j == nd && dir[0] == '/' && (dirs[nd] = strdup(dir)) != NULL)
			nd++;
		free(c);
	}
	for (size_t j = 0; j < nd; j++) {
		recover_dir(t, dirs[j], dormant_only, now);
		free(dirs[j]);
	}
	for (size_t i = 0; dormant_only && i < t->known.n; i++)
		if (wanted(t, &t->known.k[i], 1))
			t->known.k[i].dormant = 0;      /* looked for once: a checkpoint like any */
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
	struct known *k;
	struct stat sb;

	for (size_t i = 0; i < ng; i++) {
		for (size_t j = 0; j < g[i].gl_pathc; j++) {
			const char *p = g[i].gl_pathv[j];
			struct tfile *f;
			if (excluded(t, p) || stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
				continue;
			if ((k = known_find(&t->known, sb.st_dev, sb.st_ino)) != NULL)
				k->seen = t->scan_gen;
			if ((f = logs_file_find(t, sb.st_dev, sb.st_ino)) != NULL) {
				f->seen_scan = t->scan_gen;
				logs_map_set(t, f, p);   /* the name events will carry */
			} else if (pass == 0 && known_inode(t, sb.st_dev, sb.st_ino)) {
				logs_consider(t, p, &sb, now);
			} else if (pass == 1) {
				logs_consider(t, p, &sb, now);
			}
		}
	}
}

void
logs_scan(struct tailer *t, uint64_t now)
{
	glob_t *g = calloc(t->npaths, sizeof(*g));
	size_t ng = 0;

	t->scan_gen++;
	logs_wait_clear(t);     /* who waits is found again */
	for (size_t i = 0; g != NULL && i < t->npaths; i++) {
		if (glob(t->paths[i], GLOB_NOSORT, NULL, &g[ng]) == 0)
			ng++;
		else
			globfree(&g[ng]);   /* GLOB_NOMATCH or a partial result */
	}
	if (t->first_scan) {
		scan_pass(t, g, ng, 0, now);
		recover(t, 0, now);
	}
	scan_pass(t, g, ng, 1, now);
	for (size_t i = 0; i < ng; i++)
		globfree(&g[i]);
	if (!t->first_scan && g != NULL)
		recover(t, 1, now);
	free(g);
	for (struct tfile *f = t->files; f != NULL; f = f->next) {
		if (f->seen_scan != t->scan_gen && !f->gone) {
			f->gone = 1;            /* renamed away or deleted: read to its end */
			f->gone_ms = now;
			f->dirty = 1;
			f->polled = logs_file_polled(t, f);   /* events may no longer name it */
		} else if (f->seen_scan == t->scan_gen && f->gone) {
			f->gone = 0;            /* back under a matching name */
			f->polled = logs_file_polled(t, f);
		}
	}
	t->first_scan = 0;
	t->rescan_now = 0;
	/* with every pattern's directory watched, events say when to look again */
	t->next_scan = t->inotify && !t->rescan_periodic ? UINT64_MAX : now + t->rescan_ms;
}

