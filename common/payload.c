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

int
tfo_payload_copy(uint8_t *dst, const uint8_t *src, size_t len, uint32_t raw)
{
	if (raw != 0)
		return tfo_lz4_inflate(src, len, dst, raw);
	if (len != 0)
		memcpy(dst, src, len);
	return 0;
}

/* raw_total - the inflated size of n entries, within the per-entry and
 * per-batch bounds (every length came from another process) */
static enum tfo_err
raw_total(size_t n, const size_t *len, const uint32_t *raw, size_t *total)
{
	*total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = raw != NULL && raw[i] ? raw[i] : len[i];
		if (sz > TFO_PAYLOAD_RAW_MAX || sz > TFO_PAYLOAD_BATCH_MAX - *total)
			return TFO_ERANGE;
		*total += sz;
	}
	return TFO_OK;
}

enum tfo_err
tfo_payload_inflate(size_t *n, const uint8_t **data, size_t *len, const uint32_t *raw,
    uint8_t **blob, size_t *bad)
{
	size_t total, used = 0, keep = 0;
	uint8_t *b;
	enum tfo_err e;

	*blob = NULL;
	*bad = 0;
	if ((e = raw_total(*n, len, raw, &total)) != TFO_OK)
		return e;
	if ((b = malloc(total ? total : 1)) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (tfo_payload_copy(b + used, data[i], len[i], raw[i]) != 0) {
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
tfo_payloads_view(const Tfo__V1__Batch *b, struct tfo_payloads *out)
{
	size_t n = b->n_entries;
	enum tfo_err e;

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
	out->n = n;
	out->raw = b->n_raw_lens != 0 ? b->raw_lens : NULL;
	if ((e = raw_total(n, out->len, out->raw, &out->raw_total)) != TFO_OK)
		tfo_payloads_free(out);
	return e;
}

enum tfo_err
tfo_payloads_of(const Tfo__V1__Batch *b, struct tfo_payloads *out)
{
	enum tfo_err e;

	if ((e = tfo_payloads_view(b, out)) != TFO_OK || out->raw == NULL)
		return e;
	e = tfo_payload_inflate(&out->n, out->data, out->len, out->raw, &out->blob, &out->bad);
	out->raw = NULL;
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
