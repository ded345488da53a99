/*
 * system_it.c - the real tfo-system and tfo-buffer as the supervisor would run
 * them (fd 3 socketpair + Control{config}, no privilege drop): two collection
 * cycles of the real /proc reach the buffer's store; read back through the
 * export channel, every family's metrics carry the semconv names, units,
 * instruments and attributes, and cumulative sums never go backwards.
 * Run: system_it <tfo-system> <tfo-buffer>
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/bufclient.h"
#include "common/worker.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/unit/system/tu.h"

static const char *system_bin, *buffer_bin;

struct tsys {
	pid_t pid;
	int ctl;
};

static int
sys_config(struct tsys *s, const struct tbuf *b)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__WorkerConfig wc = TFO__V1__WORKER_CONFIG__INIT;
	Tfo__V1__SystemConfig sc = TFO__V1__SYSTEM_CONFIG__INIT;
	Tfo__V1__LoggingConfig lc = TFO__V1__LOGGING_CONFIG__INIT;
	Tfo__V1__AgentIdentity ag = TFO__V1__AGENT_IDENTITY__INIT;

	lc.level = "warn";
	lc.format = "text";
	ag.id = "it-agent";
	ag.name = "it";
	ag.environment = "test";
	sc.interval_ms = 300;
	sc.cpu = sc.load = sc.memory = sc.paging = sc.disk = 1;
	sc.filesystem = sc.network = sc.processes = 1;
	wc.role = TFO__V1__ROLE__ROLE_SYSTEM;
	wc.incarnation = 7;
	wc.agent = &ag;
	wc.logging = &lc;
	wc.runtime_dir = (char *)b->dir;
	wc.ingest_url = (char *)b->ingest;
	wc.uid = (uint32_t)getuid();
	wc.gid = (uint32_t)getgid();
	wc.drop_privileges = 0;
	wc.seccomp_mode = "off";
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_SYSTEM;
	wc.system = &sc;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_CONFIG;
	m.config = &wc;
	return tfo_control_send(s->ctl, &m) == TFO_OK ? 0 : -1;
}

static int
sys_ready(struct tsys *s)
{
	struct pollfd p = { .fd = s->ctl, .events = POLLIN };

	for (;;) {
		Tfo__V1__Control *m;
		enum tfo_err e;
		int ready;
		if (poll(&p, 1, 20000) != 1)
			return -1;
		if ((m = tfo_control_recv(s->ctl, &e)) == NULL) {
			if (e == TFO_EAGAIN)
				continue;
			return -1;
		}
		ready = m->msg_case == TFO__V1__CONTROL__MSG_READY;
		tfo__v1__control__free_unpacked(m, NULL);
		if (ready)
			return 0;
	}
}

static void
sys_start(struct tsys *s, const struct tbuf *b)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if ((s->pid = fork()) == 0) {
		if (dup2(sv[1], 3) == -1)
			_exit(127);
		execl(system_bin, "tfo-system", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	s->ctl = sv[0];
	assert_true(s->pid > 0);
	assert_int_equal(sys_config(s, b), 0);
	assert_int_equal(sys_ready(s), 0);
}

static int
sys_stop(struct tsys *s)
{
	Tfo__V1__Control m = TFO__V1__CONTROL__INIT;
	Tfo__V1__Shutdown sd = TFO__V1__SHUTDOWN__INIT;
	int st = 0;

	sd.deadline_ms = 5000;
	m.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	m.msg_case = TFO__V1__CONTROL__MSG_SHUTDOWN;
	m.shutdown = &sd;
	if (tfo_control_send(s->ctl, &m) != TFO_OK)
		kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	close(s->ctl);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* fetch_two - read stored entries until two cycles are in hand */
static void
fetch_two(struct tbuf *b, rm_t *rm[2])
{
	struct tfo_bufclient ex;
	int got = 0;

	memset(&ex, 0, sizeof(ex));
	assert_int_equal(tfo_bufclient_open_export(&ex, b->export_url, 2000), TFO_OK);
	for (int tries = 0; got < 2 && tries < 300; tries++) {
		Tfo__V1__ExportReply *holder = NULL;
		const Tfo__V1__Batch *batch = NULL;
		enum tfo_err e = tfo_bufclient_fetch(&ex, TFO__V1__SIGNAL__SIGNAL_METRICS, 0, &holder,
		    &batch);
		if (e == TFO_ENOENT || e == TFO_ETIMEDOUT) {
			usleep(50000);
			continue;
		}
		assert_int_equal(e, TFO_OK);
		for (size_t i = 0; i < batch->n_entries && got < 2; i++) {
			rm[got] = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL,
			    batch->entries[i].len, batch->entries[i].data);
			assert_non_null(rm[got]);
			got++;
		}
		assert_int_equal(tfo_bufclient_ack(&ex, batch->id), TFO_OK);
		tfo__v1__export_reply__free_unpacked(holder, NULL);
	}
	tfo_bufclient_close(&ex);
	assert_int_equal(got, 2);
}

static const struct {
	const char *name, *unit, *attr;
	int kind;
} families[] = {
	{ "system.cpu.time", "s", "cpu.mode", TU_COUNTER },
	{ "system.cpu.logical.count", "{cpu}", NULL, TU_UPDOWN },
	{ "system.cpu.load_average.1m", "{thread}", NULL, TU_GAUGE },
	{ "system.memory.usage", "By", "system.memory.state", TU_UPDOWN },
	{ "system.memory.limit", "By", NULL, TU_UPDOWN },
	{ "system.paging.faults", "{fault}", "system.paging.fault.type", TU_COUNTER },
	{ "system.disk.io", "By", "disk.io.direction", TU_COUNTER },
	{ "system.filesystem.usage", "By", "system.filesystem.mountpoint", TU_UPDOWN },
	{ "system.network.io", "By", "network.interface.name", TU_COUNTER },
	{ "system.network.connection.count", "{connection}", "network.connection.state", TU_UPDOWN },
	{ "system.process.count", "{process}", "process.state", TU_UPDOWN },
	{ "system.process.created", "{process}", NULL, TU_COUNTER },
	{ "system.uptime", "s", NULL, TU_GAUGE },
};

/* monotonic - counters of rm1 never below the same series in rm0 */
static void
monotonic(const rm_t *rm0, const rm_t *rm1)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm1->scope_metrics[0];
	int compared = 0;

	for (size_t i = 0; i < sm->n_metrics; i++) {
		const metric_t *m1 = sm->metrics[i], *m0 = tu_metric(rm0, m1->name);
		point_t **p0, **p1;
		size_t n0, n1;
		if (tu_kind(m1) != TU_COUNTER || m0 == NULL)
			continue;
		p0 = tu_points_of(m0, &n0);
		p1 = tu_points_of(m1, &n1);
		for (size_t j = 0; j < n1; j++)
			for (size_t k = 0; k < n0; k++) {
				if (!tu_same_attrs(p0[k], p1[j]))
					continue;
				assert_true(p1[j]->time_unix_nano > p0[k]->time_unix_nano);
				assert_int_equal(p1[j]->start_time_unix_nano, p0[k]->start_time_unix_nano);
				if (p1[j]->value_case ==
				    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT)
					assert_true(p1[j]->as_int >= p0[k]->as_int);
				else
					assert_true(p1[j]->as_double >= p0[k]->as_double);
				compared++;
			}
	}
	assert_true(compared > 10);
}

static void
test_two_cycles_through_buffer(void **state)
{
	struct tbuf b;
	struct tsys s;
	rm_t *rm[2] = { NULL, NULL };

	(void)state;
	assert_int_equal(tbuf_setup(&b), 0);
	assert_int_equal(tbuf_start(&b, buffer_bin, 1, 0, 16), 0);
	sys_start(&s, &b);
	fetch_two(&b, rm);
	assert_int_equal(sys_stop(&s), 0);
	assert_int_equal(tbuf_stop(&b), 0);
	tbuf_cleanup(&b);

	for (int c = 0; c < 2; c++) {
		assert_string_equal(tu_res(rm[c], "service.name"), "tfo-agent");
		assert_string_equal(tu_res(rm[c], "telemetryflow.agent.id"), "it-agent");
		assert_string_equal(tu_res(rm[c], "deployment.environment.name"), "test");
		for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
			const metric_t *m = tu_metric(rm[c], families[i].name);
			size_t n;
			point_t **p;
			if (m == NULL)
				fail_msg("cycle %d: %s missing", c, families[i].name);
			assert_string_equal(m->unit, families[i].unit);
			assert_int_equal(tu_kind(m), families[i].kind);
			p = tu_points_of(m, &n);
			assert_true(n > 0);
			if (families[i].attr != NULL) {
				char tmp[32];
				assert_true(tu_attr(p[0], families[i].attr, tmp, sizeof(tmp))[0] != '\0');
			}
		}
	}
	monotonic(rm[0], rm[1]);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm[0], NULL);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm[1], NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_cycles_through_buffer),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: system_it <tfo-system> <tfo-buffer>\n");
		return 2;
	}
	system_bin = argv[1];
	buffer_bin = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
