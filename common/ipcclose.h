/*
 * ipcclose.h - nng_close with a bound. nng 1.5.2 can wait forever in
 * nng_close when a dialer or listener was creating a pipe at that moment (the
 * pipe is orphaned and the socket waits for it: nng issue #1498, fixed after
 * 1.5.2; Debian bookworm ships 1.5.2). Seen once in 500 runs of
 * tests/stress/buffer_hang.sh: tfo-buffer stuck at its stop, closing its
 * health probe. A worker's loop and its stop must not wait on that.
 */
#ifndef TFO_IPCCLOSE_H
#define TFO_IPCCLOSE_H

#include <nng/nng.h>

/* how long a close may take before it is left to finish on its own */
#define TFO_IPC_CLOSE_MS 2000

/*
 * tfo_ipc_close - close s on a helper thread and wait up to TFO_IPC_CLOSE_MS
 * (timeout_ms when > 0) for it. 0 when it closed; -1 when it did not finish in
 * time: logged at warn naming `what`, and the thread keeps waiting (the socket
 * id is dead to the caller either way; memory its callbacks use must stay
 * valid, as for any socket still closing). Without a thread it closes inline.
 */
int tfo_ipc_close(nng_socket s, const char *what, int timeout_ms);

#endif
