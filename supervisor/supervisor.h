/*
 * supervisor.h - tfo-supervisor's internal state (root process): one slot per
 * role, the restart policy, the control socket and systemd notification.
 */
#ifndef TFO_SUPERVISOR_H
#define TFO_SUPERVISOR_H

#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <nng/nng.h>

#include "common/config.h"
#include "common/ipc.h"
#include "common/pagetrim.h"
#include "common/privdrop.h"
#include "tfo/v1/tfo.pb-c.h"

#define SV_READY_RESET_MS 60000      /* ready this long: backoff starts over */
#define SV_STOP_GRACE_MS 5000        /* SIGTERM/Shutdown -> SIGKILL */
#define SV_MAX_WINDOW 64             /* death times remembered per role */
#define SV_COUNT_WAIT_MS 1000        /* stop: wait for the buffer's count of what stays */
#define SV_STATS_WAIT_MS 1000        /* status, self metrics: wait for fresh stats */
#define SV_IDLE_PING_MS 60000        /* a worker seen idle is still pinged this often */

enum sv_state { SV_STOPPED, SV_STARTING, SV_READY, SV_BACKOFF, SV_FATAL, SV_STOPPING };

/* Why the supervisor itself killed a worker (changes the recorded reason). */
/* why the supervisor killed a worker: HUNG no pong, STALLED pongs that say it
 * has made no progress (Pong.stalled_ms), PROTO a bad message */
enum sv_kill { SV_KILL_NONE, SV_KILL_HUNG, SV_KILL_PROTO, SV_KILL_REQUEST, SV_KILL_STALLED };

/* The reason of an exit, as restarts are counted (tfoctl status, self metrics). */
enum sv_reason {
	SV_R_CRASH = 0,              /* killed by a signal it did not ask for */
	SV_R_EXIT,                   /* exited by itself */
	SV_R_SECCOMP,                /* SIGSYS: a forbidden system call */
	SV_R_HUNG,                   /* no Ready or no Pong in time: killed */
	SV_R_PROTOCOL,               /* a bad fd-3 message: killed */
	SV_R_REQUESTED,              /* tfoctl restart, reload, buffer -> exporter */
	SV_R_COUNT
};

struct sv_exit {
	char reason[224];            /* "signal SIGKILL", "exit 3", "hung", "stalled: ..." */
	enum sv_reason cls;
	int code;                    /* exit status, -1 when signalled */
	int sig;                     /* 0 when exited */
	int64_t at;                  /* unix seconds, 0 = never exited */
};

/* sv_policy - restart bookkeeping of one role (pure: see policy.c) */
struct sv_policy {
	uint32_t restarts;           /* total since supervisor start */
	uint32_t restarts_by[SV_R_COUNT];   /* the same by reason, requested ones too */
	int64_t deaths[SV_MAX_WINDOW];   /* monotonic ms of recent deaths */
	size_t ndeaths;
	unsigned fails;              /* deaths in the current streak */
	unsigned backoffs;           /* delayed restarts in the current streak */
};

struct sv;

#define SV_STATUS_MAX 256            /* the one-line summary (STATUS=, tfoctl status) */

/* sv_copy_printable - a worker's text for status: bounded, printable ASCII only */
void sv_copy_printable(char *dst, size_t dstsz, const char *src);

struct sv_worker {
	struct sv *sv;
	enum tfo_role role;
	int enabled;
	enum sv_state state;
	pid_t pid;
	int fd;                      /* supervisor end of the fd-3 socketpair */
	struct event *ev_fd, *ev_timer;
	uint64_t incarnation;
	uid_t uid;
	gid_t gid;
	char user[64];
	uint32_t groups[TFO_PRIV_MAX_GROUPS];  /* supplementary, sent in WorkerConfig */
	size_t ngroups;
	int64_t started_ms, ready_ms, next_start_ms;   /* monotonic */
	uint64_t started_unix_ns;    /* wall clock at the spawn: its stats count from it */
	int64_t spawned_audit_ms;    /* sv_audit_clock_ms() before the fork */
	uint64_t ping_nonce;         /* outstanding ping, 0 = none */
	int64_t ping_sent_ms;        /* when the outstanding ping was sent */
	int64_t last_pong_ms;        /* a pong read at a tick counts from its ping */
	int64_t idle_seen_ms;        /* its loop last seen waiting for events (looks.c) */
	uint64_t pings, idle_looks;  /* of the running process: tfoctl status */
	int look_fd[2];              /* its /proc stat and syscall, kept open (looks.c) */
	/* no pong, but its loop seen waiting on the disk (diskwait.c): when
	 * last seen so, since when (0 = not waiting), and how */
	int64_t disk_seen_ms, disk_since_ms;
	char disk_what[48];
	int fd_done;                 /* EOF or a protocol error: fd 3 is read no more */
	enum sv_kill kill_why;
	char stall[160];             /* the worker's why, when killed as stalled */
	int respawn;                 /* restart right after this exit (requested) */
	struct sv_policy pol;
	struct sv_exit last_exit;
	Tfo__V1__Pong *stats;        /* last pong that carried stats, owns them */
	int stats_asked;             /* the ping on the wire asks for stats */
	int stats_wanted;            /* a gather waits for this worker's stats */
	char said[160];              /* Pong.status of the last pong (printable) */
	/* the worker executable; on the heap: a PATH_MAX array in each slot
	 * made every page of sv resident for its first bytes (issue 18 §2) */
	char *path;
	char landlock[64];           /* as the worker's Ready reported it */
	char seccomp_mode[8];        /* kill|log|off, the mode it was started with */
#ifdef TFO_TEST_HOOKS
	int test_pending;            /* a tfoctl test-action awaits its result */
#endif
};

struct sv_ctl;

/* sv_ctl_done - how a deferred control reply is sent: the caller of
 * sv_ctl_handle (control.c) hands it down, the one that answers later calls
 * fn(arg, out, len) once (takes out; NULL = no reply). Calls run one way. */
struct sv_ctl_done {
	void (*fn)(void *arg, uint8_t *out, size_t len);
	void *arg;
};

struct sv;
/* sv_gathered_fn - called once a stats gather is over (gather.c) */
typedef void (*sv_gathered_fn)(struct sv *sv);
#define SV_GATHER_WAITERS 2          /* a tfoctl status, the self metrics */

struct sv {
	struct event_base *base;
	struct tfo_config cfg;
	char config_path[4096];
	char agent_id[40];
	int root;                    /* running as root: drop worker identities */
	int no_spawn;                /* fuzzing: never fork */
	int64_t start_ms;
	uint64_t start_unix_ns;      /* wall clock at the start: restart counts count from it */
	struct sv_worker w[TFO_ROLE_COUNT];
	struct event *ev_sig[4], *ev_ping, *ev_watchdog, *ev_phase, *ev_self;
	struct tfo_pagetrim_sched pagetrim;  /* start-up's file pages unmapped (pagetrim.h) */
	int shutdown_phase;          /* 0 = running, 1 collectors, 2 exporter, 3 buffer, 4 done */
	int stop_spawn;              /* buffer_for_stop: a start while stopping */
	enum { SV_COUNT_NONE, SV_COUNT_EARLIER, SV_COUNT_OURS, SV_COUNT_DONE } counting;
	                             /* stop: asking the buffer what stays queued */
	int exit_code;
	int notified_ready;
	char notify_status[SV_STATUS_MAX + 16];   /* last STATUS= sent */
	uint64_t watchdog_usec;
	struct sv_ctl *ctl;
	struct event *ev_gather;     /* gather.c: its bound, or its end made due */
	int gathering;               /* stats asked for, answers awaited */
	sv_gathered_fn gather_fns[SV_GATHER_WAITERS];  /* who waits for the gather */
	/* set while a gather runs: workers.c calls it when a worker answered or
	 * left (a pointer, so calls run one way: gather.c uses workers.c) */
	void (*stats_answered)(struct sv *sv);
	struct sv_ctl_done status_wait;  /* dispatch.c: a tfoctl status waits (fn NULL: none) */
	uint64_t run_base;           /* this run's incarnations: run_base | spawn number */
	uint32_t spawns;             /* spawns in this run */
#ifdef TFO_TEST_HOOKS
	struct sv_worker *test_worker;   /* the one pending test-action */
	struct event *ev_test;           /* its timeout */
	struct sv_ctl_done test_done;    /* who answers its tfoctl request */
#endif
};

/* time.c-ish helpers (policy.c) */
int64_t sv_now_ms(void);
int64_t sv_wall_s(void);

/* policy.c - restart decisions and exit reasons, free of side effects */
struct sv_limits {
	uint32_t backoff_initial_ms, backoff_max_ms, max_restarts, window_ms;
};
#define SV_FATAL_DELAY (-1)
/* sv_policy_on_death - returns the delay before the restart in ms (0 = at
 * once) or SV_FATAL_DELAY. was_ready_ms = time spent ready (-1 = never). */
int64_t sv_policy_on_death(struct sv_policy *p, const struct sv_limits *l,
    int64_t now_ms, int64_t was_ready_ms);
uint32_t sv_policy_in_window(const struct sv_policy *p, const struct sv_limits *l,
    int64_t now_ms);
void sv_exit_describe(struct sv_exit *e, int wstatus, enum sv_kill why,
    int was_ready, int64_t at);
const char *sv_state_name(enum sv_state s);
const char *sv_signal_name(int sig);
const char *sv_reason_name(enum sv_reason r);
uint64_t sv_wall_ns(void);

/* procstatus.c - sandbox columns from /proc/<pid>/status (hostile text) */
struct sv_sandbox {
	int no_new_privs;            /* -1 unknown */
	int seccomp;                 /* -1 unknown, 0 off, 1 strict, 2 filter */
	char cap_eff[20];
};
int sv_proc_status_parse(const char *text, size_t len, struct sv_sandbox *sb);
int sv_proc_status_read(pid_t pid, struct sv_sandbox *sb);

/* looks.c - where a worker's main thread is (its /proc files, kept open) */
/* sv_look - its state and the call it is in (nr -1: none) with its first
 * argument; -1 when it cannot be read (no process, no permission, dead) */
int sv_look(struct sv_worker *w, char *state, long *nr, unsigned long long *arg0);
/* sv_loop_idle - 1 when w's main thread sleeps in epoll_wait now: its loop
 * waits for events, and it is not pinged */
int sv_loop_idle(struct sv_worker *w);
/* sv_look_close - the kept /proc fds closed (at the worker's death) */
void sv_look_close(struct sv_worker *w);
/* the parts, for the unit tests: /proc/<pid>/stat's state ('\0' unparsable),
 * /proc/<pid>/syscall's number and first argument (-1: not in a call), the
 * idle verdict */
char sv_stat_state(const char *text);
int sv_syscall_parse(const char *text, long *nr, unsigned long long *arg0);
int sv_idle_judge(char state, long nr);
/* diskwait.c - a worker's loop blocked on storage is not hung (no kill) */
/* sv_disk_wait - 1 when w's main thread waits on the disk; what says how */
int sv_disk_wait(struct sv_worker *w, char *what, size_t len);
/* the verdict, for the unit test (fd_file: the call's first argument is an
 * fd naming a path) */
int sv_disk_wait_judge(char state, long nr, int fd_file, char *what, size_t len);
/* sv_worker_alive_ms - its last sign of life: a pong, its loop seen waiting
 * for events, or seen waiting on the disk (workers.c) */
int64_t sv_worker_alive_ms(const struct sv_worker *w);

/* incarnation.c - worker incarnations never reused (docs/buffer.md): 64 bits
 * = run counter (persisted in the state dir) | random nonce | spawn number */
#define SV_RUN_BITS 24
#define SV_NONCE_BITS 16
#define SV_SPAWN_BITS 24
#define SV_RUN_MAX ((1ull << SV_RUN_BITS) - 1)
/* sv_run_begin - count this run in the state dir (synced) before any spawn */
void sv_run_begin(struct sv *sv);
/* sv_next_incarnation - the incarnation of the next spawn */
uint64_t sv_next_incarnation(struct sv *sv);

/* workers.c - spawn, fd 3, exits, restarts, shutdown */
int sv_workers_init(struct sv *sv);
void sv_workers_fini(struct sv *sv);
void sv_worker_start(struct sv_worker *w);
void sv_worker_restart(struct sv_worker *w);        /* requested: tfoctl, reload */
void sv_worker_stop(struct sv_worker *w, uint32_t deadline_ms);
void sv_worker_on_packet(struct sv_worker *w, const void *buf, size_t len);
void sv_reap(struct sv *sv);
void sv_shutdown_begin(struct sv *sv, int exit_code);
void sv_shutdown_on_pong(struct sv_worker *w);
const char *sv_worker_state_name(const struct sv_worker *w);
void sv_worker_ping(struct sv_worker *w);
/* sv_worker_watch - fd 3 read as messages come while something waits on the
 * worker's word (its Ready, stats, a test result, its stop), else only at the
 * ping ticks and hung checks (workers.c, "Reading fd 3") */
void sv_worker_watch(struct sv_worker *w);
int sv_reload(struct sv *sv, char *err, size_t errsz);
struct sv_identity;
void sv_apply_ids(struct sv *sv, const struct sv_identity *ids);
void sv_ping_timer_set(struct sv *sv);

/* status.c - what tfoctl status shows and the self metrics hand over (one
 * source): each role's WorkerStatus, built into storage that lives until
 * the reply or the SelfStats is packed */
struct sv_status_buf {
	Tfo__V1__SupervisorStatus st;
	Tfo__V1__WorkerStatus ws[TFO_ROLE_COUNT], *wp[TFO_ROLE_COUNT];
	Tfo__V1__LastExit le[TFO_ROLE_COUNT];
	Tfo__V1__Sandbox sb[TFO_ROLE_COUNT];
	struct sv_sandbox raw[TFO_ROLE_COUNT];
	Tfo__V1__Stat rr[TFO_ROLE_COUNT][SV_R_COUNT], *rrp[TFO_ROLE_COUNT][SV_R_COUNT];
	char sig[TFO_ROLE_COUNT][16];
	char seccomp[TFO_ROLE_COUNT][32];
	char summary[SV_STATUS_MAX];
};
/* sv_status_build - every role's status; with_sandbox reads /proc/<pid>/status */
void sv_status_build(struct sv *sv, struct sv_status_buf *b, int with_sandbox);

/* gather.c - the workers' stats on demand: a Ping with stats set to each
 * ready worker, served when all answered or after SV_STATS_WAIT_MS */
/* sv_stats_gather - ask every ready worker for fresh stats; fn is called
 * once, when every one asked answered or left, or after SV_STATS_WAIT_MS
 * (a late role's last stats then stand). 0, or -1: fn will not be called
 * (no timer, or SV_GATHER_WAITERS others wait): use the last stats now */
int sv_stats_gather(struct sv *sv, sv_gathered_fn fn);
void sv_stats_fini(struct sv *sv);

/* selfstats.c - every agent.self_metrics.interval, the status to tfo-system */
void sv_self_timer_set(struct sv *sv);
/* sv_self_send - one SelfStats to tfo-system now; 0, or -1 (not ready, too
 * big even without stats, send failed: logged) */
int sv_self_send(struct sv *sv);
void sv_self_fini(struct sv *sv);

/* notify.c - sd_notify / watchdog */
/* sv_status_line - "5/5 workers ready", and "; buffer: disk full at ..." when
 * the buffer says so (its stat "status"): STATUS= and tfoctl status */
void sv_status_line(const struct sv *sv, char *buf, size_t len);
void sv_notify_init(struct sv *sv);
void sv_notify_update(struct sv *sv);
/* sv_all_ready - every enabled worker ready? (counts in *ready, *enabled) */
int sv_all_ready(const struct sv *sv, unsigned *ready, unsigned *enabled);
void sv_notify_stopping(struct sv *sv);
void sv_notify_status(struct sv *sv, const char *what);
void sv_notify_fini(struct sv *sv);

/* control.c - control.ipc for tfoctl */
int sv_ctl_init(struct sv *sv);
void sv_ctl_fini(struct sv *sv);
/* sv_ctl_handle - one request packet -> packed CtlReply (malloc'd); NULL
 * with *deferred set when the reply comes later: then whoever answers calls
 * done once (done NULL: nothing may be deferred, such a request is refused) */
uint8_t *sv_ctl_handle(struct sv *sv, const void *buf, size_t len, size_t *outlen,
    const struct sv_ctl_done *done, int *deferred);
/* sv_ctl_status_reply - the status reply, built now, handed to done */
void sv_ctl_status_reply(struct sv *sv, const struct sv_ctl_done *done);

/* sigsys.c - the system call behind a SIGSYS death, from the kernel's audit
 * record in /dev/kmsg (-1 when unknown). A record is this death's only if it
 * names the pid and the executable (canonical path) and is stamped no earlier
 * than since_ms (sv_audit_clock_ms() taken before the fork: pids are reused). */
struct sv_audit_match {
	pid_t pid;
	const char *exe;
	int64_t since_ms;
};
int sv_kmsg_seccomp_parse(const char *rec, size_t len, const struct sv_audit_match *m,
    long *nr);
long sv_sigsys_syscall(const struct sv_audit_match *m);
/* sv_audit_clock_ms - now on the clock audit stamps records with */
int64_t sv_audit_clock_ms(void);
/* sv_sigsys_describe - log "seccomp violation in <role>" and add the call to
 * w->last_exit.reason when known */
void sv_sigsys_describe(struct sv_worker *w, pid_t pid);

#ifdef TFO_TEST_HOOKS
/* testaction.c - test builds only: relay a test-action to a worker; 1 =
 * deferred (answered by one of the calls below), -1 = refused (err) */
int sv_test_action_start(struct sv *sv, const Tfo__V1__CtlRequest *req,
    const struct sv_ctl_done *done, char *err, size_t errsz);
void sv_test_action_result(struct sv_worker *w, Tfo__V1__TestResult *res);
void sv_test_action_died(struct sv_worker *w);
void sv_test_action_fini(struct sv *sv);
#endif

#endif
