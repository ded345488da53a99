/*
 * printable.c - a worker's text made fit for status (tfoctl status, the
 * systemd STATUS= line): bounded, printable ASCII only. A worker is not
 * trusted: a newline in its text would add a line to an sd_notify message
 * (READY=1, WATCHDOG=1 in the supervisor's name). Used by workers.c and
 * notify.c.
 */
#include "supervisor/supervisor.h"

void
sv_copy_printable(char *dst, size_t dstsz, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}
