/*
 * bufsource.c - tfo-exporter's batch source over tfo-buffer's export channel
 * (common/bufclient: Fetch / Ack / Nack on a REQ socket to export_url).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/payload.h"
#include "workers/exporter/bufsource.h"

#define ERROR_LOG_EVERY_S 30

struct held {                          /* one fetched batch */
	Tfo__V1__ExportReply *holder;
	struct tfo_payloads pl;            /* its entries (LZ4 ones inflated by the body) */
};

static void
held_free(struct held *h)
{
	tfo_payloads_free(&h->pl);
	tfo__v1__export_reply__free_unpacked(h->holder, NULL);
	free(h);
}

/* complain - log a buffer error, at most every ERROR_LOG_EVERY_S */
static void
complain(struct tfo_exp_bufsource *bs, const char *what, enum tfo_err e)
{
	struct timespec ts;

	bs->errors++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (bs->logged_at != 0 && ts.tv_sec - bs->logged_at < ERROR_LOG_EVERY_S)
		return;
	bs->logged_at = ts.tv_sec;
	log_warn("buffer %s failed: %s%s%s (%llu errors so far)", what, tfo_strerror(e),
	    bs->c.error[0] ? ": " : "", bs->c.error, (unsigned long long)bs->errors);
}

static int
bs_fetch(void *arg, int signal, uint32_t max_bytes, struct tfo_exp_batch *b)
{
	struct tfo_exp_bufsource *bs = arg;
	const Tfo__V1__Batch *batch;
	struct held *h;
	enum tfo_err e;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	e = tfo_bufclient_fetch(&bs->c, signal == 1 ? TFO__V1__SIGNAL__SIGNAL_METRICS :
	    signal == 2 ? TFO__V1__SIGNAL__SIGNAL_LOGS : TFO__V1__SIGNAL__SIGNAL_UNSPECIFIED,
	    max_bytes, &h->holder, &batch);
	if (e != TFO_OK) {
		free(h);
		if (e == TFO_ENOENT)
			return 0;
		complain(bs, "fetch", e);
		return -1;
	}
	/* A sibling that breaks the contract is not reasoned with (STYLE): the
	 * supervisor restarts us and the buffer re-offers the batch. */
	if (batch->signal != TFO__V1__SIGNAL__SIGNAL_METRICS &&
	    batch->signal != TFO__V1__SIGNAL__SIGNAL_LOGS)
		fatalx("buffer sent batch %llu with unknown signal %d",
		    (unsigned long long)batch->id, (int)batch->signal);
	/* per-entry seqs and points come together, one per entry, or not at all */
	if ((batch->n_seqs != 0 && batch->n_seqs != batch->n_entries) ||
	    batch->n_entry_points != batch->n_seqs)
		fatalx("buffer sent batch %llu with %zu seqs and %zu point counts for %zu entries",
		    (unsigned long long)batch->id, batch->n_seqs, batch->n_entry_points,
		    batch->n_entries);
	switch (tfo_payloads_view(batch, &h->pl)) {
	case TFO_OK:
		break;
	case TFO_ENOMEM:
		held_free(h);          /* not acked: the buffer offers it again */
		return -1;
	default:
		fatalx("buffer sent batch %llu with raw lengths no batch of it can have",
		    (unsigned long long)batch->id);
	}
	b->n = h->pl.n;
	b->id = batch->id;
	b->is_logs = batch->signal == TFO__V1__SIGNAL__SIGNAL_LOGS;
	b->entries = h->pl.data;
	b->lens = h->pl.len;
	b->raw = h->pl.raw;
	b->points = batch->points;
	b->seqs = batch->n_seqs ? batch->seqs : NULL;
	b->points_each = batch->n_seqs ? batch->entry_points : NULL;
	b->rest_empty = batch->rest_empty;
	b->priv = h;
	return 1;
}

static void
bs_release(void *arg, struct tfo_exp_batch *b)
{
	struct held *h = b->priv;

	(void)arg;
	if (h == NULL)
		return;
	held_free(h);
	b->priv = NULL;
}

static void
heads_out(const struct tfo_exp_bufsource *bs, struct tfo_exp_heads *h)
{
	h->known = bs->c.heads_known;
	for (size_t s = 0; s < TFO_BUFCLIENT_NSIG && s < sizeof(h->v) / sizeof(h->v[0]); s++)
		h->v[s] = bs->c.heads[s];
}

static int
bs_ack(void *arg, uint64_t id, struct tfo_exp_heads *h)
{
	struct tfo_exp_bufsource *bs = arg;
	enum tfo_err e = tfo_bufclient_ack(&bs->c, id);

	if (e != TFO_OK)
		complain(bs, "ack", e);
	heads_out(bs, h);
	return e == TFO_OK ? 0 : -1;
}

static int
bs_nack(void *arg, uint64_t id, uint32_t retry_after_ms, struct tfo_exp_heads *h)
{
	struct tfo_exp_bufsource *bs = arg;
	enum tfo_err e = tfo_bufclient_nack(&bs->c, id, retry_after_ms);

	if (e != TFO_OK)
		complain(bs, "nack", e);
	heads_out(bs, h);
	return e == TFO_OK ? 0 : -1;
}

static int
bs_ack_later(void *arg, uint64_t id)
{
	struct tfo_exp_bufsource *bs = arg;

	return tfo_bufclient_ack_later(&bs->c, id);
}

static int
bs_acks_send(void *arg, struct tfo_exp_heads *h)
{
	struct tfo_exp_bufsource *bs = arg;
	enum tfo_err e;

	if (bs->c.n_acks_due == 0)
		return 0;
	if ((e = tfo_bufclient_acks_send(&bs->c)) != TFO_OK)
		complain(bs, "ack", e);
	heads_out(bs, h);
	return e == TFO_OK ? 0 : -1;
}

static void
bs_heads(void *arg, struct tfo_exp_heads *h)
{
	heads_out(arg, h);
}

enum tfo_err
tfo_exp_bufsource_open(struct tfo_exp_bufsource *bs, const char *url, int timeout_ms,
    uint32_t buffer_uid)
{
	enum tfo_err e;

	memset(bs, 0, sizeof(*bs));
	e = tfo_bufclient_open_export(&bs->c, url, timeout_ms, buffer_uid);
	/* One try: an ack that does not come through is no loss, the pipeline
	 * remembers what it delivered and acks it when offered again, while
	 * every retry here would hold its loop (and the requests on it). */
	bs->c.ack_attempts = 1;
	return e;
}

void
tfo_exp_bufsource_close(struct tfo_exp_bufsource *bs)
{
	tfo_bufclient_close(&bs->c);
}

struct tfo_exp_source
tfo_exp_bufsource_source(struct tfo_exp_bufsource *bs)
{
	return (struct tfo_exp_source){ .fetch = bs_fetch, .release = bs_release,
	    .ack = bs_ack, .nack = bs_nack, .ack_later = bs_ack_later,
	    .acks_send = bs_acks_send, .heads = bs_heads, .arg = bs };
}
