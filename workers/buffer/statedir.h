/*
 * statedir.h - tfo-buffer's state directory (buffer.path), prepared in
 * pre-init while the worker is still root: see statedir.c.
 */
#ifndef TFO_BUFFER_STATEDIR_H
#define TFO_BUFFER_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

#define BUFFER_DIR_MODE 0700
#define BUFFER_FILE_MODE 0600

/*
 * buffer_statedir_prepare - make dir (absolute) and dir/queue if missing,
 * and give them, the quarantined stores beside queue and every file of them
 * mode 0700 (directories) / 0600 (files), owned by uid:gid when own is set.
 * The path is walked from "/" with O_NOFOLLOW (common/safepath.h); every
 * change goes through an fd opened O_NOFOLLOW from its checked parent. A
 * symlink, a file with other links, or an entry owned by a third user is
 * never followed or changed: skipped with a warning, or for queue itself
 * refused. -1 with one line in err (path, owner, mode).
 */
int buffer_statedir_prepare(const char *dir, int own, uid_t uid, gid_t gid, char *err,
    size_t errsz);

#endif
