/*
 * link.h - tfo-heartbeat's side of heartbeat.ipc: one request at a time to
 * tfo-exporter's heartbeat relay (REQ; the listener must run as the
 * exporter's uid), answered asynchronously on the worker's event loop.
 * tfo-heartbeat has no network: every beat leaves through this link.
 */
#ifndef TFO_HB_LINK_H
#define TFO_HB_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

#define HB_LINK_BODY_MAX (1u << 20)    /* = the relay's TFO_EXP_HB_BODY_MAX */

/*
 * hb_link_fn - the request's end. e: TFO_OK with rep (valid during the call
 * only); TFO_ETIMEDOUT (no exporter took it, or no answer in time), TFO_EIO,
 * TFO_ECLOSED (the exporter went away), TFO_EPROTO / TFO_EVERSION (it answered
 * something no exporter of ours sends).
 */
typedef void (*hb_link_fn)(void *arg, enum tfo_err e, const Tfo__V1__HeartbeatReply *rep);

struct hb_link;

/* hb_link_open - dial url in the background; NULL on failure */
struct hb_link *hb_link_open(struct event_base *base, const char *url, uint32_t exporter_uid);
void hb_link_close(struct hb_link *l);
/*
 * hb_link_call - send req (version set here); fn is called once, from the
 * loop, within about wait_ms (waiting for the exporter to be there included).
 * TFO_EAGAIN while a call is in flight. A call never outlives its wait: it is
 * not sent again later (a stale beat is not worth sending).
 */
enum tfo_err hb_link_call(struct hb_link *l, Tfo__V1__HeartbeatRequest *req, uint32_t wait_ms,
    hb_link_fn fn, void *arg);
bool hb_link_busy(const struct hb_link *l);

#endif
