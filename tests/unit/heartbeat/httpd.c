/*
 * httpd.c - the tiny test HTTP server (tests only; see httpd.h).
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

struct t_httpd {
	int fd;
	uint16_t port;
	atomic_int stop;
	pthread_t th;
	t_handler h;
	void *arg;
};

static int
listen_any(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

uint16_t
t_closed_port(void)
{
	uint16_t port = 0;
	int fd = listen_any(&port);

	if (fd >= 0)
		close(fd);   /* bound but never listened: connect is refused */
	return port;
}

const char *
t_header(const struct t_req *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *p = r->head; *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (n > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(p + n - v), v);
			return out;
		}
		p += n + (eol ? 2 : 0);
	}
	return NULL;
}

/* read_request - headers then Content-Length bytes of body; -1 on error */
static int
read_request(int c, struct t_req *r)
{
	char buf[16384 + 1];
	size_t have = 0, need;
	char *end = NULL, cl[32];

	while (end == NULL) {
		ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL && have == sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "%15s %1023s", r->method, r->path) != 2)
		return -1;
	snprintf(r->head, sizeof(r->head), "%.*s\r\n", (int)(end - buf), buf);
	need = t_header(r, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
	if (need > (1u << 24) || (r->body = malloc(need + 1)) == NULL)
		return -1;
	r->body_len = have - (size_t)(end + 4 - buf);
	if (r->body_len > need)
		r->body_len = need;
	memcpy(r->body, end + 4, r->body_len);
	while (r->body_len < need) {
		ssize_t n = read(c, r->body + r->body_len, need - r->body_len);
		if (n <= 0)
			return -1;
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	return 0;
}

static void
serve_one(struct t_httpd *s, int c)
{
	struct t_req *r = calloc(1, sizeof(*r));
	struct t_resp *resp = calloc(1, sizeof(*resp));
	char head[1024];
	int n;

	if (r != NULL && resp != NULL && read_request(c, r) == 0) {
		resp->status = 200;
		s->h(s->arg, r, resp);
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
			     resp->status, strlen(resp->body), resp->headers);
		if (write(c, head, (size_t)n) == n)
			(void)!write(c, resp->body, strlen(resp->body));
	}
	if (r != NULL)
		free(r->body);
	free(r);
	free(resp);
	close(c);
}

static void *
loop(void *arg)
{
	struct t_httpd *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int c;
		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			serve_one(s, c);
	}
	return NULL;
}

struct t_httpd *
t_httpd_start(t_handler h, void *arg)
{
	struct t_httpd *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->h = h;
	s->arg = arg;
	if ((s->fd = listen_any(&s->port)) < 0 || listen(s->fd, 16) < 0 ||
	    pthread_create(&s->th, NULL, loop, s) != 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

uint16_t
t_httpd_port(const struct t_httpd *s)
{
	return s->port;
}

void
t_httpd_stop(struct t_httpd *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->fd);
	free(s);
}

int
t_curl_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
t_curl_teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}
