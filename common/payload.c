/*
 * payload.c - LZ4 payload blocks (tfo-buffer, tfo-exporter). See payload.h.
 */
#include "common/payload.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>

int
tfo_lz4_inflate(const uint8_t *src, size_t len, uint8_t *dst, size_t raw_len)
{
	int n;

	if (len == 0 || len > TFO_PAYLOAD_BATCH_MAX || raw_len == 0 ||
	    raw_len > TFO_PAYLOAD_RAW_MAX)
		return -1;
	n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)len, (int)raw_len);
	return n >= 0 && (size_t)n == raw_len ? 0 : -1;
}

enum tfo_err
tfo_payload_inflate(size_t *n, const uint8_t **data, size_t *len, const uint32_t *raw,
    uint8_t **blob, size_t *bad)
{
	size_t total = 0, used = 0, keep = 0;
	uint8_t *b;

	*blob = NULL;
	*bad = 0;
	for (size_t i = 0; i < *n; i++) {
		size_t sz = raw[i] ? raw[i] : len[i];
		if (sz > TFO_PAYLOAD_RAW_MAX || sz > TFO_PAYLOAD_BATCH_MAX - total)
			return TFO_ERANGE;
		total += sz;
	}
	if ((b = malloc(total ? total : 1)) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (raw[i] == 0)
			memcpy(b + used, data[i], len[i]);
		else if (tfo_lz4_inflate(data[i], len[i], b + used, raw[i]) != 0) {
			(*bad)++;
			continue;
		}
		data[keep] = b + used;
		len[keep++] = raw[i] ? raw[i] : len[i];
		used += raw[i] ? raw[i] : len[i];
	}
	*n = keep;
	*blob = b;
	return TFO_OK;
}

enum tfo_err
tfo_payloads_of(const Tfo__V1__Batch *b, struct tfo_payloads *out)
{
	size_t n = b->n_entries;
	enum tfo_err e = TFO_OK;

	memset(out, 0, sizeof(*out));
	if (b->n_raw_lens != 0 && b->n_raw_lens != n)
		return TFO_EPROTO;
	out->data = calloc(n ? n : 1, sizeof(*out->data));
	out->len = calloc(n ? n : 1, sizeof(*out->len));
	if (out->data == NULL || out->len == NULL) {
		tfo_payloads_free(out);
		return TFO_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		out->data[i] = b->entries[i].data;
		out->len[i] = b->entries[i].len;
	}
	if (b->n_raw_lens != 0)
		e = tfo_payload_inflate(&n, out->data, out->len, b->raw_lens, &out->blob, &out->bad);
	out->n = n;
	if (e != TFO_OK)
		tfo_payloads_free(out);
	return e;
}

void
tfo_payloads_free(struct tfo_payloads *p)
{
	free(p->data);
	free(p->len);
	free(p->blob);
	memset(p, 0, sizeof(*p));
}
