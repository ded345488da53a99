/*
 * procfs.h - parsers for the text of /proc and /sys files, shared by the
 * system and process collectors and the heartbeat. Every parser takes the
 * file's TEXT (buffer + length, no NUL needed) so tests feed fixtures; none
 * allocates. Input is hostile: lines that do not parse are skipped.
 */
#ifndef TFO_PROCFS_H
#define TFO_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* ------------------------------------------------------------------ reader */

/*
 * tfo_procfs_path - join root ("" or NULL = "/") and rel ("proc/stat") into
 * out. Returns TFO_ERANGE when it does not fit.
 */
enum tfo_err tfo_procfs_path(const char *root, const char *rel, char *out, size_t cap);

/*
 * tfo_procfs_read - read root/rel into buf (at most cap-1 bytes, then a NUL).
 * *len gets the bytes read. TFO_ENOENT if missing, TFO_EIO (errno set) on
 * other errors, TFO_ERANGE if the file was longer than the buffer (buf then
 * holds the first cap-1 bytes).
 */
enum tfo_err tfo_procfs_read(const char *root, const char *rel, char *buf, size_t cap, size_t *len);

/* tfo_procfs_read_fd - the same from an open fd, re-read from offset 0 with
 * pread (a long-lived fd on a seq_file is cheaper than open+close). */
enum tfo_err tfo_procfs_read_fd(int fd, char *buf, size_t cap, size_t *len);

/* tfo_procfs_read_fd_whole - the same for a file the kernel makes whole at
 * each read from offset 0 (a single_open seq_file: /proc/stat, meminfo,
 * loadavg, uptime, net/sockstat; a regular file): a read shorter than the
 * buffer is the whole file, and no second read looks for EOF (on a PVM
 * guest every system call counts). A file as long as the buffer is read on
 * as tfo_procfs_read_fd does. Not for files of many records (vmstat,
 * diskstats, net/dev): their reads stop at the kernel's page-sized buffer. */
enum tfo_err tfo_procfs_read_fd_whole(int fd, char *buf, size_t cap, size_t *len);

/* tfo_procfs_u64 - one unsigned decimal (sysfs value files); spaces and a
 * trailing newline allowed, anything else is TFO_EINVAL. */
enum tfo_err tfo_procfs_u64(const char *buf, size_t len, uint64_t *v);

/* ------------------------------------------------------------------- text */

/*
 * tfo_procfs_text_clean - make s[0..len) a printable UTF-8 string in place:
 * bytes of invalid or truncated sequences and control characters (C0, DEL)
 * become '?', except '\n' when keep_nl. Attribute values must be valid UTF-8
 * or OTLP receivers refuse the whole request. Returns replacements made.
 */
size_t tfo_procfs_text_clean(char *s, size_t len, int keep_nl);

/* tfo_procfs_utf8_cut - the largest n <= len that does not split a
 * multi-byte character of s */
size_t tfo_procfs_utf8_cut(const char *s, size_t len);

/* ------------------------------------------------------------- /proc/stat */

enum tfo_cpu_mode {
	TFO_CPU_USER, TFO_CPU_NICE, TFO_CPU_SYSTEM, TFO_CPU_IDLE, TFO_CPU_IOWAIT,
	TFO_CPU_IRQ, TFO_CPU_SOFTIRQ, TFO_CPU_STEAL, TFO_CPU_GUEST, TFO_CPU_GUEST_NICE,
	TFO_CPU_NMODES
};

struct tfo_cpu_times {
	int cpu;                        /* logical number; -1 = the "cpu" total line */
	unsigned nfields;               /* columns present (4 on 2.4, 10 on 2.6.33+) */
	uint64_t t[TFO_CPU_NMODES];     /* USER_HZ ticks; absent columns are 0 */
};

#define TFO_STAT_HAVE_CTXT       0x01u
#define TFO_STAT_HAVE_BTIME      0x02u
#define TFO_STAT_HAVE_PROCESSES  0x04u
#define TFO_STAT_HAVE_RUNNING    0x08u
#define TFO_STAT_HAVE_BLOCKED    0x10u
#define TFO_STAT_HAVE_INTR       0x20u
#define TFO_STAT_HAVE_SOFTIRQ    0x40u
#define TFO_STAT_HAVE_TOTAL      0x80u

struct tfo_proc_stat {
	struct tfo_cpu_times total;
	struct tfo_cpu_times *cpus;     /* caller's array of cpus_cap entries */
	size_t cpus_cap;
	size_t ncpus;                   /* entries filled (<= cpus_cap) */
	size_t cpus_dropped;            /* cpu lines past cpus_cap */
	unsigned have;                  /* TFO_STAT_HAVE_* */
	uint64_t ctxt, btime, processes, procs_running, procs_blocked;
	uint64_t intr_total, softirq_total;
};

/* tfo_procfs_stat - parse /proc/stat; out->cpus/cpus_cap set by the caller.
 * TFO_EINVAL when no "cpu" total line was found. */
enum tfo_err tfo_procfs_stat(const char *buf, size_t len, struct tfo_proc_stat *out);

/* ---------------------------------------------------------- /proc/meminfo */

enum tfo_mem_key {
	TFO_MEM_TOTAL, TFO_MEM_FREE, TFO_MEM_AVAILABLE, TFO_MEM_BUFFERS, TFO_MEM_CACHED,
	TFO_MEM_SWAP_CACHED, TFO_MEM_ACTIVE, TFO_MEM_INACTIVE, TFO_MEM_SWAP_TOTAL,
	TFO_MEM_SWAP_FREE, TFO_MEM_DIRTY, TFO_MEM_WRITEBACK, TFO_MEM_ANON_PAGES,
	TFO_MEM_MAPPED, TFO_MEM_SHMEM, TFO_MEM_SLAB, TFO_MEM_SRECLAIMABLE,
	TFO_MEM_SUNRECLAIM, TFO_MEM_KERNEL_STACK, TFO_MEM_PAGE_TABLES,
	TFO_MEM_COMMIT_LIMIT, TFO_MEM_COMMITTED_AS, TFO_MEM_HUGE_TOTAL,
	TFO_MEM_HUGE_FREE, TFO_MEM_HUGE_RSVD, TFO_MEM_HUGE_SURP, TFO_MEM_HUGE_SIZE,
	TFO_MEM_NKEYS
};

struct tfo_meminfo {
	uint64_t have;                  /* bit k set = key k present */
	uint64_t v[TFO_MEM_NKEYS];      /* bytes ("kB" scaled); HugePages_* are counts */
};

#define TFO_MEM_HAS(m, k) (((m)->have >> (k)) & 1u)

/* tfo_procfs_meminfo - TFO_EINVAL when MemTotal is missing */
enum tfo_err tfo_procfs_meminfo(const char *buf, size_t len, struct tfo_meminfo *out);

/* ----------------------------------------------------------- /proc/vmstat */

enum tfo_vm_key {
	TFO_VM_PGPGIN, TFO_VM_PGPGOUT, TFO_VM_PSWPIN, TFO_VM_PSWPOUT,
	TFO_VM_PGFAULT, TFO_VM_PGMAJFAULT, TFO_VM_OOM_KILL,
	TFO_VM_NKEYS
};

struct tfo_vmstat {
	unsigned have;                  /* bit k set = key k present */
	uint64_t v[TFO_VM_NKEYS];
};

#define TFO_VM_HAS(m, k) (((m)->have >> (k)) & 1u)

enum tfo_err tfo_procfs_vmstat(const char *buf, size_t len, struct tfo_vmstat *out);

/* ------------------------------------------------- /proc/loadavg, /uptime */

struct tfo_loadavg {
	double load1, load5, load15;
	uint64_t running, total;        /* scheduling entities (threads) */
	uint64_t last_pid;
};

enum tfo_err tfo_procfs_loadavg(const char *buf, size_t len, struct tfo_loadavg *out);

struct tfo_uptime {
	double uptime_s, idle_s;
};

enum tfo_err tfo_procfs_uptime(const char *buf, size_t len, struct tfo_uptime *out);

/* -------------------------------------------------------- /proc/diskstats */

#define TFO_DEVNAME_MAX 64

enum tfo_disk_field {
	TFO_DISK_READS, TFO_DISK_READS_MERGED, TFO_DISK_SECTORS_READ, TFO_DISK_READ_MS,
	TFO_DISK_WRITES, TFO_DISK_WRITES_MERGED, TFO_DISK_SECTORS_WRITTEN, TFO_DISK_WRITE_MS,
	TFO_DISK_IN_PROGRESS, TFO_DISK_IO_MS, TFO_DISK_WEIGHTED_MS,
	TFO_DISK_DISCARDS, TFO_DISK_DISCARDS_MERGED, TFO_DISK_SECTORS_DISCARDED,
	TFO_DISK_DISCARD_MS, TFO_DISK_FLUSHES, TFO_DISK_FLUSH_MS,
	TFO_DISK_NFIELDS
};

struct tfo_diskstat {
	unsigned major, minor;
	char name[TFO_DEVNAME_MAX];
	unsigned nstats;                /* 11 (<4.18), 15 (4.18+), 17 (5.5+); 4 = old partition line */
	uint64_t f[TFO_DISK_NFIELDS];   /* absent fields are 0 */
};

/* tfo_procfs_diskstats - fill up to cap entries; *n gets the count; lines past
 * cap are counted in *dropped (may be NULL). */
enum tfo_err tfo_procfs_diskstats(const char *buf, size_t len, struct tfo_diskstat *out,
                                  size_t cap, size_t *n, size_t *dropped);

/* --------------------------------------------------------- /proc/net/dev */

#define TFO_IFNAME_MAX 32

enum tfo_net_field {
	TFO_NET_RX_BYTES, TFO_NET_RX_PACKETS, TFO_NET_RX_ERRS, TFO_NET_RX_DROP,
	TFO_NET_RX_FIFO, TFO_NET_RX_FRAME, TFO_NET_RX_COMPRESSED, TFO_NET_RX_MULTICAST,
	TFO_NET_TX_BYTES, TFO_NET_TX_PACKETS, TFO_NET_TX_ERRS, TFO_NET_TX_DROP,
	TFO_NET_TX_FIFO, TFO_NET_TX_COLLS, TFO_NET_TX_CARRIER, TFO_NET_TX_COMPRESSED,
	TFO_NET_NFIELDS
};

struct tfo_netdev {
	char name[TFO_IFNAME_MAX];
	uint64_t f[TFO_NET_NFIELDS];
};

enum tfo_err tfo_procfs_netdev(const char *buf, size_t len, struct tfo_netdev *out,
                               size_t cap, size_t *n, size_t *dropped);

/* ---------------------------------------------------- /proc/net/tcp{,6} */

/* Kernel TCP states (include/net/tcp_states.h), index = the "st" column. */
#define TFO_TCP_NSTATES 13

struct tfo_tcp_counts {
	uint64_t state[TFO_TCP_NSTATES];   /* [0] and unknown states are not counted */
	uint64_t bad_lines;
};

/*
 * tfo_procfs_tcp_feed - count the complete lines of buf (the header line is
 * skipped) into c, which accumulates across calls and across tcp and tcp6.
 * Returns the bytes consumed: a trailing partial line is left for the next
 * chunk, so big tables are read in pieces with a fixed buffer.
 */
size_t tfo_procfs_tcp_feed(struct tfo_tcp_counts *c, const char *buf, size_t len);

/* tfo_procfs_tcp_state_name - semconv network.connection.state of kernel state
 * st, NULL for states that have none */
const char *tfo_procfs_tcp_state_name(unsigned st);

/* TCP state counts cost a walk of the kernel's whole TCP hash per file
 * (~4 ms for /proc/net/tcp, as much for an empty tcp6), so the collectors
 * refresh them at most this often (docs/metrics.md, docs/heartbeat.md). */
#define TFO_TCP_REFRESH_MS (5u * 60u * 1000u)
/* The process state counts cost an open and read of every /proc/<pid>/stat
 * (~1 ms per 100 processes): refreshed at most this often, their figures up
 * to that old (docs/metrics.md, docs/heartbeat.md). */
#define TFO_TASKS_REFRESH_MS (5u * 60u * 1000u)
#define TFO_TCP_TIME_WAIT 6                 /* the kernel's TCP_TIME_WAIT */

/*
 * tfo_procfs_tcp_fd - count the TCP table open on fd (/proc/net/tcp or tcp6,
 * read from offset 0 in chunks of buf[cap]) into c. -1 on a read error.
 */
int tfo_procfs_tcp_fd(int fd, char *buf, size_t cap, struct tfo_tcp_counts *c);

/*
 * tfo_procfs_sockstat - the "<proto>: inuse N ... tw M" line of
 * /proc/net/sockstat (proto "TCP") or sockstat6 ("TCP6"); *tw is 0 when the
 * line has none (sockstat6). TFO_ENOENT without such a line.
 */
enum tfo_err tfo_procfs_sockstat(const char *buf, size_t len, const char *proto,
                                 uint64_t *inuse, uint64_t *tw);

/*
 * tfo_procfs_tcp6_needed - whether /proc/net/tcp6 can list a socket: TCP6
 * sockets in use (listening ones included), or more TIME_WAIT sockets of
 * both families (sockstat's tw) than the tcp4 walk counted. 0 lets the
 * caller skip a walk of the whole hash that would find nothing.
 */
int tfo_procfs_tcp6_needed(uint64_t tcp6_inuse, uint64_t tw_all,
                           const struct tfo_tcp_counts *tcp4);

/* --------------------------------------------- mountinfo / mounts / swaps */

#define TFO_MNT_PATH_MAX 512
#define TFO_MNT_SRC_MAX 256
#define TFO_MNT_TYPE_MAX 32

struct tfo_mount {
	unsigned major, minor;          /* 0:0 when read from /proc/mounts */
	int ro;                         /* 1 when mounted read-only */
	char mountpoint[TFO_MNT_PATH_MAX];  /* octal escapes (\040) decoded */
	char source[TFO_MNT_SRC_MAX];
	char fstype[TFO_MNT_TYPE_MAX];
};

/* tfo_procfs_mountinfo - /proc/<pid>/mountinfo; entries whose strings do not
 * fit are counted in *dropped. */
enum tfo_err tfo_procfs_mountinfo(const char *buf, size_t len, struct tfo_mount *out,
                                  size_t cap, size_t *n, size_t *dropped);
/* tfo_procfs_mounts - the older /proc/mounts (fstab) format */
enum tfo_err tfo_procfs_mounts(const char *buf, size_t len, struct tfo_mount *out,
                               size_t cap, size_t *n, size_t *dropped);

struct tfo_swap {
	char filename[TFO_MNT_PATH_MAX];
	char type[16];
	uint64_t size_bytes, used_bytes;
	long priority;
};

enum tfo_err tfo_procfs_swaps(const char *buf, size_t len, struct tfo_swap *out,
                              size_t cap, size_t *n, size_t *dropped);

/* ---------------------------------------------------------- /proc/cpuinfo */

#define TFO_CPUINFO_MAX_CORES 4096      /* distinct (package, core) pairs tracked */

struct tfo_cpuinfo {
	char vendor[64];                /* vendor_id (x86) or "CPU implementer" (arm) */
	char model_name[128];           /* "model name" or "Hardware"/"Processor" */
	double mhz;                     /* "cpu MHz" of the first processor; 0 if absent */
	uint64_t cache_bytes;           /* "cache size" of the first processor */
	unsigned logical;               /* "processor" entries */
	unsigned packages;              /* distinct "physical id" */
	unsigned cores;                 /* distinct (physical id, core id); = logical if unknown */
	int family, model, stepping;    /* -1 when absent */
};

enum tfo_err tfo_procfs_cpuinfo(const char *buf, size_t len, struct tfo_cpuinfo *out);

/* ---------------------------------------------------- /proc/<pid>/stat */

enum tfo_task_state {
	TFO_TASK_RUNNING,               /* R */
	TFO_TASK_SLEEPING,              /* S, I (idle kernel thread) */
	TFO_TASK_DISK_SLEEP,            /* D */
	TFO_TASK_STOPPED,               /* T, t */
	TFO_TASK_ZOMBIE,                /* Z */
	TFO_TASK_DEAD,                  /* X, x */
	TFO_TASK_OTHER,
	TFO_TASK_NSTATES
};

struct tfo_task_counts {
	uint64_t n[TFO_TASK_NSTATES];
};

/* tfo_procfs_task_state - the state letter of a /proc/<pid>/stat line (after
 * the last ')' of comm, which may itself hold ')' and spaces) */
enum tfo_err tfo_procfs_task_state(const char *buf, size_t len, enum tfo_task_state *st);

/*
 * tfo_procfs_task_counts - count the states of every process under
 * root/proc (numeric directories); threads are not walked. Processes that
 * vanish meanwhile are skipped. proc_dirfd >= 0 is used instead of opening
 * root/proc (a long-lived dirfd survives the sandbox).
 */
enum tfo_err tfo_procfs_task_counts(const char *root, int proc_dirfd, struct tfo_task_counts *c);

/* ------------------------------------------------------- /etc/os-release */

struct tfo_osrelease {
	char id[64];                    /* ID ("debian"); "" when absent */
	char id_like[128];              /* ID_LIKE, space-separated */
	char version_id[64];            /* VERSION_ID ("12") */
	char pretty_name[256];          /* PRETTY_NAME */
};

/*
 * tfo_osrelease_get - the value of KEY= in os-release text, as a shell
 * sourcing it would see it: '...' literal, "..." and bare values with
 * backslash escapes; a value whose quote never closes is kept as written.
 * The last assignment wins. out gets printable UTF-8 (control characters as
 * '?', a sequence cut by cap dropped), "" when absent. TFO_ENOENT if KEY= is
 * not there.
 */
enum tfo_err tfo_osrelease_get(const char *text, size_t len, const char *key, char *out,
                               size_t cap);

/* tfo_osrelease_parse - the fields of struct tfo_osrelease from the text;
 * TFO_ENOENT when none is there (absent fields are ""). */
enum tfo_err tfo_osrelease_parse(const char *text, size_t len, struct tfo_osrelease *out);

/*
 * tfo_osrelease_read - root/etc/os-release, else root/usr/lib/os-release (its
 * first cap-1 bytes when longer), read into buf and parsed. TFO_ENOENT when
 * neither can be read or holds no known key.
 */
enum tfo_err tfo_osrelease_read(const char *root, char *buf, size_t cap, struct tfo_osrelease *out);

#endif
