/*
 * test_detect.c - every detector on the fake root trees in
 * tests/fixtures/hosts/ (cwd = repo root), plus truncated and garbage input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/detect.h"

#define ID_D "3f4e9c1b2a7d8e6f5c4b3a29180716253f4e9c1b2a7d8e6f5c4b3a2918071625"
#define ID_C "8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define ID_P "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

static const struct host_case {
	const char *dir;
	bool container;
	const char *runtime, *id, *name, *image;
	bool virt;
	const char *virt_type;
	const char *cloud, *instance_id, *instance_type;
} cases[] = {
	{ "docker", true, "docker", ID_D, "", "", false, "", "", "", "" },
	{ "containerd", true, "containerd", ID_C, "web-frontend", "", true, "unknown", "", "", "" },
	{ "podman", true, "podman", ID_P, "api-server", "quay.io/example/api:1.4", false, "", "", "", "" },
	{ "kvm", false, "", "", "", "", true, "kvm", "", "", "" },
	{ "vmware", false, "", "", "", "", true, "vmware", "", "", "" },
	{ "aws", false, "", "", "", "", true, "kvm", "aws", "i-0123456789abcdef0", "m5.large" },
	{ "gcp", false, "", "", "", "", true, "kvm", "gcp", "", "" },
	{ "azure", false, "", "", "", "", true, "hyper-v", "azure", "", "" },
	{ "baremetal", false, "", "", "", "", false, "", "", "", "" },
};

static void
fixture_root(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "tests/fixtures/hosts/%s", dir);
}

static void
test_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct host_case *c = &cases[i];
		struct tfo_container_info ci;
		struct tfo_virt_info vi;
		struct tfo_cloud_info cl;
		char root[256];

		fixture_root(c->dir, root, sizeof(root));
		print_message("host %s\n", c->dir);
		assert_int_equal(tfo_detect_container(root, &ci), TFO_OK);
		assert_int_equal(ci.is_container, c->container);
		assert_string_equal(ci.runtime, c->runtime);
		assert_string_equal(ci.id, c->id);
		assert_string_equal(ci.name, c->name);
		assert_string_equal(ci.image, c->image);
		assert_int_equal(tfo_detect_virt(root, &vi), TFO_OK);
		assert_int_equal(vi.is_virtualized, c->virt);
		assert_string_equal(vi.type, c->virt_type);
		assert_int_equal(tfo_detect_cloud(root, &cl), TFO_OK);
		assert_string_equal(cl.provider, c->cloud);
		assert_string_equal(cl.instance_id, c->instance_id);
		assert_string_equal(cl.instance_type, c->instance_type);
	}
}

static void
test_missing_root(void **state)
{
	struct tfo_container_info ci;
	struct tfo_virt_info vi;
	struct tfo_cloud_info cl;

	(void)state;
	assert_int_equal(tfo_detect_container("/nonexistent/tfo", &ci), TFO_OK);
	assert_false(ci.is_container);
	assert_int_equal(tfo_detect_virt("/nonexistent/tfo", &vi), TFO_OK);
	assert_false(vi.is_virtualized);
	assert_int_equal(tfo_detect_cloud("/nonexistent/tfo", &cl), TFO_OK);
	assert_string_equal(cl.provider, "");
	assert_int_equal(tfo_detect_container("/", NULL), TFO_EINVAL);
}

/* One cgroup line per runtime, as the kernel prints them. */
static const struct {
	const char *line, *runtime, *id, *name;
} cgroup_lines[] = {
	{ "0::/system.slice/docker-" ID_D ".scope\n", "docker", ID_D, "" },
	{ "4:memory:/docker/" ID_D, "docker", ID_D, "" },
	{ "0::/kubepods.slice/x.slice/crio-" ID_C ".scope", "cri-o", ID_C, "" },
	{ "0::/machine.slice/libpod-" ID_P ".scope/container", "podman", ID_P, "" },
	{ "0::/kubepods/burstable/pod1/" ID_C, "", ID_C, "" },
	{ "0::/lxc.payload.web01/system.slice", "lxc", "", "web01" },
	{ "3:cpu:/lxc/db02", "lxc", "", "db02" },
	/* not containers: a host's docker daemon, short ids, a bare hex without parent */
	{ "0::/system.slice/docker.service", "", "", "" },
	{ "0::/system.slice/docker-3f4e9c1b.scope", "", "", "" },
	{ "0::/user.slice/" ID_D, "", "", "" },
	{ "0::/system.slice/docker-" ID_D "0.scope", "", "", "" },
};

static void
test_cgroup_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cgroup_lines) / sizeof(cgroup_lines[0]); i++) {
		struct tfo_container_info ci = { 0 };
		bool want = cgroup_lines[i].runtime[0] || cgroup_lines[i].id[0];

		print_message("cgroup %s\n", cgroup_lines[i].line);
		tfo_detect_parse_cgroup(cgroup_lines[i].line, strlen(cgroup_lines[i].line), &ci);
		assert_int_equal(ci.is_container, want);
		assert_string_equal(ci.runtime, cgroup_lines[i].runtime);
		assert_string_equal(ci.id, cgroup_lines[i].id);
		assert_string_equal(ci.name, cgroup_lines[i].name);
	}
}

static void
test_garbage(void **state)
{
	static const char *const junk[] = {
		"", ":", "::", "\n\n\n", "0::", "0::/docker/", "0::/docker-", "/kubepods/",
		"x x x x", "1 2 3 /var/lib/docker/containers/", "name=\"", "engine=",
		"\x01\x02\xff", "lxc.payload.", "0::/lxc/",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct tfo_container_info ci = { 0 };
		size_t n = strlen(junk[i]);
		tfo_detect_parse_cgroup(junk[i], n, &ci);
		tfo_detect_parse_mountinfo(junk[i], n, &ci);
		assert_string_equal(ci.id, "");
		assert_false(ci.is_container);
	}
	/* truncated id: the text ends inside the 64 hex digits */
	{
		struct tfo_container_info ci = { 0 };
		const char *l = "0::/docker/" ID_D;
		tfo_detect_parse_cgroup(l, strlen(l) - 1, &ci);
		assert_false(ci.is_container);
	}
	/* containerenv without quotes or values is still podman, fields empty */
	{
		struct tfo_container_info ci = { 0 };
		const char *t = "name=\nimage=\"\nid=\"123\"\n";
		tfo_detect_parse_containerenv(t, strlen(t), &ci);
		assert_true(ci.is_container);
		assert_string_equal(ci.runtime, "podman");
		assert_string_equal(ci.id, "");
		assert_string_equal(ci.image, "");   /* a lone quote is dropped */
	}
	/* control characters and quotes never reach a name */
	{
		struct tfo_container_info ci = { 0 };
		const char *t = "name=\"a\x01\"b\\c\"\n";
		tfo_detect_parse_containerenv(t, strlen(t), &ci);
		assert_string_equal(ci.name, "abc");
	}
}

static void
test_dmi_classify(void **state)
{
	struct tfo_dmi d;
	struct tfo_virt_info v;
	struct tfo_cloud_info c;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&v, 0, sizeof(v));
	memset(&c, 0, sizeof(c));
	snprintf(d.sys_vendor, sizeof(d.sys_vendor), "Xen");
	snprintf(d.bios_version, sizeof(d.bios_version), "4.11.amazon");
	tfo_detect_classify_virt(&d, &v);
	tfo_detect_classify_cloud(&d, &c);
	assert_string_equal(v.type, "xen");
	assert_string_equal(c.provider, "aws");
	assert_string_equal(c.instance_type, "");   /* Xen EC2 has no type in DMI */

	memset(&d, 0, sizeof(d));
	memset(&v, 0, sizeof(v));
	snprintf(d.sys_vendor, sizeof(d.sys_vendor), "QEMU");
	tfo_detect_classify_virt(&d, &v);
	assert_string_equal(v.type, "qemu");

	memset(&d, 0, sizeof(d));
	memset(&v, 0, sizeof(v));
	snprintf(d.sys_vendor, sizeof(d.sys_vendor), "Microsoft Corporation");
	snprintf(d.product_name, sizeof(d.product_name), "Surface Laptop");
	tfo_detect_classify_virt(&d, &v);
	assert_false(v.is_virtualized);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test(test_cgroup_lines),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_dmi_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
