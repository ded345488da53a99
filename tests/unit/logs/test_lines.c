/*
 * test_lines.c - tfo-logs line framing (read boundaries, CRLF, long lines),
 * UTF-8 repair and severity words, on good, truncated and garbage input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "workers/logs/lines.h"

struct got {
	char line[64][512];
	size_t len[64];
	uint64_t end[64];
	int trunc[64];
	size_t n;
};

/* split_in_chunks - feed text in pieces of `chunk` bytes, collecting lines */
static void
split_in_chunks(const char *text, size_t len, size_t chunk, size_t max_line, struct got *g)
{
	struct lsplit s;
	struct lline l;
	size_t off = 0;

	memset(g, 0, sizeof(*g));
	lsplit_init(&s, max_line, 0);
	while (off < len || lsplit_pending(&s) > 0) {
		size_t n = len - off < chunk ? len - off : chunk;
		off += lsplit_feed(&s, (const uint8_t *)text + off, n);
		while (lsplit_next(&s, &l)) {
			assert_true(g->n < 64);
			assert_true(l.len < 512);
			memcpy(g->line[g->n], l.p, l.len);
			g->len[g->n] = l.len;
			g->end[g->n] = l.end_off;
			g->trunc[g->n++] = l.truncated;
		}
		if (off == len)
			break;
	}
	lsplit_fini(&s);
}

static void
test_boundaries(void **state)
{
	const char *text = "alpha\nbeta\r\n\ngamma delta\r\nlast-without-newline";
	size_t len = strlen(text);
	struct got ref, g;

	(void)state;
	split_in_chunks(text, len, len, 64, &ref);
	assert_int_equal(ref.n, 4);
	assert_string_equal(ref.line[0], "alpha");
	assert_int_equal(ref.end[0], 6);
	assert_string_equal(ref.line[1], "beta");        /* \r\n handled */
	assert_int_equal(ref.end[1], 12);
	assert_int_equal(ref.len[2], 0);                  /* empty line kept */
	assert_string_equal(ref.line[3], "gamma delta");
	assert_int_equal(ref.end[3], strlen("alpha\nbeta\r\n\ngamma delta\r\n"));
	/* every chunk size, including a \r and \n in different reads, gives the same lines */
	for (size_t chunk = 1; chunk <= len; chunk++) {
		split_in_chunks(text, len, chunk, 64, &g);
		assert_int_equal(g.n, ref.n);
		for (size_t i = 0; i < g.n; i++) {
			assert_int_equal(g.len[i], ref.len[i]);
			assert_memory_equal(g.line[i], ref.line[i], ref.len[i]);
			assert_int_equal(g.end[i], ref.end[i]);
			assert_int_equal(g.trunc[i], 0);
		}
	}
}

static void
test_long_lines(void **state)
{
	char text[300];
	struct got g;

	(void)state;
	/* 150 x 'a' then newline, max 64: 64 + 64 + 22, all flagged */
	memset(text, 'a', 150);
	strcpy(text + 150, "\nshort\n");
	for (size_t chunk = 1; chunk <= 157; chunk += 7) {
		split_in_chunks(text, strlen(text), chunk, 64, &g);
		assert_int_equal(g.n, 4);
		assert_int_equal(g.len[0], 64);
		assert_int_equal(g.len[1], 64);
		assert_int_equal(g.len[2], 22);
		assert_true(g.trunc[0] && g.trunc[1] && g.trunc[2]);
		assert_int_equal(g.end[0], 64);
		assert_int_equal(g.end[2], 151);
		assert_string_equal(g.line[3], "short");
		assert_int_equal(g.trunc[3], 0);
	}
	/* exactly max_line bytes, with LF and with CRLF, is not cut */
	memset(text, 'b', 64);
	strcpy(text + 64, "\r\n");
	split_in_chunks(text, 66, 5, 64, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 64);
	assert_int_equal(g.trunc[0], 0);
	/* max_line + 1 is cut into 64 + 1 */
	memset(text, 'c', 65);
	strcpy(text + 65, "\n");
	split_in_chunks(text, 66, 66, 64, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[1], 1);
	assert_true(g.trunc[1]);
}

static void
test_cut_keeps_utf8(void **state)
{
	char text[200];
	struct got g;

	(void)state;
	/* 63 ASCII then a 3-byte char straddling the 64-byte cut */
	memset(text, 'x', 63);
	memcpy(text + 63, "\xe2\x82\xac", 3);
	memset(text + 66, 'y', 70);
	strcpy(text + 136, "\n");
	split_in_chunks(text, strlen(text), 9, 64, &g);
	assert_true(g.n >= 2);
	assert_int_equal(g.len[0], 63);                   /* cut before the euro sign */
	assert_memory_equal(g.line[1], "\xe2\x82\xac", 3);
}

static void
test_flush_and_reset(void **state)
{
	struct lsplit s;
	struct lline l;

	(void)state;
	lsplit_init(&s, 64, 1000);
	lsplit_feed(&s, (const uint8_t *)"one\ntwo", 7);
	assert_int_equal(lsplit_next(&s, &l), 1);
	assert_int_equal(l.end_off, 1004);
	assert_int_equal(lsplit_next(&s, &l), 0);
	assert_int_equal(lsplit_read_off(&s), 1007);
	assert_int_equal(lsplit_flush(&s, &l), 1);
	assert_int_equal(l.len, 3);
	assert_memory_equal(l.p, "two", 3);
	assert_int_equal(l.end_off, 1007);
	assert_int_equal(lsplit_flush(&s, &l), 0);
	lsplit_release(&s);
	assert_null(s.buf);
	assert_int_equal(lsplit_read_off(&s), 1007);
	lsplit_reset(&s, 0);
	lsplit_feed(&s, (const uint8_t *)"z\n", 2);
	assert_int_equal(lsplit_next(&s, &l), 1);
	assert_int_equal(l.end_off, 2);
	lsplit_fini(&s);
}

static void
repair_case(const char *in, size_t len, const char *want, size_t want_repl)
{
	char out[256];
	size_t repl, n = tfo_logs_utf8_repair((const uint8_t *)in, len, out, &repl);

	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(repl, want_repl);
	/* the clean check agrees: used as it is only when nothing is replaced */
	assert_int_equal(tfo_logs_utf8_clean((const uint8_t *)in, len) == len, want_repl == 0);
}

#define R "\xef\xbf\xbd"

static void
test_utf8(void **state)
{
	(void)state;
	repair_case("plain", 5, "plain", 0);
	repair_case("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0);
	repair_case("a\xff" "b", 3, "a" R "b", 1);                 /* invalid byte */
	repair_case("a\xc3", 2, "a" R, 1);                         /* truncated at end */
	repair_case("\xe2\x82" "x", 3, R "x", 1);                  /* maximal subpart = one */
	repair_case("\xc0\xaf", 2, R R, 2);                        /* overlong */
	repair_case("\xed\xa0\x80", 3, R R R, 3);                  /* surrogate */
	repair_case("\xf4\x90\x80\x80", 4, R R R R, 4);            /* > U+10FFFF */
	repair_case("a\0b", 3, "a" R "b", 1);                      /* NUL cannot travel */
	repair_case("\x80\x80", 2, R R, 2);                        /* stray continuations */
	repair_case("", 0, "", 0);
	/* past the 8-byte fast path, and NUL inside an ASCII word */
	repair_case("0123456789abcdef\xffxyz", 20, "0123456789abcdef" R "xyz", 1);
	repair_case("01234567\0abcdefgh", 17, "01234567" R "abcdefgh", 1);
	repair_case("0123456789abcdef\xc3\xa9", 18, "0123456789abcdef\xc3\xa9", 0);
	assert_int_equal(tfo_logs_utf8_clean((const uint8_t *)"0123456789\xff", 11), 10);
}

static void
sev_case(const char *line, int want, const char *want_text)
{
	const uint8_t *w = NULL;
	size_t wl = 0;
	int sev = tfo_logs_severity((const uint8_t *)line, strlen(line), &w, &wl);

	assert_int_equal(sev, want);
	if (want != 0) {
		assert_int_equal(wl, strlen(want_text));
		assert_memory_equal(w, want_text, wl);
	}
}

static void
test_severity(void **state)
{
	(void)state;
	sev_case("2024-01-01 12:00:00 TRACE x", 1, "TRACE");
	sev_case("2024-01-01 DEBUG x", 5, "DEBUG");
	sev_case("INFO started", 9, "INFO");
	sev_case("[WARN] disk", 13, "WARN");
	sev_case("WARNING: disk", 13, "WARNING");
	sev_case("E ERROR boom", 17, "ERROR");
	sev_case("FATAL out of memory", 21, "FATAL");
	sev_case("CRITICAL x", 21, "CRITICAL");
	sev_case("ts=1 level=warn msg=x", 13, "warn");
	sev_case("{\"level\":\"error\",\"msg\":\"x\"}", 17, "error");
	sev_case("[Info] x", 9, "Info");
	sev_case("<debug> x", 5, "debug");
	sev_case("for more info see the manual", 0, NULL);   /* lower case prose */
	sev_case("INFORMATION only", 0, NULL);               /* whole words only */
	sev_case("ERRORS=3", 0, NULL);
	sev_case("", 0, NULL);
	sev_case("\x01\xff[\x80INFO", 9, "INFO");
}

static void
test_severity_scan_limit(void **state)
{
	char line[400];
	const uint8_t *w;
	size_t wl;

	(void)state;
	memset(line, '.', sizeof(line));
	memcpy(line + 300, "ERROR", 5);                   /* beyond the scanned prefix */
	assert_int_equal(tfo_logs_severity((const uint8_t *)line, sizeof(line), &w, &wl), 0);
	memcpy(line + TFO_LOGS_SEVERITY_SCAN - 3, "ERROR", 5);   /* cut by the limit */
	assert_int_equal(tfo_logs_severity((const uint8_t *)line, sizeof(line), &w, &wl), 0);
	memcpy(line + 10, "INFO", 4);
	assert_int_equal(tfo_logs_severity((const uint8_t *)line, sizeof(line), &w, &wl), 9);
}

/*
 * ref_severity - the plain reading of the rule: every maximal word, left to
 * right, the first that is a level word (upper case, or any case after an
 * opener) and not cut by the scan limit. The scanner skips most bytes; this
 * says what it must find.
 */
static int
ref_severity(const uint8_t *p, size_t len, size_t *at, size_t *wlen)
{
	static const char *words[] = { "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR",
	                               "FATAL", "CRITICAL" };
	static const int sevs[] = { 1, 5, 9, 13, 13, 17, 21, 21 };
	size_t n = len < TFO_LOGS_SEVERITY_SCAN ? len : TFO_LOGS_SEVERITY_SCAN, i = 0, j;

#define IS_WORD(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || \
	((c) >= '0' && (c) <= '9') || (c) == '_')
	while (i < n) {
		if (!IS_WORD(p[i])) {
			i++;
			continue;
		}
		for (j = i; j < n && IS_WORD(p[j]); j++)
			;
		int any = i > 0 && p[i - 1] != 0 && strchr("[<=\":", p[i - 1]) != NULL;
		for (size_t k = 0; (j < n || n < TFO_LOGS_SEVERITY_SCAN) && k < 8; k++) {
			if (strlen(words[k]) == j - i &&
			    (any ? strncasecmp((const char *)p + i, words[k], j - i)
			         : memcmp(p + i, words[k], j - i)) == 0) {
				*at = i;
				*wlen = j - i;
				return sevs[k];
			}
		}
		i = j;
	}
#undef IS_WORD
	return 0;
}

/* the scanner against ref_severity on lines made of level words in every
 * case, near-misses, openers, word and non-word bytes, and the scan limit */
static void
test_severity_model(void **state)
{
	static const char *parts[] = {
		"INFO", "info", "Info", "WARN", "WARNING", "warning", "ERROR", "error", "FATAL",
		"CRITICAL", "critical", "TRACE", "DEBUG", "debug", "INFOS", "XINFO", "INF", "WARNINGS",
		"CRITICALS", "[", "<", "=", "\"", ":", " ", "_", "-", "x", "7", "T", "e", "\xc3\xa9",
		"\xff", "\0", "level=", "  ", "ts=2024-01-01T12:00:00Z",
	};
	uint8_t line[TFO_LOGS_SEVERITY_SCAN + 64];
	uint32_t seed = 12345;
	unsigned hits = 0;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t len = 0, want_at = 0, want_len = 0, got_len = 0;
		const uint8_t *got = NULL;
		seed = seed * 1103515245u + 12345u;
		size_t target = (seed >> 8) % sizeof(line);
		while (len < target) {
			seed = seed * 1103515245u + 12345u;
			const char *s = parts[(seed >> 10) % (sizeof(parts) / sizeof(parts[0]))];
			size_t k = s[0] ? strlen(s) : 1;
			if (k > sizeof(line) - len)
				k = sizeof(line) - len;
			memcpy(line + len, s, k);
			len += k;
		}
		int want = ref_severity(line, len, &want_at, &want_len);
		int sev = tfo_logs_severity(line, len, &got, &got_len);
		assert_int_equal(sev, want);
		if (want != 0) {
			assert_ptr_equal(got, line + want_at);
			assert_int_equal(got_len, want_len);
			hits++;
		}
	}
	assert_true(hits > 10000);      /* the lines do hold level words */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_cut_keeps_utf8),
		cmocka_unit_test(test_flush_and_reset),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_severity_scan_limit),
		cmocka_unit_test(test_severity_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
