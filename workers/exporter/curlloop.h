/*
 * curlloop.h - one libcurl multi handle on a libevent loop (tfo-exporter):
 * CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION become events, and each finished
 * transfer is handed to the callback it was added with. The OTLP transport
 * and the heartbeat sender share one (issue 18 §2): a multi handle is ~40 KiB
 * of hash tables in libcurl 7.88 (sockets, connections, names) and a
 * connection cache, so two of them were two caches, two DNS caches and two
 * connections to a host both send to.
 */
#ifndef TFO_EXP_CURLLOOP_H
#define TFO_EXP_CURLLOOP_H

#include <curl/curl.h>
#include <event2/event.h>

struct tfo_exp_curlloop;

/* the owner of a transfer: CURLOPT_PRIVATE points here while it is added */
struct tfo_exp_xfer {
	/* the transfer is over and already out of the multi: e may be reused,
	 * cleaned up or added again from here */
	void (*done)(struct tfo_exp_xfer *x, CURL *e, CURLcode rc);
};

/* tfo_exp_curlloop_new - needs curl_global_init() done; NULL on ENOMEM */
struct tfo_exp_curlloop *tfo_exp_curlloop_new(struct event_base *base);
/* tfo_exp_curlloop_free - every transfer removed first; NULL is a no-op */
void tfo_exp_curlloop_free(struct tfo_exp_curlloop *l);
/* tfo_exp_curlloop_add - start e; x->done is called once when it ends */
CURLMcode tfo_exp_curlloop_add(struct tfo_exp_curlloop *l, CURL *e, struct tfo_exp_xfer *x);
/* tfo_exp_curlloop_remove - stop e before its end (done is not called) */
void tfo_exp_curlloop_remove(struct tfo_exp_curlloop *l, CURL *e);
struct event_base *tfo_exp_curlloop_base(const struct tfo_exp_curlloop *l);

#endif
