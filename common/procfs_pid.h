/*
 * procfs_pid.h - parsers for the per-process files of /proc/<pid>/ (stat,
 * status, io, cmdline, cgroup) used by tfo-process; the same contract as
 * common/procfs.h: text in (buffer + length, no NUL needed), no allocation,
 * hostile input. Only the state letter of <pid>/stat lives in procfs.h.
 */
#ifndef TFO_PROCFS_PID_H
#define TFO_PROCFS_PID_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/procfs.h"           /* tfo_procfs_text_clean, tfo_procfs_utf8_cut */

#define TFO_COMM_MAX 64                 /* kworker names exceed TASK_COMM_LEN */
#define TFO_PF_KTHREAD 0x00200000u      /* stat "flags": a kernel thread */

/* ---------------------------------------------------- /proc/<pid>/stat */

/* what tfo-process reads of it (pgrp, session and the rest are skipped):
 * tfo-process keeps one per process for the length of a cycle, so no
 * padding between the members */
struct tfo_pid_stat {
	int64_t pid, ppid;
	uint64_t flags;                 /* PF_* (TFO_PF_KTHREAD) */
	uint64_t minflt, majflt;        /* page faults */
	uint64_t utime, stime;          /* USER_HZ ticks */
	uint64_t num_threads;
	uint64_t starttime;             /* USER_HZ ticks after boot */
	uint64_t vsize;                 /* bytes */
	uint64_t rss;                   /* pages */
	unsigned nfields;               /* fields parsed: 24 */
	char state;                     /* 'R', 'S', 'Z', ... */
	char comm[TFO_COMM_MAX];        /* between '(' and the LAST ')', cleaned (see below) */
};

/*
 * tfo_procfs_pid_stat - one /proc/<pid>/stat line. comm may hold spaces and
 * parentheses; it ends at the last ')'. Fields 1-24 are required (TFO_EINVAL
 * otherwise) and the only ones read: what follows rss (28 more fields on
 * 6.x) is not scanned. A longer comm is cut to TFO_COMM_MAX-1 bytes.
 */
enum tfo_err tfo_procfs_pid_stat(const char *buf, size_t len, struct tfo_pid_stat *out);

/* -------------------------------------------------- /proc/<pid>/status */

#define TFO_PST_UID      0x01u
#define TFO_PST_GID      0x02u
#define TFO_PST_THREADS  0x04u
#define TFO_PST_VCTX     0x08u
#define TFO_PST_NVCTX    0x10u
#define TFO_PST_PPID     0x20u
#define TFO_PST_KTHREAD  0x40u          /* "Kthread:" line (6.x) */

enum { TFO_ID_REAL, TFO_ID_EFFECTIVE, TFO_ID_SAVED, TFO_ID_FS, TFO_ID_N };

struct tfo_pid_status {
	unsigned have;                  /* TFO_PST_* */
	uint32_t uid[TFO_ID_N], gid[TFO_ID_N];
	uint64_t threads;
	uint64_t vol_ctxt, nonvol_ctxt; /* voluntary / nonvoluntary_ctxt_switches */
	int64_t ppid;
	int kthread;                    /* value of "Kthread:" */
};

/* tfo_procfs_pid_status - TFO_EINVAL when no Uid line was found */
enum tfo_err tfo_procfs_pid_status(const char *buf, size_t len, struct tfo_pid_status *out);

/* ------------------------------------------------------ /proc/<pid>/io */

#define TFO_PIO_RCHAR       0x01u
#define TFO_PIO_WCHAR       0x02u
#define TFO_PIO_SYSCR       0x04u
#define TFO_PIO_SYSCW       0x08u
#define TFO_PIO_READ_BYTES  0x10u
#define TFO_PIO_WRITE_BYTES 0x20u
#define TFO_PIO_CANCELLED   0x40u

struct tfo_pid_io {
	unsigned have;                  /* TFO_PIO_* */
	uint64_t rchar, wchar, syscr, syscw;
	uint64_t read_bytes, write_bytes, cancelled_write_bytes;  /* storage layer */
};

/* tfo_procfs_pid_io - TFO_EINVAL unless read_bytes and write_bytes were found */
enum tfo_err tfo_procfs_pid_io(const char *buf, size_t len, struct tfo_pid_io *out);

/* ------------------------------------------------- /proc/<pid>/cmdline */

struct tfo_pid_cmdline {
	size_t len;                     /* bytes written to out (without the NUL) */
	size_t argv0_len;               /* bytes of the first argument in out */
	unsigned argc;                  /* arguments seen (also past the cut) */
	int truncated;                  /* out could not hold everything */
};

/*
 * tfo_procfs_pid_cmdline - the NUL-separated arguments joined by single
 * spaces into out (cap > 0 bytes, always NUL-terminated), cleaned with
 * tfo_procfs_text_clean. Empty for kernel threads and zombies. A process
 * that rewrote its argv into one string gives one argument.
 */
void tfo_procfs_pid_cmdline(const char *buf, size_t len, char *out, size_t cap,
                            struct tfo_pid_cmdline *info);

/* -------------------------------------------------- /proc/<pid>/cgroup */

/* tfo_procfs_pid_cgroup - the file's text without its trailing newline,
 * lines kept, cleaned, cut at cap-1 bytes (on a character boundary). */
void tfo_procfs_pid_cgroup(const char *buf, size_t len, char *out, size_t cap);

#endif
