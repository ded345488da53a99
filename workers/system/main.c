/*
 * main.c - tfo-system, the host-metrics collector (runs as tfo-system, no
 * capabilities): every interval, one collection (collect.c) encoded as an
 * OTLP ResourceMetrics and put into tfo-buffer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/collector.h"
#include "common/log.h"
#include "common/procfs.h"
#include "common/resource.h"
#include "common/worker.h"
#include "workers/system/collect.h"
#include "workers/system/selfmet.h"

#define DEFAULT_INTERVAL_MS 15000
/* self metrics wait for the next cycle's put when it is due within this:
 * one write (fsync) and one export round fewer each self-metrics interval
 * (their points keep the time they were taken) */
#define SELF_RIDE_MS 30000

struct sysw {
	struct tfo_collector c;
	struct tfo_resource *res;
	struct tfo_syscol *col;
	int host;                       /* host families on (else self metrics only) */
	struct tfo_arena *self_arena;   /* the self metrics' message, reset each time */
	const char *version;
	uint64_t self_puts, self_points, self_rejected, self_errors, self_reject_snaps;
	/* self metrics added to the collector's next put, not yet sent */
	uint32_t held, held_points;
};

static const int system_caps[] = { -1 };

/* self_sent - the held self metrics went out in a put (ok) or were lost
 * with it (counted by the collector's put_errors too) */
static void
self_sent(struct sysw *s, int ok)
{
	if (s->held == 0)
		return;
	if (ok) {
		s->self_puts += s->held;
		s->self_points += s->held_points;
	} else
		s->self_errors += s->held;
	s->held = s->held_points = 0;
}

/* self_flush - send the held self metrics now, alone (shutdown) */
static void
self_flush(struct sysw *s)
{
	if (s->held > 0)
		self_sent(s, tfo_collector_flush(&s->c) == 0);
}

/* system_cycle - one collection into the buffer, with the self metrics held
 * for it (one put); a lost cycle costs nothing but a gap, as every counter
 * is cumulative. Held self metrics go even when the collection failed. */
static enum tfo_err
system_cycle(struct tfo_collector *c, uint64_t now_ns, void *arg)
{
	struct sysw *s = arg;
	uint8_t *p;
	size_t len;
	uint32_t points;
	enum tfo_err e = tfo_syscol_cycle(s->col, now_ns, &p, &len, &points);

	if (s->held == 0) {
		if (e == TFO_OK)
			(void)tfo_collector_put(c, p, len, points);
		return e;
	}
	if (e == TFO_OK && tfo_collector_add(c, p, len, points) != 0)
		e = TFO_ENOMEM;     /* counted by the collector; the self metrics still go */
	self_flush(s);
	return e;
}

/* system_idle - between cycles (common/collector.h) */
static void
system_idle(void *arg)
{
	struct sysw *s = arg;

	if (s->col != NULL)
		tfo_syscol_release(s->col);
}

/* system_pre_init - still root: open /proc files, read /etc for the resource */
static int
system_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct sysw *s = arg;
	const Tfo__V1__SystemConfig *sc;
	char path[1024];

	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_SYSTEM || cfg->system == NULL) {
		log_error("system: config has no system section");
		return -1;
	}
	sc = cfg->system;
	s->c.role = "system";
	s->host = !sc->self_metrics_only;
	s->version = cfg->agent != NULL && cfg->agent->version != NULL ? cfg->agent->version : "";
	s->c.interval_ms = tfo_collector_interval(sc->interval_ms, DEFAULT_INTERVAL_MS);
	if ((s->res = tfo_resource_new(cfg->agent, sc->proc_root)) == NULL ||
	    (s->self_arena = tfo_arena_new(0)) == NULL ||
	    (s->host && (s->col = tfo_syscol_new(sc, tfo_resource_get(s->res))) == NULL)) {
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

	s->c.idle = system_idle;
	if (tfo_collector_start(&s->c, w, cfg, TFO__V1__ROLE__ROLE_SYSTEM,
	    s->host ? system_cycle : NULL, s) != TFO_OK)
		return -1;
	if (s->host)
		log_info("system: every %u ms, root \"%s\"", s->c.interval_ms,
		    cfg->system->proc_root != NULL && cfg->system->proc_root[0] ?
		    cfg->system->proc_root : "/");
	else
		log_info("system: host metrics off: the self metrics only");
	return 0;
}

static void
system_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct sysw *s = arg;

	(void)deadline_ms;
	tfo_collector_stop(&s->c);
	self_flush(s);          /* what waited for a cycle that will not come */
	tfo_worker_exit(w, 0);
}

static void
system_fini(struct tfo_worker *w, void *arg)
{
	struct sysw *s = arg;

	(void)w;
	tfo_collector_fini(&s->c);
	tfo_syscol_free(s->col);
	tfo_arena_free(s->self_arena);
	tfo_resource_free(s->res);
	memset(s, 0, sizeof(*s));
}

static void
system_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct sysw *s = arg;
	const struct tfo_syscol_stats *cs;

	(void)w;
	tfo_stats_num(st, "self_metrics.puts", (double)s->self_puts);
	tfo_stats_num(st, "self_metrics.points", (double)s->self_points);
	tfo_stats_num(st, "self_metrics.rejected", (double)s->self_rejected);
	tfo_stats_num(st, "self_metrics.errors", (double)s->self_errors);
	if (s->col == NULL)
		return;
	cs = tfo_syscol_stats(s->col);
	tfo_stats_num(st, "system.cycles", (double)cs->cycles);
	tfo_stats_num(st, "system.points", (double)cs->points);
	tfo_stats_num(st, "system.bytes", (double)cs->bytes);
	tfo_collector_stats(&s->c, st);
	tfo_stats_num(st, "system.read_errors", (double)cs->read_errors);
	tfo_stats_num(st, "system.series_resets", (double)cs->series_resets);
	tfo_stats_num(st, "system.statfs_timeouts", (double)cs->statfs_timeouts);
	tfo_stats_num(st, "system.statfs_skipped", (double)cs->statfs_skipped);
	if (cs->stuck_mounts[0] != '\0')
		tfo_stats_text(st, "system.stuck_mounts", cs->stuck_mounts);
}

/*
 * system_self_stats - the supervisor's SelfStats as self metrics, put like a
 * collection. What other workers wrote in it is checked by the encoder; what
 * it refused is counted (self_metrics.rejected) and logged once in a while.
 */
static void
system_self_stats(struct tfo_worker *w, const Tfo__V1__SelfStats *ss, void *arg)
{
	struct sysw *s = arg;
	struct tfo_selfmet_out out;
	enum tfo_err e;

	(void)w;
	tfo_arena_reset(s->self_arena);
	e = tfo_selfmet_encode(s->self_arena, tfo_resource_get(s->res), s->version, ss,
	    tfo_clock_ns(CLOCK_REALTIME), &out);
	/* the first time, then once an hour at the default interval */
	if (out.rejected > 0 && s->self_reject_snaps++ % 60 == 0)
		log_warn("self metrics: %u stats refused (not finite, negative, out of order; "
		    "%llu so far)", out.rejected,
		    (unsigned long long)(s->self_rejected + out.rejected));
	s->self_rejected += out.rejected;
	if (e != TFO_OK) {
		if (s->self_errors++ % 20 == 0)
			log_warn("self metrics: not encoded: %s", tfo_strerror(e));
	} else if (tfo_collector_due_ms(&s->c) <= SELF_RIDE_MS) {
		/* copied into the next cycle's put (system_cycle) */
		if (tfo_collector_add(&s->c, out.buf, out.len, out.points) == 0) {
			s->held++;
			s->held_points += out.points;
		} else
			s->self_errors++;
	} else if (tfo_collector_put(&s->c, out.buf, out.len, out.points) == 0) {
		s->self_puts++;
		s->self_points += out.points;
	} else
		s->self_errors++;
	/* a message a minute: its pages are not worth keeping */
	tfo_arena_reset(s->self_arena);
	tfo_arena_release(s->self_arena);
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
		.self_stats = system_self_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &s);
}
