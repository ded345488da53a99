/*
 * priv.h - tfo-process's side of its privileged reader tfo-procpriv
 * (common/privops.h): started once, as root, before tfo-process drops its
 * own privileges; then one request and one reply per batch of processes.
 */
#ifndef TFO_PROCESS_PRIV_H
#define TFO_PROCESS_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/privops.h"

struct tfo_priv;

struct tfo_priv_spawn {
	const char *path;               /* the tfo-procpriv executable */
	int procfd;                     /* <proc_root>/proc, handed to it as fd 4 */
	long uid, gid;                  /* identity to drop to; -1: none (not root) */
	const char *seccomp;            /* "kill", "log", "off" */
	const char *log_level, *log_format;
};

/* one process's answer; exe points into the client's reply buffer and is
 * valid until the next query */
struct tfo_priv_ans {
	int32_t pid;
	int err_io, err_exe, err_nfds;  /* 0 ok, else an errno (privops.h) */
	uint64_t read_bytes, write_bytes;
	int64_t nfds;
	const char *exe;                /* NUL-terminated when err_exe is 0 */
	size_t exe_len;
};

/*
 * tfo_priv_start - check the helper's executable by the rule root applies to
 * every executable it runs (common/safepath.h: root's, or the dev-mode
 * user's, not writable by group or other, nor any directory above it), fork
 * and exec it through the checked fd (call as root, single-threaded: between
 * fork and exec only async-signal-safe calls), and wait up to 5 s for its
 * hello (its sandbox is in place). NULL with a message in err.
 */
struct tfo_priv *tfo_priv_start(const struct tfo_priv_spawn *sp, char *err, size_t errcap);

/* tfo_priv_close - close the channel (the helper exits on EOF) and free */
void tfo_priv_close(struct tfo_priv *p);

pid_t tfo_priv_pid(const struct tfo_priv *p);
int tfo_priv_fd(const struct tfo_priv *p);

/*
 * tfo_priv_query - one round trip: n (<= TFO_PRIVOPS_BATCH) requests in,
 * n answers out in the same order. TFO_ECLOSED: the helper is gone;
 * TFO_EPROTO: its reply broke the contract; TFO_ETIMEDOUT: no reply in 5 s.
 * Any error means the helper cannot be used again.
 */
enum tfo_err tfo_priv_query(struct tfo_priv *p, const struct tfo_privops_req *req, size_t n,
    struct tfo_priv_ans *ans);

/*
 * tfo_priv_reap - after TFO_ECLOSED: the helper's wait status, waiting at
 * most ~1 s for it to be reapable; -1 when it cannot be had
 */
int tfo_priv_reap(struct tfo_priv *p, int *status);

/*
 * tfo_priv_parse_reply - check one reply packet (len bytes in buf, which
 * must have len + 1 bytes of room: exe paths are NUL-terminated in place)
 * against its n requests and fill ans. TFO_EPROTO when it breaks the
 * contract (privops.h). Used by tfo_priv_query; exposed for the fuzz harness.
 */
enum tfo_err tfo_priv_parse_reply(uint8_t *buf, size_t len, const struct tfo_privops_req *req,
    size_t n, struct tfo_priv_ans *ans);

/* tfo_priv_adopt - a client over an existing channel fd (owned from now on)
 * to a helper started elsewhere (pid, or 0): tests */
struct tfo_priv *tfo_priv_adopt(int fd, pid_t pid);

#ifdef TFO_TEST_HOOKS
/* tfo_priv_test - test builds: the helper attempts `action`; its errno or
 * -1 unknown; TFO_ECLOSED when it died (reap it) */
enum tfo_err tfo_priv_test(struct tfo_priv *p, const char *action, const char *arg, int *err);
#endif

#endif
