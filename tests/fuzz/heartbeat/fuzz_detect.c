/*
 * fuzz_detect.c - the container / virtualization detector parsers: the first
 * byte picks the parser (cgroup lines, mountinfo, .containerenv, container
 * manager name, DMI strings split on '\n'); the rest is the file text.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
dmi_from(const char *p, size_t n, struct tfo_dmi *d)
{
	char *f[] = { d->sys_vendor, d->product_name, d->product_version, d->bios_vendor,
		      d->bios_version, d->board_vendor, d->board_asset_tag, d->chassis_asset_tag };
	const char *end = p + n;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < 8 && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		snprintf(f[i], TFO_DETECT_NAME_MAX, "%.*s", (int)len, p);
		p += len + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfo_container_info ci;
	struct tfo_virt_info vi;
	struct tfo_cloud_info cl;
	struct tfo_dmi d;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	memset(&ci, 0, sizeof(ci));
	switch (data[0] % 5) {
	case 0: tfo_detect_parse_cgroup(text, n, &ci); break;
	case 1: tfo_detect_parse_mountinfo(text, n, &ci); break;
	case 2: tfo_detect_parse_containerenv(text, n, &ci); break;
	case 3: tfo_detect_parse_container_manager(text, n, &ci); break;
	default:
		dmi_from(text, n, &d);
		memset(&vi, 0, sizeof(vi));
		memset(&cl, 0, sizeof(cl));
		tfo_detect_classify_virt(&d, &vi);
		tfo_detect_classify_cloud(&d, &cl);
		if (strlen(vi.type) >= sizeof(vi.type) || strlen(cl.instance_id) >= sizeof(cl.instance_id))
			__builtin_trap();
		return 0;
	}
	/* invariants: terminated, bounded, an id is 64 hex or nothing */
	if (strlen(ci.id) != 0 && strlen(ci.id) != 64)
		__builtin_trap();
	if (strlen(ci.name) >= sizeof(ci.name) || strlen(ci.runtime) >= sizeof(ci.runtime))
		__builtin_trap();
	return 0;
}
