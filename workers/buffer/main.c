/*
 * main.c - tfo-buffer, the durable LevelDB queue between the collectors
 * (ingest channel) and the exporter (export channel). Runs as tfo-buffer and
 * writes only its state directory. DESIGN §3-§4, docs/buffer.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/worker.h"
#include "workers/buffer/chan.h"
#include "workers/buffer/dispatch.h"
#include "workers/buffer/statedir.h"
#include "workers/buffer/store.h"

#define INGEST_CTXS 64             /* concurrent puts: one group commit at most */
#define EXPORT_CTXS 4
#define TICK_MIN_MS 1000
#define TICK_MAX_MS 60000
#define COMPACT_MS 60000           /* consumed ranges compacted once a minute (paced) */
#define DEFAULT_MAX_MB 100
#define DEFAULT_MAX_AGE_MS (24ull * 3600 * 1000)
#define OPEN_RETRY_MS 1000         /* a store with no room to open: tried again this often */
#define OPEN_LOG_EVERY 60          /* ... and said so at the first try and every 60th */

struct buffer {
	struct tfo_worker *w;
	char dir[PATH_MAX];
	char db[PATH_MAX];
	struct tfo_store *st;
	struct buffer_counters cnt;
	struct bqueue q;
	int q_ok;
	struct bchan ingest, export;
	struct event *ev_q, *ev_tick, *ev_retry;
	char reserve[PATH_MAX];
	uint32_t tick_ms;
	uint64_t last_group;       /* requests answered by the last commit */
	uint32_t export_pipe;      /* the exporter connection the batches in flight went to */
	int leaving;               /* orphaned stop: waiting for the exporter to go */
	struct event *ev_leave;    /* its deadline */
	const Tfo__V1__WorkerConfig *cfg;
	struct event *ev_open;     /* the store's next open while its disk has no room */
	uint64_t open_waits;       /* opens refused for lack of room, this run */
	uint64_t open_free;        /* free bytes of its filesystem at the last refusal */
	uint32_t open_idle;        /* retries skipped since, the free space unchanged */
	char open_why[400];        /* why, for tfoctl status while it lasts */
};

static const int buffer_caps[] = { -1 };

static void leave(struct buffer *b);

/* ------------------------------------------------------------------ setup */

static int
buffer_pre_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct buffer *b = arg;
	const char *path;
	char err[1024];

	b->w = w;
	if (cfg->section_case != TFO__V1__WORKER_CONFIG__SECTION_BUFFER ||
	    cfg->buffer->path == NULL || cfg->buffer->path[0] != '/') {
		log_error("config: buffer.path must be an absolute path");
		return -1;
	}
	path = cfg->buffer->path;
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s", path) >= sizeof(b->dir) ||
	    (size_t)snprintf(b->db, sizeof(b->db), "%s/queue", path) >= sizeof(b->db) ||
	    (size_t)snprintf(b->reserve, sizeof(b->reserve), "%s/reserve", path) >=
	    sizeof(b->reserve)) {
		log_error("config: buffer.path too long");
		return -1;
	}
	/* what LevelDB makes is the role user's alone, whatever umask we got */
	umask(077);
	if (buffer_statedir_prepare(b->dir, geteuid() == 0 && cfg->drop_privileges, cfg->uid,
	    cfg->gid, err, sizeof(err)) != 0) {
		log_error("buffer.path: %s", err);
		return -1;
	}
	tfo_worker_landlock_rw(w, b->dir);
	if (cfg->runtime_dir && cfg->runtime_dir[0])
		tfo_worker_landlock_rw(w, cfg->runtime_dir);
	return 0;
}

/*
 * age_tick_ms - how often the age bound is applied: a sixtieth of max_age (an
 * entry outlives it by under 2 %), between 1 s and 60 s. With the default
 * day an idle buffer wakes once a minute for it, not every second: those
 * wake-ups were about a third of an idle buffer's CPU.
 */
static uint32_t
age_tick_ms(uint64_t max_age_ms)
{
	uint64_t ms = max_age_ms / 60;

	return ms < TICK_MIN_MS ? TICK_MIN_MS : ms > TICK_MAX_MS ? TICK_MAX_MS : (uint32_t)ms;
}

/* fs_free - free bytes of the store's filesystem (0 unknown) */
static uint64_t
fs_free(const struct buffer *b)
{
	struct statvfs v;

	return statvfs(b->dir, &v) == 0 ? (uint64_t)v.f_bavail * v.f_frsize : 0;
}

/* open_store - 0 open; 1 no room on its filesystem (b->open_why says so;
 * logged at the first try and every OPEN_LOG_EVERY-th); -1 any other failure */
static int
open_store(struct buffer *b, const Tfo__V1__BufferConfig *bc)
{
	struct tfo_store_opts o = { .path = b->db, .reserve_path = b->reserve };
	struct tfo_store_stats s;
	enum tfo_err e;
	char err[512];

	o.max_bytes = (bc->max_size_mb ? bc->max_size_mb : DEFAULT_MAX_MB) << 20;
	o.max_age_ms = bc->max_age_ms ? bc->max_age_ms : DEFAULT_MAX_AGE_MS;
	o.sync = bc->sync;
	b->tick_ms = age_tick_ms(o.max_age_ms);
	if ((b->st = tfo_store_open(&o, &e, err, sizeof(err))) == NULL) {
		if (e == TFO_EAGAIN && tfo_store_no_room(err)) {
			snprintf(b->open_why, sizeof(b->open_why), "disk full at %.160s: the store "
			    "cannot open, waiting for room (%.120s)", b->dir, err);
			b->open_free = fs_free(b);
			b->open_idle = 0;
			if (b->open_waits++ % OPEN_LOG_EVERY == 0)
				log_error("store %s: no room to open it (%s): waiting for room, "
				    "tried again as room changes (%llu times so far)", b->db, err,
				    (unsigned long long)b->open_waits);
			return 1;
		}
		if (e == TFO_EVERSION)      /* the reason names the store and both formats */
			log_error("%s", err);
		else
			log_error("store %s: %s: %s", b->db, tfo_strerror(e), err);
		return -1;
	}
	if (b->open_waits > 0)
		log_info("store %s: opened after %llu tries without room", b->db,
		    (unsigned long long)b->open_waits);
	b->open_why[0] = '\0';
	tfo_store_get_stats(b->st, &s);
	if (s.quarantine[0])
		log_error("store: %s", s.quarantine);
	log_info("store %s open: %llu metrics + %llu logs entries queued, max %llu MiB, "
	    "max age %llu s, sync %s", b->db, (unsigned long long)s.entries[1],
	    (unsigned long long)s.entries[2], (unsigned long long)(o.max_bytes >> 20),
	    (unsigned long long)(o.max_age_ms / 1000), o.sync ? "on" : "off");
	return 0;
}

/* ------------------------------------------------------------------ loop */

/* retry_arm - a failing store writes its pending batch again when due (the
 * store logs the failure once, then once a minute with a count) */
static void
retry_arm(struct buffer *b)
{
	int64_t ms = tfo_store_retry_ms(b->st);
	struct timeval tv;

	if (ms < 0)
		return;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(b->ev_retry, &tv);
}

/* held - the loop was held since t0 (a commit's fsync on a slow disk, a
 * compaction): the channels' health probes do not count that time against
 * their listeners (bchan_loop_away) */
#define HELD_MIN_MS 100

static void
held(struct buffer *b, uint64_t t0)
{
	uint64_t ms = tfo_ipc_mono_ms() - t0;

	if (ms < HELD_MIN_MS)
		return;
	bchan_loop_away(&b->ingest, ms);
	bchan_loop_away(&b->export, ms);
}

/* commit_group - write what is pending; 0 ok, -1 not written (err says why;
 * a retry armed while the store fails) */
static int
commit_group(struct buffer *b, char *err, size_t errlen)
{
	if (tfo_store_pending(b->st) == 0 || tfo_store_commit(b->st, err, errlen) == TFO_OK)
		return 0;
	retry_arm(b);
	return -1;
}

/* heal - write what is pending, or reopen a store a failed write left to
 * reopen with nothing pending (its puts were taken back): from the timers */
static void
heal(struct buffer *b)
{
	char err[256];

	if (tfo_store_commit(b->st, err, sizeof(err)) != TFO_OK)
		retry_arm(b);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	uint64_t t0 = tfo_ipc_mono_ms();

	(void)fd;
	(void)what;
	heal(arg);
	held(arg, t0);
}

/*
 * export_owner - batches in flight are owed again when the connection they
 * went to (export_pipe, 0 = not known) is gone: its closing reported, or a
 * request from another
 * connection (the exporter redials only after closing, but nng may report
 * that close after the new connection's first Fetch: offering the next batch
 * then would break FIFO, and the late report would re-offer the new
 * connection's batches, delivering them twice).
 */
static void
export_owner(struct buffer *b, const uint32_t *gone, size_t ngone, const struct bctx *c)
{
	uint32_t pipe;

	for (size_t i = 0; c == NULL && i < ngone; i++)
		if (b->export_pipe == 0 || gone[i] == 0 || gone[i] == b->export_pipe) {
			log_info("export: exporter disconnected: batches in flight will be "
			    "offered again");
			tfo_store_reoffer_all(b->st);
			b->export_pipe = 0;
		}
	if (c == NULL || (pipe = bctx_pipe(c)) == 0 || pipe == b->export_pipe)
		return;
	if (b->export_pipe != 0) {
		log_info("export: new exporter connection: batches in flight will be offered "
		    "again");
		tfo_store_reoffer_all(b->st);
	}
	b->export_pipe = pipe;
}

/* reply_alloc / reply_release - export replies are packed into the nng
 * message that carries them (dispatch.h: struct buffer_reply_mem) */
static uint8_t *
reply_alloc(void *arg, size_t len)
{
	return bctx_reply_buf(arg, len);
}

static void
reply_release(void *arg, uint8_t *buf)
{
	(void)buf;
	bctx_reply_drop(arg);
}

/*
 * on_queue - every request nng completed since the last wake-up: dispatch them
 * all, write their mutations in ONE batch (one fsync), then answer. Requests
 * that arrive during the fsync form the next group.
 */
static void
on_queue(evutil_socket_t fd, short what, void *arg)
{
	struct buffer *b = arg;
	struct bctx *list, *c, *group = NULL, **gtail = &group;
	uint32_t gone[BQUEUE_GONE_MAX];
	uint64_t t0 = tfo_ipc_mono_ms();
	size_t ngone;
	int ok;
	char err[256];

	(void)fd;
	(void)what;
	list = bqueue_take(&b->q, gone, &ngone);
	export_owner(b, gone, ngone, NULL);
	while ((c = list) != NULL) {
		struct buffer_reply r;
		list = c->next;
		if (c->ch->ingest)
			buffer_ingest_dispatch(b->st, &b->cnt, bctx_peer(c),
			    nng_msg_body(c->req), nng_msg_len(c->req), &r);
		else {
			struct buffer_reply_mem mem = { reply_alloc, reply_release, c };
			export_owner(b, NULL, 0, c);
			buffer_export_dispatch(b->st, &b->cnt, nng_msg_body(c->req),
			    nng_msg_len(c->req), &mem, &r);
		}
		if (!r.after_commit) {
			bctx_reply(c, r.buf, r.len);
			buffer_reply_free(&r);
			continue;
		}
		/* Keep the packed reply on the context until the commit. */
		nng_msg_clear(c->req);
		if (r.buf && nng_msg_append(c->req, r.buf, r.len) != 0)
			nng_msg_clear(c->req);
		buffer_reply_free(&r);
		c->next = NULL;
		*gtail = c;
		gtail = &c->next;
	}
	ok = commit_group(b, err, sizeof(err)) == 0;
	b->last_group = 0;
	while ((c = group) != NULL) {
		group = c->next;
		b->last_group++;
		/* Not written: the puts stay staged in the store and their resends
		 * (the same seq) are answered once it is written: Busy tells the
		 * collector to send again. An ack stays acked in memory (the
		 * delete is retried; the batch is never offered again): Done. */
		if (!ok && c->ch->ingest) {
			struct buffer_reply r = { 0 };
			const char *why = tfo_store_status(b->st);
			buffer_reply_busy(&r, TFO_STORE_BUSY_RETRY_MS, why[0] ? why : err);
			bctx_reply(c, r.buf, r.len);
			buffer_reply_free(&r);
		} else if (nng_msg_len(c->req) > 0)
			bctx_reply_req(c);
		else
			bctx_reply(c, NULL, 0);     /* out of memory: the peer resends */
	}
	/* answered first: the compaction holds the loop for a few ms. Due, and
	 * the ack just written emptied the queue: nothing live is rewritten. */
	if (ok)
		(void)tfo_store_compact_paced(b->st, COMPACT_MS);
	held(b, t0);
	if (b->leaving && b->export_pipe == 0)
		leave(b);               /* orphaned: the exporter has gone */
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct buffer *b = arg;
	uint64_t t0 = tfo_ipc_mono_ms();
	size_t n;

	(void)fd;
	(void)what;
	if ((n = tfo_store_expire(b->st)) > 0)
		log_warn("store: %zu entries older than max_age dropped", n);
	heal(b);
	tfo_store_maintain(b->st);
	tfo_store_flush_logs(b->st);
	(void)tfo_store_compact_paced(b->st, COMPACT_MS);
	held(b, t0);
}


static int
open_channels(struct buffer *b, const Tfo__V1__WorkerConfig *cfg)
{
	uint32_t roles[TFO_IPC_MAX_PEERS];
	int rv;

	if (!cfg->ingest_url || !cfg->ingest_url[0] || !cfg->export_url || !cfg->export_url[0]) {
		log_error("config: ingest_url and export_url are required");
		return -1;
	}
	if (cfg->n_ingest_peer_roles != cfg->n_ingest_peer_uids ||
	    cfg->n_ingest_peer_uids > TFO_IPC_MAX_PEERS) {
		log_error("config: %zu ingest peer uids and %zu roles", cfg->n_ingest_peer_uids,
		    cfg->n_ingest_peer_roles);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_ingest_peer_roles; i++)
		roles[i] = (uint32_t)cfg->ingest_peer_roles[i];
	rv = bchan_open(&b->ingest, &b->q, "ingest", 1, cfg->ingest_url, BUFFER_INGEST_MAX,
	    cfg->ingest_peer_uids, roles, cfg->n_ingest_peer_uids, INGEST_CTXS, 0);
	if (rv != 0) {
		log_error("ingest: listen %s: %s", cfg->ingest_url, nng_strerror(rv));
		return -1;
	}
	rv = bchan_open(&b->export, &b->q, "export", 0, cfg->export_url, BUFFER_EXPORT_MAX,
	    &cfg->export_peer_uid, NULL, 1, EXPORT_CTXS, 1);
	if (rv != 0) {
		log_error("export: listen %s: %s", cfg->export_url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* store_ready - the store is open: its timer, then the channels */
static int
store_ready(struct buffer *b)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(b->tick_ms / 1000);
	tv.tv_usec = (suseconds_t)(b->tick_ms % 1000) * 1000;
	if (event_add(b->ev_tick, &tv) != 0) {
		log_error("event setup failed");
		return -1;
	}
	return open_channels(b, b->cfg);
}

static void
open_retry_arm(struct buffer *b)
{
	struct timeval tv = { OPEN_RETRY_MS / 1000, (OPEN_RETRY_MS % 1000) * 1000 };

	evtimer_add(b->ev_open, &tv);
}

static void
on_open_retry(evutil_socket_t fd, short what, void *arg)
{
	struct buffer *b = arg;
	int r;

	(void)fd;
	(void)what;
	if (b->leaving)
		return;
	/* A failed open is tried again once the free space moved (or a minute
	 * on): not every second into a disk that has not changed */
	if (fs_free(b) == b->open_free && ++b->open_idle < OPEN_LOG_EVERY) {
		open_retry_arm(b);
		return;
	}
	if ((r = open_store(b, b->cfg->buffer)) > 0)
		open_retry_arm(b);
	else if (r < 0 || store_ready(b) != 0)
		tfo_worker_exit(b->w, 1);
}

/*
 * buffer_post_init - the store, its timers, the channels. A store that has no
 * room to open (a disk filled while the agent was stopped, or by another
 * writer that takes every byte freed: LevelDB writes at every open, the
 * reserve may already be spent) is no failed start: exiting, the buffer was
 * restarted as a bad start until the supervisor gave the agent up (more than
 * 5 in 300 s) and stopped every collector. It is Ready and tries again once
 * the free space moved; the channels open with the store, and meanwhile the collectors keep
 * what they have (tfo-logs its files) and the exporter waits for it.
 */
static int
buffer_post_init(struct tfo_worker *w, const Tfo__V1__WorkerConfig *cfg, void *arg)
{
	struct buffer *b = arg;
	struct event_base *base = tfo_worker_base(w);
	int r;

	b->cfg = cfg;
	if (bqueue_init(&b->q) != 0) {
		log_error("eventfd: %s", strerror(errno));
		return -1;
	}
	b->q_ok = 1;
	b->ev_q = event_new(base, b->q.efd, EV_READ | EV_PERSIST, on_queue, b);
	b->ev_tick = event_new(base, -1, EV_PERSIST, on_tick, b);
	b->ev_retry = evtimer_new(base, on_retry, b);
	b->ev_open = evtimer_new(base, on_open_retry, b);
	if (!b->ev_q || !b->ev_tick || !b->ev_retry || !b->ev_open || event_add(b->ev_q, NULL)) {
		log_error("event setup failed");
		return -1;
	}
	if ((r = open_store(b, cfg->buffer)) < 0)
		return -1;
	if (r > 0) {
		open_retry_arm(b);
		return 0;
	}
	return store_ready(b);
}

/* ------------------------------------------------------------------ teardown */

static void
close_channels(struct buffer *b)
{
	if (!b->q_ok)
		return;
	bchan_close(&b->ingest);
	bchan_close(&b->export);
	bqueue_discard(&b->q);
}

/* leave - close the channels, write what is staged, exit */
static void
leave(struct buffer *b)
{
	char err[256];

	/* Requests not yet answered are resent by their peers to the next buffer. */
	close_channels(b);
	if (b->st && commit_group(b, err, sizeof(err)) != 0)
		log_error("store: stopping with writes failing (%s): deletions of acked batches "
		    "not written, those batches are offered again at the next start", err);
	tfo_worker_exit(b->w, 0);
}

static void
on_leave_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_warn("supervisor gone: the exporter is still connected at the deadline");
	leave(arg);
}

/*
 * buffer_shutdown - at a stop the exporter has already gone (the supervisor
 * stops the buffer last). Orphaned (the supervisor killed), the exporter is
 * settling what it has in flight: its acks are served until it leaves (its
 * connection's close), or the deadline, so no delivered batch is sent again.
 */
static void
buffer_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	struct buffer *b = arg;
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };

	if (tfo_worker_orphaned(w) && b->export_pipe != 0 && b->st != NULL &&
	    (b->ev_leave = evtimer_new(tfo_worker_base(w), on_leave_deadline, b)) != NULL &&
	    evtimer_add(b->ev_leave, &tv) == 0) {
		log_info("supervisor gone: serving the exporter until it leaves");
		b->leaving = 1;
		return;
	}
	leave(b);
}

static void
buffer_fini(struct tfo_worker *w, void *arg)
{
	struct buffer *b = arg;

	(void)w;
	close_channels(b);
	if (b->ev_leave)
		event_free(b->ev_leave);
	if (b->ev_q)
		event_free(b->ev_q);
	if (b->ev_tick)
		event_free(b->ev_tick);
	if (b->ev_retry)
		event_free(b->ev_retry);
	if (b->ev_open)
		event_free(b->ev_open);
	if (b->q_ok)
		bqueue_fini(&b->q);
	tfo_store_close(b->st);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ stats */

/* channel_stats - "<channel>.send_timeouts", ".relistens", ".probes", ".probes_failed" */
static void
channel_stats(struct tfo_stats *ts, const struct bchan *ch)
{
	struct bchan_counters c;
	char name[64];

	if (!ch->open)
		return;
	bchan_counters(ch, &c);
	snprintf(name, sizeof(name), "%s.send_timeouts", ch->name);
	tfo_stats_num(ts, name, (double)c.send_timeouts);
	snprintf(name, sizeof(name), "%s.relistens", ch->name);
	tfo_stats_num(ts, name, (double)c.relistens);
	snprintf(name, sizeof(name), "%s.probes", ch->name);
	tfo_stats_num(ts, name, (double)c.probes);
	snprintf(name, sizeof(name), "%s.probes_failed", ch->name);
	tfo_stats_num(ts, name, (double)c.probes_failed);
}

/* buffer_health - at each ping: each channel's health probe (chan.c); the
 * longer stall of the two, both named */
static uint64_t
buffer_health(struct tfo_worker *w, char *why, size_t len, void *arg)
{
	struct buffer *b = arg;
	uint64_t now = tfo_ipc_mono_ms(), in, ex;
	char wi[160], we[160];

	(void)w;
	if (!b->q_ok)
		return 0;
	in = bchan_health(&b->ingest, now, wi, sizeof(wi));
	ex = bchan_health(&b->export, now, we, sizeof(we));
	snprintf(why, len, "%s%s%s", wi, wi[0] && we[0] ? "; " : "", we);
	return in > ex ? in : ex;
}

static void
buffer_stats(struct tfo_worker *w, struct tfo_stats *ts, void *arg)
{
	static const char *const sig[TFO_STORE_NSIG] = { "any", "metrics", "logs" };
	struct buffer *b = arg;
	struct tfo_store_stats s;
	char name[64];

	(void)w;
	if (b->st == NULL) {
		tfo_stats_text(ts, "status", b->open_why);
		tfo_stats_num(ts, "open_waits", (double)b->open_waits);
		return;
	}
	tfo_stats_num(ts, "open_waits", (double)b->open_waits);
	tfo_store_get_stats(b->st, &s);
	for (uint32_t i = 1; i < TFO_STORE_NSIG; i++) {
		snprintf(name, sizeof(name), "%s.entries", sig[i]);
		tfo_stats_num(ts, name, (double)s.entries[i]);
		snprintf(name, sizeof(name), "%s.bytes", sig[i]);
		tfo_stats_num(ts, name, (double)s.bytes[i]);
		snprintf(name, sizeof(name), "%s.oldest_age_s", sig[i]);
		tfo_stats_num(ts, name, s.oldest_age_sig_s[i]);
		for (int r = 0; r < TFO_DROP_NREASONS; r++) {
			snprintf(name, sizeof(name), "%s.drops.%s", sig[i],
			    tfo_store_drop_reason_name((enum tfo_drop_reason)r));
			tfo_stats_num(ts, name, (double)s.drops[i][r]);
		}
		snprintf(name, sizeof(name), "%s.dropped_points", sig[i]);
		tfo_stats_num(ts, name, (double)s.drop_points[i]);
		snprintf(name, sizeof(name), "%s.dropped_points_in_flight", sig[i]);
		tfo_stats_num(ts, name, (double)s.drop_points_in_flight[i]);
	}
	/* what each putting role holds and lost: the bound is shared per role
	 * (unattributed: entries of a store from before format 3) */
	static const char *const role[] = { "unattributed", "system", "process", "logs" };
	for (int r = 0; r < (int)(sizeof(role) / sizeof(role[0])); r++) {
		if (r == 0 && s.role_bytes[0] == 0 && s.role_drops[0] == 0)
			continue;
		snprintf(name, sizeof(name), "role.%s.bytes", role[r]);
		tfo_stats_num(ts, name, (double)s.role_bytes[r]);
		snprintf(name, sizeof(name), "role.%s.drops", role[r]);
		tfo_stats_num(ts, name, (double)s.role_drops[r]);
	}
	tfo_stats_num(ts, "oldest_age_s", s.oldest_age_s);
	tfo_stats_num(ts, "puts", (double)s.puts);
	tfo_stats_num(ts, "dup_puts", (double)s.dup_puts);
	tfo_stats_num(ts, "dup_gaps", (double)s.dup_gaps);
	tfo_stats_num(ts, "busy", (double)s.busy);
	tfo_stats_num(ts, "points_in", (double)s.points_in);
	tfo_stats_num(ts, "fetches", (double)s.fetches);
	tfo_stats_num(ts, "acks", (double)s.acks);
	tfo_stats_num(ts, "nacks", (double)s.nacks);
	tfo_stats_num(ts, "reoffers", (double)s.reoffers);
	tfo_stats_num(ts, "commits", (double)s.commits);
	tfo_stats_num(ts, "commit_errors", (double)s.commit_errors);
	tfo_stats_num(ts, "last_group", (double)b->last_group);
	tfo_stats_num(ts, "last_sync_ms", (double)s.last_sync_us / 1000.0);
	tfo_stats_num(ts, "disk_bytes", (double)s.disk_bytes);
	tfo_stats_num(ts, "lz4_raw_bytes", (double)s.lz4_raw);
	tfo_stats_num(ts, "lz4_stored_bytes", (double)s.lz4_stored);
	tfo_stats_num(ts, "ingest_requests", (double)b->cnt.ingest_requests);
	tfo_stats_num(ts, "export_requests", (double)b->cnt.export_requests);
	tfo_stats_num(ts, "bad_ingest", (double)b->cnt.bad_ingest);
	tfo_stats_num(ts, "bad_export", (double)b->cnt.bad_export);
	tfo_stats_num(ts, "forged_role", (double)b->cnt.forged_role);
	tfo_stats_num(ts, "refused_peers", (double)(bchan_refused(&b->ingest) +
	    bchan_refused(&b->export)));
	tfo_stats_text(ts, "quarantine", s.quarantine);
	tfo_stats_text(ts, "status", s.status);
	tfo_stats_num(ts, "fs_free_mb", (double)s.fs_free / (1 << 20));
	tfo_stats_num(ts, "fs_bound_mb", s.fs_bound == UINT64_MAX ? -1 :
	    (double)s.fs_bound / (1 << 20));
	tfo_stats_num(ts, "reserve_held", s.reserve_held);
	tfo_stats_num(ts, "reserve_releases", (double)s.reserve_releases);
	tfo_stats_num(ts, "room_compactions", (double)s.room_compactions);
	tfo_stats_num(ts, "compactions", (double)s.compactions);
	tfo_stats_num(ts, "flushes", (double)s.flushes);
	tfo_stats_num(ts, "reopens", (double)s.reopens);
	tfo_stats_num(ts, "orphans_removed", (double)s.orphans_removed);
	tfo_stats_num(ts, "disk_scans", (double)s.disk_scans);
	tfo_stats_num(ts, "sticky_errors", (double)s.sticky_errors);
	tfo_stats_num(ts, "writes_failing", s.failing);
	tfo_stats_text(ts, "last_write_error", s.last_error);
	channel_stats(ts, &b->ingest);
	channel_stats(ts, &b->export);
}

/* buffer_status - at every Pong: the disk-full line of the supervisor's
 * STATUS=, which must not wait for the next stats */
static const char *
buffer_status(struct tfo_worker *w, void *arg)
{
	struct buffer *b = arg;

	(void)w;
	return b->st != NULL ? tfo_store_disk_status(b->st) : b->open_why;
}

int
main(int argc, char **argv)
{
	static struct buffer b;
	static const struct tfo_worker_ops ops = {
		.role = "buffer",
		.role_id = TFO__V1__ROLE__ROLE_BUFFER,
		.caps = buffer_caps,
		.pre_init = buffer_pre_init,
		.post_init = buffer_post_init,
		.shutdown = buffer_shutdown,
		.fini = buffer_fini,
		.stats = buffer_stats,
		.health = buffer_health,
		.status = buffer_status,
	};

	return tfo_worker_main(argc, argv, &ops, &b);
}
