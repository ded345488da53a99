/*
 * buffer_statedir.c - integration test of tfo-buffer's state directory, as
 * root with the real worker dropping to a throw-away ordinary user (the
 * buffer's role user here): a buffer.path and queue left 0755 with 0644 files
 * become 0700 / 0600, owned by the role user; links that user planted in its
 * directory (symbolic, or a hard link to root's file) are never followed by
 * root's pre-init chown/chmod; a queue replaced by a link to another
 * directory is refused, not followed, and that directory is left as it was.
 * usage: buffer_statedir <path to tfo-buffer>   (exit 77: not root)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "tests/integration/buffer/spawn.h"
#include "tests/lib/check.h"

static char user[32];
static uid_t uid;
static gid_t gid;

static void
mkfile(const char *path, mode_t mode, uid_t u, gid_t g)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0 && write(fd, "secret\n", 7) == 7, "create %s", path);
	if (fd >= 0)
		close(fd);
	CHECK(chmod(path, mode) == 0 && chown(path, u, g) == 0, "mode of %s", path);
}

/* expect - path is mode (type bits off) and owned by u */
static void
expect(const char *path, mode_t mode, uid_t u)
{
	struct stat st;

	CHECK(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
	CHECK((st.st_mode & 07777) == mode && st.st_uid == u, "%s is %04o uid %u, expected "
	    "%04o uid %u", path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
	    (unsigned)mode, (unsigned)u);
}

/* as_user - run fn(arg) in a child as the throw-away user (what it can plant) */
static void
as_user(void (*fn)(const char *), const char *arg)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(2);
		fn(arg);
		_exit(0);
	}
	CHECK(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "planting as %s failed", user);
}

/*
 * start_as_unit - start and stop the buffer from a child whose bounding set
 * lacks CAP_DAC_OVERRIDE, as under tfo-agent.service: root's pre-init then
 * cannot write into the role user's 0700 buffer.path. 0 when it got ready.
 */
static int
start_as_unit(struct tbuf *t, const char *bin)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0)
			_exit(2);
		if (tbuf_start(t, bin, 1, 1, 64) != 0)
			_exit(1);
		_exit(tbuf_stop(t) == 0 ? 0 : 1);
	}
	return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char victim[300], vfile[400], vfile2[400];

static void
plant_links(const char *state)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/evil", state);
	if (symlink(vfile, p) != 0)
		_exit(3);
	snprintf(p, sizeof(p), "%s/queue/evil", state);
	if (symlink(victim, p) != 0)
		_exit(3);
}

static void
plant_queue(const char *state)
{
	char q[600], q2[600];

	snprintf(q, sizeof(q), "%s/queue", state);
	snprintf(q2, sizeof(q2), "%s/queue.moved", state);
	if (rename(q, q2) != 0 || symlink(victim, q) != 0)
		_exit(3);
}

int
main(int argc, char **argv)
{
	struct tbuf t;
	struct passwd *pw;
	char p[600], cmd[400], log[400], hard[600];

	if (argc != 2) {
		fprintf(stderr, "usage: %s <tfo-buffer>\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIP: needs root (a throw-away user, the identity drop)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(user, sizeof(user), "tfo-tplant%d", (int)getpid() % 100000);
	snprintf(cmd, sizeof(cmd), "useradd --system --no-create-home --shell /usr/sbin/nologin "
	    "%s", user);
	if (system(cmd) != 0 || (pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "FAIL: useradd %s\n", user);
		return 1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	snprintf(victim, sizeof(victim), "/tmp/tfo-victim.XXXXXX");
	CHECK(mkdtemp(victim) != NULL && chmod(victim, 0755) == 0, "victim dir");
	snprintf(vfile, sizeof(vfile), "%s/secret", victim);
	snprintf(vfile2, sizeof(vfile2), "%s/secret2", victim);
	mkfile(vfile, 0640, 0, 0);
	mkfile(vfile2, 0644, 0, 0);

	CHECK(tbuf_setup(&t) == 0, "setup");
	CHECK(chmod(t.dir, 01777) == 0, "chmod %s", t.dir);     /* the sockets: as /tmp */
	t.drop = 1;
	t.drop_uid = uid;
	t.drop_gid = gid;
	snprintf(log, sizeof(log), "%s/worker.log", victim);

	/* 0. a fresh buffer.path as tmpfiles.d makes it (0700, the role user's,
	 * no queue yet), root without CAP_DAC_OVERRIDE as in the unit: ready */
	CHECK(mkdir(t.state, 0700) == 0 && chown(t.state, uid, gid) == 0, "state");
	CHECK(start_as_unit(&t, argv[1]) == 0, "fresh buffer.path without CAP_DAC_OVERRIDE");
	snprintf(p, sizeof(p), "%s/queue", t.state);
	expect(p, 0700, uid);               /* made by LevelDB, as the role user */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t.state);
	CHECK(system(cmd) == 0, "rm %s", t.state);

	/* 1. left 0755 / 0644 by an earlier setup: 0700 / 0600 after a start */
	CHECK(mkdir(t.state, 0755) == 0 && chown(t.state, uid, gid) == 0, "state");
	snprintf(p, sizeof(p), "%s/queue", t.state);
	CHECK(mkdir(p, 0755) == 0 && chown(p, uid, gid) == 0, "queue");
	snprintf(p, sizeof(p), "%s/queue/old-notes", t.state);
	mkfile(p, 0644, uid, gid);
	snprintf(p, sizeof(p), "%s/queue.corrupt-1", t.state);
	CHECK(mkdir(p, 0755) == 0 && chown(p, uid, gid) == 0, "quarantine");
	snprintf(p, sizeof(p), "%s/queue.corrupt-1/000005.ldb", t.state);
	mkfile(p, 0644, uid, gid);
	CHECK(tbuf_start(&t, argv[1], 1, 1, 64) == 0, "start as %s", user);
	expect(t.state, 0700, uid);
	snprintf(p, sizeof(p), "%s/queue", t.state);
	expect(p, 0700, uid);
	snprintf(p, sizeof(p), "%s/queue/old-notes", t.state);
	expect(p, 0600, uid);
	snprintf(p, sizeof(p), "%s/queue/CURRENT", t.state);
	expect(p, 0600, uid);               /* what LevelDB made, as the role user */
	snprintf(p, sizeof(p), "%s/queue.corrupt-1", t.state);
	expect(p, 0700, uid);
	snprintf(p, sizeof(p), "%s/queue.corrupt-1/000005.ldb", t.state);
	expect(p, 0600, uid);
	CHECK(tbuf_stop(&t) == 0, "stop");

	/* 2. links the role user planted, and a hard link to root's file */
	as_user(plant_links, t.state);
	snprintf(hard, sizeof(hard), "%s/queue/hard", t.state);
	CHECK(link(vfile2, hard) == 0, "hard link");     /* fs.protected_hardlinks=0 */
	CHECK(tbuf_start_logged(&t, argv[1], 1, log) == 0, "start with planted links");
	CHECK(tbuf_log_lines(log, "left as it is", NULL) >= 3, "planted links not reported");
	expect(victim, 0755, 0);
	expect(vfile, 0640, 0);
	expect(vfile2, 0644, 0);
	CHECK(tbuf_stop(&t) == 0, "stop");

	/* 3. queue itself a link to another directory: refused, not followed */
	CHECK(unlink(hard) == 0, "unlink hard");
	as_user(plant_queue, t.state);
	CHECK(tbuf_start_logged(&t, argv[1], 1, log) == -1, "started on a queue that is a link");
	CHECK(tbuf_log_lines(log, "queue (0777", NULL) == 1 &&
	    tbuf_log_lines(log, "is a symbolic link: refused", NULL) == 1,
	    "the refusal does not name the link");
	expect(victim, 0755, 0);
	expect(vfile, 0640, 0);
	expect(vfile2, 0644, 0);

	tbuf_cleanup(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'; userdel %s", victim, user);
	CHECK(system(cmd) == 0, "cleanup");
	printf("%s\n", failures ? "FAIL" : "ok buffer_statedir");
	return failures ? 1 : 0;
}
