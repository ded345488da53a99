/*
 * test_config_doc.c - configs/tfo-agent.yaml and the key table of
 * docs/configuration.md are exactly what the table prints, and parsing the
 * example gives tfo_config_defaults(). TFO_REGEN_DOCS=1 rewrites both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/config_impl.h"

#define EXAMPLE "configs/tfo-agent.yaml"
#define DEV "configs/dev.yaml"
#define REFERENCE "docs/configuration.md"
#define BEGIN_MARK "<!-- BEGIN KEY TABLE (generated: TFO_REGEN_DOCS=1 build/tests/config_doc) -->\n"
#define END_MARK "<!-- END KEY TABLE -->\n"

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		fail_msg("%s: cannot open", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* printed - what a writer function prints, as a string */
static char *
printed(void (*writer)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	writer(fp);
	fclose(fp);
	return buf;
}

static int
regen(void)
{
	const char *e = getenv("TFO_REGEN_DOCS");

	return e != NULL && strcmp(e, "1") == 0;
}

static void
test_example_matches_table(void **state)
{
	char *want = printed(tfo_config_write_example), *got;

	(void)state;
	if (regen()) {
		FILE *fp = fopen(EXAMPLE, "w");
		assert_non_null(fp);
		fputs(want, fp);
		fclose(fp);
	}
	got = slurp(EXAMPLE);
	if (strcmp(got, want) != 0)
		fail_msg(EXAMPLE " differs from the key table; rerun with TFO_REGEN_DOCS=1");
	free(got);
	free(want);
}

static void
test_example_parses_to_defaults(void **state)
{
	struct tfo_config cfg, def;
	struct tfo_cfg_diags d;
	char a[2048], b[2048];

	(void)state;
	if (tfo_config_load(EXAMPLE, &cfg, &d) != 0) {
		tfo_cfg_diags_print(stderr, NULL, &d);
		fail();
	}
	assert_int_equal(d.n, 0);
	assert_int_equal(tfo_config_defaults(&def), 0);
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		tfo_cfg_fmt_value(&tfo_cfg_rows[i], &cfg, a, sizeof(a));
		tfo_cfg_fmt_value(&tfo_cfg_rows[i], &def, b, sizeof(b));
		if (strcmp(a, b) != 0)
			fail_msg("%s: example %s != default %s", tfo_cfg_rows[i].key, a, b);
	}
	tfo_config_free(&cfg);
	tfo_config_free(&def);
}

static void
test_reference_matches_table(void **state)
{
	char *doc = slurp(REFERENCE), *table = printed(tfo_config_write_reference);
	char *begin = strstr(doc, BEGIN_MARK), *end = begin ? strstr(begin, END_MARK) : NULL;

	(void)state;
	if (begin == NULL || end == NULL)
		fail_msg(REFERENCE ": key table markers missing");
	begin += strlen(BEGIN_MARK);
	if (regen()) {
		FILE *fp = fopen(REFERENCE, "w");
		assert_non_null(fp);
		fprintf(fp, "%.*s%s%s", (int)(begin - doc), doc, table, end);
		fclose(fp);
	} else if ((size_t)(end - begin) != strlen(table) || memcmp(begin, table, strlen(table))) {
		fail_msg(REFERENCE " key table differs from the key table; rerun with TFO_REGEN_DOCS=1");
	}
	free(doc);
	free(table);
}

static void
test_every_row_sane(void **state)
{
	(void)state;
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		assert_non_null(r->doc);
		assert_true(strlen(r->key) <= CFG_MAX_KEY);
		if (r->type == CT_ENUM)
			assert_non_null(r->allowed);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(r->key, tfo_cfg_rows[j].key);
		/* no key is both a leaf and a section */
		assert_false(tfo_cfg_is_section(r->key));
	}
}

/*
 * test_example_edited - the operator's path (issue 19): the installed example
 * with one key of each bounded pair changed is still accepted, because the
 * key whose default follows it is commented out there.
 */
static void
test_example_edited(void **state)
{
	static const struct {
		const char *from, *to, *key, *want;
	} edits[] = {
		{ "\n  interval: 1m\n  # request", "\n  interval: 5s\n  # request",
		  "heartbeat.timeout", "5s" },
		{ "  # hung_timeout: 15s\n", "  hung_timeout: 3s\n", "supervisor.ping_interval", "1500ms" },
		{ "    backoff_max: 1m\n", "    backoff_max: 200ms\n",
		  "supervisor.restart.backoff_initial", "200ms" },
		{ "    # max_interval: 1m\n", "    max_interval: 500ms\n",
		  "telemetryflow.retry.initial_interval", "500ms" },
	};
	char *ex = slurp(EXAMPLE), *text, got[64];

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *at = strstr(ex, edits[i].from);
		struct tfo_config cfg;
		struct tfo_cfg_diags d;
		size_t n;

		if (at == NULL)
			fail_msg("example: \"%s\" not found", edits[i].from);
		n = strlen(ex) + strlen(edits[i].to) + 1;
		text = malloc(n);
		assert_non_null(text);
		snprintf(text, n, "%.*s%s%s", (int)(at - ex), ex, edits[i].to,
		    at + strlen(edits[i].from));
		if (tfo_config_load_string(EXAMPLE, text, strlen(text), &cfg, &d) != 0) {
			tfo_cfg_diags_print(stderr, NULL, &d);
			fail_msg("example with \"%s\" refused", edits[i].to);
		}
		tfo_cfg_fmt_value(&tfo_cfg_rows[tfo_cfg_row_find(edits[i].key)], &cfg, got,
		    sizeof(got));
		assert_string_equal(got, edits[i].want);
		tfo_config_free(&cfg);
		free(text);
	}
	free(ex);
}

static void
test_dev_config(void **state)
{
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	if (tfo_config_load(DEV, &cfg, &d) != 0) {
		tfo_cfg_diags_print(stderr, NULL, &d);
		fail();
	}
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg.telemetryflow.protocol, "http");
	assert_string_equal(cfg.telemetryflow.endpoint, "http://127.0.0.1:4318");
	assert_string_equal(cfg.telemetryflow.api_endpoint, "http://127.0.0.1:4318/api/v1");
	assert_int_equal(cfg.system.interval_ms, 5000);
	assert_int_equal(cfg.process.interval_ms, 10000);
	assert_int_equal(cfg.heartbeat.interval_ms, 10000);
	assert_true(cfg.logs.enabled);
	assert_string_equal(cfg.logs.start_at, "beginning");
	assert_non_null(strstr(cfg.agent.state_dir, "/.run/state"));
	assert_non_null(strstr(cfg.agent.runtime_dir, "/.run/run"));
	assert_true(cfg.agent.state_dir[0] == '/');
	tfo_config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_sane),
		cmocka_unit_test(test_example_matches_table),
		cmocka_unit_test(test_example_edited),
		cmocka_unit_test(test_example_parses_to_defaults),
		cmocka_unit_test(test_reference_matches_table),
		cmocka_unit_test(test_dev_config),
	};

	for (const char *const *e = (const char *const[]){ "TELEMETRYFLOW_API_KEY_ID",
	    "TELEMETRYFLOW_API_KEY_SECRET", "TELEMETRYFLOW_ENDPOINT", "TELEMETRYFLOW_ENVIRONMENT",
	    "TELEMETRYFLOW_AGENT_ID", "TELEMETRYFLOW_AGENT_NAME", NULL }; *e; e++)
		unsetenv(*e);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
