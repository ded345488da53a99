/*
 * config_impl.h - private to common/config*.c: the key table row type, the
 * value converters and the loader's helpers. Runs in tfo-supervisor/tfoctl.
 */
#ifndef TFO_CONFIG_IMPL_H
#define TFO_CONFIG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define CFG_MAX_SCALAR 4096     /* bytes in any scalar, before and after ${} expansion */
#define CFG_MAX_DEPTH 32        /* nesting of mappings/sequences, even in skipped subtrees */
#define CFG_MAX_FILE (1u << 20) /* bytes of a config file */
#define CFG_MAX_KEY 255         /* dotted key path */

enum cfg_type {
	CT_STR,         /* char *; min/max = length bounds */
	CT_BOOL,        /* int: true|false */
	CT_U32,         /* uint32_t */
	CT_U64,         /* uint64_t */
	CT_DOUBLE,      /* double; dmin/dmax */
	CT_DUR,         /* uint32_t milliseconds from "15s", "500ms", "1m30s" */
	CT_DUR64,       /* uint64_t milliseconds */
	CT_SIZE,        /* uint32_t bytes from "65536", "64KiB", "1MiB" */
	CT_ENUM,        /* char *, one of allowed[] */
	CT_LIST,        /* struct tfo_strlist; max = item length */
	CT_MAP,         /* agent.tags only: struct tfo_tag[] + count at off2 */
};

#define CF_PATH   0x1   /* a path: relative values are made absolute against the cwd */
#define CF_SECRET 0x2   /* secret: never printed; warns when the file is readable by others */

struct cfg_row {
	const char *key;            /* dotted key path */
	enum cfg_type type;
	const char *def;            /* default, as YAML text; NULL = empty */
	uint64_t min, max;          /* in the field's unit; for strings the length */
	double dmin, dmax;          /* CT_DOUBLE */
	size_t off, off2;           /* field offset(s) in struct tfo_config */
	const char *const *allowed; /* CT_ENUM, NULL terminated */
	unsigned flags;
	const char *doc;            /* one line for the example and the reference */
};

extern const struct cfg_row tfo_cfg_rows[];
extern const size_t tfo_cfg_nrows;

/*
 * cfg_pair - two CT_DUR keys where lo <= hi (lo < hi when strict). A key of
 * the pair left out of the file follows the other (config.c follow_defaults):
 * lo = min(its default, hi / lo_div); hi = max(its default, lo * hi_mul),
 * hi_mul 0 = hi never moves. The example file leaves following keys commented.
 */
struct cfg_pair {
	const char *lo, *hi;
	int strict;
	uint32_t lo_div, hi_mul;
};
extern const struct cfg_pair tfo_cfg_pairs[];
extern const size_t tfo_cfg_npairs;

/* config.c */
int tfo_cfg_set_defaults(struct tfo_config *cfg);
int tfo_cfg_override(size_t i, const char **env, const char **key);

/* config_table.c */
int tfo_cfg_row_find(const char *key);
/* tfo_cfg_row_follows - whether row i's default follows another key (a pair) */
int tfo_cfg_row_follows(size_t i);
int tfo_cfg_is_section(const char *path);
int tfo_cfg_suggest(const char *prefix, const char *name, char *out, size_t outsz);
int tfo_cfg_set(const struct cfg_row *r, struct tfo_config *cfg, const char *text,
    char *err, size_t errsz);
int tfo_cfg_list_add(const struct cfg_row *r, struct tfo_config *cfg, const char *text,
    char *err, size_t errsz);
int tfo_cfg_map_add(const struct cfg_row *r, struct tfo_config *cfg, const char *key,
    const char *value, char *err, size_t errsz);
void tfo_cfg_row_clear(const struct cfg_row *r, struct tfo_config *cfg);
void tfo_cfg_fmt_duration(uint64_t ms, char *buf, size_t bufsz);
void tfo_cfg_fmt_size(uint64_t bytes, char *buf, size_t bufsz);
void tfo_cfg_fmt_value(const struct cfg_row *r, const struct tfo_config *cfg,
    char *buf, size_t bufsz);

/* config_doc.c: a row's type name and its allowed values/range, in words */
const char *tfo_cfg_type_name(enum cfg_type t);
void tfo_cfg_bounds(const struct cfg_row *r, char *buf, size_t bufsz);

/* config_yaml.c */
struct cfg_mark {
	int line, column;           /* 0 = not set in the file */
	int literal;                /* the file's text had no ${...} */
	int env;                    /* set by a TELEMETRYFLOW_* override */
};
struct cfg_loader {
	const char *name;
	struct tfo_config *cfg;
	struct tfo_cfg_diags *diags;
	struct cfg_mark *seen;      /* per table row: where the file set it */
	int aborted;                /* syntax error or too many errors: stop */
};
void tfo_cfg_parse_yaml(struct cfg_loader *ld, const char *text, size_t len);
int tfo_cfg_expand(const char *in, size_t len, char *out, size_t outsz,
    char *err, size_t errsz);
void tfo_cfg_diag(struct cfg_loader *ld, int warning, int line, int column,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* tfo_cfg_diag_key - a diagnostic about `key` of a loaded cfg, placed where the
 * file set it (config.c; for checks after the load, config_host.c) */
void tfo_cfg_diag_key(struct tfo_cfg_diags *d, const struct tfo_config *cfg, int warning,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
