/*
 * kept.c - the detail files (status, cmdline, cgroup) of the processes the
 * last cycles reported, kept open while they stay selected (or come back
 * to the selection within PC_DET_AGE cycles): a side table of
 * a few dozen entries, so the pid table of every process stays small. Its
 * own file so calls run one way: detail.c takes entries, collect.c sweeps.
 */
#include <string.h>
#include <unistd.h>

#include "common/grow.h"
#include "workers/process/collect_int.h"

static void
det_close(struct tfo_proccol *c, struct pc_det *d)
{
	for (int k = 0; k < PC_DET_N; k++) {
		if (d->fd[k] < 0)
			continue;
		close(d->fd[k]);
		d->fd[k] = -1;
		c->nkept--;
	}
}

struct pc_det *
pc_det_get(struct tfo_proccol *c, int32_t pid, uint64_t starttime)
{
	struct pc_det *d = NULL;

	for (size_t i = 0; i < c->ndet && d == NULL; i++)
		if (c->det[i].pid == pid)
			d = &c->det[i];
	if (d != NULL && d->starttime != starttime)
		det_close(c, d);        /* the pid is another process's now */
	if (d == NULL) {
		if (tfo_grow((void **)&c->det, &c->detcap, c->ndet + 1, sizeof(*c->det), 16) != 0)
			return NULL;
		d = &c->det[c->ndet++];
		d->pid = pid;
		for (int k = 0; k < PC_DET_N; k++)
			d->fd[k] = -1;
	}
	d->starttime = starttime;
	d->gen = c->gen;
	return d;
}

struct pc_det *
pc_det_find(struct tfo_proccol *c, int32_t pid)
{
	for (size_t i = 0; i < c->ndet; i++)
		if (c->det[i].pid == pid)
			return &c->det[i];
	return NULL;
}

void
pc_det_sweep(struct tfo_proccol *c, int all)
{
	size_t keep = 0;

	for (size_t i = 0; i < c->ndet; i++) {
		if (all || c->gen - c->det[i].gen >= PC_DET_AGE) {
			det_close(c, &c->det[i]);
			continue;
		}
		c->det[keep++] = c->det[i];
	}
	c->ndet = keep;
}
