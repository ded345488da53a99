/*
 * config_table.c - THE table of configuration keys (type, default, bounds,
 * field, doc) and the row lookups. Parsing, defaults, validation, the example
 * file and the reference all come from these rows. Runs in supervisor/tfoctl.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/config_impl.h"

#define F(f) offsetof(struct tfo_config, f)
#define SEC  1000ull
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
#define KIB  1024ull
#define MIB  (1024 * KIB)

#define STR(k, d, mn, mx, f, fl, doc_) \
	{ .key = k, .type = CT_STR, .def = d, .min = mn, .max = mx, .off = F(f), .flags = fl, .doc = doc_ }
#define BOOL(k, d, f, doc_) \
	{ .key = k, .type = CT_BOOL, .def = d, .off = F(f), .doc = doc_ }
#define NUM(k, t, d, mn, mx, f, doc_) \
	{ .key = k, .type = t, .def = d, .min = mn, .max = mx, .off = F(f), .doc = doc_ }
#define DBL(k, d, mn, mx, f, doc_) \
	{ .key = k, .type = CT_DOUBLE, .def = d, .dmin = mn, .dmax = mx, .off = F(f), .doc = doc_ }
#define ENUM(k, d, vals, f, doc_) \
	{ .key = k, .type = CT_ENUM, .def = d, .allowed = vals, .off = F(f), .doc = doc_ }
#define LIST(k, mx, f, fl, doc_) \
	{ .key = k, .type = CT_LIST, .max = mx, .off = F(f), .flags = fl, .doc = doc_ }

static const char *const v_protocol[] = { "grpc", "http", NULL };
static const char *const v_compression[] = { "gzip", "none", NULL };
static const char *const v_tls[] = { "1.2", "1.3", NULL };
static const char *const v_start_at[] = { "end", "beginning", NULL };
static const char *const v_level[] = { "debug", "info", "warn", "error", NULL };
static const char *const v_format[] = { "text", "json", NULL };
static const char *const v_seccomp[] = { "kill", "log", "off", NULL };

/* Paths: 4095 bytes (PATH_MAX - 1); user and group names: 32 (useradd). */
const struct cfg_row tfo_cfg_rows[] = {
	STR("telemetryflow.endpoint", "localhost:4317", 1, 1024, telemetryflow.endpoint, 0,
	    "OTLP collector as host:port or http(s):// URL (env TELEMETRYFLOW_ENDPOINT)"),
	LIST("telemetryflow.endpoints", 1024, telemetryflow.endpoints, 0,
	    "failover list, tried in order; when set, endpoint is its first entry"),
	ENUM("telemetryflow.protocol", "grpc", v_protocol, telemetryflow.protocol,
	    "OTLP transport"),
	NUM("telemetryflow.timeout", CT_DUR, "10s", 100, 5 * MIN, telemetryflow.timeout_ms,
	    "per-request export timeout"),
	ENUM("telemetryflow.compression", "gzip", v_compression, telemetryflow.compression,
	    "request body compression"),
	STR("telemetryflow.api_key_id", "", 0, 256, telemetryflow.api_key_id, 0,
	    "X-TelemetryFlow-Key-ID (env TELEMETRYFLOW_API_KEY_ID)"),
	STR("telemetryflow.api_key_secret", "", 0, 1024, telemetryflow.api_key_secret, CF_SECRET,
	    "X-TelemetryFlow-Key-Secret; prefer env TELEMETRYFLOW_API_KEY_SECRET"),
	BOOL("telemetryflow.tls.enabled", "false", telemetryflow.tls.enabled,
	    "TLS to the collector and the API (https:// URLs imply it)"),
	STR("telemetryflow.tls.ca_file", "", 0, 4095, telemetryflow.tls.ca_file, CF_PATH,
	    "PEM CA bundle; empty = system trust store"),
	STR("telemetryflow.tls.cert_file", "", 0, 4095, telemetryflow.tls.cert_file, CF_PATH,
	    "PEM client certificate (needs key_file)"),
	STR("telemetryflow.tls.key_file", "", 0, 4095, telemetryflow.tls.key_file, CF_PATH,
	    "PEM client key (needs cert_file)"),
	BOOL("telemetryflow.tls.insecure_skip_verify", "false",
	    telemetryflow.tls.insecure_skip_verify, "skip server certificate checks (testing only)"),
	ENUM("telemetryflow.tls.min_version", "1.2", v_tls, telemetryflow.tls.min_version,
	    "lowest TLS version accepted"),
	NUM("telemetryflow.retry.initial_interval", CT_DUR, "1s", 10, HOUR,
	    telemetryflow.retry_initial_ms, "first retry delay after a retryable failure; default min(1s, max_interval)"),
	NUM("telemetryflow.retry.max_interval", CT_DUR, "60s", 100, DAY,
	    telemetryflow.retry_max_ms, "retry delay cap; default max(60s, initial_interval)"),
	DBL("telemetryflow.retry.multiplier", "2", 1.0, 10.0, telemetryflow.retry_multiplier,
	    "delay growth factor per failed attempt"),
	STR("telemetryflow.api_endpoint", "http://localhost:8080/api/v1", 1, 1024,
	    telemetryflow.api_endpoint, 0, "TelemetryFlow API base URL (heartbeats)"),
	STR("telemetryflow.environment", "production", 1, 256, telemetryflow.environment, 0,
	    "deployment.environment.name (env TELEMETRYFLOW_ENVIRONMENT)"),

	STR("agent.id", "", 0, 128, agent.id, 0,
	    "agent id; empty = generated once and kept in state_dir (env TELEMETRYFLOW_AGENT_ID)"),
	STR("agent.name", "", 0, 256, agent.name, 0,
	    "display name; empty = the host name (env TELEMETRYFLOW_AGENT_NAME)"),
	STR("agent.hostname", "", 0, 253, agent.hostname, 0, "host.name override; empty = gethostname()"),
	{ .key = "agent.tags", .type = CT_MAP, .max = 1024, .off = F(agent.tags),
	  .off2 = F(agent.ntags), .doc = "extra resource attributes, key: value" },
	STR("agent.state_dir", "/var/lib/tfo-agent", 1, 4095, agent.state_dir, CF_PATH,
	    "persistent state (agent id, buffer)"),
	STR("agent.runtime_dir", "/run/tfo-agent", 1, 90, agent.runtime_dir, CF_PATH,
	    "sockets; at most 90 bytes once absolute (unix socket path limit)"),
	STR("agent.proc_root", "", 0, 4095, agent.proc_root, CF_PATH,
	    "testing: read /proc and /sys under this root; empty = /"),
	BOOL("agent.self_metrics.enabled", "true", agent.self_metrics_enabled,
	    "export the agent's own health as tfo.* metrics (docs/metrics.md); tfo-system runs for them"),
	NUM("agent.self_metrics.interval", CT_DUR, "60s", SEC, HOUR, agent.self_metrics_interval_ms,
	    "self metrics period"),

	BOOL("heartbeat.enabled", "true", heartbeat.enabled, "send heartbeats to api_endpoint"),
	NUM("heartbeat.interval", CT_DUR, "60s", SEC, DAY, heartbeat.interval_ms, "heartbeat period"),
	NUM("heartbeat.timeout", CT_DUR, "10s", 100, 5 * MIN, heartbeat.timeout_ms,
	    "request timeout, at most interval; default min(10s, interval)"),
	BOOL("heartbeat.include_system_info", "true", heartbeat.include_system_info,
	    "add OS, CPU and memory facts"),
	BOOL("heartbeat.cloud_metadata", "false", heartbeat.cloud_metadata,
	    "query the cloud instance metadata service"),
	STR("heartbeat.cloud_metadata_url", "", 0, 1024, heartbeat.cloud_metadata_url, 0,
	    "metadata service URL; empty = provider defaults"),

	BOOL("collectors.system.enabled", "true", system.enabled, "host metrics collector"),
	NUM("collectors.system.interval", CT_DUR, "15s", SEC, DAY, system.interval_ms,
	    "collection period"),
	BOOL("collectors.system.cpu", "true", system.cpu, "system.cpu.*"),
	BOOL("collectors.system.memory", "true", system.memory, "system.memory.*"),
	BOOL("collectors.system.disk", "true", system.disk, "system.disk.*"),
	BOOL("collectors.system.network", "true", system.network, "system.network.*"),
	BOOL("collectors.system.filesystem", "true", system.filesystem, "system.filesystem.*"),
	BOOL("collectors.system.load", "true", system.load, "system.cpu.load_average.*"),
	BOOL("collectors.system.paging", "true", system.paging, "system.paging.*"),
	BOOL("collectors.system.processes", "true", system.processes, "system.process.count"),
	LIST("collectors.system.disk_paths", 4095, system.disk_paths, 0,
	    "mount points to report; empty = all real filesystems"),
	LIST("collectors.system.exclude_mounts", 4095, system.exclude_mounts, 0,
	    "mount point patterns to skip"),

	BOOL("collectors.process.enabled", "true", process.enabled, "per-process metrics collector"),
	NUM("collectors.process.interval", CT_DUR, "30s", SEC, DAY, process.interval_ms,
	    "collection period"),
	NUM("collectors.process.top_n", CT_U32, "20", 1, 10000, process.top_n,
	    "report the N busiest processes"),
	LIST("collectors.process.include", 1024, process.include, 0,
	    "process name patterns to always report"),
	LIST("collectors.process.exclude", 1024, process.exclude, 0,
	    "process name patterns never reported"),
	NUM("collectors.process.cmdline_max_len", CT_U32, "1024", 0, 65536, process.cmdline_max_len,
	    "bytes of command line kept; 0 = none"),
	LIST("collectors.process.redact_patterns", 1024, process.redact_patterns, 0,
	    "command line patterns whose value is replaced by ***"),
	BOOL("collectors.process.privileged_reads", "true", process.privileged_reads,
	    "exe path, disk io, fd count of every process, by the helper tfo-procpriv (docs/security.md)"),

	BOOL("collectors.logs.enabled", "false", logs.enabled, "log file tailer (needs paths)"),
	LIST("collectors.logs.paths", 4095, logs.paths, CF_PATH, "file globs to tail"),
	LIST("collectors.logs.exclude", 4095, logs.exclude, 0, "file globs never tailed"),
	ENUM("collectors.logs.start_at", "end", v_start_at, logs.start_at,
	    "where a newly seen file is read from"),
	/* ceiling: TFO_LOGS_MAX_LINE_MAX (workers/logs/tailer.h), why there */
	NUM("collectors.logs.max_line_size", CT_SIZE, "64KiB", 256, 512 * KIB, logs.max_line_size,
	    "longer lines are split (bytes; KiB/MiB suffixes)"),
	STR("collectors.logs.multiline.start_pattern", "", 0, 1024, logs.multiline_start_pattern, 0,
	    "regex of a record's first line; empty = one record per line"),
	NUM("collectors.logs.multiline.timeout", CT_DUR, "1s", 10, MIN, logs.multiline_timeout_ms,
	    "flush a pending multiline record after this"),
	NUM("collectors.logs.batch_max_lines", CT_U32, "10000", 1, 100000, logs.batch_max_lines,
	    "records per batch sent to the buffer"),
	NUM("collectors.logs.batch_max_ms", CT_U32, "200", 1, 60000, logs.batch_max_ms,
	    "milliseconds a batch may wait to fill"),
	NUM("collectors.logs.rescan_interval", CT_DUR, "10s", 100, HOUR, logs.rescan_interval_ms,
	    "how often globs are expanded again"),
	NUM("collectors.logs.max_open_files", CT_U32, "0", 0, 1048576, logs.max_open_files,
	    "files open at once; 0 = from RLIMIT_NOFILE; beyond, files at their end take turns"),
	LIST("collectors.logs.link_target_dirs", 4095, logs.link_target_dirs, CF_PATH,
	    "directories links among the matches may lead into (e.g. /var/log/pods)"),

	NUM("exporter.batch_max_bytes", CT_SIZE, "256KiB", 4 * KIB, 16 * MIB, exporter.batch_max_bytes,
	    "bytes per export request before compression (a stored batch larger than this, up to 2 MiB of logs, is sent whole)"),
	NUM("exporter.flush_interval", CT_DUR, "10s", 100, HOUR, exporter.flush_interval_ms,
	    "longest wait before a partial batch is sent"),
	NUM("exporter.max_in_flight", CT_U32, "2", 1, 64, exporter.max_in_flight,
	    "concurrent export requests"),
	NUM("exporter.shutdown_drain", CT_DUR, "20s", SEC, 30 * SEC, exporter.shutdown_drain_ms,
	    "at stop, how long the exporter keeps sending what the buffer holds (fits TimeoutStopSec=60s)"),

	STR("buffer.path", "", 0, 4095, buffer.path, CF_PATH,
	    "LevelDB directory; empty = <state_dir>/buffer"),
	NUM("buffer.max_size_mb", CT_U64, "100", 1, 1048576, buffer.max_size_mb,
	    "MiB on disk; oldest data is dropped beyond"),
	NUM("buffer.max_age", CT_DUR64, "24h", MIN, 365 * DAY, buffer.max_age_ms,
	    "older data is dropped"),
	BOOL("buffer.sync", "true", buffer.sync, "fsync each write batch before acknowledging"),

	ENUM("logging.level", "info", v_level, logging.level, "agent log level"),
	ENUM("logging.format", "text", v_format, logging.format, "agent log format"),

	NUM("supervisor.restart.backoff_initial", CT_DUR, "500ms", 10, MIN,
	    supervisor.backoff_initial_ms, "delay before a repeated restart; default min(500ms, backoff_max)"),
	NUM("supervisor.restart.backoff_max", CT_DUR, "60s", 100, HOUR, supervisor.backoff_max_ms,
	    "restart delay cap (doubles per death)"),
	NUM("supervisor.restart.max_restarts", CT_U32, "5", 1, 1000, supervisor.max_restarts,
	    "restarts within window before a worker is fatal"),
	NUM("supervisor.restart.window", CT_DUR, "300s", SEC, DAY, supervisor.window_ms,
	    "window of max_restarts"),
	STR("supervisor.users.system", "tfo-system", 1, 32, supervisor.users[TFO_ROLE_SYSTEM], 0,
	    "user of the system collector"),
	STR("supervisor.users.process", "tfo-process", 1, 32, supervisor.users[TFO_ROLE_PROCESS], 0,
	    "user of the process collector"),
	STR("supervisor.users.logs", "tfo-logs", 1, 32, supervisor.users[TFO_ROLE_LOGS], 0,
	    "user of the log tailer"),
	STR("supervisor.users.buffer", "tfo-buffer", 1, 32, supervisor.users[TFO_ROLE_BUFFER], 0,
	    "user of the buffer"),
	STR("supervisor.users.exporter", "tfo-exporter", 1, 32, supervisor.users[TFO_ROLE_EXPORTER], 0,
	    "user of the exporter"),
	STR("supervisor.users.heartbeat", "tfo-heartbeat", 1, 32,
	    supervisor.users[TFO_ROLE_HEARTBEAT], 0, "user of the heartbeat worker"),
	STR("supervisor.group", "tfo-agent", 1, 32, supervisor.group, 0,
	    "group of every role user (runtime_dir access)"),
	STR("supervisor.admin_group", "tfo-admin", 1, 32, supervisor.admin_group, 0,
	    "group allowed to use tfoctl"),
	NUM("supervisor.watchdog", CT_DUR, "0", 0, HOUR, supervisor.watchdog_ms,
	    "systemd watchdog period; 0 = from WATCHDOG_USEC"),
	NUM("supervisor.ping_interval", CT_DUR, "7500ms", 100, MIN, supervisor.ping_interval_ms,
	    "worker health ping period, below hung_timeout; default min(7500ms, hung_timeout / 2)"),
	NUM("supervisor.hung_timeout", CT_DUR, "15s", SEC, 10 * MIN, supervisor.hung_timeout_ms,
	    "no pong for this long = hung, killed and restarted; default max(15s, 2 * ping_interval)"),
	BOOL("supervisor.pin_workers", "true", supervisor.pin_workers,
	    "each worker bound to one CPU of the supervisor's set, spread by role, and run SCHED_BATCH"),
	ENUM("supervisor.sandbox.seccomp", "kill", v_seccomp, supervisor.seccomp,
	    "seccomp action on a forbidden call; log and off are for debugging"),
};

const size_t tfo_cfg_nrows = sizeof(tfo_cfg_rows) / sizeof(tfo_cfg_rows[0]);

/*
 * The bounded pairs (config_impl.h). heartbeat.interval is a period the
 * server sees: it never moves to fit a timeout (hi_mul 0), so a
 * heartbeat.timeout written above the default interval is refused on the key
 * written. Two pings fit in the hung timeout, as with the defaults (7500ms,
 * 15s): the supervisor checks a hang at the deadline itself (workers.c
 * hung_check), not at the next ping.
 */
const struct cfg_pair tfo_cfg_pairs[] = {
	{ "heartbeat.timeout", "heartbeat.interval", 0, 1, 0 },
	{ "telemetryflow.retry.initial_interval", "telemetryflow.retry.max_interval", 0, 1, 1 },
	/* backoff_initial is at most 1m, the default backoff_max: that never moves */
	{ "supervisor.restart.backoff_initial", "supervisor.restart.backoff_max", 0, 1, 0 },
	{ "supervisor.ping_interval", "supervisor.hung_timeout", 1, 2, 2 },
};

const size_t tfo_cfg_npairs = sizeof(tfo_cfg_pairs) / sizeof(tfo_cfg_pairs[0]);

int
tfo_cfg_row_follows(size_t i)
{
	for (size_t p = 0; i < tfo_cfg_nrows && p < tfo_cfg_npairs; p++)
		if (strcmp(tfo_cfg_pairs[p].lo, tfo_cfg_rows[i].key) == 0 ||
		    (tfo_cfg_pairs[p].hi_mul && strcmp(tfo_cfg_pairs[p].hi, tfo_cfg_rows[i].key) == 0))
			return 1;
	return 0;
}

/* tfo_cfg_row_find - row index of a dotted key, -1 when unknown */
int
tfo_cfg_row_find(const char *key)
{
	for (size_t i = 0; i < tfo_cfg_nrows; i++)
		if (strcmp(tfo_cfg_rows[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* tfo_cfg_is_section - whether some key lies below `path` ("" = the root) */
int
tfo_cfg_is_section(const char *path)
{
	size_t n = strlen(path);

	if (n == 0)
		return 1;
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const char *k = tfo_cfg_rows[i].key;
		if (strncmp(k, path, n) == 0 && k[n] == '.')
			return 1;
	}
	return 0;
}

/* edit_distance - Levenshtein distance, capped: > cap returns cap + 1 */
static size_t
edit_distance(const char *a, size_t la, const char *b, size_t lb, size_t cap)
{
	size_t prev[64], cur[64];

	if (la >= 64 || lb >= 64 || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

/*
 * tfo_cfg_suggest - the known child of `prefix` closest to `name` (edit
 * distance <= 2) into out; 0 when found, -1 otherwise.
 */
int
tfo_cfg_suggest(const char *prefix, const char *name, char *out, size_t outsz)
{
	size_t plen = strlen(prefix), best = 3, nlen = strlen(name);

	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const char *k = tfo_cfg_rows[i].key, *child;
		if (plen) {
			if (strncmp(k, prefix, plen) != 0 || k[plen] != '.')
				continue;
			child = k + plen + 1;
		} else {
			child = k;
		}
		size_t clen = strcspn(child, ".");
		size_t d = edit_distance(name, nlen, child, clen, 2);
		if (d < best && clen < outsz) {
			best = d;
			memcpy(out, child, clen);
			out[clen] = '\0';
		}
	}
	return best <= 2 ? 0 : -1;
}
