/*
 * tlsinit.c - the exporter's OpenSSL without its error strings until a TLS
 * error needs them (issue 18 §2). libcurl's start (curl_global_init) runs
 * OPENSSL_init_ssl, which loads every error-string table of libcrypto and
 * libssl: about forty loaders spread over libcrypto's text and a hash of a
 * few thousand entries, ~0.6 MiB resident in an exporter that may never see
 * a TLS error. Starting OpenSSL first with the NO_LOAD_*_STRINGS options
 * settles that once for the process (libcurl's own call then finds OpenSSL
 * started); the system's openssl.cnf is still loaded (its TLS policy,
 * providers), as libcurl would.
 *
 * The text of a failed handshake that libcurl takes from OpenSSL then reads
 * "error:0A000410:lib(20)::reason(1040)"; tfo_exp_tls_reason loads the
 * tables then (once) and puts the names back, so the operator still reads
 * "SSL routines::sslv3 alert handshake failure". Certificate checks are not
 * affected: libcurl words those itself ("SSL certificate problem: ...").
 *
 * Every OpenSSL function is found with dlsym in the libraries libcurl
 * brought in: the exporter links no TLS library of its own, and with a
 * libcurl built on another backend nothing here runs.
 */
#include "workers/exporter/tlsinit.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* OpenSSL 1.1.0+ ABI: the values of openssl/crypto.h and openssl/ssl.h */
#define OSSL_NO_LOAD_CRYPTO_STRINGS UINT64_C(0x00000001)
#define OSSL_NO_LOAD_SSL_STRINGS UINT64_C(0x00100000)
#define OSSL_SSL_CTRL_MODE 33                   /* SSL_CTX_set_mode is SSL_CTX_ctrl with it */
#define OSSL_SSL_MODE_RELEASE_BUFFERS 0x00000010L

typedef int (*init_ssl_fn)(uint64_t opts, const void *settings);
typedef int (*load_fn)(void);
typedef void (*error_string_fn)(unsigned long e, char *buf, size_t len);
typedef long (*ctx_ctrl_fn)(void *ctx, int cmd, long larg, void *parg);

/* the legacy per-library loaders OpenSSL 3 still exports (OPENSSL_init_crypto's
 * loading cannot run once the start declined it) */
static const char *const loaders[] = {
	"ERR_load_ERR_strings", "ERR_load_SSL_strings", "ERR_load_X509_strings",
	"ERR_load_X509V3_strings", "ERR_load_PEM_strings", "ERR_load_EVP_strings",
	"ERR_load_ASN1_strings", "ERR_load_BIO_strings", "ERR_load_RSA_strings",
	"ERR_load_EC_strings", "ERR_load_DH_strings", "ERR_load_DSA_strings",
	"ERR_load_BN_strings", "ERR_load_OBJ_strings", "ERR_load_CRYPTO_strings",
	"ERR_load_CONF_strings", "ERR_load_OSSL_STORE_strings", "ERR_load_PKCS12_strings",
	"ERR_load_RAND_strings", "ERR_load_OCSP_strings", "ERR_load_CT_strings",
};

static int started;                     /* tfo_exp_tls_init took OpenSSL's start */
static pthread_once_t strings_once = PTHREAD_ONCE_INIT;

static int
backend_is_openssl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v != NULL && v->ssl_version != NULL && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
}

int
tfo_exp_tls_init(void)
{
	init_ssl_fn init;

	if (started)
		return 1;
	if (!backend_is_openssl())
		return 0;
	/* POSIX dlsym returns an object pointer; the cast to a function pointer is its documented use */
	*(void **)&init = dlsym(RTLD_DEFAULT, "OPENSSL_init_ssl");
	if (init == NULL || init(OSSL_NO_LOAD_CRYPTO_STRINGS | OSSL_NO_LOAD_SSL_STRINGS, NULL) != 1)
		return 0;
	started = 1;
	return 1;
}

static void
load_strings(void)
{
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		load_fn f;

		*(void **)&f = dlsym(RTLD_DEFAULT, loaders[i]);
		if (f != NULL)
			(void)f();
	}
}

/* code_at - "error:XXXXXXXX:lib(" at p: the code, or 0 */
static unsigned long
code_at(const char *p)
{
	unsigned long code = 0;

	if (strncmp(p, "error:", 6) != 0)
		return 0;
	for (int i = 6; i < 14; i++) {          /* stops at the NUL: not a digit */
		if (!isxdigit((unsigned char)p[i]))
			return 0;
		code = code * 16 + (unsigned long)(isdigit((unsigned char)p[i]) ? p[i] - '0' :
		    tolower((unsigned char)p[i]) - 'a' + 10);
	}
	return p[14] == ':' && strncmp(p + 15, "lib(", 4) == 0 ? code : 0;
}

/* token_len - the unnamed "error:...:lib(N):<func>:reason(M)" at p: up to its
 * reason's ')' (a comma may follow), else up to a space (no name has one) */
static size_t
token_len(const char *p)
{
	size_t word = strcspn(p, " ");
	const char *r = strstr(p, ":reason(");
	const char *close;

	if (r == NULL || (size_t)(r - p) >= word || (close = strchr(r, ')')) == NULL ||
	    (size_t)(close - p) >= word)
		return word;
	return (size_t)(close - p) + 1;
}

int
tfo_exp_tls_reason(char *text, size_t size)
{
	error_string_fn estr;
	char out[512], name[256];
	size_t o = 0;
	int n = 0;

	if (!started || size == 0 || strstr(text, ":lib(") == NULL)
		return 0;
	*(void **)&estr = dlsym(RTLD_DEFAULT, "ERR_error_string_n");
	if (estr == NULL)
		return 0;
	(void)pthread_once(&strings_once, load_strings);
	for (const char *p = text; *p != '\0' && o + 1 < sizeof(out);) {
		unsigned long code = code_at(p);
		size_t len;

		if (code == 0) {
			out[o++] = *p++;
			continue;
		}
		estr(code, name, sizeof(name));
		len = strlen(name);
		if (o + len >= sizeof(out))
			break;
		memcpy(out + o, name, len);
		o += len;
		n++;
		p += token_len(p);
	}
	out[o] = '\0';
	if (n > 0)
		snprintf(text, size, "%s", out);
	return n;
}

CURLcode
tfo_exp_tls_lean(CURL *curl, void *sslctx, void *arg)
{
	ctx_ctrl_fn ctrl;

	(void)curl;
	(void)arg;
	*(void **)&ctrl = dlsym(RTLD_DEFAULT, "SSL_CTX_ctrl");
	if (ctrl != NULL)
		(void)ctrl(sslctx, OSSL_SSL_CTRL_MODE, OSSL_SSL_MODE_RELEASE_BUFFERS, NULL);
	return CURLE_OK;        /* without the mode the connection works as before */
}

CURLcode
tfo_exp_tls_lean_set(CURL *e)
{
	if (!started)
		return CURLE_OK;
	return curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, tfo_exp_tls_lean);
}
