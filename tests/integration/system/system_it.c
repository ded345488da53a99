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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/bufclient.h"
#include "tests/integration/buffer/spawn.h"
#include "tests/unit/system/tu.h"

static const char *system_bin, *buffer_bin;

/* sys_start - tfo-system collecting every family each 300 ms into b's ingest */
static void
sys_start(struct tfo_wspawn *s, const struct tbuf *b)
{
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lc;
	Tfo__V1__SystemConfig sc = TFO__V1__SYSTEM_CONFIG__INIT;
	Tfo__V1__AgentIdentity ag = TFO__V1__AGENT_IDENTITY__INIT;

	tfo_wspawn_config(&wc, &lc, TFO__V1__ROLE__ROLE_SYSTEM, "warn");
	ag.id = "it-agent";
	ag.name = "it";
	ag.environment = "test";
	sc.interval_ms = 300;
	sc.cpu = sc.load = sc.memory = sc.paging = sc.disk = 1;
	sc.filesystem = sc.network = sc.processes = 1;
	wc.incarnation = 7;
	wc.agent = &ag;
	wc.runtime_dir = (char *)b->dir;
	wc.ingest_url = (char *)b->ingest;
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_SYSTEM;
	wc.system = &sc;
	assert_int_equal(tfo_wspawn_start(s, system_bin, "tfo-system", &wc, 20000), 0);
}

/* fetch_two - read stored entries until two cycles are in hand */
static void
fetch_two(struct tbuf *b, rm_t *rm[2])
{
	struct tfo_bufclient ex;
	int got = 0;

	memset(&ex, 0, sizeof(ex));
	assert_int_equal(tfo_bufclient_open_export(&ex, b->export_url, 2000,
	    (uint32_t)getuid()), TFO_OK);
	for (int tries = 0; got < 2 && tries < 300; tries++) {
		Tfo__V1__ExportReply *holder = NULL;
		const Tfo__V1__Batch *batch = NULL;
		struct tfo_payloads pl;
		enum tfo_err e = tfo_bufclient_fetch(&ex, TFO__V1__SIGNAL__SIGNAL_METRICS, 0, &holder,
		    &batch);
		if (e == TFO_ENOENT || e == TFO_ETIMEDOUT) {
			usleep(50000);
			continue;
		}
		assert_int_equal(e, TFO_OK);
		assert_int_equal(tfo_payloads_of(batch, &pl), TFO_OK);
		assert_int_equal(pl.bad, 0);
		for (size_t i = 0; i < pl.n && got < 2; i++) {
			rm[got] = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL,
			    pl.len[i], pl.data[i]);
			assert_non_null(rm[got]);
			got++;
		}
		tfo_payloads_free(&pl);
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
	struct tfo_wspawn s = TFO_WSPAWN_INIT;
	rm_t *rm[2] = { NULL, NULL };

	(void)state;
	assert_int_equal(tbuf_setup(&b), 0);
	assert_int_equal(tbuf_start(&b, buffer_bin, 1, 0, 16), 0);
	sys_start(&s, &b);
	fetch_two(&b, rm);
	assert_int_equal(tfo_wspawn_stop(&s, 5000), 0);
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
