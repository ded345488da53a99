/*
 * main.c - tfo-supervisor (root): load the config, start one worker per
 * enabled role, keep them running, answer tfoctl, stop them in order.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/agentid.h"
#include "common/log.h"
#include "common/memtrim.h"
#include "common/nnginit.h"
#include "common/privdrop.h"
#include "common/version.h"
#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"

/* usage - to stdout and exit 0 when asked for (--help), else stderr and 2 */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tfo-supervisor [--config FILE] [--foreground] [--check]\n"
	    "       tfo-supervisor --version | --help\n"
	    "  -c, --config FILE  configuration (default " TFO_CFG_DEFAULT_PATH ")\n"
	    "  -f, --foreground   accepted for compatibility: it always runs in the foreground\n"
	    "  -C, --check        validate the configuration, print a summary, exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this text and exit\n"
	    "Runs as root under systemd (Type=notify); see tfo-supervisor(8).\n");
	exit(fp == stdout ? 0 : 2);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sv *sv = arg;
	char err[512];

	(void)what;
	switch (sig) {
	case SIGCHLD:
		sv_reap(sv);
		return;
	case SIGHUP:
		log_info("SIGHUP: reloading %s", sv->config_path);
		(void)sv_reload(sv, err, sizeof(err));
		return;
	default:
		/* Ctrl-C reaches us and run-dev's TERM follows: stopping once is enough */
		if (sv->shutdown_phase) {
			log_info("signal %d: already stopping", (int)sig);
			return;
		}
		log_info("signal %d: stopping", (int)sig);
		sv_shutdown_begin(sv, 0);
		return;
	}
}

/* Set while libevent does not own the stop signals (before signals_init
 * hands them over, after sv_fini took them back). */
static volatile sig_atomic_t early_sig[NSIG];

static void
note_signal(int sig)
{
	early_sig[sig] = 1;
}

/*
 * signals_early - the flag-only handler from the start: sv_init reads the
 * config and opens sockets before signals_init, and a stop in that window
 * (systemctl stop or restart right after a start) killed the supervisor by
 * the signal's default action, exit status -15 instead of 0
 * (integration.e2e.restart_vary.early). signals_init replays it.
 */
static void
signals_early(void)
{
	static const int sigs[3] = { SIGHUP, SIGTERM, SIGINT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/*
 * signals_init - SIGHUP, SIGTERM and SIGINT get a flag-only handler before
 * libevent takes them, because event_free() in sv_fini restores what libevent
 * found: with SIG_DFL there, a stop signal landing during the exit (Ctrl-C
 * reaches us and run-dev's TERM follows) killed the supervisor instead of
 * letting it return its status. One that arrived before libevent owned it is
 * raised again for libevent. SIGCHLD is left alone; workers get every
 * disposition back to SIG_DFL in sv_spawn.
 */
static int
signals_init(struct sv *sv)
{
	static const int sigs[4] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
	struct sigaction sa;

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 1; i < 4; i++)
		(void)sigaction(sigs[i], &sa, NULL);
	for (int i = 0; i < 4; i++) {
		sv->ev_sig[i] = evsignal_new(sv->base, sigs[i], on_signal, sv);
		if (sv->ev_sig[i] == NULL || event_add(sv->ev_sig[i], NULL) == -1)
			return -1;
	}
	for (int i = 1; i < 4; i++)
		if (early_sig[sigs[i]]) {
			early_sig[sigs[i]] = 0;
			(void)raise(sigs[i]);
		}
	return 0;
}

static int
sv_init(struct sv *sv, const char *path, int foreground)
{
	struct sv_identity ids[TFO_ROLE_COUNT];
	char err[512];
	enum tfo_err e;

	(void)foreground;   /* always in the foreground: systemd Type=notify */
	snprintf(sv->config_path, sizeof(sv->config_path), "%s", path);
	sv->root = geteuid() == 0;
	sv->start_ms = sv_now_ms();
	sv->start_unix_ns = sv_wall_ns();
	srandom((unsigned)getpid() ^ (unsigned)sv->start_ms);
	/* the state and runtime dirs are made and checked here (config_host.c) */
	if (sv_load_config(path, TFO_HOST_CREATE, &sv->cfg, err, sizeof(err)) == -1)
		return -1;
	tfo_log_configure(sv->cfg.logging.level, sv->cfg.logging.format);
	if (sv_resolve_ids(&sv->cfg, sv->root, ids, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (!sv->root)
		log_info("non-root mode: every worker runs as %s (no uid change)", ids[0].user);
	if ((e = tfo_agentid_get(sv->cfg.agent.id, sv->cfg.agent.state_dir, "/",
	    sv->agent_id)) != TFO_OK) {
		log_error("agent id: %s", tfo_strerror(e));
		return -1;
	}
	sv_run_begin(sv);
	if ((sv->base = event_base_new()) == NULL ||
	    signals_init(sv) == -1 || sv_workers_init(sv) == -1)
		return -1;
	sv_apply_ids(sv, ids);
	sv_spawn_env_init();
	if (tfo_nng_init() != 0) {
		log_error("nng: cannot start");
		return -1;
	}
	if (sv_ctl_init(sv) == -1)
		return -1;
	sv_notify_init(sv);
	tfo_pagetrim_arm(&sv->pagetrim, sv_now_ms());
	return 0;
}

static void
sv_fini(struct sv *sv)
{
	sv_ctl_fini(sv);
	sv_notify_fini(sv);
	sv_self_fini(sv);
	sv_stats_fini(sv);
	sv_workers_fini(sv);
	for (int i = 0; i < 4; i++)
		if (sv->ev_sig[i])
			event_free(sv->ev_sig[i]);
	if (sv->ev_ping)
		event_free(sv->ev_ping);
	if (sv->base)
		event_base_free(sv->base);
	tfo_config_free(&sv->cfg);
}

static int
check_only(const char *path)
{
	struct tfo_config cfg;
	char err[512], sum[512];

	memset(&cfg, 0, sizeof(cfg));
	if (sv_load_config(path, 0, &cfg, err, sizeof(err)) == -1)
		return 1;
	tfo_config_summary(&cfg, sum, sizeof(sum));
	printf("%s: ok: %s\n", path, sum);
	tfo_config_free(&cfg);
	return 0;
}

/*
 * harden_self - first thing, before the config (and its secret) is read:
 * what we create is ours alone (umask 077; sockets and directories get their
 * modes set explicitly), and neither a crash (RLIMIT_CORE 0) nor a ptrace
 * attach by a same-uid process (not dumpable) can copy the API secret out.
 */
static void
harden_self(void)
{
	umask(077);
	if (tfo_priv_rlimits(0, 0) == -1)
		fatal("RLIMIT_CORE 0");
	if (tfo_priv_nondumpable() == -1)
		fatal("PR_SET_DUMPABLE 0");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = TFO_CFG_DEFAULT_PATH;
	int c, check = 0, fg = 0, rc;
	static struct sv sv;

	/* one malloc arena: nng's threads allocate little (see common/worker.c) */
	(void)mallopt(M_ARENA_MAX, 1);
	tfo_memtrim_init();
	tfo_log_init("supervisor", TFO_LOG_INFO, TFO_LOG_TEXT);
	harden_self();
	tfo_log_hook_libevent();
	while ((c = getopt_long(argc, argv, "c:fCVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			tfo_version_print(stdout, "tfo-supervisor");
			return 0;
		case 'h':
			usage(stdout);
			break;
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);
	if (check)
		return check_only(path);
	signals_early();
	if (sv_init(&sv, path, fg) == -1) {
		sv_fini(&sv);
		return 1;
	}
	log_info("tfo-supervisor %s started (config %s, agent id %s)", TFO_VERSION, path,
	    sv.agent_id);
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		sv_worker_start(&sv.w[r]);
	sv_ping_timer_set(&sv);
	sv_self_timer_set(&sv);
	sv_notify_update(&sv);
	event_base_dispatch(sv.base);
	rc = sv.exit_code;
	log_info("tfo-supervisor exiting with status %d", rc);
	sv_fini(&sv);
	return rc;
}
