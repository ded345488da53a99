/*
 * slowfs.c - a slow disk for tests: a FUSE passthrough of SRC on MOUNTPOINT
 * whose fsync/fdatasync (and, optionally, every write) first sleeps as long
 * as CONTROL says, read again at each such call, so a test can make the disk
 * slow, then stall, then heal while the agent runs on it.
 *
 *   slowfs SRC MOUNTPOINT CONTROL
 *
 * CONTROL holds "<sync_ms> [<write_ms>]" (missing or unreadable: 0 0). A
 * caller waiting in a FUSE request is in uninterruptible (killable) sleep,
 * state D, as on a slow local disk or a stalled NFS server. Files created
 * get the caller's uid and gid (the daemon runs as root; the agent's roles
 * are not root). Runs in the foreground, multi-threaded, until unmounted or
 * signalled; mounted allow_other,default_permissions so the kernel checks
 * modes as on a real filesystem.
 */
#define FUSE_USE_VERSION 31
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* renameat2 */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static int src_fd = -1;
static char control[PATH_MAX];     /* absolute: fuse_main may chdir("/") */

/* rel - FUSE's absolute path as one relative to SRC ("." for the root) */
static const char *
rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

/* delay - sleep what CONTROL's field (0 sync, 1 write) says */
static void
delay(int field)
{
	char buf[64] = "";
	unsigned long v[2] = { 0, 0 };
	struct timespec ts;
	ssize_t n;
	int fd = open(control, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &v[0], &v[1]) < 1 || v[field] == 0 || v[field] > 600000)
		return;
	ts.tv_sec = (time_t)(v[field] / 1000);
	ts.tv_nsec = (long)(v[field] % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
neg(int rv)
{
	return rv == -1 ? -errno : rv;
}

/* own - what a caller creates is the caller's */
static void
own(const char *path)
{
	struct fuse_context *c = fuse_get_context();

	(void)fchownat(src_fd, rel(path), c->uid, c->gid, AT_SYMLINK_NOFOLLOW);
}

static void *
sf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static int
sf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	if (fi)
		return neg(fstat((int)fi->fh, st));
	return neg(fstatat(src_fd, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int
sf_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(src_fd, rel(path), buf, size - 1);

	if (n == -1)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int
sf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dirent *de;
	DIR *d;
	int fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	(void)off;
	(void)fi;
	(void)flags;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)de->d_type << 12 };
		if (fill(buf, de->d_name, &st, 0, 0))
			break;
	}
	closedir(d);
	return 0;
}

static int
sf_mkdir(const char *path, mode_t mode)
{
	if (mkdirat(src_fd, rel(path), mode) == -1)
		return -errno;
	own(path);
	return 0;
}

static int
sf_symlink(const char *target, const char *path)
{
	if (symlinkat(target, src_fd, rel(path)) == -1)
		return -errno;
	own(path);
	return 0;
}

static int
sf_unlink(const char *path)
{
	return neg(unlinkat(src_fd, rel(path), 0));
}

static int
sf_rmdir(const char *path)
{
	return neg(unlinkat(src_fd, rel(path), AT_REMOVEDIR));
}

static int
sf_rename(const char *from, const char *to, unsigned int flags)
{
	return neg(renameat2(src_fd, rel(from), src_fd, rel(to), flags));
}

static int
sf_link(const char *from, const char *to)
{
	return neg(linkat(src_fd, rel(from), src_fd, rel(to), 0));
}

static int
sf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fi)
		return neg(fchmod((int)fi->fh, mode));
	return neg(fchmodat(src_fd, rel(path), mode, 0));
}

static int
sf_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return neg(fchown((int)fi->fh, uid, gid));
	return neg(fchownat(src_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int
sf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int fd, rv;

	if (fi)
		return neg(ftruncate((int)fi->fh, size));
	if ((fd = openat(src_fd, rel(path), O_WRONLY | O_CLOEXEC)) == -1)
		return -errno;
	rv = neg(ftruncate(fd, size));
	close(fd);
	return rv;
}

static int
sf_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (fi)
		return neg(futimens((int)fi->fh, tv));
	return neg(utimensat(src_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int
sf_open(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);

	if (fd == -1)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int
sf_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), fi->flags | O_CREAT | O_CLOEXEC, mode);

	if (fd == -1)
		return -errno;
	own(path);
	fi->fh = (uint64_t)fd;
	return 0;
}

static int
sf_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	return neg((int)pread((int)fi->fh, buf, size, off));
}

static int
sf_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	delay(1);
	return neg((int)pwrite((int)fi->fh, buf, size, off));
}

static int
sf_statfs(const char *path, struct statvfs *sv)
{
	int fd = openat(src_fd, rel(path), O_RDONLY | O_CLOEXEC), rv;

	if (fd == -1)
		return -errno;
	rv = neg(fstatvfs(fd, sv));
	close(fd);
	return rv;
}

static int
sf_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int
sf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	delay(0);
	return neg(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
}

static int
sf_opendir(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return -errno;
	close(fd);
	(void)fi;
	return 0;
}

static int
sf_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = openat(src_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rv;

	(void)fi;
	delay(0);
	if (fd == -1)
		return -errno;
	rv = neg(datasync ? fdatasync(fd) : fsync(fd));
	close(fd);
	return rv;
}

static const struct fuse_operations ops = {
	.init = sf_init,
	.getattr = sf_getattr,
	.readlink = sf_readlink,
	.readdir = sf_readdir,
	.mkdir = sf_mkdir,
	.symlink = sf_symlink,
	.unlink = sf_unlink,
	.rmdir = sf_rmdir,
	.rename = sf_rename,
	.link = sf_link,
	.chmod = sf_chmod,
	.chown = sf_chown,
	.truncate = sf_truncate,
	.utimens = sf_utimens,
	.open = sf_open,
	.create = sf_create,
	.read = sf_read,
	.write = sf_write,
	.statfs = sf_statfs,
	.release = sf_release,
	.fsync = sf_fsync,
	.opendir = sf_opendir,
	.fsyncdir = sf_fsyncdir,
};

int
main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-f", "-o", "allow_other,default_permissions,fsname=slowfs",
		argc > 2 ? argv[2] : NULL, NULL };

	if (argc != 4) {
		fprintf(stderr, "usage: slowfs SRC MOUNTPOINT CONTROL\n");
		return 2;
	}
	if ((src_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		perror(argv[1]);
		return 1;
	}
	if (realpath(argv[3], control) == NULL) {
		perror(argv[3]);
		return 1;
	}
	umask(0);
	return fuse_main(5, fargv, &ops, NULL);
}
