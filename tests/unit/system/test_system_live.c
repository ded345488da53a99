/*
 * test_system_live.c - tfo-system's filesystem family over the live /proc in
 * a mount namespace of its own (the test runs as root, as CI does): the
 * mount table is read again only when the kernel says it changed (POLLPRI
 * on the kept mountinfo), and a mount added, remounted read-only or removed
 * between two cycles is in the next one; cycles without a change reuse the
 * table, their sizes still measured.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/resource.h"
#include "workers/system/collect.h"
#include "tests/unit/system/tu.h"

#define T0 (1700000000ull * 1000000000ull)
#define STEP 15000000000ull

struct run {
	struct tfo_resource *res;
	struct tfo_syscol *c;
	char dir[64];
	char filter[96];        /* "system.filesystem.mountpoint=<dir>" */
	int k;                  /* cycles run */
};

static rm_t *
cycle(struct run *r)
{
	uint8_t *out;
	size_t len;
	uint32_t points;
	rm_t *rm;

	assert_int_equal(tfo_syscol_cycle(r->c, T0 + (uint64_t)r->k++ * STEP, &out, &len,
	    &points), TFO_OK);
	assert_non_null(rm = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL,
	    len, out));
	return rm;
}

static void
rm_free(rm_t *rm)
{
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
}

/* limit_of - system.filesystem.limit of the test's mount in mode, -1 when absent */
static int64_t
limit_of(struct run *r, const char *mode)
{
	char m[48];
	rm_t *rm = cycle(r);
	const point_t *p;
	int64_t v = -1;

	snprintf(m, sizeof(m), "system.filesystem.mode=%s", mode);
	if ((p = tu_point(rm, "system.filesystem.limit", r->filter, m, NULL)) != NULL)
		v = p->as_int;
	rm_free(rm);
	return v;
}

static int
setup(void **state)
{
	static struct run r;
	Tfo__V1__SystemConfig cfg = TFO__V1__SYSTEM_CONFIG__INIT;

	memset(&r, 0, sizeof(r));
	/* a private copy of the mount table: nothing done here leaks out */
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		fail_msg("unshare/mount: %m (the test needs root, as CI has)");
	snprintf(r.dir, sizeof(r.dir), "/tmp/tfo-mnt-XXXXXX");
	assert_non_null(mkdtemp(r.dir));
	snprintf(r.filter, sizeof(r.filter), "system.filesystem.mountpoint=%s", r.dir);
	cfg.filesystem = 1;
	cfg.proc_root = "";
	assert_non_null(r.res = tfo_resource_new(NULL, ""));
	assert_non_null(r.c = tfo_syscol_new(&cfg, tfo_resource_get(r.res)));
	*state = &r;
	return 0;
}

static int
teardown(void **state)
{
	struct run *r = *state;

	(void)umount2(r->dir, MNT_DETACH);
	rmdir(r->dir);
	tfo_syscol_free(r->c);
	tfo_resource_free(r->res);
	return 0;
}

static void
test_mount_changes(void **state)
{
	struct run *r = *state;
	const struct tfo_syscol_stats *s = tfo_syscol_stats(r->c);

	assert_int_equal(limit_of(r, "rw"), -1);
	assert_int_equal(s->mount_reads, 1);
	assert_int_equal(limit_of(r, "rw"), -1);
	assert_int_equal(s->mount_reads, 1);            /* nothing changed: not read */

	/* a tmpfs of 4 MiB appears between two cycles */
	assert_int_equal(mount("tfo-test", r->dir, "tmpfs", 0, "size=4m"), 0);
	assert_int_equal(limit_of(r, "rw"), 4 << 20);
	assert_int_equal(s->mount_reads, 2);
	assert_int_equal(limit_of(r, "rw"), 4 << 20);   /* the cached table, sizes measured */
	assert_int_equal(s->mount_reads, 2);

	/* a remount (size and read-only) is a change too */
	assert_int_equal(mount("tfo-test", r->dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=8m"), 0);
	assert_int_equal(limit_of(r, "ro"), 8 << 20);
	assert_int_equal(s->mount_reads, 3);

	/* gone at the next cycle */
	assert_int_equal(umount(r->dir), 0);
	assert_int_equal(limit_of(r, "ro"), -1);
	assert_int_equal(limit_of(r, "rw"), -1);
	assert_int_equal(s->mount_reads, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mount_changes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
