/*
 * hbsend.h - POST one heartbeat body with libcurl (the exporter's multi
 * handle on its event_base, curlloop.c), retrying 429/5xx/connection errors
 * with backoff inside the beat's deadline (tfo-exporter's relay, hbrelay.c). The
 * body is built by tfo-heartbeat; the outcome of each beat goes back to it.
 */
#ifndef TFO_EXP_HBSEND_H
#define TFO_EXP_HBSEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/err.h"
#include "workers/exporter/curlloop.h"

/* TLS: a PEM in memory (read as root by the worker) wins over a file path. */
struct hb_tls {
	const char *ca_file, *cert_file, *key_file, *min_version;   /* NULL/"" = unset */
	const char *ca_pem, *cert_pem, *key_pem;
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	bool insecure_skip_verify;
};

struct hb_sender_cfg {
	const char *endpoint;        /* API base URL, e.g. https://api.example/api/v1 */
	const char *agent_id;
	const char *key_id, *key_secret;
	const char *version;         /* User-Agent tfo-agent/<version>, X-Agent-Version */
	uint32_t timeout_ms;         /* one beat, every retry included */
	uint32_t backoff_ms;         /* first retry delay; 0 = 500 ms */
	struct hb_tls tls;
	/* the exporter's libcurl loop, shared with the OTLP transport (one
	 * connection cache: a beat to the OTLP endpoint's host rides on its
	 * connection); NULL = one of its own on the base. Must outlive the sender */
	struct tfo_exp_curlloop *loop;
};

/* The outcome of one beat. */
struct hb_result {
	bool ok;                     /* 2xx */
	bool auth;                   /* 401/403: credentials refused, not retried */
	bool gave_up;                /* retryable failures until the deadline */
	long status;                 /* HTTP status of the last attempt, 0 = no response */
	unsigned attempts;
	double latency_ms;           /* of the last attempt that got a response */
	char error[128];             /* "" when ok; never holds a secret */
};

enum hb_verdict {
	HB_V_OK,      /* 2xx */
	HB_V_RETRY,   /* 429, 5xx, connection error, timeout */
	HB_V_AUTH,    /* 401, 403: credentials; no retry */
	HB_V_FATAL,   /* other 4xx, redirects, local errors: no retry */
};

/* hb_classify - what to do with one attempt's result (pure; unit-tested) */
enum hb_verdict hb_classify(CURLcode cc, long status);
/* hb_backoff_ms - delay before retry number n (0-based): base * 2^n, capped */
uint32_t hb_backoff_ms(uint32_t base, unsigned n, long retry_after_s);

typedef void (*hb_done_fn)(void *arg, const struct hb_result *r);

struct hb_sender;

/* hb_sender_new - needs curl_global_init() done; NULL on failure */
struct hb_sender *hb_sender_new(struct event_base *base, const struct hb_sender_cfg *cfg);
void hb_sender_free(struct hb_sender *s);
/*
 * hb_sender_post - send body (len bytes, taken over and free()d by the
 * sender) with no attempt starting after the monotonic deadline_ns (0 = now
 * + timeout_ms; never later than that). TFO_EAGAIN while the previous beat
 * is in flight (body is then freed too). done is called once per TFO_OK.
 */
enum tfo_err hb_sender_post(struct hb_sender *s, char *body, size_t len, uint64_t deadline_ns,
    hb_done_fn done, void *arg);
/* hb_sender_cancel - drop the beat in flight without calling its done */
void hb_sender_cancel(struct hb_sender *s);
bool hb_sender_busy(const struct hb_sender *s);

#endif
