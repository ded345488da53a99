/*
 * admit.c - which match gets one of tfo-logs' open-file slots (slots.c counts
 * them): a match not followed is held as a possible copy, skipped while it is
 * dormant and unchanged, opened, or left waiting; at each run files at their
 * end make room for the waiting ones, the one idle longest first. Calls run
 * one way: admit.c -> copies.c, open.c -> slots.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workers/logs/tailer_int.h"

void
logs_consider(struct tailer *t, const char *path, const struct stat *sb, uint64_t now)
{
	/* a file we know by inode is placed by identity, never held as a copy */
	if (logs_dormant_unchanged(t, sb) ||
	    (known_find(&t->known, sb->st_dev, sb->st_ino) == NULL && logs_hold(t, path, sb, now)))
		return;
	if (!logs_slot(t))
		logs_wait(t, path, sb);
	else
		(void)logs_file_open(t, path, now, OPEN_PLACE, 0);
}

/* idle - f is at its end with nothing unread, held or unstored: it may be closed */
static int
idle(const struct tfile *f)
{
	return f->eof && !f->dirty && !f->gone && lsplit_pending(&f->ls) == 0 && !f->ml.have &&
	    f->ack_off == f->emit_off && f->last_size == (int64_t)f->emit_off;
}

/* file_sleep - close idle f, remembered by identity until it changes */
static void
file_sleep(struct tailer *t, struct tfile *f)
{
	struct fprint mark;
	struct known *k;

	if (known_add(&t->known, f->dev, f->ino, &f->fp,
	    logs_file_mark(f, f->emit_off, 1, &mark) ? &mark : NULL, f->emit_off, f->path) == TFO_OK &&
	    (k = known_find(&t->known, f->dev, f->ino)) != NULL) {
		k->dormant = 1;
		k->dsize = f->last_size;
		k->dmtime = f->last_mtime;
	}
	logs_unlink_file(t, f);
	t->st.files_slept++;
}

/* sleepiest - the idle file with the oldest data, or NULL */
static struct tfile *
sleepiest(struct tailer *t)
{
	struct tfile *best = NULL;

	for (struct tfile *f = t->files; f != NULL; f = f->next)
		if (idle(f) && (best == NULL || f->last_data_ms < best->last_data_ms))
			best = f;
	return best;
}

void
logs_slots_balance(struct tailer *t, uint64_t now)
{
	size_t taken = 0;
	struct stat sb;

	while (taken < t->nwait) {
		struct waitq *w = &t->wait[taken];
		struct tfile *f;

		if (!logs_slot(t)) {
			if ((f = sleepiest(t)) == NULL)
				break;  /* every open file has work: the waiting wait */
			file_sleep(t, f);
		}
		taken++;
		t->behind -= w->behind;
		if (stat(w->path, &sb) == 0 && (uint64_t)sb.st_dev == w->dev &&
		    (uint64_t)sb.st_ino == w->ino && logs_file_find(t, w->dev, w->ino) == NULL)
			(void)logs_file_open(t, w->path, now, OPEN_PLACE, 0);
		free(w->path);
	}
	memmove(t->wait, t->wait + taken, (t->nwait - taken) * sizeof(*t->wait));
	t->nwait -= taken;
}
