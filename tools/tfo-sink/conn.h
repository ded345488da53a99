/*
 * conn.h - tfo-sink (tool process): a small HTTP/1.1 server on a libevent
 * event_base (listener, connections, request parser, replies). It replaces
 * evhttp, whose 4 KiB reads cost the benchmarks most of the sink's CPU.
 */
#ifndef TFO_SINK_CONN_H
#define TFO_SINK_CONN_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct tfo_sink_conn;
struct tfo_sink_server;

/* One request as the handler sees it; valid only during the handler call. */
struct tfo_sink_req {
	const char *method;             /* token as sent ("POST", "PROPFIND"...) */
	const char *path;               /* target's path, not decoded, no query; "/" if empty */
	const uint8_t *body;            /* Content-Length or de-chunked body */
	size_t body_len;
	struct tfo_sink_conn *conn;     /* owner, for the functions below */
	int replied;
};

/* The handler must answer with tfo_sink_req_reply before it returns. */
typedef void tfo_sink_handler(struct tfo_sink_req *req, void *arg);

/* tfo_sink_server_new - listen on host:port (port 0 = any) and serve
 * requests to handler on base; NULL on failure (logged here) */
struct tfo_sink_server *tfo_sink_server_new(struct event_base *base, const char *host,
    unsigned port, tfo_sink_handler *handler, void *arg);
/* tfo_sink_server_port - the bound port (port 0 resolved), -1 if unknown */
int tfo_sink_server_port(const struct tfo_sink_server *srv);
/* tfo_sink_server_free - close the listener and every open connection */
void tfo_sink_server_free(struct tfo_sink_server *srv);

/* tfo_sink_req_header - value of header name (any case), first one, or NULL */
const char *tfo_sink_req_header(const struct tfo_sink_req *req, const char *name);
/* tfo_sink_req_add_header - a reply header; -1 if it cannot be sent */
int tfo_sink_req_add_header(struct tfo_sink_req *req, const char *name, const char *value);
/* tfo_sink_req_reply - queue the reply; body (may be NULL) is drained */
void tfo_sink_req_reply(struct tfo_sink_req *req, int status, struct evbuffer *body);

#endif
