/*
 * procstatus.c - tfo-supervisor reads a worker's sandbox state from
 * /proc/<pid>/status (NoNewPrivs, Seccomp, CapEff) rather than trusting the
 * worker. The text is treated as hostile: bounded, checked conversions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/supervisor.h"

/* field_value - value of "Name:\t<value>\n" in text, copied into out */
static int
field_value(const char *text, size_t len, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		const char *line = text + i;
		const char *end = memchr(line, '\n', len - i);
		size_t ll = end ? (size_t)(end - line) : len - i;

		if (ll > nl && memcmp(line, name, nl) == 0 && line[nl] == ':') {
			size_t v = nl + 1, k = 0;
			while (v < ll && (line[v] == '\t' || line[v] == ' '))
				v++;
			if (ll - v >= outsz)
				return -1;
			for (; v < ll; v++)
				out[k++] = line[v];
			out[k] = '\0';
			return 0;
		}
		i += ll + 1;
	}
	return -1;
}

/* small_int - a decimal 0..9 field, else -1 */
static int
small_int(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 0 || v > 9)
		return -1;
	return (int)v;
}

int
sv_proc_status_parse(const char *text, size_t len, struct sv_sandbox *sb)
{
	char v[32];

	sb->no_new_privs = -1;
	sb->seccomp = -1;
	sb->cap_eff[0] = '\0';
	if (field_value(text, len, "NoNewPrivs", v, sizeof(v)) == 0)
		sb->no_new_privs = small_int(v);
	if (field_value(text, len, "Seccomp", v, sizeof(v)) == 0)
		sb->seccomp = small_int(v);
	if (field_value(text, len, "CapEff", v, sizeof(v)) == 0 &&
	    strlen(v) < sizeof(sb->cap_eff) && strspn(v, "0123456789abcdefABCDEF") == strlen(v))
		memcpy(sb->cap_eff, v, strlen(v) + 1);
	return sb->no_new_privs >= 0 && sb->seccomp >= 0 && sb->cap_eff[0] ? 0 : -1;
}

int
sv_proc_status_read(pid_t pid, struct sv_sandbox *sb)
{
	char path[64], buf[8192];
	ssize_t n;
	size_t off = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		sv_proc_status_parse("", 0, sb);
		return -1;
	}
	while (off < sizeof(buf) && (n = read(fd, buf + off, sizeof(buf) - off)) > 0)
		off += (size_t)n;
	close(fd);
	return sv_proc_status_parse(buf, off, sb);
}
