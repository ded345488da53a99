/*
 * fuzz_exp_response.c - libFuzzer harness for what an OTLP endpoint sends
 * tfo-exporter: header/trailer lines, a body, and the classification of the
 * whole (gRPC and HTTP, metrics and logs), plus the value parsers directly.
 * Input: byte 0 = mode bits, then header lines up to an empty line, then body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workers/exporter/outcome.h"
#include "workers/exporter/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfo_exp_response r;
	struct tfo_exp_outcome o;
	struct tfo_exp_buf scratch = { 0 };
	const uint8_t *msg;
	size_t pos = 1, len;
	uint32_t ms;
	int code, mode;

	if (size < 1)
		return 0;
	mode = data[0];
	memset(&r, 0, sizeof(r));
	r.http_status = 200 + (mode >> 2) * 50;        /* 200..2000: odd ones too */
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos;
		if (n == 0 || (n == 1 && data[pos] == '\r')) {
			pos += n + 1;
			break;
		}
		tfo_exp_response_header(&r, (const char *)data + pos, n);
		/* each line is also a candidate value for the value parsers */
		tfo_exp_retry_after_parse((const char *)data + pos, n, 1700000000, &ms);
		tfo_exp_grpc_status_parse((const char *)data + pos, n, &code);
		tfo_exp_retryinfo_parse((const char *)data + pos, n, &ms);
		pos += n + 1;
	}
	if (pos < size) {
		len = size - pos > TFO_EXP_RESP_MAX ? TFO_EXP_RESP_MAX : size - pos;
		if ((r.body.data = malloc(len)) == NULL)
			return 0;
		memcpy(r.body.data, data + pos, len);
		r.body.len = r.body.cap = len;
		if (tfo_exp_grpc_unframe(r.body.data, len, &scratch, &msg, &len) == TFO_OK) {
			struct tfo_exp_partial ps;
			tfo_exp_partial_parse(msg, len, mode & 2, &ps);
		}
	}
	tfo_exp_classify(&r, mode & 1, (mode >> 1) & 1, 1700000000, &o);
	tfo_exp_buf_fini(&r.body);
	tfo_exp_buf_fini(&scratch);
	return 0;
}
