/*
 * payload.h - SystemInfo -> JSON heartbeat body {"systemInfo":{...}} with
 * cJSON, driven by one field table (tfo-heartbeat).
 */
#ifndef TFO_HB_PAYLOAD_H
#define TFO_HB_PAYLOAD_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "workers/heartbeat/sysinfo.h"

/* hb_payload_object - the systemInfo object (NULL on allocation failure);
 * full = false (include_system_info off) keeps the host and agent fields only */
cJSON *hb_payload_object(const struct hb_sysinfo *si, bool full);
/* hb_payload_body - the whole body, unformatted; free() it. NULL on ENOMEM. */
char *hb_payload_body(const struct hb_sysinfo *si, bool full);

#endif
