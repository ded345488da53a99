/*
 * sandbox.c - seccomp + Landlock hook for workers (every worker process).
 * Placeholder until the sandbox issue: nothing is restricted here yet.
 */
#include "common/sandbox.h"

#include "common/log.h"

int
tfo_sandbox_apply(const char *role, const Tfo__V1__WorkerConfig *cfg)
{
	(void)cfg;
	log_debug("seccomp: not yet applied (role %s)", role);
	log_debug("landlock: not yet applied (role %s)", role);
	return 0;
}
