/*
 * spawn.h - tfo-supervisor: worker executables, role identities, fork+exec.
 */
#ifndef TFO_SV_SPAWN_H
#define TFO_SV_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct sv_identity {
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* sv_worker_path - executable of `role`: the build dir when the supervisor
 * runs from it, else libexec, next to the supervisor, the build dir; test
 * builds honour TFO_WORKER_<ROLE> / TFO_WORKER_DIR. -1 when none exists. */
int sv_worker_path(const char *role, char *out, size_t outsz);
/* sv_identity - uid/gid of `user` (gid of `group` when it exists); the
 * current identity when !root. -1 when the user is unknown or is root. */
int sv_identity(const char *user, const char *group, int root, struct sv_identity *id);
/* sv_spawn_env_init - build the (nearly empty) worker environment once */
void sv_spawn_env_init(void);
/* sv_spawn - fork; the child gets child_fd as fd 3 and execs path */
pid_t sv_spawn(const char *path, const char *argv0, int child_fd);

struct tfo_config;
/* sv_load_config - parse + validate path; diagnostics logged, the first
 * error also in err. 0 or -1. */
int sv_load_config(const char *path, struct tfo_config *cfg, char *err, size_t errsz);
/* sv_resolve_ids - uid/gid of every role's user; -1 names the first missing */
int sv_resolve_ids(const struct tfo_config *cfg, int root, struct sv_identity *ids,
    char *err, size_t errsz);

#endif
