/*
 * test_procfs_pid.c - the /proc/<pid> parsers of common/procfs_pid on
 * recorded (6.18, 2.6.32) and hand-written fixtures: comm with spaces and
 * parentheses, kernel threads, every truncation, garbage, UTF-8 cleaning.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/procfs.h"
#include "common/procfs_pid.h"

#define FIX "tests/fixtures/proc-pid/"

static char *
slurp(const char *rel, size_t *len)
{
	static char buf[65536];
	enum tfo_err e = tfo_procfs_read(".", rel, buf, sizeof(buf), len);

	if (e != TFO_OK)
		fail_msg("cannot read %s: %s", rel, tfo_strerror(e));
	return buf;
}

/* heap - an exact-size copy, so ASan catches any read past the end */
static char *
heap(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

/* ------------------------------------------------------------------ stat */

static void
test_stat_comm_spaces_parens(void **st)
{
	struct tfo_pid_stat s;
	size_t len;
	char *t = slurp(FIX "proc/100/stat", &len);

	(void)st;
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_int_equal(s.pid, 100);
	assert_string_equal(s.comm, "x) (y z");
	assert_int_equal(s.state, 'R');
	assert_int_equal(s.ppid, 1);
	assert_int_equal(s.minflt, 700);
	assert_int_equal(s.majflt, 3);
	assert_int_equal(s.utime, 4000);
	assert_int_equal(s.stime, 1000);
	assert_int_equal(s.num_threads, 4);
	assert_int_equal(s.starttime, 100000);
	assert_int_equal(s.vsize, 500000000);
	assert_int_equal(s.rss, 20000);
	assert_int_equal(s.nfields, 24);
	assert_false(s.flags & TFO_PF_KTHREAD);

	const char *odd[][2] = {
		{ "7 () S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0", "" },
		{ "7 ()) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0", ")" },
		{ "7 (a) R 5) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0", "a) R 5" },
		{ "7 ((() S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0", "((" },
		{ "7 (tab\there) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0", "tab?here" },
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(tfo_procfs_pid_stat(odd[i][0], strlen(odd[i][0]), &s), TFO_OK);
		assert_string_equal(s.comm, odd[i][1]);
		assert_int_equal(s.utime, 1);
		assert_int_equal(s.starttime, 9);
	}
}

static void
test_stat_kernel_threads(void **st)
{
	struct tfo_pid_stat s;
	size_t len;
	char *t = slurp(FIX "proc/2/stat", &len);

	(void)st;
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_string_equal(s.comm, "kthreadd");
	assert_true(s.flags & TFO_PF_KTHREAD);
	assert_int_equal(s.rss, 0);
	/* recorded: a kworker whose name is longer than TASK_COMM_LEN, state I */
	t = slurp(FIX "variants/stat-kworker", &len);
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_true(strncmp(s.comm, "kworker/", 8) == 0);
	assert_true(strlen(s.comm) > 15);
	assert_int_equal(s.state, 'I');
	assert_true(s.flags & TFO_PF_KTHREAD);
	/* a name longer than the buffer is cut, the fields still parse */
	char line[512];
	snprintf(line, sizeof(line), "9 (%0100d) S 2 0 0 0 -1 2129984 0 0 0 0 7 8 0 0 20 0 1 0 3 0 0", 5);
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_OK);
	assert_int_equal(strlen(s.comm), TFO_COMM_MAX - 1);
	assert_int_equal(s.utime, 7);
	assert_int_equal(s.stime, 8);
}

static void
test_stat_zombie_and_old_kernels(void **st)
{
	struct tfo_pid_stat s;
	size_t len;
	char *t = slurp(FIX "proc/200/stat", &len);

	(void)st;
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_int_equal(s.state, 'Z');
	assert_int_equal(s.ppid, 100);
	t = slurp(FIX "variants/stat-2.6.32", &len);
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_int_equal(s.nfields, 24);
	assert_int_equal(s.pid, 1234);
	assert_int_equal(s.utime, 2);
	assert_int_equal(s.stime, 4);
	assert_int_equal(s.starttime, 5123);
	assert_int_equal(s.rss, 474);
	t = slurp(FIX "variants/stat-6.18", &len);
	assert_int_equal(tfo_procfs_pid_stat(t, len, &s), TFO_OK);
	assert_string_equal(s.comm, "cat");
	assert_int_equal(s.nfields, 24);
	/* past rss nothing is read: field 25 on may be anything (the scan of
	 * the 28 fields after it was ~half of the walk's parse) */
	static const char tail[] = "7 (a) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 4096 11 x?";
	assert_int_equal(tfo_procfs_pid_stat(tail, strlen(tail), &s), TFO_OK);
	assert_int_equal(s.vsize, 4096);
	assert_int_equal(s.rss, 11);
}

static void
test_stat_garbage_and_truncation(void **st)
{
	static const char *bad[] = {
		"", "x", "12", "12 ", "12 (", "12 (abc", "12 (abc)", "12 (abc) ", "12 abc) S",
		"-1 (a) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0",
		"99999999999999999999 (a) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0",
		"7 (a) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0",       /* 23 fields */
		"7 (a) S 1 1 1 0 -1 0 0 0 0 0 1x 2 0 0 20 0 1 0 9 0 0",    /* 1x */
		"7 (a)S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0",
	};
	struct tfo_pid_stat s;
	size_t len;
	char *t = slurp(FIX "proc/100/stat", &len), *copy = heap(t, len);

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *h = heap(bad[i], strlen(bad[i]));
		assert_int_equal(tfo_procfs_pid_stat(h, strlen(bad[i]), &s), TFO_EINVAL);
		free(h);
	}
	/* every prefix: refused, or accepted only with the 24 required fields */
	for (size_t n = 0; n <= len; n++) {
		char *h = heap(copy, n);
		if (tfo_procfs_pid_stat(h, n, &s) == TFO_OK)
			assert_true(s.nfields >= 24 && s.pid == 100);
		free(h);
	}
	free(copy);
}

/* test_stat_number_edges - each field read in full whatever its length:
 * 19 digits, UINT64_MAX (20), one more refused; negatives wrap; a comm with
 * bytes outside printable ASCII cleaned and cut on a character boundary */
static void
test_stat_number_edges(void **st)
{
	struct tfo_pid_stat s;
	char line[600];

	(void)st;
	snprintf(line, sizeof(line), "7 (a) S 1 1 1 0 -1 0 0 0 0 0 %s %s 0 0 20 0 1 0 %s 0 0\n",
	    "9999999999999999999", "18446744073709551615", "0000000000000000000000042");
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_OK);
	assert_true(s.utime == 9999999999999999999ull);
	assert_true(s.stime == UINT64_MAX);
	assert_int_equal(s.starttime, 42);     /* leading zeros: 25 digits */
	snprintf(line, sizeof(line), "7 (a) S 1 1 1 0 -1 0 0 0 0 0 1 %s 0 0 20 0 1 0 9 0 0\n",
	    "18446744073709551616");
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_EINVAL);
	snprintf(line, sizeof(line), "7 (a) S -5 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 -3\n");
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_OK);
	assert_int_equal(s.ppid, -5);
	assert_int_equal(s.rss, 0);             /* negative rss: none */
	snprintf(line, sizeof(line), "7 (caf\xc3\xa9\x01 \xff) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 "
	    "9 0 0\n");
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_OK);
	assert_string_equal(s.comm, "caf\xc3\xa9? ?");
	/* 62 ASCII bytes then a 2-byte character: cut before it, not inside */
	snprintf(line, sizeof(line), "7 (%062d\xc3\xa9) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 0\n",
	    0);
	assert_int_equal(tfo_procfs_pid_stat(line, strlen(line), &s), TFO_OK);
	assert_int_equal(strlen(s.comm), 62);
}

/* ---------------------------------------------------------------- status */

static void
test_status(void **st)
{
	struct tfo_pid_status s;
	size_t len;
	char *t = slurp(FIX "proc/400/status", &len);

	(void)st;
	assert_int_equal(tfo_procfs_pid_status(t, len, &s), TFO_OK);
	assert_int_equal(s.uid[TFO_ID_REAL], 65534);
	assert_int_equal(s.uid[TFO_ID_EFFECTIVE], 65534);
	assert_int_equal(s.gid[TFO_ID_FS], 65534);
	assert_int_equal(s.threads, 1);
	assert_int_equal(s.vol_ctxt, 2);
	assert_int_equal(s.nonvol_ctxt, 0);
	assert_int_equal(s.ppid, 1);
	assert_int_equal(s.have & TFO_PST_KTHREAD, TFO_PST_KTHREAD);
	assert_int_equal(s.kthread, 0);
	t = slurp(FIX "proc/2/status", &len);
	assert_int_equal(tfo_procfs_pid_status(t, len, &s), TFO_OK);
	assert_int_equal(s.kthread, 1);
	t = slurp(FIX "variants/status-2.6.32", &len);
	assert_int_equal(tfo_procfs_pid_status(t, len, &s), TFO_OK);
	assert_int_equal(s.uid[TFO_ID_EFFECTIVE], 500);
	assert_int_equal(s.vol_ctxt, 150);
	assert_int_equal(s.nonvol_ctxt, 12);
	assert_false(s.have & TFO_PST_KTHREAD);
	t = slurp(FIX "variants/status-6.18", &len);
	assert_int_equal(tfo_procfs_pid_status(t, len, &s), TFO_OK);
	assert_int_equal(s.have & (TFO_PST_VCTX | TFO_PST_NVCTX), TFO_PST_VCTX | TFO_PST_NVCTX);
}

static void
test_status_hostile(void **st)
{
	/* a comm that looks like a Uid line is never taken for one */
	static const char evil[] = "Name:\tUid: 0 0 0 0\nUid:\t1000\t1001\t1002\t1003\n";
	static const char two[] = "Uid:\t7\t8\n";
	static const char cut[] = "Uid:\t1000\t1000\t1000\t1000\nThreads:\t12";
	static const char none[] = "Name:\tx\nThreads:\t3\n";
	static const char big[] = "Uid:\t4294967296\t0\t0\t0\n";
	/* keys after blanks are keys; lines passed over by their first letter
	 * never hide the next one */
	static const char blank[] = "VmRSS:\t5 kB\n \tThreads:\t4\nSigQ:\t0/1\nUid:\t1\n";
	struct tfo_pid_status s;
	size_t len;
	char *t = slurp(FIX "proc/100/status", &len), *copy = heap(t, len);

	(void)st;
	assert_int_equal(tfo_procfs_pid_status(evil, sizeof(evil) - 1, &s), TFO_OK);
	assert_int_equal(s.uid[TFO_ID_REAL], 1000);
	assert_int_equal(s.uid[TFO_ID_EFFECTIVE], 1001);
	assert_int_equal(s.uid[TFO_ID_SAVED], 1002);
	assert_int_equal(s.uid[TFO_ID_FS], 1003);
	assert_int_equal(tfo_procfs_pid_status(two, sizeof(two) - 1, &s), TFO_OK);
	assert_int_equal(s.uid[TFO_ID_EFFECTIVE], 8);
	assert_int_equal(s.uid[TFO_ID_FS], 8);
	assert_int_equal(tfo_procfs_pid_status(none, sizeof(none) - 1, &s), TFO_EINVAL);
	assert_int_equal(tfo_procfs_pid_status(cut, sizeof(cut) - 1, &s), TFO_OK);
	assert_false(s.have & TFO_PST_THREADS);     /* "12" may be "120" cut */
	assert_int_equal(tfo_procfs_pid_status(big, sizeof(big) - 1, &s), TFO_EINVAL);
	assert_int_equal(tfo_procfs_pid_status(blank, sizeof(blank) - 1, &s), TFO_OK);
	assert_int_equal(s.threads, 4);
	assert_int_equal(s.uid[TFO_ID_REAL], 1);
	for (size_t n = 0; n <= len; n++) {
		char *h = heap(copy, n);
		if (tfo_procfs_pid_status(h, n, &s) == TFO_OK)
			assert_int_equal(s.uid[TFO_ID_REAL], 1000);
		free(h);
	}
	free(copy);
}

/* -------------------------------------------------------------------- io */

static void
test_io(void **st)
{
	static const char partial[] = "rchar: 1\nread_bytes: 2\n";
	static const char cut[] = "read_bytes: 2\nwrite_bytes: 3";
	static const char junk[] = "rchar: x\nread_bytes: 2\nwrite_bytes: 3 4\nwrite_bytes: 5\n";
	struct tfo_pid_io io;
	size_t len;
	char *t = slurp(FIX "proc/1/io", &len), *copy;

	(void)st;
	assert_int_equal(tfo_procfs_pid_io(t, len, &io), TFO_OK);
	assert_int_equal(io.rchar, 900000);
	assert_int_equal(io.wchar, 800000);
	assert_int_equal(io.syscr, 10);
	assert_int_equal(io.syscw, 5);
	assert_int_equal(io.read_bytes, 123456789);
	assert_int_equal(io.write_bytes, 987654321);
	assert_int_equal(io.have, 0x7f);
	assert_int_equal(tfo_procfs_pid_io(partial, sizeof(partial) - 1, &io), TFO_EINVAL);
	assert_int_equal(tfo_procfs_pid_io(cut, sizeof(cut) - 1, &io), TFO_EINVAL);
	assert_int_equal(tfo_procfs_pid_io(junk, sizeof(junk) - 1, &io), TFO_OK);
	assert_false(io.have & TFO_PIO_RCHAR);
	assert_int_equal(io.write_bytes, 5);
	t = slurp(FIX "variants/io-6.18", &len);
	copy = heap(t, len);
	for (size_t n = 0; n <= len; n++) {
		char *h = heap(copy, n);
		(void)tfo_procfs_pid_io(h, n, &io);
		free(h);
	}
	free(copy);
}

/* --------------------------------------------------------------- cmdline */

static void
test_cmdline(void **st)
{
	struct tfo_pid_cmdline ci;
	char out[64], small[12];
	size_t len;
	char *t = slurp(FIX "proc/100/cmdline", &len);

	(void)st;
	tfo_procfs_pid_cmdline(t, len, out, sizeof(out), &ci);
	assert_string_equal(out, "/opt/app/weird --password=hunter2 --user bob --token s3cr?et");
	assert_int_equal(ci.argc, 6);
	assert_int_equal(ci.argv0_len, 14);
	assert_false(ci.truncated);
	assert_int_equal(ci.len, strlen(out));
	tfo_procfs_pid_cmdline(t, len, small, sizeof(small), &ci);
	assert_string_equal(small, "/opt/app/we");
	assert_true(ci.truncated);
	assert_int_equal(ci.argv0_len, 11);
	assert_int_equal(ci.argc, 6);
	/* kernel thread / zombie: empty */
	tfo_procfs_pid_cmdline("", 0, out, sizeof(out), &ci);
	assert_string_equal(out, "");
	assert_int_equal(ci.argc, 0);
	/* setproctitle: one string with spaces, no NUL; empty arguments kept */
	tfo_procfs_pid_cmdline("nginx: worker process", 21, out, sizeof(out), &ci);
	assert_string_equal(out, "nginx: worker process");
	assert_int_equal(ci.argv0_len, 21);
	tfo_procfs_pid_cmdline("a\0\0b\0", 5, out, sizeof(out), &ci);
	assert_string_equal(out, "a  b");
	/* a cut never splits a UTF-8 character: "é" is 2 bytes */
	tfo_procfs_pid_cmdline("ab\xc3\xa9", 4, out, 4, &ci);
	assert_string_equal(out, "ab");
	assert_true(ci.truncated);
}

static void
test_cgroup_and_clean(void **st)
{
	static const struct { const char *in; const char *out; } clean[] = {
		{ "plain", "plain" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\xe2\x82\xac\xf0\x9f\x98\x80" },
		{ "\xc0\x80", "??" },                   /* overlong NUL */
		{ "\xed\xa0\x80", "???" },              /* surrogate */
		{ "\xf5\x80\x80\x80", "????" },         /* past U+10FFFF */
		{ "a\xe2\x82", "a??" },                 /* truncated sequence */
		{ "bell\a\x7f", "bell??" },
		{ "\xff\xfe", "??" },
	};
	char buf[256];
	size_t len;
	char *t = slurp(FIX "proc/100/cgroup", &len);

	(void)st;
	tfo_procfs_pid_cgroup(t, len, buf, sizeof(buf));
	assert_string_equal(buf, "12:pids:/user.slice\n1:name=systemd:/user.slice/session-3.scope\n"
	    "0::/user.slice/session-3.scope");
	tfo_procfs_pid_cgroup("0::/a\x01\n", 7, buf, sizeof(buf));
	assert_string_equal(buf, "0::/a?");
	tfo_procfs_pid_cgroup("0::/abcdef\n", 11, buf, 6);
	assert_string_equal(buf, "0::/a");
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", clean[i].in);
		tfo_procfs_text_clean(buf, strlen(buf), 0);
		assert_string_equal(buf, clean[i].out);
	}
	assert_int_equal(tfo_procfs_utf8_cut("ab\xe2\x82\xac", 4), 2);
	assert_int_equal(tfo_procfs_utf8_cut("ab\xe2\x82\xac", 3), 2);
	assert_int_equal(tfo_procfs_utf8_cut("a\xff\xfe", 2), 2);     /* invalid: 1 byte each */
	assert_int_equal(tfo_procfs_utf8_cut("a\xe2\x28\xa1", 3), 3);
	assert_int_equal(tfo_procfs_utf8_cut("ab\xe2\x82\xac", 5), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_comm_spaces_parens),
		cmocka_unit_test(test_stat_kernel_threads),
		cmocka_unit_test(test_stat_zombie_and_old_kernels),
		cmocka_unit_test(test_stat_garbage_and_truncation),
		cmocka_unit_test(test_stat_number_edges),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_hostile),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_cgroup_and_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
