/*
 * test_config_bad.c - every bad-input class of the config loader, each
 * asserting the exact diagnostic line "FILE:LINE:COL: KEY: message".
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

#include "common/config.h"

struct bad_case {
	const char *name;
	const char *yaml;
	const char *want;       /* the first diagnostic, formatted */
	int index;              /* which diagnostic, when not the first */
};

static const struct bad_case cases[] = {
	{ "unknown_key_suggest", "collectors:\n  system:\n    intervl: 5s\n",
	  "t.yaml:3:5: collectors.system.intervl: unknown key \"intervl\"; did you mean \"interval\"?", 0 },
	{ "unknown_key_top_suggest", "telemetryflw:\n  endpoint: x:1\n",
	  "t.yaml:1:1: telemetryflw: unknown key \"telemetryflw\"; did you mean \"telemetryflow\"?", 0 },
	{ "unknown_key_plain", "frobnicate: 1\n",
	  "t.yaml:1:1: frobnicate: unknown key \"frobnicate\"", 0 },
	{ "bool_wrong", "heartbeat:\n  enabled: yes\n",
	  "t.yaml:2:12: heartbeat.enabled: expected true or false, got \"yes\"", 0 },
	{ "bool_privileged_reads", "collectors:\n  process:\n    privileged_reads: no\n",
	  "t.yaml:3:23: collectors.process.privileged_reads: expected true or false, got \"no\"", 0 },
	{ "bool_privileged_reads_list", "collectors:\n  process:\n    privileged_reads: [true]\n",
	  "t.yaml:3:23: collectors.process.privileged_reads: expected a scalar, got a list", 0 },
	{ "scalar_got_mapping", "heartbeat:\n  interval:\n    a: 1\n",
	  "t.yaml:3:5: heartbeat.interval: expected a scalar, got a mapping", 0 },
	{ "list_got_scalar", "collectors:\n  logs:\n    paths: /var/log/x.log\n",
	  "t.yaml:3:12: collectors.logs.paths: expected a list, got a scalar", 0 },
	{ "list_entry_not_scalar", "collectors:\n  logs:\n    paths: [[a]]\n",
	  "t.yaml:3:13: collectors.logs.paths: expected a scalar list entry, got a list", 0 },
	{ "section_got_scalar", "telemetryflow: 5\n",
	  "t.yaml:1:16: telemetryflow: expected a mapping, got a scalar", 0 },
	{ "uint_garbage", "collectors:\n  process:\n    top_n: ten\n",
	  "t.yaml:3:12: collectors.process.top_n: expected an unsigned integer, got \"ten\"", 0 },
	{ "uint_negative", "collectors:\n  process:\n    top_n: -5\n",
	  "t.yaml:3:12: collectors.process.top_n: expected an unsigned integer, got \"-5\"", 0 },
	{ "uint_overflow", "buffer:\n  max_size_mb: 99999999999999999999999\n",
	  "t.yaml:2:16: buffer.max_size_mb: expected an unsigned integer, got \"99999999999999999999999\"", 0 },
	{ "uint_out_of_range", "collectors:\n  process:\n    top_n: 0\n",
	  "t.yaml:3:12: collectors.process.top_n: out of range: 0 (allowed 1..10000)", 0 },
	{ "duration_out_of_range", "collectors:\n  system:\n    interval: 500ms\n",
	  "t.yaml:3:15: collectors.system.interval: out of range: 500ms (allowed 1s..1d)", 0 },
	{ "duration_bad_unit", "collectors:\n  system:\n    interval: 15x\n",
	  "t.yaml:3:15: collectors.system.interval: bad duration \"15x\": expected a number with "
	  "a unit ms, s, m, h or d (e.g. 15s, 1m30s)", 0 },
	{ "duration_no_unit", "heartbeat:\n  interval: 15\n",
	  "t.yaml:2:13: heartbeat.interval: bad duration \"15\": expected a number with "
	  "a unit ms, s, m, h or d (e.g. 15s, 1m30s)", 0 },
	{ "duration_overflow", "buffer:\n  max_age: 99999999999999999999d\n",
	  "t.yaml:2:12: buffer.max_age: bad duration \"99999999999999999999d\": expected a number "
	  "with a unit ms, s, m, h or d (e.g. 15s, 1m30s)", 0 },
	{ "size_bad_suffix", "collectors:\n  logs:\n    max_line_size: 64KB\n",
	  "t.yaml:3:20: collectors.logs.max_line_size: bad size \"64KB\": expected bytes, "
	  "optionally with KiB, MiB or GiB (e.g. 65536, 64KiB)", 0 },
	{ "line_size_over_put", "collectors:\n  logs:\n    max_line_size: 1MiB\n",
	  "t.yaml:3:20: collectors.logs.max_line_size: out of range: 1MiB (allowed 256..512KiB)", 0 },
	{ "size_out_of_range", "exporter:\n  batch_max_bytes: 1GiB\n",
	  "t.yaml:2:20: exporter.batch_max_bytes: out of range: 1GiB (allowed 4KiB..16MiB)", 0 },
	{ "enum_bad", "telemetryflow:\n  protocol: udp\n",
	  "t.yaml:2:13: telemetryflow.protocol: bad value \"udp\": allowed values are grpc, http", 0 },
	{ "enum_bad_seccomp", "supervisor:\n  sandbox:\n    seccomp: trap\n",
	  "t.yaml:3:14: supervisor.sandbox.seccomp: bad value \"trap\": allowed values are "
	  "kill, log, off", 0 },
	{ "double_out_of_range", "telemetryflow:\n  retry:\n    multiplier: 0.5\n",
	  "t.yaml:3:17: telemetryflow.retry.multiplier: out of range: 0.5 (allowed 1..10)", 0 },
	{ "double_garbage", "telemetryflow:\n  retry:\n    multiplier: nan\n",
	  "t.yaml:3:17: telemetryflow.retry.multiplier: expected a number, got \"nan\"", 0 },
	{ "duplicate_key", "heartbeat:\n  interval: 10s\n  interval: 20s\n",
	  "t.yaml:3:3: heartbeat.interval: duplicate key (first at line 2)", 0 },
	{ "duplicate_section", "logging:\n  level: info\nlogging:\n  format: json\n",
	  "t.yaml:3:1: logging: duplicate key (first at line 1)", 0 },
	{ "duplicate_tag", "agent:\n  tags:\n    team: a\n    team: b\n",
	  "t.yaml:4:5: agent.tags.team: duplicate key", 0 },
	{ "syntax_flow", "telemetryflow:\n  endpoint: [a, b\n",
	  "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a "
	  "flow sequence at line 2)", 0 },
	{ "syntax_tab", "agent:\n\tname: x\n",
	  "t.yaml:2:1: YAML syntax error: found character that cannot start any token "
	  "(while scanning for the next token at line 2)", 0 },
	{ "syntax_mapping_value", "agent: name: x\n",
	  "t.yaml:1:12: YAML syntax error: mapping values are not allowed in this context", 0 },
	{ "syntax_unterminated_quote", "agent:\n  name: \"abc\n",
	  "t.yaml:3:1: YAML syntax error: found unexpected end of stream (while scanning a "
	  "quoted scalar at line 2)", 0 },
	{ "missing_logs_paths", "collectors:\n  logs:\n    enabled: true\n",
	  "t.yaml:3:5: collectors.logs.paths: missing required key (needed when "
	  "collectors.logs.enabled is true)", 0 },
	{ "missing_tls_key", "telemetryflow:\n  tls:\n    enabled: true\n    cert_file: /etc/c.pem\n",
	  "t.yaml:4:5: telemetryflow.tls.key_file: missing required key (needed when "
	  "telemetryflow.tls.cert_file is set)", 0 },
	{ "missing_tls_cert", "telemetryflow:\n  tls:\n    key_file: /etc/k.pem\n",
	  "t.yaml:3:5: telemetryflow.tls.cert_file: missing required key (needed when "
	  "telemetryflow.tls.key_file is set)", 0 },
	{ "empty_required", "supervisor:\n  users:\n    system: \"\"\n",
	  "t.yaml:3:13: supervisor.users.system: must not be empty", 0 },
	{ "string_too_long", "supervisor:\n  group: abcdefghijklmnopqrstuvwxyzabcdefghij\n",
	  "t.yaml:2:10: supervisor.group: too long: 36 bytes (max 32)", 0 },
	{ "missing_value", "heartbeat:\n  interval:\n",
	  "t.yaml:2:12: heartbeat.interval: missing value", 0 },
	{ "anchor", "agent:\n  name: &n foo\n",
	  "t.yaml:2:9: agent.name: YAML anchors and aliases are not supported", 0 },
	{ "alias", "agent:\n  name: foo\n  hostname: *n\n",
	  "t.yaml:3:13: agent.hostname: YAML anchors and aliases are not supported", 0 },
	{ "billion_laughs", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
	  "t.yaml:1:1: a: unknown key \"a\"", 0 },
	{ "env_unterminated", "agent:\n  name: ${HOME\n",
	  "t.yaml:2:9: agent.name: unterminated \"${\" in value", 0 },
	{ "env_unset", "agent:\n  name: ${TFO_TEST_SURELY_UNSET}\n",
	  "t.yaml:2:9: agent.name: environment variable TFO_TEST_SURELY_UNSET is not set "
	  "(use ${TFO_TEST_SURELY_UNSET:-default})", 0 },
	{ "env_bad_name", "agent:\n  name: x${1A}\n",
	  "t.yaml:2:9: agent.name: bad variable name in \"${1A}\"", 0 },
	{ "env_bad_operator", "agent:\n  name: ${A:=b}\n",
	  "t.yaml:2:9: agent.name: bad variable name in \"${A:=b}\"", 0 },
	{ "top_level_list", "- a\n- b\n",
	  "t.yaml:1:1: the top level must be a mapping, got a list", 0 },
	{ "two_documents", "logging:\n  level: info\n---\nlogging: {}\n",
	  "t.yaml:3:1: only one YAML document is allowed", 0 },
	/* a bounded pair with both keys written and in conflict (one written alone:
	 * the other's default follows, test_config_good) */
	{ "retry_order", "telemetryflow:\n  retry:\n    initial_interval: 2m\n"
	  "    max_interval: 1m\n",
	  "t.yaml:3:5: telemetryflow.retry.initial_interval: must not exceed "
	  "telemetryflow.retry.max_interval (1m)", 0 },
	{ "backoff_order", "supervisor:\n  restart:\n    backoff_max: 1s\n"
	  "    backoff_initial: 2s\n",
	  "t.yaml:4:5: supervisor.restart.backoff_initial: must not exceed "
	  "supervisor.restart.backoff_max (1s)", 0 },
	{ "heartbeat_order", "heartbeat:\n  interval: 5s\n  timeout: 6s\n",
	  "t.yaml:3:3: heartbeat.timeout: must not exceed heartbeat.interval (5s)", 0 },
	/* the heartbeat period never moves to fit a timeout: refused on the key written */
	{ "heartbeat_timeout_alone", "heartbeat:\n  timeout: 2m\n",
	  "t.yaml:2:3: heartbeat.timeout: must not exceed heartbeat.interval (1m)", 0 },
	{ "ping_order", "supervisor:\n  ping_interval: 20s\n  hung_timeout: 15s\n",
	  "t.yaml:2:3: supervisor.ping_interval: must be less than supervisor.hung_timeout (15s)", 0 },
	{ "ping_order_equal", "supervisor:\n  hung_timeout: 2s\n  ping_interval: 2s\n",
	  "t.yaml:3:3: supervisor.ping_interval: must be less than supervisor.hung_timeout (2s)", 0 },
	{ "bad_endpoint", "telemetryflow:\n  endpoint: localhost\n",
	  "t.yaml:2:3: telemetryflow.endpoint: bad endpoint \"localhost\": expected host:port "
	  "or an http:// or https:// URL", 0 },
	{ "bad_endpoint_port", "telemetryflow:\n  endpoints: [a:1, \"b:99999\"]\n",
	  "t.yaml:2:3: telemetryflow.endpoints: bad endpoint \"b:99999\": expected host:port "
	  "or an http:// or https:// URL", 0 },
	{ "endpoint_conflict", "telemetryflow:\n  endpoints: [a:1, b:2]\n  endpoint: c:3\n",
	  "t.yaml:3:3: telemetryflow.endpoint: conflicts with telemetryflow.endpoints[0] \"a:1\"; "
	  "set only one of them", 0 },
	{ "bad_api_url", "telemetryflow:\n  api_endpoint: ftp://x/api\n",
	  "t.yaml:2:3: telemetryflow.api_endpoint: bad URL \"ftp://x/api\": expected http:// or "
	  "https://", 0 },
	{ "key_not_scalar", "? [a]\n: 1\n",
	  "t.yaml:1:3: mapping keys must be scalars", 0 },
	{ "nul_in_value", "agent:\n  name: \"a\\0b\"\n",
	  "t.yaml:2:9: agent.name: value contains a NUL byte", 0 },
	{ "control_char", "telemetryflow:\n  api_key_id: \"tfk\\r\\nX-Evil: 1\"\n",
	  "t.yaml:2:15: telemetryflow.api_key_id: contains a control character (0x0d)", 0 },
	{ "control_char_list", "collectors:\n  logs:\n    exclude: [\"a\\tb\"]\n",
	  "t.yaml:3:15: collectors.logs.exclude: contains a control character (0x09)", 0 },
	{ "empty_list_entry", "collectors:\n  process:\n    include: [\"\"]\n",
	  "t.yaml:3:15: collectors.process.include: empty list entry", 0 },
	{ "tags_not_mapping", "agent:\n  tags: [a]\n",
	  "t.yaml:2:9: agent.tags: expected a mapping, got a list", 0 },
	{ "nesting_too_deep", "x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "t.yaml:1:35: nesting deeper than 32 levels", 0 },
	{ "second_error_kept", "heartbeat:\n  enabled: maybe\n  interval: 1\n",
	  "t.yaml:3:13: heartbeat.interval: bad duration \"1\": expected a number with a unit "
	  "ms, s, m, h or d (e.g. 15s, 1m30s)", 1 },
};

static void
assert_diag(const struct tfo_cfg_diags *d, size_t index, const char *file, const char *want)
{
	char got[1024];

	if (d->n <= index)
		fail_msg("expected diagnostic #%zu \"%s\", got %zu diagnostics", index, want, d->n);
	tfo_cfg_diag_format(NULL, file, &d->d[index], got, sizeof(got));
	assert_string_equal(got, want);
}

static void
run_bad(void **state)
{
	const struct bad_case *c = *state;
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	assert_int_equal(tfo_config_load_string("t.yaml", c->yaml, strlen(c->yaml), &cfg, &d), -1);
	assert_true(d.errors > 0);
	assert_diag(&d, (size_t)c->index, d.file, c->want);
	/* a failed load leaves nothing allocated */
	assert_null(cfg.path);
	assert_null(cfg.telemetryflow.endpoint);
}

static void
test_list_too_long(void **state)
{
	char yaml[4096];
	size_t o = (size_t)snprintf(yaml, sizeof(yaml), "collectors:\n  process:\n    include: [");
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	for (int i = 0; i <= TFO_CFG_MAX_LIST; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "%sp%d", i ? ", " : "", i);
	snprintf(yaml + o, sizeof(yaml) - o, "]\n");
	assert_int_equal(tfo_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &d), -1);
	assert_int_equal(d.n, 1);       /* one error, not one per extra entry */
	assert_diag(&d, 0, "t.yaml", "t.yaml:3:325: collectors.process.include: too many entries (max 64)");
}

static void
test_value_too_long(void **state)
{
	char *yaml = malloc(6000);
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	memcpy(yaml, "agent:\n  name: ", 15);
	memset(yaml + 15, 'x', 5000);
	strcpy(yaml + 5015, "\n");
	assert_int_equal(tfo_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &d), -1);
	assert_diag(&d, 0, "t.yaml", "t.yaml:2:9: agent.name: value too long (max 4096 bytes)");
	free(yaml);
}

static void
test_too_many_errors(void **state)
{
	char *yaml = malloc(100 * 16);
	size_t o = 0;
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(yaml + o, "bogus%03d: 1\n", i);
	assert_int_equal(tfo_config_load_string("t.yaml", yaml, o, &cfg, &d), -1);
	assert_int_equal(d.n, TFO_CFG_MAX_DIAGS);
	assert_diag(&d, TFO_CFG_MAX_DIAGS - 1, "t.yaml", "t.yaml:64:1: bogus063: too many errors, stopping");
	free(yaml);
}

static void
test_unreadable(void **state)
{
	struct tfo_config cfg;
	struct tfo_cfg_diags d;
	char line[512];

	(void)state;
	assert_int_equal(tfo_config_load("/nonexistent/tfo.yaml", &cfg, &d), -1);
	assert_diag(&d, 0, d.file, "/nonexistent/tfo.yaml: cannot read: No such file or directory");
	assert_int_equal(tfo_config_load("/", &cfg, &d), -1);
	tfo_cfg_diag_format(NULL, NULL, &d.d[0], line, sizeof(line));
	assert_string_equal(line, "<config>: cannot read: not a regular file");
	assert_diag(&d, 0, d.file, "/: cannot read: not a regular file");
}

static void
test_env_override_bad(void **state)
{
	char big[300];
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("TELEMETRYFLOW_ENVIRONMENT", big, 1);
	assert_int_equal(tfo_config_load_string("t.yaml", "", 0, &cfg, &d), -1);
	unsetenv("TELEMETRYFLOW_ENVIRONMENT");
	assert_diag(&d, 0, "t.yaml", "t.yaml: telemetryflow.environment: from "
	    "TELEMETRYFLOW_ENVIRONMENT: too long: 299 bytes (max 256)");
}

static void
test_runtime_dir_too_long(void **state)
{
	char yaml[512], want[512], cwd[256];
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* relative: checked once absolute, against the unix socket path limit */
	snprintf(yaml, sizeof(yaml), "agent:\n  runtime_dir: %.*s\n", (int)(90 - strlen(cwd)),
	    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
	snprintf(want, sizeof(want), "t.yaml:2:3: agent.runtime_dir: too long once made absolute: "
	    "91 bytes (max 90)");
	if (strlen(cwd) >= 89)
		skip();
	assert_int_equal(tfo_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &d), -1);
	assert_diag(&d, 0, "t.yaml", want);
}

/* load_temp - write yaml to a temp file with mode, load it */
static int
load_temp(const char *yaml, mode_t mode, char *path, size_t pathsz, struct tfo_config *cfg,
    struct tfo_cfg_diags *d)
{
	int fd, rc;

	snprintf(path, pathsz, "/tmp/tfo-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	rc = tfo_config_load(path, cfg, d);
	unlink(path);
	return rc;
}

static void
test_secret_world_readable(void **state)
{
	static const char yaml[] = "telemetryflow:\n  api_key_id: tfk_1\n  api_key_secret: tfs_x\n";
	char path[64], want[512];
	struct tfo_config cfg;
	struct tfo_cfg_diags d;

	(void)state;
	assert_int_equal(load_temp(yaml, 0644, path, sizeof(path), &cfg, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.errors, 0);
	assert_true(d.d[0].warning);
	snprintf(want, sizeof(want), "%s:3:3: warning: telemetryflow.api_key_secret: secret in a "
	    "file readable by other users (mode 0644); chmod 600 the file or use "
	    "TELEMETRYFLOW_API_KEY_SECRET", path);
	assert_diag(&d, 0, d.file, want);
	tfo_config_free(&cfg);

	assert_int_equal(load_temp(yaml, 0600, path, sizeof(path), &cfg, &d), 0);
	assert_int_equal(d.n, 0);
	tfo_config_free(&cfg);

	/* the secret comes from the environment: nothing secret in the file */
	setenv("TFO_TEST_SECRET", "tfs_env", 1);
	assert_int_equal(load_temp("telemetryflow:\n  api_key_secret: ${TFO_TEST_SECRET}\n", 0644,
	    path, sizeof(path), &cfg, &d), 0);
	unsetenv("TFO_TEST_SECRET");
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg.telemetryflow.api_key_secret, "tfs_env");
	tfo_config_free(&cfg);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_list_too_long),
		cmocka_unit_test(test_value_too_long),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_env_override_bad),
		cmocka_unit_test(test_runtime_dir_too_long),
		cmocka_unit_test(test_secret_world_readable),
	};
	size_t nc = sizeof(cases) / sizeof(cases[0]), nf = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t = calloc(nc + nf, sizeof(*t));
	int rc;

	for (const char *const *e = (const char *const[]){ "TELEMETRYFLOW_API_KEY_ID",
	    "TELEMETRYFLOW_API_KEY_SECRET", "TELEMETRYFLOW_ENDPOINT", "TELEMETRYFLOW_ENVIRONMENT",
	    "TELEMETRYFLOW_AGENT_ID", "TELEMETRYFLOW_AGENT_NAME", NULL }; *e; e++)
		unsetenv(*e);
	for (size_t i = 0; i < nc; i++) {
		t[i].name = cases[i].name;
		t[i].test_func = run_bad;
		t[i].initial_state = (void *)&cases[i];
	}
	memcpy(t + nc, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("config_bad", t, nc + nf, NULL, NULL);
	free(t);
	return rc;
}
