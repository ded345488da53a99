/*
 * test_selfstats.c - what the supervisor hands tfo-system for the self
 * metrics (supervisor/selfstats.c): the status tfoctl shows, each worker's
 * stats passed on as its Pong had them, restarts by reason counted as deaths
 * happen; a worker that fills its Pong gets its stats left out, not the
 * message; nothing is sent to a tfo-system that is not ready.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/worker.h"
#include "supervisor/supervisor.h"

struct fx {
	struct sv *sv;
	int peer;                       /* tfo-system's end of its fd 3 */
};

/* pong - a Pong of n stats "s<i>" = i, each name padded to namelen */
static Tfo__V1__Pong *
pong(size_t n, size_t namelen)
{
	Tfo__V1__Pong *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	tfo__v1__pong__init(p);
	p->stats = calloc(n, sizeof(*p->stats));
	p->n_stats = n;
	for (size_t i = 0; i < n; i++) {
		Tfo__V1__Stat *s = calloc(1, sizeof(*s));
		tfo__v1__stat__init(s);
		s->name = calloc(1, namelen + 16);
		snprintf(s->name, namelen + 16, "s%zu", i);
		memset(s->name + strlen(s->name), 'x', namelen > strlen(s->name) ?
		    namelen - strlen(s->name) : 0);
		s->text = strdup("");
		s->value = (double)i;
		p->stats[i] = s;
	}
	return p;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int pair[2];

	assert_non_null(f);
	tfo_log_init("test", (enum tfo_log_level)(TFO_LOG_ERROR + 1), TFO_LOG_TEXT);
	f->sv = calloc(1, sizeof(*f->sv));
	f->sv->no_spawn = 1;
	assert_int_equal(tfo_config_defaults(&f->sv->cfg), 0);
	assert_non_null(f->sv->base = event_base_new());
	assert_int_equal(sv_workers_init(f->sv), 0);
	f->sv->start_unix_ns = 1700000000000000000ull;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
	f->sv->w[TFO_ROLE_SYSTEM].fd = pair[0];
	f->peer = pair[1];
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		f->sv->w[r].state = SV_READY;
		f->sv->w[r].pid = 4000 + r;
		f->sv->w[r].started_unix_ns = 1700000000000000000ull + (uint64_t)r;
		f->sv->w[r].stats = pong(3, 8);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		f->sv->w[r].pid = 0;
	sv_self_fini(f->sv);
	sv_workers_fini(f->sv);     /* closes the fd, frees the pongs */
	event_base_free(f->sv->base);
	tfo_config_free(&f->sv->cfg);
	close(f->peer);
	free(f->sv);
	free(f);
	return 0;
}

/* received - the SelfStats tfo-system got (the test fails without one) */
static Tfo__V1__Control *
received(struct fx *f)
{
	enum tfo_err e;
	Tfo__V1__Control *m = tfo_control_recv(f->peer, &e);

	if (m == NULL)
		print_error("nothing received: %s\n", tfo_strerror(e));
	assert_non_null(m);
	assert_int_equal(m->msg_case, TFO__V1__CONTROL__MSG_SELF_STATS);
	return m;
}

static void
test_sends_status(void **state)
{
	struct fx *f = *state;
	Tfo__V1__Control *m;
	const Tfo__V1__SelfStats *ss;
	const Tfo__V1__WorkerStatus *ws;

	/* a crash of the buffer, then a tfoctl restart of the exporter */
	f->sv->w[TFO_ROLE_BUFFER].pol.restarts_by[SV_R_CRASH] = 1;
	f->sv->w[TFO_ROLE_BUFFER].pol.restarts = 1;
	f->sv->w[TFO_ROLE_EXPORTER].pol.restarts_by[SV_R_REQUESTED] = 1;
	f->sv->w[TFO_ROLE_LOGS].enabled = 0;
	f->sv->w[TFO_ROLE_LOGS].state = SV_STOPPED;
	f->sv->w[TFO_ROLE_LOGS].pid = 0;
	assert_int_equal(sv_self_send(f->sv), 0);
	m = received(f);
	ss = m->self_stats;
	assert_int_equal(ss->supervisor_started_unix_nano, 1700000000000000000ull);
	assert_int_equal(ss->n_workers, TFO_ROLE_COUNT);
	ws = ss->workers[TFO_ROLE_BUFFER];
	assert_string_equal(ws->role, "buffer");
	assert_string_equal(ws->state, "ready");
	assert_int_equal(ws->started_unix_nano, 1700000000000000000ull + TFO_ROLE_BUFFER);
	assert_int_equal(ws->restarts, 1);
	assert_int_equal(ws->n_restart_reasons, SV_R_COUNT);
	assert_string_equal(ws->restart_reasons[SV_R_CRASH]->name, "crash");
	assert_true(ws->restart_reasons[SV_R_CRASH]->value == 1);
	assert_true(ss->workers[TFO_ROLE_EXPORTER]->restart_reasons[SV_R_REQUESTED]->value == 1);
	/* the stats as the Pong had them; no sandbox read for tfo-system */
	assert_int_equal(ws->n_stats, 3);
	assert_string_equal(ws->stats[2]->name, "s2xxxxxx");
	assert_true(ws->stats[2]->value == 2);
	assert_null(ws->sandbox);
	assert_string_equal(ss->workers[TFO_ROLE_LOGS]->state, "disabled");
	assert_int_equal(ss->workers[TFO_ROLE_LOGS]->started_unix_nano, 0);
	tfo__v1__control__free_unpacked(m, NULL);
}

static void
test_oversized_stats_left_out(void **state)
{
	struct fx *f = *state;
	Tfo__V1__Control *m;
	struct sv_worker *x = &f->sv->w[TFO_ROLE_EXPORTER];

	/* a worker filling its Pong (~200 KiB of stats): its stats go, the rest stays */
	tfo__v1__pong__free_unpacked(x->stats, NULL);
	x->stats = pong(200, 1000);
	assert_int_equal(sv_self_send(f->sv), 0);
	m = received(f);
	assert_int_equal(m->self_stats->workers[TFO_ROLE_EXPORTER]->n_stats, 0);
	assert_int_equal(m->self_stats->workers[TFO_ROLE_BUFFER]->n_stats, 3);
	assert_int_equal(m->self_stats->workers[TFO_ROLE_EXPORTER]->n_restart_reasons, SV_R_COUNT);
	tfo__v1__control__free_unpacked(m, NULL);
	/* the worker's own Pong is untouched: tfoctl still shows it */
	assert_int_equal(x->stats->n_stats, 200);
}

static void
test_not_ready_skipped(void **state)
{
	struct fx *f = *state;
	enum tfo_err e;
	uint8_t b;

	f->sv->w[TFO_ROLE_SYSTEM].state = SV_BACKOFF;
	assert_int_equal(sv_self_send(f->sv), -1);
	f->sv->w[TFO_ROLE_SYSTEM].state = SV_READY;
	f->sv->w[TFO_ROLE_SYSTEM].kill_why = SV_KILL_HUNG;   /* being killed */
	assert_int_equal(sv_self_send(f->sv), -1);
	f->sv->w[TFO_ROLE_SYSTEM].kill_why = SV_KILL_NONE;
	assert_null(tfo_control_recv(f->peer, &e));
	assert_int_equal(e, TFO_EAGAIN);
	assert_int_equal(recv(f->peer, &b, 1, MSG_DONTWAIT), -1);
}

/* on_death counts restarts by reason: a crash restarted at once, a requested
 * one, and none once the worker is fatal */
static void
test_restart_reasons_counted(void **state)
{
	struct fx *f = *state;
	struct sv_worker *w = &f->sv->w[TFO_ROLE_PROCESS];
	pid_t pid;

	f->sv->no_spawn = 1;            /* sv_worker_start does nothing */
	for (int i = 0; i < 3; i++) {
		if ((pid = fork()) == 0)
			_exit(i == 2 ? 0 : 3);
		assert_true(pid > 0);
		w->pid = pid;
		w->state = SV_READY;
		w->ready_ms = sv_now_ms() - 1000;
		w->enabled = 1;
		w->kill_why = i == 2 ? SV_KILL_REQUEST : SV_KILL_NONE;
		/* the child is reaped by sv_reap: wait until it is a zombie first */
		while (waitid(P_PID, (id_t)pid, NULL, WEXITED | WNOWAIT) != 0)
			;
		sv_reap(f->sv);
		assert_int_equal(w->pid, 0);
	}
	assert_int_equal(w->pol.restarts_by[SV_R_EXIT], 2);
	assert_int_equal(w->pol.restarts_by[SV_R_REQUESTED], 1);
	assert_int_equal(w->pol.restarts, 2);  /* requested ones are not the policy's */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sends_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_stats_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ready_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reasons_counted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
