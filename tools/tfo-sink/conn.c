/*
 * conn.c - tfo-sink (tool process): the HTTP/1.1 server under http.c. One
 * listener; per client, large recv()s into one contiguous buffer holding
 * the head and the whole body, so the decoder reads the body in place; then
 * keep-alive, pipelining and a lingering close. Parsing is in parse.c.
 */
#include "tools/tfo-sink/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/log.h"
#include "tools/tfo-sink/decode.h"
#include "tools/tfo-sink/parse.h"

#define HEAD_MAX   (64u * 1024)         /* request line and headers; past it 431 */
#define BUF_INIT   (16u * 1024)         /* first buffer; grown for long heads and bodies */
#define BUF_FREE   (16u * 1024)         /* least room offered to a recv */
#define BUF_KEEP   (4u << 20)           /* past this a buffer shrinks between requests */
#define BUF_MAX    (HEAD_MAX + TFO_SINK_MAX_BODY + 4 * READ_MAX)
#define READ_MAX   (256u * 1024)        /* largest single recv */
#define READS_MAX  8                    /* recvs per wake-up: one client cannot starve others */
#define OUT_HIGH   (256u * 1024)        /* unsent replies past this stop the reading */
#define IDLE_SEC   30                   /* as evhttp_set_timeout(30) was */
#define LINGER_SEC 5                    /* waiting for the client's FIN after ours */
#define LINGER_MAX (64u << 20)          /* bytes discarded after an early reply */
#define BACKLOG    128                  /* as evhttp's */

enum state {
	ST_HEAD = 0,    /* reading a request head */
	ST_BODY,        /* reading Content-Length bytes */
	ST_CHUNKED,     /* decoding a chunked body */
	ST_CLOSING,     /* last reply queued: flush it, then shut down */
	ST_LINGER,      /* our FIN sent: discard input until the client's */
};

enum { T_OFF = 0, T_IDLE, T_LINGER };    /* which timeout an event was added with */

struct tfo_sink_conn {
	struct tfo_sink_server *srv;
	struct tfo_sink_conn *prev, *next;
	evutil_socket_t fd;
	struct event *rev, *wev;
	int reading, writing;           /* T_OFF or the timeout rev / wev were added with */
	int dead;                       /* freed when the callback returns */
	int eof;                        /* the client shut its side */
	enum state state;
	uint8_t *buf;
	size_t cap, len;                /* buf[0..len) is input */
	size_t req;                     /* start of the current request in buf */
	size_t scan;                    /* tfo_sink_head_end's resume point, from req */
	size_t body;                    /* start of the body in buf */
	size_t in, out;                 /* chunked: raw parse point, decoded end, from body */
	size_t discarded;               /* ST_LINGER */
	struct tfo_sink_head head;
	struct tfo_sink_chunked ck;
	struct evbuffer *outbuf;        /* queued replies */
	struct evbuffer *hdrs;          /* the handler's reply headers */
};

struct tfo_sink_server {
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *resume;           /* re-enables accepting after an accept error */
	tfo_sink_handler *handler;
	void *arg;
	struct tfo_sink_conn *conns;    /* every open connection, freed with the server */
	int port;
};

static const struct timeval idle_tv = { IDLE_SEC, 0 };
static const struct timeval linger_tv = { LINGER_SEC, 0 };

/* reason - reason phrase; any 100-599 may come from --fail-status */
static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return status < 200 ? "Informational" : status < 300 ? "Success" :
	    status < 400 ? "Redirection" : status < 500 ? "Client Error" : "Server Error";
}

/* queue_head - status line and headers (the handler's, drained from
 * c->hdrs) of a reply whose body has blen bytes */
static void
queue_head(struct tfo_sink_conn *c, int status, size_t blen, int keep)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	evbuffer_add_printf(c->outbuf, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (gmtime_r(&now, &tm) != NULL &&
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		evbuffer_add_printf(c->outbuf, "Date: %s\r\n", date);
	evbuffer_add_buffer(c->outbuf, c->hdrs);
	/* 1xx, 204 and 304 have no body, so no length either (RFC 9110 8.6) */
	if (status >= 200 && status != 204 && status != 304)
		evbuffer_add_printf(c->outbuf, "Content-Length: %zu\r\n", blen);
	if (!keep)
		evbuffer_add_printf(c->outbuf, "Connection: close\r\n");
	else if (c->head.minor == 0)
		evbuffer_add_printf(c->outbuf, "Connection: keep-alive\r\n");
	evbuffer_add(c->outbuf, "\r\n", 2);
}

/* fail - answer status to a request the handler never sees, then close */
static void
fail(struct tfo_sink_conn *c, int status)
{
	const char *why = reason(status);

	log_info("closing a connection: %d %s", status, why);
	evbuffer_drain(c->hdrs, evbuffer_get_length(c->hdrs));
	evbuffer_add_printf(c->hdrs, "Content-Type: text/plain\r\n");
	queue_head(c, status, strlen(why) + 1, 0);
	evbuffer_add_printf(c->outbuf, "%s\n", why);
	c->state = ST_CLOSING;
}

const char *
tfo_sink_req_header(const struct tfo_sink_req *req, const char *name)
{
	const struct tfo_sink_conn *c = req->conn;
	const char *h = (const char *)c->buf + c->req;

	for (size_t i = 0; i < c->head.nhdrs; i++)
		if (strcasecmp(h + c->head.hdrs[i].name, name) == 0)
			return h + c->head.hdrs[i].value;
	return NULL;
}

int
tfo_sink_req_add_header(struct tfo_sink_req *req, const char *name, const char *value)
{
	if (req->replied || strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	return evbuffer_add_printf(req->conn->hdrs, "%s: %s\r\n", name, value) < 0 ? -1 : 0;
}

void
tfo_sink_req_reply(struct tfo_sink_req *req, int status, struct evbuffer *body)
{
	struct tfo_sink_conn *c = req->conn;
	size_t blen = body ? evbuffer_get_length(body) : 0;

	if (req->replied) {
		log_error("second reply to one request dropped");
		return;
	}
	req->replied = 1;
	queue_head(c, status, blen, c->head.keep_alive);
	if (body == NULL)
		return;
	if (strcmp(req->method, "HEAD") == 0 || status < 200 || status == 204 || status == 304)
		evbuffer_drain(body, blen);
	else
		evbuffer_add_buffer(c->outbuf, body);
}

/* dispatch - hand the complete request to the handler, then step past it */
static void
dispatch(struct tfo_sink_conn *c)
{
	struct tfo_sink_server *srv = c->srv;
	const char *h = (const char *)c->buf + c->req;
	struct tfo_sink_req r = { .conn = c };
	int chunked = c->state == ST_CHUNKED;

	r.method = h + c->head.method;
	r.path = *(h + c->head.path) ? h + c->head.path : "/";
	r.body = c->buf + c->body;
	r.body_len = chunked ? c->out : (size_t)c->head.length;
	srv->handler(&r, srv->arg);
	if (!r.replied) {
		log_error("no reply from the handler: 500");
		tfo_sink_req_reply(&r, 500, NULL);
	}
	c->req = c->body + (chunked ? c->in : (size_t)c->head.length);
	c->scan = 0;
	c->state = c->head.keep_alive ? ST_HEAD : ST_CLOSING;
}

/* read_head - 1 once a whole head is parsed (state BODY or CHUNKED), 0 for
 * more input, -1 if refused (reply queued, state CLOSING) */
static int
read_head(struct tfo_sink_conn *c)
{
	size_t end;
	int rc;

	/* Blank lines before a request are skipped (RFC 9112 2.2). */
	while (c->scan == 0 && c->req < c->len && (c->buf[c->req] == '\r' || c->buf[c->req] == '\n'))
		c->req++;
	end = tfo_sink_head_end(c->buf + c->req, c->len - c->req, &c->scan);
	if ((end == 0 && c->len - c->req > HEAD_MAX) || end > HEAD_MAX)
		return fail(c, 431), -1;
	if (end == 0)
		return 0;
	if ((rc = tfo_sink_head_parse((char *)c->buf + c->req, end, &c->head)) != 0)
		return fail(c, rc), -1;
	c->body = c->req + end;
	c->scan = 0;
	c->state = c->head.chunked ? ST_CHUNKED : ST_BODY;
	memset(&c->ck, 0, sizeof(c->ck));
	c->in = c->out = 0;
	/* A client that waits for 100 gets it once, before any body byte came. */
	if (c->head.expect_continue && c->len == c->body && (c->head.chunked || c->head.length > 0))
		evbuffer_add_printf(c->outbuf, "HTTP/1.1 100 Continue\r\n\r\n");
	return 1;
}

/* read_chunked - de-chunk what arrived; 1 when the body is whole */
static int
read_chunked(struct tfo_sink_conn *c)
{
	size_t end;
	int rc = tfo_sink_chunked_decode(&c->ck, c->buf + c->body, c->len - c->body, &c->in,
	    &c->out, TFO_SINK_MAX_BODY);

	/* Drop the framing just parsed, so buffered input stays body + one line. */
	if (c->in > c->out) {
		end = c->body + c->in;
		memmove(c->buf + c->body + c->out, c->buf + end, c->len - end);
		c->len -= c->in - c->out;
		c->in = c->out;
	}
	if (rc > 1)
		return fail(c, rc), -1;
	return rc;
}

/* advance - 1 when a whole request is in the buffer */
static int
advance(struct tfo_sink_conn *c)
{
	int rc;

	if (c->state == ST_HEAD && (rc = read_head(c)) <= 0)
		return rc;
	if (c->state == ST_BODY)
		return c->len - c->body >= c->head.length;
	return read_chunked(c);
}

/* process - answer every whole request buffered, in order; how many */
static int
process(struct tfo_sink_conn *c)
{
	int n = 0;

	while (!c->dead && c->state < ST_CLOSING && evbuffer_get_length(c->outbuf) < OUT_HIGH &&
	    advance(c) == 1) {
		dispatch(c);
		n++;
	}
	if (c->state == ST_HEAD && c->req == c->len)
		c->req = c->len = 0;    /* the usual case: nothing left, nothing to move */
	return n;
}

/* compact - move the current request to the buffer's start */
static void
compact(struct tfo_sink_conn *c)
{
	size_t d = c->req;

	memmove(c->buf, c->buf + d, c->len - d);
	c->len -= d;
	c->req = 0;
	if (c->state == ST_BODY || c->state == ST_CHUNKED)
		c->body -= d;
}

static int
resize(struct tfo_sink_conn *c, size_t cap)
{
	uint8_t *nb;

	if (cap > BUF_MAX || (nb = realloc(c->buf, cap)) == NULL)
		return -1;
	c->buf = nb;
	c->cap = cap;
	return 0;
}

/* reserve - room for the next recv: the whole Content-Length body, so it
 * arrives contiguous; otherwise at least BUF_FREE bytes */
static int
reserve(struct tfo_sink_conn *c)
{
	size_t need;

	if (c->state == ST_HEAD && c->req == c->len && c->cap > BUF_KEEP) {
		c->req = c->len = 0;
		return resize(c, BUF_INIT);     /* a big body went by: give it back */
	}
	need = c->state == ST_BODY ? c->body + (size_t)c->head.length : c->len + BUF_FREE;
	if (need <= c->cap)
		return 0;
	if (c->req > 0) {
		need -= c->req;
		compact(c);
		if (need <= c->cap)
			return 0;
	}
	if (c->state != ST_BODY && need < c->cap * 2)
		need = c->cap * 2 < BUF_MAX ? c->cap * 2 : BUF_MAX;
	return resize(c, need);
}

static void
free_conn(struct tfo_sink_conn *c)
{
	struct tfo_sink_server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else if (srv->conns == c)
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	evutil_closesocket(c->fd);
	if (c->outbuf)
		evbuffer_free(c->outbuf);
	if (c->hdrs)
		evbuffer_free(c->hdrs);
	free(c->head.hdrs);
	free(c->buf);
	free(c);
}

/* read_input - recv and process, up to READS_MAX times or until drained */
static void
read_input(struct tfo_sink_conn *c)
{
	size_t want;
	ssize_t n;

	for (int i = 0; i < READS_MAX && !c->dead && c->state < ST_CLOSING &&
	    evbuffer_get_length(c->outbuf) < OUT_HIGH; i++) {
		if (reserve(c) != 0 || (want = c->cap - c->len) == 0) {
			log_error("cannot grow a connection buffer to %zu bytes", c->len + BUF_FREE);
			c->dead = 1;
			return;
		}
		if (want > READ_MAX)
			want = READ_MAX;
		if ((n = recv(c->fd, c->buf + c->len, want, 0)) < 0) {
			if (errno == EINTR)
				continue;
			c->dead = errno != EAGAIN && errno != EWOULDBLOCK;
			return;
		}
		if (n == 0) {           /* answer what came, then close */
			c->eof = 1;
			c->state = ST_CLOSING;
			return;
		}
		c->len += (size_t)n;
		/* Drained, or answered all we had (the client now waits for us):
		 * spare the recv that would say EAGAIN. */
		if (process(c) > 0 && c->len == 0)
			return;
		if ((size_t)n < want)
			return;
	}
}

/* discard - ST_LINGER: drop input until the client's FIN */
static void
discard(struct tfo_sink_conn *c)
{
	ssize_t n;

	for (int i = 0; i < READS_MAX; i++) {
		if ((n = recv(c->fd, c->buf, c->cap, 0)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->dead = errno != EAGAIN && errno != EWOULDBLOCK;
			return;
		}
		if (n == 0 || (c->discarded += (size_t)n) > LINGER_MAX) {
			c->dead = 1;
			return;
		}
	}
}

/* flush - write what is queued; after the last reply, shut our side down */
static void
flush(struct tfo_sink_conn *c)
{
	if (evbuffer_get_length(c->outbuf) > 0 && evbuffer_write(c->outbuf, c->fd) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		c->dead = 1;
		return;
	}
	if (c->state != ST_CLOSING || evbuffer_get_length(c->outbuf) > 0)
		return;
	/* Closing with unread input would send a RST that can destroy our reply
	 * in the client's kernel; FIN first, then read until the client's. */
	if (c->eof || shutdown(c->fd, SHUT_WR) != 0) {
		c->dead = 1;
		return;
	}
	c->state = ST_LINGER;
	c->req = c->len = 0;
}

/* want - (re)add or delete ev so that it runs with timeout kind k */
static int
want(struct event *ev, int *cur, int k)
{
	if (*cur == k)
		return 0;
	*cur = k;
	if (k == T_OFF)
		return event_del(ev);
	return event_add(ev, k == T_LINGER ? &linger_tv : &idle_tv);
}

/* settle - after any callback: write, pick the events, free if dead */
static void
settle(struct tfo_sink_conn *c)
{
	int r = T_OFF;

	if (!c->dead)
		process(c);
	if (!c->dead)
		flush(c);
	if (!c->dead) {
		if (c->state == ST_LINGER)
			r = T_LINGER;
		else if (c->state < ST_CLOSING && evbuffer_get_length(c->outbuf) < OUT_HIGH)
			r = T_IDLE;
		if (want(c->rev, &c->reading, r) != 0 ||
		    want(c->wev, &c->writing, evbuffer_get_length(c->outbuf) > 0 ? T_IDLE : T_OFF) != 0)
			c->dead = 1;
	}
	if (c->dead)
		free_conn(c);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_sink_conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT)
		c->dead = 1;
	else if (c->state == ST_LINGER)
		discard(c);
	else
		read_input(c);
	settle(c);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_sink_conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT)
		c->dead = 1;
	else
		flush(c);
	settle(c);
}

static void
new_conn(struct tfo_sink_server *srv, evutil_socket_t fd)
{
	struct tfo_sink_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	/* A reply is one write; Nagle could only hold it behind a 100 Continue. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->buf = malloc(BUF_INIT)) == NULL || (c->outbuf = evbuffer_new()) == NULL ||
	    (c->hdrs = evbuffer_new()) == NULL ||
	    (c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_read, c)) == NULL ||
	    (c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST, on_write, c)) == NULL) {
		log_error("new connection: out of memory");
		free_conn(c);
		return;
	}
	c->cap = BUF_INIT;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	settle(c);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	(void)lis;
	(void)sa;
	(void)salen;
	new_conn(arg, fd);
}

/* on_accept_error - out of fds, most likely: pause, or accept() would
 * spin on the still readable listener */
static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct tfo_sink_server *srv = arg;
	static const struct timeval pause_tv = { 0, 100000 };

	log_warn("accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(lis);
	event_add(srv->resume, &pause_tv);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct tfo_sink_server *srv = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(srv->lis);
}

/* bound_port - the port getsockname reports for the listener */
static int
bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/* listen_ai - bind the first address host resolves to, as evhttp did */
static struct evconnlistener *
listen_ai(struct tfo_sink_server *srv, const char *host, unsigned port)
{
	struct evutil_addrinfo hints = { 0 }, *ai = NULL;
	struct evconnlistener *lis;
	char service[16];
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(service, sizeof(service), "%u", port);
	if ((rc = evutil_getaddrinfo(host, service, &hints, &ai)) != 0) {
		log_error("cannot resolve %s: %s", host, evutil_gai_strerror(rc));
		return NULL;
	}
	lis = evconnlistener_new_bind(srv->base, on_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, BACKLOG,
	    ai->ai_addr, (int)ai->ai_addrlen);
	if (lis == NULL)
		log_error("cannot listen on %s:%u: %s", host, port, strerror(errno));
	evutil_freeaddrinfo(ai);
	return lis;
}

struct tfo_sink_server *
tfo_sink_server_new(struct event_base *base, const char *host, unsigned port,
    tfo_sink_handler *handler, void *arg)
{
	struct tfo_sink_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL || (srv->resume = evtimer_new(base, on_resume, srv)) == NULL) {
		log_error("server: out of memory");
		free(srv);
		return NULL;
	}
	srv->base = base;
	srv->handler = handler;
	srv->arg = arg;
	if ((srv->lis = listen_ai(srv, host, port)) == NULL) {
		tfo_sink_server_free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->lis, on_accept_error);
	srv->port = bound_port(evconnlistener_get_fd(srv->lis));
	return srv;
}

int
tfo_sink_server_port(const struct tfo_sink_server *srv)
{
	return srv->port;
}

void
tfo_sink_server_free(struct tfo_sink_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->conns)
		free_conn(srv->conns);
	if (srv->lis)
		evconnlistener_free(srv->lis);
	if (srv->resume)
		event_free(srv->resume);
	free(srv);
}
