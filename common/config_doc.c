/*
 * config_doc.c - the documented example (configs/tfo-agent.yaml) and the
 * Markdown key reference (docs/configuration.md), both printed from the key
 * table so that neither can drift from the parser (the manual page is
 * config_man.c). Used by tests and tfoctl.
 */
#include <stdio.h>
#include <string.h>

#include "common/config_impl.h"

static const char example_header[] =
    "# tfo-agent configuration: every key, at its default.\n"
    "# A key left commented (\"# timeout: 10s\") follows another key when unset.\n"
    "#\n"
    "# Printed from the key table (common/config_table.c) by tfo_config_write_example();\n"
    "# unit.config_doc fails when this file and the table disagree.\n"
    "# Precedence: TELEMETRYFLOW_* environment variables > this file > defaults.\n"
    "# ${VAR} and ${VAR:-default} expand inside values; $$ is a literal $.\n"
    "# Durations need a unit: 500ms, 15s, 1m30s, 2h, 1d (a bare 0 is allowed).\n"
    "# Sizes are bytes, optionally with KiB, MiB or GiB: 65536, 64KiB, 1MiB.\n"
    "# Relative paths are resolved against the directory the agent starts in.\n"
    "# Errors read FILE:LINE:COL: KEY: message. Reference: docs/configuration.md\n";

/* split - number of dotted components of key, each start in c[] and length in l[] */
static size_t
split(const char *key, const char *c[], size_t l[], size_t max)
{
	size_t n = 0;

	while (n < max) {
		c[n] = key;
		l[n] = strcspn(key, ".");
		key += l[n++];
		if (*key++ == '\0')
			break;
	}
	return n;
}

static void
allowed_list(const struct cfg_row *r, const char *sep, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (const char *const *a = r->allowed; a && *a && o < bufsz; a++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", a == r->allowed ? "" : sep, *a);
}

void
tfo_config_write_example(FILE *fp)
{
	struct tfo_config cfg;
	const char *pc[8] = { 0 }, *c[8];
	size_t pl[8] = { 0 }, l[8], pn = 0;

	memset(&cfg, 0, sizeof(cfg));
	tfo_cfg_set_defaults(&cfg);
	fputs(example_header, fp);
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		size_t n = split(r->key, c, l, 8), same = 0;
		char val[2048], vals[256];
		while (same < n - 1 && same < pn - 1 && pn > 0 && l[same] == pl[same] &&
		    memcmp(c[same], pc[same], l[same]) == 0)
			same++;
		for (size_t k = same; k + 1 < n; k++) {
			if (k == 0)
				fputc('\n', fp);
			fprintf(fp, "%*s%.*s:\n", (int)(2 * k), "", (int)l[k], c[k]);
		}
		allowed_list(r, " | ", vals, sizeof(vals));
		fprintf(fp, "%*s# %s%s%s%s\n", (int)(2 * (n - 1)), "", r->doc,
		    r->allowed ? " (" : "", vals, r->allowed ? ")" : "");
		tfo_cfg_fmt_value(r, &cfg, val, sizeof(val));
		/* a key whose default follows another stays out, so that editing
		 * that other key alone in a copy of this file is enough */
		fprintf(fp, "%*s%s%.*s: %s\n", (int)(2 * (n - 1)), "",
		    tfo_cfg_row_follows(i) ? "# " : "", (int)l[n - 1], c[n - 1], val);
		memcpy(pc, c, sizeof(c));
		memcpy(pl, l, sizeof(l));
		pn = n;
	}
	tfo_config_free(&cfg);
}

const char *
tfo_cfg_type_name(enum cfg_type t)
{
	static const char *const names[] = {
		[CT_STR] = "string", [CT_BOOL] = "bool", [CT_U32] = "integer", [CT_U64] = "integer",
		[CT_DOUBLE] = "number", [CT_DUR] = "duration", [CT_DUR64] = "duration",
		[CT_SIZE] = "size", [CT_ENUM] = "enum", [CT_LIST] = "list of strings",
		[CT_MAP] = "map of strings",
	};
	return names[t];
}

/* tfo_cfg_bounds - the "allowed" column: range, values or length */
void
tfo_cfg_bounds(const struct cfg_row *r, char *buf, size_t bufsz)
{
	char a[32], b[32];

	switch (r->type) {
	case CT_ENUM:
		allowed_list(r, ", ", buf, bufsz);
		break;
	case CT_BOOL:
		snprintf(buf, bufsz, "true, false");
		break;
	case CT_DOUBLE:
		snprintf(buf, bufsz, "%g..%g", r->dmin, r->dmax);
		break;
	case CT_DUR:
	case CT_DUR64:
		tfo_cfg_fmt_duration(r->min, a, sizeof(a));
		tfo_cfg_fmt_duration(r->max, b, sizeof(b));
		snprintf(buf, bufsz, "%s..%s", a, b);
		break;
	case CT_SIZE:
		tfo_cfg_fmt_size(r->min, a, sizeof(a));
		tfo_cfg_fmt_size(r->max, b, sizeof(b));
		snprintf(buf, bufsz, "%s..%s", a, b);
		break;
	case CT_U32:
	case CT_U64:
		snprintf(buf, bufsz, "%llu..%llu", (unsigned long long)r->min,
		    (unsigned long long)r->max);
		break;
	case CT_STR:
		snprintf(buf, bufsz, "%s%llu bytes%s", r->min ? "non-empty, ≤ " : "≤ ",
		    (unsigned long long)r->max, r->flags & CF_PATH ? ", path" : "");
		break;
	case CT_LIST:
		snprintf(buf, bufsz, "≤ %d entries%s", TFO_CFG_MAX_LIST,
		    r->flags & CF_PATH ? ", paths" : "");
		break;
	case CT_MAP:
		snprintf(buf, bufsz, "≤ %d entries", TFO_CFG_MAX_TAGS);
		break;
	}
}

void
tfo_config_write_reference(FILE *fp)
{
	struct tfo_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	tfo_cfg_set_defaults(&cfg);
	fputs("| key | type | default | allowed | description |\n", fp);
	fputs("|---|---|---|---|---|\n", fp);
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		char val[2048], b[256];
		tfo_cfg_fmt_value(r, &cfg, val, sizeof(val));
		tfo_cfg_bounds(r, b, sizeof(b));
		fprintf(fp, "| `%s` | %s | `%s` | %s | %s |\n", r->key, tfo_cfg_type_name(r->type), val, b,
		    r->doc);
	}
	tfo_config_free(&cfg);
}
