/*
 * sandbox_seccomp.c - builds and loads a worker's seccomp filter (every
 * worker, after Landlock): the profile's allowlist, argument checks where
 * they are cheap, and the default action of the mode (kill|log).
 */
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <seccomp.h>

#include "common/log.h"
#include "common/pagetrim.h"

/* namespace flags a thread never needs (clone() flag values) */
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

/* cmp - one argument comparison (SCMP_Ax leave datum_b to the compiler) */
static struct scmp_arg_cmp
cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };

	return c;
}
#define EQ(arg, v) cmp(arg, SCMP_CMP_EQ, (scmp_datum_t)(v), 0)
#define MASKED(arg, mask, v) cmp(arg, SCMP_CMP_MASKED_EQ, (scmp_datum_t)(mask), (scmp_datum_t)(v))

int
tfo_seccomp_mode_parse(const char *s, enum tfo_seccomp_mode *m)
{
	if (s == NULL || *s == '\0' || strcmp(s, "kill") == 0)
		*m = TFO_SECCOMP_KILL;
	else if (strcmp(s, "log") == 0)
		*m = TFO_SECCOMP_LOG;
	else if (strcmp(s, "off") == 0)
		*m = TFO_SECCOMP_OFF;
	else
		return -1;
	return 0;
}

/* allow_names - one unconditional ALLOW per known name */
static int
allow_names(scmp_filter_ctx ctx, const char *const *names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;           /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
			log_error("seccomp: cannot allow %s", names[i]);
			return -1;
		}
	}
	return 0;
}

/* allow_eq - ALLOW `sys` when argument `arg` equals one of vals */
static int
allow_eq(scmp_filter_ctx ctx, int sys, unsigned arg, const scmp_datum_t *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 1,
		    EQ(arg, vals[i])) != 0)
			return -1;
	return 0;
}

/* memory_rules - no executable mappings: EPERM (dlopen fails, nothing dies) */
static int
memory_rules(scmp_filter_ctx ctx, enum tfo_seccomp_mode m)
{
	int rv = 0;

	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    MASKED(2, PROT_EXEC, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    MASKED(2, PROT_EXEC, 0));
	if (m == TFO_SECCOMP_KILL) {
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
		    MASKED(2, PROT_EXEC, PROT_EXEC));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
		    MASKED(2, PROT_EXEC, PROT_EXEC));
	}
	return rv;
}

/*
 * process_rules - threads only: clone needs CLONE_THREAD and no namespace
 * flag; clone3 (flags out of reach in a struct) says ENOSYS so glibc falls
 * back to clone. Sanitizer builds: fork/exec get an errno instead of the
 * default action, so that an ASan report that tries to start its symbolizer
 * is printed rather than cut short by SIGSYS.
 */
static int
process_rules(scmp_filter_ctx ctx, enum tfo_seccomp_mode m)
{
	int rv = 0;

	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    MASKED(0, CLONE_THREAD | NS_FLAGS, CLONE_THREAD));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
#ifdef TFO_SANITIZE
	if (m == TFO_SECCOMP_KILL) {
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		    MASKED(0, CLONE_THREAD, 0));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(execve), 0);
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(execveat), 0);
	}
#else
	(void)m;
#endif
	return rv;
}

/* signal_rules - kill/tgkill only towards this process (raise, abort) */
static int
signal_rules(scmp_filter_ctx ctx)
{
	scmp_datum_t self = (scmp_datum_t)getpid();
	int rv = 0;

	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    EQ(0, self));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    EQ(0, self));
	/* prlimit64 only reads this process's limits (getrlimit) */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
	    EQ(0, 0), EQ(2, 0));
	return rv;
}

/* misc_rules - ioctl and prctl with a short list of harmless requests */
static int
misc_rules(scmp_filter_ctx ctx)
{
	static const scmp_datum_t ioctls[] = { TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO,
		FIOCLEX, FIONCLEX };
	static const scmp_datum_t prctls[] = { PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE,
		PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ };

	if (allow_eq(ctx, SCMP_SYS(ioctl), 1, ioctls, sizeof(ioctls) / sizeof(ioctls[0])) ||
	    allow_eq(ctx, SCMP_SYS(prctl), 0, prctls, sizeof(prctls) / sizeof(prctls[0])))
		return -1;
	return 0;
}

/* open flags a read-only profile never passes (O_RDONLY is 0: any access
 * mode bit is a write; O_TMPFILE needs one too) */
static const scmp_datum_t open_write_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC,
	O_APPEND };

/* allow_open - ALLOW `sys` when its flags argument has no write flag.
 * SCMP_CMP_MASKED_EQ(mask, value) matches (arg & mask) == value on both
 * 32-bit halves of the argument, so bits above the int flags are masked off. */
static int
allow_open(scmp_filter_ctx ctx, int sys, unsigned arg, enum tfo_seccomp_mode m)
{
	scmp_datum_t all = 0;
	int rv = 0;

	for (size_t i = 0; i < sizeof(open_write_flags) / sizeof(open_write_flags[0]); i++) {
		all |= open_write_flags[i];
		/* kill mode: EPERM, not death: glibc's pthread_setname_np on another
		 * thread (nng names its threads) opens /proc/self/task/N/comm O_RDWR */
		if (m == TFO_SECCOMP_KILL)
			rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), sys, 1,
			    MASKED(arg, open_write_flags[i], open_write_flags[i]));
	}
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 1, MASKED(arg, all, 0));
	return rv;
}

/*
 * open_rules - open and openat; for an open_rdonly profile only read-only
 * (flags: arg 1 of open, arg 2 of openat); a write open gets EPERM (log
 * mode: the default action, logged). openat2 (flags in a struct), creat,
 * open_by_handle_at are in no profile.
 */
static int
open_rules(scmp_filter_ctx ctx, const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m)
{
	int rv = 0;

	if (!p->open_rdonly) {
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 0);
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 0);
		return rv;
	}
	rv |= allow_open(ctx, SCMP_SYS(open), 1, m);
	rv |= allow_open(ctx, SCMP_SYS(openat), 2, m);
	return rv;
}

/* socket_rules - AF_UNIX for all; INET/INET6 and NETLINK_ROUTE by feature */
static int
socket_rules(scmp_filter_ctx ctx, unsigned features)
{
	int rv = 0;

	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    EQ(0, AF_UNIX));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
	    EQ(0, AF_UNIX));
	if (features & TFO_SB_INET) {
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    EQ(0, AF_INET));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    EQ(0, AF_INET6));
	}
	if (features & TFO_SB_NETLINK)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    EQ(0, AF_NETLINK), EQ(2, NETLINK_ROUTE));
	return rv;
}

/* build - the whole filter of profile p */
static int
build(scmp_filter_ctx ctx, const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m)
{
	if (allow_names(ctx, tfo_sandbox_base_syscalls()) == -1 ||
	    allow_names(ctx, p->extra) == -1)
		return -1;
	for (unsigned f = 1; f != 0 && f <= TFO_SB_STATFS; f <<= 1)
		if ((p->features & f) && allow_names(ctx, tfo_sandbox_feature_syscalls(f)) == -1)
			return -1;
	if (open_rules(ctx, p, m) != 0 || memory_rules(ctx, m) != 0 ||
	    process_rules(ctx, m) != 0 || signal_rules(ctx) != 0 || misc_rules(ctx) != 0 ||
	    socket_rules(ctx, p->features) != 0) {
		log_error("seccomp: cannot add an argument rule");
		return -1;
	}
	return 0;
}

/*
 * pinned_memory_rules - the pinned names must stay what they are: no
 * mapping may be placed over them (MAP_FIXED, an address hint after an
 * munmap), moved onto them (mremap) or made writable (mprotect), so none of
 * those calls exists; mmap only lets the kernel choose (glibc's malloc).
 * Sanitizer builds: ASan's allocator maps at fixed addresses and unmaps,
 * so only PROT_EXEC stays out there, and its no-return hook (before _exit)
 * asks for the signal stack.
 */
static int
pinned_memory_rules(scmp_filter_ctx ctx)
{
	int rv = 0;

#ifdef TFO_SANITIZE
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, MASKED(2, PROT_EXEC, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    MASKED(2, PROT_EXEC, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 0);
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 0);
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0);
#else
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 3, EQ(0, 0),
	    MASKED(2, PROT_EXEC, 0), MASKED(3, MAP_FIXED | MAP_FIXED_NOREPLACE, 0));
#endif
	return rv;
}

/* pinned_rules - what tfo-procpriv may name (sandbox.h, struct tfo_sandbox_pins) */
static int
pinned_rules(scmp_filter_ctx ctx, const struct tfo_sandbox_pins *pins)
{
	int rv = 0;

	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    EQ(2, pins->dir_flags));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2,
	    EQ(1, (uintptr_t)pins->file), EQ(2, pins->file_flags));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(readlinkat), 1,
	    EQ(1, (uintptr_t)pins->link));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 2,
	    EQ(1, (uintptr_t)pins->stat), EQ(3, AT_SYMLINK_NOFOLLOW));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, EQ(0, STDERR_FILENO));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, EQ(0, pins->chan_fd));
	if (pins->list_dirs)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getdents64), 0);
	return rv;
}

/* build_pinned - a bare profile's names, the pins, and the argument rules
 * that keep a process inside itself (signals to itself only, no exec) */
static int
build_pinned(scmp_filter_ctx ctx, const struct tfo_sandbox_profile *p,
    const struct tfo_sandbox_pins *pins)
{
	if (allow_names(ctx, p->extra) == -1)
		return -1;
	if (pinned_rules(ctx, pins) != 0 || pinned_memory_rules(ctx) != 0 ||
	    signal_rules(ctx) != 0) {
		log_error("seccomp: cannot add a pinned rule");
		return -1;
	}
	return 0;
}

/* child_rules - wait4 of the one child the worker spawned before the sandbox */
static int
child_rules(scmp_filter_ctx ctx, int child)
{
	if (child <= 0)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 1, EQ(0, child));
}

static enum tfo_err
load(const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m,
    const struct tfo_sandbox_pins *pins, int child)
{
	scmp_filter_ctx ctx;
	int rv;

	if (m == TFO_SECCOMP_OFF)
		return TFO_OK;
	if (p->bare != (pins != NULL))
		return TFO_EINVAL;
	ctx = seccomp_init(m == TFO_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return TFO_ENOMEM;
	/* every thread, should one exist; the kernel logs what is not allowed */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    (pins != NULL ? build_pinned(ctx, p, pins) : build(ctx, p, m)) == -1 ||
	    child_rules(ctx, child) != 0) {
		seccomp_release(ctx);
		return TFO_EINVAL;
	}
	/* A pinned process may never advise its memory once the filter is in
	 * (pinned_memory_rules), so its one trim of the start-up file pages
	 * (the filter just built above, the loader's) is now (issue 18 §2). */
	if (pins != NULL)
		(void)tfo_pagetrim();
	rv = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rv != 0) {
		errno = -rv;
		return TFO_EIO;
	}
	return TFO_OK;
}

enum tfo_err
tfo_seccomp_apply(const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m)
{
	return load(p, m, NULL, 0);
}

enum tfo_err
tfo_seccomp_apply_child(const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m, int child)
{
	return load(p, m, NULL, child);
}

enum tfo_err
tfo_seccomp_apply_pinned(const struct tfo_sandbox_profile *p, enum tfo_seccomp_mode m,
    const struct tfo_sandbox_pins *pins)
{
	return pins == NULL ? TFO_EINVAL : load(p, m, pins, 0);
}
