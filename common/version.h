/*
 * version.h - the line every tfo-agent binary prints for --version: the
 * release and the internal protocol version, so that a half-upgraded host
 * (a worker left from another package version) shows at a glance.
 */
#ifndef TFO_VERSION_H
#define TFO_VERSION_H

#include <stdio.h>

#include "tfo/v1/tfo.pb-c.h"

static inline void
tfo_version_print(FILE *fp, const char *prog)
{
	fprintf(fp, "%s %s (protocol %d)\n", prog, TFO_VERSION,
	    (int)TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION);
}

#endif
