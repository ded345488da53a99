/*
 * fuzz_sink_parse.c - tfo-sink's HTTP head parser and chunked decoder
 * (tools/tfo-sink/parse.c) on hostile bytes. Byte 0 picks how the input is
 * fed (1..16 bytes at a time, as a socket may deliver it), byte 1 the target:
 * even a request head, odd a chunked body. Whatever is accepted must stay
 * inside the input.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tfo-sink/decode.h"
#include "tools/tfo-sink/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* head - find the head's end feeding step bytes at a time, then parse it */
static void
head(uint8_t *p, size_t size, size_t step)
{
	struct tfo_sink_head h = { 0 };
	size_t scan = 0, end = 0;

	for (size_t n = step < size ? step : size; end == 0; n += step) {
		if (n > size)
			n = size;
		end = tfo_sink_head_end(p, n, &scan);
		assert(end <= n);
		if (n == size)
			break;
	}
	if (end == 0)
		return;
	if (tfo_sink_head_parse((char *)p, end, &h) == 0) {
		assert(h.method < end && h.path < end);
		for (size_t i = 0; i < h.nhdrs; i++)
			assert(h.hdrs[i].name < end && h.hdrs[i].value < end &&
			    strlen((char *)p + h.hdrs[i].value) < end);
		assert(h.length <= TFO_SINK_MAX_BODY);
		assert(!(h.chunked && h.length));
	}
	free(h.hdrs);
}

/* chunked - decode in place as the input arrives; never past it or max */
static void
chunked(uint8_t *p, size_t size, size_t step)
{
	struct tfo_sink_chunked ck = { 0 };
	size_t in = 0, out = 0;
	int rc;

	for (size_t n = step; ; n += step) {
		if (n > size)
			n = size;
		rc = tfo_sink_chunked_decode(&ck, p, n, &in, &out, 1000);
		assert(out <= in && in <= n && out <= 1000);
		if (rc != 0 || n == size)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;
	int mode;
	uint8_t *p;

	if (size < 2)
		return 0;
	step = data[0] % 16 + 1;
	mode = data[1] & 1;
	if ((p = malloc(size - 2 ? size - 2 : 1)) == NULL)
		return 0;
	memcpy(p, data + 2, size - 2);
	if (mode == 0)
		head(p, size - 2, step);
	else
		chunked(p, size - 2, step);
	free(p);
	return 0;
}
