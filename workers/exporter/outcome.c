/*
 * outcome.c - classification of finished requests per the OTLP specification
 * (gRPC codes, HTTP statuses, server retry hints) and the retry backoff.
 * Runs inside tfo-exporter; pure functions, unit-tested as a table.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "google/rpc/status.pb-c.h"
#include "workers/exporter/outcome.h"

#define DEF_INITIAL_MS 5000u
#define DEF_MAX_MS 30000u
#define DEF_MULT 1.5

static const char *const reason_names[TFO_EXP_R_COUNT] = {
	[TFO_EXP_R_INVALID] = "invalid",
	[TFO_EXP_R_AUTH] = "auth",
	[TFO_EXP_R_NOT_FOUND] = "not_found",
	[TFO_EXP_R_TOO_LARGE] = "too_large",
	[TFO_EXP_R_EXHAUSTED] = "resource_exhausted",
	[TFO_EXP_R_OTHER] = "other",
};

const char *
tfo_exp_reason_name(enum tfo_exp_reason r)
{
	return (unsigned)r < TFO_EXP_R_COUNT ? reason_names[r] : "?";
}

void
tfo_exp_response_reset(struct tfo_exp_response *r)
{
	struct tfo_exp_buf body = r->body;

	memset(r, 0, sizeof(*r));
	body.len = 0;
	r->body = body;
}

/* keep - store a header value into a fixed field, noting truncation */
static void
keep(struct tfo_exp_response *r, char *dst, size_t dstsz, const char *v, size_t len)
{
	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len >= dstsz) {
		len = dstsz - 1;
		r->truncated = 1;
	}
	memcpy(dst, v, len);
	dst[len] = '\0';
}

void
tfo_exp_response_header(struct tfo_exp_response *r, const char *line, size_t len)
{
	static const struct { const char *name; size_t off, size; } fields[] = {
		{ "grpc-status", offsetof(struct tfo_exp_response, grpc_status), 8 },
		{ "grpc-message", offsetof(struct tfo_exp_response, grpc_message), TFO_EXP_MSG_MAX },
		{ "grpc-status-details-bin", offsetof(struct tfo_exp_response, grpc_details), 8192 },
		{ "retry-after", offsetof(struct tfo_exp_response, retry_after), 64 },
		{ "content-type", offsetof(struct tfo_exp_response, content_type), 64 },
	};
	const char *colon = memchr(line, ':', len);
	size_t nlen;

	if (colon == NULL)
		return;         /* status line or blank line */
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) == nlen && strncasecmp(line, fields[i].name, nlen) == 0) {
			keep(r, (char *)r + fields[i].off, fields[i].size, colon + 1,
			    len - nlen - 1);
			return;
		}
	}
}

enum tfo_exp_class
tfo_exp_classify_grpc_code(int code, int has_retryinfo, enum tfo_exp_reason *reason)
{
	*reason = TFO_EXP_R_OTHER;
	switch (code) {
	case GRPC_OK:
		return TFO_EXP_SUCCESS;
	case GRPC_CANCELLED:
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_ABORTED:
	case GRPC_OUT_OF_RANGE:
	case GRPC_UNAVAILABLE:
	case GRPC_DATA_LOSS:
		return TFO_EXP_RETRY;
	case GRPC_RESOURCE_EXHAUSTED:
		/* OTLP: retryable only when the server says it can recover */
		*reason = TFO_EXP_R_EXHAUSTED;
		return has_retryinfo ? TFO_EXP_RETRY : TFO_EXP_DROP;
	case GRPC_INVALID_ARGUMENT:
		*reason = TFO_EXP_R_INVALID;
		return TFO_EXP_DROP;
	case GRPC_UNAUTHENTICATED:
	case GRPC_PERMISSION_DENIED:
		*reason = TFO_EXP_R_AUTH;
		return TFO_EXP_DROP;
	case GRPC_NOT_FOUND:
	case GRPC_UNIMPLEMENTED:
		*reason = TFO_EXP_R_NOT_FOUND;
		return TFO_EXP_DROP;
	default:
		return TFO_EXP_DROP;
	}
}

enum tfo_exp_class
tfo_exp_classify_http_status(long status, enum tfo_exp_reason *reason)
{
	*reason = TFO_EXP_R_OTHER;
	if (status >= 200 && status < 300)
		return TFO_EXP_SUCCESS;
	switch (status) {
	case 429:
	case 502:
	case 503:
	case 504:
		return TFO_EXP_RETRY;
	case 400:
		*reason = TFO_EXP_R_INVALID;
		return TFO_EXP_DROP;
	case 401:
	case 403:
		*reason = TFO_EXP_R_AUTH;
		return TFO_EXP_DROP;
	case 404:
		*reason = TFO_EXP_R_NOT_FOUND;
		return TFO_EXP_DROP;
	case 413:
		*reason = TFO_EXP_R_TOO_LARGE;
		return TFO_EXP_DROP;
	default:
		/* OTLP/HTTP: every other 4xx/5xx is not retried (redirects are not followed) */
		return TFO_EXP_DROP;
	}
}

/* grpc_code_of_http - gRPC's HTTP-to-status mapping when a reply has no grpc-status */
static int
grpc_code_of_http(long status)
{
	switch (status) {
	case 400: return GRPC_INTERNAL;
	case 401: return GRPC_UNAUTHENTICATED;
	case 403: return GRPC_PERMISSION_DENIED;
	case 404: return GRPC_UNIMPLEMENTED;
	case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE;
	default: return GRPC_UNKNOWN;
	}
}

/* body_message - the message of an OTLP/HTTP error body: google.rpc.Status, else text */
static void
body_message(const struct tfo_exp_response *r, char *dst, size_t dstsz)
{
	Google__Rpc__Status *st;

	dst[0] = '\0';
	if (r->body.len == 0)
		return;
	if (strncasecmp(r->content_type, "application/x-protobuf", 22) == 0) {
		st = google__rpc__status__unpack(NULL, r->body.len, r->body.data);
		if (st != NULL) {
			if (st->message)
				tfo_exp_text_clean(dst, dstsz, st->message, strlen(st->message), 0);
			google__rpc__status__free_unpacked(st, NULL);
			return;
		}
	}
	tfo_exp_text_clean(dst, dstsz, (const char *)r->body.data, r->body.len, 0);
}

/* success_body - decode partial_success of a successful reply */
static void
success_body(const struct tfo_exp_response *r, int grpc, int is_logs, struct tfo_exp_outcome *out)
{
	struct tfo_exp_buf scratch = { 0 };
	struct tfo_exp_partial ps;
	const uint8_t *msg = r->body.data;
	size_t len = r->body.len;
	enum tfo_err e = TFO_OK;

	if (r->truncated)
		e = TFO_ERANGE;
	else if (grpc)
		e = tfo_exp_grpc_unframe(r->body.data, r->body.len, &scratch, &msg, &len);
	if (e == TFO_ENOENT)
		len = 0, e = TFO_OK;     /* trailers-only OK: nothing rejected */
	if (e == TFO_OK)
		e = tfo_exp_partial_parse(msg, len, is_logs, &ps);
	if (e == TFO_OK) {
		out->rejected = ps.rejected;
		memcpy(out->message, ps.message, sizeof(out->message));
	} else {
		out->malformed = 1;      /* the endpoint accepted the data: still ack */
	}
	tfo_exp_buf_fini(&scratch);
}

static void
classify_grpc(const struct tfo_exp_response *r, int is_logs, struct tfo_exp_outcome *out)
{
	uint32_t delay = 0;
	int has_ri = 0, code;

	if (r->grpc_status[0] == '\0') {
		if (r->http_status == 200) {
			/* a 200 without grpc-status: a proxy cut the stream; keep the data */
			out->grpc_code = GRPC_UNKNOWN;
			out->cls = TFO_EXP_RETRY;
			snprintf(out->message, sizeof(out->message), "reply without grpc-status");
			return;
		}
		code = grpc_code_of_http(r->http_status);
	} else if (tfo_exp_grpc_status_parse(r->grpc_status, strlen(r->grpc_status), &code) != TFO_OK) {
		code = GRPC_UNKNOWN;
	}
	out->grpc_code = code;
	if (r->grpc_details[0] != '\0' &&
	    tfo_exp_retryinfo_parse(r->grpc_details, strlen(r->grpc_details), &delay) == TFO_OK)
		has_ri = 1;
	out->cls = tfo_exp_classify_grpc_code(code, has_ri, &out->reason);
	if (out->cls == TFO_EXP_SUCCESS) {
		success_body(r, 1, is_logs, out);
		return;
	}
	tfo_exp_text_clean(out->message, sizeof(out->message), r->grpc_message,
	    strlen(r->grpc_message), 1);
	if (out->cls == TFO_EXP_RETRY && has_ri) {
		out->has_delay = 1;
		out->delay_ms = delay;
	}
}

static void
classify_http(const struct tfo_exp_response *r, int is_logs, time_t now, struct tfo_exp_outcome *out)
{
	uint32_t delay;

	out->cls = tfo_exp_classify_http_status(r->http_status, &out->reason);
	if (out->cls == TFO_EXP_SUCCESS) {
		success_body(r, 0, is_logs, out);
		return;
	}
	body_message(r, out->message, sizeof(out->message));
	if (out->cls == TFO_EXP_RETRY && r->retry_after[0] != '\0' &&
	    tfo_exp_retry_after_parse(r->retry_after, strlen(r->retry_after), now, &delay) == TFO_OK) {
		out->has_delay = 1;
		out->delay_ms = delay;
	}
}

void
tfo_exp_classify(const struct tfo_exp_response *r, int grpc, int is_logs, time_t now,
    struct tfo_exp_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->grpc_code = -1;
	out->http_status = r->http_status;
	if (r->net != TFO_EXP_NET_OK) {
		out->cls = TFO_EXP_RETRY;
		tfo_exp_text_clean(out->message, sizeof(out->message), r->net_detail,
		    strlen(r->net_detail), 0);
		return;
	}
	if (grpc)
		classify_grpc(r, is_logs, out);
	else
		classify_http(r, is_logs, now, out);
}

void
tfo_exp_backoff_init(struct tfo_exp_backoff *b, uint32_t initial_ms, uint32_t max_ms,
    double multiplier, uint64_t seed)
{
	b->initial_ms = initial_ms ? initial_ms : DEF_INITIAL_MS;
	b->max_ms = max_ms ? max_ms : DEF_MAX_MS;
	if (b->max_ms < b->initial_ms)
		b->max_ms = b->initial_ms;
	/* NaN, < 1 or absurd multipliers fall back to the default */
	b->multiplier = (multiplier >= 1.0 && multiplier <= 100.0) ? multiplier : DEF_MULT;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t
tfo_exp_rand(uint64_t *s)
{
	if (*s == 0)            /* xorshift's one fixed point */
		*s = 0x9e3779b97f4a7c15ull;
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

uint32_t
tfo_exp_backoff_cap(const struct tfo_exp_backoff *b)
{
	double cap = b->initial_ms;

	for (uint32_t i = 0; i < b->attempt && i < 64 && cap < b->max_ms; i++)
		cap *= b->multiplier;
	return cap > b->max_ms ? b->max_ms : (uint32_t)cap;
}

/*
 * Full jitter (uniform from 0, not from initial): agents that failed
 * together retry spread over the whole window instead of in a band at its
 * top, and every wait stays within max_ms, so once the endpoint is back no
 * agent waits longer than that (docs/exporter.md, Fleet).
 */
uint32_t
tfo_exp_backoff_next(struct tfo_exp_backoff *b)
{
	uint32_t cap = tfo_exp_backoff_cap(b);

	if (b->attempt < UINT32_MAX)
		b->attempt++;
	return (uint32_t)(tfo_exp_rand(&b->rng) % ((uint64_t)cap + 1));
}

void
tfo_exp_backoff_reset(struct tfo_exp_backoff *b)
{
	b->attempt = 0;
}
