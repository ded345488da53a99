/*
 * sample.h - prepared OTLP entries (one encoded ResourceMetrics or
 * ResourceLogs) for the exporter's tests, interop driver and bench.
 */
#ifndef TFO_EXP_SAMPLE_H
#define TFO_EXP_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * tfo_exp_sample_metrics - entry `index`: resource {service.name=tfo-agent,
 * host.name=interop-host, tfo.entry.index=index}, scope "tfo-interop", a
 * cumulative monotonic sum "test.requests" (unit "{request}") with `points`
 * points, attribute cpu.mode="user" and seq=index*points+j (as_int = seq),
 * and a gauge "test.temperature" of one point (as_double = index + 0.5).
 * Returns a malloc'ed buffer (*len set) or NULL.
 */
uint8_t *tfo_exp_sample_metrics(uint32_t index, uint32_t points, size_t *len);

/* tfo_exp_sample_logs - as above with `records` log records, body "line <index>-<j>" */
uint8_t *tfo_exp_sample_logs(uint32_t index, uint32_t records, size_t *len);

#endif
