/*
 * otlp_logs.h - builds one encoded OTLP ResourceLogs from log records, the
 * payload a collector puts into the buffer (DESIGN §3). Used by tfo-logs.
 */
#ifndef TFO_OTLP_LOGS_H
#define TFO_OTLP_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"

#define TFO_OTLP_LOGS_MAX_ATTRS 8

/* One attribute of a record: a string value, or a bool when str is NULL. */
struct tfo_log_attr {
	const char *key;
	const char *str;
	int boolean;
};

/*
 * tfo_log_record - a record as the caller sees it. body (body_len bytes, or
 * NUL-terminated when body_len is 0) and severity_text are valid UTF-8: the
 * caller repairs them. attrs_packed holds attributes framed once by
 * tfo_otlp_logs_pack_attrs (per-file constants), appended as they are.
 * Pointers need to live only for tfo_otlp_logs_add.
 */
struct tfo_log_record {
	const char *body;
	size_t body_len;
	const uint8_t *attrs_packed;
	size_t attrs_packed_len;
	uint64_t time_ns;              /* 0 = unknown */
	uint64_t observed_ns;
	int severity_number;           /* OTLP SeverityNumber, 0 = unspecified */
	const char *severity_text;     /* NULL or "" = none */
	struct tfo_log_attr attrs[TFO_OTLP_LOGS_MAX_ATTRS];
	size_t nattrs;
};

struct tfo_otlp_logs;

/*
 * tfo_otlp_logs_new - a builder for one resource and one instrumentation
 * scope. res may be NULL (no resource); it is packed once here, so it need
 * not outlive the call. Returns NULL on allocation failure.
 */
struct tfo_otlp_logs *tfo_otlp_logs_new(const Opentelemetry__Proto__Resource__V1__Resource *res,
    const char *scope_name, const char *scope_version);
/* tfo_otlp_logs_add - append one LogRecord (packed at once, nothing retained) */
enum tfo_err tfo_otlp_logs_add(struct tfo_otlp_logs *b, const struct tfo_log_record *r);
/*
 * tfo_otlp_logs_pack_attrs - frame attributes as LogRecord.attributes fields
 * (malloc'd into *out), for tfo_log_record.attrs_packed.
 */
enum tfo_err tfo_otlp_logs_pack_attrs(const struct tfo_log_attr *a, size_t n,
    uint8_t **out, size_t *len);
/* tfo_otlp_logs_count / _bytes - records added and their packed size so far */
size_t tfo_otlp_logs_count(const struct tfo_otlp_logs *b);
size_t tfo_otlp_logs_bytes(const struct tfo_otlp_logs *b);
/*
 * tfo_otlp_logs_finish - the encoded ResourceLogs of every record added since
 * the last reset. *out points into the builder and stays valid until the next
 * add, reset or free.
 */
enum tfo_err tfo_otlp_logs_finish(struct tfo_otlp_logs *b, const uint8_t **out, size_t *len);
/* tfo_otlp_logs_reset - forget the records, keep resource, scope and memory */
void tfo_otlp_logs_reset(struct tfo_otlp_logs *b);
void tfo_otlp_logs_free(struct tfo_otlp_logs *b);

#endif
