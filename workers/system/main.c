/*
 * main.c - tfo-system, the host-metrics collector (runs as tfo-system, no
 * capabilities): every interval, one collection (collect.c) encoded as an
 * OTLP ResourceMetrics and put into tfo-buffer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/bufclient.h"
#include "common/log.h"
#include "common/procfs.h"
#include "common/resource.h"
#include "common/worker.h"
#include "workers/system/collect.h"

#define DEFAULT_INTERVAL_MS 15000
#define MIN_INTERVAL_MS 100
#define FIRST_CYCLE_MS 1000     /* first sample soon after start */
#define PUT_TIMEOUT_MS 1000     /* one wait for the buffer's answer */
#define PUT_GIVE_UP_MS 5000     /* then back to the loop to answer pings */

struct sysw {
	struct tfo_worker *w;
	struct tfo_resource *res;
	struct tfo_syscol *col;
	struct tfo_bufclient bc;
	int bc_open;
	struct event *tick;
	uint32_t interval_ms;
	uint64_t puts, put_errors, cycle_errors;
	double last_cpu_us;
};

static const int system_caps[] = { -1 };

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
schedule(struct sysw *s, uint32_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(s->tick, &tv);
}

/* put - one cycle into the buffer; a lost cycle costs nothing but a gap, as
 * every counter is cumulative */
static void
put(struct sysw *s, const uint8_t *p, size_t len, uint32_t points)
{
	enum tfo_err e = tfo_bufclient_put(&s->bc, TFO__V1__SIGNAL__SIGNAL_METRICS, p, len,
	    points, NULL, 0, 0);

	if (e == TFO_OK) {
		s->puts++;
		return;
	}
	if (s->put_errors++ % 20 == 0)
		log_warn("system: put of %zu bytes failed: %s%s%s", len, tfo_strerror(e),
		    s->bc.error[0] ? ": " : "", s->bc.error);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sysw *s = arg;
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint8_t *p;
	size_t len;
	uint32_t points;
	enum tfo_err e;

	(void)fd;
	(void)what;
	/* aligned to the interval so series from many hosts line up */
	schedule(s, s->interval_ms - (uint32_t)((clock_ns(CLOCK_REALTIME) / 1000000) %
	    s->interval_ms));
	e = tfo_syscol_cycle(s->col, clock_ns(CLOCK_REALTIME), &p, &len, &points);
	s->last_cpu_us = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000.0;
	if (e != TFO_OK) {
		if (s->cycle_errors++ % 20 == 0)
			log_error("system: collection failed: %s", tfo_strerror(e));
		return;
	}
	put(s, p, len, points);
}

/* system_pre_init - still root: open /proc files, read /etc for the resource */
static int
system_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct sysw *s = arg;
	const Tfo__V1__SystemConfig *sc;
	char path[1024];

	s->w = w;
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_SYSTEM || cfg->system == NULL) {
		log_error("system: config has no system section");
		return -1;
	}
	sc = cfg->system;
	s->interval_ms = sc->interval_ms != 0 ? sc->interval_ms : DEFAULT_INTERVAL_MS;
	if (s->interval_ms < MIN_INTERVAL_MS)
		s->interval_ms = MIN_INTERVAL_MS;
	if ((s->res = tfo_resource_new(cfg->agent, sc->proc_root)) == NULL ||
	    (s->col = tfo_syscol_new(sc, tfo_resource_get(s->res))) == NULL) {
		log_error("system: out of memory");
		return -1;
	}
	/* read-only: /proc and /sys (mountpoints need no access for statfs) */
	if (tfo_procfs_path(sc->proc_root, "proc", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	if (tfo_procfs_path(sc->proc_root, "sys", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	/* the ingest socket is dialled, never created: read-only is enough */
	if (cfg->runtime_dir != NULL && cfg->runtime_dir[0] != '\0')
		tfo_worker_landlock_ro(w, cfg->runtime_dir);
	return 0;
}

static int
system_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct sysw *s = arg;
	enum tfo_err e;

	e = tfo_bufclient_open_ingest(&s->bc, cfg->ingest_url, TFO__V1__ROLE__ROLE_SYSTEM,
	    cfg->incarnation, PUT_TIMEOUT_MS);
	if (e != TFO_OK) {
		log_error("system: cannot dial ingest %s: %s",
		    cfg->ingest_url != NULL ? cfg->ingest_url : "", tfo_strerror(e));
		return -1;
	}
	s->bc_open = 1;
	s->bc.give_up_ms = PUT_GIVE_UP_MS;
	if ((s->tick = evtimer_new(tfo_worker_base(w), on_tick, s)) == NULL)
		return -1;
	schedule(s, s->interval_ms < FIRST_CYCLE_MS ? s->interval_ms : FIRST_CYCLE_MS);
	log_info("system: every %u ms, root \"%s\"", s->interval_ms,
	    cfg->system->proc_root != NULL && cfg->system->proc_root[0] ? cfg->system->proc_root : "/");
	return 0;
}

static void
system_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct sysw *s = arg;

	(void)deadline_ms;
	if (s->tick != NULL)
		evtimer_del(s->tick);
	tfo_worker_exit(w, 0);
}

static void
system_fini(struct tfo_worker *w, void *arg)
{
	struct sysw *s = arg;

	(void)w;
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->bc_open)
		tfo_bufclient_close(&s->bc);
	tfo_syscol_free(s->col);
	tfo_resource_free(s->res);
	memset(s, 0, sizeof(*s));
}

static void
system_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct sysw *s = arg;
	const struct tfo_syscol_stats *cs;

	(void)w;
	if (s->col == NULL)
		return;
	cs = tfo_syscol_stats(s->col);
	tfo_stats_num(st, "system.cycles", (double)cs->cycles);
	tfo_stats_num(st, "system.points", (double)cs->points);
	tfo_stats_num(st, "system.bytes", (double)cs->bytes);
	tfo_stats_num(st, "system.cycle_cpu_us", s->last_cpu_us);
	tfo_stats_num(st, "system.puts", (double)s->puts);
	tfo_stats_num(st, "system.put_errors", (double)s->put_errors);
	tfo_stats_num(st, "system.cycle_errors", (double)s->cycle_errors);
	tfo_stats_num(st, "system.read_errors", (double)cs->read_errors);
	tfo_stats_num(st, "system.series_resets", (double)cs->series_resets);
	tfo_stats_num(st, "system.statfs_timeouts", (double)cs->statfs_timeouts);
	tfo_stats_num(st, "system.statfs_skipped", (double)cs->statfs_skipped);
	if (cs->stuck_mounts[0] != '\0')
		tfo_stats_text(st, "system.stuck_mounts", cs->stuck_mounts);
}

int
main(int argc, char **argv)
{
	static struct sysw s;
	static const struct tfo_worker_ops ops = {
		.role = "system",
		.role_id = TFO__V1__ROLE__ROLE_SYSTEM,
		.caps = system_caps,
		.pre_init = system_pre_init,
		.post_init = system_post_init,
		.shutdown = system_shutdown,
		.fini = system_fini,
		.stats = system_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &s);
}
