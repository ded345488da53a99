/*
 * sender.h - POST one heartbeat body with libcurl (multi interface on the
 * worker's libevent loop), retrying 429/5xx/connection errors with backoff
 * inside the beat's timeout; stats for the supervisor (tfo-heartbeat).
 */
#ifndef TFO_HB_SENDER_H
#define TFO_HB_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/err.h"

struct hb_tls {
	const char *ca_file, *cert_file, *key_file, *min_version;   /* NULL/"" = unset */
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
};

struct hb_stats {
	uint64_t sent, failed, retries, auth_failures;
	long last_status;            /* HTTP status of the last attempt, 0 = no response */
	int64_t last_success;        /* unix seconds, 0 = never */
	double last_latency_ms;      /* of the last attempt that got a response */
	char last_error[128];
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

/* done: ok = the beat was accepted (2xx) */
typedef void (*hb_done_fn)(void *arg, bool ok);

struct hb_sender;

/* hb_sender_new - needs curl_global_init() done; NULL on failure */
struct hb_sender *hb_sender_new(struct event_base *base, const struct hb_sender_cfg *cfg);
void hb_sender_free(struct hb_sender *s);
/* hb_sender_post - send body (taken over, free()d by the sender); TFO_EAGAIN
 * while the previous beat is still in flight (body is then freed too). */
enum tfo_err hb_sender_post(struct hb_sender *s, char *body, hb_done_fn done, void *arg);
bool hb_sender_busy(const struct hb_sender *s);
const struct hb_stats *hb_sender_stats(const struct hb_sender *s);

#endif
