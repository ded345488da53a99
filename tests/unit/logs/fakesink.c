/*
 * fakesink.c - the buffer stand-in for tfo-logs tests (see fakesink.h).
 */
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "tests/unit/logs/fakesink.h"

void
fake_sink_init(struct fake_sink *s)
{
	memset(s, 0, sizeof(*s));
}

static void
cp_free(Tfo__V1__Checkpoint *c)
{
	free(c->file_id);
	free(c->path);
	free(c->fingerprint.data);
	free(c);
}

void
fake_sink_fini(struct fake_sink *s)
{
	for (size_t i = 0; i < s->nrecs; i++) {
		free(s->recs[i].body);
		free(s->recs[i].path);
		free(s->recs[i].name);
		free(s->recs[i].severity_text);
	}
	free(s->recs);
	for (size_t i = 0; i < s->ncps; i++)
		cp_free(s->cps[i]);
	free(s->cps);
	memset(s, 0, sizeof(*s));
}

static char *
xstrdup(const char *p)
{
	char *r = strdup(p ? p : "");

	if (r == NULL)
		abort();
	return r;
}

static void
store_record(struct fake_sink *s, const Opentelemetry__Proto__Logs__V1__LogRecord *lr)
{
	struct fake_rec *r;

	if (s->nrecs == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((s->recs = realloc(s->recs, s->cap * sizeof(*s->recs))) == NULL)
			abort();
	}
	r = &s->recs[s->nrecs++];
	memset(r, 0, sizeof(*r));
	r->body = xstrdup(lr->body ? lr->body->string_value : NULL);
	r->severity = lr->severity_number;
	r->severity_text = xstrdup(lr->severity_text);
	r->observed_ns = lr->observed_time_unix_nano;
	for (size_t i = 0; i < lr->n_attributes; i++) {
		const Opentelemetry__Proto__Common__V1__KeyValue *kv = lr->attributes[i];
		if (strcmp(kv->key, "log.file.path") == 0)
			r->path = xstrdup(kv->value->string_value);
		else if (strcmp(kv->key, "log.file.name") == 0)
			r->name = xstrdup(kv->value->string_value);
		else if (strcmp(kv->key, TFO_LOGS_ATTR_TRUNCATED) == 0)
			r->truncated = kv->value->bool_value;
	}
}

static void
store_checkpoint(struct fake_sink *s, const Tfo__V1__Checkpoint *c)
{
	Tfo__V1__Checkpoint *n;
	size_t i;

	if (c->file_id == NULL || c->file_id[0] == '\0' || c->path == NULL ||
	    c->fingerprint.len == 0)
		s->bad_checkpoint++;
	for (i = 0; i < s->ncps; i++)
		if (strcmp(s->cps[i]->file_id, c->file_id) == 0)
			break;
	if (i == s->ncps) {
		if ((s->cps = realloc(s->cps, (s->ncps + 1) * sizeof(*s->cps))) == NULL)
			abort();
		s->ncps++;
	} else {
		cp_free(s->cps[i]);
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		abort();
	tfo__v1__checkpoint__init(n);
	n->file_id = xstrdup(c->file_id);
	n->path = xstrdup(c->path);
	n->offset = c->offset;
	n->dev = c->dev;
	n->ino = c->ino;
	n->fingerprint.len = c->fingerprint.len;
	if ((n->fingerprint.data = malloc(c->fingerprint.len + 1)) == NULL)
		abort();
	memcpy(n->fingerprint.data, c->fingerprint.data, c->fingerprint.len);
	s->cps[i] = n;
}

static enum tfo_err
fake_put(void *arg, const uint8_t *p, size_t len, uint32_t records,
    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry_after_ms)
{
	struct fake_sink *s = arg;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rl;
	size_t n = 0;

	if (s->busy > 0) {
		s->busy--;
		*retry_after_ms = 20;
		return TFO_EAGAIN;
	}
	if (s->fail > 0) {
		s->fail--;
		return TFO_ETIMEDOUT;
	}
	if (len > s->max_len)
		s->max_len = len;
	rl = opentelemetry__proto__logs__v1__resource_logs__unpack(NULL, len, p);
	if (rl == NULL) {
		s->bad_payload++;
		return TFO_OK;
	}
	for (size_t i = 0; i < rl->n_scope_logs; i++)
		for (size_t j = 0; j < rl->scope_logs[i]->n_log_records; j++, n++)
			store_record(s, rl->scope_logs[i]->log_records[j]);
	if (n != records)
		s->bad_payload++;
	opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
	/* records and checkpoints "in one write batch" */
	for (size_t i = 0; i < ncps; i++)
		store_checkpoint(s, cps[i]);
	s->puts++;
	return TFO_OK;
}

/* bytes_sum - FNV-1a of a payload: a sealed batch must reach put unchanged */
static uint64_t
bytes_sum(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* fake_seal - tailer.h: one at a time, and the next batch started (other
 * than a failed one again) must be this one, byte for byte */
static void
fake_seal(void *arg, const uint8_t *p, size_t len)
{
	struct fake_sink *s = arg;

	if (s->sealed.p != NULL)
		s->seal_bad++;         /* a second one before the first was put */
	s->sealed.p = p;
	s->sealed.len = len;
	s->sealed.sum = bytes_sum(p, len);
	s->seals++;
}

/* fake_start - asynchronous put: keep the arguments, store them at wait */
static enum tfo_err
fake_start(void *arg, const uint8_t *p, size_t len, uint32_t records,
    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry_after_ms)
{
	struct fake_sink *s = arg;

	(void)retry_after_ms;
	if (s->fly.busy || ncps > sizeof(s->fly.cps) / sizeof(s->fly.cps[0])) {
		s->overlap++;
		return TFO_EIO;
	}
	if (s->sealed.p != NULL && p != s->fly.p) {     /* not a failed put started again */
		if (p != s->sealed.p || len != s->sealed.len || bytes_sum(p, len) != s->sealed.sum)
			s->seal_bad++;
		s->sealed.p = NULL;
	}
	s->fly.busy = 1;
	s->fly.held = s->hold;
	s->fly.p = p;
	s->fly.len = len;
	s->fly.records = records;
	s->fly.ncps = ncps;
	memcpy(s->fly.cps, cps, ncps * sizeof(*cps));  /* the array is the caller's */
	return TFO_OK;
}

/* fake_wait - the put in flight, stored now from the tailer's (still valid) batch */
static enum tfo_err
fake_wait(void *arg, int block, uint32_t *retry_after_ms)
{
	struct fake_sink *s = arg;

	if (!s->fly.busy) {
		s->overlap++;
		return TFO_EIO;
	}
	if (!block && s->fly.held > 0) {
		s->fly.held--;
		return TFO_EINPROGRESS;
	}
	s->fly.busy = 0;
	return fake_put(s, s->fly.p, s->fly.len, s->fly.records, s->fly.cps, s->fly.ncps,
	    retry_after_ms);
}

struct tfo_logs_sink
fake_sink_ops(struct fake_sink *s)
{
	struct tfo_logs_sink k = { .put = fake_put, .arg = s };

	if (s->async) {
		k.put = fake_start;
		k.wait = fake_wait;
		k.seal = fake_seal;
	}
	return k;
}

const Tfo__V1__Checkpoint *const *
fake_sink_checkpoints(const struct fake_sink *s, size_t *n)
{
	*n = s->ncps;
	return (const Tfo__V1__Checkpoint *const *)s->cps;
}
