/*
 * collect_io.h - the disk and network part of SystemInfo, filled from what
 * collect.c hands it: calls run one way, collect.c -> collect_io.c.
 */
#ifndef TFO_HB_COLLECT_IO_H
#define TFO_HB_COLLECT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/procfs.h"
#include "workers/heartbeat/sysinfo.h"

/* the previous disk I/O sample: rates are over the time since */
struct hb_io_prev {
	int have;
	uint64_t t_ns;
	uint64_t reads, writes, sectors_read, sectors_written, read_ms, write_ms, io_ms;
};

/* the TCP state counts, refreshed at most every TFO_TCP_REFRESH_MS */
struct hb_tcp_cache {
	uint64_t at_ns;                 /* 0 = never */
	struct tfo_tcp_counts tc;
};

#define HB_MAX_MOUNTS (HB_MAX_PARTITIONS * 4)
#define HB_MAX_DISKS 512

/* the collector's parse tables, kept between beats (tfo_zarray_alloc: only
 * the pages the entries touch are resident), and its mount table: read
 * again only when the kept mountinfo says it changed (POLLPRI) */
struct hb_io_tabs {
	struct tfo_mount *mounts;       /* HB_MAX_MOUNTS */
	struct tfo_diskstat *disks;     /* HB_MAX_DISKS */
	struct tfo_netdev *nets;        /* HB_MAX_IFACES */
	size_t nmounts;
	int mnt_fd;                     /* <root>/proc/self/mountinfo on a procfs; -1 */
	int mnt_valid;                  /* mounts[0, nmounts) is the table as last read */
	uint64_t mount_reads;
};

/* hb_io_tabs_init / _fini - allocate (-1 on ENOMEM) and free them */
int hb_io_tabs_init(struct hb_io_tabs *t, const char *root);
void hb_io_tabs_fini(struct hb_io_tabs *t);

/* what one collection lends the I/O part: the root ("/" or a fixture tree),
 * the collector's scratch buffer and tables, its I/O sample and TCP counts,
 * kept between calls */
struct hb_io_ctx {
	const char *root;
	char *buf;
	size_t cap;
	struct hb_io_prev *prev;
	struct hb_tcp_cache *tcp;
	struct hb_io_tabs *tabs;
};

enum tfo_err hb_collect_disk(const struct hb_io_ctx *x, struct hb_sysinfo *si);
enum tfo_err hb_collect_net(const struct hb_io_ctx *x, struct hb_sysinfo *si);

#endif
