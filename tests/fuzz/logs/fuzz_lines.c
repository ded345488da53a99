/*
 * fuzz_lines.c - libFuzzer harness for tfo-logs text handling: the first
 * byte picks max_line_size and a read-chunk size, the rest is file content
 * fed through the splitter in chunks; every line goes through UTF-8 repair,
 * the severity parser and multiline joining. Checks framing invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workers/logs/lines.h"
#include "workers/logs/multiline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const struct lline *l, size_t max_line, uint64_t *last_end, char *out)
{
	const uint8_t *w;
	size_t wl, repl, n;
	int sev;

	if (l->len > max_line || l->end_off <= *last_end)
		abort();                /* a line past the limit, or offsets not advancing */
	*last_end = l->end_off;
	n = tfo_logs_utf8_repair(l->p, l->len, out, &repl);
	if (n > 3 * l->len || strlen(out) != n)
		abort();                /* output bound, and no NUL survives */
	sev = tfo_logs_severity((const uint8_t *)out, n, &w, &wl);
	if (sev < 0 || sev > 24 || (sev && (w < (const uint8_t *)out || w + wl > (const uint8_t *)out + n)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mline_rule rule;
	struct mline m;
	struct lsplit s;
	struct lline l;
	struct mrec r;
	size_t max_line, chunk, off = 1;
	uint64_t last = 0;
	char *out;

	if (size < 1)
		return 0;
	max_line = 64 + (size_t)(data[0] & 0x3f) * 4;
	chunk = 1 + (data[0] >> 6) * 37;
	if ((out = malloc(3 * max_line + 1)) == NULL)
		return 0;
	lsplit_init(&s, max_line, 0);
	mline_init(&m);
	if (mline_rule_init(&rule, (data[0] & 1) ? "^[A-Z]" : "", max_line, 10) != TFO_OK)
		abort();
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		off += lsplit_feed(&s, data + off, n);
		while (lsplit_next(&s, &l)) {
			check_line(&l, max_line, &last, out);
			if (mline_push(&m, &rule, &l, off, &r) == 1 && r.len > max_line)
				abort();
		}
	}
	while (lsplit_flush(&s, &l))
		check_line(&l, max_line, &last, out);
	if (last != size - 1 && size > 1)
		abort();                /* every byte belongs to exactly one line */
	if (mline_flush(&m, &rule, 0, 1, &r) && r.len > max_line)
		abort();
	mline_rule_fini(&rule);
	mline_fini(&m);
	lsplit_fini(&s);
	free(out);
	return 0;
}
