/*
 * test_multiline.c - tfo-logs continuation joining: start pattern, flush
 * timeout, the max_line_size bound, and the pass-through without a pattern.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "workers/logs/multiline.h"

static struct lline
L(const char *s, uint64_t end)
{
	struct lline l = { (const uint8_t *)s, strlen(s), end, 0 };

	return l;
}

static void
assert_rec(const struct mrec *r, const char *want, uint64_t end)
{
	assert_int_equal(r->len, strlen(want));
	assert_memory_equal(r->p, want, r->len);
	assert_int_equal(r->end_off, end);
}

static void
test_join_stack_trace(void **state)
{
	struct mline_rule rule;
	struct mline m;
	struct mrec r;
	struct lline l;

	(void)state;
	assert_int_equal(mline_rule_init(&rule, "^[0-9]{4}-", 1024, 500), TFO_OK);
	mline_init(&m);
	l = L("2024-01-01 ERROR boom", 22);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	l = L("  at a.b(C.java:1)", 41);
	assert_int_equal(mline_push(&m, &rule, &l, 1, &r), 0);
	l = L("  at d.e(F.java:2)", 60);
	assert_int_equal(mline_push(&m, &rule, &l, 2, &r), 0);
	l = L("2024-01-01 INFO next", 81);
	assert_int_equal(mline_push(&m, &rule, &l, 3, &r), 1);
	assert_rec(&r, "2024-01-01 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)", 60);
	assert_int_equal(r.truncated, 0);
	/* the held start line times out 500 ms after it arrived */
	assert_int_equal(mline_deadline(&m, &rule), 503);
	assert_int_equal(mline_flush(&m, &rule, 502, 0, &r), 0);
	assert_int_equal(mline_flush(&m, &rule, 503, 0, &r), 1);
	assert_rec(&r, "2024-01-01 INFO next", 81);
	assert_int_equal(mline_flush(&m, &rule, 10000, 1, &r), 0);
	assert_int_equal(mline_deadline(&m, &rule), UINT64_MAX);
	mline_fini(&m);
	mline_rule_fini(&rule);
}

static void
test_continuation_first(void **state)
{
	struct mline_rule rule;
	struct mline m;
	struct mrec r;
	struct lline l;

	(void)state;
	assert_int_equal(mline_rule_init(&rule, "^START", 1024, 100), TFO_OK);
	mline_init(&m);
	/* a file that begins mid-record: the orphan lines form their own record */
	l = L("orphan", 7);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	l = L("START x", 15);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 1);
	assert_rec(&r, "orphan", 7);
	assert_int_equal(mline_flush(&m, &rule, 0, 1, &r), 1);
	assert_rec(&r, "START x", 15);
	mline_fini(&m);
	mline_rule_fini(&rule);
}

static void
test_bounded(void **state)
{
	struct mline_rule rule;
	struct mline m;
	struct mrec r;
	struct lline l;
	int n = 0;

	(void)state;
	assert_int_equal(mline_rule_init(&rule, "^S", 16, 100), TFO_OK);
	mline_init(&m);
	l = L("S123456789", 11);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	l = L("abcde", 17);               /* 10 + 1 + 5 = 16: fits */
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	l = L("fgh", 21);                 /* would be 20 > 16: cut here, flagged */
	n = mline_push(&m, &rule, &l, 0, &r);
	assert_int_equal(n, 1);
	assert_rec(&r, "S123456789\nabcde", 17);
	assert_int_equal(r.truncated, 1);
	assert_int_equal(mline_flush(&m, &rule, 0, 1, &r), 1);
	assert_rec(&r, "fgh", 21);
	assert_int_equal(r.truncated, 1);
	mline_fini(&m);
	mline_rule_fini(&rule);
}

static void
test_passthrough_and_bad_regex(void **state)
{
	struct mline_rule rule;
	struct mline m;
	struct mrec r;
	struct lline l = L("anything", 9);

	(void)state;
	assert_int_equal(mline_rule_init(&rule, "(unclosed", 64, 1), TFO_EINVAL);
	assert_int_equal(mline_rule_init(&rule, "", 64, 1), TFO_OK);
	mline_init(&m);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 1);
	assert_rec(&r, "anything", 9);
	assert_int_equal(mline_flush(&m, &rule, 0, 1, &r), 0);
	mline_fini(&m);
	mline_rule_fini(&rule);
}

static void
test_nul_in_line(void **state)
{
	struct mline_rule rule;
	struct mline m;
	struct mrec r;
	struct lline l = { (const uint8_t *)"a\0START", 7, 8, 0 };

	(void)state;
	assert_int_equal(mline_rule_init(&rule, "^START", 64, 1), TFO_OK);
	mline_init(&m);
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	l = (struct lline){ (const uint8_t *)"\0START", 6, 15, 0 };
	/* regexec sees the bytes up to the NUL: not a start, so it is joined */
	assert_int_equal(mline_push(&m, &rule, &l, 0, &r), 0);
	assert_int_equal(mline_flush(&m, &rule, 0, 1, &r), 1);
	assert_int_equal(r.len, 14);
	mline_fini(&m);
	mline_rule_fini(&rule);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_stack_trace),
		cmocka_unit_test(test_continuation_first),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_passthrough_and_bad_regex),
		cmocka_unit_test(test_nul_in_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
