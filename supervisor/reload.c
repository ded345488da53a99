/*
 * reload.c - tfo-supervisor: load and validate the configuration, resolve
 * the role identities, and apply a reload (SIGHUP / tfoctl reload) that
 * restarts only the roles whose section changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"

/* load_checked - sv_load_config with its diagnostics in d */
static int
load_checked(const char *path, unsigned host_flags, struct tfo_config *cfg,
    struct tfo_cfg_diags *d, char *err, size_t errsz)
{
	char line[1024];
	int rc;

	rc = tfo_config_load_trusted(path, cfg, d);
	/* judged first without changing anything: a refused start makes nothing */
	if (rc == 0 && (rc = tfo_config_check_host(cfg, 0, d)) == 0 && host_flags != 0)
		rc = tfo_config_check_host(cfg, host_flags, d);
	if (rc != 0)
		tfo_config_free(cfg);   /* a failed load left it empty: harmless */
	if (rc == 0) {
		for (size_t i = 0; i < d->n; i++) {
			tfo_cfg_diag_format(cfg, path, &d->d[i], line, sizeof(line));
			log_warn("%s", line);
		}
		return 0;
	}
	snprintf(err, errsz, "%s: %zu error(s)", path, d->errors);
	for (size_t i = 0, first = 1; i < d->n; i++) {
		tfo_cfg_diag_format(NULL, path, &d->d[i], line, sizeof(line));
		if (d->d[i].warning) {
			log_warn("%s", line);
			continue;
		}
		log_error("%s", line);
		if (first)
			snprintf(err, errsz, "%s", line);
		first = 0;
	}
	return -1;
}

/* load_config - parse and validate a file root may trust, then check it
 * against this host (config.h); every diagnostic goes to the log */
int
sv_load_config(const char *path, unsigned host_flags, struct tfo_config *cfg, char *err,
    size_t errsz)
{
	/* ~50 KiB: on the heap, not on the stack, whose touched pages stay resident */
	struct tfo_cfg_diags *d = calloc(1, sizeof(*d));
	int rc;

	if (d == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	rc = load_checked(path, host_flags, cfg, d, err, errsz);
	free(d);
	return rc;
}

/* resolve_ids - every role's uid/gid; -1 names the first missing user */
int
sv_resolve_ids(const struct tfo_config *cfg, int root, struct sv_identity *ids,
    char *err, size_t errsz)
{
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		const char *user = cfg->supervisor.users[r];
		if (sv_identity(user, cfg->supervisor.group, root, &ids[r]) == -1) {
			snprintf(err, errsz, "user %s for role %s is missing, is root or is in "
			    "more than %d groups (create the role users: tools/make-users)",
			    user ? user : "(none)", tfo_role_name((enum tfo_role)r),
			    TFO_PRIV_MAX_GROUPS);
			return -1;
		}
	}
	return 0;
}

void
sv_apply_ids(struct sv *sv, const struct sv_identity *ids)
{
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		sv->w[r].uid = ids[r].uid;
		sv->w[r].gid = ids[r].gid;
		sv->w[r].ngroups = 0;
		for (int i = 0; i < ids[r].ngroups && i < TFO_PRIV_MAX_GROUPS; i++)
			sv->w[r].groups[sv->w[r].ngroups++] = (uint32_t)ids[r].groups[i];
		snprintf(sv->w[r].user, sizeof(sv->w[r].user), "%s", ids[r].user);
	}
}

int
sv_reload(struct sv *sv, char *err, size_t errsz)
{
	struct tfo_config ncfg, old;
	struct sv_identity ids[TFO_ROLE_COUNT];
	int changed[TFO_ROLE_COUNT];

	if (sv->shutdown_phase) {
		snprintf(err, errsz, "shutting down");
		return -1;
	}
	memset(&ncfg, 0, sizeof(ncfg));
	if (sv_load_config(sv->config_path, TFO_HOST_CREATE, &ncfg, err, errsz) == -1) {
		log_error("reload: new configuration rejected; the old one keeps running");
		return -1;
	}
	if (sv_resolve_ids(&ncfg, sv->root, ids, err, errsz) == -1) {
		log_error("reload: %s; the old configuration keeps running", err);
		tfo_config_free(&ncfg);
		return -1;
	}
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		changed[r] = tfo_role_enabled(&ncfg, (enum tfo_role)r) != sv->w[r].enabled ||
		    ids[r].uid != sv->w[r].uid || ids[r].gid != sv->w[r].gid ||
		    !tfo_config_role_equal(&sv->cfg, &ncfg, (enum tfo_role)r, sv->agent_id);
	if (ncfg.agent.runtime_dir && sv->cfg.agent.runtime_dir &&
	    strcmp(ncfg.agent.runtime_dir, sv->cfg.agent.runtime_dir) != 0)
		log_warn("reload: agent.runtime_dir changes take effect at the next start");
	old = sv->cfg;
	sv->cfg = ncfg;
	tfo_config_free(&old);
	tfo_log_configure(sv->cfg.logging.level, sv->cfg.logging.format);
	sv_apply_ids(sv, ids);
	sv_ping_timer_set(sv);
	sv_self_timer_set(sv);
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		if (!changed[r])
			continue;
		sv->w[r].enabled = tfo_role_enabled(&sv->cfg, (enum tfo_role)r);
		log_info("reload: %s changed: %s", tfo_role_name((enum tfo_role)r),
		    sv->w[r].enabled ? "restarting" : "stopping");
		sv_worker_restart(&sv->w[r]);
	}
	log_info("reload: done");
	tfo_pagetrim_arm(&sv->pagetrim, sv_now_ms());
	return 0;
}

