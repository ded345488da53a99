/*
 * test_format.c - the buffer store's format version: a format-1 store (a
 * fixture written by the code before formats were numbered) opens with
 * nothing lost; a newer or unreadable format is refused with one line naming
 * both, and left as it is, never moved aside as corrupt; batch ids never
 * repeat across opens, whatever the clock does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <leveldb/c.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/unit/buffer/helpers.h"

#define FIXTURE "tests/fixtures/buffer/store-v1"
#define FIXTURE_V2 "tests/fixtures/buffer/store-v2"
#define SIG_M 1
#define SIG_L 2

/* ------------------------------------------------------------------ fixture data */

/* text - "<what> entry <i>; " repeated to len bytes (gen_store_v1.c.txt) */
static void
text(char *buf, size_t len, const char *what, int i)
{
	size_t n = 0;

	while (n < len) {
		int k = snprintf(buf + n, len - n + 1, "%s entry %02d; ", what, i);
		assert_true(k > 0);
		n += (size_t)k;
	}
	buf[len] = '\0';
}

static size_t
mlen(int i)
{
	return i == 5 ? 4096 : i == 7 ? 2000 : 20 + (size_t)i;
}

static void
metric(char *buf, int i)
{
	if (i != 7) {
		text(buf, mlen(i), "metrics", i);
		return;
	}
	uint32_t x = 2463534242u;
	for (size_t k = 0; k < mlen(i); k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[k] = (char)(x & 0xff);
	}
}

static void
copy_from(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char from[512], to[512], buf[65536];

	assert_non_null(d);
	assert_int_equal(mkdir(dst, 0700), 0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, de->d_name);
		FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
		assert_non_null(in);
		assert_non_null(out);
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
		fclose(out);
	}
	closedir(d);
}

static void
copy_fixture(const char *dst)
{
	copy_from(FIXTURE, dst);
}

/* fix_empty - a fixture whose store directory does not exist yet */
static void
fix_empty(struct fix *f)
{
	fix_init(f, 0, 0);
	fix_close(f);
	rm_rf(f->path);
}

/* expect_signal - drain signal s: entries first..last, each as want(i) */
static void
expect_signal(struct fix *f, uint32_t s, int first, int last)
{
	struct tfo_store_batch b;
	static char want[8192];
	int i = first;

	while (tfo_store_fetch(f->st, s, 1u << 20, &b) == TFO_OK) {
		size_t bad;
		assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
		assert_int_equal(bad, 0);
		for (size_t k = 0; k < b.n; k++, i++) {
			size_t len = s == SIG_M ? mlen(i) : 3000;
			if (s == SIG_M)
				metric(want, i);
			else
				text(want, len, "log", i);
			assert_int_equal(b.len[k], len);
			assert_memory_equal(b.data[k], want, len);
		}
		assert_int_equal(tfo_store_ack(f->st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
		commit_ok(f);
	}
	assert_int_equal(i, last + 1);
}

/* ------------------------------------------------------------------ tests */

/* A format-1 store opens with its queue, checkpoints and dedupe table. */
static void
test_format_v1_opens(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	Tfo__V1__Checkpoint **cps;
	size_t n;

	(void)state;
	fix_empty(&f);
	copy_fixture(f.path);
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.format_opened, 1);
	assert_int_equal(s.quarantines, 0);
	assert_int_equal(s.entries[SIG_M], 12);
	assert_int_equal(s.entries[SIG_L], 6);
	/* the dedupe table: the last puts are resends, the next are new */
	assert_int_equal(put_str(&f, SIG_M, 5, 15, "again"), TFO_PUT_DUP);
	struct tfo_store_put p = { .role = 3, .incarnation = 9, .seq = 6, .signal = SIG_L,
		.payload = "again", .len = 5, .points = 1 };
	const char *why;
	assert_int_equal(tfo_store_put(f.st, &p, &why), TFO_PUT_DUP);
	assert_int_equal(tfo_store_checkpoints(f.st, 3, 16, &cps, &n), TFO_OK);
	assert_int_equal(n, 1);
	assert_string_equal(cps[0]->file_id, "dev:ino:1");
	assert_int_equal(cps[0]->offset, 600);
	tfo_store_checkpoints_free(cps, n);
	fix_close(&f);
	/* migrated: format 2 from now on, the content unchanged */
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.format_opened, TFO_STORE_FORMAT);
	expect_signal(&f, SIG_M, 4, 15);
	expect_signal(&f, SIG_L, 1, 6);
	char big[40];
	snprintf(big, sizeof(big), "metrics entry 16");
	assert_int_equal(put_str(&f, SIG_M, 5, 16, big), TFO_PUT_STAGED);
	commit_ok(&f);
	fix_fini(&f);
}

/* v2_payload - entry i of role (1 system, 2 process) of store-v2 (gen_store_v2.c.txt) */
static size_t
v2_payload(char *buf, int role, int i)
{
	size_t len = role == 1 ? (i == 5 ? 4096 : 30 + (size_t)i) : (i == 3 ? 2000 : 1500);

	if (role == 2 && i == 3) {
		uint32_t x = 2463534242u;
		for (size_t k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[k] = (char)(x & 0xff);
		}
	} else
		text(buf, len, role == 1 ? "system" : "process", i);
	return len;
}

/*
 * A format-2 store (written by the code before the bound was shared per
 * role: its values carry no role) opens with nothing lost: its entries count
 * as put by no known role ("unattributed"), in order, with their points; the
 * dedupe table and checkpoints as they were; format 3 from the next open. At
 * the bound such entries are shared as one more role's, oldest first: a new
 * put of tfo-process makes room from them, not from its own.
 */
static void
test_format_v2_opens(void **state)
{
	/* the order of store-v2's metrics after s1 s2 were delivered */
	static const int want[][2] = { { 2, 1 }, { 1, 3 }, { 1, 4 }, { 2, 2 }, { 1, 5 },
		{ 1, 6 }, { 2, 3 }, { 1, 7 }, { 1, 8 }, { 2, 4 }, { 1, 9 }, { 1, 10 }, { 2, 5 } };
	static char buf[8192];
	struct fix f;
	struct tfo_store_stats s;
	struct tfo_store_batch b;
	Tfo__V1__Checkpoint **cps;
	size_t n, k = 0;
	uint64_t total;

	(void)state;
	fix_empty(&f);
	copy_from(FIXTURE_V2, f.path);
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.format_opened, 2);
	assert_int_equal(s.quarantines, 0);
	assert_int_equal(s.entries[SIG_M], 13);
	assert_int_equal(s.entries[SIG_L], 4);
	total = s.bytes[SIG_M] + s.bytes[SIG_L];
	assert_int_equal(s.role_bytes[0], total);
	for (int r = 1; r < TFO_STORE_NROLE; r++)
		assert_int_equal(s.role_bytes[r], 0);
	assert_int_equal(put_as(&f, SIG_M, 1, 5, 10, "again"), TFO_PUT_DUP);
	assert_int_equal(put_as(&f, SIG_M, 2, 6, 5, "again"), TFO_PUT_DUP);
	assert_int_equal(put_as(&f, SIG_L, 3, 9, 4, "again"), TFO_PUT_DUP);
	assert_int_equal(tfo_store_checkpoints(f.st, 3, 16, &cps, &n), TFO_OK);
	assert_int_equal(n, 1);
	assert_string_equal(cps[0]->file_id, "dev:ino:2");
	assert_int_equal(cps[0]->offset, 400);
	tfo_store_checkpoints_free(cps, n);
	fix_close(&f);

	/* format 3 now; the same content, the same attribution */
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.format_opened, TFO_STORE_FORMAT);
	assert_int_equal(s.role_bytes[0], total);
	fix_close(&f);

	/* at the bound: tfo-process's new entry makes room from the oldest of
	 * those of no known role (p1, the head: 2 entries of the fixture's
	 * size at most), none of its own to give */
	f.o.max_bytes = total;
	fix_open(&f);
	assert_int_equal(put_as(&f, SIG_M, 2, 7, 1, "process entry new"), TFO_PUT_STAGED);
	commit_ok(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_drops[2], 0);
	assert_int_equal(s.role_drops[0], 1);
	assert_int_equal(s.drops[SIG_M][TFO_DROP_SIZE], 1);
	assert_int_equal(s.drop_points[SIG_M], 201);
	assert_int_equal(s.role_bytes[2], TFO_STORE_KEYLEN + TFO_STORE_HDR + 17);
	while (tfo_store_fetch(f.st, SIG_M, 1u << 20, &b) == TFO_OK) {
		size_t bad;
		assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
		assert_int_equal(bad, 0);
		for (size_t e = 0; e < b.n; e++, k++) {
			if (k + 1 == sizeof(want) / sizeof(want[0])) {
				assert_int_equal(b.len[e], 17);
				assert_memory_equal(b.data[e], "process entry new", 17);
				continue;
			}
			int role = want[k + 1][0], i = want[k + 1][1];
			size_t len = v2_payload(buf, role, i);
			assert_int_equal(b.len[e], len);
			assert_memory_equal(b.data[e], buf, len);
			assert_int_equal(b.points_each[e], (uint32_t)(100 * role + i));
		}
		assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
		commit_ok(&f);
	}
	assert_int_equal(k, sizeof(want) / sizeof(want[0]));
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.role_bytes[0] + s.role_bytes[2], s.bytes[SIG_L]);
	assert_int_equal(s.role_bytes[2], 0);
	expect_signal(&f, SIG_L, 1, 4);
	fix_fini(&f);
}

/* raw_put - write key=value into the LevelDB store at path, bypassing the buffer */
static void
raw_put(const char *path, const char *key, const void *val, size_t len)
{
	leveldb_options_t *o = leveldb_options_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL;
	leveldb_t *db;

	leveldb_options_set_create_if_missing(o, 1);
	db = leveldb_open(o, path, &err);
	assert_null(err);
	leveldb_put(db, wo, key, strlen(key), val, len, &err);
	assert_null(err);
	leveldb_close(db);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
}

static int
corrupt_copies(const struct fix *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, "corrupt") != NULL;
	closedir(d);
	return n;
}

/* refused - opening f fails with TFO_EVERSION and a reason holding each of want */
static void
refused(struct fix *f, const char *want1, const char *want2)
{
	enum tfo_err e;
	char err[512];

	assert_null(tfo_store_open(&f->o, &e, err, sizeof(err)));
	assert_int_equal(e, TFO_EVERSION);
	assert_non_null(strstr(err, want1));
	assert_non_null(strstr(err, want2));
	assert_null(strchr(err, '\n'));
	assert_int_equal(corrupt_copies(f), 0);
}

/* A newer format, an unreadable format key, an unknown meta version: refused,
 * left in place, and readable again once the format is one this code knows. */
static void
test_format_newer_refused(void **state)
{
	struct fix f;
	struct tfo_store_stats s;
	uint8_t v[8] = { 'T', 'F', 'O', 'V', 0, 0, 0, 4 };

	(void)state;
	fix_init(&f, 0, 0);
	assert_int_equal(put_str(&f, SIG_M, 1, 1, "kept"), TFO_PUT_STAGED);
	commit_ok(&f);
	fix_close(&f);
	raw_put(f.path, "v", v, sizeof(v));
	refused(&f, "format 4", "formats 1 to 3");
	refused(&f, "format 4", f.path);             /* the same, every time */
	raw_put(f.path, "v", "TFOV", 4);
	refused(&f, "format key", "formats 1 to 3");
	v[7] = 0;
	raw_put(f.path, "v", v, sizeof(v));
	refused(&f, "format 0", "formats 1 to 3");
	v[7] = 3;
	raw_put(f.path, "v", v, sizeof(v));
	fix_open(&f);
	tfo_store_get_stats(f.st, &s);
	assert_int_equal(s.entries[SIG_M], 1);
	fix_fini(&f);

	/* no format key, a meta key of a version format 1 never wrote */
	fix_init(&f, 0, 0);
	fix_close(&f);
	uint8_t m[8] = { 'T', 'F', 'O', 'Q', 0, 0, 0, 7 };
	leveldb_options_t *o = leveldb_options_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL;
	leveldb_t *db = leveldb_open(o, f.path, &err);
	assert_null(err);
	leveldb_delete(db, wo, "v", 1, &err);
	leveldb_put(db, wo, "m", 1, (const char *)m, sizeof(m), &err);
	assert_null(err);
	leveldb_close(db);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
	refused(&f, "meta key of version 7", "formats 1 to 3");
	rm_rf(f.dir);
}

/* A stale ack (a batch of an earlier open) never deletes a batch of this one,
 * with the clock standing still or stepped back a day between the opens (ids
 * from the clock, as before, repeated in both). */
static void
test_batch_ids_across_opens(void **state)
{
	struct fix f;
	struct tfo_store_batch a, b;
	uint64_t ids[4];

	(void)state;
	fix_init(&f, 0, 0);
	assert_int_equal(put_str(&f, SIG_M, 1, 1, "one"), TFO_PUT_STAGED);
	commit_ok(&f);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(tfo_store_fetch(f.st, SIG_M, 0, &a), TFO_OK);
		ids[k] = a.id;
		for (int j = 0; j < k; j++)
			assert_true(ids[j] != a.id);
		tfo_store_batch_free(&a);
		fix_close(&f);
		if (k % 2)
			f.now -= 24ull * 3600 * 1000;
		fix_open(&f);
	}
	assert_int_equal(tfo_store_fetch(f.st, SIG_M, 0, &b), TFO_OK);
	for (int k = 0; k < 4; k++)
		assert_int_equal(tfo_store_ack(f.st, ids[k]), TFO_ENOENT);
	assert_int_equal(tfo_store_ack(f.st, b.id), TFO_OK);
	tfo_store_batch_free(&b);
	commit_ok(&f);
	fix_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_v1_opens),
		cmocka_unit_test(test_format_v2_opens),
		cmocka_unit_test(test_format_newer_refused),
		cmocka_unit_test(test_batch_ids_across_opens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
