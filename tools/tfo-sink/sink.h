/*
 * sink.h - tfo-sink (tool process): state shared by main.c (options, loop)
 * and http.c (the evhttp request handler).
 */
#ifndef TFO_SINK_SINK_H
#define TFO_SINK_SINK_H

#include <stdint.h>
#include <stdio.h>

struct evhttp_request;

struct sink {
	FILE *out;                  /* --out: one JSON line per request, or NULL */
	unsigned long fail_first;   /* answer fail_status to this many requests */
	int fail_status;
	int quiet;                  /* no per-request stdout line */
	int count_only;             /* --count-only: tfo_sink_count, no body */
	uint64_t requests;          /* requests seen so far */
};

/* sink_http_cb - evhttp generic callback: route, decode, record, reply */
void sink_http_cb(struct evhttp_request *req, void *arg);

#endif
