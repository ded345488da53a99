/*
 * sdnotify.h - the systemd notification protocol (sd_notify(3)) without
 * libsystemd, for tfo-supervisor: libsystemd maps liblzma, libzstd, liblz4,
 * libgcrypt and libgpg-error into the supervisor (about 1 MiB RSS) for what
 * is one datagram and two environment variables.
 */
#ifndef TFO_SV_SDNOTIFY_H
#define TFO_SV_SDNOTIFY_H

#include <stdint.h>

/*
 * tfo_sd_notify - send state ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET (a
 * path, or "@name" for an abstract socket). 1 sent, 0 when not run by
 * systemd (no NOTIFY_SOCKET), -errno on failure (EAFNOSUPPORT for an address
 * kind it does not speak, ENAMETOOLONG).
 */
int tfo_sd_notify(const char *state);
/*
 * tfo_sd_watchdog_usec - systemd's WatchdogSec= for this process: 1 with
 * *usec set, 0 when there is none (no or bad WATCHDOG_USEC, or WATCHDOG_PID
 * naming another process).
 */
int tfo_sd_watchdog_usec(uint64_t *usec);

#endif
