/*
 * selfmet.h - the agent's self metrics (docs/metrics.md, "Self metrics") as a
 * library of tfo-system (tfo_system_selfmet): the supervisor's SelfStats,
 * the same figures tfoctl status shows, encoded as one OTLP ResourceMetrics
 * of tfo.* metrics with the agent's resource.
 */
#ifndef TFO_SYSTEM_SELFMET_H
#define TFO_SYSTEM_SELFMET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/otlp.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_SELFMET_SCOPE "tfo-agent/self"

/* One metric of the catalogue (docs/metrics.md lists exactly these). */
struct tfo_selfmet_def {
	const char *name, *unit, *desc;
	enum tfo_otlp_kind kind;
	const char *attrs;              /* point attribute keys, ", " joined; "" none */
};

/* tfo_selfmet_defs - the catalogue, *n metrics */
const struct tfo_selfmet_def *tfo_selfmet_defs(size_t *n);

struct tfo_selfmet_out {
	uint8_t *buf;                   /* encoded ResourceMetrics, in the arena */
	size_t len;
	uint32_t points;
	uint32_t rejected;              /* values or stat names refused (hostile, broken) */
};

/*
 * tfo_selfmet_encode - ss as self metrics at now_ns (unix time), into arena
 * a (the caller resets it). A worker's stats come from that worker: each is
 * checked (finite, not negative, integral where counted, a histogram's
 * buckets in order and adding up) and one that is not is left out and
 * counted in out->rejected. Counters of a role start at its process's start
 * (WorkerStatus.started_unix_nano), restarts at the supervisor's. TFO_OK,
 * TFO_ENOMEM, or TFO_EINVAL when nothing was left to send.
 */
enum tfo_err tfo_selfmet_encode(struct tfo_arena *a, const tfo_resource_msg *res,
    const char *version, const Tfo__V1__SelfStats *ss, uint64_t now_ns,
    struct tfo_selfmet_out *out);

#endif
