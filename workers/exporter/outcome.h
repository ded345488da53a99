/*
 * outcome.h - what tfo-exporter makes of one finished request (OTLP spec
 * outcomes: success, retryable, permanent) and the retry backoff.
 */
#ifndef TFO_EXP_OUTCOME_H
#define TFO_EXP_OUTCOME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "workers/exporter/wire.h"

/* How the request ended below HTTP (from the curl result). */
enum tfo_exp_neterr {
	TFO_EXP_NET_OK = 0,
	TFO_EXP_NET_CONNECT,      /* refused, unresolvable, TLS handshake/verify: fail over */
	TFO_EXP_NET_TIMEOUT,      /* no full answer within timeout_ms */
	TFO_EXP_NET_OTHER,        /* reset mid-stream, HTTP/2 framing, ... */
};

/* The raw response, collected by the transport; bounded copies of headers. */
struct tfo_exp_response {
	enum tfo_exp_neterr net;
	char net_detail[256];           /* curl's error text */
	long http_status;
	int http_version;               /* 2 for HTTP/2 */
	char grpc_status[8];            /* empty when absent */
	char grpc_message[TFO_EXP_MSG_MAX];
	char grpc_details[8192];        /* grpc-status-details-bin (base64) */
	char retry_after[64];
	char content_type[64];
	int truncated;                  /* a header or body exceeded its bound */
	struct tfo_exp_buf body;        /* at most TFO_EXP_RESP_MAX bytes */
};

void tfo_exp_response_reset(struct tfo_exp_response *r);

/*
 * tfo_exp_response_header - feed one header/trailer line ("name: value\r\n");
 * only the names above are kept, values truncated to their bound.
 */
void tfo_exp_response_header(struct tfo_exp_response *r, const char *line, size_t len);

enum tfo_exp_class {
	TFO_EXP_SUCCESS = 0,            /* ack (possibly partial) */
	TFO_EXP_RETRY,                  /* nack, retry later */
	TFO_EXP_DROP,                   /* permanent: ack and drop */
};

enum tfo_exp_reason {                   /* why a batch was dropped */
	TFO_EXP_R_INVALID = 0,          /* 400, INVALID_ARGUMENT */
	TFO_EXP_R_AUTH,                 /* 401/403, UNAUTHENTICATED/PERMISSION_DENIED */
	TFO_EXP_R_NOT_FOUND,            /* 404, NOT_FOUND, UNIMPLEMENTED */
	TFO_EXP_R_TOO_LARGE,            /* 413 */
	TFO_EXP_R_EXHAUSTED,            /* RESOURCE_EXHAUSTED without RetryInfo */
	TFO_EXP_R_OTHER,                /* any other permanent code */
	TFO_EXP_R_COUNT,
};

const char *tfo_exp_reason_name(enum tfo_exp_reason r);

struct tfo_exp_outcome {
	enum tfo_exp_class cls;
	enum tfo_exp_reason reason;     /* with TFO_EXP_DROP */
	int has_delay;                  /* server said when to retry */
	uint32_t delay_ms;
	int64_t rejected;               /* partial_success */
	int malformed;                  /* success, but the response did not decode */
	int grpc_code;                  /* -1 when none */
	long http_status;
	char message[TFO_EXP_MSG_MAX];  /* server's (cleaned) message or net error */
};

/* gRPC status codes (grpc/status.h) */
enum {
	GRPC_OK = 0, GRPC_CANCELLED = 1, GRPC_UNKNOWN = 2, GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4, GRPC_NOT_FOUND = 5, GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7, GRPC_RESOURCE_EXHAUSTED = 8, GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10, GRPC_OUT_OF_RANGE = 11, GRPC_UNIMPLEMENTED = 12, GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14, GRPC_DATA_LOSS = 15, GRPC_UNAUTHENTICATED = 16,
};

/* tfo_exp_classify_grpc_code - class/reason of a gRPC status (has_retryinfo for code 8) */
enum tfo_exp_class tfo_exp_classify_grpc_code(int code, int has_retryinfo, enum tfo_exp_reason *reason);
/* tfo_exp_classify_http_status - class/reason of an OTLP/HTTP status code */
enum tfo_exp_class tfo_exp_classify_http_status(long status, enum tfo_exp_reason *reason);

/* tfo_exp_classify - the outcome of one response; now for HTTP-date Retry-After */
void tfo_exp_classify(const struct tfo_exp_response *r, int grpc, int is_logs, time_t now,
    struct tfo_exp_outcome *out);

/* Exponential backoff with full jitter, capped at max. */
struct tfo_exp_backoff {
	uint32_t initial_ms;
	uint32_t max_ms;
	double multiplier;
	uint32_t attempt;               /* consecutive failures so far */
	uint64_t rng;
};

void tfo_exp_backoff_init(struct tfo_exp_backoff *b, uint32_t initial_ms, uint32_t max_ms,
    double multiplier, uint64_t seed);
/*
 * tfo_exp_backoff_next - the next delay: uniform in [0, cap] where
 * cap = min(max, initial * multiplier^attempt) (attempt = failures so far);
 * attempt then grows.
 */
uint32_t tfo_exp_backoff_next(struct tfo_exp_backoff *b);
/* tfo_exp_backoff_cap - the cap the next delay is drawn under */
uint32_t tfo_exp_backoff_cap(const struct tfo_exp_backoff *b);
void tfo_exp_backoff_reset(struct tfo_exp_backoff *b);

/* tfo_exp_rand - xorshift64 step (jitter, not secrets); a zero state is reseeded */
uint64_t tfo_exp_rand(uint64_t *s);

#endif
