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

/* status_buf - storage for one status reply, packed before it goes away */
struct status_buf {
	Tfo__V1__SupervisorStatus st;
	Tfo__V1__WorkerStatus ws[TFO_ROLE_COUNT], *wp[TFO_ROLE_COUNT];
	Tfo__V1__LastExit le[TFO_ROLE_COUNT];
	Tfo__V1__Sandbox sb[TFO_ROLE_COUNT];
	struct sv_sandbox raw[TFO_ROLE_COUNT];
	char sig[TFO_ROLE_COUNT][16];
	char seccomp[TFO_ROLE_COUNT][32];
};

/* seccomp_name - the kernel's view (/proc Seccomp:) and, for a filter, the
 * mode the worker was started with: "filter/kill", "filter/log", "off" */
static const char *
seccomp_name(const struct sv_worker *w, int v, char *buf, size_t bufsz)
{
	if (v != 2)
		return v == 0 ? "off" : v == 1 ? "strict" : "unknown";
	snprintf(buf, bufsz, "filter/%s", w->seccomp_mode[0] ? w->seccomp_mode : "?");
	return buf;
}

static void
worker_status(const struct sv_worker *w, struct status_buf *b, int i, int64_t now)
{
	Tfo__V1__WorkerStatus *ws = &b->ws[i];

	tfo__v1__worker_status__init(ws);
	tfo__v1__last_exit__init(&b->le[i]);
	tfo__v1__sandbox__init(&b->sb[i]);
	ws->role = (char *)tfo_role_name(w->role);
	ws->state = (char *)(w->enabled || w->state != SV_STOPPED ?
	    sv_worker_state_name(w) : "disabled");
	ws->pid = w->pid > 0 ? (uint32_t)w->pid : 0;
	ws->user = (char *)w->user;
	ws->uid = (uint32_t)w->uid;
	ws->uptime_s = w->pid > 0 ? (double)(now - w->started_ms) / 1000.0 : 0;
	ws->restarts = w->pol.restarts;
	ws->restarts_in_window = w->pol.ndeaths;
	ws->incarnation = w->pid > 0 ? w->incarnation : 0;
	b->le[i].reason = (char *)w->last_exit.reason;
	b->le[i].code = w->last_exit.code;
	snprintf(b->sig[i], sizeof(b->sig[i]), "%s",
	    w->last_exit.sig ? sv_signal_name(w->last_exit.sig) : "");
	b->le[i].signal = b->sig[i];
	b->le[i].at = w->last_exit.at;
	ws->last_exit = &b->le[i];
	ws->next_restart_in_s = w->state == SV_BACKOFF && w->next_start_ms > now ?
	    (double)(w->next_start_ms - now) / 1000.0 : 0;
	if (w->pid > 0)
		(void)sv_proc_status_read(w->pid, &b->raw[i]);
	else
		(void)sv_proc_status_parse("", 0, &b->raw[i]);
	b->sb[i].no_new_privs = b->raw[i].no_new_privs == 1;
	b->sb[i].seccomp = (char *)(w->pid > 0 ? seccomp_name(w, b->raw[i].seccomp,
	    b->seccomp[i], sizeof(b->seccomp[i])) : "");
	b->sb[i].cap_eff = b->raw[i].cap_eff;
	/* Landlock leaves no trace in /proc: this is what the worker's Ready said */
	b->sb[i].landlock = (char *)(w->pid > 0 ? w->landlock : "");
	ws->sandbox = &b->sb[i];
	if (w->stats) {
		ws->stats = w->stats->stats;
		ws->n_stats = w->stats->n_stats;
	}
	b->wp[i] = ws;
}

static void
build_status(struct sv *sv, struct status_buf *b)
{
	int64_t now = sv_now_ms();

	tfo__v1__supervisor_status__init(&b->st);
	b->st.pid = (uint32_t)getpid();
	b->st.version = TFO_VERSION;
	b->st.config = sv->config_path;
	b->st.uptime_s = (double)(now - sv->start_ms) / 1000.0;
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		worker_status(&sv->w[r], b, r, now);
	b->st.workers = b->wp;
	b->st.n_workers = TFO_ROLE_COUNT;
}

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

/* dispatch - one switch on the verb; every case returns */
static int
dispatch(struct sv *sv, const Tfo__V1__CtlRequest *req, Tfo__V1__CtlReply *rep,
    struct status_buf *b, char *err, size_t errsz)
{
	switch (req->verb) {
	case TFO__V1__VERB__VERB_STATUS:
		build_status(sv, b);
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
		return sv_test_action_start(sv, req, err, errsz);
#else
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

uint8_t *
sv_ctl_handle(struct sv *sv, const void *buf, size_t len, size_t *outlen, int *deferred)
{
	Tfo__V1__CtlReply rep = TFO__V1__CTL_REPLY__INIT;
	Tfo__V1__CtlRequest *req;
	struct status_buf *b = calloc(1, sizeof(*b));
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
	} else if ((rv = dispatch(sv, req, &rep, b, err, sizeof(err))) == 1) {
		/* deferred: the test relay answers when the worker does */
		*deferred = 1;
		tfo__v1__ctl_request__free_unpacked(req, NULL);
		free(b);
		*outlen = 0;
		return NULL;
	} else
		rep.ok = rv == 0;
	rep.error = err;
	*outlen = tfo__v1__ctl_reply__get_packed_size(&rep);
	if ((out = malloc(*outlen ? *outlen : 1)) != NULL)
		tfo__v1__ctl_reply__pack(&rep, out);
	if (req)
		tfo__v1__ctl_request__free_unpacked(req, NULL);
	free(b);
	return out;
}
