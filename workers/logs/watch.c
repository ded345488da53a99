/*
 * watch.c - tfo-logs: what inotify reports (runs in tfo-logs; main.c reads
 * the events). inotify is the primary signal: a change names a file, and only
 * that file is looked at; the poll is only for what inotify cannot see (files
 * in directories that are not watched, or on network and overlay
 * filesystems, and files renamed out of the watched directories). A name
 * that is not followed but matches (a file closed while idle, one waiting for
 * a slot, a file held as a possible copy) is woken: looked at in the next run.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/zarray.h"
#include "workers/logs/tailer_int.h"

#define WAKE_MAX 4096           /* names woken per run; beyond, a rescan */

/* pattern_watched - whether inotify sees every file pattern p can match */
static int
pattern_watched(const struct tailer *t, const char *p)
{
	const char *slash = strrchr(p, '/');
	size_t len = slash ? (size_t)(slash - p) : 0;

	if (slash == NULL || memchr(p, '*', len) || memchr(p, '?', len) || memchr(p, '[', len))
		return 0;
	for (size_t i = 0; t->dirs[i] != NULL; i++)
		if (t->dir_ok[i] && strlen(t->dirs[i]) == (len ? len : 1) &&
		    strncmp(t->dirs[i], len ? p : "/", len ? len : 1) == 0)
			return 1;
	return 0;
}

void
tailer_set_watched(struct tailer *t, size_t dir, int ok)
{
	if (dir >= t->ndirs)
		return;
	t->inotify = 1;
	t->dir_ok[dir] = ok != 0;
	t->rescan_periodic = 0;
	for (size_t i = 0; i < t->npaths; i++)
		if (!pattern_watched(t, t->paths[i]))
			t->rescan_periodic = 1;
	for (struct tfile *f = t->files; f != NULL; f = f->next)
		f->polled = logs_file_polled(t, f);
	t->rescan_now = 1;      /* what changed while it was not watched */
}

void
tailer_notify(struct tailer *t, size_t dir, const char *name)
{
	char path[PATH_MAX];
	struct tfile *f;
	int n;

	if (dir >= t->ndirs || name == NULL || name[0] == '\0')
		return;
	n = strcmp(t->dirs[dir], "/") == 0 ? snprintf(path, sizeof(path), "/%s", name) :
	    snprintf(path, sizeof(path), "%s/%s", t->dirs[dir], name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	if ((f = logs_map_get(t, path)) != NULL) {
		f->dirty = 1;
		return;
	}
	if (!logs_matches(t, path))
		return;
	for (size_t i = t->nwake > 16 ? t->nwake - 16 : 0; i < t->nwake; i++)
		if (strcmp(t->wake[i], path) == 0)
			return;         /* a burst of writes to one file */
	if (t->nwake == WAKE_MAX) {
		t->rescan_now = 1;      /* too many at once: the globs see them all */
		return;
	}
	if (t->wake == NULL && (t->wake = calloc(WAKE_MAX, sizeof(*t->wake))) == NULL) {
		t->rescan_now = 1;
		return;
	}
	if ((t->wake[t->nwake] = strdup(path)) != NULL)
		t->nwake++;
	else
		t->rescan_now = 1;
}

void
tailer_overflow(struct tailer *t)
{
	t->rescan_now = 1;
	for (struct tfile *f = t->files; f != NULL; f = f->next)
		f->dirty = 1;
}

void
logs_wake_run(struct tailer *t, uint64_t now)
{
	struct stat sb;

	for (size_t i = 0; i < t->nwake; i++) {
		struct tfile *f;

		if (stat(t->wake[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
			if ((f = logs_file_find(t, sb.st_dev, sb.st_ino)) != NULL) {
				f->dirty = 1;   /* followed under another name: renamed into this one */
				logs_map_set(t, f, t->wake[i]);
			} else if (!logs_held_seen(t, sb.st_dev, sb.st_ino)) {
				logs_consider(t, t->wake[i], &sb, now);
			}
		}
		free(t->wake[i]);
	}
	t->nwake = 0;
}

void
logs_watch_free(struct tailer *t)
{
	for (size_t i = 0; i < t->nwake; i++)
		free(t->wake[i]);
	free(t->wake);
	t->wake = NULL;
	t->nwake = 0;
	tfo_zarray_free(t->map, MAP_BUCKETS, sizeof(*t->map));
	t->map = NULL;
}
