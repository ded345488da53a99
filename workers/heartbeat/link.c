/*
 * link.c - tfo-heartbeat -> tfo-exporter over heartbeat.ipc: a REQ context
 * driven by one nng aio whose completions are handed to the libevent loop
 * through a pipe (the aio callback runs on an nng thread). See link.h.
 */
#include "workers/heartbeat/link.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/clock.h"
#include "common/ipc.h"
#include "common/ipcclose.h"
#include "common/log.h"

#define VERSION TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION
#define REPLY_MAX 65536u

enum link_state { L_IDLE, L_SENDING, L_RECEIVING };

struct hb_link {
	struct event_base *base;
	char *url;
	struct tfo_ipc_policy pol;
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	bool open, redial;
	int wake[2];                 /* aio callback -> loop */
	struct event *wake_ev;
	enum link_state state;
	uint64_t deadline_ms;
	hb_link_fn fn;
	void *arg;
};

/* aio_cb - nng thread: only say that the aio finished */
static void
aio_cb(void *arg)
{
	struct hb_link *l = arg;

	/* the pipe holds far more than the one byte a call can have pending */
	if (write(l->wake[1], "x", 1) < 0)
		return;
}

static void
close_socket(struct hb_link *l)
{
	if (!l->open)
		return;
	nng_ctx_close(l->ctx);
	(void)tfo_ipc_close(l->sock, "heartbeat link", 0);
	l->open = false;
}

/*
 * dial - a fresh socket and context. No resend by the REQ protocol: a beat
 * whose exporter died is reported, never sent again behind our back.
 */
static enum tfo_err
dial(struct hb_link *l)
{
	int rv;

	close_socket(l);
	if ((rv = tfo_ipc_req_dial(&l->sock, l->url, REPLY_MAX, 0, &l->pol)) != 0)
		return rv == NNG_ENOMEM ? TFO_ENOMEM : TFO_EIO;
	if ((rv = nng_socket_set_ms(l->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_ctx_open(&l->ctx, l->sock)) != 0) {
		nng_close(l->sock);
		return TFO_EIO;
	}
	l->open = true;
	l->redial = false;
	return TFO_OK;
}

static enum tfo_err
nng_to_err(int rv)
{
	switch (rv) {
	case 0:
		return TFO_OK;
	case NNG_ETIMEDOUT:
		return TFO_ETIMEDOUT;
	case NNG_ECLOSED:
	case NNG_ECONNRESET:
	case NNG_ECANCELED:
		return TFO_ECLOSED;
	case NNG_ENOMEM:
		return TFO_ENOMEM;
	default:
		return TFO_EIO;
	}
}

static void
finish(struct hb_link *l, enum tfo_err e, const Tfo__V1__HeartbeatReply *rep)
{
	hb_link_fn fn = l->fn;
	void *arg = l->arg;

	l->state = L_IDLE;
	l->fn = NULL;
	l->arg = NULL;
	if (fn != NULL)
		fn(arg, e, rep);
}

/* sent - the request is on its way: now wait for the answer */
static void
sent(struct hb_link *l, int rv)
{
	uint64_t now = tfo_mono_ms();

	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(l->aio));   /* handed back on failure */
		nng_aio_set_msg(l->aio, NULL);
		/* nng 1.5's dialer can stop for good after a peer dropped a fresh
		 * connection (see common/bufclient.c): a new socket dials again */
		l->redial = rv == NNG_ETIMEDOUT;
		finish(l, nng_to_err(rv), NULL);
		return;
	}
	l->state = L_RECEIVING;
	nng_aio_set_timeout(l->aio, l->deadline_ms > now ? (nng_duration)(l->deadline_ms - now) : 1);
	nng_ctx_recv(l->ctx, l->aio);
}

static void
received(struct hb_link *l, int rv)
{
	Tfo__V1__HeartbeatReply *rep;
	nng_msg *m;
	enum tfo_err e;

	if (rv != 0) {
		finish(l, nng_to_err(rv), NULL);
		return;
	}
	m = nng_aio_get_msg(l->aio);
	nng_aio_set_msg(l->aio, NULL);
	rep = (Tfo__V1__HeartbeatReply *)tfo_msg_decode(&tfo__v1__heartbeat_reply__descriptor,
	    nng_msg_body(m), nng_msg_len(m), REPLY_MAX, &e);
	nng_msg_free(m);
	finish(l, rep != NULL ? TFO_OK : e, rep);
	if (rep != NULL)
		tfo__v1__heartbeat_reply__free_unpacked(rep, NULL);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct hb_link *l = arg;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (l->state == L_IDLE)
		return;
	nng_aio_wait(l->aio);            /* the callback has returned */
	if (l->state == L_SENDING)
		sent(l, nng_aio_result(l->aio));
	else
		received(l, nng_aio_result(l->aio));
}

struct hb_link *
hb_link_open(struct event_base *base, const char *url, uint32_t exporter_uid)
{
	struct hb_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->base = base;
	l->wake[0] = l->wake[1] = -1;
	tfo_ipc_policy_init(&l->pol, "heartbeat");
	tfo_ipc_policy_allow(&l->pol, exporter_uid);
	if ((l->url = strdup(url)) == NULL || pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    nng_aio_alloc(&l->aio, aio_cb, l) != 0 ||
	    (l->wake_ev = event_new(base, l->wake[0], EV_READ | EV_PERSIST, on_wake, l)) == NULL ||
	    event_add(l->wake_ev, NULL) != 0 || dial(l) != TFO_OK) {
		hb_link_close(l);
		return NULL;
	}
	return l;
}

void
hb_link_close(struct hb_link *l)
{
	if (l == NULL)
		return;
	if (l->aio != NULL) {
		nng_aio_stop(l->aio);
		nng_msg_free(nng_aio_get_msg(l->aio));
		nng_aio_free(l->aio);
	}
	close_socket(l);
	if (l->wake_ev != NULL)
		event_free(l->wake_ev);
	for (int i = 0; i < 2; i++)
		if (l->wake[i] >= 0)
			close(l->wake[i]);
	free(l->url);
	free(l);
}

enum tfo_err
hb_link_call(struct hb_link *l, Tfo__V1__HeartbeatRequest *req, uint32_t wait_ms, hb_link_fn fn,
    void *arg)
{
	size_t len;
	nng_msg *m;
	enum tfo_err e;

	if (l->state != L_IDLE)
		return TFO_EAGAIN;
	if (l->redial && (e = dial(l)) != TFO_OK)
		return e;
	req->version = VERSION;
	len = protobuf_c_message_get_packed_size(&req->base);
	if (nng_msg_alloc(&m, len) != 0)
		return TFO_ENOMEM;
	protobuf_c_message_pack(&req->base, nng_msg_body(m));
	l->fn = fn;
	l->arg = arg;
	l->deadline_ms = tfo_mono_ms() + (wait_ms ? wait_ms : 1);
	l->state = L_SENDING;
	nng_aio_set_msg(l->aio, m);
	nng_aio_set_timeout(l->aio, (nng_duration)(wait_ms ? wait_ms : 1));
	nng_ctx_send(l->ctx, l->aio);
	return TFO_OK;
}

bool
hb_link_busy(const struct hb_link *l)
{
	return l->state != L_IDLE;
}
