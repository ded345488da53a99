/*
 * test_config_worker.c - the WorkerConfig per role: pack/unpack round trip
 * through protobuf-c, own section only, secrets only where needed, and
 * tfo_config_role_equal for SIGHUP reloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"

static const char yaml[] =
    "telemetryflow:\n"
    "  endpoint: collector:4317\n"
    "  api_key_id: tfk_ID\n"
    "  api_key_secret: tfs_SECRET\n"
    "  environment: staging\n"
    "agent:\n  name: web-1\n  runtime_dir: /run/tfo-test\n  tags: {team: core, dc: fra}\n"
    "collectors:\n"
    "  system:\n    interval: 5s\n    disk_paths: [/, /data]\n"
    "  logs:\n    enabled: true\n    paths: [/var/log/a.log]\n"
    "logging:\n  level: debug\n";

static void
load(struct tfo_config *cfg, const char *text)
{
	struct tfo_cfg_diags d;

	if (tfo_config_load_string("w.yaml", text, strlen(text), cfg, &d) != 0) {
		tfo_cfg_diags_print(stderr, NULL, &d);
		fail();
	}
}

/* roundtrip - pack the role's message and unpack it again */
static Tfo__V1__WorkerConfig *
roundtrip(const struct tfo_config *cfg, enum tfo_role role, uint8_t **bytes, size_t *len)
{
	struct tfo_worker_msg *m = tfo_config_worker_msg(cfg, role, "agent-42", 7);
	Tfo__V1__WorkerConfig *wc;

	assert_non_null(m);
	wc = tfo_worker_msg_get(m);
	wc->export_peer_uid = 1234;     /* the supervisor fills uids later */
	*len = tfo__v1__worker_config__get_packed_size(wc);
	*bytes = malloc(*len);
	tfo__v1__worker_config__pack(wc, *bytes);
	tfo_worker_msg_free(m);         /* the unpacked copy must not depend on it */
	wc = tfo__v1__worker_config__unpack(NULL, *len, *bytes);
	assert_non_null(wc);
	return wc;
}

static int
contains(const uint8_t *b, size_t n, const char *s)
{
	return memmem(b, n, s, strlen(s)) != NULL;
}

static void
test_common_fields(void **state)
{
	struct tfo_config cfg;

	(void)state;
	load(&cfg, yaml);
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		uint8_t *b;
		size_t n;
		Tfo__V1__WorkerConfig *wc = roundtrip(&cfg, (enum tfo_role)r, &b, &n);
		assert_int_equal(wc->role, tfo_role_proto((enum tfo_role)r));
		assert_int_equal(wc->role, r + 1);
		assert_int_equal(wc->incarnation, 7);
		assert_int_equal(wc->export_peer_uid, 1234);
		assert_string_equal(wc->agent->id, "agent-42");
		assert_string_equal(wc->agent->name, "web-1");
		assert_string_equal(wc->agent->environment, "staging");
		assert_string_equal(wc->agent->version, TFO_VERSION);
		assert_int_equal(wc->agent->n_tags, 2);
		assert_string_equal(wc->agent->tags[0]->key, "team");
		assert_string_equal(wc->agent->tags[1]->value, "fra");
		assert_string_equal(wc->logging->level, "debug");
		assert_string_equal(wc->logging->format, "text");
		assert_string_equal(wc->runtime_dir, "/run/tfo-test");
		assert_string_equal(wc->ingest_url, "ipc:///run/tfo-test/ingest.ipc");
		assert_string_equal(wc->export_url, "ipc:///run/tfo-test/export.ipc");
		assert_string_equal(wc->seccomp_mode, "kill");
		assert_int_equal(wc->section_case, 20 + r);
		/* secrets travel only to the exporter, which sends the heartbeat too */
		if (r == TFO_ROLE_EXPORTER) {
			assert_true(contains(b, n, "tfs_SECRET"));
			assert_true(contains(b, n, "tfk_ID"));
		} else {
			assert_false(contains(b, n, "tfs_SECRET"));
			assert_false(contains(b, n, "tfk_ID"));
		}
		tfo__v1__worker_config__free_unpacked(wc, NULL);
		free(b);
	}
	tfo_config_free(&cfg);
}

static void
test_sections(void **state)
{
	struct tfo_config cfg;
	Tfo__V1__WorkerConfig *wc;
	uint8_t *b;
	size_t n;

	(void)state;
	load(&cfg, yaml);
	wc = roundtrip(&cfg, TFO_ROLE_SYSTEM, &b, &n);
	assert_int_equal(wc->system->interval_ms, 5000);
	assert_true(wc->system->cpu && wc->system->paging);
	assert_int_equal(wc->system->n_disk_paths, 2);
	assert_string_equal(wc->system->disk_paths[1], "/data");
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	wc = roundtrip(&cfg, TFO_ROLE_LOGS, &b, &n);
	assert_string_equal(wc->logs->paths[0], "/var/log/a.log");
	assert_int_equal(wc->logs->max_line_size, 65536);
	assert_string_equal(wc->logs->start_at, "end");
	assert_int_equal(wc->logs->rescan_interval_ms, 10000);
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	wc = roundtrip(&cfg, TFO_ROLE_BUFFER, &b, &n);
	assert_string_equal(wc->buffer->path, "/var/lib/tfo-agent/buffer");
	assert_int_equal(wc->buffer->max_size_mb, 100);
	assert_true(wc->buffer->sync);
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	wc = roundtrip(&cfg, TFO_ROLE_EXPORTER, &b, &n);
	assert_int_equal(wc->exporter->n_endpoints, 1);     /* endpoint when endpoints[] empty */
	assert_string_equal(wc->exporter->endpoints[0], "collector:4317");
	assert_string_equal(wc->exporter->protocol, "grpc");
	assert_string_equal(wc->exporter->api_key_secret, "tfs_SECRET");
	assert_int_equal(wc->exporter->retry->max_interval_ms, 60000);
	assert_true(wc->exporter->retry->multiplier == 2.0);
	assert_string_equal(wc->exporter->tls->min_version, "1.2");
	assert_int_equal(wc->exporter->batch_max_bytes, 262144);
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	/* the exporter sends the beats: endpoint, keys, TLS, timeout, cloud */
	wc = roundtrip(&cfg, TFO_ROLE_EXPORTER, &b, &n);
	assert_non_null(wc->heartbeat_relay);
	assert_string_equal(wc->heartbeat_relay->api_endpoint, "http://localhost:8080/api/v1");
	assert_string_equal(wc->heartbeat_relay->api_key_id, "tfk_ID");
	assert_string_equal(wc->heartbeat_relay->api_key_secret, "tfs_SECRET");
	assert_int_equal(wc->heartbeat_relay->timeout_ms, 10000);
	assert_int_equal(wc->heartbeat_relay->interval_ms, 0);     /* not the exporter's */
	assert_non_null(wc->heartbeat_relay->tls);
	assert_string_equal(wc->heartbeat_url, "ipc:///run/tfo-test/heartbeat.ipc");
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	/* the heartbeat builds the beats: no key, no TLS */
	wc = roundtrip(&cfg, TFO_ROLE_HEARTBEAT, &b, &n);
	assert_int_equal(wc->heartbeat->interval_ms, 60000);
	assert_string_equal(wc->heartbeat->api_key_id, "");
	assert_string_equal(wc->heartbeat->api_key_secret, "");
	assert_null(wc->heartbeat->tls);
	assert_null(wc->heartbeat_relay);
	assert_string_equal(wc->heartbeat_url, "ipc:///run/tfo-test/heartbeat.ipc");
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	/* no heartbeat, no relay */
	tfo_config_free(&cfg);
	{
		char y[sizeof(yaml) + 64];

		snprintf(y, sizeof(y), "%sheartbeat:\n  enabled: false\n", yaml);
		load(&cfg, y);
	}
	wc = roundtrip(&cfg, TFO_ROLE_EXPORTER, &b, &n);
	assert_null(wc->heartbeat_relay);
	assert_string_equal(wc->heartbeat_url, "");
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);

	wc = roundtrip(&cfg, TFO_ROLE_PROCESS, &b, &n);
	assert_int_equal(wc->process->top_n, 20);
	assert_int_equal(wc->process->cmdline_max_len, 1024);
	assert_true(wc->process->privileged_reads);     /* the default, sent explicitly */
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);
	tfo_config_free(&cfg);
}

static void
test_failover_list(void **state)
{
	static const char y[] = "telemetryflow:\n  endpoints: [a:1, \"http://b:2\", c:3]\n";
	struct tfo_config cfg;
	Tfo__V1__WorkerConfig *wc;
	uint8_t *b;
	size_t n;

	(void)state;
	load(&cfg, y);
	wc = roundtrip(&cfg, TFO_ROLE_EXPORTER, &b, &n);
	assert_int_equal(wc->exporter->n_endpoints, 3);
	assert_string_equal(wc->exporter->endpoints[0], "a:1");
	assert_string_equal(wc->exporter->endpoints[2], "c:3");
	tfo__v1__worker_config__free_unpacked(wc, NULL);
	free(b);
	tfo_config_free(&cfg);
}

static void
test_role_equal(void **state)
{
	struct tfo_config a, b;
	char y2[sizeof(yaml) + 128];

	(void)state;
	load(&a, yaml);
	load(&b, yaml);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_true(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"));
	tfo_config_free(&b);

	/* a system-only change restarts only the system collector */
	snprintf(y2, sizeof(y2), "%s", yaml);
	memcpy(strstr(y2, "interval: 5s"), "interval: 6s", 12);
	load(&b, y2);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"),
		    r != TFO_ROLE_SYSTEM);
	tfo_config_free(&b);

	/* privileged_reads restarts only the process collector (its sandbox changes),
	 * and reaches it as false */
	{
		const char *logs = strstr(yaml, "  logs:\n");

		snprintf(y2, sizeof(y2), "%.*s  process:\n    privileged_reads: false\n%s",
		    (int)(logs - yaml), yaml, logs);
	}
	load(&b, y2);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"),
		    r != TFO_ROLE_PROCESS);
	{
		uint8_t *pb;
		size_t np;
		Tfo__V1__WorkerConfig *wc = roundtrip(&b, TFO_ROLE_PROCESS, &pb, &np);

		assert_false(wc->process->privileged_reads);
		tfo__v1__worker_config__free_unpacked(wc, NULL);
		free(pb);
	}
	tfo_config_free(&b);

	/* the secret changes the exporter only */
	snprintf(y2, sizeof(y2), "%s", yaml);
	memcpy(strstr(y2, "tfs_SECRET"), "tfs_SECRE7", 10);
	load(&b, y2);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"),
		    r != TFO_ROLE_EXPORTER);
	tfo_config_free(&b);

	/* the heartbeat's interval restarts the heartbeat only, its timeout both */
	snprintf(y2, sizeof(y2), "%sheartbeat:\n  interval: 30s\n", yaml);
	load(&b, y2);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"),
		    r != TFO_ROLE_HEARTBEAT);
	tfo_config_free(&b);
	snprintf(y2, sizeof(y2), "%sheartbeat:\n  timeout: 5s\n", yaml);
	load(&b, y2);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"),
		    r != TFO_ROLE_HEARTBEAT && r != TFO_ROLE_EXPORTER);
	tfo_config_free(&b);

	/* supervisor-only keys restart nobody */
	snprintf(y2, sizeof(y2), "%ssupervisor:\n  restart:\n    max_restarts: 9\n", yaml);
	load(&b, y2);
	assert_int_equal(b.supervisor.max_restarts, 9);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_true(tfo_config_role_equal(&a, &b, (enum tfo_role)r, "id"));
	tfo_config_free(&b);
	tfo_config_free(&a);
}

static void
test_roles(void **state)
{
	struct tfo_config cfg;

	(void)state;
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		assert_int_equal(tfo_role_from_name(tfo_role_name((enum tfo_role)r)), r);
	assert_int_equal(tfo_role_from_name("supervisor"), -1);
	assert_int_equal(tfo_role_from_name(NULL), -1);
	assert_string_equal(tfo_role_name(TFO_ROLE_COUNT), "unknown");
	assert_int_equal(tfo_role_proto(TFO_ROLE_COUNT), TFO__V1__ROLE__ROLE_UNSPECIFIED);
	assert_null(tfo_config_worker_msg(NULL, TFO_ROLE_COUNT, "x", 0));
	assert_int_equal(tfo_config_defaults(&cfg), 0);
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_SYSTEM));
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_PROCESS));
	assert_false(tfo_role_enabled(&cfg, TFO_ROLE_LOGS));
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_BUFFER));
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_EXPORTER));
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_HEARTBEAT));
	tfo_config_free(&cfg);
}

/* tfo-system runs for the self metrics when the host metrics are off, then
 * with none of its families; with both off it does not run */
static void
test_self_metrics_role(void **state)
{
	struct tfo_config cfg;
	struct tfo_worker_msg *m;

	(void)state;
	assert_int_equal(tfo_config_defaults(&cfg), 0);
	assert_true(cfg.agent.self_metrics_enabled);
	assert_int_equal(cfg.agent.self_metrics_interval_ms, 60000);
	m = tfo_config_worker_msg(&cfg, TFO_ROLE_SYSTEM, "id", 1);
	assert_false(tfo_worker_msg_get(m)->system->self_metrics_only);
	tfo_worker_msg_free(m);
	cfg.system.enabled = 0;
	assert_true(tfo_role_enabled(&cfg, TFO_ROLE_SYSTEM));
	m = tfo_config_worker_msg(&cfg, TFO_ROLE_SYSTEM, "id", 1);
	assert_true(tfo_worker_msg_get(m)->system->self_metrics_only);
	tfo_worker_msg_free(m);
	cfg.agent.self_metrics_enabled = 0;
	assert_false(tfo_role_enabled(&cfg, TFO_ROLE_SYSTEM));
	tfo_config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_fields),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_failover_list),
		cmocka_unit_test(test_role_equal),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_self_metrics_role),
	};

	unsetenv("TELEMETRYFLOW_ENDPOINT");
	unsetenv("TELEMETRYFLOW_API_KEY_SECRET");
	unsetenv("TELEMETRYFLOW_API_KEY_ID");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
