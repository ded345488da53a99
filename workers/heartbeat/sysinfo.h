/*
 * sysinfo.h - the heartbeat's SystemInfo: every field of the spec's "System
 * Information Payload" (tfo-heartbeat). Filled by collect.c, encoded by payload.c.
 */
#ifndef TFO_HB_SYSINFO_H
#define TFO_HB_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/detect.h"

#define HB_MAX_CORES 1024
#define HB_MAX_PARTITIONS 64
#define HB_MAX_IFACES 64
#define HB_MAX_ADDRS 8
#define HB_STR 128

struct hb_core {
	int core_id;
	double usage, user_pct, system_pct, idle_pct;
};

struct hb_partition {
	char device[256], mountpoint[512], fstype[32];
	uint64_t total, used, free, inodes, inodes_free;
	double usage, inodes_usage;
};

struct hb_iface {
	char name[32], mac[24];
	char addrs[HB_MAX_ADDRS][64];   /* "10.0.0.5/24", "fe80::1/64" */
	size_t naddrs;
	int64_t mtu;
	uint64_t speed;                 /* Mbit/s, 0 if unknown */
	bool up, loopback;
	uint64_t bytes_sent, bytes_recv, packets_sent, packets_recv;
	uint64_t errors_in, errors_out, drops_in, drops_out;
};

struct hb_sysinfo {
	/* host */
	char hostname[HB_STR], os[16], os_version[64], platform[64], platform_family[64];
	char kernel_version[HB_STR], architecture[72], host_id[64], timezone[64];
	uint64_t uptime, boot_time;
	/* cpu */
	int64_t cpu_cores, cpu_logical_cores, cpu_physical_cores;
	char cpu_model[HB_STR], cpu_vendor[64];
	double cpu_mhz;
	int64_t cpu_cache_size;         /* KB */
	double cpu_usage, cpu_user_pct, cpu_system_pct, cpu_idle_pct, cpu_iowait_pct, cpu_steal_pct;
	double load1, load5, load15;
	struct hb_core *cores;          /* ncores entries, owned */
	size_t ncores;
	/* memory (bytes) */
	uint64_t mem_total, mem_used, mem_available, mem_free, mem_cached, mem_buffers;
	uint64_t mem_active, mem_inactive, mem_wired, mem_slab;
	double mem_usage;
	uint64_t swap_total, swap_used, swap_free;
	double swap_usage, swap_in, swap_out;   /* swapIn/Out: bytes/s over the interval */
	/* disk: root filesystem, and I/O over the last interval (whole disks) */
	uint64_t disk_total, disk_used, disk_available, disk_inodes;
	double disk_usage;
	uint64_t disk_read_bytes, disk_write_bytes, disk_read_ops, disk_write_ops, disk_io_time;
	double disk_latency_read, disk_latency_write;   /* ms per op */
	struct hb_partition *parts;
	size_t nparts;
	/* network: totals over non-loopback interfaces */
	uint64_t net_bytes_sent, net_bytes_recv, net_packets_sent, net_packets_recv;
	uint64_t net_errors_in, net_errors_out, net_drops_in, net_drops_out;
	uint64_t tcp_established, tcp_time_wait, tcp_close_wait, tcp_listen;
	struct hb_iface *ifaces;
	size_t nifaces;
	/* processes */
	uint64_t proc_count, proc_running, proc_sleeping, proc_stopped, proc_zombie, proc_blocked;
	uint64_t thread_count, context_switches, interrupts, soft_interrupts;
	/* system resources */
	uint64_t open_fds, max_fds, entropy_available;
	double fds_usage;
	/* container / virtualization / cloud */
	struct tfo_container_info container;
	struct tfo_virt_info virt;
	struct tfo_cloud_info cloud;
	/* agent */
	char agent_version[64];
	uint64_t agent_start_time, agent_uptime;
	int64_t collection_time;        /* unix seconds */
	int64_t collection_duration;    /* nanoseconds */
};

/* hb_sysinfo_free - release the arrays (the struct itself is the caller's) */
void hb_sysinfo_free(struct hb_sysinfo *si);

#endif
