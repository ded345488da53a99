/*
 * collect.h - tfo-process's collection as a library (tfo_process_collect):
 * one stat-only walk of /proc ranks every process, a bounded set is chosen
 * (select.h), and only those are read in full (status, io, cmdline, exe, fd,
 * cgroup) and encoded, one OTLP ResourceMetrics per process.
 */
#ifndef TFO_PROCESS_COLLECT_H
#define TFO_PROCESS_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "workers/process/priv.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "tfo/v1/tfo.pb-c.h"

#define TFO_PROC_DEFAULT_TOP_N 20
#define TFO_PROC_MAX_INCLUDED 256       /* included processes reported per cycle */

struct tfo_proccol_stats {
	uint64_t cycles;
	uint64_t walked;                /* processes seen by the last walk */
	uint64_t selected;              /* processes encoded in the last cycle */
	uint64_t points;                /* data points of the last cycle */
	uint64_t bytes;                 /* encoded bytes of the last cycle */
	uint64_t vanished;              /* processes gone between reads (total) */
	uint64_t denied;                /* reads refused (EACCES/EPERM: no capability) */
	uint64_t read_errors;           /* other read or parse failures */
	uint64_t redactions;            /* command-line matches masked */
	uint64_t emit_failed;           /* cycles cut short because emit failed */
	uint64_t owner_reloads;         /* passwd re-read for an unknown uid */
	uint64_t priv_round_trips;      /* requests to the privileged reader (total) */
};

struct tfo_proccol;

/*
 * tfo_proccol_emit_fn - receives one encoded ResourceMetrics (valid until
 * the callback returns); return 0, or -1 to stop the cycle (buffer down).
 */
typedef int (*tfo_proccol_emit_fn)(void *arg, const uint8_t *payload, size_t len,
                                   uint32_t points);

/*
 * tfo_proccol_new - a collector for cfg (copied) under cfg->proc_root. host
 * is referenced (its attributes start every process resource) and must
 * outlive it. Opens <root>/proc, reads boot time, CPU count and
 * <root>/etc/passwd once. NULL with a message in err (bad pattern, no /proc).
 */
struct tfo_proccol *tfo_proccol_new(const Tfo__V1__ProcessConfig *cfg,
                                    const Opentelemetry__Proto__Resource__V1__Resource *host,
                                    char *err, size_t errcap);
void tfo_proccol_free(struct tfo_proccol *c);
/* tfo_proccol_release - between cycles: the pages of the walk's tables, the
 * read buffers and the encoding arena back to the kernel (the process table
 * that carries CPU times from one walk to the next is kept) */
void tfo_proccol_release(struct tfo_proccol *c);

/* tfo_proccol_prime - a walk without output, so the first cycle ranks CPU
 * over a known interval (call at start) */
enum tfo_err tfo_proccol_prime(struct tfo_proccol *c, uint64_t now_ns);

/* tfo_proccol_cycle - walk, select and emit every selected process at
 * now_ns (unix ns). Processes that vanish meanwhile are skipped quietly. */
enum tfo_err tfo_proccol_cycle(struct tfo_proccol *c, uint64_t now_ns,
                               tfo_proccol_emit_fn emit, void *arg);

const struct tfo_proccol_stats *tfo_proccol_stats(const struct tfo_proccol *c);

/*
 * tfo_proccol_own_reads_only - read exe, io and the fd list (kernels < 6.2;
 * later ones give the count without it) of the calling process only. With
 * collectors.process.privileged_reads false the role runs under Landlock,
 * which denies those ptrace-mode reads of every process outside its domain
 * whatever the uid, and audits each denial: they are not attempted, and
 * count as denied. Everything else is read as before.
 */
void tfo_proccol_own_reads_only(struct tfo_proccol *c);

/*
 * tfo_proccol_set_priv - read exe, io and fd counts of every process
 * through the privileged reader p (priv.h; the caller keeps it and closes
 * it after tfo_proccol_free): one round trip per TFO_PRIVOPS_BATCH
 * processes. A cycle whose helper fails returns its error (TFO_ECLOSED...):
 * the helper cannot be started again from inside the sandbox.
 */
void tfo_proccol_set_priv(struct tfo_proccol *c, struct tfo_priv *p);

/* Test seams: clock ticks per second and page size (fixtures were recorded
 * with 100 and 4096), and a hook run between the walk and the full reads. */
void tfo_proccol_set_units(struct tfo_proccol *c, long hz, long page_size);
void tfo_proccol_set_hook(struct tfo_proccol *c, void (*hook)(void *), void *arg);

#endif
