/*
 * memsource.h - an in-memory batch source with the buffer's semantics (FIFO,
 * fetch/ack/nack, nacked batches offered again after their delay). Used by
 * the unit tests, the interop driver and the bench; not linked into the worker.
 */
#ifndef TFO_EXP_MEMSOURCE_H
#define TFO_EXP_MEMSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "workers/exporter/pipeline.h"

struct tfo_exp_memsource;

struct tfo_exp_memsource *tfo_exp_memsource_new(void);
void tfo_exp_memsource_free(struct tfo_exp_memsource *m);

/* tfo_exp_memsource_add - queue one stored entry (copied) with its point count */
int tfo_exp_memsource_add(struct tfo_exp_memsource *m, int is_logs, const uint8_t *data,
    size_t len, uint32_t points);

/* tfo_exp_memsource_source - the source interface over m */
struct tfo_exp_source tfo_exp_memsource_source(struct tfo_exp_memsource *m);

/* tfo_exp_memsource_restart - as a buffer restarted: every batch in flight
 * is pending again (offered at once) and the ids handed out are unknown */
void tfo_exp_memsource_restart(struct tfo_exp_memsource *m);
/* tfo_exp_memsource_fail - the next n acks/nacks fail as a buffer whose
 * commit failed: nothing settled, everything in flight offered again */
void tfo_exp_memsource_fail(struct tfo_exp_memsource *m, unsigned n);

/* tfo_exp_memsource_say_empty - batches say whether they left nothing else
 * to offer (Batch.rest_empty), as tfo-buffer's do; off: never */
void tfo_exp_memsource_say_empty(struct tfo_exp_memsource *m, int on);

/* tfo_exp_memsource_keep_acks - ack_later keeps acks for the next request
 * (ExportRequest.acks, as tfo-buffer takes them); off (the default): every
 * ack is a request of its own */
void tfo_exp_memsource_keep_acks(struct tfo_exp_memsource *m, int on);

/* What happened so far. */
struct tfo_exp_memsource_counts {
	size_t queued;          /* entries not yet acked */
	size_t acked_entries;
	uint64_t acks, nacks;   /* batches settled so (acks: riding ones too) */
	uint64_t requests;      /* calls: fetches, acks, nacks, acks_send with acks kept */
	uint64_t ack_requests;  /* acks sent as a request of their own (acks_send too) */
	uint64_t acks_riding;   /* acks kept that rode on a request */
	uint64_t fetches;       /* batches handed out */
	uint64_t empty_fetches; /* fetches that found nothing to hand out */
	uint64_t unknown_ids;   /* acks/nacks of ids not in flight */
	uint64_t failed_settles;
	uint64_t last_nack_ms;  /* retry_after of the last nack */
	int order_violations;   /* an ack/nack that was not for the oldest outstanding batch */
	uint64_t fetches_for[3]; /* fetches that asked for either signal, metrics, logs */
	uint8_t asked[64];      /* what each of the first 64 fetches asked for */
	size_t n_asked;
};

void tfo_exp_memsource_counts(const struct tfo_exp_memsource *m, struct tfo_exp_memsource_counts *c);

#endif
