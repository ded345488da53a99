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

/* gone - whether entry seq of signal s, put by role, is one evicted already
 * (its deletion may still be pending: the key can still be on disk) */
static int
gone(const struct sigq *q, uint32_t role, uint64_t seq)
{
	return role < TFO_STORE_NROLE && seq < q->cursor[role];
}

/* first_key - the first entry of signal s on disk at or after seq and below
 * ctail: 1 found (*at, its value copied to *v / *vl, leveldb_free it), 0 none,
 * -1 on a read error */
static int
first_key(struct tfo_store *st, uint32_t s, uint64_t seq, uint64_t *at, char **v, size_t *vl)
{
	leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ro);
	uint8_t key[TFO_STORE_KEYLEN];
	char *err = NULL;
	int r = 0;

	tfo_store_key(key, s, seq);
	leveldb_iter_seek(it, (const char *)key, sizeof(key));
	if (leveldb_iter_valid(it)) {
		size_t kl, l;
		const char *k = leveldb_iter_key(it, &kl), *val;
		uint32_t ks;

		if (tfo_store_key_parse(k, kl, &ks, at) == 0 && ks == s &&
		    *at < st->q[s].ctail) {
			val = leveldb_iter_value(it, &l);
			if ((*v = malloc(l ? l : 1)) == NULL)
				r = -1;
			else {
				memcpy(*v, val, l);
				*vl = l;
				r = 1;
			}
		}
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err) {
		leveldb_free(err);
		if (r == 1)
			free(*v);
		return -1;
	}
	return r;
}

/*
 * head_info - timestamp and size of the head entry; 0 ok, 1 missing/corrupt,
 * -1 empty. Holes (entries evicted above the head, deleted or with their
 * deletion pending) are passed over: head moves to the first live entry.
 */
static int
head_info(struct tfo_store *st, uint32_t s, uint64_t *ts, uint64_t *size)
{
	struct sigq *q = &st->q[s];
	struct store_value sv;
	uint64_t at;
	char *v = NULL;
	size_t vl = 0;

	while (!q->head_ts_ok) {
		if (q->head >= q->tail)
			return -1;
		if (q->head >= q->ctail) {
			struct staged *sg = store_staged_find(st, s, q->head);
			if (sg == NULL) {
				q->head_size = 0;
				return 1;
			}
			if (sg->gone || gone(q, sg->role, sg->seq)) {
				q->head++;
				continue;
			}
			q->head_ts = sg->ts;
			q->head_size = sg->size;
			q->head_points = sg->points;
			q->head_role = sg->role;
		} else {
			uint8_t key[TFO_STORE_KEYLEN];
			char *err = NULL;
			int r = 1;
			if (st->db == NULL) {
				q->head_size = 0;
				return 1;
			}
			/* a point read finds the head unless it is a hole (then a seek) */
			tfo_store_key(key, s, q->head);
			at = q->head;
			v = leveldb_get(st->db, st->ro, (const char *)key, sizeof(key), &vl, &err);
			if (err != NULL) {
				leveldb_free(err);
				q->head_size = 0;
				return 1;
			}
			if (v == NULL && (r = first_key(st, s, q->head, &at, &v, &vl)) < 0) {
				q->head_size = 0;
				return 1;
			}
			if (r == 0) {           /* only holes up to what is staged */
				q->head = q->ctail;
				continue;
			}
			q->head = at;
			if (vl < TFO_STORE_HDR || store_value_parse((const uint8_t *)v, vl, &sv) != 0) {
				/* damaged: dropped as corrupt, of no role we know */
				q->head_size = TFO_STORE_KEYLEN + vl;
				leveldb_free(v);
				return 1;
			}
			if (gone(q, sv.role, at)) {
				leveldb_free(v);
				q->head++;
				continue;
			}
			q->head_ts = store_get_be64((const uint8_t *)v);
			q->head_size = TFO_STORE_KEYLEN + vl;
			q->head_points = sv.points;
			q->head_role = sv.role;
			leveldb_free(v);
		}
		q->head_ts_ok = 1;
	}
	if (q->next_offer < q->head)
		q->next_offer = q->head;
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

/* one entry about to go: where it is and what it held */
struct victim {
	uint32_t signal, role, points;
	uint64_t seq, size, ts;
	int corrupt;               /* unreadable: role and points unknown */
};

/*
 * drop_entry - stage the deletion of entry v (the head, or a role's oldest
 * above it), counted by reason; one in a batch the exporter acked already is
 * no loss and is not counted.
 */
static void
drop_entry(struct tfo_store *st, const struct victim *v, enum tfo_drop_reason why)
{
	struct sigq *q = &st->q[v->signal];
	uint8_t key[TFO_STORE_KEYLEN];
	uint32_t role = v->role < TFO_STORE_NROLE ? v->role : 0;
	int delivered = 0;

	tfo_store_key(key, v->signal, v->seq);
	leveldb_writebatch_delete(st->wb, (const char *)key, sizeof(key));
	if (v->seq == q->head)
		q->head++;
	else {
		struct staged *sg = v->seq >= q->ctail ? store_staged_find(st, v->signal, v->seq) :
		    NULL;
		if (sg != NULL)
			sg->gone = 1;
		else if (tfo_grow((void **)&st->ev, &st->evcap, st->nev + 1, sizeof(*st->ev), 64) == 0)
			st->ev[st->nev++] = (struct evicted){ v->signal, v->seq };
		/* else: out of memory; a failed write would leave the key on
		 * disk, and the next open counts it again (never a loss) */
	}
	if (!v->corrupt && q->cursor[role] <= v->seq)
		q->cursor[role] = v->seq + 1;
	sub_clamp(&q->count, 1);
	sub_clamp(&q->bytes, v->size);
	sub_clamp(&q->rbytes[role], v->size);
	st->consumed += v->size;
	st->consumed_flush += v->size;
	if (q->count == 0 || q->head >= q->tail) {
		q->bytes = q->count = 0;
		memset(q->rbytes, 0, sizeof(q->rbytes));
	}
	if (q->next_offer < q->head)
		q->next_offer = q->head;
	/* It may belong to a batch in flight: shrink it. */
	for (size_t i = 0; i < q->nb; i++) {
		struct sbatch *b = &q->b[i];
		if (v->seq < b->first || v->seq >= b->end)
			continue;
		delivered = b->state == SB_ACKED;
		if (!delivered)
			st->s.drop_points_in_flight[v->signal] += v->points;
		sub_clamp(&b->count, 1);
		sub_clamp(&b->bytes, v->size);
		b->rbytes[role] = b->rbytes[role] > v->size ? (uint32_t)(b->rbytes[role] - v->size) : 0;
		if (v->seq == b->first && ++b->first >= b->end)
			batch_remove(q, i);
		break;
	}
	q->head_ts_ok = 0;
	st->npending++;
	if (delivered)
		return;
	st->s.drops[v->signal][v->corrupt ? TFO_DROP_CORRUPT : why]++;
	st->s.drop_points[v->signal] += v->points;
	st->s.role_drops[role]++;
}

/* drop_head - stage the deletion of the oldest entry of signal s, counted by reason */
static void
drop_head(struct tfo_store *st, uint32_t s, enum tfo_drop_reason why)
{
	struct sigq *q = &st->q[s];
	struct victim v = { .signal = s };
	uint64_t ts;
	int r = head_info(st, s, &ts, &v.size);

	if (r < 0)
		return;                 /* nothing left but holes */
	v.corrupt = r != 0;
	v.seq = q->head;
	if (v.corrupt)
		v.size = q->head_size;
	else {
		v.points = q->head_points;
		v.role = q->head_role;
	}
	drop_entry(st, &v, why);
}

/* ------------------------------------------------------------------ shares */

/* vc_scan - read ahead into st->vc the oldest entries of role r in signal s
 * on disk from seq `from`: 0, -1 on a read error */
static int
vc_scan(struct tfo_store *st, uint32_t s, uint32_t r, uint64_t from)
{
	struct vcache *c = &st->vc;
	uint8_t key[TFO_STORE_KEYLEN];
	leveldb_iterator_t *it;
	char *err = NULL;

	*c = (struct vcache){ .signal = s, .role = r };
	if (st->db == NULL)
		return -1;
	it = leveldb_create_iterator(st->db, st->ro);
	tfo_store_key(key, s, from);
	for (leveldb_iter_seek(it, (const char *)key, sizeof(key));
	    leveldb_iter_valid(it) && c->n < STORE_VCACHE; leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl);
		const uint8_t *val = (const uint8_t *)leveldb_iter_value(it, &vl);
		struct store_value sv;
		uint32_t ks;
		uint64_t seq;

		if (tfo_store_key_parse(k, kl, &ks, &seq) != 0 || ks != s || seq >= st->q[s].ctail)
			break;
		if (store_value_parse(val, vl, &sv) != 0 || sv.role != r)
			continue;
		c->e[c->n].seq = seq;
		c->e[c->n].size = kl + vl;
		c->e[c->n].ts = store_get_be64(val);
		c->e[c->n++].points = sv.points;
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err) {
		leveldb_free(err);
		c->n = 0;
		return -1;
	}
	return 0;
}

/*
 * role_first - the oldest live entry role r put in signal s: the head when
 * it is the role's, else read from the store from the role's cursor on
 * (every entry passed is another role's, so none is read twice for one role
 * however often it is asked; read ahead, vc_scan), else among what is
 * staged. 1 found (*v), 0 none, -1 on a read error.
 */
static int
role_first(struct tfo_store *st, uint32_t s, uint32_t r, struct victim *v)
{
	struct sigq *q = &st->q[s];
	struct vcache *c = &st->vc;
	uint64_t from, ts, size;
	int found = 0;

	/* no entry of the role below the head, and the head is the role's */
	if (q->cursor[r] <= q->head && head_info(st, s, &ts, &size) == 0 && q->head_role == r) {
		*v = (struct victim){ .signal = s, .role = r, .points = q->head_points,
		    .seq = q->head, .size = size, .ts = ts };
		found = 1;
	}
	from = q->cursor[r] > q->head ? q->cursor[r] : q->head;
	if (!found && from < q->ctail) {
		if (c->signal != s || c->role != r || c->i >= c->n || c->e[c->n - 1].seq < from) {
			if (vc_scan(st, s, r, from) != 0)
				return -1;
		}
		while (c->i < c->n && c->e[c->i].seq < from)
			c->i++;
		if (c->i < c->n) {
			*v = (struct victim){ .signal = s, .role = r, .points = c->e[c->i].points,
			    .seq = c->e[c->i].seq, .size = c->e[c->i].size, .ts = c->e[c->i].ts };
			found = 1;
		}
	}
	for (size_t i = 0; !found && i < st->nstg; i++) {
		const struct staged *sg = &st->stg[i];
		if (sg->signal == s && sg->role == r && !sg->gone && sg->seq >= from &&
		    sg->seq >= q->ctail && sg->seq < q->tail) {
			*v = (struct victim){ .signal = s, .role = r, .points = sg->points,
			    .seq = sg->seq, .size = sg->size, .ts = sg->ts };
			found = 1;
		}
	}
	q->cursor[r] = found ? v->seq : q->tail;
	return found;
}

/*
 * role_oldest - the oldest live entry of role r, of any signal: 1 found, 0
 * none (a count that had drifted from the entries is set right), -1 error
 */
static int
role_oldest(struct tfo_store *st, uint32_t r, struct victim *v)
{
	struct victim c;
	int found = 0;

	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		int k;
		if (st->q[s].rbytes[r] == 0)
			continue;
		if ((k = role_first(st, s, r, &c)) < 0)
			return -1;
		if (k == 0) {
			log_warn("store: signal %u: %llu bytes counted for role %u, no entry "
			    "found: count set to 0", s, (unsigned long long)st->q[s].rbytes[r], r);
			st->q[s].rbytes[r] = 0;
		} else if (!found || c.ts < v->ts) {
			*v = c;
			found = 1;
		}
	}
	return found;
}

uint32_t
store_share_victim(const uint64_t held[TFO_STORE_NROLE], uint32_t putter, uint64_t size)
{
	uint64_t best = 0, mine = putter < TFO_STORE_NROLE ? held[putter] + size : 0;
	uint32_t pick = TFO_STORE_NROLE;

	/* the putter holds what it will once this entry is in: it goes first
	 * on a tie, so nobody loses data to a role holding as much as itself */
	if (putter < TFO_STORE_NROLE && held[putter] > 0) {
		best = mine;
		pick = putter;
	}
	for (uint32_t r = 0; r < TFO_STORE_NROLE; r++)
		if (r != putter && held[r] > 0 && (pick == TFO_STORE_NROLE || held[r] > best)) {
			best = held[r];
			pick = r;
		}
	return pick;
}

/*
 * evict_pick - the entry that goes to make room for size bytes put by role
 * putter at the bound: the oldest of the role holding the most bytes (the
 * putter counted with this entry). 1 found, 0 nothing to drop, -1 error.
 */
static int
evict_pick(struct tfo_store *st, uint32_t putter, uint64_t size, struct victim *v)
{
	for (int tries = 0; tries < TFO_STORE_NROLE + 1; tries++) {
		uint64_t held[TFO_STORE_NROLE];
		uint32_t r;
		int k;

		store_held_by_role(st, held);
		if ((r = store_share_victim(held, putter, size)) >= TFO_STORE_NROLE)
			return 0;
		if ((k = role_oldest(st, r, v)) != 0)
			return k;
		/* none: its count was set right; choose again */
	}
	return 0;
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
	if (p->points > TFO_STORE_POINTS_MAX)
		return "more points than a payload can hold";
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
		if (p->more[i].points > TFO_STORE_POINTS_MAX)
			return "more points than a payload can hold";
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
    uint32_t points, uint32_t role)
{
	if (staged_reserve(st, 1) != 0)
		return -1;
	st->stg[st->nstg++] = (struct staged){ s, seq, size, ts, points, role, 0 };
	return 0;
}

/*
 * over_share - whether an entry of size bytes put by role putter would fit
 * the bound only by taking from another role below what the putter then
 * holds: every other role gives at most down to the entry's size, the
 * putter all it has. An entry no larger than an equal part of the bound
 * (of the roles holding data) always fits so; a larger one must not empty
 * the others (one put the size of the bound would take all they hold).
 */
static int
over_share(const struct tfo_store *st, uint32_t putter, uint64_t size, uint64_t limit)
{
	uint64_t held[TFO_STORE_NROLE], keep = size;

	store_held_by_role(st, held);
	for (uint32_t r = 0; r < TFO_STORE_NROLE; r++)
		if (r != putter)
			keep += held[r] < size ? held[r] : size;
	return keep > limit;
}

/*
 * others_make_room - at max_size_mb, whether need bytes can go from roles
 * holding more than putter will once its size bytes are in, none of its own
 * going: with the victim rule (store_share_victim) each of those gives up
 * down to that level, and no further, before the putter would be chosen.
 * A block_when_full put (tfo-logs, whose lines wait in their files) is taken
 * so when another role holds more, and waits only when its own would go.
 */
static int
others_make_room(const struct tfo_store *st, uint32_t putter, uint64_t size, uint64_t need)
{
	uint64_t held[TFO_STORE_NROLE], level, can = 0;

	store_held_by_role(st, held);
	level = held[putter] + size;
	for (uint32_t r = 0; r < TFO_STORE_NROLE; r++)
		if (r != putter && held[r] > level)
			can += held[r] - level;
	return can >= need;
}

/*
 * stage - one payload (p's own, or one of p->more as item) as the next entry
 * of p->signal: encoded, room made, into the write batch. 0, 1 busy (with
 * block_when_full, or no room at the filesystem's bound), 2 busy: larger
 * than its role's share of the bound (over_share), -1 out of memory.
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
		 * keeps its lines) when the room would come from its own role;
		 * from roles holding more than it, it is taken like any put (a
		 * flood of another role's must not hold its lines back for good).
		 * At the filesystem's bound the newest is taken while older data
		 * can make room for it; what cannot fit even so waits, and
		 * nothing is dropped for it. A further payload of a put is taken
		 * like the first (a put is staged whole). */
		if (item == NULL && (disk ? size > limit : p->block_when_full &&
		    !others_make_room(st, p->role, size, store_total_bytes(st) + size - limit))) {
			st->s.busy++;
			return 1;
		}
		enum tfo_drop_reason why = disk ? TFO_DROP_DISK : TFO_DROP_SIZE;
		if (over_share(st, p->role, size, limit)) {
			if (item == NULL) {
				st->s.busy++;
				return 2;
			}
			/* a further payload: it goes itself, its role's loss */
			st->s.drops[p->signal][why]++;
			st->s.drop_points[p->signal] += one.points;
			st->s.role_drops[p->role]++;
			return 0;
		}
		/* the newest is taken; the oldest of the role holding the most
		 * goes (evict_pick) */
		struct victim vic;
		while (store_total_bytes(st) + size > limit) {
			uint32_t s = 0;
			if (evict_pick(st, p->role, size, &vic) == 1) {
				drop_entry(st, &vic, why);
				continue;
			}
			/* no role's entry found (unreadable ones, or a read
			 * error): the head of a signal, as before shares */
			while (++s < TFO_STORE_NSIG && st->q[s].head >= st->q[s].tail)
				;
			if (s >= TFO_STORE_NSIG)
				break;
			drop_head(st, s, why);
		}
	}
	if (staged_add(st, p->signal, q->tail, size, now, one.points, p->role) != 0)
		return -1;
	tfo_store_key(key, p->signal, q->tail);
	leveldb_writebatch_put(st->wb, (const char *)key, sizeof(key), (const char *)v, vl);
	q->tail++;
	q->count++;
	q->bytes += size;
	q->rbytes[p->role] += size;
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
	if ((r = stage(st, p, NULL, now)) == 1 || r == 2) {
		*why = st->s.status[0] ? st->s.status : r == 2 ? "buffer full (max_size_mb): the "
		    "put is larger than its role's share of it" : "buffer full (max_size_mb)";
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
