/*
 * test_log.c - the logger escapes outside text once, for every format: no
 * message can end its line, forge another, carry a raw control character or
 * an invalid UTF-8 byte, and a JSON line always parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "common/log.h"
#include "tests/lib/logcapture.h"

/* The attack of issue 24: a file name that forges a whole supervisor line. */
static const char forged[] = "app.log\n2025-01-01T00:00:00.000Z supervisor[1] error: "
    "seccomp violation in exporter (pid 7)\x1b[2K\x1b[1A\r";

/* logged - the bytes one tfo_log call writes to stderr */
static char *
logged(enum tfo_log_format fmt, const char *pre, const char *arg, size_t *len)
{
	struct tfo_test_capture c;
	char *buf;

	tfo_test_capture_start(&c, "supervisor", fmt);
	tfo_log(TFO_LOG_ERROR, "%s%s.", pre, arg);
	buf = tfo_test_capture_end(&c, len, NULL);
	assert_true(*len > 0);
	return buf;
}

/* valid_utf8_no_controls - one line: valid UTF-8, no C0/DEL/C1 but the final \n */
static void
assert_one_clean_line(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	assert_true(len > 0 && s[len - 1] == '\n');
	assert_int_equal(strlen(s), len);       /* no NUL inside */
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			fail_msg("raw control byte 0x%02x at %zu in: %s", p[i], i, s);
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xa0)
			fail_msg("raw C1 control U+%04X at %zu", p[i + 1], i);
		if (p[i] >= 0x80) {
			size_t n = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
			if (p[i] < 0xc2 || p[i] > 0xf4 || i + n > len - 1)
				fail_msg("invalid UTF-8 lead 0x%02x at %zu", p[i], i);
			for (size_t k = 1; k < n; k++)
				if ((p[i + k] & 0xc0) != 0x80)
					fail_msg("invalid UTF-8 at %zu", i + k);
			i += n - 1;
		}
	}
}

static void
test_forged_line_text(void **state)
{
	size_t len;
	char *out = logged(TFO_LOG_TEXT, "logs: cannot open ", forged, &len);

	(void)state;
	assert_one_clean_line(out, len);
	assert_non_null(strstr(out, "cannot open app.log\\n2025-01-01T00:00:00.000Z supervisor[1] "
	    "error: seccomp violation in exporter (pid 7)\\x1b[2K\\x1b[1A\\r.\n"));
	free(out);
}

static void
test_forged_line_json(void **state)
{
	size_t len;
	char *out = logged(TFO_LOG_JSON, "logs: cannot open ", forged, &len);
	cJSON *doc;
	const cJSON *msg;
	char want[512];

	(void)state;
	assert_one_clean_line(out, len);
	doc = cJSON_Parse(out);
	assert_non_null(doc);
	msg = cJSON_GetObjectItemCaseSensitive(doc, "msg");
	assert_true(cJSON_IsString(msg));
	/* the JSON string decodes back to exactly what was logged */
	snprintf(want, sizeof(want), "logs: cannot open %s.", forged);
	assert_string_equal(msg->valuestring, want);
	cJSON_Delete(doc);
	free(out);
}

/* every byte value, alone and in a run, in both formats */
static void
test_every_byte(void **state)
{
	char all[256];
	size_t len;

	(void)state;
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	for (int f = 0; f < 2; f++) {
		char *out = logged((enum tfo_log_format)f, "", all, &len);
		assert_one_clean_line(out, len);
		if (f == TFO_LOG_JSON) {
			cJSON *doc = cJSON_Parse(out);
			assert_non_null(doc);
			cJSON_Delete(doc);
		}
		free(out);
		for (int b = 1; b < 256; b++) {
			char one[2] = { (char)b, '\0' };
			out = logged((enum tfo_log_format)f, "x", one, &len);
			assert_one_clean_line(out, len);
			free(out);
		}
	}
}

static void
test_utf8_kept_bad_bytes_escaped(void **state)
{
	static const char good[] = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93 \xf0\x9f\x98\x80 \xc2\xa0.";
	size_t len;
	char *out;

	(void)state;
	out = logged(TFO_LOG_TEXT, "", good, &len);
	assert_non_null(strstr(out, good));
	free(out);
	/* overlong '/', a surrogate, a lone continuation, past U+10FFFF, C1 CSI */
	out = logged(TFO_LOG_TEXT, "", "\xc0\xaf|\xed\xa0\x80|\x80|\xf4\x90\x80\x80|\xc2\x9b", &len);
	assert_one_clean_line(out, len);
	assert_non_null(strstr(out, "\\xc0\\xaf|\\xed\\xa0\\x80|\\x80|\\xf4\\x90\\x80\\x80|\\x9b.\n"));
	free(out);
	out = logged(TFO_LOG_JSON, "", "\xc2\x9b\"\\\x7f\xff", &len);
	assert_one_clean_line(out, len);
	assert_non_null(strstr(out, "\"msg\":\"\\u009b\\\"\\\\\\u007f\\\\xff.\"}"));
	free(out);
}

/* a message at the formatting limit, all of it escaped: cut, never half an escape */
static void
test_long_message_cut_cleanly(void **state)
{
	char big[4000];
	size_t len;

	(void)state;
	memset(big, '\x1b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int f = 0; f < 2; f++) {
		char *out = logged((enum tfo_log_format)f, "", big, &len);
		assert_one_clean_line(out, len);
		if (f == TFO_LOG_TEXT)
			assert_non_null(strstr(out, "\\x1b\n"));	/* cut: no "." */
		else {
			cJSON *doc = cJSON_Parse(out);
			assert_non_null(doc);
			cJSON_Delete(doc);
		}
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_line_text),
		cmocka_unit_test(test_forged_line_json),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_utf8_kept_bad_bytes_escaped),
		cmocka_unit_test(test_long_message_cut_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
