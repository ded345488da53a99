/*
 * ledger.c - tfo-exporter's memory of delivered entries the buffer may offer
 * again (see ledger.h): a sorted array per signal, binary search.
 */
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "workers/exporter/ledger.h"

uint64_t
tfo_exp_entry_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n, w;
	size_t i = 0;

	/* multiply-xorshift over 8-byte words: not cryptographic, only to tell
	 * two different stored entries at one seq apart */
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	if (n > i)
		memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

void
tfo_exp_ledger_init(struct tfo_exp_ledger *l)
{
	memset(l, 0, sizeof(*l));
}

void
tfo_exp_ledger_fini(struct tfo_exp_ledger *l)
{
	for (int s = 0; s < TFO_EXP_LEDGER_NSIG; s++)
		free(l->e[s]);
	memset(l, 0, sizeof(*l));
}

/* lower - the first index of sig's entries whose seq is >= seq */
static size_t
lower(const struct tfo_exp_ledger *l, uint32_t sig, uint64_t seq)
{
	size_t lo = 0, hi = l->n[sig];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->e[sig][mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
tfo_exp_ledger_add(struct tfo_exp_ledger *l, uint32_t sig, uint64_t seq, uint64_t hash)
{
	size_t i;

	if (sig >= TFO_EXP_LEDGER_NSIG)
		return -1;
	i = lower(l, sig, seq);
	if (i < l->n[sig] && l->e[sig][i].seq == seq) {
		l->e[sig][i].hash = hash;      /* a new store's entry at an old seq */
		return 0;
	}
	if (l->n[sig] == TFO_EXP_LEDGER_MAX) {
		/* the oldest is the likeliest long deleted */
		memmove(&l->e[sig][0], &l->e[sig][1], (l->n[sig] - 1) * sizeof(l->e[sig][0]));
		l->n[sig]--;
		l->evicted++;
		if (i > 0)
			i--;
	}
	if (tfo_grow((void **)&l->e[sig], &l->cap[sig], l->n[sig] + 1, sizeof(l->e[sig][0]),
	    64) != 0)
		return -1;
	memmove(&l->e[sig][i + 1], &l->e[sig][i], (l->n[sig] - i) * sizeof(l->e[sig][0]));
	l->e[sig][i] = (struct tfo_exp_ledger_ent){ seq, hash };
	l->n[sig]++;
	return 0;
}

int
tfo_exp_ledger_has(const struct tfo_exp_ledger *l, uint32_t sig, uint64_t seq, uint64_t hash)
{
	size_t i;

	if (sig >= TFO_EXP_LEDGER_NSIG || l->n[sig] == 0)
		return 0;
	i = lower(l, sig, seq);
	return i < l->n[sig] && l->e[sig][i].seq == seq && l->e[sig][i].hash == hash;
}

void
tfo_exp_ledger_forget_below(struct tfo_exp_ledger *l, uint32_t sig, uint64_t head)
{
	size_t i;

	if (sig >= TFO_EXP_LEDGER_NSIG || l->n[sig] == 0)
		return;
	i = lower(l, sig, head);
	memmove(&l->e[sig][0], &l->e[sig][i], (l->n[sig] - i) * sizeof(l->e[sig][0]));
	l->n[sig] -= i;
}

size_t
tfo_exp_ledger_count(const struct tfo_exp_ledger *l)
{
	size_t n = 0;

	for (int s = 0; s < TFO_EXP_LEDGER_NSIG; s++)
		n += l->n[s];
	return n;
}
