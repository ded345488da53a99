/*
 * resource.h - the OTLP Resource of DESIGN §6 (host.*, os.*, service.*,
 * telemetryflow.agent.*, tags), built once per worker from its AgentIdentity.
 * Used by every collector role (system, process, logs).
 */
#ifndef TFO_RESOURCE_H
#define TFO_RESOURCE_H

#include "tfo/v1/tfo.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"

struct tfo_resource;

/*
 * tfo_resource_new - build the Resource from agent (may be NULL: defaults) and
 * the files under root ("" or NULL = "/"): etc/machine-id, etc/os-release
 * (falling back to usr/lib/os-release). Missing files omit their attribute.
 * Returns NULL only when memory runs out. Call it before the sandbox closes
 * /etc (pre_init), then reuse the result for every cycle.
 */
struct tfo_resource *tfo_resource_new(const Tfo__V1__AgentIdentity *agent, const char *root);

/* tfo_resource_get - the Resource, owned by r and valid until tfo_resource_free */
const Opentelemetry__Proto__Resource__V1__Resource *tfo_resource_get(const struct tfo_resource *r);

/* tfo_resource_free - release r and everything it owns; NULL is a no-op */
void tfo_resource_free(struct tfo_resource *r);

/* tfo_resource_arch - map a uname machine string to the semconv host.arch value
 * (amd64, arm64, arm32, x86, ppc64, ppc32, s390x, ia64); unknown names pass through. */
const char *tfo_resource_arch(const char *machine);

#endif
