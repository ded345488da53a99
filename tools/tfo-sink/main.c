/*
 * main.c - tfo-sink: a small OTLP/HTTP + heartbeat receiver for demos and
 * tests (`make run`, integration suites). Options, loop, signals; the HTTP
 * server is in conn.c, the request handling in http.c, decoding in decode*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/version.h"
#include "tools/tfo-sink/conn.h"
#include "tools/tfo-sink/sink.h"

struct options {
	char host[256];
	unsigned port;
	const char *out;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tfo-sink [--listen HOST:PORT] [--out FILE] [--fail-first N]\n"
	    "                [--fail-status CODE] [--quiet] [--count-only] [--strict-utf8]\n"
	    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:4318; port 0 = any)\n"
	    "  --out FILE          append one JSON line per request (docs/tfo-sink.md)\n"
	    "  --fail-first N      answer the first N requests with --fail-status\n"
	    "  --fail-status CODE  status for --fail-first (default 503, with Retry-After: 1)\n"
	    "  --quiet             no per-request line on stdout\n"
	    "  --count-only        protobuf bodies: check framing and count, no full decode\n"
	    "                      (benchmarks: --out lines then carry no body)\n"
	    "  --strict-utf8       refuse (400) a protobuf request with a string that is not\n"
	    "                      UTF-8, as proto3 and protobuf-go do (not with --count-only)\n"
	    "  --version           print the version and exit\n"
	    "  --help              print this text and exit\n");
}

/* parse_ulong - whole-string decimal in [min, max] */
static int
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max)
		return -1;
	return 0;
}

/* parse_listen - "HOST:PORT" or "[V6]:PORT" */
static int
parse_listen(const char *arg, struct options *o)
{
	const char *colon = strrchr(arg, ':'), *h = arg;
	size_t hlen;
	unsigned long port;

	if (colon == NULL || parse_ulong(colon + 1, 0, 65535, &port) != 0)
		return -1;
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(o->host))
		return -1;
	memcpy(o->host, h, hlen);
	o->host[hlen] = '\0';
	o->port = (unsigned)port;
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o, struct sink *sk)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "fail-first", required_argument, NULL, 'f' },
		{ "fail-status", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "count-only", no_argument, NULL, 'c' },
		{ "strict-utf8", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "l:o:f:s:qVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_listen(optarg, o) != 0)
				return log_error("bad --listen '%s' (want HOST:PORT)", optarg), -1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			if (parse_ulong(optarg, 0, 1000000000, &sk->fail_first) != 0)
				return log_error("bad --fail-first '%s'", optarg), -1;
			break;
		case 's':
			if (parse_ulong(optarg, 100, 599, &v) != 0)
				return log_error("bad --fail-status '%s' (100-599)", optarg), -1;
			sk->fail_status = (int)v;
			break;
		case 'q':
			sk->quiet = 1;
			break;
		case 'c':
			sk->count_only = 1;
			break;
		case 'u':
			sk->strict_utf8 = 1;
			break;
		case 'V':
			tfo_version_print(stdout, "tfo-sink");
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* a stop signal while libevent does not own SIGINT/SIGTERM (see main) */
static volatile sig_atomic_t early_stop;

static void
note_stop(int sig)
{
	(void)sig;
	early_stop = 1;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(arg, NULL);
}

/* listen_on - bind, then print the real address (port 0 picks one) */
static struct tfo_sink_server *
listen_on(struct event_base *base, const struct options *o, struct sink *sk)
{
	struct tfo_sink_server *srv = tfo_sink_server_new(base, o->host, o->port,
	    tfo_sink_http_handle, sk);
	int port;

	if (srv == NULL)
		return NULL;
	if ((port = tfo_sink_server_port(srv)) < 0) {
		log_error("cannot learn the port bound on %s", o->host);
		tfo_sink_server_free(srv);
		return NULL;
	}
	printf(strchr(o->host, ':') ? "listening on [%s]:%d\n" : "listening on %s:%d\n",
	    o->host, port);
	fflush(stdout);
	return srv;
}

int
main(int argc, char **argv)
{
	struct options o = { .host = "127.0.0.1", .port = 4318 };
	struct sink sk = { .fail_status = 503 };
	struct event_base *base = NULL;
	struct tfo_sink_server *srv = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	int rc = 1;

	tfo_log_init("tfo-sink", TFO_LOG_INFO, TFO_LOG_TEXT);
	if (parse_args(argc, argv, &o, &sk) != 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (o.out != NULL && (sk.out = fopen(o.out, "ae")) == NULL) {
		log_error("cannot open %s: %s", o.out, strerror(errno));
		return 1;
	}
	tfo_log_hook_libevent();
	/* A flag-only handler under libevent's: event_free() restores it, so a
	 * second stop signal during the exit (Ctrl-C reaches the group, run-dev's
	 * TERM follows) cannot kill us and turn status 0 into a signal death. */
	signal(SIGINT, note_stop);
	signal(SIGTERM, note_stop);
	if ((base = event_base_new()) == NULL ||
	    (sigint = evsignal_new(base, SIGINT, on_signal, base)) == NULL ||
	    (sigterm = evsignal_new(base, SIGTERM, on_signal, base)) == NULL ||
	    event_add(sigint, NULL) != 0 || event_add(sigterm, NULL) != 0) {
		log_error("libevent setup failed");
		goto out;
	}
	if ((srv = listen_on(base, &o, &sk)) == NULL)
		goto out;
	if (early_stop)                 /* arrived before libevent had it */
		event_base_loopexit(base, NULL);
	if (event_base_dispatch(base) == 0)
		rc = 0;
	log_info("stopped after %llu requests", (unsigned long long)sk.requests);
out:
	tfo_sink_server_free(srv);      /* and every open connection */
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (base)
		event_base_free(base);
	if (sk.out)
		fclose(sk.out);
	libevent_global_shutdown();
	return rc;
}
