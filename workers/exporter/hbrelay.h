/*
 * hbrelay.h - tfo-exporter's heartbeat relay (DESIGN §1: the one role with
 * network egress sends the heartbeat too). On the exporter's loop and its
 * libcurl multi handle (curlloop.c, shared with the OTLP transport: one
 * connection cache, so a beat to the OTLP endpoint's host rides on the
 * connection the OTLP requests keep open, without a TLS handshake of its
 * own each minute), it listens on heartbeat.ipc (REP, only the heartbeat's
 * uid may dial), POSTs each Beat tfo-heartbeat hands over (hbsend.c, non
 * blocking) and answers with its outcome. A CloudQuery is answered with the
 * metadata service's word (hbcloud.c) looked up on a short-lived thread, as
 * it blocks for up to a few seconds; no request is read meanwhile. A beat
 * waits while the loop is in a call to the buffer (milliseconds, at most
 * the 1 s that call may take), well inside its timeout.
 */
#ifndef TFO_EXP_HBRELAY_H
#define TFO_EXP_HBRELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "workers/exporter/hbsend.h"

#define TFO_EXP_HB_BODY_MAX (1u << 20)     /* largest beat body relayed */

/* Strings are not copied: they must outlive the relay. */
struct tfo_exp_hbrelay_cfg {
	const char *url;             /* ipc://<runtime_dir>/heartbeat.ipc */
	uint32_t peer_uid;           /* tfo-heartbeat's uid */
	struct hb_sender_cfg send;   /* timeout_ms caps every beat; send.loop: the
	                              * exporter's curlloop on base (NULL: its own) */
	bool cloud;                  /* heartbeat.cloud_metadata: answer CloudQuery */
	const char *cloud_url;       /* "" = the providers' own addresses */
};

struct tfo_exp_hbrelay;

/*
 * tfo_exp_hbrelay_start - listen, serving requests on base. Needs
 * curl_global_init() done (and kept until stop). Returns TFO_OK, TFO_EIO
 * (listen failed: the url's directory, permissions) or TFO_ENOMEM.
 */
enum tfo_err tfo_exp_hbrelay_start(struct tfo_exp_hbrelay **out, struct event_base *base,
    const struct tfo_exp_hbrelay_cfg *cfg);
/* tfo_exp_hbrelay_stop - a beat in flight is dropped (a snapshot); a
 * metadata lookup under way is waited for; frees everything. NULL is a no-op. */
void tfo_exp_hbrelay_stop(struct tfo_exp_hbrelay *r);

/* Counters (tfoctl status, tests). */
struct tfo_exp_hbrelay_counts {
	uint64_t beats, clouds, superseded, stale, refused, paced;
};
void tfo_exp_hbrelay_counts(const struct tfo_exp_hbrelay *r, struct tfo_exp_hbrelay_counts *c);

#endif
