/*
 * agentid.c - the stable agent id (tfo-supervisor at start): configured,
 * persisted, derived (UUIDv5 of machine-id + hostname, own SHA-1) or random.
 */
#include "common/agentid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/procfs.h"

/* Namespace of tfo-agent ids (a fixed random UUID; never change it: every
 * derived id depends on it). */
static const uint8_t agentid_ns[16] = {
	0x6f, 0x1c, 0x5e, 0x2a, 0x9b, 0x3d, 0x4c, 0x71,
	0xa8, 0xe4, 0x2d, 0x0b, 0x7c, 0x9f, 0x5a, 0x13,
};

/* ---------------------------------------------------------------- SHA-1 (FIPS 180-4) */

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

static uint32_t
rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(struct sha1 *s, const uint8_t *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void
sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->bytes += len;
	while (len > 0) {
		size_t take = 64 - s->used < len ? 64 - s->used : len;
		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		len -= take;
		if (s->used == 64) {
			sha1_block(s, s->block);
			s->used = 0;
		}
	}
}

void
tfo_sha1(const void *data, size_t len, uint8_t digest[20])
{
	struct sha1 s = { .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 } };
	uint8_t pad[72] = { 0x80 };
	uint64_t bits;
	size_t padlen;

	sha1_update(&s, data, len);
	bits = s.bytes * 8;
	padlen = (s.used < 56 ? 56 : 120) - s.used;
	sha1_update(&s, pad, padlen);
	for (int i = 0; i < 8; i++)
		pad[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(&s, pad, 8);
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (uint8_t)(s.h[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(s.h[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(s.h[i] >> 8);
		digest[4 * i + 3] = (uint8_t)s.h[i];
	}
}

/* ---------------------------------------------------------------- UUIDs */

static void
uuid_format(const uint8_t u[16], char out[TFO_AGENTID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 15];
	}
	out[j] = '\0';
}

void
tfo_uuid_v5(const uint8_t ns[16], const void *name, size_t len, char out[TFO_AGENTID_LEN + 1])
{
	uint8_t buf[16 + 512], d[20];
	size_t n = len < 512 ? len : 512;

	memcpy(buf, ns, 16);
	memcpy(buf + 16, name, n);
	tfo_sha1(buf, 16 + n, d);
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);   /* version 5 */
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	uuid_format(d, out);
}

enum tfo_err
tfo_uuid_random(char out[TFO_AGENTID_LEN + 1])
{
	uint8_t u[16];
	size_t got = 0;

	while (got < sizeof(u)) {
		ssize_t r = getrandom(u + got, sizeof(u) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return TFO_EIO;
		got += (size_t)r;
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);   /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_format(u, out);
	return TFO_OK;
}

int
tfo_agentid_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return 0;
	for (; id[n] != '\0'; n++) {
		char c = id[n];
		if (n >= TFO_AGENTID_LEN)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return n > 0;
}

/* ---------------------------------------------------------------- sources */

/* read_text - <root>/<rel> into buf (NUL-ended); false if absent or empty */
static bool
read_text(const char *root, const char *rel, char *buf, size_t cap)
{
	size_t len = 0;
	enum tfo_err e = tfo_procfs_read(root, rel, buf, cap, &len);

	return (e == TFO_OK || e == TFO_ERANGE) && len > 0;
}

/* trim_line - cut at the first newline or space */
static void
trim_line(char *s)
{
	s[strcspn(s, "\r\n \t")] = '\0';
}

/* derive - UUIDv5 of "<machine-id>\n<hostname>"; TFO_ENOENT without machine-id */
static enum tfo_err
derive(const char *root, char out[TFO_AGENTID_LEN + 1])
{
	char mid[128], host[256], name[400];
	size_t n;
	int len;

	if (!read_text(root, "etc/machine-id", mid, sizeof(mid)) &&
	    !read_text(root, "var/lib/dbus/machine-id", mid, sizeof(mid)))
		return TFO_ENOENT;
	trim_line(mid);
	for (n = 0; mid[n] != '\0'; n++)
		if (!((mid[n] >= '0' && mid[n] <= '9') || (mid[n] >= 'a' && mid[n] <= 'f')))
			return TFO_ENOENT;
	/* "uninitialized" or an empty file (first boot, images) is not an identity */
	if (n != 32)
		return TFO_ENOENT;
	if (!read_text(root, "proc/sys/kernel/hostname", host, sizeof(host)) &&
	    !read_text(root, "etc/hostname", host, sizeof(host)))
		host[0] = '\0';
	trim_line(host);
	len = snprintf(name, sizeof(name), "%s\n%s", mid, host);
	if (len < 0 || (size_t)len >= sizeof(name))
		return TFO_ERANGE;
	tfo_uuid_v5(agentid_ns, name, (size_t)len, out);
	return TFO_OK;
}

/* read_persisted - the id in <dir>/agent-id, if present and valid */
static int
read_persisted(const char *dir, char out[TFO_AGENTID_LEN + 1])
{
	char buf[128];

	size_t n;

	if (!read_text(dir, "agent-id", buf, sizeof(buf)))
		return 0;
	/* only the trailing newline goes: "not an id" must stay invalid */
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!tfo_agentid_valid(buf))
		return 0;
	memcpy(out, buf, strlen(buf) + 1);
	return 1;
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* persist - write id once: temp file, fsync, link() so a concurrent writer's
 * id is never replaced; a corrupt existing file is replaced by rename(). */
static enum tfo_err
persist(const char *dir, char id[TFO_AGENTID_LEN + 1])
{
	char tmp[4096], final[4096], line[TFO_AGENTID_LEN + 2];
	int fd, n, rc = 0;

	n = snprintf(final, sizeof(final), "%s/agent-id", dir);
	if (n < 0 || (size_t)n >= sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s/.agent-id.XXXXXX", dir) >= (int)sizeof(tmp))
		return TFO_ERANGE;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return TFO_EIO;
	n = snprintf(line, sizeof(line), "%s\n", id);
	if (fchmod(fd, 0644) < 0 || write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0)
		rc = -1;
	close(fd);
	if (rc == 0 && link(tmp, final) < 0) {
		if (errno == EEXIST && read_persisted(dir, id))
			rc = 0;   /* someone else won: use theirs */
		else if (errno != EEXIST || rename(tmp, final) < 0)
			rc = -1;
	}
	unlink(tmp);
	if (rc == 0 && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return rc == 0 ? TFO_OK : TFO_EIO;
}

enum tfo_err
tfo_agentid_get(const char *configured, const char *state_dir, const char *root,
		char out[TFO_AGENTID_LEN + 1])
{
	enum tfo_err e;

	if (out == NULL)
		return TFO_EINVAL;
	out[0] = '\0';
	if (configured != NULL && configured[0] != '\0') {
		if (!tfo_agentid_valid(configured))
			return TFO_EINVAL;
		memcpy(out, configured, strlen(configured) + 1);
		return TFO_OK;
	}
	if (state_dir != NULL && state_dir[0] != '\0' && read_persisted(state_dir, out))
		return TFO_OK;
	if (derive(root, out) != TFO_OK && (e = tfo_uuid_random(out)) != TFO_OK)
		return e;
	if (state_dir == NULL || state_dir[0] == '\0')
		return TFO_OK;
	return persist(state_dir, out);
}
