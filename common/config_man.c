/*
 * config_man.c - tfo-agent.yaml(5), the manual page of the configuration
 * file, printed in roff from the key table and the environment overrides:
 * the same source as the parser, configs/tfo-agent.yaml and
 * docs/configuration.md, so the page cannot drift. Run at build time (man/).
 */
#include <stdio.h>
#include <string.h>

#include "common/config_impl.h"

#define TFO_STR_(x) #x
#define TFO_STR(x) TFO_STR_(x)

/* The fixed prose: each string is roff source, written for this page. */
static const char man_head[] =
    ".TH TFO\\-AGENT.YAML 5 \"\" \"tfo\\-agent " TFO_VERSION "\" \"tfo\\-agent\"\n"
    ".SH NAME\n"
    "tfo\\-agent.yaml \\- configuration file of the tfo\\-agent host telemetry agent\n"
    ".SH SYNOPSIS\n"
    ".B " TFO_CFG_DEFAULT_PATH "\n"
    ".SH DESCRIPTION\n"
    "One YAML document whose top level is a mapping.\n"
    "Only\n.BR tfo\\-supervisor (8)\nand\n.BR tfoctl (8)\n"
    "read it; each worker receives its own section over its control socket,\n"
    "and only the exporter and the heartbeat worker ever receive the API key.\n"
    "Every key below may be left out: it then has its default.\n"
    "The file shipped as " TFO_CFG_DEFAULT_PATH " lists every key at its default,\n"
    "with a one\\-line comment each.\n"
    ".PP\n"
    "Precedence: the environment variables of\n.B ENVIRONMENT\n"
    "over the file, the file over the defaults.\n"
    "A change takes effect on\n.B systemctl reload tfo\\-agent\n"
    "(SIGHUP) or\n.BR \"tfoctl reload\" ;\n"
    "only the workers whose section changed are restarted, and a file that does\n"
    "not load is refused while the running configuration stays.\n"
    ".SH VALUES\n"
    ".TP\n.B ${VAR} \\fRand\\fP ${VAR:\\-default}\n"
    "expand inside any value (not inside keys).\n"
    "An unset\n.I VAR\nwithout a default is an error; the default is used when\n"
    ".I VAR\nis unset or empty.\n.B $$\nis a literal $.\n"
    ".TP\n.B Durations\n"
    "a number with a unit, chained if need be:\n"
    ".BR 500ms ,\n.BR 15s ,\n.BR 1m30s ,\n.BR 2h ,\n.BR 1d .\n"
    "A bare number is refused, except 0.\n"
    ".TP\n.B Sizes\n"
    "bytes, optionally with KiB, MiB or GiB:\n.BR 65536 ,\n.BR 64KiB ,\n.BR 1MiB .\n"
    ".TP\n.B Booleans\n"
    ".B true\nor\n.BR false ;\n"
    "YAML 1.1's yes, no, on and off are refused as ambiguous.\n"
    ".TP\n.B Lists and maps\n"
    "YAML sequences of at most " TFO_STR(TFO_CFG_MAX_LIST) " non\\-empty strings (a list\n"
    "in the file replaces the default list); maps of at most " TFO_STR(TFO_CFG_MAX_TAGS) "\n"
    "string pairs.\n"
    ".TP\n.B Paths\n"
    "a relative path is made absolute against the directory the agent starts in.\n"
    ".PP\n"
    "The file is parsed as untrusted input: at most 1 MiB, nesting at most 32\n"
    "levels, scalars at most 4096 bytes, no control characters in strings,\n"
    "and no YAML anchors or aliases.\n";

static const char man_tail[] =
    ".SH DIAGNOSTICS\n"
    "Every problem is reported, one per line, and the load fails:\n"
    ".PP\n.RS\n.I FILE\\fR:\\fPLINE\\fR:\\fPCOL\\fR: \\fPKEY\\fR: \\fPmessage\n.RE\n"
    ".PP\n"
    "LINE and COL point at the offending key or value; KEY is the dotted key\n"
    "path. Warnings read\n"
    ".IR FILE :\\fILINE\\fP:\\fICOL\\fP:\\ warning:\\ \\fIKEY\\fP:\\ message\n"
    "and do not fail the load: a literal\n.B telemetryflow.api_key_secret\n"
    "in a file that group or others may read draws one.\n"
    "Check a file with\n.B tfoctl config validate\n.I FILE\nor\n"
    ".BR \"tfo\\-supervisor \\-\\-check \\-\\-config\" \\ \\fIFILE\\fP.\n"
    ".SH FILES\n"
    ".TP\n.B " TFO_CFG_DEFAULT_PATH "\n"
    "the configuration; mode 0600 root, since it may hold the API key secret.\n"
    ".TP\n.B /usr/share/doc/tfo\\-agent/configuration.md\n"
    "the same reference, with examples of every message.\n"
    ".SH SEE ALSO\n"
    ".BR tfo\\-supervisor (8),\n"
    ".BR tfoctl (8)\n";

/* put_cp - one code point as a groff glyph (ASCII, or \[uXXXX]) */
static void
put_cp(FILE *fp, unsigned cp, int literal)
{
	if (cp == '\\')
		fputs("\\e", fp);
	else if (cp == '-' && literal)
		fputs("\\-", fp);
	else if (cp < 0x80)
		fputc((int)cp, fp);
	else
		fprintf(fp, "\\[u%04X]", cp);
}

/*
 * roff_text - s as roff text: backslashes escaped, a leading control
 * character neutralised, non-ASCII as \[uXXXX] so the page renders the same
 * in every locale; literal (keys, values): '-' as \- so it is never a
 * hyphenation point. A malformed UTF-8 byte is printed as '?'.
 */
static void
roff_text(FILE *fp, const char *s, int literal)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '.' || *p == '\'')
		fputs("\\&", fp);
	while (*p) {
		unsigned cp = *p, n = cp < 0x80 ? 0 : cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 :
		    cp >= 0xc0 ? 1 : 4;
		size_t k;

		if (n == 4 || cp >= 0xf8) {
			fputc('?', fp);
			p++;
			continue;
		}
		cp &= n ? 0x3fu >> n : 0x7fu;
		for (k = 1; k <= n && (p[k] & 0xc0) == 0x80; k++)
			cp = cp << 6 | (p[k] & 0x3fu);
		if (k <= n) {           /* truncated sequence */
			fputc('?', fp);
			p++;
			continue;
		}
		put_cp(fp, cp, literal);
		p += n + 1;
	}
}

/* parent_len - length of the key's section path (up to its last dot) */
static size_t
parent_len(const char *key)
{
	const char *dot = strrchr(key, '.');

	return dot ? (size_t)(dot - key) : 0;
}

static void
write_environment(FILE *fp)
{
	const char *env, *key;

	fputs(".SH ENVIRONMENT\n"
	    "Each variable, when set and not empty, overrides one key and goes through\n"
	    "the same checks; an error names the variable.\n", fp);
	for (size_t i = 0; tfo_cfg_override(i, &env, &key) == 0; i++) {
		fputs(".TP\n.B ", fp);
		roff_text(fp, env, 1);
		fputs("\n\\fB", fp);
		roff_text(fp, key, 1);
		fputs("\\fP\n", fp);
	}
}

/* write_key - one .TP entry: the key, its type, default and bounds, its doc */
static void
write_key(FILE *fp, const struct cfg_row *r, const struct tfo_config *def)
{
	char val[2048], b[256];
	size_t n;

	tfo_cfg_fmt_value(r, def, val, sizeof(val));
	tfo_cfg_bounds(r, b, sizeof(b));
	fputs(".TP\n.B ", fp);
	roff_text(fp, r->key, 1);
	fputc('\n', fp);
	roff_text(fp, r->doc, 0);
	n = strlen(r->doc);
	fputs(n && r->doc[n - 1] == '.' ? "\n.br\n" : ".\n.br\n", fp);
	fprintf(fp, "%s; default \\fB", tfo_cfg_type_name(r->type));
	roff_text(fp, val, 1);
	fputs("\\fP; allowed: ", fp);
	roff_text(fp, b, 0);
	fputc('\n', fp);
}

void
tfo_config_write_man(FILE *fp)
{
	struct tfo_config cfg;
	const char *prev = NULL;
	size_t prev_len = 0;

	memset(&cfg, 0, sizeof(cfg));
	tfo_cfg_set_defaults(&cfg);
	fputs(".\\\" tfo-agent.yaml(5): printed by tfo_config_write_man() from the key\n"
	    ".\\\" table (common/config_table.c) at build time; edit the table.\n", fp);
	fputs(man_head, fp);
	write_environment(fp);
	fputs(".SH KEYS\n", fp);
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		size_t len = parent_len(r->key);

		if (prev == NULL || len != prev_len || memcmp(r->key, prev, len) != 0) {
			char sec[CFG_MAX_KEY + 1];
			snprintf(sec, sizeof(sec), "%.*s", (int)len, r->key);
			fputs(".SS ", fp);
			roff_text(fp, len ? sec : "top level", 1);
			fputc('\n', fp);
			prev = r->key;
			prev_len = len;
		}
		write_key(fp, r, &cfg);
	}
	fputs(man_tail, fp);
	tfo_config_free(&cfg);
}
