/*
 * test_process.c - tfo-process's collection over a copy of the fixture root
 * tests/fixtures/proc-pid (names, owners, units, instruments, values, one
 * resource per process), selection (include/exclude, top_n by CPU over the
 * last interval and by memory), redaction, kernel threads, zombies and
 * processes vanishing between the walk and the full reads; the same first
 * cycle with the privileged reads done by the real tfo-procpriv.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/otlp.h"
#include "workers/process/collect.h"
#include "workers/process/collect_int.h"
#include "workers/process/match.h"
#include "workers/process/owner.h"
#include "workers/process/select.h"
#include "tests/unit/process/pt.h"
#include "tests/unit/system/tu.h"

#define FIXTURE "tests/fixtures/proc-pid"
#define BOOT_NS 1700000000000000000ull
#define T0 (BOOT_NS + 5000ull * 1000000000ull)  /* 5000 s after boot */

/* ---------------------------------------------------------------- harness */

struct env {
	char root[64];
	Tfo__V1__ProcessConfig cfg;
	tfo_kv host_kv;
	Opentelemetry__Proto__Common__V1__AnyValue host_val;
	tfo_kv *host_attrs[1];
	tfo_resource_msg host;
	struct tfo_proccol *c;
};

static char *include_default[] = { "sleep" };    /* exe name, not comm "sleeper" */
static char *exclude_default[] = { "^tfo-" };
static char *redact_default[] = { "--password=([^ ]+)", "--token ([^ ]+)" };

/* setup - a private copy of the fixture (tests modify and delete files) */
static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char cmd[256];

	assert_non_null(e);
	snprintf(e->root, sizeof(e->root), "/tmp/tfo-proc-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(cmd, sizeof(cmd), "cp -a %s/. %s/", FIXTURE, e->root);
	assert_int_equal(system(cmd), 0);
	tfo__v1__process_config__init(&e->cfg);
	e->cfg.proc_root = e->root;
	e->cfg.top_n = 2;
	e->cfg.cmdline_max_len = 64;
	e->cfg.include = include_default;
	e->cfg.n_include = 1;
	e->cfg.exclude = exclude_default;
	e->cfg.n_exclude = 1;
	e->cfg.redact_patterns = redact_default;
	e->cfg.n_redact_patterns = 2;
	opentelemetry__proto__common__v1__key_value__init(&e->host_kv);
	opentelemetry__proto__common__v1__any_value__init(&e->host_val);
	e->host_val.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	e->host_val.string_value = "fixture";
	e->host_kv.key = "host.name";
	e->host_kv.value = &e->host_val;
	e->host_attrs[0] = &e->host_kv;
	opentelemetry__proto__resource__v1__resource__init(&e->host);
	e->host.attributes = e->host_attrs;
	e->host.n_attributes = 1;
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	tfo_proccol_free(e->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->root);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static struct tfo_proccol *
open_col(struct env *e)
{
	char err[256];

	e->c = tfo_proccol_new(&e->cfg, &e->host, err, sizeof(err));
	if (e->c == NULL)
		fail_msg("tfo_proccol_new: %s", err);
	tfo_proccol_set_units(e->c, 100, 4096);
	return e->c;
}

/* put_stat - rewrite <root>/proc/<pid>/stat with utime/starttime changed */
static void
put_stat(struct env *e, int pid, const char *comm, uint64_t utime, uint64_t start, uint64_t rss)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%d/stat", e->root, pid);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%d (%s) S 1 1 1 0 -1 4194304 90 0 0 0 %llu 1 0 0 20 0 1 0 %llu 8000000 %llu "
	    "0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n", pid, comm, (unsigned long long)utime,
	    (unsigned long long)start, (unsigned long long)rss);
	fclose(f);
}

/* ----------------------------------------------------------- collection */

/* start_helper - the real tfo-procpriv over the fixture's proc */
static struct tfo_priv *
start_helper(struct env *e)
{
	char proc[128];

	snprintf(proc, sizeof(proc), "%s/proc", e->root);
	return pt_helper_start(e->c, proc);
}

/* first_cycle - the first cycle over the fixture, read directly or through
 * the helper (the same report either way) */
static void
first_cycle(struct env *e, int helper)
{
	struct pt_out o = { 0 };
	const struct tfo_proccol_stats *s;
	struct tfo_priv *p = NULL;
	const rm_t *rm;

	open_col(e);
	if (helper)
		p = start_helper(e);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	s = tfo_proccol_stats(e->c);
	/* with the helper: one round trip for the 8 names, one for the 3 reports */
	assert_int_equal(s->priv_round_trips, helper ? 2 : 0);
	if (p != NULL)
		pt_helper_stop(e->c, p);
	/* walked 1 2 100 200 300 400 500 600; 700 had no stat; self/sys are not pids */
	assert_int_equal(s->walked, 8);
	/* CPU top 2: 300 (vanishes before its status), 100; memory top 2: 500, 100;
	 * included: 400 (sleeper); 600 is the busiest and biggest but excluded */
	assert_int_equal(o.n, 3);
	assert_non_null(pt_of_pid(&o, 100));
	assert_non_null(pt_of_pid(&o, 400));
	assert_non_null(pt_of_pid(&o, 500));
	assert_null(pt_of_pid(&o, 300));
	assert_null(pt_of_pid(&o, 600));
	assert_int_equal(s->selected, 3);
	assert_int_equal(s->vanished, 1);
	assert_int_equal(s->read_errors, 0);
	assert_int_equal(s->denied, 0);

	/* pid 100: comm "x) (y z", secrets on its command line */
	rm = pt_of_pid(&o, 100);
	assert_string_equal(tu_res(rm, "host.name"), "fixture");
	assert_string_equal(rm->resource->attributes[0]->key, "host.name");
	assert_string_equal(tu_res(rm, "process.parent_pid"), "1");
	assert_string_equal(tu_res(rm, "process.executable.name"), "weird");
	assert_string_equal(tu_res(rm, "process.executable.path"), "/opt/app/weird");
	assert_string_equal(tu_res(rm, "process.command"), "/opt/app/weird");
	assert_string_equal(tu_res(rm, "process.command_line"),
	    "/opt/app/weird --password=*** --user bob --token ***");
	assert_string_equal(tu_res(rm, "process.owner"), "bob");
	assert_string_equal(tu_res(rm, "process.user.id"), "1000");
	/* boot 1700000000 (2023-11-14T22:13:20Z) + 100000 ticks of 10 ms */
	assert_string_equal(tu_res(rm, "process.creation.time"), "2023-11-14T22:30:00.000Z");
	assert_string_equal(tu_res(rm, "process.linux.cgroup"), "12:pids:/user.slice\n"
	    "1:name=systemd:/user.slice/session-3.scope\n0::/user.slice/session-3.scope");
	assert_string_equal(rm->scope_metrics[0]->scope->name, "tfo-agent/process");

	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), 40.0, 1e-9);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=system", NULL), 10.0, 1e-9);
	assert_int_equal(tu_point(rm, "process.cpu.time", "cpu.mode=user", NULL)->start_time_unix_nano,
	    BOOT_NS + 1000ull * 1000000000ull);
	assert_int_equal(tu_point(rm, "process.cpu.time", "cpu.mode=user", NULL)->time_unix_nano, T0);
	/* no earlier sample: since start, 40 s over 4000 s of 4 CPUs */
	assert_near(tu_dbl(rm, "process.cpu.utilization", "cpu.mode=user", NULL), 40.0 / 4000 / 4, 1e-12);
	assert_int_equal(tu_int(rm, "process.memory.usage", NULL), 20000ll * 4096);
	assert_int_equal(tu_int(rm, "process.memory.virtual", NULL), 500000000);
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=read", NULL), 4096);
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=write", NULL), 8192);
	assert_int_equal(tu_int(rm, "process.thread.count", NULL), 4);
	assert_int_equal(tu_int(rm, "process.unix.file_descriptor.count", NULL), 3);
	assert_int_equal(tu_int(rm, "process.context_switches",
	    "process.context_switch.type=voluntary", NULL), 50);
	assert_int_equal(tu_int(rm, "process.context_switches",
	    "process.context_switch.type=involuntary", NULL), 7);
	assert_int_equal(tu_int(rm, "process.paging.faults", "system.paging.fault.type=major", NULL), 3);
	assert_int_equal(tu_int(rm, "process.paging.faults", "system.paging.fault.type=minor", NULL), 700);
	assert_near(tu_dbl(rm, "process.uptime", NULL), 4000.0, 1e-9);

	/* pid 400: another user's */
	rm = pt_of_pid(&o, 400);
	assert_string_equal(tu_res(rm, "process.owner"), "nobody");
	assert_string_equal(tu_res(rm, "process.user.id"), "65534");
	assert_string_equal(tu_res(rm, "process.command_line"), "sleep infinity");
	assert_string_equal(tu_res(rm, "process.command"), "sleep");
	/* pid 500: its binary was replaced; the path keeps no " (deleted)" */
	rm = pt_of_pid(&o, 500);
	assert_string_equal(tu_res(rm, "process.executable.path"), "/usr/lib/jvm/bin/java");
	assert_string_equal(tu_res(rm, "process.executable.name"), "java");
	assert_int_equal(tu_int(rm, "process.unix.file_descriptor.count", NULL), 5);
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=read", NULL), 5 << 20);
	pt_out_free(&o);
}

static void
test_first_cycle(void **state)
{
	first_cycle(*state, 0);
}

/* privileged reads by tfo-procpriv: everything the direct reads gave, in
 * two round trips */
static void
test_first_cycle_helper(void **state)
{
	first_cycle(*state, 1);
}

/* privileged_reads false: exe, io and the fd list of the collector's own pid
 * only ("self" of the proc tree names it: 500 here), the rest of every process
 * as before; the skipped reads count as denied, none is an error */
static void
test_own_reads_only(void **state)
{
	struct env *e = *state;
	struct pt_out o = { 0 };
	const struct tfo_proccol_stats *s;
	const rm_t *rm;
	char self[128], stat[160];

	snprintf(self, sizeof(self), "%s/proc/self", e->root);
	snprintf(stat, sizeof(stat), "%s/stat", self);
	assert_int_equal(unlink(stat), 0);      /* the fixture's self/ holds only stat */
	assert_int_equal(rmdir(self), 0);
	assert_int_equal(symlink("500", self), 0);
	open_col(e);
	tfo_proccol_own_reads_only(e->c);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	s = tfo_proccol_stats(e->c);
	/* 400 is included by its exe name "sleep": unread, its comm "sleeper" is
	 * matched instead; 600 stays excluded by its comm "tfo-excluded" */
	assert_int_equal(o.n, 2);
	assert_null(pt_of_pid(&o, 400));
	assert_null(pt_of_pid(&o, 600));
	assert_int_equal(s->read_errors, 0);
	assert_int_equal(s->denied, 3);         /* 100: io, exe, fd list */

	rm = pt_of_pid(&o, 100);                   /* another process: no exe, io, fds */
	assert_null(tu_res(rm, "process.executable.path"));
	assert_string_equal(tu_res(rm, "process.executable.name"), "x) (y z");
	assert_null(tu_point(rm, "process.disk.io", "disk.io.direction=read", NULL));
	assert_null(tu_point(rm, "process.unix.file_descriptor.count", NULL));
	assert_string_equal(tu_res(rm, "process.owner"), "bob");
	assert_string_equal(tu_res(rm, "process.command_line"),
	    "/opt/app/weird --password=*** --user bob --token ***");
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), 40.0, 1e-9);
	assert_int_equal(tu_int(rm, "process.memory.usage", NULL), 20000ll * 4096);

	rm = pt_of_pid(&o, 500);                   /* itself: everything */
	assert_string_equal(tu_res(rm, "process.executable.path"), "/usr/lib/jvm/bin/java");
	assert_int_equal(tu_int(rm, "process.disk.io", "disk.io.direction=read", NULL), 5 << 20);
	assert_int_equal(tu_int(rm, "process.unix.file_descriptor.count", NULL), 5);
	pt_out_free(&o);
}

static void
test_instruments_units(void **state)
{
	static const struct { const char *name, *unit; int kind; } want[] = {
		{ "process.cpu.time", "s", TU_COUNTER },
		{ "process.cpu.utilization", "1", TU_GAUGE },
		{ "process.memory.usage", "By", TU_UPDOWN },
		{ "process.memory.virtual", "By", TU_UPDOWN },
		{ "process.disk.io", "By", TU_COUNTER },
		{ "process.thread.count", "{thread}", TU_UPDOWN },
		{ "process.unix.file_descriptor.count", "{file_descriptor}", TU_UPDOWN },
		{ "process.context_switches", "{context_switch}", TU_COUNTER },
		{ "process.paging.faults", "{fault}", TU_COUNTER },
		{ "process.uptime", "s", TU_GAUGE },
	};
	struct env *e = *state;
	struct pt_out o = { 0 };
	const rm_t *rm;

	open_col(e);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	rm = pt_of_pid(&o, 100);
	assert_int_equal(rm->scope_metrics[0]->n_metrics, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const metric_t *m = tu_metric(rm, want[i].name);
		if (m == NULL)
			fail_msg("metric %s missing", want[i].name);
		assert_string_equal(m->unit, want[i].unit);
		assert_int_equal(tu_kind(m), want[i].kind);
		assert_true(m->description[0] != '\0');
	}
	pt_out_free(&o);
}

static void
test_interval_ranking(void **state)
{
	struct env *e = *state;
	struct pt_out o = { 0 };
	const rm_t *rm;

	open_col(e);
	assert_int_equal(tfo_proccol_prime(e->c, T0), TFO_OK);
	/* 10 s later only the sleeper (400) used CPU: 500 ticks */
	put_stat(e, 400, "sleeper", 502, 400000, 500);
	assert_int_equal(tfo_proccol_cycle(e->c, T0 + 10000000000ull, pt_emit, &o), TFO_OK);
	/* CPU top: 400 only (others used none); memory: 500, 100; 300 is out */
	assert_int_equal(o.n, 3);
	assert_non_null(pt_of_pid(&o, 100));
	assert_non_null(pt_of_pid(&o, 500));
	rm = pt_of_pid(&o, 400);
	assert_non_null(rm);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), 5.02, 1e-9);
	/* 5 s over 10 s of 4 CPUs */
	assert_near(tu_dbl(rm, "process.cpu.utilization", "cpu.mode=user", NULL), 0.125, 1e-9);
	assert_near(tu_dbl(rm, "process.cpu.utilization", "cpu.mode=system", NULL), 0.0, 1e-12);
	rm = pt_of_pid(&o, 100);
	assert_near(tu_dbl(rm, "process.cpu.utilization", "cpu.mode=user", NULL), 0.0, 1e-12);
	assert_null(pt_of_pid(&o, 300));
	assert_int_equal(tfo_proccol_stats(e->c)->vanished, 0);
	pt_out_free(&o);

	/* pid 400 reused by a new process: a new creation time, CPU since its start */
	put_stat(e, 400, "sleeper", 100, 490000, 500);
	assert_int_equal(tfo_proccol_cycle(e->c, T0 + 20000000000ull, pt_emit, &o), TFO_OK);
	rm = pt_of_pid(&o, 400);
	assert_non_null(rm);
	assert_string_equal(tu_res(rm, "process.creation.time"), "2023-11-14T23:35:00.000Z");
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=user", NULL), 1.0, 1e-9);
	pt_out_free(&o);
}

static void
test_kernel_thread_and_zombie(void **state)
{
	static char *inc[] = { "kthreadd", "^def.*t$" };
	struct env *e = *state;
	struct pt_out o = { 0 };
	const rm_t *rm;

	e->cfg.include = inc;
	e->cfg.n_include = 2;
	e->cfg.top_n = 1;
	open_col(e);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	/* 2 and 200 included; CPU top: 300 (vanishes); memory top: 500 */
	assert_int_equal(o.n, 3);
	rm = pt_of_pid(&o, 2);
	assert_non_null(rm);
	assert_string_equal(tu_res(rm, "process.executable.name"), "kthreadd");
	assert_null(tu_res(rm, "process.executable.path"));
	assert_null(tu_res(rm, "process.command"));
	assert_null(tu_res(rm, "process.command_line"));
	assert_string_equal(tu_res(rm, "process.owner"), "root");
	assert_null(tu_metric(rm, "process.unix.file_descriptor.count"));
	assert_int_equal(tu_int(rm, "process.memory.usage", NULL), 0);
	assert_near(tu_dbl(rm, "process.cpu.time", "cpu.mode=system", NULL), 0.03, 1e-9);
	rm = pt_of_pid(&o, 200);
	assert_non_null(rm);
	assert_string_equal(tu_res(rm, "process.executable.name"), "defunct");
	assert_null(tu_res(rm, "process.executable.path"));
	assert_null(tu_res(rm, "process.command"));
	assert_string_equal(tu_res(rm, "process.parent_pid"), "100");
	assert_non_null(pt_of_pid(&o, 500));
	assert_int_equal(tfo_proccol_stats(e->c)->read_errors, 0);
	pt_out_free(&o);
}

/* vanish_100 - the hook between the walk and the full reads: pid 100 exits */
static void
vanish_100(void *arg)
{
	struct env *e = arg;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/proc/100", e->root);
	assert_int_equal(system(cmd), 0);
}

static void
test_vanish_between_reads(void **state)
{
	struct env *e = *state;
	struct pt_out o = { 0 };

	open_col(e);
	tfo_proccol_set_hook(e->c, vanish_100, e);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	assert_null(pt_of_pid(&o, 100));
	assert_non_null(pt_of_pid(&o, 400));
	assert_non_null(pt_of_pid(&o, 500));
	assert_int_equal(o.n, 2);
	assert_int_equal(tfo_proccol_stats(e->c)->vanished, 2);      /* 100 and 300 */
	assert_int_equal(tfo_proccol_stats(e->c)->read_errors, 0);
	pt_out_free(&o);
	/* next cycle: 100 is simply not walked any more */
	tfo_proccol_set_hook(e->c, NULL, NULL);
	assert_int_equal(tfo_proccol_cycle(e->c, T0 + 1000000000ull, pt_emit, &o), TFO_OK);
	assert_int_equal(tfo_proccol_stats(e->c)->walked, 7);
	assert_null(pt_of_pid(&o, 100));
	pt_out_free(&o);
}

static void
test_cmdline_cut_after_redaction(void **state)
{
	struct env *e = *state;
	char err[256];

	for (uint32_t max = 1; max <= 70; max++) {
		struct pt_out o = { 0 };
		const char *cl;
		e->cfg.cmdline_max_len = max;
		e->c = tfo_proccol_new(&e->cfg, &e->host, err, sizeof(err));
		assert_non_null(e->c);
		assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
		cl = tu_res(pt_of_pid(&o, 100), "process.command_line");
		assert_non_null(cl);
		assert_true(strlen(cl) <= max);
		assert_null(strstr(cl, "hunt"));
		assert_null(strstr(cl, "s3cr"));
		pt_out_free(&o);
		tfo_proccol_free(e->c);
		e->c = NULL;
	}
	/* 0: no command line at all, the command still */
	{
		struct pt_out o = { 0 };
		e->cfg.cmdline_max_len = 0;
		open_col(e);
		assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
		assert_null(tu_res(pt_of_pid(&o, 100), "process.command_line"));
		assert_string_equal(tu_res(pt_of_pid(&o, 100), "process.command"), "/opt/app/weird");
		pt_out_free(&o);
	}
}

static void
test_emit_failure_stops_cycle(void **state)
{
	struct env *e = *state;
	struct pt_out o = { .fail_after = 2 };

	open_col(e);
	assert_int_equal(tfo_proccol_cycle(e->c, T0, pt_emit, &o), TFO_OK);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.calls, 2);
	assert_int_equal(tfo_proccol_stats(e->c)->emit_failed, 1);
	pt_out_free(&o);
}

static void
test_bad_config(void **state)
{
	static char *bad_inc[] = { "ok", "([unclosed" };
	static char *bad_red[] = { "a{2,1}" };
	struct env *e = *state;
	char err[256];

	e->cfg.include = bad_inc;
	e->cfg.n_include = 2;
	assert_null(tfo_proccol_new(&e->cfg, &e->host, err, sizeof(err)));
	assert_non_null(strstr(err, "([unclosed"));
	e->cfg.n_include = 0;
	e->cfg.redact_patterns = bad_red;
	e->cfg.n_redact_patterns = 1;
	assert_null(tfo_proccol_new(&e->cfg, &e->host, err, sizeof(err)));
	assert_non_null(strstr(err, "redact"));
	e->cfg.n_redact_patterns = 0;
	e->cfg.proc_root = "/nonexistent-root";
	assert_null(tfo_proccol_new(&e->cfg, &e->host, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-root/proc"));
}

/* mkpid - a minimal <root>/proc/<pid>/stat */
static void
mkpid(const char *root, int pid)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%d", root, pid);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/%d/stat", root, pid);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%d (p%d) S 1 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0 %d 0 0\n", pid, pid, pid % 7,
	    pid);
	fclose(f);
}

static void
rmpid(const char *root, int pid)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/proc/%d/stat", root, pid);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/proc/%d", root, pid);
	assert_int_equal(rmdir(path), 0);
}

/* the pid table under churn: processes come and go for several cycles; the
 * table holds exactly the live ones, each found, kept fds accounted */
static void
test_pid_table_churn(void **state)
{
	static unsigned char live[20000];
	struct env *e = *state;
	struct pt_out o = { 0 };
	size_t nlive = 0;
	unsigned seed = 12345;

	memset(live, 0, sizeof(live));
	e->cfg.top_n = 1;
	e->cfg.n_include = 0;
	e->cfg.n_exclude = 0;
	open_col(e);
	for (int round = 0; round < 6; round++) {
		for (int k = 0; k < 1500; k++) {
			int pid = 1000 + (int)(rand_r(&seed) % 19000);
			if (live[pid]) {
				rmpid(e->root, pid);
				live[pid] = 0;
				nlive--;
			} else {
				mkpid(e->root, pid);
				live[pid] = 1;
				nlive++;
			}
		}
		assert_int_equal(tfo_proccol_cycle(e->c, T0 + (uint64_t)round * 1000000000ull, pt_emit, &o),
		    TFO_OK);
		pt_out_free(&o);
		/* + the 8 fixture processes with a stat */
		assert_int_equal(tfo_proccol_stats(e->c)->walked, nlive + 8);
		assert_int_equal(e->c->tabn, nlive + 8);
		size_t withfd = 0;
		for (size_t i = 0; i < e->c->tabcap; i++)
			withfd += e->c->tab[i].pid != 0 && e->c->tab[i].fd >= 0;
		assert_int_equal(withfd, e->c->nkept);
		assert_true(e->c->nkept <= e->c->maxkept);
		for (int pid = 1000; pid < 20000; pid++)
			assert_true((pc_tab_find(e->c, pid) != NULL) == (live[pid] != 0));
	}
}

/* ------------------------------------------------------------- selection */

static void
test_select(void **state)
{
	struct tfo_cand c[] = {
		{ .pid = 10, .cpu = 5, .rss = 100 },
		{ .pid = 11, .cpu = 5, .rss = 300 },
		{ .pid = 12, .cpu = 0, .rss = 900 },
		{ .pid = 13, .cpu = 9, .rss = 0 },
		{ .pid = 14, .cpu = 0, .rss = 0, .why = TFO_SEL_INCLUDED },
		{ .pid = 15, .cpu = 1, .rss = 1, .why = TFO_SEL_INCLUDED },
		{ .pid = 16, .cpu = 0, .rss = 0 },
	};
	size_t n = sizeof(c) / sizeof(c[0]), heap[100];

	(void)state;
	for (size_t i = 0; i < n; i++)
		c[i].idx = i;
	/* CPU: 13, then 11 (tie with 10 broken by rss); memory: 12, 11 */
	assert_int_equal(tfo_select(c, n, 2, 1, heap), 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].pid, 10 + (int)i);     /* sorted back by pid */
	assert_int_equal(c[3].why, TFO_SEL_TOP_CPU);
	assert_int_equal(c[1].why, TFO_SEL_TOP_CPU | TFO_SEL_TOP_MEM);
	assert_int_equal(c[2].why, TFO_SEL_TOP_MEM);
	assert_false(TFO_SELECTED(&c[0]));
	/* one include slot: the busier included process (15) gets it */
	assert_int_equal(c[5].why, TFO_SEL_INCLUDED | TFO_SEL_PINNED);
	assert_int_equal(c[4].why, TFO_SEL_INCLUDED);
	assert_false(TFO_SELECTED(&c[6]));
	/* top_n 0: only included ones; an idle host selects nothing by CPU */
	assert_int_equal(tfo_select(c, n, 0, 10, heap), 2);
	for (size_t i = 0; i < n; i++)
		c[i].cpu = 0;
	assert_int_equal(tfo_select(c, n, 100, 0, heap), 4);   /* every rss > 0 */
	assert_int_equal(tfo_select(c, 0, 5, 5, heap), 0);
	/* idx travels with its candidate */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].idx, (size_t)(c[i].pid - 10));
}

/* ref_by_cpu, ref_by_rss - the ranks tfo_select promises, as full sorts */
static int
ref_by_cpu(const void *a, const void *b)
{
	const struct tfo_cand *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu > y->cpu ? -1 : 1;
	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int
ref_by_rss(const void *a, const void *b)
{
	const struct tfo_cand *x = a, *y = b;

	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* test_select_many - thousands of candidates with many ties, in pid order
 * (a walk of /proc) or shuffled (a fixture tree): the same marks as three
 * full sorts give, every candidate back in pid order with its idx */
static void
test_select_many(void **state)
{
	enum { N = 3000 };
	static struct tfo_cand c[N], s[N];
	static size_t heap[N];
	static unsigned exp[N];
	static const unsigned tops[] = { 0, 1, 5, 20, 300, N + 10 };
	static const size_t incs[] = { 0, 3, 256, N };
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 48; round++) {
		unsigned top_n = tops[round % 6];
		size_t max_inc = incs[(round / 6) % 4], want = 0, inc = 0, k = 0;
		for (size_t i = 0; i < N; i++) {
			seed = seed * 1103515245u + 12345u;
			c[i] = (struct tfo_cand){ .pid = (int64_t)i * 7 + 1,
			    .cpu = (seed >> 8) % (round % 3 == 0 ? 4 : 500),
			    .rss = (seed >> 16) % (round % 2 ? 3 : 10000),
			    .why = ((seed >> 4) % 5 == 0 ? TFO_SEL_INCLUDED : 0) |
			        TFO_SEL_TOP_MEM, .idx = i };
		}
		if (round >= 24)        /* shuffled */
			for (size_t i = N - 1; i > 0; i--) {
				struct tfo_cand t = c[i];
				seed = seed * 1103515245u + 12345u;
				c[i] = c[(seed >> 8) % (i + 1)];
				c[(seed >> 8) % (i + 1)] = t;
			}
		/* the reference: marks by full sorts, in s indexed by idx */
		memcpy(s, c, sizeof(c));
		qsort(s, N, sizeof(s[0]), ref_by_cpu);
		for (size_t i = 0; i < N; i++) {
			s[i].why &= TFO_SEL_INCLUDED;
			if (k < top_n && s[i].cpu > 0) {
				s[i].why |= TFO_SEL_TOP_CPU;
				k++;
			}
			if ((s[i].why & TFO_SEL_INCLUDED) && inc < max_inc) {
				s[i].why |= TFO_SEL_PINNED;
				inc++;
			}
		}
		qsort(s, N, sizeof(s[0]), ref_by_rss);
		for (size_t i = 0; i < N && i < top_n && s[i].rss > 0; i++)
			s[i].why |= TFO_SEL_TOP_MEM;
		for (size_t i = 0; i < N; i++) {
			want += TFO_SELECTED(&s[i]);
			exp[s[i].idx] = s[i].why;
		}
		assert_int_equal(tfo_select(c, N, top_n, max_inc, heap), want);
		for (size_t i = 0; i < N; i++) {
			assert_int_equal(c[i].pid, (int64_t)c[i].idx * 7 + 1);
			assert_int_equal(c[i].why, exp[c[i].idx]);
			if (i > 0)
				assert_true(c[i - 1].pid < c[i].pid);
		}
	}
}

static void
test_namepats(void **state)
{
	static char *pats[] = { "nginx", "python3.11", "g++", "^java$", "", "post(gres|master)" };
	struct tfo_namepats p;
	char err[128];

	(void)state;
	assert_int_equal(tfo_namepats_init(&p, pats, 6, err, sizeof(err)), TFO_OK);
	assert_true(tfo_namepats_match(&p, "nginx"));
	assert_false(tfo_namepats_match(&p, "nginx-worker"));   /* exact */
	assert_true(tfo_namepats_match(&p, "python3.11"));
	assert_false(tfo_namepats_match(&p, "python3x11"));     /* '.' is literal */
	assert_true(tfo_namepats_match(&p, "g++"));
	assert_true(tfo_namepats_match(&p, "java"));
	assert_false(tfo_namepats_match(&p, "javac"));
	assert_true(tfo_namepats_match(&p, "postgres"));
	assert_true(tfo_namepats_match(&p, "my-postmaster-x"));  /* regex: search */
	assert_false(tfo_namepats_match(&p, ""));
	tfo_namepats_fini(&p);
}

static void
test_redact(void **state)
{
	static char *pats[] = { "--password[= ]([^ ]+)", "AKIA[A-Z0-9]{4}", "x*" };
	static const struct { const char *in, *out; } cases[] = {
		{ "app --password=hunter2 -v", "app --password=*** -v" },
		{ "app --password hunter2", "app --password ***" },
		{ "a --password=1 b --password=2", "a --password=*** b --password=***" },
		{ "key AKIAABCD and AKIAWXYZ", "key *** and ***" },
		{ "nothing here", "nothing here" },
		{ "", "" },
	};
	struct tfo_redact r;
	char buf[64], err[128];

	(void)state;
	/* "x*" matches the empty string everywhere: no loop, no masks */
	assert_int_equal(tfo_redact_init(&r, pats, 3, err, sizeof(err)), TFO_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		tfo_redact_apply(&r, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
	}
	/* the x* pattern masks runs of x (non-empty matches) */
	snprintf(buf, sizeof(buf), "axxb");
	assert_int_equal(tfo_redact_apply(&r, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "a***b");
	/* growth past the buffer is cut, never overflows */
	snprintf(buf, 8, "xaxaxa");
	tfo_redact_apply(&r, buf, 8);
	assert_string_equal(buf, "***a***");
	tfo_redact_fini(&r);
	assert_int_equal(tfo_redact_init(&r, (char *[]){ "(" }, 1, err, sizeof(err)), TFO_EINVAL);
	assert_non_null(strstr(err, "redact pattern"));
	tfo_redact_fini(&r);
}

static void
test_owners(void **state)
{
	struct tfo_owners o = { 0 };
	char buf[4096];
	size_t len;
	FILE *f = fopen(FIXTURE "/etc/passwd", "r");

	(void)state;
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(tfo_owners_parse(&o, buf, len), TFO_OK);
	assert_string_equal(tfo_owners_name(&o, 0), "root");    /* first line wins over alias */
	assert_string_equal(tfo_owners_name(&o, 1), "bin");
	assert_string_equal(tfo_owners_name(&o, 1000), "bob");
	assert_string_equal(tfo_owners_name(&o, 65534), "nobody");
	assert_null(tfo_owners_name(&o, 5));            /* "-bad" */
	assert_null(tfo_owners_name(&o, 7));            /* name too long */
	assert_null(tfo_owners_name(&o, 12345));
	assert_int_equal(o.n, 4);
	/* every prefix parses without reading past it */
	for (size_t n = 0; n <= len; n++) {
		char *h = malloc(n ? n : 1);
		memcpy(h, buf, n);
		assert_int_equal(tfo_owners_parse(&o, h, n), TFO_OK);
		assert_true(o.n <= 4);
		free(h);
	}
	tfo_owners_fini(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_cycle_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_reads_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instruments_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_thread_and_zombie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanish_between_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_cut_after_redaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_failure_stops_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_table_churn, setup, teardown),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_select_many),
		cmocka_unit_test(test_namepats),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_owners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
