/*
 * hbsend.c - heartbeat HTTP POST on tfo-exporter's libcurl loop (curlloop.c,
 * shared with the OTLP transport). One beat in flight at a time; a
 * beat is a snapshot, so after its deadline it is dropped, never buffered.
 * What the beat came to is reported to the caller (tfo-heartbeat keeps the
 * stats and logs the API's state); secrets are never logged.
 */
#include "workers/exporter/hbsend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/clock.h"
#include "workers/exporter/tlsinit.h"

#define BACKOFF_CAP_MS 5000u
#define RESPONSE_MAX 65536u
#define DEFAULT_TIMEOUT_MS 10000u

struct hb_sender {
	struct tfo_exp_xfer x;           /* first: curlloop hands it back */
	struct tfo_exp_curlloop *loop;
	bool own_loop;
	CURL *easy;
	struct curl_slist *headers;
	struct event *retry_timer;
	char url[2048];
	struct hb_sender_cfg cfg;
	/* the beat in flight */
	char *body;
	hb_done_fn done;
	void *arg;
	uint64_t deadline_ns, attempt_ns;
	bool busy, in_multi;
	size_t response_seen;
	struct hb_result res;
};

enum hb_verdict
hb_classify(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HB_V_RETRY;
	default:
		return HB_V_FATAL;   /* bad URL, TLS verification, out of memory... */
	}
	if (status >= 200 && status < 300)
		return HB_V_OK;
	if (status == 401 || status == 403)
		return HB_V_AUTH;
	if (status == 429 || (status >= 500 && status < 600))
		return HB_V_RETRY;
	return HB_V_FATAL;
}

uint32_t
hb_backoff_ms(uint32_t base, unsigned n, long retry_after_s)
{
	uint64_t d = base ? base : 500u;

	for (unsigned i = 0; i < n && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000u > d)
		d = (uint64_t)retry_after_s * 1000u;   /* the server knows best; the deadline still caps */
	return (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d);
}

/* ---------------------------------------------------------------- one beat */

static size_t
discard_cb(char *p, size_t sz, size_t n, void *userp)
{
	size_t *seen = userp;

	(void)p;
	*seen += sz * n;
	return *seen > RESPONSE_MAX ? 0 : sz * n;   /* a heartbeat reply is small */
}

static void
finish(struct hb_sender *s)
{
	hb_done_fn done = s->done;
	void *arg = s->arg;
	struct hb_result r = s->res;

	free(s->body);
	s->body = NULL;
	s->busy = false;
	if (done != NULL)
		done(arg, &r);
}

static void
start_attempt(struct hb_sender *s)
{
	uint64_t now = tfo_mono_ns();
	long left_ms = now >= s->deadline_ns ? 1 : (long)((s->deadline_ns - now) / 1000000u);

	s->response_seen = 0;
	s->attempt_ns = now;
	s->res.attempts++;
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, left_ms > 0 ? left_ms : 1L);
	if (tfo_exp_curlloop_add(s->loop, s->easy, &s->x) != CURLM_OK) {
		snprintf(s->res.error, sizeof(s->res.error), "curl_multi_add_handle failed");
		finish(s);
		return;
	}
	s->in_multi = true;
}

static void
retry_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_attempt(arg);
}

/* attempt_done - decide: success, retry after backoff, or give up this beat */
static void
attempt_done(struct hb_sender *s, CURLcode cc)
{
	long status = 0, retry_after = 0;
	curl_off_t ra = 0;
	enum hb_verdict v;
	uint64_t now = tfo_mono_ns();
	uint32_t delay;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		retry_after = ra > 3600 ? 3600 : (long)ra;
	s->res.status = status;
	if (status != 0)
		s->res.latency_ms = (double)(now - s->attempt_ns) / 1e6;
	v = hb_classify(cc, status);
	s->res.error[0] = '\0';
	if (cc != CURLE_OK)
		snprintf(s->res.error, sizeof(s->res.error), "%s", curl_easy_strerror(cc));
	else if (v != HB_V_OK)
		snprintf(s->res.error, sizeof(s->res.error), "HTTP %ld", status);
	if (v != HB_V_RETRY) {
		s->res.ok = v == HB_V_OK;
		s->res.auth = v == HB_V_AUTH;
		finish(s);
		return;
	}
	delay = hb_backoff_ms(s->cfg.backoff_ms, s->res.attempts - 1, retry_after);
	if (now + (uint64_t)delay * 1000000u >= s->deadline_ns) {
		s->res.gave_up = true;
		finish(s);
		return;
	}
	log_debug("heartbeat: %s, retry in %u ms", s->res.error, delay);
	{
		struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };
		evtimer_add(s->retry_timer, &tv);
	}
}

/* xfer_done - curlloop: the attempt ended (the handle is out of the multi) */
static void
xfer_done(struct tfo_exp_xfer *x, CURL *e, CURLcode rc)
{
	struct hb_sender *s = (struct hb_sender *)x;

	(void)e;
	s->in_multi = false;
	attempt_done(s, rc);
}

enum tfo_err
hb_sender_post(struct hb_sender *s, char *body, size_t len, uint64_t deadline_ns,
    hb_done_fn done, void *arg)
{
	uint64_t cap = tfo_mono_ns() + (uint64_t)(s->cfg.timeout_ms ? s->cfg.timeout_ms :
	    DEFAULT_TIMEOUT_MS) * 1000000u;

	if (s->busy) {
		free(body);
		return TFO_EAGAIN;
	}
	s->busy = true;
	s->body = body;
	s->done = done;
	s->arg = arg;
	memset(&s->res, 0, sizeof(s->res));
	s->deadline_ns = deadline_ns != 0 && deadline_ns < cap ? deadline_ns : cap;
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	start_attempt(s);
	return TFO_OK;
}

void
hb_sender_cancel(struct hb_sender *s)
{
	if (!s->busy)
		return;
	if (s->in_multi)
		tfo_exp_curlloop_remove(s->loop, s->easy);
	s->in_multi = false;
	evtimer_del(s->retry_timer);
	free(s->body);
	s->body = NULL;
	s->busy = false;
}

/* ---------------------------------------------------------------- setup */

static bool
set(CURLcode rc)
{
	return rc == CURLE_OK;
}

static bool
set_pem(CURL *e, CURLoption blob_opt, CURLoption file_opt, const char *pem, size_t len,
    const char *file)
{
	if (pem != NULL && len > 0) {
		struct curl_blob b = { (void *)(uintptr_t)pem, len, CURL_BLOB_NOCOPY };
		return set(curl_easy_setopt(e, blob_opt, &b));
	}
	if (file != NULL && file[0] != '\0')
		return set(curl_easy_setopt(e, file_opt, file));
	return true;
}

static bool
set_tls(CURL *e, const struct hb_tls *t)
{
	bool ok = set_pem(e, CURLOPT_CAINFO_BLOB, CURLOPT_CAINFO, t->ca_pem, t->ca_pem_len,
	    t->ca_file) &&
	    set_pem(e, CURLOPT_SSLCERT_BLOB, CURLOPT_SSLCERT, t->cert_pem, t->cert_pem_len,
	    t->cert_file) &&
	    set_pem(e, CURLOPT_SSLKEY_BLOB, CURLOPT_SSLKEY, t->key_pem, t->key_pem_len,
	    t->key_file);

	if (t->insecure_skip_verify) {
		ok = ok && set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L)) &&
		     set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L));
	}
	ok = ok && set(curl_easy_setopt(e, CURLOPT_SSLVERSION,
		       t->min_version != NULL && strcmp(t->min_version, "1.3") == 0
		       ? (long)CURL_SSLVERSION_TLSv1_3 : (long)CURL_SSLVERSION_TLSv1_2));
	return ok;
}

/* add_header - "Name: value"; false on overflow or ENOMEM */
static bool
add_header(struct curl_slist **l, const char *name, const char *value)
{
	char line[1024];
	struct curl_slist *n;

	if (snprintf(line, sizeof(line), "%s: %s", name, value ? value : "") >= (int)sizeof(line))
		return false;
	if ((n = curl_slist_append(*l, line)) == NULL)
		return false;
	*l = n;
	explicit_bzero(line, sizeof(line));   /* may hold the secret */
	return true;
}

static bool
setup_easy(struct hb_sender *s)
{
	char ua[128];
	CURL *e = s->easy;

	snprintf(ua, sizeof(ua), "tfo-agent/%s", s->cfg.version);
	if (!add_header(&s->headers, "Content-Type", "application/json") ||
	    !add_header(&s->headers, "X-API-Key-ID", s->cfg.key_id) ||
	    !add_header(&s->headers, "X-API-Key-Secret", s->cfg.key_secret) ||
	    !add_header(&s->headers, "X-Agent-Version", s->cfg.version) ||
	    !add_header(&s->headers, "Expect", ""))
		return false;
	return set(curl_easy_setopt(e, CURLOPT_URL, s->url)) &&
	       set(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")) &&
	       set(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) &&
	       set(curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L)) &&
	       set(curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers)) &&
	       set(curl_easy_setopt(e, CURLOPT_USERAGENT, ua)) &&
	       set(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb)) &&
	       set(curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->response_seen)) &&
	       set_tls(e, &s->cfg.tls) && set(tfo_exp_tls_lean_set(e));
}

struct hb_sender *
hb_sender_new(struct event_base *base, const struct hb_sender_cfg *cfg)
{
	struct hb_sender *s = calloc(1, sizeof(*s));
	size_t n;
	int len;

	if (s == NULL)
		return NULL;
	s->x.done = xfer_done;
	s->cfg = *cfg;
	s->cfg.loop = NULL;
	n = strlen(cfg->endpoint);
	while (n > 0 && cfg->endpoint[n - 1] == '/')
		n--;
	len = snprintf(s->url, sizeof(s->url), "%.*s/agents/%s/heartbeat", (int)n, cfg->endpoint,
		       cfg->agent_id);
	if ((s->loop = cfg->loop) == NULL) {
		s->own_loop = true;
		s->loop = tfo_exp_curlloop_new(base);
	}
	s->easy = curl_easy_init();
	s->retry_timer = evtimer_new(base, retry_ev, s);
	if (len < 0 || (size_t)len >= sizeof(s->url) || n == 0 || s->loop == NULL ||
	    s->easy == NULL || s->retry_timer == NULL || !setup_easy(s)) {
		hb_sender_free(s);
		return NULL;
	}
	return s;
}

void
hb_sender_free(struct hb_sender *s)
{
	if (s == NULL)
		return;
	if (s->loop != NULL && s->easy != NULL && s->in_multi)
		tfo_exp_curlloop_remove(s->loop, s->easy);
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	if (s->own_loop)
		tfo_exp_curlloop_free(s->loop);   /* closes sockets: their events go */
	if (s->retry_timer != NULL)
		event_free(s->retry_timer);
	curl_slist_free_all(s->headers);   /* the secret header goes with it */
	free(s->body);
	free(s);
}

bool
hb_sender_busy(const struct hb_sender *s)
{
	return s->busy;
}
