/*
 * bench_exporter.c - tfo-exporter throughput: prepared ResourceMetrics entries
 * (a pre-filled in-memory queue) through the pipeline to a local receiver,
 * OTLP/gRPC and OTLP/HTTP, gzip on and off. Prints points/s and MiB/s.
 *
 * usage: bench_exporter --grpc-endpoint H:P --http-endpoint H:P [--entries N]
 *        [--points N] [--batch-bytes N] [--in-flight N]
 * (bench/exporter/run.sh starts the receiver and passes the endpoints)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"
#include "tests/lib/until_settled.h"
#include "workers/exporter/memsource.h"
#include "workers/exporter/pipeline.h"
#include "workers/exporter/sample.h"

struct run {
	struct event_base *base;
	struct tfo_exp_memsource *ms;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bench_one(const char *endpoint, int grpc, int gzip, uint32_t entries, uint32_t points,
    uint32_t batch_bytes, uint32_t in_flight)
{
	struct tfo_exp_pipeline_cfg cfg;
	struct tfo_exp_source src;
	struct tfo_exp_pipeline *p;
	struct tfo_exp_stats st;
	struct run r;
	struct tfo_test_until_settled drain;
	double t0, dt;

	memset(&cfg, 0, sizeof(cfg));
	cfg.transport.endpoints[0] = endpoint;
	cfg.transport.n_endpoints = 1;
	cfg.transport.grpc = grpc;
	cfg.transport.gzip = gzip;
	cfg.transport.timeout_ms = 30000;
	cfg.batch_max_bytes = batch_bytes;
	cfg.max_in_flight = in_flight;
	cfg.poll_ms = 1;
	cfg.retry_initial_ms = 50;
	cfg.retry_max_ms = 500;
	if ((r.base = event_base_new()) == NULL || (r.ms = tfo_exp_memsource_new()) == NULL)
		fatalx("init");
	for (uint32_t i = 0; i < entries; i++) {
		size_t len;
		uint8_t *e = tfo_exp_sample_metrics(i, points, &len);
		if (e == NULL || tfo_exp_memsource_add(r.ms, 0, e, len, points + 1) != 0)
			fatalx("out of memory");
		free(e);
	}
	src = tfo_exp_memsource_source(r.ms);
	if (tfo_exp_pipeline_new(&p, r.base, &cfg, &src) != TFO_OK)
		fatalx("pipeline");
	if (tfo_test_until_settled_start(&drain, r.base, r.ms, 1000) != 0)
		fatalx("timer");
	t0 = now_s();
	tfo_exp_pipeline_start(p);
	event_base_dispatch(r.base);
	dt = now_s() - t0;
	tfo_exp_pipeline_stats(p, &st);
	printf("%-5s gzip=%-3s batches=%-6llu points=%-9llu payload=%7.1f MiB wire=%7.1f MiB "
	    "%6.2f s  %10.0f points/s  %7.1f MiB/s payload  retries=%llu\n",
	    grpc ? "grpc" : "http", gzip ? "on" : "off", (unsigned long long)st.sent_batches,
	    (unsigned long long)st.sent_points, st.sent_bytes / 1048576.0, st.wire_bytes / 1048576.0,
	    dt, st.sent_points / dt, st.sent_bytes / 1048576.0 / dt, (unsigned long long)st.retries);
	fflush(stdout);
	tfo_test_until_settled_stop(&drain);
	tfo_exp_pipeline_free(p);
	tfo_exp_memsource_free(r.ms);
	event_base_free(r.base);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grpc-endpoint", 1, 0, 'g' }, { "http-endpoint", 1, 0, 'h' },
		{ "entries", 1, 0, 'e' }, { "points", 1, 0, 'p' },
		{ "batch-bytes", 1, 0, 'b' }, { "in-flight", 1, 0, 'f' }, { 0, 0, 0, 0 },
	};
	const char *ge = NULL, *he = NULL;
	uint32_t entries = 2000, points = 50, batch = 1024 * 1024, inflight = 2;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'g': ge = optarg; break;
		case 'h': he = optarg; break;
		case 'e': entries = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': points = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b': batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': inflight = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_exporter --grpc-endpoint H:P --http-endpoint H:P "
			    "[--entries N] [--points N] [--batch-bytes N] [--in-flight N]\n");
			return 64;
		}
	}
	tfo_log_init("bench-exporter", TFO_LOG_WARN, TFO_LOG_TEXT);
	printf("bench_exporter: %u entries x %u points (+1 gauge), batch_max_bytes %u, %u in flight\n",
	    entries, points, batch, inflight);
	for (int gzip = 0; gzip < 2; gzip++) {
		if (ge)
			bench_one(ge, 1, gzip, entries, points, batch, inflight);
		if (he)
			bench_one(he, 0, gzip, entries, points, batch, inflight);
	}
	return 0;
}
