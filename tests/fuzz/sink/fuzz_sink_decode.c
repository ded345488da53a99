/*
 * fuzz_sink_decode.c - fuzz harness for tfo-sink's request decoder. The first
 * input byte picks the case (bits 0-1 signal: metrics, logs, heartbeat;
 * bit 2 JSON instead of protobuf; bit 3 gzip); the rest is the body.
 * tfo_sink_count (--count-only) runs on every input too.
 * Seeds: tests/fuzz/sink/corpus, made by gen_corpus.py.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tools/tfo-sink/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfo_sink_summary s;
	enum tfo_sink_signal sig;
	enum tfo_err e;
	char *text;
	cJSON *back;

	if (size == 0)
		return 0;
	sig = (enum tfo_sink_signal)((data[0] & 3) % 3);
	e = tfo_sink_decode(sig, (data[0] & 4) ? "application/json" : "application/x-protobuf",
	    (data[0] & 8) ? "gzip" : NULL, data + 1, size - 1, &s);
	/* Invariants: a body exactly on success, and it prints as JSON that parses back. */
	if ((e == TFO_OK) != (s.body != NULL) || (e != TFO_OK && s.error[0] == '\0'))
		abort();
	if (s.body != NULL) {
		if ((text = cJSON_PrintUnformatted(s.body)) == NULL)
			abort();
		if ((back = cJSON_Parse(text)) == NULL)
			abort();
		cJSON_Delete(back);
		free(text);
	}
	tfo_sink_summary_fini(&s);
	/* --count-only on the same input: memory-safe, an error says why. */
	e = tfo_sink_count(sig, (data[0] & 4) ? "application/json" : "application/x-protobuf",
	    (data[0] & 8) ? "gzip" : NULL, data + 1, size - 1, &s);
	if (e != TFO_OK && s.error[0] == '\0')
		abort();
	tfo_sink_summary_fini(&s);
	return 0;
}
