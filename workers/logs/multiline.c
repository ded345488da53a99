/*
 * multiline.c - tfo-logs joining of continuation lines into one record. The
 * held record is bounded by max_line_size; past it the record is emitted
 * flagged and the line starts a new one, so memory stays bounded per file.
 */
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "workers/logs/multiline.h"

enum tfo_err
mline_rule_init(struct mline_rule *r, const char *pattern, size_t max_len, uint32_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->max_len = max_len;
	r->timeout_ms = timeout_ms;
	if (pattern == NULL || pattern[0] == '\0')
		return TFO_OK;
	if (regcomp(&r->re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return TFO_EINVAL;
	r->enabled = 1;
	return TFO_OK;
}

void
mline_rule_fini(struct mline_rule *r)
{
	if (r->enabled)
		regfree(&r->re);
	r->enabled = 0;
}

void
mline_init(struct mline *m)
{
	memset(m, 0, sizeof(*m));
}

void
mline_fini(struct mline *m)
{
	free(m->acc);
	free(m->out);
	mline_init(m);
}

static int
is_start(const struct mline_rule *r, const struct lline *l)
{
	regmatch_t pm[1];

	/* REG_STARTEND: the line is not NUL-terminated and may hold NULs */
	pm[0].rm_so = 0;
	pm[0].rm_eo = (regoff_t)l->len;
	return regexec(&r->re, (const char *)l->p, 1, pm, REG_STARTEND) == 0;
}

/* take - hand the held record out (swap buffers) and hold nothing */
static void
take(struct mline *m, struct mrec *out)
{
	uint8_t *t = m->out;
	size_t tc = m->out_cap;

	m->out = m->acc;
	m->out_cap = m->acc_cap;
	m->out_len = m->acc_len;
	m->acc = t;
	m->acc_cap = tc;
	m->acc_len = 0;
	m->have = 0;
	out->p = m->out;
	out->len = m->out_len;
	out->end_off = m->acc_end;
	out->truncated = m->acc_trunc;
}

static int
hold(struct mline *m, const struct lline *l, int trunc, uint64_t now_ms)
{
	if (tfo_grow((void **)&m->acc, &m->acc_cap, l->len + 1, 1, 256) != 0)
		return -1;
	memcpy(m->acc, l->p, l->len);
	m->acc_len = l->len;
	m->acc_end = l->end_off;
	m->acc_trunc = trunc;
	m->have = 1;
	m->last_ms = now_ms;
	return 0;
}

int
mline_push(struct mline *m, const struct mline_rule *r, const struct lline *l,
    uint64_t now_ms, struct mrec *out)
{
	int start, over;

	if (!r->enabled) {
		out->p = l->p;
		out->len = l->len;
		out->end_off = l->end_off;
		out->truncated = l->truncated;
		return 1;
	}
	if (!m->have)
		return hold(m, l, l->truncated, now_ms);
	start = is_start(r, l);
	over = m->acc_len + 1 + l->len > r->max_len;
	if (!start && !over) {
		if (tfo_grow((void **)&m->acc, &m->acc_cap, m->acc_len + 1 + l->len + 1, 1, 256) != 0)
			return -1;
		m->acc[m->acc_len++] = '\n';
		memcpy(m->acc + m->acc_len, l->p, l->len);
		m->acc_len += l->len;
		m->acc_end = l->end_off;
		m->acc_trunc |= l->truncated;
		m->last_ms = now_ms;
		return 0;
	}
	/* make room in out before taking, so ENOMEM leaves the state intact */
	if (tfo_grow((void **)&m->out, &m->out_cap, l->len + 1, 1, 256) != 0)
		return -1;
	if (over && !start)
		m->acc_trunc = 1;      /* a joined record cut at max_line_size */
	take(m, out);
	if (hold(m, l, l->truncated || (over && !start), now_ms) != 0)
		return -1;             /* cannot happen: out had room and was swapped in */
	return 1;
}

int
mline_flush(struct mline *m, const struct mline_rule *r, uint64_t now_ms, int force,
    struct mrec *out)
{
	if (!m->have)
		return 0;
	if (!force && now_ms < mline_deadline(m, r))
		return 0;
	take(m, out);
	return 1;
}

uint64_t
mline_deadline(const struct mline *m, const struct mline_rule *r)
{
	if (!m->have || !r->enabled)
		return UINT64_MAX;
	return m->last_ms + r->timeout_ms;
}
