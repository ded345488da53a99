/*
 * otlp_logs.c - ResourceLogs encoding for tfo-logs. Each LogRecord, the
 * Resource and the InstrumentationScope are packed by protobuf-c; the
 * repeated-field framing around them (tag + length) is written here so that
 * records are packed once as they arrive and never held as a message tree.
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
		total += tfo_pb_lenhdr_size(F_LR_ATTR, sz) + sz;
	}
	if ((p = malloc(total ? total : 1)) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t sz = opentelemetry__proto__common__v1__key_value__get_packed_size(&kv[i]);
		o += tfo_pb_lenhdr_put(p + o, F_LR_ATTR, sz);
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
	inner = tfo_pb_lenhdr_size(F_AV_STRING, blen) + blen;
	head = opentelemetry__proto__logs__v1__log_record__get_packed_size(&lr);
	sz = head + tfo_pb_lenhdr_size(F_LR_BODY, inner) + inner + r->attrs_packed_len;
	if ((e = reserve(b, TFO_PB_LENHDR_MAX + sz)) != TFO_OK)
		return e;
	p = b->buf + b->len;
	p += tfo_pb_lenhdr_put(p, F_SL_RECORD, sz);
	p += opentelemetry__proto__logs__v1__log_record__pack(&lr, p);
	p += tfo_pb_lenhdr_put(p, F_LR_BODY, inner);
	p += tfo_pb_lenhdr_put(p, F_AV_STRING, blen);
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
