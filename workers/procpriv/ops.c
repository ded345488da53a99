/*
 * ops.c - tfo-procpriv's operations (the helper process, privileged, under
 * its own seccomp filter): for each (pid, ops) of a request, open
 * /proc/<pid> from the integer, then io, exe and fd/ below it by fixed
 * names, and answer numbers and the exe path. Nothing here allocates: the
 * request is at most TFO_PRIVOPS_BATCH entries, every buffer is fixed.
 * The /proc/<pid> directory and io file of a process asked for its io (a
 * reported one: asked again every cycle) stay open while it keeps being
 * asked for, as tfo-process keeps its own detail files (workers/process/
 * kept.c): two opens and two closes fewer per reported process and cycle.
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
/* (directory, io) pairs kept: 48 fds, beside the few the helper holds, under
 * its RLIMIT_NOFILE of 64 (main.c); a larger top_n keeps the first 24 */
#define KEEP_MAX 24
/* requests with io a kept process may miss before its fds are closed: a
 * cycle of a large top_n takes several */
#define KEEP_AGE 4

/* One kept process: its /proc/<pid> directory, its io file (-1: not yet). A
 * directory opened by pid stays that process's: once it exits, reads through
 * it fail (ENOENT, ESRCH) even when the pid has a new owner. */
struct kept {
	int32_t pid;
	int dfd, iofd;
	uint32_t age;              /* requests with io since it was last asked for */
};

static struct kept keep[KEEP_MAX];
static size_t nkeep;

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

static void
keep_drop(size_t i)
{
	close(keep[i].dfd);
	if (keep[i].iofd >= 0)
		close(keep[i].iofd);
	keep[i] = keep[--nkeep];
}

static struct kept *
keep_find(int32_t pid)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i].pid == pid)
			return &keep[i];
	return NULL;
}

/* keep_add - keep dfd of pid (taken over); NULL when every slot was asked
 * for in this request (the caller closes dfd) */
static struct kept *
keep_add(int32_t pid, int dfd)
{
	size_t old = 0;

	if (nkeep == KEEP_MAX) {
		for (size_t i = 1; i < nkeep; i++)
			if (keep[i].age > keep[old].age)
				old = i;
		if (keep[old].age == 0)
			return NULL;
		keep_drop(old);
	}
	keep[nkeep] = (struct kept){ .pid = pid, .dfd = dfd, .iofd = -1 };
	return &keep[nkeep++];
}

/* keep_age - a request with io: every kept process one older, those not
 * asked for in KEEP_AGE such requests closed */
static void
keep_age(void)
{
	for (size_t i = 0; i < nkeep;)
		if (++keep[i].age > KEEP_AGE)
			keep_drop(i);
		else
			i++;
}

void
tfo_privops_keep_close(void)
{
	while (nkeep > 0)
		keep_drop(nkeep - 1);
}

size_t
tfo_privops_kept(void)
{
	return nkeep;
}

/* op_io - the io counters; one read: the file is far shorter than the
 * buffer, so a short read is the whole file (no second read for EOF). With
 * k, its io file, opened once and kept. */
static int
op_io(int dfd, struct kept *k, struct tfo_privops_res *r)
{
	char buf[IO_READ_MAX];
	struct tfo_pid_io io;
	ssize_t n;
	int fd = k != NULL ? k->iofd : -1, err;

	if (fd < 0 && (fd = openat(dfd, tfo_privops_name_io, TFO_PRIVOPS_FILE_FLAGS)) < 0)
		return errno;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	err = errno;
	if (k != NULL)
		k->iofd = fd;
	else
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

/* run_ops - every op asked for, through dfd (k: kept, or NULL) */
static void
run_ops(const struct tfo_privops_env *env, const struct tfo_privops_req *q, int dfd,
    struct kept *k, struct tfo_privops_res *r, char *exe)
{
	memset(r, 0, sizeof(*r));
	r->pid = q->pid;
	r->err_io = r->err_exe = r->err_nfds = ENODATA;
	r->nfds = -1;
	if (q->ops & TFO_PRIVOP_IO)
		r->err_io = op_io(dfd, k, r);
	if (q->ops & TFO_PRIVOP_EXE)
		r->err_exe = op_exe(dfd, exe, r);
	if (q->ops & TFO_PRIVOP_NFDS)
		r->err_nfds = op_nfds(env, dfd, r);
}

static int
gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

/* one_entry - every op asked for one process; exe receives the path. A
 * process asked for its io is read through its kept directory; when that
 * process is gone, the pid is opened afresh (it may have a new owner) */
static void
one_entry(const struct tfo_privops_env *env, const struct tfo_privops_req *q,
    struct tfo_privops_res *r, char *exe)
{
	struct kept *k = (q->ops & TFO_PRIVOP_IO) ? keep_find(q->pid) : NULL;
	int dfd;

	if (k != NULL) {
		k->age = 0;
		run_ops(env, q, k->dfd, k, r, exe);
		if (!gone(r->err_io) && !gone(r->err_exe) && !gone(r->err_nfds))
			return;
		keep_drop((size_t)(k - keep));
	}
	if ((dfd = open_pid(env->procfd, q->pid)) < 0) {
		int err = errno;
		memset(r, 0, sizeof(*r));
		r->pid = q->pid;
		r->nfds = -1;
		r->err_io = (q->ops & TFO_PRIVOP_IO) ? err : ENODATA;
		r->err_exe = (q->ops & TFO_PRIVOP_EXE) ? err : ENODATA;
		r->err_nfds = (q->ops & TFO_PRIVOP_NFDS) ? err : ENODATA;
		return;
	}
	k = (q->ops & TFO_PRIVOP_IO) ? keep_add(q->pid, dfd) : NULL;
	run_ops(env, q, dfd, k, r, exe);
	if (k != NULL && gone(r->err_io))
		keep_drop((size_t)(k - keep));  /* exited meanwhile */
	else if (k == NULL)
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
		memcpy(&q, req + sizeof(h) + i * sizeof(q), sizeof(q));
		if (q.ops & TFO_PRIVOP_IO) {
			keep_age();
			break;
		}
	}
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
