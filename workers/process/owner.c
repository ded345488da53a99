/*
 * owner.c - the uid -> name table of tfo-process, parsed from passwd text
 * (bounded: names checked, numbers overflow-checked, entries capped).
 */
#include <stdlib.h>
#include <string.h>

#include "workers/process/owner.h"

/* name_ok - useradd's portable set plus '$' (machine accounts) */
static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= TFO_OWNER_NAME_MAX || s[0] == '-' || s[0] == '+')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1)))
			return 0;
	}
	return 1;
}

/* parse_line - "name:pw:uid:..." of line[0..n) into e; 0 ok */
static int
parse_line(const char *line, size_t n, struct tfo_owner *e)
{
	const char *c1 = memchr(line, ':', n), *c2, *c3;
	uint64_t uid = 0;

	if (c1 == NULL || !name_ok(line, (size_t)(c1 - line)))
		return -1;
	if ((c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line))) == NULL)
		return -1;
	c3 = c2 + 1;
	if (c3 >= line + n || *c3 < '0' || *c3 > '9')
		return -1;
	for (; c3 < line + n && *c3 >= '0' && *c3 <= '9'; c3++)
		if ((uid = uid * 10 + (uint64_t)(*c3 - '0')) > UINT32_MAX)
			return -1;
	if (c3 >= line + n || *c3 != ':')
		return -1;
	e->uid = (uint32_t)uid;
	memcpy(e->name, line, (size_t)(c1 - line));
	e->name[c1 - line] = '\0';
	return 0;
}

struct tagged {
	struct tfo_owner e;
	size_t line;
};

/* by_uid_line - uid, then line order: the first line of a uid sorts first */
static int
by_uid_line(const void *a, const void *b)
{
	const struct tagged *x = a, *y = b;

	if (x->e.uid != y->e.uid)
		return x->e.uid < y->e.uid ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

enum tfo_err
tfo_owners_parse(struct tfo_owners *o, const char *buf, size_t len)
{
	struct tagged *t = NULL;
	struct tfo_owner *v;
	size_t n = 0, cap = 0, i = 0, out = 0;

	while (i < len && n < TFO_OWNERS_MAX) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t ln = nl != NULL ? (size_t)(nl - (buf + i)) : len - i;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct tagged *nt = realloc(t, nc * sizeof(*t));
			if (nt == NULL) {
				free(t);
				return TFO_ENOMEM;
			}
			t = nt;
			cap = nc;
		}
		if (parse_line(buf + i, ln, &t[n].e) == 0)
			t[n].line = n, n++;
		i += ln + 1;
	}
	if ((v = malloc((n ? n : 1) * sizeof(*v))) == NULL) {
		free(t);
		return TFO_ENOMEM;
	}
	if (n > 0)
		qsort(t, n, sizeof(*t), by_uid_line);
	for (size_t k = 0; k < n; k++)
		if (out == 0 || v[out - 1].uid != t[k].e.uid)
			v[out++] = t[k].e;
	free(t);
	tfo_owners_fini(o);
	o->v = v;
	o->n = out;
	return TFO_OK;
}

const char *
tfo_owners_name(const struct tfo_owners *o, uint32_t uid)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->v[mid].uid == uid)
			return o->v[mid].name;
		if (o->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
tfo_owners_fini(struct tfo_owners *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
}
