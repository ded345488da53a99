/*
 * test_procfs.c - the /proc and /sys parsers of common/procfs on recorded
 * files (tests/fixtures/proc/host-6.18) and hand-written variants of other
 * kernels' formats, with exact values; truncated and garbage input too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/procfs.h"

#define HOST "tests/fixtures/proc/host-6.18/"
#define VAR "tests/fixtures/proc/variants/"

static char buf[1 << 16];

/* load - a fixture file (relative to the repo root, the tests' cwd) */
static size_t
load(const char *rel)
{
	size_t len = 0;

	assert_int_equal(tfo_procfs_read(".", rel, buf, sizeof(buf), &len), TFO_OK);
	return len;
}

/* every prefix of the file must parse without crashing (ASan watches) */
typedef void (*parse_fn)(const char *b, size_t n);

static void
all_prefixes(const char *rel, parse_fn fn)
{
	size_t len = load(rel);
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, buf, len);
	for (size_t n = 0; n <= len; n++) {
		/* an exact-size heap copy so ASan sees any over-read */
		char *p = malloc(n + 1);
		assert_non_null(p);
		memcpy(p, copy, n);
		fn(p, n);
		free(p);
	}
	free(copy);
}

/* ------------------------------------------------------------------ reader */

static void
test_reader(void **state)
{
	char small[8], path[64];
	size_t len;

	(void)state;
	assert_int_equal(tfo_procfs_read(".", VAR "loadavg-idle", small, sizeof(small), &len),
	                 TFO_ERANGE);
	assert_int_equal(len, 7);
	assert_string_equal(small, "0.00 0.");
	assert_int_equal(tfo_procfs_read(".", VAR "no-such-file", small, sizeof(small), &len),
	                 TFO_ENOENT);
	assert_int_equal(tfo_procfs_path("", "proc/stat", path, sizeof(path)), TFO_OK);
	assert_string_equal(path, "/proc/stat");
	assert_int_equal(tfo_procfs_path("/host/", "/proc/stat", path, sizeof(path)), TFO_OK);
	assert_string_equal(path, "/host/proc/stat");
	assert_int_equal(tfo_procfs_path(NULL, "x", path, sizeof(path)), TFO_OK);
	assert_string_equal(path, "/x");
	assert_int_equal(tfo_procfs_path("/a-very-long-root-directory-name", "proc/some/file/x",
	                 path, 32), TFO_ERANGE);
	len = load(HOST "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq");
	{
		uint64_t v;
		assert_int_equal(tfo_procfs_u64(buf, len, &v), TFO_OK);
		assert_int_equal(v, 2445402);
		assert_int_equal(tfo_procfs_u64("12x\n", 4, &v), TFO_EINVAL);
		assert_int_equal(tfo_procfs_u64("", 0, &v), TFO_EINVAL);
		assert_int_equal(tfo_procfs_u64("99999999999999999999", 20, &v), TFO_EINVAL);
	}
}

/* --------------------------------------------------------------- /proc/stat */

static void
test_stat_host(void **state)
{
	struct tfo_cpu_times cpus[4];
	struct tfo_proc_stat st = { .cpus = cpus, .cpus_cap = 4 };
	size_t len = load(HOST "proc/stat");

	(void)state;
	assert_int_equal(tfo_procfs_stat(buf, len, &st), TFO_OK);
	assert_int_equal(st.total.cpu, -1);
	assert_int_equal(st.total.nfields, 10);
	assert_int_equal(st.total.t[TFO_CPU_USER], 11605);
	assert_int_equal(st.total.t[TFO_CPU_NICE], 3850);
	assert_int_equal(st.total.t[TFO_CPU_SYSTEM], 9431);
	assert_int_equal(st.total.t[TFO_CPU_IDLE], 175297);
	assert_int_equal(st.total.t[TFO_CPU_STEAL], 102);
	assert_int_equal(st.ncpus, 2);
	assert_int_equal(st.cpus[1].cpu, 1);
	assert_int_equal(st.cpus[1].t[TFO_CPU_USER], 6572);
	assert_int_equal(st.cpus[1].t[TFO_CPU_SOFTIRQ], 128);
	assert_int_equal(st.btime, 1795595895);
	assert_int_equal(st.procs_blocked, 0);
	assert_int_equal(st.softirq_total, 272462);
	assert_true(st.have & TFO_STAT_HAVE_CTXT);
	assert_true(st.have & TFO_STAT_HAVE_INTR);
	assert_true(st.have & TFO_STAT_HAVE_PROCESSES);
}

static void
test_stat_old(void **state)
{
	struct tfo_cpu_times cpus[1];
	struct tfo_proc_stat st = { .cpus = cpus, .cpus_cap = 1 };
	size_t len = load(VAR "stat-2.6.9");

	(void)state;
	assert_int_equal(tfo_procfs_stat(buf, len, &st), TFO_OK);
	assert_int_equal(st.total.nfields, 7);
	assert_int_equal(st.total.t[TFO_CPU_SOFTIRQ], 6);
	assert_int_equal(st.total.t[TFO_CPU_STEAL], 0);
	assert_int_equal(st.ncpus, 1);              /* the cap */
	assert_int_equal(st.cpus_dropped, 1);
	assert_int_equal(st.intr_total, 12345);
	assert_int_equal(st.ctxt, 987654);
	assert_int_equal(st.processes, 4321);
	assert_int_equal(st.procs_running, 2);
	assert_int_equal(st.procs_blocked, 1);

	len = load(VAR "stat-2.4");
	st.cpus_cap = 1;
	assert_int_equal(tfo_procfs_stat(buf, len, &st), TFO_OK);
	assert_int_equal(st.total.nfields, 4);
	assert_int_equal(st.total.t[TFO_CPU_IDLE], 50000);
	assert_false(st.have & TFO_STAT_HAVE_RUNNING);
	assert_int_equal(st.processes, 77);

	assert_int_equal(tfo_procfs_stat("cpu 1 2\nctxt 5\n", 15, &st), TFO_EINVAL);
	assert_int_equal(tfo_procfs_stat("", 0, &st), TFO_EINVAL);
	assert_int_equal(tfo_procfs_stat(NULL, 0, &st), TFO_EINVAL);
}

static void
parse_stat(const char *b, size_t n)
{
	struct tfo_cpu_times cpus[2];
	struct tfo_proc_stat st = { .cpus = cpus, .cpus_cap = 2 };

	(void)tfo_procfs_stat(b, n, &st);
	assert_true(st.ncpus <= 2);
}

/* ---------------------------------------------------------------- meminfo */

static void
test_meminfo(void **state)
{
	struct tfo_meminfo mi;
	size_t len = load(HOST "proc/meminfo");

	(void)state;
	assert_int_equal(tfo_procfs_meminfo(buf, len, &mi), TFO_OK);
	assert_int_equal(mi.v[TFO_MEM_TOTAL], 24683656ull * 1024);
	assert_true(TFO_MEM_HAS(&mi, TFO_MEM_AVAILABLE));
	assert_int_equal(mi.v[TFO_MEM_SRECLAIMABLE], 89368ull * 1024);
	assert_int_equal(mi.v[TFO_MEM_HUGE_TOTAL], 0);
	assert_true(TFO_MEM_HAS(&mi, TFO_MEM_HUGE_TOTAL));
	assert_int_equal(mi.v[TFO_MEM_HUGE_SIZE], 2048ull * 1024);

	len = load(VAR "meminfo-3.10");
	assert_int_equal(tfo_procfs_meminfo(buf, len, &mi), TFO_OK);
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_AVAILABLE));
	assert_int_equal(mi.v[TFO_MEM_FREE], 512000ull * 1024);
	assert_int_equal(mi.v[TFO_MEM_HUGE_TOTAL], 4);      /* a count, not kB */
	assert_int_equal(mi.v[TFO_MEM_HUGE_RSVD], 1);
	assert_int_equal(mi.v[TFO_MEM_SWAP_FREE], 2000000ull * 1024);

	len = load(VAR "meminfo-2.6-minimal");
	assert_int_equal(tfo_procfs_meminfo(buf, len, &mi), TFO_OK);
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_SLAB));
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_SRECLAIMABLE));
	assert_int_equal(mi.v[TFO_MEM_CACHED], 300000ull * 1024);

	/* every line of the garbage file is rejected: no MemTotal */
	len = load(VAR "meminfo-garbage");
	assert_int_equal(tfo_procfs_meminfo(buf, len, &mi), TFO_EINVAL);
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_CACHED));     /* overflowed */
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_AVAILABLE));  /* "MB" is no unit we know */
	assert_false(TFO_MEM_HAS(&mi, TFO_MEM_SLAB));       /* kB * 1024 overflows */
	assert_true(TFO_MEM_HAS(&mi, TFO_MEM_SHMEM));       /* unit-less count */
	assert_int_equal(mi.v[TFO_MEM_SHMEM], 5);
}

static void
parse_meminfo(const char *b, size_t n)
{
	struct tfo_meminfo mi;

	(void)tfo_procfs_meminfo(b, n, &mi);
}

/* ----------------------------------------------------------------- vmstat */

static void
test_vmstat(void **state)
{
	struct tfo_vmstat vm;
	size_t len = load(HOST "proc/vmstat");

	(void)state;
	assert_int_equal(tfo_procfs_vmstat(buf, len, &vm), TFO_OK);
	assert_true(TFO_VM_HAS(&vm, TFO_VM_PGPGIN));
	assert_true(TFO_VM_HAS(&vm, TFO_VM_PGMAJFAULT));
	assert_int_equal(vm.v[TFO_VM_PSWPIN], 0);
	assert_int_equal(vm.v[TFO_VM_PGFAULT], 9677687);
	assert_int_equal(vm.v[TFO_VM_PGMAJFAULT], 2025);
	assert_int_equal(tfo_procfs_vmstat("nr_free_pages 5\n", 16, &vm), TFO_EINVAL);
	assert_int_equal(tfo_procfs_vmstat("pgfault 7\npswpout", 17, &vm), TFO_OK);
	assert_int_equal(vm.v[TFO_VM_PGFAULT], 7);
	assert_false(TFO_VM_HAS(&vm, TFO_VM_PSWPOUT));
}

static void
parse_vmstat(const char *b, size_t n)
{
	struct tfo_vmstat vm;

	(void)tfo_procfs_vmstat(b, n, &vm);
}

/* --------------------------------------------------------- loadavg, uptime */

static void
test_loadavg_uptime(void **state)
{
	struct tfo_loadavg la;
	struct tfo_uptime up;
	size_t len = load(HOST "proc/loadavg");

	(void)state;
	assert_int_equal(tfo_procfs_loadavg(buf, len, &la), TFO_OK);
	assert_true(la.load1 == 2.48 && la.load5 == 0.88 && la.load15 == 0.35);
	assert_int_equal(la.running, 3);
	assert_int_equal(la.total, 123);
	assert_int_equal(la.last_pid, 22234);
	len = load(VAR "loadavg-busy-nonl");
	assert_int_equal(tfo_procfs_loadavg(buf, len, &la), TFO_OK);
	assert_true(la.load15 == 100.0);
	assert_int_equal(la.total, 2048);
	assert_int_equal(la.last_pid, 4194303);
	assert_int_equal(tfo_procfs_loadavg("0.1 0.2", 7, &la), TFO_EINVAL);
	assert_int_equal(tfo_procfs_loadavg("-1 0.2 0.3", 10, &la), TFO_EINVAL);
	assert_int_equal(tfo_procfs_loadavg("nan inf 1", 9, &la), TFO_EINVAL);
	assert_int_equal(tfo_procfs_loadavg("1 2 3 4/", 8, &la), TFO_EINVAL);

	len = load(HOST "proc/uptime");
	assert_int_equal(tfo_procfs_uptime(buf, len, &up), TFO_OK);
	assert_true(up.uptime_s == 1009.09 && up.idle_s == 1752.97);
	len = load(VAR "uptime-long");
	assert_int_equal(tfo_procfs_uptime(buf, len, &up), TFO_OK);
	assert_true(up.uptime_s == 350735.47);
	assert_int_equal(tfo_procfs_uptime("x", 1, &up), TFO_EINVAL);
}

static void
parse_loadavg(const char *b, size_t n)
{
	struct tfo_loadavg la;
	struct tfo_uptime up;

	(void)tfo_procfs_loadavg(b, n, &la);
	(void)tfo_procfs_uptime(b, n, &up);
}

/* -------------------------------------------------------------- diskstats */

static void
test_diskstats(void **state)
{
	struct tfo_diskstat d[8];
	size_t n, dropped;
	size_t len = load(HOST "proc/diskstats");

	(void)state;
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, &dropped), TFO_OK);
	assert_int_equal(n, 8);
	assert_int_equal(dropped, 2);   /* 10 lines, cap 8 */
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, NULL), TFO_OK);

	{
		struct tfo_diskstat all[16];
		assert_int_equal(tfo_procfs_diskstats(buf, len, all, 16, &n, &dropped), TFO_OK);
		assert_int_equal(n, 10);
		assert_string_equal(all[8].name, "vda");
		assert_int_equal(all[8].major, 254);
		assert_int_equal(all[8].nstats, 17);
		assert_int_equal(all[8].f[TFO_DISK_READS], 45581);
		assert_int_equal(all[8].f[TFO_DISK_SECTORS_WRITTEN], 1178832);
		assert_int_equal(all[8].f[TFO_DISK_IO_MS], 13728);
		assert_int_equal(all[8].f[TFO_DISK_FLUSH_MS], 526);
	}

	len = load(VAR "diskstats-4.4");   /* 14 columns: 11 stats */
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, NULL), TFO_OK);
	assert_int_equal(n, 4);
	assert_int_equal(d[0].nstats, 11);
	assert_string_equal(d[0].name, "sda");
	assert_int_equal(d[0].f[TFO_DISK_WEIGHTED_MS], 153086);
	assert_int_equal(d[0].f[TFO_DISK_DISCARDS], 0);
	assert_string_equal(d[2].name, "dm-0");

	len = load(VAR "diskstats-4.19"); /* 18 columns */
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, NULL), TFO_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].nstats, 15);
	assert_int_equal(d[0].f[TFO_DISK_IN_PROGRESS], 2);
	assert_int_equal(d[0].f[TFO_DISK_SECTORS_DISCARDED], 2000000);
	assert_int_equal(d[0].f[TFO_DISK_DISCARD_MS], 50);
	assert_int_equal(d[0].f[TFO_DISK_FLUSHES], 0);

	len = load(VAR "diskstats-5.10"); /* 20 columns */
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, NULL), TFO_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].nstats, 17);
	assert_int_equal(d[0].minor, 16);
	assert_int_equal(d[0].f[TFO_DISK_FLUSHES], 1616);
	assert_int_equal(d[0].f[TFO_DISK_FLUSH_MS], 1717);
	assert_int_equal(d[1].f[TFO_DISK_READS], 4294967295u);

	len = load(VAR "diskstats-2.6-partitions");
	assert_int_equal(tfo_procfs_diskstats(buf, len, d, 8, &n, NULL), TFO_OK);
	assert_int_equal(n, 3);
	assert_int_equal(d[1].nstats, 4);
	assert_int_equal(d[1].f[TFO_DISK_READS], 35486);
	assert_int_equal(d[1].f[TFO_DISK_SECTORS_READ], 38030);
	assert_int_equal(d[1].f[TFO_DISK_WRITES], 38030);
	assert_int_equal(d[1].f[TFO_DISK_SECTORS_WRITTEN], 38030);
	assert_int_equal(d[1].f[TFO_DISK_READS_MERGED], 0);

	/* 5..10 columns and a too-long name are rejected */
	assert_int_equal(tfo_procfs_diskstats("8 0 sda 1 2 3 4 5\n", 18, d, 8, &n, NULL), TFO_OK);
	assert_int_equal(n, 0);
}

static void
parse_diskstats(const char *b, size_t n)
{
	struct tfo_diskstat d[4];
	size_t k;

	(void)tfo_procfs_diskstats(b, n, d, 4, &k, NULL);
	assert_true(k <= 4);
}

/* ---------------------------------------------------------------- net/dev */

static void
test_netdev(void **state)
{
	struct tfo_netdev d[8];
	size_t n, dropped;
	size_t len = load(HOST "proc/net/dev");

	(void)state;
	assert_int_equal(tfo_procfs_netdev(buf, len, d, 8, &n, &dropped), TFO_OK);
	assert_int_equal(n, 4);
	assert_int_equal(dropped, 0);
	assert_string_equal(d[0].name, "lo");
	assert_string_equal(d[3].name, "eth0");
	assert_int_equal(d[3].f[TFO_NET_RX_BYTES], 106823615);
	assert_int_equal(d[3].f[TFO_NET_TX_PACKETS], 3970);

	len = load(VAR "netdev-2.6-wide");
	assert_int_equal(tfo_procfs_netdev(buf, len, d, 2, &n, &dropped), TFO_OK);
	assert_int_equal(n, 2);
	assert_int_equal(dropped, 1);
	assert_int_equal(d[0].f[TFO_NET_RX_BYTES], 12345678901ull);
	assert_int_equal(d[1].f[TFO_NET_RX_BYTES], 4294967296ull);
	assert_int_equal(d[1].f[TFO_NET_RX_ERRS], 5);
	assert_int_equal(d[1].f[TFO_NET_RX_DROP], 7);
	assert_int_equal(d[1].f[TFO_NET_RX_MULTICAST], 12);
	assert_int_equal(d[1].f[TFO_NET_TX_PACKETS], 2000000);
	assert_int_equal(d[1].f[TFO_NET_TX_DROP], 4);
	assert_int_equal(tfo_procfs_netdev(buf, len, d, 8, &n, NULL), TFO_OK);
	assert_string_equal(d[2].name, "bond0.100");
	/* 15 numbers is a short line */
	assert_int_equal(tfo_procfs_netdev("x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", 40, d, 8, &n,
	                 NULL), TFO_OK);
	assert_int_equal(n, 0);
}

static void
parse_netdev(const char *b, size_t n)
{
	struct tfo_netdev d[4];
	size_t k;

	(void)tfo_procfs_netdev(b, n, d, 4, &k, NULL);
}

/* -------------------------------------------------------------------- tcp */

/* tfo_procfs_tcp_fd - a table read in chunks far smaller than it, the last
 * line without its newline, from offset 0 on every call */
static void
test_tcp_fd(void **state)
{
	char path[] = "/tmp/tfo-procfs-tcp-XXXXXX", small[300];
	struct tfo_tcp_counts c;
	size_t len = load(HOST "proc/net/tcp");
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_true(len > 1 && buf[len - 1] == '\n');
	assert_int_equal(write(fd, buf, len - 1), (ssize_t)(len - 1));   /* no final newline */
	for (int round = 0; round < 2; round++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(tfo_procfs_tcp_fd(fd, small, sizeof(small), &c), 0);
		assert_int_equal(c.state[10], 3);
		assert_int_equal(c.state[6], 92);
		assert_int_equal(c.bad_lines, 0);
	}
	close(fd);
	unlink(path);
	memset(&c, 0, sizeof(c));
	assert_int_equal(tfo_procfs_tcp_fd(-1, small, sizeof(small), &c), -1);
}

static void
test_sockstat(void **state)
{
	static const char v4[] = "sockets: used 291\nTCP: inuse 21 orphan 0 tw 194 alloc 36 mem 66\n"
	    "UDP: inuse 0 mem 0\n";
	static const char v6[] = "TCP6: inuse 0\nUDP6: inuse 0\nUDPLITE6: inuse 0\n";
	static const char *const bad[] = {
		"", "TCP:\n", "TCP: inuse\n", "TCP: inuse x tw 3\n", "TCPX: inuse 3\n",
		"TCP6 inuse 3\n", "TCP: inuse 99999999999999999999999\n", "tcp: inuse 3\n",
	};
	struct tfo_tcp_counts tcp4;
	uint64_t in, tw;

	(void)state;
	assert_int_equal(tfo_procfs_sockstat(v4, strlen(v4), "TCP", &in, &tw), TFO_OK);
	assert_int_equal(in, 21);
	assert_int_equal(tw, 194);
	assert_int_equal(tfo_procfs_sockstat(v6, strlen(v6), "TCP6", &in, &tw), TFO_OK);
	assert_int_equal(in, 0);
	assert_int_equal(tw, 0);
	/* "TCP" is not "TCP6" and the other way round */
	assert_int_equal(tfo_procfs_sockstat(v6, strlen(v6), "TCP", &in, &tw), TFO_ENOENT);
	assert_int_equal(tfo_procfs_sockstat(v4, strlen(v4), "TCP6", &in, &tw), TFO_ENOENT);
	/* cut inside the line: what is whole is read */
	assert_int_equal(tfo_procfs_sockstat(v4, 36, "TCP", &in, &tw), TFO_OK);
	assert_int_equal(in, 21);
	assert_int_equal(tw, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(tfo_procfs_sockstat(bad[i], strlen(bad[i]), "TCP", &in, &tw),
		    TFO_OK);

	/* tcp6 can list a socket: one in use, or TIME_WAITs tcp4 does not hold */
	memset(&tcp4, 0, sizeof(tcp4));
	tcp4.state[6] = 5;
	assert_false(tfo_procfs_tcp6_needed(0, 5, &tcp4));
	assert_false(tfo_procfs_tcp6_needed(0, 0, &tcp4));   /* counted tcp4 TWs since gone */
	assert_true(tfo_procfs_tcp6_needed(1, 0, &tcp4));
	assert_true(tfo_procfs_tcp6_needed(0, 6, &tcp4));
}

static void
test_tcp(void **state)
{
	struct tfo_tcp_counts c;
	size_t len = load(HOST "proc/net/tcp"), used;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(tfo_procfs_tcp_feed(&c, buf, len), len);
	assert_int_equal(c.state[10], 3);   /* LISTEN */
	assert_int_equal(c.state[6], 92);   /* TIME_WAIT */
	assert_int_equal(c.bad_lines, 0);
	len = load(VAR "tcp6-entries");
	assert_int_equal(tfo_procfs_tcp_feed(&c, buf, len), len);
	assert_int_equal(c.state[10], 4);
	assert_int_equal(c.state[1], 1);
	assert_int_equal(c.state[8], 1);
	assert_int_equal(c.state[3], 1);
	assert_int_equal(c.state[12], 1);
	assert_int_equal(c.bad_lines, 1);   /* state FF */

	/* chunked: a partial line is left for the next call */
	memset(&c, 0, sizeof(c));
	len = load(HOST "proc/net/tcp");
	used = tfo_procfs_tcp_feed(&c, buf, 200);
	assert_true(used < 200 && buf[used - 1] == '\n');
	used += tfo_procfs_tcp_feed(&c, buf + used, len - used);
	assert_int_equal(used, len);
	assert_int_equal(c.state[6], 92);
	assert_int_equal(tfo_procfs_tcp_feed(&c, NULL, 0), 0);

	assert_string_equal(tfo_procfs_tcp_state_name(1), "established");
	assert_string_equal(tfo_procfs_tcp_state_name(3), "syn_received");
	assert_string_equal(tfo_procfs_tcp_state_name(7), "closed");
	assert_string_equal(tfo_procfs_tcp_state_name(12), "syn_received");
	assert_null(tfo_procfs_tcp_state_name(0));
	assert_null(tfo_procfs_tcp_state_name(13));
}

static void
parse_tcp(const char *b, size_t n)
{
	struct tfo_tcp_counts c;

	memset(&c, 0, sizeof(c));
	assert_true(tfo_procfs_tcp_feed(&c, b, n) <= n);
}

/* ------------------------------------------------------ mounts and swaps */

static void
test_mountinfo(void **state)
{
	struct tfo_mount m[16];
	size_t n, dropped;
	size_t len = load(HOST "proc/self/mountinfo");

	(void)state;
	assert_int_equal(tfo_procfs_mountinfo(buf, len, m, 16, &n, &dropped), TFO_OK);
	assert_int_equal(n, 14);
	assert_int_equal(dropped, 0);
	assert_string_equal(m[5].mountpoint, "/");
	assert_string_equal(m[5].fstype, "ext4");
	assert_string_equal(m[5].source, "/dev/vda");
	assert_int_equal(m[5].major, 254);
	assert_int_equal(m[5].ro, 0);
	assert_string_equal(m[6].mountpoint, "/boot");
	assert_int_equal(m[6].ro, 1);       /* per-mount "ro", superblock rw */
	assert_string_equal(m[7].mountpoint, "/mnt/my data");
	assert_string_equal(m[7].source, "/dev/mapper/vg-data");
	assert_string_equal(m[12].fstype, "nfs4");
	assert_string_equal(m[12].source, "server:/export");

	assert_int_equal(tfo_procfs_mountinfo(buf, len, m, 3, &n, &dropped), TFO_OK);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 11);

	len = load(VAR "mounts-old");
	assert_int_equal(tfo_procfs_mounts(buf, len, m, 16, &n, &dropped), TFO_OK);
	assert_int_equal(n, 5);
	assert_string_equal(m[1].source, "/dev/root");
	assert_string_equal(m[1].fstype, "ext3");
	assert_string_equal(m[3].mountpoint, "/home dir");
	assert_int_equal(m[3].ro, 1);
	assert_int_equal(m[4].ro, 0);
	/* no "-" separator: dropped */
	assert_int_equal(tfo_procfs_mountinfo("1 2 3:4 / /x rw shared:1\n", 25, m, 16, &n,
	                 &dropped), TFO_OK);
	assert_int_equal(n, 0);
	assert_int_equal(dropped, 1);
}

static void
parse_mounts(const char *b, size_t n)
{
	struct tfo_mount m[3];
	size_t k;

	(void)tfo_procfs_mountinfo(b, n, m, 3, &k, NULL);
	(void)tfo_procfs_mounts(b, n, m, 3, &k, NULL);
}

static void
test_swaps(void **state)
{
	struct tfo_swap s[4];
	size_t n, dropped;
	size_t len = load(HOST "proc/swaps");

	(void)state;
	assert_int_equal(tfo_procfs_swaps(buf, len, s, 4, &n, &dropped), TFO_OK);
	assert_int_equal(n, 0);
	len = load(VAR "swaps-two");
	assert_int_equal(tfo_procfs_swaps(buf, len, s, 4, &n, &dropped), TFO_OK);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].filename, "/dev/sda2");
	assert_string_equal(s[0].type, "partition");
	assert_int_equal(s[0].size_bytes, 8388604ull * 1024);
	assert_int_equal(s[0].used_bytes, 1048576ull * 1024);
	assert_int_equal(s[0].priority, -2);
	assert_string_equal(s[1].filename, "/var/swap file");
	assert_int_equal(tfo_procfs_swaps(buf, len, s, 1, &n, &dropped), TFO_OK);
	assert_int_equal(dropped, 1);
}

static void
parse_swaps(const char *b, size_t n)
{
	struct tfo_swap s[2];
	size_t k;

	(void)tfo_procfs_swaps(b, n, s, 2, &k, NULL);
}

/* ---------------------------------------------------------------- cpuinfo */

static void
test_cpuinfo(void **state)
{
	struct tfo_cpuinfo ci;
	size_t len = load(HOST "proc/cpuinfo");

	(void)state;
	assert_int_equal(tfo_procfs_cpuinfo(buf, len, &ci), TFO_OK);
	assert_int_equal(ci.logical, 2);
	assert_int_equal(ci.packages, 1);
	assert_int_equal(ci.cores, 2);
	assert_string_equal(ci.vendor, "AuthenticAMD");
	assert_string_equal(ci.model_name, "AMD EPYC");
	assert_true(ci.mhz == 2445.402);
	assert_int_equal(ci.cache_bytes, 512 * 1024);
	assert_int_equal(ci.family, 25);
	assert_int_equal(ci.model, 1);
	assert_int_equal(ci.stepping, 1);

	len = load(VAR "cpuinfo-2socket");
	assert_int_equal(tfo_procfs_cpuinfo(buf, len, &ci), TFO_OK);
	assert_int_equal(ci.logical, 8);
	assert_int_equal(ci.packages, 2);
	assert_int_equal(ci.cores, 4);
	assert_int_equal(ci.cache_bytes, 22528 * 1024);
	assert_string_equal(ci.vendor, "GenuineIntel");

	len = load(VAR "cpuinfo-arm64");
	assert_int_equal(tfo_procfs_cpuinfo(buf, len, &ci), TFO_OK);
	assert_int_equal(ci.logical, 4);
	assert_int_equal(ci.packages, 0);
	assert_int_equal(ci.cores, 4);
	assert_string_equal(ci.vendor, "0x41");
	assert_int_equal(ci.family, -1);

	len = load(VAR "cpuinfo-arm32");
	assert_int_equal(tfo_procfs_cpuinfo(buf, len, &ci), TFO_OK);
	assert_int_equal(ci.logical, 2);
	assert_string_equal(ci.model_name, "ARMv7 Processor rev 4 (v7l)");

	assert_int_equal(tfo_procfs_cpuinfo("garbage\n", 8, &ci), TFO_EINVAL);
}

static void
parse_cpuinfo(const char *b, size_t n)
{
	struct tfo_cpuinfo ci;

	(void)tfo_procfs_cpuinfo(b, n, &ci);
}

/* ------------------------------------------------------------ task states */

static void
test_task_state(void **state)
{
	enum tfo_task_state st;
	struct tfo_task_counts c;
	size_t len = load(HOST "proc/1234/stat");

	(void)state;
	assert_int_equal(tfo_procfs_task_state(buf, len, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_RUNNING);
	assert_int_equal(tfo_procfs_task_state("5 (a) b) Z 1 2", 14, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_ZOMBIE);
	assert_int_equal(tfo_procfs_task_state("5 (x) I 1", 9, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_SLEEPING);
	assert_int_equal(tfo_procfs_task_state("5 (x) D", 7, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_DISK_SLEEP);
	assert_int_equal(tfo_procfs_task_state("5 (x) t", 7, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_STOPPED);
	assert_int_equal(tfo_procfs_task_state("5 (x) ?", 7, &st), TFO_OK);
	assert_int_equal(st, TFO_TASK_OTHER);
	assert_int_equal(tfo_procfs_task_state("5 (x)", 5, &st), TFO_EINVAL);
	assert_int_equal(tfo_procfs_task_state("5 (x) ", 6, &st), TFO_EINVAL);
	assert_int_equal(tfo_procfs_task_state("no paren", 8, &st), TFO_EINVAL);

	assert_int_equal(tfo_procfs_task_counts("tests/fixtures/proc/host-6.18", -1, &c), TFO_OK);
	assert_int_equal(c.n[TFO_TASK_RUNNING], 1);
	assert_int_equal(c.n[TFO_TASK_SLEEPING], 3);    /* S, S, I */
	assert_int_equal(c.n[TFO_TASK_STOPPED], 1);
	assert_int_equal(c.n[TFO_TASK_ZOMBIE], 1);
	assert_int_equal(c.n[TFO_TASK_DISK_SLEEP], 0);
	assert_int_equal(tfo_procfs_task_counts("tests/fixtures/proc/nowhere", -1, &c), TFO_ENOENT);
}

/* A stat line longer than the reader's buffer (a hostile or future kernel's)
 * is still counted by its head; an empty one is not counted. */
static void
test_task_long_line(void **state)
{
	char tmp[] = "/tmp/tfo-procfs-tasks-XXXXXX", path[256];
	struct tfo_task_counts c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "mkdir -p %s/proc/7 %s/proc/8 %s/proc/9", tmp, tmp, tmp);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/proc/7/stat", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("7 (long) D", f);
	for (int i = 0; i < 400; i++)
		fputs(" 12345", f);
	fputs("\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/proc/8/stat", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("8 (short) Z 1\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/proc/9/stat", tmp);   /* empty */
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(tfo_procfs_task_counts(tmp, -1, &c), TFO_OK);
	assert_int_equal(c.n[TFO_TASK_DISK_SLEEP], 1);
	assert_int_equal(c.n[TFO_TASK_ZOMBIE], 1);
	assert_int_equal(c.n[TFO_TASK_RUNNING] + c.n[TFO_TASK_SLEEPING] + c.n[TFO_TASK_STOPPED] +
	    c.n[TFO_TASK_DEAD] + c.n[TFO_TASK_OTHER], 0);
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	assert_int_equal(system(path), 0);
}

static void
parse_task(const char *b, size_t n)
{
	enum tfo_task_state st;

	(void)tfo_procfs_task_state(b, n, &st);
}

/* -------------------------------------------------------- hostile inputs */

static void
test_prefixes(void **state)
{
	(void)state;
	all_prefixes(HOST "proc/stat", parse_stat);
	all_prefixes(VAR "stat-2.4", parse_stat);
	all_prefixes(HOST "proc/meminfo", parse_meminfo);
	all_prefixes(VAR "meminfo-garbage", parse_meminfo);
	all_prefixes(HOST "proc/vmstat", parse_vmstat);
	all_prefixes(HOST "proc/loadavg", parse_loadavg);
	all_prefixes(VAR "uptime-long", parse_loadavg);
	all_prefixes(HOST "proc/diskstats", parse_diskstats);
	all_prefixes(VAR "diskstats-2.6-partitions", parse_diskstats);
	all_prefixes(VAR "netdev-2.6-wide", parse_netdev);
	all_prefixes(VAR "tcp6-entries", parse_tcp);
	all_prefixes(HOST "proc/self/mountinfo", parse_mounts);
	all_prefixes(VAR "mounts-old", parse_mounts);
	all_prefixes(VAR "swaps-two", parse_swaps);
	all_prefixes(VAR "cpuinfo-2socket", parse_cpuinfo);
	all_prefixes(HOST "proc/1234/stat", parse_task);
}

/* a truncated file gives only the lines that are whole and valid */
static void
test_truncated(void **state)
{
	struct tfo_diskstat d[16];
	struct tfo_meminfo mi;
	size_t len = load(HOST "proc/diskstats"), n;
	const char *vda = strstr(buf, "vda");

	(void)state;
	assert_non_null(vda);
	/* cut inside vda's numbers: vda keeps fewer columns, and 11+ still parse */
	assert_int_equal(tfo_procfs_diskstats(buf, (size_t)(vda - buf) + 10, d, 16, &n, NULL),
	                 TFO_OK);
	assert_int_equal(n, 8);     /* the loops; vda has only 2 numbers left */
	len = load(HOST "proc/meminfo");
	assert_int_equal(tfo_procfs_meminfo(buf, 8, &mi), TFO_EINVAL);   /* "MemTotal" */
	assert_int_equal(tfo_procfs_meminfo(buf, 20, &mi), TFO_OK);      /* "MemTotal:       2468" */
	assert_int_equal(mi.v[TFO_MEM_TOTAL], 2468ull);                  /* no unit yet */
	(void)len;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_stat_host),
		cmocka_unit_test(test_stat_old),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_vmstat),
		cmocka_unit_test(test_loadavg_uptime),
		cmocka_unit_test(test_diskstats),
		cmocka_unit_test(test_netdev),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tcp_fd),
		cmocka_unit_test(test_sockstat),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_swaps),
		cmocka_unit_test(test_cpuinfo),
		cmocka_unit_test(test_task_state),
		cmocka_unit_test(test_task_long_line),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
