/*
 * hbworker.c - tfo-exporter: WorkerConfig.heartbeat_relay -> Landlock rules
 * and the heartbeat relay (hbrelay.c). See hbworker.h.
 */
#include "workers/exporter/hbworker.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/log.h"
#include "workers/exporter/tlsinit.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define METADATA_PORT 80

/* url_port - the TCP port an http(s) URL connects to (scheme default included) */
static int
url_port(const char *url, uint16_t *port)
{
	CURLU *u = curl_url();
	char *p = NULL, *scheme = NULL;
	long v = 0;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && scheme != NULL &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK && p != NULL)
		v = strtol(p, NULL, 10);
	curl_free(p);
	curl_free(scheme);
	curl_url_cleanup(u);
	if (v <= 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

void
tfo_exp_hb_declare(struct tfo_exp_hb *hb, struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg)
{
	const Tfo__V1__HeartbeatConfig *h = cfg->heartbeat_relay;
	uint16_t port;

	memset(hb, 0, sizeof(*hb));
	hb->cfg = cfg;
	if (h == NULL)
		return;                 /* heartbeat disabled */
	if (cfg->heartbeat_url == NULL || cfg->heartbeat_url[0] == '\0' || cfg->runtime_dir == NULL ||
	    cfg->runtime_dir[0] == '\0' || cfg->agent == NULL || cfg->agent->id == NULL ||
	    cfg->agent->id[0] == '\0') {
		log_error("heartbeat relay: no heartbeat_url, runtime dir or agent id: relay off");
		return;
	}
	if (h->api_endpoint == NULL || url_port(h->api_endpoint, &port) != 0) {
		log_error("telemetryflow.api_endpoint \"%s\" is not an http(s) URL: heartbeats are "
		    "not sent", h->api_endpoint ? h->api_endpoint : "");
		return;
	}
	tfo_worker_landlock_connect_tcp(w, port);
	if (h->cloud_metadata) {
		if (h->cloud_metadata_url == NULL || h->cloud_metadata_url[0] == '\0')
			port = METADATA_PORT;
		else if (url_port(h->cloud_metadata_url, &port) != 0) {
			log_error("heartbeat.cloud_metadata_url \"%s\" is not an http URL: no cloud "
			    "metadata lookups", h->cloud_metadata_url);
			port = 0;
		}
		if (port != 0)
			tfo_worker_landlock_connect_tcp(w, port);
	}
	/* the relay's socket file: nng creates it (and removes a stale one of
	 * ours: the dir is sticky, nobody else's can go); no other file */
	tfo_worker_landlock_sockdir(w, cfg->runtime_dir);
	hb->wanted = true;
}

void
tfo_exp_hb_start(struct tfo_exp_hb *hb, const struct tfo_exp_transport_cfg *tls)
{
	const Tfo__V1__WorkerConfig *cfg = hb->cfg;
	const Tfo__V1__HeartbeatConfig *h;
	const Tfo__V1__TlsConfig *t;
	struct tfo_exp_hbrelay_cfg rc;
	uint32_t timeout;

	if (!hb->wanted)
		return;
	h = cfg->heartbeat_relay;
	t = h->tls;
	timeout = h->timeout_ms ? h->timeout_ms : DEFAULT_TIMEOUT_MS;
	memset(&rc, 0, sizeof(rc));
	rc.url = cfg->heartbeat_url;
	rc.peer_uid = cfg->heartbeat_peer_uid;
	rc.cloud = h->cloud_metadata;
	rc.cloud_url = h->cloud_metadata_url;
	rc.send = (struct hb_sender_cfg){
		.endpoint = h->api_endpoint,
		.agent_id = cfg->agent->id,
		.key_id = h->api_key_id,
		.key_secret = h->api_key_secret,
		.version = cfg->agent->version && cfg->agent->version[0] ? cfg->agent->version :
		    TFO_VERSION,
		.timeout_ms = timeout,
		/* first retry after 1/8 of the beat's budget (50..500 ms): a few tries fit */
		.backoff_ms = timeout / 8 < 50 ? 50 : timeout / 8 > 500 ? 500 : timeout / 8,
		.tls = {
			.ca_pem = tls->ca_pem, .ca_pem_len = tls->ca_pem_len,
			.cert_pem = tls->cert_pem, .cert_pem_len = tls->cert_pem_len,
			.key_pem = tls->key_pem, .key_pem_len = tls->key_pem_len,
			.min_version = t ? t->min_version : NULL,
			.insecure_skip_verify = t ? t->insecure_skip_verify : false,
		},
		.loop = tls->loop,
	};
	/* the OTLP transport holds a reference too; ours keeps curl up for the relay */
	(void)tfo_exp_tls_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("heartbeat relay: curl_global_init failed: heartbeats are not sent");
		return;
	}
	hb->curl = true;
	if (tls->loop == NULL ||
	    tfo_exp_hbrelay_start(&hb->relay, tfo_exp_curlloop_base(tls->loop), &rc) != TFO_OK) {
		log_error("heartbeat relay: not started: heartbeats are not sent");
		return;
	}
	log_info("heartbeat relay: beats from tfo-heartbeat on %s go to %s", rc.url, h->api_endpoint);
}

void
tfo_exp_hb_stop(struct tfo_exp_hb *hb)
{
	tfo_exp_hbrelay_stop(hb->relay);
	hb->relay = NULL;
	if (hb->curl)
		curl_global_cleanup();
	hb->curl = false;
}

void
tfo_exp_hb_stats(const struct tfo_exp_hb *hb, struct tfo_stats *ts)
{
	struct tfo_exp_hbrelay_counts c;

	if (hb->relay == NULL)
		return;
	tfo_exp_hbrelay_counts(hb->relay, &c);
	tfo_stats_num(ts, "heartbeat_relay.beats", (double)c.beats);
	tfo_stats_num(ts, "heartbeat_relay.cloud_queries", (double)c.clouds);
	tfo_stats_num(ts, "heartbeat_relay.superseded", (double)c.superseded);
	tfo_stats_num(ts, "heartbeat_relay.stale", (double)c.stale);
	tfo_stats_num(ts, "heartbeat_relay.refused", (double)c.refused);
	tfo_stats_num(ts, "heartbeat_relay.paced", (double)c.paced);
}
