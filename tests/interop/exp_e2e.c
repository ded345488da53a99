/*
 * exp_e2e.c - end-to-end interop driver: the real tfo-buffer and tfo-exporter
 * started as the supervisor would (fd 3 config, Ready), entries put through
 * the buffer's ingest channel, delivered by the exporter to the receiver given
 * on the command line. Polls the exporter's stats (Ping/Pong) until every
 * point was sent, prints them as JSON, and stops both workers.
 *
 * usage: exp_e2e <tfo-buffer> <tfo-exporter> <endpoint> <grpc|http> <metrics> <logs>
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "common/worker.h"
#include "tests/integration/buffer/spawn.h"
#include "workers/exporter/sample.h"

#define POINTS 3

struct wexp {
	pid_t pid;
	int ctl;
};

static int
exp_config(struct wexp *x, const struct tbuf *t, const char *endpoint, const char *proto)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__WorkerConfig wc = TFO__V1__WORKER_CONFIG__INIT;
	Tfo__V1__ExporterConfig ec = TFO__V1__EXPORTER_CONFIG__INIT;
	Tfo__V1__RetryConfig rc = TFO__V1__RETRY_CONFIG__INIT;
	Tfo__V1__LoggingConfig lc = TFO__V1__LOGGING_CONFIG__INIT;
	Tfo__V1__AgentIdentity ai = TFO__V1__AGENT_IDENTITY__INIT;
	char *eps[1] = { (char *)endpoint };

	lc.level = "info";
	lc.format = "text";
	ai.id = "agent-e2e";
	ai.version = "9.8.7";
	rc.initial_interval_ms = 100;
	rc.max_interval_ms = 400;
	rc.multiplier = 2.0;
	ec.endpoints = eps;
	ec.n_endpoints = 1;
	ec.protocol = (char *)proto;
	ec.timeout_ms = 5000;
	ec.compression = "gzip";
	ec.api_key_id = "kid-e2e";
	ec.api_key_secret = "secret-e2e";
	ec.retry = &rc;
	ec.batch_max_bytes = 2048;
	ec.flush_interval_ms = 50;
	ec.max_in_flight = 2;
	wc.role = TFO__V1__ROLE__ROLE_EXPORTER;
	wc.incarnation = 1;
	wc.agent = &ai;
	wc.logging = &lc;
	wc.runtime_dir = (char *)t->dir;
	wc.export_url = (char *)t->export_url;
	wc.uid = (uint32_t)getuid();
	wc.gid = (uint32_t)getgid();
	wc.drop_privileges = 0;
	wc.seccomp_mode = "off";
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_EXPORTER;
	wc.exporter = &ec;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_CONFIG;
	m.config = &wc;
	return tfo_control_send(x->ctl, &m) == TFO_OK ? 0 : -1;
}

/* ctl_wait - the next control message of `kind` within ms, or NULL */
static Tfo__V1__Control *
ctl_wait(int fd, Tfo__V1__Control__MsgCase kind, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, ms) == 1) {
		enum tfo_err e;
		Tfo__V1__Control *m = tfo_control_recv(fd, &e);
		if (m == NULL) {
			if (e == TFO_EAGAIN)
				continue;
			return NULL;
		}
		if (m->msg_case == kind)
			return m;
		tfo__v1__control__free_unpacked(m, NULL);
	}
	return NULL;
}

static int
exp_start(struct wexp *x, const char *bin, const struct tbuf *t, const char *ep, const char *proto)
{
	int sv[2];
	Tfo__V1__Control *m;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((x->pid = fork()) == 0) {
		if (dup2(sv[1], 3) == -1)
			_exit(127);
		execl(bin, "tfo-exporter", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	x->ctl = sv[0];
	if (x->pid < 0 || exp_config(x, t, ep, proto) != 0 ||
	    (m = ctl_wait(x->ctl, TFO__V1__CONTROL__MSG_READY, 20000)) == NULL)
		return -1;
	tfo__v1__control__free_unpacked(m, NULL);
	return 0;
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
exp_ping(struct wexp *x, uint64_t nonce)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Ping ping = TFO__V1__PING__INIT;

	ping.nonce = nonce;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &ping;
	if (tfo_control_send(x->ctl, &m) != TFO_OK)
		return NULL;
	return ctl_wait(x->ctl, TFO__V1__CONTROL__MSG_PONG, 5000);
}

static int
exp_stop(struct wexp *x)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Shutdown sd = TFO__V1__SHUTDOWN__INIT;
	int st = 0;

	sd.deadline_ms = 3000;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_SHUTDOWN;
	m.shutdown = &sd;
	if (tfo_control_send(x->ctl, &m) != TFO_OK)
		kill(x->pid, SIGTERM);
	waitpid(x->pid, &st, 0);
	close(x->ctl);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
put_all(const struct tbuf *t, uint32_t metrics, uint32_t logs)
{
	struct tfo_bufclient c;
	int rc = 0;

	if (tfo_bufclient_open_ingest(&c, t->ingest, TFO__V1__ROLE__ROLE_SYSTEM, 1, 2000) != TFO_OK)
		return -1;
	for (uint32_t i = 0; i < metrics + logs && rc == 0; i++) {
		int is_logs = i >= metrics;
		size_t len;
		uint8_t *e = is_logs ? tfo_exp_sample_logs(i, POINTS, &len) :
		    tfo_exp_sample_metrics(i, POINTS, &len);
		if (e == NULL || tfo_bufclient_put(&c, is_logs ? TFO__V1__SIGNAL__SIGNAL_LOGS :
		    TFO__V1__SIGNAL__SIGNAL_METRICS, e, len, POINTS + !is_logs, NULL, 0, 0) != TFO_OK)
			rc = -1;
		free(e);
	}
	tfo_bufclient_close(&c);
	return rc;
}

int
main(int argc, char **argv)
{
	struct tbuf t;
	struct wexp x = { -1, -1 };
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
	    "\"exporter_exit\":%d}\n", want, sent, retries, dropped, exp_stop(&x));
	x.pid = -1;
	rc = sent == want ? 0 : 2;
out:
	if (pong)
		tfo__v1__control__free_unpacked(pong, NULL);
	if (x.pid > 0) {
		kill(x.pid, SIGKILL);
		waitpid(x.pid, NULL, 0);
	}
	if (t.pid > 0 && tbuf_stop(&t) != 0)
		fprintf(stderr, "tfo-buffer did not stop cleanly\n");
	tbuf_cleanup(&t);
	return rc;
}
