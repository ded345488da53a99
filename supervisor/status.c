/*
 * status.c - tfo-supervisor: each role's WorkerStatus, the one source of what
 * tfoctl status shows and what the self metrics hand to tfo-system (run on
 * the loop thread). A worker's stats are its last Pong, passed on unread.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/supervisor.h"

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

/* sandbox_status - the sandbox columns: /proc/<pid>/status and Ready's word */
static void
sandbox_status(const struct sv_worker *w, struct sv_status_buf *b, int i)
{
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
	b->ws[i].sandbox = &b->sb[i];
}

/* restart_reasons - restarts by reason, every reason listed (zeros too) */
static void
restart_reasons(const struct sv_worker *w, struct sv_status_buf *b, int i)
{
	for (int r = 0; r < SV_R_COUNT; r++) {
		tfo__v1__stat__init(&b->rr[i][r]);
		b->rr[i][r].name = (char *)sv_reason_name((enum sv_reason)r);
		b->rr[i][r].value = w->pol.restarts_by[r];
		b->rr[i][r].text = (char *)"";
		b->rrp[i][r] = &b->rr[i][r];
	}
	b->ws[i].restart_reasons = b->rrp[i];
	b->ws[i].n_restart_reasons = SV_R_COUNT;
}

static void
worker_status(const struct sv_worker *w, struct sv_status_buf *b, int i, int64_t now,
    int with_sandbox)
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
	ws->started_unix_nano = w->pid > 0 ? w->started_unix_ns : 0;
	ws->restarts = w->pol.restarts;
	ws->restarts_in_window = w->pol.ndeaths;
	ws->incarnation = w->pid > 0 ? w->incarnation : 0;
	ws->pings = w->pings;
	ws->idle_looks = w->idle_looks;
	restart_reasons(w, b, i);
	b->le[i].reason = (char *)w->last_exit.reason;
	b->le[i].code = w->last_exit.code;
	snprintf(b->sig[i], sizeof(b->sig[i]), "%s",
	    w->last_exit.sig ? sv_signal_name(w->last_exit.sig) : "");
	b->le[i].signal = b->sig[i];
	b->le[i].at = w->last_exit.at;
	ws->last_exit = &b->le[i];
	ws->next_restart_in_s = w->state == SV_BACKOFF && w->next_start_ms > now ?
	    (double)(w->next_start_ms - now) / 1000.0 : 0;
	if (with_sandbox)
		sandbox_status(w, b, i);
	if (w->stats) {
		ws->stats = w->stats->stats;
		ws->n_stats = w->stats->n_stats;
	}
	b->wp[i] = ws;
}

void
sv_status_build(struct sv *sv, struct sv_status_buf *b, int with_sandbox)
{
	int64_t now = sv_now_ms();

	tfo__v1__supervisor_status__init(&b->st);
	b->st.pid = (uint32_t)getpid();
	b->st.version = TFO_VERSION;
	b->st.config = sv->config_path;
	b->st.uptime_s = (double)(now - sv->start_ms) / 1000.0;
	b->st.started_unix_nano = sv->start_unix_ns;
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		worker_status(&sv->w[r], b, r, now, with_sandbox);
	b->st.workers = b->wp;
	b->st.n_workers = TFO_ROLE_COUNT;
	sv_status_line(sv, b->summary, sizeof(b->summary));
	b->st.summary = b->summary;
}
