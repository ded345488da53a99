/*
 * fakesink.h - a stand-in for the buffer in tfo-logs tests: decodes every
 * put's ResourceLogs, keeps the bodies "stored" and the latest checkpoint per
 * file_id (as the buffer's store would), and can answer Busy or fail.
 */
#ifndef TFO_TEST_LOGS_FAKESINK_H
#define TFO_TEST_LOGS_FAKESINK_H

#include <stddef.h>
#include <stdint.h>

#include "workers/logs/tailer.h"

struct fake_rec {
	char *body;
	char *path, *name;
	int severity;
	char *severity_text;
	int truncated;
	uint64_t observed_ns;
};

struct fake_sink {
	struct fake_rec *recs;
	size_t nrecs, cap;
	Tfo__V1__Checkpoint **cps;     /* stored checkpoints, one per file_id */
	size_t ncps;
	size_t puts;
	size_t max_len;                /* largest payload put */
	int busy;                      /* >0: answer Busy this many times */
	int fail;                      /* >0: fail (unknown outcome) this many times */
	int bad_payload;               /* a put whose payload did not decode */
	int bad_checkpoint;            /* a put whose checkpoint lacked fields */
	int async;                     /* put only starts; wait finishes it */
	int hold;                      /* async: non-blocking waits answered "in progress" per put */
	struct {                       /* async: the put in flight */
		int busy, held;
		const uint8_t *p;
		size_t len, ncps;
		uint32_t records;
		const Tfo__V1__Checkpoint *cps[64];
	} fly;
	int overlap;                   /* async: a put started while one was in flight */
	struct {                       /* async: the batch given to seal, until its put */
		const uint8_t *p;
		size_t len;
		uint64_t sum;
	} sealed;
	size_t seals;                  /* batches sealed while a put was in flight */
	int seal_bad;                  /* sealed with none in flight, or put changed/skipped */
};

void fake_sink_init(struct fake_sink *s);
void fake_sink_fini(struct fake_sink *s);
/* fake_sink_ops - the tailer's sink bound to s (asynchronous when s->async) */
struct tfo_logs_sink fake_sink_ops(struct fake_sink *s);
/* fake_sink_checkpoints - the stored checkpoints, as the buffer answers GetCheckpoints */
const Tfo__V1__Checkpoint *const *fake_sink_checkpoints(const struct fake_sink *s, size_t *n);

#endif
