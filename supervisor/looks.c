/*
 * looks.c - where a worker's main thread is, as the kernel sees it, and
 * whether that is its loop waiting for events (idle: not pinged).
 *
 * A liveness ping wakes the worker it asks: at idle defaults, eight pings a
 * minute for each of five workers were about a fifth of the tree's wake-ups
 * (issue 18 §3), and on a virtual machine a wake-up costs hundreds of
 * microseconds. Yet the kernel already knows what a pong would say: a worker
 * whose main thread (every worker's loop runs on it) sleeps in epoll_wait is
 * in its loop, waiting for events: it is not hung. So at a ping tick the
 * supervisor looks first, and pings only a worker it does not find so.
 *
 * The look reads /proc/<pid>/stat (the state: S, sleeping; a stopped or
 * traced worker is T or t, and its syscall file still names the epoll_wait
 * it was stopped in) and /proc/<pid>/syscall (the call it sleeps in). Both
 * are opened once per process and read again with pread at offset 0 (the
 * kernel makes the text anew): two syscalls a look. An fd opened on a live
 * child is bound to that process, not to its pid: after its death a read
 * fails (ESRCH), never describes whoever reuses the pid.
 *
 * A compromised worker could sleep in epoll_wait forever to look alive; it
 * could as well answer every ping. The same look tells whether a worker that
 * does not answer waits on the disk (diskwait.c). The text is the kernel's,
 * but read as hostile like every /proc file: bounded, checked conversions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/supervisor.h"

/* look_open - the two files of w's process, once */
static int
look_open(struct sv_worker *w)
{
	char path[64];

	if (w->look_fd[0] >= 0 && w->look_fd[1] >= 0)
		return 0;
	sv_look_close(w);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)w->pid);
	if ((w->look_fd[0] = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)w->pid);
	if ((w->look_fd[1] = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		sv_look_close(w);
		return -1;
	}
	return 0;
}

/* look_read - the file's text now, NUL-terminated; -1 */
static ssize_t
look_read(int fd, char *buf, size_t len)
{
	ssize_t n;

	do
		n = pread(fd, buf, len - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

int
sv_idle_judge(char state, long nr)
{
	if (state != 'S')
		return 0;
	return nr == SYS_epoll_wait || nr == SYS_epoll_pwait
#ifdef SYS_epoll_pwait2
	    || nr == SYS_epoll_pwait2
#endif
	    ;
}

char
sv_stat_state(const char *text)
{
	const char *p = strrchr(text, ')');    /* the comm may hold ')' itself */

	if (p == NULL || p[1] != ' ' || p[2] == '\0' || strchr("RSDTtZXIPKWx", p[2]) == NULL)
		return '\0';
	return p[2];
}

int
sv_syscall_parse(const char *text, long *nr, unsigned long long *arg0)
{
	char *end;

	errno = 0;
	*nr = strtol(text, &end, 10);
	if (errno || end == text || *end != ' ' || *nr < 0)
		return -1;              /* "running", or "-1 sp pc": not in a call */
	errno = 0;
	*arg0 = strtoull(end + 1, &end, 16);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	return 0;
}

int
sv_look(struct sv_worker *w, char *state, long *nr, unsigned long long *arg0)
{
	char text[512];

	if (w->pid <= 0 || look_open(w) != 0)
		return -1;
	/* the call first: a worker stopped after that read shows T in the
	 * second. The reverse race (it leaves the wait and sleeps elsewhere
	 * between the reads) misleads one look; the next tick looks again. */
	if (look_read(w->look_fd[1], text, sizeof(text)) < 0)
		return -1;
	*arg0 = ~0ULL;
	if (sv_syscall_parse(text, nr, arg0) != 0)
		*nr = -1;               /* "running", or not in a call */
	if (look_read(w->look_fd[0], text, sizeof(text)) < 0 ||
	    (*state = sv_stat_state(text)) == '\0')
		return -1;
	return 0;
}

int
sv_loop_idle(struct sv_worker *w)
{
	unsigned long long arg0;
	char state;
	long nr;

	return sv_look(w, &state, &nr, &arg0) == 0 && sv_idle_judge(state, nr);
}

void
sv_look_close(struct sv_worker *w)
{
	for (int i = 0; i < 2; i++) {
		if (w->look_fd[i] >= 0)
			close(w->look_fd[i]);
		w->look_fd[i] = -1;
	}
}
