/*
 * test_exp_tlsinit.c - the exporter's OpenSSL start without error strings
 * (issue 18 §2): after tfo_exp_tls_init and libcurl's own start the tables
 * are not loaded (libcurl alone loads them: ~0.6 MiB); an unnamed OpenSSL
 * code in a TLS error text is named again (the tables loaded then); texts
 * that only look like one are left as they are. Each connection's SSL_CTX
 * releases its buffers when idle (tfo_exp_tls_lean).
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "workers/exporter/tlsinit.h"

typedef const char *(*reason_fn)(unsigned long e);

static int openssl;     /* libcurl's backend is OpenSSL: the cases below apply */

/* reason_loaded - whether OpenSSL names SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE now */
static int
reason_loaded(void)
{
	reason_fn f;

	*(void **)&f = dlsym(RTLD_DEFAULT, "ERR_reason_error_string");
	assert_non_null(f);
	return f(0x0A000410UL) != NULL;
}

static void
test_start_without_strings(void **state)
{
	char text[256] = "OpenSSL SSL_connect: error:0A000410:lib(20)::reason(1040) in connection";

	(void)state;
	/* not started by us: nothing rewritten, nothing loaded */
	assert_int_equal(tfo_exp_tls_reason(text, sizeof(text)), 0);
	openssl = tfo_exp_tls_init();
	if (!openssl)
		skip();                     /* another backend: tfo_exp_tls_init does nothing */
	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	assert_int_equal(tfo_exp_tls_init(), 1);
	assert_false(reason_loaded());
}

static void
test_reason_named(void **state)
{
	char text[256] = "OpenSSL SSL_connect: error:0A000410:lib(20)::reason(1040) in connection "
	    "to 127.0.0.1:4318 ";
	char two[256] = "error:0A000086:lib(20)::reason(134), error:0A00045C:lib(20)::reason(1116)";

	(void)state;
	if (!openssl)
		skip();
	assert_int_equal(tfo_exp_tls_reason(text, sizeof(text)), 1);
	assert_true(reason_loaded());
	assert_string_equal(text, "OpenSSL SSL_connect: error:0A000410:SSL routines::sslv3 alert "
	    "handshake failure in connection to 127.0.0.1:4318 ");
	assert_int_equal(tfo_exp_tls_reason(two, sizeof(two)), 2);
	assert_non_null(strstr(two, "certificate verify failed, error:0A00045C:SSL routines::"));
}

static void
test_lookalikes_kept(void **state)
{
	static const char *const keep[] = {
		"", "error:", "error:0A00041", "error:0A000410", "error:0A000410:", "error:0A000410:lib",
		"error:0A00041:lib(20)::reason(1040)", "error:0A00041G:lib(20)::reason(1040)",
		"error:00000000:lib(0)::reason(0)", "xerror:0A000410:SSL routines::x :lib(",
		"Could not resolve host: lib(20)",
	};
	char small[8] = "error:0";
	char text[64];

	(void)state;
	if (!openssl)
		skip();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(text, sizeof(text), "%s", keep[i]);
		assert_int_equal(tfo_exp_tls_reason(text, sizeof(text)), 0);
		assert_string_equal(text, keep[i]);
	}
	assert_int_equal(tfo_exp_tls_reason(small, sizeof(small)), 0);
	/* a name longer than the room left: cut, still terminated */
	snprintf(text, sizeof(text), "error:0A000410:lib(20)::reason(1040)");
	assert_int_equal(tfo_exp_tls_reason(text, 24), 1);
	assert_int_equal(strlen(text), 23);
}

typedef const void *(*method_fn)(void);
typedef void *(*ctx_new_fn)(const void *method);
typedef long (*ctx_ctrl_fn)(void *ctx, int cmd, long larg, void *parg);
typedef void (*ctx_free_fn)(void *ctx);

/* the SSL_CTX libcurl hands to CURLOPT_SSL_CTX_FUNCTION gets
 * SSL_MODE_RELEASE_BUFFERS (0x10; SSL_CTRL_MODE 33 reads it with larg 0) */
static void
test_lean_ctx(void **state)
{
	method_fn method;
	ctx_new_fn ctx_new;
	ctx_ctrl_fn ctrl;
	ctx_free_fn ctx_free;
	CURL *e;
	void *ctx;

	(void)state;
	if (!openssl)
		skip();
	*(void **)&method = dlsym(RTLD_DEFAULT, "TLS_client_method");
	*(void **)&ctx_new = dlsym(RTLD_DEFAULT, "SSL_CTX_new");
	*(void **)&ctrl = dlsym(RTLD_DEFAULT, "SSL_CTX_ctrl");
	*(void **)&ctx_free = dlsym(RTLD_DEFAULT, "SSL_CTX_free");
	assert_true(method && ctx_new && ctrl && ctx_free);
	assert_non_null(ctx = ctx_new(method()));
	assert_int_equal(ctrl(ctx, 33, 0, NULL) & 0x10, 0);
	assert_int_equal(tfo_exp_tls_lean(NULL, ctx, NULL), CURLE_OK);
	assert_int_equal(ctrl(ctx, 33, 0, NULL) & 0x10, 0x10);
	ctx_free(ctx);
	assert_non_null(e = curl_easy_init());
	assert_int_equal(tfo_exp_tls_lean_set(e), CURLE_OK);
	curl_easy_cleanup(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_without_strings),
		cmocka_unit_test(test_reason_named),
		cmocka_unit_test(test_lookalikes_kept),
		cmocka_unit_test(test_lean_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
