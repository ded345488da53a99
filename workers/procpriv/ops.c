/*
 * ops.c - tfo-procpriv's operations (the helper process, privileged, under
 * its own seccomp filter): for each (pid, ops) of a request, open
 * /proc/<pid> from the integer, then io, exe and fd/ below it by fixed
 * names, and answer numbers and the exe path. Nothing here allocates: the
 * request is at most TFO_PRIVOPS_BATCH entries, every buffer is fixed.
 */
#include "workers/procpriv/ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/procfs_pid.h"

#define IO_READ_MAX 1024        /* /proc/<pid>/io is seven short lines (~180 bytes) */
#define DENTS_BUF 4096

/* read-only data: the seccomp filter pins these addresses (ops.h) */
const char tfo_privops_name_io[] = "io";
const char tfo_privops_name_exe[] = "exe";
const char tfo_privops_name_fd[] = "fd";

/* pid_name - decimal digits of pid > 0 into out (no sign, no slash: the
 * one path component built from a request) */
static void
pid_name(int32_t pid, char out[16])
{
	char tmp[16];
	size_t n = 0, i = 0;
	uint32_t v = (uint32_t)pid;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		out[i++] = tmp[--n];
	out[i] = '\0';
}

static int
open_pid(int procfd, int32_t pid)
{
	char name[16];

	pid_name(pid, name);
	return openat(procfd, name, TFO_PRIVOPS_DIR_FLAGS);
}

/* op_io - the io counters; one read: the file is far shorter than the
 * buffer, so a short read is the whole file (no second read for EOF) */
static int
op_io(int dfd, struct tfo_privops_res *r)
{
	char buf[IO_READ_MAX];
	struct tfo_pid_io io;
	ssize_t n;
	int fd, err;

	if ((fd = openat(dfd, tfo_privops_name_io, TFO_PRIVOPS_FILE_FLAGS)) < 0)
		return errno;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0)
		return err;
	if ((size_t)n == sizeof(buf) || tfo_procfs_pid_io(buf, (size_t)n, &io) != TFO_OK)
		return EBADMSG;
	r->read_bytes = io.read_bytes;
	r->write_bytes = io.write_bytes;
	r->cancelled_write_bytes = io.cancelled_write_bytes;
	r->rchar = io.rchar;
	r->wchar = io.wchar;
	r->syscr = io.syscr;
	r->syscw = io.syscw;
	return 0;
}

/* op_exe - the exe link's text into exe (not NUL-terminated) */
static int
op_exe(int dfd, char *exe, struct tfo_privops_res *r)
{
	ssize_t n = readlinkat(dfd, tfo_privops_name_exe, exe, TFO_PRIVOPS_EXE_MAX);

	if (n < 0)
		return errno;
	if (n == 0 || (size_t)n >= TFO_PRIVOPS_EXE_MAX)
		return n == 0 ? ENOENT : ENAMETOOLONG;
	r->exe_len = (uint32_t)n;
	return 0;
}

/* count_dents - entries of an open directory but "." and "..": kernels
 * before 6.2 give no size for fd/ */
static int
count_dents(int fd, int64_t *count)
{
	char buf[DENTS_BUF];
	ssize_t n;

	*count = 0;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + 19 < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (reclen == 0 || off + reclen > n)
				return EIO;
			*count += buf[off + 19] != '.';
			off += reclen;
		}
	}
	return n < 0 ? errno : 0;
}

static int
op_nfds(const struct tfo_privops_env *env, int dfd, struct tfo_privops_res *r)
{
	struct stat st;
	int fd, err;

	if (!env->list_fds) {
		if (fstatat(dfd, tfo_privops_name_fd, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return errno;
		r->nfds = (int64_t)st.st_size;
		return 0;
	}
	if ((fd = openat(dfd, tfo_privops_name_fd, TFO_PRIVOPS_DIR_FLAGS)) < 0)
		return errno;
	err = count_dents(fd, &r->nfds);
	close(fd);
	return err;
}

/* one_entry - every op asked for one process; exe receives the path */
static void
one_entry(const struct tfo_privops_env *env, const struct tfo_privops_req *q,
    struct tfo_privops_res *r, char *exe)
{
	int dfd;

	memset(r, 0, sizeof(*r));
	r->pid = q->pid;
	r->err_io = r->err_exe = r->err_nfds = ENODATA;
	r->nfds = -1;
	if ((dfd = open_pid(env->procfd, q->pid)) < 0) {
		int err = errno;
		r->err_io = (q->ops & TFO_PRIVOP_IO) ? err : ENODATA;
		r->err_exe = (q->ops & TFO_PRIVOP_EXE) ? err : ENODATA;
		r->err_nfds = (q->ops & TFO_PRIVOP_NFDS) ? err : ENODATA;
		return;
	}
	if (q->ops & TFO_PRIVOP_IO)
		r->err_io = op_io(dfd, r);
	if (q->ops & TFO_PRIVOP_EXE)
		r->err_exe = op_exe(dfd, exe, r);
	if (q->ops & TFO_PRIVOP_NFDS)
		r->err_nfds = op_nfds(env, dfd, r);
	close(dfd);
}

/* check_request - the header and every entry; n entries on success */
static int
check_request(const uint8_t *req, size_t len, uint32_t *n)
{
	struct tfo_privops_hdr h;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, req, sizeof(h));
	if (h.magic != TFO_PRIVOPS_MAGIC || h.type != TFO_PRIVMSG_READ || h.reserved != 0 ||
	    h.n == 0 || h.n > TFO_PRIVOPS_BATCH ||
	    len != sizeof(h) + h.n * sizeof(struct tfo_privops_req))
		return -1;
	for (uint32_t i = 0; i < h.n; i++) {
		struct tfo_privops_req q;
		memcpy(&q, req + sizeof(h) + i * sizeof(q), sizeof(q));
		if (q.pid <= 0 || q.ops == 0 || (q.ops & ~TFO_PRIVOP_ALL) != 0)
			return -1;
	}
	*n = h.n;
	return 0;
}

enum tfo_err
tfo_privops_serve(const struct tfo_privops_env *env, const uint8_t *req, size_t len,
    uint8_t *reply, size_t cap, size_t *rlen)
{
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_READ };
	size_t off = sizeof(h);
	uint32_t n;

	*rlen = 0;
	if (cap < TFO_PRIVOPS_REPLY_MAX || check_request(req, len, &n) != 0)
		return TFO_EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		struct tfo_privops_req q;
		struct tfo_privops_res r;
		char *exe = (char *)reply + off + sizeof(r);

		memcpy(&q, req + sizeof(h) + i * sizeof(q), sizeof(q));
		one_entry(env, &q, &r, exe);
		memset(exe + r.exe_len, 0, TFO_PRIVOPS_PAD8(r.exe_len) - r.exe_len);
		memcpy(reply + off, &r, sizeof(r));
		off += sizeof(r) + TFO_PRIVOPS_PAD8(r.exe_len);
	}
	h.n = n;
	memcpy(reply, &h, sizeof(h));
	*rlen = off;
	return TFO_OK;
}

int
tfo_privops_fd_count_sized(int procfd)
{
	struct statfs sfs;
	struct stat st;
	int dfd, sized;

	/* a proc_root that is no procfs (a copied tree): its fd/ are plain dirs */
	if (fstatfs(procfd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC ||
	    (dfd = open_pid(procfd, (int32_t)getpid())) < 0)
		return 0;
	/* this process holds fds 0-4 at least: a sized fd/ is never 0 here */
	sized = fstatat(dfd, tfo_privops_name_fd, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0;
	close(dfd);
	return sized;
}
