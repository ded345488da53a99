/*
 * queue.c - the buffer's queue operations on the store (tfo-buffer): put with
 * dedupe, bounds and checkpoints; drops at the head; fetch, ack, nack and
 * re-offer of batches; age expiry; checkpoint reads. See store_int.h.
 */
#include "common/grow.h"
#include "workers/buffer/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* ------------------------------------------------------------------ head */

struct staged *
store_staged_find(struct tfo_store *st, uint32_t signal, uint64_t seq)
{
	for (size_t i = 0; i < st->nstg; i++)
		if (st->stg[i].signal == signal && st->stg[i].seq == seq)
			return &st->stg[i];
	return NULL;
}

/* head_info - timestamp and size of the head entry; 0 ok, 1 missing/corrupt, -1 empty */
static int
head_info(struct tfo_store *st, uint32_t s, uint64_t *ts, uint64_t *size)
{
	struct sigq *q = &st->q[s];
	uint8_t key[TFO_STORE_KEYLEN];
	struct store_value sv;
	char *v, *err = NULL;
	size_t vl = 0;

	if (q->head >= q->tail)
		return -1;
	if (!q->head_ts_ok && st->db == NULL)
		return 1;
	if (!q->head_ts_ok) {
		if (q->head >= q->ctail) {
			struct staged *sg = store_staged_find(st, s, q->head);
			if (sg == NULL)
				return 1;
			q->head_ts = sg->ts;
			q->head_size = sg->size;
			q->head_points = sg->points;
		} else {
			tfo_store_key(key, s, q->head);
			v = leveldb_get(st->db, st->ro, (const char *)key, sizeof(key), &vl, &err);
			if (err || v == NULL || vl < TFO_STORE_HDR) {
				leveldb_free(err);
				leveldb_free(v);
				return 1;
			}
			q->head_ts = store_get_be64((const uint8_t *)v);
			q->head_size = sizeof(key) + vl;
			q->head_points = store_value_parse((const uint8_t *)v, vl, &sv) == 0 ?
			    sv.points : 0;
			leveldb_free(v);
		}
		q->head_ts_ok = 1;
	}
	*ts = q->head_ts;
	*size = q->head_size;
	return 0;
}

int
store_head_ts(struct tfo_store *st, uint32_t s, uint64_t *ts)
{
	uint64_t size;

	return head_info(st, s, ts, &size);
}

static void
batch_remove(struct sigq *q, size_t i)
{
	memmove(&q->b[i], &q->b[i + 1], (q->nb - i - 1) * sizeof(q->b[0]));
	q->nb--;
}

static void
sub_clamp(uint64_t *v, uint64_t d)
{
	*v = *v > d ? *v - d : 0;
}

/* drop_head - stage the deletion of the oldest entry of signal s, counted by reason */
static void
drop_head(struct tfo_store *st, uint32_t s, enum tfo_drop_reason why)
{
	struct sigq *q = &st->q[s];
	uint8_t key[TFO_STORE_KEYLEN];
	uint64_t seq = q->head, ts, size = 0, points = 0;

	if (head_info(st, s, &ts, &size) != 0)
		why = TFO_DROP_CORRUPT;
	else
		points = q->head_points;
	tfo_store_key(key, s, seq);
	leveldb_writebatch_delete(st->wb, (const char *)key, sizeof(key));
	q->head++;
	sub_clamp(&q->count, 1);
	sub_clamp(&q->bytes, size);
	st->consumed += size;
	if (q->count == 0 || q->head >= q->tail)
		q->bytes = q->count = 0;
	if (q->next_offer < q->head)
		q->next_offer = q->head;
	/* The head entry may belong to the oldest batch in flight: shrink it. */
	if (q->nb && q->b[0].first == seq) {
		st->s.drop_points_in_flight[s] += points;
		q->b[0].first++;
		sub_clamp(&q->b[0].count, 1);
		sub_clamp(&q->b[0].bytes, size);
		if (q->b[0].first >= q->b[0].end)
			batch_remove(q, 0);
	}
	q->head_ts_ok = 0;
	st->s.drops[s][why]++;
	st->s.drop_points[s] += points;
	st->npending++;
}

/* oldest_signal - the signal whose head entry is oldest (unreadable first), 0 if empty */
static uint32_t
oldest_signal(struct tfo_store *st)
{
	uint64_t best = UINT64_MAX, ts, size;
	uint32_t pick = 0;

	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		int r = head_info(st, s, &ts, &size);
		if (r == 1)
			return s;
		if (r == 0 && (pick == 0 || ts < best)) {
			best = ts;
			pick = s;
		}
	}
	return pick;
}

/*
 * drop_from - the signal whose oldest entry goes to make room for size bytes
 * of signal sig at the bound limit: sig's own once it would hold more than its
 * share of the bound (an equal part per signal), else the oldest of any. So
 * each signal keeps its share against the others: a flood of one (a
 * compromised collector putting as fast as it can under its own role, or
 * metrics all through an outage while tfo-logs waits at the bound) cannot
 * push the other's queued data out; below its share a signal still takes the
 * oldest of any, so the bound is shared when one signal is quiet.
 */
static uint32_t
drop_from(struct tfo_store *st, uint32_t sig, uint64_t size, uint64_t limit)
{
	const struct sigq *q = &st->q[sig];

	if (q->count > 0 && q->bytes + size > limit / (TFO_STORE_NSIG - 1))
		return sig;
	return oldest_signal(st);
}

size_t
tfo_store_expire(struct tfo_store *st)
{
	uint64_t now = store_now(st), cutoff, ts, size;
	size_t n = 0;

	if (st->o.max_age_ms == 0 || now <= st->o.max_age_ms)
		return 0;
	cutoff = now - st->o.max_age_ms;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		int r;
		while ((r = head_info(st, s, &ts, &size)) >= 0) {
			if (r == 0 && ts >= cutoff)
				break;
			drop_head(st, s, TFO_DROP_AGE);
			n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ put */

/* put_bytes - key and header bytes of every payload of p, before compression */
static uint64_t
put_bytes(const struct tfo_store_put *p)
{
	uint64_t size = TFO_STORE_KEYLEN + TFO_STORE_HDR + (uint64_t)p->len;

	for (size_t i = 0; i < p->nmore; i++)
		size += TFO_STORE_KEYLEN + TFO_STORE_HDR + (uint64_t)p->more[i].len;
	return size;
}

static const char *
put_check(const struct tfo_store *st, const struct tfo_store_put *p)
{
	if (p->signal < 1 || p->signal >= TFO_STORE_NSIG)
		return "unknown signal";
	if (p->role < 1 || p->role >= TFO_STORE_NROLE)
		return "unknown role";
	if (p->len == 0 || p->payload == NULL)
		return "empty payload";
	if (p->len > TFO_STORE_VALUE_MAX)
		return "payload too large";
	/* an LZ4 block is checked when it is inflated (fetch): a bad one is
	 * counted corrupt there, as damage on disk is */
	if (p->lz4 && (p->raw_len == 0 || p->raw_len > TFO_STORE_VALUE_MAX))
		return "bad raw_len of an LZ4 payload";
	if (p->nmore > TFO_STORE_MAX_MORE)
		return "too many payloads";
	/* Busy is decided for a whole put before anything is staged, on one
	 * payload's stored size: a put that may be refused carries one */
	if (p->nmore > 0 && p->block_when_full)
		return "more payloads with block_when_full";
	for (size_t i = 0; i < p->nmore; i++) {
		if (p->more[i].len == 0 || p->more[i].payload == NULL)
			return "empty payload";
		if (p->more[i].len > TFO_STORE_VALUE_MAX)
			return "payload too large";
	}
	if (st->o.max_bytes && put_bytes(p) > st->o.max_bytes)
		return "payload larger than the whole buffer";
	if (p->ncheckpoints > TFO_STORE_MAX_CHECKPOINTS)
		return "too many checkpoints";
	for (size_t i = 0; i < p->ncheckpoints; i++) {
		const Tfo__V1__Checkpoint *cp = p->checkpoints[i];
		size_t n = cp && cp->file_id ? strlen(cp->file_id) : 0;
		if (n == 0 || n > TFO_STORE_MAX_FILE_ID)
			return "bad checkpoint file_id";
	}
	return NULL;
}

static int
stage_checkpoints(struct tfo_store *st, const struct tfo_store_put *p)
{
	for (size_t i = 0; i < p->ncheckpoints; i++) {
		const Tfo__V1__Checkpoint *cp = p->checkpoints[i];
		char key[32 + TFO_STORE_MAX_FILE_ID];
		size_t vl = tfo__v1__checkpoint__get_packed_size(cp);
		uint8_t *v = store_scratch(st, vl ? vl : 1);
		int kl = snprintf(key, sizeof(key), "c/%u/%s", p->role, cp->file_id);

		if (v == NULL || kl < 0 || (size_t)kl >= sizeof(key))
			return -1;
		tfo__v1__checkpoint__pack(cp, v);
		leveldb_writebatch_put(st->wb, key, (size_t)kl, (const char *)v, vl);
	}
	return 0;
}

/* staged_reserve - room for n more staged entries */
static int
staged_reserve(struct tfo_store *st, size_t n)
{
	return tfo_grow((void **)&st->stg, &st->stgcap, st->nstg + n, sizeof(*st->stg), 64);
}

static int
staged_add(struct tfo_store *st, uint32_t s, uint64_t seq, uint64_t size, uint64_t ts,
    uint32_t points)
{
	if (staged_reserve(st, 1) != 0)
		return -1;
	st->stg[st->nstg++] = (struct staged){ s, seq, size, ts, points };
	return 0;
}

/*
 * stage - one payload (p's own, or one of p->more as item) as the next entry
 * of p->signal: encoded, room made, into the write batch. 0, 1 busy (only
 * with block_when_full), -1 out of memory.
 */
static int
stage(struct tfo_store *st, const struct tfo_store_put *p, const struct tfo_store_item *item,
    uint64_t now)
{
	struct tfo_store_put one = *p;
	struct sigq *q = &st->q[p->signal];
	uint8_t key[TFO_STORE_KEYLEN];
	const uint8_t *v;
	uint64_t size, limit;
	size_t vl;
	int disk;

	if (item != NULL) {
		one.payload = item->payload;
		one.len = item->len;
		one.points = item->points;
		one.lz4 = 0;
		one.raw_len = 0;
	}
	/* bounds count what is stored: compressed first */
	if ((vl = store_value_encode(st, now, &one, &v)) == 0)
		return -1;
	size = TFO_STORE_KEYLEN + vl;
	if (store_total_bytes(st) + size > (limit = space_limit(st, &disk))) {
		if (disk)
			space_full(st);
		/* At max_size_mb a block_when_full put waits (tfo-logs: the file
		 * keeps its lines). At the filesystem's bound the newest is taken
		 * while older data can make room for it; what cannot fit even so
		 * waits, and nothing is dropped for it. A further payload of a put
		 * is taken like the first (a put is staged whole). */
		if (item == NULL && (disk ? size > limit : p->block_when_full)) {
			st->s.busy++;
			return 1;
		}
		/* the newest is taken, the oldest goes (drop_from: whose) */
		uint32_t s;
		while (store_total_bytes(st) + size > limit &&
		    (s = drop_from(st, p->signal, size, limit)) != 0)
			drop_head(st, s, disk ? TFO_DROP_DISK : TFO_DROP_SIZE);
	}
	if (staged_add(st, p->signal, q->tail, size, now, one.points) != 0)
		return -1;
	tfo_store_key(key, p->signal, q->tail);
	leveldb_writebatch_put(st->wb, (const char *)key, sizeof(key), (const char *)v, vl);
	q->tail++;
	q->count++;
	q->bytes += size;
	st->s.points_in += one.points;
	st->npending++;
	st->pending_bytes += vl;
	st->pending_durable = 1;
	return 0;
}

/*
 * dup_gap - a "duplicate" below the last seq acknowledged to its incarnation.
 * A collector resends only its last put (bufclient.h), so this is no resend:
 * a bug or a forged put. It is answered as a duplicate (storing it could
 * double data), but never silently: counted and logged, once per burst.
 */
static void
dup_gap(struct tfo_store *st, const struct tfo_store_put *p)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&tfo__v1__role__descriptor, (int)p->role);

	st->s.dup_gaps++;
	tfo_logrepeat(&st->gaplog, TFO_LOG_WARN, "ingest: %s incarnation %#llx sent puts below "
	    "the last seq acknowledged to it: answered as duplicates, not stored (no resend "
	    "does that: a bug or a forged put; dup_gaps)", v ? v->name : "role ?",
	    (unsigned long long)p->incarnation);
}

enum tfo_put_result
tfo_store_put(struct tfo_store *st, const struct tfo_store_put *p, const char **why)
{
	struct dedupe *d;
	uint64_t now;
	int r;

	if ((*why = put_check(st, p)) != NULL)
		return TFO_PUT_INVALID;
	/* Writes failing and enough kept in memory, or the store not open:
	 * Busy with the cause, nothing staged (a resend is a new put). */
	if ((*why = tfo_store_busy_reason(st))[0] != '\0') {
		st->s.busy++;
		return TFO_PUT_BUSY;
	}
	*why = NULL;
	d = &st->dd[p->role];
	if (d->used && d->incarnation == p->incarnation && p->seq <= d->seq) {
		st->s.dup_puts++;
		if (p->seq != d->seq)
			dup_gap(st, p);
		return TFO_PUT_DUP;
	}
	/* Room for every entry's bookkeeping first, so that a put is staged
	 * whole. Should the value scratch still fail to grow part way, the
	 * entries staged so far are kept and the put is answered Error: its
	 * resend stores them again, a duplicate and never a loss. */
	if (staged_reserve(st, 1 + p->nmore) != 0) {
		*why = "out of memory";
		return TFO_PUT_INVALID;
	}
	now = store_now(st);
	if ((r = stage(st, p, NULL, now)) == 1) {
		*why = st->s.status[0] ? st->s.status : "buffer full (max_size_mb)";
		return TFO_PUT_BUSY;
	}
	for (size_t i = 0; r == 0 && i < p->nmore; i++)
		r = stage(st, p, &p->more[i], now);
	if (r != 0) {
		*why = "out of memory";
		return TFO_PUT_INVALID;
	}
	/* The offsets go in the same write batch: they never run ahead of the data. */
	if (stage_checkpoints(st, p) != 0)
		log_warn("store: checkpoints of role %u not staged (out of memory)", p->role);
	d->used = 1;
	d->incarnation = p->incarnation;
	d->seq = p->seq;
	st->s.puts++;
	return TFO_PUT_STAGED;
}
