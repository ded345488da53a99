/*
 * statedir.c - tfo-buffer's state directory, prepared in pre-init (root,
 * before the identity drop): buffer.path and its queue made 0700 and their
 * files 0600 whatever they were (a directory left 0755 by an earlier setup
 * must not leave queued logs readable), given to the role user. Root never
 * follows a link the role user (the directory's owner) may have planted:
 * the path is walked with O_NOFOLLOW from "/" and every chown and chmod goes
 * through an fd opened O_NOFOLLOW from its checked parent.
 */
#include "workers/buffer/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/safepath.h"

#define QUEUE "queue"

struct own {
	int own;
	uid_t uid;
	gid_t gid;
};

/* ours - an entry root may change: owned by root or the role user, and for
 * a file no other name (a hard link planted to a file of someone else) */
static int
ours(const struct own *o, const struct stat *st)
{
	if (st->st_uid != 0 && !(o->own && st->st_uid == o->uid) && st->st_uid != geteuid())
		return 0;
	return S_ISDIR(st->st_mode) || st->st_nlink == 1;
}

/* strange - why an entry is none of root's business, or NULL */
static const char *
strange(const struct own *o, const struct stat *st, int depth)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
		return "is neither a file nor a directory";
	if (S_ISDIR(st->st_mode) && depth > 0)
		return "is a directory where the store has none";
	if (!ours(o, st))
		return S_ISREG(st->st_mode) && st->st_nlink != 1 ? "has other hard links" :
		    "is owned by neither root nor the buffer's user";
	return NULL;
}

/* fix_entry - name in dfd (at path), changed through its own O_NOFOLLOW fd;
 * depth 0 = an entry of buffer.path (its directories are walked once more) */
static int fix_dir(int dfd, const char *path, const struct own *o, int depth);

static void
fix_entry(int dfd, const char *dir, const char *name, const struct own *o, int depth)
{
	char path[4096], err[512], desc[128];
	const char *why;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;         /* gone meanwhile */
	if ((why = strange(o, &st, depth)) != NULL) {
		tfo_safe_describe(&st, desc, sizeof(desc));
		log_warn("%s (%s) %s: left as it is, not followed", path, desc, why);
		return;
	}
	fd = openat(dfd, name, (S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY) |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("open %s: %s", path, strerror(errno));
		return;
	}
	/* the same object as checked (not swapped in between) */
	struct stat now;
	if (fstat(fd, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
	    tfo_safe_set(fd, path, o->own ? o->uid : (uid_t)-1, o->gid,
	    S_ISDIR(st.st_mode) ? BUFFER_DIR_MODE : BUFFER_FILE_MODE, err, sizeof(err)) != 0)
		log_warn("%s left as it is: %s", path, now.st_ino != st.st_ino ? "replaced" : err);
	else if (S_ISDIR(st.st_mode))
		(void)fix_dir(fd, path, o, depth + 1);
	close(fd);
}

/* fix_dir - every entry of the directory dfd (closed by the caller) */
static int
fix_dir(int dfd, const char *path, const struct own *o, int depth)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("list %s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fix_entry(dfd, path, de->d_name, o, depth);
	closedir(d);
	return 0;
}

/*
 * queue_dir - dir/queue refused when it is anything but a directory of ours
 * (a symlink there would take the store elsewhere). A missing queue is left
 * to LevelDB, which makes it after the drop, as the role user, under umask
 * 077: root here may lack CAP_DAC_OVERRIDE (the unit's bounding set has only
 * CAP_DAC_READ_SEARCH, CAP_CHOWN and CAP_FOWNER), and buffer.path is the
 * role user's 0700 directory, so a mkdir by root is refused.
 */
static int
queue_dir(int dfd, const char *dir, const struct own *o, char *err, size_t errsz)
{
	struct stat st;
	char desc[128];

	if (fstatat(dfd, QUEUE, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "%s/%s: %s", dir, QUEUE, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || !ours(o, &st)) {
		tfo_safe_describe(&st, desc, sizeof(desc));
		snprintf(err, errsz, "%s/%s (%s) is %s: refused, not followed (remove it)", dir,
		    QUEUE, desc, S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ?
		    "not owned by root or the buffer's user" : "not a directory");
		return -1;
	}
	return 0;
}

int
buffer_statedir_prepare(const char *dir, int own, uid_t uid, gid_t gid, char *err,
    size_t errsz)
{
	struct own o = { own, uid, gid };
	struct tfo_safe_opts so = {
		.self = geteuid(), .last_uid = own ? uid : 0, .mkmode = BUFFER_DIR_MODE,
		.flags = TFO_SAFE_MKDIR | TFO_SAFE_LAST_MODE,
	};
	int dfd = tfo_safe_open_dir(dir, &so, err, errsz), rc;

	if (dfd < 0)
		return -1;
	rc = tfo_safe_set(dfd, dir, own ? uid : (uid_t)-1, gid, BUFFER_DIR_MODE, err, errsz);
	if (rc == 0)
		rc = queue_dir(dfd, dir, &o, err, errsz);
	if (rc == 0)
		(void)fix_dir(dfd, dir, &o, 0);
	close(dfd);
	return rc;
}
