/*
 * config_host.c - a loaded config against this host (config.h
 * tfo_config_check_host): the role users, the directories root makes or
 * changes (safe to trust, common/safepath.h; made with the owner and mode of
 * docs/security.md), and what each role user can reach. Runs in
 * tfo-supervisor (start, reload, --check) and tfoctl config validate, which
 * so say the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/config_impl.h"
#include "common/safepath.h"

#define HOST_MAX_GROUPS 256

/* Modes and owners of the directories the supervisor makes (security.md). */
#define STATE_MODE 0750         /* root:<group>: the agent id; the buffer's dir below */
#define RUNTIME_MODE 01771      /* root:<group>: role users make their sockets (sticky) */
#define DEV_MODE 0700           /* dev mode: every worker runs as the one user */

struct host_user {
	int ok;
	char name[64];
	uid_t uid;
	gid_t gid;
	gid_t groups[HOST_MAX_GROUPS];
	int ngroups;
};

struct host {
	const struct tfo_config *cfg;
	struct tfo_cfg_diags *d;
	int root, create;
	uid_t self;
	gid_t group;
	int group_ok;
	int state_missing;      /* state_dir is missing and is ours to make */
	struct host_user u[TFO_ROLE_COUNT];
	/* state_dir and runtime_dir as the supervisor leaves them (owner and mode
	 * set at each start): what the role users will meet, in check mode too */
	struct {
		int set;
		char path[PATH_MAX];
		struct stat st;
	} own[2];
};

/* reach - who must be able to search the directories of one path */
struct reach {
	struct host *h;
	const char *key, *path;
	unsigned roles;         /* bit per enum tfo_role */
	unsigned reported;      /* users already named */
	int have_pending;       /* the last directory seen, judged once it is not the last */
	char pending[PATH_MAX];
	struct stat pending_st;
};

static int
in_groups(const struct host_user *u, gid_t g)
{
	if (u->gid == g)
		return 1;
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return 1;
	return 0;
}

/* may - whether u gets `bit` (r=4, x=1) of st by its mode; an ACL decides
 * beyond the mode, and we do not second-guess it: then yes */
static int
may(const struct host_user *u, const char *path, const struct stat *st, unsigned bit)
{
	unsigned m = (unsigned)st->st_mode;
	int yes;

	if (u->uid == 0)
		return 1;
	if (st->st_uid == u->uid)
		yes = (m & (bit << 6)) != 0;
	else if (in_groups(u, st->st_gid))
		yes = (m & (bit << 3)) != 0;
	else
		yes = (m & bit) != 0;
	return yes || (path[0] && getxattr(path, "system.posix_acl_access", NULL, 0) > 0);
}

/* judge - every role of r must be able to search dir */
static void
judge(struct reach *r, const char *dir, const struct stat *st)
{
	char desc[160];

	for (int i = 0; i < 2; i++)
		if (r->h->own[i].set && strcmp(dir, r->h->own[i].path) == 0)
			st = &r->h->own[i].st;

	for (int i = 0; i < TFO_ROLE_COUNT; i++) {
		const struct host_user *u = &r->h->u[i];
		if (!(r->roles & (1u << i)) || (r->reported & (1u << i)) || !u->ok ||
		    may(u, dir, st, 1))
			continue;
		/* one user may hold several roles (the dev mode): name it once */
		for (int j = 0; j < TFO_ROLE_COUNT; j++)
			if (r->h->u[j].uid == u->uid)
				r->reported |= 1u << j;
		tfo_safe_describe(st, desc, sizeof(desc));
		tfo_cfg_diag_key(r->h->d, r->h->cfg, 0, r->key, "%s: user %s cannot search %s (%s)",
		    r->path, u->name, dir, desc);
	}
}

/* each - tfo_safe_opts callback: judge the previous directory (not the last) */
static void
each(void *arg, const char *dir, const struct stat *st)
{
	struct reach *r = arg;

	if (r->have_pending)
		judge(r, r->pending, &r->pending_st);
	snprintf(r->pending, sizeof(r->pending), "%s", dir);
	r->pending_st = *st;
	r->have_pending = 1;
}

/* made - the stat of a directory the supervisor would make (check mode) */
static struct stat
made(const struct host *h, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | (h->root ? mode : DEV_MODE);
	st.st_uid = h->root ? 0 : h->self;
	st.st_gid = h->root && h->group_ok ? h->group : getegid();
	return st;
}

/* remember - how a directory of ours will be (judge uses it) */
static void
remember(struct host *h, int slot, const char *path, const struct stat *st)
{
	h->own[slot].set = 1;
	snprintf(h->own[slot].path, sizeof(h->own[slot].path), "%s", path);
	h->own[slot].st = *st;
}

/*
 * own_dir - state_dir (slot 0) or runtime_dir (slot 1): safe; with
 * TFO_HOST_CREATE made when missing and, as root, given root:<group> and
 * `mode` through the checked fd; its users able to search it as it is then
 * (check mode: as it would be). 0, 1 when missing in check mode, -1.
 */
static int
own_dir(struct host *h, int slot, const char *key, const char *path, mode_t mode,
    unsigned roles)
{
	struct reach r = { .h = h, .key = key, .path = path, .roles = roles };
	struct tfo_safe_opts o = { .self = h->self, .each = each, .arg = &r };
	struct stat st;
	char err[1024];
	int fd;

	if (h->create) {
		o.flags = TFO_SAFE_MKDIR;
		o.mkmode = h->root ? mode & 0777 : DEV_MODE;
	}
	if ((fd = tfo_safe_open_dir(path, &o, err, sizeof(err))) < 0) {
		if (errno != ENOENT || !o.last_missing || h->create) {
			tfo_cfg_diag_key(h->d, h->cfg, 0, key, "%s: %s", path, err);
			return -1;
		}
		if (r.have_pending)
			judge(&r, r.pending, &r.pending_st);
		st = made(h, mode);
		remember(h, slot, path, &st);
		judge(&r, path, &st);
		return 1;
	}
	if (h->create && h->root && h->group_ok &&
	    tfo_safe_set(fd, path, 0, h->group, mode, err, sizeof(err)) != 0) {
		tfo_cfg_diag_key(h->d, h->cfg, 0, key, "%s", err);
		close(fd);
		return -1;
	}
	if (!h->create && h->root)
		r.pending_st = made(h, mode);           /* what the start will make of it */
	else if (fstat(fd, &st) == 0)
		r.pending_st = st;
	close(fd);
	remember(h, slot, r.pending, &r.pending_st);
	judge(&r, r.pending, &r.pending_st);
	return 0;
}

/* written - whether the file set key (else it is a default or derived) */
static int
written(const struct tfo_config *cfg, const char *key)
{
	int row = tfo_cfg_row_find(key);

	return row >= 0 && cfg->pos != NULL && cfg->pos[row].line != 0;
}

/* buffer_dir - buffer.path: safe above it; the last directory is tfo-buffer's,
 * made and given its mode by the buffer itself; tfo-buffer reaches it. Its
 * problems are told at buffer.path when the file sets it, else at state_dir,
 * which it is derived from (the line the operator wrote). */
static void
buffer_dir(struct host *h, unsigned roles)
{
	const char *path = h->cfg->buffer.path, *state = h->cfg->agent.state_dir;
	const char *key = written(h->cfg, "buffer.path") ? "buffer.path" : "agent.state_dir";
	struct reach r = { .h = h, .key = key, .path = path, .roles = roles };
	struct tfo_safe_opts o = { .self = h->self, .each = each, .arg = &r,
	    .flags = TFO_SAFE_LAST_MODE };
	size_t sl = strlen(state);
	struct stat st;
	char err[1024];
	int fd;

	if (h->root && h->u[TFO_ROLE_BUFFER].ok)
		o.last_uid = h->u[TFO_ROLE_BUFFER].uid;
	if ((fd = tfo_safe_open_dir(path, &o, err, sizeof(err))) >= 0) {
		close(fd);      /* the last one is the buffer's own: not judged */
		return;
	}
	if (errno == ENOENT && o.last_missing) {
		if (r.have_pending)
			judge(&r, r.pending, &r.pending_st);
		return;         /* the buffer makes it */
	}
	/* check mode: <state_dir>/x while state_dir is still to be made */
	if (errno == ENOENT && h->state_missing && strncmp(path, state, sl) == 0 &&
	    path[sl] == '/' && path[sl + 1] != '\0' && strchr(path + sl + 1, '/') == NULL) {
		if (r.have_pending)
			judge(&r, r.pending, &r.pending_st);
		st = made(h, STATE_MODE);
		judge(&r, state, &st);
		return;
	}
	tfo_cfg_diag_key(h->d, h->cfg, 0, key, "%s: %s", path, err);
}

/* user_of - role r's user: the supervisor's rules (spawn.c sv_identity) */
static void
user_of(struct host *h, enum tfo_role role)
{
	struct host_user *u = &h->u[role];
	const char *name = h->cfg->supervisor.users[role];
	char buf[4096], key[64];
	struct passwd pw, *pwp = NULL;

	memset(u, 0, sizeof(*u));
	if (!h->root) {
		u->uid = getuid();
		u->gid = getgid();
		tfo_safe_user(u->uid, u->name, sizeof(u->name));
		u->ngroups = getgroups(HOST_MAX_GROUPS, u->groups);
		u->ngroups = u->ngroups < 0 ? 0 : u->ngroups;
		u->ok = 1;
		return;
	}
	snprintf(key, sizeof(key), "supervisor.users.%s", tfo_role_name(role));
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		tfo_cfg_diag_key(h->d, h->cfg, 0, key, "user %s does not exist (create the role "
		    "users: tools/make-users, or the package's sysusers.d)", name);
		return;
	}
	if (pwp->pw_uid == 0) {
		tfo_cfg_diag_key(h->d, h->cfg, 0, key, "user %s is root: a role never runs as root",
		    name);
		return;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pwp->pw_uid;
	u->gid = h->group_ok ? h->group : pwp->pw_gid;
	/* the supplementary groups the worker is given (WorkerConfig.groups, spawn.c) */
	u->ngroups = HOST_MAX_GROUPS;
	if (getgrouplist(name, u->gid, u->groups, &u->ngroups) < 0)
		u->ngroups = 0;
	u->ok = 1;
}

static void
resolve(struct host *h)
{
	char buf[4096];
	struct group gr, *grp = NULL;

	if (h->root) {
		if (getgrnam_r(h->cfg->supervisor.group, &gr, buf, sizeof(buf), &grp) == 0 &&
		    grp != NULL) {
			h->group = grp->gr_gid;
			h->group_ok = 1;
		} else
			tfo_cfg_diag_key(h->d, h->cfg, 0, "supervisor.group", "group %s does not "
			    "exist (create it: tools/make-users, or the package's sysusers.d)",
			    h->cfg->supervisor.group);
	}
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		user_of(h, (enum tfo_role)r);
}

int
tfo_config_check_host(const struct tfo_config *cfg, unsigned flags, struct tfo_cfg_diags *d)
{
	struct host h;
	unsigned sockets = 0, before = (unsigned)d->errors;
	int rc;

	memset(&h, 0, sizeof(h));
	h.cfg = cfg;
	h.d = d;
	h.root = geteuid() == 0;
	h.self = h.root ? 0 : geteuid();
	h.create = (flags & TFO_HOST_CREATE) != 0;
	resolve(&h);
	/* every role opens a socket under runtime_dir (the heartbeat hands its
	 * beats to tfo-exporter there); TLS files are read by the exporter while
	 * still root, log files by tfo-logs with CAP_DAC_READ_SEARCH */
	for (int r = 0; r < TFO_ROLE_COUNT; r++)
		if (tfo_role_enabled(cfg, (enum tfo_role)r))
			sockets |= 1u << r;
	rc = own_dir(&h, 0, "agent.state_dir", cfg->agent.state_dir, STATE_MODE, 0);
	h.state_missing = rc == 1;
	(void)own_dir(&h, 1, "agent.runtime_dir", cfg->agent.runtime_dir, RUNTIME_MODE, sockets);
	if (tfo_role_enabled(cfg, TFO_ROLE_BUFFER))
		buffer_dir(&h, 1u << TFO_ROLE_BUFFER);
	return d->errors > before ? -1 : 0;
}
