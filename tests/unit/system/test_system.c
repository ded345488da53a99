/*
 * test_system.c - tfo-system's collection over a fixture root (proc_root):
 * every family's metric names, units, instruments and attributes in the
 * encoded ResourceMetrics, exact values from the fixtures, two cycles with
 * monotonic cumulative sums and a counter reset, and a stuck statfs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/procfs.h"
#include "common/resource.h"
#include "common/zarray.h"
#include "workers/system/collect.h"
#include "tests/unit/system/tu.h"

#define FIXTURE "tests/fixtures/proc/host-6.18"
#define T0 1800000000000000000ull

/* ------------------------------------------------------------ fake statvfs */

static pthread_mutex_t nfs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nfs_cv = PTHREAD_COND_INITIALIZER;
static int nfs_stuck, nfs_released;

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* fake_statvfs - fixed sizes per mountpoint; /mnt/nfs hangs while nfs_stuck */
static int
fake_statvfs(const char *path, struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_frsize = 4096;
	st->f_bsize = 4096;
	if (ends_with(path, "/mnt/nfs")) {
		pthread_mutex_lock(&nfs_mu);
		while (nfs_stuck && !nfs_released)
			pthread_cond_wait(&nfs_cv, &nfs_mu);
		pthread_mutex_unlock(&nfs_mu);
	}
	if (ends_with(path, "/boot")) {
		st->f_blocks = 1000, st->f_bfree = 400, st->f_bavail = 300;
		st->f_files = 100, st->f_ffree = 60;
		return 0;
	}
	if (ends_with(path, "host-6.18/") || ends_with(path, "host-6.18") ||
	    ends_with(path, "/root/")) {
		st->f_blocks = 2000000, st->f_bfree = 1500000, st->f_bavail = 1400000;
		st->f_files = 500000, st->f_ffree = 400000;
		return 0;
	}
	if (ends_with(path, "/dev/shm") || ends_with(path, "/sys/fs/cgroup")) {
		st->f_blocks = 10, st->f_bfree = 10, st->f_bavail = 10;
		return 0;
	}
	if (ends_with(path, "/mnt/my data") || ends_with(path, "/mnt/nfs")) {
		st->f_blocks = 100, st->f_bfree = 50, st->f_bavail = 50;
		st->f_files = 10, st->f_ffree = 5;
		st->f_flag = ST_RDONLY;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* ---------------------------------------------------------------- helpers */

static Tfo__V1__SystemConfig
config(const char *root)
{
	static char *exclude[] = { "/scratch/*" };
	Tfo__V1__SystemConfig cfg = TFO__V1__SYSTEM_CONFIG__INIT;

	cfg.cpu = cfg.load = cfg.memory = cfg.paging = cfg.disk = 1;
	cfg.filesystem = cfg.network = cfg.processes = 1;
	cfg.n_exclude_mounts = 1;
	cfg.exclude_mounts = exclude;
	cfg.proc_root = (char *)root;
	return cfg;
}

struct run {
	struct tfo_resource *res;
	struct tfo_syscol *c;
};

static void
run_open(struct run *r, const char *root)
{
	Tfo__V1__SystemConfig cfg = config(root);
	Tfo__V1__AgentIdentity agent = TFO__V1__AGENT_IDENTITY__INIT;

	agent.id = "agent-1";
	agent.name = "web-01";
	agent.hostname = "web-01.example";
	agent.environment = "production";
	agent.version = "9.9.9";
	assert_non_null(r->res = tfo_resource_new(&agent, root));
	assert_non_null(r->c = tfo_syscol_new(&cfg, tfo_resource_get(r->res)));
	tfo_syscol_set_statfs(r->c, 5000, fake_statvfs);
}

static void
run_close(struct run *r)
{
	tfo_syscol_free(r->c);
	tfo_resource_free(r->res);
}

static rm_t *
cycle(struct run *r, uint64_t now)
{
	uint8_t *out;
	size_t len;
	uint32_t points;
	rm_t *rm;

	assert_int_equal(tfo_syscol_cycle(r->c, now, &out, &len, &points), TFO_OK);
	assert_true(len > 0);
	assert_non_null(rm = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL, len, out));
	assert_int_equal(tu_points(rm), points);
	return rm;
}

/* ------------------------------------------------------------------ tests */

/* The model files' names, units and instruments (docs/metrics.md). */
static const struct {
	const char *name, *unit;
	int kind;
} expected[] = {
	{ "system.cpu.time", "s", TU_COUNTER },
	{ "system.cpu.utilization", "1", TU_GAUGE },
	{ "system.cpu.logical.count", "{cpu}", TU_UPDOWN },
	{ "system.cpu.physical.count", "{cpu}", TU_UPDOWN },
	{ "system.cpu.frequency", "Hz", TU_GAUGE },
	{ "system.cpu.load_average.1m", "{thread}", TU_GAUGE },
	{ "system.cpu.load_average.5m", "{thread}", TU_GAUGE },
	{ "system.cpu.load_average.15m", "{thread}", TU_GAUGE },
	{ "system.memory.usage", "By", TU_UPDOWN },
	{ "system.memory.utilization", "1", TU_GAUGE },
	{ "system.memory.limit", "By", TU_UPDOWN },
	{ "system.memory.linux.available", "By", TU_UPDOWN },
	{ "system.memory.linux.shared", "By", TU_UPDOWN },
	{ "system.memory.linux.slab.usage", "By", TU_UPDOWN },
	{ "system.paging.operations", "{operation}", TU_COUNTER },
	{ "system.paging.faults", "{fault}", TU_COUNTER },
	{ "system.disk.io", "By", TU_COUNTER },
	{ "system.disk.operations", "{operation}", TU_COUNTER },
	{ "system.disk.operation_time", "s", TU_COUNTER },
	{ "system.disk.merged", "{operation}", TU_COUNTER },
	{ "system.disk.io_time", "s", TU_COUNTER },
	{ "system.filesystem.usage", "By", TU_UPDOWN },
	{ "system.filesystem.utilization", "1", TU_GAUGE },
	{ "system.filesystem.limit", "By", TU_UPDOWN },
	{ "system.filesystem.inodes.usage", "{inodes}", TU_UPDOWN },
	{ "system.network.io", "By", TU_COUNTER },
	{ "system.network.packet.count", "{packet}", TU_COUNTER },
	{ "system.network.packet.dropped", "{packet}", TU_COUNTER },
	{ "system.network.errors", "{error}", TU_COUNTER },
	{ "system.network.connection.count", "{connection}", TU_UPDOWN },
	{ "system.process.count", "{process}", TU_UPDOWN },
	{ "system.process.created", "{process}", TU_COUNTER },
	{ "system.uptime", "s", TU_GAUGE },
};

static void
test_names_units(void **state)
{
	struct run r;
	rm_t *rm;

	(void)state;
	run_open(&r, FIXTURE);
	rm = cycle(&r, T0);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const metric_t *m = tu_metric(rm, expected[i].name);
		/* utilization needs CPU time to pass between two samples: on a still
		 * fixture it is absent (test_two_cycles checks it) */
		if (strcmp(expected[i].name, "system.cpu.utilization") == 0) {
			assert_null(m);
			continue;
		}
		if (m == NULL)
			fail_msg("metric %s missing", expected[i].name);
		assert_string_equal(m->unit, expected[i].unit);
		assert_int_equal(tu_kind(m), expected[i].kind);
	}
	/* exactly these: nothing unexpected (paging.usage: the fixture has no swap) */
	assert_int_equal(rm->scope_metrics[0]->n_metrics, sizeof(expected) / sizeof(expected[0]) - 1);
	assert_null(tu_metric(rm, "system.paging.usage"));
	assert_string_equal(rm->scope_metrics[0]->scope->name, "tfo-agent/system");
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	run_close(&r);
}

static void
test_resource(void **state)
{
	struct run r;
	rm_t *rm;

	(void)state;
	run_open(&r, FIXTURE);
	rm = cycle(&r, T0);
	assert_string_equal(tu_res(rm, "host.name"), "web-01.example");
	assert_string_equal(tu_res(rm, "host.id"), "3d1219c7c4c5404aaa1f6d2a48adfda4");
	assert_non_null(tu_res(rm, "host.arch"));
	assert_string_equal(tu_res(rm, "os.type"), "linux");
	assert_true(strncmp(tu_res(rm, "os.description"), "Debian GNU/Linux 12 (bookworm) (Linux ",
	            38) == 0);
	assert_string_equal(tu_res(rm, "service.name"), "tfo-agent");
	assert_string_equal(tu_res(rm, "service.version"), "9.9.9");
	assert_string_equal(tu_res(rm, "service.instance.id"), "agent-1");
	assert_string_equal(tu_res(rm, "telemetryflow.agent.id"), "agent-1");
	assert_string_equal(tu_res(rm, "telemetryflow.agent.name"), "web-01");
	assert_string_equal(tu_res(rm, "deployment.environment.name"), "production");
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	run_close(&r);
}

static void
test_values(void **state)
{
	const uint64_t boot = 1795595895ull * 1000000000ull;
	struct run r;
	rm_t *rm;
	const point_t *p;

	(void)state;
	run_open(&r, FIXTURE);
	rm = cycle(&r, T0);
	/* cpu: /proc/stat cpu0 "5032 2423 4311 88553 84 0 66 48" at USER_HZ 100 */
	p = tu_point(rm, "system.cpu.time", "cpu.mode=user", "cpu.logical_number=0", NULL);
	assert_non_null(p);
	assert_near(p->as_double, 50.32, 1e-9);
	assert_int_equal(p->start_time_unix_nano, boot);
	assert_int_equal(p->time_unix_nano, T0);
	p = tu_point(rm, "system.cpu.time", "cpu.mode=interrupt", "cpu.logical_number=1", NULL);
	assert_near(p->as_double, 1.28, 1e-9);  /* irq 0 + softirq 128 */
	assert_int_equal(tu_count(rm, "system.cpu.time"), 14);
	assert_int_equal(tu_int(rm, "system.cpu.logical.count", NULL), 2);
	assert_int_equal(tu_int(rm, "system.cpu.physical.count", NULL), 2);
	assert_int_equal(tu_int(rm, "system.cpu.frequency", "cpu.logical_number=0", NULL),
	                 2445402000ll);
	assert_int_equal(tu_count(rm, "system.cpu.frequency"), 1);    /* no cpufreq on cpu1 */
	/* utilization was primed at start on the same file: nothing moved */
	assert_int_equal(tu_count(rm, "system.cpu.utilization"), 0 + 0);
	/* load */
	assert_near(tu_dbl(rm, "system.cpu.load_average.1m", NULL), 2.48, 1e-12);
	assert_near(tu_dbl(rm, "system.cpu.load_average.15m", NULL), 0.35, 1e-12);
	/* memory: used = MemTotal - MemAvailable */
	assert_int_equal(tu_int(rm, "system.memory.limit", NULL), 24683656ll * 1024);
	assert_int_equal(tu_int(rm, "system.memory.usage", "system.memory.state=used", NULL),
	                 (24683656ll - 23752800ll) * 1024);
	assert_int_equal(tu_int(rm, "system.memory.linux.slab.usage",
	                 "system.memory.linux.slab.state=reclaimable", NULL), 89368ll * 1024);
	/* paging */
	assert_int_equal(tu_int(rm, "system.paging.faults", "system.paging.fault.type=major", NULL),
	                 2025);
	assert_int_equal(tu_int(rm, "system.paging.faults", "system.paging.fault.type=minor", NULL),
	                 9677687 - 2025);
	/* disk: only used devices (vda); sectors are 512 bytes */
	assert_int_equal(tu_int(rm, "system.disk.io", "system.device=vda", "disk.io.direction=read",
	                 NULL), 3733218ll * 512);
	assert_near(tu_dbl(rm, "system.disk.io_time", "system.device=vda", NULL), 13.728,
	                    1e-9);
	assert_near(tu_dbl(rm, "system.disk.operation_time", "system.device=vda",
	                    "disk.io.direction=write", NULL), 14.781, 1e-9);
	assert_int_equal(tu_count(rm, "system.disk.io"), 2);
	/* network */
	assert_int_equal(tu_int(rm, "system.network.io", "network.interface.name=eth0",
	                 "network.io.direction=receive", NULL), 106823615);
	assert_int_equal(tu_int(rm, "system.network.packet.count", "system.device=eth0",
	                 "network.io.direction=transmit", NULL), 3970);
	assert_int_equal(tu_int(rm, "system.network.connection.count", "network.transport=tcp",
	                 "network.connection.state=listen", NULL), 3);
	assert_int_equal(tu_int(rm, "system.network.connection.count",
	                 "network.connection.state=time_wait", NULL), 92);
	assert_int_equal(tu_count(rm, "system.network.connection.count"), 11);
	/* processes */
	assert_int_equal(tu_int(rm, "system.process.count", "process.state=running", NULL), 1);
	assert_int_equal(tu_int(rm, "system.process.count", "process.state=sleeping", NULL), 3);
	assert_int_equal(tu_int(rm, "system.process.count", "process.state=stopped", NULL), 1);
	assert_int_equal(tu_int(rm, "system.process.count", "process.state=defunct", NULL), 1);
	assert_near(tu_dbl(rm, "system.uptime", NULL), 1009.09, 1e-9);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	run_close(&r);
}

static void
test_filesystem(void **state)
{
	struct run r;
	rm_t *rm;

	(void)state;
	run_open(&r, FIXTURE);
	rm = cycle(&r, T0);
	/* / : 2000000 blocks of 4 KiB, 1500000 free, 1400000 available */
	assert_int_equal(tu_int(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/",
	                 "system.device=/dev/vda", "system.filesystem.type=ext4",
	                 "system.filesystem.mode=rw", NULL), 2000000ll * 4096);
	assert_int_equal(tu_int(rm, "system.filesystem.usage", "system.filesystem.mountpoint=/",
	                 "system.filesystem.state=used", NULL), 500000ll * 4096);
	assert_int_equal(tu_int(rm, "system.filesystem.usage", "system.filesystem.mountpoint=/",
	                 "system.filesystem.state=free", NULL), 1400000ll * 4096);
	assert_int_equal(tu_int(rm, "system.filesystem.usage", "system.filesystem.mountpoint=/",
	                 "system.filesystem.state=reserved", NULL), 100000ll * 4096);
	assert_near(tu_dbl(rm, "system.filesystem.utilization",
	                    "system.filesystem.mountpoint=/", NULL), 500000.0 / 1900000.0, 1e-12);
	assert_int_equal(tu_int(rm, "system.filesystem.inodes.usage",
	                 "system.filesystem.mountpoint=/", "system.filesystem.state=used", NULL),
	                 100000);
	/* /boot is mounted ro (per-mount flag); "/mnt/my data" is ro by statvfs */
	assert_non_null(tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/boot",
	                "system.filesystem.mode=ro", NULL));
	assert_non_null(tu_point(rm, "system.filesystem.limit",
	                "system.filesystem.mountpoint=/mnt/my data", "system.filesystem.mode=ro",
	                "system.device=/dev/mapper/vg-data", "system.filesystem.type=xfs", NULL));
	assert_non_null(tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/mnt/nfs",
	                "system.filesystem.type=nfs4", NULL));
	/* tmpfs without inode counts: no inode points for it */
	assert_null(tu_point(rm, "system.filesystem.inodes.usage",
	            "system.filesystem.mountpoint=/dev/shm", NULL));
	/* pseudo filesystems and exclude_mounts ("/scratch/ *") skipped */
	assert_null(tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/proc", NULL));
	assert_null(tu_point(rm, "system.filesystem.limit",
	            "system.filesystem.mountpoint=/snap/core/123", NULL));
	assert_null(tu_point(rm, "system.filesystem.limit",
	            "system.filesystem.mountpoint=/scratch/tmp1", NULL));
	/* /, /dev/shm, /boot, /mnt/my data, /sys/fs/cgroup (tmpfs), /mnt/nfs */
	assert_int_equal(tu_count(rm, "system.filesystem.limit"), 6);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	run_close(&r);
}

/* ------------------------------------------------------------ two cycles */

/* fixture_copy - a private copy of the fixture under tmpl (mkdtemp'd) as root */
static void
fixture_copy(char *tmpl, char *root, size_t cap)
{
	char cmd[512];

	assert_non_null(mkdtemp(tmpl));
	snprintf(root, cap, "%s/root", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -r %s %s", FIXTURE, root);
	assert_int_equal(system(cmd), 0);
}

/* close_remove - the run closed, the copy under tmpl removed */
static void
close_remove(struct run *r, const char *tmpl)
{
	char cmd[256];

	run_close(r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	assert_int_equal(system(cmd), 0);
}

/* replace_in - rewrite root/rel in place (same inode: the collector's open fd
 * sees it) with the first occurrence of old replaced by new */
static void
replace_in(const char *root, const char *rel, const char *old, const char *new)
{
	char path[512], text[65536], out[65536];
	FILE *f;
	size_t n;
	char *at;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(at = strstr(text, old));
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, new, at + strlen(old));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(out, 1, strlen(out), f), strlen(out));
	fclose(f);
}

/* check_monotonic - every cumulative point of rm2 against rm1: same start time
 * means a value not lower; a new start time is after the first cycle.
 * Returns the number of series that restarted. */
static int
check_monotonic(const rm_t *rm1, const rm_t *rm2, uint64_t t1)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm2->scope_metrics[0];
	int resets = 0, compared = 0;

	for (size_t i = 0; i < sm->n_metrics; i++) {
		const metric_t *m2 = sm->metrics[i], *m1 = tu_metric(rm1, m2->name);
		point_t **p1, **p2;
		size_t n1, n2;
		if (tu_kind(m2) != TU_COUNTER)
			continue;
		assert_non_null(m1);
		p1 = tu_points_of(m1, &n1);
		p2 = tu_points_of(m2, &n2);
		for (size_t j = 0; j < n2; j++) {
			const point_t *a = NULL, *b = p2[j];
			for (size_t k = 0; k < n1 && a == NULL; k++)
				if (tu_same_attrs(p1[k], b))
					a = p1[k];
			assert_non_null(a);
			compared++;
			if (a->start_time_unix_nano == b->start_time_unix_nano) {
				if (b->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT)
					assert_true(b->as_int >= a->as_int);
				else
					assert_true(b->as_double >= a->as_double);
			} else {
				assert_true(b->start_time_unix_nano > t1);
				assert_true(b->start_time_unix_nano < b->time_unix_nano);
				resets++;
			}
		}
	}
	assert_true(compared > 50);
	return resets;
}

static void
test_two_cycles(void **state)
{
	const uint64_t t1 = T0, t2 = T0 + 15000000000ull;
	char tmpl[] = "/tmp/tfo-system-test-XXXXXX", root[128];
	struct run r;
	rm_t *rm1, *rm2;

	(void)state;
	fixture_copy(tmpl, root, sizeof(root));
	run_open(&r, root);
	rm1 = cycle(&r, t1);
	/* 15 s later: cpu0 user +500 ticks, cpu1 iowait 2 ticks back (jitter), a
	 * fork, more eth0 bytes, and vda's read count reset (device re-attached) */
	replace_in(root, "proc/stat", "cpu0 5032 2423 4311 88553", "cpu0 5532 2423 4311 89553");
	replace_in(root, "proc/stat", "6572 1426 5120 86744 511", "6572 1426 5120 86744 509");
	replace_in(root, "proc/stat", "processes 22232", "processes 22240");
	replace_in(root, "proc/net/dev", "eth0: 106823615", "eth0: 206823615");
	replace_in(root, "proc/diskstats", "vda 45581 ", "vda 10 ");
	tfo_syscol_release(r.c);        /* as between two cycles 15 s apart */
	rm2 = cycle(&r, t2);

	assert_int_equal(check_monotonic(rm1, rm2, t1), 1);
	assert_int_equal(tfo_syscol_stats(r.c)->series_resets, 1);
	{
		const point_t *p = tu_point(rm2, "system.disk.operations", "system.device=vda",
		                            "disk.io.direction=read", NULL);
		assert_int_equal(p->as_int, 10);
		assert_int_equal(p->start_time_unix_nano, t1 + 1);
	}
	assert_near(tu_dbl(rm2, "system.cpu.time", "cpu.mode=user", "cpu.logical_number=0",
	                    NULL), 55.32, 1e-9);
	assert_near(tu_dbl(rm2, "system.cpu.time", "cpu.mode=iowait",
	                    "cpu.logical_number=1", NULL), 5.11, 1e-9);   /* never backwards */
	assert_int_equal(tu_int(rm2, "system.process.created", NULL), 22240);
	assert_int_equal(tu_int(rm2, "system.network.io", "network.interface.name=eth0",
	                 "network.io.direction=receive", NULL), 206823615);
	/* utilization over the interval: cpu0 moved 500 user + 1000 idle ticks */
	assert_near(tu_dbl(rm2, "system.cpu.utilization", "cpu.mode=user",
	                    "cpu.logical_number=0", NULL), 500.0 / 1500.0, 1e-12);
	assert_near(tu_dbl(rm2, "system.cpu.utilization", "cpu.mode=idle",
	                    "cpu.logical_number=0", NULL), 1000.0 / 1500.0, 1e-12);
	assert_null(tu_point(rm2, "system.cpu.utilization", "cpu.logical_number=1", NULL));
	assert_string_equal(tu_metric(rm2, "system.cpu.utilization")->unit, "1");
	assert_int_equal(tu_kind(tu_metric(rm2, "system.cpu.utilization")), TU_GAUGE);
	assert_int_equal(tu_count(rm2, "system.cpu.utilization"), 7);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm1, NULL);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm2, NULL);
	close_remove(&r, tmpl);
}

/* resident_pages - how many of the pages of [p, p + len) are in memory */
static size_t
resident_pages(void *p, size_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p & ~(pg - 1);
	size_t n = ((uintptr_t)p + len - a + pg - 1) / pg, in = 0;
	unsigned char v[64];

	assert_true(n <= sizeof(v));
	assert_int_equal(mincore((void *)a, n * pg, v), 0);
	for (size_t i = 0; i < n; i++)
		in += v[i] & 1;
	return in;
}

/* tfo_pages_release: the whole pages inside a buffer leave memory and read
 * as zeros; the partial pages at its ends (a heap chunk's header) are kept */
static void
test_pages_release(void **state)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 16 * pg;
	unsigned char *p = malloc(len + 100), *b = p + 100;   /* not page-aligned */
	size_t ends, span;

	(void)state;
	assert_non_null(p);
	ends = ((uintptr_t)b % pg != 0) + ((uintptr_t)(b + len) % pg != 0);
	span = 16 + (ends == 2);
	memset(p, 0xa5, len + 100);
	assert_int_equal(resident_pages(b, len), span);
	tfo_pages_release(b, len);
	assert_int_equal(resident_pages(b, len), ends);
	assert_int_equal(p[0], 0xa5);
	assert_int_equal(b[0], 0xa5);
	assert_int_equal(b[len - 1], 0xa5);
	for (size_t i = pg; i < len - pg; i += 512)      /* inside the whole pages */
		assert_int_equal(b[i], 0);
	tfo_pages_release(b, pg - 1);               /* no whole page: nothing */
	tfo_pages_release(NULL, len);
	assert_int_equal(b[0], 0xa5);
	free(p);
}

/* ------------------------------------------------------- reads a cycle */

/* read_calls - read system calls this process made so far (syscr of
 * /proc/self/io), through a kept fd read with one pread: each call adds 1 */
static uint64_t
read_calls(int fd)
{
	char buf[512], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(p = strstr(buf, "syscr: "));
	return strtoull(p + 7, NULL, 10);
}

/* reads_of - read calls one cycle of the families in mask makes */
static uint64_t
reads_of(struct run *r, int fd, unsigned mask, uint64_t now)
{
	uint8_t *out;
	size_t len;
	uint32_t points;
	uint64_t before = read_calls(fd), after;

	assert_int_equal(tfo_syscol_cycle_mask(r->c, mask, now, &out, &len, &points), TFO_OK);
	assert_true(points > 0);
	after = read_calls(fd);
	return after - before - 1;      /* less the read of "before" itself */
}

/* A file the kernel makes whole at each read (/proc/loadavg, meminfo,
 * stat: single_open) costs ONE pread a cycle: a short read is all of it,
 * no second read looks for EOF. Old code: 2 reads each. */
static void
test_one_read_a_file(void **state)
{
	struct run r;
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	run_open(&r, FIXTURE);
	(void)reads_of(&r, fd, TFO_SYS_ALL, T0);            /* the fds opened */
	assert_int_equal(reads_of(&r, fd, 1u << TFO_SYS_LOAD, T0 + 15000000000ull), 1);
	assert_int_equal(reads_of(&r, fd, 1u << TFO_SYS_MEMORY, T0 + 30000000000ull), 1);
	run_close(&r);
	close(fd);
}

/* ------------------------------------------------------------ TCP tables */

static void
write_file(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

static int64_t
listening(struct run *r, uint64_t now)
{
	rm_t *rm = cycle(r, now);
	int64_t n = tu_int(rm, "system.network.connection.count", "network.connection.state=listen",
	    NULL);

	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	return n;
}

/* Each TCP table is a walk of the kernel's whole TCP hash: the counts are
 * refreshed every TFO_TCP_REFRESH_MS, and tcp6 is read only when sockstat
 * says it can list a socket. The planted tcp6 listener shows which. */
static void
test_tcp_tables(void **state)
{
	const uint64_t t1 = T0, period = TFO_TCP_REFRESH_MS * 1000000ull;
	char tmpl[] = "/tmp/tfo-system-test-XXXXXX", root[128];
	struct run r;

	(void)state;
	fixture_copy(tmpl, root, sizeof(root));
	write_file(root, "proc/net/tcp6", "  sl  local_address                         remote_address"
	    "                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	    "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A "
	    "00000000:00000000 00:00000000 00000000     0        0 20000 1 0000000000000000 100 0 0 "
	    "10 0\n");
	/* the fixture's tcp: 3 listening, 92 in TIME_WAIT */
	write_file(root, "proc/net/sockstat", "sockets: used 9\nTCP: inuse 3 orphan 0 tw 92 "
	    "alloc 3 mem 1\nUDP: inuse 0 mem 0\n");
	write_file(root, "proc/net/sockstat6", "TCP6: inuse 0\nUDP6: inuse 0\n");
	run_open(&r, root);
	assert_int_equal(listening(&r, t1), 3);                 /* tcp6 not walked */
	replace_in(root, "proc/net/sockstat6", "TCP6: inuse 0", "TCP6: inuse 1");
	assert_int_equal(listening(&r, t1 + 15000000000ull), 3);   /* counts kept */
	assert_int_equal(listening(&r, t1 + period), 4);        /* refreshed: tcp6 in use */
	/* no TCP6 socket in use, but a TIME_WAIT that tcp4 does not hold */
	replace_in(root, "proc/net/sockstat6", "TCP6: inuse 1", "TCP6: inuse 0");
	replace_in(root, "proc/net/sockstat", "tw 92", "tw 93");
	assert_int_equal(listening(&r, t1 + 2 * period), 4);
	replace_in(root, "proc/net/sockstat", "tw 93", "tw 92");
	assert_int_equal(listening(&r, t1 + 3 * period), 3);
	/* a clock step back refreshes at once */
	replace_in(root, "proc/net/sockstat6", "TCP6: inuse 0", "TCP6: inuse 1");
	assert_int_equal(listening(&r, t1), 4);
	close_remove(&r, tmpl);
}

/* running - system.process.count of running processes at now */
static int64_t
running(struct run *r, uint64_t now)
{
	rm_t *rm = cycle(r, now);
	int64_t n = tu_int(rm, "system.process.count", "process.state=running", NULL);

	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	return n;
}

/* The process states are a walk of every /proc/<pid>/stat: refreshed every
 * TFO_TASKS_REFRESH_MS (5 minutes), the last counts in between. A process
 * started after a walk is counted at the next one, one that exited is gone
 * from it. */
static void
test_task_refresh(void **state)
{
	const uint64_t t1 = T0, period = TFO_TASKS_REFRESH_MS * 1000000ull;
	char tmpl[] = "/tmp/tfo-system-test-XXXXXX", cmd[256], root[128], dir[192];
	struct run r;

	(void)state;
	fixture_copy(tmpl, root, sizeof(root));
	run_open(&r, root);
	assert_int_equal(running(&r, t1), 1);
	snprintf(dir, sizeof(dir), "%s/proc/5555", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(root, "proc/5555/stat", "5555 (new) R 1 5555 5555 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
	    "0 1 0 0\n");
	assert_int_equal(running(&r, t1 + 15000000000ull), 1);      /* counts kept */
	assert_int_equal(running(&r, t1 + period - 1), 1);
	assert_int_equal(running(&r, t1 + period), 2);              /* refreshed: seen */
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(running(&r, t1 + period + 15000000000ull), 2);
	assert_int_equal(running(&r, t1 + 2 * period), 1);          /* exited: gone */
	close_remove(&r, tmpl);
}

/* ---------------------------------------------------------- stuck statfs */

static int
has_nfs(const rm_t *rm)
{
	return tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/mnt/nfs",
	                NULL) != NULL;
}

static void
test_statfs_stuck(void **state)
{
	const struct tfo_syscol_stats *st;
	struct run r;
	rm_t *rm;
	int tries;

	(void)state;
	nfs_stuck = 1;
	nfs_released = 0;
	run_open(&r, FIXTURE);
	tfo_syscol_set_statfs(r.c, 100, fake_statvfs);
	st = tfo_syscol_stats(r.c);
	/* cycle 1: the NFS statfs hangs; everything else is there */
	rm = cycle(&r, T0);
	assert_false(has_nfs(rm));
	assert_non_null(tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/",
	                NULL));
	assert_non_null(tu_metric(rm, "system.cpu.time"));
	assert_int_equal(st->statfs_timeouts, 1);
	assert_non_null(strstr(st->stuck_mounts, "/mnt/nfs"));
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	/* cycle 2: the stuck mount is skipped without waiting for it again */
	rm = cycle(&r, T0 + 1);
	assert_false(has_nfs(rm));
	assert_int_equal(st->statfs_timeouts, 1);
	assert_int_equal(st->statfs_skipped, 1);
	assert_non_null(tu_point(rm, "system.filesystem.limit", "system.filesystem.mountpoint=/boot",
	                NULL));
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	/* the server answers: once the old thread returns, the mount is back */
	pthread_mutex_lock(&nfs_mu);
	nfs_released = 1;
	pthread_cond_broadcast(&nfs_cv);
	pthread_mutex_unlock(&nfs_mu);
	for (tries = 0; tries < 500; tries++) {
		int back;
		rm = cycle(&r, T0 + 2 + (uint64_t)tries);
		back = has_nfs(rm);
		opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
		if (back)
			break;
		usleep(10000);
	}
	assert_true(tries < 500);
	assert_string_equal(st->stuck_mounts, "");
	assert_int_equal(st->statfs_timeouts, 1);
	run_close(&r);
	nfs_stuck = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_units),
		cmocka_unit_test(test_resource),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_filesystem),
		cmocka_unit_test(test_two_cycles),
		cmocka_unit_test(test_pages_release),
		cmocka_unit_test(test_one_read_a_file),
		cmocka_unit_test(test_tcp_tables),
		cmocka_unit_test(test_task_refresh),
		cmocka_unit_test(test_statfs_stuck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
