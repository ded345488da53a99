/*
 * gather.c - tfo-supervisor: the workers' stats, asked for when someone
 * reads them (tfoctl status, the self metrics) instead of carried by every
 * liveness Pong. A gather sends each ready worker a Ping with stats set (after
 * the Pong of a ping already on the wire, whose nonce must be answered
 * first), and ends when every one asked has answered or SV_STATS_WAIT_MS has
 * passed: then what waited is served from the stats each role last sent
 * (status.c, one source for both), fresh from this gather for each role that
 * answered in time (docs/operations.md).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

/* askable - a worker that answers Pings now */
static int
askable(const struct sv_worker *w)
{
	return w->state == SV_READY && w->fd >= 0 && w->kill_why == SV_KILL_NONE;
}

/* pending - a worker asked in this gather still owes its stats */
static int
pending(const struct sv *sv)
{
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		if (sv->w[r].stats_wanted && askable(&sv->w[r]))
			return 1;
	return 0;
}

/* serve - what waited for the gather, from the stats now held; each waiter
 * is called once, and may start the next gather */
static void
serve(struct sv *sv)
{
	sv_gathered_fn fns[SV_GATHER_WAITERS];

	memcpy(fns, sv->gather_fns, sizeof(fns));
	memset(sv->gather_fns, 0, sizeof(sv->gather_fns));
	sv->gathering = 0;
	sv->stats_answered = NULL;
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		sv->w[r].stats_wanted = 0;
	for (int i = 0; i < SV_GATHER_WAITERS; i++)
		if (fns[i] != NULL)
			fns[i](sv);
}

/* check - a worker answered or left: served from the loop, never from
 * inside a Pong's or a death's handler, once none owes its stats */
static void
check(struct sv *sv)
{
	struct timeval now = { 0, 0 };

	if (sv->gathering && !pending(sv))
		evtimer_add(sv->ev_gather, &now);
}

/* on_gather - the bound passed, or the last answer came (made active) */
static void
on_gather(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	(void)fd;
	(void)what;
	if (!sv->gathering)
		return;
	if (pending(sv))
		log_debug("stats: not every worker answered within %d ms: its last stats "
		    "are used", SV_STATS_WAIT_MS);
	serve(sv);
}

/* start - ask every ready worker; 0, or -1 when there is no timer */
static int
start(struct sv *sv)
{
	struct timeval tv = { SV_STATS_WAIT_MS / 1000, (SV_STATS_WAIT_MS % 1000) * 1000 };

	if (sv->gathering)
		return 0;
	if (sv->ev_gather == NULL &&
	    (sv->ev_gather = evtimer_new(sv->base, on_gather, sv)) == NULL)
		return -1;
	sv->gathering = 1;
	sv->stats_answered = check;     /* workers.c calls it at a Pong or a death */
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		struct sv_worker *w = &sv->w[r];

		if (!askable(w))
			continue;
		w->stats_wanted = 1;
		if (w->ping_nonce == 0)
			sv_worker_ping(w);
		else            /* asked again at the Pong of the ping on the wire, */
			sv_worker_watch(w);     /* read as it comes */
	}
	evtimer_add(sv->ev_gather, &tv);
	check(sv);
	return 0;
}

int
sv_stats_gather(struct sv *sv, sv_gathered_fn fn)
{
	int free_slot = -1;

	for (int i = 0; i < SV_GATHER_WAITERS; i++) {
		if (sv->gather_fns[i] == fn)
			return 0;               /* already waits for this gather */
		if (sv->gather_fns[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0 || start(sv) == -1)
		return -1;
	sv->gather_fns[free_slot] = fn;
	return 0;
}

void
sv_stats_fini(struct sv *sv)
{
	if (sv->ev_gather != NULL)
		event_free(sv->ev_gather);
	sv->ev_gather = NULL;
	sv->gathering = 0;
	sv->stats_answered = NULL;
}
