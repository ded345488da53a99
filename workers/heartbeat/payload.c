/*
 * payload.c - SystemInfo -> {"systemInfo":{...}} (tfo-heartbeat). One table
 * names every scalar field once; arrays are encoded by their own helpers.
 */
#include "workers/heartbeat/payload.h"

#include <math.h>
#include <stdlib.h>

enum hb_type { T_STR, T_U64, T_I64, T_F64, T_BOOL };

#define F(name, type, member) { name, type, offsetof(struct hb_sysinfo, member), false }
/* C: a field sent even when include_system_info is off (host and agent) */
#define C(name, type, member) { name, type, offsetof(struct hb_sysinfo, member), true }

static const struct hb_field {
	const char *name;
	enum hb_type type;
	size_t off;
	bool core;
} fields[] = {
	C("hostname", T_STR, hostname),
	C("os", T_STR, os),
	C("osVersion", T_STR, os_version),
	C("platform", T_STR, platform),
	C("platformFamily", T_STR, platform_family),
	C("kernelVersion", T_STR, kernel_version),
	C("architecture", T_STR, architecture),
	C("uptime", T_U64, uptime),
	C("bootTime", T_U64, boot_time),
	C("hostId", T_STR, host_id),
	C("timezone", T_STR, timezone),

	F("cpuCores", T_I64, cpu_cores),
	F("cpuLogicalCores", T_I64, cpu_logical_cores),
	F("cpuPhysicalCores", T_I64, cpu_physical_cores),
	F("cpuModel", T_STR, cpu_model),
	F("cpuVendor", T_STR, cpu_vendor),
	F("cpuMhz", T_F64, cpu_mhz),
	F("cpuCacheSize", T_I64, cpu_cache_size),
	F("cpuUsage", T_F64, cpu_usage),
	F("cpuUserPercent", T_F64, cpu_user_pct),
	F("cpuSystemPercent", T_F64, cpu_system_pct),
	F("cpuIdlePercent", T_F64, cpu_idle_pct),
	F("cpuIowaitPercent", T_F64, cpu_iowait_pct),
	F("cpuStealPercent", T_F64, cpu_steal_pct),
	F("loadAvg1", T_F64, load1),
	F("loadAvg5", T_F64, load5),
	F("loadAvg15", T_F64, load15),

	F("memoryTotal", T_U64, mem_total),
	F("memoryUsed", T_U64, mem_used),
	F("memoryAvailable", T_U64, mem_available),
	F("memoryFree", T_U64, mem_free),
	F("memoryUsage", T_F64, mem_usage),
	F("memoryCached", T_U64, mem_cached),
	F("memoryBuffers", T_U64, mem_buffers),
	F("memoryActive", T_U64, mem_active),
	F("memoryInactive", T_U64, mem_inactive),
	F("memoryWired", T_U64, mem_wired),
	F("memorySlab", T_U64, mem_slab),
	F("swapTotal", T_U64, swap_total),
	F("swapUsed", T_U64, swap_used),
	F("swapFree", T_U64, swap_free),
	F("swapUsage", T_F64, swap_usage),
	F("swapIn", T_F64, swap_in),
	F("swapOut", T_F64, swap_out),

	F("diskTotal", T_U64, disk_total),
	F("diskUsed", T_U64, disk_used),
	F("diskAvailable", T_U64, disk_available),
	F("diskUsage", T_F64, disk_usage),
	F("diskInodes", T_U64, disk_inodes),
	F("diskReadBytes", T_U64, disk_read_bytes),
	F("diskWriteBytes", T_U64, disk_write_bytes),
	F("diskReadOps", T_U64, disk_read_ops),
	F("diskWriteOps", T_U64, disk_write_ops),
	F("diskIOTime", T_U64, disk_io_time),
	F("diskLatencyRead", T_F64, disk_latency_read),
	F("diskLatencyWrite", T_F64, disk_latency_write),

	F("networkBytesSent", T_U64, net_bytes_sent),
	F("networkBytesRecv", T_U64, net_bytes_recv),
	F("networkPacketsSent", T_U64, net_packets_sent),
	F("networkPacketsRecv", T_U64, net_packets_recv),
	F("networkErrorsIn", T_U64, net_errors_in),
	F("networkErrorsOut", T_U64, net_errors_out),
	F("networkDropsIn", T_U64, net_drops_in),
	F("networkDropsOut", T_U64, net_drops_out),
	F("tcpConnectionsEstablished", T_U64, tcp_established),
	F("tcpConnectionsTimeWait", T_U64, tcp_time_wait),
	F("tcpConnectionsCloseWait", T_U64, tcp_close_wait),
	F("tcpConnectionsListen", T_U64, tcp_listen),

	F("processCount", T_U64, proc_count),
	F("processRunning", T_U64, proc_running),
	F("processSleeping", T_U64, proc_sleeping),
	F("processStopped", T_U64, proc_stopped),
	F("processZombie", T_U64, proc_zombie),
	F("processBlocked", T_U64, proc_blocked),
	F("threadCount", T_U64, thread_count),
	F("contextSwitches", T_U64, context_switches),
	F("interrupts", T_U64, interrupts),
	F("softInterrupts", T_U64, soft_interrupts),

	F("openFileDescriptors", T_U64, open_fds),
	F("maxFileDescriptors", T_U64, max_fds),
	F("fileDescriptorsUsage", T_F64, fds_usage),
	F("entropyAvailable", T_U64, entropy_available),

	F("isContainer", T_BOOL, container.is_container),
	F("containerId", T_STR, container.id),
	F("containerRuntime", T_STR, container.runtime),
	F("containerName", T_STR, container.name),
	F("containerImage", T_STR, container.image),
	F("isVirtualized", T_BOOL, virt.is_virtualized),
	F("virtualizationType", T_STR, virt.type),
	F("cloudProvider", T_STR, cloud.provider),
	F("cloudInstanceId", T_STR, cloud.instance_id),
	F("cloudInstanceType", T_STR, cloud.instance_type),
	F("cloudRegion", T_STR, cloud.region),
	F("cloudZone", T_STR, cloud.zone),

	C("agentVersion", T_STR, agent_version),
	C("agentStartTime", T_U64, agent_start_time),
	C("agentUptime", T_U64, agent_uptime),
	C("collectionTime", T_I64, collection_time),
	C("collectionDuration", T_I64, collection_duration),
};

/* num - JSON has no NaN/Inf: a bad rate becomes 0 rather than "null" */
static double
num(double v)
{
	return isfinite(v) ? v : 0.0;
}

static cJSON *
field_value(const struct hb_sysinfo *si, const struct hb_field *f)
{
	const char *p = (const char *)si + f->off;

	switch (f->type) {
	case T_STR: return cJSON_CreateString(p);
	case T_U64: return cJSON_CreateNumber((double)*(const uint64_t *)(const void *)p);
	case T_I64: return cJSON_CreateNumber((double)*(const int64_t *)(const void *)p);
	case T_F64: return cJSON_CreateNumber(num(*(const double *)(const void *)p));
	case T_BOOL: return cJSON_CreateBool(*(const bool *)(const void *)p);
	}
	return NULL;
}

/* add - attach v under name; false (and v freed) on failure */
static bool
add(cJSON *o, const char *name, cJSON *v)
{
	if (v == NULL)
		return false;
	if (!cJSON_AddItemToObject(o, name, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

/* push - append v to array a; false (and v freed) on failure */
static bool
push(cJSON *a, cJSON *v)
{
	if (v == NULL)
		return false;
	if (!cJSON_AddItemToArray(a, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

static bool
add_num(cJSON *o, const char *name, double v)
{
	return add(o, name, cJSON_CreateNumber(num(v)));
}

static cJSON *
cores_json(const struct hb_sysinfo *si)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < si->ncores; i++) {
		const struct hb_core *c = &si->cores[i];
		cJSON *o = cJSON_CreateObject();
		if (!push(a, o) || !add_num(o, "coreId", c->core_id) ||
		    !add_num(o, "usage", c->usage) || !add_num(o, "userPercent", c->user_pct) ||
		    !add_num(o, "systemPercent", c->system_pct) ||
		    !add_num(o, "idlePercent", c->idle_pct)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *
parts_json(const struct hb_sysinfo *si)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < si->nparts; i++) {
		const struct hb_partition *p = &si->parts[i];
		cJSON *o = cJSON_CreateObject();
		if (!push(a, o) || !add(o, "device", cJSON_CreateString(p->device)) ||
		    !add(o, "mountpoint", cJSON_CreateString(p->mountpoint)) ||
		    !add(o, "fstype", cJSON_CreateString(p->fstype)) ||
		    !add_num(o, "total", (double)p->total) || !add_num(o, "used", (double)p->used) ||
		    !add_num(o, "free", (double)p->free) || !add_num(o, "usage", p->usage) ||
		    !add_num(o, "inodes", (double)p->inodes) ||
		    !add_num(o, "inodesFree", (double)p->inodes_free) ||
		    !add_num(o, "inodesUsage", p->inodes_usage)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static bool
iface_counters(cJSON *o, const struct hb_iface *n)
{
	return add_num(o, "bytesSent", (double)n->bytes_sent) &&
	       add_num(o, "bytesRecv", (double)n->bytes_recv) &&
	       add_num(o, "packetsSent", (double)n->packets_sent) &&
	       add_num(o, "packetsRecv", (double)n->packets_recv) &&
	       add_num(o, "errorsIn", (double)n->errors_in) &&
	       add_num(o, "errorsOut", (double)n->errors_out) &&
	       add_num(o, "dropsIn", (double)n->drops_in) &&
	       add_num(o, "dropsOut", (double)n->drops_out);
}

static cJSON *
ifaces_json(const struct hb_sysinfo *si)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < si->nifaces; i++) {
		const struct hb_iface *n = &si->ifaces[i];
		cJSON *o = cJSON_CreateObject(), *addrs = NULL;
		bool ok = push(a, o) && add(o, "ipAddresses", addrs = cJSON_CreateArray());
		for (size_t j = 0; ok && j < n->naddrs; j++)
			ok = push(addrs, cJSON_CreateString(n->addrs[j]));
		if (!ok || !add(o, "name", cJSON_CreateString(n->name)) ||
		    !add(o, "macAddress", cJSON_CreateString(n->mac)) ||
		    !add_num(o, "mtu", (double)n->mtu) || !add_num(o, "speed", (double)n->speed) ||
		    !add(o, "isUp", cJSON_CreateBool(n->up)) ||
		    !add(o, "isLoopback", cJSON_CreateBool(n->loopback)) || !iface_counters(o, n)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

cJSON *
hb_payload_object(const struct hb_sysinfo *si, bool full)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((full || fields[i].core) && !add(o, fields[i].name, field_value(si, &fields[i])))
			goto fail;
	if (full && (!add(o, "cpuPerCore", cores_json(si)) ||
		     !add(o, "diskPartitions", parts_json(si)) ||
		     !add(o, "networkInterfaces", ifaces_json(si))))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

char *
hb_payload_body(const struct hb_sysinfo *si, bool full)
{
	cJSON *root = cJSON_CreateObject(), *o = hb_payload_object(si, full);
	char *s = NULL;

	if (root != NULL && add(root, "systemInfo", o))
		s = cJSON_PrintUnformatted(root);
	else if (root == NULL)
		cJSON_Delete(o);
	cJSON_Delete(root);
	return s;
}

void
hb_sysinfo_free(struct hb_sysinfo *si)
{
	free(si->cores);
	free(si->parts);
	free(si->ifaces);
	si->cores = NULL;
	si->parts = NULL;
	si->ifaces = NULL;
	si->ncores = si->nparts = si->nifaces = 0;
}
