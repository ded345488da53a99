/*
 * worker.h - the shared worker skeleton every role's main() calls. It fixes
 * the order that is the security (DESIGN §1, STYLE "shared worker skeleton"):
 *
 *   read WorkerConfig from fd 3 -> ops->pre_init (privileged opens)
 *   -> rlimits -> drop identity (libcap-ng, keep ops->caps) -> verify drop
 *   -> PR_SET_PDEATHSIG + getppid -> no_new_privs -> Landlock -> seccomp
 *   -> ops->post_init (nng, LevelDB, curl, threads) -> Ready -> event loop.
 *
 * The loop is libevent; fd 3 is watched by the skeleton (Ping -> Pong with
 * ops->stats, Shutdown -> ops->shutdown then exit, SelfStats ->
 * ops->self_stats, EOF -> exit). A role adds its own events to
 * tfo_worker_base().
 */
#ifndef TFO_WORKER_H
#define TFO_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/hist.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_CONTROL_FD 3
#define TFO_CONTROL_MAX (256 * 1024)   /* largest fd-3 message accepted */

struct tfo_worker;

/* tfo_stats - a role's stats for Pong / tfoctl status, filled by ops->stats */
struct tfo_stats;
void tfo_stats_num(struct tfo_stats *st, const char *name, double value);
void tfo_stats_text(struct tfo_stats *st, const char *name, const char *text);
/* tfo_stats_hist - h as "<prefix>.count", ".sum_s" and its cumulative
 * buckets (common/hist.h names them) */
void tfo_stats_hist(struct tfo_stats *st, const char *prefix, const struct tfo_hist *h);

struct tfo_worker_ops {
	const char *role;                 /* "system", "buffer", ... */
	Tfo__V1__Role role_id;
	/* Capabilities kept after the uid change (CAP_* numbers), -1 terminated. */
	const int *caps;
	/* When set: the capabilities for this spawn's config instead of caps
	 * (tfo-process: collectors.process.privileged_reads). */
	const int *(*caps_for)(const Tfo__V1__WorkerConfig *cfg, void *arg);
	/* Privileged opens, still root: files, dirfds. Return 0 or -1 (fatal). */
	int (*pre_init)(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg);
	/* Sandboxed: start nng, LevelDB, curl, timers on tfo_worker_base(). */
	int (*post_init)(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg);
	/* Graceful stop requested (Shutdown, SIGTERM, or the supervisor gone:
	 * tfo_worker_orphaned); call tfo_worker_exit when done. */
	void (*shutdown)(struct tfo_worker *w, uint32_t deadline_ms, void *arg);
	/* Release everything post_init and pre_init made (paired lifecycle). */
	void (*fini)(struct tfo_worker *w, void *arg);
	/* Fill role stats for the supervisor's status: at a Ping that asks for
	 * them (tfoctl status, the self metrics, a stop), not at every one. May
	 * be NULL. */
	void (*stats)(struct tfo_worker *w, struct tfo_stats *st, void *arg);
	/* At each Ping: the role's condition for the supervisor's one-line
	 * summary (systemd STATUS=), "" when nothing is wrong; the same text as
	 * its "status" stat. May be NULL. */
	const char *(*status)(struct tfo_worker *w, void *arg);
	/* tfo-system only: the supervisor's SelfStats, to encode as the self
	 * metrics. NULL elsewhere: the message is then unexpected (fatal). */
	void (*self_stats)(struct tfo_worker *w, const Tfo__V1__SelfStats *ss, void *arg);
	/* At each Ping: 0 while the role makes progress, else for how long (ms)
	 * it has not, why in why (one line). The supervisor kills and restarts a
	 * worker stalled for its hung_timeout, as one that stopped ponging. May
	 * be NULL (the pong itself is then the only sign of life). */
	uint64_t (*health)(struct tfo_worker *w, char *why, size_t len, void *arg);
	/* Paths the role reads/writes, for Landlock; filled from cfg in pre_init via
	 * tfo_worker_landlock_*; seccomp additions by role name in common/sandbox. */
};

/* tfo_worker_main - run the skeleton; returns the process exit status. */
int tfo_worker_main(int argc, char **argv, const struct tfo_worker_ops *ops, void *arg);

struct event_base *tfo_worker_base(struct tfo_worker *w);
const Tfo__V1__WorkerConfig *tfo_worker_config(struct tfo_worker *w);
/*
 * tfo_worker_put_limits - how long a put to the buffer may hold the worker's
 * loop: one wait for the answer (timeout_ms), resent until give_up_ms, so at
 * most give_up_ms plus one wait in all, which is half the supervisor's
 * hung_timeout at most (5 s and 1 s with its 15 s default): a ping sent just
 * before the put is answered after it with a ping interval (at most half the
 * timeout) to spare. A loop held longer was killed as hung for a slow
 * buffer's sake (supervisor.hung_timeout under 6 s).
 */
void tfo_worker_put_limits(const Tfo__V1__WorkerConfig *cfg, int *timeout_ms,
    uint32_t *give_up_ms);
/* tfo_worker_orphaned - the supervisor is gone (fd-3 EOF): the stop under way
 * is bounded by the skeleton (1.5 s, then 0.5 s of grace), not by a Shutdown */
int tfo_worker_orphaned(const struct tfo_worker *w);
/* tfo_worker_exit - leave the loop; status becomes the process exit code */
void tfo_worker_exit(struct tfo_worker *w, int status);

/*
 * fd-3 framing, shared with tfo-supervisor (common/worker_chan.c): one packed
 * Tfo__V1__Control per SOCK_SEQPACKET packet, at most TFO_CONTROL_MAX bytes.
 * tfo_control_recv returns NULL with *err = TFO_EAGAIN (nothing queued on a
 * non-blocking fd), TFO_ECLOSED (EOF; a zero-length packet counts as EOF),
 * TFO_ERANGE (truncated / oversized packet, consumed), TFO_EPROTO /
 * TFO_EVERSION (tfo_msg_decode refused it) or TFO_EIO (errno set).
 * Free a result with tfo__v1__control__free_unpacked(m, NULL).
 */
enum tfo_err tfo_control_send(int fd, const Tfo__V1__Control *m);
Tfo__V1__Control *tfo_control_recv(int fd, enum tfo_err *err);
Tfo__V1__Control *tfo_control_decode(const void *buf, size_t len, enum tfo_err *err);

/* Landlock rules a role declares in pre_init (applied after the drop). */
void tfo_worker_landlock_ro(struct tfo_worker *w, const char *path);
void tfo_worker_landlock_rw(struct tfo_worker *w, const char *path);
/* read, make unix sockets, remove files (an ipc listener's directory) */
void tfo_worker_landlock_sockdir(struct tfo_worker *w, const char *path);
void tfo_worker_landlock_connect_tcp(struct tfo_worker *w, uint16_t port);
/* tfo_worker_sandbox_child - a child the role started in pre_init (its
 * helper), which its seccomp filter then lets it reap (wait4 of that pid) */
void tfo_worker_sandbox_child(struct tfo_worker *w, int pid);

#endif
