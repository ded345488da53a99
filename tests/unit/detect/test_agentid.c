/*
 * test_agentid.c - the agent id: configured / persisted / derived (stable,
 * UUIDv5 of machine-id + hostname) / random fallback; file mode 0644.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/agentid.h"

#define BM "tests/fixtures/hosts/baremetal"
#define KVM "tests/fixtures/hosts/kvm"

static int
setup(void **state)
{
	char *dir = strdup("/tmp/tfo-agentid-XXXXXX");
	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/agent-id", (char *)*state);
	unlink(path);
	rmdir(*state);
	free(*state);
	return 0;
}

static void
read_back(const char *dir, char *buf, size_t cap, mode_t *mode)
{
	char path[512];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/agent-id", dir);
	assert_int_equal(stat(path, &st), 0);
	*mode = st.st_mode & 07777;
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, (int)cap, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Known SHA-1 vectors (FIPS 180 examples) */
static void
test_sha1(void **state)
{
	static const struct { const char *in; const char *hex; } v[] = {
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		uint8_t d[20];
		char hex[41];
		tfo_sha1(v[i].in, strlen(v[i].in), d);
		for (int j = 0; j < 20; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(hex, v[i].hex);
	}
	/* a million 'a': crosses many blocks */
	{
		char *m = malloc(1000000);
		uint8_t d[20];
		char hex[41];
		assert_non_null(m);
		memset(m, 'a', 1000000);
		tfo_sha1(m, 1000000, d);
		free(m);
		for (int j = 0; j < 20; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	}
}

/* RFC 4122 / Python uuid.uuid5(NAMESPACE_DNS, "python.org") */
static void
test_uuid_v5(void **state)
{
	static const uint8_t ns_dns[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	char out[TFO_AGENTID_LEN + 1];
	(void)state;
	tfo_uuid_v5(ns_dns, "python.org", 10, out);
	assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

static void
test_configured(void **state)
{
	char out[TFO_AGENTID_LEN + 1];
	char path[512];

	assert_int_equal(tfo_agentid_get("my-agent.01", *state, BM, out), TFO_OK);
	assert_string_equal(out, "my-agent.01");
	/* a configured id is not persisted */
	snprintf(path, sizeof(path), "%s/agent-id", (char *)*state);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(tfo_agentid_get("bad id", *state, BM, out), TFO_EINVAL);
	assert_int_equal(tfo_agentid_get("0123456789012345678901234567890123456", *state, BM, out),
			 TFO_EINVAL);
}

static void
test_derived_stable_and_persisted(void **state)
{
	char a[TFO_AGENTID_LEN + 1], b[TFO_AGENTID_LEN + 1], c[TFO_AGENTID_LEN + 1], file[64];
	mode_t mode;

	/* derived without persisting: same input, same id */
	assert_int_equal(tfo_agentid_get(NULL, NULL, BM, a), TFO_OK);
	assert_int_equal(tfo_agentid_get("", "", BM, b), TFO_OK);
	assert_string_equal(a, b);
	assert_int_equal(a[14], '5');
	/* the hostname is part of the name: a clone with another name differs */
	assert_int_equal(tfo_agentid_get(NULL, NULL, KVM, c), TFO_OK);
	assert_string_not_equal(a, c);
	/* persisted once with mode 0644; later calls read the file even if the host changes */
	umask(077);
	assert_int_equal(tfo_agentid_get(NULL, *state, BM, b), TFO_OK);
	assert_string_equal(a, b);
	read_back(*state, file, sizeof(file), &mode);
	assert_string_equal(file, a);
	assert_int_equal(mode, 0644);
	assert_int_equal(tfo_agentid_get(NULL, *state, KVM, c), TFO_OK);
	assert_string_equal(c, a);
}

static void
test_random_fallback(void **state)
{
	char a[TFO_AGENTID_LEN + 1], b[TFO_AGENTID_LEN + 1], again[TFO_AGENTID_LEN + 1];

	/* no machine-id: random v4, different each time when not persisted */
	assert_int_equal(tfo_agentid_get(NULL, NULL, "/nonexistent/tfo", a), TFO_OK);
	assert_int_equal(tfo_agentid_get(NULL, NULL, "/nonexistent/tfo", b), TFO_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	/* once persisted it is stable */
	assert_int_equal(tfo_agentid_get(NULL, *state, "/nonexistent/tfo", a), TFO_OK);
	assert_int_equal(tfo_agentid_get(NULL, *state, "/nonexistent/tfo", again), TFO_OK);
	assert_string_equal(a, again);
}

static void
test_corrupt_file_replaced(void **state)
{
	char path[512], out[TFO_AGENTID_LEN + 1], derived[TFO_AGENTID_LEN + 1], file[64];
	mode_t mode;
	FILE *f;

	snprintf(path, sizeof(path), "%s/agent-id", (char *)*state);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not an id!\n", f);
	fclose(f);
	assert_int_equal(tfo_agentid_get(NULL, NULL, BM, derived), TFO_OK);
	assert_int_equal(tfo_agentid_get(NULL, *state, BM, out), TFO_OK);
	assert_string_equal(out, derived);
	read_back(*state, file, sizeof(file), &mode);
	assert_string_equal(file, derived);
}

static void
test_unwritable_state_dir(void **state)
{
	char out[TFO_AGENTID_LEN + 1];
	(void)state;
	assert_int_equal(tfo_agentid_get(NULL, "/nonexistent/tfo/state", BM, out), TFO_EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_uuid_v5),
		cmocka_unit_test_setup_teardown(test_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_derived_stable_and_persisted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_state_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
