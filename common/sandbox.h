/*
 * sandbox.h - seccomp + Landlock for workers (run by every worker through the
 * skeleton, after no_new_privs). The bodies come with the sandbox issue (8):
 * for now tfo_sandbox_apply is an empty hook that applies NOTHING.
 */
#ifndef TFO_SANDBOX_H
#define TFO_SANDBOX_H

#include "tfo/v1/tfo.pb-c.h"

/*
 * tfo_sandbox_apply - apply Landlock and the seccomp allowlist of `role`.
 * NOT YET IMPLEMENTED: returns 0 without restricting anything (logs
 * "seccomp: not yet applied" at debug). Returns 0 or -1 (fatal for the worker).
 */
int tfo_sandbox_apply(const char *role, const Tfo__V1__WorkerConfig *cfg);

#endif
