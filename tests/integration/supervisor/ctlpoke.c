/*
 * ctlpoke.c - test-only client for the supervisor's control.ipc (run by the
 * integration tests as root): sends one hostile request and reports what came
 * back. Modes: truncated, oversize, huge, unknown-verb, bad-version, garbage.
 * Prints "reply ok=<0|1> error=<text>" and exits 0 on any valid reply, 2 when
 * no reply came (the supervisor dropped the request), 1 on local failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/ipc.h"
#include "tfo/v1/tfo.pb-c.h"

static size_t
build(const char *mode, uint8_t *buf, size_t bufsz)
{
	Tfo__V1__CtlRequest req = TFO__V1__CTL_REQUEST__INIT;
	size_t len;

	req.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	req.verb = TFO__V1__VERB__VERB_STATUS;
	req.role = "system";
	if (strcmp(mode, "unknown-verb") == 0)
		req.verb = (Tfo__V1__Verb)77;
	else if (strcmp(mode, "bad-version") == 0)
		req.version = 99;
	else if (strcmp(mode, "garbage") == 0) {
		memset(buf, 0xff, 64);
		return 64;
	} else if (strcmp(mode, "oversize") == 0 || strcmp(mode, "huge") == 0) {
		len = strcmp(mode, "huge") == 0 ? 200 * 1024 : 8 * 1024;
		if (len > bufsz)
			return 0;
		memset(buf, 0, len);
		return len;
	}
	len = tfo__v1__ctl_request__pack(&req, buf);
	if (strcmp(mode, "truncated") == 0)
		len = len > 3 ? len - 3 : 1;
	return len;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[256 * 1024];
	Tfo__V1__CtlReply *rep;
	char url[4200];
	nng_socket s;
	enum tfo_err e;
	nng_msg *m;
	size_t len;

	if (argc != 3) {
		fprintf(stderr, "usage: ctlpoke SOCKET MODE\n");
		return 1;
	}
	len = build(argv[2], buf, sizeof(buf));
	snprintf(url, sizeof(url), "ipc://%s", argv[1]);
	if (len == 0 || nng_req0_open(&s) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2000) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 2000) != 0 ||
	    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1 << 20) != 0 ||
	    nng_dial(s, url, NULL, 0) != 0 || nng_msg_alloc(&m, len) != 0)
		return 1;
	memcpy(nng_msg_body(m), buf, len);
	if (nng_sendmsg(s, m, 0) != 0)
		return 1;
	rep = (Tfo__V1__CtlReply *)tfo_msg_recv(s, &tfo__v1__ctl_reply__descriptor, 1 << 20, &e);
	if (rep == NULL) {
		/* No nng_close here: with a 200 KiB send the supervisor refused
		 * mid-transfer, nng 1.5.2's close can wait on that pipe for good
		 * (seen once in 3 runs under ctest -j2). Exit frees it all. */
		printf("no reply: %s\n", tfo_strerror(e));
		fflush(stdout);
		_exit(2);
	}
	nng_close(s);
	printf("reply ok=%d error=%s\n", rep->ok, rep->error);
	tfo__v1__ctl_reply__free_unpacked(rep, NULL);
	return 0;
}
