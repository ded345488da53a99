/*
 * detect.h - container, virtualization and cloud (from DMI, no network)
 * detection on a root directory, so tests run on fixture trees. Used by
 * tfo-heartbeat (payload) and any collector that adds cloud/container resource.
 */
#ifndef TFO_DETECT_H
#define TFO_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define TFO_DETECT_ID_MAX 65      /* 64 hex + NUL */
#define TFO_DETECT_NAME_MAX 128
#define TFO_DETECT_IMAGE_MAX 256
#define TFO_DETECT_SHORT_MAX 64

struct tfo_container_info {
	bool is_container;
	char id[TFO_DETECT_ID_MAX];          /* full hex id, "" if unknown */
	char runtime[TFO_DETECT_SHORT_MAX];  /* docker|containerd|cri-o|podman|lxc|kubernetes|systemd-nspawn|... */
	char name[TFO_DETECT_NAME_MAX];      /* only when the runtime exposes it locally */
	char image[TFO_DETECT_IMAGE_MAX];
};

struct tfo_virt_info {
	bool is_virtualized;
	char type[TFO_DETECT_SHORT_MAX];     /* kvm|qemu|vmware|xen|hyper-v|oracle|... or "" */
};

struct tfo_cloud_info {
	char provider[TFO_DETECT_SHORT_MAX]; /* aws|gcp|azure|... or "" */
	char instance_id[TFO_DETECT_NAME_MAX];
	char instance_type[TFO_DETECT_SHORT_MAX];
	char region[TFO_DETECT_SHORT_MAX];
	char zone[TFO_DETECT_SHORT_MAX];
};

/* The DMI strings detection looks at (/sys/class/dmi/id/<name>), trimmed. */
struct tfo_dmi {
	char sys_vendor[TFO_DETECT_NAME_MAX];
	char product_name[TFO_DETECT_NAME_MAX];
	char product_version[TFO_DETECT_NAME_MAX];
	char bios_vendor[TFO_DETECT_NAME_MAX];
	char bios_version[TFO_DETECT_NAME_MAX];
	char board_vendor[TFO_DETECT_NAME_MAX];
	char board_asset_tag[TFO_DETECT_NAME_MAX];
	char chassis_asset_tag[TFO_DETECT_NAME_MAX];
};

/*
 * Readers: root is "/" on a real host or a fixture tree; NULL means "/".
 * They never fail on missing files (nothing found = zeroed result); they
 * return TFO_EINVAL on bad arguments only.
 */
enum tfo_err tfo_detect_container(const char *root, struct tfo_container_info *out);
enum tfo_err tfo_detect_virt(const char *root, struct tfo_virt_info *out);
enum tfo_err tfo_detect_cloud(const char *root, struct tfo_cloud_info *out);
enum tfo_err tfo_detect_dmi_read(const char *root, struct tfo_dmi *out);

/* Parsers over untrusted text (fuzzed). They only fill fields still empty. */
void tfo_detect_parse_cgroup(const char *text, size_t len, struct tfo_container_info *out);
void tfo_detect_parse_mountinfo(const char *text, size_t len, struct tfo_container_info *out);
/* /run/.containerenv (podman, key="value" lines) */
void tfo_detect_parse_containerenv(const char *text, size_t len, struct tfo_container_info *out);
/* /run/systemd/container or container= from /proc/1/environ: runtime name */
void tfo_detect_parse_container_manager(const char *text, size_t len, struct tfo_container_info *out);
void tfo_detect_classify_virt(const struct tfo_dmi *dmi, struct tfo_virt_info *out);
void tfo_detect_classify_cloud(const struct tfo_dmi *dmi, struct tfo_cloud_info *out);

#endif
