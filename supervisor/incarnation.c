/*
 * incarnation.c - tfo-supervisor's worker incarnations, never reused: across
 * supervisor runs (a run counter persisted in the state dir, file and dir
 * fsynced, before the first spawn), across a restored or copied state dir (a
 * random nonce per run) and within a run (the spawn count). No clock is read.
 * tfo-buffer dedupes puts on (role, incarnation, seq): a reused incarnation
 * would have a new run's puts answered as resends of an old one's and thrown
 * away. docs/buffer.md "Incarnations".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

#define RUN_FILE "incarnation"
#define RUN_TMP ".incarnation.tmp"
#define RUN_MAX 32                  /* bytes of the file read */

/* read_run - the counter stored in dfd/RUN_FILE; 0 when absent or unreadable */
static uint64_t
read_run(int dfd, const char *dir)
{
	char buf[RUN_MAX + 1];
	uint64_t v = 0;
	ssize_t n;
	size_t i;
	int fd = openat(dfd, RUN_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("%s/%s: %s: counting runs from 0 again", dir, RUN_FILE,
			    strerror(errno));
		return 0;
	}
	n = read(fd, buf, RUN_MAX);
	close(fd);
	for (i = 0; n > 0 && i < (size_t)n && buf[i] >= '0' && buf[i] <= '9'; i++)
		if ((v = v * 10 + (uint64_t)(buf[i] - '0')) > SV_RUN_MAX)
			break;
	if (n <= 0 || i == 0 || i >= (size_t)n || buf[i] != '\n' || v > SV_RUN_MAX) {
		log_warn("%s/%s: not a run counter: counting runs from 0 again", dir, RUN_FILE);
		return 0;
	}
	return v;
}

/* write_run - dfd/RUN_FILE := v, durably: a new file, fsynced, renamed over the
 * old one, the directory fsynced. -1 with errno set. */
static int
write_run(int dfd, uint64_t v)
{
	char buf[RUN_MAX];
	int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	int fd, rc = 0;

	/* O_EXCL after the unlink: a name planted in the state dir is never
	 * followed or written through */
	if (unlinkat(dfd, RUN_TMP, 0) == -1 && errno != ENOENT)
		return -1;
	fd = openat(dfd, RUN_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, (size_t)n) != n || fsync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0 && renameat(dfd, RUN_TMP, dfd, RUN_FILE) == -1)
		rc = -1;
	if (rc == -1) {
		int e = errno;
		(void)unlinkat(dfd, RUN_TMP, 0);
		errno = e;
		return -1;
	}
	return fsync(dfd);
}

/* nonce - SV_NONCE_BITS random bits (the kernel's; time and pid if it has none yet) */
static uint64_t
nonce(void)
{
	uint64_t r = 0;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 20 ^
		    (uint64_t)ts.tv_sec;
	}
	return r & ((1ull << SV_NONCE_BITS) - 1);
}

void
sv_run_begin(struct sv *sv)
{
	const char *dir = sv->cfg.agent.state_dir;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t run = 1;

	if (dfd < 0)
		log_warn("state dir %s: %s: the run counter is not kept", dir, strerror(errno));
	else {
		run = read_run(dfd, dir) % SV_RUN_MAX + 1;
		if (write_run(dfd, run) == -1)
			log_warn("%s/%s: %s: the run counter is not kept; this run's incarnations "
			    "rest on their random part", dir, RUN_FILE, strerror(errno));
		close(dfd);
	}
	sv->run_base = (run << SV_NONCE_BITS | nonce()) << SV_SPAWN_BITS;
	sv->spawns = 0;
	log_info("run %llu: worker incarnations %#llx + n", (unsigned long long)run,
	    (unsigned long long)sv->run_base);
}

uint64_t
sv_next_incarnation(struct sv *sv)
{
	/* A run's spawn numbers are spent (never at the restart policy's
	 * pace): go on as a new run rather than reuse one. */
	if (sv->run_base == 0 || sv->spawns >= (1u << SV_SPAWN_BITS) - 1)
		sv_run_begin(sv);
	return sv->run_base | ++sv->spawns;
}
