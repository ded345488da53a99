/*
 * bench_buffer.c - tfo-buffer throughput: durable ingest (metric points/s and
 * MiB/s, puts of ~8 KiB / 100 points as collectors send them) and fetch/ack
 * drain, sync on and off; in-process against the store (groups of puts as
 * the worker forms them) and, given the tfo-buffer binary, over ipc with
 * many concurrent put clients; and the path of bench_logs_e2e in-process:
 * tfo-logs' puts (an LZ4 block of 2 MiB of lines and a checkpoint) each
 * fetched and acked as the exporter does while the queue stays short.
 * Prints figures; asserts nothing.
 * usage: bench_buffer [seconds] [path to tfo-buffer]
 */
#include <lz4.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "common/log.h"
#include "tests/integration/buffer/spawn.h"
#include "workers/buffer/store.h"

#define PAYLOAD 8192
#define POINTS 100
#define CLIENTS 64                  /* concurrent put clients over ipc (= tfo-buffer INGEST_CTXS) */

static uint8_t payload[PAYLOAD];
static double seconds = 2.0;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* make_payload - protobuf-like bytes: names and attributes repeat, values vary */
static void
make_payload(void)
{
	static const char *const names[] = { "system.cpu.time", "system.memory.usage",
		"system.network.io", "cpu.mode", "network.interface.name", "eth0", "user" };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i = 0;

	while (i < PAYLOAD) {
		const char *n = names[x % 7];
		size_t l = strlen(n);
		for (size_t k = 0; k < l && i < PAYLOAD; k++)
			payload[i++] = (uint8_t)n[k];
		for (int k = 0; k < 9 && i < PAYLOAD; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			payload[i++] = (uint8_t)x;
		}
	}
}

static void
report(const char *what, double n_puts, double bytes, double dt)
{
	printf("  %-34s %10.0f points/s %8.1f MiB/s %8.0f puts/s\n", what,
	    n_puts * POINTS / dt, bytes / dt / (1 << 20), n_puts / dt);
}

/* ------------------------------------------------------------------ in-process */

static void
bench_store(int sync, int group)
{
	struct tbuf dir;
	char path[400], err[256];
	struct tfo_store_opts o = { 0 };
	struct tfo_store *st;
	struct tfo_store_stats s;
	struct tfo_store_batch b;
	enum tfo_err e;
	uint64_t seq = 0, n = 0, commits = 0;
	double t0, dt, t_commit = 0;

	if (tbuf_setup(&dir) != 0)
		return;
	snprintf(path, sizeof(path), "%s/queue", dir.dir);
	o.path = path;
	o.max_bytes = 4ull << 30;
	o.sync = sync;
	if ((st = tfo_store_open(&o, &e, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", err);
		tbuf_cleanup(&dir);
		return;
	}
	t0 = now_s();
	while ((dt = now_s() - t0) < seconds) {
		for (int i = 0; i < group; i++) {
			seq++;
			struct tfo_store_put p = { .role = 1, .incarnation = 1, .seq = seq,
				.signal = 1, .payload = payload, .len = PAYLOAD, .points = POINTS };
			const char *why;
			if (tfo_store_put(st, &p, &why) != TFO_PUT_STAGED)
				abort();
		}
		double tc = now_s();
		if (tfo_store_commit(st, err, sizeof(err)) != TFO_OK)
			abort();
		t_commit += now_s() - tc;
		n += (uint64_t)group;
		commits++;
	}
	tfo_store_get_stats(st, &s);
	printf("store, sync %s, groups of %d puts (%.2f ms per group, %.2f ms of it in the "
	    "LevelDB write; last durable write %.2f ms):\n", sync ? "on" : "off", group,
	    dt * 1000 / (double)commits, t_commit * 1000 / (double)commits,
	    (double)s.last_sync_us / 1000);
	report("ingest", (double)n, (double)n * PAYLOAD, dt);
	t0 = now_s();
	uint64_t drained = 0;
	while (tfo_store_fetch(st, 0, 1u << 20, &b) == TFO_OK) {
		drained += b.n;
		if (tfo_store_ack(st, b.id) != TFO_OK ||
		    tfo_store_commit(st, err, sizeof(err)) != TFO_OK)
			abort();
		tfo_store_batch_free(&b);
	}
	dt = now_s() - t0;
	report("drain (fetch 1 MiB + ack)", (double)drained, (double)drained * PAYLOAD, dt);
	if (drained != n)
		printf("  !! drained %llu of %llu\n", (unsigned long long)drained,
		    (unsigned long long)n);
	tfo_store_close(st);
	tbuf_cleanup(&dir);
}

/*
 * bench_logs_path - bench_logs_e2e's buffer work without the processes
 * around it: each put is an LZ4 block (tfo-logs compresses, the store keeps
 * it) of LOGS_RAW bytes of log lines with one checkpoint, committed, then
 * fetched (1 MiB, the exporter's default) and acked, the ack committed:
 * the ordinary put / fetch / ack path with the queue far below its bound.
 * MiB/s counts the lines' raw bytes, as bench_logs_e2e does.
 */
#define LOGS_RAW (2u << 20)
#define LOGS_LINE 120

static void
bench_logs_path(int sync)
{
	struct tbuf dir;
	char path[400], err[256], fid[64];
	struct tfo_store_opts o = { 0 };
	struct tfo_store *st;
	struct tfo_store_batch b;
	enum tfo_err e;
	Tfo__V1__Checkpoint cp = TFO__V1__CHECKPOINT__INIT;
	Tfo__V1__Checkpoint *cps[1] = { &cp };
	char *raw = malloc(LOGS_RAW), *z = malloc((size_t)LZ4_compressBound(LOGS_RAW));
	uint64_t n = 0, x = 0x9e3779b97f4a7c15ull;
	int zl;
	double t0, dt, t_put = 0, t_fetch = 0, t_ack = 0, t;

	if (raw == NULL || z == NULL || tbuf_setup(&dir) != 0) {
		free(raw);
		free(z);
		return;
	}
	/* numbered log-like lines: levels, components, numbers, hex ids */
	for (size_t i = 0, line = 0; i + LOGS_LINE <= LOGS_RAW; i += LOGS_LINE, line++) {
		static const char *const comp[] = { "http", "db.pool", "auth", "cache", "grpc" };
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int k = snprintf(raw + i, LOGS_LINE, "%010zu 2026-11-25T12:%02u:%02u.%03uZ INFO "
		    "[%s] GET /api/v2/items/%u 200 %ums id=%016llx", line, (unsigned)(x % 60),
		    (unsigned)((x >> 6) % 60), (unsigned)((x >> 12) % 1000), comp[(x >> 20) % 5],
		    (unsigned)((x >> 24) % 100000), (unsigned)((x >> 40) % 900),
		    (unsigned long long)x);
		memset(raw + i + k, ' ', LOGS_LINE - 1 - (size_t)k);
		raw[i + LOGS_LINE - 1] = '\n';
	}
	zl = LZ4_compress_fast(raw, z, LOGS_RAW, LZ4_compressBound(LOGS_RAW), 4);
	snprintf(path, sizeof(path), "%s/queue", dir.dir);
	o.path = path;
	o.max_bytes = 1ull << 30;
	o.sync = sync;
	if (zl <= 0 || (st = tfo_store_open(&o, &e, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", zl <= 0 ? "lz4" : err);
		free(raw);
		free(z);
		tbuf_cleanup(&dir);
		return;
	}
	snprintf(fid, sizeof(fid), "%u:%u:%016llx", 8u, 4242u, 0x1234abcdull);
	cp.file_id = fid;
	cp.path = "/var/log/app.log";
	t0 = now_s();
	while ((dt = now_s() - t0) < seconds) {
		const char *why;
		n++;
		cp.offset = n * LOGS_RAW;
		struct tfo_store_put p = { .role = 3, .incarnation = 1, .seq = n, .signal = 2,
			.payload = z, .len = (size_t)zl, .lz4 = 1, .raw_len = LOGS_RAW,
			.points = LOGS_RAW / LOGS_LINE, .checkpoints = cps, .ncheckpoints = 1 };
		t = now_s();
		if (tfo_store_put(st, &p, &why) != TFO_PUT_STAGED ||
		    tfo_store_commit(st, err, sizeof(err)) != TFO_OK)
			abort();
		t_put += now_s() - t;
		t = now_s();
		if (tfo_store_fetch(st, 0, 1u << 20, &b) != TFO_OK || b.n != 1)
			abort();
		t_fetch += now_s() - t;
		t = now_s();
		if (tfo_store_ack(st, b.id) != TFO_OK ||
		    tfo_store_commit(st, err, sizeof(err)) != TFO_OK)
			abort();
		t_ack += now_s() - t;
		tfo_store_batch_free(&b);
	}
	printf("logs path, sync %s: put of an LZ4 block of %u KiB (%d KiB stored) + checkpoint, "
	    "commit, fetch, ack, commit (ms per put: put+commit %.3f, fetch %.3f, ack+commit "
	    "%.3f):\n", sync ? "on" : "off", LOGS_RAW >> 10, zl >> 10, t_put * 1000 / (double)n,
	    t_fetch * 1000 / (double)n, t_ack * 1000 / (double)n);
	printf("  %-34s %10.0f lines/s %8.1f MiB/s %8.0f puts/s\n", "put + fetch + ack",
	    (double)n * (LOGS_RAW / LOGS_LINE) / dt, (double)n * LOGS_RAW / dt / (1 << 20),
	    (double)n / dt);
	tfo_store_close(st);
	tbuf_cleanup(&dir);
	free(raw);
	free(z);
}

/* ------------------------------------------------------------------ over ipc */

struct client {
	const char *url;
	int id;
	uint64_t puts;
	volatile int *stop;
};

static void *
put_loop(void *arg)
{
	struct client *c = arg;
	struct tfo_bufclient bc;

	if (tfo_bufclient_open_ingest(&bc, c->url, TFO__V1__ROLE__ROLE_SYSTEM,
	    (uint64_t)c->id + 1, 5000, (uint32_t)getuid()) != TFO_OK)
		return NULL;
	while (!*c->stop) {
		if (tfo_bufclient_put(&bc, TFO__V1__SIGNAL__SIGNAL_METRICS, payload, PAYLOAD,
		    POINTS, NULL, 0, 0) != TFO_OK)
			break;
		c->puts++;
	}
	tfo_bufclient_close(&bc);
	return NULL;
}

static void
bench_ipc(const char *bin, int sync)
{
	struct tbuf t;
	struct client cl[CLIENTS];
	pthread_t th[CLIENTS];
	volatile int stop = 0;
	struct tfo_bufclient ex;
	uint64_t n = 0, drained = 0;
	double t0, dt;

	if (tbuf_setup(&t) != 0 || tbuf_start(&t, bin, 1, sync, 4096) != 0) {
		tbuf_cleanup(&t);
		return;
	}
	t0 = now_s();
	for (int i = 0; i < CLIENTS; i++) {
		cl[i] = (struct client){ t.ingest, i, 0, &stop };
		pthread_create(&th[i], NULL, put_loop, &cl[i]);
	}
	while (now_s() - t0 < seconds) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	stop = 1;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		n += cl[i].puts;
	}
	dt = now_s() - t0;
	printf("tfo-buffer over ipc, sync %s, %d concurrent put clients:\n", sync ? "on" : "off",
	    CLIENTS);
	report("ingest", (double)n, (double)n * PAYLOAD, dt);
	if (tfo_bufclient_open_export(&ex, t.export_url, 5000, (uint32_t)getuid()) == TFO_OK) {
		Tfo__V1__ExportReply *h;
		const Tfo__V1__Batch *b;
		t0 = now_s();
		while (tfo_bufclient_fetch(&ex, 0, 1u << 20, &h, &b) == TFO_OK) {
			drained += b->n_entries;
			int ok = tfo_bufclient_ack(&ex, b->id) == TFO_OK;
			tfo__v1__export_reply__free_unpacked(h, NULL);
			if (!ok)
				break;
		}
		dt = now_s() - t0;
		report("drain (fetch 1 MiB + ack)", (double)drained, (double)drained * PAYLOAD, dt);
		tfo_bufclient_close(&ex);
	}
	if (drained != n)
		printf("  !! drained %llu of %llu\n", (unsigned long long)drained,
		    (unsigned long long)n);
	(void)tbuf_stop(&t);
	tbuf_cleanup(&t);
}

int
main(int argc, char **argv)
{
	tfo_log_init("bench-buffer", TFO_LOG_WARN, TFO_LOG_TEXT);
	if (argc > 1)
		seconds = strtod(argv[1], NULL) > 0 ? strtod(argv[1], NULL) : 2.0;
	make_payload();
	printf("payload %d bytes, %d points per put; budget >= 500000 points/s durable\n",
	    PAYLOAD, POINTS);
	bench_store(1, 32);
	bench_store(1, 128);
	bench_store(0, 32);
	bench_logs_path(1);
	bench_logs_path(0);
	if (argc > 2) {
		bench_ipc(argv[2], 1);
		bench_ipc(argv[2], 0);
	}
	return 0;
}
