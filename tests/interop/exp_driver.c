/*
 * exp_driver.c - interop test driver: feeds prepared ResourceMetrics /
 * ResourceLogs entries through tfo-exporter's pipeline (memsource -> transport)
 * to a receiver, until every entry is settled or the deadline passes, then
 * prints the exporter's stats as one JSON line. Run by exporter.test.js.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "tests/lib/until_settled.h"
#include "workers/exporter/memsource.h"
#include "workers/exporter/pipeline.h"
#include "workers/exporter/sample.h"

struct drv {
	struct event_base *base;
	struct tfo_exp_memsource *ms;
	struct tfo_exp_pipeline *p;
	struct tfo_test_until_settled drain;
	struct event *deadline;
	int timed_out;
};

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct drv *d = arg;

	(void)fd;
	(void)what;
	d->timed_out = 1;
	event_base_loopbreak(d->base);
}

/* json_str - print s as a JSON string (the stats text is already cleaned) */
static void
json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
print_stats(struct drv *d)
{
	struct tfo_exp_stats st;
	struct tfo_exp_memsource_counts c;

	tfo_exp_pipeline_stats(d->p, &st);
	tfo_exp_memsource_counts(d->ms, &c);
	printf("{\"timed_out\":%d,\"queued\":%zu,\"acked_entries\":%zu,\"acks\":%llu,"
	    "\"nacks\":%llu,\"last_nack_ms\":%llu,\"order_violations\":%d,",
	    d->timed_out, c.queued, c.acked_entries, (unsigned long long)c.acks,
	    (unsigned long long)c.nacks, (unsigned long long)c.last_nack_ms, c.order_violations);
	printf("\"sent_batches\":%llu,\"sent_points\":%llu,\"sent_bytes\":%llu,\"retries\":%llu,"
	    "\"rejected_points\":%llu,\"malformed\":%llu,\"connects\":%llu,\"dropped\":{",
	    (unsigned long long)st.sent_batches, (unsigned long long)st.sent_points,
	    (unsigned long long)st.sent_bytes, (unsigned long long)st.retries,
	    (unsigned long long)st.rejected_points, (unsigned long long)st.malformed_replies,
	    (unsigned long long)st.connects);
	for (int r = 0; r < TFO_EXP_R_COUNT; r++)
		printf("%s\"%s\":%llu", r ? "," : "", tfo_exp_reason_name(r),
		    (unsigned long long)st.dropped_batches[r]);
	printf("},\"last_error\":");
	json_str(st.last_error);
	printf(",\"endpoint\":");
	json_str(st.endpoint);
	printf("}\n");
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: exp_driver --endpoint URL [--endpoint URL2] [--protocol grpc|http]\n"
	    "  [--gzip] [--tls] [--ca F] [--cert F] [--key F] [--insecure] [--tls13]\n"
	    "  [--metrics N] [--logs N] [--points N] [--in-flight N] [--batch-bytes N]\n"
	    "  [--timeout-ms N] [--retry-ms N] [--retry-max-ms N] [--deadline-ms N]\n"
	    "  [--failback-ms N] [--key-id S] [--key-secret S] [--agent-id S]\n");
	exit(64);
}

static unsigned long
num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		usage();
	return v;
}

static void
fill(struct drv *d, uint32_t metrics, uint32_t logs, uint32_t points)
{
	size_t len;
	uint8_t *e;

	for (uint32_t i = 0; i < metrics + logs; i++) {
		int is_logs = i >= metrics;
		e = is_logs ? tfo_exp_sample_logs(i, points, &len) : tfo_exp_sample_metrics(i, points, &len);
		if (e == NULL || tfo_exp_memsource_add(d->ms, is_logs, e, len, points + !is_logs) != 0)
			fatalx("out of memory");
		free(e);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", 1, 0, 'e' }, { "protocol", 1, 0, 'p' }, { "gzip", 0, 0, 'z' },
		{ "tls", 0, 0, 't' }, { "ca", 1, 0, 'C' }, { "cert", 1, 0, 'c' }, { "key", 1, 0, 'k' },
		{ "insecure", 0, 0, 'I' }, { "tls13", 0, 0, '3' }, { "metrics", 1, 0, 'm' },
		{ "logs", 1, 0, 'l' }, { "points", 1, 0, 'n' }, { "in-flight", 1, 0, 'f' },
		{ "batch-bytes", 1, 0, 'b' }, { "timeout-ms", 1, 0, 'T' }, { "retry-ms", 1, 0, 'r' },
		{ "retry-max-ms", 1, 0, 'R' }, { "deadline-ms", 1, 0, 'D' }, { "failback-ms", 1, 0, 'F' },
		{ "key-id", 1, 0, 'i' }, { "key-secret", 1, 0, 's' }, { "agent-id", 1, 0, 'a' },
		{ 0, 0, 0, 0 },
	};
	struct tfo_exp_pipeline_cfg cfg;
	struct tfo_exp_source src;
	struct drv d;
	uint32_t metrics = 10, logs = 0, points = 3, deadline_ms = 30000;
	struct timeval dl;
	int ch;

	memset(&cfg, 0, sizeof(cfg));
	memset(&d, 0, sizeof(d));
	cfg.transport.grpc = 1;
	cfg.retry_initial_ms = 100;
	cfg.retry_max_ms = 1000;
	cfg.poll_ms = 50;
	cfg.transport.version = TFO_VERSION;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			if (cfg.transport.n_endpoints == TFO_EXP_MAX_ENDPOINTS)
				usage();
			cfg.transport.endpoints[cfg.transport.n_endpoints++] = optarg;
			break;
		case 'p': cfg.transport.grpc = strcmp(optarg, "grpc") == 0; break;
		case 'z': cfg.transport.gzip = 1; break;
		case 't': cfg.transport.tls = 1; break;
		case 'C': cfg.transport.ca_file = optarg; break;
		case 'c': cfg.transport.cert_file = optarg; break;
		case 'k': cfg.transport.key_file = optarg; break;
		case 'I': cfg.transport.insecure_skip_verify = 1; break;
		case '3': cfg.transport.tls13 = 1; break;
		case 'm': metrics = (uint32_t)num(optarg); break;
		case 'l': logs = (uint32_t)num(optarg); break;
		case 'n': points = (uint32_t)num(optarg); break;
		case 'f': cfg.max_in_flight = (uint32_t)num(optarg); break;
		case 'b': cfg.batch_max_bytes = (uint32_t)num(optarg); break;
		case 'T': cfg.transport.timeout_ms = (uint32_t)num(optarg); break;
		case 'r': cfg.retry_initial_ms = (uint32_t)num(optarg); break;
		case 'R': cfg.retry_max_ms = (uint32_t)num(optarg); break;
		case 'D': deadline_ms = (uint32_t)num(optarg); break;
		case 'F': cfg.transport.failback_ms = (uint32_t)num(optarg); break;
		case 'i': cfg.transport.key_id = optarg; break;
		case 's': cfg.transport.key_secret = optarg; break;
		case 'a': cfg.transport.agent_id = optarg; break;
		default: usage();
		}
	}
	if (cfg.transport.n_endpoints == 0)
		usage();
	tfo_log_init("exp-driver", TFO_LOG_INFO, TFO_LOG_TEXT);
	if ((d.base = event_base_new()) == NULL || (d.ms = tfo_exp_memsource_new()) == NULL)
		fatalx("init failed");
	fill(&d, metrics, logs, points);
	src = tfo_exp_memsource_source(d.ms);
	if (tfo_exp_pipeline_new(&d.p, d.base, &cfg, &src) != TFO_OK)
		fatalx("pipeline init failed");
	d.deadline = evtimer_new(d.base, on_deadline, &d);
	dl.tv_sec = deadline_ms / 1000;
	dl.tv_usec = (deadline_ms % 1000) * 1000;
	if (tfo_test_until_settled_start(&d.drain, d.base, d.ms, 20000) != 0)
		fatalx("timer");
	evtimer_add(d.deadline, &dl);
	tfo_exp_pipeline_start(d.p);
	event_base_dispatch(d.base);
	print_stats(&d);
	tfo_exp_pipeline_free(d.p);
	tfo_test_until_settled_stop(&d.drain);
	event_free(d.deadline);
	tfo_exp_memsource_free(d.ms);
	event_base_free(d.base);
	return d.timed_out ? 2 : 0;
}
