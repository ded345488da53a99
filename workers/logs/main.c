/*
 * main.c - tfo-logs (runs as tfo-logs): tails the configured files into OTLP
 * logs and puts them, with their file checkpoints, into tfo-buffer. The
 * engine is tailer.c; here: the worker skeleton, inotify with a polling
 * fallback on the libevent loop, and the ingest client behind the sink.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/resource.h"
#include "common/worker.h"
#include "workers/logs/putter.h"
#include "workers/logs/tailer.h"

#define POLL_MS          250    /* polling fallback without inotify */
#define SAFETY_POLL_MS   1000   /* with inotify: only what it cannot see (watch.c) */
#define CKPT_RETRY_MS    500

struct logsw {
	struct tfo_worker *w;
	struct tfo_resource *res;
	struct tailer *t;
	struct tfo_bufclient bc;   /* the main thread's until the putter runs */
	struct putter *pu;
	int bc_open, loaded;
	int ino_fd;
	int *wds;                  /* inotify watch of each tailer_dirs() entry, -1 none */
	size_t nwds;
	struct event *tick, *ino_ev;
	uint32_t poll_ms;
};

static const int logs_caps[] = { CAP_DAC_READ_SEARCH, -1 };

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
schedule(struct logsw *lw, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(lw->tick, &tv);
}

/* load_checkpoints - ask the buffer where every known file was left */
static int
load_checkpoints(struct logsw *lw)
{
	Tfo__V1__IngestReply *holder = NULL;
	const Tfo__V1__Checkpoints *cps = NULL;
	enum tfo_err e = tfo_bufclient_checkpoints(&lw->bc, TFO__V1__ROLE__ROLE_LOGS, &holder, &cps);

	if (e != TFO_OK) {
		log_warn("logs: checkpoints not available yet: %s", tfo_strerror(e));
		return -1;
	}
	tailer_load_checkpoints(lw->t, (const Tfo__V1__Checkpoint *const *)cps->checkpoints,
	    cps->n_checkpoints);
	log_info("logs: %zu stored checkpoints (%llu refused)", cps->n_checkpoints,
	    (unsigned long long)tailer_stats(lw->t)->checkpoints_rejected);
	tfo__v1__ingest_reply__free_unpacked(holder, NULL);
	lw->loaded = 1;
	return 0;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct logsw *lw = arg;

	(void)fd;
	(void)what;
	if (!lw->loaded && load_checkpoints(lw) != 0) {
		schedule(lw, CKPT_RETRY_MS);    /* no reading before we know where to resume */
		return;
	}
	schedule(lw, tailer_run(lw->t, mono_ms(), lw->poll_ms));
}

/* on_put_done - the put in flight finished: let the tailer take its outcome */
static void
on_put_done(void *arg)
{
	struct logsw *lw = arg;

	if (lw->loaded)
		schedule(lw, 0);
}

/* wd_dir - the tailer_dirs() index a watch descriptor stands for, or -1 */
static ssize_t
wd_dir(const struct logsw *lw, int wd)
{
	for (size_t i = 0; i < lw->nwds; i++)
		if (lw->wds[i] == wd)
			return (ssize_t)i;
	return -1;
}

/* on_event - one inotify event: which file changed, or that the directory did */
static void
on_event(struct logsw *lw, const struct inotify_event *ev)
{
	ssize_t dir = wd_dir(lw, ev->wd);

	if (ev->mask & IN_Q_OVERFLOW) {
		tailer_overflow(lw->t);         /* events were lost: look at everything */
		return;
	}
	if (dir < 0)
		return;
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		/* the directory itself went: its files are polled from now on */
		lw->wds[dir] = -1;
		tailer_set_watched(lw->t, (size_t)dir, 0);
		return;
	}
	if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
		tailer_rescan_soon(lw->t);
	if (ev->len > 0 && (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_TO)))
		tailer_notify(lw->t, (size_t)dir, ev->name);
}

/* on_inotify - something changed in a watched directory: run soon */
static void
on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct logsw *lw = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (p + sizeof(*ev) + ev->len > buf + n)
				break;  /* the kernel never splits one; do not read past it */
			if (ev->len > 0 && ev->name[ev->len - 1] != '\0')
				break;
			on_event(lw, ev);
			p += sizeof(struct inotify_event) + ev->len;
		}
	}
	if (lw->loaded)
		schedule(lw, 0);        /* replaces the pending deadline */
}

/* dir_remote - a directory whose changes inotify may not all report */
static int
dir_remote(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && tailer_fs_remote((unsigned long)fs.f_type);
}

/* watch_dirs - inotify on each literal glob directory; -1 means poll only */
static int
watch_dirs(struct logsw *lw)
{
	const char *const *dirs = tailer_dirs(lw->t);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), n = 0;

	for (lw->nwds = 0; dirs[lw->nwds] != NULL; lw->nwds++)
		;
	if (fd < 0 || (lw->wds = calloc(lw->nwds + 1, sizeof(*lw->wds))) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; dirs[i] != NULL; i++) {
		lw->wds[i] = inotify_add_watch(fd, dirs[i], IN_MODIFY | IN_CREATE | IN_MOVED_TO |
		    IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF |
		    IN_MOVE_SELF);
		if (lw->wds[i] >= 0)
			n++;
		else
			log_warn("logs: no inotify on %s (%s); polling", dirs[i], strerror(errno));
	}
	if (n == 0) {
		close(fd);
		return -1;
	}
	for (size_t i = 0; dirs[i] != NULL; i++) {
		int remote = lw->wds[i] >= 0 && dir_remote(dirs[i]);
		if (remote)
			log_info("logs: %s is on a network or overlay filesystem: its files are also "
			    "polled every %u ms", dirs[i], SAFETY_POLL_MS);
		tailer_set_watched(lw->t, i, lw->wds[i] >= 0 && !remote);
	}
	return fd;
}

/* landlock_roots - read access under the literal part of each glob and the
 * directories links may lead into (collectors.logs.link_target_dirs) */
static void
landlock_roots(struct tfo_worker *w, const struct tailer *t)
{
	const char *const *r = tailer_roots(t);

	for (size_t i = 0; r[i] != NULL; i++)
		tfo_worker_landlock_ro(w, r[i]);
}

static int
logs_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct logsw *lw = arg;
	struct tfo_logs_sink sink;
	enum tfo_err e;

	lw->w = w;
	lw->ino_fd = -1;
	if ((lw->pu = putter_new()) == NULL) {
		log_error("logs: out of memory");
		return -1;
	}
	sink = putter_sink(lw->pu);
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_LOGS || cfg->logs == NULL) {
		log_error("logs: config has no logs section");
		return -1;
	}
	if ((lw->res = tfo_resource_new(cfg->agent, NULL)) == NULL) {
		log_error("logs: resource: out of memory");
		return -1;
	}
	/* the open-file limit (collectors.logs.max_open_files: 0) is sized from it */
	if (tfo_priv_raise_nofile() != 0)
		log_warn("logs: cannot raise RLIMIT_NOFILE: %s", strerror(errno));
	lw->t = tailer_new(cfg->logs, tfo_resource_get(lw->res), &sink, &e);
	if (lw->t == NULL) {
		log_error("logs: bad logs config: %s", tfo_strerror(e));
		return -1;
	}
	landlock_roots(w, lw->t);
	/* watches are added while we may still read every directory */
	lw->ino_fd = watch_dirs(lw);
	lw->poll_ms = lw->ino_fd >= 0 ? SAFETY_POLL_MS : POLL_MS;
	log_info("logs: at most %u files open at once (collectors.logs.max_open_files %u)",
	    tailer_stats(lw->t)->max_open, cfg->logs->max_open_files);
	return 0;
}

static int
logs_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct logsw *lw = arg;
	struct event_base *base = tfo_worker_base(w);
	uint32_t give_up;
	enum tfo_err e;
	int wait;

	tfo_worker_put_limits(cfg, &wait, &give_up);
	e = tfo_bufclient_open_ingest(&lw->bc, cfg->ingest_url, TFO__V1__ROLE__ROLE_LOGS,
	    cfg->incarnation, wait, cfg->buffer_uid);
	if (e != TFO_OK) {
		log_error("logs: cannot dial ingest %s: %s", cfg->ingest_url ? cfg->ingest_url : "",
		    tfo_strerror(e));
		return -1;
	}
	lw->bc_open = 1;
	lw->bc.give_up_ms = give_up;
	lw->tick = evtimer_new(base, on_tick, lw);
	if (lw->tick == NULL)
		return -1;
	if (putter_run(lw->pu, &lw->bc, base, on_put_done, lw) != 0) {
		log_error("logs: cannot start the put thread: %s", strerror(errno));
		return -1;
	}
	if (lw->ino_fd >= 0) {
		lw->ino_ev = event_new(base, lw->ino_fd, EV_READ | EV_PERSIST, on_inotify, lw);
		if (lw->ino_ev == NULL || event_add(lw->ino_ev, NULL) != 0)
			return -1;
	}
	schedule(lw, 0);
	log_info("logs: %zu path patterns, %s", cfg->logs->n_paths,
	    lw->ino_fd >= 0 ? "inotify" : "polling");
	return 0;
}

/* logs_shutdown - flush held records and the open batch, then leave */
static void
logs_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct logsw *lw = arg;
	enum tfo_err e = TFO_OK;

	(void)deadline_ms;      /* one put is bounded by tfo_worker_put_limits */
	if (lw->tick != NULL)
		evtimer_del(lw->tick);
	if (lw->ino_ev != NULL)
		event_del(lw->ino_ev);
	if (lw->loaded && lw->t != NULL && (e = tailer_drain(lw->t, mono_ms())) != TFO_OK)
		log_warn("logs: last batch not stored (%s); re-read at next start", tfo_strerror(e));
	tfo_worker_exit(w, 0);
}

static void
logs_fini(struct tfo_worker *w, void *arg)
{
	struct logsw *lw = arg;

	(void)w;
	if (lw->ino_ev != NULL)
		event_free(lw->ino_ev);
	if (lw->tick != NULL)
		event_free(lw->tick);
	if (lw->ino_fd >= 0)
		close(lw->ino_fd);
	free(lw->wds);
	putter_free(lw->pu);    /* first: it may still use bc */
	tailer_free(lw->t);
	if (lw->bc_open)
		tfo_bufclient_close(&lw->bc);
	tfo_resource_free(lw->res);
	memset(lw, 0, sizeof(*lw));
	lw->ino_fd = -1;
}

static void
logs_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct logsw *lw = arg;
	const struct tailer_stats *s;

	(void)w;
	if (lw->t == NULL)
		return;
	s = tailer_stats(lw->t);
	tfo_stats_num(st, "logs.files_open", s->files_open);
	tfo_stats_num(st, "logs.lines", (double)s->lines);
	tfo_stats_num(st, "logs.bytes", (double)s->bytes);
	tfo_stats_num(st, "logs.records", (double)s->records);
	tfo_stats_num(st, "logs.puts", (double)s->puts);
	tfo_stats_num(st, "logs.put_busy", (double)s->put_busy);
	tfo_stats_num(st, "logs.put_errors", (double)s->put_errors);
	tfo_stats_num(st, "logs.truncated_records", (double)s->truncated_records);
	tfo_stats_num(st, "logs.utf8_repaired", (double)s->utf8_repaired);
	tfo_stats_num(st, "logs.truncations", (double)s->truncations);
	tfo_stats_num(st, "logs.files_skipped", (double)s->files_skipped);
	tfo_stats_num(st, "logs.files_waiting", s->files_waiting);
	tfo_stats_num(st, "logs.files_slept", (double)s->files_slept);
	tfo_stats_num(st, "logs.bytes_behind", (double)s->bytes_behind);
	tfo_stats_num(st, "logs.max_open_files", s->max_open);
	tfo_stats_num(st, "logs.read_errors", (double)s->read_errors);
	tfo_stats_num(st, "logs.checkpoints_rejected", (double)s->checkpoints_rejected);
	for (size_t i = 0; i < TFO_LOGS_OPEN_ERRS; i++) {
		const char *name = tailer_open_err_name(i);
		char key[64];
		if (name == NULL)
			continue;
		snprintf(key, sizeof(key), "logs.open_errors.%s", name);
		tfo_stats_num(st, key, (double)s->open_errors[i]);
	}
	tfo_stats_text(st, "logs.watch", lw->ino_fd >= 0 ? "inotify" : "polling");
}

int
main(int argc, char **argv)
{
	static struct logsw lw = { .ino_fd = -1 };
	static const struct tfo_worker_ops ops = {
		.role = "logs",
		.role_id = TFO__V1__ROLE__ROLE_LOGS,
		.caps = logs_caps,
		.pre_init = logs_pre_init,
		.post_init = logs_post_init,
		.shutdown = logs_shutdown,
		.fini = logs_fini,
		.stats = logs_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &lw);
}
