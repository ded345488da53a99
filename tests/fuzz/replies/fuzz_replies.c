/*
 * fuzz_replies.c - the buffer's replies as the collectors and the exporter
 * receive them: bytes are decoded with the one validating decode; a
 * Checkpoints reply is loaded into a real tailer (tfo-logs), a Batch is
 * framed into gRPC and HTTP request bodies (tfo-exporter). The first byte
 * picks the channel.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/ipc.h"
#include "common/payload.h"
#include "tfo/v1/tfo.pb-c.h"
#include "workers/exporter/wire.h"
#include "workers/logs/tailer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLY_MAX (1u << 20)

static enum tfo_err
no_put(void *arg, const uint8_t *p, size_t len, uint32_t records,
    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry_after_ms)
{
	(void)arg, (void)p, (void)len, (void)records, (void)cps, (void)ncps;
	*retry_after_ms = 1000;
	return TFO_EAGAIN;
}

static void
load_checkpoints(const Tfo__V1__Checkpoints *cps)
{
	static char *paths[] = { "/nonexistent/tfo-fuzz/*.log" };
	Tfo__V1__LogsConfig cfg = TFO__V1__LOGS_CONFIG__INIT;
	struct tfo_logs_sink sink = { .put = no_put, .arg = NULL };
	struct tailer *t;
	enum tfo_err e;

	cfg.paths = paths;
	cfg.n_paths = 1;
	if ((t = tailer_new(&cfg, NULL, &sink, &e)) == NULL)
		abort();        /* a valid config must always build a tailer */
	tailer_load_checkpoints(t, (const Tfo__V1__Checkpoint *const *)cps->checkpoints,
	    cps->n_checkpoints);
	(void)tailer_run(t, 1000, 10);
	tailer_free(t);
}

static void
frame_batch(const Tfo__V1__Batch *b)
{
	struct tfo_exp_buf out = { 0 };
	struct tfo_payloads pl;
	size_t bad;

	/* as tfo-exporter does: LZ4 entries inflated by the body build */
	if (tfo_payloads_view(b, &pl) != TFO_OK)
		return;
	for (int grpc = 0; grpc < 2; grpc++) {
		if (tfo_exp_body_build(&out, pl.data, pl.len, pl.raw, pl.n, grpc, grpc, &bad) != TFO_OK)
			continue;
		tfo_exp_buf_fini(&out);
	}
	tfo_payloads_free(&pl);
	/* and as the tests read batches: inflated up front */
	if (tfo_payloads_of(b, &pl) == TFO_OK)
		tfo_payloads_free(&pl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m;
	enum tfo_err e;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		m = tfo_msg_decode(&tfo__v1__ingest_reply__descriptor, data + 1, size - 1,
		    REPLY_MAX, &e);
		if (m == NULL)
			return 0;
		Tfo__V1__IngestReply *r = (Tfo__V1__IngestReply *)m;
		if (r->msg_case == TFO__V1__INGEST_REPLY__MSG_CHECKPOINTS && r->checkpoints)
			load_checkpoints(r->checkpoints);
	} else {
		m = tfo_msg_decode(&tfo__v1__export_reply__descriptor, data + 1, size - 1,
		    REPLY_MAX, &e);
		if (m == NULL)
			return 0;
		Tfo__V1__ExportReply *r = (Tfo__V1__ExportReply *)m;
		if (r->msg_case == TFO__V1__EXPORT_REPLY__MSG_BATCH && r->batch)
			frame_batch(r->batch);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
