/*
 * test_incarnation.c - tfo-supervisor's worker incarnations are never reused:
 * across runs on one state dir, after a garbled or missing counter file, a
 * planted link, a read-only state dir, the counter's wrap, and within a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/supervisor.h"

struct fx {
	char dir[64];
	char file[96];
	struct sv sv;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tfo-incarn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/incarnation", f->dir);
	f->sv.cfg.agent.state_dir = f->dir;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint64_t
run_of(uint64_t inc)
{
	return inc >> (SV_NONCE_BITS + SV_SPAWN_BITS);
}

static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static uint64_t
file_value(const char *path)
{
	char buf[64] = "";
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	return strtoull(buf, NULL, 10);
}

/* Every run counts one more, durably, and the spawns of a run count from 1. */
static void
test_runs_count_up(void **state)
{
	struct fx *f = *state;
	uint64_t seen[20] = { 0 };

	for (int run = 0; run < 10; run++) {
		sv_run_begin(&f->sv);
		for (int k = 0; k < 2; k++) {
			uint64_t inc = sv_next_incarnation(&f->sv);
			assert_int_equal(inc & ((1u << SV_SPAWN_BITS) - 1), (uint64_t)k + 1);
			assert_int_equal(run_of(inc), (uint64_t)run + 1);
			for (int j = 0; j < run * 2 + k; j++)
				assert_true(seen[j] != inc);
			seen[run * 2 + k] = inc;
		}
		assert_int_equal(file_value(f->file), (uint64_t)run + 1);
	}
}

/* A counter file that is not one (garbage, too long, no newline) counts from
 * 0 again (the nonce still tells such runs apart) and is rewritten. */
static void
test_garbled_counter(void **state)
{
	struct fx *f = *state;
	static const char *bad[] = { "", "abc\n", "12", "-3\n", "99999999999999999999\n",
		"16777216\n", "7 \n" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(f->file, bad[i]);
		sv_run_begin(&f->sv);
		uint64_t inc = sv_next_incarnation(&f->sv);
		assert_int_equal(run_of(inc), 1);
		assert_int_equal(file_value(f->file), 1);
	}
	put_file(f->file, "41\n");
	sv_run_begin(&f->sv);
	assert_int_equal(run_of(sv_next_incarnation(&f->sv)), 42);
}

/* The counter wraps to 1 after its largest value. */
static void
test_wrap(void **state)
{
	struct fx *f = *state;
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)SV_RUN_MAX);
	put_file(f->file, text);
	sv_run_begin(&f->sv);
	assert_int_equal(run_of(sv_next_incarnation(&f->sv)), 1);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)SV_RUN_MAX - 1);
	put_file(f->file, text);
	sv_run_begin(&f->sv);
	assert_int_equal(run_of(sv_next_incarnation(&f->sv)), SV_RUN_MAX);
}

/* A link planted as the temp file or as the counter is never written through. */
static void
test_planted_links(void **state)
{
	struct fx *f = *state;
	char tmp[128], victim[128];
	struct stat sb;

	snprintf(tmp, sizeof(tmp), "%s/.incarnation.tmp", f->dir);
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	put_file(victim, "precious\n");
	assert_int_equal(symlink(victim, tmp), 0);
	sv_run_begin(&f->sv);
	assert_int_equal(file_value(f->file), 1);
	assert_int_equal(lstat(f->file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(unlink(f->file), 0);
	assert_int_equal(symlink(victim, f->file), 0);
	sv_run_begin(&f->sv);      /* not read through: counts from 0 */
	assert_int_equal(run_of(sv_next_incarnation(&f->sv)), 1);
	assert_int_equal(lstat(f->file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));      /* the link replaced, not followed */
	put_file(tmp, "");
	assert_int_equal(access(victim, F_OK), 0);
	FILE *fp = fopen(victim, "r");
	char buf[32] = "";
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "precious\n");
}

/* No state dir: the run still starts, its incarnations on the nonce alone. */
static void
test_no_state_dir(void **state)
{
	struct fx *f = *state;
	char gone[96];

	snprintf(gone, sizeof(gone), "%s/missing", f->dir);
	f->sv.cfg.agent.state_dir = gone;
	sv_run_begin(&f->sv);
	uint64_t inc = sv_next_incarnation(&f->sv);
	assert_int_equal(run_of(inc), 1);
	assert_int_equal(inc & ((1u << SV_SPAWN_BITS) - 1), 1);
	f->sv.cfg.agent.state_dir = f->dir;
}

/* A run whose spawn numbers are spent goes on as the next run. */
static void
test_spawns_spent(void **state)
{
	struct fx *f = *state;
	uint64_t inc;

	sv_run_begin(&f->sv);
	f->sv.spawns = (1u << SV_SPAWN_BITS) - 2;
	inc = sv_next_incarnation(&f->sv);
	assert_int_equal(run_of(inc), 1);
	assert_int_equal(inc & ((1u << SV_SPAWN_BITS) - 1), (1u << SV_SPAWN_BITS) - 1);
	inc = sv_next_incarnation(&f->sv);
	assert_int_equal(run_of(inc), 2);
	assert_int_equal(inc & ((1u << SV_SPAWN_BITS) - 1), 1);
	assert_int_equal(file_value(f->file), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runs_count_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbled_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawns_spent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
