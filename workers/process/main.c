/*
 * main.c - tfo-process, the per-process metrics collector (runs as
 * tfo-process with CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH without Landlock, or
 * with no capability under Landlock when privileged_reads is false): every
 * interval, the collection library (collect.c) ranks all processes and puts
 * one OTLP ResourceMetrics per selected process into tfo-buffer.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/collector.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/procfs.h"
#include "common/resource.h"
#include "common/worker.h"
#include "workers/process/collect.h"

#define DEFAULT_INTERVAL_MS 30000

struct procw {
	struct tfo_collector c;
	struct tfo_resource *res;
	struct tfo_proccol *col;
};

/*
 * Both are needed (tried on kernel 6.18 with each one alone): exe and io of
 * another uid's process pass the kernel's PTRACE_MODE_READ check only with
 * CAP_SYS_PTRACE; io is mode 0400 owned by the target's euid (root when it is
 * not dumpable, as every worker including this one), so reading it also
 * takes CAP_DAC_READ_SEARCH: without it no io is read at all. The fd count
 * (stat of fd/) needs neither. There is no Landlock domain for this role
 * (common/sandbox_profiles.c): what the two capabilities then let a
 * compromised collector read is listed in docs/security.md.
 *
 * collectors.process.privileged_reads: false keeps none, and the profile
 * then puts the role under Landlock, which denies those reads of every
 * process outside the domain anyway: the collector reads exe and io of
 * itself only (tfo_proccol_own_reads_only; its own io is root's 0400 file,
 * so not even that), the rest is reported as before.
 */
static const int process_caps[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, -1 };
static const int no_caps[] = { -1 };

static const int *
process_caps_for(const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	(void)arg;
	return cfg->section_case == TFO__V1__WORKER_CONFIG__SECTION_PROCESS &&
	    cfg->process != NULL && !cfg->process->privileged_reads ? no_caps : process_caps;
}

/* emit - one process's ResourceMetrics into the cycle's put: the top
 * processes of a cycle reach the buffer together, one write batch and one
 * fsync rather than one per process. A failure stops the cycle (the buffer
 * is down: every further put would wait for it too). */
static int
emit(void *arg, const uint8_t *p, size_t len, uint32_t points)
{
	struct procw *s = arg;

	return tfo_collector_add(&s->c, p, len, points);
}

static enum tfo_err
process_cycle(struct tfo_collector *c, uint64_t now_ns, void *arg)
{
	struct procw *s = arg;

	(void)c;
	return tfo_proccol_cycle(s->col, now_ns, emit, s);
}

/* process_pre_init - still root: open /proc, read /etc, compile patterns */
static int
process_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct procw *s = arg;
	const Tfo__V1__ProcessConfig *pc;
	char path[1024], err[256];

	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_PROCESS || cfg->process == NULL) {
		log_error("process: config has no process section");
		return -1;
	}
	pc = cfg->process;
	s->c.role = "process";
	s->c.interval_ms = tfo_collector_interval(pc->interval_ms, DEFAULT_INTERVAL_MS);
	/* the collector keeps one stat fd per process (pread is half the cost
	 * of open+read+close) */
	if (tfo_priv_raise_nofile() != 0)
		log_warn("process: cannot raise the fd limit: %s", strerror(errno));
	if ((s->res = tfo_resource_new(cfg->agent, pc->proc_root)) == NULL) {
		log_error("process: out of memory");
		return -1;
	}
	if ((s->col = tfo_proccol_new(pc, tfo_resource_get(s->res), err, sizeof(err))) == NULL) {
		log_error("process: %s", err);
		return -1;
	}
	if (!pc->privileged_reads)
		tfo_proccol_own_reads_only(s->col);
	/* Landlock paths, all read-only: /proc, the passwd file (re-read for
	 * users added later), the runtime dir (ingest socket). Applied only
	 * when privileged_reads is false (see process_caps). */
	if (tfo_procfs_path(pc->proc_root, "proc", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	if (tfo_procfs_path(pc->proc_root, "etc/passwd", path, sizeof(path)) == TFO_OK)
		tfo_worker_landlock_ro(w, path);
	if (cfg->runtime_dir != NULL && cfg->runtime_dir[0] != '\0')
		tfo_worker_landlock_ro(w, cfg->runtime_dir);
	return 0;
}

static int
process_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct procw *s = arg;
	const Tfo__V1__ProcessConfig *pc = cfg->process;
	enum tfo_err e;

	/* rank the first cycle's CPU over a known interval, not since boot */
	if ((e = tfo_proccol_prime(s->col, tfo_clock_ns(CLOCK_REALTIME))) != TFO_OK)
		log_warn("process: first walk of /proc failed: %s", tfo_strerror(e));
	if (tfo_collector_start(&s->c, w, cfg, TFO__V1__ROLE__ROLE_PROCESS, process_cycle, s) != TFO_OK)
		return -1;
	log_info("process: every %u ms, top %u, %zu include, %zu exclude, %zu redact, root \"%s\"%s",
	    s->c.interval_ms, pc->top_n != 0 ? pc->top_n : TFO_PROC_DEFAULT_TOP_N, pc->n_include,
	    pc->n_exclude, pc->n_redact_patterns,
	    pc->proc_root != NULL && pc->proc_root[0] ? pc->proc_root : "/",
	    pc->privileged_reads ? "" : ", privileged_reads off: exe and io of others not read");
	return 0;
}

static void
process_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct procw *s = arg;

	(void)deadline_ms;
	tfo_collector_stop(&s->c);
	tfo_worker_exit(w, 0);
}

static void
process_fini(struct tfo_worker *w, void *arg)
{
	struct procw *s = arg;

	(void)w;
	tfo_collector_fini(&s->c);
	tfo_proccol_free(s->col);
	tfo_resource_free(s->res);
	memset(s, 0, sizeof(*s));
}

static void
process_stats(struct tfo_worker *w, struct tfo_stats *st, void *arg)
{
	struct procw *s = arg;
	const struct tfo_proccol_stats *cs;

	(void)w;
	if (s->col == NULL)
		return;
	cs = tfo_proccol_stats(s->col);
	tfo_stats_num(st, "process.cycles", (double)cs->cycles);
	tfo_stats_num(st, "process.walked", (double)cs->walked);
	tfo_stats_num(st, "process.selected", (double)cs->selected);
	tfo_stats_num(st, "process.points", (double)cs->points);
	tfo_stats_num(st, "process.bytes", (double)cs->bytes);
	tfo_collector_stats(&s->c, st);
	tfo_stats_num(st, "process.vanished", (double)cs->vanished);
	tfo_stats_num(st, "process.denied", (double)cs->denied);
	tfo_stats_num(st, "process.read_errors", (double)cs->read_errors);
	tfo_stats_num(st, "process.redactions", (double)cs->redactions);
	tfo_stats_num(st, "process.emit_failed", (double)cs->emit_failed);
}

int
main(int argc, char **argv)
{
	static struct procw s;
	static const struct tfo_worker_ops ops = {
		.role = "process",
		.role_id = TFO__V1__ROLE__ROLE_PROCESS,
		.caps = process_caps,
		.caps_for = process_caps_for,
		.pre_init = process_pre_init,
		.post_init = process_post_init,
		.shutdown = process_shutdown,
		.fini = process_fini,
		.stats = process_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &s);
}
