/*
 * collect.h - fills struct hb_sysinfo from a root dir (/proc, /sys, /etc and
 * syscalls) through common/procfs parsers and common/detect (tfo-heartbeat).
 * Rates and percentages are over the time since the previous collection.
 */
#ifndef TFO_HB_COLLECT_H
#define TFO_HB_COLLECT_H

#include <stdint.h>

#include "common/err.h"
#include "tfo/v1/tfo.pb-c.h"
#include "workers/heartbeat/sysinfo.h"

struct hb_collector;

/*
 * hb_collector_new - root: "/" (NULL/"") or a fixture tree; hostname: the
 * configured override or NULL; version: agentVersion. Runs the container /
 * virtualization / DMI-cloud detection once and takes the first samples so
 * the first heartbeat already has an interval. NULL on ENOMEM.
 */
struct hb_collector *hb_collector_new(const char *root, const char *hostname, const char *version);
void hb_collector_free(struct hb_collector *c);

/* hb_collect - fill si (zeroed first; free its arrays with hb_sysinfo_free).
 * Missing sources leave their fields 0/""; TFO_ENOMEM is the only failure. */
enum tfo_err hb_collect(struct hb_collector *c, struct hb_sysinfo *si);

/* hb_collector_cloud - the cloud info in use; metadata results merge into it */
struct tfo_cloud_info *hb_collector_cloud(struct hb_collector *c);
/* hb_cloud_merge - what tfo-exporter's metadata lookup found replaces ci
 * (strings cleaned and cut); -1, ci untouched, without provider and id */
int hb_cloud_merge(struct tfo_cloud_info *ci, const Tfo__V1__CloudInfo *in);

/* hb_collector_mount_reads - times the mount table was read (test seam: it
 * is read again only when the kernel reports a change) */
uint64_t hb_collector_mount_reads(const struct hb_collector *c);

/* Small parsers for files procfs has no parser for (hostile input). */
int hb_parse_file_nr(const char *buf, size_t len, uint64_t *open_fds, uint64_t *max_fds);

#endif
