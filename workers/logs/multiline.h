/*
 * multiline.h - tfo-logs record assembly: with multiline.start_pattern set,
 * a line that does not match the pattern continues the previous record
 * (stack traces); a record is complete when the next start line arrives or
 * after the flush timeout. Without a pattern every line is a record.
 */
#ifndef TFO_LOGS_MULTILINE_H
#define TFO_LOGS_MULTILINE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "workers/logs/lines.h"

/* struct mline_rule - the compiled start pattern, shared by every file */
struct mline_rule {
	regex_t re;
	int enabled;
	size_t max_len;        /* a joined record never exceeds max_line_size */
	uint32_t timeout_ms;
};

/* struct mline - one file's record being assembled */
struct mline {
	uint8_t *acc, *out;
	size_t acc_len, acc_cap, out_len, out_cap;
	uint64_t acc_end;      /* file offset past the last line joined */
	int acc_trunc, have;
	uint64_t last_ms;      /* when the last line was joined */
};

/* struct mrec - a complete record; p is valid until the next mline call */
struct mrec {
	const uint8_t *p;
	size_t len;
	uint64_t end_off;
	int truncated;
};

/* mline_rule_init - compile pattern (NULL/"" = off); TFO_EINVAL on a bad regex */
enum tfo_err mline_rule_init(struct mline_rule *r, const char *pattern, size_t max_len,
    uint32_t timeout_ms);
void mline_rule_fini(struct mline_rule *r);

void mline_init(struct mline *m);
void mline_fini(struct mline *m);
/*
 * mline_push - add a line; returns 1 with *out when a record is complete,
 * 0 when the line was kept, -1 on ENOMEM (the line is not consumed).
 */
int mline_push(struct mline *m, const struct mline_rule *r, const struct lline *l,
    uint64_t now_ms, struct mrec *out);
/* mline_flush - 1 and the held record if force or its timeout passed */
int mline_flush(struct mline *m, const struct mline_rule *r, uint64_t now_ms, int force,
    struct mrec *out);
/* mline_deadline - ms (absolute) when the held record times out, or UINT64_MAX */
uint64_t mline_deadline(const struct mline *m, const struct mline_rule *r);

#endif
