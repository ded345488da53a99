/*
 * notify.c - tfo-supervisor's systemd notification (Type=notify): READY=1
 * once every enabled worker is ready, STATUS= summary, WATCHDOG=1 from a
 * timer only while the loop runs and no ready worker is overdue on a ping.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "supervisor/sdnotify.h"
#include "supervisor/supervisor.h"

/* workers_answer - no ready worker has an unanswered ping older than the
 * hung timeout (a stuck worker stops the watchdog before it is killed); one
 * whose loop waits on the disk answers for this (a restart of the whole
 * agent would block on the same disk) */
static int
workers_answer(const struct sv *sv)
{
	int64_t now = sv_now_ms();

	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		const struct sv_worker *w = &sv->w[r];
		if (w->state == SV_READY && w->ping_nonce != 0 &&
		    now - sv_worker_alive_ms(w) > (int64_t)sv->cfg.supervisor.hung_timeout_ms)
			return 0;
	}
	return 1;
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	(void)fd;
	(void)what;
	if (workers_answer(sv))
		(void)tfo_sd_notify("WATCHDOG=1");
	else
		log_warn("watchdog: a worker does not answer pings: not petting systemd");
}

void
sv_notify_init(struct sv *sv)
{
	uint64_t usec = 0;
	struct timeval tv;

	/* Only systemd's WatchdogSec= asks for pets; without it there is none. */
	if (tfo_sd_watchdog_usec(&usec) <= 0)
		return;
	sv->watchdog_usec = usec;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	sv->ev_watchdog = event_new(sv->base, -1, EV_PERSIST, on_watchdog, sv);
	if (sv->ev_watchdog == NULL || event_add(sv->ev_watchdog, &tv) == -1)
		log_warn("watchdog: cannot arm the timer");
	else
		log_info("watchdog: petting systemd every %llu ms",
		    (unsigned long long)(usec / 1000));
}

int
sv_all_ready(const struct sv *sv, unsigned *ready, unsigned *enabled)
{
	*ready = *enabled = 0;
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		if (!sv->w[r].enabled)
			continue;
		(*enabled)++;
		if (sv->w[r].state == SV_READY)
			(*ready)++;
	}
	return *ready == *enabled;
}

/* buffer_says - the buffer's Pong.status of its last pong (its stat "status",
 * made printable when it came): fresh at every ping, not only with the stats */
static void
buffer_says(const struct sv *sv, char *buf, size_t len)
{
	const struct sv_worker *b = &sv->w[TFO_ROLE_BUFFER];

	buf[0] = '\0';
	if (b->state == SV_READY)
		sv_copy_printable(buf, len, b->said);
}

/* disk_waits - "; <role> waiting on the disk N s (how)" for each */
static void
disk_waits(const struct sv *sv, char *buf, size_t len)
{
	int64_t now = sv_now_ms();
	size_t off = 0;

	buf[0] = '\0';
	for (int r = 0; r < TFO_ROLE_COUNT && off < len; r++) {
		const struct sv_worker *w = &sv->w[r];
		int n;
		if (w->state != SV_READY || w->disk_since_ms == 0)
			continue;
		n = snprintf(buf + off, len - off, "; %s waiting on the disk %lld s (%s)",
		    tfo_role_name(w->role), (long long)((now - w->disk_since_ms) / 1000),
		    w->disk_what);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void
sv_status_line(const struct sv *sv, char *buf, size_t len)
{
	unsigned ready, enabled;
	char said[160], disk[160];

	(void)sv_all_ready(sv, &ready, &enabled);
	buffer_says(sv, said, sizeof(said));
	disk_waits(sv, disk, sizeof(disk));
	snprintf(buf, len, "%u/%u workers ready%s%s%s", ready, enabled, said[0] ? "; buffer: " : "",
	    said, disk);
}

void
sv_notify_update(struct sv *sv)
{
	unsigned ready, enabled;
	char msg[SV_STATUS_MAX + 32], line[SV_STATUS_MAX];
	int all = sv_all_ready(sv, &ready, &enabled);

	if (sv->shutdown_phase)
		return;
	sv_status_line(sv, line, sizeof(line));
	if (all && !sv->notified_ready) {
		sv->notified_ready = 1;
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", line);
		log_info("all %u workers ready", enabled);
	} else {
		snprintf(msg, sizeof(msg), "STATUS=%s", line);
		if (strcmp(msg, sv->notify_status) == 0)
			return;
	}
	snprintf(sv->notify_status, sizeof(sv->notify_status), "STATUS=%s", line);
	(void)tfo_sd_notify(msg);
}

void
sv_notify_stopping(struct sv *sv)
{
	(void)sv;
	(void)tfo_sd_notify("STOPPING=1\nSTATUS=stopping workers");
}

/* sv_notify_status - STATUS= while stopping (what the stop waits for) */
void
sv_notify_status(struct sv *sv, const char *what)
{
	char msg[128];

	(void)sv;
	snprintf(msg, sizeof(msg), "STATUS=stopping: %s", what);
	(void)tfo_sd_notify(msg);
}

void
sv_notify_fini(struct sv *sv)
{
	if (sv->ev_watchdog) {
		event_free(sv->ev_watchdog);
		sv->ev_watchdog = NULL;
	}
}
