/*
 * test_tailer.c - the tfo-logs engine on real temp files with a fake buffer:
 * start_at, rename+create rotation, copytruncate, delete-while-open, restart
 * from stored checkpoints (crash), Busy back-pressure, identity checks.
 * Time is simulated: the tests pass "now" to tailer_run. The suite runs
 * twice: with a synchronous sink and with an asynchronous one whose puts are
 * still in flight at the next run (as tfo-logs' put thread is).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/logs/fakesink.h"
#include "workers/logs/fileid.h"
#include "workers/logs/tailer.h"

static int g_async;            /* the sink of this run of the suite (main) */

struct fx {
	char dir[64];
	char path[128], path1[128], glob[128];
	struct fake_sink sink;
	struct tailer *t;
	uint64_t now;
	Tfo__V1__LogsConfig cfg;
	char *paths[2], *excl[1];
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	snprintf(x->dir, sizeof(x->dir), "%s", "/tmp/tfo-logs-test-XXXXXX");
	if (mkdtemp(x->dir) == NULL) {
		free(x);
		return -1;
	}
	snprintf(x->path, sizeof(x->path), "%s/app.log", x->dir);
	snprintf(x->path1, sizeof(x->path1), "%s/app.log.1", x->dir);
	snprintf(x->glob, sizeof(x->glob), "%s/app.log", x->dir);
	fake_sink_init(&x->sink);
	x->sink.async = g_async;
	x->sink.hold = g_async;         /* every put still going at the next run */
	tfo__v1__logs_config__init(&x->cfg);
	x->paths[0] = x->glob;
	x->cfg.paths = x->paths;
	x->cfg.n_paths = 1;
	x->cfg.start_at = "beginning";
	x->cfg.batch_max_lines = 50;
	x->cfg.batch_max_ms = 100;
	x->cfg.rescan_interval_ms = 1000;
	x->now = 1000;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	tailer_free(x->t);
	assert_int_equal(x->sink.overlap, 0);   /* never two puts in flight */
	assert_int_equal(x->sink.seal_bad, 0);  /* sealed batches reach put unchanged */
	fake_sink_fini(&x->sink);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		return -1;
	free(x);
	return 0;
}

static void
start(struct fx *x)
{
	struct tfo_logs_sink k = fake_sink_ops(&x->sink);
	const Tfo__V1__Checkpoint *const *cps;
	enum tfo_err e;
	size_t n;

	x->t = tailer_new(&x->cfg, NULL, &k, &e);
	assert_non_null(x->t);
	cps = fake_sink_checkpoints(&x->sink, &n);
	tailer_load_checkpoints(x->t, cps, n);
}

/* crash - the worker dies: nothing is drained, the open batch is lost */
static void
crash_and_restart(struct fx *x)
{
	tailer_free(x->t);
	x->t = NULL;
	x->sink.fly.busy = 0;           /* a put in flight died with it, not stored */
	x->sink.sealed.p = NULL;        /* and so did a batch sealed behind it */
	start(x);
}

/* drive - let ms of simulated time pass, running the tailer when it asks */
static void
drive(struct fx *x, uint64_t ms)
{
	uint64_t end = x->now + ms;

	while (x->now < end) {
		uint64_t d = tailer_run(x->t, x->now, 50);
		x->now += d == 0 ? 0 : (d < 50 ? d : 50);
		if (d == 0)
			continue;
	}
	tailer_run(x->t, x->now, 50);
}

static void
append(const char *path, int from, int to)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	for (int i = from; i < to; i++)
		fprintf(f, "line %06d INFO payload for line %d\n", i, i);
	fclose(f);
}

static void
append_raw(const char *path, const char *s)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

/* count_lines - how often each numbered line was stored; asserts each of [0, n) exactly once */
static void
assert_exactly_once(const struct fake_sink *s, int n)
{
	int *seen = calloc((size_t)n, sizeof(int));
	int num, dups = 0, missing = 0;

	assert_non_null(seen);
	for (size_t i = 0; i < s->nrecs; i++) {
		assert_int_equal(sscanf(s->recs[i].body, "line %d", &num), 1);
		assert_true(num >= 0 && num < n);
		seen[num]++;
	}
	for (int i = 0; i < n; i++) {
		dups += seen[i] > 1 ? seen[i] - 1 : 0;
		missing += seen[i] == 0;
		if (seen[i] != 1)
			print_message("line %d seen %d times\n", i, seen[i]);
	}
	free(seen);
	assert_int_equal(missing, 0);
	assert_int_equal(dups, 0);
	assert_int_equal(s->bad_payload, 0);
	assert_int_equal(s->bad_checkpoint, 0);
}

static uint64_t
stored_offset(const struct fake_sink *s, const char *path)
{
	uint64_t off = 0;

	for (size_t i = 0; i < s->ncps; i++)
		if (strcmp(s->cps[i]->path, path) == 0 && s->cps[i]->offset > off)
			off = s->cps[i]->offset;
	return off;
}

static void
test_records_and_checkpoint(void **state)
{
	struct fx *x = *state;
	struct stat sb;

	append(x->path, 0, 3);
	append_raw(x->path, "partial");
	start(x);
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 3);
	assert_string_equal(x->sink.recs[0].body, "line 000000 INFO payload for line 0");
	assert_string_equal(x->sink.recs[0].path, x->path);
	assert_string_equal(x->sink.recs[0].name, "app.log");
	assert_int_equal(x->sink.recs[0].severity, 9);
	assert_string_equal(x->sink.recs[0].severity_text, "INFO");
	assert_true(x->sink.recs[0].observed_ns > 0);
	assert_int_equal(stat(x->path, &sb), 0);
	/* the unterminated line is not covered by the checkpoint */
	assert_int_equal(stored_offset(&x->sink, x->path), (uint64_t)sb.st_size - 7);
	append_raw(x->path, " done\r\n");
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 4);
	assert_string_equal(x->sink.recs[3].body, "partial done");
	assert_int_equal(stored_offset(&x->sink, x->path), (uint64_t)sb.st_size + 7);
}

static void
test_start_at_end(void **state)
{
	struct fx *x = *state;
	char other[160];

	x->cfg.start_at = "end";
	snprintf(other, sizeof(other), "%s/*.log", x->dir);
	x->paths[0] = other;
	append(x->path, 0, 10);
	start(x);
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 0);
	append(x->path, 10, 12);
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 2);
	/* a file that appears later is read from its beginning */
	snprintf(other, sizeof(other), "%s/new.log", x->dir);
	append(other, 12, 15);
	drive(x, 1500);
	assert_int_equal(x->sink.nrecs, 5);
	assert_string_equal(x->sink.recs[4].name, "new.log");
}

static void
test_rename_create_rotation(void **state)
{
	struct fx *x = *state;

	start(x);
	append(x->path, 0, 100);
	drive(x, 300);
	append(x->path, 100, 150);            /* not read yet */
	assert_int_equal(rename(x->path, x->path1), 0);
	append(x->path1, 150, 170);           /* the writer still has the old file */
	append(x->path, 170, 260);            /* ... then reopens the new one */
	drive(x, 400);
	append(x->path1, 260, 270);           /* a late write to the old file */
	drive(x, 3000);
	assert_exactly_once(&x->sink, 270);
	assert_int_equal(tailer_stats(x->t)->files_closed, 1);
	assert_int_equal(tailer_stats(x->t)->files_open, 1);
}

static void
test_copytruncate(void **state)
{
	struct fx *x = *state;
	char cmd[300];

	snprintf(x->glob, sizeof(x->glob), "%s/app.log*", x->dir);
	start(x);
	append(x->path, 0, 100);
	drive(x, 300);
	append(x->path, 100, 130);            /* written before the copy, unread */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", x->path, x->path1);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(truncate(x->path, 0), 0);
	append(x->path, 130, 140);
	drive(x, 2500);
	assert_exactly_once(&x->sink, 140);
	assert_int_equal(tailer_stats(x->t)->truncations, 1);
	assert_int_equal(tailer_stats(x->t)->copies_found, 1);
}

static void
test_copytruncate_copy_not_matched(void **state)
{
	struct fx *x = *state;
	char cmd[300];

	/* the glob names app.log only: the copy is found at the truncation */
	start(x);
	append(x->path, 0, 100);
	drive(x, 300);
	append(x->path, 100, 160);            /* unread when the copy is made */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", x->path, x->path1);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(truncate(x->path, 0), 0);
	append(x->path, 160, 170);
	drive(x, 2500);
	assert_exactly_once(&x->sink, 170);
	assert_int_equal(tailer_stats(x->t)->truncations, 1);
	assert_int_equal(tailer_stats(x->t)->copies_found, 1);
	assert_int_equal(tailer_stats(x->t)->files_closed, 1);   /* the copy, once read */
}

/* copy_part - copy bytes [from, to) of src to the end of dst, as cp does in pieces */
static void
copy_part(const char *src, const char *dst, long from, long to)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "a");
	char buf[4096];

	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(fseek(in, from, SEEK_SET), 0);
	while (from < to) {
		size_t n = (size_t)(to - from) < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		assert_int_equal(fread(buf, 1, n, in), n);
		assert_int_equal(fwrite(buf, 1, n, out), n);
		from += (long)n;
	}
	fclose(in);
	fclose(out);
}

/* copytruncate as logrotate does it, with a glob that matches the copy: the
 * copy is created empty and filled while the tailer looks (runs between the
 * pieces), the writer goes on meanwhile, then the original is truncated. The
 * copy is held until the truncation and read from where the original was. */
static void
test_copytruncate_copy_seen_filling(void **state)
{
	struct fx *x = *state;
	struct stat sb;

	snprintf(x->glob, sizeof(x->glob), "%s/app.log*", x->dir);
	start(x);
	append(x->path, 0, 100);
	drive(x, 300);
	append(x->path, 100, 200);            /* unread when the copy starts */
	assert_int_equal(stat(x->path, &sb), 0);
	append_raw(x->path1, "");              /* created empty */
	drive(x, 100);
	copy_part(x->path, x->path1, 0, 50);
	drive(x, 100);
	copy_part(x->path, x->path1, 50, sb.st_size / 2);
	append(x->path, 200, 210);            /* the writer goes on during the copy */
	drive(x, 100);
	copy_part(x->path, x->path1, sb.st_size / 2, sb.st_size);
	drive(x, 100);
	/* lines 200..209 are in the original only: logrotate's own race; the
	 * tailer may have read them before the truncation (in this test it has) */
	assert_int_equal(truncate(x->path, 0), 0);
	append(x->path, 210, 260);
	drive(x, 3000);
	assert_exactly_once(&x->sink, 260);
	assert_int_equal(tailer_stats(x->t)->truncations, 1);
	assert_int_equal(tailer_stats(x->t)->copies_found, 1);
}

/* A copy that is never followed by a truncation (cp app.log app.log.1):
 * held while it may grow, then followed from its end: its lines are the
 * original's, read there; lines written to it later are read. A file next to
 * it that starts with the same lines but goes on with lines of its own is
 * placed as a new file: its first lines arrive as its own. */
static void
test_copy_without_truncation(void **state)
{
	struct fx *x = *state;
	char other[160], cmd[700];
	int want[160] = { 0 }, num;

	snprintf(x->glob, sizeof(x->glob), "%s/*", x->dir);
	snprintf(other, sizeof(other), "%s/other.log", x->dir);
	start(x);
	append(x->path, 0, 100);
	drive(x, 300);
	snprintf(cmd, sizeof(cmd), "head -n 40 '%s' > '%s' && head -n 5 '%s' > '%s'", x->path,
	    x->path1, x->path, other);
	assert_int_equal(system(cmd), 0);
	drive(x, 200);
	append(other, 100, 120);              /* from here other.log is its own file */
	append(x->path, 120, 150);
	drive(x, 3000);
	append(x->path1, 150, 160);           /* written to the copy later: new lines */
	drive(x, 1000);
	for (int i = 0; i < 160; i++)
		want[i] = i < 5 ? 2 : 1;      /* 0..4: in app.log and in other.log */
	for (size_t i = 0; i < x->sink.nrecs; i++) {
		assert_int_equal(sscanf(x->sink.recs[i].body, "line %d", &num), 1);
		assert_true(num >= 0 && num < 160);
		want[num]--;
	}
	for (int i = 0; i < 160; i++)
		if (want[i] != 0)
			print_message("line %d: %d arrivals too few\n", i, want[i]);
	for (int i = 0; i < 160; i++)
		assert_int_equal(want[i], 0);
}

static void
test_truncate_grows_past(void **state)
{
	struct fx *x = *state;
	FILE *f;

	start(x);
	append(x->path, 0, 10);
	drive(x, 300);
	/* truncated and rewritten longer before the next look: the fingerprint tells */
	f = fopen(x->path, "w");
	assert_non_null(f);
	for (int i = 10; i < 40; i++)
		fprintf(f, "line %06d WARN rewritten %d\n", i, i);
	fclose(f);
	drive(x, 300);
	assert_exactly_once(&x->sink, 40);
	assert_int_equal(tailer_stats(x->t)->truncations, 1);
}

static void
test_delete_while_open(void **state)
{
	struct fx *x = *state;

	start(x);
	append(x->path, 0, 20);
	drive(x, 300);
	append(x->path, 20, 60);
	assert_int_equal(unlink(x->path), 0);
	drive(x, 2500);
	assert_exactly_once(&x->sink, 60);
	assert_int_equal(tailer_stats(x->t)->files_open, 0);
	assert_int_equal(tailer_stats(x->t)->files_closed, 1);
}

static void
test_crash_restart_resumes(void **state)
{
	struct fx *x = *state;
	int next = 0;

	start(x);
	for (int round = 0; round < 12; round++) {
		append(x->path, next, next + 137);
		next += 137;
		if (round % 3 == 1)
			x->sink.fail = 2;          /* puts whose outcome is unknown */
		if (round % 4 == 2)
			x->sink.busy = 3;
		/* crash at varying points: mid-batch, mid-file, after a rotation */
		drive(x, (uint64_t)(round * 37 % 250));
		if (round == 5) {
			append(x->path, next, next + 10);
			next += 10;
			assert_int_equal(rename(x->path, x->path1), 0);
			append(x->path, next, next + 10);
			next += 10;
		}
		crash_and_restart(x);
	}
	drive(x, 5000);
	assert_exactly_once(&x->sink, next);
}

/* A batch that fills while a put is in flight is sealed (tfo-logs compresses
 * it then); a synchronous sink, or a free one, never sees seal. */
static void
test_seal_while_in_flight(void **state)
{
	struct fx *x = *state;

	start(x);
	append(x->path, 0, 400);
	drive(x, 2000);
	assert_exactly_once(&x->sink, 400);
	if (g_async)
		assert_true(x->sink.seals > 0);
	else
		assert_int_equal(x->sink.seals, 0);
	assert_null(x->sink.sealed.p);  /* every sealed batch was put */
}

/* The longest line allowed, all invalid bytes (each repaired to 3), behind
 * megabytes of short lines, so it lands in a batch already partly full: the
 * put still fits the buffer's 4 MiB ingest limit. (The exact worst case, a
 * batch just under its cap, is the _Static_assert next to
 * TFO_LOGS_MAX_LINE_MAX.) */
static void
test_longest_hostile_line_fits_a_put(void **state)
{
	struct fx *x = *state;
	size_t big = TFO_LOGS_MAX_LINE_MAX;
	uint8_t *bad = malloc(big + 1);
	FILE *f;

	assert_non_null(bad);
	memset(bad, 0xff, big);
	bad[big] = '\n';
	x->cfg.max_line_size = (uint32_t)big;
	x->cfg.batch_max_lines = 100000;
	start(x);
	append(x->path, 0, 2 * 1024 * 1024 / 48);      /* batches of short lines first */
	assert_non_null(f = fopen(x->path, "a"));
	assert_int_equal(fwrite(bad, 1, big + 1, f), big + 1);
	fclose(f);
	free(bad);
	drive(x, 2000);
	assert_true(x->sink.max_len > 3 * big);       /* the repaired line went in one batch */
	assert_true(x->sink.max_len < 4u * 1024 * 1024 - 64 * 1024);
	assert_int_equal(tailer_stats(x->t)->utf8_repaired, 1);
}

static void
test_busy_stops_reading(void **state)
{
	struct fx *x = *state;
	size_t puts;

	start(x);
	append(x->path, 0, 500);
	x->sink.busy = 1000000;
	drive(x, 500);
	assert_int_equal(x->sink.nrecs, 0);
	assert_true(tailer_stats(x->t)->put_busy > 0);
	/* one batch is held (three with a put in flight: it, the one waiting
	 * behind it, the open one); the rest stays in the file (the file is
	 * the queue) */
	assert_true(tailer_stats(x->t)->records <= (g_async ? 150u : 50u));
	puts = (size_t)tailer_stats(x->t)->put_busy;
	drive(x, 500);
	assert_true(tailer_stats(x->t)->put_busy > puts);   /* it keeps retrying */
	x->sink.busy = 0;
	drive(x, 500);
	assert_exactly_once(&x->sink, 500);
	for (size_t i = 1; i < x->sink.nrecs; i++)
		assert_true(strcmp(x->sink.recs[i - 1].body, x->sink.recs[i].body) < 0);
}

static void
test_identity_checks(void **state)
{
	struct fx *x = *state;
	Tfo__V1__Checkpoint cp = TFO__V1__CHECKPOINT__INIT, bad = TFO__V1__CHECKPOINT__INIT;
	const Tfo__V1__Checkpoint *cps[2] = { &cp, &bad };
	struct fprint fp = { 10, 12345 };     /* not this file's head */
	uint8_t w[TFO_LOGS_FP_WIRE], junk[5] = { 1, 2, 3, 4, 5 };
	struct tfo_logs_sink k = fake_sink_ops(&x->sink);
	struct stat sb;
	enum tfo_err e;

	append(x->path, 0, 30);
	assert_int_equal(stat(x->path, &sb), 0);
	/* same dev/ino but another fingerprint: inode reuse, read from 0 */
	fp_encode(&fp, w);
	cp.file_id = "x";
	cp.path = x->path;
	cp.dev = sb.st_dev;
	cp.ino = sb.st_ino;
	cp.offset = 200;
	cp.fingerprint.data = w;
	cp.fingerprint.len = sizeof(w);
	bad = cp;
	bad.fingerprint.data = junk;           /* malformed: refused */
	bad.fingerprint.len = sizeof(junk);
	x->cfg.start_at = "end";
	x->t = tailer_new(&x->cfg, NULL, &k, &e);
	assert_non_null(x->t);
	tailer_load_checkpoints(x->t, cps, 2);
	assert_int_equal(tailer_stats(x->t)->checkpoints_rejected, 1);
	drive(x, 300);
	assert_exactly_once(&x->sink, 30);
	assert_int_equal(tailer_stats(x->t)->checkpoints_resumed, 0);
}

static void
test_truncated_while_down(void **state)
{
	struct fx *x = *state;

	start(x);
	append(x->path, 0, 40);
	drive(x, 300);
	tailer_free(x->t);
	x->t = NULL;
	assert_int_equal(truncate(x->path, 0), 0);
	append(x->path, 40, 45);              /* shorter than the stored offset */
	start(x);
	drive(x, 300);
	assert_exactly_once(&x->sink, 45);
}

static void
test_exclude_and_long_lines(void **state)
{
	struct fx *x = *state;
	char g[160], ex[160], skip[160], big[300];

	snprintf(g, sizeof(g), "%s/*", x->dir);
	snprintf(ex, sizeof(ex), "%s/*.gz", x->dir);
	snprintf(skip, sizeof(skip), "%s/old.gz", x->dir);
	x->paths[0] = g;
	x->excl[0] = ex;
	x->cfg.exclude = x->excl;
	x->cfg.n_exclude = 1;
	x->cfg.max_line_size = 100;
	append(skip, 0, 5);
	memset(big, 'q', 250);
	big[250] = '\n';
	big[251] = '\0';
	append_raw(x->path, big);
	append_raw(x->path, "bad \xff byte\n");
	start(x);
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 4);
	assert_int_equal(strlen(x->sink.recs[0].body), 100);
	assert_int_equal(strlen(x->sink.recs[2].body), 50);
	assert_true(x->sink.recs[0].truncated && x->sink.recs[1].truncated && x->sink.recs[2].truncated);
	assert_int_equal(x->sink.recs[3].truncated, 0);
	assert_string_equal(x->sink.recs[3].body, "bad \xef\xbf\xbd byte");
	assert_int_equal(tailer_stats(x->t)->utf8_repaired, 1);
}

static void
test_multiline_timeout(void **state)
{
	struct fx *x = *state;

	x->cfg.multiline_start_pattern = "^[0-9]";
	x->cfg.multiline_timeout_ms = 400;
	append_raw(x->path, "1 ERROR boom\n  at one\n  at two\n2 INFO next\n");
	start(x);
	drive(x, 200);
	assert_int_equal(x->sink.nrecs, 1);
	assert_string_equal(x->sink.recs[0].body, "1 ERROR boom\n  at one\n  at two");
	assert_int_equal(x->sink.recs[0].severity, 17);
	/* the held record's bytes are not covered by the checkpoint yet */
	assert_int_equal(stored_offset(&x->sink, x->path), strlen("1 ERROR boom\n  at one\n  at two\n"));
	drive(x, 500);
	assert_int_equal(x->sink.nrecs, 2);
	assert_string_equal(x->sink.recs[1].body, "2 INFO next");
}

/* a file name that is not UTF-8 is repaired in log.file.path and
 * log.file.name, as a body is (proto3 strings must be UTF-8) */
static void
test_name_not_utf8(void **state)
{
	struct fx *x = *state;
	char g[160], bad[160], want[160];

	snprintf(g, sizeof(g), "%s/*.log", x->dir);
	snprintf(bad, sizeof(bad), "%s/caf\xe9.log", x->dir);
	snprintf(want, sizeof(want), "%s/caf\xef\xbf\xbd.log", x->dir);
	x->paths[0] = g;
	append(bad, 0, 3);
	start(x);
	drive(x, 300);
	assert_exactly_once(&x->sink, 3);
	assert_string_equal(x->sink.recs[0].path, want);
	assert_string_equal(x->sink.recs[0].name, "caf\xef\xbf\xbd.log");
}

/* ------------------------------------------------- identity (issue 25 §1) */

/* header - h identical bytes that start every file of a case (W3C/CSV/banner
 * style): lines of 100 bytes, the last one cut to make h exactly */
static void
header(const char *path, int h)
{
	FILE *f = fopen(path, "a");
	int left = h, k = 0;

	assert_non_null(f);
	while (left > 0) {
		int n = left < 100 ? left : 100;
		fprintf(f, "#h%03d%.*s\n", k++, n - 6, "-------------------------------------"
		    "---------------------------------------------------------------");
		left -= n;
	}
	fclose(f);
}

/* assert_each_once - numbered lines [0, n) once each and nheaders header records */
static void
assert_each_once(const struct fake_sink *s, int n, int nheaders)
{
	int *seen = calloc((size_t)n, sizeof(int)), heads = 0, num, bad = 0;

	assert_non_null(seen);
	for (size_t i = 0; i < s->nrecs; i++) {
		if (s->recs[i].body[0] == '#') {
			heads++;
			continue;
		}
		assert_int_equal(sscanf(s->recs[i].body, "line %d", &num), 1);
		assert_true(num >= 0 && num < n);
		seen[num]++;
	}
	for (int i = 0; i < n; i++)
		if (seen[i] != 1 && bad++ < 5)
			print_message("line %d seen %d times\n", i, seen[i]);
	free(seen);
	assert_int_equal(bad, 0);
	assert_int_equal(heads, nheaders);
}

static int
header_lines(int h)
{
	return (h + 99) / 100;
}

/* reset - a fresh case in the same fixture: no tailer, no stored data, no files */
static void
reset(struct fx *x)
{
	char cmd[200];

	tailer_free(x->t);
	x->t = NULL;
	fake_sink_fini(&x->sink);
	fake_sink_init(&x->sink);
	x->sink.async = g_async;
	x->sink.hold = g_async;
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/app.log*", x->dir);
	assert_int_equal(system(cmd), 0);
}

/* stop - a graceful stop: held records and the open batch stored, then gone */
static void
stop(struct fx *x)
{
	assert_int_equal(tailer_drain(x->t, x->now), TFO_OK);
	tailer_free(x->t);
	x->t = NULL;
}

static const int g_heads[] = { 0, 300, 4000 };

/* first_file - a case starts: app.log is the header and lines [0, 100), read */
static void
first_file(struct fx *x, int h, char *glob)
{
	reset(x);
	x->paths[0] = glob;
	header(x->path, h);
	append(x->path, 0, 100);
	start(x);
	drive(x, 300);
}

/* rotate - rename + create: late lines [100, 150) to the old file, the new
 * one the same header and lines [150, 270) */
static void
rotate(struct fx *x, int h)
{
	assert_int_equal(rename(x->path, x->path1), 0);
	append(x->path1, 100, 150);
	header(x->path, h);
	append(x->path, 150, 270);
}

/* The file is rewritten in place (same inode) while stopped, longer than
 * the stored offset, starting with the same header: read from 0. And once
 * shorter than the offset: from 0 as well, never at the offset. */
static void
test_identity_stopped_same_inode(void **state)
{
	struct fx *x = *state;

	for (size_t i = 0; i < 3; i++) {
		int h = g_heads[i];

		for (int shorter = 0; shorter < 2; shorter++) {
			int last = shorter ? 110 : 220;

			first_file(x, h, x->glob);
			stop(x);
			assert_int_equal(truncate(x->path, 0), 0);
			header(x->path, h);
			append(x->path, 100, last);
			start(x);
			drive(x, 300);
			assert_each_once(&x->sink, last, 2 * header_lines(h));
			assert_int_equal(tailer_stats(x->t)->checkpoints_resumed, 0);
		}
	}
}

/* Rotated (rename + create) while stopped; the new file starts with the same
 * header. Both match the glob: the old one is resumed at its offset (late
 * lines it got after the stop), the new one read from 0. Then the same with
 * a glob naming only the live file: the old one is found by its inode. */
static void
test_identity_stopped_fresh_inode(void **state)
{
	struct fx *x = *state;
	char all[160];

	snprintf(all, sizeof(all), "%s/app.log*", x->dir);
	for (size_t i = 0; i < 3; i++) {
		for (int glob_all = 0; glob_all < 2; glob_all++) {
			int h = g_heads[i];

			first_file(x, h, glob_all ? all : x->glob);
			stop(x);
			rotate(x, h);
			start(x);
			drive(x, 2500);
			assert_each_once(&x->sink, 270, 2 * header_lines(h));
			assert_int_equal(tailer_stats(x->t)->checkpoints_resumed, 1);
		}
	}
}

/* The same rotation while running, and a rewrite in place that grows past the
 * read offset between two looks: neither size nor a long header tells, the
 * bytes before the offset do. */
static void
test_identity_running(void **state)
{
	struct fx *x = *state;
	char all[160];

	snprintf(all, sizeof(all), "%s/app.log*", x->dir);
	for (size_t i = 0; i < 3; i++) {
		int h = g_heads[i];

		first_file(x, h, all);
		rotate(x, h);
		drive(x, 2500);
		assert_each_once(&x->sink, 270, 2 * header_lines(h));

		first_file(x, h, x->glob);
		assert_int_equal(truncate(x->path, 0), 0);
		header(x->path, h);
		append(x->path, 100, 300);
		drive(x, 300);
		assert_each_once(&x->sink, 300, 2 * header_lines(h));
		assert_int_equal(tailer_stats(x->t)->truncations, 1);
	}
}

/* copytruncate while stopped, glob matching the copy: the copy holds the
 * checkpoint's head and mark and its original lost them, so it is read from
 * the stored offset (the lines written after the stop, before the copy);
 * the live file from 0 */
static void
test_identity_stopped_copytruncate(void **state)
{
	struct fx *x = *state;
	char all[160], cmd[320];

	snprintf(all, sizeof(all), "%s/app.log*", x->dir);
	for (size_t i = 0; i < 3; i++) {
		int h = g_heads[i];

		first_file(x, h, all);
		stop(x);
		append(x->path, 100, 140);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", x->path, x->path1);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(truncate(x->path, 0), 0);
		header(x->path, h);
		append(x->path, 140, 200);
		start(x);
		drive(x, 2500);
		assert_each_once(&x->sink, 200, 2 * header_lines(h));
		assert_int_equal(tailer_stats(x->t)->copies_found, 1);
	}
}

/* A checkpoint from an agent before marks (12-byte fingerprint) still
 * resumes the same inode with the same head, as before */
static void
test_identity_legacy_checkpoint(void **state)
{
	struct fx *x = *state;
	Tfo__V1__Checkpoint cp = TFO__V1__CHECKPOINT__INIT;
	const Tfo__V1__Checkpoint *cps[1] = { &cp };
	struct tfo_logs_sink k = fake_sink_ops(&x->sink);
	uint8_t w[TFO_LOGS_FP_WIRE];
	struct fprint fp;
	struct stat sb;
	enum tfo_err e;
	int fd;

	append(x->path, 0, 30);
	assert_int_equal(stat(x->path, &sb), 0);
	assert_true((fd = open(x->path, O_RDONLY)) >= 0);
	assert_int_equal(fp_compute(fd, &fp), TFO_OK);
	close(fd);
	fp_encode(&fp, w);
	cp.file_id = "x";
	cp.path = x->path;
	cp.dev = sb.st_dev;
	cp.ino = sb.st_ino;
	cp.offset = (uint64_t)sb.st_size;
	cp.fingerprint.data = w;
	cp.fingerprint.len = sizeof(w);
	x->t = tailer_new(&x->cfg, NULL, &k, &e);
	assert_non_null(x->t);
	tailer_load_checkpoints(x->t, cps, 1);
	append(x->path, 30, 40);
	drive(x, 300);
	assert_int_equal(x->sink.nrecs, 10);
	assert_string_equal(x->sink.recs[0].body, "line 000030 INFO payload for line 30");
	assert_int_equal(tailer_stats(x->t)->checkpoints_resumed, 1);
}

/* ------------------------------------------------- the open-file limit */

/* More files match than may be open (collectors.logs.max_open_files 16, 200
 * files): none is left unread. Files at their end are closed to make room
 * and opened again by identity when they grow; written to in turns, every
 * line of every file arrives exactly once. */
static void
test_open_limit_every_file_its_turn(void **state)
{
	struct fx *x = *state;
	enum { NF = 200, PER = 5, ROUNDS = 3 };
	char g[160], p[200];
	int want = 0, num, *seen;

	snprintf(g, sizeof(g), "%s/f*.log", x->dir);
	x->paths[0] = g;
	x->cfg.max_open_files = 16;
	x->cfg.batch_max_lines = 1000;
	for (int i = 0; i < NF; i++) {
		snprintf(p, sizeof(p), "%s/f%03d.log", x->dir, i);
		append(p, want, want + PER);
		want += PER;
	}
	start(x);
	drive(x, 3000);
	assert_int_equal(tailer_stats(x->t)->files_skipped, NF - 16);
	assert_true(tailer_stats(x->t)->files_open <= 16);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = r; i < NF; i += 3) {
			snprintf(p, sizeof(p), "%s/f%03d.log", x->dir, i);
			append(p, want, want + PER);
			want += PER;
		}
		drive(x, 3000);         /* the scan (every 1 s) finds the grown ones */
	}
	assert_non_null(seen = calloc((size_t)want, sizeof(int)));
	for (size_t i = 0; i < x->sink.nrecs; i++) {
		assert_int_equal(sscanf(x->sink.recs[i].body, "line %d", &num), 1);
		assert_true(num >= 0 && num < want);
		seen[num]++;
	}
	for (int i = 0; i < want; i++)
		if (seen[i] != 1)
			print_message("line %d seen %d times\n", i, seen[i]);
	for (int i = 0; i < want; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
	assert_int_equal(tailer_stats(x->t)->files_waiting, 0);
	assert_int_equal(tailer_stats(x->t)->bytes_behind, 0);
	assert_true(tailer_stats(x->t)->files_open <= 16);
	assert_true(tailer_stats(x->t)->files_slept >= NF - 16);
	/* distinct files: the ones closed to make room waited later too */
	assert_true(tailer_stats(x->t)->files_skipped <= NF);
}

/* Files closed at their end to make room, then rotated (renamed out of the
 * glob, late lines written to them, new files created): the late lines are
 * found by inode and read once, the new files from 0. With 4 files and 2
 * slots, two of the four are closed when the rotation comes. */
static void
test_open_limit_rotation_while_closed(void **state)
{
	struct fx *x = *state;
	char g[160], p[200], old[200];

	snprintf(g, sizeof(g), "%s/f*.log", x->dir);
	x->paths[0] = g;
	x->cfg.max_open_files = 2;
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/f%d.log", x->dir, i);
		append(p, 10 * i, 10 * i + 10);
	}
	start(x);
	drive(x, 3000);
	assert_int_equal(x->sink.nrecs, 40);
	assert_true(tailer_stats(x->t)->files_slept >= 2);
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/f%d.log", x->dir, i);
		snprintf(old, sizeof(old), "%s/rotated-f%d.txt", x->dir, i);
		assert_int_equal(rename(p, old), 0);
		append(old, 40 + 10 * i, 50 + 10 * i);  /* late lines to the rotated file */
		append(p, 80 + 10 * i, 90 + 10 * i);    /* the new file */
	}
	drive(x, 5000);
	assert_exactly_once(&x->sink, 120);
}

/* ------------------------------------------------- links (issue 24 §3) */

#define UID_A 54321             /* the owner of the watched dir: the planter */
#define UID_V 54322             /* the victim */

/* mkdir_owned - a directory of uid with mode */
static void
mkdir_owned(const char *p, uid_t uid, mode_t mode)
{
	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chown(p, uid, uid), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
file_owned(const char *p, uid_t uid, mode_t mode, int from, int to)
{
	append(p, from, to);
	assert_int_equal(chown(p, uid, uid), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
link_owned(const char *target, const char *p, uid_t uid)
{
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(lchown(p, uid, uid), 0);
}

/*
 * The link rule, without Landlock (the rule is tfo-logs' own): in A's watched
 * dir (pattern <dir>/home/x/logs/x.log, Landlock and roots at <dir>/home), A's
 * symlink to V's 0600 file, A's logs directory that is a link to V's, and a hard link
 * to V's file are not read, each logged once and counted by reason; A's own
 * files and a link of A's to A's file are read; a root-owned link into a
 * link_target_dirs directory is read, one outside every configured directory
 * is not. Needs root (chown); skipped otherwise.
 */
static void
test_link_rule(void **state)
{
	struct fx *x = *state;
	char home[160], a[200], al[220], v[200], p[300], q[300], pods[200], other[200], g[200];
	char *extra[1] = { pods };

	if (geteuid() != 0) {
		print_message("skipped: needs root to give files to other uids\n");
		skip();
	}
	snprintf(home, sizeof(home), "%s/home", x->dir);
	snprintf(a, sizeof(a), "%s/a", home);
	snprintf(al, sizeof(al), "%s/a/logs", home);
	snprintf(v, sizeof(v), "%s/v", home);
	snprintf(pods, sizeof(pods), "%s/pods", x->dir);
	snprintf(other, sizeof(other), "%s/other", x->dir);
	snprintf(g, sizeof(g), "%s/home/*/logs/*.log", x->dir);
	mkdir_owned(home, 0, 0755);
	mkdir_owned(a, UID_A, 0755);
	mkdir_owned(al, UID_A, 0755);
	mkdir_owned(v, UID_V, 0700);
	mkdir_owned(pods, 0, 0755);
	mkdir_owned(other, 0, 0755);
	snprintf(p, sizeof(p), "%s/secret.log", v);
	file_owned(p, UID_V, 0600, 1000, 1010);                 /* the victim's */
	snprintf(q, sizeof(q), "%s/steal.log", al);
	link_owned(p, q, UID_A);                                /* A -> V's file */
	snprintf(q, sizeof(q), "%s/a2", home);
	mkdir_owned(q, UID_A, 0755);
	snprintf(q, sizeof(q), "%s/a2/logs", home);
	link_owned(v, q, UID_A);                                /* A's logs dir is V's */
	snprintf(q, sizeof(q), "%s/hard.log", al);
	assert_int_equal(link(p, q), 0);                        /* V's file, a name in A's dir */
	snprintf(q, sizeof(q), "%s/own.log", al);
	file_owned(q, UID_A, 0600, 0, 10);                      /* A's own */
	snprintf(p, sizeof(p), "%s/own-link.log", al);
	link_owned(q, p, UID_A);                                /* A -> A's own: allowed */
	snprintf(p, sizeof(p), "%s/0.log", pods);
	file_owned(p, 0, 0640, 10, 20);
	snprintf(q, sizeof(q), "%s/k8s.log", al);
	link_owned(p, q, 0);                                    /* root's link into pods */
	snprintf(p, sizeof(p), "%s/y.log", other);
	file_owned(p, 0, 0640, 2000, 2010);
	snprintf(q, sizeof(q), "%s/outside.log", al);
	link_owned(p, q, 0);                                    /* root's link, not configured */
	x->paths[0] = g;
	x->cfg.link_target_dirs = extra;
	x->cfg.n_link_target_dirs = 1;
	start(x);
	drive(x, 3500);                                         /* several rescans */
	/* own.log and own-link.log are one file (one inode): read once */
	assert_exactly_once(&x->sink, 20);
	assert_int_equal(tailer_stats(x->t)->open_errors[1], 2);        /* link_owner */
	assert_int_equal(tailer_stats(x->t)->open_errors[2], 1);        /* hardlink */
	assert_int_equal(tailer_stats(x->t)->open_errors[3], 1);        /* outside_dirs */
	assert_string_equal(tailer_open_err_name(1), "link_owner");
	assert_string_equal(tailer_open_err_name(2), "hardlink");
	assert_string_equal(tailer_open_err_name(3), "outside_dirs");
}

static void
test_bad_config(void **state)
{
	struct fx *x = *state;
	struct tfo_logs_sink k = fake_sink_ops(&x->sink);
	enum tfo_err e;

	x->cfg.start_at = "middle";
	assert_null(tailer_new(&x->cfg, NULL, &k, &e));
	assert_int_equal(e, TFO_EINVAL);
	x->cfg.start_at = "end";
	x->cfg.multiline_start_pattern = "([";
	assert_null(tailer_new(&x->cfg, NULL, &k, &e));
	x->cfg.multiline_start_pattern = NULL;
	x->cfg.max_line_size = 10;
	assert_null(tailer_new(&x->cfg, NULL, &k, &e));
	assert_int_equal(e, TFO_ERANGE);
	x->cfg.max_line_size = 0;
	x->cfg.n_paths = 0;
	assert_null(tailer_new(&x->cfg, NULL, &k, &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_and_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_create_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate_copy_not_matched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate_copy_seen_filling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_without_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_grows_past, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_while_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_restart_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_while_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_hostile_line_fits_a_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_stops_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_while_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclude_and_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiline_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_not_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_stopped_same_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_stopped_fresh_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_stopped_copytruncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_legacy_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_limit_every_file_its_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_limit_rotation_while_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};

	int failed;

	/* once with a synchronous sink, once with an asynchronous one (tfo-logs) */
	failed = cmocka_run_group_tests_name("sync sink", tests, NULL, NULL);
	g_async = 1;
	return failed + cmocka_run_group_tests_name("async sink", tests, NULL, NULL);
}
