/*
 * exp_e2e.c - end-to-end interop driver: the real tfo-buffer and tfo-exporter
 * started as the supervisor would (fd 3 config, Ready), entries put through
 * the buffer's ingest channel, delivered by the exporter to the receiver given
 * on the command line. Polls the exporter's stats (Ping/Pong) until every
 * point was sent, prints them as JSON, and stops both workers.
 *
 * usage: exp_e2e <tfo-buffer> <tfo-exporter> <endpoint> <grpc|http> <metrics> <logs>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/lib/exp_config.h"
#include "workers/exporter/sample.h"

#define POINTS 3

/* exp_start - tfo-exporter draining t's export channel to endpoint over proto */
static int
exp_start(struct tfo_wspawn *x, const char *bin, const struct tbuf *t, const char *endpoint,
    const char *proto)
{
	struct tfo_exp_testcfg c;

	tfo_exp_testcfg(&c, endpoint, t->dir, t->export_url, "info");
	c.ai.id = "agent-e2e";
	c.ai.version = "9.8.7";
	c.ec.protocol = (char *)proto;
	c.ec.compression = "gzip";
	c.ec.api_key_id = "kid-e2e";
	c.ec.api_key_secret = "secret-e2e";
	c.ec.batch_max_bytes = 2048;
	return tfo_wspawn_start(x, bin, "tfo-exporter", &c.wc, 20000);
}

/* exp_stat - one numeric stat from a Pong, -1 when absent */
static double
exp_stat(const Tfo__V1__Pong *p, const char *name)
{
	for (size_t i = 0; i < p->n_stats; i++)
		if (strcmp(p->stats[i]->name, name) == 0)
			return p->stats[i]->value;
	return -1;
}

static Tfo__V1__Control *
exp_ping(struct tfo_wspawn *x, uint64_t nonce)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Ping ping = TFO__V1__PING__INIT;

	ping.nonce = nonce;
	ping.stats = 1;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &ping;
	if (tfo_control_send(x->ctl, &m) != TFO_OK)
		return NULL;
	return tfo_wspawn_wait(x, TFO__V1__CONTROL__MSG_PONG, 5000);
}

/* put_all - metrics as tfo-system, then logs as tfo-logs (a role puts its own signal) */
static int
put_all(const struct tbuf *t, uint32_t metrics, uint32_t logs)
{
	int rc = 0;

	for (int is_logs = 0; is_logs < 2 && rc == 0; is_logs++) {
		struct tfo_bufclient c;

		if (tfo_bufclient_open_ingest(&c, t->ingest, is_logs ? TFO__V1__ROLE__ROLE_LOGS :
		    TFO__V1__ROLE__ROLE_SYSTEM, 1, 2000, (uint32_t)getuid()) != TFO_OK)
			return -1;
		for (uint32_t i = is_logs ? metrics : 0; i < (is_logs ? metrics + logs : metrics) &&
		    rc == 0; i++) {
			size_t len;
			uint8_t *e = is_logs ? tfo_exp_sample_logs(i, POINTS, &len) :
			    tfo_exp_sample_metrics(i, POINTS, &len);
			if (e == NULL || tfo_bufclient_put(&c, is_logs ? TFO__V1__SIGNAL__SIGNAL_LOGS :
			    TFO__V1__SIGNAL__SIGNAL_METRICS, e, len, POINTS + !is_logs, NULL, 0, 0) !=
			    TFO_OK)
				rc = -1;
			free(e);
		}
		tfo_bufclient_close(&c);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct tbuf t;
	struct tfo_wspawn x = TFO_WSPAWN_INIT;
	uint32_t metrics, logs;
	double want, sent = 0, retries = 0, dropped = 0;
	Tfo__V1__Control *pong = NULL;
	int rc = 1;

	if (argc != 7) {
		fprintf(stderr, "usage: exp_e2e <tfo-buffer> <tfo-exporter> <endpoint> <grpc|http> <metrics> <logs>\n");
		return 64;
	}
	metrics = (uint32_t)strtoul(argv[5], NULL, 10);
	logs = (uint32_t)strtoul(argv[6], NULL, 10);
	want = metrics * (POINTS + 1.0) + logs * (double)POINTS;
	if (tbuf_setup(&t) != 0 || tbuf_start(&t, argv[1], 1, 0, 0) != 0)
		goto out;
	if (exp_start(&x, argv[2], &t, argv[3], argv[4]) != 0) {
		fprintf(stderr, "tfo-exporter did not start\n");
		goto out;
	}
	if (put_all(&t, metrics, logs) != 0) {
		fprintf(stderr, "put into tfo-buffer failed\n");
		goto out;
	}
	for (int i = 0; i < 300 && sent < want; i++) {
		struct timespec ts = { 0, 100 * 1000000 };
		if (pong)
			tfo__v1__control__free_unpacked(pong, NULL);
		if ((pong = exp_ping(&x, (uint64_t)i + 1)) == NULL)
			break;
		sent = exp_stat(pong->pong, "sent_points");
		retries = exp_stat(pong->pong, "retries");
		dropped = 0;
		for (size_t k = 0; k < pong->pong->n_stats; k++)
			if (strncmp(pong->pong->stats[k]->name, "dropped_batches.", 16) == 0)
				dropped += pong->pong->stats[k]->value;
		if (sent < want)
			nanosleep(&ts, NULL);
	}
	printf("{\"want_points\":%.0f,\"sent_points\":%.0f,\"retries\":%.0f,\"dropped\":%.0f,"
	    "\"exporter_exit\":%d}\n", want, sent, retries, dropped, tfo_wspawn_stop(&x, 3000));
	rc = sent == want ? 0 : 2;
out:
	if (pong)
		tfo__v1__control__free_unpacked(pong, NULL);
	(void)tfo_wspawn_kill(&x);
	if (t.w.pid > 0 && tbuf_stop(&t) != 0)
		fprintf(stderr, "tfo-buffer did not stop cleanly\n");
	tbuf_cleanup(&t);
	return rc;
}
