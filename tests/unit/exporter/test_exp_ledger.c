/*
 * test_exp_ledger.c - tfo-exporter's ledger of delivered entries: found by
 * (signal, seq, hash) only, forgotten below a head, bounded (the lowest seq
 * goes first), and the entry hash tells apart what differs in any byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workers/exporter/ledger.h"

static void
test_add_has_forget(void **state)
{
	struct tfo_exp_ledger l;

	(void)state;
	tfo_exp_ledger_init(&l);
	/* out of order, as a nacked batch delivered after a later one */
	for (uint64_t s = 20; s < 30; s++)
		assert_int_equal(tfo_exp_ledger_add(&l, 2, s, s * 7), 0);
	for (uint64_t s = 10; s < 15; s++)
		assert_int_equal(tfo_exp_ledger_add(&l, 2, s, s * 7), 0);
	assert_int_equal(tfo_exp_ledger_add(&l, 2, 12, 12 * 7), 0);     /* known: no-op */
	assert_int_equal(tfo_exp_ledger_count(&l), 15);
	assert_true(tfo_exp_ledger_has(&l, 2, 12, 84));
	assert_false(tfo_exp_ledger_has(&l, 2, 12, 85));   /* another store's entry at 12 */
	assert_false(tfo_exp_ledger_has(&l, 1, 12, 84));   /* another signal */
	assert_false(tfo_exp_ledger_has(&l, 2, 15, 105));
	assert_false(tfo_exp_ledger_has(&l, 7, 12, 84));   /* no such signal */
	assert_int_equal(tfo_exp_ledger_add(&l, 7, 1, 1), -1);
	/* a new store's entry at a remembered seq replaces it */
	assert_int_equal(tfo_exp_ledger_add(&l, 2, 12, 1), 0);
	assert_true(tfo_exp_ledger_has(&l, 2, 12, 1));
	assert_false(tfo_exp_ledger_has(&l, 2, 12, 84));
	tfo_exp_ledger_forget_below(&l, 2, 22);
	assert_int_equal(tfo_exp_ledger_count(&l), 8);
	assert_false(tfo_exp_ledger_has(&l, 2, 21, 147));
	assert_true(tfo_exp_ledger_has(&l, 2, 22, 154));
	tfo_exp_ledger_forget_below(&l, 1, 1000);          /* other signal: untouched */
	assert_int_equal(tfo_exp_ledger_count(&l), 8);
	tfo_exp_ledger_forget_below(&l, 2, 1000);
	assert_int_equal(tfo_exp_ledger_count(&l), 0);
	tfo_exp_ledger_fini(&l);
}

static void
test_bound(void **state)
{
	struct tfo_exp_ledger l;

	(void)state;
	tfo_exp_ledger_init(&l);
	for (uint64_t s = 0; s < TFO_EXP_LEDGER_MAX + 10; s++)
		assert_int_equal(tfo_exp_ledger_add(&l, 1, s, s), 0);
	assert_int_equal(tfo_exp_ledger_count(&l), TFO_EXP_LEDGER_MAX);
	assert_int_equal(l.evicted, 10);
	assert_false(tfo_exp_ledger_has(&l, 1, 9, 9));
	assert_true(tfo_exp_ledger_has(&l, 1, 10, 10));
	assert_true(tfo_exp_ledger_has(&l, 1, TFO_EXP_LEDGER_MAX + 9, TFO_EXP_LEDGER_MAX + 9));
	/* a seq below all, when full: it is kept, the lowest before it goes */
	assert_int_equal(tfo_exp_ledger_add(&l, 1, 3, 3), 0);
	assert_int_equal(tfo_exp_ledger_count(&l), TFO_EXP_LEDGER_MAX);
	assert_true(tfo_exp_ledger_has(&l, 1, 3, 3));
	assert_false(tfo_exp_ledger_has(&l, 1, 10, 10));
	tfo_exp_ledger_fini(&l);
}

static void
test_hash(void **state)
{
	uint8_t a[300], b[300];

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 31 + 7);
	for (size_t n = 0; n <= sizeof(a); n += 13) {
		memcpy(b, a, sizeof(a));
		assert_int_equal(tfo_exp_entry_hash(a, n), tfo_exp_entry_hash(b, n));
		if (n == 0)
			continue;
		/* one bit anywhere, the last bytes of a tail shorter than a word too */
		for (size_t i = 0; i < n; i++) {
			b[i] ^= 0x10;
			assert_true(tfo_exp_entry_hash(a, n) != tfo_exp_entry_hash(b, n));
			b[i] ^= 0x10;
		}
		assert_true(tfo_exp_entry_hash(a, n) != tfo_exp_entry_hash(a, n - 1));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_has_forget),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
