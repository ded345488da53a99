/*
 * bench_process.c - CPU time of one tfo-process cycle (walk, selection, full
 * reads and encode of the selected processes) on the live /proc, with
 * `-n` extra sleeping processes (default 1000) spawned by the bench. The
 * privileged reads go through the real tfo-procpriv as in the worker (its
 * CPU, from /proc/<pid>/schedstat, is added to the cycle's); -d reads them
 * directly instead (one process, as before the helper existed).
 * Prints min / median / max ms of CPU (user + system) per cycle, and the
 * median of its walk alone (up to the cycle's hook) beside the kernel floor.
 * Usage: bench_process [-n procs] [-c cycles] [-t top_n] [-p] [-d] [-r]   (-p:
 * with include/exclude patterns, which read every new process's exe once;
 * -r: the scratch pages given back after each cycle, as the worker does at
 * intervals of 10 s or more (common/collector.h), their faults counted)
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "workers/process/collect.h"
#include "workers/process/priv.h"

struct sink {
	size_t puts, bytes;
};

static int
count(void *arg, const uint8_t *p, size_t len, uint32_t points)
{
	struct sink *s = arg;

	(void)p;
	(void)points;
	s->puts++;
	s->bytes += len;
	return 0;
}

/* walk_done - the cycle's hook (after the walk and the selection's input,
 * before the reports): CPU time so far, to split the cycle in two */
static void
walk_done(void *arg)
{
	*(uint64_t *)arg = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * floor - what the kernel alone charges for the same walk: list /proc, then
 * one pread of each process's stat through fds opened beforehand (the
 * collector's steady state). The cycle's cost above it is ours.
 */
static uint64_t
floor_ns(void)
{
	static int fds[70000];
	static char buf[2048];
	struct dirent *de;
	size_t n = 0;
	uint64_t t0;
	DIR *d = opendir("/proc");

	while (d != NULL && (de = readdir(d)) != NULL && n < 70000) {
		char p[300];    /* d_name is up to 255 bytes */
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		if ((fds[n] = open(p, O_RDONLY | O_CLOEXEC)) >= 0)
			n++;
	}
	if (d != NULL)
		closedir(d);
	t0 = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
	if ((d = opendir("/proc")) != NULL) {
		while (readdir(d) != NULL)
			;
		closedir(d);
	}
	for (size_t i = 0; i < n; i++)
		(void)pread(fds[i], buf, sizeof(buf), 0);
	t0 = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return t0;
}

/* task_ns - CPU time of process pid in ns (schedstat's first field), 0 */
static uint64_t
task_ns(pid_t pid)
{
	char path[64], buf[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL || sscanf(buf, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return (uint64_t)v;
}

/* start_helper - tfo-procpriv from the build tree, no identity change */
static struct tfo_priv *
start_helper(void)
{
	struct tfo_priv_spawn sp = { .path = TFO_BUILD_BINDIR "/tfo-procpriv", .uid = -1,
		.gid = -1, .seccomp = "kill", .log_level = "warn", .log_format = "text" };
	struct tfo_priv *p;
	char err[256];

	if ((sp.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	if ((p = tfo_priv_start(&sp, err, sizeof(err))) == NULL)
		fprintf(stderr, "bench_process: %s: %s\n", sp.path, err);
	close(sp.procfd);
	return p;
}

/* spawn - n children that sleep until the bench kills them */
static pid_t *
spawn(int n)
{
	pid_t *v = calloc((size_t)n, sizeof(*v)), parent = getpid();

	for (int i = 0; v != NULL && i < n; i++) {
		if ((v[i] = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			for (;;)
				pause();
		}
		if (v[i] < 0) {
			perror("fork");
			exit(1);
		}
	}
	return v;
}

static void
reap(pid_t *v, int n)
{
	for (int i = 0; i < n; i++)
		kill(v[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(v[i], NULL, 0);
	free(v);
}

int
main(int argc, char **argv)
{
	static char *inc[] = { "sshd", "^systemd" }, *exc[] = { "^kworker/" };
	static char *red[] = { "--password[= ]([^ ]+)" };
	Tfo__V1__ProcessConfig cfg = TFO__V1__PROCESS_CONFIG__INIT;
	int nproc = 1000, cycles = 30, opt, direct = 0, release = 0;
	struct tfo_priv *priv = NULL;
	struct tfo_proccol *c;
	struct sink s = { 0 };
	uint64_t *cpu, *flo, *hcpu, *wcpu, mark = 0;
	struct rlimit rl;
	char err[256];
	pid_t *kids;

	cfg.top_n = 20;
	cfg.cmdline_max_len = 1024;
	cfg.redact_patterns = red;
	cfg.n_redact_patterns = 1;
	while ((opt = getopt(argc, argv, "n:c:t:pdr")) != -1) {
		switch (opt) {
		case 'n': nproc = atoi(optarg); break;
		case 'c': cycles = atoi(optarg); break;
		case 't': cfg.top_n = (uint32_t)atoi(optarg); break;
		case 'p':
			cfg.include = inc, cfg.n_include = 2;
			cfg.exclude = exc, cfg.n_exclude = 1;
			break;
		case 'd': direct = 1; break;
		case 'r': release = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n procs] [-c cycles] [-t top_n] [-p] [-d] [-r]\n",
			    argv[0]);
			return 2;
		}
	}
	if (cycles < 1 || nproc < 0 || (cpu = calloc((size_t)cycles, sizeof(*cpu))) == NULL)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;      /* as tfo-process does */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((flo = calloc((size_t)cycles, sizeof(*flo))) == NULL ||
	    (hcpu = calloc((size_t)cycles, sizeof(*hcpu))) == NULL ||
	    (wcpu = calloc((size_t)cycles, sizeof(*wcpu))) == NULL)
		return 2;
	kids = spawn(nproc);
	if ((c = tfo_proccol_new(&cfg, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_process: %s\n", err);
		return 1;
	}
	if (!direct) {
		if ((priv = start_helper()) == NULL)
			return 1;
		tfo_proccol_set_priv(c, priv);
	}
	tfo_proccol_prime(c, tfo_clock_id_ns(CLOCK_REALTIME));
	tfo_proccol_set_hook(c, walk_done, &mark);
	for (int i = 0; i < cycles; i++) {
		uint64_t t0 = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID);
		uint64_t h0 = priv != NULL ? task_ns(tfo_priv_pid(priv)) : 0;
		if (tfo_proccol_cycle(c, tfo_clock_id_ns(CLOCK_REALTIME), count, &s) != TFO_OK) {
			fprintf(stderr, "bench_process: cycle failed\n");
			return 1;
		}
		if (release)
			tfo_proccol_release(c);
		cpu[i] = tfo_clock_id_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
		wcpu[i] = mark - t0;
		hcpu[i] = priv != NULL ? task_ns(tfo_priv_pid(priv)) - h0 : 0;
		cpu[i] += hcpu[i];
		flo[i] = floor_ns();
		usleep(20000);
	}
	qsort(cpu, (size_t)cycles, sizeof(*cpu), cmp_u64);
	qsort(hcpu, (size_t)cycles, sizeof(*hcpu), cmp_u64);
	qsort(flo, (size_t)cycles, sizeof(*flo), cmp_u64);
	qsort(wcpu, (size_t)cycles, sizeof(*wcpu), cmp_u64);
	printf("bench_process: %llu processes walked, %llu selected (top_n %u%s), %zu B/cycle\n",
	    (unsigned long long)tfo_proccol_stats(c)->walked,
	    (unsigned long long)tfo_proccol_stats(c)->selected, cfg.top_n,
	    cfg.n_include ? ", with patterns" : "", s.bytes / (size_t)cycles);
	printf("bench_process: CPU per cycle%s%s: min %.3f ms, median %.3f ms, max %.3f ms "
	    "(budget 10 ms for 1000 processes)\n", priv != NULL ?
	    " (tfo-process + tfo-procpriv)" : " (direct reads, no helper)",
	    release ? ", scratch pages given back after each" : "", (double)cpu[0] / 1e6,
	    (double)cpu[cycles / 2] / 1e6, (double)cpu[cycles - 1] / 1e6);
	if (priv != NULL)
		printf("bench_process: of which tfo-procpriv: median %.3f ms, %llu round trips "
		    "in %d cycles + the first walk\n", (double)hcpu[cycles / 2] / 1e6,
		    (unsigned long long)tfo_proccol_stats(c)->priv_round_trips, cycles);
	printf("bench_process: of which the walk (list /proc, read and rank every stat): median "
	    "%.3f ms; the reports of the selected: the rest\n", (double)wcpu[cycles / 2] / 1e6);
	printf("bench_process: kernel floor (list /proc + one pread of each stat): median %.3f ms\n",
	    (double)flo[cycles / 2] / 1e6);
	tfo_proccol_free(c);
	tfo_priv_close(priv);
	reap(kids, nproc);
	free(cpu);
	free(flo);
	free(hcpu);
	free(wcpu);
	return 0;
}
