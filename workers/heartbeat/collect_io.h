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

/* what one collection lends the I/O part: the root ("/" or a fixture tree),
 * the collector's scratch buffer, its I/O sample and TCP counts, kept
 * between calls */
struct hb_io_ctx {
	const char *root;
	char *buf;
	size_t cap;
	struct hb_io_prev *prev;
	struct hb_tcp_cache *tcp;
};

enum tfo_err hb_collect_disk(const struct hb_io_ctx *x, struct hb_sysinfo *si);
enum tfo_err hb_collect_net(const struct hb_io_ctx *x, struct hb_sysinfo *si);

#endif
