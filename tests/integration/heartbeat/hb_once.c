/*
 * hb_once.c - test driver: collect SystemInfo from the real host and POST one
 * heartbeat with the real sender, then print the stats as one JSON line.
 * Usage: hb-once ENDPOINT AGENT_ID TIMEOUT_MS [ROOT]. Exit 0 when accepted.
 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/payload.h"
#include "workers/heartbeat/sender.h"

struct run {
	struct event_base *base;
	int rc;
};

static void
done(void *arg, bool ok)
{
	struct run *r = arg;

	r->rc = ok ? 0 : 2;
	event_base_loopbreak(r->base);
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct hb_collector *col;
	struct hb_sender *snd;
	struct hb_sysinfo si;
	const struct hb_stats *st;
	char *body;
	struct run run = { .rc = 1 };

	if (argc < 4) {
		fprintf(stderr, "usage: hb-once ENDPOINT AGENT_ID TIMEOUT_MS [ROOT]\n");
		return 1;
	}
	struct hb_sender_cfg cfg = {
		.endpoint = argv[1], .agent_id = argv[2], .key_id = "tfk_integration",
		.key_secret = "tfs_integration_secret", .version = TFO_VERSION,
		.timeout_ms = (uint32_t)strtoul(argv[3], NULL, 10), .backoff_ms = 50,
	};
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (base = event_base_new()) == NULL)
		return 1;
	run.base = base;
	col = hb_collector_new(argc > 4 ? argv[4] : "/", NULL, NULL);
	snd = hb_sender_new(base, &cfg);
	if (col == NULL || snd == NULL || hb_collect(col, &si) != TFO_OK)
		return 1;
	body = hb_payload_body(&si, true);
	hb_sysinfo_free(&si);
	if (body == NULL || hb_sender_post(snd, body, done, &run) != TFO_OK)
		return 1;
	event_base_dispatch(base);   /* done() breaks the loop */
	st = hb_sender_stats(snd);
	printf("{\"sent\":%llu,\"failed\":%llu,\"retries\":%llu,\"lastStatus\":%ld}\n",
	       (unsigned long long)st->sent, (unsigned long long)st->failed,
	       (unsigned long long)st->retries, st->last_status);
	hb_sender_free(snd);
	hb_collector_free(col);
	event_base_free(base);
	curl_global_cleanup();
	return run.rc;
}
