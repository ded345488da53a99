/*
 * policy.c - tfo-supervisor's restart policy (DESIGN §2) and exit reasons, as
 * pure functions of their inputs so that unit tests drive them with a clock.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "supervisor/supervisor.h"

int64_t
sv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sv_wall_s(void)
{
	return (int64_t)time(NULL);
}

uint64_t
sv_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* prune - forget deaths older than the window */
static void
prune(struct sv_policy *p, const struct sv_limits *l, int64_t now_ms)
{
	size_t k = 0;

	for (size_t i = 0; i < p->ndeaths; i++)
		if (now_ms - p->deaths[i] < (int64_t)l->window_ms)
			p->deaths[k++] = p->deaths[i];
	p->ndeaths = k;
}

uint32_t
sv_policy_in_window(const struct sv_policy *p, const struct sv_limits *l, int64_t now_ms)
{
	uint32_t n = 0;

	for (size_t i = 0; i < p->ndeaths; i++)
		if (now_ms - p->deaths[i] < (int64_t)l->window_ms)
			n++;
	return n;
}

int64_t
sv_policy_on_death(struct sv_policy *p, const struct sv_limits *l, int64_t now_ms,
    int64_t was_ready_ms)
{
	int64_t delay;

	prune(p, l, now_ms);
	if (p->ndeaths == SV_MAX_WINDOW) {      /* keep the newest */
		memmove(p->deaths, p->deaths + 1, (SV_MAX_WINDOW - 1) * sizeof(p->deaths[0]));
		p->ndeaths--;
	}
	p->deaths[p->ndeaths++] = now_ms;
	if (p->ndeaths > l->max_restarts)
		return SV_FATAL_DELAY;
	if (was_ready_ms >= SV_READY_RESET_MS)
		p->fails = p->backoffs = 0;
	p->restarts++;
	/* First death of a worker that was ready: data must keep flowing. */
	if (was_ready_ms >= 0 && p->fails == 0) {
		p->fails = 1;
		return 0;
	}
	/* Repeated deaths, or death before READY (bad startup): back off. */
	delay = (int64_t)l->backoff_initial_ms << (p->backoffs < 20 ? p->backoffs : 20);
	if (delay > (int64_t)l->backoff_max_ms)
		delay = l->backoff_max_ms;
	p->fails++;
	p->backoffs++;
	return delay;
}

const char *
sv_signal_name(int sig)
{
	static char buf[16];
	const char *n = sigabbrev_np(sig);

	if (n == NULL) {
		snprintf(buf, sizeof(buf), "%d", sig);
		return buf;
	}
	snprintf(buf, sizeof(buf), "SIG%s", n);
	return buf;
}

void
sv_exit_describe(struct sv_exit *e, int wstatus, enum sv_kill why, int was_ready,
    int64_t at)
{
	char what[48];

	e->at = at;
	e->code = -1;
	e->sig = 0;
	e->cls = SV_R_CRASH;
	if (WIFEXITED(wstatus)) {
		e->code = WEXITSTATUS(wstatus);
		e->cls = SV_R_EXIT;
		snprintf(what, sizeof(what), "exit %d", e->code);
	} else if (WIFSIGNALED(wstatus)) {
		e->sig = WTERMSIG(wstatus);
		if (e->sig == SIGSYS) {
			e->cls = SV_R_SECCOMP;
			snprintf(what, sizeof(what), "seccomp violation");
		} else
			snprintf(what, sizeof(what), "signal %s", sv_signal_name(e->sig));
	} else
		snprintf(what, sizeof(what), "status %#x", (unsigned)wstatus);
	if (why == SV_KILL_HUNG) {
		e->cls = SV_R_HUNG;
		snprintf(what, sizeof(what), "hung");
	} else if (why == SV_KILL_STALLED) {
		e->cls = SV_R_HUNG;     /* it served nobody: counted with the hung */
		snprintf(what, sizeof(what), "stalled");
	} else if (why == SV_KILL_PROTO) {
		e->cls = SV_R_PROTOCOL;
		snprintf(what, sizeof(what), "protocol error");
	} else if (why == SV_KILL_REQUEST)
		e->cls = SV_R_REQUESTED;
	if (!was_ready && why != SV_KILL_REQUEST)
		snprintf(e->reason, sizeof(e->reason), "before-ready: %s", what);
	else
		snprintf(e->reason, sizeof(e->reason), "%s", what);
}

const char *
sv_reason_name(enum sv_reason r)
{
	static const char *const names[SV_R_COUNT] = {
		"crash", "exit", "seccomp", "hung", "protocol", "requested",
	};

	return (unsigned)r < SV_R_COUNT ? names[r] : "unknown";
}

const char *
sv_state_name(enum sv_state s)
{
	switch (s) {
	case SV_STOPPED:
		return "stopped";
	case SV_STARTING:
		return "starting";
	case SV_READY:
		return "ready";
	case SV_BACKOFF:
		return "backoff";
	case SV_FATAL:
		return "fatal";
	case SV_STOPPING:
		return "stopping";
	}
	return "unknown";
}
