/*
 * selfdir.c - the directory of the running executable (tfo-supervisor,
 * tfo-process).
 */
#include "common/selfdir.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
tfo_self_dir(char *out, size_t outsz)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	return (size_t)snprintf(out, outsz, "%s", buf) < outsz ? 0 : -1;
}
