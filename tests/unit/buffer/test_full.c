/*
 * test_full.c - the buffer store at a full disk: a batch whose deletion could
 * not be written is never offered again and the deletion is retried; a put
 * whose write failed is not half-kept (its resend is stored, once); a write
 * failing for room releases the reserve and heals by reopening the store in
 * place (LevelDB's sticky background error); at the filesystem's bound the
 * oldest is dropped (counted as "disk") and the newest taken, and a held-back
 * put says why. Writes fail on request (opts.write_fault): LevelDB's C API has
 * no fault-injecting environment; tests/integration/e2e/test_diskfull.py does
 * it for real on a small tmpfs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/buffer/helpers.h"

#define SIG_M TFO__V1__SIGNAL__SIGNAL_METRICS
#define ENOSPC_LOG "IO error: /x/queue/000012.log: No space left on device"
#define ENOSPC_TABLE "IO error: /x/queue/000013.ldb: No space left on device"

uint64_t store_disk_usage(const char *path);   /* store_int.h */

static const char *fault;      /* what writes fail with, NULL = they work */
static int faults_left;        /* how many more writes fail */

static const char *
fake_fault(void *arg)
{
	(void)arg;
	if (fault == NULL || faults_left == 0)
		return NULL;
	faults_left--;
	return fault;
}

/* the filesystem: `room` bytes for the store's files and the free space together */
struct fakefs {
	const char *path;
	uint64_t room, total;
};

static int
fake_statfs(void *arg, uint64_t *free, uint64_t *total)
{
	struct fakefs *fs = arg;
	uint64_t used = store_disk_usage(fs->path);

	*free = fs->room > used ? fs->room - used : 0;
	*total = fs->total;
	return 0;
}

static void
reopen_with(struct fix *f)
{
	fix_close(f);
	f->o.write_fault = fake_fault;
	fix_open(f);
}

/* on_fakefs - the store reopened on fs (its statfs hook) */
static void
on_fakefs(struct fix *f, struct fakefs *fs)
{
	fs->path = f->path;
	f->o.statfs = fake_statfs;
	f->o.statfs_arg = fs;
	reopen_with(f);
}

static int
fs_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static enum tfo_err
commit(struct fix *f)
{
	char err[256];

	return tfo_store_commit(f->st, err, sizeof(err));
}

/* fetch_n - the next batch's entry count, 0 when nothing is offered */
static size_t
fetch_n(struct fix *f, uint64_t *id)
{
	struct tfo_store_batch b;
	size_t n;

	if (tfo_store_fetch(f->st, SIG_M, 1u << 20, &b) != TFO_OK)
		return 0;
	n = b.n;
	*id = b.id;
	tfo_store_batch_free(&b);
	return n;
}

/* An ack whose deletion fails to be written: not offered again, retried. */
static void
test_failed_ack_not_reoffered(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	uint64_t id = 0, id2 = 0;

	(void)state;
	fix_init(&f, 0, 0);
	reopen_with(&f);
	for (uint64_t i = 1; i <= 3; i++)
		assert_int_equal(put_str(&f, SIG_M, 5, i, "x"), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(fetch_n(&f, &id), 3);
	fault = ENOSPC_LOG;
	faults_left = 100;
	assert_int_equal(tfo_store_ack(f.st, id), TFO_OK);
	assert_int_equal(commit(&f), TFO_EIO);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.failing, 1);
	assert_non_null(strstr(s.last_error, "No space left"));
	/* delivered: never offered again, not even after the exporter left */
	tfo_store_reoffer_all(f.st);
	assert_int_equal(fetch_n(&f, &id2), 0);
	assert_int_equal(commit(&f), TFO_EAGAIN);      /* the retry is not due yet */
	faults_left = 0;
	sleep_ms(150);                                 /* the first backoff: 100 ms */
	assert_int_equal(commit(&f), TFO_OK);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.failing, 0);
	assert_true(s.reopens >= 1);                   /* reopened before writing again */
	assert_int_equal(s.entries[SIG_M], 0);
	fix_close(&f);
	fix_open(&f);                                  /* the deletion is on disk */
	assert_int_equal(fetch_n(&f, &id2), 0);
	fix_fini(&f);
	fault = NULL;
}

/* A put whose write failed: not acknowledged, not kept; its resend is stored once. */
static void
test_failed_put_unstaged(void **state)
{
	struct fix f;
	struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = 4, .signal = SIG_M,
		.payload = "four", .len = 4, .points = 1 };
	const char *why;
	uint64_t id = 0;

	(void)state;
	fix_init(&f, 0, 0);
	reopen_with(&f);
	for (uint64_t i = 1; i <= 3; i++)
		assert_int_equal(put_str(&f, SIG_M, 5, i, "x"), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	fault = ENOSPC_LOG;
	faults_left = 1;
	assert_int_equal(commit(&f), TFO_EIO);
	/* while the retry is not due, puts are Busy and say why */
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_BUSY);
	assert_non_null(strstr(why, "disk full at "));      /* the cause, for its log */
	sleep_ms(150);
	/* the resend is a new put (the dedupe table rolled back), stored once */
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_DUP);
	assert_int_equal(commit(&f), TFO_OK);
	fix_close(&f);
	fix_open(&f);
	assert_int_equal(fetch_n(&f, &id), 4);
	fix_fini(&f);
	fault = NULL;
}

/*
 * A put whose write failed after it made room at the bound from its role's
 * oldest entry above the head (the head is another role's): the put is taken
 * back, the eviction is kept and written like the drops at the head, so the
 * entry never comes back (a reopen would find it on disk, counted gone).
 */
static void
test_failed_put_keeps_eviction(void **state)
{
	enum { E = TFO_STORE_KEYLEN + TFO_STORE_HDR + 8 };
	struct fix f;
	struct tfo_store_stats s;
	static char got[8][64];

	(void)state;
	fix_init(&f, 4 * E, 0);
	reopen_with(&f);
	assert_int_equal(put_as(&f, SIG_M, 2, 6, 1, "p0000000"), TFO_PUT_STAGED);
	assert_int_equal(put_as(&f, SIG_M, 1, 5, 1, "s0000000"), TFO_PUT_STAGED);
	assert_int_equal(put_as(&f, SIG_M, 1, 5, 2, "s0000001"), TFO_PUT_STAGED);
	assert_int_equal(put_as(&f, SIG_M, 1, 5, 3, "s0000002"), TFO_PUT_STAGED);
	commit_ok(&f);
	assert_int_equal(put_as(&f, SIG_M, 1, 5, 4, "s0000003"), TFO_PUT_STAGED);  /* s0 goes */
	fault = ENOSPC_LOG;
	faults_left = 1;
	assert_int_equal(commit(&f), TFO_EIO);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 3);
	assert_int_equal(s.role_bytes[1], 2 * E);
	assert_int_equal(s.role_drops[1], 1);
	fix_close(&f);
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 3);
	assert_int_equal(s.role_bytes[1], 2 * E);
	assert_int_equal(s.role_bytes[2], E);
	assert_int_equal(drain(&f, SIG_M, got, 8), 3);
	assert_string_equal(got[0], "p0000000");
	assert_string_equal(got[1], "s0000001");
	assert_string_equal(got[2], "s0000002");
	fix_fini(&f);
	fault = NULL;
}

/* A group of puts alone fails: nothing is left to write, yet the store is
 * reopened by the timer (the code before left it to the next put, and a
 * store whose reopen failed was never tried again: Busy for good). */
static void
test_failed_puts_alone_heal(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	const char *why;
	struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = 1, .signal = SIG_M,
		.payload = "one", .len = 3, .points = 1 };

	(void)state;
	fix_init(&f, 0, 0);
	reopen_with(&f);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	fault = ENOSPC_TABLE;
	faults_left = 1;
	assert_int_equal(commit(&f), TFO_EIO);
	assert_int_equal(tfo_store_pending(f.st), 0);  /* taken back whole */
	assert_true(tfo_store_retry_ms(f.st) >= 0);    /* the timer is armed */
	assert_int_equal(commit(&f), TFO_EAGAIN);
	sleep_ms(150);
	assert_int_equal(commit(&f), TFO_OK);          /* the timer: reopened */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.reopens, 1);
	assert_int_equal(s.failing, 0);
	assert_int_equal(tfo_store_retry_ms(f.st), -1);
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	commit_ok(&f);
	fix_fini(&f);
	fault = NULL;
}

/* A table write's error (LevelDB keeps it and fails every write): the reserve
 * released, the store reopened in place, the queue intact. */
static void
test_sticky_error_healed(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	/* room runs low (the reserve is held below 16 of it free) */
	struct fakefs fs = { .room = 20u << 20, .total = 16u << 20 };
	char reserve[300], orphan[320];
	struct stat sb;
	uint64_t id = 0;

	(void)state;
	fix_init(&f, 0, 0);
	snprintf(reserve, sizeof(reserve), "%s/reserve", f.dir);
	f.o.reserve_path = reserve;
	on_fakefs(&f, &fs);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.reserve_held, 1);
	assert_int_equal(stat(reserve, &sb), 0);
	for (uint64_t i = 1; i <= 5; i++)
		assert_int_equal(put_str(&f, SIG_M, 5, i, "x"), TFO_PUT_STAGED);
	commit_ok(&f);
	tfo_store_compact(f.st);                   /* the entries in a live table */
	/* what a flush that failed for room leaves: a table no version holds */
	snprintf(orphan, sizeof(orphan), "%s/999999.ldb", f.path);
	assert_int_equal(fs_write_file(orphan, "torn table"), 0);
	assert_int_equal(put_str(&f, SIG_M, 5, 6, "y"), TFO_PUT_STAGED);
	fault = ENOSPC_TABLE;
	faults_left = 1;
	assert_int_equal(commit(&f), TFO_EIO);     /* the put answered Busy, resent */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.sticky_errors, 1);
	assert_int_equal(s.reserve_held, 0);
	assert_int_equal(s.reserve_releases, 1);
	assert_true(stat(reserve, &sb) != 0);
	sleep_ms(150);
	assert_int_equal(put_str(&f, SIG_M, 5, 6, "y"), TFO_PUT_STAGED);
	assert_int_equal(commit(&f), TFO_OK);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.reopens, 1);
	assert_int_equal(s.failing, 0);
	/* the orphan went before the reopen (it might leave no room to open);
	 * the live tables stayed */
	assert_int_equal(s.orphans_removed, 1);
	assert_true(stat(orphan, &sb) != 0);
	assert_int_equal(fetch_n(&f, &id), 6);     /* nothing lost, nothing twice */
	tfo_store_maintain(f.st);                  /* room again: the reserve back */
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.reserve_held, 1);
	fix_fini(&f);
	fault = NULL;
}

/* At the filesystem's bound the oldest go (counted "disk"), the newest are
 * taken; a put that may not drop is held back and says where the disk is full. */
static void
test_fs_bound_drops_oldest(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	/* 16 MiB: a 256 KiB memtable; the bound is (room - 1 MiB - 6 memtables) / 2 */
	struct fakefs fs = { .room = (5u << 19) + (80u << 10), .total = 16u << 20 };
	uint8_t pay[1024];
	struct tfo_store_batch b;
	const char *why;
	uint64_t last = 0, n = 0;

	(void)state;
	fix_init(&f, 0, 0);
	on_fakefs(&f, &fs);
	srandom(3);
	for (uint64_t i = 1; i <= 100; i++) {
		for (size_t k = 0; k < sizeof(pay); k++)
			pay[k] = (uint8_t)random();     /* incompressible: stored as it is */
		struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = i, .signal = SIG_M,
			.payload = pay, .len = sizeof(pay), .points = 1 };
		assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
		if (i % 10 == 0)
			commit_ok(&f);
		tfo_store_get_stats(f.st, &s);
		assert_true(s.bytes[SIG_M] <= (40u << 10));
	}
	tfo_store_get_stats(f.st, &s);
	assert_true(s.drops[SIG_M][TFO_DROP_DISK] >= 55);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 0);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_DISK] + s.entries[SIG_M], 100);
	assert_non_null(strstr(s.status, "disk full at "));
	assert_non_null(strstr(s.status, f.dir));
	assert_non_null(strstr(s.status, "MiB free), dropping oldest"));
	/* what the drops held is counted: one point a put, none of it in flight */
	assert_int_equal(s.drop_points[SIG_M], s.drops[SIG_M][TFO_DROP_DISK]);
	assert_int_equal(s.drop_points_in_flight[SIG_M], 0);
	last = s.drops[SIG_M][TFO_DROP_DISK];
	/* a put that waits at max_size_mb (tfo-logs) is taken at the filesystem's
	 * bound while older data can make room for it: the oldest go */
	struct tfo_store_put lp = { .role = 3, .incarnation = 9, .seq = 1, .signal = SIG_M,
		.payload = pay, .len = sizeof(pay), .points = 1, .block_when_full = 1 };
	assert_int_equal(tfo_store_put(f.st, &lp, &why), TFO_PUT_STAGED);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_true(s.drops[SIG_M][TFO_DROP_DISK] > last);
	last = s.drops[SIG_M][TFO_DROP_DISK];
	/* what is kept is the newest, in order, and the last put is there */
	while (tfo_store_fetch(f.st, SIG_M, 1u << 20, &b) == TFO_OK) {
		n += b.n;
		assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
		commit_ok(&f);
	}
	assert_int_equal(n, 101 - last);
	/* room for less than one put: refused with the cause, nothing dropped for it */
	fs.room = (5u << 19) + 1024;
	sleep_ms(250);                         /* the filesystem is read every 200 ms */
	for (uint64_t i = 2; i <= 3; i++) {
		struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = 100 + i,
			.signal = SIG_M, .payload = pay, .len = 100, .points = 1 };
		assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
	}
	commit_ok(&f);
	lp.seq = 2;
	assert_int_equal(tfo_store_put(f.st, &lp, &why), TFO_PUT_BUSY);
	assert_non_null(strstr(why, "disk full at "));
	lp.block_when_full = 0;
	assert_int_equal(tfo_store_put(f.st, &lp, &why), TFO_PUT_BUSY);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_DISK], last);
	assert_int_equal(s.entries[SIG_M], 2);
	fix_fini(&f);
}

/* stats_scans - the store's directory walks so far */
static uint64_t
stats_scans(struct fix *f)
{
	struct tfo_store_stats s;

	tfo_store_get_stats(f->st, &s);
	return s.disk_scans;
}

/* put_one - one incompressible 1 KiB metrics put, committed; its answer */
static enum tfo_put_result
put_one(struct fix *f, uint64_t seq, const char **why)
{
	uint8_t pay[1024];
	struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = seq, .signal = SIG_M,
		.payload = pay, .len = sizeof(pay), .points = 1, .block_when_full = 1 };
	enum tfo_put_result r;

	for (size_t k = 0; k < sizeof(pay); k++)
		pay[k] = (uint8_t)random();
	r = tfo_store_put(f->st, &p, why);
	if (r == TFO_PUT_STAGED)
		commit_ok(f);
	return r;
}

/* Far from full the store's files are not summed at every refresh (an idle
 * buffer walked its directory 13 times a minute), yet the free space is read
 * at each: another writer taking the disk makes the next put Busy, and room
 * given back takes puts again, each within the 200 ms of a refresh. */
/* far_start - f on a fake filesystem of 64 GiB with 8 GiB free (a 32 MiB
 * memtable, a 65 MiB reserve: far from full), one put made (seq 1); the
 * walks so far, the stats' own among them (at most one a minute) */
static uint64_t
far_start(struct fix *f, struct fakefs *fs, unsigned seed)
{
	const char *why;

	*fs = (struct fakefs){ .room = 8ull << 30, .total = 64ull << 30 };
	fix_init(f, 0, 0);
	on_fakefs(f, fs);
	srandom(seed);
	sleep_ms(250);
	assert_int_equal(put_one(f, 1, &why), TFO_PUT_STAGED);
	return stats_scans(f);
}

static void
test_far_from_full_no_walk(void **state)
{
	struct fix f;
	struct fakefs fs;
	const char *why;
	uint64_t walks, seq = 1;

	(void)state;
	walks = far_start(&f, &fs, 5);
	for (int i = 0; i < 3; i++) {
		sleep_ms(250);
		assert_int_equal(put_one(&f, ++seq, &why), TFO_PUT_STAGED);
	}
	assert_int_equal(stats_scans(&f), walks);
	/* another writer takes all but a few KiB: the next refresh sees it */
	fs.room = store_disk_usage(f.path) + 4096;
	sleep_ms(250);
	assert_int_equal(put_one(&f, ++seq, &why), TFO_PUT_BUSY);
	assert_non_null(strstr(why, "disk full at "));
	assert_true(stats_scans(&f) > walks);   /* low on room: walked at each refresh */
	/* and gives it back */
	fs.room = 8ull << 30;
	sleep_ms(250);
	assert_int_equal(put_one(&f, ++seq, &why), TFO_PUT_STAGED);
	fix_fini(&f);
}

/* Far from full, another writer moving the free space (a build, a log
 * rotation: 64 MiB, two memtables, at every refresh) does not make the store
 * walk its directory: our own files did not change (issue 18 §3: an idle
 * buffer on a busy host walked it up to 6 times a minute). Near full it does
 * at every refresh, as before (test_far_from_full_no_walk). Old code: a walk
 * per put here (6 walks, 2 now). */
static void
test_other_writer_no_walk(void **state)
{
	struct fix f;
	struct fakefs fs;
	const char *why;
	uint64_t walks, seq = 1;

	(void)state;
	walks = far_start(&f, &fs, 7);
	for (int i = 0; i < 4; i++) {
		if (i % 2)
			fs.room -= 64ull << 20;
		else
			fs.room += 64ull << 20;
		sleep_ms(250);
		assert_int_equal(put_one(&f, ++seq, &why), TFO_PUT_STAGED);
	}
	assert_int_equal(stats_scans(&f), walks);
	fix_fini(&f);
}

/* Drops count what they held, compressed entries too (the points word of a
 * compressed value carries a flag bit: 2^31 "points" before the fix). */
static void
test_drop_points(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	char pay[2048];
	const char *why;

	(void)state;
	memset(pay, 'a', sizeof(pay) - 1);
	pay[sizeof(pay) - 1] = '\0';
	fix_init(&f, 2200, 0);       /* a put may not be larger than the buffer, raw */
	for (uint64_t i = 1; i <= 80; i++) {
		struct tfo_store_put p = { .role = 1, .incarnation = 5, .seq = i, .signal = SIG_M,
			.payload = pay, .len = strlen(pay), .points = 7 };
		assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_STAGED);
		commit_ok(&f);
	}
	tfo_store_get_stats(f.st, &s);
	assert_true(s.lz4_stored > 0 && s.lz4_stored < s.lz4_raw);   /* compressed */
	assert_true(s.drops[SIG_M][TFO_DROP_SIZE] > 0);
	assert_int_equal(s.drop_points[SIG_M], 7 * s.drops[SIG_M][TFO_DROP_SIZE]);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE] + s.entries[SIG_M], 80);
	fix_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_ack_not_reoffered),
		cmocka_unit_test(test_failed_put_unstaged),
		cmocka_unit_test(test_failed_put_keeps_eviction),
		cmocka_unit_test(test_failed_puts_alone_heal),
		cmocka_unit_test(test_sticky_error_healed),
		cmocka_unit_test(test_fs_bound_drops_oldest),
		cmocka_unit_test(test_far_from_full_no_walk),
		cmocka_unit_test(test_other_writer_no_walk),
		cmocka_unit_test(test_drop_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
