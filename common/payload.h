/*
 * payload.h - inflating the LZ4 blocks that carry OTLP payloads between
 * collectors, tfo-buffer and tfo-exporter (Put.encoding, Batch.raw_lens in
 * proto/tfo/v1/tfo.proto). Every length comes from another process or from
 * disk: each is bounded, and a block must inflate to exactly its raw length.
 */
#ifndef TFO_PAYLOAD_H
#define TFO_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_PAYLOAD_RAW_MAX   (16u << 20)   /* one payload, inflated */
#define TFO_PAYLOAD_BATCH_MAX (32u << 20)   /* one batch, inflated */

/* tfo_lz4_inflate - src (one LZ4 block) into dst (raw_len bytes); -1 unless it
 * inflates to exactly raw_len */
int tfo_lz4_inflate(const uint8_t *src, size_t len, uint8_t *dst, size_t raw_len);

/* tfo_payload_copy - one entry into dst: copied when raw is 0, else its LZ4
 * block inflated (dst holds raw bytes); -1 when it does not inflate */
int tfo_payload_copy(uint8_t *dst, const uint8_t *src, size_t len, uint32_t raw);

/*
 * tfo_payload_inflate - the entries data[i]/len[i] of a batch, where raw[i]
 * is 0 for an entry carried as it is and else the size its LZ4 block
 * inflates to. On TFO_OK every entry is copied or inflated into *blob (the
 * caller frees it) and data/len point there; entries that do not inflate are
 * left out (*n shrinks, *bad counts them). TFO_ERANGE when a raw length is
 * over TFO_PAYLOAD_RAW_MAX or the batch over TFO_PAYLOAD_BATCH_MAX.
 */
enum tfo_err tfo_payload_inflate(size_t *n, const uint8_t **data, size_t *len,
    const uint32_t *raw, uint8_t **blob, size_t *bad);

/*
 * struct tfo_payloads - the payloads of a fetched Batch: n entries data[i] of
 * len[i] bytes (pointing into the Batch or into blob). raw is NULL once they
 * are inflated; tfo_payloads_view leaves it as the Batch's raw_lens.
 */
struct tfo_payloads {
	size_t n, bad;             /* bad: entries left out, they did not inflate */
	const uint8_t **data;
	size_t *len;
	const uint32_t *raw;       /* NULL, or per entry as tfo_payload_inflate's raw */
	size_t raw_total;          /* the entries' bytes once inflated */
	uint8_t *blob;
};

/*
 * tfo_payloads_view - the entries of batch b (valid while b is) as they came,
 * LZ4 blocks not inflated, after every check of tfo_payloads_of: for a
 * consumer that inflates each entry straight to where it goes (the
 * exporter's request body), with tfo_payload_copy.
 */
enum tfo_err tfo_payloads_view(const Tfo__V1__Batch *b, struct tfo_payloads *out);
/*
 * tfo_payloads_of - the payloads of batch b, inflated (valid while b is).
 * TFO_EPROTO when raw_lens does not match the entries, TFO_ERANGE as
 * tfo_payload_inflate.
 */
enum tfo_err tfo_payloads_of(const Tfo__V1__Batch *b, struct tfo_payloads *out);
void tfo_payloads_free(struct tfo_payloads *p);

#endif
