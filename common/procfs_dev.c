/*
 * procfs_dev.c - parsers of the per-device tables: /proc/diskstats,
 * /proc/net/dev, /proc/net/tcp{,6}, mountinfo, /proc/mounts and /proc/swaps
 * (library tfo_procfs; run by tfo-system and tfo-heartbeat).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/procfs_scan.h"

/* -------------------------------------------------------- /proc/diskstats */

/* disk_line - "major minor name n1 ... nK"; 0 ok */
static int
disk_line(struct tfo_scan *s, struct tfo_diskstat *d)
{
	uint64_t maj, min, v[TFO_DISK_NFIELDS];
	const char *w;
	size_t n, k = 0;

	if (sc_u64(s, &maj) != 0 || sc_u64(s, &min) != 0 || maj > 0xfffff || min > 0xfffff)
		return -1;
	if (sc_word(s, &w, &n) != 0)
		return -1;
	while (k < TFO_DISK_NFIELDS && !sc_eol(s))
		if (sc_u64(s, &v[k++]) != 0)
			return -1;
	memset(d, 0, sizeof(*d));
	if (k == 4) {
		/* 2.6.0-2.6.24 partition lines: reads, sectors read, writes, sectors written */
		d->f[TFO_DISK_READS] = v[0];
		d->f[TFO_DISK_SECTORS_READ] = v[1];
		d->f[TFO_DISK_WRITES] = v[2];
		d->f[TFO_DISK_SECTORS_WRITTEN] = v[3];
	} else if (k >= 11) {
		memcpy(d->f, v, k * sizeof(v[0]));
	} else {
		return -1;
	}
	if (sc_copy(d->name, sizeof(d->name), w, n) != 0)
		return -1;
	d->major = (unsigned)maj;
	d->minor = (unsigned)min;
	d->nstats = (unsigned)k;
	return 0;
}

enum tfo_err
tfo_procfs_diskstats(const char *buf, size_t len, struct tfo_diskstat *out, size_t cap,
                     size_t *n, size_t *dropped)
{
	struct tfo_scan s;
	struct tfo_diskstat d;
	size_t drop = 0;

	*n = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (disk_line(&s, &d) != 0)
			continue;
		if (*n < cap)
			out[(*n)++] = d;
		else
			drop++;
	}
	if (dropped != NULL)
		*dropped = drop;
	return TFO_OK;
}

/* --------------------------------------------------------- /proc/net/dev */

static int
netdev_line(struct tfo_scan *s, struct tfo_netdev *d)
{
	const char *eol = memchr(s->p, '\n', (size_t)(s->end - s->p));
	const char *name, *colon;
	size_t nn;

	if (eol == NULL)
		eol = s->end;
	sc_blanks(s);
	name = s->p;
	/* "eth0: 123" or, with wide counters on old kernels, "eth0:123" */
	if ((colon = memchr(name, ':', (size_t)(eol - name))) == NULL)
		return -1;
	nn = (size_t)(colon - name);
	if (nn == 0 || memchr(name, ' ', nn) != NULL || memchr(name, '|', (size_t)(eol - name)))
		return -1;
	if (sc_copy(d->name, sizeof(d->name), name, nn) != 0)
		return -1;
	s->p = colon + 1;
	for (unsigned k = 0; k < TFO_NET_NFIELDS; k++)
		if (sc_u64(s, &d->f[k]) != 0)
			return -1;
	return 0;
}

enum tfo_err
tfo_procfs_netdev(const char *buf, size_t len, struct tfo_netdev *out, size_t cap,
                  size_t *n, size_t *dropped)
{
	struct tfo_scan s;
	struct tfo_netdev d;
	size_t drop = 0;

	*n = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (netdev_line(&s, &d) != 0)
			continue;
		if (*n < cap)
			out[(*n)++] = d;
		else
			drop++;
	}
	if (dropped != NULL)
		*dropped = drop;
	return TFO_OK;
}

/* ---------------------------------------------------- /proc/net/tcp{,6} */

static const char *const tcp_state_names[TFO_TCP_NSTATES] = {
	[1] = "established", [2] = "syn_sent", [3] = "syn_received",
	[4] = "fin_wait_1", [5] = "fin_wait_2", [6] = "time_wait", [7] = "closed",
	[8] = "close_wait", [9] = "last_ack", [10] = "listen", [11] = "closing",
	[12] = "syn_received",  /* TCP_NEW_SYN_RECV: a request socket */
};

const char *
tfo_procfs_tcp_state_name(unsigned st)
{
	return st < TFO_TCP_NSTATES ? tcp_state_names[st] : NULL;
}

static int
hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* tcp_line - "  sl: local remote st ..." -> 0 counted, 1 header, -1 bad */
static int
tcp_line(struct tfo_scan *s, struct tfo_tcp_counts *c)
{
	const char *w;
	size_t n;
	int hi, lo;

	if (sc_word(s, &w, &n) != 0)
		return -1;
	if (sc_is(w, n, "sl"))
		return 1;
	if (w[n - 1] != ':' || sc_word(s, &w, &n) != 0 || sc_word(s, &w, &n) != 0 ||
	    sc_word(s, &w, &n) != 0 || n != 2)
		return -1;
	if ((hi = hexdig(w[0])) < 0 || (lo = hexdig(w[1])) < 0)
		return -1;
	if (hi * 16 + lo >= TFO_TCP_NSTATES || hi * 16 + lo == 0)
		return -1;
	c->state[hi * 16 + lo]++;
	return 0;
}

size_t
tfo_procfs_tcp_feed(struct tfo_tcp_counts *c, const char *buf, size_t len)
{
	struct tfo_scan s;
	const char *line = buf;

	if (buf == NULL || len == 0)
		return 0;
	for (;;) {
		const char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		if (nl == NULL)
			break;
		sc_init(&s, line, (size_t)(nl - line));
		if (tcp_line(&s, c) < 0)
			c->bad_lines++;
		line = nl + 1;
	}
	return (size_t)(line - buf);
}

int
tfo_procfs_tcp_fd(int fd, char *buf, size_t cap, struct tfo_tcp_counts *c)
{
	size_t carry = 0;
	off_t off = 0;

	for (;;) {
		ssize_t r = pread(fd, buf + carry, cap - carry, off);
		size_t have, used;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		off += r;
		have = carry + (size_t)r;
		used = tfo_procfs_tcp_feed(c, buf, have);
		if (used == 0 && have == cap)
			used = have;    /* a line longer than the buffer: hostile, dropped */
		memmove(buf, buf + used, have - used);
		carry = have - used;
	}
	if (carry > 0 && carry < cap) {   /* a last line without its newline */
		buf[carry++] = '\n';
		(void)tfo_procfs_tcp_feed(c, buf, carry);
	}
	return 0;
}

enum tfo_err
tfo_procfs_sockstat(const char *buf, size_t len, const char *proto, uint64_t *inuse,
                    uint64_t *tw)
{
	struct tfo_scan s;
	const char *w;
	size_t n, plen = strlen(proto);
	int have_inuse = 0;

	*inuse = *tw = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (sc_word(&s, &w, &n) != 0 || n != plen + 1 || memcmp(w, proto, plen) != 0 ||
		    w[plen] != ':')
			continue;
		/* "key value" pairs to the end of the line */
		while (sc_word(&s, &w, &n) == 0) {
			uint64_t v;
			if (sc_u64(&s, &v) != 0)
				break;
			if (sc_is(w, n, "inuse")) {
				*inuse = v;
				have_inuse = 1;
			} else if (sc_is(w, n, "tw"))
				*tw = v;
		}
		return have_inuse ? TFO_OK : TFO_EINVAL;
	}
	return TFO_ENOENT;
}

int
tfo_procfs_tcp6_needed(uint64_t tcp6_inuse, uint64_t tw_all, const struct tfo_tcp_counts *tcp4)
{
	return tcp6_inuse > 0 || tw_all > tcp4->state[TFO_TCP_TIME_WAIT];
}

/* --------------------------------------------- mountinfo / mounts / swaps */

/* unescape - copy w/n decoding the kernel's \ooo escapes; -1 if it does not fit */
static int
unescape(char *dst, size_t cap, const char *w, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c == '\\' && i + 3 < n && w[i + 1] >= '0' && w[i + 1] <= '3' &&
		    w[i + 2] >= '0' && w[i + 2] <= '7' &&
		    w[i + 3] >= '0' && w[i + 3] <= '7') {
			c = (char)(((w[i + 1] - '0') << 6) | ((w[i + 2] - '0') << 3) | (w[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= cap || c == '\0')
			return -1;
		dst[o++] = c;
	}
	if (cap == 0)
		return -1;
	dst[o] = '\0';
	return 0;
}

/* has_opt - does the comma list w/n contain opt? */
static int
has_opt(const char *w, size_t n, const char *opt)
{
	size_t ol = strlen(opt), i = 0;

	while (i < n) {
		const char *comma = memchr(w + i, ',', n - i);
		size_t e = comma != NULL ? (size_t)(comma - w) : n;
		if (e - i == ol && memcmp(w + i, opt, ol) == 0)
			return 1;
		i = e + 1;
	}
	return 0;
}

/* mountinfo_line - "id parent maj:min root mnt opts [optional...] - type source super" */
static int
mountinfo_line(struct tfo_scan *s, struct tfo_mount *m)
{
	uint64_t id, parent, maj, min;
	const char *w, *mnt, *opts;
	size_t n, mntn, optsn;

	if (sc_u64(s, &id) != 0 || sc_u64(s, &parent) != 0 || sc_u64(s, &maj) != 0)
		return -1;
	if (s->p >= s->end || *s->p != ':')
		return -1;
	s->p++;
	if (sc_u64(s, &min) != 0 || maj > 0xfffff || min > 0xfffff)
		return -1;
	if (sc_word(s, &w, &n) != 0 || sc_word(s, &mnt, &mntn) != 0 ||
	    sc_word(s, &opts, &optsn) != 0)
		return -1;
	do {    /* optional fields up to the lone "-" */
		if (sc_word(s, &w, &n) != 0)
			return -1;
	} while (!sc_is(w, n, "-"));
	memset(m, 0, sizeof(*m));
	if (sc_word(s, &w, &n) != 0 || unescape(m->fstype, sizeof(m->fstype), w, n) != 0)
		return -1;
	if (sc_word(s, &w, &n) != 0 || unescape(m->source, sizeof(m->source), w, n) != 0)
		return -1;
	if (unescape(m->mountpoint, sizeof(m->mountpoint), mnt, mntn) != 0)
		return -1;
	m->major = (unsigned)maj;
	m->minor = (unsigned)min;
	m->ro = has_opt(opts, optsn, "ro");
	return 0;
}

/* mounts_line - "source mountpoint type opts freq passno" */
static int
mounts_line(struct tfo_scan *s, struct tfo_mount *m)
{
	const char *src, *mnt, *type, *opts;
	size_t srcn, mntn, typen, optsn;

	if (sc_word(s, &src, &srcn) != 0 || sc_word(s, &mnt, &mntn) != 0 ||
	    sc_word(s, &type, &typen) != 0 || sc_word(s, &opts, &optsn) != 0)
		return -1;
	memset(m, 0, sizeof(*m));
	if (unescape(m->source, sizeof(m->source), src, srcn) != 0 ||
	    unescape(m->mountpoint, sizeof(m->mountpoint), mnt, mntn) != 0 ||
	    unescape(m->fstype, sizeof(m->fstype), type, typen) != 0)
		return -1;
	m->ro = has_opt(opts, optsn, "ro");
	return 0;
}

static enum tfo_err
mount_table(const char *buf, size_t len, struct tfo_mount *out, size_t cap, size_t *n,
            size_t *dropped, int (*line)(struct tfo_scan *, struct tfo_mount *))
{
	struct tfo_scan s;
	size_t drop = 0;

	*n = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (sc_eol(&s))
			continue;
		if (*n >= cap) {
			drop++;
			continue;
		}
		if (line(&s, &out[*n]) == 0)
			(*n)++;
		else
			drop++;
	}
	if (dropped != NULL)
		*dropped = drop;
	return TFO_OK;
}

enum tfo_err
tfo_procfs_mountinfo(const char *buf, size_t len, struct tfo_mount *out, size_t cap,
                     size_t *n, size_t *dropped)
{
	return mount_table(buf, len, out, cap, n, dropped, mountinfo_line);
}

enum tfo_err
tfo_procfs_mounts(const char *buf, size_t len, struct tfo_mount *out, size_t cap,
                  size_t *n, size_t *dropped)
{
	return mount_table(buf, len, out, cap, n, dropped, mounts_line);
}

/* swap_line - "/dev/sda2 partition 8388604 0 -2" (sizes in KiB) */
static int
swap_line(struct tfo_scan *s, struct tfo_swap *sw)
{
	const char *f, *t;
	size_t fn, tn;
	uint64_t size, used;
	int64_t prio;

	if (sc_word(s, &f, &fn) != 0 || sc_word(s, &t, &tn) != 0)
		return -1;
	if (sc_u64(s, &size) != 0 || sc_u64(s, &used) != 0 || sc_i64(s, &prio) != 0)
		return -1;
	if (size > UINT64_MAX / 1024 || used > UINT64_MAX / 1024)
		return -1;
	memset(sw, 0, sizeof(*sw));
	if (unescape(sw->filename, sizeof(sw->filename), f, fn) != 0 ||
	    sc_copy(sw->type, sizeof(sw->type), t, tn) != 0)
		return -1;
	sw->size_bytes = size * 1024;
	sw->used_bytes = used * 1024;
	sw->priority = (long)prio;
	return 0;
}

enum tfo_err
tfo_procfs_swaps(const char *buf, size_t len, struct tfo_swap *out, size_t cap,
                 size_t *n, size_t *dropped)
{
	struct tfo_scan s;
	struct tfo_swap sw;
	size_t drop = 0;

	*n = 0;
	for (sc_init(&s, buf, len); !sc_eof(&s); sc_next_line(&s)) {
		if (swap_line(&s, &sw) != 0)
			continue;   /* the header line, or garbage */
		if (*n < cap)
			out[(*n)++] = sw;
		else
			drop++;
	}
	if (dropped != NULL)
		*dropped = drop;
	return TFO_OK;
}
