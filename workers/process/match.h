/*
 * match.h - the regex side of tfo-process: include/exclude patterns on
 * executable names, and the redaction of secrets from command lines.
 */
#ifndef TFO_PROCESS_MATCH_H
#define TFO_PROCESS_MATCH_H

#include <regex.h>
#include <stddef.h>

#include "common/err.h"

/*
 * A name pattern is an exact executable name ("nginx", "python3.11", "g++")
 * unless it holds one of ^$*?[](){}|\ : then it is a POSIX extended regex
 * searched anywhere in the name (anchor it with ^...$).
 */
struct tfo_namepat {
	char *name;                     /* exact name, or NULL */
	regex_t re;                     /* used when name == NULL */
};

struct tfo_namepats {
	struct tfo_namepat *v;
	size_t n;
};

/* tfo_namepats_init - compile patterns; TFO_EINVAL names the bad one in err */
enum tfo_err tfo_namepats_init(struct tfo_namepats *p, char *const *patterns, size_t n,
                               char *err, size_t errcap);
/* tfo_namepats_match - does name match any pattern? */
int tfo_namepats_match(const struct tfo_namepats *p, const char *name);
void tfo_namepats_fini(struct tfo_namepats *p);

/*
 * Redaction: every match of every pattern (POSIX ERE with GNU \s \S \w) is
 * replaced by "***"; when the pattern has a parenthesised group, only what
 * the first group matched is replaced ("--password[= ]([^ ]+)" keeps the
 * option name). Patterns apply in order, each to the previous one's output.
 */
struct tfo_redact {
	regex_t *re;
	size_t n;
	char *tmp;                      /* scratch of tmpcap bytes */
	size_t tmpcap;
};

enum tfo_err tfo_redact_init(struct tfo_redact *r, char *const *patterns, size_t n,
                             char *err, size_t errcap);
/*
 * tfo_redact_apply - redact the NUL-terminated s in place; s has cap bytes
 * (the result is cut on a character boundary when "***" makes it longer).
 * Returns the replacements made.
 */
size_t tfo_redact_apply(struct tfo_redact *r, char *s, size_t cap);
void tfo_redact_fini(struct tfo_redact *r);

#endif
