/*
 * pbwire.h - protobuf wire-format primitives: varints, tags and the header of
 * a length-delimited field, for the code that frames messages by hand
 * (tfo-logs' record envelope, tfo-exporter's request body) and the bounded
 * decode that walks hostile input (tfo-sink's pre-scan).
 */
#ifndef TFO_PBWIRE_H
#define TFO_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum tfo_pb_wire {
	TFO_PB_VARINT = 0,
	TFO_PB_I64 = 1,
	TFO_PB_LEN = 2,
	TFO_PB_I32 = 5,
};

#define TFO_PB_VARINT_MAX 10            /* bytes of a 64-bit varint */
#define TFO_PB_FIELD_MAX 0x1fffffffu    /* largest field number */
#define TFO_PB_LENHDR_MAX (5 + TFO_PB_VARINT_MAX)   /* tag + length, at most */

/* ------------------------------------------------------------------ encode */

/* tfo_pb_varint_size - bytes of v as a varint (1..10) */
size_t tfo_pb_varint_size(uint64_t v);

/* tfo_pb_varint_put - v at p (room for TFO_PB_VARINT_MAX); bytes written */
size_t tfo_pb_varint_put(uint8_t *p, uint64_t v);

/* tfo_pb_lenhdr_size - bytes of the tag and length of field `field` holding
 * len bytes (the payload itself not counted) */
size_t tfo_pb_lenhdr_size(uint32_t field, size_t len);

/* tfo_pb_lenhdr_put - the tag (field, wire type 2) and the length at p (room
 * for TFO_PB_LENHDR_MAX); bytes written. The caller appends the payload. */
size_t tfo_pb_lenhdr_put(uint8_t *p, uint32_t field, size_t len);

/* ------------------------------------------------------------------ decode */

/*
 * tfo_pb_varint_get - one varint from [*pp, end). On TFO_OK *pp moves past
 * it. TFO_EINVAL when it is truncated, longer than 10 bytes or does not fit
 * in 64 bits (a 10th byte above 1); *pp is then unchanged.
 */
enum tfo_err tfo_pb_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v);

struct tfo_pb_field {
	uint32_t number;
	unsigned wire;                  /* enum tfo_pb_wire; the bad one on error */
	uint64_t value;                 /* VARINT: the value */
	const uint8_t *data;            /* I64, I32, LEN: the bytes, inside the input */
	size_t len;
	const char *error;              /* on TFO_EINVAL: what was wrong, for a log line */
};

/*
 * tfo_pb_field_next - the next field of a message in [*pp, end): tag checked
 * (field 1..2^29-1), varint read, fixed and length-delimited payloads checked
 * to lie inside the input. On TFO_OK *pp moves past the field. TFO_EINVAL
 * with f->error set to "bad field tag", "truncated varint", "truncated fixed
 * field", "truncated field" or "unsupported wire type N" (groups, 6, 7).
 */
enum tfo_err tfo_pb_field_next(const uint8_t **pp, const uint8_t *end, struct tfo_pb_field *f);

#endif
