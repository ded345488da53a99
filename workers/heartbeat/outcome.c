/*
 * outcome.c - tfo-heartbeat: stats and once-per-change log lines from beat
 * results (see outcome.h). Secrets never reach here: the exporter's error
 * text is curl's or "HTTP <n>".
 */
#include "workers/heartbeat/outcome.h"

#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "common/clock.h"

#define AUTH_LOG_EVERY_NS (3600ull * 1000000000ull)

/* set_error - a sibling's text into last_error: printable ASCII, bounded */
static void
set_error(struct hb_stats *st, const char *prefix, const char *text)
{
	size_t j = 0;
	int n = snprintf(st->last_error, sizeof(st->last_error), "%s", prefix);

	j = n > 0 && (size_t)n < sizeof(st->last_error) ? (size_t)n : 0;
	for (const char *p = text ? text : ""; *p != '\0' && j + 1 < sizeof(st->last_error); p++)
		st->last_error[j++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
	st->last_error[j] = '\0';
}

static void
log_auth(struct hb_outcome *o, long status)
{
	uint64_t now = tfo_mono_ns();

	o->st.auth_failures++;
	if (o->last_auth_log_ns != 0 && now - o->last_auth_log_ns < AUTH_LOG_EVERY_NS)
		return;
	o->last_auth_log_ns = now;
	log_error("heartbeat: the API refused our credentials (HTTP %ld): check "
		  "telemetryflow api_key_id / api_key_secret (logged once per hour)", status);
}

/* handoff_back - the exporter answers again */
static void
handoff_back(struct hb_outcome *o)
{
	if (o->handoff_failing)
		log_info("heartbeat: tfo-exporter takes beats again");
	o->handoff_failing = false;
}

void
hb_outcome_result(struct hb_outcome *o, const Tfo__V1__BeatResult *r)
{
	struct hb_stats *st = &o->st;

	handoff_back(o);
	st->last_status = r->status;
	if (r->status != 0 && r->latency_ms >= 0)
		st->last_latency_ms = r->latency_ms;
	if (r->attempts > 1)
		st->retries += r->attempts - 1;
	if (r->ok) {
		st->sent++;
		st->last_success = (int64_t)time(NULL);
		if (o->failing)
			log_info("heartbeat: API reachable again (HTTP %ld)", st->last_status);
		o->failing = false;
		return;
	}
	st->failed++;
	set_error(st, "", r->error);
	if (r->auth)
		log_auth(o, st->last_status);
	else if (!o->failing && r->gave_up)
		log_warn("heartbeat: giving up this beat after %u attempts: %s", r->attempts,
		    st->last_error);
	else if (!o->failing)
		log_warn("heartbeat: POST failed, not retried: %s", st->last_error);
	o->failing = true;
}

void
hb_outcome_failed(struct hb_outcome *o, const char *what, enum tfo_err e)
{
	struct hb_stats *st = &o->st;

	st->failed++;
	st->last_status = 0;
	set_error(st, what, e == TFO_OK ? "" : tfo_strerror(e));
	if (!o->handoff_failing)
		log_warn("heartbeat: %s (beats count as failed until it works again)",
		    st->last_error);
	o->handoff_failing = true;
}
