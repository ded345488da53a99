/*
 * spawn.h - tfo-supervisor: worker executables, role identities, fork+exec.
 */
#ifndef TFO_SV_SPAWN_H
#define TFO_SV_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/privdrop.h"

struct sv_identity {
	uid_t uid;
	gid_t gid;
	char user[64];
	gid_t groups[TFO_PRIV_MAX_GROUPS];    /* supplementary, as initgroups would set them */
	int ngroups;
};

/* sv_worker_path - executable of `role` (sv_worker_dir_pick; test builds
 * honour TFO_WORKER_<ROLE> / TFO_WORKER_DIR first). -1 when it is not there. */
int sv_worker_path(const char *role, char *out, size_t outsz);
/* sv_worker_dir_pick - where workers are: the build tree's bin dir when this
 * supervisor is that tree's own binary (self_dir equal to build_dir, both
 * resolved; a developer's run), else libexec alone. No fallback: an installed
 * supervisor once ran, as root, whatever the compile-time build dir held. */
const char *sv_worker_dir_pick(const char *self_dir, const char *build_dir,
    const char *libexec);
/* sv_worker_trusted - path and every directory above it safe for root
 * (common/safepath.h: root's, or ours in the dev mode; not writable by group
 * or other) and executable; -1 with one line in err */
int sv_worker_trusted(const char *path, char *err, size_t errsz);
/* sv_identity - uid/gid of `user` (gid of `group` when it exists); the
 * current identity when !root. -1 when the user is unknown or is root. */
int sv_identity(const char *user, const char *group, int root, struct sv_identity *id);
/* sv_spawn_env_init - build the (nearly empty) worker environment once */
void sv_spawn_env_init(void);
/* sv_spawn_cpu - the one CPU a role's worker runs on, of the set this
 * supervisor may use (systemd's CPUAffinity=, a cpuset), the log pipeline's
 * stages spread first; -1 (the whole set) when !pin or the set has one CPU */
int sv_spawn_cpu(int pin, enum tfo_role role);
/* sv_spawn - fork; the child gets child_fd as fd 3, is bound to cpu (>= 0),
 * runs SCHED_BATCH when batch is set and this process runs SCHED_OTHER, and
 * execs path */
pid_t sv_spawn(const char *path, const char *argv0, int child_fd, int cpu, int batch);

struct tfo_config;
/* sv_load_config - parse + validate path (tfo_config_load_trusted), then
 * tfo_config_check_host(host_flags); diagnostics logged, the first error also
 * in err. 0 or -1. */
int sv_load_config(const char *path, unsigned host_flags, struct tfo_config *cfg, char *err,
    size_t errsz);
/* sv_resolve_ids - uid/gid of every role's user; -1 names the first missing */
int sv_resolve_ids(const struct tfo_config *cfg, int root, struct sv_identity *ids,
    char *err, size_t errsz);

#endif
