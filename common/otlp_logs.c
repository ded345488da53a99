/*
 * otlp_logs.c - ResourceLogs encoding for tfo-logs. Each LogRecord, the
 * Resource and the InstrumentationScope are packed by protobuf-c; the
 * repeated-field framing around them (tag + length) is written here so that
 * records are packed once as they arrive and never held as a message tree.
 */
#include <stdlib.h>
#include <string.h>

#include "common/otlp_logs.h"

/* Length-delimited field tags (field << 3 | wire type 2). */
#define TAG_RL_RESOURCE   0x0a  /* ResourceLogs.resource = 1 */
#define TAG_RL_SCOPE_LOGS 0x12  /* ResourceLogs.scope_logs = 2 */
#define TAG_SL_SCOPE      0x0a  /* ScopeLogs.scope = 1 */
#define TAG_SL_RECORD     0x12  /* ScopeLogs.log_records = 2 */
#define TAG_LR_BODY       0x2a  /* LogRecord.body = 5 */
#define TAG_LR_ATTR       0x32  /* LogRecord.attributes = 6 */
#define TAG_AV_STRING     0x0a  /* AnyValue.string_value = 1 */
#define VARINT_MAX 10

struct tfo_otlp_logs {
	uint8_t *res;           /* packed Resource (or NULL) */
	size_t res_len;
	uint8_t *scope;         /* packed InstrumentationScope */
	size_t scope_len;
	uint8_t *buf;           /* [headroom][records...] */
	size_t cap, len, head;  /* head: headroom reserved for the envelope */
	size_t count;
};

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

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
	b->head = 3 * (1 + VARINT_MAX) + b->res_len + b->scope_len;
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

/* fill_attrs - protobuf-c KeyValues for a, in caller-provided storage */
static void
fill_attrs(const struct tfo_log_attr *a, size_t n, Opentelemetry__Proto__Common__V1__KeyValue *kv,
    Opentelemetry__Proto__Common__V1__AnyValue *av, Opentelemetry__Proto__Common__V1__KeyValue **kvp)
{
	for (size_t i = 0; i < n; i++) {
		opentelemetry__proto__common__v1__key_value__init(&kv[i]);
		opentelemetry__proto__common__v1__any_value__init(&av[i]);
		kv[i].key = (char *)a[i].key;
		kv[i].value = &av[i];
		if (a[i].str != NULL) {
			av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			av[i].string_value = (char *)a[i].str;
		} else {
			av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
			av[i].bool_value = a[i].boolean != 0;
		}
		kvp[i] = &kv[i];
	}
}

enum tfo_err
tfo_otlp_logs_pack_attrs(const struct tfo_log_attr *a, size_t n, uint8_t **out, size_t *len)
{
	Opentelemetry__Proto__Common__V1__KeyValue kv[TFO_OTLP_LOGS_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__AnyValue av[TFO_OTLP_LOGS_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__KeyValue *kvp[TFO_OTLP_LOGS_MAX_ATTRS];
	size_t total = 0, o = 0;
	uint8_t *p;

	if (n > TFO_OTLP_LOGS_MAX_ATTRS)
		return TFO_EINVAL;
	fill_attrs(a, n, kv, av, kvp);
	for (size_t i = 0; i < n; i++) {
		size_t sz = opentelemetry__proto__common__v1__key_value__get_packed_size(&kv[i]);
		total += 1 + varint_len(sz) + sz;
	}
	if ((p = malloc(total ? total : 1)) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t sz = opentelemetry__proto__common__v1__key_value__get_packed_size(&kv[i]);
		p[o++] = TAG_LR_ATTR;
		o += varint_put(p + o, sz);
		o += opentelemetry__proto__common__v1__key_value__pack(&kv[i], p + o);
	}
	*out = p;
	*len = o;
	return TFO_OK;
}

/*
 * tfo_otlp_logs_add - the record's scalar fields and per-record attributes
 * are packed by protobuf-c; the body (an AnyValue string, whose length we
 * know) and the pre-framed attributes are appended as fields 5 and 6.
 */
enum tfo_err
tfo_otlp_logs_add(struct tfo_otlp_logs *b, const struct tfo_log_record *r)
{
	Opentelemetry__Proto__Logs__V1__LogRecord lr = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv[TFO_OTLP_LOGS_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__AnyValue av[TFO_OTLP_LOGS_MAX_ATTRS];
	Opentelemetry__Proto__Common__V1__KeyValue *kvp[TFO_OTLP_LOGS_MAX_ATTRS];
	size_t head, blen, inner, sz;
	uint8_t *p;
	enum tfo_err e;

	if (r->nattrs > TFO_OTLP_LOGS_MAX_ATTRS || r->body == NULL)
		return TFO_EINVAL;
	fill_attrs(r->attrs, r->nattrs, kv, av, kvp);
	lr.time_unix_nano = r->time_ns;
	lr.observed_time_unix_nano = r->observed_ns;
	lr.severity_number = (Opentelemetry__Proto__Logs__V1__SeverityNumber)r->severity_number;
	if (r->severity_text != NULL)
		lr.severity_text = (char *)r->severity_text;
	lr.n_attributes = r->nattrs;
	lr.attributes = kvp;

	blen = r->body_len ? r->body_len : strlen(r->body);
	inner = 1 + varint_len(blen) + blen;
	head = opentelemetry__proto__logs__v1__log_record__get_packed_size(&lr);
	sz = head + 1 + varint_len(inner) + inner + r->attrs_packed_len;
	if ((e = reserve(b, 1 + VARINT_MAX + sz)) != TFO_OK)
		return e;
	p = b->buf + b->len;
	*p++ = TAG_SL_RECORD;
	p += varint_put(p, sz);
	p += opentelemetry__proto__logs__v1__log_record__pack(&lr, p);
	*p++ = TAG_LR_BODY;
	p += varint_put(p, inner);
	*p++ = TAG_AV_STRING;
	p += varint_put(p, blen);
	memcpy(p, r->body, blen);
	p += blen;
	if (r->attrs_packed_len) {
		memcpy(p, r->attrs_packed, r->attrs_packed_len);
		p += r->attrs_packed_len;
	}
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
	size_t sl_len = 1 + varint_len(b->scope_len) + b->scope_len + recs;
	size_t hdr = 1 + varint_len(sl_len) + 1 + varint_len(b->scope_len) + b->scope_len;
	uint8_t *p;

	if (b->res != NULL)
		hdr += 1 + varint_len(b->res_len) + b->res_len;
	if (hdr > b->head)
		return TFO_ERANGE;     /* cannot happen: head reserves the maximum */
	p = b->buf + b->head - hdr;
	*out = p;
	*len = hdr + recs;
	if (b->res != NULL) {
		*p++ = TAG_RL_RESOURCE;
		p += varint_put(p, b->res_len);
		memcpy(p, b->res, b->res_len);
		p += b->res_len;
	}
	*p++ = TAG_RL_SCOPE_LOGS;
	p += varint_put(p, sl_len);
	*p++ = TAG_SL_SCOPE;
	p += varint_put(p, b->scope_len);
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
