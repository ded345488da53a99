/*
 * sigsys.c - tfo-supervisor: which system call a worker killed by seccomp
 * (SIGSYS) attempted. The kernel's audit record (type=1326) is read back
 * from /dev/kmsg when readable (no auditd, no ProtectKernelLogs); the record
 * is kernel text but names a process the worker controls: parsed as hostile.
 * Pids are reused (pid_max 32768 wraps quickly on a busy host) and the ring
 * keeps records of long-gone processes: a record counts only if it is no
 * older than this spawn and names the role's executable.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

#define KMSG_REC_MAX 8192      /* one /dev/kmsg record at most */
#define KMSG_MAX_RECORDS 100000

/* field_num - decimal value of " name=<digits>" in s[0..len), -1 if absent */
static long
field_num(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 2 <= len; i++) {
		long v = 0;
		size_t k;

		if (s[i] != ' ' || memcmp(s + i + 1, name, nl) != 0 || s[i + 1 + nl] != '=')
			continue;
		for (k = i + nl + 2; k < len && s[k] >= '0' && s[k] <= '9'; k++) {
			if (v > 100000000)
				return -1;
			v = v * 10 + (s[k] - '0');
		}
		if (k == i + nl + 2 || (k < len && s[k] != ' ' && s[k] != '\n'))
			return -1;
		return v;
	}
	return -1;
}

/* stamp_ms - "audit(<sec>.<msec>:<serial>)" at s: the record's time in ms */
static int
stamp_ms(const char *s, size_t len, int64_t *ms)
{
	int64_t sec = 0, frac = 0;
	size_t i = 6, k;

	if (len < 6 || memcmp(s, "audit(", 6) != 0)
		return -1;
	for (k = i; i < len && s[i] >= '0' && s[i] <= '9' && i - k < 12; i++)
		sec = sec * 10 + (s[i] - '0');
	if (i == k || i >= len || s[i++] != '.')
		return -1;
	for (k = i; i < len && s[i] >= '0' && s[i] <= '9' && i - k < 3; i++)
		frac = frac * 10 + (s[i] - '0');
	if (i - k != 3 || i >= len || s[i] != ':')
		return -1;
	*ms = sec * 1000 + frac;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* exe_value - the exe= value at s, as audit wrote it: "quoted" when plain,
 * hex when it holds a space, quote or control byte; 0 with out NUL-ended */
static int
exe_value(const char *s, size_t len, char *out, size_t outsz)
{
	size_t n = 0, i;

	if (len > 0 && s[0] == '"') {
		for (i = 1; i < len && s[i] != '"'; i++) {
			if (n + 1 >= outsz)
				return -1;
			out[n++] = s[i];
		}
		if (i >= len)
			return -1;
	} else {
		for (i = 0; i + 1 < len && s[i] != ' ' && s[i] != '\n'; i += 2) {
			int hi = hexval(s[i]), lo = hexval(s[i + 1]);
			if (hi < 0 || lo < 0 || n + 1 >= outsz)
				return -1;
			out[n++] = (char)(hi << 4 | lo);
		}
		if (n == 0 || (i < len && s[i] != ' ' && s[i] != '\n'))
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/* exe_matches - the record's exe= (searched after comm=, whose value cannot
 * hold a space) is want, or want replaced since the spawn ("... (deleted)") */
static int
exe_matches(const char *s, size_t len, const char *want)
{
	static const char deleted[] = " (deleted)";
	const char *e = memmem(s, len, " exe=", 5);
	char got[PATH_MAX + sizeof(deleted)];
	size_t wl = strlen(want), gl;

	if (e == NULL || exe_value(e + 5, len - (size_t)(e + 5 - s), got, sizeof(got)) == -1)
		return 0;
	gl = strlen(got);
	if (gl == wl)
		return memcmp(got, want, wl) == 0;
	return gl == wl + sizeof(deleted) - 1 && memcmp(got, want, wl) == 0 &&
	    strcmp(got + wl, deleted) == 0;
}

int
sv_kmsg_seccomp_parse(const char *rec, size_t len, const struct sv_audit_match *m, long *nr)
{
	const char *msg = memchr(rec, ';', len);
	const char *comm;
	size_t mlen, head;
	int64_t at;
	long sys;

	if (msg == NULL)
		return -1;
	msg++;
	mlen = len - (size_t)(msg - rec);
	/* "audit: type=1326 audit(<sec>.<ms>:<serial>): ... pid=N comm=...
	 * exe=... sig=31 ... syscall=N ..."; comm and exe are escaped by audit
	 * (no spaces), and pid is taken only from before comm= */
	if (mlen < 17 || memcmp(msg, "audit: type=1326 ", 17) != 0)
		return -1;
	if (stamp_ms(msg + 17, mlen - 17, &at) == -1 || at < m->since_ms)
		return -1;
	comm = memmem(msg, mlen, " comm=", 6);
	if (comm == NULL)
		return -1;
	head = (size_t)(comm - msg);
	if (field_num(msg, head, "pid") != (long)m->pid || field_num(msg, mlen, "sig") != 31)
		return -1;
	if (!exe_matches(comm + 6, mlen - head - 6, m->exe))
		return -1;
	if ((sys = field_num(msg, mlen, "syscall")) < 0)
		return -1;
	*nr = sys;
	return 0;
}

int64_t
sv_audit_clock_ms(void)
{
	struct timespec ts;

	/* the clock audit stamps its records with (ktime_get_coarse_real) */
	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long
sv_sigsys_syscall(const struct sv_audit_match *m)
{
	char *rec = malloc(KMSG_REC_MAX);
	long nr = -1, found;
	ssize_t n;
	int fd, i = 0;

	if (rec == NULL)
		return -1;
	if ((fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		free(rec);
		return -1;
	}
	/* every record still in the ring; the last match is this death */
	while (i++ < KMSG_MAX_RECORDS) {
		n = read(fd, rec, KMSG_REC_MAX);
		if (n == -1 && errno == EPIPE)
			continue;           /* overwritten while reading: go on */
		if (n <= 0)
			break;
		if (sv_kmsg_seccomp_parse(rec, (size_t)n, m, &found) == 0)
			nr = found;
	}
	close(fd);
	free(rec);
	return nr;
}

#define RETRY_MS 50
#define RETRIES 4

/* A death awaiting its audit record: kauditd prints it asynchronously, so it
 * may reach /dev/kmsg a moment after the reaping. */
struct sigsys_wait {
	struct sv_worker *w;
	pid_t pid;
	int64_t since_ms;            /* sv_audit_clock_ms() at that spawn */
	int64_t at;                  /* last_exit.at of that death */
	int tries;
};

/* annotate - add the call to the reason and log; 0 when the record was found */
static int
annotate(struct sv_worker *w, const struct sigsys_wait *sw, int last_try)
{
	char buf[sizeof(w->last_exit.reason) + 64];
	char exe[PATH_MAX];
	struct sv_audit_match m = { sw->pid, exe, sw->since_ms };
	size_t k;
	long nr;
	char *name;

	/* the kernel names the executable by its canonical path */
	if (realpath(w->path, exe) == NULL)
		snprintf(exe, sizeof(exe), "%s", w->path);
	if ((nr = sv_sigsys_syscall(&m)) < 0) {
		if (last_try)
			log_error("seccomp violation in %s (pid %d): syscall unknown (no readable "
			    "audit record: see journalctl -k or the audit log)",
			    tfo_role_name(w->role), (int)sw->pid);
		return -1;
	}
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	snprintf(buf, sizeof(buf), "%s (syscall %ld %s)", w->last_exit.reason, nr,
	    name ? name : "?");
	/* cut to the reason's size (a long syscall name loses its end) */
	k = strnlen(buf, sizeof(w->last_exit.reason) - 1);
	memcpy(w->last_exit.reason, buf, k);
	w->last_exit.reason[k] = '\0';
	log_error("seccomp violation in %s (pid %d): syscall %ld (%s)",
	    tfo_role_name(w->role), (int)sw->pid, nr, name ? name : "?");
	free(name);
	return 0;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sigsys_wait *sw = arg;
	struct timeval tv = { 0, RETRY_MS * 1000 };

	(void)fd;
	(void)what;
	/* the slot has seen another death since: that reason is not ours */
	if (sw->w->last_exit.at != sw->at || sw->w->last_exit.sig != SIGSYS ||
	    strstr(sw->w->last_exit.reason, "(syscall ") != NULL ||
	    annotate(sw->w, sw, ++sw->tries >= RETRIES) == 0 || sw->tries >= RETRIES ||
	    event_base_once(sw->w->sv->base, -1, EV_TIMEOUT, on_retry, sw, &tv) != 0)
		free(sw);
}

void
sv_sigsys_describe(struct sv_worker *w, pid_t pid)
{
	struct timeval tv = { 0, RETRY_MS * 1000 };
	struct sigsys_wait now = { w, pid, w->spawned_audit_ms, w->last_exit.at, 0 };
	struct sigsys_wait *sw;

	if (annotate(w, &now, 0) == 0)
		return;
	if (w->sv == NULL || w->sv->base == NULL || (sw = calloc(1, sizeof(*sw))) == NULL) {
		(void)annotate(w, &now, 1);
		return;
	}
	*sw = now;
	if (event_base_once(w->sv->base, -1, EV_TIMEOUT, on_retry, sw, &tv) != 0) {
		free(sw);
		(void)annotate(w, &now, 1);
	}
}
