/*
 * transport.c - OTLP requests on tfo-exporter's libcurl loop (curlloop.c),
 * HTTP/2 for gRPC, TLS options, fixed request headers and endpoint failover.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "workers/exporter/tlsinit.h"
#include "workers/exporter/transport.h"

#define DEF_TIMEOUT_MS 10000u
#define DEF_FAILBACK_MS (5u * 60 * 1000)
#define CONNECT_TIMEOUT_MS 5000u
/* A request that timed out gives the next ones twice its time, up to this
 * many times timeout_ms (see stretch_adapt) */
#define STRETCH_MAX 4u

static const char *const grpc_paths[2] = {
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};
static const char *const http_paths[2] = { "/v1/metrics", "/v1/logs" };

struct tfo_exp_req {
	struct tfo_exp_xfer x;               /* first: curlloop hands it back */
	struct tfo_exp_transport *t;
	CURL *easy;
	struct tfo_exp_buf body;
	struct tfo_exp_response resp;
	size_t endpoint;
	struct timespec start;
	uint32_t stretch;                    /* t->stretch when it was sent */
	tfo_exp_done_fn done;
	void *arg;
	struct tfo_exp_req *next;
};

struct tfo_exp_transport {
	struct tfo_exp_curlloop *loop;
	int own_loop;                        /* made here: freed here */
	struct curl_slist *headers;
	struct tfo_exp_transport_cfg cfg;
	char *urls[TFO_EXP_MAX_ENDPOINTS];   /* normalised bases, no trailing '/' */
	size_t current;
	struct timespec switched;            /* when we left endpoint 0 */
	struct tfo_exp_req *reqs;            /* in flight */
	size_t n_reqs;
	uint64_t connects;
	int h2c_fresh;                       /* libcurl < 8.0: no h2c connection reuse */
	uint32_t stretch;                    /* requests get timeout_ms x this: 1, 2, 4 */
};

static uint64_t
elapsed_ms(const struct timespec *from)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - from->tv_sec) * 1000 + (now.tv_nsec - from->tv_nsec) / 1000000;
	return ms < 0 ? 0 : (uint64_t)ms;
}

/* endpoint_url - the normalised URL base of a configured endpoint */
static char *
endpoint_url(const char *ep, int grpc, int tls)
{
	char buf[1024];
	uint16_t port;

	if (tfo_exp_endpoint_parse(ep, grpc, tls, buf, sizeof(buf), &port) != TFO_OK)
		return NULL;
	return strdup(buf);
}

/* headers_build - the fixed request headers; values are copied by curl_slist_append */
static enum tfo_err
headers_build(struct tfo_exp_transport *t)
{
	const struct tfo_exp_transport_cfg *c = &t->cfg;
	char line[1024];
	struct curl_slist *l = NULL, *n;
	const char *fixed[6];
	size_t nf = 0;

	if (c->grpc) {
		fixed[nf++] = "Content-Type: application/grpc";
		fixed[nf++] = "TE: trailers";
		if (c->gzip)
			fixed[nf++] = "grpc-encoding: gzip";
	} else {
		fixed[nf++] = "Content-Type: application/x-protobuf";
		if (c->gzip)
			fixed[nf++] = "Content-Encoding: gzip";
		fixed[nf++] = "Expect:";   /* no 100-continue round trip */
	}
	for (size_t i = 0; i < nf; i++) {
		if ((n = curl_slist_append(l, fixed[i])) == NULL)
			goto nomem;
		l = n;
	}
#define ADD_HDR(fmt, val) do {                                                  \
	if ((size_t)snprintf(line, sizeof(line), fmt, val) >= sizeof(line))     \
		goto toolong;                                                   \
	if ((n = curl_slist_append(l, line)) == NULL)                           \
		goto nomem;                                                     \
	l = n;                                                                  \
} while (0)
	if (c->grpc)
		ADD_HDR("grpc-timeout: %um", c->timeout_ms);
	if (c->key_id && *c->key_id)
		ADD_HDR("X-TelemetryFlow-Key-ID: %s", c->key_id);
	if (c->key_secret && *c->key_secret)
		ADD_HDR("X-TelemetryFlow-Key-Secret: %s", c->key_secret);
	if (c->agent_id && *c->agent_id)
		ADD_HDR("X-TelemetryFlow-Agent-ID: %s", c->agent_id);
	ADD_HDR("User-Agent: tfo-agent/%s", c->version && *c->version ? c->version : TFO_VERSION);
#undef ADD_HDR
	explicit_bzero(line, sizeof(line));
	t->headers = l;
	return TFO_OK;
toolong:
	explicit_bzero(line, sizeof(line));
	t->headers = l;
	return TFO_EINVAL;
nomem:
	explicit_bzero(line, sizeof(line));
	t->headers = l;
	return TFO_ENOMEM;
}

static void
headers_free(struct curl_slist *l)
{
	/* the secret header lives in these strings: wipe before free */
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

enum tfo_err
tfo_exp_transport_new(struct tfo_exp_transport **out, struct event_base *base,
    const struct tfo_exp_transport_cfg *cfg)
{
	struct tfo_exp_transport *t;
	enum tfo_err e;

	*out = NULL;
	if (cfg->n_endpoints == 0 || cfg->n_endpoints > TFO_EXP_MAX_ENDPOINTS)
		return TFO_EINVAL;
	(void)tfo_exp_tls_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return TFO_EIO;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		curl_global_cleanup();
		return TFO_ENOMEM;
	}
	t->cfg = *cfg;
	t->cfg.loop = NULL;
	if (t->cfg.timeout_ms == 0)
		t->cfg.timeout_ms = DEF_TIMEOUT_MS;
	t->stretch = 1;
	if (t->cfg.failback_ms == 0)
		t->cfg.failback_ms = DEF_FAILBACK_MS;
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		if ((t->urls[i] = endpoint_url(cfg->endpoints[i], cfg->grpc, cfg->tls)) == NULL) {
			e = TFO_EINVAL;
			goto fail;
		}
		t->cfg.endpoints[i] = NULL;   /* not kept: the caller's storage */
	}
	if ((e = headers_build(t)) != TFO_OK)
		goto fail;
	t->cfg.key_id = t->cfg.key_secret = t->cfg.agent_id = t->cfg.version = NULL;
	if ((t->loop = cfg->loop) == NULL) {
		t->own_loop = 1;
		if ((t->loop = tfo_exp_curlloop_new(base)) == NULL) {
			e = TFO_ENOMEM;
			goto fail;
		}
	}
	/*
	 * libcurl before 8.0.0 breaks a reused prior-knowledge (h2c) connection
	 * ("Error in the HTTP2 framing layer", curl PR #10643, not in Debian
	 * 12's 7.88.1): there, each plaintext gRPC request gets a fresh
	 * connection. TLS (ALPN) and OTLP/HTTP connections are reused.
	 */
	t->h2c_fresh = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
	*out = t;
	return TFO_OK;
fail:
	tfo_exp_transport_free(t);
	return e;
}

static void
req_free(struct tfo_exp_req *r)
{
	if (r->easy) {
		tfo_exp_curlloop_remove(r->t->loop, r->easy);
		curl_easy_cleanup(r->easy);
	}
	tfo_exp_buf_fini(&r->body);
	tfo_exp_buf_fini(&r->resp.body);
	free(r);
}

static void
req_unlink(struct tfo_exp_transport *t, struct tfo_exp_req *r)
{
	for (struct tfo_exp_req **pp = &t->reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			t->n_reqs--;
			return;
		}
	}
}

void
tfo_exp_transport_free(struct tfo_exp_transport *t)
{
	if (t == NULL)
		return;
	while (t->reqs != NULL) {
		struct tfo_exp_req *r = t->reqs;
		req_unlink(t, r);
		req_free(r);
	}
	if (t->own_loop)
		tfo_exp_curlloop_free(t->loop);
	headers_free(t->headers);
	for (size_t i = 0; i < TFO_EXP_MAX_ENDPOINTS; i++)
		free(t->urls[i]);
	free(t);
	curl_global_cleanup();
}

/* ---------------------------------------------------------------- requests */

static size_t
write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct tfo_exp_req *r = arg;
	struct tfo_exp_buf *b = &r->resp.body;
	size_t len = sz * n, room = TFO_EXP_RESP_MAX - b->len;

	if (len > room)
		r->resp.truncated = 1;
	else if (len > 0) {
		if (b->cap < b->len + len) {
			uint8_t *np = realloc(b->data, b->len + len);
			if (np == NULL)
				return 0;      /* aborts the transfer: retried later */
			b->data = np;
			b->cap = b->len + len;
		}
		memcpy(b->data + b->len, p, len);
		b->len += len;
	}
	return len;
}

static size_t
header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct tfo_exp_req *r = arg;

	tfo_exp_response_header(&r->resp, p, sz * n);
	return sz * n;
}

static enum tfo_exp_neterr
neterr_of(CURLcode rc, CURL *easy)
{
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_OK:
		return TFO_EXP_NET_OK;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return TFO_EXP_NET_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		return connect_us == 0 ? TFO_EXP_NET_CONNECT : TFO_EXP_NET_TIMEOUT;
	default:
		return TFO_EXP_NET_OTHER;
	}
}

/* failover - a connection failure on the endpoint in use moves to the next */
static void
failover(struct tfo_exp_transport *t, size_t failed)
{
	if (t->cfg.n_endpoints < 2 || failed != t->current)
		return;
	if (t->current == 0)
		clock_gettime(CLOCK_MONOTONIC, &t->switched);
	t->current = (t->current + 1) % t->cfg.n_endpoints;
}

/*
 * stretch_adapt - an endpoint that answers, but only after timeout_ms (an
 * overloaded collector), has taken every request the exporter gave up on:
 * each retry after the same timeout would deliver the batch once more, for
 * as long as it stays slow. So a timeout doubles the time of the requests
 * sent after it (once per stretch: requests that timed out together double
 * it once), up to STRETCH_MAX x timeout_ms; an answer within timeout_ms
 * brings it back to timeout_ms. One that comes later keeps it: the endpoint
 * is still slow. Connect timeouts are not stretched (a failover matter).
 */
static void
stretch_adapt(struct tfo_exp_transport *t, const struct tfo_exp_req *r, uint64_t took_ms)
{
	if (r->resp.net == TFO_EXP_NET_TIMEOUT) {
		if (r->stretch == t->stretch && t->stretch < STRETCH_MAX)
			t->stretch *= 2;
	} else if (r->resp.net == TFO_EXP_NET_OK && took_ms <= t->cfg.timeout_ms) {
		t->stretch = 1;
	}
}

static void
req_finish(struct tfo_exp_transport *t, struct tfo_exp_req *r, CURLcode rc)
{
	long ver = 0, conns = 0;

	r->resp.net = neterr_of(rc, r->easy);
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->resp.http_status);
	curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &ver);
	curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
	t->connects += (uint64_t)(conns > 0 ? conns : 0);
	r->resp.http_version = ver == CURL_HTTP_VERSION_2_0 ? 2 : 1;
	if (r->resp.net == TFO_EXP_NET_OK && t->cfg.grpc && r->resp.http_version != 2) {
		r->resp.net = TFO_EXP_NET_OTHER;
		snprintf(r->resp.net_detail, sizeof(r->resp.net_detail),
		    "endpoint did not speak HTTP/2 (gRPC needs it)");
	} else if (r->resp.net != TFO_EXP_NET_OK && r->resp.net_detail[0] == '\0') {
		snprintf(r->resp.net_detail, sizeof(r->resp.net_detail), "%s", curl_easy_strerror(rc));
	}
	if (r->resp.net != TFO_EXP_NET_OK)
		(void)tfo_exp_tls_reason(r->resp.net_detail, sizeof(r->resp.net_detail));
	if (r->resp.net == TFO_EXP_NET_CONNECT)
		failover(t, r->endpoint);
	stretch_adapt(t, r, elapsed_ms(&r->start));
	req_unlink(t, r);
	/* the handle goes before the callback, which may start the next request */
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	r->done(r->arg, &r->resp, (uint32_t)elapsed_ms(&r->start), t->urls[r->endpoint]);
	req_free(r);
}

/* xfer_done - curlloop: the request ended (already out of the multi) */
static void
xfer_done(struct tfo_exp_xfer *x, CURL *e, CURLcode rc)
{
	struct tfo_exp_req *r = (struct tfo_exp_req *)x;

	(void)e;
	req_finish(r->t, r, rc);
}

/* easy_setup - per-request options; the TLS ones come straight from cfg */
static enum tfo_err
easy_setup(struct tfo_exp_transport *t, struct tfo_exp_req *r, const char *url)
{
	const struct tfo_exp_transport_cfg *c = &t->cfg;
	CURL *e = r->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, (const char *)r->body.data);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
	SET(CURLOPT_HTTPHEADER, t->headers);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms * (long)r->stretch);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_ms < CONNECT_TIMEOUT_MS ?
	    c->timeout_ms : CONNECT_TIMEOUT_MS));
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, (void *)r);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, (void *)r);
	SET(CURLOPT_ERRORBUFFER, r->resp.net_detail);
	SET(CURLOPT_PIPEWAIT, 1L);              /* wait to multiplex, not a second connection */
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->grpc && strncmp(url, "https:", 6) == 0) {
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	} else if (c->grpc) {
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		if (t->h2c_fresh) {
			SET(CURLOPT_FRESH_CONNECT, 1L);
			SET(CURLOPT_FORBID_REUSE, 1L);
			SET(CURLOPT_PIPEWAIT, 0L);
		}
	} else
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_SSLVERSION, c->tls13 ? (long)CURL_SSLVERSION_TLSv1_3 : (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_pem) {
		struct curl_blob b = { (void *)(uintptr_t)c->ca_pem, c->ca_pem_len, CURL_BLOB_NOCOPY };
		SET(CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file && *c->ca_file) {
		SET(CURLOPT_CAINFO, c->ca_file);
	}
	if (c->cert_pem) {
		struct curl_blob b = { (void *)(uintptr_t)c->cert_pem, c->cert_pem_len, CURL_BLOB_NOCOPY };
		SET(CURLOPT_SSLCERT_BLOB, &b);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file && *c->cert_file) {
		SET(CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_pem) {
		struct curl_blob b = { (void *)(uintptr_t)c->key_pem, c->key_pem_len, CURL_BLOB_NOCOPY };
		SET(CURLOPT_SSLKEY_BLOB, &b);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file && *c->key_file) {
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	if (c->insecure_skip_verify) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (rc == CURLE_OK)
		rc = tfo_exp_tls_lean_set(e);
#undef SET
	return rc == CURLE_OK ? TFO_OK : TFO_EINVAL;
}

enum tfo_err
tfo_exp_transport_send(struct tfo_exp_transport *t, int is_logs,
    struct tfo_exp_buf *body, tfo_exp_done_fn done, void *arg)
{
	struct tfo_exp_req *r;
	const char *path = t->cfg.grpc ? grpc_paths[is_logs != 0] : http_paths[is_logs != 0];
	char url[2048];
	enum tfo_err e;

	if (t->current != 0 && elapsed_ms(&t->switched) >= t->cfg.failback_ms)
		t->current = 0;         /* give the primary another chance */
	if ((size_t)snprintf(url, sizeof(url), "%s%s", t->urls[t->current], path) >= sizeof(url))
		return TFO_ERANGE;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return TFO_ENOMEM;
	r->x.done = xfer_done;
	r->t = t;
	r->body = *body;
	r->endpoint = t->current;
	r->done = done;
	r->arg = arg;
	r->stretch = t->stretch;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	if ((r->easy = curl_easy_init()) == NULL) {
		free(r);
		return TFO_ENOMEM;
	}
	if ((e = easy_setup(t, r, url)) != TFO_OK ||
	    tfo_exp_curlloop_add(t->loop, r->easy, &r->x) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		free(r);
		return e != TFO_OK ? e : TFO_EIO;
	}
	memset(body, 0, sizeof(*body));     /* ownership taken */
	r->next = t->reqs;
	t->reqs = r;
	t->n_reqs++;
	return TFO_OK;
}

uint32_t
tfo_exp_transport_timeout(const struct tfo_exp_transport *t)
{
	return t->cfg.timeout_ms * t->stretch;
}

size_t
tfo_exp_transport_in_flight(const struct tfo_exp_transport *t)
{
	return t->n_reqs;
}

const char *
tfo_exp_transport_endpoint(const struct tfo_exp_transport *t)
{
	return t->urls[t->current];
}

uint64_t
tfo_exp_transport_connects(const struct tfo_exp_transport *t)
{
	return t->connects;
}
