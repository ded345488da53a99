/*
 * tfile.c - tfo-logs per-file helpers that reading (tailer.c), opening
 * (open.c) and the copy searches (scan.c, copies.c) share.
 */
#include "workers/logs/tailer_int.h"

int
logs_file_mark(struct tfile *f, uint64_t off, int may_read, struct fprint *mark)
{
	size_t n = off < TFO_LOGS_MARK_MAX ? (size_t)off : TFO_LOGS_MARK_MAX;
	const uint8_t *p;

	if (f->mark_ok && f->mark_off == off) {
		*mark = f->mark;
		return 1;
	}
	if ((p = lsplit_before(&f->ls, off, n)) != NULL)
		mark_of(p, n, mark);
	else if (!may_read || f->fd < 0 || !mark_compute(f->fd, off, mark))
		return 0;
	f->mark = *mark;
	f->mark_off = off;
	f->mark_ok = 1;
	return 1;
}

