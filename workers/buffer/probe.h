/*
 * probe.h - tfo-buffer's health probe of its own channels (tfo-buffer, loop
 * thread; nng callbacks): a fresh REQ connection to a channel's url, one
 * small request the channel echoes on nng's threads (chan.c), judged at the
 * next health ping. It proves what a stalled buffer cannot: that the
 * listener still accepts, that a connection gets a context, and that its
 * reply is sent.
 */
#ifndef TFO_BUFFER_PROBE_H
#define TFO_BUFFER_PROBE_H

#include <stdint.h>

#include <nng/nng.h>

#include "common/ipc.h"

#define BPROBE_MAGIC "tfo-buffer health probe"

enum bprobe_state {
	BPROBE_IDLE = 0,           /* none in flight */
	BPROBE_SENDING,            /* waiting for a connection to send on */
	BPROBE_WAITING,            /* sent, waiting for the echo */
	BPROBE_OK,                 /* echoed */
	BPROBE_FAILED,             /* no connection or no echo in time */
};

struct bprobe {
	nng_socket s;
	int open;
	nng_aio *aio;
	struct tfo_ipc_policy pol;  /* the listener it reaches is this process */
	uint64_t started_ms;
	uint64_t server_seen;       /* the channel's self_seen when it started */
	char body[48];              /* BPROBE_MAGIC and a nonce: what comes back */
	int state;                  /* enum bprobe_state, atomic (nng callback) */
};

/* bprobe_start - dial url afresh and send the probe; each step within
 * timeout_ms. 0, or an nng error with nothing left open */
int bprobe_start(struct bprobe *p, const char *url, uint64_t now_ms, int timeout_ms);
enum bprobe_state bprobe_state(const struct bprobe *p);
/* bprobe_connected - its connection came up (both SP handshakes done) */
int bprobe_connected(const struct bprobe *p);
/* bprobe_stop - cancel what is in flight, close (idempotent) */
void bprobe_stop(struct bprobe *p);
/* bprobe_is_probe - whether a request body is a probe's */
int bprobe_is_probe(const void *body, size_t len);

#endif
