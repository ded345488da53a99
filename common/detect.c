/*
 * detect.c - container / virtualization / cloud-from-DMI detection on a root
 * dir (tfo-heartbeat). All input is treated as hostile: bounded, no NUL
 * assumptions in the parsers, which take text + length and are fuzzed.
 */
#include "common/detect.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEX_ID_LEN 64
#define MOUNTINFO_MAX (4u << 20)

/* read_small - <root>/<rel> into buf (NUL-ended, truncated to cap-1); length or -1 */
static long
read_small(const char *root, const char *rel, char *buf, size_t cap)
{
	size_t len = 0;
	enum tfo_err e = tfo_procfs_read(root, rel, buf, cap, &len);

	return (e == TFO_OK || e == TFO_ERANGE) ? (long)len : -1;
}

/* read_file_alloc - whole file up to max bytes, malloc'ed; NULL if absent */
static char *
read_file_alloc(const char *root, const char *rel, size_t max, size_t *len)
{
	size_t cap = 16384;
	char *buf = NULL;
	enum tfo_err e;

	for (;;) {
		char *nb = realloc(buf, cap);
		if (nb == NULL) {
			free(buf);
			return NULL;
		}
		buf = nb;
		e = tfo_procfs_read(root, rel, buf, cap, len);
		if (e != TFO_ERANGE || cap >= max)
			break;
		cap *= 2;   /* /proc files report size 0: grow until it fits */
	}
	if (e != TFO_OK && e != TFO_ERANGE) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool
path_exists(const char *root, const char *rel)
{
	char path[4096];
	int n;

	if (root == NULL || *root == '\0')
		root = "/";
	n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

/* copy_clean - copy at most n bytes of s into dst[cap], printable ASCII only */
static void
copy_clean(char *dst, size_t cap, const char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			dst[j++] = (char)c;
	}
	dst[j] = '\0';
}

static void
set_if_empty(char *dst, size_t cap, const char *s, size_t n)
{
	if (dst[0] == '\0')
		copy_clean(dst, cap, s, n);
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* hex_id_at - true if s[0..n) starts with exactly 64 lowercase hex digits */
static bool
hex_id_at(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i <= HEX_ID_LEN && is_hex(s[i]); i++)
		;
	return i == HEX_ID_LEN;
}

static bool
starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && memcmp(s, prefix, pl) == 0;
}

/* next_line - split [*p, end) at '\n'; false when nothing is left */
static bool
next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	return true;
}

static void
found(struct tfo_container_info *out, const char *runtime, const char *id)
{
	out->is_container = true;
	if (runtime != NULL)
		set_if_empty(out->runtime, sizeof(out->runtime), runtime, strlen(runtime));
	if (id != NULL)
		set_if_empty(out->id, sizeof(out->id), id, HEX_ID_LEN);
}

/* Scope-name prefixes the systemd cgroup driver gives containers. */
static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "nerdctl-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/* cgroup_segment - classify one path segment; prev is the one before it */
static void
cgroup_segment(const char *seg, size_t n, const char *prev, size_t pn, bool kube,
	       struct tfo_container_info *out)
{
	for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t pl = strlen(scope_prefixes[i].prefix);
		if (starts_with(seg, n, scope_prefixes[i].prefix) &&
		    hex_id_at(seg + pl, n - pl)) {
			found(out, scope_prefixes[i].runtime, seg + pl);
			return;
		}
	}
	if (starts_with(seg, n, "lxc.payload.") && n > 12) {
		found(out, "lxc", NULL);
		set_if_empty(out->name, sizeof(out->name), seg + 12, n - 12);
	} else if (pn == 3 && memcmp(prev, "lxc", 3) == 0) {
		found(out, "lxc", NULL);
		set_if_empty(out->name, sizeof(out->name), seg, n);
	} else if (n == HEX_ID_LEN && hex_id_at(seg, n)) {
		if (pn == 6 && memcmp(prev, "docker", 6) == 0)
			found(out, "docker", seg);
		else if (kube || (pn == 3 && memcmp(prev, "ecs", 3) == 0))
			found(out, NULL, seg);
	}
}

/* cgroup_path - walk the segments of one /proc/<pid>/cgroup path */
static void
cgroup_path(const char *p, size_t n, struct tfo_container_info *out)
{
	const char *end = p + n, *prev = "";
	size_t pn = 0;
	bool kube = false;

	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t sn = (size_t)((slash ? slash : end) - p);
		if (sn > 0) {
			if (starts_with(p, sn, "kubepods"))
				kube = true;
			cgroup_segment(p, sn, prev, pn, kube, out);
			prev = p;
			pn = sn;
		}
		p += sn + 1;
	}
}

void
tfo_detect_parse_cgroup(const char *text, size_t len, struct tfo_container_info *out)
{
	const char *p = text, *end = text + len, *line;
	size_t n;

	while (next_line(&p, end, &line, &n)) {
		/* "hierarchy-id:controllers:path"; the path may itself hold ':' */
		const char *c1 = memchr(line, ':', n), *c2;
		if (c1 == NULL)
			continue;
		c2 = memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1));
		if (c2 == NULL)
			continue;
		cgroup_path(c2 + 1, (size_t)(line + n - c2 - 1), out);
	}
}

/* memfind - memmem over [s, s+n) */
static const char *
memfind(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle));
}

/*
 * Host paths a runtime bind-mounts into its containers, matched on the
 * mountinfo "root" field (4th) so that a container HOST, whose mount points
 * hold the same paths, is not taken for a container. Markers without an id
 * are matched only on the line of the "/" mount (overlay lowerdir options).
 */
static const struct {
	const char *marker;
	const char *runtime;
	bool has_id;   /* marker is followed by the 64-hex container id */
} mount_markers[] = {
	{ "/docker/containers/", "docker", true },
	{ "/containers/storage/overlay-containers/", "podman", true },
	{ "/io.containerd.runtime.v2.task/k8s.io/", "containerd", true },
	{ "/io.containerd.grpc.v1.cri/", "containerd", false },
	{ "/var/lib/docker/overlay2/", "docker", false },
	{ "io.containerd.snapshotter.v1", "containerd", false },
};

/* kubelet_name - "/var/lib/kubelet/pods/<uid>/containers/<name>/" gives the name */
static void
kubelet_name(const char *root, size_t n, struct tfo_container_info *out)
{
	const char *k = memfind(root, n, "/kubelet/pods/"), *c, *e;

	if (k == NULL)
		return;
	c = memfind(k, (size_t)(root + n - k), "/containers/");
	if (c == NULL)
		return;
	c += strlen("/containers/");
	e = memchr(c, '/', (size_t)(root + n - c));
	if (e != NULL && e > c) {
		out->is_container = true;
		set_if_empty(out->name, sizeof(out->name), c, (size_t)(e - c));
	}
}

/* field - the idx-th (0-based) space-separated field of a line */
static bool
field(const char *line, size_t n, int idx, const char **f, size_t *fn)
{
	const char *p = line, *end = line + n;

	for (int i = 0; p < end; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t len = (size_t)((sp ? sp : end) - p);
		if (i == idx) {
			*f = p;
			*fn = len;
			return true;
		}
		p += len + 1;
	}
	return false;
}

static void
mountinfo_line(const char *line, size_t n, struct tfo_container_info *out)
{
	const char *root, *mnt;
	size_t rn, mn;

	if (!field(line, n, 3, &root, &rn) || !field(line, n, 4, &mnt, &mn))
		return;
	for (size_t i = 0; i < sizeof(mount_markers) / sizeof(mount_markers[0]); i++) {
		const char *m, *id;
		if (mount_markers[i].has_id) {
			m = memfind(root, rn, mount_markers[i].marker);
			if (m == NULL)
				continue;
			id = m + strlen(mount_markers[i].marker);
			if (hex_id_at(id, (size_t)(root + rn - id)))
				found(out, mount_markers[i].runtime, id);
		} else if (mn == 1 && mnt[0] == '/' &&
			   memfind(line, n, mount_markers[i].marker) != NULL) {
			found(out, mount_markers[i].runtime, NULL);
		}
	}
	kubelet_name(root, rn, out);
}

void
tfo_detect_parse_mountinfo(const char *text, size_t len, struct tfo_container_info *out)
{
	const char *p = text, *end = text + len, *line;
	size_t n;

	while (next_line(&p, end, &line, &n))
		mountinfo_line(line, n, out);
}

/* kv_value - value of key="value" in one line, without quotes */
static bool
kv_value(const char *line, size_t n, const char *key, const char **v, size_t *vn)
{
	size_t kl = strlen(key);

	if (n < kl + 1 || memcmp(line, key, kl) != 0 || line[kl] != '=')
		return false;
	*v = line + kl + 1;
	*vn = n - kl - 1;
	if (*vn >= 2 && (*v)[0] == '"' && (*v)[*vn - 1] == '"') {
		(*v)++;
		*vn -= 2;
	}
	return true;
}

void
tfo_detect_parse_containerenv(const char *text, size_t len, struct tfo_container_info *out)
{
	const char *p = text, *end = text + len, *line, *v;
	size_t n, vn;
	const char *runtime = "podman";

	while (next_line(&p, end, &line, &n)) {
		if (kv_value(line, n, "engine", &v, &vn) && starts_with(v, vn, "buildah"))
			runtime = "buildah";
		else if (kv_value(line, n, "name", &v, &vn))
			set_if_empty(out->name, sizeof(out->name), v, vn);
		else if (kv_value(line, n, "image", &v, &vn))
			set_if_empty(out->image, sizeof(out->image), v, vn);
		else if (kv_value(line, n, "id", &v, &vn) && vn == HEX_ID_LEN && hex_id_at(v, vn))
			set_if_empty(out->id, sizeof(out->id), v, vn);
	}
	found(out, runtime, NULL);
}

void
tfo_detect_parse_container_manager(const char *text, size_t len, struct tfo_container_info *out)
{
	size_t n = 0;

	while (n < len && n < 32 && (text[n] == '-' || text[n] == '.' || text[n] == '_' ||
	       (text[n] >= 'a' && text[n] <= 'z') || (text[n] >= '0' && text[n] <= '9')))
		n++;
	if (n == 0)
		return;
	out->is_container = true;
	if (starts_with(text, n, "lxc"))
		n = 3;   /* lxc-libvirt is still lxc */
	set_if_empty(out->runtime, sizeof(out->runtime), text, n);
}

/* environ_container - container=<name> from a NUL-separated environment */
static void
environ_container(const char *text, size_t len, struct tfo_container_info *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = (size_t)((z ? z : end) - p);
		if (starts_with(p, n, "container="))
			tfo_detect_parse_container_manager(p + 10, n - 10, out);
		p += n + 1;
	}
}

enum tfo_err
tfo_detect_container(const char *root, struct tfo_container_info *out)
{
	static const char *const cgroups[] = { "proc/1/cgroup", "proc/self/cgroup" };
	char small[4096];
	char *buf;
	size_t len;
	long n;

	if (out == NULL)
		return TFO_EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < 2 && out->id[0] == '\0'; i++) {
		if ((buf = read_file_alloc(root, cgroups[i], 1u << 20, &len)) != NULL) {
			tfo_detect_parse_cgroup(buf, len, out);
			free(buf);
		}
	}
	if ((n = read_small(root, "run/.containerenv", small, sizeof(small))) >= 0)
		tfo_detect_parse_containerenv(small, (size_t)n, out);
	if (path_exists(root, ".dockerenv"))
		found(out, "docker", NULL);
	if ((buf = read_file_alloc(root, "proc/self/mountinfo", MOUNTINFO_MAX, &len)) != NULL) {
		tfo_detect_parse_mountinfo(buf, len, out);
		free(buf);
	}
	if ((n = read_small(root, "run/systemd/container", small, sizeof(small))) > 0)
		tfo_detect_parse_container_manager(small, (size_t)n, out);
	if ((n = read_small(root, "proc/1/environ", small, sizeof(small))) > 0)
		environ_container(small, (size_t)n, out);
	if (out->is_container && out->runtime[0] == '\0')
		snprintf(out->runtime, sizeof(out->runtime), "unknown");
	return TFO_OK;
}

/* ---------------------------------------------------------------- DMI */

static void
dmi_one(const char *root, const char *name, char *dst, size_t cap)
{
	char rel[64], buf[256];
	long n;
	size_t b = 0, e;

	dst[0] = '\0';
	snprintf(rel, sizeof(rel), "sys/class/dmi/id/%s", name);
	if ((n = read_small(root, rel, buf, sizeof(buf))) <= 0)
		return;
	e = (size_t)n;
	while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
		b++;
	while (e > b && (buf[e - 1] == '\n' || buf[e - 1] == ' ' || buf[e - 1] == '\t'))
		e--;
	copy_clean(dst, cap, buf + b, e - b);
}

enum tfo_err
tfo_detect_dmi_read(const char *root, struct tfo_dmi *out)
{
	if (out == NULL)
		return TFO_EINVAL;
	dmi_one(root, "sys_vendor", out->sys_vendor, sizeof(out->sys_vendor));
	dmi_one(root, "product_name", out->product_name, sizeof(out->product_name));
	dmi_one(root, "product_version", out->product_version, sizeof(out->product_version));
	dmi_one(root, "bios_vendor", out->bios_vendor, sizeof(out->bios_vendor));
	dmi_one(root, "bios_version", out->bios_version, sizeof(out->bios_version));
	dmi_one(root, "board_vendor", out->board_vendor, sizeof(out->board_vendor));
	dmi_one(root, "board_asset_tag", out->board_asset_tag, sizeof(out->board_asset_tag));
	dmi_one(root, "chassis_asset_tag", out->chassis_asset_tag, sizeof(out->chassis_asset_tag));
	return TFO_OK;
}

/* Vendor prefixes -> hypervisor, checked against sys/board/bios vendor and
 * product name, in this order (as systemd-detect-virt does). */
static const struct {
	const char *prefix;
	const char *type;
} dmi_vendors[] = {
	{ "KVM", "kvm" },
	{ "OpenStack", "kvm" },
	{ "KubeVirt", "kvm" },
	{ "Amazon EC2", "kvm" },      /* Nitro is KVM based */
	{ "Google", "kvm" },          /* Compute Engine runs KVM */
	{ "QEMU", "qemu" },
	{ "VMware", "vmware" },
	{ "VMW", "vmware" },
	{ "innotek GmbH", "virtualbox" },
	{ "VirtualBox", "virtualbox" },
	{ "Oracle Corporation", "virtualbox" },
	{ "Xen", "xen" },
	{ "Bochs", "bochs" },
	{ "Parallels", "parallels" },
	{ "BHYVE", "bhyve" },
	{ "Firecracker", "firecracker" },
	{ "Apple Virtualization", "apple" },
};

static const char *
dmi_vendor_type(const char *s)
{
	for (size_t i = 0; i < sizeof(dmi_vendors) / sizeof(dmi_vendors[0]); i++)
		if (strncmp(s, dmi_vendors[i].prefix, strlen(dmi_vendors[i].prefix)) == 0)
			return dmi_vendors[i].type;
	return NULL;
}

void
tfo_detect_classify_virt(const struct tfo_dmi *dmi, struct tfo_virt_info *out)
{
	const char *fields[] = { dmi->sys_vendor, dmi->board_vendor, dmi->bios_vendor,
				 dmi->product_name };
	const char *t = NULL;

	for (size_t i = 0; i < 4 && t == NULL; i++)
		t = dmi_vendor_type(fields[i]);
	/* Hyper-V: Microsoft hardware vendor with the generic VM product name. */
	if (t == NULL && strcmp(dmi->sys_vendor, "Microsoft Corporation") == 0 &&
	    strcmp(dmi->product_name, "Virtual Machine") == 0)
		t = "hyper-v";
	/* Older EC2 (Xen HVM): "4.11.amazon" BIOS version. */
	if (t == NULL && strstr(dmi->bios_version, "amazon") != NULL)
		t = "xen";
	if (t != NULL && out->type[0] == '\0') {
		out->is_virtualized = true;
		snprintf(out->type, sizeof(out->type), "%s", t);
	}
}

/* cpuinfo_hypervisor - true if the first "flags" line lists "hypervisor" */
static bool
cpuinfo_hypervisor(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *line;
	size_t n;

	while (next_line(&p, end, &line, &n)) {
		const char *colon;
		if (!starts_with(line, n, "flags"))
			continue;
		colon = memchr(line, ':', n);
		if (colon == NULL)
			return false;
		for (const char *f = colon + 1; f < line + n;) {
			const char *sp = memchr(f, ' ', (size_t)(line + n - f));
			size_t fl = (size_t)((sp ? sp : line + n) - f);
			if (fl == 10 && memcmp(f, "hypervisor", 10) == 0)
				return true;
			f += fl + 1;
		}
		return false;
	}
	return false;
}

enum tfo_err
tfo_detect_virt(const char *root, struct tfo_virt_info *out)
{
	struct tfo_dmi dmi;
	char buf[16384];
	long n;

	if (out == NULL)
		return TFO_EINVAL;
	memset(out, 0, sizeof(*out));
	tfo_detect_dmi_read(root, &dmi);
	tfo_detect_classify_virt(&dmi, out);
	if (out->type[0] == '\0' &&
	    (n = read_small(root, "sys/hypervisor/type", buf, 64)) > 0) {
		struct tfo_container_info tmp = { 0 };
		/* same token rules as a container manager name */
		tfo_detect_parse_container_manager(buf, (size_t)n, &tmp);
		if (tmp.runtime[0] != '\0') {
			out->is_virtualized = true;
			snprintf(out->type, sizeof(out->type), "%s", tmp.runtime);
		}
	}
	if (out->type[0] == '\0' &&
	    (n = read_small(root, "proc/cpuinfo", buf, sizeof(buf))) > 0 &&
	    cpuinfo_hypervisor(buf, (size_t)n)) {
		out->is_virtualized = true;
		snprintf(out->type, sizeof(out->type), "unknown");
	}
	return TFO_OK;
}

/* Cloud markers in DMI: {field selector, prefix, provider}. */
enum dmi_field { DMI_SYS_VENDOR, DMI_PRODUCT, DMI_BIOS_VENDOR, DMI_BIOS_VERSION, DMI_CHASSIS_TAG };

static const struct {
	enum dmi_field field;
	const char *prefix;
	const char *provider;
} cloud_markers[] = {
	{ DMI_SYS_VENDOR, "Amazon EC2", "aws" },
	{ DMI_BIOS_VENDOR, "Amazon EC2", "aws" },
	{ DMI_BIOS_VERSION, "4.11.amazon", "aws" },
	{ DMI_PRODUCT, "Google Compute Engine", "gcp" },
	{ DMI_SYS_VENDOR, "Google", "gcp" },
	/* Azure's fixed chassis asset tag */
	{ DMI_CHASSIS_TAG, "7783-7084-3265-9085-8269-3286-77", "azure" },
	{ DMI_CHASSIS_TAG, "OracleCloud.com", "oracle" },
	{ DMI_SYS_VENDOR, "Alibaba Cloud", "alibaba" },
	{ DMI_SYS_VENDOR, "DigitalOcean", "digitalocean" },
	{ DMI_SYS_VENDOR, "Hetzner", "hetzner" },
	{ DMI_SYS_VENDOR, "Tencent Cloud", "tencent" },
	{ DMI_PRODUCT, "OpenStack Nova", "openstack" },
};

static const char *
dmi_get(const struct tfo_dmi *dmi, enum dmi_field f)
{
	switch (f) {
	case DMI_SYS_VENDOR: return dmi->sys_vendor;
	case DMI_PRODUCT: return dmi->product_name;
	case DMI_BIOS_VENDOR: return dmi->bios_vendor;
	case DMI_BIOS_VERSION: return dmi->bios_version;
	case DMI_CHASSIS_TAG: return dmi->chassis_asset_tag;
	}
	return "";
}

/* aws_nitro - Nitro exposes the instance type and id in DMI */
static void
aws_nitro(const struct tfo_dmi *dmi, struct tfo_cloud_info *out)
{
	if (strcmp(dmi->sys_vendor, "Amazon EC2") != 0)
		return;
	if (strchr(dmi->product_name, '.') != NULL && strchr(dmi->product_name, ' ') == NULL)
		set_if_empty(out->instance_type, sizeof(out->instance_type),
			     dmi->product_name, strlen(dmi->product_name));
	if (strncmp(dmi->board_asset_tag, "i-", 2) == 0)
		set_if_empty(out->instance_id, sizeof(out->instance_id),
			     dmi->board_asset_tag, strlen(dmi->board_asset_tag));
}

void
tfo_detect_classify_cloud(const struct tfo_dmi *dmi, struct tfo_cloud_info *out)
{
	for (size_t i = 0; i < sizeof(cloud_markers) / sizeof(cloud_markers[0]); i++) {
		const char *v = dmi_get(dmi, cloud_markers[i].field);
		if (strncmp(v, cloud_markers[i].prefix, strlen(cloud_markers[i].prefix)) == 0) {
			set_if_empty(out->provider, sizeof(out->provider), cloud_markers[i].provider,
				     strlen(cloud_markers[i].provider));
			break;
		}
	}
	if (strcmp(out->provider, "aws") == 0)
		aws_nitro(dmi, out);
}

enum tfo_err
tfo_detect_cloud(const char *root, struct tfo_cloud_info *out)
{
	struct tfo_dmi dmi;

	if (out == NULL)
		return TFO_EINVAL;
	memset(out, 0, sizeof(*out));
	tfo_detect_dmi_read(root, &dmi);
	tfo_detect_classify_cloud(&dmi, out);
	return TFO_OK;
}
