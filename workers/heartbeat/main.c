/*
 * main.c - tfo-heartbeat (runs as tfo-heartbeat): every heartbeat.interval
 * (the first beat anywhere in it, sched.c), collect SystemInfo and hand the
 * beat to tfo-exporter over heartbeat.ipc, which POSTs it to
 * {api_endpoint}/agents/{agentId}/heartbeat and answers with the outcome.
 * /proc, /sys, /etc read only; no network of its own (DESIGN §1).
 */
#include <stdlib.h>
#include <string.h>

#include "common/agentid.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/worker.h"
#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/link.h"
#include "workers/heartbeat/outcome.h"
#include "workers/heartbeat/payload.h"
#include "workers/heartbeat/sched.h"

#define DEFAULT_INTERVAL_MS 60000u
#define DEFAULT_TIMEOUT_MS 10000u
#define CLOUD_RETRY_NS (3600ull * 1000000000ull)
/* the exporter answers at the beat's deadline at the latest; the answer's way back */
#define ANSWER_MARGIN_MS 500u
/* a metadata lookup: up to 6 requests of 1 s when providers answer slowly */
#define CLOUD_WAIT_MS 8000u

struct hb {
	struct tfo_worker *w;
	const Tfo__V1__HeartbeatConfig *cfg;
	struct hb_collector *col;
	struct hb_link *link;
	struct hb_outcome out;
	struct event *beat;
	uint32_t interval_ms, timeout_ms;
	uint64_t seq;
	bool cloud_done;
	uint64_t cloud_next_ns;
};

static const int hb_caps[] = { -1 };

static void
schedule(struct hb *h, uint32_t delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	evtimer_add(h->beat, &tv);
}

/* on_result - the exporter's answer to a beat (a sibling: a wrong answer is
 * fatal, the supervisor restarts us) */
static void
on_result(void *arg, enum tfo_err e, const Tfo__V1__HeartbeatReply *rep)
{
	struct hb *h = arg;

	if (e == TFO_EPROTO || e == TFO_EVERSION)
		fatalx("heartbeat: tfo-exporter answered a beat with a bad message: %s",
		    tfo_strerror(e));
	if (e != TFO_OK) {
		hb_outcome_failed(&h->out, "tfo-exporter did not take the beat: ", e);
		return;
	}
	if (rep->msg_case != TFO__V1__HEARTBEAT_REPLY__MSG_RESULT || rep->result->seq != h->seq)
		fatalx("heartbeat: tfo-exporter answered beat %llu with something else",
		    (unsigned long long)h->seq);
	hb_outcome_result(&h->out, rep->result);
}

/* send_beat - collect, encode, hand over; the deadline travels with the beat */
static void
send_beat(struct hb *h)
{
	Tfo__V1__HeartbeatRequest req = TFO__V1__HEARTBEAT_REQUEST__INIT;
	Tfo__V1__Beat b = TFO__V1__BEAT__INIT;
	struct hb_sysinfo si;
	enum tfo_err e;
	char *body;

	if (hb_collect(h->col, &si) != TFO_OK) {
		hb_outcome_failed(&h->out, "collection failed: ", TFO_ENOMEM);
		return;
	}
	body = hb_payload_body(&si, h->cfg->include_system_info);
	hb_sysinfo_free(&si);
	if (body == NULL || strlen(body) > HB_LINK_BODY_MAX) {
		hb_outcome_failed(&h->out, "payload not built: ", body ? TFO_ERANGE : TFO_ENOMEM);
		free(body);
		return;
	}
	b.seq = ++h->seq;
	b.body.data = (uint8_t *)body;
	b.body.len = strlen(body);
	b.deadline_ms = tfo_mono_ms() + h->timeout_ms;
	req.msg_case = TFO__V1__HEARTBEAT_REQUEST__MSG_BEAT;
	req.beat = &b;
	e = hb_link_call(h->link, &req, h->timeout_ms + ANSWER_MARGIN_MS, on_result, h);
	free(body);
	if (e != TFO_OK)
		hb_outcome_failed(&h->out, "beat not handed over: ", e);
}

/* on_cloud - the metadata the exporter found merges into the DMI answer */
static void
on_cloud(void *arg, enum tfo_err e, const Tfo__V1__HeartbeatReply *rep)
{
	struct hb *h = arg;
	struct tfo_cloud_info *ci = hb_collector_cloud(h->col);

	if (e == TFO_EPROTO || e == TFO_EVERSION ||
	    (e == TFO_OK && rep->msg_case != TFO__V1__HEARTBEAT_REPLY__MSG_CLOUD))
		fatalx("heartbeat: tfo-exporter answered a cloud query with a bad message");
	if (e == TFO_OK && rep->cloud->found && hb_cloud_merge(ci, rep->cloud) == 0) {
		h->cloud_done = true;
		log_info("heartbeat: cloud %s instance %s in %s", ci->provider, ci->instance_id,
			 ci->region[0] ? ci->region : "?");
	} else {
		h->cloud_next_ns = tfo_mono_ns() + CLOUD_RETRY_NS;
		log_debug("heartbeat: no cloud metadata (%s)", e == TFO_OK ? "no service answered" :
		    tfo_strerror(e));
	}
	send_beat(h);
}

/* cloud_wanted - metadata service, only when configured; retried hourly */
static bool
cloud_wanted(const struct hb *h)
{
	return h->cfg->cloud_metadata && !h->cloud_done && tfo_mono_ns() >= h->cloud_next_ns;
}

static void
on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct hb *h = arg;

	(void)fd;
	(void)what;
	schedule(h, hb_sched_next_ms(h->interval_ms, hb_sched_random()));
	if (hb_link_busy(h->link)) {
		log_debug("heartbeat: previous beat still in flight, skipping one");
		return;
	}
	if (cloud_wanted(h)) {
		Tfo__V1__HeartbeatRequest req = TFO__V1__HEARTBEAT_REQUEST__INIT;
		Tfo__V1__CloudQuery q = TFO__V1__CLOUD_QUERY__INIT;

		q.provider = hb_collector_cloud(h->col)->provider;
		req.msg_case = TFO__V1__HEARTBEAT_REQUEST__MSG_CLOUD;
		req.cloud = &q;
		if (hb_link_call(h->link, &req, CLOUD_WAIT_MS, on_cloud, h) == TFO_OK)
			return;
	}
	send_beat(h);
}

static int
hb_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct hb *h = arg;
	const char *root;

	h->w = w;
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_HEARTBEAT || cfg->heartbeat == NULL) {
		log_error("heartbeat: config has no heartbeat section");
		return -1;
	}
	h->cfg = cfg->heartbeat;
	if (cfg->agent == NULL || !tfo_agentid_valid(cfg->agent->id) || cfg->heartbeat_url == NULL ||
	    cfg->heartbeat_url[0] == '\0') {
		log_error("heartbeat: a valid agent id and heartbeat_url are required");
		return -1;
	}
	root = h->cfg->proc_root && h->cfg->proc_root[0] ? h->cfg->proc_root : "/";
	if (strcmp(root, "/") == 0) {
		tfo_worker_landlock_ro(w, "/proc");
		tfo_worker_landlock_ro(w, "/sys");
	} else {
		tfo_worker_landlock_ro(w, root);
	}
	tfo_worker_landlock_ro(w, "/etc");   /* os-release, machine-id, timezone */
	return 0;
}

static int
hb_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct hb *h = arg;
	const char *version = cfg->agent->version && cfg->agent->version[0] ? cfg->agent->version
									  : TFO_VERSION;

	h->interval_ms = h->cfg->interval_ms ? h->cfg->interval_ms : DEFAULT_INTERVAL_MS;
	h->timeout_ms = h->cfg->timeout_ms ? h->cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (h->timeout_ms >= h->interval_ms)
		h->timeout_ms = h->interval_ms > 1 ? h->interval_ms - 1 : 1;   /* one beat at a time */
	h->col = hb_collector_new(h->cfg->proc_root, cfg->agent->hostname, version);
	h->link = h->col ? hb_link_open(tfo_worker_base(w), cfg->heartbeat_url,
	    cfg->export_peer_uid) : NULL;
	h->beat = evtimer_new(tfo_worker_base(w), on_beat, h);
	if (h->col == NULL || h->link == NULL || h->beat == NULL) {
		log_error("heartbeat: setup failed (%s: out of memory or no nng)", cfg->heartbeat_url);
		return -1;
	}
	/* a fleet started together beats spread over the interval from the first */
	schedule(h, hb_sched_first_ms(h->interval_ms, hb_sched_random()));
	log_info("heartbeat: every %u ms through tfo-exporter (%s)", h->interval_ms,
	    cfg->heartbeat_url);
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
	hb_link_close(h->link);
	hb_collector_free(h->col);
	if (h->beat != NULL)
		event_free(h->beat);
	memset(h, 0, sizeof(*h));
}

static void
hb_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct hb *h = arg;
	const struct hb_stats *s = &h->out.st;

	(void)w;
	if (h->link == NULL)
		return;
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
