/*
 * match.c - include/exclude name patterns and command-line redaction for
 * tfo-process (compiled once in pre_init, applied every cycle).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/procfs_pid.h"
#include "workers/process/match.h"

#define REDACT_MASK "***"

static void
re_error(const char *what, const char *pat, int rc, const regex_t *re, char *err, size_t cap)
{
	char msg[128];

	regerror(rc, re, msg, sizeof(msg));
	if (cap > 0)
		snprintf(err, cap, "%s pattern \"%.64s\": %s", what, pat, msg);
}

/* ----------------------------------------------------------- name patterns */

static int
is_regex(const char *p)
{
	return strpbrk(p, "^$*?[](){}|\\") != NULL;
}

enum tfo_err
tfo_namepats_init(struct tfo_namepats *p, char *const *patterns, size_t n, char *err,
                  size_t errcap)
{
	memset(p, 0, sizeof(*p));
	if (n == 0)
		return TFO_OK;
	if ((p->v = calloc(n, sizeof(*p->v))) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct tfo_namepat *q = &p->v[p->n];
		int rc;
		if (patterns[i] == NULL || patterns[i][0] == '\0')
			continue;
		if (!is_regex(patterns[i])) {
			if ((q->name = strdup(patterns[i])) == NULL)
				return TFO_ENOMEM;
			p->n++;
			continue;
		}
		if ((rc = regcomp(&q->re, patterns[i], REG_EXTENDED | REG_NOSUB)) != 0) {
			re_error("name", patterns[i], rc, &q->re, err, errcap);
			regfree(&q->re);
			return TFO_EINVAL;
		}
		p->n++;
	}
	return TFO_OK;
}

int
tfo_namepats_match(const struct tfo_namepats *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].name != NULL ? strcmp(p->v[i].name, name) == 0 :
		    regexec(&p->v[i].re, name, 0, NULL, 0) == 0)
			return 1;
	}
	return 0;
}

void
tfo_namepats_fini(struct tfo_namepats *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].name != NULL)
			free(p->v[i].name);
		else
			regfree(&p->v[i].re);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* -------------------------------------------------------------- redaction */

enum tfo_err
tfo_redact_init(struct tfo_redact *r, char *const *patterns, size_t n, char *err,
                size_t errcap)
{
	memset(r, 0, sizeof(*r));
	if (n == 0)
		return TFO_OK;
	if ((r->re = calloc(n, sizeof(*r->re))) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (patterns[i] == NULL || patterns[i][0] == '\0')
			continue;
		if ((rc = regcomp(&r->re[r->n], patterns[i], REG_EXTENDED)) != 0) {
			re_error("redact", patterns[i], rc, &r->re[r->n], err, errcap);
			regfree(&r->re[r->n]);
			return TFO_EINVAL;
		}
		r->n++;
	}
	return TFO_OK;
}

/* out_put - append n bytes to out (o of cap, one kept for the NUL) */
static void
out_put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (n > cap - 1 - *o)
		n = tfo_procfs_utf8_cut(s, cap - 1 - *o);
	memcpy(out + *o, s, n);
	*o += n;
}

/* redact_one - s (NUL-terminated) with every match of re masked, into out */
static size_t
redact_one(const regex_t *re, const char *s, char *out, size_t cap)
{
	const char *p = s;
	size_t o = 0, hits = 0;
	regmatch_t m[2];

	while (*p != '\0') {
		regoff_t so, eo;
		if (regexec(re, p, 2, m, p != s ? REG_NOTBOL : 0) != 0)
			break;
		so = m[0].rm_so;
		eo = m[0].rm_eo;
		if (re->re_nsub > 0 && m[1].rm_so >= 0) {   /* the group took part */
			so = m[1].rm_so;
			eo = m[1].rm_eo;
		}
		out_put(out, cap, &o, p, (size_t)so);
		if (eo > so) {
			out_put(out, cap, &o, REDACT_MASK, strlen(REDACT_MASK));
			hits++;
		}
		if (m[0].rm_eo == 0) {  /* empty match at p: keep one byte, move on */
			out_put(out, cap, &o, p, 1);
			p++;
		} else {
			if (eo < m[0].rm_eo)  /* the match's tail after the group */
				out_put(out, cap, &o, p + eo, (size_t)(m[0].rm_eo - eo));
			p += m[0].rm_eo;
		}
	}
	out_put(out, cap, &o, p, strlen(p));
	/* each piece is cut whole, but an empty match keeps one byte at a time:
	 * a lead byte kept just before the cap would end the text mid-character */
	o = tfo_procfs_utf8_cut(out, o);
	out[o] = '\0';
	return hits;
}

size_t
tfo_redact_apply(struct tfo_redact *r, char *s, size_t cap)
{
	size_t hits = 0;

	if (r->n == 0 || cap == 0)
		return 0;
	if (r->tmpcap < cap) {
		char *t = realloc(r->tmp, cap);
		if (t == NULL) {
			s[0] = '\0';    /* cannot redact: ship nothing rather than a secret */
			return 0;
		}
		r->tmp = t;
		r->tmpcap = cap;
	}
	for (size_t i = 0; i < r->n; i++) {
		hits += redact_one(&r->re[i], s, r->tmp, cap);
		memcpy(s, r->tmp, strlen(r->tmp) + 1);
	}
	return hits;
}

void
tfo_redact_fini(struct tfo_redact *r)
{
	for (size_t i = 0; i < r->n; i++)
		regfree(&r->re[i]);
	free(r->re);
	free(r->tmp);
	memset(r, 0, sizeof(*r));
}
