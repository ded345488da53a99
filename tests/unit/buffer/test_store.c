/*
 * test_store.c - unit tests of the buffer's LevelDB queue (workers/buffer/
 * store.c, queue.c, batch.c): key order, FIFO across reopen, dedupe, bounds,
 * age, block_when_full, atomic checkpoints, nack/re-offer, quarantine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/buffer/helpers.h"
#include "workers/buffer/store_int.h"

#include <lz4.h>

#define SIG_M TFO__V1__SIGNAL__SIGNAL_METRICS
#define SIG_L TFO__V1__SIGNAL__SIGNAL_LOGS
#define ENTRY (TFO_STORE_KEYLEN + TFO_STORE_HDR + 8)  /* store size of an 8-byte payload */

static char got[512][64];

static void
put_n(struct fix *f, uint32_t sig, uint64_t inc, uint64_t from, uint64_t to)
{
	char p[64];

	for (uint64_t i = from; i < to; i++) {
		snprintf(p, sizeof(p), "p%07llu", (unsigned long long)i);
		assert_int_equal(put_str(f, sig, inc, i, p), TFO_PUT_STAGED);
	}
}

static void
expect_seq(size_t n, uint64_t from, uint64_t to)
{
	char p[64];

	assert_int_equal(n, to - from);
	for (uint64_t i = from; i < to; i++) {
		snprintf(p, sizeof(p), "p%07llu", (unsigned long long)i);
		assert_string_equal(got[i - from], p);
	}
}

/* ------------------------------------------------------------------ keys */

static void
test_key_order(void **state)
{
	static const uint64_t seqs[] = { 0, 1, 255, 256, 65535, 65536, 1ull << 32,
		(1ull << 56) - 1, 1ull << 56, UINT64_MAX - 1, UINT64_MAX };
	uint8_t prev[TFO_STORE_KEYLEN], k[TFO_STORE_KEYLEN];
	uint32_t sig;
	uint64_t seq;

	(void)state;
	for (uint32_t s = 1; s < TFO_STORE_NSIG; s++) {
		for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
			tfo_store_key(k, s, seqs[i]);
			if (i || s > 1)
				assert_true(memcmp(prev, k, sizeof(k)) < 0);
			assert_int_equal(tfo_store_key_parse(k, sizeof(k), &sig, &seq), 0);
			assert_int_equal(sig, s);
			assert_true(seq == seqs[i]);
			memcpy(prev, k, sizeof(k));
		}
	}
	/* Garbage keys are refused. */
	tfo_store_key(k, 1, 7);
	assert_int_equal(tfo_store_key_parse(k, sizeof(k) - 1, &sig, &seq), -1);
	k[2] = '0';
	assert_int_equal(tfo_store_key_parse(k, sizeof(k), &sig, &seq), -1);
	k[2] = '9';
	assert_int_equal(tfo_store_key_parse(k, sizeof(k), &sig, &seq), -1);
	assert_int_equal(tfo_store_key_parse("m", 1, &sig, &seq), -1);
	assert_int_equal(tfo_store_key_parse("c/3/xxxxxxxx", 12, &sig, &seq), -1);
}

/* ------------------------------------------------------------------ FIFO */

static void
test_fifo_across_reopen(void **state)
{
	struct fix f;
	struct tfo_store_batch b;
	size_t n = 0;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 100);
	put_n(&f, SIG_L, 2, 0, 10);
	commit_ok(&f);
	fix_close(&f);
	fix_open(&f);
	/* Consume the first batches, then "crash" mid-way. */
	while (n < 40) {
		assert_int_equal(tfo_store_fetch(f.st, SIG_M, 64, &b), TFO_OK);
		n += b.n;
		assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
	}
	commit_ok(&f);
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), n, 100);
	expect_seq(drain(&f, SIG_L, got, 512), 0, 10);
	/* New puts after a drain keep going from the old tail. */
	put_n(&f, SIG_M, 3, 100, 105);
	commit_ok(&f);
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), 100, 105);
	fix_fini(&f);
}

static void
test_uncommitted_not_visible(void **state)
{
	struct fix f;
	struct tfo_store_batch b;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 3);
	assert_int_equal(tfo_store_pending(f.st), 3);
	/* Not durable yet: not offered to the exporter. */
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 0, &b), TFO_ENOENT);
	fix_close(&f);      /* crash before commit: the group is lost, never half */
	fix_open(&f);
	assert_int_equal(drain(&f, SIG_M, got, 512), 0);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ dedupe */

static void
test_dedupe(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 7, 1, 6);
	/* A resend inside the same group is not stored twice. */
	assert_int_equal(put_str(&f, SIG_M, 7, 5, "p0000005"), TFO_PUT_DUP);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.dup_gaps, 0);    /* the last seq: a true resend */
	/* Below the last seq: no resend does that. Answered as a duplicate,
	 * but counted (and logged once for the burst). */
	assert_int_equal(put_str(&f, SIG_M, 7, 3, "p0000003"), TFO_PUT_DUP);
	assert_int_equal(put_str(&f, SIG_M, 7, 4, "p0000004"), TFO_PUT_DUP);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.dup_puts, 3);
	assert_int_equal(s.dup_gaps, 2);
	tfo_store_flush_logs(f.st);
	fix_close(&f);
	fix_open(&f);
	/* The dedupe table survived the restart. */
	assert_int_equal(put_str(&f, SIG_M, 7, 5, "p0000005"), TFO_PUT_DUP);
	assert_int_equal(put_str(&f, SIG_M, 7, 6, "p0000006"), TFO_PUT_STAGED);
	/* A new incarnation starts its own sequence. */
	assert_int_equal(put_str(&f, SIG_M, 8, 1, "p0000007"), TFO_PUT_STAGED);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 7);
	assert_int_equal(s.dup_puts, 1);    /* counted since this open */
	assert_int_equal(s.dup_gaps, 0);
	expect_seq(drain(&f, SIG_M, got, 512), 1, 8);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ bounds */

static void
test_bounds_drop_oldest(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 10 * ENTRY, 0);
	for (uint64_t i = 0; i < 25; i++) {
		put_n(&f, SIG_M, 1, i, i + 1);
		tfo_store_get_stats(f.st, &s);
		assert_true(s.bytes[SIG_M] <= 10 * ENTRY);
		if (i % 4 == 3)
			commit_ok(&f);
	}
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 10);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 15);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_AGE], 0);
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), 15, 25);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ shares per role */

#define SYS 1                      /* Tfo__V1__Role: tfo-system */
#define PROC 2                     /* tfo-process */
#define LOGS 3                     /* tfo-logs */

/* put_tag - role puts "<tag><n, 7 digits>" (one ENTRY) as its seq n */
static void
put_tag(struct fix *f, uint32_t sig, uint32_t role, char tag, uint64_t n)
{
	char p[16];

	snprintf(p, sizeof(p), "%c%07llu", tag, (unsigned long long)n);
	assert_int_equal(put_as(f, sig, role, 100 + role, n + 1, p), TFO_PUT_STAGED);
}

/* put_tags - put_tag for n in [from, to), committed every 5 */
static void
put_tags(struct fix *f, uint32_t sig, uint32_t role, char tag, uint64_t from, uint64_t to)
{
	for (uint64_t n = from; n < to; n++) {
		put_tag(f, sig, role, tag, n);
		if (n % 5 == 4)
			commit_ok(f);
	}
	commit_ok(f);
}

/* expect_tags - the drained entries are exactly want (a space-separated list) */
static void
expect_tags(size_t n, const char *want)
{
	char w[2048], *save = NULL;
	size_t k = 0;

	snprintf(w, sizeof(w), "%s", want);
	for (char *t = strtok_r(w, " ", &save); t; t = strtok_r(NULL, " ", &save), k++) {
		char e[16];
		snprintf(e, sizeof(e), "%c%07d", t[0], atoi(t + 1));
		assert_true(k < n);
		assert_string_equal(got[k], e);
	}
	assert_int_equal(n, k);
}

/*
 * Each role keeps its share of the bound against the others, not each
 * signal: tfo-system and tfo-process both put metrics, and a compromised
 * tfo-system flooding valid metrics of its own (or an outage's worth) must
 * not push tfo-process's queued metrics out. process's 3 entries, older and
 * interleaved with system's, stay; system makes room from its own oldest,
 * above the head, those in a batch in flight included. On the old code
 * (the oldest of the signal went) process's entries were dropped.
 */
static void
test_bounds_share_per_role(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	struct tfo_store_batch a;

	(void)state;
	fix_init(&f, 8 * ENTRY, 0);
	put_tag(&f, SIG_M, PROC, 'p', 0);
	put_tag(&f, SIG_M, SYS, 's', 0);
	put_tag(&f, SIG_M, SYS, 's', 1);
	commit_ok(&f);
	put_tag(&f, SIG_M, PROC, 'p', 1);
	put_tag(&f, SIG_M, SYS, 's', 2);
	put_tag(&f, SIG_M, PROC, 'p', 2);
	put_tag(&f, SIG_M, SYS, 's', 3);
	commit_ok(&f);
	/* a batch in flight: p0 s0 s1 */
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 24, &a), TFO_OK);
	assert_int_equal(a.n, 3);
	put_tags(&f, SIG_M, SYS, 's', 4, 100);     /* the flood, 12 times the bound */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 8);
	assert_int_equal(s.bytes[SIG_M], 8 * ENTRY);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 95);   /* system's own */
	assert_int_equal(s.drop_points_in_flight[SIG_M], 2);  /* s0 s1 */
	assert_int_equal(s.role_drops[PROC], 0);
	assert_int_equal(s.role_drops[SYS], 95);
	assert_int_equal(s.role_bytes[PROC], 3 * ENTRY);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	/* the batch delivered: p0 leaves, the rest stays */
	assert_int_equal(tfo_store_ack(f.st, a.id), TFO_OK);
	tfo_store_batch_free(&a);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 7);
	assert_int_equal(s.role_bytes[PROC], 2 * ENTRY);
	/* the holes, the counts per role and the order survive a reopen */
	fix_close(&f);
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 7);
	assert_int_equal(s.role_bytes[PROC], 2 * ENTRY);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	expect_tags(drain(&f, SIG_M, got, 512), "p1 p2 s95 s96 s97 s98 s99");
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 0);
	assert_int_equal(s.role_bytes[PROC] + s.role_bytes[SYS], 0);
	fix_fini(&f);
}

/*
 * The same flood across signals (the case of 74465be): logs put before take
 * no loss beyond what an equal part asks. 3 logs entries, then 40 of
 * tfo-system's metrics into 4 entries: logs held more than system at first
 * (one log goes), then each holds half.
 */
static void
test_bounds_share_across_signals(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 4 * ENTRY, 0);
	put_tags(&f, SIG_L, LOGS, 'l', 0, 3);
	f.now += 10;
	put_tags(&f, SIG_M, SYS, 's', 0, 40);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.drops[SIG_L][TFO_DROP_SIZE], 1);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 38);
	expect_tags(drain(&f, SIG_L, got, 512), "l1 l2");
	expect_tags(drain(&f, SIG_M, got, 512), "s38 s39");
	fix_fini(&f);
}

/* One role alone fills the whole bound: a quiet role leaves it all, and the
 * role makes room from its own oldest, as a single queue did. */
static void
test_bounds_share_one_role(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 10 * ENTRY, 0);
	put_tags(&f, SIG_M, PROC, 'p', 0, 25);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 10);
	assert_int_equal(s.role_drops[PROC], 15);
	assert_int_equal(s.role_bytes[PROC], 10 * ENTRY);
	expect_tags(drain(&f, SIG_M, got, 512), "p15 p16 p17 p18 p19 p20 p21 p22 p23 p24");
	fix_fini(&f);
}

/*
 * Three roles converge to equal parts: logs below its part keeps what it
 * has while system floods past process; then each role that puts past the
 * others makes room from the largest (on a tie of two others, the lower
 * role: system), and from its own once it holds the most.
 */
static void
test_bounds_share_three_roles(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 12 * ENTRY, 0);
	put_tags(&f, SIG_L, LOGS, 'l', 0, 2);
	put_tags(&f, SIG_M, PROC, 'p', 0, 5);
	put_tags(&f, SIG_M, SYS, 's', 0, 10);      /* logs 2, process 5, system 5 */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[LOGS], 2 * ENTRY);
	assert_int_equal(s.role_bytes[PROC], 5 * ENTRY);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	put_tags(&f, SIG_M, PROC, 'p', 5, 6);      /* 6 > 5: its own p0 */
	put_tags(&f, SIG_L, LOGS, 'l', 2, 6);      /* s5, p1, then its own l0, l1 */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[LOGS], 4 * ENTRY);
	assert_int_equal(s.role_bytes[PROC], 4 * ENTRY);
	assert_int_equal(s.role_bytes[SYS], 4 * ENTRY);
	assert_int_equal(s.role_drops[LOGS], 2);
	assert_int_equal(s.role_drops[PROC], 2);
	assert_int_equal(s.role_drops[SYS], 6);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 8);
	assert_int_equal(s.drops[SIG_L][TFO_DROP_SIZE], 2);
	expect_tags(drain(&f, SIG_M, got, 512), "p2 p3 p4 s6 s7 s8 s9 p5");
	expect_tags(drain(&f, SIG_L, got, 512), "l2 l3 l4 l5");
	fix_fini(&f);
}

/* put_over - role puts one entry of k ENTRYs' stored size */
static void
put_over(struct fix *f, uint32_t role, uint64_t seq, size_t k)
{
	char p[512];
	size_t len = k * ENTRY - (TFO_STORE_KEYLEN + TFO_STORE_HDR);

	assert_true(len < sizeof(p) && len < 1024);     /* stored raw */
	memset(p, 'B', len);
	p[len] = '\0';
	assert_int_equal(put_as(f, SIG_M, role, 100 + role, seq, p), TFO_PUT_STAGED);
}

/*
 * An entry larger than its role's share is taken when the room comes from
 * the role holding the most counting that entry, its own first; it is the
 * first to go when another role needs room, as it then holds the most. But
 * no other role gives below the entry's size: a role holding nothing that
 * puts one entry of more than what the others may keep is answered Busy,
 * nothing dropped (one put the size of the bound would take all the others
 * hold).
 */
static void
test_bounds_share_entry_over_share(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 10 * ENTRY, 0);
	put_tags(&f, SIG_M, SYS, 's', 0, 4);
	put_tags(&f, SIG_M, PROC, 'p', 0, 4);
	put_over(&f, PROC, 100, 6);                 /* 4 + 6 > 4: its own four */
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_drops[PROC], 4);
	assert_int_equal(s.role_drops[SYS], 0);
	assert_int_equal(s.role_bytes[PROC], 6 * ENTRY);
	put_tags(&f, SIG_M, SYS, 's', 4, 5);       /* 5 < 6: the big one goes */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_drops[PROC], 5);
	assert_int_equal(s.role_bytes[PROC], 0);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	expect_tags(drain(&f, SIG_M, got, 512), "s0 s1 s2 s3 s4");

	/* a role holding nothing puts one entry of 6 while the other holds
	 * the whole bound, 10: it would keep only 4 against the entry's 6 */
	put_tags(&f, SIG_M, SYS, 's', 10, 20);
	char p[512];
	memset(p, 'B', 6 * ENTRY - (TFO_STORE_KEYLEN + TFO_STORE_HDR));
	p[6 * ENTRY - (TFO_STORE_KEYLEN + TFO_STORE_HDR)] = '\0';
	assert_int_equal(put_as(&f, SIG_M, PROC, 102, 101, p), TFO_PUT_BUSY);
	/* one of 5: the other keeps 5 */
	put_over(&f, PROC, 102, 5);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_drops[SYS], 5);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	assert_int_equal(s.role_bytes[PROC], 5 * ENTRY);
	assert_int_equal(s.entries[SIG_M], 6);
	fix_fini(&f);
}

/* The choice itself: the largest holder, the putter counted with its entry
 * and chosen on a tie, a putter holding nothing never chosen, ties of others
 * to the lower role, entries of no known role (an older store) a role too. */
static void
test_share_victim(void **state)
{
	uint64_t h[TFO_STORE_NROLE] = { 0 };

	(void)state;
	assert_int_equal(store_share_victim(h, SYS, 10), TFO_STORE_NROLE);  /* empty */
	h[PROC] = 5;
	assert_int_equal(store_share_victim(h, SYS, 10), PROC);   /* holds nothing itself */
	assert_int_equal(store_share_victim(h, PROC, 10), PROC);  /* alone */
	h[SYS] = 4;
	assert_int_equal(store_share_victim(h, SYS, 1), SYS);     /* 5 = 5: the putter */
	assert_int_equal(store_share_victim(h, SYS, 0), PROC);    /* 4 < 5 */
	h[SYS] = 5;
	assert_int_equal(store_share_victim(h, LOGS, 1), SYS);    /* tie of others: lower */
	h[LOGS] = 6;
	assert_int_equal(store_share_victim(h, LOGS, 1), LOGS);
	assert_int_equal(store_share_victim(h, SYS, 1), SYS);     /* 6 = 6: the putter */
	assert_int_equal(store_share_victim(h, SYS, 0), LOGS);    /* 5 < 6 */
	h[0] = 9;
	assert_int_equal(store_share_victim(h, LOGS, 1), 0);      /* unattributed: the most */
	assert_int_equal(store_share_victim(h, LOGS, 3), LOGS);   /* 9 = 9: the putter */
}

static void
test_oversized_put_refused(void **state)
{
	struct fix f;
	char big[200];
	struct tfo_store_put p = { .role = 1, .incarnation = 1, .seq = 1, .signal = SIG_M,
		.payload = big, .len = sizeof(big) };
	const char *why = NULL;

	(void)state;
	memset(big, 'x', sizeof(big));
	fix_init(&f, 100, 0);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	assert_non_null(why);
	p.len = 0;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	p.len = 10;
	p.signal = 9;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	p.signal = SIG_M;
	p.role = 77;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	fix_fini(&f);
}

static void
test_block_when_full(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	struct tfo_store_batch b;
	struct tfo_store_put p = { .role = 3, .incarnation = 1, .seq = 100, .signal = SIG_L,
		.payload = "p0000100", .len = 8, .block_when_full = 1 };
	const char *why;

	(void)state;
	fix_init(&f, 3 * ENTRY, 0);
	put_tags(&f, SIG_L, LOGS, 'p', 0, 3);        /* full of its own role's lines */
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_BUSY);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.busy, 1);
	assert_int_equal(s.drops[SIG_L][TFO_DROP_SIZE], 0);
	assert_int_equal(s.entries[SIG_L], 3);
	/* Delivering one batch frees room: the same put is accepted. */
	assert_int_equal(tfo_store_fetch(f.st, SIG_L, 1, &b), TFO_OK);
	assert_int_equal(b.n, 1);
	assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
	tfo_store_batch_free(&b);
	commit_ok(&f);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(drain(&f, SIG_L, got, 512), 3);
	assert_string_equal(got[0], "p0000001");
	assert_string_equal(got[2], "p0000100");
	fix_fini(&f);
}

/* logs_wait_put - a block_when_full put of tfo-logs, "l<n>" as its seq n */
static enum tfo_put_result
logs_wait_put(struct fix *f, uint64_t n)
{
	char pay[16];
	struct tfo_store_put p = { .role = LOGS, .incarnation = 100 + LOGS, .seq = n + 1,
		.signal = SIG_L, .payload = pay, .len = 8, .block_when_full = 1 };
	const char *why;

	snprintf(pay, sizeof(pay), "l%07llu", (unsigned long long)n);
	return tfo_store_put(f->st, &p, &why);
}

/* A flood of another role's keeps the queue at max_size_mb: tfo-logs' lines
 * must not wait for good behind it. Its put is taken from the role holding
 * more than it will; it waits only when its own entries would go. */
static void
test_block_when_full_flooded(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 6 * ENTRY, 0);
	put_tag(&f, SIG_L, LOGS, 'l', 0);
	commit_ok(&f);
	put_tags(&f, SIG_M, SYS, 's', 0, 50);      /* the flood fills the rest */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[SYS], 5 * ENTRY);
	/* system holds 5, logs 1 (2 with this one): system's oldest goes */
	assert_int_equal(logs_wait_put(&f, 1), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(logs_wait_put(&f, 2), TFO_PUT_STAGED);    /* 4 against 3 */
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[LOGS], 3 * ENTRY);
	assert_int_equal(s.role_bytes[SYS], 3 * ENTRY);
	assert_int_equal(s.role_drops[LOGS], 0);
	/* 3 against 3 with this one in: a tie goes against the putter, which
	 * waits (nothing dropped for it) */
	assert_int_equal(logs_wait_put(&f, 3), TFO_PUT_BUSY);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_drops[LOGS], 0);
	assert_int_equal(s.role_bytes[SYS], 3 * ENTRY);
	assert_int_equal(s.drops[SIG_L][TFO_DROP_SIZE], 0);
	/* the flood goes on: system, now the largest with its entry, gives up
	 * its own; logs keeps its three */
	put_tags(&f, SIG_M, SYS, 's', 50, 60);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[LOGS], 3 * ENTRY);
	assert_int_equal(drain(&f, SIG_L, got, 512), 3);
	expect_tags(3, "l0 l1 l2");
	fix_fini(&f);
}

/* ------------------------------------------------------------------ age */

static void
test_max_age(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 0, 3000);
	put_n(&f, SIG_M, 1, 0, 5);
	commit_ok(&f);
	f.now += 4000;
	put_n(&f, SIG_M, 1, 5, 10);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_true(s.oldest_age_s > 3.9 && s.oldest_age_s < 4.1);
	f.now += 1000;          /* first five are 5 s old, the rest 1 s */
	assert_int_equal(tfo_store_expire(f.st), 5);
	commit_ok(&f);
	assert_int_equal(tfo_store_expire(f.st), 0);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_AGE], 5);
	assert_int_equal(s.entries[SIG_M], 5);
	fix_close(&f);
	fix_open(&f);           /* timestamps are stored: age survives restarts */
	f.now += 2500;
	assert_int_equal(tfo_store_expire(f.st), 5);
	commit_ok(&f);
	assert_int_equal(drain(&f, SIG_M, got, 512), 0);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ checkpoints */

static Tfo__V1__Checkpoint *
mkcp(Tfo__V1__Checkpoint *cp, const char *id, uint64_t off)
{
	tfo__v1__checkpoint__init(cp);
	cp->file_id = (char *)id;
	cp->path = "/var/log/x.log";
	cp->offset = off;
	return cp;
}

static void
put_cp(struct fix *f, uint64_t seq, const char *id, uint64_t off, enum tfo_put_result want)
{
	Tfo__V1__Checkpoint cp, *cps[1] = { mkcp(&cp, id, off) };
	struct tfo_store_put p = { .role = TFO__V1__ROLE__ROLE_LOGS, .incarnation = 1,
		.seq = seq, .signal = SIG_L, .payload = "p0000000", .len = 8,
		.checkpoints = cps, .ncheckpoints = 1, .block_when_full = 1 };
	const char *why;

	assert_int_equal(tfo_store_put(f->st, &p, &why), want);
}

static uint64_t
cp_offset(struct fix *f, uint32_t role, const char *id)
{
	Tfo__V1__Checkpoint **v;
	size_t n;
	uint64_t off = UINT64_MAX;

	assert_int_equal(tfo_store_checkpoints(f->st, role, 100, &v, &n), TFO_OK);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->file_id, id) == 0)
			off = v[i]->offset;
	tfo_store_checkpoints_free(v, n);
	return off;
}

static void
test_checkpoints_atomic(void **state)
{
	struct fix f;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 0, 0);
	put_cp(&f, 1, "8:12:abcd", 100, TFO_PUT_STAGED);
	commit_ok(&f);
	put_cp(&f, 2, "8:12:abcd", 200, TFO_PUT_STAGED);
	/* Not committed: neither the record nor the offset is visible or kept. */
	assert_true(cp_offset(&f, TFO__V1__ROLE__ROLE_LOGS, "8:12:abcd") == 100);
	fix_close(&f);
	fix_open(&f);
	assert_true(cp_offset(&f, TFO__V1__ROLE__ROLE_LOGS, "8:12:abcd") == 100);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_L], 1);
	/* A resent put is a duplicate: its checkpoint is not written again. */
	put_cp(&f, 1, "8:12:abcd", 999, TFO_PUT_DUP);
	put_cp(&f, 2, "8:12:abcd", 200, TFO_PUT_STAGED);
	commit_ok(&f);
	assert_true(cp_offset(&f, TFO__V1__ROLE__ROLE_LOGS, "8:12:abcd") == 200);
	/* Another role sees none of them. */
	assert_true(cp_offset(&f, TFO__V1__ROLE__ROLE_SYSTEM, "8:12:abcd") == UINT64_MAX);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ rest_empty */

/* fetch_rest - one fetch of signal (0: any) of up to 16 bytes; its rest_empty */
static int
fetch_rest(struct fix *f, uint32_t signal, struct tfo_store_batch *b)
{
	assert_int_equal(tfo_store_fetch(f->st, signal, 16, b), TFO_OK);
	return b->rest_empty;
}

/* A batch says whether a fetch right after it would find nothing (the
 * exporter then waits for its poll instead of asking): never while either
 * signal has entries not offered yet, or a nacked batch due again. */
static void
test_rest_empty(void **state)
{
	struct fix f;
	struct tfo_store_batch a, b, c, none;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 6);                  /* 3 batches of 2 */
	commit_ok(&f);
	assert_false(fetch_rest(&f, 0, &a));
	assert_false(fetch_rest(&f, 0, &b));
	assert_true(fetch_rest(&f, 0, &c));
	assert_int_equal(tfo_store_fetch(f.st, 0, 16, &none), TFO_ENOENT);
	assert_int_equal(tfo_store_nack(f.st, c.id, 1000), TFO_OK);
	tfo_store_batch_free(&c);
	put_n(&f, SIG_L, 2, 0, 1);
	commit_ok(&f);
	/* the nacked batch holds its signal until due: only the log is left */
	assert_true(fetch_rest(&f, 0, &c));
	assert_int_equal(c.signal, SIG_L);
	tfo_store_batch_free(&c);
	f.now += 1000;
	put_n(&f, SIG_L, 2, 1, 2);
	commit_ok(&f);
	/* due again, and a log not offered yet: two fetches, the second empties */
	assert_false(fetch_rest(&f, 0, &c));
	tfo_store_batch_free(&c);
	assert_true(fetch_rest(&f, 0, &c));
	tfo_store_batch_free(&c);
	/* one signal asked for: the other's entries do not count */
	put_n(&f, SIG_M, 1, 6, 7);
	put_n(&f, SIG_L, 2, 2, 3);
	commit_ok(&f);
	assert_true(fetch_rest(&f, SIG_L, &c));
	tfo_store_batch_free(&c);
	tfo_store_batch_free(&a);
	tfo_store_batch_free(&b);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ nack / re-offer */

static void
test_nack_reoffer(void **state)
{
	struct fix f;
	struct tfo_store_batch a, b, c;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 6);
	commit_ok(&f);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &a), TFO_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(tfo_store_nack(f.st, a.id, 1000), TFO_OK);
	/* Held back: neither the nacked batch nor newer data (FIFO). */
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &b), TFO_ENOENT);
	f.now += 1000;
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &b), TFO_OK);
	assert_true(b.id == a.id);
	assert_int_equal(b.n, 2);
	assert_memory_equal(b.data[1], "p0000001", 8);
	tfo_store_batch_free(&b);
	/* The exporter vanished: the batch in flight is offered again at once. */
	tfo_store_reoffer_all(f.st);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &c), TFO_OK);
	assert_true(c.id == a.id);
	tfo_store_batch_free(&c);
	assert_int_equal(tfo_store_ack(f.st, a.id), TFO_OK);
	assert_int_equal(tfo_store_ack(f.st, a.id + 999), TFO_ENOENT);
	assert_int_equal(tfo_store_nack(f.st, a.id + 999, 1), TFO_ENOENT);
	tfo_store_batch_free(&a);
	commit_ok(&f);
	/* Fetched, never acked, buffer restarted: offered again. */
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &b), TFO_OK);
	assert_memory_equal(b.data[0], "p0000002", 8);
	tfo_store_batch_free(&b);
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), 2, 6);
	fix_fini(&f);
}

static void
test_out_of_order_ack(void **state)
{
	struct fix f;
	struct tfo_store_batch a, b;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 4);
	commit_ok(&f);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &a), TFO_OK);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 16, &b), TFO_OK);
	assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 4);   /* kept until the older batch is acked */
	assert_int_equal(tfo_store_ack(f.st, a.id), TFO_OK);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 0);
	assert_int_equal(s.bytes[SIG_M], 0);
	assert_int_equal(s.acks, 2);
	tfo_store_batch_free(&a);
	tfo_store_batch_free(&b);
	fix_fini(&f);
}

static void
test_drop_shrinks_inflight(void **state)
{
	struct fix f;
	struct tfo_store_batch a;
	struct tfo_store_stats s;

	(void)state;
	fix_init(&f, 4 * ENTRY, 0);
	put_n(&f, SIG_M, 1, 0, 4);
	commit_ok(&f);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 24, &a), TFO_OK);
	assert_int_equal(a.n, 3);
	put_n(&f, SIG_M, 1, 4, 6);           /* drops 0 and 1, inside the batch */
	commit_ok(&f);
	assert_int_equal(tfo_store_ack(f.st, a.id), TFO_OK);
	commit_ok(&f);
	tfo_store_batch_free(&a);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 3);
	assert_int_equal(s.bytes[SIG_M], 3 * ENTRY);
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), 3, 6);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ quarantine */

/* garble - overwrite every file of the store whose name starts with prefix:
 * whole (trunc) or only its first bytes, the rest left in place */
static int
garble(const char *dir, const char *prefix, int trunc)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char p[600];
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		int fd = open(p, O_WRONLY | (trunc ? O_TRUNC : 0));
		assert_true(fd >= 0);
		static const char junk[16] = "\xde\xad\xbe\xef" "garbage garb";
		if (!trunc)     /* only the first record's CRC: its length stays sane */
			assert_int_equal(write(fd, junk, 4), 4);
		for (int i = 0; trunc && i < 64; i++)
			assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

static int
count_corrupt(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "queue.corrupt-", 14) == 0;
	closedir(d);
	return n;
}

static void
quarantine_case(const char *prefix, int trunc)
{
	struct fix f;
	struct tfo_store_stats s;

	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 20);
	commit_ok(&f);
	fix_close(&f);
	assert_true(garble(f.path, prefix, trunc) > 0);
	fix_open(&f);           /* does not fail: moved aside, fresh store */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.quarantines, 1);
	assert_non_null(strstr(s.quarantine, "queue.corrupt-"));
	assert_int_equal(count_corrupt(f.dir), 1);
	assert_int_equal(s.entries[SIG_M], 0);
	/* The fresh store works and keeps data across a reopen. */
	put_n(&f, SIG_M, 2, 0, 3);
	commit_ok(&f);
	fix_close(&f);
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.quarantines, 0);
	expect_seq(drain(&f, SIG_M, got, 512), 0, 3);
	fix_fini(&f);
}

static void
test_quarantine_manifest(void **state)
{
	(void)state;
	quarantine_case("MANIFEST", 1);
}

static void
test_quarantine_current(void **state)
{
	(void)state;
	quarantine_case("CURRENT", 1);
}

static void
test_quarantine_log(void **state)
{
	(void)state;
	/* A bad checksum inside the write-ahead log fails the open under paranoid
	 * checks (a torn tail alone would be taken as an unfinished write). */
	quarantine_case("0", 0);
}

static void
test_locked_store_not_moved(void **state)
{
	struct fix f;
	struct tfo_store *second;
	enum tfo_err e;
	char err[256];

	(void)state;
	fix_init(&f, 0, 0);
	second = tfo_store_open(&f.o, &e, err, sizeof(err));
	assert_null(second);
	assert_int_equal(e, TFO_EAGAIN);
	assert_int_equal(count_corrupt(f.dir), 0);
	fix_fini(&f);
}

/* ------------------------------------------------------------------ values */

/* fill - n bytes: log-like text (compressible) or pseudo-random bytes */
static void
fill(uint8_t *p, size_t n, int text, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = text ? (uint8_t)("0123456789 INFO request served\n"[(i + seed % 3) % 32])
		    : (uint8_t)(seed >> 16);
	}
}

static void
test_lz4_values(void **state)
{
	static const struct { size_t len; int text; } cases[] = {
		{ 64 * 1024, 1 },       /* a log batch: stored compressed */
		{ 200, 1 },             /* small (metrics): stored as it is */
		{ 64 * 1024, 0 },       /* incompressible: stored as it is */
		{ 1024, 1 },            /* at the threshold */
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	uint8_t *pl[N];
	uint64_t raw = 0;
	size_t bad;
	struct tfo_store_stats s;
	struct tfo_store_batch b;
	struct fix f;

	(void)state;
	fix_init(&f, 0, 0);
	for (size_t i = 0; i < N; i++) {
		struct tfo_store_put p = { .role = 1, .incarnation = 1, .seq = i + 1,
			.signal = SIG_L, .len = cases[i].len, .points = (uint32_t)i + 7 };
		const char *why;
		pl[i] = malloc(cases[i].len);
		fill(pl[i], cases[i].len, cases[i].text, (uint32_t)i);
		p.payload = pl[i];
		raw += cases[i].len;
		assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	}
	commit_ok(&f);
	fix_close(&f);
	fix_open(&f);           /* read back from disk, not the pending batch */
	tfo_store_get_stats(f.st, &s);
	assert_true(s.bytes[SIG_L] < raw);      /* bounds count stored bytes */
	assert_int_equal(tfo_store_fetch(f.st, SIG_L, 1u << 20, &b), TFO_OK);
	assert_int_equal(b.n, N);
	assert_int_equal(b.points, 7 + 8 + 9 + 10);
	/* served as stored: the log batch compressed, the others as they are */
	assert_true(b.raw_lens[0] == cases[0].len && b.len[0] < cases[0].len);
	assert_true(b.raw_lens[1] == 0 && b.raw_lens[2] == 0);
	assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(b.n, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(b.len[i], cases[i].len);
		assert_memory_equal(b.data[i], pl[i], cases[i].len);
		free(pl[i]);
	}
	tfo_store_batch_free(&b);
	fix_fini(&f);
}

static void
test_value_damage(void **state)
{
	uint8_t payload[4096], v[8192], out[4096];
	struct tfo_store_put p = { .len = sizeof(payload), .points = 3 };
	struct store_value sv;
	const uint8_t *enc;
	size_t vl;
	struct fix f;

	(void)state;
	fix_init(&f, 0, 0);
	fill(payload, sizeof(payload), 1, 5);
	p.payload = payload;
	vl = store_value_encode(f.st, 42, &p, &enc);
	assert_true(vl > TFO_STORE_HDR && vl < sizeof(payload));
	memcpy(v, enc, vl);
	assert_int_equal(store_value_parse(v, vl, &sv), 0);
	assert_true(sv.lz4);
	assert_int_equal(sv.points, 3);
	assert_int_equal(tfo_lz4_inflate(sv.body, sv.body_len, out, sv.raw_len), 0);
	assert_memory_equal(out, payload, sizeof(payload));
	/* a raw length that disagrees with the block */
	v[TFO_STORE_HDR + 3] ^= 1;
	assert_int_equal(store_value_parse(v, vl, &sv), 0);
	assert_int_equal(tfo_lz4_inflate(sv.body, sv.body_len, out, sv.raw_len), -1);
	v[TFO_STORE_HDR + 3] ^= 1;
	/* lengths no put could have had, and a cut header */
	store_be32(v + TFO_STORE_HDR, 0);
	assert_int_equal(store_value_parse(v, vl, &sv), -1);
	store_be32(v + TFO_STORE_HDR, TFO_STORE_VALUE_MAX + 1);
	assert_int_equal(store_value_parse(v, vl, &sv), -1);
	assert_int_equal(store_value_parse(v, TFO_STORE_HDR + 4, &sv), -1);
	assert_int_equal(store_value_parse(v, TFO_STORE_HDR - 1, &sv), -1);
	/* a truncated block */
	store_be32(v + TFO_STORE_HDR, sizeof(payload));
	assert_int_equal(store_value_parse(v, vl - 9, &sv), 0);
	assert_int_equal(tfo_lz4_inflate(sv.body, sv.body_len, out, sv.raw_len), -1);
	/* a value from before compression: points word without the flag */
	store_be64(v, 42);
	store_be32(v + 8, 9);
	memcpy(v + TFO_STORE_HDR, "plain", 5);
	assert_int_equal(store_value_parse(v, TFO_STORE_HDR + 5, &sv), 0);
	assert_false(sv.lz4);
	assert_int_equal(sv.raw_len, 5);
	assert_int_equal(sv.body_len, 5);
	assert_memory_equal(sv.body, "plain", 5);
	fix_fini(&f);
}

/* puts compressed by the collector (Put.encoding LZ4) are stored as they came */
static void
test_lz4_puts(void **state)
{
	uint8_t raw[8192], blk[8192];
	struct tfo_store_put p = { .role = 1, .incarnation = 1, .signal = SIG_L, .points = 4,
		.lz4 = 1, .raw_len = sizeof(raw) };
	struct tfo_store_stats s;
	struct tfo_store_batch b;
	const char *why;
	struct fix f;
	size_t bad;
	int n;

	(void)state;
	fill(raw, sizeof(raw), 1, 9);
	n = LZ4_compress_default((const char *)raw, (char *)blk, (int)sizeof(raw), (int)sizeof(blk));
	assert_true(n > 0);
	fix_init(&f, 0, 0);
	p.payload = blk;
	p.len = (size_t)n;
	p.seq = 1;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	/* refused: a raw length no put can have */
	p.seq = 2;
	p.raw_len = 0;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	p.raw_len = TFO_STORE_VALUE_MAX + 1;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_INVALID);
	/* a block that does not inflate to raw_len is stored and served; the
	 * inflating side (the exporter) leaves it out and counts it */
	p.raw_len = sizeof(raw) + 1;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(tfo_store_fetch(f.st, SIG_L, 1u << 20, &b), TFO_OK);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.raw_lens[1], sizeof(raw) + 1);
	assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
	assert_int_equal(bad, 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.len[0], sizeof(raw));
	assert_memory_equal(b.data[0], raw, sizeof(raw));
	assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
	tfo_store_batch_free(&b);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_L], 0);
	fix_fini(&f);
}

/* common/payload.c: what the exporter does with a served batch */
static void
test_payload_inflate(void **state)
{
	static const uint8_t blk[] = { 0x50, 'h', 'e', 'l', 'l', 'o' };  /* literals only */
	const uint8_t *data[4] = { blk, (const uint8_t *)"as is", blk, blk };
	size_t len[4] = { sizeof(blk), 5, sizeof(blk) - 1, sizeof(blk) };
	uint32_t raw[4] = { 5, 0, 5, 6 };
	uint8_t *blob;
	size_t n = 4, bad;

	(void)state;
	assert_int_equal(tfo_payload_inflate(&n, data, len, raw, &blob, &bad), TFO_OK);
	assert_int_equal(n, 2);         /* a cut block and a wrong raw length left out */
	assert_int_equal(bad, 2);
	assert_int_equal(len[0], 5);
	assert_memory_equal(data[0], "hello", 5);
	assert_int_equal(len[1], 5);
	assert_memory_equal(data[1], "as is", 5);
	free(blob);
	/* lengths no batch of the buffer can have */
	n = 1;
	raw[0] = TFO_PAYLOAD_RAW_MAX + 1;
	assert_int_equal(tfo_payload_inflate(&n, data, len, raw, &blob, &bad), TFO_ERANGE);
	n = 3;
	raw[0] = raw[1] = raw[2] = TFO_PAYLOAD_RAW_MAX;
	assert_int_equal(tfo_payload_inflate(&n, data, len, raw, &blob, &bad), TFO_ERANGE);
	assert_int_equal(tfo_lz4_inflate(blk, sizeof(blk), (uint8_t[8]){ 0 }, 0), -1);
}

/* The store's size on disk is a directory scan: a health ping (every few
 * seconds) does it at most once a minute, then it is fresh again. */
static void
test_disk_bytes_cached(void **state)
{
	struct fix f;
	struct tfo_store_stats s0, s1;
	char path[600];
	FILE *fp;

	(void)state;
	fix_init(&f, 1 << 20, 0);
	tfo_store_get_stats(f.st, &s0);
	assert_true(s0.disk_bytes > 0);
	snprintf(path, sizeof(path), "%s/grown.ldb", f.path);
	assert_non_null(fp = fopen(path, "w"));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fputs("0123456789abcdef0123456789abcdef", fp) >= 0, 1);
	fclose(fp);
	f.now += 59999;
	tfo_store_get_stats(f.st, &s1);
	assert_int_equal(s1.disk_bytes, s0.disk_bytes);
	f.now += 1;
	tfo_store_get_stats(f.st, &s1);
	assert_true(s1.disk_bytes >= s0.disk_bytes + 32000);   /* allocated blocks */
	unlink(path);
	f.now -= 1000;                    /* a clock stepped back: scanned again */
	tfo_store_get_stats(f.st, &s1);
	assert_int_equal(s1.disk_bytes, s0.disk_bytes);
	fix_fini(&f);
}

/* ack_one - fetch one batch of signal 1 (one entry) and ack it, written */
static void
ack_one(struct fix *f)
{
	struct tfo_store_batch b;

	assert_int_equal(tfo_store_fetch(f->st, 1, 64, &b), TFO_OK);
	assert_int_equal(b.n, 1);
	assert_int_equal(tfo_store_ack(f->st, b.id), TFO_OK);
	tfo_store_batch_free(&b);
	commit_ok(f);
}

/* files_of - bytes and count of the store's files whose name ends in suffix */
static uint64_t
files_of(const char *path, const char *suffix, int *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	uint64_t total = 0;
	size_t sl = strlen(suffix);

	*count = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		size_t n = strlen(de->d_name);
		if (n > sl && strcmp(de->d_name + n - sl, suffix) == 0 &&
		    fstatat(dirfd(d), de->d_name, &sb, 0) == 0) {
			total += (uint64_t)sb.st_size;
			(*count)++;
		}
	}
	closedir(d);
	return total;
}

/* put_big - puts [from, to) of signal 1, each a 1000-byte payload that LZ4
 * barely shrinks, numbered at its start */
static void
put_big(struct fix *f, uint64_t from, uint64_t to)
{
	char p[1001];
	uint32_t x = (uint32_t)from * 2654435761u + 1;

	for (uint64_t i = from; i < to; i++) {
		for (size_t j = 0; j < sizeof(p) - 1; j++) {
			x = x * 1103515245u + 12345u;
			p[j] = (char)('a' + (x >> 16) % 26);
		}
		p[sizeof(p) - 1] = '\0';
		snprintf(p, 9, "%08llu", (unsigned long long)i);
		p[8] = '-';
		assert_int_equal(put_str(f, 1, 9, i, p), TFO_PUT_STAGED);
	}
	commit_ok(f);
}

/* take_all - fetch and ack everything of signal 1; each entry's number
 * counted in seen[] (checked against its seq) */
static void
take_all(struct fix *f, unsigned *seen, uint64_t max)
{
	struct tfo_store_batch b;

	while (tfo_store_fetch(f->st, 1, 8192, &b) == TFO_OK) {
		size_t bad;
		assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
		assert_int_equal(bad, 0);
		for (size_t i = 0; i < b.n; i++) {
			char num[9];
			assert_int_equal(b.len[i], 1000);
			memcpy(num, b.data[i], 8);
			num[8] = '\0';
			assert_true(b.seqs[i] < max);
			assert_int_equal(strtoull(num, NULL, 10), b.seqs[i]);
			seen[b.seqs[i]]++;
		}
		assert_int_equal(tfo_store_ack(f->st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
	}
	commit_ok(f);
}

/* varint - a LevelDB varint64 at *p (bounded by end) */
static uint64_t
varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	fail_msg("bad varint in a table footer");
	return 0;
}

/* table_blocks - data blocks of the LevelDB table at path: the entries of
 * its index block (one per data block, each a restart point) */
static uint32_t
table_blocks(const char *path)
{
	static uint8_t buf[4 << 20];
	const uint8_t *p, *end;
	uint64_t off, len;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 48 && (size_t)n < sizeof(buf));
	p = buf + n - 48;                   /* footer: two handles, padding, magic */
	end = buf + n - 8;
	assert_int_equal(buf[n - 1], 0xdb);
	(void)varint(&p, end);              /* metaindex */
	(void)varint(&p, end);
	off = varint(&p, end);              /* index */
	len = varint(&p, end);
	assert_true(len >= 4 && off + len <= (uint64_t)n);
	return (uint32_t)buf[off + len - 4] | (uint32_t)buf[off + len - 3] << 8 |
	    (uint32_t)buf[off + len - 2] << 16 | (uint32_t)buf[off + len - 1] << 24;
}

/*
 * test_table_blocks - tables are written in TFO_STORE_BLOCK blocks (LevelDB
 * writes each block with a write of its own: 4 KiB blocks made a flush of
 * an idle minute ~35 writes), and what is read back from them after a
 * restart is every entry once, in order
 */
static void
test_table_blocks(void **state)
{
	enum { N = 160 };
	static unsigned seen[N];
	struct fix f;
	struct dirent *de;
	DIR *d;
	char file[512];
	int tables = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	fix_init(&f, 0, 0);
	put_big(&f, 0, N);                  /* 160 KiB, in LevelDB's log */
	fix_close(&f);
	fix_open(&f);                       /* the log recovered into a table */
	assert_non_null(d = opendir(f.path));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 4, ".ldb") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", f.path, de->d_name);
		assert_true(table_blocks(file) <= N * 1024 / TFO_STORE_BLOCK + 2);
		tables++;
	}
	closedir(d);
	assert_int_equal(tables, 1);
	take_all(&f, seen, N);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	fix_fini(&f);
}

/* a_minute - n more numbered puts, all delivered, then a minute on: the
 * paced compaction's answer */
static int
a_minute(struct fix *f, unsigned *seen, uint64_t max, uint64_t *seq, uint64_t n)
{
	put_big(f, *seq, *seq + n);
	*seq += n;
	take_all(f, seen, max);
	f->now += 60000;
	return tfo_store_compact_paced(f->st, 60000);
}

/*
 * test_compact_trickle - an idle host's minutes (130 KiB of puts each, all
 * delivered): every second minute, once a quarter MiB was consumed since the
 * last, flushes the memtable (LevelDB's log starts empty again, so the memory
 * held is at most that), or merges the consumed range once half a MiB was
 * consumed since the last merge (the fourth minute); the minute between writes no file
 * (a flush each minute made two, synced three times: issue 18 §3); the
 * level-0 tables stay few (a merge once half a MiB was consumed, or LevelDB's
 * own at four); a burst consumed gets its range merged. Across reopens every
 * numbered entry is delivered exactly once, and the ones left queued come
 * back.
 */
static void
test_compact_trickle(void **state)
{
	enum { MAXN = 3000, PER_MINUTE = 130 };
	static unsigned seen[MAXN];
	struct tfo_store_stats s;
	struct fix f;
	uint64_t seq = 0, flushes = 0, merges = 0;
	int n;

	(void)state;
	memset(seen, 0, sizeof(seen));
	fix_init(&f, 0, 0);
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);  /* the period starts */
	for (int minute = 0; minute < 12; minute++) {
		/* minutes 0-5, then 6-11 after a restart: the second of each pair
		 * flushes (a quarter MiB), the fourth since the open merges (half
		 * a MiB consumed since the last merge) */
		int k = minute % 6, second = k % 2 == 1, merge = k == 3;

		assert_int_equal(a_minute(&f, seen, MAXN, &seq, PER_MINUTE), second);
		flushes += (uint64_t)(second && !merge);
		merges += (uint64_t)merge;
		tfo_store_get_stats(f.st, &s);
		/* flushed: nothing of the memtable left in the log; not yet:
		 * the minute's puts and deletes are in it */
		assert_int_equal(files_of(f.path, ".log", &n) == 0, second);
		assert_int_equal(s.flushes, flushes);
		assert_int_equal(s.compactions, merges);
		/* not a table a flush for good: level-0 tables are merged
		 * (by LevelDB at four; its merge may still be pending) */
		(void)files_of(f.path, ".ldb", &n);
		assert_true(n <= 8 && (n >= 1 || !second));
		if (minute == 5) {          /* a restart between two minutes */
			fix_close(&f);
			fix_open(&f);
			flushes = merges = 0;       /* stats count from the open */
			assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
		}
	}
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.flushes, 2);     /* 6 x 130 KiB since the restart */
	assert_int_equal(s.compactions, 1);
	/* left queued across a restart: offered again, once */
	put_big(&f, seq, seq + 3);
	seq += 3;
	fix_close(&f);
	fix_open(&f);
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
	/* a burst (600 KiB) consumed: its range is merged */
	assert_int_equal(a_minute(&f, seen, MAXN, &seq, 600), 1);
	tfo_store_get_stats(f.st, &s);
	assert_true(s.compactions >= 1);
	assert_int_equal(s.flushes, 0);     /* stats of this open */
	assert_true(files_of(f.path, ".ldb", &n) < 64 * 1024);
	for (uint64_t i = 0; i < seq; i++)
		assert_int_equal(seen[i], 1);
	for (uint64_t i = seq; i < MAXN; i++)
		assert_int_equal(seen[i], 0);
	fix_fini(&f);
}

/*
 * test_compact_paced - the minute's compaction of the consumed range: not
 * before a period, then at the first moment nothing is queued (nothing live
 * written again), or one period late while entries stay queued; nothing
 * consumed since the last: nothing to compact
 */
static void
test_compact_paced(void **state)
{
	static const char *const p40 = "0123456789012345678901234567890123456789";
	struct tfo_store_stats s;
	char out[8][64];
	struct fix f;

	(void)state;
	fix_init(&f, 1 << 20, 0);
	tfo_store_set_flush_min(f.st, 0);   /* the pacing alone: any trickle flushes */
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);     /* the period starts */
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(put_str(&f, 1, 7, seq, p40), TFO_PUT_STAGED);
	commit_ok(&f);
	ack_one(&f);                        /* consumed, two still queued */
	f.now += 59999;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);     /* not due */
	f.now += 1;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);     /* due, entries queued */
	f.now += 30000;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
	assert_int_equal(drain(&f, 1, out, 8), 2);                     /* the queue empties */
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 1);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.flushes, 1);     /* a trickle: the memtable flushed alone */
	assert_int_equal(s.compactions, 0);
	/* always something queued: one period late */
	for (uint64_t seq = 4; seq <= 6; seq++)
		assert_int_equal(put_str(&f, 1, 7, seq, p40), TFO_PUT_STAGED);
	commit_ok(&f);
	ack_one(&f);
	f.now += 60000;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
	f.now += 59999;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
	f.now += 1;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 1);
	/* two periods on, nothing consumed since: no compaction to run */
	f.now += 120000;
	assert_int_equal(tfo_store_compact_paced(f.st, 60000), 0);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.flushes, 2);
	assert_int_equal(s.compactions, 0);
	assert_int_equal(s.entries[1], 2);  /* what is queued stays */
	assert_int_equal(drain(&f, 1, out, 8), 2);
	assert_string_equal(out[0], p40);
	fix_fini(&f);
}

/*
 * A write batch that carried a big group is made anew after it (pending_clear:
 * LevelDB's batch keeps the largest write's capacity), a small one kept;
 * nothing staged is lost or written twice, across a failed write too.
 */
static void
test_batch_renewed(void **state)
{
	static char big[24 * 1024];
	struct fix f;
	struct tfo_store_batch b;
	leveldb_writebatch_t *wb;
	size_t acked;

	(void)state;
	fix_init(&f, 0, 0);
	put_n(&f, SIG_M, 1, 0, 100);
	wb = f.st->wb;
	commit_ok(&f);
	assert_ptr_equal(f.st->wb, wb);                 /* 100 small puts: kept */
	/* printable noise: LZ4 (value.c) does not shrink it below the bound */
	for (size_t i = 0, r = 1; i < sizeof(big) - 1; i++) {
		r = r * 1103515245u + 12345u;
		big[i] = (char)('!' + (r >> 16) % 90);
	}
	assert_int_equal(put_str(&f, SIG_L, 2, 0, big), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_ptr_not_equal(f.st->wb, wb);             /* a big group: anew */
	wb = f.st->wb;
	put_n(&f, SIG_M, 1, 100, 110);
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 64, &b), TFO_OK);
	acked = b.n;
	assert_true(acked > 0);
	assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
	tfo_store_batch_free(&b);
	commit_ok(&f);
	assert_ptr_equal(f.st->wb, wb);
	/* every entry once: the acked ones never again, across a reopen */
	fix_close(&f);
	fix_open(&f);
	expect_seq(drain(&f, SIG_M, got, 512), acked, 110);
	assert_int_equal(tfo_store_fetch(f.st, SIG_L, 0, &b), TFO_OK);
	assert_int_equal(b.n, 1);
	tfo_store_batch_free(&b);
	fix_close(&f);
	fix_open(&f);
	assert_int_equal(drain(&f, SIG_M, got, 512), 0);
	fix_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_fifo_across_reopen),
		cmocka_unit_test(test_uncommitted_not_visible),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_bounds_drop_oldest),
		cmocka_unit_test(test_bounds_share_per_role),
		cmocka_unit_test(test_block_when_full_flooded),
		cmocka_unit_test(test_bounds_share_across_signals),
		cmocka_unit_test(test_bounds_share_one_role),
		cmocka_unit_test(test_bounds_share_three_roles),
		cmocka_unit_test(test_bounds_share_entry_over_share),
		cmocka_unit_test(test_share_victim),
		cmocka_unit_test(test_oversized_put_refused),
		cmocka_unit_test(test_block_when_full),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_checkpoints_atomic),
		cmocka_unit_test(test_nack_reoffer),
		cmocka_unit_test(test_rest_empty),
		cmocka_unit_test(test_out_of_order_ack),
		cmocka_unit_test(test_drop_shrinks_inflight),
		cmocka_unit_test(test_quarantine_manifest),
		cmocka_unit_test(test_quarantine_current),
		cmocka_unit_test(test_quarantine_log),
		cmocka_unit_test(test_locked_store_not_moved),
		cmocka_unit_test(test_lz4_values),
		cmocka_unit_test(test_value_damage),
		cmocka_unit_test(test_lz4_puts),
		cmocka_unit_test(test_payload_inflate),
		cmocka_unit_test(test_disk_bytes_cached),
		cmocka_unit_test(test_compact_paced),
		cmocka_unit_test(test_compact_trickle),
		cmocka_unit_test(test_table_blocks),
		cmocka_unit_test(test_batch_renewed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
