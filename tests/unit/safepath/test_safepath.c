/*
 * test_safepath.c - tfo_safe_open_dir / tfo_safe_open_file against the
 * attacks of issue 24 §2, under a fresh directory in /tmp (root-owned sticky:
 * a safe ancestor). Needs root (chown to a uid that is not ours); skipped
 * otherwise. A foreign owner is a bare uid: no user entry is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/safepath.h"

#define MALLORY 54321u          /* a uid that is neither root nor ours */

static char top[64];

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(top, sizeof(top), "/tmp/tfo-safepath-XXXXXX");
	if (mkdtemp(top) == NULL || chmod(top, 0755) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (top[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void
need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* p - top/rel in a static buffer (one of four, rotating) */
static const char *
p(const char *rel)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

static void
mkd(const char *rel, mode_t mode, uid_t uid)
{
	assert_int_equal(mkdir(p(rel), 0700), 0);
	assert_int_equal(chown(p(rel), uid, 0), 0);
	assert_int_equal(chmod(p(rel), mode), 0);
}

static void
mkl(const char *target, const char *rel, uid_t uid)
{
	assert_int_equal(symlink(target, p(rel)), 0);
	assert_int_equal(lchown(p(rel), uid, 0), 0);
}

/* refused - open_dir fails with errno e and err containing want */
static void
refused(const char *rel, struct tfo_safe_opts *o, int e, const char *want)
{
	char err[1024] = "";
	int fd = tfo_safe_open_dir(p(rel), o, err, sizeof(err));

	if (fd >= 0)
		fail_msg("%s: opened, expected \"%s\"", rel, want);
	assert_int_equal(errno, e);
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", rel, err, want);
}

static void
opens(const char *rel, struct tfo_safe_opts *o)
{
	char err[1024] = "";
	int fd = tfo_safe_open_dir(p(rel), o, err, sizeof(err));

	if (fd < 0)
		fail_msg("%s: %s", rel, err);
	close(fd);
}

static void
test_rule(void **state)
{
	struct tfo_safe_opts o = { 0 };
	char want[256];

	(void)state;
	need_root();
	mkd("ok", 0755, 0);
	mkd("ok/sub", 0700, 0);
	opens("ok/sub", &o);
	mkd("mal", 0755, MALLORY);
	mkd("mal/run", 0755, 0);
	snprintf(want, sizeof(want), "%s (0755 54321:root) is not owned by root", p("mal"));
	refused("mal/run", &o, EPERM, want);
	/* the dev mode trusts the user running it */
	o.self = MALLORY;
	opens("mal/run", &o);
	o.self = 0;
	mkd("gw", 0775, 0);
	mkd("gw/x", 0755, 0);
	snprintf(want, sizeof(want), "%s (0775 root:root) is writable by group or other", p("gw"));
	refused("gw/x", &o, EPERM, want);
	mkd("ow", 0757, 0);
	refused("ow", &o, EPERM, "is writable by group or other");
	/* a root-owned sticky directory is safe (tmp, the runtime dir's 1771) ... */
	mkd("sticky", 01777, 0);
	mkd("sticky/mine", 0755, 0);
	opens("sticky/mine", &o);
	/* ... one of another owner is not */
	mkd("msticky", 01777, MALLORY);
	mkd("msticky/x", 0755, 0);
	refused("msticky/x", &o, EPERM, "is not owned by root");
	/* the last directory: another owner only when named, any mode on request */
	mkd("ok/role", 0770, MALLORY);
	refused("ok/role", &o, EPERM, "is not owned by root");
	o.last_uid = MALLORY;
	refused("ok/role", &o, EPERM, "is writable by group or other");
	o.flags = TFO_SAFE_LAST_MODE;
	opens("ok/role", &o);
	mkd("ok/role/deeper", 0755, 0);
	o.flags = 0;
	refused("ok/role/deeper", &o, EPERM, "is not owned by root");  /* not the last there */
}

/* the attack: links planted by an ordinary user are never followed, and the
 * victim is untouched whatever the caller would have changed */
static void
test_planted_links(void **state)
{
	struct tfo_safe_opts o = { .flags = TFO_SAFE_MKDIR, .mkmode = 0750 };
	struct stat before, after;
	char want[256];

	(void)state;
	need_root();
	mkd("victim", 0700, 0);
	assert_int_equal(stat(p("victim"), &before), 0);
	mkd("sticky2", 01777, 0);
	mkl(p("victim"), "sticky2/run", MALLORY);
	snprintf(want, sizeof(want), "%s is a symlink owned by 54321: not followed",
	    p("sticky2/run"));
	refused("sticky2/run", &o, EPERM, want);
	refused("sticky2/run/sub", &o, EPERM, want);
	assert_int_equal(stat(p("victim"), &after), 0);
	assert_int_equal(after.st_mode, before.st_mode);
	assert_int_equal(after.st_uid, before.st_uid);
	assert_false(o.created);
	/* a link root made is followed, with every component of its target checked */
	mkl("../victim", "sticky2/rootlink", 0);
	opens("sticky2/rootlink", &o);
	mkd("gw2", 0777, 0);
	mkd("gw2/t", 0755, 0);
	mkl(p("gw2/t"), "sticky2/tolax", 0);
	refused("sticky2/tolax", &o, EPERM, "is writable by group or other");
	/* loops end */
	mkl("loop2", "sticky2/loop1", 0);
	mkl("loop1", "sticky2/loop2", 0);
	refused("sticky2/loop1", &o, ELOOP, "one symlink too many");
	/* a non-directory where a directory is wanted */
	assert_int_equal(close(open(p("plain"), O_CREAT | O_WRONLY, 0600)), 0);
	refused("plain", &o, ENOTDIR, "is not a directory");
}

static void
seen(void *arg, const char *dir, const struct stat *st)
{
	char *log = arg;

	(void)st;
	strcat(log, dir);
	strcat(log, ";");
}

static void
test_mkdir_and_walk_order(void **state)
{
	char log[4096] = "", want[2048], err[512];
	struct tfo_safe_opts o = { .flags = TFO_SAFE_MKDIR, .mkmode = 0750, .each = seen,
	    .arg = log };
	struct stat st;
	int fd;

	(void)state;
	need_root();
	mkd("a", 0755, 0);
	mkl("a", "b", 0);
	fd = tfo_safe_open_dir(p("b/./new"), &o, err, sizeof(err));
	if (fd < 0)
		fail_msg("%s", err);
	assert_true(o.created);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750 & ~(mode_t)umask(022));
	close(fd);
	/* every directory passed through, links resolved */
	snprintf(want, sizeof(want), "/;/tmp;%s;%s;%s;", top, p("a"), p("a/new"));
	assert_string_equal(log, want);
	/* a second open finds it and creates nothing */
	opens("a/new", &o);
	assert_false(o.created);
	/* missing: the last component, or one above it */
	o.flags = 0;
	refused("a/none", &o, ENOENT, "does not exist");
	assert_true(o.last_missing);
	refused("a/none/x", &o, ENOENT, "does not exist");
	assert_false(o.last_missing);
	o.flags = TFO_SAFE_MKDIR;
	refused("a/none/x", &o, ENOENT, "does not exist");   /* only the last is made */
	/* ".." goes back to the checked parent */
	opens("a/new/../new", &o);
	fd = tfo_safe_open_dir("relative/path", &o, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EINVAL);
}

static void
file_refused(const char *rel, struct tfo_safe_opts *o, const char *want)
{
	char err[1024] = "";
	int fd = tfo_safe_open_file(p(rel), o, O_RDONLY, err, sizeof(err));

	if (fd >= 0)
		fail_msg("%s: opened, expected \"%s\"", rel, want);
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", rel, err, want);
}

static void
mkf(const char *rel, mode_t mode, uid_t uid)
{
	int fd = open(p(rel), O_CREAT | O_WRONLY | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(fchown(fd, uid, 0), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_files(void **state)
{
	struct tfo_safe_opts o = { 0 };
	char err[512], buf[8];
	int fd;

	(void)state;
	need_root();
	mkd("etc", 0755, 0);
	mkf("etc/cfg.yaml", 0640, 0);        /* the package's 0640 root:tfo-agent */
	fd = tfo_safe_open_file(p("etc/cfg.yaml"), &o, O_RDONLY, err, sizeof(err));
	if (fd < 0)
		fail_msg("%s", err);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	mkf("etc/gw.yaml", 0660, 0);
	file_refused("etc/gw.yaml", &o, "(0660 root:root) is writable by group or other");
	mkf("etc/mal.yaml", 0600, MALLORY);
	file_refused("etc/mal.yaml", &o, "(0600 54321:root) is not owned by root");
	o.self = MALLORY;
	fd = tfo_safe_open_file(p("etc/mal.yaml"), &o, O_RDONLY, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	o.self = 0;
	mkd("fmal", 0755, MALLORY);
	mkf("fmal/cfg.yaml", 0600, 0);
	file_refused("fmal/cfg.yaml", &o, "is not owned by root");
	mkd("fst", 01777, 0);
	mkl(p("etc/cfg.yaml"), "fst/link.yaml", MALLORY);
	file_refused("fst/link.yaml", &o, "is a symlink owned by 54321: not followed");
	mkl(p("etc/cfg.yaml"), "fst/rootlink.yaml", 0);
	fd = tfo_safe_open_file(p("fst/rootlink.yaml"), &o, O_RDONLY, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	/* a FIFO planted in a sticky dir: refused at once, not waited on */
	assert_int_equal(mkfifo(p("fst/fifo.yaml"), 0600), 0);
	file_refused("fst/fifo.yaml", &o, "is not a regular file");
	file_refused("etc", &o, "is not a regular file");
	file_refused("etc/none.yaml", &o, "does not exist");
	assert_true(o.last_missing);
}

static void
test_set_through_fd(void **state)
{
	struct tfo_safe_opts o = { 0 };
	char err[512];
	struct stat st;
	int fd;

	(void)state;
	need_root();
	mkd("set", 0700, 0);
	fd = tfo_safe_open_dir(p("set"), &o, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(tfo_safe_set(fd, p("set"), MALLORY, 0, 0750, err, sizeof(err)), 0);
	assert_int_equal(tfo_safe_set(fd, p("set"), (uid_t)-1, 0, 01771, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(stat(p("set"), &st), 0);
	assert_int_equal(st.st_uid, MALLORY);
	assert_int_equal(st.st_mode & 07777, 01771);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_planted_links),
		cmocka_unit_test(test_mkdir_and_walk_order),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_set_through_fd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
