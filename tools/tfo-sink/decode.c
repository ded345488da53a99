/*
 * decode.c - tfo-sink (tool process): entry point of the request decoder.
 * Checks media type and encoding, gunzips with a bound (zip bombs stop at
 * TFO_SINK_MAX_INFLATED), then hands the bytes to the protobuf or JSON path.
 */
#include "tools/tfo-sink/decode_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

/* header_token - whether header value v (up to ';', blanks trimmed) equals
 * token, ignoring case, as HTTP media types and codings compare */
static int
header_token(const char *v, const char *token)
{
	size_t n, tlen = strlen(token);

	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, ";");
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == tlen && strncasecmp(v, token, n) == 0;
}

int
tfo_sink_media_format(const char *ct)
{
	if (ct == NULL)
		return -1;
	if (header_token(ct, "application/x-protobuf") || header_token(ct, "application/protobuf"))
		return TFO_SINK_PROTOBUF;
	if (header_token(ct, "application/json"))
		return TFO_SINK_JSON;
	return -1;
}

/*
 * gunzip - inflate one or more concatenated gzip members into a new buffer
 * of at most cap bytes. TFO_ERANGE past cap, TFO_EINVAL on corrupt, truncated
 * or trailing data.
 */
static enum tfo_err
gunzip(struct tfo_sink_summary *s, const uint8_t *in, size_t len, size_t cap,
    uint8_t **out, size_t *outlen)
{
	z_stream z = { 0 };
	size_t size = len * 4 + 4096 < cap ? len * 4 + 4096 : cap + 1, used = 0;
	uint8_t *buf = malloc(size), *nbuf;
	enum tfo_err e = TFO_OK;
	int rc;

	if (buf == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return sink_fail(s, TFO_ENOMEM, "gzip: out of memory");
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;         /* len <= TFO_SINK_MAX_BODY */
	while (e == TFO_OK) {
		if (used == size) {
			if (size > cap) {
				e = sink_fail(s, TFO_ERANGE, "gzip: inflates past %zu bytes", cap);
				break;
			}
			size = size * 2 < cap ? size * 2 : cap + 1;
			if ((nbuf = realloc(buf, size)) == NULL) {
				e = sink_fail(s, TFO_ENOMEM, "gzip: out of memory");
				break;
			}
			buf = nbuf;
		}
		/* Not total_out: inflateReset clears it between members. */
		z.next_out = buf + used;
		z.avail_out = (uInt)(size - used);
		rc = inflate(&z, Z_NO_FLUSH);
		used = size - z.avail_out;
		if (rc == Z_STREAM_END && z.avail_in == 0)
			break;
		if (rc == Z_STREAM_END && z.avail_in >= 2 && z.next_in[0] == 0x1f &&
		    z.next_in[1] == 0x8b)
			rc = inflateReset(&z);  /* next member (RFC 1952 2.2) */
		if (rc == Z_STREAM_END)
			e = sink_fail(s, TFO_EINVAL, "gzip: trailing data after stream");
		else if (rc == Z_MEM_ERROR)
			e = sink_fail(s, TFO_ENOMEM, "gzip: out of memory");
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			e = sink_fail(s, TFO_EINVAL, "gzip: %s", z.msg ? z.msg : "corrupt stream");
		else if (z.avail_in == 0 && z.avail_out != 0)
			e = sink_fail(s, TFO_EINVAL, "gzip: truncated stream");
	}
	inflateEnd(&z);
	if (e == TFO_OK && used > cap)  /* ended exactly at cap + 1 */
		e = sink_fail(s, TFO_ERANGE, "gzip: inflates past %zu bytes", cap);
	if (e != TFO_OK) {
		free(buf);
		return e;
	}
	*out = buf;
	*outlen = used;
	return TFO_OK;
}

/* check_headers - fill format/gzip from the headers, or say why not */
static enum tfo_err
check_headers(struct tfo_sink_summary *s, const char *content_type, const char *encoding)
{
	int fmt = tfo_sink_media_format(content_type);

	if (fmt < 0)
		return sink_fail(s, TFO_EPROTO, "unsupported content type '%.64s'",
		    content_type ? content_type : "(none)");
	if (s->signal == TFO_SINK_HEARTBEAT && fmt != TFO_SINK_JSON)
		return sink_fail(s, TFO_EPROTO, "heartbeat takes application/json");
	s->format = (enum tfo_sink_format)fmt;
	if (encoding != NULL && header_token(encoding, "gzip"))
		s->gzip = 1;
	else if (encoding != NULL && *encoding != '\0' && !header_token(encoding, "identity"))
		return sink_fail(s, TFO_EPROTO, "unsupported content encoding '%.64s'", encoding);
	return TFO_OK;
}

enum tfo_err
tfo_sink_decode_flags(enum tfo_sink_signal signal, const char *content_type,
    const char *encoding, const uint8_t *body, size_t len, struct tfo_sink_summary *out,
    unsigned flags)
{
	struct sink_ctx c = { out, TFO_SINK_MAX_DETAIL };
	uint8_t *inflated = NULL;
	const uint8_t *data = body ? body : (const uint8_t *)"";
	size_t cap;
	enum tfo_err e;

	memset(out, 0, sizeof(*out));
	out->signal = signal;
	out->wire_bytes = len;
	out->strict_utf8 = (flags & TFO_SINK_STRICT_UTF8) != 0;
	if (signal != TFO_SINK_METRICS && signal != TFO_SINK_LOGS && signal != TFO_SINK_HEARTBEAT)
		return sink_fail(out, TFO_EINVAL, "unknown signal");
	if (len > TFO_SINK_MAX_BODY)
		return sink_fail(out, TFO_ERANGE, "body larger than %u bytes", TFO_SINK_MAX_BODY);
	if ((e = check_headers(out, content_type, encoding)) != TFO_OK)
		return e;
	cap = out->format == TFO_SINK_JSON ? TFO_SINK_MAX_JSON : TFO_SINK_MAX_INFLATED;
	if (out->gzip) {
		if ((e = gunzip(out, data, len, cap, &inflated, &len)) != TFO_OK)
			return e;
		data = inflated;
	}
	out->decoded_bytes = len;
	if (out->format == TFO_SINK_JSON)
		e = sink_decode_json(&c, data, len);
	else if (flags & TFO_SINK_COUNT_ONLY)
		e = sink_count_pb(out, data, len);
	else
		e = sink_decode_pb(&c, data, len);
	free(inflated);
	if (e != TFO_OK) {
		cJSON_Delete(out->body);
		out->body = NULL;
	}
	return e;
}

enum tfo_err
tfo_sink_decode(enum tfo_sink_signal signal, const char *content_type, const char *encoding,
    const uint8_t *body, size_t len, struct tfo_sink_summary *out)
{
	return tfo_sink_decode_flags(signal, content_type, encoding, body, len, out, 0);
}

enum tfo_err
tfo_sink_count(enum tfo_sink_signal signal, const char *content_type, const char *encoding,
    const uint8_t *body, size_t len, struct tfo_sink_summary *out)
{
	return tfo_sink_decode_flags(signal, content_type, encoding, body, len, out,
	    TFO_SINK_COUNT_ONLY);
}

void
tfo_sink_summary_fini(struct tfo_sink_summary *s)
{
	cJSON_Delete(s->body);
	s->body = NULL;
}

int
tfo_sink_http_status(enum tfo_err e)
{
	switch (e) {
	case TFO_OK:
		return 200;
	case TFO_ERANGE:
		return 413;
	case TFO_EPROTO:
		return 415;
	case TFO_ENOMEM:
		return 500;
	default:
		return 400;
	}
}

const char *
tfo_sink_signal_name(enum tfo_sink_signal signal)
{
	switch (signal) {
	case TFO_SINK_METRICS:
		return "metrics";
	case TFO_SINK_LOGS:
		return "logs";
	case TFO_SINK_HEARTBEAT:
		return "heartbeat";
	}
	return "unknown";
}
