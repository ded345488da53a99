/*
 * pace.c - tfo-exporter's send pacing for a fleet (see pace.h): a jittered
 * first flush, each signal's flush on its own grid, and the cap that follows
 * an outage. Run by tfo-exporter's pipeline, on its loop; no clock or
 * randomness of its own.
 */
#include "workers/exporter/outcome.h"
#include "workers/exporter/pace.h"

void
tfo_exp_pace_init(struct tfo_exp_pace *pc, uint32_t interval_ms, uint32_t floor,
    uint64_t batch_max)
{
	*pc = (struct tfo_exp_pace){ .interval_ms = interval_ms ? interval_ms : 1,
	    .floor = floor ? floor : 1, .batch_max = batch_max ? batch_max : 1 };
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
	int best = 0;

	for (int s = 1; s < TFO_EXP_SCHED_NSIG; s++)
		if (!sc->quiet[s] && (best == 0 || sc->due[s] < sc->due[best]))
			best = s;
	if (best == 0)
		best = TFO_EXP_SIG_METRICS;
	*at = sc->due[best];
	return best;
}

void
tfo_exp_sched_quiet(struct tfo_exp_sched *sc, int sig)
{
	if (sig >= 1 && sig < TFO_EXP_SCHED_NSIG)
		sc->quiet[sig] = 1;
}

void
tfo_exp_sched_busy(struct tfo_exp_sched *sc, int sig, uint64_t now_ms)
{
	if (sig < 1 || sig >= TFO_EXP_SCHED_NSIG || !sc->quiet[sig])
		return;
	sc->quiet[sig] = 0;
	/* its point may have passed while the other's flushes fetched it:
	 * the next is on its own grid, never at once */
	tfo_exp_sched_done(sc, sig, now_ms);
}

int
tfo_exp_sched_asks(const struct tfo_exp_sched *sc, int sig)
{
	int other = sig == TFO_EXP_SIG_METRICS ? TFO_EXP_SIG_LOGS : TFO_EXP_SIG_METRICS;

	if (sig < 1 || sig >= TFO_EXP_SCHED_NSIG)
		return 0;
	return sc->quiet[other] ? 0 : sig;
}

/* roll - the answers counted per interval; the last whole one is kept */
static void
roll(struct tfo_exp_pace *pc, uint64_t now)
{
	uint64_t age = now - pc->win_start_ms;
	int whole;

	if (now < pc->win_start_ms || age < pc->interval_ms)
		return;
	whole = age < 2ull * pc->interval_ms;
	pc->prev_count = whole ? pc->win_count : 0;
	pc->prev_bytes = whole ? pc->win_bytes : 0;
	pc->win_start_ms = now;
	pc->win_count = 0;
	pc->win_bytes = 0;
}

/* doublings - whole intervals past the aimed hold, at most the limit; the
 * first interval after the hold already doubles (the estimate fell short) */
static uint32_t
doublings(const struct tfo_exp_pace *pc, uint64_t now)
{
	uint64_t past = now > pc->rec_start_ms ? now - pc->rec_start_ms : 0;
	uint64_t d;

	if (pc->hold_ms > 0 && past < pc->hold_ms)
		return 0;
	d = (past - pc->hold_ms) / pc->interval_ms + (pc->hold_ms > 0);
	return d > TFO_EXP_PACE_DOUBLINGS ? TFO_EXP_PACE_DOUBLINGS : (uint32_t)d;
}

/* over - the cap has run its course: six doublings after the aimed hold */
static int
over(const struct tfo_exp_pace *pc, uint64_t now)
{
	return now - pc->rec_start_ms >=
	    pc->hold_ms + (uint64_t)TFO_EXP_PACE_DOUBLINGS * pc->interval_ms;
}

/* shl - x << d, saturated */
static uint64_t
shl(uint64_t x, uint32_t d)
{
	return x > (UINT64_MAX >> d) ? UINT64_MAX : x << d;
}

/* gap - ms between a send of bytes and the next under the cap now (0: no
 * wait at this rate). Counting bytes, a gap is never longer than counting
 * the floor's batches: an entry larger than a batch waits no longer than a
 * full batch at the slowest cap. */
static uint64_t
gap(const struct tfo_exp_pace *pc, uint64_t now, uint64_t bytes)
{
	uint32_t d = doublings(pc, now);
	uint64_t g, r;

	if (pc->rate0_bytes == 0)
		return pc->interval_ms / shl(pc->rate0, d);
	r = shl(pc->rate0_bytes, d);
	/* rounded up: a cap is an upper bound */
	g = bytes >= (UINT64_MAX - r) / pc->interval_ms ? UINT64_MAX :
	    (bytes * pc->interval_ms + r - 1) / r;
	return g < pc->interval_ms / pc->floor ? g : pc->interval_ms / pc->floor;
}

/*
 * aim - the bytes an interval that send what queued since the last answer
 * before the outage (at the rate the endpoint took before it) and what keeps
 * coming, within TFO_EXP_PACE_AIM intervals; at least floor full batches.
 * 0 when nothing was taken before (no estimate): then the cap counts
 * batches from the floor and doubles at once.
 */
static uint64_t
aim(const struct tfo_exp_pace *pc, uint64_t now)
{
	uint64_t gone, r, least = (uint64_t)pc->floor * pc->batch_max;
	uint64_t aim_ms = (uint64_t)TFO_EXP_PACE_AIM * pc->interval_ms;

	if (pc->keep_bytes > 0)
		return pc->keep_bytes;
	if (pc->before_bytes == 0 || pc->since_ms == 0 || now < pc->since_ms)
		return 0;
	gone = now - pc->since_ms;
	/* over 2^32 bytes an interval times hours of outage: as fast as allowed */
	if (pc->before_bytes > UINT32_MAX || gone > UINT32_MAX)
		return UINT64_MAX;
	r = pc->before_bytes + pc->before_bytes * gone / aim_ms;
	return r > least ? r : least;
}

/* clamp - the aim at most TFO_EXP_PACE_PEAK times the requests before the
 * outage in full batches, held for as many intervals as the estimated queue
 * (what the aim would have sent over and above the traffic) needs at that
 * rate; past the hold, doubling as after any aim that fell short */
static void
clamp(struct tfo_exp_pace *pc)
{
	uint64_t least = (uint64_t)pc->floor * pc->batch_max;
	uint64_t top = (uint64_t)TFO_EXP_PACE_PEAK * pc->before * pc->batch_max;
	uint64_t queue, net, n = TFO_EXP_PACE_HOLD_MAX;

	if (top < least)
		top = least;
	if (pc->rate0_bytes <= top)
		return;
	net = top > pc->before_bytes ? top - pc->before_bytes : 0;
	if (net > 0 && pc->rate0_bytes <= UINT64_MAX / TFO_EXP_PACE_AIM) {
		queue = (pc->rate0_bytes - pc->before_bytes) * TFO_EXP_PACE_AIM;
		n = queue / net + (queue % net != 0);
	}
	if (n > TFO_EXP_PACE_HOLD_MAX)
		n = TFO_EXP_PACE_HOLD_MAX;
	if (n < TFO_EXP_PACE_AIM)
		n = TFO_EXP_PACE_AIM;
	pc->rate0_bytes = top;
	pc->hold_ms = n * pc->interval_ms;
}

void
tfo_exp_pace_answered(struct tfo_exp_pace *pc, uint64_t now_ms, uint64_t bytes)
{
	int fresh;

	roll(pc, now_ms);
	if (pc->win_count < UINT32_MAX)
		pc->win_count++;
	pc->win_bytes = bytes > UINT64_MAX - pc->win_bytes ? UINT64_MAX : pc->win_bytes + bytes;
	pc->ok_ms = now_ms;
	if (!pc->failing)
		return;
	/* the outage is over: send its queue by the aim, not at whatever the
	 * backlog would allow, nor doubling from the rate before it (a fleet
	 * doubling together peaks at 8x its requests once each agent's queue
	 * is a dozen batches) */
	pc->failing = 0;
	pc->recovering = 1;
	pc->rec_start_ms = now_ms;
	fresh = pc->keep_bytes == 0;    /* not a failure while capped */
	pc->rate0_bytes = aim(pc, now_ms);
	pc->keep_bytes = 0;
	pc->hold_ms = pc->rate0_bytes ? (uint64_t)TFO_EXP_PACE_AIM * pc->interval_ms : 0;
	if (fresh && pc->rate0_bytes > 0)
		clamp(pc);
	pc->rate0 = pc->before > pc->floor ? pc->before : pc->floor;
	pc->next_ms = now_ms + gap(pc, now_ms, bytes);
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
	if (pc->recovering) {
		pc->before = pc->rate0;
		pc->keep_bytes = pc->rate0_bytes;
	} else {
		pc->before = pc->prev_count > pc->win_count ? pc->prev_count : pc->win_count;
		pc->before_bytes = pc->prev_bytes > pc->win_bytes ? pc->prev_bytes : pc->win_bytes;
		pc->since_ms = pc->ok_ms;
		pc->keep_bytes = 0;
	}
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
	if (over(pc, now_ms)) {
		pc->recovering = 0;     /* 64x the rate after the aim: no cap any more */
		return 0;
	}
	if (pc->peek || now_ms >= pc->next_ms)
		return 0;
	w = pc->next_ms - now_ms;
	return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

void
tfo_exp_pace_sent(struct tfo_exp_pace *pc, uint64_t now_ms, uint64_t bytes, int full)
{
	int peeked = pc->peek;
	uint64_t g;

	if (!pc->recovering)
		return;
	/* no credit for idle time: at most one send at once, then the gap */
	g = gap(pc, now_ms, bytes);
	pc->next_ms = pc->next_ms > now_ms ? pc->next_ms : now_ms;
	pc->next_ms = g > UINT64_MAX - pc->next_ms ? UINT64_MAX : pc->next_ms + g;
	/* a look only after a paced send, so looks never chain into a burst */
	pc->peek = !full && !peeked;
}

uint32_t
tfo_exp_pace_cap(const struct tfo_exp_pace *pc, uint64_t now_ms)
{
	uint64_t r;
	uint32_t d;

	if (!pc->recovering || over(pc, now_ms))
		return 0;
	d = doublings(pc, now_ms);
	if (pc->rate0_bytes == 0) {
		r = shl(pc->rate0, d);
	} else {
		r = shl(pc->rate0_bytes, d);
		r = r / pc->batch_max + (r % pc->batch_max != 0);
	}
	if (r == 0)
		r = 1;
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

void
tfo_exp_pace_fetched(struct tfo_exp_pace *pc, int sig, int full)
{
	if (full)
		pc->hot_sig = sig;
	else if (sig == pc->hot_sig)
		pc->hot_sig = 0;        /* its backlog is out: either, in turn */
}

int
tfo_exp_pace_sig(const struct tfo_exp_pace *pc)
{
	return pc->hot_sig;
}
