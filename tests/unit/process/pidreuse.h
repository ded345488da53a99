/*
 * pidreuse.h - what the pid-reuse attacks on tfo-process and tfo-procpriv
 * share: a throw-away user, a process of theirs started under a pid chosen
 * by the test (one that was just another process's), and the fds a process
 * holds on /proc/<pid>.
 */
#ifndef TFO_TEST_PIDREUSE_H
#define TFO_TEST_PIDREUSE_H

#include <stdint.h>
#include <sys/types.h>

struct pr_user {
	char name[32];
	uid_t uid;
	gid_t gid;
	char dir[64];                   /* 0755, holds the copied executable */
	char exe[96];                   /* <dir>/tfo-reuse-new: a copy of sleep */
	pid_t pid;                      /* its process (pr_spawn_at), killed by pr_user_del */
};

/* the test's throw-away user, removed by pr_teardown (a cmocka teardown) */
extern struct pr_user pr_user;
int pr_teardown(void **state);

/* pr_user_add - useradd a system user and copy /bin/sleep for them to run;
 * 0, or -1 when not root (the caller skips) */
int pr_user_add(struct pr_user *u);
/* pr_user_del - userdel and remove the copy (any state: teardown) */
void pr_user_del(struct pr_user *u);

/* pr_spawn_at - a process of u's under pid want (free: the test reaped its
 * owner), running u->exe 1000 with only fds 0-2 (/dev/null); returns once
 * its exec is done and it sleeps. 0 ok, -1 this kernel or identity cannot
 * choose a pid (the caller skips) */
int pr_spawn_at(struct pr_user *u, pid_t want);

/* pr_kill - kill and reap u's process (from pr_spawn_at), if any */
void pr_kill(struct pr_user *u);

/* pr_fds_on - fds of process holder open on /proc/<pid> or below */
int pr_fds_on(pid_t holder, pid_t pid);

/* pr_io - read_bytes and write_bytes of /proc/<pid>/io, read twice until
 * they agree (a process still starting moves them) */
void pr_io(pid_t pid, uint64_t *read_bytes, uint64_t *write_bytes);

/* pr_stat_tail - /proc/<pid>/stat read into buf (cap bytes): its fields
 * from the state on (after "comm) ") */
const char *pr_stat_tail(pid_t pid, char *buf, size_t cap);

/* pr_starttime - field 22 of /proc/<pid>/stat (ticks after boot) */
uint64_t pr_starttime(pid_t pid);

#endif
