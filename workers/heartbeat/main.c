/*
 * main.c - tfo-heartbeat (runs as tfo-heartbeat): every heartbeat.interval,
 * after a random delay of up to 10 % of it, collect SystemInfo and POST it to
 * {api_endpoint}/agents/{agentId}/heartbeat. Network + /proc read only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "common/agentid.h"
#include "common/log.h"
#include "common/worker.h"
#include "workers/heartbeat/cloudmeta.h"
#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/payload.h"
#include "workers/heartbeat/sender.h"

#define DEFAULT_INTERVAL_MS 60000u
#define DEFAULT_TIMEOUT_MS 10000u
#define CLOUD_RETRY_NS (3600ull * 1000000000ull)

struct hb {
	struct tfo_worker *w;
	const Tfo__V1__HeartbeatConfig *cfg;
	struct hb_collector *col;
	struct hb_sender *snd;
	struct event *beat;
	uint32_t interval_ms;
	bool curl_ready, cloud_done;
	uint64_t cloud_next_ns;
};

static const int hb_caps[] = { -1 };

/* jitter_ms - uniform in [0, interval/10] so a fleet restarted together spreads out */
static uint32_t
jitter_ms(uint32_t interval_ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)time(NULL) * 2654435761u;
	return interval_ms / 10 ? r % (interval_ms / 10 + 1) : 0;
}

static void
schedule(struct hb *h, uint32_t delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	evtimer_add(h->beat, &tv);
}

/* cloud_lookup - metadata service, only when configured; retried hourly */
static void
cloud_lookup(struct hb *h)
{
	struct tfo_cloud_info *ci = hb_collector_cloud(h->col);

	if (!h->cfg->cloud_metadata || h->cloud_done || hb_now_ns() < h->cloud_next_ns)
		return;
	if (hb_cloud_fetch(h->cfg->cloud_metadata_url, HB_CLOUD_TIMEOUT_MS, ci) == TFO_OK) {
		h->cloud_done = true;
		log_info("heartbeat: cloud %s instance %s in %s", ci->provider, ci->instance_id,
			 ci->region[0] ? ci->region : "?");
	} else {
		h->cloud_next_ns = hb_now_ns() + CLOUD_RETRY_NS;
		log_debug("heartbeat: no cloud metadata service answered");
	}
}

static void
on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct hb *h = arg;
	struct hb_sysinfo si;
	char *body;

	(void)fd;
	(void)what;
	schedule(h, h->interval_ms + jitter_ms(h->interval_ms));
	if (hb_sender_busy(h->snd)) {
		log_debug("heartbeat: previous beat still in flight, skipping one");
		return;
	}
	cloud_lookup(h);
	if (hb_collect(h->col, &si) != TFO_OK) {
		log_warn("heartbeat: collection failed: out of memory");
		return;
	}
	body = hb_payload_body(&si, h->cfg->include_system_info);
	hb_sysinfo_free(&si);
	if (body == NULL) {
		log_warn("heartbeat: payload encoding failed: out of memory");
		return;
	}
	hb_sender_post(h->snd, body, NULL, NULL);
}

/* url_port - the TCP port a URL connects to (scheme default included) */
static int
url_port(const char *url, uint16_t *port)
{
	CURLU *u = curl_url();
	char *p = NULL;
	long v = 0;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK && p != NULL)
		v = strtol(p, NULL, 10);
	curl_free(p);
	curl_url_cleanup(u);
	if (v <= 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void
landlock_files(struct tfo_worker *w, const Tfo__V1__TlsConfig *t)
{
	const char *files[3] = { t ? t->ca_file : NULL, t ? t->cert_file : NULL, t ? t->key_file : NULL };

	for (int i = 0; i < 3; i++)
		if (files[i] != NULL && files[i][0] != '\0')
			tfo_worker_landlock_ro(w, files[i]);
}

static int
hb_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct hb *h = arg;
	const char *root;
	uint16_t port;

	h->w = w;
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_HEARTBEAT || cfg->heartbeat == NULL) {
		log_error("heartbeat: config has no heartbeat section");
		return -1;
	}
	h->cfg = cfg->heartbeat;
	if (h->cfg->api_endpoint == NULL || h->cfg->api_endpoint[0] == '\0' || cfg->agent == NULL ||
	    !tfo_agentid_valid(cfg->agent->id)) {
		log_error("heartbeat: api_endpoint and a valid agent id are required");
		return -1;
	}
	root = h->cfg->proc_root && h->cfg->proc_root[0] ? h->cfg->proc_root : "/";
	if (strcmp(root, "/") == 0) {
		tfo_worker_landlock_ro(w, "/proc");
		tfo_worker_landlock_ro(w, "/sys");
	} else {
		tfo_worker_landlock_ro(w, root);
	}
	tfo_worker_landlock_ro(w, "/etc");   /* os-release, machine-id, resolv.conf, CA bundle */
	landlock_files(w, h->cfg->tls);
	if (url_port(h->cfg->api_endpoint, &port) < 0) {
		log_error("heartbeat: api_endpoint is not a URL");
		return -1;
	}
	tfo_worker_landlock_connect_tcp(w, port);
	if (h->cfg->cloud_metadata) {
		if (h->cfg->cloud_metadata_url && h->cfg->cloud_metadata_url[0] &&
		    url_port(h->cfg->cloud_metadata_url, &port) == 0)
			tfo_worker_landlock_connect_tcp(w, port);
		else
			tfo_worker_landlock_connect_tcp(w, 80);
	}
	return 0;
}

static int
hb_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct hb *h = arg;
	const Tfo__V1__TlsConfig *t = h->cfg->tls;
	const char *version = cfg->agent->version && cfg->agent->version[0] ? cfg->agent->version
									  : TFO_VERSION;
	struct hb_sender_cfg sc = {
		.endpoint = h->cfg->api_endpoint,
		.agent_id = cfg->agent->id,
		.key_id = h->cfg->api_key_id,
		.key_secret = h->cfg->api_key_secret,
		.version = version,
		.timeout_ms = h->cfg->timeout_ms ? h->cfg->timeout_ms : DEFAULT_TIMEOUT_MS,
		.tls = {
			.ca_file = t ? t->ca_file : NULL,
			.cert_file = t ? t->cert_file : NULL,
			.key_file = t ? t->key_file : NULL,
			.min_version = t ? t->min_version : NULL,
			.insecure_skip_verify = t ? t->insecure_skip_verify : false,
		},
	};

	h->interval_ms = h->cfg->interval_ms ? h->cfg->interval_ms : DEFAULT_INTERVAL_MS;
	if (sc.timeout_ms >= h->interval_ms)
		sc.timeout_ms = h->interval_ms > 1 ? h->interval_ms - 1 : 1;   /* one beat at a time */
	/* first retry after 1/8 of the beat's budget (50..500 ms): a few tries fit in it */
	sc.backoff_ms = sc.timeout_ms / 8 < 50 ? 50 : sc.timeout_ms / 8 > 500 ? 500 : sc.timeout_ms / 8;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("heartbeat: curl_global_init failed");
		return -1;
	}
	h->curl_ready = true;
	h->col = hb_collector_new(h->cfg->proc_root, cfg->agent->hostname, version);
	h->snd = h->col ? hb_sender_new(tfo_worker_base(w), &sc) : NULL;
	h->beat = evtimer_new(tfo_worker_base(w), on_beat, h);
	if (h->col == NULL || h->snd == NULL || h->beat == NULL) {
		log_error("heartbeat: setup failed (bad endpoint URL or out of memory)");
		return -1;
	}
	schedule(h, jitter_ms(h->interval_ms));
	log_info("heartbeat: every %u ms to %s", h->interval_ms, h->cfg->api_endpoint);
	return 0;
}

/* hb_shutdown - a beat is a snapshot: one in flight is dropped, not drained */
static void
hb_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct hb *h = arg;

	(void)deadline_ms;
	if (h->beat != NULL)
		evtimer_del(h->beat);
	tfo_worker_exit(w, 0);
}

static void
hb_fini(struct tfo_worker *w, void *arg)
{
	struct hb *h = arg;

	(void)w;
	hb_sender_free(h->snd);
	hb_collector_free(h->col);
	if (h->beat != NULL)
		event_free(h->beat);
	if (h->curl_ready)
		curl_global_cleanup();
	memset(h, 0, sizeof(*h));
}

static void
hb_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct hb *h = arg;
	const struct hb_stats *s;

	(void)w;
	if (h->snd == NULL)
		return;
	s = hb_sender_stats(h->snd);
	tfo_stats_num(st, "heartbeat.sent", (double)s->sent);
	tfo_stats_num(st, "heartbeat.failed", (double)s->failed);
	tfo_stats_num(st, "heartbeat.retries", (double)s->retries);
	tfo_stats_num(st, "heartbeat.auth_failures", (double)s->auth_failures);
	tfo_stats_num(st, "heartbeat.last_status", (double)s->last_status);
	tfo_stats_num(st, "heartbeat.last_success", (double)s->last_success);
	tfo_stats_num(st, "heartbeat.last_latency_ms", s->last_latency_ms);
	if (s->last_error[0] != '\0')
		tfo_stats_text(st, "heartbeat.last_error", s->last_error);
}

int
main(int argc, char **argv)
{
	static struct hb h;
	static const struct tfo_worker_ops ops = {
		.role = "heartbeat",
		.role_id = TFO__V1__ROLE__ROLE_HEARTBEAT,
		.caps = hb_caps,
		.pre_init = hb_pre_init,
		.post_init = hb_post_init,
		.shutdown = hb_shutdown,
		.fini = hb_fini,
		.stats = hb_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &h);
}
