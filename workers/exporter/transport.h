/*
 * transport.h - tfo-exporter's HTTP side: libcurl's multi interface driven by
 * a libevent loop, OTLP/gRPC (HTTP/2) or OTLP/HTTP, TLS, endpoint failover.
 * It moves bytes and reports raw responses; outcome.c decides what they mean.
 */
#ifndef TFO_EXP_TRANSPORT_H
#define TFO_EXP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/err.h"
#include "workers/exporter/curlloop.h"
#include "workers/exporter/outcome.h"
#include "workers/exporter/wire.h"

#define TFO_EXP_MAX_ENDPOINTS 8

/*
 * Endpoints and header values are copied at tfo_exp_transport_new; the TLS
 * paths and PEM buffers are referenced and must outlive the transport.
 */
struct tfo_exp_transport_cfg {
	const char *endpoints[TFO_EXP_MAX_ENDPOINTS]; /* "host:port" or "http(s)://host:port[/path]" */
	size_t n_endpoints;
	int grpc;                       /* 1 = OTLP/gRPC, 0 = OTLP/HTTP protobuf */
	int gzip;
	int tls;                        /* used for endpoints given without a scheme */
	const char *ca_file;            /* NULL/"" = system store */
	const char *cert_file;          /* client certificate (mTLS) */
	const char *key_file;
	/* PEM contents read before the privilege drop; they win over the paths */
	const void *ca_pem, *cert_pem, *key_pem;
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	int insecure_skip_verify;
	int tls13;                      /* minimum TLS 1.3 (else 1.2) */
	uint32_t timeout_ms;            /* whole request; 0 = 10 s */
	uint32_t failback_ms;           /* back to endpoint 0 after this; 0 = 5 min */
	const char *key_id;             /* X-TelemetryFlow-Key-ID (secret-adjacent) */
	const char *key_secret;         /* X-TelemetryFlow-Key-Secret: never logged */
	const char *agent_id;           /* X-TelemetryFlow-Agent-ID */
	const char *version;            /* User-Agent: tfo-agent/<version> */
	/* the multi handle to run on (the exporter's, shared with the heartbeat
	 * sender: one connection cache); NULL = one of its own. Not kept past
	 * tfo_exp_transport_free: the caller frees it after */
	struct tfo_exp_curlloop *loop;
};

struct tfo_exp_transport;

/*
 * tfo_exp_done_fn - one request finished. resp is valid during the call only.
 * Called from the event loop, never from inside tfo_exp_transport_send.
 */
typedef void (*tfo_exp_done_fn)(void *arg, const struct tfo_exp_response *resp,
    uint32_t latency_ms, const char *endpoint);

enum tfo_err tfo_exp_transport_new(struct tfo_exp_transport **out, struct event_base *base,
    const struct tfo_exp_transport_cfg *cfg);
/* tfo_exp_transport_free - abort what is in flight (no callbacks) and release */
void tfo_exp_transport_free(struct tfo_exp_transport *t);

/*
 * tfo_exp_transport_send - POST body (built by tfo_exp_body_build with the
 * same grpc/gzip settings; ownership moves to the transport) for metrics or
 * logs. done is called exactly once unless the transport is freed first.
 */
enum tfo_err tfo_exp_transport_send(struct tfo_exp_transport *t, int is_logs,
    struct tfo_exp_buf *body, tfo_exp_done_fn done, void *arg);

size_t tfo_exp_transport_in_flight(const struct tfo_exp_transport *t);
/* tfo_exp_transport_timeout - the whole time a request sent now gets:
 * timeout_ms, or up to 4 x that after timeouts (transport.c, stretch_adapt) */
uint32_t tfo_exp_transport_timeout(const struct tfo_exp_transport *t);
/* tfo_exp_transport_endpoint - the URL base requests go to now */
const char *tfo_exp_transport_endpoint(const struct tfo_exp_transport *t);
/* tfo_exp_transport_connects - TCP connections opened so far (reuse check) */
uint64_t tfo_exp_transport_connects(const struct tfo_exp_transport *t);

#endif
