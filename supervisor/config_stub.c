/*
 * config_stub.c - TEMPORARY stand-in for common/config.c until it is
 * committed (supervisor only; deleted then). Defaults only; the runtime and
 * state dirs are the directory of the config path.
 */
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

static const char *const roles[] = { "system", "process", "logs", "buffer", "exporter", "heartbeat" };

const char *tfo_role_name(enum tfo_role r) { return (unsigned)r < TFO_ROLE_COUNT ? roles[r] : "?"; }
int tfo_role_from_name(const char *n) { for (int i = 0; i < TFO_ROLE_COUNT; i++) if (strcmp(n, roles[i]) == 0) return i; return -1; }
int tfo_role_enabled(const struct tfo_config *c, enum tfo_role r) { (void)c; (void)r; return 1; }
Tfo__V1__Role tfo_role_proto(enum tfo_role r) { return (Tfo__V1__Role)(r + 1); }

int
tfo_config_defaults(struct tfo_config *c)
{
	static const char *const users[] = { "tfo-system", "tfo-process", "tfo-logs", "tfo-buffer", "tfo-exporter", "tfo-heartbeat" };
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < TFO_ROLE_COUNT; i++)
		c->supervisor.users[i] = strdup(users[i]);
	c->supervisor.group = strdup("tfo-agent");
	c->supervisor.admin_group = strdup("tfo-admin");
	c->supervisor.backoff_initial_ms = 500;
	c->supervisor.backoff_max_ms = 60000;
	c->supervisor.max_restarts = 5;
	c->supervisor.window_ms = 300000;
	c->supervisor.ping_interval_ms = 1000;
	c->supervisor.hung_timeout_ms = 3000;
	c->supervisor.drain_timeout_ms = 2000;
	c->logging.level = strdup("info");
	c->logging.format = strdup("text");
	return 0;
}

int
tfo_config_load(const char *path, struct tfo_config *c, struct tfo_cfg_diags *d)
{
	char *dir = strdup(path), *s;
	(void)d;
	tfo_config_defaults(c);
	if ((s = strrchr(dir, '/')) != NULL) *s = '\0';
	c->agent.runtime_dir = dir;
	c->agent.state_dir = strdup(dir);
	c->path = strdup(path);
	return 0;
}

void
tfo_config_free(struct tfo_config *c)
{
	for (int i = 0; i < TFO_ROLE_COUNT; i++) free(c->supervisor.users[i]);
	free(c->supervisor.group); free(c->supervisor.admin_group);
	free(c->logging.level); free(c->logging.format);
	free(c->agent.runtime_dir); free(c->agent.state_dir); free(c->path);
	memset(c, 0, sizeof(*c));
}

void tfo_cfg_diag_format(const struct tfo_config *c, const char *p, const struct tfo_cfg_diag *d, char *b, size_t n) { (void)c; (void)p; (void)d; if (n) b[0] = 0; }
void tfo_config_summary(const struct tfo_config *c, char *b, size_t n) { (void)c; if (n) b[0] = 0; }
int tfo_config_role_equal(const struct tfo_config *a, const struct tfo_config *b, enum tfo_role r, const char *id) { (void)a; (void)b; (void)r; (void)id; return 1; }

struct tfo_worker_msg { Tfo__V1__WorkerConfig wc; Tfo__V1__LoggingConfig lc; };

struct tfo_worker_msg *
tfo_config_worker_msg(const struct tfo_config *c, enum tfo_role r, const char *id, uint64_t inc)
{
	struct tfo_worker_msg *m = calloc(1, sizeof(*m));
	(void)id;
	tfo__v1__worker_config__init(&m->wc);
	tfo__v1__logging_config__init(&m->lc);
	m->lc.level = c->logging.level;
	m->lc.format = c->logging.format;
	m->wc.logging = &m->lc;
	m->wc.role = tfo_role_proto(r);
	m->wc.incarnation = inc;
	m->wc.runtime_dir = c->agent.runtime_dir;
	return m;
}
Tfo__V1__WorkerConfig *tfo_worker_msg_get(struct tfo_worker_msg *m) { return &m->wc; }
void tfo_worker_msg_free(struct tfo_worker_msg *m) { free(m); }
void tfo_cfg_diags_print(FILE *fp, const char *p, const struct tfo_cfg_diags *d) { (void)fp; (void)p; (void)d; }
