/*
 * tfile.c - tfo-logs per-file helpers that reading (tailer.c), opening
 * (open.c), the copy searches (scan.c, copies.c), the open-file limit
 * (slots.c) and the inotify side (watch.c) share: marks, closing, and the
 * name -> file map events are looked up in.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/zarray.h"
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


/* logs_entry_mark - write e's checkpoint fingerprint: head, then the mark of its offset */
void
logs_entry_mark(struct bentry *e, int may_read)
{
	struct fprint m = { TFO_LOGS_MARK_NONE, 0 };

	if (!e->mark_pending)
		return;
	/* a file truncated since (gen) lost the bytes: no mark, so the checkpoint can
	 * never resume a file or place a copy */
	if (e->f != NULL && e->f->gen == e->gen && !logs_file_mark(e->f, e->cp.offset, may_read, &m))
		m = (struct fprint){ TFO_LOGS_MARK_NONE, 0 };
	fp_encode(&e->fp, e->cpw);
	fp_encode(&m, e->cpw + TFO_LOGS_FP_WIRE);
	e->mark_pending = 0;
}

/* logs_file_settle_marks - f is about to lose the bytes its open-batch offsets end at */
void
logs_file_settle_marks(struct tailer *t, struct tfile *f, int may_read)
{
	for (size_t i = 0; i < t->open->nbe; i++)
		if (t->open->be[i].f == f)
			logs_entry_mark(&t->open->be[i], may_read);
}

void
logs_file_close(struct tailer *t, struct tfile *f)
{
	logs_file_settle_marks(t, f, 1);
	logs_map_del(t, f);
	for (size_t i = 0; i < t->open->nbe; i++)
		if (t->open->be[i].f == f)
			t->open->be[i].f = NULL;
	for (size_t i = 0; t->fly != NULL && i < t->fly->nbe; i++)
		if (t->fly->be[i].f == f)
			t->fly->be[i].f = NULL;
	for (size_t i = 0; t->next != NULL && i < t->next->nbe; i++)
		if (t->next->be[i].f == f)
			t->next->be[i].f = NULL;
	if (f->fd >= 0)
		close(f->fd);
	lsplit_fini(&f->ls);
	mline_fini(&f->ml);
	free(f->attrs);
	free(f->path);
	free(f->cur);
	free(f);
}

enum tfo_err
logs_file_head(struct tfile *f)
{
	struct head h;
	enum tfo_err e = head_read(f->fd, &h);

	if (e != TFO_OK)
		return e;
	f->fp = (struct fprint){ h.len, h.pre[h.len] };
	memcpy(f->head, h.bytes, h.len);
	return TFO_OK;
}

void
logs_unlink_file(struct tailer *t, struct tfile *f)
{
	for (struct tfile **pf = &t->files; *pf != NULL; pf = &(*pf)->next) {
		if (*pf == f) {
			*pf = f->next;
			break;
		}
	}
	logs_file_close(t, f);
	t->st.files_open--;
	t->st.files_closed++;
}

static size_t
map_bucket(const char *name)
{
	return (size_t)(fp_hash((const uint8_t *)name, strlen(name)) % MAP_BUCKETS);
}

void
logs_map_del(struct tailer *t, struct tfile *f)
{
	if (f->cur == NULL || t->map == NULL)
		return;
	for (struct tfile **pf = &t->map[map_bucket(f->cur)]; *pf != NULL; pf = &(*pf)->hnext) {
		if (*pf == f) {
			*pf = f->hnext;
			t->nmap--;
			break;
		}
	}
	f->hnext = NULL;
}

void
logs_map_set(struct tailer *t, struct tfile *f, const char *name)
{
	char *c;
	size_t b;

	if (f->cur != NULL && strcmp(f->cur, name) == 0)
		return;
	/* from mmap: a few files touch a page or so of the 32 KiB of buckets;
	 * calloc zeroed (made resident) all of it (issue 18 §2) */
	if (t->map == NULL && (t->map = tfo_zarray_alloc(MAP_BUCKETS, sizeof(*t->map))) == NULL)
		return;         /* no map: events find nothing, the poll still works */
	if ((c = strdup(name)) == NULL)
		return;
	logs_map_del(t, f);
	free(f->cur);
	f->cur = c;
	b = map_bucket(c);
	f->hnext = t->map[b];
	t->map[b] = f;
	t->nmap++;
}

struct tfile *
logs_map_get(struct tailer *t, const char *name)
{
	if (t->map == NULL)
		return NULL;
	for (struct tfile *f = t->map[map_bucket(name)]; f != NULL; f = f->hnext)
		if (strcmp(f->cur, name) == 0)
			return f;
	return NULL;
}

int
logs_file_polled(const struct tailer *t, const struct tfile *f)
{
	const char *slash;
	size_t len;

	if (!t->inotify || f->gone || f->remote || f->via_link || f->cur == NULL ||
	    (slash = strrchr(f->cur, '/')) == NULL)
		return 1;
	len = (size_t)(slash - f->cur);
	for (size_t i = 0; t->dirs[i] != NULL; i++)
		if (t->dir_ok[i] && strlen(t->dirs[i]) == (len ? len : 1) &&
		    strncmp(t->dirs[i], len ? f->cur : "/", len ? len : 1) == 0)
			return 0;
	return 1;
}

int
tailer_fs_remote(unsigned long f_type)
{
	static const unsigned long magic[] = {
		0x6969,         /* NFS */
		0x517b,         /* SMB */
		0xff534d42,     /* CIFS */
		0xfe534d42,     /* SMB2 */
		0x65735546,     /* FUSE */
		0x01021997,     /* 9P */
		0x00c36400,     /* Ceph */
		0x5346414f,     /* AFS */
		0x794c7630,     /* overlay */
		0x0bd00bd0,     /* Lustre */
	};

	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if (f_type == magic[i])
			return 1;
	return 0;
}
