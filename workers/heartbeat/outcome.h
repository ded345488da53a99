/*
 * outcome.h - tfo-heartbeat's stats and log lines from what became of each
 * beat: tfo-exporter's BeatResult, or a hand-off that failed. Kept here, not
 * in the exporter, so they survive an exporter restart and stay on the
 * heartbeat role in tfoctl status.
 */
#ifndef TFO_HB_OUTCOME_H
#define TFO_HB_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

struct hb_stats {
	uint64_t sent, failed, retries, auth_failures;
	long last_status;            /* HTTP status of the last attempt, 0 = no response */
	int64_t last_success;        /* unix seconds, 0 = never */
	double last_latency_ms;      /* of the last attempt that got a response */
	char last_error[128];
};

struct hb_outcome {
	struct hb_stats st;
	bool failing;                /* the API: logged once down, once back */
	bool handoff_failing;        /* tfo-exporter: the same */
	uint64_t last_auth_log_ns;
};

/* hb_outcome_result - the exporter's word on one beat (hostile text cleaned) */
void hb_outcome_result(struct hb_outcome *o, const Tfo__V1__BeatResult *r);
/* hb_outcome_failed - the beat never reached the API: `what` (": " ended)
 * and e say why (no exporter took it or answered in time; not built). */
void hb_outcome_failed(struct hb_outcome *o, const char *what, enum tfo_err e);

#endif
