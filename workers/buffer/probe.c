/*
 * probe.c - tfo-buffer's health probe of its own channels (see probe.h).
 * Started and judged on the loop thread; its aio completes on nng's threads,
 * which only move it to the next step and publish the outcome.
 */
#include "workers/buffer/probe.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/req.h>

#include "common/ipcclose.h"

#define PROBE_MAXSZ 1024

static void
set_state(struct bprobe *p, enum bprobe_state st)
{
	__atomic_store_n(&p->state, (int)st, __ATOMIC_RELEASE);
}

enum bprobe_state
bprobe_state(const struct bprobe *p)
{
	return (enum bprobe_state)__atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
}

int
bprobe_connected(const struct bprobe *p)
{
	return p->open && tfo_ipc_policy_self_seen(&p->pol) > 0;
}

int
bprobe_is_probe(const void *body, size_t len)
{
	return len > sizeof(BPROBE_MAGIC) - 1 &&
	    memcmp(body, BPROBE_MAGIC, sizeof(BPROBE_MAGIC) - 1) == 0;
}

/* probe_cb - nng thread: the send went out (then wait for the echo), or the
 * echo came (or either failed) */
static void
probe_cb(void *arg)
{
	struct bprobe *p = arg;
	int rv = nng_aio_result(p->aio);
	nng_msg *m;

	switch (bprobe_state(p)) {
	case BPROBE_SENDING:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(p->aio));
			set_state(p, BPROBE_FAILED);
			return;
		}
		set_state(p, BPROBE_WAITING);
		nng_recv_aio(p->s, p->aio);  /* same aio: same timeout */
		return;
	case BPROBE_WAITING:
		if (rv != 0) {
			set_state(p, BPROBE_FAILED);
			return;
		}
		m = nng_aio_get_msg(p->aio);
		rv = nng_msg_len(m) == strlen(p->body) &&
		    memcmp(nng_msg_body(m), p->body, nng_msg_len(m)) == 0;
		nng_msg_free(m);
		set_state(p, rv ? BPROBE_OK : BPROBE_FAILED);
		return;
	default:
		return;
	}
}

int
bprobe_start(struct bprobe *p, const char *url, uint64_t now_ms, int timeout_ms)
{
	static uint32_t nonce;
	nng_msg *m;
	int rv;

	bprobe_stop(p);
	memset(p, 0, sizeof(*p));
	tfo_ipc_policy_init(&p->pol, "health probe");
	p->pol.allow_self = 1;      /* its peer is this very process, nobody else */
	p->started_ms = now_ms;
	snprintf(p->body, sizeof(p->body), "%s %u", BPROBE_MAGIC, ++nonce);
	if ((rv = nng_aio_alloc(&p->aio, probe_cb, p)) != 0)
		return rv;
	if ((rv = tfo_ipc_req_dial(&p->s, url, PROBE_MAXSZ, timeout_ms, &p->pol)) != 0) {
		nng_aio_free(p->aio);
		p->aio = NULL;
		return rv;
	}
	p->open = 1;
	if ((rv = nng_msg_alloc(&m, 0)) != 0 ||
	    (rv = nng_msg_append(m, p->body, strlen(p->body))) != 0) {
		bprobe_stop(p);
		return rv;
	}
	set_state(p, BPROBE_SENDING);
	nng_aio_set_timeout(p->aio, timeout_ms);
	nng_aio_set_msg(p->aio, m);
	nng_send_aio(p->s, p->aio);
	return 0;
}

void
bprobe_stop(struct bprobe *p)
{
	if (p->aio != NULL) {
		/* waits for a callback running now; one that fires during the
		 * stop sees the aio canceled and publishes nothing further */
		nng_aio_stop(p->aio);
		if (bprobe_state(p) == BPROBE_SENDING)
			nng_msg_free(nng_aio_get_msg(p->aio));
	}
	if (p->open)
		(void)tfo_ipc_close(p->s, "health probe", 0);
	if (p->aio != NULL)
		nng_aio_free(p->aio);
	p->aio = NULL;
	p->open = 0;
}
