/*
 * hbrelay.h - tfo-exporter's heartbeat relay (DESIGN §1: the one role with
 * network egress sends the heartbeat too). A thread of its own, with its own
 * event_base and curl multi, listens on heartbeat.ipc (REP, only the
 * heartbeat's uid may dial), POSTs each Beat tfo-heartbeat hands over
 * (hbsend.c) and answers with its outcome; answers a CloudQuery with the
 * metadata service's word (hbcloud.c). Its own thread because the OTLP
 * pipeline's loop blocks on the buffer's synchronous export channel and must
 * not wait on a beat's TLS handshake or a metadata lookup either.
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
	struct hb_sender_cfg send;   /* timeout_ms caps every beat */
	bool cloud;                  /* heartbeat.cloud_metadata: answer CloudQuery */
	const char *cloud_url;       /* "" = the providers' own addresses */
};

struct tfo_exp_hbrelay;

/*
 * tfo_exp_hbrelay_start - listen, then run the relay thread. Needs
 * curl_global_init() done (and kept until stop). Returns TFO_OK, TFO_EIO
 * (listen failed: the url's directory, permissions) or TFO_ENOMEM.
 */
enum tfo_err tfo_exp_hbrelay_start(struct tfo_exp_hbrelay **out,
    const struct tfo_exp_hbrelay_cfg *cfg);
/* tfo_exp_hbrelay_stop - a beat in flight is dropped (a snapshot); joins the
 * thread and frees everything. NULL is a no-op. */
void tfo_exp_hbrelay_stop(struct tfo_exp_hbrelay *r);

/* Counters, read after stop or from the relay thread (tests). */
struct tfo_exp_hbrelay_counts {
	uint64_t beats, clouds, superseded, stale, refused;
};
void tfo_exp_hbrelay_counts(const struct tfo_exp_hbrelay *r, struct tfo_exp_hbrelay_counts *c);

#endif
