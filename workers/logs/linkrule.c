/*
 * linkrule.c - tfo-logs: how a matched path is opened (runs in tfo-logs,
 * which reads with CAP_DAC_READ_SEARCH: any file it opens, it could ship).
 * One rule for links (docs/logs.md, docs/security.md): a file reached
 * through a link is read only when the link could not have been planted to
 * reach a file its planter cannot read.
 *   - symlinks, each one on the way (directories included): followed only
 *     when the link is owned by root or by the owner of what it leads to;
 *   - hard links (a file with more than one name): read only when the
 *     directory that holds the matched name is root's or the file owner's,
 *     and nobody else may write it (no group/other write bit): nobody else
 *     could have made that name;
 *   - where the links lead must be inside a directory the configuration
 *     names: the literal part of a pattern, or collectors.logs.link_target_dirs
 *     (Landlock fences the same directories).
 * The path is walked from "/" one component at a time with O_PATH|O_NOFOLLOW,
 * each symlink read from the fd that was checked, and the file opened from
 * its directory's fd: no name is looked up twice. A match that cannot be
 * opened is logged once per path with the reason and counted by reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/logs/tailer_int.h"

#define MAX_LINKS 40            /* as the kernel's path walk */
#define MAX_COMPONENTS 512
#define LOGGED_MAX 4096         /* paths whose refusal was logged */

/* the walk: components still to take, and the symlinks whose target is not reached yet */
struct walk {
	char *comp[MAX_COMPONENTS];     /* a stack: the next component is on top */
	size_t ncomp;
	struct {
		size_t depth;           /* ncomp when its target text was pushed */
		uid_t uid;              /* the link's owner */
		char name[64];
	} pend[MAX_LINKS + 1];
	size_t npend;
	int links;
	char real[PATH_MAX];            /* where the walk is, links resolved */
	char *bufs[MAX_LINKS + 1];      /* the texts the components point into */
	size_t nbufs;
};

static const char *const why_text[LOE_N] = {
	[LOE_NONE] = "",
	[LOE_LINK_OWNER] = "link_owner",
	[LOE_HARDLINK] = "hardlink",
	[LOE_OUTSIDE] = "outside_dirs",
	[LOE_DENIED] = "denied",
	[LOE_LOOP] = "loop",
	[LOE_OTHER] = "other",
};

const char *
logs_open_err_name(enum logs_open_err e)
{
	return e < LOE_N ? why_text[e] : "other";
}

/* push - the components of text onto the stack, the first on top; 0 or -1 (too many) */
static int
push(struct walk *w, char *text)
{
	char *parts[MAX_COMPONENTS], *save = NULL;
	size_t n = 0;

	for (char *c = strtok_r(text, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (n == MAX_COMPONENTS)
			return -1;
		parts[n++] = c;
	}
	if (w->ncomp + n > MAX_COMPONENTS)
		return -1;
	while (n > 0)
		w->comp[w->ncomp++] = parts[--n];
	return 0;
}

/* real_add - follow the walk's textual twin one component down (or up for "..") */
static int
real_add(struct walk *w, const char *name)
{
	size_t len = strlen(w->real);

	if (strcmp(name, "..") == 0) {
		char *s = strrchr(w->real, '/');
		if (s != NULL && s != w->real)
			*s = '\0';
		else
			strcpy(w->real, "/");
		return 0;
	}
	if (len + 1 + strlen(name) >= sizeof(w->real))
		return -1;
	if (len > 1)
		w->real[len++] = '/';
	strcpy(w->real + len, name);
	return 0;
}

/* inside - whether the walk's place is in one of the configured directories */
static int
inside(const struct tailer *t, const char *real)
{
	for (size_t i = 0; t->roots != NULL && t->roots[i] != NULL; i++) {
		size_t n = strlen(t->roots[i]);
		if (strcmp(t->roots[i], "/") == 0 ||
		    (strncmp(real, t->roots[i], n) == 0 && (real[n] == '/' || real[n] == '\0')))
			return 1;
	}
	return 0;
}

/* link_target - the symlink at fd (owned by uid) leads where its text says: push it */
static enum logs_open_err
link_target(struct walk *w, int fd, const struct stat *st, const char *name, int *cur)
{
	char *text = malloc(PATH_MAX);
	ssize_t n;

	if (text == NULL || ++w->links > MAX_LINKS) {
		free(text);
		return text == NULL ? LOE_OTHER : LOE_LOOP;
	}
	if ((n = readlinkat(fd, "", text, PATH_MAX - 1)) <= 0) {
		free(text);
		return LOE_OTHER;
	}
	text[n] = '\0';
	w->bufs[w->nbufs++] = text;
	w->pend[w->npend].depth = w->ncomp;
	w->pend[w->npend].uid = st->st_uid;
	snprintf(w->pend[w->npend].name, sizeof(w->pend[0].name), "%s", name);
	w->npend++;
	if (text[0] == '/') {
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return LOE_OTHER;
		close(*cur);
		*cur = root;
		strcpy(w->real, "/");
	}
	return push(w, text) == 0 ? LOE_NONE : LOE_LOOP;
}

/* reached_dir - a link whose text named no component ("/", "."): it leads to
 * the directory the walk is in */
static enum logs_open_err
reached_dir(struct walk *w, int cur, char *why, size_t whysz);

/* reached - links whose target the walk just reached: owned by root or by its owner? */
static enum logs_open_err
reached(struct walk *w, const struct stat *st, char *why, size_t whysz)
{
	while (w->npend > 0 && w->pend[w->npend - 1].depth >= w->ncomp) {
		uid_t lu = w->pend[--w->npend].uid;
		if (lu != 0 && lu != st->st_uid) {
			snprintf(why, whysz, "a symlink (%s) owned by uid %u leads to %s, owned by uid "
			    "%u", w->pend[w->npend].name, (unsigned)lu, w->real, (unsigned)st->st_uid);
			return LOE_LINK_OWNER;
		}
	}
	return LOE_NONE;
}

static enum logs_open_err
reached_dir(struct walk *w, int cur, char *why, size_t whysz)
{
	struct stat st;

	if (w->npend == 0 || w->pend[w->npend - 1].depth < w->ncomp)
		return LOE_NONE;
	if (fstat(cur, &st) != 0)
		return LOE_OTHER;
	return reached(w, &st, why, whysz);
}

/* hardlink_ok - a file with other names: only root or its owner could have made this one */
static int
hardlink_ok(int dirfd, const struct stat *st, char *why, size_t whysz, const char *real)
{
	struct stat d;

	if (st->st_nlink <= 1)
		return 1;
	if (fstat(dirfd, &d) == 0 && (d.st_uid == 0 || d.st_uid == st->st_uid) &&
	    (d.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return 1;
	snprintf(why, whysz, "%s, owned by uid %u, has %lu names, and its directory (mode %04o, "
	    "uid %u) is not root's or the file owner's alone: someone else may have made this "
	    "name", real, (unsigned)st->st_uid, (unsigned long)st->st_nlink,
	    (unsigned)(d.st_mode & 07777), (unsigned)d.st_uid);
	return 0;
}

/*
 * walk - take the components; on success *dirfd is the directory holding the
 * file, *fd the file (O_PATH), st its fstat and last its name there
 */
static enum logs_open_err
walk(struct walk *w, int *dirfd, int *fd, struct stat *st, char *last,
    char *why, size_t whysz)
{
	enum logs_open_err e;

	while (w->ncomp > 0) {
		const char *name = w->comp[--w->ncomp];
		int next;
		if (strcmp(name, ".") == 0) {
			if (fstat(*dirfd, st) != 0)
				return LOE_OTHER;
			if ((e = reached(w, st, why, whysz)) != LOE_NONE)
				return e;
			continue;
		}
		if (strlen(name) > NAME_MAX)
			return LOE_OTHER;
		if ((next = openat(*dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return errno == ENOENT || errno == ENOTDIR ? LOE_MISSING : LOE_OTHER;
		if (fstat(next, st) != 0) {
			close(next);
			return LOE_OTHER;
		}
		if (S_ISLNK(st->st_mode)) {
			e = link_target(w, next, st, name, dirfd);
			close(next);
			if (e == LOE_NONE)
				e = reached_dir(w, *dirfd, why, whysz);
			if (e != LOE_NONE)
				return e;
			continue;
		}
		if (real_add(w, name) != 0) {
			close(next);
			return LOE_OTHER;
		}
		if ((e = reached(w, st, why, whysz)) != LOE_NONE) {
			close(next);
			return e;
		}
		if (w->ncomp == 0) {
			*fd = next;
			snprintf(last, NAME_MAX + 1, "%s", name);
			return LOE_NONE;
		}
		if (!S_ISDIR(st->st_mode)) {
			close(next);
			return LOE_MISSING;
		}
		close(*dirfd);
		*dirfd = next;
	}
	return LOE_MISSING;     /* the path named a directory */
}

int
logs_open_match(struct tailer *t, const char *path, int *linked, enum logs_open_err *err,
    char *why, size_t whysz)
{
	struct walk *w = calloc(1, sizeof(*w));
	char *text = strdup(path), last[NAME_MAX + 1];
	int dirfd = -1, pfd = -1, fd = -1;
	struct stat st, st2;

	*err = LOE_OTHER;
	why[0] = '\0';
	if (w == NULL || text == NULL || path[0] != '/' ||
	    (dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto out;
	strcpy(w->real, "/");
	w->bufs[w->nbufs++] = text;
	text = NULL;
	if (push(w, w->bufs[0]) != 0)
		goto out;
	if ((*err = walk(w, &dirfd, &pfd, &st, last, why, whysz)) != LOE_NONE)
		goto out;
	*linked = w->links > 0;
	*err = LOE_OTHER;
	if (!S_ISREG(st.st_mode)) {
		*err = LOE_MISSING;     /* not a file to read: skipped as before */
	} else if (!inside(t, w->real)) {
		*err = LOE_OUTSIDE;
		snprintf(why, whysz, "it leads to %s, outside the patterns' directories and "
		    "collectors.logs.link_target_dirs", w->real);
	} else if (!hardlink_ok(dirfd, &st, why, whysz, w->real)) {
		*err = LOE_HARDLINK;
	} else if ((fd = openat(dirfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		*err = errno == EACCES || errno == EPERM ? LOE_DENIED : errno == ENOENT ? LOE_MISSING :
		    LOE_OTHER;
		snprintf(why, whysz, "open %s: %s", w->real, strerror(errno));
	} else if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		close(fd);      /* replaced between the walk and the open: the next look decides */
		fd = -1;
		*err = LOE_MISSING;
	} else {
		*err = LOE_NONE;
	}
out:
	if (pfd >= 0)
		close(pfd);
	if (dirfd >= 0)
		close(dirfd);
	for (size_t i = 0; w != NULL && i < w->nbufs; i++)
		free(w->bufs[i]);
	free(w);
	free(text);
	return fd;
}

/* logged - whether the refusal of path was logged already (remembered by hash) */
static int
logged(struct tailer *t, const char *path, enum logs_open_err e)
{
	uint64_t h = fp_hash((const uint8_t *)path, strlen(path)) ^ (uint64_t)e;

	for (size_t i = 0; i < t->nrefused; i++)
		if (t->refused[i] == h)
			return 1;
	if (t->nrefused < LOGGED_MAX) {
		uint64_t *n = realloc(t->refused, (t->nrefused + 1) * sizeof(*n));
		if (n != NULL) {
			t->refused = n;
			t->refused[t->nrefused++] = h;
		}
	}
	return 0;
}

void
logs_open_failed(struct tailer *t, const char *path, enum logs_open_err e, const char *why)
{
	if (e == LOE_NONE || e == LOE_MISSING || e >= LOE_N || logged(t, path, e))
		return;         /* gone meanwhile, or not a file: nothing to tell */
	t->st.open_errors[e]++;
	log_warn("logs: %s is not read (%s): %s", path, why_text[e], why[0] ? why : "");
}
