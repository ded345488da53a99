/*
 * agentid.h - the stable agent id (UUID text): configured, else persisted in
 * the state dir, else derived from machine-id + hostname (UUIDv5), else random.
 * Called by tfo-supervisor once at start; the id reaches workers in AgentIdentity.
 */
#ifndef TFO_AGENTID_H
#define TFO_AGENTID_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TFO_AGENTID_LEN 36   /* text length; buffers are TFO_AGENTID_LEN + 1 */

/*
 * tfo_agentid_get - resolve the agent id into out (NUL-terminated).
 *   configured: the configured id (NULL or "" = none); 1..36 chars of
 *               [A-Za-z0-9._:-], else TFO_EINVAL.
 *   state_dir:  where "agent-id" is persisted (NULL or "" = do not persist);
 *               an existing valid file wins; a new one is written once,
 *               atomically (never replacing a concurrent writer's), mode 0644.
 *   root:       "/" or a fixture tree holding etc/machine-id and
 *               proc/sys/kernel/hostname (or etc/hostname); NULL = "/".
 * Returns TFO_OK, TFO_EINVAL, or TFO_EIO when the state file cannot be written.
 */
enum tfo_err tfo_agentid_get(const char *configured, const char *state_dir, const char *root,
			     char out[TFO_AGENTID_LEN + 1]);

/* Building blocks, exposed for tests. */
void tfo_sha1(const void *data, size_t len, uint8_t digest[20]);
void tfo_uuid_v5(const uint8_t ns[16], const void *name, size_t len, char out[TFO_AGENTID_LEN + 1]);
enum tfo_err tfo_uuid_random(char out[TFO_AGENTID_LEN + 1]);
int tfo_agentid_valid(const char *id);

#endif
