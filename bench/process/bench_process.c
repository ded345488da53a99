/*
 * bench_process.c - CPU time of one tfo-process cycle (walk, selection, full
 * reads and encode of the selected processes) on the live /proc, with
 * `-n` extra sleeping processes (default 1000) spawned by the bench.
 * Prints min / median / max ms of CPU (user + system) per cycle.
 * Usage: bench_process [-n procs] [-c cycles] [-t top_n] [-p]   (-p: with
 * include/exclude patterns, which read every new process's exe link once)
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

#include "workers/process/collect.h"

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

static uint64_t
ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	t0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	if ((d = opendir("/proc")) != NULL) {
		while (readdir(d) != NULL)
			;
		closedir(d);
	}
	for (size_t i = 0; i < n; i++)
		(void)pread(fds[i], buf, sizeof(buf), 0);
	t0 = ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return t0;
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
	int nproc = 1000, cycles = 30, opt;
	struct tfo_proccol *c;
	struct sink s = { 0 };
	uint64_t *cpu, *flo;
	struct rlimit rl;
	char err[256];
	pid_t *kids;

	cfg.top_n = 20;
	cfg.cmdline_max_len = 1024;
	cfg.redact_patterns = red;
	cfg.n_redact_patterns = 1;
	while ((opt = getopt(argc, argv, "n:c:t:p")) != -1) {
		switch (opt) {
		case 'n': nproc = atoi(optarg); break;
		case 'c': cycles = atoi(optarg); break;
		case 't': cfg.top_n = (uint32_t)atoi(optarg); break;
		case 'p':
			cfg.include = inc, cfg.n_include = 2;
			cfg.exclude = exc, cfg.n_exclude = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-n procs] [-c cycles] [-t top_n] [-p]\n", argv[0]);
			return 2;
		}
	}
	if (cycles < 1 || nproc < 0 || (cpu = calloc((size_t)cycles, sizeof(*cpu))) == NULL)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;      /* as tfo-process does */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((flo = calloc((size_t)cycles, sizeof(*flo))) == NULL)
		return 2;
	kids = spawn(nproc);
	if ((c = tfo_proccol_new(&cfg, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_process: %s\n", err);
		return 1;
	}
	tfo_proccol_prime(c, ns(CLOCK_REALTIME));
	for (int i = 0; i < cycles; i++) {
		uint64_t t0 = ns(CLOCK_PROCESS_CPUTIME_ID);
		if (tfo_proccol_cycle(c, ns(CLOCK_REALTIME), count, &s) != TFO_OK) {
			fprintf(stderr, "bench_process: cycle failed\n");
			return 1;
		}
		cpu[i] = ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
		flo[i] = floor_ns();
		usleep(20000);
	}
	qsort(cpu, (size_t)cycles, sizeof(*cpu), cmp_u64);
	qsort(flo, (size_t)cycles, sizeof(*flo), cmp_u64);
	printf("bench_process: %llu processes walked, %llu selected (top_n %u%s), %zu B/cycle\n",
	    (unsigned long long)tfo_proccol_stats(c)->walked,
	    (unsigned long long)tfo_proccol_stats(c)->selected, cfg.top_n,
	    cfg.n_include ? ", with patterns" : "", s.bytes / (size_t)cycles);
	printf("bench_process: CPU per cycle: min %.3f ms, median %.3f ms, max %.3f ms "
	    "(budget 10 ms for 1000 processes)\n", (double)cpu[0] / 1e6,
	    (double)cpu[cycles / 2] / 1e6, (double)cpu[cycles - 1] / 1e6);
	printf("bench_process: kernel floor (list /proc + one pread of each stat): median %.3f ms\n",
	    (double)flo[cycles / 2] / 1e6);
	tfo_proccol_free(c);
	reap(kids, nproc);
	free(cpu);
	free(flo);
	return 0;
}
