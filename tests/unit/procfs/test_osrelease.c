/*
 * test_osrelease.c - the os-release parser of common/procfs: the recorded
 * file (tests/fixtures/proc/host-6.18/etc/os-release), the usr/lib fallback,
 * shell quoting and escapes, UTF-8 cuts, and every prefix of the fixture.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/procfs.h"

#define HOST "tests/fixtures/proc/host-6.18"

static void
test_fixture(void **state)
{
	struct tfo_osrelease o;
	char buf[4096];

	(void)state;
	assert_int_equal(tfo_osrelease_read(HOST, buf, sizeof(buf), &o), TFO_OK);
	assert_string_equal(o.id, "debian");
	assert_string_equal(o.id_like, "");
	assert_string_equal(o.version_id, "12");
	assert_string_equal(o.pretty_name, "Debian GNU/Linux 12 (bookworm)");
	assert_int_equal(tfo_osrelease_read("tests/fixtures/hosts/baremetal", buf, sizeof(buf), &o),
	    TFO_OK);
	assert_string_equal(o.id, "debian");
	/* a buffer shorter than the file: the first cap-1 bytes still parse */
	assert_int_equal(tfo_osrelease_read(HOST, buf, 60, &o), TFO_OK);
	assert_string_equal(o.pretty_name, "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(o.id, "");
}

/* No etc/os-release: usr/lib/os-release; neither: TFO_ENOENT, all empty. */
static void
test_fallback(void **state)
{
	char dir[] = "/tmp/tfo-osrel.XXXXXX", path[128], buf[512];
	struct tfo_osrelease o;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&o, 'x', sizeof(o));
	assert_int_equal(tfo_osrelease_read(dir, buf, sizeof(buf), &o), TFO_ENOENT);
	assert_true(o.id[0] == '\0' && o.id_like[0] == '\0' && o.version_id[0] == '\0' &&
	    o.pretty_name[0] == '\0');
	snprintf(path, sizeof(path), "%s/usr", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr/lib", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/usr/lib/os-release", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("NAME=Fedora\nID=fedora\nID_LIKE=\"rhel centos\"\nVERSION_ID=40\n", f);
	fclose(f);
	assert_int_equal(tfo_osrelease_read(dir, buf, sizeof(buf), &o), TFO_OK);
	assert_string_equal(o.id, "fedora");
	assert_string_equal(o.id_like, "rhel centos");
	assert_string_equal(o.version_id, "40");
	assert_string_equal(o.pretty_name, "");
	/* a text with none of the keys */
	assert_int_equal(tfo_osrelease_parse("NAME=x\n", 7, &o), TFO_ENOENT);
	assert_string_equal(o.id, "");
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/usr/lib", dir);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/usr", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_quoting(void **state)
{
	static const struct {
		const char *text, *key, *want;
		enum tfo_err e;
	} t[] = {
		{ "K=\"a \\\"b\\\" \\\\ \\$x \\`y\\`\"\n", "K", "a \"b\" \\ $x `y`", TFO_OK },
		{ "K='a\\b \"c\"'\n", "K", "a\\b \"c\"", TFO_OK },      /* single: literal */
		{ "K=a\\ b\n", "K", "a b", TFO_OK },                    /* bare escape */
		{ "K=\"abc\n", "K", "\"abc", TFO_OK },                  /* unterminated */
		{ "K=\"a\\\"\n", "K", "\"a\\\"", TFO_OK },              /* escaped last quote */
		{ "K='\n", "K", "'", TFO_OK },
		{ "K=\"a\"b\n", "K", "a", TFO_OK },                     /* after the close */
		{ "K=\"\"\n", "K", "", TFO_OK },
		{ "K=\n", "K", "", TFO_OK },
		{ "K=debian \t\r\n", "K", "debian", TFO_OK },           /* CRLF, trailing blanks */
		{ "K=\"a\tb\"\n", "K", "a?b", TFO_OK },                 /* control character */
		{ "K=\xff\xfe\n", "K", "??", TFO_OK },                  /* not UTF-8 */
		{ "K=caf\xc3\xa9\n", "K", "caf\xc3\xa9", TFO_OK },
		{ "K=a\nK=b\n", "K", "b", TFO_OK },                     /* the last one wins */
		{ "K=last", "K", "last", TFO_OK },                      /* no final newline */
		{ "#K=x\n KK=y\nKK=z\nK X=1\n", "K", "", TFO_ENOENT },
		{ "ID_LIKE=debian\n", "ID", "", TFO_ENOENT },
		{ "", "K", "", TFO_ENOENT },
	};
	char v[64];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(v, 'x', sizeof(v));
		assert_int_equal(tfo_osrelease_get(t[i].text, strlen(t[i].text), t[i].key, v, sizeof(v)),
		    t[i].e);
		assert_string_equal(v, t[i].want);
	}
}

/* Values longer than the output are cut, never inside a character. */
static void
test_cut(void **state)
{
	static const char text[] = "K=\"h\xc3\xa9llo\"\n";
	char v[8];

	(void)state;
	assert_int_equal(tfo_osrelease_get(text, strlen(text), "K", v, 4), TFO_OK);
	assert_string_equal(v, "h\xc3\xa9");
	assert_int_equal(tfo_osrelease_get(text, strlen(text), "K", v, 3), TFO_OK);
	assert_string_equal(v, "h");
	assert_int_equal(tfo_osrelease_get(text, strlen(text), "K", v, 1), TFO_OK);
	assert_string_equal(v, "");
	assert_int_equal(tfo_osrelease_get("K=\"abcdefgh", 11, "K", v, 4), TFO_OK);
	assert_string_equal(v, "\"ab");
	assert_int_equal(tfo_osrelease_get(text, strlen(text), "K", v, 0), TFO_ERANGE);
}

/* Every prefix of the recorded file, in an exact-size heap copy (ASan). */
static void
test_prefixes(void **state)
{
	char buf[4096];
	size_t len;
	struct tfo_osrelease o;

	(void)state;
	assert_int_equal(tfo_procfs_read(HOST, "etc/os-release", buf, sizeof(buf), &len), TFO_OK);
	for (size_t n = 0; n <= len; n++) {
		char *p = malloc(n + 1);
		assert_non_null(p);
		memcpy(p, buf, n);
		(void)tfo_osrelease_parse(p, n, &o);
		assert_true(strlen(o.pretty_name) < sizeof(o.pretty_name));
		if (n < len)
			assert_true(strncmp(o.id, "debian", strlen(o.id)) == 0);
		free(p);
	}
	assert_string_equal(o.id, "debian");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
