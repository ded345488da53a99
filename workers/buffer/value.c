/*
 * value.c - the stored form of a queue entry (tfo-buffer). A value is
 * [put time ms, be64][points word, be32][body]. Payloads of a kilobyte or
 * more are stored LZ4-compressed when that makes them smaller: log batches
 * shrink several times, and every stored byte is written twice by LevelDB
 * (its log, then a table) and synced, so the disk, not the CPU, was what
 * bounded log throughput. tfo-logs sends its batches compressed already
 * (Put.encoding), so that work is done in the collector, not here; they are
 * stored as they came. Bit 31 of the points word marks a compressed body,
 * [raw length, be32][LZ4 block]; values written before compression existed
 * never set it (a payload cannot hold 2^31 points). Bits 28-30 hold the role
 * that put the entry (format 3: the bound's share is per role, queue.c);
 * values of older formats have 0 there (points stayed far below 2^28), read
 * as "unattributed", and a put claiming 2^28 points or more is refused.
 */
#include "workers/buffer/store_int.h"

#include <lz4.h>
#include <string.h>

#define VALUE_LZ4      0x80000000u
#define VALUE_ROLE_SHIFT 28
#define VALUE_ROLE_MASK  0x70000000u
#define LZ4_MIN        1024        /* smaller payloads (metrics) are kept as they are */
#define RAW_LEN_BYTES  4
#define LZ4_ACCEL      4           /* 1 = LZ4's default: ~7% better ratio, slower */

/* lz4_value - the header of a compressed value at v, for a body of n bytes */
static size_t
lz4_value(struct tfo_store *st, uint8_t *v, uint32_t points, size_t raw_len, size_t n)
{
	store_be32(v + 8, points | VALUE_LZ4);
	store_be32(v + TFO_STORE_HDR, (uint32_t)raw_len);
	st->s.lz4_raw += raw_len;
	st->s.lz4_stored += n + RAW_LEN_BYTES;
	return TFO_STORE_HDR + RAW_LEN_BYTES + n;
}

size_t
store_value_encode(struct tfo_store *st, uint64_t ts, const struct tfo_store_put *p,
    const uint8_t **out)
{
	size_t len = p->len, cap;
	uint32_t points = (p->points & TFO_STORE_POINTS_MAX) |
	    ((p->role << VALUE_ROLE_SHIFT) & VALUE_ROLE_MASK);
	uint8_t *v;
	int n = 0;

	if (len > TFO_STORE_VALUE_MAX || (p->lz4 && p->raw_len > TFO_STORE_VALUE_MAX))
		return 0;
	cap = TFO_STORE_HDR + RAW_LEN_BYTES + (p->lz4 ? len : (size_t)LZ4_compressBound((int)len));
	if ((v = store_scratch(st, cap > TFO_STORE_HDR + len ? cap : TFO_STORE_HDR + len)) == NULL)
		return 0;
	*out = v;
	store_be64(v, ts);
	if (p->lz4) {
		memcpy(v + TFO_STORE_HDR + RAW_LEN_BYTES, p->payload, len);
		return lz4_value(st, v, points, p->raw_len, len);
	}
	if (len >= LZ4_MIN)
		n = LZ4_compress_fast((const char *)p->payload,
		    (char *)v + TFO_STORE_HDR + RAW_LEN_BYTES, (int)len, (int)(cap - TFO_STORE_HDR -
		    RAW_LEN_BYTES), LZ4_ACCEL);
	if (n > 0 && (size_t)n + RAW_LEN_BYTES < len)
		return lz4_value(st, v, points, len, (size_t)n);
	store_be32(v + 8, points);
	memcpy(v + TFO_STORE_HDR, p->payload, len);
	return TFO_STORE_HDR + len;
}

int
store_value_parse(const uint8_t *v, size_t vl, struct store_value *sv)
{
	uint32_t pw;

	if (vl < TFO_STORE_HDR)
		return -1;
	pw = store_get_be32(v + 8);
	sv->points = pw & TFO_STORE_POINTS_MAX;
	sv->role = (pw & VALUE_ROLE_MASK) >> VALUE_ROLE_SHIFT;
	sv->body = v + TFO_STORE_HDR;
	sv->body_len = vl - TFO_STORE_HDR;
	sv->lz4 = (pw & VALUE_LZ4) != 0;
	sv->raw_len = sv->body_len;
	if (!sv->lz4)
		return 0;
	if (sv->body_len <= RAW_LEN_BYTES)
		return -1;
	sv->raw_len = store_get_be32(sv->body);
	sv->body += RAW_LEN_BYTES;
	sv->body_len -= RAW_LEN_BYTES;
	/* hostile or damaged: a length no put could have had */
	return sv->raw_len == 0 || sv->raw_len > TFO_STORE_VALUE_MAX ? -1 : 0;
}
