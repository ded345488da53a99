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
 * tfo_log_record - a record as the caller sees it. body and severity_text
 * are NUL-terminated valid UTF-8 (protobuf-c strings end at the first NUL:
 * the caller sanitises). Pointers need to live only for tfo_otlp_logs_add.
 */
struct tfo_log_record {
	const char *body;
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
