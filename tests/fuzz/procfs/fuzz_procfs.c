/*
 * fuzz_procfs.c - libFuzzer harness for one family of common/procfs parsers,
 * chosen at build time by FUZZ_FAMILY (tests/fuzz/procfs.cmake builds one
 * target per family, each with its own seed corpus). The input is copied to
 * an exact-size heap buffer so ASan sees any read past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAM_STAT 1
#define FAM_KEYVAL 2        /* meminfo, vmstat */
#define FAM_NUMS 3          /* loadavg, uptime, sysfs values */
#define FAM_DISK 4
#define FAM_NET 5           /* net/dev, net/tcp */
#define FAM_MOUNTS 6        /* mountinfo, mounts, swaps */
#define FAM_CPUINFO 7
#define FAM_TASK 8

static void
run(const char *b, size_t n)
{
#if FUZZ_FAMILY == FAM_STAT
	struct tfo_cpu_times cpus[4];
	struct tfo_proc_stat st = { .cpus = cpus, .cpus_cap = 4 };
	if (tfo_procfs_stat(b, n, &st) == TFO_OK && st.ncpus > 4)
		abort();
#elif FUZZ_FAMILY == FAM_KEYVAL
	struct tfo_meminfo mi;
	struct tfo_vmstat vm;
	(void)tfo_procfs_meminfo(b, n, &mi);
	(void)tfo_procfs_vmstat(b, n, &vm);
#elif FUZZ_FAMILY == FAM_NUMS
	struct tfo_loadavg la;
	struct tfo_uptime up;
	uint64_t v;
	if (tfo_procfs_loadavg(b, n, &la) == TFO_OK && (la.load1 < 0 || la.load15 < 0))
		abort();
	(void)tfo_procfs_uptime(b, n, &up);
	(void)tfo_procfs_u64(b, n, &v);
#elif FUZZ_FAMILY == FAM_DISK
	struct tfo_diskstat d[4];
	size_t k, drop;
	(void)tfo_procfs_diskstats(b, n, d, 4, &k, &drop);
	for (size_t i = 0; i < k; i++)
		if (strlen(d[i].name) >= sizeof(d[i].name))
			abort();
#elif FUZZ_FAMILY == FAM_NET
	struct tfo_netdev d[4];
	struct tfo_tcp_counts c;
	size_t k;
	(void)tfo_procfs_netdev(b, n, d, 4, &k, NULL);
	memset(&c, 0, sizeof(c));
	if (tfo_procfs_tcp_feed(&c, b, n) > n)
		abort();
#elif FUZZ_FAMILY == FAM_MOUNTS
	struct tfo_mount m[3];
	struct tfo_swap s[2];
	size_t k;
	(void)tfo_procfs_mountinfo(b, n, m, 3, &k, NULL);
	(void)tfo_procfs_mounts(b, n, m, 3, &k, NULL);
	(void)tfo_procfs_swaps(b, n, s, 2, &k, NULL);
#elif FUZZ_FAMILY == FAM_CPUINFO
	struct tfo_cpuinfo ci;
	if (tfo_procfs_cpuinfo(b, n, &ci) == TFO_OK && ci.cores == 0)
		abort();
#elif FUZZ_FAMILY == FAM_TASK
	enum tfo_task_state st;
	if (tfo_procfs_task_state(b, n, &st) == TFO_OK && st >= TFO_TASK_NSTATES)
		abort();
#else
#error "FUZZ_FAMILY not set"
#endif
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);

	if (b == NULL)
		return 0;
	if (size > 0)
		memcpy(b, data, size);
	run(b, size);
	free(b);
	return 0;
}
