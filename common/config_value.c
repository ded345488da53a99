/*
 * config_value.c - text -> typed field conversion for one table row (bools,
 * integers, durations, sizes, enums, lists, the tags map), with bounds, and
 * the reverse formatting. Runs in tfo-supervisor and tfoctl.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_impl.h"

#define FIELD(cfg, r, type) ((type *)(void *)((char *)(cfg) + (r)->off))

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit dur_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	{ NULL, 0 },
};
static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 },
	{ "GiB", 1024 * 1024 * 1024 }, { NULL, 0 },
};

/* parse_digits - leading decimal digits of s into *v; count of digits, 0 on overflow/none */
static size_t
parse_digits(const char *s, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return 0;
		*v = *v * 10 + d;
	}
	return i;
}

static int
parse_uint(const char *s, uint64_t *v)
{
	size_t n = parse_digits(s, v);

	return n > 0 && s[n] == '\0' && n <= 20 ? 0 : -1;
}

/* parse_duration - "1h30m", "500ms", "0"; sum in ms. A unit is required. */
static int
parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		uint64_t n;
		size_t nd = parse_digits(s, &n), ul = 0;
		const struct unit *u = NULL;
		if (nd == 0)
			return -1;
		s += nd;
		for (const struct unit *c = dur_units; c->name; c++) {
			size_t l = strlen(c->name);
			/* longest match: "ms" before "m" */
			if (strncmp(s, c->name, l) == 0 && l > ul) {
				u = c;
				ul = l;
			}
		}
		if (u == NULL || n > UINT64_MAX / u->mult || total > UINT64_MAX - n * u->mult)
			return -1;
		total += n * u->mult;
		s += ul;
	}
	*ms = total;
	return 0;
}

static int
parse_size(const char *s, uint64_t *bytes)
{
	uint64_t n;
	size_t nd = parse_digits(s, &n);

	if (nd == 0)
		return -1;
	for (const struct unit *u = size_units; u->name; u++)
		if (strcmp(s + nd, u->name) == 0) {
			if (n > UINT64_MAX / u->mult)
				return -1;
			*bytes = n * u->mult;
			return 0;
		}
	return -1;
}

static int
parse_bool(const char *s, int *b)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*b = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		*b = 0;
	else
		return -1;
	return 0;
}

/* tfo_cfg_fmt_duration - largest exact unit: 300000 -> "5m", 1500 -> "1500ms" */
void
tfo_cfg_fmt_duration(uint64_t ms, char *buf, size_t bufsz)
{
	const struct unit *best = &dur_units[0];

	for (const struct unit *u = dur_units; u->name; u++)
		if (ms != 0 && ms % u->mult == 0)
			best = u;
	if (ms == 0)
		snprintf(buf, bufsz, "0");
	else
		snprintf(buf, bufsz, "%llu%s", (unsigned long long)(ms / best->mult), best->name);
}

void
tfo_cfg_fmt_size(uint64_t bytes, char *buf, size_t bufsz)
{
	const struct unit *best = &size_units[0];

	for (const struct unit *u = size_units; u->name; u++)
		if (bytes != 0 && bytes % u->mult == 0 && u->name[0] != 'B')
			best = u;
	snprintf(buf, bufsz, "%llu%s", (unsigned long long)(bytes / best->mult), best->name);
}

static void
fmt_num(const struct cfg_row *r, uint64_t v, char *buf, size_t bufsz)
{
	if (r->type == CT_DUR || r->type == CT_DUR64)
		tfo_cfg_fmt_duration(v, buf, bufsz);
	else if (r->type == CT_SIZE)
		tfo_cfg_fmt_size(v, buf, bufsz);
	else
		snprintf(buf, bufsz, "%llu", (unsigned long long)v);
}

/*
 * ctl_check - refuse control characters: values end up in HTTP headers
 * (key id, agent id), file paths and log lines, where CR/LF would inject.
 */
static int
ctl_check(const char *s, char *err, size_t errsz)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errsz, "contains a control character (0x%02x)", *p);
			return -1;
		}
	return 0;
}

/* set_string - replace a char * field with a copy of text, length-checked */
static int
set_string(const struct cfg_row *r, char **field, const char *text, char *err, size_t errsz)
{
	size_t n = strlen(text);
	char *c;

	if (n < r->min) {
		snprintf(err, errsz, "must not be empty");
		return -1;
	}
	if (ctl_check(text, err, errsz) != 0)
		return -1;
	if (r->max && n > r->max) {
		snprintf(err, errsz, "too long: %zu bytes (max %llu)", n, (unsigned long long)r->max);
		return -1;
	}
	if ((c = strdup(text)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	free(*field);
	*field = c;
	return 0;
}

static int
set_enum(const struct cfg_row *r, char **field, const char *text, char *err, size_t errsz)
{
	size_t used = 0;

	for (const char *const *a = r->allowed; *a; a++)
		if (strcmp(*a, text) == 0)
			return set_string(r, field, text, err, errsz);
	used = (size_t)snprintf(err, errsz, "bad value \"%s\": allowed values are ", text);
	for (const char *const *a = r->allowed; *a && used < errsz; a++)
		used += (size_t)snprintf(err + used, errsz - used, "%s%s", a == r->allowed ? "" : ", ", *a);
	return -1;
}

static int
set_double(const struct cfg_row *r, double *field, const char *text, char *err, size_t errsz)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(d) ||
	    (text[0] != '-' && (text[0] < '0' || text[0] > '9'))) {
		snprintf(err, errsz, "expected a number, got \"%s\"", text);
		return -1;
	}
	if (d < r->dmin || d > r->dmax) {
		snprintf(err, errsz, "out of range: %s (allowed %g..%g)", text, r->dmin, r->dmax);
		return -1;
	}
	*field = d;
	return 0;
}

/* convert_num - text of a numeric row into v (in the field's unit) or an error */
static int
convert_num(const struct cfg_row *r, const char *text, uint64_t *v, char *err, size_t errsz)
{
	switch (r->type) {
	case CT_DUR:
	case CT_DUR64:
		if (parse_duration(text, v) == 0)
			return 0;
		snprintf(err, errsz, "bad duration \"%s\": expected a number with a unit "
		    "ms, s, m, h or d (e.g. 15s, 1m30s)", text);
		return -1;
	case CT_SIZE:
		if (parse_size(text, v) == 0)
			return 0;
		snprintf(err, errsz, "bad size \"%s\": expected bytes, optionally with "
		    "KiB, MiB or GiB (e.g. 65536, 64KiB)", text);
		return -1;
	default:
		if (parse_uint(text, v) == 0)
			return 0;
		snprintf(err, errsz, "expected an unsigned integer, got \"%s\"", text);
		return -1;
	}
}

static int
set_num(const struct cfg_row *r, struct tfo_config *cfg, const char *text, char *err,
    size_t errsz)
{
	uint64_t v;

	if (convert_num(r, text, &v, err, errsz) != 0)
		return -1;
	if (v < r->min || v > r->max) {
		char a[32], b[32], c[32];
		fmt_num(r, v, a, sizeof(a));
		fmt_num(r, r->min, b, sizeof(b));
		fmt_num(r, r->max, c, sizeof(c));
		snprintf(err, errsz, "out of range: %s (allowed %s..%s)", a, b, c);
		return -1;
	}
	if (r->type == CT_U64 || r->type == CT_DUR64)
		*FIELD(cfg, r, uint64_t) = v;
	else
		*FIELD(cfg, r, uint32_t) = (uint32_t)v;
	return 0;
}

/* tfo_cfg_set - convert `text` for scalar row r into its field of cfg */
int
tfo_cfg_set(const struct cfg_row *r, struct tfo_config *cfg, const char *text,
    char *err, size_t errsz)
{
	switch (r->type) {
	case CT_STR:
		return set_string(r, FIELD(cfg, r, char *), text, err, errsz);
	case CT_ENUM:
		return set_enum(r, FIELD(cfg, r, char *), text, err, errsz);
	case CT_BOOL:
		if (parse_bool(text, FIELD(cfg, r, int)) == 0)
			return 0;
		snprintf(err, errsz, "expected true or false, got \"%s\"", text);
		return -1;
	case CT_DOUBLE:
		return set_double(r, FIELD(cfg, r, double), text, err, errsz);
	case CT_U32:
	case CT_U64:
	case CT_DUR:
	case CT_DUR64:
	case CT_SIZE:
		return set_num(r, cfg, text, err, errsz);
	case CT_LIST:
	case CT_MAP:
		break;
	}
	snprintf(err, errsz, "expected a scalar");
	return -1;
}

/* tfo_cfg_list_add - append one entry to a list row */
int
tfo_cfg_list_add(const struct cfg_row *r, struct tfo_config *cfg, const char *text,
    char *err, size_t errsz)
{
	struct tfo_strlist *l = FIELD(cfg, r, struct tfo_strlist);
	size_t n = strlen(text);

	if (l->n >= TFO_CFG_MAX_LIST) {
		snprintf(err, errsz, "too many entries (max %d)", TFO_CFG_MAX_LIST);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errsz, "empty list entry");
		return -1;
	}
	if (n > r->max) {
		snprintf(err, errsz, "entry too long: %zu bytes (max %llu)", n,
		    (unsigned long long)r->max);
		return -1;
	}
	if (ctl_check(text, err, errsz) != 0)
		return -1;
	if ((l->v[l->n] = strdup(text)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	l->n++;
	return 0;
}

/* tfo_cfg_map_add - add key: value to the tags map; duplicates are the caller's check */
int
tfo_cfg_map_add(const struct cfg_row *r, struct tfo_config *cfg, const char *key,
    const char *value, char *err, size_t errsz)
{
	struct tfo_tag *tags = FIELD(cfg, r, struct tfo_tag);
	size_t *n = (size_t *)(void *)((char *)cfg + r->off2);

	if (*n >= TFO_CFG_MAX_TAGS) {
		snprintf(err, errsz, "too many entries (max %d)", TFO_CFG_MAX_TAGS);
		return -1;
	}
	if (key[0] == '\0' || strlen(key) > 256 || strlen(value) > r->max) {
		snprintf(err, errsz, key[0] ? "too long" : "empty key");
		return -1;
	}
	if (ctl_check(key, err, errsz) != 0 || ctl_check(value, err, errsz) != 0)
		return -1;
	tags[*n].key = strdup(key);
	tags[*n].value = strdup(value);
	if (tags[*n].key == NULL || tags[*n].value == NULL) {
		free(tags[*n].key);
		free(tags[*n].value);
		tags[*n].key = tags[*n].value = NULL;
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	(*n)++;
	return 0;
}

/* tfo_cfg_row_clear - free what the row owns and reset it to zero/empty */
void
tfo_cfg_row_clear(const struct cfg_row *r, struct tfo_config *cfg)
{
	switch (r->type) {
	case CT_STR:
	case CT_ENUM:
		free(*FIELD(cfg, r, char *));
		*FIELD(cfg, r, char *) = NULL;
		break;
	case CT_LIST: {
		struct tfo_strlist *l = FIELD(cfg, r, struct tfo_strlist);
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i]);
		memset(l, 0, sizeof(*l));
		break;
	}
	case CT_MAP: {
		struct tfo_tag *tags = FIELD(cfg, r, struct tfo_tag);
		size_t *n = (size_t *)(void *)((char *)cfg + r->off2);
		for (size_t i = 0; i < *n; i++) {
			free(tags[i].key);
			free(tags[i].value);
			tags[i].key = tags[i].value = NULL;
		}
		*n = 0;
		break;
	}
	default:
		break;
	}
}

/* yaml_quote - s as a YAML scalar: plain when safe, else double-quoted */
static void
yaml_quote(const char *s, char *buf, size_t bufsz)
{
	size_t o = 0;
	int plain = s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-./:") == strlen(s) && strcmp(s, "null") != 0 &&
	    strcmp(s, "true") != 0 && strcmp(s, "false") != 0 &&
	    strspn(s, "0123456789.") != strlen(s);     /* "1.2" stays a string in any YAML reader */

	if (plain) {
		snprintf(buf, bufsz, "%s", s);
		return;
	}
	buf[o++] = '"';
	for (; *s && o + 3 < bufsz; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* tfo_cfg_fmt_value - the row's current value as YAML text (lists in flow style) */
void
tfo_cfg_fmt_value(const struct cfg_row *r, const struct tfo_config *cfg, char *buf, size_t bufsz)
{
	const char *base = (const char *)cfg + r->off;

	switch (r->type) {
	case CT_STR:
	case CT_ENUM: {
		const char *s = *(char *const *)(const void *)base;
		yaml_quote(s ? s : "", buf, bufsz);
		break;
	}
	case CT_BOOL:
		snprintf(buf, bufsz, "%s", *(const int *)(const void *)base ? "true" : "false");
		break;
	case CT_DOUBLE:
		snprintf(buf, bufsz, "%g", *(const double *)(const void *)base);
		break;
	case CT_U64:
	case CT_DUR64:
		fmt_num(r, *(const uint64_t *)(const void *)base, buf, bufsz);
		break;
	case CT_U32:
	case CT_DUR:
	case CT_SIZE:
		fmt_num(r, *(const uint32_t *)(const void *)base, buf, bufsz);
		break;
	case CT_LIST: {
		const struct tfo_strlist *l = (const void *)base;
		size_t o = (size_t)snprintf(buf, bufsz, "[");
		for (size_t i = 0; i < l->n && o < bufsz; i++) {
			char q[1024];
			yaml_quote(l->v[i], q, sizeof(q));
			o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", q);
		}
		if (o < bufsz)
			snprintf(buf + o, bufsz - o, "]");
		break;
	}
	case CT_MAP: {
		const struct tfo_tag *t = (const void *)base;
		size_t n = *(const size_t *)(const void *)((const char *)cfg + r->off2);
		size_t o = (size_t)snprintf(buf, bufsz, "{");
		for (size_t i = 0; i < n && o < bufsz; i++) {
			char k[300], v[1100];
			yaml_quote(t[i].key, k, sizeof(k));
			yaml_quote(t[i].value, v, sizeof(v));
			o += (size_t)snprintf(buf + o, bufsz - o, "%s%s: %s", i ? ", " : "", k, v);
		}
		if (o < bufsz)
			snprintf(buf + o, bufsz - o, "}");
		break;
	}
	}
}
