/*
 * hb_forge.c - test driver: a taken-over tfo-heartbeat. As the heartbeat's
 * role user it dials the exporter's heartbeat.ipc and asks, as fast as the
 * socket takes them, for what the real one asks once a minute (a beat) or
 * once an hour (a cloud lookup): the relay must not turn that into as many
 * POSTs with the agent's key, or lookups, on the agent's one way out.
 * Usage: hb_forge URL UID GID beats|clouds COUNT GAP_MS. Prints what it sent.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "common/clock.h"
#include "common/ipc.h"
#include "tfo/v1/tfo.pb-c.h"

static int
send_one(nng_socket s, int beat, unsigned i)
{
	Tfo__V1__HeartbeatRequest req = TFO__V1__HEARTBEAT_REQUEST__INIT;
	Tfo__V1__Beat b = TFO__V1__BEAT__INIT;
	Tfo__V1__CloudQuery q = TFO__V1__CLOUD_QUERY__INIT;
	char body[96];
	int n;

	req.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	if (beat) {
		n = snprintf(body, sizeof(body), "{\"systemInfo\":{\"forged\":%u}}", i);
		b.seq = 1000000u + i;
		b.body.data = (uint8_t *)body;
		b.body.len = (size_t)n;
		b.deadline_ms = tfo_mono_ms() + 10000u;
		req.msg_case = TFO__V1__HEARTBEAT_REQUEST__MSG_BEAT;
		req.beat = &b;
	} else {
		q.provider = (char *)"";
		req.msg_case = TFO__V1__HEARTBEAT_REQUEST__MSG_CLOUD;
		req.cloud = &q;
	}
	/* REQ: a new request abandons the last one's answer; each still
	 * reaches the relay, which reads them one by one */
	return tfo_msg_send(s, &req.base) == TFO_OK ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct timespec gap;
	unsigned count, sent = 0;
	nng_socket s;
	uid_t uid;
	gid_t gid;
	int beat, rv;

	if (argc != 7 || (strcmp(argv[4], "beats") != 0 && strcmp(argv[4], "clouds") != 0)) {
		fprintf(stderr, "usage: %s URL UID GID beats|clouds COUNT GAP_MS\n", argv[0]);
		return 2;
	}
	uid = (uid_t)strtoul(argv[2], NULL, 10);
	gid = (gid_t)strtoul(argv[3], NULL, 10);
	beat = strcmp(argv[4], "beats") == 0;
	count = (unsigned)strtoul(argv[5], NULL, 10);
	gap.tv_sec = 0;
	gap.tv_nsec = (long)(strtoul(argv[6], NULL, 10) % 1000u) * 1000000L;
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || getuid() != uid) {
		perror("becoming the heartbeat's role user");
		return 2;
	}
	if ((rv = tfo_ipc_req_dial(&s, argv[1], 1u << 16, 5000, NULL)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 2000)) != 0) {
		fprintf(stderr, "dial %s: %s\n", argv[1], nng_strerror(rv));
		return 2;
	}
	for (unsigned i = 0; i < count; i++) {
		if (send_one(s, beat, i) == 0)
			sent++;
		nanosleep(&gap, NULL);
	}
	nng_close(s);
	printf("sent %u %s\n", sent, argv[4]);
	return sent == count ? 0 : 1;
}
