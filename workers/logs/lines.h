/*
 * lines.h - tfo-logs text handling: the per-file line splitter (newline
 * framing across read boundaries, CRLF, max_line_size cuts), UTF-8 repair
 * and severity-word detection. Pure functions over bytes; no I/O.
 */
#ifndef TFO_LOGS_LINES_H
#define TFO_LOGS_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TFO_LOGS_READ_CHUNK (64 * 1024)

/* framed bytes kept before start: the mark of the last offset, and how a
 * copytruncate copy that ends inside what we read is told from another file
 * (the writer goes on between logrotate's copy and its truncation, and we may
 * read those lines before the truncation: this is how far back that can be) */
#define TFO_LOGS_HISTORY (16 * 1024)

/*
 * struct lsplit - bytes read from one file and not yet framed. buf[0] is file
 * offset `base`; [start, end) is unconsumed, and up to TFO_LOGS_HISTORY bytes
 * before start are kept when the buffer is compacted, so the bytes before the
 * last framed lines can still be compared after the file lost them (a
 * truncation). The buffer holds a whole max-size line, the history and one
 * read chunk, so a line never needs two buffers.
 */
struct lsplit {
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t base;
	size_t max_line;
	int cont;              /* the next piece continues a cut line */
};

/* struct lline - one framed line; p points into the splitter until the next call */
struct lline {
	const uint8_t *p;
	size_t len;            /* without the newline (and without a \r before it) */
	uint64_t end_off;      /* file offset just past this line (and its newline) */
	int truncated;         /* piece of a line longer than max_line */
};

void lsplit_init(struct lsplit *s, size_t max_line, uint64_t off);
void lsplit_fini(struct lsplit *s);
/* lsplit_reset - drop buffered bytes; the next byte read is file offset off */
void lsplit_reset(struct lsplit *s, uint64_t off);
/* lsplit_space - room to read into (allocating/compacting); NULL on ENOMEM */
uint8_t *lsplit_space(struct lsplit *s, size_t *n);
void lsplit_commit(struct lsplit *s, size_t n);
/* lsplit_feed - copy bytes in (tests, fuzzing); returns bytes taken */
size_t lsplit_feed(struct lsplit *s, const uint8_t *p, size_t n);
/* lsplit_next - 1 and a line, or 0 when a newline is still missing */
int lsplit_next(struct lsplit *s, struct lline *l);
/* lsplit_flush - 1 and the unterminated rest as a line (a file that will not grow) */
int lsplit_flush(struct lsplit *s, struct lline *l);
/* lsplit_read_off - file offset of the next byte to read */
uint64_t lsplit_read_off(const struct lsplit *s);
/* lsplit_before - the n bytes that end at file offset off, when still buffered; else NULL */
const uint8_t *lsplit_before(const struct lsplit *s, uint64_t off, size_t n);
/* lsplit_pending - bytes buffered but not yet framed */
size_t lsplit_pending(const struct lsplit *s);
/* lsplit_release - free the buffer when nothing is pending (idle files) */
void lsplit_release(struct lsplit *s);

/*
 * tfo_logs_utf8_repair - copy src to dst, replacing every maximal invalid
 * UTF-8 subpart, and NUL (which protobuf-c strings cannot carry), by U+FFFD.
 * dst must hold 3 * len + 1 bytes; the result is NUL-terminated. Returns the
 * output length; *replaced counts replacements.
 */
size_t tfo_logs_utf8_repair(const uint8_t *src, size_t len, char *dst, size_t *replaced);
/* tfo_logs_utf8_clean - length of the longest prefix of src that needs no
 * repair (== len: src is valid UTF-8 without NUL and can be used as it is) */
size_t tfo_logs_utf8_clean(const uint8_t *src, size_t len);

/*
 * tfo_logs_severity - find a level word in the first bytes of a line and
 * return its OTLP severity number (0 = none). An upper-case word matches
 * anywhere in the scanned prefix; any case matches after '[', '<', '=', '"'
 * or ':' (level=info, "level":"warn", [Error]). word and wlen get the text found.
 */
int tfo_logs_severity(const uint8_t *p, size_t len, const uint8_t **word, size_t *wlen);

#define TFO_LOGS_SEVERITY_SCAN 256

#endif
