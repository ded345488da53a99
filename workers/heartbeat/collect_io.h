/*
 * collect_io.h - the disk and network part of SystemInfo, filled from what
 * collect.c hands it: calls run one way, collect.c -> collect_io.c.
 */
#ifndef TFO_HB_COLLECT_IO_H
#define TFO_HB_COLLECT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "workers/heartbeat/sysinfo.h"

/* the previous disk I/O sample: rates are over the time since */
struct hb_io_prev {
	int have;
	uint64_t t_ns;
	uint64_t reads, writes, sectors_read, sectors_written, read_ms, write_ms, io_ms;
};

/* what one collection lends the I/O part: the root ("/" or a fixture tree),
 * the collector's scratch buffer and its I/O sample, kept between calls */
struct hb_io_ctx {
	const char *root;
	char *buf;
	size_t cap;
	struct hb_io_prev *prev;
};

enum tfo_err hb_collect_disk(const struct hb_io_ctx *x, struct hb_sysinfo *si);
enum tfo_err hb_collect_net(const struct hb_io_ctx *x, struct hb_sysinfo *si);

#endif
