/*
 * pidread.c - one read of one /proc/<pid> file, shared by the walk
 * (collect.c) and the detail reads (detail.c): its own file so calls in
 * workers/process run one way.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/procfs.h"
#include "workers/process/collect_int.h"

int
pc_gone(int err)
{
	return err == ENOENT || err == ESRCH || err == ENOTDIR;
}

int
pc_read_stat(int dfd, const char *rel, char *buf, size_t cap, struct tfo_pid_stat *st)
{
	int fd, rc;

	if ((fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return pc_gone(errno) ? -1 : -2;
	rc = pc_parse_fd(fd, buf, cap, st);
	close(fd);
	return rc;
}

int
pc_pread1(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t r;

	*len = 0;
	if (cap == 0)
		return -1;
	do
		r = pread(fd, buf, cap - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	*len = (size_t)r;
	return 0;
}

int
pc_parse_fd(int fd, char *buf, size_t cap, struct tfo_pid_stat *st)
{
	size_t len;

	if (pc_pread1(fd, buf, cap, &len) != 0)
		return pc_gone(errno) ? -1 : -2;
	if (len == 0)
		return -1;      /* reaped between open and read */
	return tfo_procfs_pid_stat(buf, len, st) == TFO_OK ? 0 : -2;
}

int
pc_may_ptrace(const struct tfo_proccol *c, int64_t pid)
{
	return c->own_pid <= 0 || pid == c->own_pid;
}
