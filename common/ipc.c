/*
 * ipc.c - nng wrappers and the validating protobuf decode (all processes).
 */
#include "common/ipc.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/transport/ipc/ipc.h>

#include "common/log.h"
#include "tfo/v1/tfo.pb-c.h"

void
tfo_ipc_policy_init(struct tfo_ipc_policy *pol, const char *name)
{
	memset(pol, 0, sizeof(*pol));
	pol->name = name;
}

/* policy_slot - uid's entry, added when new; NULL when the table is full */
static uint32_t *
policy_slot(struct tfo_ipc_policy *pol, uint32_t uid)
{
	for (size_t i = 0; i < pol->nuids; i++)
		if (pol->uids[i] == uid)
			return &pol->roles[i];
	if (pol->nuids >= TFO_IPC_MAX_PEERS)
		return NULL;
	pol->uids[pol->nuids] = uid;
	pol->roles[pol->nuids] = 0;
	return &pol->roles[pol->nuids++];
}

void
tfo_ipc_policy_allow(struct tfo_ipc_policy *pol, uint32_t uid)
{
	(void)policy_slot(pol, uid);
}

void
tfo_ipc_policy_allow_role(struct tfo_ipc_policy *pol, uint32_t uid, uint32_t role)
{
	uint32_t *r = policy_slot(pol, uid);

	if (r != NULL && role > 0 && role < 32)
		*r |= TFO_IPC_ROLE_BIT(role);
}

uint32_t
tfo_ipc_policy_roles(const struct tfo_ipc_policy *pol, uint32_t uid)
{
	for (size_t i = 0; i < pol->nuids; i++)
		if (pol->uids[i] == uid)
			return pol->roles[i];
	return 0;
}

uint64_t
tfo_ipc_policy_rejected(const struct tfo_ipc_policy *pol)
{
	return __atomic_load_n(&pol->rejected, __ATOMIC_RELAXED);
}

uint64_t
tfo_ipc_policy_self_seen(const struct tfo_ipc_policy *pol)
{
	return __atomic_load_n(&pol->self_seen, __ATOMIC_RELAXED);
}

uint64_t
tfo_ipc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
tfo_ipc_policy_down_ms(const struct tfo_ipc_policy *pol, uint64_t now_ms)
{
	uint64_t since = __atomic_load_n(&pol->down_since_ms, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < TFO_IPC_UP_MAX; i++)
		if (__atomic_load_n(&pol->up[i], __ATOMIC_ACQUIRE) != 0)
			return 0;
	return since != 0 && now_ms > since ? now_ms - since : 0;
}

/* pipe_up / pipe_down - ADD_POST / REM_POST of a dialer's socket: which
 * pipes are up (lock-free slots: nng calls these on its own threads) */
static void
pipe_up(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct tfo_ipc_policy *pol = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);

	(void)ev;
	for (size_t i = 0; i < TFO_IPC_UP_MAX; i++) {
		uint32_t free_slot = 0;
		if (__atomic_compare_exchange_n(&pol->up[i], &free_slot, id, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_ACQUIRE))
			return;
	}
}

static void
pipe_down(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct tfo_ipc_policy *pol = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	int any = 0, was_up = 0;

	(void)ev;
	for (size_t i = 0; i < TFO_IPC_UP_MAX; i++) {
		uint32_t was = id;
		if (__atomic_compare_exchange_n(&pol->up[i], &was, 0, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_ACQUIRE))
			was_up = 1;
		else if (was != 0)
			any = 1;
	}
	/* a pipe refused at ADD_PRE also ends here: it never was up */
	if (was_up && !any)
		__atomic_store_n(&pol->down_since_ms, tfo_ipc_mono_ms(), __ATOMIC_RELEASE);
}

int
tfo_ipc_pipe_peer(nng_pipe p, uint32_t *uid, uint32_t *pid)
{
	uint64_t u = UINT64_MAX, id = 0;

	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &u) != 0 || u > UINT32_MAX)
		return -1;
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &id) != 0 || id > UINT32_MAX)
		id = 0;
	*uid = (uint32_t)u;
	*pid = (uint32_t)id;
	return 0;
}

/* uid_in_group - whether uid's user is a member (primary or supplementary) of gid */
static int
uid_in_group(uint32_t uid, uint32_t gid)
{
	char buf[4096];
	struct group gr, *grp = NULL;

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &grp) != 0 || grp == NULL)
		return 0;
	for (char **m = grp->gr_mem; m && *m; m++) {
		char pbuf[4096];
		struct passwd pw, *pwp = NULL;
		if (getpwnam_r(*m, &pw, pbuf, sizeof(pbuf), &pwp) == 0 && pwp &&
		    pwp->pw_uid == uid)
			return 1;
	}
	{
		char pbuf[4096];
		struct passwd pw, *pwp = NULL;
		if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &pwp) == 0 && pwp &&
		    pwp->pw_gid == gid)
			return 1;
	}
	return 0;
}

static int
policy_allows(const struct tfo_ipc_policy *pol, uint32_t uid)
{
	for (size_t i = 0; i < pol->nuids; i++)
		if (pol->uids[i] == uid)
			return 1;
	return pol->allow_gid && uid_in_group(uid, pol->gid);
}

/*
 * pipe_check - NNG_PIPE_EV_ADD_PRE: close any pipe whose peer is not allowed.
 * Logged at the 1st, 2nd, 4th, 8th... refusal: a dialer refusing the
 * listener it reached redials every second.
 */
static void
pipe_check(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct tfo_ipc_policy *pol = arg;
	uint32_t uid, pid = 0;
	uint64_t n;
	int known;

	(void)ev;
	known = tfo_ipc_pipe_peer(p, &uid, &pid) == 0;
	if (known && pol->allow_self && pid == (uint32_t)getpid()) {
		__atomic_add_fetch(&pol->self_seen, 1, __ATOMIC_RELAXED);
		return;
	}
	if (known && policy_allows(pol, uid))
		return;
	n = __atomic_add_fetch(&pol->rejected, 1, __ATOMIC_RELAXED);
	if ((n & (n - 1)) == 0)
		log_warn("%s: refused peer uid %lld pid %u: not allowed on this channel "
		    "(%llu refused so far)", pol->name, known ? (long long)uid : -1LL, pid,
		    (unsigned long long)n);
	nng_pipe_close(p);
}

int
tfo_ipc_listen(nng_socket s, const char *url, size_t maxsz, int mode, nng_listener *l)
{
	int rv;

	if ((rv = nng_listener_create(l, s, url)) != 0)
		return rv;
	if ((rv = nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
	    (rv = nng_listener_set_int(*l, NNG_OPT_IPC_PERMISSIONS, mode)) != 0 ||
	    (rv = nng_listener_start(*l, 0)) != 0)
		(void)nng_listener_close(*l);
	return rv;
}

int
tfo_ipc_rep_open(nng_socket *s, size_t maxsz, struct tfo_ipc_policy *pol)
{
	int rv;

	if ((rv = nng_rep0_open(s)) != 0)
		return rv;
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
	    (pol && (rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, pipe_check, pol)) != 0))
		nng_close(*s);
	return rv;
}

int
tfo_ipc_rep_listen(nng_socket *s, const char *url, size_t maxsz, int mode,
    struct tfo_ipc_policy *pol)
{
	nng_listener l;
	int rv;

	if ((rv = tfo_ipc_rep_open(s, maxsz, pol)) != 0)
		return rv;
	if ((rv = tfo_ipc_listen(*s, url, maxsz, mode, &l)) != 0)
		nng_close(*s);
	return rv;
}

int
tfo_ipc_req_dial(nng_socket *s, const char *url, size_t maxsz,
    int recv_timeout_ms, struct tfo_ipc_policy *pol)
{
	nng_dialer d;
	int rv;

	if ((rv = nng_req0_open(s)) != 0)
		return rv;
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, maxsz)) != 0)
		goto fail;
	if (recv_timeout_ms > 0 &&
	    (rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, recv_timeout_ms)) != 0)
		goto fail;
	if (pol != NULL) {
		memset(pol->up, 0, sizeof(pol->up));
		__atomic_store_n(&pol->down_since_ms, tfo_ipc_mono_ms(), __ATOMIC_RELEASE);
		if ((rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, pipe_check, pol)) != 0 ||
		    (rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_POST, pipe_up, pol)) != 0 ||
		    (rv = nng_pipe_notify(*s, NNG_PIPE_EV_REM_POST, pipe_down, pol)) != 0)
			goto fail;
	}
	if ((rv = nng_dialer_create(&d, *s, url)) != 0)
		goto fail;
	if ((rv = nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 10)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
		goto fail;
	return 0;
fail:
	nng_close(*s);
	return rv;
}

int
tfo_ipc_send_timed(nng_socket s, nng_aio *aio, nng_msg *m, int timeout_ms)
{
	int rv;

	nng_aio_set_msg(aio, m);
	nng_aio_set_timeout(aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_INFINITE);
	nng_send_aio(s, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		nng_msg_free(nng_aio_get_msg(aio));
	nng_aio_set_msg(aio, NULL);
	return rv;
}

int
tfo_ipc_recv_timed(nng_socket s, nng_aio *aio, nng_msg **m, int timeout_ms)
{
	int rv;

	*m = NULL;
	nng_aio_set_timeout(aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_INFINITE);
	nng_recv_aio(s, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0)
		*m = nng_aio_get_msg(aio);
	nng_aio_set_msg(aio, NULL);
	return rv;
}

/* timed - one send (recv 0) or receive (recv 1) within the socket's own
 * timeout option, as an aio deadline; the nng error */
static int
timed(nng_socket s, nng_msg **m, int recv)
{
	nng_duration ms = NNG_DURATION_INFINITE;
	nng_aio *aio;
	int rv;

	(void)nng_socket_get_ms(s, recv ? NNG_OPT_RECVTIMEO : NNG_OPT_SENDTIMEO, &ms);
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		if (!recv)
			nng_msg_free(*m);
		return rv;
	}
	rv = recv ? tfo_ipc_recv_timed(s, aio, m, ms) : tfo_ipc_send_timed(s, aio, *m, ms);
	nng_aio_free(aio);
	return rv;
}

enum tfo_err
tfo_msg_send(nng_socket s, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	nng_msg *msg;
	int rv;

	if (nng_msg_alloc(&msg, len) != 0)
		return TFO_ENOMEM;
	protobuf_c_message_pack(m, nng_msg_body(msg));
	if ((rv = timed(s, &msg, 0)) != 0)
		return rv == NNG_ETIMEDOUT ? TFO_ETIMEDOUT : TFO_EIO;
	return TFO_OK;
}

ProtobufCMessage *
tfo_msg_decode(const ProtobufCMessageDescriptor *d, const void *buf,
    size_t len, size_t maxlen, enum tfo_err *err)
{
	const ProtobufCFieldDescriptor *vf;
	ProtobufCMessage *m;

	if (len > maxlen) {
		*err = TFO_ERANGE;
		return NULL;
	}
	m = protobuf_c_message_unpack(d, NULL, len, buf);
	if (m == NULL) {
		*err = TFO_EPROTO;
		return NULL;
	}
	vf = protobuf_c_message_descriptor_get_field_by_name(d, "version");
	if (vf && vf->type == PROTOBUF_C_TYPE_UINT32) {
		uint32_t v;
		memcpy(&v, (const char *)m + vf->offset, sizeof(v));
		if (v != TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION) {
			protobuf_c_message_free_unpacked(m, NULL);
			*err = TFO_EVERSION;
			return NULL;
		}
	}
	*err = TFO_OK;
	return m;
}

ProtobufCMessage *
tfo_msg_recv(nng_socket s, const ProtobufCMessageDescriptor *d, size_t maxlen,
    enum tfo_err *err)
{
	ProtobufCMessage *m;
	nng_msg *msg;
	int rv;

	if ((rv = timed(s, &msg, 1)) != 0) {
		*err = rv == NNG_ETIMEDOUT ? TFO_ETIMEDOUT :
		    rv == NNG_ECLOSED ? TFO_ECLOSED : TFO_EIO;
		return NULL;
	}
	m = tfo_msg_decode(d, nng_msg_body(msg), nng_msg_len(msg), maxlen, err);
	nng_msg_free(msg);
	return m;
}
