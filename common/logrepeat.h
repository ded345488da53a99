/*
 * logrepeat.h - one log line for a burst of identical messages: the first is
 * logged, its repeats are counted and reported in one line with the count (at
 * most once a period, and when another message or a flush ends the burst).
 * An error met on every attempt (a full disk, a store that refuses writes)
 * then costs a line a minute, not one per attempt. Used by any process.
 */
#ifndef TFO_LOGREPEAT_H
#define TFO_LOGREPEAT_H

#include <stdint.h>

#include "common/log.h"

#define TFO_LOGREPEAT_MSG 320
#define TFO_LOGREPEAT_PERIOD_MS 60000

struct tfo_logrepeat {
	char msg[TFO_LOGREPEAT_MSG];   /* the message of the burst, "" = none */
	enum tfo_log_level level;
	uint64_t repeats;              /* identical messages not yet reported */
	uint64_t total;                /* identical messages in the burst */
	uint64_t since_ms;             /* monotonic ms of the last line logged */
};

/*
 * tfo_logrepeat - log the message at level unless it is the burst's (same
 * level, and the same text but for its numbers: "(0 MiB free)" and "(1 MiB
 * free)" are one burst): then count it, and once a period log it with its
 * count and latest text.
 * A different message first reports the old burst's unreported repeats.
 */
void tfo_logrepeat(struct tfo_logrepeat *r, enum tfo_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* tfo_logrepeat_flush - report unreported repeats now (from a timer), keep the burst */
void tfo_logrepeat_flush(struct tfo_logrepeat *r);
/* tfo_logrepeat_end - the condition is over: report repeats, forget the burst */
void tfo_logrepeat_end(struct tfo_logrepeat *r);

#endif
