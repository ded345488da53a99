/*
 * print.c - tfoctl status output (tfoctl only): the table for people and
 * the JSON document with stable field names for scripts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "tools/tfoctl/tfoctl.h"

/* human_dur - "3d4h", "2h5m", "4m10s", "12s", "-" */
static const char *
human_dur(double s, char *buf, size_t bufsz)
{
	unsigned long v = s > 0 ? (unsigned long)s : 0;

	if (s <= 0)
		snprintf(buf, bufsz, "-");
	else if (v >= 86400)
		snprintf(buf, bufsz, "%lud%luh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(buf, bufsz, "%luh%lum", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		snprintf(buf, bufsz, "%lum%lus", v / 60, v % 60);
	else
		snprintf(buf, bufsz, "%.1fs", s);
	return buf;
}

#define EXIT_COL 28                /* the LAST EXIT column */

/*
 * print_exit - "<reason> at <time>" for the LAST EXIT column; a reason too
 * long for it (a stall's why, a seccomp violation's call) shows its first
 * word there and whole on a line of its own (*full set)
 */
static void
print_exit(const Tfo__V1__LastExit *le, char *buf, size_t bufsz, int *full)
{
	char when[32];
	struct tm tm;
	time_t t;
	size_t n;

	*full = 0;
	if (le == NULL || le->at == 0) {
		snprintf(buf, bufsz, "-");
		return;
	}
	t = (time_t)le->at;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	n = strlen(le->reason);
	if (n + strlen(when) + 4 <= EXIT_COL) {
		snprintf(buf, bufsz, "%s at %s", le->reason, when);
		return;
	}
	*full = 1;
	n = strcspn(le->reason, ": (");
	snprintf(buf, bufsz, "%.*s... at %s", (int)(n < 12 ? n : 12), le->reason, when);
}

void
tfoctl_print_table(FILE *fp, const Tfo__V1__SupervisorStatus *st)
{
	char up[32], wup[32], next[32], ex[96], rs[24];
	int full;

	fprintf(fp, "* tfo-supervisor %s - pid %u, up %s\n  config: %s\n  status: %s\n\n",
	    st->version, st->pid, human_dur(st->uptime_s, up, sizeof(up)), st->config,
	    st->summary[0] ? st->summary : "-");
	fprintf(fp, "%-10s %-9s %-7s %-14s %-8s %-8s %-28s %-6s %s\n", "ROLE", "STATE",
	    "PID", "USER", "UPTIME", "RESTARTS", "LAST EXIT", "NEXT", "SANDBOX");
	for (size_t i = 0; i < st->n_workers; i++) {
		const Tfo__V1__WorkerStatus *w = st->workers[i];
		const Tfo__V1__Sandbox *sb = w->sandbox;
		char pid[16];

		snprintf(pid, sizeof(pid), "%u", w->pid);
		snprintf(rs, sizeof(rs), "%u/%u", w->restarts, w->restarts_in_window);
		print_exit(w->last_exit, ex, sizeof(ex), &full);
		fprintf(fp, "%-10s %-9s %-7s %-14s %-8s %-8s %-28s %-6s ", w->role, w->state,
		    w->pid ? pid : "-", w->user, human_dur(w->uptime_s, wup, sizeof(wup)), rs,
		    ex, human_dur(w->next_restart_in_s, next, sizeof(next)));
		/* landlock last: its text has spaces ("abi 7: fs net scope") */
		if (sb && w->pid)
			fprintf(fp, "nnp=%d seccomp=%s caps=%s landlock=%s\n", sb->no_new_privs,
			    sb->seccomp, sb->cap_eff[0] ? sb->cap_eff : "?",
			    sb->landlock[0] ? sb->landlock : "?");
		else
			fprintf(fp, "-\n");
		if (full)
			fprintf(fp, "%12s %s\n", "last exit:", w->last_exit->reason);
		if (w->n_stats) {
			fprintf(fp, "%12s", "stats:");
			for (size_t k = 0; k < w->n_stats; k++) {
				const Tfo__V1__Stat *s = w->stats[k];
				if (s->text[0])
					fprintf(fp, " %s=%s", s->name, s->text);
				else
					fprintf(fp, " %s=%g", s->name, s->value);
			}
			fputc('\n', fp);
		}
	}
}

static cJSON *
worker_json(const Tfo__V1__WorkerStatus *w)
{
	cJSON *o = cJSON_CreateObject(), *le, *sb, *stats, *rr;
	const Tfo__V1__LastExit *x = w->last_exit;
	char inc[24];
	char started[24];
	const Tfo__V1__Sandbox *s = w->sandbox;

	cJSON_AddStringToObject(o, "role", w->role);
	cJSON_AddStringToObject(o, "state", w->state);
	cJSON_AddNumberToObject(o, "pid", w->pid);
	cJSON_AddStringToObject(o, "user", w->user);
	cJSON_AddNumberToObject(o, "uid", w->uid);
	cJSON_AddNumberToObject(o, "uptime_s", w->uptime_s);
	cJSON_AddNumberToObject(o, "restarts", w->restarts);
	cJSON_AddNumberToObject(o, "restarts_in_window", w->restarts_in_window);
	cJSON_AddNumberToObject(o, "pings", (double)w->pings);
	cJSON_AddNumberToObject(o, "idle_looks", (double)w->idle_looks);
	/* a string: a JSON number (a double) does not hold every uint64 */
	snprintf(inc, sizeof(inc), "%llu", (unsigned long long)w->incarnation);
	cJSON_AddStringToObject(o, "incarnation", inc);
	rr = cJSON_AddObjectToObject(o, "restart_reasons");
	for (size_t k = 0; k < w->n_restart_reasons; k++)
		cJSON_AddNumberToObject(rr, w->restart_reasons[k]->name, w->restart_reasons[k]->value);
	/* a string: nanoseconds do not fit a JSON number exactly */
	snprintf(started, sizeof(started), "%llu", (unsigned long long)w->started_unix_nano);
	cJSON_AddStringToObject(o, "started_unix_nano", started);
	le = cJSON_AddObjectToObject(o, "last_exit");
	cJSON_AddStringToObject(le, "reason", x ? x->reason : "");
	cJSON_AddNumberToObject(le, "code", x ? x->code : 0);
	cJSON_AddStringToObject(le, "signal", x ? x->signal : "");
	cJSON_AddNumberToObject(le, "at", x ? (double)x->at : 0);
	cJSON_AddNumberToObject(o, "next_restart_in_s", w->next_restart_in_s);
	sb = cJSON_AddObjectToObject(o, "sandbox");
	cJSON_AddBoolToObject(sb, "no_new_privs", s ? s->no_new_privs : 0);
	cJSON_AddStringToObject(sb, "seccomp", s ? s->seccomp : "");
	cJSON_AddStringToObject(sb, "cap_eff", s ? s->cap_eff : "");
	cJSON_AddStringToObject(sb, "landlock", s ? s->landlock : "");
	stats = cJSON_AddObjectToObject(o, "stats");
	for (size_t k = 0; k < w->n_stats; k++) {
		const Tfo__V1__Stat *st = w->stats[k];
		if (st->text[0])
			cJSON_AddStringToObject(stats, st->name, st->text);
		else
			cJSON_AddNumberToObject(stats, st->name, st->value);
	}
	return o;
}

int
tfoctl_print_json(FILE *fp, const Tfo__V1__SupervisorStatus *st)
{
	cJSON *root = cJSON_CreateObject(), *sv, *ws;
	char *text, started[24];

	if (root == NULL)
		return 1;
	sv = cJSON_AddObjectToObject(root, "supervisor");
	cJSON_AddNumberToObject(sv, "pid", st->pid);
	cJSON_AddStringToObject(sv, "version", st->version);
	cJSON_AddStringToObject(sv, "config", st->config);
	cJSON_AddStringToObject(sv, "summary", st->summary);
	cJSON_AddNumberToObject(sv, "uptime_s", st->uptime_s);
	snprintf(started, sizeof(started), "%llu", (unsigned long long)st->started_unix_nano);
	cJSON_AddStringToObject(sv, "started_unix_nano", started);
	ws = cJSON_AddArrayToObject(root, "workers");
	for (size_t i = 0; i < st->n_workers; i++)
		cJSON_AddItemToArray(ws, worker_json(st->workers[i]));
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		return 1;
	fprintf(fp, "%s\n", text);
	cJSON_free(text);
	return 0;
}
