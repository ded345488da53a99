/*
 * bench_logs.c - throughput of the tfo-logs engine: a file of numbered lines
 * is tailed from the beginning, framed, repaired, severity-parsed, encoded
 * as OTLP ResourceLogs and handed to a sink that only counts (no buffer).
 * Prints MiB/s, lines/s and CPU seconds. usage: bench_logs [MiB] [line bytes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "workers/logs/tailer.h"

struct count {
	uint64_t puts, bytes, records;
};

static enum tfo_err
count_put(void *arg, const uint8_t *p, size_t len, uint32_t records,
    const Tfo__V1__Checkpoint *const *cps, size_t ncps, uint32_t *retry)
{
	struct count *c = arg;

	(void)p;
	(void)cps;
	(void)ncps;
	(void)retry;
	c->puts++;
	c->bytes += len;
	c->records += records;
	return TFO_OK;
}

static double
now_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* make_file - about mib MiB of lines of about line_len bytes, with level words */
static uint64_t
make_file(const char *path, size_t mib, size_t line_len, uint64_t *lines)
{
	static const char *lv[] = { "INFO", "WARN", "ERROR", "DEBUG" };
	FILE *f = fopen(path, "w");
	uint64_t total = 0;
	char pad[4096];

	if (f == NULL || line_len < 48 || line_len > sizeof(pad))
		return 0;
	memset(pad, 'x', sizeof(pad));
	*lines = 0;
	while (total < (uint64_t)mib << 20) {
		int n = fprintf(f, "2024-05-01T12:00:00.000Z %s req=%08llu ", lv[*lines % 4],
		    (unsigned long long)*lines);
		fwrite(pad, 1, line_len - (size_t)n - 1, f);
		fputc('\n', f);
		total += line_len;
		(*lines)++;
	}
	fclose(f);
	return total;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t line_len = argc > 2 ? strtoul(argv[2], NULL, 10) : 120;
	char dir[] = "/tmp/tfo-bench-logs-XXXXXX", path[64];
	char *paths[1] = { path };
	Tfo__V1__LogsConfig cfg = TFO__V1__LOGS_CONFIG__INIT;
	struct count c = { 0 };
	struct tfo_logs_sink sink = { .put = count_put, .arg = &c };
	struct tailer *t;
	enum tfo_err e;
	uint64_t bytes, lines, now = 0;
	double w0, c0, w1, c1;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/bench.log", dir);
	if ((bytes = make_file(path, mib, line_len, &lines)) == 0)
		return 1;
	cfg.paths = paths;
	cfg.n_paths = 1;
	cfg.start_at = "beginning";
	cfg.batch_max_lines = 10000;
	if ((t = tailer_new(&cfg, NULL, &sink, &e)) == NULL)
		return 1;
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = cpu_s();
	while (c.records < lines) {
		uint64_t d = tailer_run(t, now, 50);
		now += d;             /* simulated time: batch timers fire at once */
	}
	w1 = now_s(CLOCK_MONOTONIC);
	c1 = cpu_s();
	printf("bench_logs: %llu lines of %zu B (%.1f MiB), %llu puts, %.1f MiB OTLP\n",
	    (unsigned long long)lines, line_len, (double)bytes / 1048576.0,
	    (unsigned long long)c.puts, (double)c.bytes / 1048576.0);
	printf("bench_logs: tail->encode %.1f MiB/s, %.0f lines/s, %.3f s wall, %.3f s CPU\n",
	    (double)bytes / 1048576.0 / (w1 - w0), (double)lines / (w1 - w0), w1 - w0, c1 - c0);
	/* per CPU second: what one core sustains, independent of a busy machine */
	printf("bench_logs: %.1f MiB and %.0f lines per CPU second\n",
	    (double)bytes / 1048576.0 / (c1 - c0), (double)lines / (c1 - c0));
	tailer_free(t);
	unlink(path);
	rmdir(dir);
	return 0;
}
