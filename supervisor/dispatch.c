/*
 * dispatch.c - tfo-supervisor: one tfoctl request in, one CtlReply out (run
 * on the loop thread). tfoctl is outside the trust boundary: a bad request
 * gets an error reply and a log line, never more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

#define CTL_REQ_MAX 4096

static int
do_restart(struct sv *sv, const char *role, char *err, size_t errsz)
{
	int r = tfo_role_from_name(role);

	if (r < 0) {
		snprintf(err, errsz, "unknown role '%.64s' (system, process, logs, buffer, "
		    "exporter, heartbeat)", role);
		return -1;
	}
	if (sv->shutdown_phase) {
		snprintf(err, errsz, "the supervisor is shutting down");
		return -1;
	}
	if (!sv->w[r].enabled) {
		snprintf(err, errsz, "role %s is disabled in the configuration", role);
		return -1;
	}
	log_info("tfoctl: restart %s", role);
	sv_worker_restart(&sv->w[r]);
	return 0;
}

/* status_gathered - the workers' stats are in: the waiting status reply */
static void
status_gathered(struct sv *sv)
{
	struct sv_ctl_done done = sv->status_wait;

	sv->status_wait.fn = NULL;
	if (done.fn != NULL)
		sv_ctl_status_reply(sv, &done);
}

/* status_wait - answer done once the workers sent fresh stats; 0, or -1
 * (answer now: no way to answer later, or a status waits already) */
static int
status_wait(struct sv *sv, const struct sv_ctl_done *done)
{
	if (done == NULL || done->fn == NULL || sv->status_wait.fn != NULL)
		return -1;
	if (sv_stats_gather(sv, status_gathered) != 0)
		return -1;
	sv->status_wait = *done;
	return 0;
}

/* dispatch - one switch on the verb; every case returns */
static int
dispatch(struct sv *sv, const Tfo__V1__CtlRequest *req, Tfo__V1__CtlReply *rep,
    struct sv_status_buf *b, const struct sv_ctl_done *done, char *err, size_t errsz)
{
	switch (req->verb) {
	case TFO__V1__VERB__VERB_STATUS:
		/* answered once the workers sent fresh stats (gather.c); from
		 * the last ones when it cannot wait (no way to answer later) */
		if (status_wait(sv, done) == 0)
			return 1;
		sv_status_build(sv, b, 1);
		rep->status = &b->st;
		return 0;
	case TFO__V1__VERB__VERB_RESTART:
		return do_restart(sv, req->role, err, errsz);
	case TFO__V1__VERB__VERB_RELOAD:
		log_info("tfoctl: reload");
		return sv_reload(sv, err, errsz);
	case TFO__V1__VERB__VERB_STOP:
		log_info("tfoctl: stop");
		sv_shutdown_begin(sv, 0);
		return 0;
	case TFO__V1__VERB__VERB_TEST_ACTION:
#ifdef TFO_TEST_HOOKS
		return sv_test_action_start(sv, req, done, err, errsz);
#else
		(void)done;
		log_warn("control: test-action refused: release build");
		snprintf(err, errsz, "test actions are refused: this tfo-supervisor is a release "
		    "build (compiled without TFO_TEST_HOOKS)");
		return -1;
#endif
	default:
		log_warn("control: unknown verb %d refused", (int)req->verb);
		snprintf(err, errsz, "unknown verb %d", (int)req->verb);
		return -1;
	}
}

/* pack - the reply, malloc'd (NULL when out of memory) */
static uint8_t *
pack(const Tfo__V1__CtlReply *rep, size_t *outlen)
{
	uint8_t *out;

	*outlen = tfo__v1__ctl_reply__get_packed_size(rep);
	if ((out = malloc(*outlen ? *outlen : 1)) != NULL)
		tfo__v1__ctl_reply__pack(rep, out);
	return out;
}

uint8_t *
sv_ctl_handle(struct sv *sv, const void *buf, size_t len, size_t *outlen,
    const struct sv_ctl_done *done, int *deferred)
{
	Tfo__V1__CtlReply rep = TFO__V1__CTL_REPLY__INIT;
	Tfo__V1__CtlRequest *req;
	struct sv_status_buf *b = calloc(1, sizeof(*b));
	char err[512] = "";
	enum tfo_err e;
	uint8_t *out = NULL;
	int rv;

	*deferred = 0;
	rep.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	req = (Tfo__V1__CtlRequest *)tfo_msg_decode(&tfo__v1__ctl_request__descriptor,
	    buf, len, CTL_REQ_MAX, &e);
	if (b == NULL) {
		snprintf(err, sizeof(err), "out of memory");
	} else if (req == NULL) {
		log_warn("control: bad request of %zu bytes refused: %s", len, tfo_strerror(e));
		snprintf(err, sizeof(err), "bad request: %s", tfo_strerror(e));
	} else if ((rv = dispatch(sv, req, &rep, b, done, err, sizeof(err))) == 1) {
		/* deferred: the status once gathered, the test relay when the worker answers */
		*deferred = 1;
		tfo__v1__ctl_request__free_unpacked(req, NULL);
		free(b);
		*outlen = 0;
		return NULL;
	} else
		rep.ok = rv == 0;
	rep.error = err;
	out = pack(&rep, outlen);
	if (req)
		tfo__v1__ctl_request__free_unpacked(req, NULL);
	free(b);
	return out;
}

void
sv_ctl_status_reply(struct sv *sv, const struct sv_ctl_done *done)
{
	Tfo__V1__CtlReply rep = TFO__V1__CTL_REPLY__INIT;
	struct sv_status_buf *b = calloc(1, sizeof(*b));
	uint8_t *out;
	size_t len = 0;

	rep.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	rep.error = (char *)"";
	if (b == NULL)
		rep.error = (char *)"out of memory";
	else {
		sv_status_build(sv, b, 1);
		rep.status = &b->st;
		rep.ok = 1;
	}
	out = pack(&rep, &len);
	free(b);
	done->fn(done->arg, out, out ? len : 0);
}
