/*
 * safepath.h - root's trust in paths (Postfix safe_open, OpenSSH safe_path):
 * a path is walked from "/" one component at a time, each opened with
 * O_NOFOLLOW from its already-checked parent and checked with fstat; what root
 * creates, chowns or chmods is changed through the fd it checked. Used by
 * tfo-supervisor (its directories, the config file, worker executables),
 * tfoctl (config validate) and tfo-buffer's pre-init (its store directory).
 *
 * The rule for every directory on the way, the last one included: owned by
 * root or by `self` (the user running an unprivileged dev supervisor), and not
 * writable by group or other, unless it is a root-owned sticky directory
 * (/tmp: only an entry's owner may replace the entry, so a root-owned entry
 * there is root's). A symlink on the way is followed only when it is owned by
 * root or `self` (it lies in a checked directory, so nobody else placed it);
 * at most 40 of them.
 */
#ifndef TFO_SAFEPATH_H
#define TFO_SAFEPATH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define TFO_SAFE_MKDIR     0x1  /* create the last directory (mode mkmode) when missing */
#define TFO_SAFE_LAST_MODE 0x2  /* the last directory's mode is not checked: the caller
                                 * sets it through the fd */

struct tfo_safe_opts {
	uid_t self;             /* trusted besides root; 0 = root only */
	uid_t last_uid;         /* the last directory may also belong to this uid (a
	                         * role's own directory); 0 = no other owner */
	unsigned flags;
	mode_t mkmode;          /* TFO_SAFE_MKDIR */
	/* called for every directory passed through, the last one included, with
	 * the path it was reached by (links followed) and its fstat */
	void (*each)(void *arg, const char *dir, const struct stat *st);
	void *arg;
	/* out: set when the walk failed because the last component is missing */
	int last_missing;
	/* out: set when the walk created the last directory */
	int created;
};

/*
 * tfo_safe_open_dir - an O_RDONLY|O_DIRECTORY fd of the absolute `path`,
 * every component checked (above). -1 with errno and one line in err naming
 * the component, its mode and owner: "/srv/x (0755 alice:alice) is not owned
 * by root", "... is writable by group or other", "/tmp/run is a symlink owned
 * by alice", "/srv/x does not exist".
 */
int tfo_safe_open_dir(const char *path, struct tfo_safe_opts *o, char *err, size_t errsz);
/*
 * tfo_safe_open_file - the same walk for the directories, then the file itself
 * opened with oflags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY from its checked
 * parent: a regular file owned by root or `self` (or o->last_uid), not
 * writable by group or other (group-readable is fine: 0640 root:tfo-agent).
 */
int tfo_safe_open_file(const char *path, struct tfo_safe_opts *o, int oflags, char *err,
    size_t errsz);
/*
 * tfo_safe_set - owner (uid (uid_t)-1: unchanged) and mode of the directory or
 * file behind fd, changed through that fd; `path` names it in err.
 */
int tfo_safe_set(int fd, const char *path, uid_t uid, gid_t gid, mode_t mode, char *err,
    size_t errsz);
/* tfo_safe_describe - "0755 alice:staff" for st (names when known, else numbers) */
void tfo_safe_describe(const struct stat *st, char *buf, size_t bufsz);
/* tfo_safe_user - the name of uid (its number when unknown) */
void tfo_safe_user(uid_t uid, char *buf, size_t bufsz);

#endif
