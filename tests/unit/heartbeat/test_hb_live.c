/*
 * test_hb_live.c - tfo-heartbeat's collection on the real root: what it no
 * longer reads from a file must be what that file says (hostname and kernel
 * release from uname(), each interface's MAC address and up/loopback flags
 * from the netlink dump getifaddrs() makes for the addresses, against
 * /sys/class/net/<if>/{address,flags}); and, in a mount namespace of its own
 * (root, as CI), the mount table read again only on a change: a partition
 * mounted or unmounted between two beats is in the next one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cmocka.h>

#include "workers/heartbeat/collect.h"
#include "workers/heartbeat/payload.h"

/* first_line - path's first line, without its newline; 0 if unreadable */
static int
first_line(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	int ok;

	out[0] = '\0';
	if (f == NULL)
		return 0;
	ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ok;
}

static void
test_real_root_sources(void **state)
{
	struct hb_collector *c = hb_collector_new("/", NULL, "1.0");
	struct hb_sysinfo si;
	char want[256], path[128];

	(void)state;
	assert_non_null(c);
	assert_int_equal(hb_collect(c, &si), TFO_OK);
	assert_true(first_line("/proc/sys/kernel/hostname", want, sizeof(want)));
	assert_string_equal(si.hostname, want);
	assert_true(first_line("/proc/sys/kernel/osrelease", want, sizeof(want)));
	assert_string_equal(si.kernel_version, want);
	assert_true(si.nifaces > 0);
	for (size_t i = 0; i < si.nifaces; i++) {
		const struct hb_iface *f = &si.ifaces[i];
		unsigned long fl;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", f->name);
		assert_true(first_line(path, want, sizeof(want)));
		if (strlen(want) < sizeof(f->mac))
			assert_string_equal(f->mac, want);
		else
			assert_string_equal(f->mac, "");
		snprintf(path, sizeof(path), "/sys/class/net/%s/flags", f->name);
		assert_true(first_line(path, want, sizeof(want)));
		fl = strtoul(want, NULL, 16);
		assert_int_equal(f->up, (fl & IFF_UP) != 0);
		assert_int_equal(f->loopback, (fl & IFF_LOOPBACK) != 0 || strcmp(f->name, "lo") == 0);
	}
	hb_sysinfo_free(&si);
	hb_collector_free(c);
}

/* part_of - the partition mounted at dir in si, or NULL */
static const struct hb_partition *
part_of(const struct hb_sysinfo *si, const char *dir)
{
	for (size_t i = 0; i < si->nparts; i++)
		if (strcmp(si->parts[i].mountpoint, dir) == 0)
			return &si->parts[i];
	return NULL;
}

/* beat - one collection; the size of the partition at dir, 0 when absent */
static uint64_t
beat(struct hb_collector *c, const char *dir)
{
	struct hb_sysinfo si;
	const struct hb_partition *p;
	uint64_t total = 0;

	assert_int_equal(hb_collect(c, &si), TFO_OK);
	if ((p = part_of(&si, dir)) != NULL) {
		assert_string_equal(p->device, "/dev/tfo-hb-test");
		total = p->total;
	}
	hb_sysinfo_free(&si);
	return total;
}

static void
test_mount_changes(void **state)
{
	char dir[64] = "/tmp/tfo-hbmnt-XXXXXX";
	struct hb_collector *c;
	uint64_t r0;

	(void)state;
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		fail_msg("unshare/mount: %m (the test needs root, as CI has)");
	assert_non_null(mkdtemp(dir));
	assert_non_null(c = hb_collector_new("/", NULL, "1.0"));
	r0 = hb_collector_mount_reads(c);          /* the first sample's read */
	assert_int_equal(r0, 1);
	assert_int_equal(beat(c, dir), 0);
	assert_int_equal(beat(c, dir), 0);
	assert_int_equal(hb_collector_mount_reads(c), r0);     /* nothing changed */

	/* a "/dev/" source passes the local-device filter */
	assert_int_equal(mount("/dev/tfo-hb-test", dir, "tmpfs", 0, "size=4m"), 0);
	assert_int_equal(beat(c, dir), 4 << 20);
	assert_int_equal(hb_collector_mount_reads(c), r0 + 1);
	assert_int_equal(beat(c, dir), 4 << 20);
	assert_int_equal(hb_collector_mount_reads(c), r0 + 1);

	assert_int_equal(umount(dir), 0);
	assert_int_equal(beat(c, dir), 0);
	assert_int_equal(hb_collector_mount_reads(c), r0 + 2);
	hb_collector_free(c);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_root_sources),
		cmocka_unit_test(test_mount_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
