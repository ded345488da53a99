/*
 * tfoctl.c - the operator's command line for tfo-agent (run by root or members
 * of the admin group): a command table of verbs, each a request on the
 * supervisor's control socket, plus the local verbs version and config.
 * Exit codes: 0 ok, 1 error, 3 supervisor not running.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/config.h"
#include "common/ipc.h"
#include "common/version.h"
#include "tools/tfoctl/tfoctl.h"

#define EXIT_NOT_RUNNING 3
#define REPLY_MAX (4 * 1024 * 1024)
#define REPLY_TIMEOUT_MS 10000

struct ctx {
	const char *socket;          /* --socket */
	const char *config;          /* --config */
	char path[4096];             /* resolved socket path */
	char admin_group[64];
};

struct verb {
	const char *name;
	const char *args;
	const char *privilege;
	const char *help;
	int (*fn)(struct ctx *c, int argc, char **argv);
};

static int usage(FILE *fp);

/* resolve_socket - --socket, else runtime_dir of --config, else of the default */
static int
resolve_socket(struct ctx *c)
{
	struct tfo_config cfg;
	struct tfo_cfg_diags d;
	const char *path = c->config ? c->config : TFO_CFG_DEFAULT_PATH;
	int loaded;

	snprintf(c->admin_group, sizeof(c->admin_group), "tfo-admin");
	if (c->socket) {
		snprintf(c->path, sizeof(c->path), "%s", c->socket);
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	memset(&d, 0, sizeof(d));
	loaded = tfo_config_load(path, &cfg, &d) == 0;
	if (!loaded) {
		if (c->config) {
			tfo_cfg_diags_print(stderr, path, &d);
			return -1;
		}
		/* no readable default config: its compiled-in defaults */
		if (tfo_config_defaults(&cfg) == -1)
			return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s/control.ipc", cfg.agent.runtime_dir);
	if (cfg.supervisor.admin_group)
		snprintf(c->admin_group, sizeof(c->admin_group), "%s",
		    cfg.supervisor.admin_group);
	tfo_config_free(&cfg);
	return 0;
}

static int
denied(const struct ctx *c)
{
	fprintf(stderr, "tfoctl: permission denied: you must be root or in group %s "
	    "(socket %s)\n", c->admin_group, c->path);
	return 1;
}

/* dial - connect synchronously so that a missing socket or a refused
 * connect is reported as such */
static int
dial(struct ctx *c, nng_socket *s)
{
	char url[4200];
	struct stat st;
	int rv;

	if (resolve_socket(c) == -1)
		return 1;
	if (stat(c->path, &st) == -1) {
		if (errno == EACCES)
			return denied(c);
		fprintf(stderr, "tfoctl: supervisor not running (no socket at %s)\n", c->path);
		return EXIT_NOT_RUNNING;
	}
	snprintf(url, sizeof(url), "ipc://%s", c->path);
	if ((rv = nng_req0_open(s)) != 0 ||
	    (rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, REPLY_MAX)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, REPLY_TIMEOUT_MS)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, REPLY_TIMEOUT_MS)) != 0) {
		fprintf(stderr, "tfoctl: %s\n", nng_strerror(rv));
		return 1;
	}
	if ((rv = nng_dial(*s, url, NULL, 0)) == 0)
		return 0;
	nng_close(*s);
	if (rv == NNG_EPERM)
		return denied(c);
	if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT) {
		fprintf(stderr, "tfoctl: supervisor not running (no one listening on %s)\n",
		    c->path);
		return EXIT_NOT_RUNNING;
	}
	fprintf(stderr, "tfoctl: cannot connect to %s: %s\n", c->path, nng_strerror(rv));
	return 1;
}

/* call_req - one request, one validated reply (*rep NULL on failure) */
static int
call_req(struct ctx *c, Tfo__V1__CtlRequest *req, Tfo__V1__CtlReply **rep)
{
	nng_socket s;
	enum tfo_err e;
	int rc;

	*rep = NULL;
	if ((rc = dial(c, &s)) != 0)
		return rc;
	req->version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	if ((e = tfo_msg_send(s, &req->base)) != TFO_OK) {
		fprintf(stderr, "tfoctl: send to %s: %s\n", c->path, tfo_strerror(e));
		nng_close(s);
		return 1;
	}
	*rep = (Tfo__V1__CtlReply *)tfo_msg_recv(s, &tfo__v1__ctl_reply__descriptor,
	    REPLY_MAX, &e);
	nng_close(s);
	if (*rep == NULL) {
		if (e == TFO_ETIMEDOUT || e == TFO_ECLOSED)
			fprintf(stderr, "tfoctl: no reply from the supervisor at %s (refused? "
			    "you must be root or in group %s)\n", c->path, c->admin_group);
		else
			fprintf(stderr, "tfoctl: bad reply from %s: %s\n", c->path,
			    tfo_strerror(e));
		return 1;
	}
	if (!(*rep)->ok) {
		fprintf(stderr, "tfoctl: %s\n", (*rep)->error[0] ? (*rep)->error : "failed");
		tfo__v1__ctl_reply__free_unpacked(*rep, NULL);
		*rep = NULL;
		return 1;
	}
	return 0;
}

static int
call(struct ctx *c, Tfo__V1__Verb verb, const char *role, Tfo__V1__CtlReply **rep)
{
	Tfo__V1__CtlRequest req = TFO__V1__CTL_REQUEST__INIT;

	req.verb = verb;
	req.role = (char *)(role ? role : "");
	return call_req(c, &req, rep);
}

static int
simple(struct ctx *c, Tfo__V1__Verb verb, const char *role, const char *done)
{
	Tfo__V1__CtlReply *rep;
	int rc = call(c, verb, role, &rep);

	if (rc == 0) {
		printf("%s\n", done);
		tfo__v1__ctl_reply__free_unpacked(rep, NULL);
	}
	return rc;
}

static int
cmd_status(struct ctx *c, int argc, char **argv)
{
	Tfo__V1__CtlReply *rep;
	int json = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			fprintf(stderr, "tfoctl: status: unknown argument %s\n", argv[i]);
			return 1;
		}
		json = 1;
	}
	if ((rc = call(c, TFO__V1__VERB__VERB_STATUS, NULL, &rep)) != 0)
		return rc;
	if (rep->status == NULL) {
		fprintf(stderr, "tfoctl: reply without status\n");
		rc = 1;
	} else if (json)
		rc = tfoctl_print_json(stdout, rep->status);
	else
		tfoctl_print_table(stdout, rep->status);
	tfo__v1__ctl_reply__free_unpacked(rep, NULL);
	return rc;
}

static int
cmd_restart(struct ctx *c, int argc, char **argv)
{
	char done[128];

	if (argc != 2) {
		fprintf(stderr, "tfoctl: usage: tfoctl restart ROLE\n");
		return 1;
	}
	snprintf(done, sizeof(done), "%s: restart requested", argv[1]);
	return simple(c, TFO__V1__VERB__VERB_RESTART, argv[1], done);
}

static int
cmd_reload(struct ctx *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage(stderr);
	return simple(c, TFO__V1__VERB__VERB_RELOAD, NULL, "configuration reloaded");
}

static int
cmd_stop(struct ctx *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage(stderr);
	return simple(c, TFO__V1__VERB__VERB_STOP, NULL, "stopping the agent");
}

static int
cmd_version(struct ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argv;
	if (argc != 1)
		return usage(stderr);
	tfo_version_print(stdout, "tfoctl");
	return 0;
}

static int
cmd_config(struct ctx *c, int argc, char **argv)
{
	struct tfo_config cfg;
	struct tfo_cfg_diags d;
	const char *path;
	char sum[1024];

	if (argc < 2 || argc > 3 || strcmp(argv[1], "validate") != 0) {
		fprintf(stderr, "tfoctl: usage: tfoctl config validate [FILE]\n");
		return 1;
	}
	path = argc == 3 ? argv[2] : c->config ? c->config : TFO_CFG_DEFAULT_PATH;
	memset(&cfg, 0, sizeof(cfg));
	memset(&d, 0, sizeof(d));
	/* the supervisor's own checks (--check): the file and the paths as root
	 * would trust them, the role users' reach; nothing is created */
	if (tfo_config_load_trusted(path, &cfg, &d) == -1) {
		tfo_cfg_diags_print(stderr, path, &d);
		return 1;
	}
	if (tfo_config_check_host(&cfg, 0, &d) == -1) {
		tfo_cfg_diags_print(stderr, path, &d);
		tfo_config_free(&cfg);
		return 1;
	}
	tfo_cfg_diags_print(stderr, path, &d);   /* warnings */
	tfo_config_summary(&cfg, sum, sizeof(sum));
	printf("%s: ok: %s\n", path, sum);
	tfo_config_free(&cfg);
	return 0;
}

/*
 * cmd_test_action - HIDDEN, for tests/sandbox/: ask a worker of a test build
 * to attempt a forbidden action. Prints "ACTION err=N DETAIL" (N = errno of
 * the attempt, 0 = it was allowed, < 0 = the worker died of signal -N).
 * A release supervisor refuses it.
 */
static int
cmd_test_action(struct ctx *c, int argc, char **argv)
{
	Tfo__V1__CtlRequest req = TFO__V1__CTL_REQUEST__INIT;
	Tfo__V1__TestAction ta = TFO__V1__TEST_ACTION__INIT;
	Tfo__V1__CtlReply *rep;
	int rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "tfoctl: usage: tfoctl test-action ROLE ACTION [ARG]\n");
		return 1;
	}
	ta.action = argv[2];
	ta.arg = (char *)(argc == 4 ? argv[3] : "");
	req.verb = TFO__V1__VERB__VERB_TEST_ACTION;
	req.role = argv[1];
	req.test_action = &ta;
	if ((rc = call_req(c, &req, &rep)) != 0)
		return rc;
	if (rep->test_result == NULL) {
		fprintf(stderr, "tfoctl: reply without a test result\n");
		rc = 1;
	} else
		printf("%s err=%d %s\n", argv[2], rep->test_result->err, rep->test_result->detail);
	tfo__v1__ctl_reply__free_unpacked(rep, NULL);
	return rc;
}

static int cmd_help(struct ctx *c, int argc, char **argv);

static const struct verb verbs[] = {
	{ "status", "[--json]", "root or admin group", "workers, states, restarts, sandbox", cmd_status },
	{ "restart", "ROLE", "root or admin group", "restart one worker", cmd_restart },
	{ "reload", "", "root or admin group", "reload the configuration (as SIGHUP)", cmd_reload },
	{ "stop", "", "root or admin group", "stop every worker in order, then the supervisor", cmd_stop },
	{ "version", "", "anyone", "print the version", cmd_version },
	{ "config", "validate [FILE]", "reader of FILE", "check a configuration file", cmd_config },
	{ "help", "", "anyone", "this text", cmd_help },
};

static int
usage(FILE *fp)
{
	fprintf(fp, "usage: tfoctl [--socket PATH | --config FILE] VERB ...\n"
	    "       tfoctl --version | --help\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(fp, "  %-8s %-16s %-48s (%s)\n", verbs[i].name, verbs[i].args,
		    verbs[i].help, verbs[i].privilege);
	fprintf(fp, "\nexit status: 0 ok, 1 error, 3 supervisor not running\n");
	return fp == stdout ? 0 : 1;
}

static int
cmd_help(struct ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return usage(stdout);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:c:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.socket = optarg;
			break;
		case 'c':
			c.config = optarg;
			break;
		case 'V':
			tfo_version_print(stdout, "tfoctl");
			return 0;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (c.socket && c.config) {
		fprintf(stderr, "tfoctl: --socket and --config exclude each other\n");
		return 1;
	}
	if (optind >= argc)
		return usage(stderr);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			return verbs[i].fn(&c, argc - optind, argv + optind);
	/* hidden: not in the help text, for the sandbox tests only */
	if (strcmp(argv[optind], "test-action") == 0)
		return cmd_test_action(&c, argc - optind, argv + optind);
	fprintf(stderr, "tfoctl: unknown verb '%s'\n", argv[optind]);
	return usage(stderr);
}
