/*
 * worker_chan.c - fd-3 control channel framing (tfo-supervisor and every
 * worker): one packed Control per SOCK_SEQPACKET packet, size-capped.
 */
#include "common/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/ipc.h"

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

Tfo__V1__Control *
tfo_control_recv(int fd, enum tfo_err *err)
{
	Tfo__V1__Control *m;
	uint8_t peek, *buf;
	ssize_t len, n;

	/* MSG_TRUNC on a SEQPACKET socket returns the real packet length. */
	len = chan_recv(fd, &peek, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (len == -1) {
		*err = errno == EAGAIN || errno == EWOULDBLOCK ? TFO_EAGAIN :
		    errno == ECONNRESET ? TFO_ECLOSED : TFO_EIO;
		return NULL;
	}
	if (len == 0) {
		(void)chan_recv(fd, &peek, 1, MSG_DONTWAIT);
		*err = TFO_ECLOSED;
		return NULL;
	}
	if ((size_t)len > TFO_CONTROL_MAX) {
		(void)chan_recv(fd, &peek, 1, MSG_DONTWAIT);   /* drop it */
		*err = TFO_ERANGE;
		return NULL;
	}
	if ((buf = malloc((size_t)len)) == NULL) {
		*err = TFO_ENOMEM;
		return NULL;
	}
	n = chan_recv(fd, buf, (size_t)len, MSG_TRUNC | MSG_DONTWAIT);
	if (n != len) {
		free(buf);
		*err = n == -1 ? TFO_EIO : TFO_ERANGE;
		return NULL;
	}
	m = tfo_control_decode(buf, (size_t)len, err);
	free(buf);
	return m;
}
