/*
 * main.c - tfo-procpriv, tfo-process's privileged /proc reader (chrony
 * privops, OpenSSH monitor): started by tfo-process as root before it drops
 * its own privileges, it keeps CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH under
 * tfo-process's uid, no Landlock (Landlock denies the very ptrace-mode reads
 * it exists for), and a bare seccomp filter that pins what it may name
 * (common/sandbox_seccomp.c). It answers (pid, ops) requests on fd 3 with
 * numbers and exe paths (ops.c) until tfo-process closes the channel.
 * Usage (by tfo-process only): tfo-procpriv UID|- GID|- kill|log|off LEVEL FORMAT
 * with fd 3 = its end of a SOCK_SEQPACKET socketpair, fd 4 = a /proc dirfd.
 */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"
#include "common/privops.h"
#include "common/sandbox.h"
#include "common/version.h"
#include "workers/procpriv/ops.h"

#define NOFILE_CAP 64           /* a handful, and the 24 kept processes' two each (ops.c) */

#ifdef TFO_SANITIZE
/* LeakSanitizer's exit-time scan needs ptrace (common/worker.c says more) */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* the two capabilities the reads need (docs/process.md says why each) */
static const int helper_caps[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, -1 };

static uint8_t req_buf[TFO_PRIVOPS_REQ_MAX + 1];
static uint8_t reply_buf[TFO_PRIVOPS_REPLY_MAX];

/* parse_id - a uid/gid argument: decimal, or "-" (no identity change) */
static int
parse_id(const char *s, long *out)
{
	char *end;

	if (strcmp(s, "-") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *out <= 0 || *out > 0x7fffffffL ? -1 : 0;
}

/* fds_ok - fd 3 a socket, fd 4 a directory (procfs, or a copied tree in
 * tests: the collector reads either); nothing else open */
static int
fds_ok(void)
{
	struct stat st;

	if (fstat(TFO_PRIVOPS_CHAN_FD, &st) != 0 || !S_ISSOCK(st.st_mode))
		return -1;
	if (fstat(TFO_PRIVOPS_PROC_FD, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	/* an fd inherited by mistake would be readable by a taken-over helper */
	(void)syscall(SYS_close_range, TFO_PRIVOPS_PROC_FD + 1, ~0U, 0);
	return 0;
}

/* reset_signals - tfo-process ignores SIGTERM and SIGINT, and an ignored
 * signal stays ignored across exec: the parent-death signal must kill */
static void
reset_signals(void)
{
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* output_is_file - stdout or stderr is a regular file (a test's log): then
 * RLIMIT_FSIZE 0 would kill the helper at its first log line (SIGXFSZ) */
static int
output_is_file(void)
{
	struct stat st;

	for (int fd = 1; fd <= 2; fd++)
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return 1;
	return 0;
}

/* drop - rlimits, identity with the two capabilities, parent-death signal,
 * no_new_privs, not dumpable */
static int
drop(long uid, long gid, pid_t ppid)
{
	struct rlimit nofile = { NOFILE_CAP, NOFILE_CAP };
	const uint32_t groups[1] = { (uint32_t)gid };   /* its primary group only */

	if (tfo_priv_rlimits(!output_is_file(), 0) != 0 || setrlimit(RLIMIT_NOFILE, &nofile) != 0) {
		log_error("rlimits: %s", strerror(errno));
		return -1;
	}
	if (uid > 0 && geteuid() == 0) {
		if (tfo_priv_drop((uid_t)uid, (gid_t)gid, groups, 1, helper_caps) != 0 ||
		    tfo_priv_verify((uid_t)uid, (gid_t)gid, groups, 1) != 0) {
			log_error("privdrop: to %ld:%ld: %s", uid, gid, strerror(errno));
			return -1;
		}
	} else
		log_info("non-root mode: no uid change, running as uid %u", (unsigned)getuid());
	if (tfo_priv_pdeathsig(ppid) != 0) {
		log_error("pdeathsig: tfo-process already gone");
		return -1;
	}
	if (tfo_priv_no_new_privs() != 0 || tfo_priv_nondumpable() != 0) {
		log_error("no_new_privs / not dumpable: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
fence(enum tfo_seccomp_mode mode, int list_fds)
{
	const struct tfo_sandbox_pins pins = {
		.file = tfo_privops_name_io, .link = tfo_privops_name_exe,
		.stat = tfo_privops_name_fd, .dir_flags = TFO_PRIVOPS_DIR_FLAGS,
		.file_flags = TFO_PRIVOPS_FILE_FLAGS, .chan_fd = TFO_PRIVOPS_CHAN_FD,
		.list_dirs = list_fds,
	};
	enum tfo_err e = tfo_seccomp_apply_pinned(tfo_sandbox_profile("procpriv"), mode, &pins);

	if (e != TFO_OK) {
		log_error("seccomp: %s", tfo_strerror(e));
		return -1;
	}
	return 0;
}

/* hello - the first packet: the sandbox is in place (reserved = list_fds) */
static int
hello(int list_fds)
{
	struct tfo_privops_hdr h = { .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_HELLO,
		.reserved = (uint32_t)list_fds };

	return write(TFO_PRIVOPS_CHAN_FD, &h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : -1;
}

#ifdef TFO_TEST_HOOKS
/* serve_test - test builds: attempt one forbidden action (tests/sandbox) */
static int
serve_test(size_t len)
{
	struct tfo_privops_hdr h;
	struct tfo_privops_test t;
	struct tfo_privops_test_res r = { 0 };

	if (len != sizeof(h) + sizeof(t))
		return -1;
	memcpy(&t, req_buf + sizeof(h), sizeof(t));
	if (memchr(t.action, '\0', sizeof(t.action)) == NULL ||
	    memchr(t.arg, '\0', sizeof(t.arg)) == NULL)
		return -1;
	log_warn("test hook: attempting forbidden action \"%s\" (%s)", t.action, t.arg);
	r.err = tfo_sandbox_test_run(t.action, t.arg);
	h = (struct tfo_privops_hdr){ .magic = TFO_PRIVOPS_MAGIC, .type = TFO_PRIVMSG_TEST, .n = 1 };
	memcpy(reply_buf, &h, sizeof(h));
	memcpy(reply_buf + sizeof(h), &r, sizeof(r));
	return write(TFO_PRIVOPS_CHAN_FD, reply_buf, sizeof(h) + sizeof(r)) ==
	    (ssize_t)(sizeof(h) + sizeof(r)) ? 0 : -1;
}
#endif

/* one - serve one packet; 1 on EOF (tfo-process closed the channel), -1 fatal */
static int
one(const struct tfo_privops_env *env)
{
	struct tfo_privops_hdr h;
	size_t rlen;
	ssize_t n;

	do
		n = read(TFO_PRIVOPS_CHAN_FD, req_buf, sizeof(req_buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n == 0 ? 1 : -1;
	if ((size_t)n >= sizeof(h)) {
		memcpy(&h, req_buf, sizeof(h));
#ifdef TFO_TEST_HOOKS
		if (h.magic == TFO_PRIVOPS_MAGIC && h.type == TFO_PRIVMSG_TEST)
			return serve_test((size_t)n);
#endif
	}
	if (tfo_privops_serve(env, req_buf, (size_t)n, reply_buf, sizeof(reply_buf), &rlen) !=
	    TFO_OK) {
		log_error("malformed request (%zd bytes): stopping", n);
		return -1;
	}
	if (write(TFO_PRIVOPS_CHAN_FD, reply_buf, rlen) != (ssize_t)rlen)
		return -1;
	return 0;
}

/* usage - a person asking (--version, --help) or a mistake (2): tfo-process
 * always passes its five arguments */
static int
usage(int argc, char **argv)
{
	FILE *fp = stderr;

	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		tfo_version_print(stdout, "tfo-procpriv");
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		fp = stdout;
	fprintf(fp, "usage: tfo-procpriv --version | --help\n"
	    "tfo-procpriv is tfo-process's privileged /proc reader. tfo-process starts\n"
	    "it as root with a socketpair on fd 3 and /proc on fd 4\n"
	    "(tfo-procpriv UID|- GID|- kill|log|off LEVEL FORMAT); it is not run by\n"
	    "hand. See docs/security.md.\n");
	return fp == stdout ? 0 : 2;
}

int
main(int argc, char **argv)
{
	struct tfo_privops_env env = { .procfd = TFO_PRIVOPS_PROC_FD };
	enum tfo_seccomp_mode mode;
	pid_t ppid = getppid();
	long uid, gid;
	int rc;

	if (argc != 6 || parse_id(argv[1], &uid) != 0 || parse_id(argv[2], &gid) != 0 ||
	    (uid > 0) != (gid > 0) || tfo_seccomp_mode_parse(argv[3], &mode) != 0)
		return usage(argc, argv);
	reset_signals();
	tfo_log_init("procpriv", TFO_LOG_INFO, TFO_LOG_TEXT);
	tfo_log_configure(argv[4], argv[5]);
	if (fds_ok() != 0) {
		log_error("fd 3 must be a socket and fd 4 a /proc directory: started by tfo-process");
		return 2;
	}
	env.list_fds = !tfo_privops_fd_count_sized(env.procfd);
	/* glibc reads /etc/localtime at the first gmtime_r (every log line's
	 * stamp): now, not under the filter, which allows no such open */
	tzset();
	if (drop(uid, gid, ppid) != 0 || fence(mode, env.list_fds) != 0 || hello(env.list_fds) != 0)
		return 1;
	while ((rc = one(&env)) == 0)
		;
	return rc == 1 ? 0 : 1;
}
