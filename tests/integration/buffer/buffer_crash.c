/*
 * buffer_crash.c - integration test of the real tfo-buffer: this driver plays
 * the supervisor (socketpair on fd 3, Control{config}), streams puts from two
 * collector threads through bufclient, kill -9's the buffer twice mid-stream
 * and restarts it, then checks that every acknowledged put is delivered
 * exactly once and in order; a batch fetched but not acked (exporter gone,
 * or buffer killed) is offered again.
 * usage: buffer_crash <path to tfo-buffer>
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/lib/check.h"

#define NPUT 1200                  /* per collector thread */
#define NWRITERS 2

static const char *bin;
static struct tbuf tb;
static const char *ingest, *export_url;
static int acked[NWRITERS][NPUT + 1];
static int seen[NWRITERS][NPUT + 1];
static unsigned long acked_total;

#define REQUIRE(cond, ...) do { if (!(cond)) { CHECK(cond, __VA_ARGS__); finish(); } } while (0)

static void finish(void);

static void
start_buffer(uint64_t incarnation)
{
	REQUIRE(tbuf_start(&tb, bin, incarnation, 1, 64) == 0, "start tfo-buffer");
}

static void
kill_buffer(void)
{
	CHECK(tbuf_kill(&tb) == 0, "buffer did not die by SIGKILL");
}

/* ------------------------------------------------------------------ collectors */

static void *
writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	struct tfo_bufclient c;
	char p[64];

	if (tfo_bufclient_open_ingest(&c, ingest, w == 0 ? TFO__V1__ROLE__ROLE_SYSTEM :
	    TFO__V1__ROLE__ROLE_PROCESS, 1000 + (uint64_t)w, 300, (uint32_t)getuid()) != TFO_OK) {
		failures++;
		return NULL;
	}
	c.give_up_ms = 30000;
	for (int i = 1; i <= NPUT; i++) {
		snprintf(p, sizeof(p), "w%d-%06d-%s", w, i, "payload of a collector record");
		enum tfo_err e = tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, p,
		    strlen(p), 1, NULL, 0, 0);
		if (e == TFO_OK) {
			acked[w][i] = 1;
			__atomic_add_fetch(&acked_total, 1, __ATOMIC_SEQ_CST);
		} else
			fprintf(stderr, "writer %d: put %d: %s\n", w, i, tfo_strerror(e));
	}
	tfo_bufclient_close(&c);
	return NULL;
}

static void
wait_acked(unsigned long n)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 30000 && __atomic_load_n(&acked_total, __ATOMIC_SEQ_CST) < n; i++)
		nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ exporter */

/* fetch_retry - fetch, riding out the buffer's restart */
static enum tfo_err
fetch_retry(struct tfo_bufclient *c, uint32_t max, Tfo__V1__ExportReply **h,
    const Tfo__V1__Batch **b)
{
	enum tfo_err e = TFO_ETIMEDOUT;

	for (int i = 0; i < 20 && (e = tfo_bufclient_fetch(c, 0, max, h, b)) == TFO_ETIMEDOUT; i++)
		;
	return e;
}

static int
same_entries(const Tfo__V1__Batch *a, const Tfo__V1__Batch *b)
{
	if (a->n_entries != b->n_entries)
		return 0;
	for (size_t i = 0; i < a->n_entries; i++)
		if (a->entries[i].len != b->entries[i].len ||
		    memcmp(a->entries[i].data, b->entries[i].data, a->entries[i].len) != 0)
			return 0;
	return 1;
}

static void
record(const Tfo__V1__Batch *b, int last[NWRITERS])
{
	for (size_t i = 0; i < b->n_entries; i++) {
		int w, n;
		char txt[64];
		size_t l = b->entries[i].len < sizeof(txt) - 1 ? b->entries[i].len : sizeof(txt) - 1;
		memcpy(txt, b->entries[i].data, l);
		txt[l] = '\0';
		if (sscanf(txt, "w%d-%d-", &w, &n) != 2 || w < 0 || w >= NWRITERS || n < 1 ||
		    n > NPUT) {
			CHECK(0, "unexpected entry '%s'", txt);
			continue;
		}
		seen[w][n]++;
		CHECK(n > last[w], "writer %d: %d delivered after %d (not FIFO)", w, n, last[w]);
		last[w] = n;
	}
}

static void
exporter_checks(void)
{
	struct tfo_bufclient c;
	Tfo__V1__ExportReply *h1, *h2, *h3;
	const Tfo__V1__Batch *b1, *b2, *b3;
	int last[NWRITERS] = { 0, 0 };
	size_t batches = 0;

	REQUIRE(tfo_bufclient_open_export(&c, export_url, 2000, (uint32_t)getuid()) == TFO_OK, "export dial");
	REQUIRE(fetch_retry(&c, 2048, &h1, &b1) == TFO_OK, "first fetch");
	/* The exporter dies between fetch and ack: its connection closes. */
	tfo_bufclient_close(&c);
	REQUIRE(tfo_bufclient_open_export(&c, export_url, 2000, (uint32_t)getuid()) == TFO_OK, "export redial");
	REQUIRE(fetch_retry(&c, 2048, &h2, &b2) == TFO_OK, "fetch after exporter restart");
	CHECK(b2->id == b1->id && same_entries(b1, b2), "batch not offered again after exporter loss");
	/* The buffer dies with the batch in flight: offered again after restart. */
	kill_buffer();
	start_buffer(4);
	REQUIRE(fetch_retry(&c, 2048, &h3, &b3) == TFO_OK, "fetch after buffer restart");
	CHECK(same_entries(b1, b3), "batch not offered again after buffer kill -9");
	tfo__v1__export_reply__free_unpacked(h1, NULL);
	tfo__v1__export_reply__free_unpacked(h2, NULL);
	/* Drain: everything, acked batch by batch. */
	for (;;) {
		record(b3, last);
		batches++;
		CHECK(tfo_bufclient_ack(&c, b3->id) == TFO_OK, "ack");
		tfo__v1__export_reply__free_unpacked(h3, NULL);
		enum tfo_err e = fetch_retry(&c, 16384, &h3, &b3);
		if (e == TFO_ENOENT)
			break;
		REQUIRE(e == TFO_OK, "drain fetch: %s", tfo_strerror(e));
	}
	tfo_bufclient_close(&c);
	printf("drained %zu batches\n", batches);
}

/* ------------------------------------------------------------------ main */

static void
finish(void)
{
	tbuf_cleanup(&tb);
	printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
	exit(failures ? 1 : 0);
}

int
main(int argc, char **argv)
{
	pthread_t th[NWRITERS];
	unsigned long n_acked = 0, n_lost = 0, n_dup = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <tfo-buffer>\n", argv[0]);
		return 2;
	}
	bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	REQUIRE(tbuf_setup(&tb) == 0, "mkdtemp");
	/* health pings as the supervisor sends them: the buffer checks its
	 * channels at each and repairs a listener that stopped accepting */
	REQUIRE(tbuf_ping_every(&tb, 1000) == 0, "pinger");
	ingest = tb.ingest;
	export_url = tb.export_url;

	start_buffer(1);
	for (int i = 0; i < NWRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
	wait_acked(NWRITERS * NPUT / 4);
	kill_buffer();                  /* mid-stream, with puts in flight */
	start_buffer(2);
	wait_acked(NWRITERS * NPUT / 2);
	kill_buffer();
	start_buffer(3);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);
	exporter_checks();
	CHECK(tbuf_stop(&tb) == 0, "buffer did not exit 0 on Shutdown");

	for (int w = 0; w < NWRITERS; w++)
		for (int i = 1; i <= NPUT; i++) {
			n_acked += acked[w][i];
			if (acked[w][i] && seen[w][i] == 0)
				n_lost++;
			if (seen[w][i] > 1)
				n_dup++;
		}
	printf("acknowledged %lu puts, lost %lu, delivered twice %lu\n", n_acked, n_lost, n_dup);
	CHECK(n_acked == NWRITERS * NPUT, "some puts never acknowledged");
	CHECK(n_lost == 0, "acknowledged puts lost");
	CHECK(n_dup == 0, "puts delivered twice");
	finish();
	return 0;
}
