/*
 * buffer_format.c - integration test of the real tfo-buffer and its store's
 * format version: a store marked with a format newer than this tfo-buffer
 * reads is refused at start with ONE log line naming the store and both
 * formats, the worker never says Ready, and the store is left as it is (not
 * moved aside as corrupt, not rewritten): marked back, it opens with its data.
 * usage: buffer_format_it <path to tfo-buffer>
 */
#include <dirent.h>
#include <fcntl.h>
#include <leveldb/c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/lib/check.h"

/* set_format - the store's format key, written past tfo-buffer */
static void
set_format(const char *store, uint8_t fmt)
{
	uint8_t v[8] = { 'T', 'F', 'O', 'V', 0, 0, 0, fmt };
	leveldb_options_t *o = leveldb_options_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	char *err = NULL;
	leveldb_t *db = leveldb_open(o, store, &err);

	CHECK(err == NULL, "open %s: %s", store, err ? err : "");
	if (db) {
		leveldb_put(db, wo, "v", 1, (const char *)v, sizeof(v), &err);
		CHECK(err == NULL, "put: %s", err ? err : "");
		leveldb_close(db);
	}
	leveldb_free(err);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
}

static int
corrupt_copies(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, "corrupt") != NULL;
	if (d)
		closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	struct tbuf t;
	struct tfo_bufclient c;
	Tfo__V1__ExportReply *h;
	const Tfo__V1__Batch *b;
	char store[400], log[400], want[600];
	int errors;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <tfo-buffer>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (tbuf_setup(&t) != 0 || tbuf_start(&t, argv[1], 1, 1, 64) != 0) {
		fprintf(stderr, "FAIL: tfo-buffer did not start\n");
		return 1;
	}
	snprintf(store, sizeof(store), "%s/queue", t.state);
	snprintf(log, sizeof(log), "%s/worker.log", t.dir);
	CHECK(tfo_bufclient_open_ingest(&c, t.ingest, TFO__V1__ROLE__ROLE_SYSTEM, 1, 2000,
	    (uint32_t)getuid()) ==
	    TFO_OK, "ingest dial");
	CHECK(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, "kept", 4, 1, NULL, 0, 0) ==
	    TFO_OK, "put");
	tfo_bufclient_close(&c);
	CHECK(tbuf_stop(&t) == 0, "stop");

	set_format(store, 4);
	CHECK(tbuf_start_logged(&t, argv[1], 2, log) == -1, "a format-4 store was opened");
	snprintf(want, sizeof(want), "store %s is format 4; this tfo-buffer reads formats 1 to 3",
	    store);
	CHECK(tbuf_log_lines(log, want, &errors) == 1, "no one line naming store and formats");
	CHECK(errors == 1, "%d error lines, expected one", errors);
	CHECK(corrupt_copies(t.state) == 0, "the store was moved aside");
	CHECK(access(store, F_OK) == 0, "the store is gone");

	set_format(store, 3);
	CHECK(tbuf_start(&t, argv[1], 3, 1, 64) == 0, "not opened once marked format 3");
	CHECK(tfo_bufclient_open_export(&c, t.export_url, 2000, (uint32_t)getuid()) == TFO_OK, "export dial");
	CHECK(tfo_bufclient_fetch(&c, 0, 0, &h, &b) == TFO_OK && b->n_entries == 1 &&
	    b->entries[0].len == 4 && memcmp(b->entries[0].data, "kept", 4) == 0,
	    "the entry did not survive the refusal");
	if (h)
		tfo__v1__export_reply__free_unpacked(h, NULL);
	tfo_bufclient_close(&c);
	CHECK(tbuf_stop(&t) == 0, "stop");
	tbuf_cleanup(&t);
	printf("%s\n", failures ? "FAIL" : "ok buffer_format");
	return failures ? 1 : 0;
}
