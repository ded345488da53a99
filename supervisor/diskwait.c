/*
 * diskwait.c - does a worker that stopped answering pings wait on the disk?
 *
 * A worker's loop blocked in the kernel on storage (an fdatasync that a slow
 * or saturated disk takes 20 s over, a read from a stalled NFS or FUSE
 * mount) is not hung the way a kill and a restart mend: the new process
 * blocks on the same disk (and reopening the buffer's store adds to its
 * load), a loop of such restarts ends in `fatal`, and a kill does not even
 * take effect until an uninterruptible wait ends. So the hung check asks the
 * kernel first (looks.c: /proc/<pid>/stat, the state, and /proc/<pid>/syscall,
 * where the main thread, which runs every worker's loop, is blocked): it
 * waits on the disk when it is
 *   - in an fsync/fdatasync/sync_file_range/syncfs/msync (storage only), or
 *   - in a read or write family call on an fd that is a file, not a socket
 *     or a pipe (/proc/<pid>/fd/<n> names a path: readlink only, which never
 *     touches the file's filesystem, so the check cannot block on it), or
 *   - in uninterruptible sleep (D), whatever the call (a page fault on a
 *     mapped file included): on Linux that is I/O, and no kill can end it.
 * A path call in interruptible sleep (S) does not count, since an open of a
 * FIFO waits there for a peer; nor does a read of a socket or a pipe: those
 * are the hangs the check is for.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/supervisor.h"

struct call {
	long nr;
	const char *name;
	enum { C_SYNC, C_FD, C_PATH } kind;
};

static const struct call calls[] = {
	{ SYS_fsync, "fsync", C_SYNC },
	{ SYS_fdatasync, "fdatasync", C_SYNC },
	{ SYS_sync_file_range, "sync_file_range", C_SYNC },
	{ SYS_syncfs, "syncfs", C_SYNC },
	{ SYS_msync, "msync", C_SYNC },
	{ SYS_read, "read", C_FD },
	{ SYS_pread64, "pread64", C_FD },
	{ SYS_readv, "readv", C_FD },
	{ SYS_preadv, "preadv", C_FD },
	{ SYS_write, "write", C_FD },
	{ SYS_pwrite64, "pwrite64", C_FD },
	{ SYS_writev, "writev", C_FD },
	{ SYS_pwritev, "pwritev", C_FD },
	{ SYS_ftruncate, "ftruncate", C_FD },
	{ SYS_fallocate, "fallocate", C_FD },
	{ SYS_getdents64, "getdents64", C_FD },
	{ SYS_fstatfs, "fstatfs", C_FD },
	{ SYS_openat, "openat", C_PATH },
	{ SYS_renameat2, "renameat2", C_PATH },
	{ SYS_unlinkat, "unlinkat", C_PATH },
	{ SYS_mkdirat, "mkdirat", C_PATH },
	{ SYS_newfstatat, "newfstatat", C_PATH },
	{ SYS_statx, "statx", C_PATH },
	{ SYS_statfs, "statfs", C_PATH },
#ifdef SYS_renameat
	{ SYS_renameat, "renameat", C_PATH },
#endif
#ifdef SYS_open
	{ SYS_open, "open", C_PATH },
#endif
#ifdef SYS_rename
	{ SYS_rename, "rename", C_PATH },
#endif
#ifdef SYS_unlink
	{ SYS_unlink, "unlink", C_PATH },
#endif
#ifdef SYS_stat
	{ SYS_stat, "stat", C_PATH },
#endif
};

/* fd_is_file - /proc/<pid>/fd/<fd> names a path (not socket:[..], pipe:[..],
 * anon_inode:...) */
static int
fd_is_file(pid_t pid, unsigned long long fd)
{
	char path[64], target[64];
	ssize_t n;

	if (fd > 1u << 20)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%llu", (int)pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	return n > 0 && target[0] == '/';
}

int
sv_disk_wait_judge(char state, long nr, int fd_file, char *what, size_t len)
{
	const struct call *c = NULL;

	for (size_t i = 0; c == NULL && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].nr == nr)
			c = &calls[i];
	if (state == 'D') {
		if (c)
			snprintf(what, len, "in %s, state D", c->name);
		else if (nr < 0)
			snprintf(what, len, "in a page fault, state D");
		else
			snprintf(what, len, "in system call %ld, state D", nr);
		return 1;
	}
	if (state != 'S' || c == NULL || c->kind == C_PATH || (c->kind == C_FD && !fd_file))
		return 0;
	snprintf(what, len, "in %s, state S", c->name);
	return 1;
}

int
sv_disk_wait(struct sv_worker *w, char *what, size_t len)
{
	unsigned long long arg0;
	char state;
	long nr;

	if (sv_look(w, &state, &nr, &arg0) != 0 || (state != 'D' && state != 'S'))
		return 0;
	/* nr -1: not in a call (a page fault in D) */
	return sv_disk_wait_judge(state, nr, nr >= 0 && fd_is_file(w->pid, arg0), what, len);
}
