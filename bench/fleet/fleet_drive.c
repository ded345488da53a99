/*
 * fleet_drive.c - bench/fleet's agents: N tfo-buffer + tfo-exporter pairs,
 * each with its own state and runtime dir, run over fd 3 as tfo-supervisor
 * would (tests/lib/worker_spawn), fed by one synthetic writer that puts
 * metrics and log payloads into every buffer's ingest socket as collectors
 * do. bench_fleet.py runs it and plays the collector tier (tfo-sink).
 *
 * usage: fleet_drive --bin DIR --agents N --endpoint URL [--endpoint URL...]
 *        [--flush-ms 10000] [--metrics-points 200] [--metrics-every-ms 10000]
 *        [--log-records 50] [--logs-every-ms 1000] [--max-mb 200] [--sync]
 *        [--retry-initial-ms 1000] [--retry-max-ms 60000] [--level warn]
 *        [--batch-max-bytes 262144] [--max-in-flight 2]
 * stdout (one line each, flushed):
 *   buffers N <seconds to start them>
 *   exporters N <unix time of the first exec> <unix time of the last Ready>
 *   feed <unix time the round ended> metrics|logs <items per agent> <agents that failed>
 *   stopped | bye
 * stdin: "stop" ends the feeding, "quit" (or EOF) stops every worker and exits.
 * Every agent gets the same stream, so what one agent was given by a time is
 * the sum of the rounds ended before it. A bench: nothing here asserts.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "common/log.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/lib/worker_spawn.h"
#include "workers/exporter/sample.h"

#define MAX_ENDPOINTS 8
#define READY_MS 60000
#define PUT_TIMEOUT_MS 5000

struct opts {
	const char *bin;
	unsigned agents;
	const char *endpoints[MAX_ENDPOINTS];
	size_t n_endpoints;
	uint32_t flush_ms, metrics_points, metrics_every_ms, log_records, logs_every_ms;
	uint32_t retry_initial_ms, retry_max_ms;        /* telemetryflow.retry.* */
	uint32_t batch_max_bytes, max_in_flight;        /* exporter.* */
	double retry_multiplier;
	uint64_t max_mb;
	int sync;
	const char *level;
};

struct agent {
	struct tbuf buf;                /* tfo-buffer, its state dir and sockets */
	struct tfo_wspawn exp;          /* tfo-exporter */
	struct tfo_bufclient in[2];     /* the synthetic collectors' put clients: tfo-system's
	                                 * metrics, tfo-logs' logs (a role puts its own signal) */
	int in_open;
	char id[32];
};

/* One payload every agent is given, once a period. */
struct feed {
	Tfo__V1__Signal signal;
	const char *name;
	uint8_t *payload;
	size_t len;
	uint32_t items;                 /* as the sink counts them */
	uint32_t every_ms;
	double next;                    /* monotonic seconds */
};

/* seconds on a clock: monotonic for the schedule, real time for the lines
 * compared with the sink's arrival times */
static double
secs(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define mono_s() secs(CLOCK_MONOTONIC)
#define unix_s() secs(CLOCK_REALTIME)

static void
usage(void)
{
	fprintf(stderr, "usage: fleet_drive --bin DIR --agents N --endpoint URL [--endpoint URL...]\n"
	    "       [--flush-ms MS] [--metrics-points N] [--metrics-every-ms MS]\n"
	    "       [--log-records N] [--logs-every-ms MS] [--max-mb N] [--sync]\n"
	    "       [--retry-initial-ms MS] [--retry-max-ms MS] [--level L]\n"
	    "       [--batch-max-bytes N] [--max-in-flight N]\n");
}

/* num - a whole decimal in [min, max] or exit 2 */
static unsigned long
num(const char *s, unsigned long min, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "fleet_drive: bad %s '%s' (%lu..%lu)\n", what, s, min, max);
		exit(2);
	}
	return v;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bin", required_argument, NULL, 'b' },
		{ "agents", required_argument, NULL, 'n' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "flush-ms", required_argument, NULL, 'f' },
		{ "metrics-points", required_argument, NULL, 'p' },
		{ "metrics-every-ms", required_argument, NULL, 'P' },
		{ "log-records", required_argument, NULL, 'r' },
		{ "logs-every-ms", required_argument, NULL, 'R' },
		{ "max-mb", required_argument, NULL, 'm' },
		{ "sync", no_argument, NULL, 's' },
		{ "retry-initial-ms", required_argument, NULL, 'i' },
		{ "retry-max-ms", required_argument, NULL, 'x' },
		{ "level", required_argument, NULL, 'l' },
		{ "batch-max-bytes", required_argument, NULL, 'B' },
		{ "max-in-flight", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .flush_ms = 10000, .metrics_points = 200, .metrics_every_ms = 10000,
	    .log_records = 50, .logs_every_ms = 1000, .max_mb = 200, .level = "warn",
	    /* what the config gives a real agent (common/config_table.c), not
	     * the pipeline's fallbacks for a zero */
	    .retry_initial_ms = 1000, .retry_max_ms = 60000, .retry_multiplier = 2.0,
	    .batch_max_bytes = 262144, .max_in_flight = 2 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->bin = optarg; break;
		case 'n': o->agents = (unsigned)num(optarg, 1, 5000, "--agents"); break;
		case 'e':
			if (o->n_endpoints == MAX_ENDPOINTS) {
				fprintf(stderr, "fleet_drive: at most %d endpoints\n", MAX_ENDPOINTS);
				exit(2);
			}
			o->endpoints[o->n_endpoints++] = optarg;
			break;
		case 'f': o->flush_ms = (uint32_t)num(optarg, 100, 3600000, "--flush-ms"); break;
		case 'p': o->metrics_points = (uint32_t)num(optarg, 0, 100000, "--metrics-points"); break;
		case 'P': o->metrics_every_ms = (uint32_t)num(optarg, 10, 3600000, "--metrics-every-ms"); break;
		case 'r': o->log_records = (uint32_t)num(optarg, 0, 100000, "--log-records"); break;
		case 'R': o->logs_every_ms = (uint32_t)num(optarg, 10, 3600000, "--logs-every-ms"); break;
		case 'm': o->max_mb = num(optarg, 1, 1048576, "--max-mb"); break;
		case 's': o->sync = 1; break;
		case 'i': o->retry_initial_ms = (uint32_t)num(optarg, 1, 3600000, "--retry-initial-ms"); break;
		case 'x': o->retry_max_ms = (uint32_t)num(optarg, 1, 3600000, "--retry-max-ms"); break;
		case 'l': o->level = optarg; break;
		/* below the config's 4 KiB floor on purpose: one entry a batch
		 * gives a backlog of many batches from a small feed (the smoke) */
		case 'B': o->batch_max_bytes = (uint32_t)num(optarg, 1, 16777216, "--batch-max-bytes"); break;
		case 'F': o->max_in_flight = (uint32_t)num(optarg, 1, 64, "--max-in-flight"); break;
		default: usage(); exit(2);
		}
	}
	if (o->bin == NULL || o->agents == 0 || o->n_endpoints == 0 || optind != argc) {
		usage();
		exit(2);
	}
}

/* exporter_exec - exec one tfo-exporter and send its config (no wait) */
static int
exporter_exec(const struct opts *o, struct agent *a)
{
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lc;
	Tfo__V1__ExporterConfig ec = TFO__V1__EXPORTER_CONFIG__INIT;
	Tfo__V1__AgentIdentity ai = TFO__V1__AGENT_IDENTITY__INIT;
	Tfo__V1__RetryConfig rc = TFO__V1__RETRY_CONFIG__INIT;
	char bin[1024];

	snprintf(bin, sizeof(bin), "%s/tfo-exporter", o->bin);
	tfo_wspawn_config(&wc, &lc, TFO__V1__ROLE__ROLE_EXPORTER, o->level);
	ai.id = a->id;
	wc.agent = &ai;
	wc.runtime_dir = a->buf.dir;
	wc.export_url = a->buf.export_url;
	ec.endpoints = (char **)o->endpoints;
	ec.n_endpoints = o->n_endpoints;
	ec.protocol = "http";
	ec.compression = "none";
	ec.flush_interval_ms = o->flush_ms;
	ec.batch_max_bytes = o->batch_max_bytes;
	ec.max_in_flight = o->max_in_flight;
	rc.initial_interval_ms = o->retry_initial_ms;
	rc.max_interval_ms = o->retry_max_ms;
	rc.multiplier = o->retry_multiplier;
	ec.retry = &rc;
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_EXPORTER;
	wc.exporter = &ec;
	if (tfo_wspawn_exec(&a->exp, bin, "tfo-exporter") != 0)
		return -1;
	return tfo_wspawn_send_config(&a->exp, &wc);
}

/* start - every buffer, one after the other; then every exporter at once */
static int
start(const struct opts *o, struct agent *ag)
{
	char bin[1024];
	double t0 = mono_s(), first;

	snprintf(bin, sizeof(bin), "%s/tfo-buffer", o->bin);
	for (unsigned i = 0; i < o->agents; i++) {
		struct agent *a = &ag[i];
		snprintf(a->id, sizeof(a->id), "fleet-%04u", i);
		a->exp = (struct tfo_wspawn)TFO_WSPAWN_INIT;
		if (tbuf_setup(&a->buf) != 0 || tbuf_start(&a->buf, bin, 1, o->sync, o->max_mb) != 0) {
			fprintf(stderr, "fleet_drive: agent %u: buffer did not start\n", i);
			return -1;
		}
		for (; a->in_open < 2; a->in_open++)
			if (tfo_bufclient_open_ingest(&a->in[a->in_open], a->buf.ingest, a->in_open ?
			    TFO__V1__ROLE__ROLE_LOGS : TFO__V1__ROLE__ROLE_SYSTEM, 1, PUT_TIMEOUT_MS,
			    (uint32_t)getuid()) != TFO_OK) {
				fprintf(stderr, "fleet_drive: agent %u: buffer did not start\n", i);
				return -1;
			}
	}
	printf("buffers %u %.2f\n", o->agents, mono_s() - t0);
	first = unix_s();
	for (unsigned i = 0; i < o->agents; i++)
		if (exporter_exec(o, &ag[i]) != 0) {
			fprintf(stderr, "fleet_drive: agent %u: exporter did not start\n", i);
			return -1;
		}
	for (unsigned i = 0; i < o->agents; i++) {
		Tfo__V1__Control *m = tfo_wspawn_wait(&ag[i].exp, TFO__V1__CONTROL__MSG_READY, READY_MS);
		if (m == NULL) {
			fprintf(stderr, "fleet_drive: agent %u: exporter not ready\n", i);
			return -1;
		}
		tfo__v1__control__free_unpacked(m, NULL);
	}
	printf("exporters %u %.3f %.3f\n", o->agents, first, unix_s());
	return 0;
}

/* feed_round - one put of f into every buffer; prints the feed line */
static void
feed_round(const struct opts *o, struct agent *ag, struct feed *f)
{
	unsigned failed = 0;

	int k = f->signal == TFO__V1__SIGNAL__SIGNAL_LOGS;

	for (unsigned i = 0; i < o->agents; i++)
		if (tfo_bufclient_put(&ag[i].in[k], f->signal, f->payload, f->len, f->items, NULL,
		    0, 0) != TFO_OK) {
			if (failed++ == 0)
				fprintf(stderr, "fleet_drive: %s put to agent %u failed: %s\n", f->name,
				    i, ag[i].in[k].error);
		}
	printf("feed %.3f %s %u %u\n", unix_s(), f->name, f->items, failed);
}

/* command - a line on stdin: 1 stop feeding, 2 quit, 0 nothing (yet) */
static int
command(void)
{
	static char line[64];
	static size_t have;
	ssize_t n = read(STDIN_FILENO, line + have, sizeof(line) - 1 - have);

	if (n <= 0)
		return 2;
	have += (size_t)n;
	line[have] = '\0';
	if (strchr(line, '\n') == NULL && have < sizeof(line) - 1)
		return 0;
	have = 0;
	if (strncmp(line, "stop", 4) == 0)
		return 1;
	if (strncmp(line, "quit", 4) == 0)
		return 2;
	fprintf(stderr, "fleet_drive: unknown command %s", line);
	return 0;
}

/* run - feed on schedule until told to stop, then wait for quit */
static void
run(const struct opts *o, struct agent *ag, struct feed *feeds, size_t nf)
{
	int feeding = 1;

	for (;;) {
		double now = mono_s(), next = now + 3600;
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int c;

		for (size_t k = 0; feeding && k < nf; k++) {
			if (feeds[k].items == 0)
				continue;
			if (feeds[k].next <= now) {
				feed_round(o, ag, &feeds[k]);
				/* the schedule, not the round's end, sets the next: rounds
				 * stay aligned as collectors' intervals are */
				while (feeds[k].next <= mono_s())
					feeds[k].next += feeds[k].every_ms / 1000.0;
			}
			if (feeds[k].next < next)
				next = feeds[k].next;
		}
		now = mono_s();
		if (poll(&p, 1, next > now ? (int)((next - now) * 1000) + 1 : 0) <= 0)
			continue;
		if ((c = command()) == 2)
			return;
		if (c == 1 && feeding) {
			feeding = 0;
			printf("stopped\n");
		}
	}
}

static void
stop_all(const struct opts *o, struct agent *ag)
{
	for (unsigned i = 0; i < o->agents; i++) {
		while (ag[i].in_open > 0)
			tfo_bufclient_close(&ag[i].in[--ag[i].in_open]);
		(void)tfo_wspawn_shutdown(&ag[i].exp, 1000);
	}
	for (unsigned i = 0; i < o->agents; i++)
		if (ag[i].exp.pid > 0 && tfo_wspawn_reap(&ag[i].exp) != 0)
			fprintf(stderr, "fleet_drive: agent %u: exporter exit status %d\n", i,
			    ag[i].exp.status);
	for (unsigned i = 0; i < o->agents; i++) {
		if (ag[i].buf.w.pid > 0)
			(void)tfo_wspawn_shutdown(&ag[i].buf.w, 2000);
	}
	for (unsigned i = 0; i < o->agents; i++) {
		if (ag[i].buf.w.pid > 0)
			(void)tfo_wspawn_reap(&ag[i].buf.w);
		tbuf_cleanup(&ag[i].buf);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct agent *ag;
	struct feed feeds[2];
	int rc = 1;

	parse(argc, argv, &o);
	tfo_log_init("fleet_drive", TFO_LOG_WARN, TFO_LOG_TEXT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((ag = calloc(o.agents, sizeof(*ag))) == NULL)
		return 1;
	feeds[0] = (struct feed){ .signal = TFO__V1__SIGNAL__SIGNAL_METRICS, .name = "metrics",
	    .every_ms = o.metrics_every_ms };
	feeds[1] = (struct feed){ .signal = TFO__V1__SIGNAL__SIGNAL_LOGS, .name = "logs",
	    .every_ms = o.logs_every_ms };
	/* the sample's sum has metrics_points points and its gauge one more */
	if (o.metrics_points > 0) {
		feeds[0].payload = tfo_exp_sample_metrics(0, o.metrics_points, &feeds[0].len);
		feeds[0].items = o.metrics_points + 1;
	}
	if (o.log_records > 0) {
		feeds[1].payload = tfo_exp_sample_logs(0, o.log_records, &feeds[1].len);
		feeds[1].items = o.log_records;
	}
	if ((o.metrics_points > 0 && feeds[0].payload == NULL) ||
	    (o.log_records > 0 && feeds[1].payload == NULL))
		goto out;
	printf("payloads metrics %zu bytes %u points, logs %zu bytes %u records\n", feeds[0].len,
	    feeds[0].items, feeds[1].len, feeds[1].items);
	if (start(&o, ag) == 0) {
		feeds[0].next = feeds[1].next = mono_s();
		run(&o, ag, feeds, 2);
		rc = 0;
	}
	stop_all(&o, ag);
	printf("bye\n");
out:
	free(feeds[0].payload);
	free(feeds[1].payload);
	free(ag);
	return rc;
}
