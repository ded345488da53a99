/*
 * procfs_scan.h - the bounded line scanner behind the procfs parsers
 * (private to common/procfs*.c). Never reads past end, never needs a NUL,
 * every number is overflow-checked.
 */
#ifndef TFO_PROCFS_SCAN_H
#define TFO_PROCFS_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tfo_scan {
	const char *p, *end;
};

static inline void
sc_init(struct tfo_scan *s, const char *buf, size_t len)
{
	if (buf == NULL) {      /* NULL + 0 is undefined: scan an empty string */
		buf = "";
		len = 0;
	}
	s->p = buf;
	s->end = buf + len;
}

static inline int
sc_eof(const struct tfo_scan *s)
{
	return s->p >= s->end;
}

static inline void
sc_blanks(struct tfo_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
}

/* sc_eol - after blanks, is the line finished? */
static inline int
sc_eol(struct tfo_scan *s)
{
	sc_blanks(s);
	return s->p >= s->end || *s->p == '\n';
}

/* sc_next_line - move past the next newline (or to the end) */
static inline void
sc_next_line(struct tfo_scan *s)
{
	/* the explicit bound keeps gcc -O2 from assuming a negative length
	 * (-Wstringop-overread when inlined into tfo_procfs_pid_io) */
	size_t left = s->p < s->end ? (size_t)(s->end - s->p) : 0;
	const char *nl = left > 0 ? memchr(s->p, '\n', left) : NULL;

	s->p = nl != NULL ? nl + 1 : s->end;
}

/* sc_u64 - blanks, then one unsigned decimal; 0 ok, -1 no digits or overflow
 * (s->p then at the digit that overflowed) */
static inline int
sc_u64(struct tfo_scan *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *start, *p, *safe;

	sc_blanks(s);
	start = p = s->p;
	/* 19 digits never overflow (10^19 - 1 < 2^64): no check per digit
	 * there, the parse every /proc walk runs over each number */
	safe = s->end - p > 19 ? p + 19 : s->end;
	while (p < safe && (unsigned)(*p - '0') < 10)
		x = x * 10 + (unsigned)(*p++ - '0');
	for (; p < s->end && (unsigned)(*p - '0') < 10; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10) {
			s->p = p;
			return -1;
		}
		x = x * 10 + d;
	}
	s->p = p;
	if (p == start)
		return -1;
	*v = x;
	return 0;
}

/* sc_i64 - as sc_u64 with an optional leading '-' */
static inline int
sc_i64(struct tfo_scan *s, int64_t *v)
{
	uint64_t u;
	int neg = 0;

	sc_blanks(s);
	if (s->p < s->end && *s->p == '-') {
		neg = 1;
		s->p++;
	}
	if (sc_u64(s, &u) != 0 || u > (uint64_t)INT64_MAX)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* sc_word - blanks, then a run of non-blank characters on this line */
static inline int
sc_word(struct tfo_scan *s, const char **w, size_t *n)
{
	sc_blanks(s);
	*w = s->p;
	while (s->p < s->end && *s->p != ' ' && *s->p != '\t' && *s->p != '\n')
		s->p++;
	*n = (size_t)(s->p - *w);
	return *n > 0 ? 0 : -1;
}

/* sc_double - one finite decimal number ("0.13", "2445.402") */
static inline int
sc_double(struct tfo_scan *s, double *v)
{
	char tmp[64], *endp;
	const char *w;
	size_t n;

	if (sc_word(s, &w, &n) != 0 || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!((w[i] >= '0' && w[i] <= '9') || w[i] == '.' || (i == 0 && w[i] == '-')))
			return -1;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &endp);
	return endp == tmp + n ? 0 : -1;
}

/* sc_copy - copy a word into dst; -1 if it does not fit (dst then empty) */
static inline int
sc_copy(char *dst, size_t cap, const char *w, size_t n)
{
	if (cap == 0)
		return -1;
	if (n >= cap) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, w, n);
	dst[n] = '\0';
	return 0;
}

/* sc_is - does word (w, n) equal the C string lit? */
static inline int
sc_is(const char *w, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && memcmp(w, lit, n) == 0;
}

#endif
