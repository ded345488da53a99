/*
 * peer.h - who sent a request to tfo-buffer, as its connection proves it:
 * the kernel's peer uid of the nng pipe (chan.c reads it as the request
 * arrives) and the roles the supervisor said that uid speaks as. The
 * dispatcher (dispatch.c) trusts this, never a role a message names.
 */
#ifndef TFO_BUFFER_PEER_H
#define TFO_BUFFER_PEER_H

#include <stdint.h>

struct buffer_peer {
	uint32_t uid;
	uint32_t roles;            /* TFO_IPC_ROLE_BIT of each role that uid speaks as */
	uint32_t pipe;             /* the connection's nng pipe id (0 unknown) */
};

#endif
