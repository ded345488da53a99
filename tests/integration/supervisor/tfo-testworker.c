/*
 * tfo-testworker.c - a test-only worker (run by tfo-supervisor in any role slot
 * of the integration tests) built on the real skeleton. Its behaviour comes
 * from <runtime_dir>/testworker-<role>.mode, read in pre_init (as root):
 *   normal   answer pings (also when the file is absent)
 *   exit     exit 3 at startup, before Ready (persistent)
 *   hang     after Ready, block the loop: pings go unanswered   (one-shot)
 *   latehang 3 s after Ready (idle in its loop until then), block the
 *            loop as hang does                                 (one-shot)
 *   segv     after Ready, die of SIGSEGV                        (one-shot)
 *   garbage  after Ready, send a non-protobuf packet on fd 3   (one-shot)
 *   oversize after Ready, send a packet over TFO_CONTROL_MAX    (one-shot)
 *   slowstart in pre_init, wait (20 s at most) for the supervisor's next
 *            packet (its Shutdown) before going on to Ready: a stop that
 *            lands while the worker starts                     (one-shot)
 *   slowstop take 500 ms to stop after the Shutdown: the supervisor
 *            stays in its ordered shutdown that long           (one-shot)
 *   stall    answer pings, saying it has made no progress since Ready
 *            (Pong.stalled_ms), as a tfo-buffer that serves nobody (one-shot)
 * One-shot modes unlink the file so the next incarnation is normal.
 * Its stats: "pings" counts the Pings that asked for stats, "pongs" every
 * Ping answered (case stats_on_demand).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/worker.h"

enum tw_mode { TW_NORMAL, TW_EXIT, TW_HANG, TW_SEGV, TW_GARBAGE, TW_OVERSIZE, TW_SLOWSTART,
	TW_SLOWSTOP, TW_STALL, TW_LATEHANG };

static const char *const mode_names[] = {
	"normal", "exit", "hang", "segv", "garbage", "oversize", "slowstart", "slowstop",
	"stall", "latehang",
};

struct tw {
	enum tw_mode mode;
	struct tfo_worker *w;
	struct event *act, *stop;
	unsigned pings;             /* stats asked for (a Ping with stats) */
	unsigned pongs;             /* every Ping answered (status op) */
	unsigned self_stats;        /* SelfStats snapshots received (system slot) */
	uint64_t ready_ms;          /* stall: made no progress since */
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
role_str(Tfo__V1__Role r)
{
	static const char *const n[] = { "unspecified", "system", "process", "logs",
		"buffer", "exporter", "heartbeat" };
	return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "unknown";
}

/* read_mode - the mode file is test input: bounded read, exact names only */
static enum tw_mode
read_mode(const Tfo__V1__WorkerConfig *cfg)
{
	char path[512], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/testworker-%s.mode", cfg->runtime_dir,
	    role_str(cfg->role));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return TW_NORMAL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return TW_NORMAL;
	buf[n] = '\0';
	buf[strcspn(buf, " \n")] = '\0';
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(buf, mode_names[i]) == 0) {
			if (i != TW_EXIT && i != TW_NORMAL)
				unlink(path);
			return (enum tw_mode)i;
		}
	return TW_NORMAL;
}

static void
act(evutil_socket_t fd, short what, void *arg)
{
	struct tw *t = arg;
	static char big[TFO_CONTROL_MAX + 16];
	const char garbage[] = "\xff\xff\xff\xff this is not a Control message";

	(void)fd;
	(void)what;
	switch (t->mode) {
	case TW_HANG:
	case TW_LATEHANG:
		log_info("testworker: hanging%s (no more pongs)", t->mode == TW_LATEHANG ?
		    " late" : "");
		for (;;)
			pause();
	case TW_SEGV:
		log_info("testworker: SIGSEGV");
		signal(SIGSEGV, SIG_DFL);   /* past ASan's handler: a real signal death */
		raise(SIGSEGV);
		return;
	case TW_GARBAGE:
		log_info("testworker: sending garbage on fd 3");
		(void)send(TFO_CONTROL_FD, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL);
		return;
	case TW_OVERSIZE:
		log_info("testworker: sending an oversized packet on fd 3");
		memset(big, 0x08, sizeof(big));
		if (send(TFO_CONTROL_FD, big, sizeof(big), MSG_NOSIGNAL) == -1)
			log_info("testworker: oversize send: %s", strerror(errno));
		return;
	default:
		return;
	}
}

static int
tw_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct tw *t = arg;

	(void)w;
	tfo_log_set_role(role_str(cfg->role));
	t->mode = read_mode(cfg);
	/* An over-cap packet needs a send buffer above the default wmem_max. */
	if (t->mode == TW_OVERSIZE) {
		int sz = 2 * TFO_CONTROL_MAX;
		if (setsockopt(TFO_CONTROL_FD, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
			log_warn("testworker: SO_SNDBUFFORCE: %s", strerror(errno));
	}
	if (t->mode == TW_EXIT) {
		log_info("testworker: exiting at startup (mode exit)");
		exit(3);
	}
	if (t->mode == TW_SLOWSTART) {
		struct pollfd p = { .fd = TFO_CONTROL_FD, .events = POLLIN };
		int n;
		log_info("testworker: starting slowly (until the supervisor's next packet)");
		/* a stop signal (the loop's handlers are set) is not that packet */
		while ((n = poll(&p, 1, 20000)) == -1 && errno == EINTR)
			;
		if (n != 1)
			log_warn("testworker: slowstart: nothing from the supervisor in 20 s");
	}
	return 0;
}

static int
tw_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct tw *t = arg;
	struct timeval tv = { 0, 100 * 1000 };

	(void)cfg;
	if (t->mode == TW_LATEHANG)
		tv.tv_sec = 3;
	t->ready_ms = mono_ms();
	if (t->mode == TW_NORMAL || t->mode == TW_SLOWSTART || t->mode == TW_SLOWSTOP ||
	    t->mode == TW_STALL)
		return 0;
	if ((t->act = evtimer_new(tfo_worker_base(w), act, t)) == NULL)
		return -1;
	return evtimer_add(t->act, &tv);
}

static void
stop_late(evutil_socket_t fd, short what, void *arg)
{
	struct tw *t = arg;

	(void)fd;
	(void)what;
	tfo_worker_exit(t->w, 0);
}

static void
tw_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct tw *t = arg;
	struct timeval tv = { 0, 500 * 1000 };

	(void)deadline_ms;
	if (t->mode == TW_SLOWSTOP && t->stop == NULL &&
	    (t->stop = evtimer_new(tfo_worker_base(w), stop_late, t)) != NULL &&
	    evtimer_add(t->stop, &tv) == 0) {
		t->w = w;
		log_info("testworker: stopping slowly (500 ms)");
		return;
	}
	tfo_worker_exit(w, 0);
}

static void
tw_fini(struct tfo_worker *w, void *arg)
{
	struct tw *t = arg;

	(void)w;
	if (t->act)
		event_free(t->act);
	if (t->stop)
		event_free(t->stop);
}

static void
tw_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct tw *t = arg;

	(void)w;
	tfo_stats_num(st, "pings", ++t->pings);
	tfo_stats_num(st, "pongs", t->pongs);
	tfo_stats_num(st, "self_stats", t->self_stats);
	tfo_stats_text(st, "mode", mode_names[t->mode]);
}

/* tw_status - called at every Ping, stats asked or not: counts them */
static const char *
tw_status(struct tfo_worker *w, void *arg)
{
	struct tw *t = arg;

	(void)w;
	t->pongs++;
	return "";
}

/* tw_self_stats - in the system slot the supervisor sends its SelfStats each
 * agent.self_metrics.interval, on wall-clock multiples; a test worker there
 * takes them as tfo-system does (it had died of "unexpected message", a
 * restart that failed any test running across a whole minute) */
static void
tw_self_stats(struct tfo_worker *w, const Tfo__V1__SelfStats *ss, void *arg)
{
	struct tw *t = arg;

	(void)w;
	(void)ss;
	t->self_stats++;
}

static uint64_t
tw_health(struct tfo_worker *w, char *why, size_t len, void *arg)
{
	struct tw *t = arg;

	(void)w;
	if (t->mode != TW_STALL)
		return 0;
	snprintf(why, len, "testworker: nothing served since Ready (mode stall)");
	return mono_ms() - t->ready_ms + 1;
}

static const int no_caps[] = { -1 };

int
main(int argc, char **argv)
{
	static struct tw t;
	static const struct tfo_worker_ops ops = {
		.role = "testworker",
		.role_id = TFO__V1__ROLE__ROLE_UNSPECIFIED,
		.caps = no_caps,
		.pre_init = tw_pre_init,
		.post_init = tw_post_init,
		.shutdown = tw_shutdown,
		.fini = tw_fini,
		.stats = tw_stats,
		.self_stats = tw_self_stats,
		.health = tw_health,
		.status = tw_status,
	};

	return tfo_worker_main(argc, argv, &ops, &t);
}
