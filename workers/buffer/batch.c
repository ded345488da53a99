/*
 * batch.c - the export side of the buffer's queue (tfo-buffer): fetch of
 * consecutive entries as a batch with an id, ack (delete once at the head),
 * nack (offer again later), re-offer after the exporter went away, and the
 * read of stored log checkpoints. See store_int.h for the invariants.
 */
#include "workers/buffer/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* A batch being assembled: payloads copied into one growing blob. */
struct collect {
	uint8_t *blob;
	size_t used, cap;
	size_t *off, *len;
	uint32_t *raw;             /* per entry: 0 as it is, else LZ4 inflating to raw */
	uint64_t *seq;             /* per entry: its seq */
	uint32_t *pts;             /* per entry: its points */
	size_t n, ncap;
	uint64_t end, count, bytes, payload;
	uint64_t rbytes[TFO_STORE_NROLE];   /* bytes per role that put the entries */
	uint32_t points;
};

/* collect_grow - room for one more entry of vl bytes; -1 on ENOMEM */
static int
collect_grow(struct collect *c, size_t vl)
{
	if (c->n == c->ncap) {
		size_t cap = c->ncap ? c->ncap * 2 : 64;
		size_t *o = realloc(c->off, cap * sizeof(*o)), *l;
		uint32_t *r, *pt;
		uint64_t *sq;
		if (o == NULL)
			return -1;
		c->off = o;
		if ((l = realloc(c->len, cap * sizeof(*l))) == NULL)
			return -1;
		c->len = l;
		if ((r = realloc(c->raw, cap * sizeof(*r))) == NULL)
			return -1;
		c->raw = r;
		if ((sq = realloc(c->seq, cap * sizeof(*sq))) == NULL)
			return -1;
		c->seq = sq;
		if ((pt = realloc(c->pts, cap * sizeof(*pt))) == NULL)
			return -1;
		c->pts = pt;
		c->ncap = cap;
	}
	if (c->used + vl > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->used + vl)
			cap *= 2;
		uint8_t *b = realloc(c->blob, cap);
		if (b == NULL)
			return -1;
		c->blob = b;
		c->cap = cap;
	}
	return 0;
}

/*
 * collect_add - the stored body of sv appended to the batch. An LZ4 body is
 * passed on compressed: the exporter inflates it (payload.h), so the buffer's
 * one thread neither inflates nor sends the larger form.
 */
static int
collect_add(struct collect *c, const struct store_value *sv, uint64_t seq)
{
	if (collect_grow(c, sv->body_len) != 0)
		return -1;
	memcpy(c->blob + c->used, sv->body, sv->body_len);
	c->off[c->n] = c->used;
	c->raw[c->n] = sv->lz4 ? (uint32_t)sv->raw_len : 0;
	c->seq[c->n] = seq;
	c->pts[c->n] = sv->points;
	c->len[c->n++] = sv->body_len;
	c->used += sv->body_len;
	c->payload += sv->raw_len;
	return 0;
}

static void
collect_free(struct collect *c)
{
	free(c->blob);
	free(c->off);
	free(c->len);
	free(c->raw);
	free(c->seq);
	free(c->pts);
}

/*
 * collect - read the committed entries of signal s in [from, to), stopping
 * before max_bytes of payload (never before the first) or max_n entries.
 * c->end is where the batch ends: `to` when the range was read to its end.
 */
static enum tfo_err
collect(struct tfo_store *st, uint32_t s, uint64_t from, uint64_t to, uint64_t max_bytes,
    size_t max_n, struct collect *c)
{
	leveldb_iterator_t *it;
	uint8_t key[TFO_STORE_KEYLEN];
	char *err = NULL;
	int full = 0;

	if (st->db == NULL)
		return TFO_EIO;     /* reopen failed: tried again by the commit retry */
	it = leveldb_create_iterator(st->db, st->ro);
	c->end = from;
	tfo_store_key(key, s, from);
	for (leveldb_iter_seek(it, (const char *)key, sizeof(key)); leveldb_iter_valid(it);
	    leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl), *v = leveldb_iter_value(it, &vl);
		struct store_value sv;
		int bad;
		uint32_t ks;
		uint64_t seq;

		if (tfo_store_key_parse(k, kl, &ks, &seq) != 0 || ks != s || seq >= to)
			break;
		bad = store_value_parse((const uint8_t *)v, vl, &sv) != 0;
		if (bad)
			sv.role = 0;
		else if (seq < st->q[s].cursor[sv.role]) {
			c->end = seq + 1;       /* evicted, its deletion not written yet */
			continue;
		}
		if (c->n >= max_n || (c->n && !bad && c->payload + sv.raw_len > max_bytes)) {
			full = 1;
			break;
		}
		if (bad)
			st->s.drops[s][TFO_DROP_CORRUPT]++;     /* kept in range, deleted at ack */
		else if (collect_add(c, &sv, seq) != 0) {
			leveldb_iter_destroy(it);
			return TFO_ENOMEM;
		} else
			c->points += sv.points;
		c->end = seq + 1;
		c->count++;
		c->bytes += kl + vl;
		c->rbytes[sv.role] += kl + vl;
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err) {
		log_error("store: reading signal %u from seq %llu: %s", s,
		    (unsigned long long)from, err);
		leveldb_free(err);
		return TFO_EIO;
	}
	if (!full)
		c->end = to;
	return TFO_OK;
}

/* collect_out - hand the collected entries to the caller as a batch */
static enum tfo_err
collect_out(struct collect *c, const struct sbatch *b, uint32_t s, struct tfo_store_batch *out)
{
	out->data = calloc(c->n ? c->n : 1, sizeof(*out->data));
	if (out->data == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		out->data[i] = c->blob + c->off[i];
	out->len = c->len;
	out->raw_lens = c->raw;
	out->seqs = c->seq;
	out->points_each = c->pts;
	out->blob = c->blob;
	out->n = c->n;
	out->id = b->id;
	out->signal = s;
	out->points = c->points;
	c->len = NULL;
	c->raw = NULL;
	c->seq = NULL;
	c->pts = NULL;
	c->blob = NULL;
	return TFO_OK;
}

void
tfo_store_batch_free(struct tfo_store_batch *b)
{
	free(b->data);
	free(b->len);
	free(b->raw_lens);
	free(b->seqs);
	free(b->points_each);
	free(b->blob);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ ack */

/* pop_acked - delete acked batches that reached the head, in order */
static void
pop_acked(struct tfo_store *st, uint32_t s)
{
	struct sigq *q = &st->q[s];
	uint8_t key[TFO_STORE_KEYLEN];

	while (q->nb && q->b[0].state == SB_ACKED) {
		struct sbatch *b = &q->b[0];
		for (uint64_t seq = b->first; seq < b->end; seq++) {
			tfo_store_key(key, s, seq);
			leveldb_writebatch_delete(st->wb, (const char *)key, sizeof(key));
		}
		if (q->head < b->end)
			q->head = b->end;
		q->count = q->count > b->count ? q->count - b->count : 0;
		q->bytes = q->bytes > b->bytes ? q->bytes - b->bytes : 0;
		for (int r = 0; r < TFO_STORE_NROLE; r++)
			q->rbytes[r] = q->rbytes[r] > b->rbytes[r] ? q->rbytes[r] - b->rbytes[r] : 0;
		st->consumed += b->bytes;
		st->consumed_flush += b->bytes;
		if (q->count == 0 || q->head >= q->tail) {
			q->count = q->bytes = 0;
			memset(q->rbytes, 0, sizeof(q->rbytes));
		}
		memmove(&q->b[0], &q->b[1], (q->nb - 1) * sizeof(q->b[0]));
		q->nb--;
		q->head_ts_ok = 0;
		st->npending++;
	}
}

static struct sbatch *
batch_find(struct tfo_store *st, uint64_t id, uint32_t *sig)
{
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		for (size_t i = 0; i < st->q[s].nb; i++)
			if (st->q[s].b[i].id == id) {
				*sig = s;
				return &st->q[s].b[i];
			}
	return NULL;
}

enum tfo_err
tfo_store_ack(struct tfo_store *st, uint64_t id)
{
	uint32_t s;
	struct sbatch *b = batch_find(st, id, &s);

	if (b == NULL)
		return TFO_ENOENT;
	if (b->state != SB_ACKED) {
		b->state = SB_ACKED;
		st->s.acks++;
	}
	pop_acked(st, s);
	return TFO_OK;
}

enum tfo_err
tfo_store_nack(struct tfo_store *st, uint64_t id, uint32_t retry_after_ms)
{
	uint32_t s;
	struct sbatch *b = batch_find(st, id, &s);

	if (b == NULL)
		return TFO_ENOENT;
	if (b->state == SB_ACKED)
		return TFO_OK;
	if (retry_after_ms > TFO_STORE_MAX_NACK_MS)
		retry_after_ms = TFO_STORE_MAX_NACK_MS;
	b->state = SB_NACKED;
	b->retry_at = store_now(st) + retry_after_ms;
	st->s.nacks++;
	return TFO_OK;
}

void
tfo_store_reoffer_all(struct tfo_store *st)
{
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		for (size_t i = 0; i < st->q[s].nb; i++)
			if (st->q[s].b[i].state == SB_INFLIGHT)
				st->q[s].b[i].state = SB_REOFFER;
}

/* ------------------------------------------------------------------ fetch */

/* reoffer - read an existing batch again; ENOENT if nothing readable was left */
static enum tfo_err
reoffer(struct tfo_store *st, uint32_t s, struct sbatch *b, struct tfo_store_batch *out)
{
	struct collect c = { 0 };
	enum tfo_err e = collect(st, s, b->first, b->end, UINT64_MAX, SIZE_MAX, &c);

	if (e == TFO_OK && c.n == 0) {
		b->state = SB_ACKED;    /* every entry unreadable: nothing to deliver */
		pop_acked(st, s);
		e = TFO_ENOENT;
	} else if (e == TFO_OK && (e = collect_out(&c, b, s, out)) == TFO_OK) {
		b->state = SB_INFLIGHT;
		st->s.reoffers++;
		st->s.fetches++;
	}
	collect_free(&c);
	return e;
}

/* fresh - a new batch from next_offer; ENOENT if nothing is committed there */
static enum tfo_err
fresh(struct tfo_store *st, uint32_t s, uint64_t max_bytes, struct tfo_store_batch *out)
{
	struct sigq *q = &st->q[s];
	struct collect c = { 0 };
	struct sbatch *b;
	enum tfo_err e;

	if (q->next_offer >= q->ctail || q->nb >= TFO_STORE_MAX_INFLIGHT)
		return TFO_ENOENT;
	e = collect(st, s, q->next_offer, q->ctail, max_bytes, TFO_STORE_MAX_BATCH_ENTRIES, &c);
	if (e != TFO_OK || c.end <= q->next_offer) {
		collect_free(&c);
		return e == TFO_OK ? TFO_ENOENT : e;
	}
	b = &q->b[q->nb++];
	*b = (struct sbatch){ .id = st->next_id++, .first = q->next_offer, .end = c.end,
	    .count = c.count, .bytes = c.bytes, .points = c.points, .state = SB_INFLIGHT };
	for (int r = 0; r < TFO_STORE_NROLE; r++)
		b->rbytes[r] = (uint32_t)c.rbytes[r];
	q->next_offer = c.end;
	if (c.n == 0) {
		/* Only unreadable or missing entries: retire the range at once. */
		b->state = SB_ACKED;
		pop_acked(st, s);
		collect_free(&c);
		return TFO_EAGAIN;
	}
	e = collect_out(&c, b, s, out);
	collect_free(&c);
	if (e == TFO_OK)
		st->s.fetches++;
	else
		b->state = SB_REOFFER;
	return e;
}

static enum tfo_err
fetch_signal(struct tfo_store *st, uint32_t s, uint64_t max_bytes, struct tfo_store_batch *out)
{
	struct sigq *q = &st->q[s];
	uint64_t now = store_now(st);
	int hold = 0;

	for (size_t i = 0; i < q->nb; i++) {
		struct sbatch *b = &q->b[i];
		if (b->state == SB_REOFFER || (b->state == SB_NACKED && b->retry_at <= now)) {
			enum tfo_err e = reoffer(st, s, b, out);
			return e == TFO_ENOENT ? fetch_signal(st, s, max_bytes, out) : e;
		}
		hold |= b->state == SB_NACKED;
	}
	/* A batch waits for its retry: newer data waits behind it (FIFO). */
	if (hold)
		return TFO_ENOENT;
	for (int tries = 0; tries < 8; tries++) {
		enum tfo_err e = fresh(st, s, max_bytes, out);
		if (e != TFO_EAGAIN)
			return e;
	}
	return TFO_ENOENT;
}

/* store_fetch - the next batch of signal (0: any, in turn) */
static enum tfo_err
store_fetch(struct tfo_store *st, uint32_t signal, uint32_t max_bytes,
    struct tfo_store_batch *out)
{
	uint64_t mb = max_bytes == 0 ? TFO_STORE_DEFAULT_FETCH :
	    max_bytes > TFO_STORE_MAX_FETCH ? TFO_STORE_MAX_FETCH : max_bytes;

	memset(out, 0, sizeof(*out));
	if (signal >= TFO_STORE_NSIG)
		return TFO_EINVAL;
	if (signal != 0)
		return fetch_signal(st, signal, mb, out);
	for (uint32_t i = 0; i < TFO_STORE_NSIG - 1; i++) {
		uint32_t s = 1 + (st->rr + i) % (TFO_STORE_NSIG - 1);
		enum tfo_err e = fetch_signal(st, s, mb, out);
		if (e != TFO_ENOENT) {
			st->rr = s % (TFO_STORE_NSIG - 1);
			return e;
		}
	}
	return TFO_ENOENT;
}

/* offerable - whether a fetch of signal s now could return a batch (no
 * side effect; unsure counts as yes) */
static int
offerable(const struct tfo_store *st, uint32_t s, uint64_t now)
{
	const struct sigq *q = &st->q[s];
	int hold = 0;

	for (size_t i = 0; i < q->nb; i++) {
		const struct sbatch *b = &q->b[i];
		if (b->state == SB_REOFFER || (b->state == SB_NACKED && b->retry_at <= now))
			return 1;
		hold |= b->state == SB_NACKED;
	}
	return !hold && q->next_offer < q->ctail && q->nb < TFO_STORE_MAX_INFLIGHT;
}

/* rest_empty - after a fetch of `signal` (0 any): nothing else to offer now */
static int
rest_empty(struct tfo_store *st, uint32_t signal)
{
	uint64_t now = store_now(st);

	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++)
		if ((signal == 0 || s == signal) && offerable(st, s, now))
			return 0;
	return 1;
}

enum tfo_err
tfo_store_fetch(struct tfo_store *st, uint32_t signal, uint32_t max_bytes,
    struct tfo_store_batch *out)
{
	enum tfo_err e = store_fetch(st, signal, max_bytes, out);

	if (e == TFO_OK)
		out->rest_empty = rest_empty(st, signal);
	return e;
}

/* ------------------------------------------------------------------ checkpoints */

void
tfo_store_checkpoints_free(Tfo__V1__Checkpoint **cps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tfo__v1__checkpoint__free_unpacked(cps[i], NULL);
	free(cps);
}

enum tfo_err
tfo_store_checkpoints(struct tfo_store *st, uint32_t role, size_t max,
    Tfo__V1__Checkpoint ***out, size_t *n)
{
	leveldb_iterator_t *it;
	char prefix[32], *err = NULL;
	int pl = snprintf(prefix, sizeof(prefix), "c/%u/", role);
	Tfo__V1__Checkpoint **v = calloc(max ? max : 1, sizeof(*v));

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return TFO_ENOMEM;
	if (st->db == NULL) {
		free(v);
		return TFO_EIO;
	}
	it = leveldb_create_iterator(st->db, st->ro);
	for (leveldb_iter_seek(it, prefix, (size_t)pl); leveldb_iter_valid(it) && *n < max;
	    leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl), *val = leveldb_iter_value(it, &vl);
		if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl) != 0)
			break;
		Tfo__V1__Checkpoint *cp = tfo__v1__checkpoint__unpack(NULL, vl,
		    (const uint8_t *)val);
		if (cp == NULL) {
			log_warn("store: unreadable checkpoint of role %u skipped", role);
			continue;
		}
		v[(*n)++] = cp;
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err) {
		leveldb_free(err);
		tfo_store_checkpoints_free(v, *n);
		*n = 0;
		return TFO_EIO;
	}
	*out = v;
	return TFO_OK;
}
