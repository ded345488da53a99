/*
 * parse.c - tfo-sink (tool process): HTTP/1.x request heads (request line,
 * headers, the framing headers' meaning) and chunked bodies, parsed in
 * place. Strict where laxity would let two parsers disagree on framing
 * (Content-Length, Transfer-Encoding, folding), lenient elsewhere as evhttp was.
 */
#include "tools/tfo-sink/parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/tfo-sink/decode.h"

#define METHOD_MAX     32       /* longer than any registered method */
#define CHUNK_LINE_MAX 256      /* chunk-size line with its extensions */
#define TRAILER_MAX    (64u * 1024)

enum { CK_SIZE = 0, CK_DATA, CK_DATA_END, CK_TRAILER };
#define NEED_MORE (-1)

/* is_tchar - RFC 9110 token character */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* is_field_char - allowed in a header value: no control bytes but HTAB;
 * bytes over 0x7f pass (obs-text), the handler sanitises what it shows */
static int
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

size_t
tfo_sink_head_end(const uint8_t *p, size_t n, size_t *scan)
{
	const uint8_t *nl;
	size_t i = *scan;

	while (i < n && (nl = memchr(p + i, '\n', n - i)) != NULL) {
		i = (size_t)(nl - p) + 1;
		/* blank line: "\n\n" or "\n\r\n" (evhttp took bare LF too) */
		if (i >= 2 && p[i - 2] == '\n')
			return i;
		if (i >= 3 && p[i - 2] == '\r' && p[i - 3] == '\n')
			return i;
	}
	/* Resume a little back: the blank line may straddle two reads. */
	*scan = n >= 2 ? n - 2 : 0;
	return 0;
}

/* next_line - the line at *pos of p[0..n) without its CRLF or LF; 0 if none */
static int
next_line(char *p, size_t n, size_t *pos, size_t *start, size_t *len)
{
	char *nl;

	if (*pos >= n || (nl = memchr(p + *pos, '\n', n - *pos)) == NULL)
		return 0;
	*start = *pos;
	*len = (size_t)(nl - (p + *pos));
	*pos += *len + 1;
	if (*len > 0 && p[*start + *len - 1] == '\r')
		(*len)--;
	return 1;
}

/* is_scheme_char - URI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static int
is_scheme_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* path_of - offset in target t (NUL-terminated) of its path: origin-form
 * "/p", absolute-form "scheme://authority/p", or "*"; -1 otherwise */
static long
path_of(const char *t)
{
	size_t i = 0;

	if (t[0] == '/' || strcmp(t, "*") == 0)
		return 0;
	while (is_scheme_char(t[i], i == 0))
		i++;
	if (i == 0 || strncmp(t + i, "://", 3) != 0)
		return -1;
	i += 3;
	return (long)(i + strcspn(t + i, "/?#"));
}

/* request_line - METHOD SP target SP HTTP/1.x */
static int
request_line(char *p, size_t start, size_t len, struct tfo_sink_head *h)
{
	char *s = p + start, *v;
	size_t m = 0, t;
	long path;

	while (m < len && is_tchar((unsigned char)s[m]))
		m++;
	if (m == 0 || m > METHOD_MAX || m == len || s[m] != ' ')
		return 400;
	for (t = m + 1; t < len && (unsigned char)s[t] > 0x20 && s[t] != 0x7f; t++)
		;
	if (t == m + 1 || t == len || s[t] != ' ' || len - t - 1 != 8)
		return 400;
	v = s + t + 1;
	if (memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1')
		return 505;
	h->minor = v[7] - '0';
	s[m] = '\0';
	s[t] = '\0';
	if ((path = path_of(s + m + 1)) < 0)
		return 400;
	h->method = (uint32_t)start;
	h->path = (uint32_t)(start + m + 1 + (size_t)path);
	p[h->path + strcspn(p + h->path, "?#")] = '\0';
	return 0;
}

static int
add_hdr(struct tfo_sink_head *h, size_t name, size_t value)
{
	struct tfo_sink_hdr *n;
	size_t cap;

	if (h->nhdrs == h->hdrs_cap) {
		cap = h->hdrs_cap ? h->hdrs_cap * 2 : 32;
		if ((n = realloc(h->hdrs, cap * sizeof(*n))) == NULL)
			return 500;
		h->hdrs = n;
		h->hdrs_cap = cap;
	}
	h->hdrs[h->nhdrs].name = (uint32_t)name;
	h->hdrs[h->nhdrs].value = (uint32_t)value;
	h->nhdrs++;
	return 0;
}

/* header_line - "name: value"; obs-fold and blanks before ':' are refused */
static int
header_line(char *p, size_t start, size_t len, struct tfo_sink_head *h)
{
	char *s = p + start;
	size_t i = 0, v, e = len;

	while (i < len && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == len || s[i] != ':')
		return 400;
	for (v = i + 1; v < len && (s[v] == ' ' || s[v] == '\t'); v++)
		;
	while (e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	for (size_t k = v; k < e; k++)
		if (!is_field_char((unsigned char)s[k]))
			return 400;
	s[i] = '\0';
	s[e] = '\0';            /* s[len] is the line's CR or LF: in bounds */
	return add_hdr(h, start, start + v);
}

/* content_length - strict decimal; duplicates must agree */
static int
content_length(const char *v, int *seen, uint64_t *len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++) {
		if (n > (UINT64_MAX - 9) / 10)
			return 413;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (i == 0 || v[i] != '\0' || (*seen && n != *len))
		return 400;
	*seen = 1;
	*len = n;
	return 0;
}

/* has_token - comma-separated list v holds token (any case) */
static int
has_token(const char *v, const char *token)
{
	size_t n, tlen = strlen(token);

	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0')
			return 0;
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(v, token, n) == 0)
			return 1;
		v += n;
		v += strcspn(v, ",");
	}
}

/* framing - meaning of Content-Length, Transfer-Encoding, Connection, Expect */
static int
framing(const char *p, struct tfo_sink_head *h)
{
	int has_len = 0, close = 0, keep = 0, rc;

	for (size_t i = 0; i < h->nhdrs; i++) {
		const char *name = p + h->hdrs[i].name, *v = p + h->hdrs[i].value;

		if (strcasecmp(name, "content-length") == 0) {
			if ((rc = content_length(v, &has_len, &h->length)) != 0)
				return rc;
		} else if (strcasecmp(name, "transfer-encoding") == 0) {
			if (strcasecmp(v, "chunked") != 0)
				return 501;
			if (h->chunked++)
				return 400;
		} else if (strcasecmp(name, "connection") == 0) {
			close |= has_token(v, "close");
			keep |= has_token(v, "keep-alive");
		} else if (strcasecmp(name, "expect") == 0 && *v != '\0') {
			if (strcasecmp(v, "100-continue") != 0)
				return 417;
			h->expect_continue = h->minor >= 1;    /* 1.0 clients do not wait */
		}
	}
	/* Both framings: a smuggling attempt or a broken client (RFC 9112 6.3). */
	if (h->chunked && has_len)
		return 400;
	if (h->length > TFO_SINK_MAX_BODY)
		return 413;
	h->keep_alive = !close && (h->minor >= 1 || keep);
	return 0;
}

int
tfo_sink_head_parse(char *p, size_t n, struct tfo_sink_head *h)
{
	size_t pos = 0, start, len;
	int rc;

	h->nhdrs = 0;
	h->chunked = h->expect_continue = h->keep_alive = 0;
	h->length = 0;
	if (n > UINT32_MAX || !next_line(p, n, &pos, &start, &len))
		return 400;
	if ((rc = request_line(p, start, len, h)) != 0)
		return rc;
	while (next_line(p, n, &pos, &start, &len) && len > 0)
		if ((rc = header_line(p, start, len, h)) != 0)
			return rc;
	return framing(p, h);
}

/* chunk_size - parse the chunk-size line p[0..len): hex size, then blanks
 * and ";ext" allowed; 400 malformed, 413 past room bytes */
static int
chunk_size(const uint8_t *p, size_t len, uint64_t room, uint64_t *size)
{
	uint64_t v = 0;
	size_t i;
	int d;

	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			break;
		v = v * 16 + (uint64_t)d;
		if (v > room)
			return 413;
	}
	if (i == 0)
		return 400;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < len && p[i] != ';')
		return 400;
	for (; i < len; i++)
		if (!is_field_char(p[i]))
			return 400;
	*size = v;
	return 0;
}

/* chunk_line - the line at p[*in..n) without CRLF; 0 if incomplete */
static int
chunk_line(const uint8_t *p, size_t n, size_t *in, size_t *start, size_t *len)
{
	const uint8_t *nl = memchr(p + *in, '\n', n - *in);

	if (nl == NULL)
		return 0;
	*start = *in;
	*len = (size_t)(nl - (p + *in));
	*in += *len + 1;
	if (*len > 0 && p[*start + *len - 1] == '\r')
		(*len)--;
	return 1;
}

/* chunk_head - CK_SIZE and CK_TRAILER: one line; 1 if the body ended,
 * NEED_MORE if the line is incomplete */
static int
chunk_head(struct tfo_sink_chunked *ck, const uint8_t *p, size_t n, size_t *in,
    size_t out, size_t max)
{
	/* ck->trailer <= TRAILER_MAX holds: past it we fail below */
	size_t start, len, limit = ck->state == CK_SIZE ? CHUNK_LINE_MAX : TRAILER_MAX - ck->trailer;
	int rc;

	if (!chunk_line(p, n, in, &start, &len))
		return n - *in > limit ? 400 : NEED_MORE;
	if (len > limit)
		return 400;
	if (ck->state == CK_TRAILER) {     /* trailer fields are read and dropped */
		if ((ck->trailer += len + 1) > TRAILER_MAX)
			return 400;
		return len == 0 ? 1 : 0;
	}
	if ((rc = chunk_size(p + start, len, max - out, &ck->left)) != 0)
		return rc;
	ck->state = ck->left == 0 ? CK_TRAILER : CK_DATA;
	return 0;
}

int
tfo_sink_chunked_decode(struct tfo_sink_chunked *ck, uint8_t *p, size_t n, size_t *in,
    size_t *out, size_t max)
{
	size_t k;
	int rc;

	while (*in < n) {
		switch (ck->state) {
		case CK_SIZE:
		case CK_TRAILER:
			if ((rc = chunk_head(ck, p, n, in, *out, max)) == NEED_MORE)
				return 0;
			if (rc != 0)
				return rc;
			break;
		case CK_DATA:
			k = n - *in < ck->left ? n - *in : (size_t)ck->left;
			memmove(p + *out, p + *in, k);
			*out += k;
			*in += k;
			if ((ck->left -= k) == 0)
				ck->state = CK_DATA_END;
			break;
		case CK_DATA_END:           /* CRLF or LF after the data */
			if (p[*in] == '\r' && n - *in < 2)
				return 0;
			if (p[*in] == '\r' && p[*in + 1] == '\n')
				*in += 2;
			else if (p[*in] == '\n')
				*in += 1;
			else
				return 400;
			ck->state = CK_SIZE;
			break;
		default:
			return 400;
		}
	}
	return 0;
}
