/*
 * sink.h - tfo-sink (tool process): state shared by main.c (options, loop)
 * and http.c (the request handler conn.c calls).
 */
#ifndef TFO_SINK_SINK_H
#define TFO_SINK_SINK_H

#include <stdint.h>
#include <stdio.h>

struct tfo_sink_req;

struct sink {
	FILE *out;                  /* --out: one JSON line per request, or NULL */
	unsigned long fail_first;   /* answer fail_status to this many requests */
	int fail_status;
	int quiet;                  /* no per-request stdout line */
	int count_only;             /* --count-only: tfo_sink_count, no body */
	int strict_utf8;            /* --strict-utf8: refuse strings that are not UTF-8 */
	uint64_t requests;          /* requests seen so far */
};

/* tfo_sink_http_handle - the tfo_sink_handler: route, decode, record, reply */
void tfo_sink_http_handle(struct tfo_sink_req *req, void *arg);

#endif
