/*
 * spawn.c - start/kill/stop the real tfo-buffer for tests and bench (see spawn.h).
 */
#include "tests/integration/buffer/spawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
tbuf_setup(struct tbuf *t)
{
	const char *tmp = getenv("TMPDIR");

	memset(t, 0, sizeof(*t));
	t->w = (struct tfo_wspawn)TFO_WSPAWN_INIT;
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
	if (tfo_wspawn_start(&t->w, bin, "tfo-buffer", &wc, 20000) != 0) {
		fprintf(stderr, "tfo-buffer did not start\n");
		return -1;
	}
	return 0;
}

int
tbuf_kill(struct tbuf *t)
{
	return tfo_wspawn_kill(&t->w);
}

int
tbuf_stop(struct tbuf *t)
{
	return tfo_wspawn_stop(&t->w, 5000);
}

void
tbuf_cleanup(struct tbuf *t)
{
	char cmd[400];

	if (t->w.pid > 0)
		(void)tbuf_kill(t);
	if (t->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t->dir);
		t->dir[0] = '\0';
	}
}
