/*
 * decode_count.c - tfo-sink (tool process): --count-only decoding of OTLP
 * protobuf bodies. A fixed-depth pbwire field walk checks the framing down to
 * each record / data point and counts them; no protobuf-c object is built.
 */
#include "tools/tfo-sink/decode_int.h"

#include <string.h>

#include "common/pbwire.h"

typedef enum tfo_err (*count_fn)(struct tfo_sink_summary *s, const uint8_t *p,
    const uint8_t *end);

/* A sub-message field of interest: its number and what to do with it. */
struct sub {
	uint32_t number;
	count_fn fn;
};

/*
 * walk - every field of one message in [p, end) framing-checked; each LEN
 * field named in subs handed to its fn. A named field with another wire
 * type is malformed (protobuf-c rejects it too).
 */
static enum tfo_err
walk(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end,
    const struct sub *subs, size_t nsubs)
{
	struct tfo_pb_field f;
	enum tfo_err e;

	while (p < end) {
		if (tfo_pb_field_next(&p, end, &f) != TFO_OK)
			return sink_fail(s, TFO_EINVAL, "protobuf: %s", f.error);
		for (size_t i = 0; i < nsubs; i++) {
			if (subs[i].number != f.number)
				continue;
			if (f.wire != TFO_PB_LEN)
				return sink_fail(s, TFO_EINVAL, "protobuf: field %u is not a message",
				    (unsigned)f.number);
			if ((e = subs[i].fn(s, f.data, f.data + f.len)) != TFO_OK)
				return e;
		}
	}
	return TFO_OK;
}

/* count_record - one LogRecord: counted. Its own fields are not walked: a
 * bench moves hundreds of MB of them through the sink on the agent's cores,
 * and the full decode (the default mode) checks them. */
static enum tfo_err
count_record(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	(void)p;
	(void)end;
	s->records++;
	return TFO_OK;
}

static enum tfo_err
count_point(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	s->points++;
	return walk(s, p, end, NULL, 0);
}

/* host_attr - a KeyValue: note a string host.name (first one wins) */
static enum tfo_err
host_attr(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const char key[] = "host.name";
	struct tfo_pb_field f, v;
	const uint8_t *vp = NULL, *vend = NULL;
	int is_host = 0;
	char host[sizeof(s->host)];

	while (p < end) {
		if (tfo_pb_field_next(&p, end, &f) != TFO_OK)
			return sink_fail(s, TFO_EINVAL, "protobuf: %s", f.error);
		if (f.number == 1 && f.wire == TFO_PB_LEN)
			is_host = f.len == sizeof(key) - 1 && memcmp(f.data, key, f.len) == 0;
		else if (f.number == 2 && f.wire == TFO_PB_LEN) {
			vp = f.data;
			vend = f.data + f.len;
		}
	}
	if (!is_host || vp == NULL || s->host[0] != '\0')
		return TFO_OK;
	while (vp < vend) {             /* AnyValue: string_value = 1 */
		if (tfo_pb_field_next(&vp, vend, &v) != TFO_OK)
			return sink_fail(s, TFO_EINVAL, "protobuf: %s", v.error);
		if (v.number == 1 && v.wire == TFO_PB_LEN && v.len < sizeof(host)) {
			memcpy(host, v.data, v.len);
			host[v.len] = '\0';
			sink_note_host(s, host);
		}
	}
	return TFO_OK;
}

static enum tfo_err
count_resource(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 1, host_attr } };

	return walk(s, p, end, subs, 1);
}

static enum tfo_err
count_scope_logs(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 2, count_record } };

	return walk(s, p, end, subs, 1);
}

static enum tfo_err
count_resource_logs(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 1, count_resource }, { 2, count_scope_logs } };

	s->resources++;
	return walk(s, p, end, subs, 2);
}

/* count_points - Gauge, Sum or Histogram: data_points = 1 in each */
static enum tfo_err
count_points(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 1, count_point } };

	return walk(s, p, end, subs, 1);
}

static enum tfo_err
count_metric(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 5, count_points }, { 7, count_points },
	    { 9, count_points } };

	s->metrics++;
	return walk(s, p, end, subs, 3);
}

static enum tfo_err
count_scope_metrics(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 2, count_metric } };

	return walk(s, p, end, subs, 1);
}

static enum tfo_err
count_resource_metrics(struct tfo_sink_summary *s, const uint8_t *p, const uint8_t *end)
{
	static const struct sub subs[] = { { 1, count_resource }, { 2, count_scope_metrics } };

	s->resources++;
	return walk(s, p, end, subs, 2);
}

enum tfo_err
sink_count_pb(struct tfo_sink_summary *s, const uint8_t *p, size_t n)
{
	static const struct sub logs[] = { { 1, count_resource_logs } };
	static const struct sub metrics[] = { { 1, count_resource_metrics } };

	if (s->signal == TFO_SINK_METRICS)
		return walk(s, p, p + n, metrics, 1);
	if (s->signal == TFO_SINK_LOGS)
		return walk(s, p, p + n, logs, 1);
	return sink_fail(s, TFO_EPROTO, "heartbeat takes application/json");
}
