/*
 * tlsinit.h - OpenSSL started without its error-string tables (tfo-exporter),
 * and the tables loaded at the first TLS error that needs them.
 */
#ifndef TFO_EXP_TLSINIT_H
#define TFO_EXP_TLSINIT_H

#include <stddef.h>

#include <curl/curl.h>

/*
 * tfo_exp_tls_init - when libcurl's TLS backend is OpenSSL, start OpenSSL
 * before libcurl does, without loading the error strings. Call before the
 * process's first curl_global_init, single-threaded. 1 when done, 0 when
 * the backend is another (nothing done).
 */
int tfo_exp_tls_init(void);

/*
 * tfo_exp_tls_reason - rewrite OpenSSL's unnamed codes in an error text
 * ("error:0A000410:lib(20)::reason(1040)") into their names, loading the
 * tables on the first call that finds one. Returns the number rewritten.
 */
int tfo_exp_tls_reason(char *text, size_t size);

/*
 * tfo_exp_tls_lean - CURLOPT_SSL_CTX_FUNCTION: each connection's SSL_CTX
 * gets SSL_MODE_RELEASE_BUFFERS, so an idle TLS connection (kept for reuse
 * between requests, or dead and not yet noticed) holds no read and write
 * buffers (~34 KiB each connection). What is sent and read is unchanged.
 * tfo_exp_tls_lean_set - installs it on a handle when tfo_exp_tls_init
 * started OpenSSL (with another backend: nothing, CURLE_OK).
 */
CURLcode tfo_exp_tls_lean(CURL *curl, void *sslctx, void *arg);
CURLcode tfo_exp_tls_lean_set(CURL *e);

#endif
