/*
 * httpd.h - a tiny HTTP/1.1 server for heartbeat tests: a thread on
 * 127.0.0.1:<ephemeral>, one connection at a time, "Connection: close".
 */
#ifndef TFO_TEST_HTTPD_H
#define TFO_TEST_HTTPD_H

#include <stddef.h>
#include <stdint.h>

struct t_req {
	char method[16];
	char path[1024];
	char head[8192];        /* raw header block */
	char *body;
	size_t body_len;
};

struct t_resp {
	int status;
	char headers[512];      /* extra "Name: value\r\n" lines */
	char body[4096];
};

/* handler runs on the server thread */
typedef void (*t_handler)(void *arg, const struct t_req *req, struct t_resp *resp);

struct t_httpd;

struct t_httpd *t_httpd_start(t_handler h, void *arg);
uint16_t t_httpd_port(const struct t_httpd *s);
/* t_httpd_stop - stop and join (after it, all handler writes are visible) */
void t_httpd_stop(struct t_httpd *s);
/* t_header - value of a header (case-insensitive name) or NULL; out[cap] */
const char *t_header(const struct t_req *r, const char *name, char *out, size_t cap);
/* t_closed_port - a port with nothing listening */
uint16_t t_closed_port(void);
/* t_curl_setup / t_curl_teardown - cmocka group setup for the tests that
 * run libcurl against this server: curl_global_init, and SIGPIPE ignored
 * (the server may answer a request curl already dropped) */
int t_curl_setup(void **state);
int t_curl_teardown(void **state);

#endif
