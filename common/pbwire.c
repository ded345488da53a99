/*
 * pbwire.c - protobuf wire-format varints, tags and length-delimited field
 * headers; bounded decode of hostile input. Linked by tfo-logs,
 * tfo-exporter and tfo-sink.
 */
#include "common/pbwire.h"

size_t
tfo_pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t
tfo_pb_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

size_t
tfo_pb_lenhdr_size(uint32_t field, size_t len)
{
	return tfo_pb_varint_size((uint64_t)field << 3 | TFO_PB_LEN) + tfo_pb_varint_size(len);
}

size_t
tfo_pb_lenhdr_put(uint8_t *p, uint32_t field, size_t len)
{
	size_t n = tfo_pb_varint_put(p, (uint64_t)field << 3 | TFO_PB_LEN);

	return n + tfo_pb_varint_put(p + n, len);
}

enum tfo_err
tfo_pb_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;

	for (unsigned i = 0; p < end && i < TFO_PB_VARINT_MAX; i++, p++) {
		/* The 10th byte carries bit 63 only: more would not fit in 64 bits. */
		if (i == TFO_PB_VARINT_MAX - 1 && *p > 1)
			return TFO_EINVAL;
		r |= (uint64_t)(*p & 0x7f) << (7 * i);
		if ((*p & 0x80) == 0) {
			*v = r;
			*pp = p + 1;
			return TFO_OK;
		}
	}
	return TFO_EINVAL;
}

/* fail - f->error for a log line; always TFO_EINVAL */
static enum tfo_err
fail(struct tfo_pb_field *f, const char *why)
{
	f->error = why;
	return TFO_EINVAL;
}

/* bad_wire - the message for wire types 3, 4 (groups), 6 and 7 */
static enum tfo_err
bad_wire(struct tfo_pb_field *f)
{
	static const char *const why[8] = {
		[3] = "unsupported wire type 3", [4] = "unsupported wire type 4",
		[6] = "unsupported wire type 6", [7] = "unsupported wire type 7",
	};

	return fail(f, why[f->wire & 7]);
}

enum tfo_err
tfo_pb_field_next(const uint8_t **pp, const uint8_t *end, struct tfo_pb_field *f)
{
	const uint8_t *p = *pp;
	uint64_t tag, n;

	f->data = NULL;
	f->len = 0;
	f->value = 0;
	f->error = NULL;
	if (tfo_pb_varint_get(&p, end, &tag) != TFO_OK || (tag >> 3) == 0 ||
	    (tag >> 3) > TFO_PB_FIELD_MAX)
		return fail(f, "bad field tag");
	f->number = (uint32_t)(tag >> 3);
	f->wire = (unsigned)(tag & 7);
	switch (f->wire) {
	case TFO_PB_VARINT:
		if (tfo_pb_varint_get(&p, end, &f->value) != TFO_OK)
			return fail(f, "truncated varint");
		break;
	case TFO_PB_I64:
	case TFO_PB_I32:
		n = f->wire == TFO_PB_I64 ? 8 : 4;
		if ((uint64_t)(end - p) < n)
			return fail(f, "truncated fixed field");
		f->data = p;
		f->len = (size_t)n;
		p += n;
		break;
	case TFO_PB_LEN:
		if (tfo_pb_varint_get(&p, end, &n) != TFO_OK || n > (uint64_t)(end - p))
			return fail(f, "truncated field");
		f->data = p;
		f->len = (size_t)n;
		p += n;
		break;
	default:
		return bad_wire(f);
	}
	*pp = p;
	return TFO_OK;
}
