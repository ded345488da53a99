/*
 * hbrelay.c - tfo-exporter's heartbeat relay, on the exporter's loop:
 * heartbeat.ipc (REP) -> hbsend.c / hbcloud.c -> the answer. See hbrelay.h.
 */
#include "workers/exporter/hbrelay.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <nng/nng.h>

#include "common/clock.h"
#include "common/ipc.h"
#include "common/ipcclose.h"
#include "common/log.h"
#include "tfo/v1/tfo.pb-c.h"
#include "workers/exporter/hbcloud.h"

#define VERSION TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION
#define REQUEST_MAX (TFO_EXP_HB_BODY_MAX + 1024u)
#define REPLY_SEND_MS 1000          /* a reply is tiny: a peer that takes none is dropped */
#define REFUSED_LOG_EVERY_S 60
/*
 * The pace of what tfo-heartbeat may ask (GCRA: a burst, then one per
 * period). Its own schedule never beats faster than heartbeat.interval, which
 * is at least heartbeat.timeout (config_table.c), so one beat per timeout is
 * never in its way; the burst takes a restarted heartbeat's first beat right
 * after its last one. A taken-over tfo-heartbeat can so make the one egress
 * POST to the API with the agent's key a few times a timeout, not as fast as
 * the API answers. A cloud lookup is asked at a heartbeat's start and then
 * hourly while nothing is found: six in a burst cover the restarts before the
 * supervisor gives up on it (`fatal`).
 */
#define BEAT_BURST 3
#define CLOUD_BURST 6
#define CLOUD_PERIOD_MS (5u * 60u * 1000u)

struct pace {
	uint64_t tat_ms;            /* when the next request is due at the steady rate */
};

struct tfo_exp_hbrelay {
	struct tfo_exp_hbrelay_cfg cfg;
	struct tfo_ipc_policy pol;
	nng_socket sock;
	bool sock_open;
	struct event *req_ev;
	struct hb_sender *snd;
	/* a metadata lookup in progress (its own thread: curl_easy_perform
	 * blocks): no request is read until it is answered (REP, one at a time) */
	bool cloud_busy;
	pthread_t cloud_thread;
	int cloud_pipe[2];               /* the thread's "done" */
	struct event *cloud_ev;
	struct tfo_cloud_info cloud_got;
	bool cloud_found;
	uint64_t beat_seq;               /* seq of the beat in flight */
	time_t refused_logged;
	struct pace beat_pace, cloud_pace;
	_Atomic uint64_t beats, clouds, superseded, stale, refused, paced;
};

/* pace_take - 1 when a request may be served now (and counts it), 0 when
 * it comes sooner than burst requests ahead of one per period_ms */
static int
pace_take(struct pace *p, uint64_t period_ms, unsigned burst, uint64_t now_ms)
{
	uint64_t ahead = period_ms * (burst - 1u);

	if (p->tat_ms > now_ms && p->tat_ms - now_ms > ahead)
		return 0;
	p->tat_ms = (p->tat_ms > now_ms ? p->tat_ms : now_ms) + period_ms;
	return 1;
}

/* reply - answer the request last received (REP: one at a time) */
static void
reply(struct tfo_exp_hbrelay *r, Tfo__V1__HeartbeatReply *rep)
{
	enum tfo_err e;

	rep->version = VERSION;
	if ((e = tfo_msg_send(r->sock, &rep->base)) != TFO_OK)
		log_debug("heartbeat relay: answer not sent: %s", tfo_strerror(e));
}

static void too_soon(struct tfo_exp_hbrelay *r, const char *why);

static void
beat_done(void *arg, const struct hb_result *res)
{
	struct tfo_exp_hbrelay *r = arg;
	Tfo__V1__HeartbeatReply rep = TFO__V1__HEARTBEAT_REPLY__INIT;
	Tfo__V1__BeatResult br = TFO__V1__BEAT_RESULT__INIT;
	char error[sizeof(res->error)];

	snprintf(error, sizeof(error), "%s", res->error);
	br.seq = r->beat_seq;
	br.ok = res->ok;
	br.auth = res->auth;
	br.gave_up = res->gave_up;
	br.status = (int32_t)res->status;
	br.attempts = res->attempts;
	br.latency_ms = res->latency_ms;
	br.error = error;
	rep.msg_case = TFO__V1__HEARTBEAT_REPLY__MSG_RESULT;
	rep.result = &br;
	reply(r, &rep);
}

/* supersede - a new request means tfo-heartbeat gave up waiting for the
 * beat in flight: its answer could not be delivered any more, and a stale
 * beat is not worth sending */
static void
supersede(struct tfo_exp_hbrelay *r)
{
	if (!hb_sender_busy(r->snd))
		return;
	hb_sender_cancel(r->snd);
	r->superseded++;
}

static void
on_beat(struct tfo_exp_hbrelay *r, const Tfo__V1__Beat *b)
{
	uint64_t deadline_ns;
	char *body;

	if (!pace_take(&r->beat_pace, r->cfg.send.timeout_ms, BEAT_BURST, tfo_mono_ms())) {
		/* unanswered: the beat in flight, if any, goes on */
		too_soon(r, "beats faster than one per heartbeat.timeout");
		return;
	}
	supersede(r);
	if (b->deadline_ms <= tfo_mono_ms()) {
		r->stale++;                 /* tfo-heartbeat gave up on it already */
		return;
	}
	if ((body = malloc(b->body.len)) == NULL) {
		log_warn("heartbeat relay: out of memory for a beat of %zu bytes", b->body.len);
		return;
	}
	memcpy(body, b->body.data, b->body.len);
	r->beat_seq = b->seq;
	r->beats++;
	/* past the range: the sender's own cap (now + timeout) applies */
	deadline_ns = b->deadline_ms < UINT64_MAX / 1000000u ? b->deadline_ms * 1000000u : 0;
	if (hb_sender_post(r->snd, body, b->body.len, deadline_ns, beat_done, r) != TFO_OK)
		log_warn("heartbeat relay: the beat could not start");
}

static void
cloud_reply(struct tfo_exp_hbrelay *r, const struct tfo_cloud_info *got, bool found)
{
	Tfo__V1__HeartbeatReply rep = TFO__V1__HEARTBEAT_REPLY__INIT;
	Tfo__V1__CloudInfo ci = TFO__V1__CLOUD_INFO__INIT;

	if (found) {
		ci.found = true;
		ci.provider = (char *)got->provider;
		ci.instance_id = (char *)got->instance_id;
		ci.instance_type = (char *)got->instance_type;
		ci.region = (char *)got->region;
		ci.zone = (char *)got->zone;
	}
	rep.msg_case = TFO__V1__HEARTBEAT_REPLY__MSG_CLOUD;
	rep.cloud = &ci;
	reply(r, &rep);
}

/* cloud_main - the lookup, off the loop: up to a few 1 s requests that
 * would hold the OTLP requests' answers (and the beats) meanwhile */
static void *
cloud_main(void *arg)
{
	struct tfo_exp_hbrelay *r = arg;

	r->cloud_found = hb_cloud_fetch(r->cfg.cloud_url, HB_CLOUD_TIMEOUT_MS, &r->cloud_got) ==
	    TFO_OK;
	if (write(r->cloud_pipe[1], "x", 1) != 1)
		log_warn("heartbeat relay: metadata lookup done, but the loop was not told");
	return NULL;
}

static void on_request(evutil_socket_t fd, short what, void *arg);

/* on_cloud_done - the lookup's answer; then the requests that waited */
static void
on_cloud_done(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_hbrelay *r = arg;
	char c;

	(void)what;
	if (read(fd, &c, 1) != 1 || !r->cloud_busy)
		return;
	pthread_join(r->cloud_thread, NULL);
	r->cloud_busy = false;
	cloud_reply(r, &r->cloud_got, r->cloud_found);
	if (event_add(r->req_ev, NULL) != 0)
		log_warn("heartbeat relay: requests not watched any more");
	on_request(-1, 0, r);
}

/* on_cloud - answered from the metadata service on a thread of its own;
 * tfo-heartbeat waits for it, nothing else is in flight meanwhile */
static void
on_cloud(struct tfo_exp_hbrelay *r, const Tfo__V1__CloudQuery *q)
{
	sigset_t all, old;
	int rv;

	supersede(r);
	r->clouds++;
	memset(&r->cloud_got, 0, sizeof(r->cloud_got));
	snprintf(r->cloud_got.provider, sizeof(r->cloud_got.provider), "%s",
	    q->provider ? q->provider : "");
	if (r->cfg.cloud && !pace_take(&r->cloud_pace, CLOUD_PERIOD_MS, CLOUD_BURST, tfo_mono_ms())) {
		too_soon(r, "cloud lookups faster than the heartbeat asks for them");
		cloud_reply(r, &r->cloud_got, false);
		return;
	}
	if (!r->cfg.cloud) {
		cloud_reply(r, &r->cloud_got, false);
		return;
	}
	/* every signal blocked: the loop's thread handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&r->cloud_thread, NULL, cloud_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		log_warn("heartbeat relay: metadata lookup thread: %s", strerror(rv));
		cloud_reply(r, &r->cloud_got, false);
		return;
	}
	r->cloud_busy = true;
	event_del(r->req_ev);
}

/* said_limited - one warning a minute for what tfo-heartbeat should not ask
 * (a flood of them must not flood the journal too), with how many so far */
static void
said_limited(struct tfo_exp_hbrelay *r, const char *what, const char *why, uint64_t n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (r->refused_logged != 0 && ts.tv_sec - r->refused_logged < REFUSED_LOG_EVERY_S)
		return;
	r->refused_logged = ts.tv_sec;
	log_warn("heartbeat relay: %s a request from tfo-heartbeat: %s (%llu so far)", what, why,
	    (unsigned long long)n);
}

/* refuse - a message tfo-heartbeat cannot have meant. Counted and dropped,
 * not fatal as from other siblings (STYLE): the exporter is the agent's one
 * way out, and a heartbeat that could make it exit at will could stop all
 * telemetry (its restarts count towards `fatal`, which stops the agent). */
static void
refuse(struct tfo_exp_hbrelay *r, const char *why)
{
	said_limited(r, "dropped", why, ++r->refused);
}

/* too_soon - a request over its pace: counted, logged like a refusal */
static void
too_soon(struct tfo_exp_hbrelay *r, const char *why)
{
	said_limited(r, "did not serve", why, ++r->paced);
}

static void
dispatch(struct tfo_exp_hbrelay *r, const void *buf, size_t len)
{
	Tfo__V1__HeartbeatRequest *req;
	enum tfo_err e;

	req = (Tfo__V1__HeartbeatRequest *)tfo_msg_decode(&tfo__v1__heartbeat_request__descriptor,
	    buf, len, REQUEST_MAX, &e);
	if (req == NULL) {
		refuse(r, tfo_strerror(e));
		return;
	}
	switch (req->msg_case) {
	case TFO__V1__HEARTBEAT_REQUEST__MSG_BEAT:
		if (req->beat->body.len == 0 || req->beat->body.len > TFO_EXP_HB_BODY_MAX)
			refuse(r, "beat body empty or over 1 MiB");
		else
			on_beat(r, req->beat);
		break;
	case TFO__V1__HEARTBEAT_REQUEST__MSG_CLOUD:
		on_cloud(r, req->cloud);
		break;
	default:
		refuse(r, "unknown request type");
		break;
	}
	tfo__v1__heartbeat_request__free_unpacked(req, NULL);
}

static void
on_request(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_hbrelay *r = arg;
	nng_msg *m;
	int rv;

	(void)fd;
	(void)what;
	while (!r->cloud_busy && (rv = nng_recvmsg(r->sock, &m, NNG_FLAG_NONBLOCK)) == 0) {
		dispatch(r, nng_msg_body(m), nng_msg_len(m));
		nng_msg_free(m);
	}
	if (!r->cloud_busy && rv != NNG_EAGAIN)
		log_warn("heartbeat relay: receive: %s", nng_strerror(rv));
}

/* open_socket - REP listener whose pipes must come from peer_uid, and the
 * pollable fd that says a request is waiting */
static int
open_socket(struct tfo_exp_hbrelay *r, int *recv_fd)
{
	int rv;

	tfo_ipc_policy_init(&r->pol, "heartbeat");
	tfo_ipc_policy_allow(&r->pol, r->cfg.peer_uid);
	if ((rv = tfo_ipc_rep_listen(&r->sock, r->cfg.url, REQUEST_MAX, 0660, &r->pol)) != 0) {
		log_error("heartbeat relay: listen %s: %s", r->cfg.url, nng_strerror(rv));
		return -1;
	}
	r->sock_open = true;
	if ((rv = nng_socket_set_ms(r->sock, NNG_OPT_SENDTIMEO, REPLY_SEND_MS)) != 0 ||
	    (rv = nng_socket_get_int(r->sock, NNG_OPT_RECVFD, recv_fd)) != 0) {
		log_error("heartbeat relay: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

enum tfo_err
tfo_exp_hbrelay_start(struct tfo_exp_hbrelay **out, struct event_base *base,
    const struct tfo_exp_hbrelay_cfg *cfg)
{
	struct tfo_exp_hbrelay *r = calloc(1, sizeof(*r));
	int recv_fd = -1;

	*out = NULL;
	if (r == NULL)
		return TFO_ENOMEM;
	r->cfg = *cfg;
	r->cloud_pipe[0] = r->cloud_pipe[1] = -1;
	if (open_socket(r, &recv_fd) != 0) {
		tfo_exp_hbrelay_stop(r);
		return TFO_EIO;
	}
	if (pipe2(r->cloud_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (r->req_ev = event_new(base, recv_fd, EV_READ | EV_PERSIST, on_request, r)) == NULL ||
	    (r->cloud_ev = event_new(base, r->cloud_pipe[0], EV_READ | EV_PERSIST, on_cloud_done,
	    r)) == NULL ||
	    event_add(r->req_ev, NULL) != 0 || event_add(r->cloud_ev, NULL) != 0 ||
	    (r->snd = hb_sender_new(base, &r->cfg.send)) == NULL) {
		log_error("heartbeat relay: setup failed (bad api_endpoint URL or out of memory)");
		tfo_exp_hbrelay_stop(r);
		return TFO_ENOMEM;
	}
	*out = r;
	return TFO_OK;
}

void
tfo_exp_hbrelay_stop(struct tfo_exp_hbrelay *r)
{
	if (r == NULL)
		return;
	if (r->cloud_busy)
		pthread_join(r->cloud_thread, NULL);   /* its requests time out in seconds */
	if (r->snd != NULL)
		hb_sender_cancel(r->snd);
	hb_sender_free(r->snd);
	if (r->req_ev != NULL)
		event_free(r->req_ev);
	if (r->cloud_ev != NULL)
		event_free(r->cloud_ev);
	if (r->sock_open)
		(void)tfo_ipc_close(r->sock, "heartbeat relay", 0);
	for (int i = 0; i < 2; i++)
		if (r->cloud_pipe[i] >= 0)
			close(r->cloud_pipe[i]);
	free(r);
}

void
tfo_exp_hbrelay_counts(const struct tfo_exp_hbrelay *r, struct tfo_exp_hbrelay_counts *c)
{
	c->beats = atomic_load_explicit(&r->beats, memory_order_relaxed);
	c->clouds = atomic_load_explicit(&r->clouds, memory_order_relaxed);
	c->superseded = atomic_load_explicit(&r->superseded, memory_order_relaxed);
	c->stale = atomic_load_explicit(&r->stale, memory_order_relaxed);
	c->refused = atomic_load_explicit(&r->refused, memory_order_relaxed);
	c->paced = atomic_load_explicit(&r->paced, memory_order_relaxed);
}
