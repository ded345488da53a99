/*
 * ledger.h - tfo-exporter's memory of the stored entries it delivered that the
 * buffer may still offer again: their ack was lost, failed, or reached a
 * restarted buffer that no longer knows the batch. Keyed by (signal, seq,
 * hash of the stored bytes): a seq is stable across buffer restarts of one
 * store, the hash tells an entry of a new store at the same seq apart. An
 * entry is forgotten once the buffer says everything below it is deleted on
 * disk (Done.heads). Memory only: an exporter that dies forgets (its exports
 * in flight are the documented duplicates, docs/exporter.md).
 */
#ifndef TFO_EXP_LEDGER_H
#define TFO_EXP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#define TFO_EXP_LEDGER_NSIG 3          /* index = Tfo__V1__Signal (1 metrics, 2 logs) */
#define TFO_EXP_LEDGER_MAX 65536       /* entries per signal; the lowest seq goes first */

struct tfo_exp_ledger_ent {
	uint64_t seq, hash;
};

struct tfo_exp_ledger {
	struct tfo_exp_ledger_ent *e[TFO_EXP_LEDGER_NSIG];    /* ascending seq */
	size_t n[TFO_EXP_LEDGER_NSIG], cap[TFO_EXP_LEDGER_NSIG];
	uint64_t evicted;                  /* forgotten for room, not by a head */
};

/* tfo_exp_entry_hash - hash of one stored entry's bytes, as the buffer keeps them */
uint64_t tfo_exp_entry_hash(const uint8_t *p, size_t n);

void tfo_exp_ledger_init(struct tfo_exp_ledger *l);
void tfo_exp_ledger_fini(struct tfo_exp_ledger *l);
/* tfo_exp_ledger_add - remember a delivered entry (no-op if known); -1 on ENOMEM */
int tfo_exp_ledger_add(struct tfo_exp_ledger *l, uint32_t sig, uint64_t seq, uint64_t hash);
/* tfo_exp_ledger_has - this very entry was delivered */
int tfo_exp_ledger_has(const struct tfo_exp_ledger *l, uint32_t sig, uint64_t seq,
    uint64_t hash);
/* tfo_exp_ledger_forget_below - every entry of sig below head is gone from the buffer */
void tfo_exp_ledger_forget_below(struct tfo_exp_ledger *l, uint32_t sig, uint64_t head);
size_t tfo_exp_ledger_count(const struct tfo_exp_ledger *l);

#endif
