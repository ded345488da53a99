/*
 * pace.c - tfo-exporter's send pacing for a fleet (see pace.h): a jittered
 * first flush, each signal's flush on its own grid, and the cap that follows
 * an outage. Run by tfo-exporter's
 * pipeline, on its loop; no clock or randomness of its own.
 */
#include "workers/exporter/outcome.h"
#include "workers/exporter/pace.h"

void
tfo_exp_pace_init(struct tfo_exp_pace *pc, uint32_t interval_ms, uint32_t floor)
{
	*pc = (struct tfo_exp_pace){ .interval_ms = interval_ms ? interval_ms : 1,
	    .floor = floor ? floor : 1 };
}

uint32_t
tfo_exp_pace_first_ms(uint32_t interval_ms, uint64_t *rng)
{
	return interval_ms ? (uint32_t)(tfo_exp_rand(rng) % interval_ms) : 0;
}

void
tfo_exp_sched_init(struct tfo_exp_sched *sc, uint64_t now_ms, uint32_t interval_ms,
    uint32_t first_ms)
{
	uint32_t iv = interval_ms ? interval_ms : 1;

	*sc = (struct tfo_exp_sched){ .interval_ms = iv };
	sc->due[1] = now_ms + first_ms % iv;
	sc->due[2] = now_ms + (first_ms % iv + iv / 2) % iv;
}

void
tfo_exp_sched_done(struct tfo_exp_sched *sc, int sig, uint64_t now_ms)
{
	for (int s = 1; s < TFO_EXP_SCHED_NSIG; s++) {
		uint64_t late;

		if ((sig != 0 && s != sig) || sc->due[s] > now_ms)
			continue;
		/* whole intervals: the phase stays what the first flush drew */
		late = now_ms - sc->due[s];
		sc->due[s] += (late / sc->interval_ms + 1) * sc->interval_ms;
	}
}

void
tfo_exp_sched_begin(struct tfo_exp_sched *sc, int sig, uint64_t now_ms)
{
	if (sig < 1 || sig >= TFO_EXP_SCHED_NSIG)
		return;
	tfo_exp_sched_done(sc, sig, sc->due[sig] > now_ms ? sc->due[sig] : now_ms);
}

int
tfo_exp_sched_next(const struct tfo_exp_sched *sc, uint64_t *at)
{
	int best = 1;

	for (int s = 2; s < TFO_EXP_SCHED_NSIG; s++)
		if (sc->due[s] < sc->due[best])
			best = s;
	*at = sc->due[best];
	return best;
}

/* roll - the answers counted per interval; the last whole one is kept */
static void
roll(struct tfo_exp_pace *pc, uint64_t now)
{
	uint64_t age = now - pc->win_start_ms;

	if (now < pc->win_start_ms || age < pc->interval_ms)
		return;
	pc->prev_count = age < 2ull * pc->interval_ms ? pc->win_count : 0;
	pc->win_start_ms = now;
	pc->win_count = 0;
}

/* doublings - whole intervals since the cap began, at most the limit */
static uint32_t
doublings(const struct tfo_exp_pace *pc, uint64_t now)
{
	uint64_t d = now > pc->rec_start_ms ? (now - pc->rec_start_ms) / pc->interval_ms : 0;

	return d > TFO_EXP_PACE_DOUBLINGS ? TFO_EXP_PACE_DOUBLINGS : (uint32_t)d;
}

/* gap - ms between two sends under the cap now (0: no wait at this rate) */
static uint64_t
gap(const struct tfo_exp_pace *pc, uint64_t now)
{
	return pc->interval_ms / ((uint64_t)pc->rate0 << doublings(pc, now));
}

void
tfo_exp_pace_answered(struct tfo_exp_pace *pc, uint64_t now_ms)
{
	roll(pc, now_ms);
	if (pc->win_count < UINT32_MAX)
		pc->win_count++;
	if (!pc->failing)
		return;
	/* the outage is over: resume at the rate the endpoint took from us
	 * before it, not at whatever the backlog would allow */
	pc->failing = 0;
	pc->recovering = 1;
	pc->rec_start_ms = now_ms;
	pc->rate0 = pc->before > pc->floor ? pc->before : pc->floor;
	pc->next_ms = now_ms + gap(pc, now_ms);
	pc->peek = 0;
}

void
tfo_exp_pace_failed(struct tfo_exp_pace *pc, uint64_t now_ms)
{
	roll(pc, now_ms);
	if (pc->failing)
		return;
	pc->failing = 1;
	/* failing again while catching up: start from where the last cap did,
	 * not from the catch-up rate that may have caused it */
	if (pc->recovering)
		pc->before = pc->rate0;
	else
		pc->before = pc->prev_count > pc->win_count ? pc->prev_count : pc->win_count;
	pc->recovering = 0;
}

void
tfo_exp_pace_empty(struct tfo_exp_pace *pc)
{
	pc->recovering = 0;
	pc->peek = 0;
}

uint32_t
tfo_exp_pace_wait(struct tfo_exp_pace *pc, uint64_t now_ms)
{
	uint64_t w;

	if (!pc->recovering)
		return 0;
	if (now_ms - pc->rec_start_ms >= (uint64_t)TFO_EXP_PACE_DOUBLINGS * pc->interval_ms) {
		pc->recovering = 0;     /* 64x where it began: no cap any more */
		return 0;
	}
	if (pc->peek || now_ms >= pc->next_ms)
		return 0;
	w = pc->next_ms - now_ms;
	return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

void
tfo_exp_pace_sent(struct tfo_exp_pace *pc, uint64_t now_ms, int full)
{
	int peeked = pc->peek;

	if (!pc->recovering)
		return;
	/* no credit for idle time: at most one send at once, then the gap */
	pc->next_ms = (pc->next_ms > now_ms ? pc->next_ms : now_ms) + gap(pc, now_ms);
	/* a look only after a paced send, so looks never chain into a burst */
	pc->peek = !full && !peeked;
}

uint32_t
tfo_exp_pace_cap(const struct tfo_exp_pace *pc, uint64_t now_ms)
{
	uint64_t r;
	uint32_t d;

	if (!pc->recovering || (d = doublings(pc, now_ms)) >= TFO_EXP_PACE_DOUBLINGS)
		return 0;
	r = (uint64_t)pc->rate0 << d;
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}
