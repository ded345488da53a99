/*
 * testaction.c - tfo-supervisor, TEST BUILDS ONLY (TFO_TEST_HOOKS): relays a
 * tfoctl test-action request to a worker on fd 3 and answers tfoctl when the
 * worker's TestResult comes back, when the worker dies (the sandbox killed
 * it), or after TEST_TIMEOUT_MS. Release builds refuse the verb (dispatch.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/worker.h"
#include "supervisor/supervisor.h"

#ifdef TFO_TEST_HOOKS

#define TEST_TIMEOUT_MS 5000

/* finish - answer the deferred tfoctl request and forget the pending test */
static void
finish(struct sv *sv, int ok, const char *error, Tfo__V1__TestResult *res)
{
	Tfo__V1__CtlReply rep = TFO__V1__CTL_REPLY__INIT;
	size_t len;
	uint8_t *out;

	if (sv->test_worker != NULL)
		sv->test_worker->test_pending = 0;
	sv->test_worker = NULL;
	if (sv->ev_test)
		evtimer_del(sv->ev_test);
	rep.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	rep.ok = ok;
	rep.error = (char *)(error ? error : "");
	rep.test_result = res;
	len = tfo__v1__ctl_reply__get_packed_size(&rep);
	if ((out = malloc(len ? len : 1)) != NULL)
		tfo__v1__ctl_reply__pack(&rep, out);
	sv->test_done.fn(sv->test_done.arg, out, out ? len : 0);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;
	char err[128];

	(void)fd;
	(void)what;
	snprintf(err, sizeof(err), "no test result from %s within %d ms",
	    sv->test_worker ? tfo_role_name(sv->test_worker->role) : "?", TEST_TIMEOUT_MS);
	finish(sv, 0, err, NULL);
}

int
sv_test_action_start(struct sv *sv, const Tfo__V1__CtlRequest *req,
    const struct sv_ctl_done *done, char *err, size_t errsz)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	struct timeval tv = { TEST_TIMEOUT_MS / 1000, (TEST_TIMEOUT_MS % 1000) * 1000 };
	int r = tfo_role_from_name(req->role);
	struct sv_worker *w;
	enum tfo_err e;

	if (r < 0 || req->test_action == NULL || req->test_action->action == NULL) {
		snprintf(err, errsz, "test-action needs a role and an action");
		return -1;
	}
	w = &sv->w[r];
	if (done == NULL || done->fn == NULL || w->state != SV_READY || w->fd < 0) {
		snprintf(err, errsz, "%s is not ready", req->role);
		return -1;
	}
	if (sv->ev_test == NULL && (sv->ev_test = evtimer_new(sv->base, on_timeout, sv)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_TEST_ACTION;
	m.test_action = req->test_action;
	if ((e = tfo_control_send(w->fd, &m)) != TFO_OK) {
		snprintf(err, errsz, "send to %s: %s", req->role, tfo_strerror(e));
		return -1;
	}
	log_warn("tfoctl: TEST HOOK: %s asked to attempt \"%s\"", req->role,
	    req->test_action->action);
	w->test_pending = 1;
	sv_worker_watch(w);             /* its TestResult read as it comes */
	sv->test_worker = w;
	sv->test_done = *done;
	evtimer_add(sv->ev_test, &tv);
	return 1;
}

void
sv_test_action_result(struct sv_worker *w, Tfo__V1__TestResult *res)
{
	log_info("%s: test result %s: err %d %s", tfo_role_name(w->role), res->action,
	    res->err, res->detail);
	finish(w->sv, 1, NULL, res);
}

void
sv_test_action_died(struct sv_worker *w)
{
	Tfo__V1__TestResult res = TFO__V1__TEST_RESULT__INIT;
	char detail[sizeof(w->last_exit.reason) + 16];

	/* err < 0: the worker died; -signal, or -1000 for an exit */
	res.action = "";
	res.err = w->last_exit.sig ? -w->last_exit.sig : -1000;
	snprintf(detail, sizeof(detail), "worker died: %s", w->last_exit.reason);
	res.detail = detail;
	finish(w->sv, 1, NULL, &res);
}

void
sv_test_action_fini(struct sv *sv)
{
	if (sv->ev_test)
		event_free(sv->ev_test);
	sv->ev_test = NULL;
	sv->test_worker = NULL;
}

#endif
