/*
 * config_yaml.c - walks libyaml events of a config file against the key table,
 * with ${VAR} expansion, and records diagnostics with line/column/key path.
 * Runs in tfo-supervisor and tfoctl; the input is hostile (bounded everywhere).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/config_impl.h"

struct walk {
	struct cfg_loader *ld;
	yaml_parser_t p;
	yaml_event_t ev;
	int have;               /* ev holds an event to delete */
	char secseen[32][CFG_MAX_KEY + 1];      /* section paths met, for duplicates */
	int secline[32];
	size_t nsec;
};

/* tfo_cfg_diag - record one diagnostic; past the cap, stop the load */
void
tfo_cfg_diag(struct cfg_loader *ld, int warning, int line, int column, const char *key,
    const char *fmt, ...)
{
	struct tfo_cfg_diags *ds = ld->diags;
	struct tfo_cfg_diag *d;
	va_list ap;

	if (ds->n >= TFO_CFG_MAX_DIAGS) {
		ld->aborted = 1;
		return;
	}
	d = &ds->d[ds->n++];
	memset(d, 0, sizeof(*d));
	d->warning = warning;
	d->line = line;
	d->column = column;
	snprintf(d->key, sizeof(d->key), "%s", key ? key : "");
	if (ds->n == TFO_CFG_MAX_DIAGS) {
		snprintf(d->msg, sizeof(d->msg), "too many errors, stopping");
		d->warning = 0;
		ld->aborted = 1;
	} else {
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	if (!d->warning)
		ds->errors++;
}

static int
ev_line(const struct walk *w)
{
	return (int)w->ev.start_mark.line + 1;
}

static int
ev_col(const struct walk *w)
{
	return (int)w->ev.start_mark.column + 1;
}

#define EDIAG(w, key, ...) tfo_cfg_diag((w)->ld, 0, ev_line(w), ev_col(w), key, __VA_ARGS__)

static void
syntax_error(struct cfg_loader *ld, const yaml_parser_t *p)
{
	const char *prob = p->problem ? p->problem : "unknown problem";
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->context)
		tfo_cfg_diag(ld, 0, line, col, "", "YAML syntax error: %s (%s at line %d)",
		    prob, p->context, (int)p->context_mark.line + 1);
	else
		tfo_cfg_diag(ld, 0, line, col, "", "YAML syntax error: %s", prob);
	ld->aborted = 1;
}

/* next - advance to the next event; a syntax error (pre-checked) stops the walk */
static int
next(struct walk *w, const char *key)
{
	(void)key;
	if (w->have)
		yaml_event_delete(&w->ev);
	w->have = 0;
	if (w->ld->aborted)
		return -1;
	if (!yaml_parser_parse(&w->p, &w->ev)) {
		syntax_error(w->ld, &w->p);
		return -1;
	}
	w->have = 1;
	return 0;
}

/*
 * precheck - one pass over the events for syntax errors and nesting depth
 * only, so that a broken file gets one clear error and no follow-on noise.
 */
static int
precheck(struct cfg_loader *ld, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, done = 0, rc = 0;

	if (!yaml_parser_initialize(&p))
		return -1;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(ld, &p);
			rc = -1;
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
			if (++depth > CFG_MAX_DEPTH) {
				tfo_cfg_diag(ld, 0, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, "", "nesting deeper than %d levels",
				    CFG_MAX_DEPTH);
				ld->aborted = 1;
				rc = -1;
			}
		} else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			depth--;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

static const char *
kind_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "a scalar";
	}
}

/*
 * refuse_anchor - anchors and aliases are refused: an alias bomb ("billion
 * laughs") expands exponentially, and nothing in this config needs sharing.
 */
static int
refuse_anchor(struct walk *w, const char *key)
{
	const yaml_char_t *anchor = NULL;

	if (w->ev.type == YAML_SCALAR_EVENT)
		anchor = w->ev.data.scalar.anchor;
	else if (w->ev.type == YAML_MAPPING_START_EVENT)
		anchor = w->ev.data.mapping_start.anchor;
	else if (w->ev.type == YAML_SEQUENCE_START_EVENT)
		anchor = w->ev.data.sequence_start.anchor;
	if (anchor == NULL && w->ev.type != YAML_ALIAS_EVENT)
		return 0;
	EDIAG(w, key, "YAML anchors and aliases are not supported");
	return -1;
}

/* skip_node - consume the node whose first event is current, bounded in depth */
static int
skip_node(struct walk *w, const char *key, int depth)
{
	int level = 0;

	do {
		if (w->ev.type == YAML_MAPPING_START_EVENT || w->ev.type == YAML_SEQUENCE_START_EVENT) {
			if (depth + ++level > CFG_MAX_DEPTH) {
				EDIAG(w, key, "nesting deeper than %d levels", CFG_MAX_DEPTH);
				w->ld->aborted = 1;
				return -1;
			}
		} else if (w->ev.type == YAML_MAPPING_END_EVENT || w->ev.type == YAML_SEQUENCE_END_EVENT) {
			level--;
		}
		if (level == 0)
			return 0;
	} while (next(w, key) == 0);
	return -1;
}

static int
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (v[0] == '\0' || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	    !strcmp(v, "NULL"));
}

/* scalar_raw - the current scalar (a key) unexpanded, at most outsz - 1 bytes */
static int
scalar_raw(struct walk *w, const char *key, char *out, size_t outsz)
{
	size_t len = w->ev.data.scalar.length;

	if (len >= outsz) {
		EDIAG(w, key, "key too long (max %zu bytes)", outsz - 1);
		return -1;
	}
	if (memchr(w->ev.data.scalar.value, '\0', len) != NULL) {
		EDIAG(w, key, "key contains a NUL byte");
		return -1;
	}
	memcpy(out, w->ev.data.scalar.value, len + 1);
	return 0;
}

/* scalar_text - the current scalar, bounded, NUL-free, ${} expanded into out */
static int
scalar_text(struct walk *w, const char *key, char *out, size_t outsz)
{
	const char *v = (const char *)w->ev.data.scalar.value;
	size_t len = w->ev.data.scalar.length;
	char err[256];

	if (len > CFG_MAX_SCALAR) {
		EDIAG(w, key, "value too long (max %d bytes)", CFG_MAX_SCALAR);
		return -1;
	}
	if (memchr(v, '\0', len) != NULL) {
		EDIAG(w, key, "value contains a NUL byte");
		return -1;
	}
	if (tfo_cfg_expand(v, len, out, outsz, err, sizeof(err)) != 0) {
		EDIAG(w, key, "%s", err);
		return -1;
	}
	return 0;
}

static int
walk_scalar_row(struct walk *w, const struct cfg_row *r, const char *key)
{
	char text[CFG_MAX_SCALAR + 1], err[512];

	if (w->ev.type != YAML_SCALAR_EVENT) {
		EDIAG(w, key, "expected a scalar, got %s", kind_name(w->ev.type));
		return skip_node(w, key, 0);
	}
	if (is_null(&w->ev)) {
		if (r->type != CT_STR) {
			EDIAG(w, key, "missing value");
			return 0;
		}
		text[0] = '\0';        /* "key:" or "key: ~" is the empty string */
	} else if (scalar_text(w, key, text, sizeof(text)) != 0) {
		return 0;
	}
	if (tfo_cfg_set(r, w->ld->cfg, text, err, sizeof(err)) != 0)
		EDIAG(w, key, "%s", err);
	return 0;
}

static int
walk_list_row(struct walk *w, const struct cfg_row *r, const char *key)
{
	char text[CFG_MAX_SCALAR + 1], err[512];
	int full = 0;

	tfo_cfg_row_clear(r, w->ld->cfg);      /* the file replaces the default list */
	if (w->ev.type == YAML_SCALAR_EVENT && is_null(&w->ev))
		return 0;
	if (w->ev.type != YAML_SEQUENCE_START_EVENT) {
		EDIAG(w, key, "expected a list, got %s", kind_name(w->ev.type));
		return skip_node(w, key, 0);
	}
	while (next(w, key) == 0 && w->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (refuse_anchor(w, key) != 0 && w->ev.type == YAML_ALIAS_EVENT)
			continue;
		if (w->ev.type != YAML_SCALAR_EVENT) {
			EDIAG(w, key, "expected a scalar list entry, got %s", kind_name(w->ev.type));
			if (skip_node(w, key, 1) != 0)
				return -1;
			continue;
		}
		if (full || scalar_text(w, key, text, sizeof(text)) != 0)
			continue;
		if (tfo_cfg_list_add(r, w->ld->cfg, text, err, sizeof(err)) != 0) {
			EDIAG(w, key, "%s", err);
			full = strncmp(err, "too many", 8) == 0;    /* one error, not 1000 */
		}
	}
	return w->ld->aborted ? -1 : 0;
}

/* walk_map_row - agent.tags: a mapping of scalar keys to scalar values */
static int
walk_map_row(struct walk *w, const struct cfg_row *r, const char *key, int depth)
{
	char k[257], v[CFG_MAX_SCALAR + 1], path[CFG_MAX_KEY + 1], err[512];
	struct tfo_config *cfg = w->ld->cfg;

	tfo_cfg_row_clear(r, cfg);
	if (w->ev.type == YAML_SCALAR_EVENT && is_null(&w->ev))
		return 0;
	if (w->ev.type != YAML_MAPPING_START_EVENT) {
		EDIAG(w, key, "expected a mapping, got %s", kind_name(w->ev.type));
		return skip_node(w, key, depth);
	}
	while (next(w, key) == 0 && w->ev.type != YAML_MAPPING_END_EVENT) {
		int line = ev_line(w), col = ev_col(w), bad = 0;
		if (w->ev.type != YAML_SCALAR_EVENT || refuse_anchor(w, key) != 0) {
			if (w->ev.type != YAML_SCALAR_EVENT)
				EDIAG(w, key, "mapping keys must be scalars");
			bad = 1;
		} else if (scalar_raw(w, key, k, 257) != 0) {
			bad = 1;
		}
		if (skip_node(w, key, depth + 1) != 0 || next(w, key) != 0)
			return -1;
		/* a long tag name is shown cut: the path is for humans */
		if (snprintf(path, sizeof(path), "%s.%s", key, bad ? "?" : k) >= (int)sizeof(path))
			memcpy(path + sizeof(path) - 4, "...", 4);
		if (refuse_anchor(w, path) != 0 || w->ev.type != YAML_SCALAR_EVENT) {
			if (w->ev.type != YAML_SCALAR_EVENT && w->ev.type != YAML_ALIAS_EVENT)
				EDIAG(w, path, "expected a scalar, got %s", kind_name(w->ev.type));
			if (skip_node(w, path, depth + 1) != 0)
				return -1;
			continue;
		}
		if (bad || scalar_text(w, path, v, sizeof(v)) != 0)
			continue;
		for (size_t i = 0; i < cfg->agent.ntags; i++)
			if (strcmp(cfg->agent.tags[i].key, k) == 0) {
				tfo_cfg_diag(w->ld, 0, line, col, path, "duplicate key");
				bad = 1;
				break;
			}
		if (!bad && tfo_cfg_map_add(r, cfg, k, v, err, sizeof(err)) != 0)
			tfo_cfg_diag(w->ld, 0, line, col, path, "%s", err);
	}
	return w->ld->aborted ? -1 : 0;
}

/* section_dup - whether section `path` was met before (then its line in *first) */
static int
section_dup(struct walk *w, const char *path, int line, int *first)
{
	for (size_t i = 0; i < w->nsec; i++)
		if (strcmp(w->secseen[i], path) == 0) {
			*first = w->secline[i];
			return 1;
		}
	if (w->nsec < sizeof(w->secline) / sizeof(w->secline[0])) {
		snprintf(w->secseen[w->nsec], sizeof(w->secseen[0]), "%s", path);
		w->secline[w->nsec++] = line;
	}
	return 0;
}

static int walk_mapping(struct walk *w, const char *prefix, int depth);

/* walk_value - the value of key `path` (current event), known row or section */
static int
walk_value(struct walk *w, const char *path, int keyline, int keycol, int depth)
{
	int row = tfo_cfg_row_find(path), first;
	struct cfg_mark *seen;

	if (refuse_anchor(w, path) != 0 && w->ev.type == YAML_ALIAS_EVENT)
		return 0;
	if (row < 0) {
		if (w->ev.type == YAML_SCALAR_EVENT && is_null(&w->ev))
			return 0;       /* an empty section: "multiline:" */
		if (w->ev.type != YAML_MAPPING_START_EVENT) {
			EDIAG(w, path, "expected a mapping, got %s", kind_name(w->ev.type));
			return skip_node(w, path, depth);
		}
		if (section_dup(w, path, keyline, &first))
			tfo_cfg_diag(w->ld, 0, keyline, keycol, path,
			    "duplicate key (first at line %d)", first);
		return walk_mapping(w, path, depth + 1);
	}
	seen = &w->ld->seen[row];
	if (seen->line) {
		tfo_cfg_diag(w->ld, 0, keyline, keycol, path, "duplicate key (first at line %d)",
		    seen->line);
		return skip_node(w, path, depth);
	}
	seen->line = keyline;
	seen->column = keycol;
	seen->literal = w->ev.type != YAML_SCALAR_EVENT ||
	    strstr((const char *)w->ev.data.scalar.value, "${") == NULL;
	switch (tfo_cfg_rows[row].type) {
	case CT_LIST:
		return walk_list_row(w, &tfo_cfg_rows[row], path);
	case CT_MAP:
		return walk_map_row(w, &tfo_cfg_rows[row], path, depth);
	default:
		return walk_scalar_row(w, &tfo_cfg_rows[row], path);
	}
}

/* key_path - prefix.key into path; -1 (with a diagnostic) when too long */
static int
key_path(struct walk *w, const char *prefix, const char *key, char *path, size_t pathsz)
{
	int n = snprintf(path, pathsz, "%s%s%s", prefix, prefix[0] ? "." : "", key);

	if (n < 0 || (size_t)n >= pathsz) {
		snprintf(path, pathsz, "%s", prefix);
		EDIAG(w, path, "unknown key \"%.40s...\"", key);
		return -1;
	}
	return 0;
}

static void
unknown_key(struct walk *w, const char *prefix, const char *key, const char *path)
{
	char hint[64];

	if (tfo_cfg_suggest(prefix, key, hint, sizeof(hint)) == 0)
		EDIAG(w, path, "unknown key \"%s\"; did you mean \"%s\"?", key, hint);
	else
		EDIAG(w, path, "unknown key \"%s\"", key);
}

/* walk_mapping - a section's mapping; current event is its MAPPING_START */
static int
walk_mapping(struct walk *w, const char *prefix, int depth)
{
	char key[CFG_MAX_KEY + 1], path[CFG_MAX_KEY + 1];

	if (depth > CFG_MAX_DEPTH)
		return skip_node(w, prefix, depth);
	while (next(w, prefix) == 0 && w->ev.type != YAML_MAPPING_END_EVENT) {
		int line = ev_line(w), col = ev_col(w), known = 0;
		if (w->ev.type != YAML_SCALAR_EVENT) {
			if (w->ev.type != YAML_ALIAS_EVENT)
				EDIAG(w, prefix, "mapping keys must be scalars");
			else
				refuse_anchor(w, prefix);
		} else if (refuse_anchor(w, prefix) == 0 &&
		    scalar_raw(w, prefix, key, CFG_MAX_KEY + 1) == 0) {
			known = key_path(w, prefix, key, path, sizeof(path)) == 0;
			if (known && tfo_cfg_row_find(path) < 0 && !tfo_cfg_is_section(path)) {
				unknown_key(w, prefix, key, path);
				known = 0;
			}
		}
		if (skip_node(w, prefix, depth) != 0 || next(w, prefix) != 0)
			return -1;
		if (known ? walk_value(w, path, line, col, depth) : skip_node(w, prefix, depth))
			return -1;
	}
	return w->ld->aborted ? -1 : 0;
}

/* walk_document - stream: zero or one document whose root is a mapping */
static void
walk_document(struct walk *w)
{
	if (next(w, "") != 0 || next(w, "") != 0)     /* STREAM_START, then document or end */
		return;
	if (w->ev.type == YAML_STREAM_END_EVENT)
		return;                 /* empty file: every default */
	if (next(w, "") != 0)
		return;
	if (w->ev.type == YAML_MAPPING_START_EVENT && refuse_anchor(w, "") == 0) {
		if (walk_mapping(w, "", 1) != 0)
			return;
	} else if (!(w->ev.type == YAML_SCALAR_EVENT && is_null(&w->ev))) {
		if (w->ev.type != YAML_MAPPING_START_EVENT)
			EDIAG(w, "", "the top level must be a mapping, got %s", kind_name(w->ev.type));
		if (skip_node(w, "", 0) != 0)
			return;
	}
	if (next(w, "") != 0 || next(w, "") != 0)     /* DOCUMENT_END, then STREAM_END */
		return;
	if (w->ev.type == YAML_DOCUMENT_START_EVENT)
		EDIAG(w, "", "only one YAML document is allowed");
}

/* tfo_cfg_parse_yaml - apply the YAML text to ld->cfg (defaults already set) */
void
tfo_cfg_parse_yaml(struct cfg_loader *ld, const char *text, size_t len)
{
	struct walk *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		tfo_cfg_diag(ld, 0, 0, 0, "", "out of memory");
		return;
	}
	w->ld = ld;
	if (precheck(ld, text, len) != 0) {
		free(w);
		return;
	}
	if (!yaml_parser_initialize(&w->p)) {
		tfo_cfg_diag(ld, 0, 0, 0, "", "out of memory");
		free(w);
		return;
	}
	yaml_parser_set_input_string(&w->p, (const unsigned char *)text, len);
	walk_document(w);
	if (w->have)
		yaml_event_delete(&w->ev);
	yaml_parser_delete(&w->p);
	free(w);
}

/*
 * tfo_cfg_expand - ${VAR} and ${VAR:-default} in a value; "$$" is a literal
 * "$". An unset VAR without default, a bad name or a missing "}" is an error.
 * The default is literal text (no nesting). Output is bounded by outsz.
 */
int
tfo_cfg_expand(const char *in, size_t len, char *out, size_t outsz, char *err, size_t errsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		const char *add = in + i, *val;
		size_t addlen = 1;
		if (in[i] == '$' && i + 1 < len && in[i + 1] == '$') {
			i += 2;
		} else if (in[i] == '$' && i + 1 < len && in[i + 1] == '{') {
			const char *end = memchr(in + i + 2, '}', len - i - 2);
			size_t nlen = 0;
			char name[256];
			if (end == NULL) {
				snprintf(err, errsz, "unterminated \"${\" in value");
				return -1;
			}
			/* stops at the '}' at the latest */
			nlen = strspn(in + i + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_");
			if (nlen == 0 || nlen >= sizeof(name) || (in[i + 2] >= '0' && in[i + 2] <= '9') ||
			    (in + i + 2 + nlen != end && strncmp(in + i + 2 + nlen, ":-", 2) != 0)) {
				snprintf(err, errsz, "bad variable name in \"%.*s\"",
				    (int)(end - (in + i) + 1 > 64 ? 64 : end - (in + i) + 1), in + i);
				return -1;
			}
			memcpy(name, in + i + 2, nlen);
			name[nlen] = '\0';
			val = getenv(name);
			if (in + i + 2 + nlen != end) {        /* ${VAR:-default}: unset or empty */
				if (val == NULL || val[0] == '\0') {
					add = in + i + 2 + nlen + 2;
					addlen = (size_t)(end - add);
				} else {
					add = val;
					addlen = strlen(val);
				}
			} else if (val == NULL) {
				snprintf(err, errsz, "environment variable %s is not set "
				    "(use ${%s:-default})", name, name);
				return -1;
			} else {
				add = val;
				addlen = strlen(val);
			}
			i = (size_t)(end - in) + 1;
		} else {
			i++;
		}
		if (o + addlen >= outsz) {
			snprintf(err, errsz, "value too long after expansion (max %zu bytes)", outsz - 1);
			return -1;
		}
		memcpy(out + o, add, addlen);
		o += addlen;
	}
	out[o] = '\0';
	return 0;
}
