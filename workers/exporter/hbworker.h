/*
 * hbworker.h - the heartbeat relay as tfo-exporter's worker sets it up (only
 * when WorkerConfig.heartbeat_relay is set, i.e. the heartbeat is enabled):
 * Landlock declarations in pre_init, the relay on the exporter's loop in
 * post_init, stats.
 */
#ifndef TFO_EXP_HBWORKER_H
#define TFO_EXP_HBWORKER_H

#include <stdbool.h>

#include "common/worker.h"
#include "workers/exporter/hbrelay.h"
#include "workers/exporter/transport.h"

struct tfo_exp_hb {
	const Tfo__V1__WorkerConfig *cfg;
	struct tfo_exp_hbrelay *relay;
	bool wanted, curl;
};

/* tfo_exp_hb_declare - pre_init: what the relay needs through Landlock (its
 * socket in the runtime dir, the API's port, the metadata service's port).
 * A heartbeat section the relay cannot use is logged and the relay left off:
 * the OTLP export does not stop for the heartbeat. */
void tfo_exp_hb_declare(struct tfo_exp_hb *hb, struct tfo_worker *w,
    const Tfo__V1__WorkerConfig *cfg);
/* tfo_exp_hb_start - post_init: the relay, on tls->loop (the OTLP
 * transport's curlloop and its base), with the PEMs the exporter read as
 * root (telemetryflow.tls serves both). A relay that cannot start is logged;
 * the exporter runs on without it. */
void tfo_exp_hb_start(struct tfo_exp_hb *hb, const struct tfo_exp_transport_cfg *tls);
void tfo_exp_hb_stop(struct tfo_exp_hb *hb);
void tfo_exp_hb_stats(const struct tfo_exp_hb *hb, struct tfo_stats *ts);

#endif
