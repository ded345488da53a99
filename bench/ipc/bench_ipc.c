/*
 * bench_ipc.c - what one idle request/reply between two processes costs in
 * CPU (issue 18 §3: the idle tree's cost is wake-ups, not work). Spaced
 * exchanges (each finds both sides asleep, as at idle) over:
 *   nng    REQ/REP over ipc://, the replier blocked in nng_recv (nng 1.5.2's
 *          poller and task threads carry each message), as the data path;
 *   seqpkt a SOCK_SEQPACKET socketpair read by poll(), as fd 3's control
 *          channel, the cheapest a role's own loop could have.
 * CPU is every thread of each side (/proc/<pid>/task/<tid>/schedstat, ns),
 * including the requester's timer wake-up. Prints figures, asserts nothing.
 * Usage: bench_ipc [exchanges] [gap_ms]   (defaults 300, 20)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define MSG_LEN 200             /* about a Ping or a small put */

static unsigned n_ex = 300, gap_ms = 20;

/* cpu_ns - the summed run time of every thread of pid, or 0 */
static uint64_t
cpu_ns(pid_t pid)
{
	char dir[64], path[128];
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		unsigned long long ns;
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.32s/schedstat", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static void
nap(void)
{
	struct timespec t = { gap_ms / 1000u, (long)(gap_ms % 1000u) * 1000000L };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

static void
report(const char *what, pid_t me, uint64_t a0, pid_t peer, uint64_t b0)
{
	double a = (double)(cpu_ns(me) - a0) / 1e3 / n_ex, b = (double)(cpu_ns(peer) - b0) / 1e3 / n_ex;

	printf("  %-7s requester %7.1f us  replier %7.1f us  both %7.1f us an exchange\n",
	    what, a, b, a + b);
	fflush(stdout);                 /* the measuring child leaves by _exit */
}

static int
nng_side(void)
{
	char url[64], msg[MSG_LEN];
	nng_socket q;
	uint64_t a0 = 0, b0 = 0;
	pid_t peer;
	int go[2];

	snprintf(url, sizeof(url), "ipc:///tmp/tfo-bench-ipc-%d", (int)getpid());
	if (pipe(go) != 0)
		return -1;
	if ((peer = fork()) == 0) {
		nng_socket r;
		if (nng_rep0_open(&r) != 0 || nng_listen(r, url, NULL, 0) != 0)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		for (;;) {
			char *buf;
			size_t len;
			if (nng_recv(r, &buf, &len, NNG_FLAG_ALLOC) != 0 ||
			    nng_send(r, buf, len, NNG_FLAG_ALLOC) != 0)
				_exit(0);
		}
	}
	if (peer < 0 || read(go[0], msg, 1) != 1 || nng_req0_open(&q) != 0 ||
	    nng_socket_set_ms(q, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE) != 0)
		return -1;
	while (nng_dial(q, url, NULL, 0) != 0)
		nap();
	memset(msg, 'x', sizeof(msg));
	for (unsigned i = 0; i < n_ex + 20; i++) {        /* the first 20 warm up */
		char *buf;
		size_t len;
		if (i == 20) {
			a0 = cpu_ns(getpid());
			b0 = cpu_ns(peer);
		}
		nap();
		if (nng_send(q, msg, sizeof(msg), 0) != 0 ||
		    nng_recv(q, &buf, &len, NNG_FLAG_ALLOC) != 0)
			return -1;
		nng_free(buf, len);
	}
	report("nng", getpid(), a0, peer, b0);
	nng_close(q);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
	unlink(url + strlen("ipc://"));
	return 0;
}

static int
seqpkt_side(void)
{
	char msg[MSG_LEN], buf[4096];
	uint64_t a0 = 0, b0 = 0;
	pid_t peer;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((peer = fork()) == 0) {
		close(sv[0]);
		for (;;) {
			struct pollfd p = { sv[1], POLLIN, 0 };
			ssize_t n;
			if (poll(&p, 1, -1) < 0 || (n = recv(sv[1], buf, sizeof(buf), 0)) <= 0 ||
			    send(sv[1], buf, (size_t)n, 0) != n)
				_exit(0);
		}
	}
	if (peer < 0)
		return -1;
	close(sv[1]);
	memset(msg, 'x', sizeof(msg));
	for (unsigned i = 0; i < n_ex + 20; i++) {
		struct pollfd p = { sv[0], POLLIN, 0 };
		if (i == 20) {
			a0 = cpu_ns(getpid());
			b0 = cpu_ns(peer);
		}
		nap();
		if (send(sv[0], msg, sizeof(msg), 0) != (ssize_t)sizeof(msg) || poll(&p, 1, -1) != 1 ||
		    recv(sv[0], buf, sizeof(buf), 0) <= 0)
			return -1;
	}
	report("seqpkt", getpid(), a0, peer, b0);
	close(sv[0]);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		n_ex = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		gap_ms = (unsigned)strtoul(argv[2], NULL, 10);
	if (n_ex == 0 || gap_ms == 0 || gap_ms > 10000) {
		fprintf(stderr, "usage: %s [exchanges > 0] [gap_ms 1-10000]\n", argv[0]);
		return 2;
	}
	printf("bench_ipc: %u exchanges of %d bytes, %u ms apart (CPU of all threads, schedstat)\n",
	    n_ex, MSG_LEN, gap_ms);
	fflush(stdout);
	/* each measurement in a process of its own: nng must not be set up
	 * in a process that forks afterwards (it panics in the child) */
	for (int round = 0; round < 4; round++) {
		pid_t pid = fork();
		int st = 0;
		if (pid == 0)
			_exit((round % 2 ? nng_side() : seqpkt_side()) == 0 ? 0 : 1);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench_ipc: a measurement failed\n");
			return 1;
		}
	}
	return 0;
}
