/*
 * privops.h - the wire contract between tfo-process (unprivileged, under
 * Landlock) and tfo-procpriv, its privileged /proc reader (chrony privops
 * style): one SOCK_SEQPACKET socketpair, one request packet of at most
 * TFO_PRIVOPS_BATCH (pid, ops) entries, one reply packet of parsed numbers
 * and exe path strings, never file content. Both ends run on the same host
 * from the same build: native byte order, fixed-size records, and a version
 * in every header checked on both sides. docs/security.md explains the fence.
 */
#ifndef TFO_PRIVOPS_H
#define TFO_PRIVOPS_H

#include <stddef.h>
#include <stdint.h>

#define TFO_PRIVOPS_VERSION 1u
#define TFO_PRIVOPS_MAGIC (0x7f500000u | TFO_PRIVOPS_VERSION)
#define TFO_PRIVOPS_BATCH 32            /* entries per request */
#define TFO_PRIVOPS_EXE_MAX 4096        /* PATH_MAX: longest exe path returned */
#define TFO_PRIVOPS_TEST_MAX 64         /* test builds: action and argument bytes */

/* the fds the helper finds at exec */
#define TFO_PRIVOPS_CHAN_FD 3           /* its end of the socketpair */
#define TFO_PRIVOPS_PROC_FD 4           /* <proc_root>/proc, opened by tfo-process as root */

/* message types */
enum {
	TFO_PRIVMSG_READ = 1,           /* n entries of struct tfo_privops_req */
	TFO_PRIVMSG_TEST = 2,           /* TFO_TEST_HOOKS builds: struct tfo_privops_test */
	TFO_PRIVMSG_HELLO = 3,          /* helper -> tfo-process once, sandbox in place:
	                                 * n = 0, reserved = 1 when fd/ is counted by listing */
};

/* ops, a bit set per entry */
#define TFO_PRIVOP_IO   0x1u            /* <pid>/io: the storage-layer byte counters */
#define TFO_PRIVOP_EXE  0x2u            /* readlink <pid>/exe */
#define TFO_PRIVOP_NFDS 0x4u            /* entries of <pid>/fd */
#define TFO_PRIVOP_ALL  0x7u

struct tfo_privops_hdr {
	uint32_t magic;                 /* TFO_PRIVOPS_MAGIC */
	uint32_t type;                  /* TFO_PRIVMSG_* */
	uint32_t n;                     /* entries that follow */
	uint32_t reserved;              /* 0 */
};

struct tfo_privops_req {
	int32_t pid;                    /* > 0 */
	uint32_t ops;                   /* TFO_PRIVOP_*, not 0 */
};

/*
 * One reply record per request entry, in order, each followed by exe_len
 * bytes of path (no NUL) and padding to a multiple of 8 bytes. err_* is 0
 * when the op ran and its numbers are valid, else the errno (ENOENT/ESRCH:
 * the process is gone; EACCES/EPERM: refused; ENODATA: not asked).
 */
struct tfo_privops_res {
	int32_t pid;                    /* echoed */
	int32_t err_io, err_exe, err_nfds;
	uint64_t read_bytes, write_bytes, cancelled_write_bytes;
	uint64_t rchar, wchar, syscr, syscw;
	int64_t nfds;
	uint32_t exe_len;               /* <= TFO_PRIVOPS_EXE_MAX */
	uint32_t reserved;
};

/* test builds: one forbidden action for the helper to attempt (tests/sandbox) */
struct tfo_privops_test {
	char action[TFO_PRIVOPS_TEST_MAX];      /* NUL-terminated */
	char arg[TFO_PRIVOPS_TEST_MAX];
};

struct tfo_privops_test_res {
	int32_t err;                    /* errno of the attempt, 0 = it worked */
	uint32_t reserved;
};

#define TFO_PRIVOPS_PAD8(n) (((n) + 7u) & ~(size_t)7u)
#define TFO_PRIVOPS_REQ_MAX (sizeof(struct tfo_privops_hdr) + \
	TFO_PRIVOPS_BATCH * sizeof(struct tfo_privops_req))
#define TFO_PRIVOPS_REPLY_MAX (sizeof(struct tfo_privops_hdr) + TFO_PRIVOPS_BATCH * \
	(sizeof(struct tfo_privops_res) + TFO_PRIVOPS_PAD8(TFO_PRIVOPS_EXE_MAX)))

#endif
