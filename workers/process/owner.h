/*
 * owner.h - uid -> user name for process.owner, parsed from <root>/etc/passwd
 * (tfo-process). Parsing the file under proc_root, not getpwuid(), names the
 * HOST's users when the agent runs in a container with the host at /host,
 * and needs no NSS socket inside the sandbox.
 */
#ifndef TFO_PROCESS_OWNER_H
#define TFO_PROCESS_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TFO_OWNERS_MAX 65536            /* entries kept from one file */
#define TFO_OWNER_NAME_MAX 33           /* 32 bytes + NUL (useradd's limit) */

struct tfo_owner {
	uint32_t uid;
	char name[TFO_OWNER_NAME_MAX];
};

struct tfo_owners {
	struct tfo_owner *v;            /* sorted by uid, unique */
	size_t n;
};

/*
 * tfo_owners_parse - replace o's table with the entries of passwd text buf.
 * Lines that are not "name:pw:uid:..." with a sane name are skipped; the
 * first line of a uid wins (as getpwuid). TFO_ENOMEM leaves o unchanged.
 */
enum tfo_err tfo_owners_parse(struct tfo_owners *o, const char *buf, size_t len);
/* tfo_owners_name - the name of uid, or NULL */
const char *tfo_owners_name(const struct tfo_owners *o, uint32_t uid);
void tfo_owners_fini(struct tfo_owners *o);

#endif
