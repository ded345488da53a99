/*
 * sandbox_landlock.c - Landlock for workers (every worker, single-threaded,
 * after no_new_privs): query the kernel's ABI, handle every right that ABI
 * knows, allow only what the role declared, restrict. Struct layouts beyond
 * ABI 3 are declared here because distribution headers lag the kernel.
 */
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "common/log.h"

/* ABI >= 2..6 rights (values from the kernel's uapi, fixed by the ABI) */
#define LL_FS_REFER (1ULL << 13)             /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)          /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)         /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)          /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_CREATE_VERSION (1U << 0)
#define DNS_PORT 53                          /* resolver's TCP fallback */

/* the ABI 6 ruleset attribute; the kernel takes the size we pass */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

/* rights that apply to a non-directory (the kernel refuses the others) */
#define LL_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_RO (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* read-write: no execute, no device nodes, fifos or symlinks */
#define LL_RW (LL_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LL_FS_REFER | LL_FS_TRUNCATE)
/* a listener's directory: its socket file, and the stale one of a dead
 * predecessor removed (nng does it before bind) */
#define LL_SOCKDIR (LL_RO | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE)

int
tfo_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);

	return v < 0 ? -1 : (int)v;
}

/* fs_rights - every filesystem right the given ABI knows */
static uint64_t
fs_rights(int abi)
{
	uint64_t r = (1ULL << 13) - 1;

	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

/* add_path - one path-beneath rule; a missing path is skipped with a warning */
static int
add_path(int rs, const struct tfo_sandbox_path *p, uint64_t handled)
{
	struct ll_path_beneath pb = { 0 };
	struct stat st;
	int fd, rv, saved;

	if ((fd = open(p->path, O_PATH | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			log_warn("landlock: %s does not exist: no rule", p->path);
			return 0;
		}
		return -1;
	}
	pb.allowed_access = (p->rw == TFO_SANDBOX_SOCKDIR ? LL_SOCKDIR : p->rw ? LL_RW : LL_RO) &
	    handled;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FILE_RIGHTS;
	pb.parent_fd = fd;
	rv = (int)syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

static int
add_port(int rs, uint16_t port)
{
	struct ll_net_port np = { .allowed_access = LL_NET_CONNECT_TCP, .port = port };

	return (int)syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0);
}

/* add_rules - the role's paths, its own /proc entries, its ports (+ DNS) */
static int
add_rules(int rs, const struct tfo_sandbox_rules *r, int abi, uint64_t handled,
    const char **what)
{
	/* A worker may read its own /proc entries (glibc, ASan reports). The
	 * magic links in it (root, cwd, fd/N) resolve to the real files, which
	 * Landlock checks where they really are. */
	static const struct tfo_sandbox_path self = { "/proc/self", 0 };

	*what = "/proc/self";
	if (add_path(rs, &self, handled) == -1)
		return -1;
	for (size_t i = 0; i < r->npaths; i++) {
		*what = r->paths[i].path;
		if (add_path(rs, &r->paths[i], handled) == -1)
			return -1;
	}
	if (abi < 4)
		return 0;
	*what = "tcp port";
	for (size_t i = 0; i < r->nports; i++)
		if (add_port(rs, r->ports[i]) == -1)
			return -1;
	if (r->nports > 0 && add_port(rs, DNS_PORT) == -1)
		return -1;
	return 0;
}

enum tfo_err
tfo_landlock_apply(const struct tfo_sandbox_rules *r, char *report, size_t reportsz)
{
	struct ll_ruleset_attr attr = { 0 };
	size_t attrsz = sizeof(attr);
	const char *what = "ruleset";
	int abi = tfo_landlock_abi(), rs, saved;

	if (abi < 0) {
		snprintf(report, reportsz, "%s", errno == EOPNOTSUPP ? "disabled at boot" :
		    "unsupported by kernel");
		return TFO_OK;
	}
	attr.handled_access_fs = fs_rights(abi);
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	else
		attrsz = offsetof(struct ll_ruleset_attr, handled_access_net);
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	else if (abi >= 4)
		attrsz = offsetof(struct ll_ruleset_attr, scoped);
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attrsz, 0)) == -1)
		goto fail;
	if (add_rules(rs, r, abi, attr.handled_access_fs, &what) == -1 ||
	    (what = "restrict_self", syscall(SYS_landlock_restrict_self, rs, 0)) == -1) {
		saved = errno;
		close(rs);
		errno = saved;
		goto fail;
	}
	close(rs);
	snprintf(report, reportsz, "abi %d: fs%s%s", abi, abi >= 4 ? " net" : "",
	    abi >= 6 ? " scope" : "");
	return TFO_OK;
fail:
	saved = errno;
	snprintf(report, reportsz, "failed: %s: %s", what, strerror(saved));
	errno = saved;
	return TFO_EIO;
}
