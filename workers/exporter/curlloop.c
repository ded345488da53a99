/*
 * curlloop.c - libcurl's multi interface on a libevent loop, shared by the
 * OTLP transport and the heartbeat sender. See curlloop.h.
 */
#include "workers/exporter/curlloop.h"

#include <stdlib.h>

struct tfo_exp_curlloop {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
};

static void
check_done(struct tfo_exp_curlloop *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
		struct tfo_exp_xfer *x = NULL;
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		/* m is not valid past the remove: e and rc were taken first */
		curl_multi_remove_handle(l->multi, e);
		if (x != NULL)
			x->done(x, e, rc);
	}
}

/* on_sock - a watched socket is ready: let curl act on it, then reap */
static void
on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_curlloop *l = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(l->multi, fd, flags, &running);
	check_done(l);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_exp_curlloop *l = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(l);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *lp, void *sockp)
{
	struct tfo_exp_curlloop *l = lp;
	struct event *ev = sockp;
	short kind = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (ev)
			event_free(ev);
		curl_multi_assign(l->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ev) {
		event_del(ev);
		event_assign(ev, l->base, s, kind, on_sock, l);
	} else {
		if ((ev = event_new(l->base, s, kind, on_sock, l)) == NULL)
			return -1;
		curl_multi_assign(l->multi, s, ev);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *lp)
{
	struct tfo_exp_curlloop *l = lp;
	struct timeval tv;

	(void)m;
	if (timeout_ms < 0)
		return evtimer_del(l->timer);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(l->timer, &tv);
}

struct tfo_exp_curlloop *
tfo_exp_curlloop_new(struct event_base *base)
{
	struct tfo_exp_curlloop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->base = base;
	l->multi = curl_multi_init();
	l->timer = evtimer_new(base, on_timer, l);
	if (l->multi == NULL || l->timer == NULL ||
	    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK) {
		tfo_exp_curlloop_free(l);
		return NULL;
	}
	return l;
}

void
tfo_exp_curlloop_free(struct tfo_exp_curlloop *l)
{
	if (l == NULL)
		return;
	if (l->multi)
		curl_multi_cleanup(l->multi);   /* closes sockets: sock_cb frees their events */
	if (l->timer)
		event_free(l->timer);
	free(l);
}

CURLMcode
tfo_exp_curlloop_add(struct tfo_exp_curlloop *l, CURL *e, struct tfo_exp_xfer *x)
{
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x) != CURLE_OK)
		return CURLM_BAD_EASY_HANDLE;
	return curl_multi_add_handle(l->multi, e);
}

void
tfo_exp_curlloop_remove(struct tfo_exp_curlloop *l, CURL *e)
{
	curl_multi_remove_handle(l->multi, e);
}

struct event_base *
tfo_exp_curlloop_base(const struct tfo_exp_curlloop *l)
{
	return l->base;
}
