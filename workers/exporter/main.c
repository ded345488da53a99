/*
 * main.c - tfo-exporter: pulls batches from tfo-buffer's export channel and
 * delivers them as OTLP/gRPC or OTLP/HTTP, acking only what the endpoint
 * accepted (DESIGN §5, docs/exporter.md); relays tfo-heartbeat's beats
 * (hbworker.c). Runs as tfo-exporter, the one role with network egress.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/log.h"
#include "common/worker.h"
#include "workers/exporter/bufsource.h"
#include "workers/exporter/hbworker.h"
#include "workers/exporter/pipeline.h"
#include "workers/exporter/tlsinit.h"

/* Each buffer call blocks the loop the OTLP requests run on (a blocked loop
 * times out requests the endpoint answered, which are then sent again):
 * the buffer answers in milliseconds, or an fsync's time; one that does not
 * answer in 1 s is redialled (docs/exporter.md). */
#define BUF_TIMEOUT_MS 1000
#define PEM_MAX (1024 * 1024)

struct pem {
	char *data;
	size_t len;
};

struct exporter {
	struct tfo_worker *w;
	struct tfo_exp_pipeline_cfg pcfg;
	struct tfo_exp_bufsource bs;
	int bs_open;
	struct tfo_exp_pipeline *p;
	struct tfo_exp_curlloop *loop;  /* one libcurl multi: OTLP and heartbeat */
	int curl;                       /* curl_global_init done */
	struct pem ca, cert, key;
	struct event *deadline;
	struct tfo_exp_hb hb;           /* the heartbeat relay (hbworker.c) */
};

static const int exporter_caps[] = { -1 };

/* pem_read - read a PEM file while still root (the key may be root-only) */
static int
pem_read(struct pem *p, const char *path, const char *what)
{
	struct stat st;
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0')
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_error("exporter.tls.%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PEM_MAX) {
		log_error("exporter.tls.%s %s: not a regular file of 1..%d bytes", what, path, PEM_MAX);
		close(fd);
		return -1;
	}
	if ((p->data = malloc((size_t)st.st_size)) == NULL)
		fatal("malloc");
	n = read(fd, p->data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_error("exporter.tls.%s %s: short read", what, path);
		return -1;
	}
	p->len = (size_t)n;
	return 0;
}

static void
pem_free(struct pem *p)
{
	if (p->data) {
		explicit_bzero(p->data, p->len);
		free(p->data);
	}
	p->data = NULL;
	p->len = 0;
}

/* config_apply - the typed ExporterConfig into the pipeline's settings */
static int
config_apply(struct exporter *x, const Tfo__V1__WorkerConfig *cfg)
{
	const Tfo__V1__ExporterConfig *ec = cfg->exporter;
	struct tfo_exp_pipeline_cfg *pc = &x->pcfg;
	struct tfo_exp_transport_cfg *tc = &pc->transport;
	const Tfo__V1__TlsConfig *tls = ec->tls;

	if (ec->n_endpoints == 0 || ec->n_endpoints > TFO_EXP_MAX_ENDPOINTS) {
		log_error("exporter.endpoints: 1..%d endpoints needed, %zu given",
		    TFO_EXP_MAX_ENDPOINTS, ec->n_endpoints);
		return -1;
	}
	memset(pc, 0, sizeof(*pc));
	for (size_t i = 0; i < ec->n_endpoints; i++)
		tc->endpoints[i] = ec->endpoints[i];
	tc->n_endpoints = ec->n_endpoints;
	tc->grpc = ec->protocol == NULL || *ec->protocol == '\0' || strcmp(ec->protocol, "grpc") == 0;
	if (!tc->grpc && strcmp(ec->protocol, "http") != 0) {
		log_error("exporter.protocol: \"%s\" is neither grpc nor http", ec->protocol);
		return -1;
	}
	tc->gzip = ec->compression && strcmp(ec->compression, "gzip") == 0;
	tc->timeout_ms = ec->timeout_ms;
	tc->key_id = ec->api_key_id;
	tc->key_secret = ec->api_key_secret;
	tc->agent_id = cfg->agent ? cfg->agent->id : NULL;
	tc->version = cfg->agent && cfg->agent->version && *cfg->agent->version ?
	    cfg->agent->version : TFO_VERSION;
	if (tls) {
		tc->tls = tls->enabled;
		tc->insecure_skip_verify = tls->insecure_skip_verify;
		tc->tls13 = tls->min_version && strcmp(tls->min_version, "1.3") == 0;
	}
	if (ec->retry) {
		pc->retry_initial_ms = ec->retry->initial_interval_ms;
		pc->retry_max_ms = ec->retry->max_interval_ms;
		pc->retry_multiplier = ec->retry->multiplier;
	}
	pc->batch_max_bytes = ec->batch_max_bytes;
	pc->poll_ms = ec->flush_interval_ms;
	pc->max_in_flight = ec->max_in_flight;
	return 0;
}

/* sandbox_declare - what Landlock must leave open: the endpoints' TCP ports, name resolution, CA store */
static int
sandbox_declare(struct exporter *x, struct tfo_worker *w)
{
	static const char *const ro[] = {
		"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf",
		"/etc/ssl", "/usr/lib/ssl", "/etc/pki", "/usr/share/ca-certificates",
	};
	const struct tfo_exp_transport_cfg *tc = &x->pcfg.transport;
	char url[1024];
	uint16_t port;

	for (size_t i = 0; i < tc->n_endpoints; i++) {
		if (tfo_exp_endpoint_parse(tc->endpoints[i], tc->grpc, tc->tls, url, sizeof(url),
		    &port) != TFO_OK) {
			log_error("exporter.endpoints[%zu]: \"%s\" is not host[:port] or an http(s) URL",
			    i, tc->endpoints[i]);
			return -1;
		}
		tfo_worker_landlock_connect_tcp(w, port);
	}
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (access(ro[i], F_OK) == 0)
			tfo_worker_landlock_ro(w, ro[i]);
	return 0;
}

static int
exporter_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct exporter *x = arg;
	const Tfo__V1__TlsConfig *tls;

	x->w = w;
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_EXPORTER || cfg->exporter == NULL) {
		log_error("config has no exporter section");
		return -1;
	}
	if (config_apply(x, cfg) != 0 || sandbox_declare(x, w) != 0)
		return -1;
	tfo_exp_hb_declare(&x->hb, w, cfg);
	tls = cfg->exporter->tls;
	if (tls && (pem_read(&x->ca, tls->ca_file, "ca_file") != 0 ||
	    pem_read(&x->cert, tls->cert_file, "cert_file") != 0 ||
	    pem_read(&x->key, tls->key_file, "key_file") != 0))
		return -1;
	if ((x->cert.data == NULL) != (x->key.data == NULL)) {
		log_error("exporter.tls: cert_file and key_file go together");
		return -1;
	}
	return 0;
}

static int
exporter_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct exporter *x = arg;
	struct tfo_exp_transport_cfg *tc = &x->pcfg.transport;
	struct tfo_exp_source src;
	struct tfo_exp_stats st;
	enum tfo_err e;

	tc->ca_pem = x->ca.data;
	tc->ca_pem_len = x->ca.len;
	tc->cert_pem = x->cert.data;
	tc->cert_pem_len = x->cert.len;
	tc->key_pem = x->key.data;
	tc->key_pem_len = x->key.len;
	if (tc->insecure_skip_verify)
		log_warn("exporter.tls.insecure_skip_verify is set: the endpoint's certificate "
		    "and host name are NOT verified");
	(void)tfo_exp_tls_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("exporter setup: curl_global_init failed");
		return -1;
	}
	x->curl = 1;
	if ((x->loop = tfo_exp_curlloop_new(tfo_worker_base(w))) == NULL) {
		log_error("exporter setup: %s", tfo_strerror(TFO_ENOMEM));
		return -1;
	}
	tc->loop = x->loop;
	tfo_exp_hb_start(&x->hb, tc);
	if ((e = tfo_exp_bufsource_open(&x->bs, cfg->export_url, BUF_TIMEOUT_MS,
	    cfg->buffer_uid)) != TFO_OK) {
		log_error("export channel %s: %s", cfg->export_url, tfo_strerror(e));
		return -1;
	}
	x->bs_open = 1;
	src = tfo_exp_bufsource_source(&x->bs);
	if ((e = tfo_exp_pipeline_new(&x->p, tfo_worker_base(w), &x->pcfg, &src)) != TFO_OK) {
		log_error("exporter setup: %s", tfo_strerror(e));
		return -1;
	}
	tfo_exp_pipeline_stats(x->p, &st);
	log_info("exporting OTLP/%s to %s%s (%zu endpoint%s), %s, up to %u in flight",
	    tc->grpc ? "gRPC" : "HTTP", st.endpoint,
	    tc->n_endpoints > 1 ? " first" : "", tc->n_endpoints, tc->n_endpoints > 1 ? "s" : "",
	    tc->gzip ? "gzip" : "uncompressed", x->pcfg.max_in_flight ? x->pcfg.max_in_flight : 2);
	tfo_exp_pipeline_start(x->p);
	return 0;
}

/* on_drained - the stop's drain is over: say why, then leave */
static void
on_drained(void *arg, enum tfo_exp_drain_end why)
{
	struct exporter *x = arg;
	struct tfo_exp_stats st;

	tfo_exp_pipeline_stats(x->p, &st);
	switch (why) {
	case TFO_EXP_DRAIN_EMPTY:
		log_info("drained: the buffer is empty (%llu batches delivered since the stop)",
		    (unsigned long long)st.drained_batches);
		break;
	case TFO_EXP_DRAIN_REFUSED:
		log_warn("drain ended: %s asks for a retry (%s); what is queued stays in the "
		    "buffer (%llu batches delivered since the stop)", st.endpoint, st.last_error,
		    (unsigned long long)st.drained_batches);
		break;
	case TFO_EXP_DRAIN_SOURCE:
		log_warn("drain ended: the buffer did not answer; what is queued stays there "
		    "(%llu batches delivered since the stop)", (unsigned long long)st.drained_batches);
		break;
	}
	tfo_worker_exit(x->w, 0);
}

static void
on_settled(void *arg)
{
	struct exporter *x = arg;

	tfo_worker_exit(x->w, 0);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct exporter *x = arg;
	struct tfo_exp_stats st;

	(void)fd;
	(void)what;
	tfo_exp_pipeline_stats(x->p, &st);
	/* what is still in flight stays unacked: the buffer offers it again */
	log_warn("drain deadline reached with %zu requests in flight (%llu batches delivered "
	    "since the stop); the rest stays queued", st.in_flight,
	    (unsigned long long)st.drained_batches);
	tfo_worker_exit(x->w, 0);
}

/*
 * exporter_shutdown - the collectors have stopped (DESIGN §2): send what the
 * buffer holds until it is empty, the endpoint refuses or the deadline
 * (exporter.shutdown_drain at an agent stop) passes. Orphaned (the
 * supervisor killed), only settle what is in flight.
 */
static void
exporter_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct exporter *x = arg;
	struct timeval tv = { .tv_sec = deadline_ms / 1000, .tv_usec = (deadline_ms % 1000) * 1000 };

	if (x->p == NULL) {
		tfo_worker_exit(w, 0);
		return;
	}
	if ((x->deadline = evtimer_new(tfo_worker_base(w), on_deadline, x)) != NULL)
		evtimer_add(x->deadline, &tv);
	if (tfo_worker_orphaned(w)) {
		/* no supervisor, a buffer about to go: fetch nothing more, but
		 * ack what the endpoint takes of what is on the wire */
		log_info("supervisor gone: settling the requests in flight");
		tfo_exp_pipeline_stop(x->p, on_settled, x);
		return;
	}
	log_info("draining the buffer to the endpoint for up to %u ms", deadline_ms);
	tfo_exp_pipeline_drain(x->p, deadline_ms, on_drained, x);
}

static void
exporter_fini(struct tfo_worker *w, void *arg)
{
	struct exporter *x = arg;

	(void)w;
	tfo_exp_hb_stop(&x->hb);
	tfo_exp_pipeline_free(x->p);
	x->p = NULL;
	tfo_exp_curlloop_free(x->loop);    /* after both: their transfers are gone */
	x->loop = NULL;
	if (x->curl)
		curl_global_cleanup();
	x->curl = 0;
	if (x->deadline)
		event_free(x->deadline);
	x->deadline = NULL;
	if (x->bs_open)
		tfo_exp_bufsource_close(&x->bs);
	x->bs_open = 0;
	pem_free(&x->ca);
	pem_free(&x->cert);
	pem_free(&x->key);
}

/* exporter_sig_stats - per signal what the endpoint took and refused, and
 * the request durations (the self metrics of docs/metrics.md) */
static void
exporter_sig_stats(struct tfo_stats *ts, const struct tfo_exp_stats *st)
{
	static const char *const sig[2] = { "metrics", "logs" };
	static const char *const item[2] = { "points", "records" };
	char name[64];

	for (int i = 0; i < 2; i++) {
		const struct tfo_exp_sigstats *g = &st->sig[i];
		snprintf(name, sizeof(name), "%s.sent_%s", sig[i], item[i]);
		tfo_stats_num(ts, name, (double)g->sent_items);
		snprintf(name, sizeof(name), "%s.wire_bytes", sig[i]);
		tfo_stats_num(ts, name, (double)g->wire_bytes);
		snprintf(name, sizeof(name), "%s.failed_%s.retryable", sig[i], item[i]);
		tfo_stats_num(ts, name, (double)g->failed_retryable);
		snprintf(name, sizeof(name), "%s.failed_%s.permanent", sig[i], item[i]);
		tfo_stats_num(ts, name, (double)g->failed_permanent);
		snprintf(name, sizeof(name), "%s.retries", sig[i]);
		tfo_stats_num(ts, name, (double)g->retries);
	}
	tfo_stats_hist(ts, "request_duration", &st->request_s);
}

static void
exporter_stats(struct tfo_worker *w, struct tfo_stats *ts, void *arg)
{
	struct exporter *x = arg;
	struct tfo_exp_stats st;
	char name[64];

	(void)w;
	tfo_exp_hb_stats(&x->hb, ts);
	if (x->p == NULL)
		return;
	tfo_exp_pipeline_stats(x->p, &st);
	tfo_stats_num(ts, "sent_batches", (double)st.sent_batches);
	tfo_stats_num(ts, "sent_points", (double)st.sent_points);
	tfo_stats_num(ts, "sent_bytes", (double)st.sent_bytes);
	tfo_stats_num(ts, "wire_bytes", (double)st.wire_bytes);
	tfo_stats_num(ts, "retries", (double)st.retries);
	for (int r = 0; r < TFO_EXP_R_COUNT; r++) {
		snprintf(name, sizeof(name), "dropped_batches.%s", tfo_exp_reason_name(r));
		tfo_stats_num(ts, name, (double)st.dropped_batches[r]);
		snprintf(name, sizeof(name), "dropped_points.%s", tfo_exp_reason_name(r));
		tfo_stats_num(ts, name, (double)st.dropped_points[r]);
	}
	tfo_stats_num(ts, "rejected_points", (double)st.rejected_points);
	tfo_stats_num(ts, "malformed_replies", (double)st.malformed_replies);
	tfo_stats_num(ts, "buffer_errors", (double)st.source_errors);
	tfo_stats_num(ts, "skipped_entries", (double)st.skipped_entries);
	tfo_stats_num(ts, "requeued_batches", (double)st.requeued_batches);
	tfo_stats_num(ts, "acks_later", (double)st.acks_later);
	tfo_stats_num(ts, "ledger_entries", (double)st.ledger_entries);
	tfo_stats_num(ts, "backoff_ms", st.backoff_ms);
	tfo_stats_num(ts, "last_latency_ms", st.last_latency_ms);
	tfo_stats_num(ts, "timeout_ms", st.timeout_ms);
	tfo_stats_num(ts, "in_flight", (double)st.in_flight);
	tfo_stats_num(ts, "drain_cap", st.drain_cap);
	exporter_sig_stats(ts, &st);
	tfo_stats_num(ts, "bad_entries", (double)st.bad_entries);
	tfo_stats_num(ts, "connections", (double)st.connects);
	tfo_stats_text(ts, "endpoint", st.endpoint ? st.endpoint : "");
	tfo_stats_text(ts, "last_error", st.last_error);
	tfo_stats_num(ts, "last_error_at", (double)st.last_error_at);
}

int
main(int argc, char **argv)
{
	static struct exporter x;
	static const struct tfo_worker_ops ops = {
		.role = "exporter",
		.role_id = TFO__V1__ROLE__ROLE_EXPORTER,
		.caps = exporter_caps,
		.pre_init = exporter_pre_init,
		.post_init = exporter_post_init,
		.shutdown = exporter_shutdown,
		.fini = exporter_fini,
		.stats = exporter_stats,
	};

	return tfo_worker_main(argc, argv, &ops, &x);
}
