/*
 * http.c - tfo-sink (tool process): the request handler under conn.c. Routes
 * /v1/metrics, /v1/logs and [prefix]/agents/{id}/heartbeat, decodes with
 * tfo_sink_decode, prints one human line, appends one --out JSON line (both
 * before replying, so a client that has its answer can read them), replies.
 */
#include "tools/tfo-sink/sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "google/rpc/status.pb-c.h"
#include "tools/tfo-sink/conn.h"
#include "tools/tfo-sink/decode.h"

#define ROUTE_UNKNOWN (-1)
#define AGENT_ID_MAX  128

/* Headers copied to --out when present (lowercase names). */
static const char *const recorded_headers[] = {
	"content-type", "content-encoding", "user-agent",
	"x-telemetryflow-key-id", "x-telemetryflow-key-secret", "x-telemetryflow-agent-id",
	"x-api-key-id", "x-api-key-secret", "x-agent-version",
};

struct request {
	const char *method, *path;
	int route;                      /* enum tfo_sink_signal or ROUTE_UNKNOWN */
	char agent_id[AGENT_ID_MAX + 1];
	int status;
	int forced;                     /* answered by --fail-first */
	int decoded;                    /* summary holds a successful decode */
	size_t bytes;
	char message[320];
	struct tfo_sink_summary sum;
};

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* agent_id_ok - 1..128 characters of an unreserved/UUID-like alphabet */
static int
agent_id_ok(const char *id, size_t n)
{
	if (n == 0 || n > AGENT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~:@%+-",
		    id[i]) || id[i] == '\0')
			return 0;
	return 1;
}

/* route - signal for path; a heartbeat path with a bad id sets status 400 */
static void
route(struct request *r)
{
	const char *p = r->path;
	size_t n = strlen(p), end, start;

	r->route = ROUTE_UNKNOWN;
	if (ends_with(p, n, "/v1/metrics"))
		r->route = TFO_SINK_METRICS;
	else if (ends_with(p, n, "/v1/logs"))
		r->route = TFO_SINK_LOGS;
	if (r->route != ROUTE_UNKNOWN || !ends_with(p, n, "/heartbeat"))
		return;
	end = n - strlen("/heartbeat");
	for (start = end; start > 0 && p[start - 1] != '/'; start--)
		;
	if (start < 8 || memcmp(p + start - 8, "/agents/", 8) != 0)
		return;
	r->route = TFO_SINK_HEARTBEAT;
	if (!agent_id_ok(p + start, end - start)) {
		r->status = 400;
		snprintf(r->message, sizeof(r->message), "bad agent id in path");
		return;
	}
	memcpy(r->agent_id, p + start, end - start);
	r->agent_id[end - start] = '\0';
}

/* printable - copy s for a terminal line: printable ASCII, bounded */
static const char *
printable(char *out, size_t outsz, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < outsz; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
	return o ? out : "-";
}

static void
print_line(const struct sink *sk, const struct request *r)
{
	const struct tfo_sink_summary *s = &r->sum;
	const char *fmt = s->format == TFO_SINK_JSON ? "json" : "protobuf";
	char hostbuf[128], msg[256];
	const char *host = printable(hostbuf, sizeof(hostbuf), s->host);

	if (sk->quiet)
		return;
	if (r->status != 200)
		printf("%s  status=%d %s  %zu bytes\n",
		    r->route == ROUTE_UNKNOWN ? "unknown" : tfo_sink_signal_name((enum tfo_sink_signal)r->route),
		    r->status, printable(msg, sizeof(msg), r->message), r->bytes);
	else if (r->route == TFO_SINK_HEARTBEAT)
		printf("heartbeat agent=%s host=%s fields=%" PRIu64 "\n", r->agent_id, host, s->fields);
	else if (r->route == TFO_SINK_METRICS)
		printf("metrics  %" PRIu64 " points  host=%s  %zu bytes (%s%s)\n", s->points, host,
		    r->bytes, fmt, s->gzip ? ", gzip" : "");
	else
		printf("logs  %" PRIu64 " records  host=%s  %zu bytes (%s%s)\n", s->records, host,
		    r->bytes, fmt, s->gzip ? ", gzip" : "");
	fflush(stdout);
}

static cJSON *
record_headers(const struct tfo_sink_req *req)
{
	cJSON *h = cJSON_CreateObject();
	const char *v;

	for (size_t i = 0; h && i < sizeof(recorded_headers) / sizeof(recorded_headers[0]); i++)
		if ((v = tfo_sink_req_header(req, recorded_headers[i])) != NULL)
			cJSON_AddItemToObject(h, recorded_headers[i], tfo_sink_json_string(v));
	return h;
}

static void
add_u64(cJSON *o, const char *key, uint64_t v)
{
	cJSON_AddItemToObject(o, key, cJSON_CreateNumber((double)v));
}

/* write_record - append the --out JSON line for r; the schema is in
 * docs/tfo-sink.md, and other suites parse it: change both together */
static void
write_record(struct sink *sk, const struct tfo_sink_req *req, struct request *r)
{
	struct tfo_sink_summary *s = &r->sum;
	struct timespec ts;
	cJSON *o;
	char *line;

	if (sk->out == NULL || (o = cJSON_CreateObject()) == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	cJSON_AddNumberToObject(o, "ts", (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3);
	add_u64(o, "seq", sk->requests);
	cJSON_AddStringToObject(o, "method", r->method);
	cJSON_AddItemToObject(o, "path", tfo_sink_json_string(r->path));
	cJSON_AddStringToObject(o, "signal", r->route == ROUTE_UNKNOWN ? "unknown" :
	    tfo_sink_signal_name((enum tfo_sink_signal)r->route));
	cJSON_AddNumberToObject(o, "status", r->status);
	cJSON_AddItemToObject(o, "headers", record_headers(req));
	add_u64(o, "bytes", r->bytes);
	if (r->decoded) {
		add_u64(o, "decoded_bytes", s->decoded_bytes);
		cJSON_AddStringToObject(o, "format", s->format == TFO_SINK_JSON ? "json" : "protobuf");
		cJSON_AddStringToObject(o, "encoding", s->gzip ? "gzip" : "identity");
		cJSON_AddItemToObject(o, "host", tfo_sink_json_string(s->host));
	}
	if (r->route == TFO_SINK_METRICS || r->route == TFO_SINK_LOGS) {
		add_u64(o, "resources", s->resources);
		add_u64(o, "metrics", s->metrics);
		add_u64(o, "points", s->points);
		add_u64(o, "records", s->records);
	} else if (r->route == TFO_SINK_HEARTBEAT) {
		cJSON_AddStringToObject(o, "agent_id", r->agent_id);
		add_u64(o, "fields", s->fields);
	}
	cJSON_AddBoolToObject(o, "fail_first", r->forced);
	if (r->status != 200)
		cJSON_AddItemToObject(o, "error", tfo_sink_json_string(r->message));
	if (r->decoded && s->body != NULL) {    /* none with --count-only */
		cJSON_AddBoolToObject(o, "body_truncated", s->body_truncated);
		cJSON_AddItemToObject(o, "body", s->body);
		s->body = NULL;         /* now owned by o */
	}
	if ((line = cJSON_PrintUnformatted(o)) != NULL) {
		fprintf(sk->out, "%s\n", line);
		fflush(sk->out);
		free(line);
	}
	cJSON_Delete(o);
}

/* grpc_code - the google.rpc.Code an OTLP client expects with a status */
static int
grpc_code(int status)
{
	switch (status) {
	case 400: case 415: return 3;   /* INVALID_ARGUMENT */
	case 404: return 5;             /* NOT_FOUND */
	case 405: return 12;            /* UNIMPLEMENTED */
	case 413: case 429: return 8;   /* RESOURCE_EXHAUSTED */
	case 503: return 14;            /* UNAVAILABLE */
	case 500: return 13;            /* INTERNAL */
	default: return 2;              /* UNKNOWN */
	}
}

/* error_body - OTLP/HTTP error body: google.rpc.Status in the request's
 * encoding (protobuf, else JSON) */
static void
error_body(struct tfo_sink_req *req, const struct request *r, struct evbuffer *buf)
{
	const char *ct = tfo_sink_req_header(req, "content-type");
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t pb[512];
	cJSON *j;
	char *text;

	st.code = grpc_code(r->status);
	st.message = (char *)r->message;
	if (tfo_sink_media_format(ct) == TFO_SINK_PROTOBUF &&
	    google__rpc__status__get_packed_size(&st) <= sizeof(pb)) {
		tfo_sink_req_add_header(req, "Content-Type", "application/x-protobuf");
		evbuffer_add(buf, pb, google__rpc__status__pack(&st, pb));
		return;
	}
	tfo_sink_req_add_header(req, "Content-Type", "application/json");
	if ((j = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddNumberToObject(j, "code", st.code);
	cJSON_AddItemToObject(j, "message", tfo_sink_json_string(r->message));
	if ((text = cJSON_PrintUnformatted(j)) != NULL)
		evbuffer_add(buf, text, strlen(text));
	free(text);
	cJSON_Delete(j);
}

static void
reply(struct tfo_sink_req *req, const struct request *r)
{
	struct evbuffer *buf = evbuffer_new();

	if (buf == NULL) {
		tfo_sink_req_reply(req, 500, NULL);
		return;
	}
	if (r->status != 200)
		error_body(req, r, buf);
	else if (r->route == TFO_SINK_HEARTBEAT) {
		tfo_sink_req_add_header(req, "Content-Type", "application/json");
		evbuffer_add_printf(buf, "{\"status\":\"ok\"}");
	} else if (r->sum.format == TFO_SINK_JSON) {
		tfo_sink_req_add_header(req, "Content-Type", "application/json");
		evbuffer_add_printf(buf, "{}");
	} else    /* an empty Export*ServiceResponse encodes to zero bytes */
		tfo_sink_req_add_header(req, "Content-Type", "application/x-protobuf");
	if (r->forced)
		tfo_sink_req_add_header(req, "Retry-After", "1");
	if (r->status == 405)
		tfo_sink_req_add_header(req, "Allow", "POST");
	tfo_sink_req_reply(req, r->status, buf);
	evbuffer_free(buf);
}

/* ascii_only - messages echo client bytes (Content-Type...): keep them
 * printable ASCII for the terminal, JSON and proto3 string fields */
static void
ascii_only(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}

/* decide - status and message of request r, decoding its body if routed */
static void
decide(struct sink *sk, const struct tfo_sink_req *req, struct request *r, int is_post)
{
	enum tfo_err e;

	r->bytes = req->body_len;
	if (r->route == ROUTE_UNKNOWN) {
		r->status = 404;
		snprintf(r->message, sizeof(r->message), "no route for %s %.200s", r->method, r->path);
	} else if (!is_post) {
		r->status = 405;
		snprintf(r->message, sizeof(r->message), "%s not allowed, use POST", r->method);
	} else if (r->status == 0) {
		e = tfo_sink_decode_flags((enum tfo_sink_signal)r->route,
		    tfo_sink_req_header(req, "Content-Type"), tfo_sink_req_header(req, "Content-Encoding"),
		    req->body, r->bytes, &r->sum,
		    (sk->count_only ? TFO_SINK_COUNT_ONLY : 0) | (sk->strict_utf8 ? TFO_SINK_STRICT_UTF8 : 0));
		r->decoded = e == TFO_OK;
		r->status = tfo_sink_http_status(e);
		snprintf(r->message, sizeof(r->message), "%s", r->sum.error);
	}
	/* --fail-first: still decoded above, so a retry test can compare. */
	if (sk->requests <= sk->fail_first) {
		r->forced = 1;
		r->status = sk->fail_status;
		snprintf(r->message, sizeof(r->message), "fail-first %" PRIu64 "/%lu",
		    sk->requests, sk->fail_first);
	}
	ascii_only(r->message);
}

void
tfo_sink_http_handle(struct tfo_sink_req *req, void *arg)
{
	struct sink *sk = arg;
	struct request r = { 0 };

	sk->requests++;
	r.method = req->method;
	r.path = req->path;
	route(&r);
	decide(sk, req, &r, strcmp(req->method, "POST") == 0);
	print_line(sk, &r);
	write_record(sk, req, &r);
	reply(req, &r);
	tfo_sink_summary_fini(&r.sum);
}
