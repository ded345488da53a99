/*
 * parse.h - tfo-sink (tool process): HTTP/1.x request head parser and
 * chunked body decoder over bytes in memory, for conn.c. No I/O, no
 * libevent: every length is checked here, so the input may be hostile.
 */
#ifndef TFO_SINK_PARSE_H
#define TFO_SINK_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A header's name and value: offsets from the head's start, NUL-terminated
 * in place (so the head may move with its buffer). */
struct tfo_sink_hdr {
	uint32_t name, value;
};

struct tfo_sink_head {
	uint32_t method, path;          /* offsets, NUL-terminated in place */
	int minor;                      /* HTTP/1.minor */
	int keep_alive;                 /* after this request's reply */
	int chunked;                    /* Transfer-Encoding: chunked */
	int expect_continue;            /* Expect: 100-continue */
	uint64_t length;                /* Content-Length, 0 when absent */
	struct tfo_sink_hdr *hdrs;      /* grown as needed; free() when done */
	size_t nhdrs, hdrs_cap;
};

/*
 * tfo_sink_head_end - find the blank line ending a head in p[0..n). *scan is
 * where to resume (0 at first; kept between calls so each byte is looked at
 * once). Returns the head's length including the blank line, 0 if not yet.
 */
size_t tfo_sink_head_end(const uint8_t *p, size_t n, size_t *scan);

/*
 * tfo_sink_head_parse - parse a whole head (p[0..n) ends with its blank
 * line), writing NULs into it. h->hdrs is reused if set. Returns 0, or the
 * HTTP status to answer before closing: 400 malformed, 413 Content-Length
 * over TFO_SINK_MAX_BODY, 417 unknown Expect, 501 unknown transfer coding,
 * 505 not HTTP/1.x, 500 out of memory.
 */
int tfo_sink_head_parse(char *p, size_t n, struct tfo_sink_head *h);

struct tfo_sink_chunked {
	int state;
	uint64_t left;                  /* data bytes left in the current chunk */
	size_t trailer;                 /* trailer bytes seen */
};

/*
 * tfo_sink_chunked_decode - decode a chunked body in place: p[0..*out) is
 * decoded body, p[*in..n) raw input not parsed yet (*out <= *in <= n).
 * Returns 1 once the body and its trailer ended (*in is just past them), 0
 * for more input, or an HTTP status: 400 malformed, 413 body over max.
 * Start with a zeroed *ck.
 */
int tfo_sink_chunked_decode(struct tfo_sink_chunked *ck, uint8_t *p, size_t n, size_t *in,
    size_t *out, size_t max);

#endif
