/*
 * worker_chan.c - fd-3 control channel framing (tfo-supervisor and every
 * worker): one packed Control per SOCK_SEQPACKET packet, size-capped.
 */
#include "common/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/ipc.h"
#include "common/zarray.h"

enum tfo_err
tfo_control_send(int fd, const Tfo__V1__Control *m)
{
	size_t len = tfo__v1__control__get_packed_size(m);
	uint8_t *buf;
	ssize_t n;

	if (len > TFO_CONTROL_MAX)
		return TFO_ERANGE;
	if ((buf = malloc(len ? len : 1)) == NULL)
		return TFO_ENOMEM;
	tfo__v1__control__pack(m, buf);
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	free(buf);
	if (n == -1)
		return errno == EAGAIN ? TFO_EAGAIN :
		    errno == EPIPE || errno == ECONNRESET ? TFO_ECLOSED : TFO_EIO;
	return (size_t)n == len ? TFO_OK : TFO_EIO;
}

Tfo__V1__Control *
tfo_control_decode(const void *buf, size_t len, enum tfo_err *err)
{
	return (Tfo__V1__Control *)tfo_msg_decode(&tfo__v1__control__descriptor,
	    buf, len, TFO_CONTROL_MAX, err);
}

/* chan_recv - recv() retried on EINTR */
static ssize_t
chan_recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, flags);
	while (n == -1 && errno == EINTR);
	return n;
}

/*
 * One packet is read straight into a buffer of the largest size accepted:
 * one recv a packet, where a peek for its length and then the read were
 * two (issue 18 §3: every worker reads a Ping, and the supervisor a Pong of
 * each worker, at every ping tick; a syscall costs microseconds on a VM).
 * The buffer is static: its pages are touched only as far as a packet
 * reaches (a Ping or a Pong, one page), and given back after a larger one
 * (a WorkerConfig, a SelfStats). Both callers read from their main thread.
 */
#define RBUF_KEEP 4096             /* the page a Ping or a Pong uses, kept */
static uint8_t rbuf[TFO_CONTROL_MAX] __attribute__((aligned(RBUF_KEEP)));

/* rbuf_release - its pages past the first, after a packet that reached them */
static void
rbuf_release(size_t len)
{
	if (len > RBUF_KEEP)
		tfo_pages_release(rbuf + RBUF_KEEP, len - RBUF_KEEP);
}

Tfo__V1__Control *
tfo_control_recv(int fd, enum tfo_err *err)
{
	Tfo__V1__Control *m;
	ssize_t len;

	/* MSG_TRUNC on a SEQPACKET socket returns the real packet length. */
	len = chan_recv(fd, rbuf, sizeof(rbuf), MSG_TRUNC | MSG_DONTWAIT);
	if (len == -1) {
		*err = errno == EAGAIN || errno == EWOULDBLOCK ? TFO_EAGAIN :
		    errno == ECONNRESET ? TFO_ECLOSED : TFO_EIO;
		return NULL;
	}
	if (len == 0) {
		*err = TFO_ECLOSED;
		return NULL;
	}
	if ((size_t)len > sizeof(rbuf)) {
		rbuf_release(sizeof(rbuf));     /* its tail was dropped */
		*err = TFO_ERANGE;
		return NULL;
	}
	m = tfo_control_decode(rbuf, (size_t)len, err);
	rbuf_release((size_t)len);
	return m;
}
