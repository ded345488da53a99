/*
 * worker_spawn.h - test and bench helper: run a real worker as tfo-supervisor
 * would (fd 3 = SOCK_SEQPACKET socketpair, one Control{config}, wait for
 * Ready), then kill, stop and reap it. Generic over the role: the caller
 * builds the WorkerConfig (tfo_wspawn_config fills the fields every test
 * shares) and this does socketpair/fork/exec/send/wait/kill/stop/reap.
 */
#ifndef TFO_TESTS_WORKER_SPAWN_H
#define TFO_TESTS_WORKER_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#include "common/worker.h"

struct tfo_wspawn {
	pid_t pid;              /* -1 when not running */
	int ctl;                /* our end of the control channel, -1 when closed */
	int status;             /* wait status of the last reap */
};

#define TFO_WSPAWN_INIT { .pid = -1, .ctl = -1, .status = 0 }

/*
 * tfo_wspawn_config - reset wc and lc to what a test run of role wants
 * unless said otherwise: logging at level as text, incarnation 1, the
 * caller's uid/gid, no privilege drop, seccomp off. The caller adds the
 * runtime dir, urls, peers and the role's section.
 */
void tfo_wspawn_config(Tfo__V1__WorkerConfig *wc, Tfo__V1__LoggingConfig *lc, Tfo__V1__Role role,
    const char *level);
/* tfo_wspawn_ingest_peers - a buffer's peers: the caller's uid speaks as
 * every collector role and is the exporter (one user for all, as dev mode) */
void tfo_wspawn_ingest_peers(Tfo__V1__WorkerConfig *wc);

/* tfo_wspawn_exec - socketpair, fork, exec bin (argv[0] = argv0, or bin when
 * NULL) with the child's end as fd 3; 0, or -1 with nothing left running */
int tfo_wspawn_exec(struct tfo_wspawn *w, const char *bin, const char *argv0);

/* tfo_wspawn_send_config - one Control{config = wc}; 0 or -1 */
int tfo_wspawn_send_config(struct tfo_wspawn *w, Tfo__V1__WorkerConfig *wc);

/* tfo_wspawn_wait - the next control message of kind within ms (others are
 * dropped), for the caller to free; NULL on timeout or a closed channel */
Tfo__V1__Control *tfo_wspawn_wait(struct tfo_wspawn *w, Tfo__V1__Control__MsgCase kind, int ms);

/* tfo_wspawn_start - exec, send the config, wait up to ready_ms for Ready; 0,
 * or -1 with the worker killed and reaped */
int tfo_wspawn_start(struct tfo_wspawn *w, const char *bin, const char *argv0,
    Tfo__V1__WorkerConfig *wc, int ready_ms);

/* tfo_wspawn_kill - SIGKILL and reap; 0 when it died of SIGKILL, -1 when it
 * was not running or ended otherwise (w->status tells) */
int tfo_wspawn_kill(struct tfo_wspawn *w);

/* tfo_wspawn_shutdown - send Control{shutdown} (SIGTERM when that fails);
 * the worker is not reaped: see tfo_wspawn_reap */
int tfo_wspawn_shutdown(struct tfo_wspawn *w, uint32_t deadline_ms);

/* tfo_wspawn_reap - wait for the worker, close the channel; its exit status,
 * or -1 when it did not exit (killed by a signal) or was not running */
int tfo_wspawn_reap(struct tfo_wspawn *w);

/* tfo_wspawn_stop - shutdown then reap; the exit status or -1 */
int tfo_wspawn_stop(struct tfo_wspawn *w, uint32_t deadline_ms);

#endif
