/*
 * logrepeat.c - one log line for a burst of identical messages (logrepeat.h).
 */
#include "common/logrepeat.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* report - the burst's message with the repeats since the last line */
static void
report(struct tfo_logrepeat *r, uint64_t now)
{
	if (r->repeats == 0)
		return;
	tfo_log(r->level, "%s (%llu more times in %llu s, %llu in all)", r->msg,
	    (unsigned long long)r->repeats, (unsigned long long)((now - r->since_ms) / 1000),
	    (unsigned long long)r->total);
	r->repeats = 0;
	r->since_ms = now;
}

/*
 * same_shape - a and b are the same message but for the numbers in them: a
 * cause carries figures that change from one attempt to the next ("disk full
 * at ... (0 MiB free)", then "(1 MiB free)"), and counting those as new
 * messages logged one line per attempt again
 */
static int
same_shape(const char *a, const char *b)
{
	for (;;) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (isdigit((unsigned char)*a))
				a++;
			while (isdigit((unsigned char)*b))
				b++;
			continue;
		}
		if (*a != *b)
			return 0;
		if (*a == '\0')
			return 1;
		a++;
		b++;
	}
}

void
tfo_logrepeat(struct tfo_logrepeat *r, enum tfo_log_level level, const char *fmt, ...)
{
	char msg[TFO_LOGREPEAT_MSG];
	uint64_t now;
	va_list ap;

	if (!tfo_log_enabled(level))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);   /* a long one is cut: a log line */
	va_end(ap);
	now = mono_ms();
	if (r->msg[0] != '\0' && level == r->level && same_shape(msg, r->msg)) {
		memcpy(r->msg, msg, sizeof(msg));    /* its count line shows the latest figures */
		r->repeats++;
		r->total++;
		if (now - r->since_ms >= TFO_LOGREPEAT_PERIOD_MS)
			report(r, now);
		return;
	}
	report(r, now);
	memcpy(r->msg, msg, sizeof(msg));
	r->level = level;
	r->total = 1;
	r->since_ms = now;
	tfo_log(level, "%s", msg);
}

void
tfo_logrepeat_flush(struct tfo_logrepeat *r)
{
	report(r, mono_ms());
}

void
tfo_logrepeat_end(struct tfo_logrepeat *r)
{
	report(r, mono_ms());
	r->msg[0] = '\0';
	r->total = 0;
}
