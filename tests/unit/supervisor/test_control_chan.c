/*
 * test_control_chan.c - unit tests of the fd-3 framing (common/worker_chan.c)
 * on a real SOCK_SEQPACKET pair: round trip, EOF, truncated, oversized,
 * garbage and wrong-version packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/worker.h"

static int sp[2];

/* recv calls of worker_chan.c, counted (linked with -Wl,--wrap=recv) */
static int recvs;
ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);

ssize_t
__wrap_recv(int fd, void *buf, size_t len, int flags)
{
	recvs++;
	return __real_recv(fd, buf, len, flags);
}

static int
setup(void **state)
{
	int sz = 2 * TFO_CONTROL_MAX;

	(void)state;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) == -1)
		return -1;
	(void)setsockopt(sp[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return 0;
}

static void
test_round_trip(void **state)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT, *r;
	Tfo__V1__Ping p = TFO__V1__PING__INIT;
	enum tfo_err e;

	(void)state;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	p.nonce = 0x1234567890ull;
	m.ping = &p;
	assert_int_equal(tfo_control_send(sp[0], &m), TFO_OK);
	assert_non_null(r = tfo_control_recv(sp[1], &e));
	assert_int_equal(r->msg_case, TFO__V1__CONTROL__MSG_PING);
	assert_true(r->ping->nonce == 0x1234567890ull);
	tfo__v1__control__free_unpacked(r, NULL);
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EAGAIN);
}

static void
test_hostile_packets(void **state)
{
	static uint8_t big[TFO_CONTROL_MAX + 1];
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	uint8_t buf[64];
	size_t len;
	enum tfo_err e;

	(void)state;
	/* garbage */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(send(sp[0], buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EPROTO);
	/* wrong version */
	m.version = 999;
	len = tfo__v1__control__pack(&m, buf);
	assert_int_equal(send(sp[0], buf, len, 0), (ssize_t)len);
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EVERSION);
	/* oversized: refused and consumed, the next packet is fine */
	memset(big, 0x08, sizeof(big));
	assert_int_equal(send(sp[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_ERANGE);
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EAGAIN);
	/* truncated message: a field that runs past the end */
	buf[0] = 0x12;  /* field 2, length-delimited */
	buf[1] = 0x40;  /* 64 bytes follow - but only 2 do */
	buf[2] = buf[3] = 0;
	assert_int_equal(send(sp[0], buf, 4, 0), 4);
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EPROTO);
	/* a valid envelope with a bad version, after all that: still refused */
	assert_int_equal(tfo_control_send(sp[0], &m), TFO_OK);
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EVERSION);
}

/*
 * Issue 18 §3: every worker reads a Ping, and the supervisor each worker's
 * Pong, at every ping tick: one recv a packet and one that finds the queue
 * empty (the old code peeked at each packet's length first: 3 packets took
 * 7 recv calls, not 4). A large packet between small ones (a SelfStats, a
 * WorkerConfig) reads whole, and so does the small one after it.
 */
static void
test_one_recv_a_packet(void **state)
{
	static char big[100 * 1024];
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT, *r;
	Tfo__V1__Ping p = TFO__V1__PING__INIT;
	Tfo__V1__Pong q = TFO__V1__PONG__INIT;
	enum tfo_err e;

	(void)state;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_PING;
	m.ping = &p;
	for (int i = 0; i < 3; i++) {
		p.nonce = 100 + (uint64_t)i;
		assert_int_equal(tfo_control_send(sp[0], &m), TFO_OK);
	}
	recvs = 0;
	for (int i = 0; i < 3; i++) {
		assert_non_null(r = tfo_control_recv(sp[1], &e));
		assert_true(r->ping->nonce == 100 + (uint64_t)i);
		tfo__v1__control__free_unpacked(r, NULL);
	}
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_EAGAIN);
	assert_int_equal(recvs, 4);
	/* large, then small */
	memset(big, 'x', sizeof(big) - 1);
	m.msg_case = TFO__V1__CONTROL__MSG_PONG;
	m.ping = NULL;
	m.pong = &q;
	q.nonce = 7;
	q.status = big;
	assert_int_equal(tfo_control_send(sp[0], &m), TFO_OK);
	q.nonce = 8;
	q.status = "ok";
	assert_int_equal(tfo_control_send(sp[0], &m), TFO_OK);
	assert_non_null(r = tfo_control_recv(sp[1], &e));
	assert_true(r->pong->nonce == 7);
	assert_int_equal(strlen(r->pong->status), sizeof(big) - 1);
	assert_int_equal(strspn(r->pong->status, "x"), sizeof(big) - 1);
	tfo__v1__control__free_unpacked(r, NULL);
	assert_non_null(r = tfo_control_recv(sp[1], &e));
	assert_true(r->pong->nonce == 8);
	assert_string_equal(r->pong->status, "ok");
	tfo__v1__control__free_unpacked(r, NULL);
}

static void
test_eof(void **state)
{
	enum tfo_err e;

	(void)state;
	close(sp[0]);
	sp[0] = socket(AF_UNIX, SOCK_SEQPACKET, 0);   /* teardown closes it */
	assert_null(tfo_control_recv(sp[1], &e));
	assert_int_equal(e, TFO_ECLOSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_recv_a_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
