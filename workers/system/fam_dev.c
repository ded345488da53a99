/*
 * fam_dev.c - tfo-system's per-device families: disk (/proc/diskstats),
 * network (/proc/net/dev, /proc/net/tcp{,6}) and filesystem (mountinfo +
 * statvfs on the helper thread of statfs.c).
 */
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "workers/system/collect_int.h"

#define SECTOR 512u                 /* diskstats sectors are always 512 bytes */

/* ------------------------------------------------------------------ disk */

struct disk_metrics {
	struct tfo_otlp_metric *io, *ops, *optime, *merged, *iotime;
	tfo_kv *rd, *wr;
};

static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static void
disk_one(struct tfo_syscol *c, const struct disk_metrics *dm, const struct tfo_diskstat *d)
{
	tfo_kv *kv[2] = { sys_kv(c, "system.device", d->name), dm->rd };
	const uint64_t *f = d->f;

	sys_counter(c, dm->io, mul_sat(f[TFO_DISK_SECTORS_READ], SECTOR), 1.0, kv, 2);
	sys_counter(c, dm->ops, f[TFO_DISK_READS], 1.0, kv, 2);
	if (d->nstats >= 11) {
		sys_counter(c, dm->optime, f[TFO_DISK_READ_MS], 0.001, kv, 2);
		sys_counter(c, dm->merged, f[TFO_DISK_READS_MERGED], 1.0, kv, 2);
	}
	kv[1] = dm->wr;
	sys_counter(c, dm->io, mul_sat(f[TFO_DISK_SECTORS_WRITTEN], SECTOR), 1.0, kv, 2);
	sys_counter(c, dm->ops, f[TFO_DISK_WRITES], 1.0, kv, 2);
	if (d->nstats >= 11) {
		sys_counter(c, dm->optime, f[TFO_DISK_WRITE_MS], 0.001, kv, 2);
		sys_counter(c, dm->merged, f[TFO_DISK_WRITES_MERGED], 1.0, kv, 2);
		sys_counter(c, dm->iotime, f[TFO_DISK_IO_MS], 0.001, kv, 1);
	}
}

void
sys_fam_disk(struct tfo_syscol *c)
{
	struct disk_metrics dm;
	const char *t;
	size_t len, n = 0;

	if (sys_read(c, F_DISKSTATS, &t, &len) != 0)
		return;
	(void)tfo_procfs_diskstats(t, len, c->disks, SYS_MAX_DISKS, &n, NULL);
	if (n == 0)
		return;
	dm.io = sys_metric(c, "system.disk.io", "By", "Disk bytes transferred.", TFO_OTLP_COUNTER);
	dm.ops = sys_metric(c, "system.disk.operations", "{operation}", "Disk operations count.",
	                    TFO_OTLP_COUNTER);
	dm.optime = sys_metric(c, "system.disk.operation_time", "s",
	                       "Sum of the time each operation took to complete.", TFO_OTLP_COUNTER);
	dm.merged = sys_metric(c, "system.disk.merged", "{operation}",
	                       "Disk reads/writes merged into single physical disk accesses.",
	                       TFO_OTLP_COUNTER);
	dm.iotime = sys_metric(c, "system.disk.io_time", "s", "Time disk spent activated.",
	                       TFO_OTLP_COUNTER);
	dm.rd = sys_kv(c, "disk.io.direction", "read");
	dm.wr = sys_kv(c, "disk.io.direction", "write");
	for (size_t i = 0; i < n; i++) {
		const struct tfo_diskstat *d = &c->disks[i];
		/* never-used devices (idle loop, ram, zram slots) are noise */
		if (d->f[TFO_DISK_READS] == 0 && d->f[TFO_DISK_WRITES] == 0)
			continue;
		disk_one(c, &dm, d);
	}
}

/* --------------------------------------------------------------- network */

/* tcp_count - /proc/net/tcp{,6} in buffer-sized chunks (tables can be large) */
static int
tcp_count(struct tfo_syscol *c, enum sys_file f, struct tfo_tcp_counts *tc)
{
	if (c->fd[f] < 0) {
		const char *t;
		size_t len;
		if (sys_read(c, f, &t, &len) != 0)      /* opens it, or it is missing */
			return -1;
	}
	if (tfo_procfs_tcp_fd(c->fd[f], c->buf, c->bufcap, tc) != 0) {
		c->stats.read_errors++;
		return -1;
	}
	return 0;
}

/* sockstat - one protocol line of a sockstat file; 0 when read */
static int
sockstat(struct tfo_syscol *c, enum sys_file f, const char *proto, uint64_t *inuse,
    uint64_t *tw)
{
	const char *t;
	size_t len;

	return sys_read(c, f, &t, &len) == 0 &&
	    tfo_procfs_sockstat(t, len, proto, inuse, tw) == TFO_OK ? 0 : -1;
}

/* tcp_refresh - the TCP state counts; tcp6 only when it can list a socket
 * (each table costs a walk of the whole TCP hash, however empty) */
static void
tcp_refresh(struct tfo_syscol *c)
{
	uint64_t in6, tw, in4, unused;
	int ok4, ok6 = 1;

	memset(&c->tcp, 0, sizeof(c->tcp));
	ok4 = tcp_count(c, F_TCP, &c->tcp) == 0;
	if (!ok4 || sockstat(c, F_SOCKSTAT6, "TCP6", &in6, &unused) != 0 ||
	    sockstat(c, F_SOCKSTAT, "TCP", &in4, &tw) != 0 ||
	    tfo_procfs_tcp6_needed(in6, tw, &c->tcp))
		ok6 = tcp_count(c, F_TCP6, &c->tcp) == 0;
	c->tcp_ok = ok4 || ok6;
}

static void
connections(struct tfo_syscol *c)
{
	static const char *const states[] = {
		"closed", "close_wait", "closing", "established", "fin_wait_1", "fin_wait_2",
		"last_ack", "listen", "syn_received", "syn_sent", "time_wait",
	};
	struct tfo_otlp_metric *m;
	tfo_kv *kv[2];

	if (sys_due(c, c->tcp_at, c->tcp_ns)) {
		tcp_refresh(c);
		c->tcp_at = c->now_ns;
	}
	if (!c->tcp_ok)
		return;
	m = sys_metric(c, "system.network.connection.count", "{connection}",
	               "The number of connections.", TFO_OTLP_UPDOWN);
	kv[0] = sys_kv(c, "network.transport", "tcp");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		uint64_t n = 0;
		for (unsigned st = 1; st < TFO_TCP_NSTATES; st++)
			if (strcmp(tfo_procfs_tcp_state_name(st), states[i]) == 0)
				n += c->tcp.state[st];
		kv[1] = sys_kv(c, "network.connection.state", states[i]);
		sys_updown(c, m, n > INT64_MAX ? INT64_MAX : (int64_t)n, kv, 2);
	}
}

void
sys_fam_network(struct tfo_syscol *c)
{
	struct tfo_otlp_metric *mio, *mpk, *mdr, *mer;
	tfo_kv *rx, *tx;
	const char *t;
	size_t len, n = 0;

	if (sys_read(c, F_NETDEV, &t, &len) == 0)
		(void)tfo_procfs_netdev(t, len, c->nets, SYS_MAX_NETS, &n, NULL);
	if (n > 0) {
		mio = sys_metric(c, "system.network.io", "By",
		                 "The number of bytes transmitted and received.", TFO_OTLP_COUNTER);
		mpk = sys_metric(c, "system.network.packet.count", "{packet}",
		                 "The number of packets transferred.", TFO_OTLP_COUNTER);
		mdr = sys_metric(c, "system.network.packet.dropped", "{packet}",
		                 "Count of packets that are dropped or discarded even though there was no error.",
		                 TFO_OTLP_COUNTER);
		mer = sys_metric(c, "system.network.errors", "{error}",
		                 "Count of network errors detected.", TFO_OTLP_COUNTER);
		rx = sys_kv(c, "network.io.direction", "receive");
		tx = sys_kv(c, "network.io.direction", "transmit");
		for (size_t i = 0; i < n; i++) {
			const uint64_t *f = c->nets[i].f;
			tfo_kv *ki[2] = { sys_kv(c, "network.interface.name", c->nets[i].name), rx };
			/* semconv v1.44 names the interface system.device on packet.count */
			tfo_kv *kd[2] = { sys_kv(c, "system.device", c->nets[i].name), rx };
			sys_counter(c, mio, f[TFO_NET_RX_BYTES], 1.0, ki, 2);
			sys_counter(c, mpk, f[TFO_NET_RX_PACKETS], 1.0, kd, 2);
			sys_counter(c, mdr, f[TFO_NET_RX_DROP], 1.0, ki, 2);
			sys_counter(c, mer, f[TFO_NET_RX_ERRS], 1.0, ki, 2);
			ki[1] = kd[1] = tx;
			sys_counter(c, mio, f[TFO_NET_TX_BYTES], 1.0, ki, 2);
			sys_counter(c, mpk, f[TFO_NET_TX_PACKETS], 1.0, kd, 2);
			sys_counter(c, mdr, f[TFO_NET_TX_DROP], 1.0, ki, 2);
			sys_counter(c, mer, f[TFO_NET_TX_ERRS], 1.0, ki, 2);
		}
	}
	connections(c);
}

/* ------------------------------------------------------------ filesystem */

/* Virtual filesystems with nothing to measure (node_exporter's default set). */
static const char *const pseudo_fs[] = {
	"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
	"devpts", "devtmpfs", "efivarfs", "erofs", "fusectl", "hugetlbfs", "iso9660",
	"mqueue", "nsfs", "overlay", "proc", "procfs", "pstore", "ramfs", "rpc_pipefs",
	"securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs",
};

static int
pseudo(const char *type)
{
	for (size_t i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if (strcmp(type, pseudo_fs[i]) == 0)
			return 1;
	return 0;
}

static int
matches(char *const *pat, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(pat[i], path, 0) == 0)
			return 1;
	return 0;
}

/* wanted - not pseudo, not excluded, included when disk_paths is set */
static int
wanted(struct tfo_syscol *c, const struct tfo_mount *m)
{
	if (pseudo(m->fstype) || matches(c->exclude, c->nexclude, m->mountpoint))
		return 0;
	return c->ninclude == 0 || matches(c->include, c->ninclude, m->mountpoint);
}

/* read_mounts - the mount table into c->mounts; how many, -1 unreadable */
static long
read_mounts(struct tfo_syscol *c)
{
	const char *t;
	size_t len, n = 0;

	if (sys_read(c, F_MOUNTINFO, &t, &len) == 0)
		(void)tfo_procfs_mountinfo(t, len, c->mounts, SYS_MAX_MOUNTS, &n, NULL);
	else if (sys_read_path(c, "proc/mounts", &t, &len) == 0)
		(void)tfo_procfs_mounts(t, len, c->mounts, SYS_MAX_MOUNTS, &n, NULL);
	else
		return -1;
	c->stats.mount_reads++;
	return (long)n;
}

/* mounts_unchanged - the table read last is still the kernel's: its
 * mountinfo, kept open on a procfs, reports any mount, unmount or remount
 * in our namespace since the last poll as POLLPRI (the poll takes the news,
 * so it comes before the read) */
static int
mounts_unchanged(struct tfo_syscol *c)
{
	struct pollfd p = { .fd = c->fd[F_MOUNTINFO], .events = POLLPRI };

	return c->mnt_valid && c->mnt_poll && p.fd >= 0 && poll(&p, 1, 0) == 0;
}

/* wanted_mounts - the mounts to measure in c->mounts[0, n): read and
 * filtered again only when the table changed (or cannot say so) */
static size_t
wanted_mounts(struct tfo_syscol *c)
{
	long n;
	size_t k = 0;

	if (mounts_unchanged(c))
		return c->nwanted;
	c->mnt_valid = 0;
	if ((n = read_mounts(c)) < 0)
		return c->nwanted = 0;
	for (long i = 0; i < n; i++)
		if (wanted(c, &c->mounts[i]))
			c->mounts[k++] = c->mounts[i];
	c->mnt_valid = 1;
	return c->nwanted = k;
}

void
sys_fam_fs_start(struct tfo_syscol *c, size_t *nmounts, int *submitted)
{
	size_t n = wanted_mounts(c), k = 0;
	const char **paths;

	*nmounts = 0;
	*submitted = 0;
	if (c->sf == NULL || n == 0)
		return;
	sys_statfs_reap(c->sf);
	c->stats.statfs_skipped = 0;
	if ((paths = tfo_arena_alloc(c->arena, n * sizeof(*paths))) == NULL ||
	    (c->fs_idx = tfo_arena_alloc(c->arena, n * sizeof(*c->fs_idx))) == NULL) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char full[SYS_STATFS_PATH_MAX];
		if (tfo_procfs_path(c->root, c->mounts[i].mountpoint, full, sizeof(full)) != TFO_OK)
			continue;
		if (sys_statfs_is_stuck(c->sf, full)) {
			c->stats.statfs_skipped++;
			continue;
		}
		if ((paths[k] = tfo_arena_strdup(c->arena, full)) == NULL) {
			c->oom = 1;
			return;
		}
		c->fs_idx[k++] = i;
	}
	*nmounts = k;
	if (k > 0 && sys_statfs_submit(c->sf, paths, k) == TFO_OK)
		*submitted = 1;
	else if (k > 0)
		c->stats.statfs_skipped += k;   /* every thread is stuck */
}

struct fs_metrics {
	struct tfo_otlp_metric *usage, *util, *limit, *inodes;
};

static void
fs_one(struct tfo_syscol *c, const struct fs_metrics *fm, const struct tfo_mount *m,
       const struct statvfs *st)
{
	uint64_t bs = st->f_frsize != 0 ? st->f_frsize : st->f_bsize;
	uint64_t total = mul_sat(st->f_blocks, bs), fr = mul_sat(st->f_bfree, bs);
	uint64_t avail = mul_sat(st->f_bavail, bs);
	uint64_t used = total > fr ? total - fr : 0, resv = fr > avail ? fr - avail : 0;
	int ro = m->ro || (st->f_flag & ST_RDONLY);
	tfo_kv *kv[5] = {
		sys_kv(c, "system.device", m->source), sys_kv(c, "system.filesystem.type", m->fstype),
		sys_kv(c, "system.filesystem.mode", ro ? "ro" : "rw"),
		sys_kv(c, "system.filesystem.mountpoint", m->mountpoint), NULL,
	};

	if (st->f_blocks == 0)
		return;     /* nothing to measure (size-less virtual fs) */
	sys_updown(c, fm->limit, (int64_t)(total > INT64_MAX ? INT64_MAX : total), kv, 4);
	kv[4] = sys_kv(c, "system.filesystem.state", "used");
	sys_updown(c, fm->usage, (int64_t)(used > INT64_MAX ? INT64_MAX : used), kv, 5);
	if (used + avail > 0)
		sys_gauge_d(c, fm->util, (double)used / (double)(used + avail), kv, 5);
	if (st->f_files > 0)
		sys_updown(c, fm->inodes, (int64_t)(st->f_files - (st->f_ffree < st->f_files ?
		           st->f_ffree : st->f_files)), kv, 5);
	kv[4] = sys_kv(c, "system.filesystem.state", "free");
	sys_updown(c, fm->usage, (int64_t)(avail > INT64_MAX ? INT64_MAX : avail), kv, 5);
	if (st->f_files > 0)
		sys_updown(c, fm->inodes, (int64_t)(st->f_ffree < st->f_files ? st->f_ffree :
		           st->f_files), kv, 5);
	kv[4] = sys_kv(c, "system.filesystem.state", "reserved");
	sys_updown(c, fm->usage, (int64_t)(resv > INT64_MAX ? INT64_MAX : resv), kv, 5);
}

void
sys_fam_fs_finish(struct tfo_syscol *c, size_t nmounts, int submitted)
{
	struct sys_statfs_res *res;
	struct fs_metrics fm;
	int stuck = 0;

	if (c->sf == NULL)
		return;
	if (submitted && nmounts > 0) {
		if ((res = tfo_arena_alloc(c->arena, nmounts * sizeof(*res))) == NULL) {
			c->oom = 1;
			res = NULL;
		}
		if (res != NULL && sys_statfs_wait(c->sf, c->statfs_timeout_ms, res) == 1) {
			c->stats.statfs_timeouts++;
			stuck = 1;
		}
		if (res != NULL) {
			fm.usage = sys_metric(c, "system.filesystem.usage", "By",
			    "Filesystem space usage by state.", TFO_OTLP_UPDOWN);
			fm.util = sys_metric(c, "system.filesystem.utilization", "1",
			    "Fraction of filesystem bytes used.", TFO_OTLP_GAUGE);
			fm.limit = sys_metric(c, "system.filesystem.limit", "By",
			    "The total storage capacity of the filesystem.", TFO_OTLP_UPDOWN);
			fm.inodes = sys_metric(c, "system.filesystem.inodes.usage", "{inodes}",
			    "Filesystem inodes by state.", TFO_OTLP_UPDOWN);
			for (size_t i = 0; i < nmounts; i++)
				if (res[i].status == 0)
					fs_one(c, &fm, &c->mounts[c->fs_idx[i]], &res[i].st);
		}
	}
	sys_statfs_stuck_list(c->sf, c->stats.stuck_mounts, sizeof(c->stats.stuck_mounts));
	if (stuck)
		log_warn("filesystem: statfs gave no answer in %u ms; skipped until it does: %s",
		         c->statfs_timeout_ms, c->stats.stuck_mounts);
}
