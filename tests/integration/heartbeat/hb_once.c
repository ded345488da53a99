/*
 * hb_once.c - test driver: collect SystemInfo from the real host and send one
 * heartbeat the way the agent does: tfo-heartbeat's link hands the beat over
 * a real heartbeat.ipc socket to tfo-exporter's relay (a thread here), which
 * POSTs it; then print the heartbeat's stats as one JSON line.
 * Usage: hb-once ENDPOINT AGENT_ID TIMEOUT_MS [ROOT]. Exit 0 when accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/clock.h"
#include "workers/exporter/hbrelay.h"
#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/link.h"
#include "workers/heartbeat/outcome.h"
#include "workers/heartbeat/payload.h"

struct run {
	struct event_base *base;
	struct hb_outcome out;
	int rc;
};

static void
done(void *arg, enum tfo_err e, const Tfo__V1__HeartbeatReply *rep)
{
	struct run *r = arg;

	if (e == TFO_OK && rep->msg_case == TFO__V1__HEARTBEAT_REPLY__MSG_RESULT) {
		hb_outcome_result(&r->out, rep->result);
		r->rc = rep->result->ok ? 0 : 2;
	} else {
		hb_outcome_failed(&r->out, "tfo-exporter did not take the beat: ", e);
		r->rc = 3;
	}
	event_base_loopbreak(r->base);
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/tfo-hbonce-XXXXXX", url[160], sock[128];
	Tfo__V1__HeartbeatRequest req = TFO__V1__HEARTBEAT_REQUEST__INIT;
	Tfo__V1__Beat b = TFO__V1__BEAT__INIT;
	struct tfo_exp_hbrelay *relay;
	struct hb_collector *col;
	struct hb_link *link;
	struct hb_sysinfo si;
	const struct hb_stats *st;
	struct run run = { .rc = 1 };
	uint32_t timeout;
	char *body;

	if (argc < 4) {
		fprintf(stderr, "usage: hb-once ENDPOINT AGENT_ID TIMEOUT_MS [ROOT]\n");
		return 1;
	}
	timeout = (uint32_t)strtoul(argv[3], NULL, 10);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof(sock), "%s/heartbeat.ipc", dir);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	struct tfo_exp_hbrelay_cfg cfg = {
		.url = url, .peer_uid = (uint32_t)getuid(),
		.send = { .endpoint = argv[1], .agent_id = argv[2], .key_id = "tfk_integration",
			  .key_secret = "tfs_integration_secret", .version = TFO_VERSION,
			  .timeout_ms = timeout, .backoff_ms = 50 },
	};
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (run.base = event_base_new()) == NULL || tfo_exp_hbrelay_start(&relay, run.base, &cfg) != TFO_OK)
		return 1;
	col = hb_collector_new(argc > 4 ? argv[4] : "/", NULL, NULL);
	link = hb_link_open(run.base, url, (uint32_t)getuid());
	if (col == NULL || link == NULL || hb_collect(col, &si) != TFO_OK)
		return 1;
	body = hb_payload_body(&si, true);
	hb_sysinfo_free(&si);
	if (body == NULL)
		return 1;
	b.seq = 1;
	b.body.data = (uint8_t *)body;
	b.body.len = strlen(body);
	b.deadline_ms = tfo_mono_ms() + timeout;
	req.msg_case = TFO__V1__HEARTBEAT_REQUEST__MSG_BEAT;
	req.beat = &b;
	if (hb_link_call(link, &req, timeout + 500, done, &run) != TFO_OK)
		return 1;
	free(body);
	event_base_dispatch(run.base);   /* done() breaks the loop */
	st = &run.out.st;
	printf("{\"sent\":%llu,\"failed\":%llu,\"retries\":%llu,\"lastStatus\":%ld}\n",
	       (unsigned long long)st->sent, (unsigned long long)st->failed,
	       (unsigned long long)st->retries, st->last_status);
	hb_link_close(link);
	tfo_exp_hbrelay_stop(relay);
	hb_collector_free(col);
	event_base_free(run.base);
	curl_global_cleanup();
	unlink(sock);
	rmdir(dir);
	return run.rc;
}
