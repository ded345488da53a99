/*
 * config_worker.c - role names and the WorkerConfig each role receives on
 * fd 3: its own section only, secrets only for the exporter (which also
 * sends the heartbeat: heartbeat_relay).
 * Runs in tfo-supervisor (spawn and SIGHUP reload).
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

/* Every allocation of one message is a block of this arena, freed at once. */
struct wm_block {
	struct wm_block *next;
	max_align_t data[];
};

struct tfo_worker_msg {
	Tfo__V1__WorkerConfig wc;
	struct wm_block *blocks;
	int oom;
};

static const char *const role_names[TFO_ROLE_COUNT] = {
	"system", "process", "logs", "buffer", "exporter", "heartbeat",
};

const char *
tfo_role_name(enum tfo_role r)
{
	return (unsigned)r < TFO_ROLE_COUNT ? role_names[r] : "unknown";
}

int
tfo_role_from_name(const char *name)
{
	for (int i = 0; i < TFO_ROLE_COUNT; i++)
		if (name != NULL && strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

int
tfo_role_enabled(const struct tfo_config *cfg, enum tfo_role r)
{
	switch (r) {
	case TFO_ROLE_SYSTEM:
		/* the self metrics ride on tfo-system (docs/metrics.md) */
		return cfg->system.enabled || cfg->agent.self_metrics_enabled;
	case TFO_ROLE_PROCESS:
		return cfg->process.enabled;
	case TFO_ROLE_LOGS:
		return cfg->logs.enabled;
	case TFO_ROLE_HEARTBEAT:
		return cfg->heartbeat.enabled;
	case TFO_ROLE_BUFFER:
	case TFO_ROLE_EXPORTER:
		return 1;
	case TFO_ROLE_COUNT:
		break;
	}
	return 0;
}

Tfo__V1__Role
tfo_role_proto(enum tfo_role r)
{
	switch (r) {
	case TFO_ROLE_SYSTEM:
		return TFO__V1__ROLE__ROLE_SYSTEM;
	case TFO_ROLE_PROCESS:
		return TFO__V1__ROLE__ROLE_PROCESS;
	case TFO_ROLE_LOGS:
		return TFO__V1__ROLE__ROLE_LOGS;
	case TFO_ROLE_BUFFER:
		return TFO__V1__ROLE__ROLE_BUFFER;
	case TFO_ROLE_EXPORTER:
		return TFO__V1__ROLE__ROLE_EXPORTER;
	case TFO_ROLE_HEARTBEAT:
		return TFO__V1__ROLE__ROLE_HEARTBEAT;
	case TFO_ROLE_COUNT:
		break;
	}
	return TFO__V1__ROLE__ROLE_UNSPECIFIED;
}

static void *
wm_alloc(struct tfo_worker_msg *m, size_t n)
{
	struct wm_block *b = calloc(1, sizeof(*b) + n);

	if (b == NULL) {
		m->oom = 1;
		return NULL;
	}
	b->next = m->blocks;
	m->blocks = b;
	return b->data;
}

/* wm_str - arena copy; "" (protobuf-c's empty string) for NULL or empty */
static char *
wm_str(struct tfo_worker_msg *m, const char *s)
{
	size_t n;
	char *c;

	if (s == NULL || s[0] == '\0')
		return (char *)protobuf_c_empty_string;
	n = strlen(s) + 1;
	if ((c = wm_alloc(m, n)) == NULL)
		return (char *)protobuf_c_empty_string;
	memcpy(c, s, n);
	return c;
}

static char **
wm_list(struct tfo_worker_msg *m, const struct tfo_strlist *l, size_t *n)
{
	char **v;

	*n = 0;
	if (l->n == 0 || (v = wm_alloc(m, l->n * sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		v[i] = wm_str(m, l->v[i]);
	*n = l->n;
	return v;
}

static char *
wm_url(struct tfo_worker_msg *m, const char *dir, const char *sock)
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "ipc://%s/%s", dir, sock);
	return wm_str(m, buf);
}

static Tfo__V1__AgentIdentity *
build_agent(struct tfo_worker_msg *m, const struct tfo_config *cfg, const char *agent_id)
{
	Tfo__V1__AgentIdentity *a = wm_alloc(m, sizeof(*a));

	if (a == NULL)
		return NULL;
	tfo__v1__agent_identity__init(a);
	a->id = wm_str(m, agent_id ? agent_id : cfg->agent.id);
	a->name = wm_str(m, cfg->agent.name);
	a->hostname = wm_str(m, cfg->agent.hostname);
	a->environment = wm_str(m, cfg->telemetryflow.environment);
	a->version = wm_str(m, TFO_VERSION);
	if (cfg->agent.ntags == 0 || (a->tags = wm_alloc(m, cfg->agent.ntags * sizeof(*a->tags))) == NULL)
		return a;
	for (size_t i = 0; i < cfg->agent.ntags; i++) {
		Tfo__V1__AgentIdentity__TagsEntry *e = wm_alloc(m, sizeof(*e));
		if (e == NULL)
			return a;
		tfo__v1__agent_identity__tags_entry__init(e);
		e->key = wm_str(m, cfg->agent.tags[i].key);
		e->value = wm_str(m, cfg->agent.tags[i].value);
		a->tags[a->n_tags++] = e;
	}
	return a;
}

static Tfo__V1__TlsConfig *
build_tls(struct tfo_worker_msg *m, const struct tfo_cfg_tls *t)
{
	Tfo__V1__TlsConfig *p = wm_alloc(m, sizeof(*p));

	if (p == NULL)
		return NULL;
	tfo__v1__tls_config__init(p);
	p->enabled = t->enabled;
	p->ca_file = wm_str(m, t->ca_file);
	p->cert_file = wm_str(m, t->cert_file);
	p->key_file = wm_str(m, t->key_file);
	p->insecure_skip_verify = t->insecure_skip_verify;
	p->min_version = wm_str(m, t->min_version);
	return p;
}

static void
build_system(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__SystemConfig *s = wm_alloc(m, sizeof(*s));

	if (s == NULL)
		return;
	tfo__v1__system_config__init(s);
	s->interval_ms = cfg->system.interval_ms;
	s->cpu = cfg->system.cpu;
	s->memory = cfg->system.memory;
	s->disk = cfg->system.disk;
	s->network = cfg->system.network;
	s->filesystem = cfg->system.filesystem;
	s->load = cfg->system.load;
	s->paging = cfg->system.paging;
	s->processes = cfg->system.processes;
	s->self_metrics_only = !cfg->system.enabled;
	s->disk_paths = wm_list(m, &cfg->system.disk_paths, &s->n_disk_paths);
	s->exclude_mounts = wm_list(m, &cfg->system.exclude_mounts, &s->n_exclude_mounts);
	s->proc_root = wm_str(m, cfg->agent.proc_root);
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_SYSTEM;
	m->wc.system = s;
}

static void
build_process(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__ProcessConfig *p = wm_alloc(m, sizeof(*p));

	if (p == NULL)
		return;
	tfo__v1__process_config__init(p);
	p->interval_ms = cfg->process.interval_ms;
	p->top_n = cfg->process.top_n;
	p->include = wm_list(m, &cfg->process.include, &p->n_include);
	p->exclude = wm_list(m, &cfg->process.exclude, &p->n_exclude);
	p->cmdline_max_len = cfg->process.cmdline_max_len;
	p->redact_patterns = wm_list(m, &cfg->process.redact_patterns, &p->n_redact_patterns);
	p->proc_root = wm_str(m, cfg->agent.proc_root);
	p->privileged_reads = cfg->process.privileged_reads != 0;
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_PROCESS;
	m->wc.process = p;
}

static void
build_logs(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__LogsConfig *l = wm_alloc(m, sizeof(*l));

	if (l == NULL)
		return;
	tfo__v1__logs_config__init(l);
	l->paths = wm_list(m, &cfg->logs.paths, &l->n_paths);
	l->exclude = wm_list(m, &cfg->logs.exclude, &l->n_exclude);
	l->start_at = wm_str(m, cfg->logs.start_at);
	l->max_line_size = cfg->logs.max_line_size;
	l->multiline_start_pattern = wm_str(m, cfg->logs.multiline_start_pattern);
	l->multiline_timeout_ms = cfg->logs.multiline_timeout_ms;
	l->batch_max_lines = cfg->logs.batch_max_lines;
	l->batch_max_ms = cfg->logs.batch_max_ms;
	l->rescan_interval_ms = cfg->logs.rescan_interval_ms;
	l->max_open_files = cfg->logs.max_open_files;
	l->link_target_dirs = wm_list(m, &cfg->logs.link_target_dirs, &l->n_link_target_dirs);
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_LOGS;
	m->wc.logs = l;
}

static void
build_buffer(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__BufferConfig *b = wm_alloc(m, sizeof(*b));

	if (b == NULL)
		return;
	tfo__v1__buffer_config__init(b);
	b->path = wm_str(m, cfg->buffer.path);
	b->max_size_mb = cfg->buffer.max_size_mb;
	b->max_age_ms = cfg->buffer.max_age_ms;
	b->sync = cfg->buffer.sync;
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_BUFFER;
	m->wc.buffer = b;
}

/* build_relay - what the exporter needs to send tfo-heartbeat's beats; no
 * interval or payload setting, so changing those restarts the heartbeat only */
static Tfo__V1__HeartbeatConfig *
build_relay(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__HeartbeatConfig *h = wm_alloc(m, sizeof(*h));

	if (h == NULL)
		return NULL;
	tfo__v1__heartbeat_config__init(h);
	h->api_endpoint = wm_str(m, cfg->telemetryflow.api_endpoint);
	h->timeout_ms = cfg->heartbeat.timeout_ms;
	h->cloud_metadata = cfg->heartbeat.cloud_metadata;
	h->cloud_metadata_url = wm_str(m, cfg->heartbeat.cloud_metadata_url);
	h->api_key_id = wm_str(m, cfg->telemetryflow.api_key_id);
	h->api_key_secret = wm_str(m, cfg->telemetryflow.api_key_secret);
	h->tls = build_tls(m, &cfg->telemetryflow.tls);
	m->wc.heartbeat_url = wm_url(m, cfg->agent.runtime_dir, "heartbeat.ipc");
	return h;
}

/* build_exporter - endpoints[] in order, or the single endpoint */
static void
build_exporter(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	const struct tfo_strlist one = { .v = { cfg->telemetryflow.endpoint }, .n = 1 };
	Tfo__V1__ExporterConfig *e = wm_alloc(m, sizeof(*e));
	Tfo__V1__RetryConfig *r = wm_alloc(m, sizeof(*r));

	if (e == NULL || r == NULL)
		return;
	tfo__v1__exporter_config__init(e);
	tfo__v1__retry_config__init(r);
	e->endpoints = wm_list(m, cfg->telemetryflow.endpoints.n ? &cfg->telemetryflow.endpoints :
	    &one, &e->n_endpoints);
	e->protocol = wm_str(m, cfg->telemetryflow.protocol);
	e->timeout_ms = cfg->telemetryflow.timeout_ms;
	e->compression = wm_str(m, cfg->telemetryflow.compression);
	e->api_key_id = wm_str(m, cfg->telemetryflow.api_key_id);
	e->api_key_secret = wm_str(m, cfg->telemetryflow.api_key_secret);
	e->tls = build_tls(m, &cfg->telemetryflow.tls);
	r->initial_interval_ms = cfg->telemetryflow.retry_initial_ms;
	r->max_interval_ms = cfg->telemetryflow.retry_max_ms;
	r->multiplier = cfg->telemetryflow.retry_multiplier;
	e->retry = r;
	e->batch_max_bytes = cfg->exporter.batch_max_bytes;
	e->flush_interval_ms = cfg->exporter.flush_interval_ms;
	e->max_in_flight = cfg->exporter.max_in_flight;
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_EXPORTER;
	m->wc.exporter = e;
	if (cfg->heartbeat.enabled)
		m->wc.heartbeat_relay = build_relay(m, cfg);
}

static void
build_heartbeat(struct tfo_worker_msg *m, const struct tfo_config *cfg)
{
	Tfo__V1__HeartbeatConfig *h = wm_alloc(m, sizeof(*h));

	if (h == NULL)
		return;
	tfo__v1__heartbeat_config__init(h);
	h->api_endpoint = wm_str(m, cfg->telemetryflow.api_endpoint);
	h->interval_ms = cfg->heartbeat.interval_ms;
	h->timeout_ms = cfg->heartbeat.timeout_ms;
	h->include_system_info = cfg->heartbeat.include_system_info;
	h->cloud_metadata = cfg->heartbeat.cloud_metadata;
	h->cloud_metadata_url = wm_str(m, cfg->heartbeat.cloud_metadata_url);
	/* no keys, no TLS: tfo-exporter sends the beats (heartbeat_relay) */
	h->proc_root = wm_str(m, cfg->agent.proc_root);
	m->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_HEARTBEAT;
	m->wc.heartbeat = h;
	m->wc.heartbeat_url = wm_url(m, cfg->agent.runtime_dir, "heartbeat.ipc");
}

struct tfo_worker_msg *
tfo_config_worker_msg(const struct tfo_config *cfg, enum tfo_role role, const char *agent_id,
    uint64_t incarnation)
{
	static void (*const build[TFO_ROLE_COUNT])(struct tfo_worker_msg *, const struct tfo_config *) = {
		build_system, build_process, build_logs, build_buffer, build_exporter, build_heartbeat,
	};
	struct tfo_worker_msg *m;
	Tfo__V1__LoggingConfig *lg;

	if ((unsigned)role >= TFO_ROLE_COUNT || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	tfo__v1__worker_config__init(&m->wc);
	m->wc.role = tfo_role_proto(role);
	m->wc.incarnation = incarnation;
	m->wc.agent = build_agent(m, cfg, agent_id);
	if ((lg = wm_alloc(m, sizeof(*lg))) != NULL) {
		tfo__v1__logging_config__init(lg);
		lg->level = wm_str(m, cfg->logging.level);
		lg->format = wm_str(m, cfg->logging.format);
		m->wc.logging = lg;
	}
	m->wc.runtime_dir = wm_str(m, cfg->agent.runtime_dir);
	m->wc.ingest_url = wm_url(m, cfg->agent.runtime_dir, "ingest.ipc");
	m->wc.export_url = wm_url(m, cfg->agent.runtime_dir, "export.ipc");
	m->wc.seccomp_mode = wm_str(m, cfg->supervisor.seccomp);
	m->wc.hung_timeout_ms = cfg->supervisor.hung_timeout_ms;
	build[role](m, cfg);
	if (m->oom) {
		tfo_worker_msg_free(m);
		return NULL;
	}
	return m;
}

Tfo__V1__WorkerConfig *
tfo_worker_msg_get(struct tfo_worker_msg *m)
{
	return m ? &m->wc : NULL;
}

void
tfo_worker_msg_free(struct tfo_worker_msg *m)
{
	if (m == NULL)
		return;
	while (m->blocks != NULL) {
		struct wm_block *b = m->blocks;
		m->blocks = b->next;
		free(b);
	}
	free(m);
}

/* pack - the message's protobuf bytes (malloc'd) */
static uint8_t *
pack(struct tfo_worker_msg *m, size_t *len)
{
	uint8_t *buf;

	*len = tfo__v1__worker_config__get_packed_size(&m->wc);
	if ((buf = malloc(*len ? *len : 1)) != NULL)
		tfo__v1__worker_config__pack(&m->wc, buf);
	return buf;
}

int
tfo_config_role_equal(const struct tfo_config *a, const struct tfo_config *b,
    enum tfo_role role, const char *agent_id)
{
	struct tfo_worker_msg *ma = tfo_config_worker_msg(a, role, agent_id, 0);
	struct tfo_worker_msg *mb = tfo_config_worker_msg(b, role, agent_id, 0);
	uint8_t *pa = NULL, *pb = NULL;
	size_t la = 0, lb = 0;
	int eq = 0;

	if (ma != NULL && mb != NULL) {
		pa = pack(ma, &la);
		pb = pack(mb, &lb);
		eq = pa != NULL && pb != NULL && la == lb && memcmp(pa, pb, la) == 0;
	}
	free(pa);
	free(pb);
	tfo_worker_msg_free(ma);
	tfo_worker_msg_free(mb);
	return eq;
}
