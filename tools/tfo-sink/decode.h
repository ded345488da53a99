/*
 * decode.h - tfo-sink's request decoder: OTLP/HTTP protobuf or JSON bodies
 * (gzip or identity) and heartbeat JSON into counts plus a normalised JSON
 * "body" (schema in docs/tfo-sink.md). Pure functions, no I/O: tfo-sink's
 * HTTP handler, the unit tests and the fuzz harness all call tfo_sink_decode.
 */
#ifndef TFO_SINK_DECODE_H
#define TFO_SINK_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* Largest request body accepted on the wire (conn.c answers 413 above it). */
#define TFO_SINK_MAX_BODY     (16u << 20)
/* Largest protobuf body after gunzip: a zip bomb stops here with 413. */
#define TFO_SINK_MAX_INFLATED (64u << 20)
/* Largest JSON body after gunzip (a cJSON tree costs ~40x its text). */
#define TFO_SINK_MAX_JSON     (16u << 20)
/* Nesting limit of messages / JSON values; OTLP itself needs about 8. */
#define TFO_SINK_MAX_DEPTH    32
/* Cap on protobuf sub-messages per request: bounds protobuf-c's memory. */
#define TFO_SINK_MAX_MESSAGES (2u << 20)
/* Elements (resources, scopes, metrics, points, records) detailed in body;
 * beyond it counts stay exact and body_truncated is set. */
#define TFO_SINK_MAX_DETAIL   200000u

enum tfo_sink_signal {
	TFO_SINK_METRICS = 0,
	TFO_SINK_LOGS,
	TFO_SINK_HEARTBEAT,
};

enum tfo_sink_format {
	TFO_SINK_PROTOBUF = 0,
	TFO_SINK_JSON,
};

struct tfo_sink_summary {
	enum tfo_sink_signal signal;
	enum tfo_sink_format format;
	int gzip;               /* Content-Encoding was gzip */
	size_t wire_bytes;      /* body length as received */
	size_t decoded_bytes;   /* body length after gunzip */
	uint64_t resources;     /* ResourceMetrics / ResourceLogs entries */
	uint64_t metrics;       /* Metric entries */
	uint64_t points;        /* number data points over all metrics */
	uint64_t records;       /* log records */
	uint64_t fields;        /* heartbeat: keys of systemInfo (or of the root) */
	char host[256];         /* first host.name / heartbeat hostname, "" if none */
	int strict_utf8;        /* TFO_SINK_STRICT_UTF8 was asked for */
	int body_truncated;     /* more than TFO_SINK_MAX_DETAIL elements */
	cJSON *body;            /* normalised content, owned; NULL on error */
	char error[256];        /* why decoding failed, "" on success */
};

/*
 * tfo_sink_decode - decode one request body. content_type and encoding are
 * the raw header values (NULL when absent). Always initialises *out; free it
 * with tfo_sink_summary_fini. Returns TFO_OK, TFO_EINVAL (malformed: 400),
 * TFO_ERANGE (too large: 413), TFO_EPROTO (unsupported media type or
 * encoding: 415) or TFO_ENOMEM (500); out->error says why.
 */
enum tfo_err tfo_sink_decode(enum tfo_sink_signal signal, const char *content_type,
    const char *encoding, const uint8_t *body, size_t len, struct tfo_sink_summary *out);
void tfo_sink_summary_fini(struct tfo_sink_summary *s);

/*
 * tfo_sink_count - tfo_sink_decode for --count-only: same headers, size
 * caps and gunzip, but a protobuf body is only walked (framing checked down
 * to each log record and data point) and counted: out->body stays NULL and
 * the counts are exact for well-formed requests. JSON and heartbeat bodies
 * are decoded in full, as by tfo_sink_decode. Same results and errors.
 */
enum tfo_err tfo_sink_count(enum tfo_sink_signal signal, const char *content_type,
    const char *encoding, const uint8_t *body, size_t len, struct tfo_sink_summary *out);

/*
 * tfo_sink_decode_flags - tfo_sink_decode (flags 0) or tfo_sink_count
 * (TFO_SINK_COUNT_ONLY); TFO_SINK_STRICT_UTF8 also refuses (TFO_EINVAL, 400)
 * a protobuf body with any string field that is not valid UTF-8, as proto3
 * requires and strict decoders (protobuf-go) do, instead of repairing it.
 */
#define TFO_SINK_COUNT_ONLY  1u
#define TFO_SINK_STRICT_UTF8 2u
enum tfo_err tfo_sink_decode_flags(enum tfo_sink_signal signal, const char *content_type,
    const char *encoding, const uint8_t *body, size_t len, struct tfo_sink_summary *out,
    unsigned flags);

/* tfo_sink_media_format - format named by a Content-Type value; -1 if none */
int tfo_sink_media_format(const char *content_type);
/* tfo_sink_http_status - HTTP status for a tfo_sink_decode result */
int tfo_sink_http_status(enum tfo_err e);
const char *tfo_sink_signal_name(enum tfo_sink_signal signal);
/* tfo_sink_json_string - a JSON string of s with invalid UTF-8 as U+FFFD,
 * so that --out lines always parse; NULL when out of memory */
cJSON *tfo_sink_json_string(const char *s);

#endif
