/*
 * statfs.h - statvfs of mountpoints on a helper thread with a deadline, so a
 * dead NFS server never blocks tfo-system's loop. One long-lived thread does
 * the calls; when it is stuck past the deadline it is abandoned (it frees
 * itself when the call returns), its mountpoint is skipped until then, and a
 * fresh thread takes over. At most SYS_STATFS_MAX_STUCK threads are stuck.
 */
#ifndef TFO_SYSTEM_STATFS_H
#define TFO_SYSTEM_STATFS_H

#include <stddef.h>
#include <sys/statvfs.h>

#include "workers/system/collect.h"

#define SYS_STATFS_MAX_STUCK 4
#define SYS_STATFS_PATH_MAX 4096

struct sys_statfs;

struct sys_statfs_res {
	int status;                     /* 0 ok, else an errno; ETIMEDOUT = not done */
	struct statvfs st;
};

struct sys_statfs *sys_statfs_new(tfo_statvfs_fn fn);
/* sys_statfs_free - stop the live thread (joined); stuck ones free themselves */
void sys_statfs_free(struct sys_statfs *sf);
void sys_statfs_set_fn(struct sys_statfs *sf, tfo_statvfs_fn fn);

/* sys_statfs_reap - forget stuck threads whose call has returned */
void sys_statfs_reap(struct sys_statfs *sf);
/* sys_statfs_is_stuck - is path held by a stuck thread? */
int sys_statfs_is_stuck(struct sys_statfs *sf, const char *path);
/* sys_statfs_stuck_list - the stuck paths, ", " joined into buf */
void sys_statfs_stuck_list(struct sys_statfs *sf, char *buf, size_t cap);

/*
 * sys_statfs_submit - start statvfs of n paths (copied) on the thread and
 * return at once. TFO_EAGAIN when too many threads are stuck to start one.
 */
enum tfo_err sys_statfs_submit(struct sys_statfs *sf, const char *const *paths, size_t n);
/*
 * sys_statfs_wait - wait at most timeout_ms for the submitted job; res[i]
 * gets each path's result. Returns 1 when the deadline passed (the path in
 * progress is now stuck and the rest are ETIMEDOUT), 0 when all finished.
 */
int sys_statfs_wait(struct sys_statfs *sf, unsigned timeout_ms, struct sys_statfs_res *res);

#endif
