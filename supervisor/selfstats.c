/*
 * selfstats.c - tfo-supervisor: every agent.self_metrics.interval, the status
 * tfoctl shows (status.c) goes to tfo-system as one SelfStats on its fd 3;
 * tfo-system encodes it as the agent's self metrics (docs/metrics.md). The
 * supervisor stays narrow: it neither reads the workers' stats nor encodes
 * OTLP nor talks to the buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/worker.h"
#include "supervisor/supervisor.h"

/* Largest SelfStats sent: well inside a SOCK_SEQPACKET send buffer (208 KiB
 * by default) and TFO_CONTROL_MAX. Normal status is ~10 KiB; only a worker
 * filling its Pong could reach this, and then its stats are left out. */
#define SELF_MAX (128u * 1024)

static size_t
packed_size(Tfo__V1__Control *m)
{
	return tfo__v1__control__get_packed_size(m);
}

/* fit - leave out the largest stats lists until the message fits; -1 when
 * it cannot (nothing left to drop) */
static int
fit(Tfo__V1__Control *m, Tfo__V1__SelfStats *ss)
{
	while (packed_size(m) > SELF_MAX) {
		Tfo__V1__WorkerStatus *big = NULL;
		size_t bigsz = 0;

		for (size_t i = 0; i < ss->n_workers; i++) {
			size_t sz = 0;
			for (size_t k = 0; k < ss->workers[i]->n_stats; k++)
				sz += tfo__v1__stat__get_packed_size(ss->workers[i]->stats[k]);
			if (ss->workers[i]->n_stats > 0 && sz >= bigsz) {
				big = ss->workers[i];
				bigsz = sz;
			}
		}
		if (big == NULL)
			return -1;
		log_warn("self metrics: the %s role's stats (%zu bytes) are left out: too large",
		    big->role, bigsz);
		big->stats = NULL;
		big->n_stats = 0;
	}
	return 0;
}

int
sv_self_send(struct sv *sv)
{
	struct sv_worker *w = &sv->w[TFO_ROLE_SYSTEM];
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__SelfStats ss = TFO__V1__SELF_STATS__INIT;
	struct sv_status_buf *b;
	enum tfo_err e = TFO_OK;

	if (w->state != SV_READY || w->fd < 0 || w->kill_why != SV_KILL_NONE) {
		log_debug("self metrics: tfo-system is not ready: this interval is skipped");
		return -1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		log_warn("self metrics: out of memory: this interval is skipped");
		return -1;
	}
	sv_status_build(sv, b, 0);
	ss.supervisor_started_unix_nano = sv->start_unix_ns;
	ss.workers = b->wp;
	ss.n_workers = TFO_ROLE_COUNT;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_SELF_STATS;
	m.self_stats = &ss;
	if (fit(&m, &ss) == -1 || (e = tfo_control_send(w->fd, &m)) != TFO_OK)
		log_warn("self metrics: not sent to tfo-system: %s",
		    e != TFO_OK ? tfo_strerror(e) : "too large");
	free(b);
	return e == TFO_OK ? 0 : -1;
}

static void
arm(struct sv *sv)
{
	uint32_t ms = sv->cfg.agent.self_metrics_interval_ms;
	uint64_t now_ms = sv_wall_ns() / 1000000;
	struct timeval tv;

	/* on wall-clock multiples, as the collectors' cycles */
	ms -= (uint32_t)(now_ms % ms);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(sv->ev_self, &tv);
}

/* self_gathered - the workers' stats are in: the self metrics go out */
static void
self_gathered(struct sv *sv)
{
	(void)sv_self_send(sv);
}

static void
on_self(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	(void)fd;
	(void)what;
	if (sv->shutdown_phase || !sv->cfg.agent.self_metrics_enabled)
		return;
	arm(sv);
	/* sent when the workers' stats are in; now from the last ones if no
	 * gather can start */
	if (sv_stats_gather(sv, self_gathered) != 0)
		(void)sv_self_send(sv);
}

/* sv_self_timer_set - (re)arm for the configured interval, or disarm */
void
sv_self_timer_set(struct sv *sv)
{
	if (sv->ev_self == NULL && (sv->ev_self = evtimer_new(sv->base, on_self, sv)) == NULL) {
		log_warn("self metrics: no timer: off");
		return;
	}
	evtimer_del(sv->ev_self);
	if (sv->cfg.agent.self_metrics_enabled && sv->cfg.agent.self_metrics_interval_ms > 0)
		arm(sv);
}

void
sv_self_fini(struct sv *sv)
{
	if (sv->ev_self != NULL)
		event_free(sv->ev_self);
	sv->ev_self = NULL;
}
