/*
 * config.h - the agent's typed configuration (read by tfo-supervisor and
 * tfoctl only; workers get their section as a protobuf WorkerConfig).
 * Parsing is table driven (config.c): one row per key path gives type,
 * default, bounds and field, and drives validation, defaults and docs.
 */
#ifndef TFO_CONFIG_H
#define TFO_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tfo/v1/tfo.pb-c.h"

#define TFO_CFG_MAX_LIST 64      /* entries in any list key */
#define TFO_CFG_MAX_TAGS 64
#define TFO_CFG_DEFAULT_PATH "/etc/tfo-agent/tfo-agent.yaml"

enum tfo_role {
	TFO_ROLE_SYSTEM = 0,
	TFO_ROLE_PROCESS,
	TFO_ROLE_LOGS,
	TFO_ROLE_BUFFER,
	TFO_ROLE_EXPORTER,
	TFO_ROLE_HEARTBEAT,
	TFO_ROLE_COUNT
};

struct tfo_strlist {
	char *v[TFO_CFG_MAX_LIST];
	size_t n;
};

struct tfo_tag {
	char *key;
	char *value;
};

struct tfo_cfg_tls {
	int enabled;
	char *ca_file, *cert_file, *key_file;
	int insecure_skip_verify;
	char *min_version;          /* "1.2" | "1.3" */
};

struct tfo_cfg_pos {
	int line, column;           /* where the file set a key; 0 = not in the file */
};

struct tfo_config {
	char *path;                 /* file it was read from */
	struct tfo_cfg_pos *pos;    /* per key table row, for checks after the load */

	struct {
		char *endpoint;         /* host:port or URL; first of endpoints */
		struct tfo_strlist endpoints;
		char *protocol;         /* grpc|http */
		uint32_t timeout_ms;
		char *compression;      /* gzip|none */
		char *api_key_id, *api_key_secret;
		struct tfo_cfg_tls tls;
		uint32_t retry_initial_ms, retry_max_ms;
		double retry_multiplier;
		char *api_endpoint;     /* heartbeat API base URL */
		char *environment;      /* deployment.environment.name */
	} telemetryflow;

	struct {
		char *id, *name, *hostname;
		struct tfo_tag tags[TFO_CFG_MAX_TAGS];
		size_t ntags;
		char *state_dir, *runtime_dir;
		char *proc_root;        /* "" = "/"; tests point collectors at fixture trees */
		int self_metrics_enabled;       /* tfo.* metrics through tfo-system */
		uint32_t self_metrics_interval_ms;
	} agent;

	struct {
		int enabled;
		uint32_t interval_ms, timeout_ms;
		int include_system_info;
		int cloud_metadata;
		char *cloud_metadata_url;
	} heartbeat;

	struct {
		int enabled;
		uint32_t interval_ms;
		int cpu, memory, disk, network, filesystem, load, paging, processes;
		struct tfo_strlist disk_paths, exclude_mounts;
	} system;

	struct {
		int enabled;
		uint32_t interval_ms, top_n, cmdline_max_len;
		struct tfo_strlist include, exclude, redact_patterns;
		int privileged_reads;   /* exe, io, fds of others through tfo-procpriv */
	} process;

	struct {
		int enabled;
		struct tfo_strlist paths, exclude;
		char *start_at;         /* end|beginning */
		uint32_t max_line_size;
		char *multiline_start_pattern;
		uint32_t multiline_timeout_ms, batch_max_lines, batch_max_ms;
		uint32_t rescan_interval_ms;    /* glob re-expansion period */
		uint32_t max_open_files;        /* 0: from RLIMIT_NOFILE */
		struct tfo_strlist link_target_dirs;
	} logs;

	struct {
		uint32_t batch_max_bytes, flush_interval_ms, max_in_flight;
		uint32_t shutdown_drain_ms;      /* stop: drain the buffer this long */
	} exporter;

	struct {
		char *path;
		uint64_t max_size_mb;
		uint64_t max_age_ms;
		int sync;
	} buffer;

	struct {
		char *level;            /* debug|info|warn|error */
		char *format;           /* text|json */
	} logging;

	struct {
		uint32_t backoff_initial_ms, backoff_max_ms, max_restarts, window_ms;
		char *users[TFO_ROLE_COUNT];    /* user per role */
		char *group;                    /* group of every role user: tfo-agent */
		char *admin_group;              /* tfoctl access: tfo-admin */
		uint32_t watchdog_ms;           /* 0 = from WATCHDOG_USEC */
		uint32_t ping_interval_ms, hung_timeout_ms;
		char *seccomp;                  /* kill|log|off */
		int pin_workers;                /* each worker on one CPU (supervisor/spawn.c) */
	} supervisor;
};

/* One diagnostic: file:line:column: key.path: message */
struct tfo_cfg_diag {
	int warning;                /* 1 = warning (e.g. secret in world-readable file) */
	int line, column;           /* 1-based; 0 when not tied to a position */
	char key[256];              /* dotted key path, "" when none */
	char msg[512];
};

#define TFO_CFG_MAX_DIAGS 64

struct tfo_cfg_diags {
	char file[256];             /* the file the diagnostics are about */
	struct tfo_cfg_diag d[TFO_CFG_MAX_DIAGS];
	size_t n;
	size_t errors;              /* diagnostics that are not warnings */
};

/*
 * tfo_config_load - read and validate `path` into cfg (defaults applied,
 * ${VAR} / ${VAR:-default} expanded, TELEMETRYFLOW_* environment overrides
 * applied). Returns 0 when diags->errors == 0, else -1; cfg is then freed.
 */
int tfo_config_load(const char *path, struct tfo_config *cfg, struct tfo_cfg_diags *diags);
/*
 * tfo_config_load_trusted - tfo_config_load for what a root process acts on
 * (tfo-supervisor's start, reload and --check; tfoctl config validate): the
 * file is opened through common/safepath.h and refused, naming the component
 * with its mode and owner, when it or a directory above it is not owned by
 * root (or by the user running this, when not root) or is writable by group
 * or other. Group-readable is fine (0640 root:tfo-agent).
 */
int tfo_config_load_trusted(const char *path, struct tfo_config *cfg,
    struct tfo_cfg_diags *diags);
/*
 * tfo_config_check_host - the checks of a loaded config against this host
 * that the supervisor makes before it spawns and tfoctl config validate
 * repeats (config_host.c): the role users and group exist; state_dir,
 * runtime_dir, buffer.path and every directory above them are safe for root
 * (as above); each role user can search its way to the paths its role needs.
 * With TFO_HOST_CREATE (the supervisor) state_dir and runtime_dir are made
 * when missing and given the owner and mode docs/security.md gives, through
 * the fd of the checked directory; without it nothing changes and a missing
 * one is judged as it would be made. Judged as root when the caller is root,
 * else as the unprivileged dev mode of that user. Problems are appended to
 * diags as errors (one line each, at the key); returns 0 or -1.
 */
#define TFO_HOST_CREATE 0x1
int tfo_config_check_host(const struct tfo_config *cfg, unsigned flags,
    struct tfo_cfg_diags *diags);
/* tfo_config_load_string - same from memory (tests, fuzzing); `name` is shown as the file. */
int tfo_config_load_string(const char *name, const char *text, size_t len,
    struct tfo_config *cfg, struct tfo_cfg_diags *diags);
void tfo_config_free(struct tfo_config *cfg);
/* tfo_config_defaults - fill cfg with every default (no file) */
int tfo_config_defaults(struct tfo_config *cfg);

/*
 * tfo_cfg_diag_format - "FILE:LINE:COL: KEY: msg" into buf; without a position
 * "FILE: KEY: msg", without a key "FILE:LINE:COL: msg"; warnings put
 * "warning: " before KEY. FILE is path, else cfg->path, else "<config>".
 * tfo_cfg_diags_print - one line each; FILE is path, else diags->file.
 */
void tfo_cfg_diag_format(const struct tfo_config *cfg, const char *path,
    const struct tfo_cfg_diag *d, char *buf, size_t bufsz);
void tfo_cfg_diags_print(FILE *fp, const char *path, const struct tfo_cfg_diags *diags);
/*
 * tfo_config_write_example - the commented YAML of every key at its default
 * (configs/tfo-agent.yaml is this output); tfo_config_write_reference - the
 * Markdown key table of docs/configuration.md. Both are made from the table.
 */
void tfo_config_write_example(FILE *fp);
void tfo_config_write_reference(FILE *fp);
/* tfo_config_write_man - tfo-agent.yaml(5) in roff, from the same table */
void tfo_config_write_man(FILE *fp);
/* tfo_config_summary - one line: endpoint, protocol, enabled collectors... */
void tfo_config_summary(const struct tfo_config *cfg, char *buf, size_t bufsz);

const char *tfo_role_name(enum tfo_role r);
int tfo_role_from_name(const char *name);          /* -1 when unknown */
int tfo_role_enabled(const struct tfo_config *cfg, enum tfo_role r);
Tfo__V1__Role tfo_role_proto(enum tfo_role r);

/*
 * tfo_config_worker_msg - build the WorkerConfig a role receives on fd 3: its
 * own section only (secrets only for exporter and heartbeat). The message and
 * its strings point into cfg/arena owned by `out_storage`; free with
 * tfo_config_worker_msg_free. agent_id is the resolved agent id.
 */
struct tfo_worker_msg;
struct tfo_worker_msg *tfo_config_worker_msg(const struct tfo_config *cfg,
    enum tfo_role role, const char *agent_id, uint64_t incarnation);
Tfo__V1__WorkerConfig *tfo_worker_msg_get(struct tfo_worker_msg *m);  /* caller may set uids */
void tfo_worker_msg_free(struct tfo_worker_msg *m);
/*
 * tfo_config_role_equal - whether the WorkerConfig of `role` is the same under
 * both configs (SIGHUP reload restarts only roles whose section changed).
 */
int tfo_config_role_equal(const struct tfo_config *a, const struct tfo_config *b,
    enum tfo_role role, const char *agent_id);

#endif
