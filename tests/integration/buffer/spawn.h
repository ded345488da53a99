/*
 * spawn.h - start the real tfo-buffer as the supervisor would (fd 3 =
 * SOCK_SEQPACKET socketpair, one Control{config} packet, wait for Ready), for
 * the buffer's integration test and benchmark and the tests that need a live
 * buffer. A thin layer on tests/lib/worker_spawn.h: the buffer's config and
 * its temp dir.
 */
#ifndef TFO_TEST_BUFFER_SPAWN_H
#define TFO_TEST_BUFFER_SPAWN_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/worker_spawn.h"

struct tbuf {
	struct tfo_wspawn w;
	char dir[256];
	char state[300];
	char ingest[340];
	char export_url[340];
	int drop;               /* run as drop_uid:drop_gid (root only), as the supervisor does */
	uid_t drop_uid;
	gid_t drop_gid;
	/* health pings, as tfo-supervisor sends them (tbuf_ping_every) */
	pthread_mutex_t mu;     /* w, between the pinger and the caller */
	pthread_t pinger;
	int ping_ms, pinging, stop_pinging;
	Tfo__V1__Pong *pong;    /* the last one, under mu */
};

/* tbuf_setup - a temp dir holding the state dir and both ipc sockets */
int tbuf_setup(struct tbuf *t);
/* tbuf_start - fork+exec bin with its config; 0 once it said Ready */
int tbuf_start(struct tbuf *t, const char *bin, uint64_t incarnation, int sync,
    uint64_t max_mb);
/* tbuf_start_logged - tbuf_start (sync, 64 MiB) with the worker's stderr in
 * the file log (made anew); its result */
int tbuf_start_logged(struct tbuf *t, const char *bin, uint64_t incarnation, const char *log);
/* tbuf_log_lines - print the lines of the file path; how many hold `what`
 * (-1: no such file) and, when errors is not NULL, how many are at error level */
int tbuf_log_lines(const char *path, const char *what, int *errors);
/* tbuf_kill - SIGKILL and reap; 0 if it died of SIGKILL */
int tbuf_kill(struct tbuf *t);
/* tbuf_stop - Control{shutdown} and reap; the exit status, or -1 */
int tbuf_stop(struct tbuf *t);
/* tbuf_cleanup - kill if running, stop pinging, remove the temp dir */
void tbuf_cleanup(struct tbuf *t);
/* tbuf_ping_every - from now on, a health Ping every ms while a buffer runs
 * (the buffer checks its channels at each one, as under the supervisor);
 * 0 if the pinger started */
int tbuf_ping_every(struct tbuf *t, int ms);
/* tbuf_sleep_ms - sleep ms milliseconds */
void tbuf_sleep_ms(long ms);
/* tbuf_stat - a numeric stat of the last Pong (0 when none came yet), and
 * its stalled_ms in *stalled when not NULL */
double tbuf_stat(struct tbuf *t, const char *name, uint64_t *stalled);

#endif
