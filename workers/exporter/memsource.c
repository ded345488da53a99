/*
 * memsource.c - in-memory FIFO batch source with the buffer's fetch/ack/nack
 * rules, for tests, the interop driver and the bench (not the worker).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workers/exporter/memsource.h"

enum ent_state { ENT_PENDING = 0, ENT_INFLIGHT, ENT_DONE };

struct ent {
	uint8_t *data;
	size_t len;
	uint32_t points;
	int is_logs;
	enum ent_state state;
	uint64_t batch;
	uint64_t not_before_ms;
};

struct fetched {                        /* per fetched batch: the pointer arrays */
	const uint8_t **entries;
	size_t *lens;
	uint64_t *seqs;
	uint32_t *points;
};

struct tfo_exp_memsource {
	struct ent *ents;
	size_t n, cap;
	size_t first;                   /* entries before this are DONE */
	uint64_t next_id;
	unsigned fail_next;             /* acks/nacks to fail as a failed commit */
	int say_empty;                  /* set rest_empty as tfo-buffer does */
	int keep_acks;                  /* ack_later keeps acks for the next request */
	uint64_t kept[TFO_EXP_MAX_IN_FLIGHT];
	size_t nkept;
	struct tfo_exp_heads fetch_heads;   /* what the last fetch said of the kept */
	struct tfo_exp_memsource_counts c;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct tfo_exp_memsource *
tfo_exp_memsource_new(void)
{
	struct tfo_exp_memsource *m = calloc(1, sizeof(*m));

	if (m)
		m->next_id = 1;
	return m;
}

void
tfo_exp_memsource_free(struct tfo_exp_memsource *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->ents[i].data);
	free(m->ents);
	free(m);
}

int
tfo_exp_memsource_add(struct tfo_exp_memsource *m, int is_logs, const uint8_t *data,
    size_t len, uint32_t points)
{
	struct ent *e;

	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct ent *ne = realloc(m->ents, ncap * sizeof(*ne));
		if (ne == NULL)
			return -1;
		m->ents = ne;
		m->cap = ncap;
	}
	e = &m->ents[m->n];
	memset(e, 0, sizeof(*e));
	if ((e->data = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(e->data, data, len);
	e->len = len;
	e->points = points;
	e->is_logs = is_logs;
	m->n++;
	m->c.queued++;
	return 0;
}

static void
fetched_free(struct fetched *f)
{
	if (f == NULL)
		return;
	free(f->entries);
	free(f->lens);
	free(f->seqs);
	free(f->points);
	free(f);
}

/* pending - an entry of signal (0: either) not yet handed out */
static int
pending(const struct tfo_exp_memsource *m, int signal)
{
	for (size_t i = m->first; i < m->n; i++)
		if (m->ents[i].state == ENT_PENDING &&
		    (signal == 0 || m->ents[i].is_logs == (signal == 2)))
			return 1;
	return 0;
}

static void settle(struct tfo_exp_memsource *m, uint64_t id, int ack, uint32_t delay_ms);
static void heads(const struct tfo_exp_memsource *m, struct tfo_exp_heads *h);

/* riders - the acks kept (ack_later) ride on this request: settled first,
 * as tfo-buffer does ExportRequest.acks; h says the heads then (known 0
 * when none rode) */
static void
riders(struct tfo_exp_memsource *m, struct tfo_exp_heads *h)
{
	memset(h, 0, sizeof(*h));
	if (m->nkept == 0)
		return;
	for (size_t i = 0; i < m->nkept; i++) {
		m->c.acks++;
		m->c.acks_riding++;
		settle(m, m->kept[i], 1, 0);
	}
	m->nkept = 0;
	heads(m, h);
}

/* ms_fetch - the first pending run of one signal, at most max_bytes (at least one entry) */
static int
ms_fetch(void *arg, int signal, uint32_t max_bytes, struct tfo_exp_batch *b)
{
	struct tfo_exp_memsource *m = arg;
	struct fetched *f;
	size_t i = m->first, j, bytes = 0;

	m->c.requests++;
	riders(m, &m->fetch_heads);
	if (signal >= 0 && signal < 3)
		m->c.fetches_for[signal]++;
	if (m->c.n_asked < sizeof(m->c.asked))
		m->c.asked[m->c.n_asked++] = (uint8_t)signal;
	/* one signal: its own queue, as the buffer keeps one per signal */
	while (i < m->n && (m->ents[i].state != ENT_PENDING ||
	    (signal != 0 && m->ents[i].is_logs != (signal == 2))))
		i++;
	if (i == m->n || m->ents[i].not_before_ms > now_ms()) {
		m->c.empty_fetches++;
		return 0;       /* head-of-line waits out its delay: order is kept */
	}
	for (j = i; j < m->n && m->ents[j].state == ENT_PENDING &&
	    m->ents[j].is_logs == m->ents[i].is_logs; j++) {
		if (j > i && bytes + m->ents[j].len > max_bytes)
			break;
		bytes += m->ents[j].len;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->entries = calloc(j - i, sizeof(*f->entries));
	f->lens = calloc(j - i, sizeof(*f->lens));
	f->seqs = calloc(j - i, sizeof(*f->seqs));
	f->points = calloc(j - i, sizeof(*f->points));
	if (f->entries == NULL || f->lens == NULL || f->seqs == NULL || f->points == NULL) {
		fetched_free(f);
		return -1;
	}
	m->c.fetches++;
	b->id = m->next_id++;
	b->is_logs = m->ents[i].is_logs;
	b->n = j - i;
	b->points = 0;
	for (size_t k = i; k < j; k++) {
		f->entries[k - i] = m->ents[k].data;
		f->lens[k - i] = m->ents[k].len;
		f->seqs[k - i] = k;
		f->points[k - i] = m->ents[k].points;
		m->ents[k].state = ENT_INFLIGHT;
		m->ents[k].batch = b->id;
		b->points += m->ents[k].points;
	}
	b->entries = f->entries;
	b->lens = f->lens;
	b->seqs = f->seqs;
	b->points_each = f->points;
	b->priv = f;
	b->rest_empty = m->say_empty && !pending(m, signal);
	return 1;
}

static void
ms_release(void *arg, struct tfo_exp_batch *b)
{
	(void)arg;
	fetched_free(b->priv);
	b->priv = NULL;
}

/* settle - mark a batch's entries; checks that it is the oldest outstanding.
 * An id it does not know (a batch of "before the restart") changes nothing. */
static void
settle(struct tfo_exp_memsource *m, uint64_t id, int ack, uint32_t delay_ms)
{
	uint64_t oldest = 0;
	int found = 0;

	for (size_t i = m->first; i < m->n; i++) {
		struct ent *e = &m->ents[i];
		if (e->state == ENT_INFLIGHT && (oldest == 0 || e->batch < oldest))
			oldest = e->batch;
		if (e->state != ENT_INFLIGHT || e->batch != id)
			continue;
		found = 1;
		if (ack) {
			e->state = ENT_DONE;
			free(e->data);
			e->data = NULL;
			m->c.acked_entries++;
			m->c.queued--;
		} else {
			e->state = ENT_PENDING;
			e->not_before_ms = now_ms() + delay_ms;
		}
	}
	if (!found)
		m->c.unknown_ids++;
	else if (oldest != id)
		m->c.order_violations++;
	while (m->first < m->n && m->ents[m->first].state == ENT_DONE)
		m->first++;
}

/* heads - per signal, the first entry not acked: every one below is gone */
static void
heads(const struct tfo_exp_memsource *m, struct tfo_exp_heads *h)
{
	h->known = 1;
	h->v[0] = 0;
	for (int sig = 1; sig <= 2; sig++) {
		size_t i = m->first;
		while (i < m->n && (m->ents[i].state == ENT_DONE || m->ents[i].is_logs != (sig == 2)))
			i++;
		h->v[sig] = i;
	}
}

/* failed - an injected failure: as the buffer's failed commit, which reloads
 * its state and offers everything in flight again at once */
static int
failed(struct tfo_exp_memsource *m)
{
	if (m->fail_next == 0)
		return 0;
	m->fail_next--;
	m->c.failed_settles++;
	tfo_exp_memsource_restart(m);
	return 1;
}

static int
ms_ack(void *arg, uint64_t id, struct tfo_exp_heads *h)
{
	struct tfo_exp_memsource *m = arg;

	m->c.requests++;
	m->c.ack_requests++;
	riders(m, h);
	m->c.acks++;
	if (failed(m))
		return -1;
	settle(m, id, 1, 0);
	heads(m, h);
	return 0;
}

static int
ms_nack(void *arg, uint64_t id, uint32_t retry_after_ms, struct tfo_exp_heads *h)
{
	struct tfo_exp_memsource *m = arg;

	m->c.requests++;
	riders(m, h);
	m->c.nacks++;
	m->c.last_nack_ms = retry_after_ms;
	if (failed(m))
		return -1;
	settle(m, id, 0, retry_after_ms);
	heads(m, h);
	return 0;
}

static int
ms_ack_later(void *arg, uint64_t id)
{
	struct tfo_exp_memsource *m = arg;

	if (!m->keep_acks || m->nkept >= sizeof(m->kept) / sizeof(m->kept[0]))
		return -1;
	m->kept[m->nkept++] = id;
	return 0;
}

static int
ms_acks_send(void *arg, struct tfo_exp_heads *h)
{
	struct tfo_exp_memsource *m = arg;

	memset(h, 0, sizeof(*h));
	if (m->nkept == 0)
		return 0;
	m->c.requests++;
	m->c.ack_requests++;
	riders(m, h);
	return 0;
}

static void
ms_heads(void *arg, struct tfo_exp_heads *h)
{
	const struct tfo_exp_memsource *m = arg;

	*h = m->fetch_heads;
}

void
tfo_exp_memsource_keep_acks(struct tfo_exp_memsource *m, int on)
{
	m->keep_acks = on;
}

void
tfo_exp_memsource_restart(struct tfo_exp_memsource *m)
{
	for (size_t i = m->first; i < m->n; i++)
		if (m->ents[i].state == ENT_INFLIGHT) {
			m->ents[i].state = ENT_PENDING;
			m->ents[i].not_before_ms = 0;
		}
	/* ids restart elsewhere: none handed out before means anything now */
	m->next_id += 1000000;
}

void
tfo_exp_memsource_say_empty(struct tfo_exp_memsource *m, int on)
{
	m->say_empty = on;
}

void
tfo_exp_memsource_fail(struct tfo_exp_memsource *m, unsigned n)
{
	m->fail_next = n;
}

struct tfo_exp_source
tfo_exp_memsource_source(struct tfo_exp_memsource *m)
{
	return (struct tfo_exp_source){ .fetch = ms_fetch, .release = ms_release,
	    .ack = ms_ack, .nack = ms_nack, .ack_later = ms_ack_later,
	    .acks_send = ms_acks_send, .heads = ms_heads, .arg = m };
}

void
tfo_exp_memsource_counts(const struct tfo_exp_memsource *m, struct tfo_exp_memsource_counts *c)
{
	*c = m->c;
}
