/*
 * logs_crash.c - integration test of the real tfo-logs with the real
 * tfo-buffer, this driver playing the supervisor (fd 3) and the exporter
 * (export channel). A writer thread appends numbered lines at a steady rate
 * while the driver, in turn, rotates by rename+create, copytruncates,
 * deletes, kill -9's tfo-logs, tfo-buffer, both, and tfo-logs during a
 * rotation. Then every numbered line must be in the buffer exactly once:
 * lost and duplicated lines are counted and reported.
 * usage: logs_crash <tfo-logs> <tfo-buffer>
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "tests/lib/worker_spawn.h"

#define LINES_PER_TICK 40
#define TICK_US 4000              /* ~10 000 lines/s */

struct proc {
	const char *bin, *name;
	struct tfo_wspawn w;
	uint64_t incarnation;
};

static char dir[64], state[128], logdir[128], logpath[160], glob_path[160];
static char ingest[160], export_url[160];
static struct proc logs = { .name = "tfo-logs", .w = TFO_WSPAWN_INIT };
static struct proc buf = { .name = "tfo-buffer", .w = TFO_WSPAWN_INIT };
static int failures;
static volatile int action, stop_writer;
static int written;                 /* lines written, numbered 1..written */
static int *seen;

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } } while (0)
#define REQUIRE(c, ...) do { if (!(c)) { CHECK(c, __VA_ARGS__); finish(); } } while (0)

static void finish(void);

/* ------------------------------------------------------------ the supervisor part */

/* start - the worker p with its config (a new incarnation each time) */
static void
start(struct proc *p)
{
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lg;
	Tfo__V1__BufferConfig bc = TFO__V1__BUFFER_CONFIG__INIT;
	Tfo__V1__LogsConfig lc = TFO__V1__LOGS_CONFIG__INIT;
	Tfo__V1__AgentIdentity ag = TFO__V1__AGENT_IDENTITY__INIT;
	char *paths[1] = { glob_path };

	tfo_wspawn_config(&wc, &lg, p == &buf ? TFO__V1__ROLE__ROLE_BUFFER : TFO__V1__ROLE__ROLE_LOGS,
	    "warn");
	ag.id = "00000000-0000-4000-8000-000000000001";
	ag.name = "logs-it";
	wc.incarnation = ++p->incarnation;
	wc.agent = &ag;
	wc.runtime_dir = dir;
	wc.ingest_url = ingest;
	wc.export_url = export_url;
	tfo_wspawn_ingest_peers(&wc);
	if (p == &buf) {
		bc.path = state;
		bc.max_size_mb = 256;
		bc.sync = 1;
		wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_BUFFER;
		wc.buffer = &bc;
	} else {
		lc.paths = paths;
		lc.n_paths = 1;
		lc.start_at = "beginning";
		lc.batch_max_lines = 1000;
		lc.batch_max_ms = 50;
		lc.rescan_interval_ms = 300;
		wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_LOGS;
		wc.logs = &lc;
	}
	REQUIRE(tfo_wspawn_start(&p->w, p->bin, p->name, &wc, 20000) == 0, "%s did not start", p->name);
}

static void
kill9(struct proc *p)
{
	if (p->w.pid <= 0)
		return;
	CHECK(tfo_wspawn_kill(&p->w) == 0, "%s: exit status %d", p->name, p->w.status);
}

/* ------------------------------------------------------------ the writer */

static int
open_log(void)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	REQUIRE(fd >= 0, "open %s: %s", logpath, strerror(errno));
	return fd;
}

static void
write_lines(int fd, int n)
{
	char line[128];

	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "seq=%08d INFO writer line with some payload\n",
		    ++written);
		REQUIRE(write(fd, line, (size_t)len) == len, "write: %s", strerror(errno));
	}
}

/* copy_file - copytruncate's copy, under a name the glob does not match */
static void
copy_file(const char *from, const char *to)
{
	char b[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	REQUIRE(in >= 0 && out >= 0, "copy open");
	while ((n = read(in, b, sizeof(b))) > 0)
		REQUIRE(write(out, b, (size_t)n) == n, "copy write");
	close(in);
	close(out);
}

/* writer - steady appends; rotations are done here, between two writes, as an app and logrotate would */
static void *
writer(void *arg)
{
	struct timespec tick = { 0, TICK_US * 1000 };
	char to[200];
	int fd = open_log(), k = 0;

	(void)arg;
	while (!stop_writer) {
		write_lines(fd, LINES_PER_TICK);
		switch (__atomic_exchange_n(&action, 0, __ATOMIC_SEQ_CST)) {
		case 1:     /* rename + create; the app writes a little more to the old file first */
			snprintf(to, sizeof(to), "%s.%d", logpath, ++k);
			REQUIRE(rename(logpath, to) == 0, "rename");
			write_lines(fd, 25);
			close(fd);
			fd = open_log();
			break;
		case 2:     /* copytruncate */
			snprintf(to, sizeof(to), "%s.ct%d", logpath, ++k);
			copy_file(logpath, to);
			REQUIRE(ftruncate(fd, 0) == 0, "truncate");
			break;
		case 3:     /* deleted while open, then recreated */
			REQUIRE(unlink(logpath) == 0, "unlink");
			write_lines(fd, 25);
			close(fd);
			fd = open_log();
			break;
		}
		nanosleep(&tick, NULL);
	}
	close(fd);
	return NULL;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
do_action(int a)
{
	__atomic_store_n(&action, a, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&action, __ATOMIC_SEQ_CST) != 0)
		pause_ms(1);
}

/* ------------------------------------------------------------ the exporter part */

static void
count_entry(const uint8_t *data, size_t len, int *bad)
{
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rl =
	    opentelemetry__proto__logs__v1__resource_logs__unpack(NULL, len, data);

	if (rl == NULL) {
		(*bad)++;
		return;
	}
	for (size_t i = 0; i < rl->n_scope_logs; i++)
		for (size_t j = 0; j < rl->scope_logs[i]->n_log_records; j++) {
			const Opentelemetry__Proto__Logs__V1__LogRecord *lr = rl->scope_logs[i]->log_records[j];
			int n;
			if (lr->body == NULL || lr->body->string_value == NULL ||
			    sscanf(lr->body->string_value, "seq=%d", &n) != 1 || n < 1 || n > written)
				(*bad)++;
			else
				seen[n]++;
		}
	opentelemetry__proto__logs__v1__resource_logs__free_unpacked(rl, NULL);
}

/* drain - fetch and ack until every line arrived or the deadline */
static void
drain(int *bad)
{
	struct tfo_bufclient c;
	int have = 0;

	REQUIRE(tfo_bufclient_open_export(&c, export_url, 2000, (uint32_t)getuid()) == TFO_OK, "export dial");
	for (int idle = 0; idle < 400 && have < written;) {
		Tfo__V1__ExportReply *h;
		const Tfo__V1__Batch *b;
		enum tfo_err e = tfo_bufclient_fetch(&c, 0, 1u << 20, &h, &b);
		if (e != TFO_OK) {
			idle++;
			pause_ms(50);
			continue;
		}
		struct tfo_payloads pl;
		REQUIRE(tfo_payloads_of(b, &pl) == TFO_OK, "payloads of a batch");
		*bad += (int)pl.bad;
		for (size_t i = 0; i < pl.n; i++)
			count_entry(pl.data[i], pl.len[i], bad);
		tfo_payloads_free(&pl);
		CHECK(tfo_bufclient_ack(&c, b->id) == TFO_OK, "ack");
		tfo__v1__export_reply__free_unpacked(h, NULL);
		have = 0;
		for (int i = 1; i <= written; i++)
			have += seen[i] > 0;
		idle = 0;
	}
	tfo_bufclient_close(&c);
}

/* ------------------------------------------------------------ main */

static void
finish(void)
{
	char cmd[128];

	stop_writer = 1;
	kill9(&logs);
	kill9(&buf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	printf("%s\n", failures ? "FAILED" : "PASSED");
	exit(failures ? 1 : 0);
}

int
main(int argc, char **argv)
{
	pthread_t th;
	int lost = 0, dups = 0, bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <tfo-logs> <tfo-buffer>\n", argv[0]);
		return 2;
	}
	logs.bin = argv[1];
	buf.bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/tfo-logs-it.XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	snprintf(logpath, sizeof(logpath), "%s/app.log", logdir);
	snprintf(glob_path, sizeof(glob_path), "%s/app.log", logdir);
	snprintf(ingest, sizeof(ingest), "ipc://%s/ingest.ipc", dir);
	snprintf(export_url, sizeof(export_url), "ipc://%s/export.ipc", dir);
	REQUIRE(mkdir(logdir, 0755) == 0, "mkdir");

	start(&buf);
	REQUIRE(pthread_create(&th, NULL, writer, NULL) == 0, "writer");
	pause_ms(100);
	start(&logs);
	pause_ms(700);
	do_action(1);                               /* rename + create */
	pause_ms(700);
	do_action(2);                               /* copytruncate */
	pause_ms(700);
	do_action(3);                               /* delete while open */
	pause_ms(700);
	kill9(&logs);                               /* the logs worker */
	pause_ms(300);
	start(&logs);
	pause_ms(700);
	kill9(&buf);                                /* the buffer */
	pause_ms(200);
	start(&buf);
	pause_ms(700);
	kill9(&logs);                               /* a rotation while tfo-logs is down */
	do_action(1);
	pause_ms(300);
	start(&logs);
	pause_ms(700);
	kill9(&logs);                               /* the whole tree */
	kill9(&buf);
	pause_ms(300);
	start(&buf);
	start(&logs);
	pause_ms(700);
	stop_writer = 1;
	pthread_join(th, NULL);

	REQUIRE((seen = calloc((size_t)written + 1, sizeof(int))) != NULL, "calloc");
	drain(&bad);
	for (int i = 1; i <= written; i++) {
		lost += seen[i] == 0;
		dups += seen[i] > 1 ? seen[i] - 1 : 0;
	}
	printf("logs_crash: %d lines written, %d lost, %d duplicated, %d unparsable records\n",
	    written, lost, dups, bad);
	for (int i = 1, shown = 0; i <= written && shown < 10; i++)
		if (seen[i] != 1 && ++shown)
			fprintf(stderr, "  seq=%08d seen %d times\n", i, seen[i]);
	CHECK(lost == 0, "%d lines lost", lost);
	CHECK(dups == 0, "%d lines duplicated", dups);
	CHECK(bad == 0, "%d records not from the writer", bad);
	free(seen);
	finish();
	return 0;
}
