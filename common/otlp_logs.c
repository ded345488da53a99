/*
 * otlp_logs.c - ResourceLogs encoding for tfo-logs. The Resource and the
 * InstrumentationScope are packed once by protobuf-c; each LogRecord and the
 * framing around them (tag + length) is written here, so that records are
 * encoded once as they arrive and never held as a message tree.
 */
#include <stdlib.h>
#include <string.h>

#include "common/otlp_logs.h"
#include "common/pbwire.h"

/* Length-delimited field numbers of the framing written here. */
#define F_RL_RESOURCE   1       /* ResourceLogs.resource */
#define F_RL_SCOPE_LOGS 2       /* ResourceLogs.scope_logs */
#define F_SL_SCOPE      1       /* ScopeLogs.scope */
#define F_SL_RECORD     2       /* ScopeLogs.log_records */
#define F_LR_BODY       5       /* LogRecord.body */
#define F_LR_ATTR       6       /* LogRecord.attributes */
#define F_AV_STRING     1       /* AnyValue.string_value */

struct tfo_otlp_logs {
	uint8_t *res;           /* packed Resource (or NULL) */
	size_t res_len;
	uint8_t *scope;         /* packed InstrumentationScope */
	size_t scope_len;
	uint8_t *buf;           /* [headroom][records...] */
	size_t cap, len, head;  /* head: headroom reserved for the envelope */
	size_t count;
};

static uint8_t *
pack_dup(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *p;

	*len = protobuf_c_message_get_packed_size(m);
	p = malloc(*len ? *len : 1);
	if (p != NULL)
		protobuf_c_message_pack(m, p);
	return p;
}

struct tfo_otlp_logs *
tfo_otlp_logs_new(const Opentelemetry__Proto__Resource__V1__Resource *res,
    const char *scope_name, const char *scope_version)
{
	Opentelemetry__Proto__Common__V1__InstrumentationScope sc =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	struct tfo_otlp_logs *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	sc.name = (char *)(scope_name ? scope_name : "");
	sc.version = (char *)(scope_version ? scope_version : "");
	b->scope = pack_dup(&sc.base, &b->scope_len);
	if (res != NULL)
		b->res = pack_dup(&res->base, &b->res_len);
	b->head = 3 * TFO_PB_LENHDR_MAX + b->res_len + b->scope_len;
	b->cap = b->head + 64 * 1024;
	b->buf = malloc(b->cap);
	if (b->scope == NULL || (res != NULL && b->res == NULL) || b->buf == NULL) {
		tfo_otlp_logs_free(b);
		return NULL;
	}
	b->len = b->head;
	return b;
}

static enum tfo_err
reserve(struct tfo_otlp_logs *b, size_t more)
{
	size_t ncap = b->cap;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - b->len)
		return TFO_ERANGE;
	if (b->len + more <= b->cap)
		return TFO_OK;
	while (ncap < b->len + more)
		ncap *= 2;
	p = realloc(b->buf, ncap);
	if (p == NULL)
		return TFO_ENOMEM;
	b->buf = p;
	b->cap = ncap;
	return TFO_OK;
}

/* Attributes as protobuf-c KeyValues, with their packed sizes. */
struct attrs {
	Opentelemetry__Proto__Common__V1__KeyValue kv[TFO_OTLP_LOGS_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__AnyValue av[TFO_OTLP_LOGS_MAX_ATTRS];
	size_t sz[TFO_OTLP_LOGS_MAX_ATTRS];
	size_t n;
};

/* attrs_fill - a[0..n) as KeyValues; the framed size of them all */
static size_t
attrs_fill(struct attrs *at, const struct tfo_log_attr *a, size_t n)
{
	size_t total = 0;

	at->n = n;
	for (size_t i = 0; i < n; i++) {
		Opentelemetry__Proto__Common__V1__AnyValue *av = &at->av[i];
		opentelemetry__proto__common__v1__key_value__init(&at->kv[i]);
		opentelemetry__proto__common__v1__any_value__init(av);
		at->kv[i].key = (char *)a[i].key;
		at->kv[i].value = av;
		if (a[i].str != NULL) {
			av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			av->string_value = (char *)a[i].str;
		} else {
			av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
			av->bool_value = a[i].boolean != 0;
		}
		at->sz[i] = opentelemetry__proto__common__v1__key_value__get_packed_size(&at->kv[i]);
		total += tfo_pb_lenhdr_size(F_LR_ATTR, at->sz[i]) + at->sz[i];
	}
	return total;
}

/* attrs_put - the KeyValues framed as LogRecord.attributes at p; the end */
static uint8_t *
attrs_put(const struct attrs *at, uint8_t *p)
{
	for (size_t i = 0; i < at->n; i++) {
		p += tfo_pb_lenhdr_put(p, F_LR_ATTR, at->sz[i]);
		p += opentelemetry__proto__common__v1__key_value__pack(&at->kv[i], p);
	}
	return p;
}

enum tfo_err
tfo_otlp_logs_pack_attrs(const struct tfo_log_attr *a, size_t n, uint8_t **out, size_t *len)
{
	struct attrs at;
	size_t total;
	uint8_t *p;

	if (n > TFO_OTLP_LOGS_MAX_ATTRS)
		return TFO_EINVAL;
	total = attrs_fill(&at, a, n);
	if ((p = malloc(total ? total : 1)) == NULL)
		return TFO_ENOMEM;
	*len = (size_t)(attrs_put(&at, p) - p);
	*out = p;
	return TFO_OK;
}

/* Scalar LogRecord fields, written by hand (tag bytes: field << 3 | wire). */
#define T_LR_TIME       0x09    /* 1 time_unix_nano, fixed64 */
#define T_LR_SEV        0x10    /* 2 severity_number, varint */
#define F_LR_SEV_TEXT   3       /* severity_text */
#define T_LR_OBSERVED   0x59    /* 11 observed_time_unix_nano, fixed64 */

static uint8_t *
put_fixed64(uint8_t *p, uint8_t tag, uint64_t v)
{
	*p++ = tag;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/*
 * tfo_otlp_logs_add - one LogRecord framed straight into the batch: this is
 * the per-line path of tfo-logs, so the fields are written by hand (protobuf-c
 * would build and walk a message per line). Only per-record attributes, rare,
 * go through protobuf-c's KeyValue packer.
 */
enum tfo_err
tfo_otlp_logs_add(struct tfo_otlp_logs *b, const struct tfo_log_record *r)
{
	struct attrs at;
	size_t blen, inner, tlen = 0, sz;
	uint8_t *p;
	enum tfo_err e;

	if (r->nattrs > TFO_OTLP_LOGS_MAX_ATTRS || r->body == NULL)
		return TFO_EINVAL;
	sz = attrs_fill(&at, r->attrs, r->nattrs);
	if (r->severity_text != NULL && r->severity_text[0] != '\0') {
		tlen = strlen(r->severity_text);
		sz += tfo_pb_lenhdr_size(F_LR_SEV_TEXT, tlen) + tlen;
	}
	if (r->time_ns != 0)
		sz += 9;
	if (r->severity_number != 0)
		sz += 1 + tfo_pb_varint_size((uint64_t)(int64_t)r->severity_number);
	if (r->observed_ns != 0)
		sz += 9;
	blen = r->body_len ? r->body_len : strlen(r->body);
	inner = tfo_pb_lenhdr_size(F_AV_STRING, blen) + blen;
	sz += tfo_pb_lenhdr_size(F_LR_BODY, inner) + inner + r->attrs_packed_len;
	if ((e = reserve(b, TFO_PB_LENHDR_MAX + sz)) != TFO_OK)
		return e;
	p = b->buf + b->len;
	p += tfo_pb_lenhdr_put(p, F_SL_RECORD, sz);
	if (r->time_ns != 0)
		p = put_fixed64(p, T_LR_TIME, r->time_ns);
	if (r->severity_number != 0) {
		*p++ = T_LR_SEV;
		p += tfo_pb_varint_put(p, (uint64_t)(int64_t)r->severity_number);
	}
	if (tlen) {
		p += tfo_pb_lenhdr_put(p, F_LR_SEV_TEXT, tlen);
		memcpy(p, r->severity_text, tlen);
		p += tlen;
	}
	p += tfo_pb_lenhdr_put(p, F_LR_BODY, inner);
	p += tfo_pb_lenhdr_put(p, F_AV_STRING, blen);
	memcpy(p, r->body, blen);
	p += blen;
	p = attrs_put(&at, p);
	if (r->attrs_packed_len) {
		memcpy(p, r->attrs_packed, r->attrs_packed_len);
		p += r->attrs_packed_len;
	}
	if (r->observed_ns != 0)
		p = put_fixed64(p, T_LR_OBSERVED, r->observed_ns);
	b->len = (size_t)(p - b->buf);
	b->count++;
	return TFO_OK;
}

size_t
tfo_otlp_logs_count(const struct tfo_otlp_logs *b)
{
	return b->count;
}

size_t
tfo_otlp_logs_bytes(const struct tfo_otlp_logs *b)
{
	return b->len - b->head;
}

enum tfo_err
tfo_otlp_logs_finish(struct tfo_otlp_logs *b, const uint8_t **out, size_t *len)
{
	size_t recs = b->len - b->head;
	size_t sl_len = tfo_pb_lenhdr_size(F_SL_SCOPE, b->scope_len) + b->scope_len + recs;
	size_t hdr = tfo_pb_lenhdr_size(F_RL_SCOPE_LOGS, sl_len) + sl_len - recs;
	uint8_t *p;

	if (b->res != NULL)
		hdr += tfo_pb_lenhdr_size(F_RL_RESOURCE, b->res_len) + b->res_len;
	if (hdr > b->head)
		return TFO_ERANGE;     /* cannot happen: head reserves the maximum */
	p = b->buf + b->head - hdr;
	*out = p;
	*len = hdr + recs;
	if (b->res != NULL) {
		p += tfo_pb_lenhdr_put(p, F_RL_RESOURCE, b->res_len);
		memcpy(p, b->res, b->res_len);
		p += b->res_len;
	}
	p += tfo_pb_lenhdr_put(p, F_RL_SCOPE_LOGS, sl_len);
	p += tfo_pb_lenhdr_put(p, F_SL_SCOPE, b->scope_len);
	memcpy(p, b->scope, b->scope_len);
	return TFO_OK;
}

void
tfo_otlp_logs_reset(struct tfo_otlp_logs *b)
{
	b->len = b->head;
	b->count = 0;
}

void
tfo_otlp_logs_free(struct tfo_otlp_logs *b)
{
	if (b == NULL)
		return;
	free(b->res);
	free(b->scope);
	free(b->buf);
	free(b);
}
