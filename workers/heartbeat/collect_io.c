/*
 * collect_io.c - disk and network fields of SystemInfo (tfo-heartbeat): root
 * filesystem, partitions, disk I/O over the last interval, interface totals,
 * per-interface details and TCP states.
 */
#include "workers/heartbeat/collect_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/clock.h"
#include "common/procfs.h"
#include "common/zarray.h"


static int
is_real_root(const char *root)
{
	return strcmp(root, "/") == 0;
}

/* path_under - root + abs (abs starts with '/') */
static int
path_under(const char *root, const char *abs, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", is_real_root(root) ? "" : root, abs);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static double
pct(uint64_t part, uint64_t total)
{
	return total == 0 ? 0.0 : 100.0 * (double)part / (double)total;
}

/* fs_usage - df semantics: usage = used / (used + available to users) */
static int
fs_usage(const char *path, uint64_t *total, uint64_t *used, uint64_t *avail, uint64_t *inodes,
	 uint64_t *ifree, double *usage)
{
	struct statvfs v;
	uint64_t fr;

	if (statvfs(path, &v) < 0)
		return -1;
	fr = v.f_frsize ? v.f_frsize : v.f_bsize;
	*total = (uint64_t)v.f_blocks * fr;
	*used = (uint64_t)(v.f_blocks - (v.f_bfree <= v.f_blocks ? v.f_bfree : v.f_blocks)) * fr;
	*avail = (uint64_t)v.f_bavail * fr;
	*inodes = v.f_files;
	*ifree = v.f_ffree;
	*usage = pct(*used, *used + *avail);
	return 0;
}

static void
root_fs(const char *root, struct hb_sysinfo *si)
{
	char path[1200];
	uint64_t ifree;

	if (path_under(root, "/", path, sizeof(path)) == 0)
		fs_usage(path, &si->disk_total, &si->disk_used, &si->disk_available,
			 &si->disk_inodes, &ifree, &si->disk_usage);
}

int
hb_io_tabs_init(struct hb_io_tabs *t, const char *root)
{
	char path[1200];
	struct statfs sfs;

	memset(t, 0, sizeof(*t));
	t->mnt_fd = -1;
	if ((t->mounts = tfo_zarray_alloc(HB_MAX_MOUNTS, sizeof(*t->mounts))) == NULL ||
	    (t->disks = tfo_zarray_alloc(HB_MAX_DISKS, sizeof(*t->disks))) == NULL ||
	    (t->nets = tfo_zarray_alloc(HB_MAX_IFACES, sizeof(*t->nets))) == NULL)
		return -1;
	/* kept open only where it can say the table changed: a procfs file */
	if (tfo_procfs_path(root, "proc/self/mountinfo", path, sizeof(path)) == TFO_OK &&
	    (t->mnt_fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    (fstatfs(t->mnt_fd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		close(t->mnt_fd);
		t->mnt_fd = -1;
	}
	return 0;
}

void
hb_io_tabs_fini(struct hb_io_tabs *t)
{
	tfo_zarray_free(t->mounts, HB_MAX_MOUNTS, sizeof(*t->mounts));
	tfo_zarray_free(t->disks, HB_MAX_DISKS, sizeof(*t->disks));
	tfo_zarray_free(t->nets, HB_MAX_IFACES, sizeof(*t->nets));
	if (t->mnt_fd >= 0)
		close(t->mnt_fd);
	memset(t, 0, sizeof(*t));
	t->mnt_fd = -1;
}

/* mount_table - the mount table in tabs->mounts: read again only when the
 * kept mountinfo polls POLLPRI (a mount, unmount or remount in our
 * namespace since the last poll; the poll takes the news, so it comes
 * before the read), or every beat on a fixture root */
static size_t
mount_table(const struct hb_io_ctx *x)
{
	struct hb_io_tabs *t = x->tabs;
	struct pollfd p = { .fd = t->mnt_fd, .events = POLLPRI };
	size_t len = 0, n = 0;
	enum tfo_err e;

	if (t->mnt_valid && p.fd >= 0 && poll(&p, 1, 0) == 0)
		return t->nmounts;
	t->mnt_valid = 0;
	if (p.fd >= 0)
		e = tfo_procfs_read_fd(p.fd, x->buf, x->cap, &len);
	else
		e = tfo_procfs_read(x->root, "proc/self/mountinfo", x->buf, x->cap, &len);
	t->mount_reads++;
	if (e != TFO_OK && e != TFO_ERANGE)
		return t->nmounts = 0;
	(void)tfo_procfs_mountinfo(x->buf, len, t->mounts, HB_MAX_MOUNTS, &n, NULL);
	t->mnt_valid = p.fd >= 0;
	return t->nmounts = n;
}

static enum tfo_err
partitions(const struct hb_io_ctx *x, struct hb_sysinfo *si)
{
	size_t n = mount_table(x), cap = n < HB_MAX_PARTITIONS ? n : HB_MAX_PARTITIONS;
	const struct tfo_mount *m = x->tabs->mounts;
	char path[1200];

	if ((si->parts = calloc(cap ? cap : 1, sizeof(*si->parts))) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n && si->nparts < cap; i++) {
		struct hb_partition *p = &si->parts[si->nparts];
		size_t j;
		/* local block devices only: statvfs never touches a network mount */
		if (strncmp(m[i].source, "/dev/", 5) != 0 || strcmp(m[i].fstype, "squashfs") == 0)
			continue;
		for (j = 0; j < si->nparts && strcmp(si->parts[j].device, m[i].source) != 0; j++)
			;
		if (j < si->nparts ||
		    path_under(x->root, m[i].mountpoint, path, sizeof(path)) < 0 ||
		    fs_usage(path, &p->total, &p->used, &p->free, &p->inodes, &p->inodes_free,
			     &p->usage) < 0)
			continue;
		snprintf(p->device, sizeof(p->device), "%s", m[i].source);
		snprintf(p->mountpoint, sizeof(p->mountpoint), "%s", m[i].mountpoint);
		snprintf(p->fstype, sizeof(p->fstype), "%s", m[i].fstype);
		p->inodes_usage = pct(p->inodes - (p->inodes_free <= p->inodes ? p->inodes_free : p->inodes),
				      p->inodes);
		si->nparts++;
	}
	return TFO_OK;
}

/* whole_disk - count a device once: a whole disk (in /sys/block) that is not
 * stacked on others (dm, md) nor a pseudo device */
static int
whole_disk(const char *root, const char *name)
{
	static const char *const skip[] = { "loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd" };
	char rel[128];
	size_t len;
	char tmp[8];

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strncmp(name, skip[i], strlen(skip[i])) == 0)
			return 0;
	if (strchr(name, '/') != NULL ||
	    snprintf(rel, sizeof(rel), "sys/block/%s/dev", name) >= (int)sizeof(rel))
		return 0;
	return tfo_procfs_read(root, rel, tmp, sizeof(tmp), &len) != TFO_ENOENT;
}

static void
disk_io(const struct hb_io_ctx *x, struct hb_sysinfo *si)
{
	struct tfo_diskstat *d = x->tabs->disks;
	struct hb_io_prev cur = { .have = 1, .t_ns = tfo_mono_ns() }, *prev = x->prev;
	size_t cap = x->cap, n = 0, len = 0;
	char *buf = x->buf;
	enum tfo_err e;

	e = tfo_procfs_read(x->root, "proc/diskstats", buf, cap, &len);
	if ((e != TFO_OK && e != TFO_ERANGE) ||
	    tfo_procfs_diskstats(buf, len, d, HB_MAX_DISKS, &n, NULL) != TFO_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (d[i].nstats < 11 || !whole_disk(x->root, d[i].name))
			continue;
		cur.reads += d[i].f[TFO_DISK_READS];
		cur.writes += d[i].f[TFO_DISK_WRITES];
		cur.sectors_read += d[i].f[TFO_DISK_SECTORS_READ];
		cur.sectors_written += d[i].f[TFO_DISK_SECTORS_WRITTEN];
		cur.read_ms += d[i].f[TFO_DISK_READ_MS];
		cur.write_ms += d[i].f[TFO_DISK_WRITE_MS];
		cur.io_ms += d[i].f[TFO_DISK_IO_MS];
	}
	/* a disk that went away makes sums shrink: skip that interval */
	if (prev->have && cur.reads >= prev->reads && cur.writes >= prev->writes &&
	    cur.sectors_read >= prev->sectors_read && cur.sectors_written >= prev->sectors_written &&
	    cur.read_ms >= prev->read_ms && cur.write_ms >= prev->write_ms && cur.io_ms >= prev->io_ms) {
		uint64_t dr = cur.reads - prev->reads, dw = cur.writes - prev->writes;
		si->disk_read_ops = dr;
		si->disk_write_ops = dw;
		si->disk_read_bytes = (cur.sectors_read - prev->sectors_read) * 512;   /* kernel sectors are 512 B */
		si->disk_write_bytes = (cur.sectors_written - prev->sectors_written) * 512;
		si->disk_io_time = cur.io_ms - prev->io_ms;
		si->disk_latency_read = dr ? (double)(cur.read_ms - prev->read_ms) / (double)dr : 0.0;
		si->disk_latency_write = dw ? (double)(cur.write_ms - prev->write_ms) / (double)dw : 0.0;
	}
	*prev = cur;
}

enum tfo_err
hb_collect_disk(const struct hb_io_ctx *x, struct hb_sysinfo *si)
{
	root_fs(x->root, si);
	disk_io(x, si);
	return partitions(x, si);
}

/* ---------------------------------------------------------------- network */

/* sysfs_net - <root>/sys/class/net/<if>/<attr> first line into out */
static int
sysfs_net(const char *root, const char *ifname, const char *attr, char *out, size_t cap)
{
	char rel[128];
	size_t len = 0;
	enum tfo_err e;

	if (snprintf(rel, sizeof(rel), "sys/class/net/%s/%s", ifname, attr) >= (int)sizeof(rel))
		return -1;
	e = tfo_procfs_read(root, rel, out, cap, &len);
	if (e != TFO_OK || len == 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* iface_link_sysfs - MAC address and up/loopback flags from sysfs */
static void
iface_link_sysfs(const char *root, struct hb_iface *f)
{
	char v[64], *end;
	unsigned long fl;

	if (sysfs_net(root, f->name, "address", v, sizeof(v)) == 0 && strlen(v) < sizeof(f->mac) &&
	    strspn(v, "0123456789abcdefABCDEF:") == strlen(v))
		memcpy(f->mac, v, strlen(v) + 1);   /* length checked just above */
	if (sysfs_net(root, f->name, "flags", v, sizeof(v)) == 0) {
		fl = strtoul(v, &end, 16);
		if (end != v && *end == '\0') {
			f->up = (fl & IFF_UP) != 0;
			f->loopback = (fl & IFF_LOOPBACK) != 0;
		}
	}
}

/* iface_sysfs - MTU and link speed from sysfs */
static void
iface_sysfs(const char *root, struct hb_iface *f)
{
	char v[64], *end;
	long long x;

	if (sysfs_net(root, f->name, "mtu", v, sizeof(v)) == 0 &&
	    (x = strtoll(v, &end, 10)) > 0 && *end == '\0')
		f->mtu = x;
	/* "speed" is -1 or unreadable (EINVAL) for virtual and down links */
	if (sysfs_net(root, f->name, "speed", v, sizeof(v)) == 0 &&
	    (x = strtoll(v, &end, 10)) > 0 && *end == '\0')
		f->speed = (uint64_t)x;
}

static int
prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	int bits = 0;

	if (mask == NULL)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)mask)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static struct hb_iface *
iface_named(struct hb_sysinfo *si, const char *name)
{
	for (size_t i = 0; i < si->nifaces; i++)
		if (strcmp(si->ifaces[i].name, name) == 0)
			return &si->ifaces[i];
	return NULL;
}

/* iface_link - a link entry of getifaddrs (no address, or AF_PACKET): its
 * flags (the sysfs "flags" bits) and hardware address, as sysfs "address"
 * prints it (lower-case hex pairs joined by ':') */
static void
iface_link(struct hb_sysinfo *si, const struct ifaddrs *a)
{
	struct hb_iface *f = a->ifa_name != NULL ? iface_named(si, a->ifa_name) : NULL;
	const struct sockaddr_ll *ll;
	size_t j = 0;

	if (f == NULL)
		return;
	f->up = (a->ifa_flags & IFF_UP) != 0;
	f->loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
	f->mac[0] = '\0';
	if (a->ifa_addr == NULL)
		return;
	ll = (const struct sockaddr_ll *)(const void *)a->ifa_addr;
	if (ll->sll_halen > sizeof(ll->sll_addr))
		return;     /* longer than a MAC field holds (sysfs's did not fit either) */
	for (unsigned i = 0; i < ll->sll_halen && i < sizeof(ll->sll_addr) &&
	    j + 3 < sizeof(f->mac); i++)
		j += (size_t)snprintf(f->mac + j, sizeof(f->mac) - j, i ? ":%02x" : "%02x",
		    ll->sll_addr[i]);
}

/* iface_addrs - addresses, flags and MAC of the live interfaces, from one
 * netlink dump (real root only); -1 when it failed */
static int
iface_addrs(struct hb_sysinfo *si)
{
	struct ifaddrs *ifa, *a;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (a = ifa; a != NULL; a = a->ifa_next) {
		char txt[INET6_ADDRSTRLEN];
		const void *src;
		if (a->ifa_addr == NULL || a->ifa_addr->sa_family == AF_PACKET) {
			iface_link(si, a);
			continue;
		}
		if (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6)
			continue;
		src = a->ifa_addr->sa_family == AF_INET
		    ? (const void *)&((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr
		    : (const void *)&((struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr;
		if (inet_ntop(a->ifa_addr->sa_family, src, txt, sizeof(txt)) == NULL)
			continue;
		for (size_t i = 0; i < si->nifaces; i++) {
			struct hb_iface *f = &si->ifaces[i];
			if (strcmp(f->name, a->ifa_name) != 0 || f->naddrs >= HB_MAX_ADDRS)
				continue;
			snprintf(f->addrs[f->naddrs++], sizeof(f->addrs[0]), "%s/%d", txt,
				 prefix_len(a->ifa_netmask));
		}
	}
	freeifaddrs(ifa);
	return 0;
}

static void
iface_add(struct hb_sysinfo *si, const struct tfo_netdev *d)
{
	struct hb_iface *f = &si->ifaces[si->nifaces++];

	snprintf(f->name, sizeof(f->name), "%s", d->name);
	f->bytes_recv = d->f[TFO_NET_RX_BYTES];
	f->bytes_sent = d->f[TFO_NET_TX_BYTES];
	f->packets_recv = d->f[TFO_NET_RX_PACKETS];
	f->packets_sent = d->f[TFO_NET_TX_PACKETS];
	f->errors_in = d->f[TFO_NET_RX_ERRS];
	f->errors_out = d->f[TFO_NET_TX_ERRS];
	f->drops_in = d->f[TFO_NET_RX_DROP];
	f->drops_out = d->f[TFO_NET_TX_DROP];
}

/* iface_total - a non-loopback interface's counters into the totals */
static void
iface_total(struct hb_sysinfo *si, const struct hb_iface *f)
{
	if (f->loopback)
		return;
	si->net_bytes_recv += f->bytes_recv;
	si->net_bytes_sent += f->bytes_sent;
	si->net_packets_recv += f->packets_recv;
	si->net_packets_sent += f->packets_sent;
	si->net_errors_in += f->errors_in;
	si->net_errors_out += f->errors_out;
	si->net_drops_in += f->drops_in;
	si->net_drops_out += f->drops_out;
}

/* interfaces - /proc/net/dev's counters; flags and MAC from the netlink
 * dump that gives the addresses (real root), else from sysfs; MTU and
 * speed from sysfs */
static enum tfo_err
interfaces(const struct hb_io_ctx *x, struct hb_sysinfo *si)
{
	struct tfo_netdev *d = x->tabs->nets;
	size_t cap = x->cap, n = 0, len = 0;
	char *buf = x->buf;
	enum tfo_err e;

	e = tfo_procfs_read(x->root, "proc/net/dev", buf, cap, &len);
	if (e == TFO_OK || e == TFO_ERANGE)
		tfo_procfs_netdev(buf, len, d, HB_MAX_IFACES, &n, NULL);
	if ((si->ifaces = calloc(n ? n : 1, sizeof(*si->ifaces))) == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < n; i++)
		iface_add(si, &d[i]);
	if (!is_real_root(x->root) || iface_addrs(si) != 0)
		for (size_t i = 0; i < si->nifaces; i++)
			iface_link_sysfs(x->root, &si->ifaces[i]);
	for (size_t i = 0; i < si->nifaces; i++) {
		struct hb_iface *f = &si->ifaces[i];
		iface_sysfs(x->root, f);
		if (strcmp(f->name, "lo") == 0)
			f->loopback = true;
		iface_total(si, f);
	}
	return TFO_OK;
}

/* tcp_file - count one /proc/net/tcp{,6} table; 0 when read */
static int
tcp_file(const char *root, const char *rel, char *buf, size_t cap, struct tfo_tcp_counts *tc)
{
	char path[1200];
	int fd, rc;

	if (tfo_procfs_path(root, rel, path, sizeof(path)) != TFO_OK ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	rc = tfo_procfs_tcp_fd(fd, buf, cap, tc);
	close(fd);
	return rc;
}

/* sockstat - one protocol line of a sockstat file; 0 when read */
static int
sockstat(const char *root, const char *rel, const char *proto, char *buf, size_t cap,
    uint64_t *inuse, uint64_t *tw)
{
	size_t len = 0;

	return tfo_procfs_read(root, rel, buf, cap, &len) == TFO_OK &&
	    tfo_procfs_sockstat(buf, len, proto, inuse, tw) == TFO_OK ? 0 : -1;
}

/* tcp_refresh - the TCP state counts, at most every TFO_TCP_REFRESH_MS (each
 * table is a walk of the kernel's whole TCP hash); tcp6 only when it can
 * list a socket */
static const struct tfo_tcp_counts *
tcp_refresh(const struct hb_io_ctx *x)
{
	struct hb_tcp_cache *t = x->tcp;
	const char *root = x->root;
	uint64_t now = tfo_mono_ns(), in6, tw, in4, none;
	size_t cap = x->cap;
	char *buf = x->buf;
	int ok4;

	if (t->at_ns != 0 && now >= t->at_ns && now - t->at_ns < TFO_TCP_REFRESH_MS * 1000000ull)
		return &t->tc;
	memset(&t->tc, 0, sizeof(t->tc));
	ok4 = tcp_file(root, "proc/net/tcp", buf, cap, &t->tc) == 0;
	if (!ok4 || sockstat(root, "proc/net/sockstat6", "TCP6", buf, cap, &in6, &none) != 0 ||
	    sockstat(root, "proc/net/sockstat", "TCP", buf, cap, &in4, &tw) != 0 ||
	    tfo_procfs_tcp6_needed(in6, tw, &t->tc))
		(void)tcp_file(root, "proc/net/tcp6", buf, cap, &t->tc);
	t->at_ns = now;
	return &t->tc;
}

enum tfo_err
hb_collect_net(const struct hb_io_ctx *x, struct hb_sysinfo *si)
{
	const struct tfo_tcp_counts *tc = tcp_refresh(x);

	si->tcp_established = tc->state[1];
	si->tcp_time_wait = tc->state[TFO_TCP_TIME_WAIT];
	si->tcp_close_wait = tc->state[8];
	si->tcp_listen = tc->state[10];
	return interfaces(x, si);
}
