/*
 * slots.c - tfo-logs' open-file limit (collectors.logs.max_open_files, by
 * default from RLIMIT_NOFILE). Beyond it no matched file is left unread: a
 * match with no free slot waits, and files at their end (nothing unread,
 * nothing held, everything stored) are closed to make room, the one idle
 * longest first. A closed file is remembered by identity (a known entry with
 * its offset and mark, and its size and mtime at close) and opened again, by
 * the identity rules, when it changes (admit.c decides who gets a slot; this
 * file only counts them, so calls run one way). The first time the limit is hit is
 * logged; logs.files_waiting, logs.files_skipped and logs.bytes_behind say
 * how far behind it leaves us.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "workers/logs/tailer_int.h"

/* struct idset - a set of (dev, ino): the distinct files that ever waited */
struct idset {
	uint64_t (*k)[2];
	size_t n, cap;          /* cap: a power of two, open addressing */
};

static size_t
id_slot(const struct idset *s, uint64_t dev, uint64_t ino)
{
	size_t i = (size_t)((dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full)) &
	    (s->cap - 1);

	while ((s->k[i][0] != 0 || s->k[i][1] != 0) && (s->k[i][0] != dev || s->k[i][1] != ino + 1))
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* idset_add - 1 when (dev, ino) is new to the set (ino is stored + 1: {0,0} is empty) */
static int
idset_add(struct idset *s, uint64_t dev, uint64_t ino)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct idset g = { NULL, 0, s->cap ? 2 * s->cap : 64 };
		if ((g.k = calloc(g.cap, sizeof(*g.k))) == NULL)
			return 0;
		for (size_t j = 0; j < s->cap; j++)
			if (s->k[j][0] != 0 || s->k[j][1] != 0) {
				size_t x = id_slot(&g, s->k[j][0], s->k[j][1] - 1);
				g.k[x][0] = s->k[j][0];
				g.k[x][1] = s->k[j][1];
				g.n++;
			}
		free(s->k);
		*s = g;
	}
	i = id_slot(s, dev, ino);
	if (s->k[i][1] == ino + 1 && s->k[i][0] == dev)
		return 0;
	s->k[i][0] = dev;
	s->k[i][1] = ino + 1;
	s->n++;
	return 1;
}

int
logs_dormant_unchanged(struct tailer *t, const struct stat *sb)
{
	struct known *k = known_find(&t->known, sb->st_dev, sb->st_ino);

	return k != NULL && k->dormant && k->dsize == sb->st_size &&
	    k->dmtime.tv_sec == sb->st_mtim.tv_sec && k->dmtime.tv_nsec == sb->st_mtim.tv_nsec;
}

int
logs_slot(struct tailer *t)
{
	return t->st.files_open < t->max_open;
}

/* behind - the bytes of a file of sb that were never read */
static uint64_t
behind(struct tailer *t, const struct stat *sb)
{
	struct known *k = known_find(&t->known, sb->st_dev, sb->st_ino);
	uint64_t off = k != NULL && k->off <= (uint64_t)sb->st_size ? k->off : 0;

	return (uint64_t)sb->st_size - off;
}

void
logs_wait(struct tailer *t, const char *path, const struct stat *sb)
{
	struct waitq *w;

	for (size_t i = 0; i < t->nwait; i++)
		if (t->wait[i].dev == (uint64_t)sb->st_dev && t->wait[i].ino == (uint64_t)sb->st_ino)
			return;
	if (t->nwait == t->capwait) {
		size_t ncap = t->capwait ? 2 * t->capwait : 64;
		struct waitq *n = realloc(t->wait, ncap * sizeof(*n));
		if (n == NULL)
			return;         /* found again at the next scan */
		t->wait = n;
		t->capwait = ncap;
	}
	w = &t->wait[t->nwait];
	if ((w->path = strdup(path)) == NULL)
		return;
	w->dev = sb->st_dev;
	w->ino = sb->st_ino;
	w->behind = behind(t, sb);
	t->nwait++;
	t->behind += w->behind;
	if (t->waited == NULL)
		t->waited = calloc(1, sizeof(*t->waited));
	if (t->waited != NULL && idset_add(t->waited, sb->st_dev, sb->st_ino))
		t->st.files_skipped++;
	if (!t->cap_warned) {
		t->cap_warned = 1;
		log_warn("logs: more files match than collectors.logs.max_open_files (%u): files at "
		    "their end are closed and reopened in turn; logs.files_waiting and "
		    "logs.bytes_behind (tfoctl status) say how far behind that leaves us", t->max_open);
	}
}

void
logs_wait_clear(struct tailer *t)
{
	for (size_t i = 0; i < t->nwait; i++)
		free(t->wait[i].path);
	t->nwait = 0;
	t->behind = 0;
}

void
logs_slots_free(struct tailer *t)
{
	logs_wait_clear(t);
	free(t->wait);
	t->wait = NULL;
	t->capwait = 0;
	if (t->waited != NULL)
		free(t->waited->k);
	free(t->waited);
	t->waited = NULL;
}
