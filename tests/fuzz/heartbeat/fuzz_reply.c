/*
 * fuzz_reply.c - cloud metadata reply parsers (AWS identity document, Azure
 * instance JSON, GCP text values split on NUL) and the small /proc and /etc
 * parsers the heartbeat owns (file-nr, os-release). First byte picks.
 */
#include <stdint.h>
#include <string.h>

#include "common/procfs.h"
#include "workers/exporter/hbcloud.h"
#include "workers/heartbeat/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
gcp(const char *p, size_t n, struct tfo_cloud_info *ci)
{
	const char *v[3] = { NULL, NULL, NULL }, *end = p + n;
	size_t len[3] = { 0, 0, 0 };

	for (int i = 0; i < 3 && p <= end; i++) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		v[i] = p;
		len[i] = (size_t)((z ? z : end) - p);
		p += len[i] + 1;
	}
	hb_cloud_parse_gcp(v[0], len[0], v[1], len[1], v[2], len[2], ci);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfo_cloud_info ci;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	uint64_t a, b;
	struct tfo_osrelease osr;

	if (size < 1)
		return 0;
	memset(&ci, 0, sizeof(ci));
	switch (data[0] % 5) {
	case 0: hb_cloud_parse_aws(text, n, &ci); break;
	case 1: hb_cloud_parse_azure(text, n, &ci); break;
	case 2: gcp(text, n, &ci); break;
	case 3: hb_parse_file_nr(text, n, &a, &b); break;
	default: tfo_osrelease_parse(text, n, &osr); break;
	}
	for (const char *p = ci.instance_id; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == '"')
			__builtin_trap();   /* never a control char or quote in the payload */
	return 0;
}
