/*
 * hbcloud.h - cloud instance metadata over the network (AWS IMDSv2, GCP,
 * Azure), only when heartbeat.cloud_metadata is true: tfo-exporter's
 * heartbeat relay asks on tfo-heartbeat's request (CloudQuery).
 */
#ifndef TFO_EXP_HBCLOUD_H
#define TFO_EXP_HBCLOUD_H

#include <stddef.h>
#include <stdint.h>

#include "common/detect.h"
#include "common/err.h"

#define HB_CLOUD_TIMEOUT_MS 1000u

/*
 * hb_cloud_fetch - ask the metadata service of ci->provider (or, when DMI did
 * not tell, AWS then GCP then Azure) and overwrite ci with what it says.
 * base_url "" or NULL = the providers' own link-local addresses; tests pass
 * http://127.0.0.1:PORT. Blocking (the relay runs it on a thread of its own;
 * no request is read meanwhile), each request capped at timeout_ms.
 * TFO_ENOENT when no provider answered.
 */
enum tfo_err hb_cloud_fetch(const char *base_url, uint32_t timeout_ms, struct tfo_cloud_info *ci);

/* Reply parsers (hostile input; fuzzed). 0 when the reply was usable. */
int hb_cloud_parse_aws(const char *buf, size_t len, struct tfo_cloud_info *ci);
/* GCP: the plain-text values of instance/id, machine-type, zone (the last
 * two may be NULL) */
int hb_cloud_parse_gcp(const char *id, size_t idn, const char *mtype, size_t mtn, const char *zone,
		       size_t zn, struct tfo_cloud_info *ci);
int hb_cloud_parse_azure(const char *buf, size_t len, struct tfo_cloud_info *ci);

#endif
