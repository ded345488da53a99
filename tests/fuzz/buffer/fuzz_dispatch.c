/*
 * fuzz_dispatch.c - libFuzzer harness over tfo-buffer's request dispatch: the
 * first byte picks the channel (odd: ingest, even: export) and, for ingest,
 * with its next bits who sent it (every collector's uid, as dev mode, or one
 * role's, or a uid speaking as none); the rest is the request, decoded and
 * acted on against a real store in a temp directory, then committed like the
 * worker does.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/log.h"
#include "workers/buffer/dispatch.h"

#define NPEERS 5
static const struct buffer_peer peers[NPEERS] = {
	{ 1000, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_SYSTEM) |
	    TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_PROCESS) |
	    TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_LOGS), 1 },
	{ 1001, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_SYSTEM), 2 },
	{ 1002, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_PROCESS), 3 },
	{ 1003, TFO_IPC_ROLE_BIT(TFO__V1__ROLE__ROLE_LOGS), 4 },
	{ 1004, 0, 5 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tfo_store *st;
static struct buffer_counters cnt;
static char dir[64] = "/tmp/tfo-buffer-fuzz.XXXXXX";
static unsigned long runs;

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
cleanup(void)
{
	tfo_store_close(st);
	st = NULL;
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup(void)
{
	static char path[128];
	struct tfo_store_opts o = { 0 };
	enum tfo_err e;
	char err[256];

	tfo_log_init("buffer-fuzz", TFO_LOG_ERROR, TFO_LOG_TEXT);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/queue", dir);
	o.path = path;
	o.max_bytes = 1u << 20;     /* keep the store small over many runs */
	o.max_age_ms = 3600 * 1000;
	if ((st = tfo_store_open(&o, &e, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", err);
		abort();
	}
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buffer_reply r;
	char err[256];

	if (st == NULL)
		setup();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		buffer_ingest_dispatch(st, &cnt, &peers[(data[0] >> 1) % NPEERS], data + 1,
		    size - 1, &r);
	else
		buffer_export_dispatch(st, &cnt, data + 1, size - 1, NULL, &r);
	if (r.buf == NULL || r.len == 0)
		abort();                /* every request is answered */
	if (tfo_store_commit(st, err, sizeof(err)) != TFO_OK)
		abort();
	buffer_reply_free(&r);
	if (++runs % 512 == 0)
		tfo_store_reoffer_all(st);
	return 0;
}
