/*
 * spawn.c - start/kill/stop the real tfo-buffer for tests and bench (see spawn.h).
 */
#include "tests/integration/buffer/spawn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
tbuf_setup(struct tbuf *t)
{
	const char *tmp = getenv("TMPDIR");

	memset(t, 0, sizeof(*t));
	t->w = (struct tfo_wspawn)TFO_WSPAWN_INIT;
	pthread_mutex_init(&t->mu, NULL);
	/* TMPDIR: tests/stress/buffer_hang.sh gives each run its own, to clean
	 * up after a run it had to kill */
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/tfo-buffer-it.XXXXXX",
	    tmp && tmp[0] == '/' ? tmp : "/tmp") >= sizeof(t->dir))
		return -1;
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	snprintf(t->ingest, sizeof(t->ingest), "ipc://%s/ingest.ipc", t->dir);
	snprintf(t->export_url, sizeof(t->export_url), "ipc://%s/export.ipc", t->dir);
	return 0;
}

int
tbuf_start(struct tbuf *t, const char *bin, uint64_t incarnation, int sync, uint64_t max_mb)
{
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lc;
	Tfo__V1__BufferConfig bc = TFO__V1__BUFFER_CONFIG__INIT;
	int rv;

	tfo_wspawn_config(&wc, &lc, TFO__V1__ROLE__ROLE_BUFFER, "warn");
	bc.path = t->state;
	bc.max_size_mb = max_mb;
	bc.sync = sync != 0;
	wc.incarnation = incarnation;
	if (t->drop) {
		wc.drop_privileges = 1;
		wc.uid = (uint32_t)t->drop_uid;
		wc.gid = (uint32_t)t->drop_gid;
	}
	wc.runtime_dir = t->dir;
	wc.ingest_url = t->ingest;
	wc.export_url = t->export_url;
	tfo_wspawn_ingest_peers(&wc);
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_BUFFER;
	wc.buffer = &bc;
	pthread_mutex_lock(&t->mu);
	rv = tfo_wspawn_start(&t->w, bin, "tfo-buffer", &wc, 20000);
	pthread_mutex_unlock(&t->mu);
	if (rv != 0) {
		fprintf(stderr, "tfo-buffer did not start\n");
		return -1;
	}
	return 0;
}

int
tbuf_start_logged(struct tbuf *t, const char *bin, uint64_t incarnation, const char *log)
{
	int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	if (saved < 0 || fd < 0 || dup2(fd, 2) < 0) {
		if (saved >= 0)
			close(saved);
		if (fd >= 0)
			close(fd);
		return -2;
	}
	close(fd);
	rc = tbuf_start(t, bin, incarnation, 1, 64);
	dup2(saved, 2);
	close(saved);
	return rc;
}

int
tbuf_log_lines(const char *path, const char *what, int *errors)
{
	char line[2048];
	FILE *fp = fopen(path, "r");
	int n = 0;

	if (errors != NULL)
		*errors = 0;
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		fputs(line, stdout);
		n += strstr(line, what) != NULL;
		if (errors != NULL)
			*errors += strstr(line, " error: ") != NULL;
	}
	fclose(fp);
	return n;
}

int
tbuf_kill(struct tbuf *t)
{
	int rv;

	pthread_mutex_lock(&t->mu);
	rv = tfo_wspawn_kill(&t->w);
	pthread_mutex_unlock(&t->mu);
	return rv;
}

int
tbuf_stop(struct tbuf *t)
{
	int rv;

	pthread_mutex_lock(&t->mu);
	rv = tfo_wspawn_stop(&t->w, 5000);
	pthread_mutex_unlock(&t->mu);
	return rv;
}

/* ping_once - one Ping and its Pong (kept), under mu */
static void
ping_once(struct tbuf *t, uint64_t nonce)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT, *r;
	Tfo__V1__Ping p = TFO__V1__PING__INIT;

	if (t->w.pid <= 0 || t->w.ctl < 0)
		return;
	p.nonce = nonce;
	p.stats = 1;                    /* as the supervisor's gathers: tbuf_stat reads them */
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &p;
	if (tfo_control_send(t->w.ctl, &m) != TFO_OK)
		return;
	while ((r = tfo_wspawn_wait(&t->w, TFO__V1__CONTROL__MSG_PONG, 2000)) != NULL) {
		if (r->pong->nonce == nonce) {
			if (t->pong != NULL)
				tfo__v1__pong__free_unpacked(t->pong, NULL);
			t->pong = r->pong;      /* kept, detached from its envelope */
			r->pong = NULL;
			r->msg_case = TFO__V1__CONTROL__MSG__NOT_SET;
			tfo__v1__control__free_unpacked(r, NULL);
			return;
		}
		tfo__v1__control__free_unpacked(r, NULL);
	}
}

void
tbuf_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void *
pinger(void *arg)
{
	struct tbuf *t = arg;
	uint64_t nonce = 0;

	while (!__atomic_load_n(&t->stop_pinging, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&t->mu);
		ping_once(t, ++nonce);
		pthread_mutex_unlock(&t->mu);
		tbuf_sleep_ms(t->ping_ms);
	}
	return NULL;
}

int
tbuf_ping_every(struct tbuf *t, int ms)
{
	if (t->pinging || ms <= 0)
		return -1;
	t->ping_ms = ms;
	if (pthread_create(&t->pinger, NULL, pinger, t) != 0)
		return -1;
	t->pinging = 1;
	return 0;
}

double
tbuf_stat(struct tbuf *t, const char *name, uint64_t *stalled)
{
	double v = 0;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; t->pong != NULL && i < t->pong->n_stats; i++)
		if (strcmp(t->pong->stats[i]->name, name) == 0)
			v = t->pong->stats[i]->value;
	if (stalled != NULL)
		*stalled = t->pong != NULL ? t->pong->stalled_ms : 0;
	pthread_mutex_unlock(&t->mu);
	return v;
}

void
tbuf_cleanup(struct tbuf *t)
{
	char cmd[400];

	if (t->pinging) {
		__atomic_store_n(&t->stop_pinging, 1, __ATOMIC_SEQ_CST);
		pthread_join(t->pinger, NULL);
		t->pinging = 0;
	}
	if (t->pong != NULL)
		tfo__v1__pong__free_unpacked(t->pong, NULL);
	t->pong = NULL;
	if (t->w.pid > 0)
		(void)tbuf_kill(t);
	if (t->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t->dir);
		t->dir[0] = '\0';
	}
}
