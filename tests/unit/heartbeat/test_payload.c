/*
 * test_payload.c - the heartbeat JSON: every field of the spec's "Data Fields
 * Reference" present with the right JSON type; values from the baremetal
 * fixture; percentages and rates over the last interval, not since boot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "common/procfs.h"
#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/payload.h"

#define BM "tests/fixtures/hosts/baremetal"

enum jt { J_STR, J_NUM, J_BOOL, J_ARR };

/* The spec's Data Fields Reference, group by group, with the JSON type. */
static const struct { const char *name; enum jt type; } spec[] = {
	/* Host Information */
	{ "hostname", J_STR }, { "os", J_STR }, { "osVersion", J_STR }, { "platform", J_STR },
	{ "platformFamily", J_STR }, { "kernelVersion", J_STR }, { "architecture", J_STR },
	{ "uptime", J_NUM }, { "bootTime", J_NUM }, { "hostId", J_STR }, { "timezone", J_STR },
	/* CPU Information */
	{ "cpuCores", J_NUM }, { "cpuLogicalCores", J_NUM }, { "cpuPhysicalCores", J_NUM },
	{ "cpuModel", J_STR }, { "cpuVendor", J_STR }, { "cpuMhz", J_NUM }, { "cpuCacheSize", J_NUM },
	{ "cpuUsage", J_NUM }, { "cpuUserPercent", J_NUM }, { "cpuSystemPercent", J_NUM },
	{ "cpuIdlePercent", J_NUM }, { "cpuIowaitPercent", J_NUM }, { "cpuStealPercent", J_NUM },
	{ "loadAvg1", J_NUM }, { "loadAvg5", J_NUM }, { "loadAvg15", J_NUM }, { "cpuPerCore", J_ARR },
	/* Memory Information */
	{ "memoryTotal", J_NUM }, { "memoryUsed", J_NUM }, { "memoryAvailable", J_NUM },
	{ "memoryFree", J_NUM }, { "memoryUsage", J_NUM }, { "memoryCached", J_NUM },
	{ "memoryBuffers", J_NUM }, { "memoryActive", J_NUM }, { "memoryInactive", J_NUM },
	{ "memoryWired", J_NUM }, { "memorySlab", J_NUM }, { "swapTotal", J_NUM },
	{ "swapUsed", J_NUM }, { "swapFree", J_NUM }, { "swapUsage", J_NUM }, { "swapIn", J_NUM },
	{ "swapOut", J_NUM },
	/* Disk Information */
	{ "diskTotal", J_NUM }, { "diskUsed", J_NUM }, { "diskAvailable", J_NUM },
	{ "diskUsage", J_NUM }, { "diskInodes", J_NUM }, { "diskReadBytes", J_NUM },
	{ "diskWriteBytes", J_NUM }, { "diskReadOps", J_NUM }, { "diskWriteOps", J_NUM },
	{ "diskIOTime", J_NUM }, { "diskLatencyRead", J_NUM }, { "diskLatencyWrite", J_NUM },
	{ "diskPartitions", J_ARR },
	/* Network Information */
	{ "networkBytesSent", J_NUM }, { "networkBytesRecv", J_NUM }, { "networkPacketsSent", J_NUM },
	{ "networkPacketsRecv", J_NUM }, { "networkErrorsIn", J_NUM }, { "networkErrorsOut", J_NUM },
	{ "networkDropsIn", J_NUM }, { "networkDropsOut", J_NUM },
	{ "tcpConnectionsEstablished", J_NUM }, { "tcpConnectionsTimeWait", J_NUM },
	{ "tcpConnectionsCloseWait", J_NUM }, { "tcpConnectionsListen", J_NUM },
	{ "networkInterfaces", J_ARR },
	/* Process Information */
	{ "processCount", J_NUM }, { "processRunning", J_NUM }, { "processSleeping", J_NUM },
	{ "processStopped", J_NUM }, { "processZombie", J_NUM }, { "processBlocked", J_NUM },
	{ "threadCount", J_NUM }, { "contextSwitches", J_NUM }, { "interrupts", J_NUM },
	{ "softInterrupts", J_NUM },
	/* System Resources */
	{ "openFileDescriptors", J_NUM }, { "maxFileDescriptors", J_NUM },
	{ "fileDescriptorsUsage", J_NUM }, { "entropyAvailable", J_NUM },
	/* Container Detection */
	{ "isContainer", J_BOOL }, { "containerId", J_STR }, { "containerRuntime", J_STR },
	{ "containerName", J_STR }, { "containerImage", J_STR },
	/* Virtualization Detection */
	{ "isVirtualized", J_BOOL }, { "virtualizationType", J_STR },
	/* Cloud Metadata */
	{ "cloudProvider", J_STR }, { "cloudInstanceId", J_STR }, { "cloudInstanceType", J_STR },
	{ "cloudRegion", J_STR }, { "cloudZone", J_STR },
	/* Agent Metadata */
	{ "agentVersion", J_STR }, { "agentStartTime", J_NUM }, { "agentUptime", J_NUM },
	{ "collectionTime", J_NUM }, { "collectionDuration", J_NUM },
};

static int
type_ok(const cJSON *v, enum jt t)
{
	switch (t) {
	case J_STR: return cJSON_IsString(v);
	case J_NUM: return cJSON_IsNumber(v);
	case J_BOOL: return cJSON_IsBool(v);
	case J_ARR: return cJSON_IsArray(v);
	}
	return 0;
}

static cJSON *
collect_json(const char *root, struct hb_collector **keep)
{
	struct hb_collector *c = hb_collector_new(root, NULL, "9.9.9");
	struct hb_sysinfo si;
	char *body;
	cJSON *doc;

	assert_non_null(c);
	assert_int_equal(hb_collect(c, &si), TFO_OK);
	body = hb_payload_body(&si, true);
	assert_non_null(body);
	hb_sysinfo_free(&si);
	doc = cJSON_Parse(body);
	free(body);
	assert_non_null(doc);
	if (keep != NULL)
		*keep = c;
	else
		hb_collector_free(c);
	return doc;
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void
test_every_spec_field(void **state)
{
	cJSON *doc = collect_json(BM, NULL), *si = cJSON_GetObjectItemCaseSensitive(doc, "systemInfo");
	size_t n = 0;

	(void)state;
	assert_true(cJSON_IsObject(si));
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(si, spec[i].name);
		print_message("%s\n", spec[i].name);
		assert_non_null(v);
		assert_true(type_ok(v, spec[i].type));
	}
	/* and nothing that is not in the spec */
	for (const cJSON *v = si->child; v != NULL; v = v->next)
		n++;
	assert_int_equal(n, sizeof(spec) / sizeof(spec[0]));
	cJSON_Delete(doc);
}

static void
test_fixture_values(void **state)
{
	cJSON *doc = collect_json(BM, NULL), *si = cJSON_GetObjectItemCaseSensitive(doc, "systemInfo");
	const cJSON *ifs, *eth = NULL, *parts;

	(void)state;
	assert_string_equal(str(si, "hostname"), "bm-host-01");
	assert_string_equal(str(si, "os"), "linux");
	assert_string_equal(str(si, "platform"), "debian");
	assert_string_equal(str(si, "platformFamily"), "debian");
	assert_string_equal(str(si, "osVersion"), "12");
	assert_string_equal(str(si, "kernelVersion"), "6.1.0-18-amd64");
	assert_string_equal(str(si, "hostId"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(str(si, "timezone"), "Europe/Berlin");
	assert_string_equal(str(si, "agentVersion"), "9.9.9");
	assert_true(num(si, "uptime") == 86400);
	assert_true(num(si, "bootTime") == 1700000000);
	assert_true(num(si, "cpuLogicalCores") == 2 && num(si, "cpuPhysicalCores") == 1);
	assert_string_equal(str(si, "cpuVendor"), "GenuineIntel");
	assert_true(num(si, "cpuCacheSize") == 22528 && num(si, "cpuMhz") == 2100);
	assert_true(num(si, "loadAvg1") == 0.5 && num(si, "loadAvg15") == 0.3);
	assert_true(num(si, "memoryTotal") == 16384000.0 * 1024);
	assert_true(num(si, "memoryUsed") == (16384000.0 - 8192000.0) * 1024);
	assert_true(num(si, "memoryUsage") == 50.0);
	assert_true(num(si, "swapUsed") == 1048576.0 * 1024 && num(si, "swapUsage") == 50.0);
	assert_true(num(si, "memoryWired") == 0);
	/* network totals exclude loopback */
	assert_true(num(si, "networkBytesRecv") == 1000000 && num(si, "networkBytesSent") == 500000);
	assert_true(num(si, "networkErrorsIn") == 3 && num(si, "networkDropsOut") == 6);
	/* tcp + tcp6 */
	assert_true(num(si, "tcpConnectionsListen") == 2);
	assert_true(num(si, "tcpConnectionsEstablished") == 2);
	assert_true(num(si, "tcpConnectionsTimeWait") == 1 && num(si, "tcpConnectionsCloseWait") == 1);
	/* processes from proc/<pid>/stat */
	assert_true(num(si, "processCount") == 5);
	assert_true(num(si, "processRunning") == 1 && num(si, "processZombie") == 1);
	assert_true(num(si, "processBlocked") == 1 && num(si, "processStopped") == 1);
	assert_true(num(si, "processSleeping") == 1 && num(si, "threadCount") == 456);
	assert_true(num(si, "contextSwitches") == 987654 && num(si, "interrupts") == 123456);
	assert_true(num(si, "softInterrupts") == 55555);
	assert_true(num(si, "openFileDescriptors") == 1536 && num(si, "maxFileDescriptors") == 1048576);
	assert_true(num(si, "entropyAvailable") == 256);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(si, "isContainer")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(si, "isVirtualized")));
	/* interfaces from /proc/net/dev + sysfs */
	ifs = cJSON_GetObjectItemCaseSensitive(si, "networkInterfaces");
	assert_int_equal(cJSON_GetArraySize(ifs), 2);
	for (const cJSON *f = ifs->child; f != NULL; f = f->next)
		if (strcmp(str(f, "name"), "eth0") == 0)
			eth = f;
	assert_non_null(eth);
	assert_string_equal(str(eth, "macAddress"), "52:54:00:12:34:56");
	assert_true(num(eth, "mtu") == 1500 && num(eth, "speed") == 10000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(eth, "isUp")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(eth, "isLoopback")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(eth, "ipAddresses")));
	/* the "/" mount of /dev/nvme0n1p2 is the only local block device */
	parts = cJSON_GetObjectItemCaseSensitive(si, "diskPartitions");
	assert_int_equal(cJSON_GetArraySize(parts), 1);
	assert_string_equal(str(parts->child, "device"), "/dev/nvme0n1p2");
	assert_string_equal(str(parts->child, "mountpoint"), "/");
	assert_true(num(parts->child, "total") > 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(si, "cpuPerCore")), 2);
	cJSON_Delete(doc);
}

static void
write_file(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* fixture_copy - tmp (a mkdtemp template) becomes a copy of the bare-metal
 * fixture, to be changed by the test; fixture_remove deletes it */
static void
fixture_copy(char *tmp)
{
	char cmd[512];

	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd), "cp -a " BM "/. %s/", tmp);
	assert_int_equal(system(cmd), 0);
}

static void
fixture_remove(const char *tmp)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

/* The second collection covers only the time since the first. */
static void
test_interval_rates(void **state)
{
	char tmp[] = "/tmp/tfo-hb-root-XXXXXX";
	struct hb_collector *c;
	cJSON *doc, *si, *core;

	(void)state;
	fixture_copy(tmp);
	c = hb_collector_new(tmp, NULL, NULL);   /* first sample: the fixture */
	assert_non_null(c);
	write_file(tmp, "proc/stat",
		   "cpu  150 0 150 850 50 0 0 0 0 0\n"
		   "cpu0 100 0 50 450 0 0 0 0 0 0\n"
		   "cpu1 50 0 100 400 50 0 0 0 0 0\n"
		   "ctxt 987700\nbtime 1700000000\n");
	write_file(tmp, "proc/diskstats",
		   " 7 0 loop0 5000 0 5000 5000 5000 0 5000 5000 0 5000 5000 0 0 0 0 0 0\n"
		   " 259 0 nvme0n1 110 0 1200 150 70 0 1000 260 0 400 400 0 0 0 0 0 0\n"
		   " 259 1 nvme0n1p1 100 0 1100 140 60 0 900 240 0 380 380 0 0 0 0 0 0\n");
	write_file(tmp, "proc/vmstat", "pswpin 300\npswpout 200\n");
	{
		struct hb_sysinfo s;
		char *body;
		assert_int_equal(hb_collect(c, &s), TFO_OK);
		body = hb_payload_body(&s, true);
		hb_sysinfo_free(&s);
		doc = cJSON_Parse(body);
		free(body);
	}
	si = cJSON_GetObjectItem(doc, "systemInfo");
	assert_true(num(si, "cpuUsage") == 50.0);
	assert_true(num(si, "cpuUserPercent") == 25.0 && num(si, "cpuSystemPercent") == 25.0);
	assert_true(num(si, "cpuIdlePercent") == 25.0 && num(si, "cpuIowaitPercent") == 25.0);
	core = cJSON_GetArrayItem(cJSON_GetObjectItem(si, "cpuPerCore"), 0);
	assert_true(num(core, "coreId") == 0 && num(core, "usage") == 50.0);
	assert_true(num(core, "userPercent") == 50.0 && num(core, "idlePercent") == 50.0);
	core = cJSON_GetArrayItem(cJSON_GetObjectItem(si, "cpuPerCore"), 1);
	assert_true(num(core, "usage") == 50.0 && num(core, "systemPercent") == 50.0);
	/* whole disks only: loop0 and the partition are not counted */
	assert_true(num(si, "diskReadOps") == 10 && num(si, "diskWriteOps") == 20);
	assert_true(num(si, "diskReadBytes") == 200 * 512 && num(si, "diskWriteBytes") == 200 * 512);
	assert_true(num(si, "diskLatencyRead") == 5.0 && num(si, "diskLatencyWrite") == 3.0);
	assert_true(num(si, "diskIOTime") == 100);
	assert_true(num(si, "swapIn") > 0 && num(si, "swapOut") == 0);
	cJSON_Delete(doc);
	hb_collector_free(c);
	fixture_remove(tmp);
}

/* field_of - one collection's systemInfo number called name */
static double
field_of(struct hb_collector *c, const char *name)
{
	struct hb_sysinfo s;
	char *body;
	cJSON *doc;
	double n;

	assert_int_equal(hb_collect(c, &s), TFO_OK);
	body = hb_payload_body(&s, true);
	hb_sysinfo_free(&s);
	doc = cJSON_Parse(body);
	free(body);
	n = num(cJSON_GetObjectItem(doc, "systemInfo"), name);
	cJSON_Delete(doc);
	return n;
}

static double
listen_of(struct hb_collector *c)
{
	return field_of(c, "tcpConnectionsListen");
}

/* The TCP tables are walked at most every TFO_TCP_REFRESH_MS, and tcp6 only
 * when sockstat says it can list a socket (its listener shows which). */
static void
test_tcp_tables(void **state)
{
	char tmp[] = "/tmp/tfo-hb-root-XXXXXX";
	struct hb_collector *c;

	(void)state;
	fixture_copy(tmp);
	/* the fixture's tcp: 4 sockets in use, 1 in TIME_WAIT; tcp6: a listener */
	write_file(tmp, "proc/net/sockstat", "TCP: inuse 4 orphan 0 tw 1 alloc 4 mem 1\n");
	write_file(tmp, "proc/net/sockstat6", "TCP6: inuse 0\n");
	c = hb_collector_new(tmp, NULL, NULL);
	assert_non_null(c);
	assert_true(listen_of(c) == 1);             /* tcp6 not walked */
	write_file(tmp, "proc/net/sockstat6", "TCP6: inuse 1\n");
	assert_true(listen_of(c) == 1);             /* counts kept until the refresh */
	hb_collector_free(c);
	c = hb_collector_new(tmp, NULL, NULL);
	assert_true(listen_of(c) == 2);             /* a TCP6 socket in use: walked */
	hb_collector_free(c);
	write_file(tmp, "proc/net/sockstat6", "TCP6: inuse 0\n");
	write_file(tmp, "proc/net/sockstat", "TCP: inuse 4 orphan 0 tw 2 alloc 4 mem 1\n");
	c = hb_collector_new(tmp, NULL, NULL);
	assert_true(listen_of(c) == 2);             /* a TIME_WAIT tcp4 does not hold */
	hb_collector_free(c);
	fixture_remove(tmp);
}

static double
count_of(struct hb_collector *c)
{
	return field_of(c, "processCount");
}

/* The process states are walked at most every TFO_TASKS_REFRESH_MS (5 min),
 * not at every beat: a process started meanwhile is counted at the next walk. */
static void
test_tasks_refresh(void **state)
{
	char tmp[] = "/tmp/tfo-hb-root-XXXXXX", cmd[512];
	struct hb_collector *c;

	(void)state;
	fixture_copy(tmp);
	c = hb_collector_new(tmp, NULL, NULL);
	assert_non_null(c);
	assert_true(count_of(c) == 5);
	snprintf(cmd, sizeof(cmd), "%s/proc/123", tmp);
	assert_int_equal(mkdir(cmd, 0755), 0);
	write_file(tmp, "proc/123/stat", "123 (new) S 1 123 123 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
	assert_true(count_of(c) == 5);              /* counts kept until the refresh */
	assert_true(count_of(c) == 5);
	hb_collector_free(c);
	c = hb_collector_new(tmp, NULL, NULL);
	assert_true(count_of(c) == 6);              /* a fresh walk sees it */
	hb_collector_free(c);
	fixture_remove(tmp);
}

static void
test_minimal_payload(void **state)
{
	struct hb_collector *c = hb_collector_new(BM, "override-name", NULL);
	struct hb_sysinfo s;
	cJSON *doc, *si;
	char *body;

	(void)state;
	assert_int_equal(hb_collect(c, &s), TFO_OK);
	body = hb_payload_body(&s, false);
	hb_sysinfo_free(&s);
	doc = cJSON_Parse(body);
	free(body);
	si = cJSON_GetObjectItem(doc, "systemInfo");
	assert_string_equal(str(si, "hostname"), "override-name");
	assert_string_equal(str(si, "agentVersion"), TFO_VERSION);
	assert_null(cJSON_GetObjectItem(si, "cpuUsage"));
	assert_null(cJSON_GetObjectItem(si, "networkInterfaces"));
	cJSON_Delete(doc);
	hb_collector_free(c);
}

/* An empty root: every field still there, zero or empty. */
static void
test_empty_root(void **state)
{
	cJSON *doc = collect_json("/nonexistent/tfo-root", NULL);
	cJSON *si = cJSON_GetObjectItem(doc, "systemInfo");

	(void)state;
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		assert_true(type_ok(cJSON_GetObjectItem(si, spec[i].name), spec[i].type));
	assert_true(num(si, "memoryTotal") == 0 && num(si, "cpuUsage") == 0);
	cJSON_Delete(doc);
}

static void
test_small_parsers(void **state)
{
	static const char *const bad_file_nr[] = { "", "1", "1 2", "x 0 5", "5 6 7", "1 0 -", "99999999999999999999 0 1" };
	uint64_t o, m;
	char v[32];
	const char *osr = "ID=\"ubuntu\"\nID_LIKE=debian\nVERSION_ID='22.04'\nX=\"\nBAD\n";

	(void)state;
	assert_int_equal(hb_parse_file_nr("1536\t0\t1048576\n", 16, &o, &m), 0);
	assert_true(o == 1536 && m == 1048576);
	for (size_t i = 0; i < sizeof(bad_file_nr) / sizeof(bad_file_nr[0]); i++)
		assert_int_equal(hb_parse_file_nr(bad_file_nr[i], strlen(bad_file_nr[i]), &o, &m), -1);
	assert_int_equal(tfo_osrelease_get(osr, strlen(osr), "ID", v, sizeof(v)), TFO_OK);
	assert_string_equal(v, "ubuntu");
	assert_int_equal(tfo_osrelease_get(osr, strlen(osr), "VERSION_ID", v, sizeof(v)), TFO_OK);
	assert_string_equal(v, "22.04");
	assert_int_equal(tfo_osrelease_get(osr, strlen(osr), "X", v, sizeof(v)), TFO_OK);
	assert_string_equal(v, "\"");
	assert_int_equal(tfo_osrelease_get(osr, strlen(osr), "NAME", v, sizeof(v)), TFO_ENOENT);
	assert_int_equal(tfo_osrelease_get(osr, 5, "ID_LIKE", v, sizeof(v)), TFO_ENOENT);   /* truncated */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_spec_field),
		cmocka_unit_test(test_fixture_values),
		cmocka_unit_test(test_interval_rates),
		cmocka_unit_test(test_tcp_tables),
		cmocka_unit_test(test_tasks_refresh),
		cmocka_unit_test(test_minimal_payload),
		cmocka_unit_test(test_empty_root),
		cmocka_unit_test(test_small_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
