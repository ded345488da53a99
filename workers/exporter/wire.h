/*
 * wire.h - byte-level OTLP work of tfo-exporter: request bodies built by
 * concatenating stored entries, gRPC framing, gzip, and the hostile parsers
 * for what an endpoint sends back (responses, trailers, Retry-After).
 */
#ifndef TFO_EXP_WIRE_H
#define TFO_EXP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define TFO_EXP_GRPC_HDR 5                  /* compressed flag + BE length */
#define TFO_EXP_RESP_MAX (64 * 1024)        /* response bytes we keep/inflate */
#define TFO_EXP_MSG_MAX 1024                /* server message kept for logs */
#define TFO_EXP_RETRY_CAP_MS (15u * 60 * 1000) /* server hints above this are capped */

/* A growable byte buffer: the body of one request. */
struct tfo_exp_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void tfo_exp_buf_fini(struct tfo_exp_buf *b);

/*
 * tfo_exp_body_build - encode an Export(Metrics or Logs)ServiceRequest from
 * stored ResourceMetrics/ResourceLogs bytes: each entry as field 1 (tag 0x0a,
 * varint length, bytes). raw is NULL or, per entry, 0 (as it is) or the size
 * its LZ4 block inflates to (common/payload.h); an entry that does not
 * inflate is left out and counted in *bad. With grpc, the result carries the
 * 5-byte gRPC prefix; with gzip the message (or, for gRPC, the framed
 * payload) is gzip'ed and the compressed flag set. out is (re)initialised.
 */
enum tfo_err tfo_exp_body_build(struct tfo_exp_buf *out, const uint8_t *const *entries,
    const size_t *lens, const uint32_t *raw, size_t n, int grpc, int gzip, size_t *bad);

/* tfo_exp_gzip_window - zlib's window bits (9-15) and memLevel (5-6) for a
 * body of len bytes: the smallest window every match of the body fits in. */
void tfo_exp_gzip_window(size_t len, int *wbits, int *memlevel);

/* tfo_exp_gzip_state_last - bytes of deflate state the last tfo_exp_gzip
 * allocated (tests: what a request allocates, zeroes and faults in) */
size_t tfo_exp_gzip_state_last(void);

/* tfo_exp_gzip - gzip src into out (appended). */
enum tfo_err tfo_exp_gzip(struct tfo_exp_buf *out, const uint8_t *src, size_t len);

/* tfo_exp_gunzip - inflate gzip/zlib src into out, refusing more than max bytes. */
enum tfo_err tfo_exp_gunzip(struct tfo_exp_buf *out, const uint8_t *src, size_t len, size_t max);

/*
 * tfo_exp_grpc_unframe - the single message of a gRPC response body. Sets
 * *msg and *msglen (pointing into body, or into scratch when compressed and
 * inflated). Empty body -> TFO_ENOENT; truncated or trailing junk -> TFO_EPROTO.
 */
enum tfo_err tfo_exp_grpc_unframe(const uint8_t *body, size_t len, struct tfo_exp_buf *scratch,
    const uint8_t **msg, size_t *msglen);

/* Decoded partial_success of an export response. */
struct tfo_exp_partial {
	int64_t rejected;                 /* rejected data points / log records */
	char message[TFO_EXP_MSG_MAX];
};

/*
 * tfo_exp_partial_parse - decode an Export(Metrics or Logs)ServiceResponse (logs when
 * is_logs). An empty message is a full success (rejected 0). Garbage ->
 * TFO_EPROTO. Negative rejected counts are clamped to 0.
 */
enum tfo_err tfo_exp_partial_parse(const uint8_t *msg, size_t len, int is_logs,
    struct tfo_exp_partial *out);

/* tfo_exp_base64_decode - standard or URL alphabet, padding optional. */
enum tfo_err tfo_exp_base64_decode(const char *s, size_t len, struct tfo_exp_buf *out);

/*
 * tfo_exp_retryinfo_parse - google.rpc.Status from grpc-status-details-bin
 * (base64); *delay_ms = RetryInfo.retry_delay, capped at
 * TFO_EXP_RETRY_CAP_MS. TFO_ENOENT when there is no (valid, non-negative)
 * RetryInfo; TFO_EPROTO on garbage.
 */
enum tfo_err tfo_exp_retryinfo_parse(const char *b64, size_t len, uint32_t *delay_ms);

/*
 * tfo_exp_retry_after_parse - HTTP Retry-After: delta-seconds or an
 * IMF-fixdate, relative to now. Result capped at TFO_EXP_RETRY_CAP_MS; a date
 * in the past gives 0. Garbage, negative -> TFO_EINVAL.
 */
enum tfo_err tfo_exp_retry_after_parse(const char *v, size_t len, time_t now, uint32_t *delay_ms);

/* tfo_exp_grpc_status_parse - "0".."16" (others accepted up to 999); garbage -> TFO_EINVAL */
enum tfo_err tfo_exp_grpc_status_parse(const char *v, size_t len, int *code);

/*
 * tfo_exp_text_clean - copy a server-supplied string for logging: percent-
 * decoded when pct (grpc-message), control bytes replaced, truncated to dstsz.
 */
void tfo_exp_text_clean(char *dst, size_t dstsz, const char *src, size_t len, int pct);

/*
 * tfo_exp_endpoint_parse - normalise a configured endpoint ("host",
 * "host:port", "[v6]:port", "http(s)://host[:port][/path]") into a URL base
 * without a trailing '/': no scheme -> https when tls else http; no port and
 * no scheme -> the OTLP default (4317 gRPC, 4318 HTTP); a scheme without port
 * -> 443/80. *port is the TCP port (for the sandbox). Garbage -> TFO_EINVAL.
 */
enum tfo_err tfo_exp_endpoint_parse(const char *ep, int grpc, int tls, char *url, size_t urlsz,
    uint16_t *port);

#endif
