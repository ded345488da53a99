/*
 * ipc.h - nng socket setup shared by every process: listeners and dialers with
 * a receive size cap set before start and the peer uid checked on every pipe
 * (NNG_PIPE_EV_ADD_PRE), plus the one validating protobuf decode helper.
 */
#ifndef TFO_IPC_H
#define TFO_IPC_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

#include "common/err.h"

#define TFO_IPC_MAX_PEERS 16
#define TFO_IPC_UP_MAX 8        /* a dialer's pipes tracked (one peer: one or two) */

/*
 * Who may connect: a pipe whose peer uid is not listed is closed at once.
 * The kernel vouches for a peer's uid (SO_PEERCRED), so a listed uid may also
 * carry the roles it speaks as: a server asks tfo_ipc_policy_roles of a
 * message's pipe instead of believing a role the message names.
 */
struct tfo_ipc_policy {
	const char *name;               /* channel name for logs: "ingest", "control" */
	uint32_t uids[TFO_IPC_MAX_PEERS];
	uint32_t roles[TFO_IPC_MAX_PEERS];  /* per uid: TFO_IPC_ROLE_BIT of each role it speaks as */
	size_t nuids;
	uint32_t gid;                   /* with allow_gid: members of this group */
	int allow_gid;                  /* 1: peers in group `gid` are allowed (tfoctl admins) */
	int allow_self;                 /* 1: a pipe from this very process (a health probe) */
	/* counted on nng threads (atomic) */
	uint64_t rejected;              /* pipes refused so far */
	uint64_t self_seen;             /* pipes from this process admitted so far */
	/* a dialer's pipes up now (ids, 0 = free), and since when none is (mono ms) */
	uint32_t up[TFO_IPC_UP_MAX];
	uint64_t down_since_ms;
};

#define TFO_IPC_ROLE_BIT(r) ((uint32_t)1 << ((unsigned)(r) & 31u))

void tfo_ipc_policy_init(struct tfo_ipc_policy *pol, const char *name);
void tfo_ipc_policy_allow(struct tfo_ipc_policy *pol, uint32_t uid);
/* tfo_ipc_policy_allow_role - allow uid, speaking as role (a Tfo__V1__Role);
 * one uid given several roles (every role as one user: the unprivileged dev
 * mode) may speak as any of them */
void tfo_ipc_policy_allow_role(struct tfo_ipc_policy *pol, uint32_t uid, uint32_t role);
/* tfo_ipc_policy_roles - the roles uid speaks as (0: none, or not listed) */
uint32_t tfo_ipc_policy_roles(const struct tfo_ipc_policy *pol, uint32_t uid);
/* tfo_ipc_policy_rejected - pipes refused so far */
uint64_t tfo_ipc_policy_rejected(const struct tfo_ipc_policy *pol);
/* tfo_ipc_policy_self_seen - pipes from this process admitted so far */
uint64_t tfo_ipc_policy_self_seen(const struct tfo_ipc_policy *pol);
/* tfo_ipc_policy_down_ms - a dialer's socket (tfo_ipc_req_dial): 0 while a
 * pipe to its peer is up, else how long none has been (ms, from now_ms) */
uint64_t tfo_ipc_policy_down_ms(const struct tfo_ipc_policy *pol, uint64_t now_ms);
/* tfo_ipc_pipe_peer - the uid and pid of p's peer, as the kernel reports them
 * (pid may be 0 when unknown); -1 when p is gone or is not an ipc pipe */
int tfo_ipc_pipe_peer(nng_pipe p, uint32_t *uid, uint32_t *pid);
/* tfo_ipc_mono_ms - CLOCK_MONOTONIC in ms */
uint64_t tfo_ipc_mono_ms(void);

/*
 * tfo_ipc_rep_listen - open a REP socket listening on url ("ipc://path"), with
 * NNG_OPT_RECVMAXSZ = maxsz and the socket file created with `mode`. pol must
 * outlive the socket. Returns 0 or an nng error code.
 */
int tfo_ipc_rep_listen(nng_socket *s, const char *url, size_t maxsz, int mode,
    struct tfo_ipc_policy *pol);
/* tfo_ipc_rep_open - the REP socket of tfo_ipc_rep_listen without a listener
 * (add it with tfo_ipc_listen); 0 or an nng error with nothing left open */
int tfo_ipc_rep_open(nng_socket *s, size_t maxsz, struct tfo_ipc_policy *pol);
/*
 * tfo_ipc_listen - one more listener of s on url (RECVMAXSZ maxsz, the socket
 * file created with mode), started; its handle in *l, to close and listen
 * again when it stops serving (nng 1.5.2 stops a listener's accepting for
 * good when a peer leaves during the SP handshake: nng issue #1518).
 */
int tfo_ipc_listen(nng_socket s, const char *url, size_t maxsz, int mode, nng_listener *l);

/*
 * tfo_ipc_req_dial - open a REQ socket dialing url; the dial retries in the
 * background (NNG_FLAG_NONBLOCK) so a peer that starts later is found.
 * recv_timeout_ms bounds every reply wait (0 = none). pol: the uids the
 * listener reached may run as (DESIGN §3: a dialer checks whom it reached);
 * NULL only where any peer will do (tfoctl, which checks nothing it is sent).
 */
int tfo_ipc_req_dial(nng_socket *s, const char *url, size_t maxsz,
    int recv_timeout_ms, struct tfo_ipc_policy *pol);

/*
 * tfo_ipc_send_timed / tfo_ipc_recv_timed - one send or receive on s with a
 * deadline of its own (timeout_ms on the aio, <= 0: none), waited for. aio is
 * the caller's (nng_aio_alloc with no callback), one per thread. The send
 * takes m, freed when it fails. 0 or the nng error (NNG_ETIMEDOUT).
 */
int tfo_ipc_send_timed(nng_socket s, nng_aio *aio, nng_msg *m, int timeout_ms);
int tfo_ipc_recv_timed(nng_socket s, nng_aio *aio, nng_msg **m, int timeout_ms);

/*
 * tfo_msg_send - pack a protobuf-c message into one nng message and send it,
 * within the socket's NNG_OPT_SENDTIMEO (on the aio: an explicit deadline).
 */
enum tfo_err tfo_msg_send(nng_socket s, const ProtobufCMessage *m);

/*
 * tfo_msg_decode - the one validating decode: refuses len > maxlen, a failed
 * unpack, and (when the message has a "version" field) any version other than
 * TFO_PROTO_VERSION. Returns the message (free with protobuf_c_message_free_unpacked)
 * or NULL with *err set.
 */
ProtobufCMessage *tfo_msg_decode(const ProtobufCMessageDescriptor *d,
    const void *buf, size_t len, size_t maxlen, enum tfo_err *err);

/* tfo_msg_recv - receive one nng message within the socket's
 * NNG_OPT_RECVTIMEO (on the aio) and decode it as above. */
ProtobufCMessage *tfo_msg_recv(nng_socket s, const ProtobufCMessageDescriptor *d,
    size_t maxlen, enum tfo_err *err);

#endif
