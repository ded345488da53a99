/*
 * sandbox.c - the sandbox step of the worker skeleton (every worker, once,
 * single-threaded, after no_new_privs): the role's declared Landlock rules
 * (unless its profile cannot live under Landlock), then its seccomp
 * allowlist in the configured mode.
 */
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

enum tfo_err
tfo_sandbox_rules_add_path(struct tfo_sandbox_rules *r, const char *path, int rw)
{
	if (r->npaths >= TFO_SANDBOX_MAX_RULES)
		return TFO_ERANGE;
	if ((r->paths[r->npaths].path = strdup(path)) == NULL)
		return TFO_ENOMEM;
	r->paths[r->npaths++].rw = rw;
	return TFO_OK;
}

enum tfo_err
tfo_sandbox_rules_add_port(struct tfo_sandbox_rules *r, uint16_t port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i] == port)
			return TFO_OK;
	if (r->nports >= TFO_SANDBOX_MAX_RULES)
		return TFO_ERANGE;
	r->ports[r->nports++] = port;
	return TFO_OK;
}

void
tfo_sandbox_rules_fini(struct tfo_sandbox_rules *r)
{
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i].path);
	memset(r, 0, sizeof(*r));
}

/* thread_count - "Threads:" of /proc/self/status, -1 when unreadable */
static long
thread_count(void)
{
	char buf[4096], *p, *end;
	ssize_t n;
	long v;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nThreads:")) == NULL)
		return -1;
	errno = 0;
	v = strtol(p + 9, &end, 10);
	return errno || end == p + 9 ? -1 : v;
}

enum tfo_err
tfo_sandbox_apply(const char *role, const Tfo__V1__WorkerConfig *cfg,
    const struct tfo_sandbox_rules *r, char *landlock, size_t landlocksz, const char **what)
{
	const struct tfo_sandbox_profile *p = tfo_sandbox_profile(role);
	enum tfo_seccomp_mode m;
	enum tfo_err e;
	long threads;

	*what = "profile";
	if (p == NULL || tfo_seccomp_mode_parse(cfg->seccomp_mode, &m) == -1)
		return TFO_EINVAL;
	/* Landlock binds the calling thread only: there must be no other. */
	*what = "thread count";
	if ((threads = thread_count()) != 1)
		return threads == -1 ? TFO_EIO : TFO_EPERM;
	*what = "landlock";
	if ((e = tfo_landlock_apply(r, landlock, landlocksz)) != TFO_OK)
		return e;
	log_info("landlock: %s (%zu paths, %zu tcp ports)", landlock, r->npaths, r->nports);
	*what = "seccomp";
	if ((e = tfo_seccomp_apply_child(p, m, r->child)) != TFO_OK)
		return e;
	log_info("seccomp: %s", m == TFO_SECCOMP_KILL ? "allowlist, kill on violation" :
	    m == TFO_SECCOMP_LOG ? "allowlist in LOG mode: violations are only logged" :
	    "OFF (supervisor.sandbox.seccomp: off)");
	return TFO_OK;
}
