/*
 * ops.h - tfo-procpriv's fixed operation set: one request packet in, one
 * reply packet out (common/privops.h). A library so the fuzz harness and the
 * unit tests drive exactly what the helper runs.
 */
#ifndef TFO_PROCPRIV_OPS_H
#define TFO_PROCPRIV_OPS_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/privops.h"

/*
 * The only names the helper opens, reads or stats below a /proc/<pid>
 * directory. Its seccomp filter allows openat/readlinkat/newfstatat of a
 * file only with these exact addresses (read-only data), so a helper taken
 * over cannot name any other file (docs/security.md).
 */
extern const char tfo_privops_name_io[];
extern const char tfo_privops_name_exe[];
extern const char tfo_privops_name_fd[];

/* flags of every open the helper makes: a /proc/<pid> or fd/ directory, or the io file */
#define TFO_PRIVOPS_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define TFO_PRIVOPS_FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

struct tfo_privops_env {
	int procfd;             /* <proc_root>/proc */
	int list_fds;           /* count fd/ by listing it (kernels before 6.2) */
};

/* tfo_privops_fd_count_sized - 1 when stat() of <pid>/fd gives the count
 * (Linux >= 6.2), probed on the helper's own entry; 0: list it */
int tfo_privops_fd_count_sized(int procfd);

/*
 * tfo_privops_serve - one READ request packet (req, len bytes) into its
 * reply (reply, cap >= TFO_PRIVOPS_REPLY_MAX; *rlen bytes). TFO_EPROTO: the
 * packet is malformed (bad magic or version, type, count, size or entry):
 * the peer does not speak this contract and the helper stops.
 */
enum tfo_err tfo_privops_serve(const struct tfo_privops_env *env, const uint8_t *req,
    size_t len, uint8_t *reply, size_t cap, size_t *rlen);

/* tfo_privops_kept - processes whose directory and io file are kept open
 * (asked for their io lately: ops.c) */
size_t tfo_privops_kept(void);
/* tfo_privops_keep_close - close them all (tests, fuzzing) */
void tfo_privops_keep_close(void);

#endif
