/*
 * buffer_slowpeer.c - integration test of the real tfo-buffer (issue 16 §2):
 * a peer on the export socket that asks and never reads its answers (a
 * wedged or hostile exporter) must not hold the buffer's contexts. It speaks
 * SP over a raw unix socket: the handshake, then more Fetch requests than the
 * channel has contexts, each answered with a batch of about 1 MiB that its
 * socket buffer cannot take. Each reply has 2 s to go; then its connection
 * is closed and the context serves again: a well-behaved exporter then
 * fetches, gets the batches again (they were in flight on the closed
 * connection) and every entry is delivered.
 * usage: buffer_slowpeer <path to tfo-buffer>
 */
#include <arpa/inet.h>
#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/bufclient.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/lib/check.h"

#define ENTRIES 64
#define ENTRY_LEN (256 * 1024)
#define REQUESTS 8                 /* the export channel has 4 contexts */

static struct tbuf tb;

/* fill - bytes that do not compress: batches go out LZ4-compressed, and a
 * reply the peer's socket can take whole would never wait */
static void
fill(char *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x >> 24);
	}
}

/* sp_send - one SP message over ipc: type 1, 64-bit length, then the REQ
 * request id (high bit set) and the body */
static int
sp_send(int fd, uint32_t id, const void *body, size_t len)
{
	uint8_t hdr[13];
	uint64_t n = htobe64((uint64_t)len + 4);
	uint32_t rid = htonl(0x80000000u | id);

	hdr[0] = 1;
	memcpy(hdr + 1, &n, 8);
	memcpy(hdr + 9, &rid, 4);
	return write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) &&
	    write(fd, body, len) == (ssize_t)len ? 0 : -1;
}

/* slow_peer - connect as a REQ peer, send REQUESTS fetches, read nothing */
static int
slow_peer(const char *path)
{
	static const uint8_t req_hdr[8] = { 0, 'S', 'P', 0, 0, 48, 0, 0 };  /* REQ v0 */
	Tfo__V1__ExportRequest r = TFO__V1__EXPORT_REQUEST__INIT;
	Tfo__V1__Fetch f = TFO__V1__FETCH__INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t body[64], peer_hdr[8];
	size_t len;
	int fd, sz = 4096;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, req_hdr, sizeof(req_hdr)) != (ssize_t)sizeof(req_hdr) ||
	    read(fd, peer_hdr, sizeof(peer_hdr)) != (ssize_t)sizeof(peer_hdr)) {
		close(fd);
		return -1;
	}
	f.max_bytes = 2u << 20;
	r.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	r.msg_case = TFO__V1__EXPORT_REQUEST__MSG_FETCH;
	r.fetch = &f;
	len = tfo__v1__export_request__pack(&r, body);
	for (uint32_t i = 1; i <= REQUESTS; i++)
		if (sp_send(fd, i, body, len) != 0) {
			close(fd);
			return -1;
		}
	return fd;                      /* kept open, never read */
}

int
main(int argc, char **argv)
{
	struct tfo_bufclient c;
	char *payload = malloc(ENTRY_LEN);
	int seen[ENTRIES] = { 0 }, fd, got = 0;

	if (argc != 2 || payload == NULL) {
		fprintf(stderr, "usage: %s <tfo-buffer>\n", argv[0]);
		free(payload);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (tbuf_setup(&tb) != 0 || tbuf_ping_every(&tb, 500) != 0 ||
	    tbuf_start(&tb, argv[1], 1, 0, 256) != 0) {
		fprintf(stderr, "FAIL: could not start tfo-buffer\n");
		tbuf_cleanup(&tb);
		free(payload);
		return 1;
	}
	if (tfo_bufclient_open_ingest(&c, tb.ingest, TFO__V1__ROLE__ROLE_SYSTEM, 1, 2000,
	    (uint32_t)getuid()) != TFO_OK) {
		fprintf(stderr, "FAIL: ingest dial\n");
		tbuf_cleanup(&tb);
		free(payload);
		return 1;
	}
	c.give_up_ms = 20000;
	for (int i = 0; i < ENTRIES; i++) {
		fill(payload, ENTRY_LEN, (uint32_t)i + 1);
		snprintf(payload, 16, "entry %04d", i);
		CHECK(tfo_bufclient_put(&c, TFO__V1__SIGNAL__SIGNAL_METRICS, payload, ENTRY_LEN, 1,
		    NULL, 0, 0) == TFO_OK, "put %d", i);
	}
	tfo_bufclient_close(&c);

	fd = slow_peer(tb.export_url + strlen("ipc://"));
	CHECK(fd >= 0, "the slow peer could not connect");
	for (int i = 0; i < 40 && tbuf_stat(&tb, "export.send_timeouts", NULL) == 0; i++)
		tbuf_sleep_ms(250);
	CHECK(tbuf_stat(&tb, "export.send_timeouts", NULL) > 0,
	    "no reply to the peer that does not read ever timed out");
	printf("export.send_timeouts %.0f\n", tbuf_stat(&tb, "export.send_timeouts", NULL));

	/* a well-behaved exporter is served, and gets everything */
	CHECK(tfo_bufclient_open_export(&c, tb.export_url, 3000, (uint32_t)getuid()) == TFO_OK,
	    "export dial");
	for (int tries = 0; got < ENTRIES && tries < 200; tries++) {
		Tfo__V1__ExportReply *h;
		const Tfo__V1__Batch *b;
		enum tfo_err e = tfo_bufclient_fetch(&c, 0, 4u << 20, &h, &b);
		if (e == TFO_ENOENT) {
			tbuf_sleep_ms(100);
			continue;
		}
		if (e != TFO_OK) {
			fprintf(stderr, "fetch: %s\n", tfo_strerror(e));
			continue;
		}
		for (size_t i = 0; i < b->n_entries; i++) {
			int k;
			if (sscanf((const char *)b->entries[i].data, "entry %d", &k) == 1 && k >= 0 &&
			    k < ENTRIES && seen[k]++ == 0)
				got++;
		}
		CHECK(tfo_bufclient_ack(&c, b->id) == TFO_OK, "ack");
		tfo__v1__export_reply__free_unpacked(h, NULL);
	}
	tfo_bufclient_close(&c);
	CHECK(got == ENTRIES, "%d of %d entries delivered", got, ENTRIES);
	printf("%d of %d entries delivered after the slow peer\n", got, ENTRIES);
	if (fd >= 0)
		close(fd);
	CHECK(tbuf_stop(&tb) == 0, "buffer did not exit 0 on Shutdown");
	tbuf_cleanup(&tb);
	free(payload);
	printf("%s\n", failures ? "FAIL" : "ok buffer_slowpeer");
	return failures ? 1 : 0;
}
