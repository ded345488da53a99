/*
 * sdnotify.c - sd_notify(3) and sd_watchdog_enabled(3) as tfo-supervisor
 * uses them, over a plain AF_UNIX datagram socket. See sdnotify.h.
 */
#include "supervisor/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* notify_addr - sockaddr of $NOTIFY_SOCKET; its length, or -errno */
static int
notify_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;        /* vsock: and others: not ours to speak */
	if (n < 2 || n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';      /* abstract: no terminating NUL counted */
	return (int)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
}

int
tfo_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len = strlen(state);
	int fd, salen, err;
	ssize_t n;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((salen = notify_addr(path, &sa)) < 0)
		return salen;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	n = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, (socklen_t)salen);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == len ? 1 : -EMSGSIZE;
}

/* env_u64 - a decimal environment value; -1 when unset or not a number */
static int
env_u64(const char *name, uint64_t *v)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long x;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

int
tfo_sd_watchdog_usec(uint64_t *usec)
{
	uint64_t pid, us;

	/* set for another process (or garbled): not ours to pet */
	if (getenv("WATCHDOG_PID") != NULL &&
	    (env_u64("WATCHDOG_PID", &pid) != 0 || pid != (uint64_t)getpid()))
		return 0;
	if (env_u64("WATCHDOG_USEC", &us) != 0 || us == 0)
		return 0;
	*usec = us;
	return 1;
}
