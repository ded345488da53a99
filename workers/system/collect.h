/*
 * collect.h - the host-metrics collection of tfo-system as a library
 * (tfo_system_collect): one call reads the enabled families from /proc and
 * /sys under a root dir and encodes one OTLP ResourceMetrics.
 */
#ifndef TFO_SYSTEM_COLLECT_H
#define TFO_SYSTEM_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "tfo/v1/tfo.pb-c.h"

/* Families, also the bits of tfo_syscol_cycle_mask. */
enum tfo_sys_family {
	TFO_SYS_CPU, TFO_SYS_LOAD, TFO_SYS_MEMORY, TFO_SYS_PAGING, TFO_SYS_DISK,
	TFO_SYS_FILESYSTEM, TFO_SYS_NETWORK, TFO_SYS_PROCESSES,
	TFO_SYS_NFAMILIES
};

#define TFO_SYS_ALL ((1u << TFO_SYS_NFAMILIES) - 1)

struct tfo_syscol_stats {
	uint64_t cycles;
	uint64_t points;                /* of the last cycle */
	uint64_t bytes;                 /* encoded size of the last cycle */
	uint64_t read_errors;           /* files that failed to read or parse */
	uint64_t series_resets;         /* counters that went backwards */
	uint64_t statfs_timeouts;       /* mounts found stuck */
	uint64_t statfs_skipped;        /* mounts skipped (stuck earlier), last cycle */
	char stuck_mounts[256];         /* mountpoints currently skipped, ", " joined */
	uint64_t mount_reads;           /* the mount table read (at start and on change) */
};

struct tfo_syscol;

/*
 * tfo_syscol_new - a collector for cfg (copied: families, proc_root,
 * exclude_mounts, disk_paths). res is referenced and must outlive it. Opens
 * the /proc files it keeps (call before the sandbox closes them), starts the
 * statfs thread when the filesystem family is on. NULL on ENOMEM.
 */
struct tfo_syscol *tfo_syscol_new(const Tfo__V1__SystemConfig *cfg,
                                  const Opentelemetry__Proto__Resource__V1__Resource *res);
void tfo_syscol_free(struct tfo_syscol *c);
/* tfo_syscol_release - between cycles: the read buffer's and the encoding
 * arena's pages back to the kernel (the last payload is gone with them) */
void tfo_syscol_release(struct tfo_syscol *c);

/*
 * tfo_syscol_cycle - collect every enabled family at now_ns (unix time) and
 * encode it; *out (len bytes, points data points) stays valid until the next
 * cycle or free. A family whose files are missing is omitted quietly.
 */
enum tfo_err tfo_syscol_cycle(struct tfo_syscol *c, uint64_t now_ns, uint8_t **out,
                              size_t *len, uint32_t *points);
/* tfo_syscol_cycle_mask - the same with only the families in mask (bench) */
enum tfo_err tfo_syscol_cycle_mask(struct tfo_syscol *c, unsigned mask, uint64_t now_ns,
                                   uint8_t **out, size_t *len, uint32_t *points);

const struct tfo_syscol_stats *tfo_syscol_stats(const struct tfo_syscol *c);

/* tfo_syscol_family_name - "cpu", "load", ... */
const char *tfo_syscol_family_name(enum tfo_sys_family f);

/* tfo_syscol_set_slow_scan - rescan period of the TCP tables and the process
 * states (default TFO_TCP_REFRESH_MS and TFO_TASKS_REFRESH_MS, 5 minutes;
 * 0 = every cycle) */
void tfo_syscol_set_slow_scan(struct tfo_syscol *c, unsigned ms);

/* Test seams: the statfs deadline per cycle and the statvfs function. */
struct statvfs;
typedef int (*tfo_statvfs_fn)(const char *path, struct statvfs *out);
void tfo_syscol_set_statfs(struct tfo_syscol *c, unsigned timeout_ms, tfo_statvfs_fn fn);

#endif
