/*
 * tlsinit.h - OpenSSL started without its error-string tables (tfo-exporter),
 * and the tables loaded at the first TLS error that needs them.
 */
#ifndef TFO_EXP_TLSINIT_H
#define TFO_EXP_TLSINIT_H

#include <stddef.h>

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

#endif
