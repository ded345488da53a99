/*
 * wire.c - request body building (concatenated field-1 entries, gRPC frame,
 * gzip) and the hostile response parsers of tfo-exporter.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/payload.h"
#include "common/pbwire.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "workers/exporter/wire.h"

#define RETRYINFO_URL "type.googleapis.com/google.rpc.RetryInfo"

void
tfo_exp_buf_fini(struct tfo_exp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* buf_reserve - room for `more` bytes past len */
static enum tfo_err
buf_reserve(struct tfo_exp_buf *b, size_t more)
{
	size_t want, ncap;
	uint8_t *p;

	if (more > SIZE_MAX - b->len)
		return TFO_ERANGE;
	want = b->len + more;
	if (want <= b->cap)
		return TFO_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return TFO_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return TFO_OK;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * body_message - append the Export*ServiceRequest: entries as field 1. An LZ4
 * entry is inflated straight into place (no copy of its own first); one that
 * does not inflate is taken back out and counted in *bad.
 */
static enum tfo_err
body_message(struct tfo_exp_buf *out, const uint8_t *const *entries, const size_t *lens,
    const uint32_t *raw, size_t n, size_t *bad)
{
	size_t total = 0, at, sz;
	enum tfo_err e;

	for (size_t i = 0; i < n; i++) {
		sz = raw != NULL && raw[i] ? raw[i] : lens[i];
		if (sz > SIZE_MAX - total - TFO_PB_LENHDR_MAX)
			return TFO_ERANGE;
		total += tfo_pb_lenhdr_size(1, sz) + sz;
	}
	if ((e = buf_reserve(out, total)) != TFO_OK)
		return e;
	for (size_t i = 0; i < n; i++) {
		sz = raw != NULL && raw[i] ? raw[i] : lens[i];
		at = out->len;
		out->len += tfo_pb_lenhdr_put(out->data + out->len, 1, sz);
		if (tfo_payload_copy(out->data + out->len, entries[i], lens[i],
		    raw != NULL ? raw[i] : 0) != 0) {
			out->len = at;
			(*bad)++;
			continue;
		}
		out->len += sz;
	}
	return TFO_OK;
}

enum tfo_err
tfo_exp_body_build(struct tfo_exp_buf *out, const uint8_t *const *entries,
    const size_t *lens, const uint32_t *raw, size_t n, int grpc, int gzip, size_t *bad)
{
	struct tfo_exp_buf plain = { 0 };
	size_t hdr = grpc ? TFO_EXP_GRPC_HDR : 0;
	enum tfo_err e;

	out->len = 0;
	*bad = 0;
	if (!gzip) {
		if ((e = buf_reserve(out, hdr)) != TFO_OK)
			return e;
		out->len = hdr;
		if ((e = body_message(out, entries, lens, raw, n, bad)) != TFO_OK)
			return e;
	} else {
		if ((e = body_message(&plain, entries, lens, raw, n, bad)) != TFO_OK)
			goto done;
		if ((e = buf_reserve(out, hdr)) != TFO_OK)
			goto done;
		out->len = hdr;
		e = tfo_exp_gzip(out, plain.data, plain.len);
	done:
		tfo_exp_buf_fini(&plain);
		if (e != TFO_OK)
			return e;
	}
	if (grpc) {
		if (out->len - hdr > UINT32_MAX)
			return TFO_ERANGE;
		out->data[0] = gzip ? 1 : 0;
		put_be32(out->data + 1, (uint32_t)(out->len - hdr));
	}
	return TFO_OK;
}

/* zlib keeps this much of its window for lookahead: a match reaches back
 * at most the window's size less this (zlib's MIN_LOOKAHEAD) */
#define GZIP_LOOKAHEAD 262

/* zlib's memLevel at most this: its hash (2^(memLevel+7) heads, cleared
 * at every deflateInit) and symbol buffer (2^(memLevel+6) x 4 bytes) grow 4x
 * from 6 to 8 for 0.7 % of the bytes on idle OTLP bodies (80-100 KiB of
 * metrics, at level 1), and level 1 is faster at 6 than at 8 */
#define GZIP_MEMLEVEL_MAX 6

/* gzip_state - the deflate state's bytes, counted by gzip_alloc: the
 * last request's, for tfo_exp_gzip_state_last (tests) */
static size_t gzip_state, gzip_state_last;

static voidpf
gzip_alloc(voidpf opaque, uInt items, uInt size)
{
	void *p;

	(void)opaque;
	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	if ((p = malloc((size_t)items * size)) != NULL)
		gzip_state += (size_t)items * size;
	return p;
}

static void
gzip_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	free(p);
}

size_t
tfo_exp_gzip_state_last(void)
{
	return gzip_state_last;
}

void
tfo_exp_gzip_window(size_t len, int *wbits, int *memlevel)
{
	int wb = 9;

	while (wb < 15 && ((size_t)1 << wb) < len + GZIP_LOOKAHEAD)
		wb++;
	*wbits = wb;
	*memlevel = wb - 7 < 5 ? 5 : wb - 7 > GZIP_MEMLEVEL_MAX ? GZIP_MEMLEVEL_MAX : wb - 7;
}

enum tfo_err
tfo_exp_gzip(struct tfo_exp_buf *out, const uint8_t *src, size_t len)
{
	z_stream zs;
	enum tfo_err e = TFO_OK;
	int rc, wbits, memlevel;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = gzip_alloc;
	zs.zfree = gzip_free;
	gzip_state = 0;
	/*
	 * Level 1: OTLP batches of log lines and metrics are repetitive, so it
	 * keeps most of level 6's ratio at a fraction of its CPU (the
	 * exporter's largest cost with gzip on). The window and hash sized to
	 * the body (tfo_exp_gzip_window), not zlib's largest: a 15-bit window
	 * and memLevel 8 allocate 262 KiB for every request, all of it faulted
	 * in again after each heap trim, while a body shorter than the window
	 * finds every match in one that just holds it; memLevel stops at
	 * GZIP_MEMLEVEL_MAX (160 KiB for a body over 32 KiB). +16: the gzip
	 * wrapper.
	 */
	tfo_exp_gzip_window(len, &wbits, &memlevel);
	if (deflateInit2(&zs, 1, Z_DEFLATED, wbits + 16, memlevel, Z_DEFAULT_STRATEGY) != Z_OK)
		return TFO_ENOMEM;
	gzip_state_last = gzip_state;
	if (len > UINT_MAX) {
		deflateEnd(&zs);
		return TFO_ERANGE;
	}
	if ((e = buf_reserve(out, deflateBound(&zs, len))) != TFO_OK) {
		deflateEnd(&zs);
		return e;
	}
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)len;
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)(out->cap - out->len > UINT_MAX ? UINT_MAX : out->cap - out->len);
	rc = deflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END)
		e = TFO_EIO;
	else
		out->len += zs.total_out;
	deflateEnd(&zs);
	return e;
}

enum tfo_err
tfo_exp_gunzip(struct tfo_exp_buf *out, const uint8_t *src, size_t len, size_t max)
{
	z_stream zs;
	enum tfo_err e = TFO_OK;
	size_t start = out->len;
	int rc;

	if (len > UINT_MAX)
		return TFO_ERANGE;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)     /* +32: gzip or zlib header */
		return TFO_ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)len;
	do {
		if ((e = buf_reserve(out, 4096)) != TFO_OK)
			break;
		zs.next_out = out->data + out->len;
		zs.avail_out = 4096;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += 4096 - zs.avail_out;
		if (out->len - start > max) {
			e = TFO_ERANGE;
			break;
		}
		if (rc == Z_STREAM_END)
			break;
		if (rc != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {
			e = TFO_EPROTO;     /* corrupt or truncated stream */
			break;
		}
	} while (1);
	inflateEnd(&zs);
	return e;
}

enum tfo_err
tfo_exp_grpc_unframe(const uint8_t *body, size_t len, struct tfo_exp_buf *scratch,
    const uint8_t **msg, size_t *msglen)
{
	uint32_t n;

	if (len == 0)
		return TFO_ENOENT;
	if (len < TFO_EXP_GRPC_HDR || body[0] > 1)
		return TFO_EPROTO;
	n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
	if (n != len - TFO_EXP_GRPC_HDR)
		return TFO_EPROTO;  /* one reply message, nothing more, nothing less */
	if (body[0] == 0) {
		*msg = body + TFO_EXP_GRPC_HDR;
		*msglen = n;
		return TFO_OK;
	}
	scratch->len = 0;
	if (tfo_exp_gunzip(scratch, body + TFO_EXP_GRPC_HDR, n, TFO_EXP_RESP_MAX) != TFO_OK)
		return TFO_EPROTO;
	*msg = scratch->data;
	*msglen = scratch->len;
	return TFO_OK;
}

enum tfo_err
tfo_exp_partial_parse(const uint8_t *msg, size_t len, int is_logs, struct tfo_exp_partial *out)
{
	const char *text = NULL;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return TFO_OK;
	if (is_logs) {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
		    opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(NULL, len, msg);
		if (r == NULL)
			return TFO_EPROTO;
		if (r->partial_success) {
			out->rejected = r->partial_success->rejected_log_records;
			text = r->partial_success->error_message;
		}
		if (text)
			tfo_exp_text_clean(out->message, sizeof(out->message), text, strlen(text), 0);
		opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(r, NULL);
	} else {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(NULL, len, msg);
		if (r == NULL)
			return TFO_EPROTO;
		if (r->partial_success) {
			out->rejected = r->partial_success->rejected_data_points;
			text = r->partial_success->error_message;
		}
		if (text)
			tfo_exp_text_clean(out->message, sizeof(out->message), text, strlen(text), 0);
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(r, NULL);
	}
	if (out->rejected < 0)
		out->rejected = 0;
	return TFO_OK;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

enum tfo_err
tfo_exp_base64_decode(const char *s, size_t len, struct tfo_exp_buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	enum tfo_err e;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return TFO_EINVAL;
	if ((e = buf_reserve(out, len / 4 * 3 + 3)) != TFO_OK)
		return e;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return TFO_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (uint8_t)(acc >> bits);
		}
	}
	return TFO_OK;
}

/* retryinfo_delay - a RetryInfo's delay in ms (capped); -1 when absent or negative */
static int64_t
retryinfo_delay(const Google__Rpc__Any *any)
{
	Google__Rpc__RetryInfo *ri;
	int64_t ms = -1;

	if (any->type_url == NULL || strcmp(any->type_url, RETRYINFO_URL) != 0)
		return -1;
	ri = google__rpc__retry_info__unpack(NULL, any->value.len, any->value.data);
	if (ri == NULL)
		return -1;
	if (ri->retry_delay && ri->retry_delay->seconds >= 0 && ri->retry_delay->nanos >= 0 &&
	    ri->retry_delay->nanos < 1000000000) {
		int64_t s = ri->retry_delay->seconds;
		if (s > (int64_t)TFO_EXP_RETRY_CAP_MS / 1000)
			ms = TFO_EXP_RETRY_CAP_MS;
		else
			ms = s * 1000 + ri->retry_delay->nanos / 1000000;
		if (ms > (int64_t)TFO_EXP_RETRY_CAP_MS)
			ms = TFO_EXP_RETRY_CAP_MS;
	}
	google__rpc__retry_info__free_unpacked(ri, NULL);
	return ms;
}

enum tfo_err
tfo_exp_retryinfo_parse(const char *b64, size_t len, uint32_t *delay_ms)
{
	struct tfo_exp_buf raw = { 0 };
	Google__Rpc__Status *st;
	enum tfo_err e = TFO_ENOENT;

	if (len > TFO_EXP_RESP_MAX)
		return TFO_ERANGE;
	if (tfo_exp_base64_decode(b64, len, &raw) != TFO_OK) {
		tfo_exp_buf_fini(&raw);
		return TFO_EPROTO;
	}
	st = google__rpc__status__unpack(NULL, raw.len, raw.data);
	tfo_exp_buf_fini(&raw);
	if (st == NULL)
		return TFO_EPROTO;
	for (size_t i = 0; i < st->n_details; i++) {
		int64_t ms = retryinfo_delay(st->details[i]);
		if (ms >= 0) {
			*delay_ms = (uint32_t)ms;
			e = TFO_OK;
			break;
		}
	}
	google__rpc__status__free_unpacked(st, NULL);
	return e;
}

/* copy_trim - a bounded NUL-terminated copy of a header value without blanks around it */
static int
copy_trim(char *dst, size_t dstsz, const char *v, size_t len)
{
	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len == 0 || len >= dstsz || memchr(v, '\0', len) != NULL)
		return -1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

enum tfo_err
tfo_exp_retry_after_parse(const char *v, size_t len, time_t now, uint32_t *delay_ms)
{
	char tmp[64], *end;
	struct tm tm;
	unsigned long long secs;
	time_t when;

	if (copy_trim(tmp, sizeof(tmp), v, len) != 0)
		return TFO_EINVAL;
	if (isdigit((unsigned char)tmp[0])) {
		errno = 0;
		secs = strtoull(tmp, &end, 10);
		if (*end != '\0')
			return TFO_EINVAL;
		if (errno == ERANGE || secs > TFO_EXP_RETRY_CAP_MS / 1000)
			secs = TFO_EXP_RETRY_CAP_MS / 1000;
		*delay_ms = (uint32_t)(secs * 1000);
		return TFO_OK;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return TFO_EINVAL;
	if ((when = timegm(&tm)) == (time_t)-1)
		return TFO_EINVAL;
	if (when <= now)
		*delay_ms = 0;
	else if (when - now > (time_t)(TFO_EXP_RETRY_CAP_MS / 1000))
		*delay_ms = TFO_EXP_RETRY_CAP_MS;
	else
		*delay_ms = (uint32_t)(when - now) * 1000;
	return TFO_OK;
}

enum tfo_err
tfo_exp_grpc_status_parse(const char *v, size_t len, int *code)
{
	char tmp[8], *end;
	unsigned long n;

	if (copy_trim(tmp, sizeof(tmp), v, len) != 0 || !isdigit((unsigned char)tmp[0]))
		return TFO_EINVAL;
	errno = 0;
	n = strtoul(tmp, &end, 10);
	if (*end != '\0' || errno != 0 || n > 999)
		return TFO_EINVAL;
	*code = (int)n;
	return TFO_OK;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
tfo_exp_text_clean(char *dst, size_t dstsz, const char *src, size_t len, int pct)
{
	size_t o = 0;

	if (dstsz == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];
		if (pct && c == '%' && i + 2 < len && hexval((unsigned char)src[i + 1]) >= 0 &&
		    hexval((unsigned char)src[i + 2]) >= 0) {
			c = (unsigned char)(hexval((unsigned char)src[i + 1]) << 4 |
			    hexval((unsigned char)src[i + 2]));
			i += 2;
		}
		/* keep UTF-8 bytes, replace control characters (log injection) */
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[o] = '\0';
}

/* host_port - split "host[:port]" (host may be "[v6]"); *port 0 when absent */
static enum tfo_err
host_port(const char *h, size_t len, uint16_t *port)
{
	const char *colon = NULL, *end = h + len;
	char num[8], *e;
	unsigned long v;

	if (len == 0)
		return TFO_EINVAL;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', len);
		if (rb == NULL || rb == h + 1)
			return TFO_EINVAL;
		if (rb + 1 < end && rb[1] != ':')
			return TFO_EINVAL;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', len);
		if (colon == h)
			return TFO_EINVAL;
	}
	for (const char *p = h; p < (colon ? colon : end); p++)
		if (isspace((unsigned char)*p) || *p == '@' || *p == '\0')
			return TFO_EINVAL;   /* no userinfo, no blanks */
	*port = 0;
	if (colon == NULL)
		return TFO_OK;
	len = (size_t)(end - colon - 1);
	if (len == 0 || len >= sizeof(num))
		return TFO_EINVAL;
	memcpy(num, colon + 1, len);
	num[len] = '\0';
	if (!isdigit((unsigned char)num[0]))
		return TFO_EINVAL;
	errno = 0;
	v = strtoul(num, &e, 10);
	if (*e != '\0' || errno != 0 || v == 0 || v > 65535)
		return TFO_EINVAL;
	*port = (uint16_t)v;
	return TFO_OK;
}

enum tfo_err
tfo_exp_endpoint_parse(const char *ep, int grpc, int tls, char *url, size_t urlsz, uint16_t *port)
{
	const char *scheme = NULL, *host = ep, *slash;
	size_t len = strlen(ep), hlen, n;
	int secure = tls;

	while (len > 0 && ep[len - 1] == '/')
		len--;
	if (strncmp(ep, "http://", 7) == 0) {
		scheme = "http://";
		secure = 0;
	} else if (strncmp(ep, "https://", 8) == 0) {
		scheme = "https://";
		secure = 1;
	} else if (strstr(ep, "://") != NULL) {
		return TFO_EINVAL;      /* unix://, ftp://, ... */
	}
	if (scheme)
		host += strlen(scheme);
	if (host >= ep + len)
		return TFO_EINVAL;
	slash = memchr(host, '/', (size_t)(ep + len - host));
	hlen = slash ? (size_t)(slash - host) : (size_t)(ep + len - host);
	if (host_port(host, hlen, port) != TFO_OK)
		return TFO_EINVAL;
	if (scheme == NULL && slash != NULL)
		return TFO_EINVAL;      /* a path needs an explicit scheme */
	if (*port == 0 && scheme == NULL)
		n = (size_t)snprintf(url, urlsz, "%s%.*s:%u", secure ? "https://" : "http://",
		    (int)hlen, host, grpc ? 4317u : 4318u);
	else
		n = (size_t)snprintf(url, urlsz, "%s%.*s", scheme ? scheme : (secure ? "https://" : "http://"),
		    (int)(ep + len - host), host);
	if (n >= urlsz)
		return TFO_ERANGE;
	if (*port == 0)
		*port = scheme == NULL ? (grpc ? 4317 : 4318) : (secure ? 443 : 80);
	return TFO_OK;
}
