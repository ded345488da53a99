/*
 * collect_int.h - tfo-process collector state shared by collect.c (lifecycle,
 * walk, selection) and detail.c (full reads and the OTLP encode of one
 * selected process).
 */
#ifndef TFO_PROCESS_COLLECT_INT_H
#define TFO_PROCESS_COLLECT_INT_H

#include <stdint.h>

#include "common/otlp.h"
#include "common/procfs_pid.h"
#include "workers/process/collect.h"
#include "workers/process/match.h"
#include "workers/process/owner.h"
#include "workers/process/priv.h"
#include "workers/process/select.h"

#define PC_CMD_MARGIN 4096      /* read past cmdline_max_len so redaction sees whole secrets */
#define PC_CMD_MIN_READ 4096    /* enough for argv[0] when the command line is off */
#define PC_CGROUP_MAX 2048
#define PC_BUF 32768            /* stat, status, io, cgroup */
#define PC_FD_RESERVE 256       /* fds left for everything but kept stat fds */
#define PC_KEPT_MAX 65536

/* the files of a selected process kept open while it stays selected */
enum { PC_DET_STATUS, PC_DET_CMDLINE, PC_DET_CGROUP, PC_DET_N };
/* cycles a process may go without its report before its detail files are
 * closed: one that falls out of the top by CPU for a cycle or two (the
 * usual churn of an idle host) comes back to its open files, not to 5
 * opens and 4 closes */
#define PC_DET_AGE 4

/* pc_det - the detail files of a process the last cycle reported (kept.c) */
struct pc_det {
	int32_t pid;
	uint32_t gen;                   /* the cycle that last reported it (or
	                                 * PC_DET_AGE before this one: closed at
	                                 * its end) */
	uint64_t starttime;             /* of the instance the fds belong to */
	int fd[PC_DET_N];               /* -1 not open */
};

/* pc_ent - what one process left from the previous walk */
struct pc_ent {
	int32_t pid;                    /* 0 = empty slot */
	int fd;                         /* its stat, kept open (bound to this instance); -1 */
	uint32_t seen;                  /* gen of the last walk that saw it */
	uint64_t starttime;             /* ticks after boot: pid reuse changes it */
	uint64_t utime, stime;          /* at the last walk */
	char *name;                     /* executable name for patterns (lazy) */
	uint64_t comm_hash;             /* of comm when name was resolved: exec changes it */
};

/* pc_walk - one process of this walk (index = tfo_cand.idx) */
struct pc_walk {
	int fd;                         /* kept stat fd, or -1 */
	uint8_t have_prev;
	uint8_t need_name;              /* patterns: its name must be (re)read */
	uint64_t prev_utime, prev_stime;        /* at c->prev_walk_ns (have_prev) */
	/* its stat as the walk read it (parsed in place): the selection ranks
	 * it, and a report whose reads all go through files bound to this
	 * instance takes it whole (detail.c) */
	struct tfo_pid_stat st;
};

/* PC_KTHREAD - walked process w is a kernel thread: no exe, cmdline or fds */
#define PC_KTHREAD(w) (((w)->st.flags & TFO_PF_KTHREAD) != 0)

struct tfo_proccol {
	char root[1024];
	int procfd;                     /* <root>/proc, kept open */
	int procfs;                     /* it is a procfs (not a fixture tree) */
	int64_t own_pid;                /* > 0: ptrace-mode reads of this pid only */
	unsigned top_n;
	uint32_t cmdline_max;           /* 0 = no process.command_line */
	struct tfo_namepats inc, exc;
	struct tfo_redact redact;
	struct tfo_owners owners;
	uint64_t owners_ns;             /* last passwd read (unix ns) */
	const Opentelemetry__Proto__Resource__V1__Resource *host;
	long hz, page;
	unsigned ncpus;
	uint64_t boot_ns;

	struct pc_ent *tab;
	size_t tabcap, tabn;
	uint32_t gen;
	uint64_t now_ns;
	uint64_t walk_ns, prev_walk_ns; /* times of this walk and of the one before */
	size_t nkept, maxkept;          /* stat and detail fds kept open */
	struct pc_det *det;             /* detail files of the reported processes */
	size_t ndet, detcap;

	struct tfo_cand *cand;
	struct pc_walk *walk;
	size_t ncand, candcap;
	size_t *sel_heap;               /* tfo_select's scratch (TFO_SELECT_HEAP) */

	struct tfo_priv *priv;          /* the privileged reader, or NULL: read directly */
	struct tfo_privops_req req[TFO_PRIVOPS_BATCH];
	struct tfo_priv_ans ans[TFO_PRIVOPS_BATCH];
	size_t batch[TFO_PRIVOPS_BATCH];        /* cand index of each request */
	enum tfo_err priv_err;          /* the helper failed: the cycle stops */

	char *buf;                      /* PC_BUF bytes */
	char *cmdraw, *cmd;             /* cmdcap bytes each */
	size_t cmdcap;
	char exe[4097];
	char cgroup[PC_CGROUP_MAX];

	struct tfo_arena *arena;        /* one report's message, reset by the next */
	/* the point attributes every report has alike (cpu.mode=user, ...),
	 * made once in an arena of their own and shared by every report */
	struct tfo_arena *kv_arena;
	tfo_kv *kv_user, *kv_system, *kv_read, *kv_write, *kv_vol, *kv_invol,
	       *kv_major, *kv_minor;
	void (*hook)(void *);
	void *hook_arg;
	struct tfo_proccol_stats stats;
};

/* pc_report - read the selected process cand in full (through its kept
 * detail files, kept.c; ans: what the helper read of it, or NULL to read
 * directly), encode it and emit; 1 emitted, 0 skipped (vanished), -1 emit
 * failed, -2 out of memory */
int pc_report(struct tfo_proccol *c, const struct tfo_cand *cand,
              const struct tfo_priv_ans *ans, tfo_proccol_emit_fn emit, void *arg);
/* pc_priv_batch - one round trip for the c->req[0..n) into c->ans;
 * 0, or -1 with c->priv_err set (the helper is unusable) */
int pc_priv_batch(struct tfo_proccol *c, size_t n);
/* pc_errno_rc - an errno of a read as read_at's result: -1 gone, -2 denied, -3 other */
int pc_errno_rc(int err);
/* pc_exe_finish - c->exe (n bytes) made a path and a name: " (deleted)" cut,
 * cleaned; the base name, or NULL when empty */
const char *pc_exe_finish(struct tfo_proccol *c, size_t n);
/* pc_owners_load - (re)read <root>/etc/passwd */
void pc_owners_load(struct tfo_proccol *c);
/*
 * pc_pread1 - ONE pread from offset 0 into buf (cap-1 bytes, then a NUL); 0
 * ok, -1 errno set. A /proc seq_file gives its whole text to one read large
 * enough, and the usual second read to see EOF costs about as much again
 * (measured: +3.5 ms per 1000 processes), so a full buffer just means "cut".
 */
int pc_pread1(int fd, char *buf, size_t cap, size_t *len);
/* pc_parse_fd - pread and parse a stat fd; 0 ok, -1 gone, -2 failed */
int pc_parse_fd(int fd, char *buf, size_t cap, struct tfo_pid_stat *st);
/* pc_read_stat - read and parse rel ("stat", "<pid>/stat") under dfd into
 * buf/st; 0 ok, -1 the process is gone, -2 failed */
int pc_read_stat(int dfd, const char *rel, char *buf, size_t cap, struct tfo_pid_stat *st);
/* pc_det_get - the kept detail files of pid for this cycle (closed first
 * when they are another instance's than starttime's), a new entry without
 * files if none; NULL out of memory */
struct pc_det *pc_det_get(struct tfo_proccol *c, int32_t pid, uint64_t starttime);
/* pc_det_find - the entry of pid, or NULL */
struct pc_det *pc_det_find(struct tfo_proccol *c, int32_t pid);
/* pc_det_sweep - after a cycle's reports: close and forget the entries not
 * reported for PC_DET_AGE cycles (all of them with all) */
void pc_det_sweep(struct tfo_proccol *c, int all);
/* pc_tab_find - the table entry of pid, or NULL */
struct pc_ent *pc_tab_find(struct tfo_proccol *c, int32_t pid);
/* pc_gone - errno says the process exited (quiet skip) */
int pc_gone(int err);
/* pc_may_ptrace - exe, io, the fd list of pid may be read (own_pid) */
int pc_may_ptrace(const struct tfo_proccol *c, int64_t pid);

#endif
