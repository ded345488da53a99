/*
 * safepath.c - walk a path as root may trust it (safepath.h): one component
 * at a time from "/", each opened O_NOFOLLOW from its checked parent, checked
 * with fstat, trusted links followed by hand. Runs in tfo-supervisor, tfoctl
 * and tfo-buffer's pre-init (root, before the identity drop).
 */
#include "common/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SAFE_MAX_LINKS 40       /* as the kernel's MAXSYMLINKS */

struct walk {
	struct tfo_safe_opts *o;
	char *err;
	size_t errsz;
	int fd;                 /* the directory reached, checked */
	char at[PATH_MAX];      /* its path, links resolved ("" = "/") */
	char rest[2 * PATH_MAX];        /* what is left to walk */
	size_t pos;             /* next byte of rest */
	int links;
};

void
tfo_safe_user(uid_t uid, char *buf, size_t bufsz)
{
	char tmp[4096];
	struct passwd pw, *pwp = NULL;

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &pwp) == 0 && pwp != NULL)
		snprintf(buf, bufsz, "%s", pwp->pw_name);
	else
		snprintf(buf, bufsz, "%u", (unsigned)uid);
}

void
tfo_safe_describe(const struct stat *st, char *buf, size_t bufsz)
{
	char tmp[4096], user[64], group[64];
	struct group gr, *grp = NULL;

	tfo_safe_user(st->st_uid, user, sizeof(user));
	if (getgrgid_r(st->st_gid, &gr, tmp, sizeof(tmp), &grp) == 0 && grp != NULL)
		snprintf(group, sizeof(group), "%s", grp->gr_name);
	else
		snprintf(group, sizeof(group), "%u", (unsigned)st->st_gid);
	snprintf(buf, bufsz, "%04o %s:%s", (unsigned)(st->st_mode & 07777), user, group);
}

static int
trusted(const struct tfo_safe_opts *o, uid_t uid)
{
	return uid == 0 || (o->self != 0 && uid == o->self);
}

/* fail - one line into err naming `what`; errno = e; always -1 */
static int
fail(struct walk *w, int e, const char *what, const struct stat *st, const char *why)
{
	char desc[160] = "";

	if (st != NULL) {
		tfo_safe_describe(st, desc + 2, sizeof(desc) - 3);
		desc[0] = ' ';
		desc[1] = '(';
		strcat(desc, ")");
	}
	snprintf(w->err, w->errsz, "%s%s %s", what[0] ? what : "/", desc, why);
	errno = e;
	return -1;
}

/* fail_owner - "is not owned by root", "... by root or <self>" (", <last_uid>") */
static int
fail_owner(struct walk *w, const char *what, const struct stat *st, int last)
{
	char why[192], self[64] = "", other[64] = "";

	if (w->o->self != 0)
		tfo_safe_user(w->o->self, self, sizeof(self));
	if (last && w->o->last_uid != 0)
		tfo_safe_user(w->o->last_uid, other, sizeof(other));
	snprintf(why, sizeof(why), "is not owned by root%s%s%s%s", self[0] ? " or " : "", self,
	    other[0] ? " or " : "", other);
	return fail(w, EPERM, what, st, why);
}

/* check - the rule of safepath.h for a directory or file on the way */
static int
check(struct walk *w, const char *what, const struct stat *st, int last)
{
	const struct tfo_safe_opts *o = w->o;

	if (!trusted(o, st->st_uid) && !(last && o->last_uid != 0 && st->st_uid == o->last_uid))
		return fail_owner(w, what, st, last);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(last && (o->flags & TFO_SAFE_LAST_MODE)) &&
	    !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0))
		return fail(w, EPERM, what, st, "is writable by group or other");
	return 0;
}

/* child - at + "/" + name into out */
static int
child(const struct walk *w, const char *name, char *out, size_t outsz)
{
	size_t a = strlen(w->at), n = strlen(name);

	if (a + 1 + n >= outsz)
		return -1;
	memcpy(out, w->at, a);
	out[a] = '/';
	memcpy(out + a + 1, name, n + 1);
	return 0;
}

/* at_root - start (again) at "/" */
static int
at_root(struct walk *w)
{
	struct stat st;

	if (w->fd >= 0)
		close(w->fd);
	w->at[0] = '\0';
	if ((w->fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(w->fd, &st) != 0)
		return fail(w, errno, "/", NULL, strerror(errno));
	if (check(w, "/", &st, 0) != 0)
		return -1;
	if (w->o->each)
		w->o->each(w->o->arg, "/", &st);
	return 0;
}

/* next - the next component of rest into name; 1 when there is one, with
 * *last set when nothing follows it; -1 when it is too long */
static int
next(struct walk *w, char *name, size_t namesz, int *last)
{
	size_t n;

	while (w->rest[w->pos] == '/')
		w->pos++;
	if (w->rest[w->pos] == '\0')
		return 0;
	n = strcspn(w->rest + w->pos, "/");
	if (n >= namesz)
		return fail(w, ENAMETOOLONG, w->at, NULL, "has a name too long below it");
	memcpy(name, w->rest + w->pos, n);
	name[n] = '\0';
	w->pos += n;
	n = w->pos;
	while (w->rest[n] == '/')
		n++;
	*last = w->rest[n] == '\0';
	return 1;
}

/* splice - walk `prefix` next, then what was left; from "/" when absolute */
static int
splice_link(struct walk *w, const char *prefix, const char *what)
{
	char tmp[sizeof(w->rest)];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", prefix, w->rest + w->pos) >= sizeof(tmp))
		return fail(w, ENAMETOOLONG, what, NULL, "is too long once its links are followed");
	memcpy(w->rest, tmp, sizeof(tmp));
	w->pos = 0;
	return prefix[0] == '/' ? at_root(w) : 0;
}

/* up - "..": walk the parent's path again from "/" (it has no links left) */
static int
up(struct walk *w)
{
	char parent[PATH_MAX];
	char *slash;

	memcpy(parent, w->at, sizeof(parent));          /* "/a/b", or "" for "/" */
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	return splice_link(w, parent[0] ? parent : "/", "..");
}

/* follow - name (in the checked dir w->fd) is a symlink: trusted, follow it */
static int
follow(struct walk *w, const char *name, const char *what, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n;

	if (!trusted(w->o, st->st_uid)) {
		char why[128], owner[64];
		tfo_safe_user(st->st_uid, owner, sizeof(owner));
		snprintf(why, sizeof(why), "is a symlink owned by %s: not followed", owner);
		return fail(w, EPERM, what, NULL, why);
	}
	if (++w->links > SAFE_MAX_LINKS)
		return fail(w, ELOOP, what, NULL, "is one symlink too many");
	if ((n = readlinkat(w->fd, name, target, sizeof(target) - 1)) < 0)
		return fail(w, errno, what, NULL, strerror(errno));
	target[n] = '\0';
	return splice_link(w, target, what);
}

/*
 * step - one component: open it as a directory, or, when it is a trusted
 * symlink, splice its target in (returns 1: nothing opened). 0 when w->fd and
 * w->at moved to it.
 */
static int
step(struct walk *w, const char *name, int last)
{
	char what[PATH_MAX];
	struct stat st;
	int fd, made = 0;

	if (child(w, name, what, sizeof(what)) != 0)
		return fail(w, ENAMETOOLONG, w->at, NULL, "has a path too long below it");
	for (;;) {
		if ((fd = openat(w->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			break;
		if (errno == ENOENT && last && (w->o->flags & TFO_SAFE_MKDIR) && !made) {
			made = 1;
			if (mkdirat(w->fd, name, w->o->mkmode) == 0)
				w->o->created = 1;
			else if (errno != EEXIST)
				return fail(w, errno, what, NULL, strerror(errno));
			continue;
		}
		if (errno == ENOENT) {
			w->o->last_missing = last;
			return fail(w, ENOENT, what, NULL, "does not exist");
		}
		if (errno != ELOOP && errno != ENOTDIR)
			return fail(w, errno, what, NULL, strerror(errno));
		if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return fail(w, errno, what, NULL, strerror(errno));
		if (S_ISLNK(st.st_mode))
			return follow(w, name, what, &st) == 0 ? 1 : -1;
		return fail(w, ENOTDIR, what, &st, "is not a directory");
	}
	if (fstat(fd, &st) != 0 || check(w, what, &st, last) != 0) {
		int e = errno;
		if (w->err[0] == '\0')
			fail(w, e, what, NULL, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (w->o->each)
		w->o->each(w->o->arg, what, &st);
	close(w->fd);
	w->fd = fd;
	memcpy(w->at, what, sizeof(w->at));
	return 0;
}

/*
 * walk - every directory of path; with want_file the last component is left
 * to the caller (its name in name, its checked parent in w->fd) unless it is
 * a trusted symlink, which is followed. 0, or -1 with w->err.
 */
static int
walk(struct walk *w, const char *path, int want_file, char *name, size_t namesz)
{
	int last = 0, rc;
	struct stat st;

	w->fd = -1;
	w->err[0] = '\0';
	w->o->last_missing = w->o->created = 0;
	if (path == NULL || path[0] != '/')
		return fail(w, EINVAL, path ? path : "(null)", NULL, "is not an absolute path");
	if (strlen(path) >= sizeof(w->rest) / 2)
		return fail(w, ENAMETOOLONG, path, NULL, "is too long");
	snprintf(w->rest, sizeof(w->rest), "%s", path);
	w->pos = 0;
	if (at_root(w) != 0)
		return -1;
	while ((rc = next(w, name, namesz, &last)) > 0) {
		int dots = strcmp(name, ".") == 0 ? 1 : strcmp(name, "..") == 0 ? 2 : 0;
		if (dots && last && want_file)
			return fail(w, EISDIR, path, NULL, "is not a file");
		if (dots == 1)
			continue;
		if (dots == 2) {
			if (up(w) != 0)
				return -1;
			continue;
		}
		if (last && want_file) {
			if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				char what[PATH_MAX];
				if (child(w, name, what, sizeof(what)) != 0 ||
				    follow(w, name, what, &st) != 0)
					return -1;
				continue;
			}
			return 0;
		}
		if (step(w, name, last) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (want_file)
		return fail(w, EISDIR, path, NULL, "is not a file");
	return 0;
}

int
tfo_safe_open_dir(const char *path, struct tfo_safe_opts *o, char *err, size_t errsz)
{
	struct walk w = { .o = o, .err = err, .errsz = errsz, .fd = -1 };
	char name[NAME_MAX + 2];

	if (walk(&w, path, 0, name, sizeof(name)) != 0) {
		int e = errno;
		if (w.fd >= 0)
			close(w.fd);
		errno = e;
		return -1;
	}
	return w.fd;
}

int
tfo_safe_open_file(const char *path, struct tfo_safe_opts *o, int oflags, char *err,
    size_t errsz)
{
	struct walk w = { .o = o, .err = err, .errsz = errsz, .fd = -1 };
	char name[NAME_MAX + 2], what[PATH_MAX];
	struct stat st;
	int fd = -1, e;

	if (walk(&w, path, 1, name, sizeof(name)) != 0)
		goto fail;
	(void)child(&w, name, what, sizeof(what));
	/* O_NONBLOCK: a FIFO planted in a sticky dir must not hang us before fstat */
	if ((fd = openat(w.fd, name, oflags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			o->last_missing = 1;
		fail(&w, errno, what, NULL, errno == ENOENT ? "does not exist" :
		    errno == ELOOP ? "is a symlink: not followed" : strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		fail(&w, errno, what, NULL, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(&w, EINVAL, what, &st, "is not a regular file");
		goto fail;
	}
	if (check(&w, what, &st, 1) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	close(w.fd);
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (w.fd >= 0)
		close(w.fd);
	errno = e;
	return -1;
}

int
tfo_safe_set(int fd, const char *path, uid_t uid, gid_t gid, mode_t mode, char *err,
    size_t errsz)
{
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) != 0) {
		snprintf(err, errsz, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0) {
		snprintf(err, errsz, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
