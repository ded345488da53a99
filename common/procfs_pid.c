/*
 * procfs_pid.c - parsers of /proc/<pid>/{stat,status,io,cmdline,cgroup}
 * (library tfo_procfs_pid; run by tfo-process). Bounded, allocation-free,
 * every number overflow-checked. The UTF-8 cleaner is in procfs.c.
 */
#include <string.h>

#include "common/procfs_pid.h"
#include "common/procfs_scan.h"

/* fields 4-24 (ppid .. rss): all tfo-process reports. The 28 after rss
 * (addresses, signal masks, ...) are not scanned: in the walk of every
 * process that was ~half of the parse */
#define STAT_FIELDS 21

/* ------------------------------------------------------------------ stat */

/* stat_fields - fields 4.. of a stat line into f[] (negatives wrap); count.
 * Run over every process by each walk: a field of up to 19 digits (all
 * but hostile ones) is read in one tight loop, the rest by sc_u64/sc_i64
 * with their checks, the same result either way. */
static unsigned
stat_fields(struct tfo_scan *s, uint64_t *f, unsigned cap)
{
	unsigned n = 0;

	while (n < cap) {
		const char *p = s->p, *end = s->end;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		s->p = p;
		if (p >= end || *p == '\n')
			break;
		if ((unsigned)(*p - '0') < 10) {
			const char *safe = end - p > 19 ? p + 19 : end;
			uint64_t x = 0;
			while (p < safe && (unsigned)(*p - '0') < 10)
				x = x * 10 + (unsigned)(*p++ - '0');
			if (p < end && (unsigned)(*p - '0') < 10) {
				if (sc_u64(s, &f[n]) != 0)
					break;  /* 20 digits or more: checked */
				p = s->p;
			} else {
				f[n] = x;
				s->p = p;
			}
		} else if (*p == '-') {
			int64_t v;
			if (sc_i64(s, &v) != 0)
				break;
			f[n] = (uint64_t)v;
			p = s->p;
		} else {
			break;          /* not a number */
		}
		if (p < end && *p != ' ' && *p != '\n')
			break;          /* "12x": not a number, stop here */
		n++;
	}
	return n;
}

enum tfo_err
tfo_procfs_pid_stat(const char *buf, size_t len, struct tfo_pid_stat *out)
{
	uint64_t f[STAT_FIELDS];        /* f[0] = field 4 (ppid) */
	const char *lp, *rp;
	struct tfo_scan s;
	uint64_t pid;
	size_t cn, i;
	unsigned n;

	memset(out, 0, sizeof(*out));
	sc_init(&s, buf, len);
	if (sc_u64(&s, &pid) != 0 || pid > INT64_MAX || s.end - s.p < 2 ||
	    s.p[0] != ' ' || s.p[1] != '(')
		return TFO_EINVAL;
	lp = s.p + 2;
	rp = memrchr(lp, ')', (size_t)(s.end - lp));
	if (rp == NULL || s.end - rp < 3 || rp[1] != ' ')
		return TFO_EINVAL;
	out->pid = (int64_t)pid;
	cn = (size_t)(rp - lp) < sizeof(out->comm) - 1 ? (size_t)(rp - lp) : sizeof(out->comm) - 1;
	for (i = 0; i < cn && (unsigned)((unsigned char)lp[i] - 0x20u) < 0x5fu; i++)
		;
	if (i == cn) {          /* printable ASCII (nearly every comm): as it is */
		memcpy(out->comm, lp, cn);
		out->comm[cn] = '\0';
	} else {
		(void)sc_copy(out->comm, sizeof(out->comm), lp, tfo_procfs_utf8_cut(lp, cn));
		tfo_procfs_text_clean(out->comm, strlen(out->comm), 0);
	}
	out->state = rp[2];
	s.p = rp + 3;
	n = stat_fields(&s, f, STAT_FIELDS);
	out->nfields = n + 3;
	if (n < STAT_FIELDS)
		return TFO_EINVAL;
	out->ppid = (int64_t)f[0];
	out->flags = f[5];
	out->minflt = f[6];
	out->majflt = f[8];
	out->utime = f[10];
	out->stime = f[11];
	out->num_threads = f[16];
	out->starttime = f[18];
	out->vsize = f[19];
	out->rss = (int64_t)f[20] < 0 ? 0 : f[20];
	return TFO_OK;
}

/* ---------------------------------------------------------------- status */

/* line_complete - does the line at s end with a newline? The last line of a
 * file read into a too-small buffer is cut ("Uid:\t10" of "Uid:\t1000"):
 * key-value files always end in '\n', so an unterminated line is dropped. */
static int
line_complete(const struct tfo_scan *s)
{
	return memchr(s->p, '\n', (size_t)(s->end - s->p)) != NULL;
}

/* ids - "Uid:\t0\t0\t0\t0": up to four ids; 0 ok when at least one */
static int
ids(struct tfo_scan *s, uint32_t *v)
{
	int n = 0;

	for (int i = 0; i < TFO_ID_N; i++) {
		uint64_t x;
		if (sc_eol(s) || sc_u64(s, &x) != 0 || x > UINT32_MAX)
			break;
		v[i] = (uint32_t)x;
		n++;
	}
	for (int i = n; i > 0 && i < TFO_ID_N; i++)
		v[i] = v[i - 1];        /* very old kernels: fewer columns */
	return n > 0 ? 0 : -1;
}

/* the first letters of the keys status_line reads */
#define STATUS_KEY_FIRST "UGTvnPK"

/* status_line - one "Key:\tvalue" line of status into out */
static void
status_line(struct tfo_scan *s, const char *k, size_t kn, struct tfo_pid_status *out)
{
	uint64_t v;
	int64_t iv;

	if (sc_is(k, kn, "Uid:")) {
		if (ids(s, out->uid) == 0)
			out->have |= TFO_PST_UID;
	} else if (sc_is(k, kn, "Gid:")) {
		if (ids(s, out->gid) == 0)
			out->have |= TFO_PST_GID;
	} else if (sc_is(k, kn, "Threads:")) {
		if (sc_u64(s, &out->threads) == 0)
			out->have |= TFO_PST_THREADS;
	} else if (sc_is(k, kn, "voluntary_ctxt_switches:")) {
		if (sc_u64(s, &out->vol_ctxt) == 0)
			out->have |= TFO_PST_VCTX;
	} else if (sc_is(k, kn, "nonvoluntary_ctxt_switches:")) {
		if (sc_u64(s, &out->nonvol_ctxt) == 0)
			out->have |= TFO_PST_NVCTX;
	} else if (sc_is(k, kn, "PPid:")) {
		if (sc_i64(s, &iv) == 0) {
			out->ppid = iv;
			out->have |= TFO_PST_PPID;
		}
	} else if (sc_is(k, kn, "Kthread:")) {
		if (sc_u64(s, &v) == 0 && v <= 1) {
			out->kthread = (int)v;
			out->have |= TFO_PST_KTHREAD;
		}
	}
}

enum tfo_err
tfo_procfs_pid_status(const char *buf, size_t len, struct tfo_pid_status *out)
{
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	sc_init(&s, buf, len);
	while (!sc_eof(&s)) {
		const char *k;
		size_t kn;
		if (!line_complete(&s))
			break;
		/* "Name:" holds comm and may hold anything: never parsed, skipped;
		 * so is every line whose key cannot be one of status_line's (by
		 * its first letter): most of the file, unread */
		sc_blanks(&s);
		if (memchr(STATUS_KEY_FIRST, *s.p, sizeof(STATUS_KEY_FIRST) - 1) != NULL &&
		    sc_word(&s, &k, &kn) == 0 && kn > 1 && k[kn - 1] == ':')
			status_line(&s, k, kn, out);
		sc_next_line(&s);
	}
	return (out->have & TFO_PST_UID) ? TFO_OK : TFO_EINVAL;
}

/* -------------------------------------------------------------------- io */

enum tfo_err
tfo_procfs_pid_io(const char *buf, size_t len, struct tfo_pid_io *out)
{
	static const struct { const char *k; unsigned bit; size_t off; } keys[] = {
		{ "rchar:", TFO_PIO_RCHAR, offsetof(struct tfo_pid_io, rchar) },
		{ "wchar:", TFO_PIO_WCHAR, offsetof(struct tfo_pid_io, wchar) },
		{ "syscr:", TFO_PIO_SYSCR, offsetof(struct tfo_pid_io, syscr) },
		{ "syscw:", TFO_PIO_SYSCW, offsetof(struct tfo_pid_io, syscw) },
		{ "read_bytes:", TFO_PIO_READ_BYTES, offsetof(struct tfo_pid_io, read_bytes) },
		{ "write_bytes:", TFO_PIO_WRITE_BYTES, offsetof(struct tfo_pid_io, write_bytes) },
		{ "cancelled_write_bytes:", TFO_PIO_CANCELLED,
		  offsetof(struct tfo_pid_io, cancelled_write_bytes) },
	};
	struct tfo_scan s;

	memset(out, 0, sizeof(*out));
	sc_init(&s, buf, len);
	while (!sc_eof(&s)) {
		const char *k;
		size_t kn;
		uint64_t v;
		if (!line_complete(&s))
			break;
		if (sc_word(&s, &k, &kn) == 0)
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (sc_is(k, kn, keys[i].k) && sc_u64(&s, &v) == 0 && sc_eol(&s)) {
					memcpy((char *)out + keys[i].off, &v, sizeof(v));
					out->have |= keys[i].bit;
					break;
				}
		sc_next_line(&s);
	}
	if ((out->have & (TFO_PIO_READ_BYTES | TFO_PIO_WRITE_BYTES)) !=
	    (TFO_PIO_READ_BYTES | TFO_PIO_WRITE_BYTES))
		return TFO_EINVAL;
	return TFO_OK;
}

/* --------------------------------------------------------------- cmdline */

void
tfo_procfs_pid_cmdline(const char *buf, size_t len, char *out, size_t cap,
                       struct tfo_pid_cmdline *info)
{
	size_t o = 0, i = 0;

	memset(info, 0, sizeof(*info));
	if (cap == 0)
		return;
	while (len > 0 && buf[len - 1] == '\0')
		len--;          /* the terminator of the last argument */
	while (i < len) {
		const char *a = buf + i, *nul = memchr(a, '\0', len - i);
		size_t an = nul != NULL ? (size_t)(nul - a) : len - i;
		size_t room;

		i += an + 1;
		if (info->argc++ > 0 && !info->truncated) {
			if (o + 1 >= cap) {
				info->truncated = 1;
				continue;
			}
			out[o++] = ' ';
		}
		if (info->truncated)
			continue;
		room = cap - 1 - o;
		if (an > room) {
			an = tfo_procfs_utf8_cut(a, room);
			info->truncated = 1;
		}
		memcpy(out + o, a, an);
		o += an;
		if (info->argc == 1)
			info->argv0_len = o;
	}
	out[o] = '\0';
	info->len = o;
	tfo_procfs_text_clean(out, o, 0);
}

/* ---------------------------------------------------------------- cgroup */

void
tfo_procfs_pid_cgroup(const char *buf, size_t len, char *out, size_t cap)
{
	size_t n;

	if (cap == 0)
		return;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	n = len < cap - 1 ? len : tfo_procfs_utf8_cut(buf, cap - 1);
	memcpy(out, buf, n);
	out[n] = '\0';
	tfo_procfs_text_clean(out, n, 1);
}
