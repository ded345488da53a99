/*
 * storeutil.c - what every part of the buffer's store uses: big-endian
 * fields, the queue keys, the clock, the scratch buffer, totals, why puts
 * wait. Its own
 * file so calls run one way: store.c, queue.c, value.c and space.c call in
 * here, nothing here calls them.
 */
#include "workers/buffer/store_int.h"

#include <stdlib.h>

#include "common/clock.h"

void
store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t
store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
store_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint32_t
store_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
store_now(struct tfo_store *st)
{
	return st->o.now_ms(st->o.now_arg);
}

/* Keys sort by signal, then seq: big-endian seq makes bytewise order numeric. */
void
tfo_store_key(uint8_t *buf, uint32_t signal, uint64_t seq)
{
	buf[0] = 'q';
	buf[1] = '/';
	buf[2] = (uint8_t)('0' + signal % 10);
	buf[3] = '/';
	store_be64(buf + 4, seq);
}

int
tfo_store_key_parse(const void *key, size_t len, uint32_t *signal, uint64_t *seq)
{
	const uint8_t *k = key;

	if (len != TFO_STORE_KEYLEN || k[0] != 'q' || k[1] != '/' || k[3] != '/' ||
	    k[2] < '1' || k[2] >= '0' + TFO_STORE_NSIG)
		return -1;
	*signal = (uint32_t)(k[2] - '0');
	*seq = store_get_be64(k + 4);
	return 0;
}

/* store_held_by_role - the bytes each role has queued, over every signal */
void
store_held_by_role(const struct tfo_store *st, uint64_t held[TFO_STORE_NROLE])
{
	for (uint32_t r = 0; r < TFO_STORE_NROLE; r++)
		held[r] = 0;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		for (uint32_t r = 0; r < TFO_STORE_NROLE; r++)
			held[r] += st->q[s].rbytes[r];
}

uint64_t
store_total_bytes(const struct tfo_store *st)
{
	uint64_t t = 0;

	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		t += st->q[s].bytes;
	return t;
}

const char *
tfo_store_drop_reason_name(enum tfo_drop_reason r)
{
	switch (r) {
	case TFO_DROP_SIZE:
		return "size";
	case TFO_DROP_AGE:
		return "age";
	case TFO_DROP_CORRUPT:
		return "corrupt";
	case TFO_DROP_DISK:
		return "disk";
	case TFO_DROP_NREASONS:
		break;
	}
	return "?";
}

uint8_t *
store_scratch(struct tfo_store *st, size_t len)
{
	if (len > st->scratchcap) {
		uint8_t *p = realloc(st->scratch, len);
		if (p == NULL)
			return NULL;
		st->scratch = p;
		st->scratchcap = len;
	}
	return st->scratch;
}

const char *
tfo_store_busy_reason(struct tfo_store *st)
{
	if (st->db == NULL)
		return st->s.last_error[0] ? st->s.last_error : "store not open";
	if (st->failing && tfo_mono_ns() / 1000 < st->retry_at_us)
		return st->s.status[0] ? st->s.status : st->s.last_error;
	return "";
}
