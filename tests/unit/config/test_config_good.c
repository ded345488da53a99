/*
 * test_config_good.c - valid configs: every value type, durations and sizes,
 * ${VAR} expansion, TELEMETRYFLOW_* overrides, defaults, relative paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/config_impl.h"

static const char *const env_overrides[] = {
	"TELEMETRYFLOW_API_KEY_ID", "TELEMETRYFLOW_API_KEY_SECRET", "TELEMETRYFLOW_ENDPOINT",
	"TELEMETRYFLOW_ENVIRONMENT", "TELEMETRYFLOW_AGENT_ID", "TELEMETRYFLOW_AGENT_NAME", NULL,
};

static int
clear_env(void **state)
{
	(void)state;
	for (const char *const *e = env_overrides; *e; e++)
		unsetenv(*e);
	return 0;
}

static void
load_ok(const char *yaml, struct tfo_config *cfg)
{
	struct tfo_cfg_diags d;
	int rc = tfo_config_load_string("t.yaml", yaml, strlen(yaml), cfg, &d);

	if (rc != 0 || d.n != 0) {
		tfo_cfg_diags_print(stderr, NULL, &d);
		fail_msg("load failed");
	}
}

/* same_as_defaults - every row of cfg formats like the defaults' */
static void
assert_same_as_defaults(const struct tfo_config *cfg)
{
	struct tfo_config def;
	char a[2048], b[2048];

	assert_int_equal(tfo_config_defaults(&def), 0);
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		tfo_cfg_fmt_value(&tfo_cfg_rows[i], cfg, a, sizeof(a));
		tfo_cfg_fmt_value(&tfo_cfg_rows[i], &def, b, sizeof(b));
		if (strcmp(a, b) != 0)
			fail_msg("%s: %s != default %s", tfo_cfg_rows[i].key, a, b);
	}
	tfo_config_free(&def);
}

static void
test_defaults(void **state)
{
	struct tfo_config cfg;

	(void)state;
	assert_int_equal(tfo_config_defaults(&cfg), 0);
	assert_string_equal(cfg.telemetryflow.endpoint, "localhost:4317");
	assert_string_equal(cfg.telemetryflow.protocol, "grpc");
	assert_int_equal(cfg.telemetryflow.timeout_ms, 10000);
	assert_string_equal(cfg.telemetryflow.compression, "gzip");
	assert_int_equal(cfg.telemetryflow.retry_initial_ms, 1000);
	assert_int_equal(cfg.telemetryflow.retry_max_ms, 60000);
	assert_true(cfg.telemetryflow.retry_multiplier == 2.0);
	assert_string_equal(cfg.telemetryflow.api_endpoint, "http://localhost:8080/api/v1");
	assert_string_equal(cfg.telemetryflow.environment, "production");
	assert_string_equal(cfg.telemetryflow.tls.min_version, "1.2");
	assert_string_equal(cfg.agent.state_dir, "/var/lib/tfo-agent");
	assert_string_equal(cfg.agent.runtime_dir, "/run/tfo-agent");
	assert_true(cfg.heartbeat.enabled);
	assert_int_equal(cfg.heartbeat.interval_ms, 60000);
	assert_int_equal(cfg.heartbeat.timeout_ms, 10000);
	assert_int_equal(cfg.system.interval_ms, 15000);
	assert_true(cfg.system.cpu && cfg.system.memory && cfg.system.disk && cfg.system.network &&
	    cfg.system.filesystem && cfg.system.load && cfg.system.paging && cfg.system.processes);
	assert_true(cfg.process.enabled);
	assert_int_equal(cfg.process.interval_ms, 30000);
	assert_int_equal(cfg.process.top_n, 20);
	assert_int_equal(cfg.process.cmdline_max_len, 1024);
	assert_true(cfg.process.privileged_reads);      /* issue 9: exe, io of every process */
	assert_false(cfg.logs.enabled);
	assert_string_equal(cfg.logs.start_at, "end");
	assert_int_equal(cfg.logs.max_line_size, 65536);
	assert_int_equal(cfg.logs.multiline_timeout_ms, 1000);
	assert_int_equal(cfg.logs.batch_max_lines, 10000);
	assert_int_equal(cfg.logs.batch_max_ms, 200);
	assert_int_equal(cfg.exporter.batch_max_bytes, 262144);
	assert_int_equal(cfg.exporter.flush_interval_ms, 10000);
	assert_int_equal(cfg.exporter.max_in_flight, 2);
	assert_int_equal(cfg.exporter.shutdown_drain_ms, 20000);
	assert_string_equal(cfg.buffer.path, "/var/lib/tfo-agent/buffer");
	assert_int_equal(cfg.buffer.max_size_mb, 100);
	assert_int_equal(cfg.buffer.max_age_ms, 86400000);
	assert_true(cfg.buffer.sync);
	assert_string_equal(cfg.logging.level, "info");
	assert_string_equal(cfg.logging.format, "text");
	assert_int_equal(cfg.supervisor.backoff_initial_ms, 500);
	assert_int_equal(cfg.supervisor.backoff_max_ms, 60000);
	assert_int_equal(cfg.supervisor.max_restarts, 5);
	assert_int_equal(cfg.supervisor.window_ms, 300000);
	assert_string_equal(cfg.supervisor.users[TFO_ROLE_SYSTEM], "tfo-system");
	assert_string_equal(cfg.supervisor.users[TFO_ROLE_HEARTBEAT], "tfo-heartbeat");
	assert_string_equal(cfg.supervisor.group, "tfo-agent");
	assert_string_equal(cfg.supervisor.admin_group, "tfo-admin");
	assert_int_equal(cfg.supervisor.watchdog_ms, 0);
	assert_int_equal(cfg.supervisor.ping_interval_ms, 7500);
	assert_int_equal(cfg.supervisor.hung_timeout_ms, 15000);
	assert_string_equal(cfg.supervisor.seccomp, "kill");
	tfo_config_free(&cfg);
	tfo_config_free(&cfg);          /* idempotent */
}

static void
test_empty_documents(void **state)
{
	static const char *const empties[] = { "", "# nothing\n", "---\n", "~\n", "{}\n",
	    "telemetryflow:\ncollectors:\n  logs:\n", NULL };
	struct tfo_config cfg;

	(void)state;
	for (const char *const *e = empties; *e; e++) {
		load_ok(*e, &cfg);
		assert_string_equal(cfg.path, "t.yaml");
		assert_same_as_defaults(&cfg);
		tfo_config_free(&cfg);
	}
}

static void
test_every_type(void **state)
{
	static const char yaml[] =
	    "telemetryflow:\n"
	    "  endpoint: \"https://otel.example.com:4318\"\n"          /* string, quoted */
	    "  protocol: http\n"                                       /* enum */
	    "  timeout: 1m30s\n"                                       /* compound duration */
	    "  tls: {enabled: True, min_version: \"1.3\", cert_file: /c.pem, key_file: /k.pem}\n"
	    "  retry:\n    multiplier: 1.5\n    initial_interval: 250ms\n"
	    "agent:\n"
	    "  name: ~\n  hostname:\n  id: \"~\"\n"                       /* null = empty string */
	    "  tags:\n    team: core\n    region: ${TFO_T_REGION:-eu-west-1}\n"   /* map */
	    "heartbeat:\n  enabled: false\n"                           /* bool */
	    "collectors:\n"
	    "  system:\n    disk_paths:\n      - /\n      - /data\n    exclude_mounts: ~\n"
	    "  process:\n    top_n: 50\n    privileged_reads: false\n" /* u32, bool */
	    "  logs:\n    enabled: true\n    paths: [/var/log/*.log]\n    max_line_size: 512KiB\n"
	    "    multiline:\n      start_pattern: '^\\d{4}-'\n      timeout: 2s\n"
	    "exporter:\n  batch_max_bytes: 65536\n"                    /* size without unit */
	    "buffer:\n  max_size_mb: 1048576\n  max_age: 365d\n"      /* u64, duration64 */
	    "supervisor:\n  watchdog: 0\n  users:\n    logs: adm-logs\n";
	struct tfo_config cfg;

	(void)state;
	unsetenv("TFO_T_REGION");
	load_ok(yaml, &cfg);
	assert_string_equal(cfg.telemetryflow.endpoint, "https://otel.example.com:4318");
	assert_string_equal(cfg.telemetryflow.protocol, "http");
	assert_int_equal(cfg.telemetryflow.timeout_ms, 90000);
	assert_true(cfg.telemetryflow.tls.enabled);
	assert_string_equal(cfg.telemetryflow.tls.min_version, "1.3");
	assert_true(cfg.telemetryflow.retry_multiplier == 1.5);
	assert_int_equal(cfg.telemetryflow.retry_initial_ms, 250);
	assert_int_equal(cfg.agent.ntags, 2);
	assert_string_equal(cfg.agent.tags[0].key, "team");
	assert_string_equal(cfg.agent.tags[0].value, "core");
	assert_string_equal(cfg.agent.tags[1].key, "region");
	assert_string_equal(cfg.agent.tags[1].value, "eu-west-1");
	assert_false(cfg.heartbeat.enabled);
	assert_int_equal(cfg.system.disk_paths.n, 2);
	assert_string_equal(cfg.system.disk_paths.v[1], "/data");
	assert_int_equal(cfg.system.exclude_mounts.n, 0);
	assert_int_equal(cfg.process.top_n, 50);
	assert_false(cfg.process.privileged_reads);
	assert_true(cfg.logs.enabled);
	assert_string_equal(cfg.logs.paths.v[0], "/var/log/*.log");
	assert_int_equal(cfg.logs.max_line_size, 524288);
	assert_string_equal(cfg.logs.multiline_start_pattern, "^\\d{4}-");
	assert_int_equal(cfg.logs.multiline_timeout_ms, 2000);
	assert_int_equal(cfg.exporter.batch_max_bytes, 65536);
	assert_int_equal(cfg.buffer.max_size_mb, 1048576);
	assert_true(cfg.buffer.max_age_ms == 365ull * 86400000);
	assert_string_equal(cfg.supervisor.users[TFO_ROLE_LOGS], "adm-logs");
	assert_string_equal(cfg.agent.name, "");
	assert_string_equal(cfg.agent.hostname, "");
	assert_string_equal(cfg.agent.id, "~");        /* quoted: a string, not null */
	tfo_config_free(&cfg);
}

/* dur - a CT_DUR64 row with no bounds, to test the duration grammar alone */
static int
dur(const char *text, uint64_t *ms)
{
	struct cfg_row r = { .key = "x", .type = CT_DUR64, .max = UINT64_MAX,
	    .off = offsetof(struct tfo_config, buffer.max_age_ms) };
	struct tfo_config cfg = { 0 };
	char err[256];
	int rc = tfo_cfg_set(&r, &cfg, text, err, sizeof(err));

	*ms = cfg.buffer.max_age_ms;
	return rc;
}

static void
test_durations(void **state)
{
	static const struct { const char *text; uint64_t ms; } ok[] = {
		{ "0", 0 }, { "500ms", 500 }, { "15s", 15000 }, { "1m", 60000 }, { "2h", 7200000 },
		{ "1d", 86400000 }, { "1m30s", 90000 }, { "1h0m5s10ms", 3605010 }, { "0s", 0 },
	};
	static const char *const bad[] = { "", "15", "s", "1.5s", "-1s", "1 s", "1sm", "1S",
	    "1m1", "18446744073709551615d", "ms", " 1s", NULL };
	uint64_t ms;
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(dur(ok[i].text, &ms), 0);
		assert_true(ms == ok[i].ms);
	}
	for (const char *const *b = bad; *b; b++)
		if (dur(*b, &ms) == 0)
			fail_msg("duration \"%s\" accepted", *b);
	tfo_cfg_fmt_duration(90000, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	tfo_cfg_fmt_duration(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1500ms");
	tfo_cfg_fmt_size(65536, buf, sizeof(buf));
	assert_string_equal(buf, "64KiB");
	tfo_cfg_fmt_size(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1000");
}

static void
test_env_expansion(void **state)
{
	static const char yaml[] =
	    "telemetryflow:\n"
	    "  endpoint: \"${TFO_T_HOST}:4317\"\n"
	    "  environment: ${TFO_T_EMPTY:-staging}\n"
	    "  api_key_id: ${TFO_T_UNSET:-}\n"
	    "agent:\n"
	    "  name: a$$b-$x-${TFO_T_HOST}${TFO_T_HOST}\n"
	    "  hostname: ${TFO_T_HOST:-ignored}\n";
	struct tfo_config cfg;

	(void)state;
	setenv("TFO_T_HOST", "collector", 1);
	setenv("TFO_T_EMPTY", "", 1);
	unsetenv("TFO_T_UNSET");
	load_ok(yaml, &cfg);
	assert_string_equal(cfg.telemetryflow.endpoint, "collector:4317");
	assert_string_equal(cfg.telemetryflow.environment, "staging");
	assert_string_equal(cfg.telemetryflow.api_key_id, "");
	assert_string_equal(cfg.agent.name, "a$b-$x-collectorcollector");
	assert_string_equal(cfg.agent.hostname, "collector");
	tfo_config_free(&cfg);
	unsetenv("TFO_T_HOST");
	unsetenv("TFO_T_EMPTY");
}

static void
test_expand_bounds(void **state)
{
	char out[16], err[256], big[64];

	(void)state;
	assert_int_equal(tfo_cfg_expand("abc", 3, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "abc");
	/* only len bytes are read: "${" at the very end is unterminated */
	assert_int_equal(tfo_cfg_expand("ab${X}", 4, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "unterminated \"${\" in value");
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("TFO_T_BIG", big, 1);
	assert_int_equal(tfo_cfg_expand("${TFO_T_BIG}", 12, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "value too long after expansion (max 15 bytes)");
	unsetenv("TFO_T_BIG");
	assert_int_equal(tfo_cfg_expand("${}", 3, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "bad variable name in \"${}\"");
}

static void
test_env_overrides(void **state)
{
	static const char yaml[] =
	    "telemetryflow:\n"
	    "  endpoints: [a:1, b:2]\n"
	    "  api_key_id: file-id\n"
	    "  environment: file-env\n"
	    "agent:\n  id: file-agent\n  name: file-name\n";
	struct tfo_config cfg;

	(void)state;
	setenv("TELEMETRYFLOW_API_KEY_ID", "tfk_env", 1);
	setenv("TELEMETRYFLOW_API_KEY_SECRET", "tfs_env", 1);
	/* TLS: a secret to a remote host in clear would draw a warning */
	setenv("TELEMETRYFLOW_ENDPOINT", "https://env-host:4317", 1);
	setenv("TELEMETRYFLOW_ENVIRONMENT", "", 1);          /* empty = not set */
	setenv("TELEMETRYFLOW_AGENT_ID", "agent-env", 1);
	setenv("TELEMETRYFLOW_AGENT_NAME", "name-env", 1);
	load_ok(yaml, &cfg);
	clear_env(NULL);
	assert_string_equal(cfg.telemetryflow.api_key_id, "tfk_env");
	assert_string_equal(cfg.telemetryflow.api_key_secret, "tfs_env");
	assert_string_equal(cfg.telemetryflow.endpoint, "https://env-host:4317");
	assert_int_equal(cfg.telemetryflow.endpoints.n, 0);   /* the env names THE endpoint */
	assert_string_equal(cfg.telemetryflow.environment, "file-env");
	assert_string_equal(cfg.agent.id, "agent-env");
	assert_string_equal(cfg.agent.name, "name-env");
	tfo_config_free(&cfg);

	/* without the environment, the file's failover list gives the endpoint */
	load_ok(yaml, &cfg);
	assert_string_equal(cfg.telemetryflow.endpoint, "a:1");
	assert_int_equal(cfg.telemetryflow.endpoints.n, 2);
	assert_string_equal(cfg.telemetryflow.api_key_id, "file-id");
	tfo_config_free(&cfg);
}

static void
test_relative_paths(void **state)
{
	static const char yaml[] =
	    "agent:\n  state_dir: ./.run/state\n  runtime_dir: .run/run\n"
	    "collectors:\n  logs:\n    enabled: true\n    paths: [./.run/demo/*.log, /abs/*.log]\n";
	char cwd[1024], want[1200];
	struct tfo_config cfg;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	load_ok(yaml, &cfg);
	snprintf(want, sizeof(want), "%s/.run/state", cwd);
	assert_string_equal(cfg.agent.state_dir, want);
	snprintf(want, sizeof(want), "%s/.run/run", cwd);
	assert_string_equal(cfg.agent.runtime_dir, want);
	snprintf(want, sizeof(want), "%s/.run/state/buffer", cwd);
	assert_string_equal(cfg.buffer.path, want);
	snprintf(want, sizeof(want), "%s/.run/demo/*.log", cwd);
	assert_string_equal(cfg.logs.paths.v[0], want);
	assert_string_equal(cfg.logs.paths.v[1], "/abs/*.log");
	tfo_config_free(&cfg);
}

static void
test_format_and_summary(void **state)
{
	struct tfo_cfg_diag d = { .warning = 0, .line = 0, .column = 0 };
	struct tfo_config cfg;
	char buf[512];

	(void)state;
	snprintf(d.key, sizeof(d.key), "agent.id");
	snprintf(d.msg, sizeof(d.msg), "boom");
	tfo_cfg_diag_format(NULL, "f.yaml", &d, buf, sizeof(buf));
	assert_string_equal(buf, "f.yaml: agent.id: boom");
	d.line = 3;
	d.column = 7;
	d.warning = 1;
	tfo_cfg_diag_format(NULL, "f.yaml", &d, buf, sizeof(buf));
	assert_string_equal(buf, "f.yaml:3:7: warning: agent.id: boom");
	assert_int_equal(tfo_config_defaults(&cfg), 0);
	tfo_config_summary(&cfg, buf, sizeof(buf));
	assert_string_equal(buf, "endpoint localhost:4317 (grpc, gzip), system 15s, process 30s, "
	    "logs off, heartbeat 1m, self metrics 1m, buffer /var/lib/tfo-agent/buffer (100 MiB, 1d)");
	tfo_config_free(&cfg);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/tfo-cfg-good-XXXXXX";
	static const char yaml[] = "logging:\n  level: debug\n  format: json\n";
	struct tfo_config cfg;
	struct tfo_cfg_diags d;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)sizeof(yaml) - 1);
	close(fd);
	assert_int_equal(tfo_config_load(path, &cfg, &d), 0);
	unlink(path);
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.logging.level, "debug");
	assert_string_equal(cfg.logging.format, "json");
	tfo_config_free(&cfg);
}

/*
 * test_following_defaults - each bounded pair of keys with only one written:
 * the other's default follows it (issue 19: `heartbeat: {interval: 5s}` was
 * refused on heartbeat.timeout, a key the user never wrote), and with
 * neither written the documented defaults stand.
 */
static const struct {
	const char *yaml;
	const char *lo, *hi;        /* keys, formatted values expected */
	const char *lo_want, *hi_want;
} follow_cases[] = {
	{ "heartbeat:\n  interval: 5s\n", "heartbeat.timeout", "heartbeat.interval", "5s", "5s" },
	{ "heartbeat:\n  interval: 1s\n", "heartbeat.timeout", "heartbeat.interval", "1s", "1s" },
	{ "heartbeat:\n  interval: 30s\n", "heartbeat.timeout", "heartbeat.interval", "10s", "30s" },
	{ "heartbeat:\n  timeout: 30s\n", "heartbeat.timeout", "heartbeat.interval", "30s", "1m" },
	{ "telemetryflow:\n  retry:\n    max_interval: 500ms\n",
	  "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", "500ms", "500ms" },
	{ "telemetryflow:\n  retry:\n    max_interval: 5m\n",
	  "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", "1s", "5m" },
	{ "telemetryflow:\n  retry:\n    initial_interval: 2m\n",
	  "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", "2m", "2m" },
	{ "telemetryflow:\n  retry:\n    initial_interval: 30s\n",
	  "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", "30s", "1m" },
	{ "supervisor:\n  restart:\n    backoff_max: 200ms\n",
	  "supervisor.restart.backoff_initial", "supervisor.restart.backoff_max", "200ms", "200ms" },
	{ "supervisor:\n  restart:\n    backoff_initial: 1m\n",
	  "supervisor.restart.backoff_initial", "supervisor.restart.backoff_max", "1m", "1m" },
	{ "supervisor:\n  hung_timeout: 3s\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "1500ms", "3s" },
	{ "supervisor:\n  hung_timeout: 1s\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "500ms", "1s" },
	{ "supervisor:\n  hung_timeout: 1m\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "7500ms", "1m" },
	{ "supervisor:\n  ping_interval: 20s\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "20s", "40s" },
	{ "supervisor:\n  ping_interval: 1m\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "1m", "2m" },
	{ "supervisor:\n  ping_interval: 1s\n", "supervisor.ping_interval", "supervisor.hung_timeout",
	  "1s", "15s" },
	{ "", "heartbeat.timeout", "heartbeat.interval", "10s", "1m" },
	{ "", "supervisor.ping_interval", "supervisor.hung_timeout", "7500ms", "15s" },
	{ "", "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", "1s", "1m" },
	{ "", "supervisor.restart.backoff_initial", "supervisor.restart.backoff_max", "500ms", "1m" },
};

static void
test_following_defaults(void **state)
{
	char lo[64], hi[64];

	(void)state;
	for (size_t i = 0; i < sizeof(follow_cases) / sizeof(follow_cases[0]); i++) {
		struct tfo_config cfg;
		int l = tfo_cfg_row_find(follow_cases[i].lo), h = tfo_cfg_row_find(follow_cases[i].hi);

		assert_true(l >= 0 && h >= 0);
		load_ok(follow_cases[i].yaml, &cfg);
		tfo_cfg_fmt_value(&tfo_cfg_rows[l], &cfg, lo, sizeof(lo));
		tfo_cfg_fmt_value(&tfo_cfg_rows[h], &cfg, hi, sizeof(hi));
		if (strcmp(lo, follow_cases[i].lo_want) != 0 || strcmp(hi, follow_cases[i].hi_want) != 0)
			fail_msg("case %zu (%s): %s=%s %s=%s, want %s %s", i, follow_cases[i].yaml,
			    follow_cases[i].lo, lo, follow_cases[i].hi, hi, follow_cases[i].lo_want,
			    follow_cases[i].hi_want);
		tfo_config_free(&cfg);
	}
}

/*
 * test_plain_secret - issue 24 §4: the API secret sent unencrypted to a host
 * that is not loopback draws a warning naming the key and the endpoint (the
 * load still succeeds); TLS, https:// and loopback draw none.
 */
static const struct {
	const char *yaml;
	const char *want;       /* the one warning, NULL = none */
} plain_cases[] = {
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: collector.example:4317\n",
	  "t.yaml:2:3: warning: telemetryflow.api_key_secret: sent in clear text (no TLS) to "
	  "endpoint collector.example:4317, which is not a loopback address: use an https:// URL "
	  "or telemetryflow.tls.enabled" },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: http://10.0.0.5:4318\n",
	  "t.yaml:2:3: warning: telemetryflow.api_key_secret: sent in clear text (no TLS) to "
	  "endpoint http://10.0.0.5:4318, which is not a loopback address: use an https:// URL "
	  "or telemetryflow.tls.enabled" },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoints: [\"localhost:4317\", "
	  "\"[2001:db8::1]:4317\"]\n",
	  "t.yaml:2:3: warning: telemetryflow.api_key_secret: sent in clear text (no TLS) to "
	  "endpoint [2001:db8::1]:4317, which is not a loopback address: use an https:// URL "
	  "or telemetryflow.tls.enabled" },
	{ "telemetryflow:\n  api_key_secret: s\n  api_endpoint: http://api.example/api/v1\n",
	  "t.yaml:2:3: warning: telemetryflow.api_key_secret: sent in clear text (no TLS) to "
	  "api_endpoint http://api.example/api/v1, which is not a loopback address: use an "
	  "https:// URL or telemetryflow.tls.enabled" },
	{ "telemetryflow:\n  api_key_secret: s\n  api_endpoint: http://api.example/api/v1\n"
	  "heartbeat:\n  enabled: false\n", NULL },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: https://collector.example\n", NULL },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: collector.example:4317\n"
	  "  tls:\n    enabled: true\n", NULL },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: 127.0.0.2:4317\n", NULL },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: \"[::1]:4317\"\n", NULL },
	{ "telemetryflow:\n  api_key_secret: s\n  endpoint: LocalHost:4317\n", NULL },
	{ "telemetryflow:\n  endpoint: collector.example:4317\n", NULL },
};

static void
test_plain_secret(void **state)
{
	char got[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		struct tfo_config cfg;
		struct tfo_cfg_diags d;
		const char *y = plain_cases[i].yaml;

		assert_int_equal(tfo_config_load_string("t.yaml", y, strlen(y), &cfg, &d), 0);
		assert_int_equal(d.errors, 0);
		if (plain_cases[i].want == NULL) {
			if (d.n != 0) {
				tfo_cfg_diags_print(stderr, NULL, &d);
				fail_msg("case %zu: unexpected warning", i);
			}
		} else {
			assert_int_equal(d.n, 1);
			assert_true(d.d[0].warning);
			tfo_cfg_diag_format(NULL, "t.yaml", &d.d[0], got, sizeof(got));
			assert_string_equal(got, plain_cases[i].want);
		}
		tfo_config_free(&cfg);
	}
	/* a secret from the environment: the same warning, at no line */
	setenv("TELEMETRYFLOW_API_KEY_SECRET", "s", 1);
	{
		static const char y[] = "telemetryflow:\n  endpoint: http://192.0.2.1:4318\n";
		struct tfo_config cfg;
		struct tfo_cfg_diags d;

		assert_int_equal(tfo_config_load_string("t.yaml", y, strlen(y), &cfg, &d), 0);
		unsetenv("TELEMETRYFLOW_API_KEY_SECRET");
		assert_int_equal(d.n, 1);
		tfo_cfg_diag_format(NULL, "t.yaml", &d.d[0], got, sizeof(got));
		assert_non_null(strstr(got, "t.yaml: warning: telemetryflow.api_key_secret: sent in "
		    "clear text (no TLS) to endpoint http://192.0.2.1:4318,"));
		tfo_config_free(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_expand_bounds),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_format_and_summary),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_following_defaults),
		cmocka_unit_test(test_plain_secret),
	};

	return cmocka_run_group_tests(tests, clear_env, NULL);
}
