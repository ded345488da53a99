/*
 * selfdir.h - the directory of the running executable (/proc/self/exe):
 * where the supervisor finds its workers and tfo-process its helper, both
 * installed together (libexec/tfo-agent) or both in the build tree.
 */
#ifndef TFO_SELFDIR_H
#define TFO_SELFDIR_H

#include <stddef.h>

/* tfo_self_dir - the directory into out (no trailing slash); 0, or -1 when
 * the link cannot be read or out is too small */
int tfo_self_dir(char *out, size_t outsz);

#endif
