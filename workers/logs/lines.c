/*
 * lines.c - tfo-logs line framing, UTF-8 repair and severity words. All input
 * here comes from tailed files and is treated as hostile: every index is
 * bounded by the buffer, nothing assumes text.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "workers/logs/lines.h"

void
lsplit_init(struct lsplit *s, size_t max_line, uint64_t off)
{
	memset(s, 0, sizeof(*s));
	s->max_line = max_line ? max_line : 1;
	s->base = off;
}

void
lsplit_fini(struct lsplit *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = s->start = s->end = 0;
}

void
lsplit_reset(struct lsplit *s, uint64_t off)
{
	s->start = s->end = 0;
	s->base = off;
	s->cont = 0;
}

uint64_t
lsplit_read_off(const struct lsplit *s)
{
	return s->base + s->end;
}

size_t
lsplit_pending(const struct lsplit *s)
{
	return s->end - s->start;
}

void
lsplit_release(struct lsplit *s)
{
	if (s->start != s->end || s->buf == NULL)
		return;
	s->base += s->end;
	lsplit_fini(s);
}

uint8_t *
lsplit_space(struct lsplit *s, size_t *n)
{
	if (s->buf == NULL) {
		/* a full line, "\r\n", the history and one read chunk */
		s->cap = s->max_line + 2 + TFO_LOGS_HISTORY + TFO_LOGS_READ_CHUNK;
		if ((s->buf = malloc(s->cap)) == NULL) {
			s->cap = 0;
			return NULL;
		}
	}
	if (s->start > TFO_LOGS_HISTORY) {
		size_t drop = s->start - TFO_LOGS_HISTORY;

		memmove(s->buf, s->buf + drop, s->end - drop);
		s->base += drop;
		s->end -= drop;
		s->start -= drop;
	}
	*n = s->cap - s->end;
	return s->buf + s->end;
}

const uint8_t *
lsplit_before(const struct lsplit *s, uint64_t off, size_t n)
{
	if (s->buf == NULL || off < n || off - n < s->base || off > s->base + s->end)
		return NULL;
	return s->buf + (off - n - s->base);
}

void
lsplit_commit(struct lsplit *s, size_t n)
{
	if (n > s->cap - s->end)
		n = s->cap - s->end;   /* caller bug; never run past the buffer */
	s->end += n;
}

size_t
lsplit_feed(struct lsplit *s, const uint8_t *p, size_t n)
{
	size_t room;
	uint8_t *dst = lsplit_space(s, &room);

	if (dst == NULL)
		return 0;
	if (n > room)
		n = room;
	memcpy(dst, p, n);
	lsplit_commit(s, n);
	return n;
}

/* cut_len - a max_line cut that does not split a UTF-8 sequence when avoidable */
static size_t
cut_len(const struct lsplit *s)
{
	const uint8_t *p = s->buf + s->start;
	size_t n = s->max_line;

	while (n > 0 && s->max_line - n < 3 && (p[n] & 0xc0) == 0x80)
		n--;
	return n > 0 ? n : s->max_line;
}

/* cut - emit max_line bytes of an over-long line, flagged */
static int
cut(struct lsplit *s, struct lline *l)
{
	size_t len = cut_len(s);

	l->p = s->buf + s->start;
	l->len = len;
	l->truncated = 1;
	s->cont = 1;
	s->start += len;
	l->end_off = s->base + s->start;
	return 1;
}

int
lsplit_next(struct lsplit *s, struct lline *l)
{
	size_t avail = s->end - s->start, win = s->max_line + 2, len;
	const uint8_t *p, *nl;

	if (avail == 0)
		return 0;
	p = s->buf + s->start;
	nl = memchr(p, '\n', avail < win ? avail : win);
	if (nl != NULL) {
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len <= s->max_line) {
			l->p = p;
			l->len = len;
			l->truncated = s->cont;
			s->cont = 0;
			s->start += (size_t)(nl - p) + 1;
			l->end_off = s->base + s->start;
			return 1;
		}
	} else if (avail < win) {
		return 0;              /* the newline may still come */
	}
	return cut(s, l);
}

int
lsplit_flush(struct lsplit *s, struct lline *l)
{
	size_t avail = s->end - s->start;

	if (avail == 0)
		return 0;
	if (avail > s->max_line)
		return lsplit_next(s, l) || cut(s, l);
	l->p = s->buf + s->start;
	l->len = avail;
	l->truncated = s->cont;
	s->cont = 0;
	s->start = s->end;
	l->end_off = s->base + s->start;
	return 1;
}

/* utf8_seq - length of the valid sequence at p (1..4), or 0 with *bad = bytes to replace */
static size_t
utf8_seq(const uint8_t *p, size_t n, size_t *bad)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;     /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;     /* nothing above U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i < need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;      /* the maximal subpart is one replacement */
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

size_t
tfo_logs_utf8_clean(const uint8_t *src, size_t len)
{
	size_t i = 0, k, bad;

	while (i < len) {
		/* fast path: 8 ASCII bytes, none of them NUL */
		while (len - i >= 8) {
			uint64_t w;
			memcpy(&w, src + i, 8);
			if ((w & 0x8080808080808080ull) != 0 ||
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (src[i] < 0x80 && src[i] != 0)
			i++;
		else if (src[i] != 0 && (k = utf8_seq(src + i, len - i, &bad)) > 0)
			i += k;
		else
			break;
	}
	return i;
}

size_t
tfo_logs_utf8_repair(const uint8_t *src, size_t len, char *dst, size_t *replaced)
{
	size_t i = 0, o = 0, k, bad;

	*replaced = 0;
	while (i < len) {
		k = tfo_logs_utf8_clean(src + i, len - i);
		memcpy(dst + o, src + i, k);
		o += k;
		i += k;
		if (i >= len)
			break;
		/* src[i] is NUL or starts an invalid sequence */
		bad = 1;
		if (src[i] != 0)
			(void)utf8_seq(src + i, len - i, &bad);
		memcpy(dst + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += bad;
		(*replaced)++;
	}
	dst[o] = '\0';
	return o;
}

static const struct {
	const char *word;
	size_t len;
	int sev;
} levels[] = {
	{ "TRACE", 5, 1 }, { "DEBUG", 5, 5 }, { "INFO", 4, 9 },
	{ "WARN", 4, 13 }, { "WARNING", 7, 13 }, { "ERROR", 5, 17 },
	{ "FATAL", 5, 21 }, { "CRITICAL", 8, 21 },
};

/* word_tab - [A-Za-z0-9_] as a table built at compile time: the severity scan
 * tests every byte up to the level word of every line (a chain of range
 * compares was 10-15 % of tfo-logs' CPU in bench-logs-e2e) */
#define WORD(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || \
	((c) >= '0' && (c) <= '9') || (c) == '_')
#define WORD4(c)  WORD(c), WORD((c) + 1), WORD((c) + 2), WORD((c) + 3)
#define WORD16(c) WORD4(c), WORD4((c) + 4), WORD4((c) + 8), WORD4((c) + 12)
#define WORD64(c) WORD16(c), WORD16((c) + 16), WORD16((c) + 32), WORD16((c) + 48)
static const uint8_t word_tab[256] = { WORD64(0), WORD64(64), WORD64(128), WORD64(192) };

static int
is_word(uint8_t c)
{
	return word_tab[c];
}

/* may_be_level - cheap test before level_of: the length and first letter of a level word */
static int
may_be_level(const uint8_t *p, size_t n)
{
	switch (p[0] | 0x20) {
	case 't': case 'd': case 'i': case 'w': case 'e': case 'f': case 'c':
		return n >= 4 && n <= 8;
	default:
		return 0;
	}
}

/* level_of - severity of the word p[0..n) or 0; upper says it is all capitals */
static int
level_of(const uint8_t *p, size_t n, int any_case)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i].len != n)
			continue;
		if (any_case ? strncasecmp((const char *)p, levels[i].word, n) == 0
		             : memcmp(p, levels[i].word, n) == 0)
			return levels[i].sev;
	}
	return 0;
}

int
tfo_logs_severity(const uint8_t *p, size_t len, const uint8_t **word, size_t *wlen)
{
	size_t i = 0, j;
	int sev;

	if (len > TFO_LOGS_SEVERITY_SCAN)
		len = TFO_LOGS_SEVERITY_SCAN;
	while (i < len) {
		if (!is_word(p[i])) {
			i++;
			continue;
		}
		for (j = i; j < len && is_word(p[j]); j++)
			;
		/* a word cut by the scan limit is not a match */
		if ((j < len || len < TFO_LOGS_SEVERITY_SCAN) && may_be_level(p + i, j - i)) {
			int any = i > 0 && p[i - 1] != 0 && strchr("[<=\":", p[i - 1]) != NULL;
			if ((sev = level_of(p + i, j - i, any)) != 0) {
				*word = p + i;
				*wlen = j - i;
				return sev;
			}
		}
		i = j;
	}
	return 0;
}
