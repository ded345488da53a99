/*
 * resource.c - the OTLP Resource of DESIGN §6, built once per collector
 * worker (library tfo_resource; run by tfo-system, tfo-process, tfo-logs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/otlp.h"
#include "common/procfs.h"
#include "common/resource.h"

#define RES_MAX_ATTRS (16 + 64)     /* fixed keys + tags */
#define RES_VALUE_MAX 256

struct tfo_resource {
	struct tfo_arena *a;
	Opentelemetry__Proto__Resource__V1__Resource res;
	tfo_kv *attrs[RES_MAX_ATTRS];
};

static const struct {
	const char *machine, *arch;
} arch_map[] = {
	{ "x86_64", "amd64" }, { "amd64", "amd64" },
	{ "aarch64", "arm64" }, { "arm64", "arm64" },
	{ "i386", "x86" }, { "i486", "x86" }, { "i586", "x86" }, { "i686", "x86" },
	{ "ppc64", "ppc64" }, { "ppc64le", "ppc64" }, { "ppc", "ppc32" },
	{ "s390x", "s390x" }, { "ia64", "ia64" },
};

const char *
tfo_resource_arch(const char *machine)
{
	for (size_t i = 0; i < sizeof(arch_map) / sizeof(arch_map[0]); i++)
		if (strcmp(machine, arch_map[i].machine) == 0)
			return arch_map[i].arch;
	if (strncmp(machine, "armv", 4) == 0)
		return "arm32";
	return machine;
}

/* add - append one string attribute unless the key is there already */
static int
add(struct tfo_resource *r, const char *key, const char *value)
{
	tfo_kv *kv;

	if (value == NULL || value[0] == '\0')
		return 0;
	for (size_t i = 0; i < r->res.n_attributes; i++)
		if (strcmp(r->attrs[i]->key, key) == 0)
			return 0;
	if (r->res.n_attributes >= RES_MAX_ATTRS)
		return 0;
	if ((kv = tfo_otlp_kv_str(r->a, key, value)) == NULL)
		return -1;
	r->attrs[r->res.n_attributes++] = kv;
	return 0;
}

/* printable - keep only a printable single line of at most cap-1 bytes */
static void
printable(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && src[i] != '\n' && o + 1 < cap; i++)
		if ((unsigned char)src[i] >= 0x20 && src[i] != 0x7f)
			dst[o++] = src[i];
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* machine_id - /etc/machine-id (32 hex digits); empty when absent or bad */
static void
machine_id(const char *root, char *out, size_t cap)
{
	char buf[128];
	size_t len, n = 0;

	out[0] = '\0';
	if (tfo_procfs_read(root, "etc/machine-id", buf, sizeof(buf), &len) != TFO_OK)
		return;
	while (n < len && strchr("0123456789abcdefABCDEF", buf[n]) != NULL && buf[n] != '\0')
		n++;
	if (n >= 16 && (n == len || buf[n] == '\n'))
		printable(out, cap, buf, n);
}

/* os_description - "<PRETTY_NAME> (Linux <release>)" */
static void
os_description(const char *root, const struct utsname *u, char *out, size_t cap)
{
	char buf[4096];
	struct tfo_osrelease osr;
	const char *pretty = osr.pretty_name;

	(void)tfo_osrelease_read(root, buf, sizeof(buf), &osr);     /* absent: all "" */
	if (pretty[0] != '\0' && u != NULL)
		snprintf(out, cap, "%s (Linux %s)", pretty, u->release);
	else if (pretty[0] != '\0')
		snprintf(out, cap, "%s", pretty);
	else if (u != NULL)
		snprintf(out, cap, "Linux %s", u->release);
	else
		out[0] = '\0';
}

static int
tag_cmp(const void *x, const void *y)
{
	const Tfo__V1__AgentIdentity__TagsEntry *a = *(const Tfo__V1__AgentIdentity__TagsEntry *const *)x;
	const Tfo__V1__AgentIdentity__TagsEntry *b = *(const Tfo__V1__AgentIdentity__TagsEntry *const *)y;

	return strcmp(a->key != NULL ? a->key : "", b->key != NULL ? b->key : "");
}

/* add_tags - user tags, sorted by key; fixed keys already added win */
static int
add_tags(struct tfo_resource *r, const Tfo__V1__AgentIdentity *agent)
{
	Tfo__V1__AgentIdentity__TagsEntry **t;
	size_t n = agent->n_tags;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((t = malloc(n * sizeof(*t))) == NULL)
		return -1;
	memcpy(t, agent->tags, n * sizeof(*t));
	qsort(t, n, sizeof(*t), tag_cmp);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (t[i]->key != NULL && t[i]->key[0] != '\0')
			rc = add(r, t[i]->key, t[i]->value);
	free(t);
	return rc;
}

static const char *
nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int
build(struct tfo_resource *r, const Tfo__V1__AgentIdentity *agent, const char *root)
{
	char host[RES_VALUE_MAX], id[RES_VALUE_MAX], desc[2 * RES_VALUE_MAX];
	const char *version = agent != NULL && nz(agent->version) ? agent->version : TFO_VERSION;
	struct utsname u;
	int have_u = uname(&u) == 0;

	host[0] = '\0';
	if (agent != NULL && nz(agent->hostname))
		snprintf(host, sizeof(host), "%s", agent->hostname);
	else if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	machine_id(root, id, sizeof(id));
	os_description(root, have_u ? &u : NULL, desc, sizeof(desc));
	if (add(r, "host.name", host) || add(r, "host.id", id) ||
	    add(r, "host.arch", have_u ? tfo_resource_arch(u.machine) : NULL) ||
	    add(r, "os.type", "linux") || add(r, "os.description", desc) ||
	    add(r, "service.name", "tfo-agent") || add(r, "service.version", version))
		return -1;
	if (agent == NULL)
		return 0;
	if (add(r, "service.instance.id", nz(agent->id)) ||
	    add(r, "telemetryflow.agent.id", nz(agent->id)) ||
	    /* agent.name: "empty = the host name" (docs/configuration.md) */
	    add(r, "telemetryflow.agent.name", nz(agent->name) ? agent->name : nz(host)) ||
	    add(r, "deployment.environment.name", nz(agent->environment)))
		return -1;
	return add_tags(r, agent);
}

struct tfo_resource *
tfo_resource_new(const Tfo__V1__AgentIdentity *agent, const char *root)
{
	struct tfo_resource *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if ((r->a = tfo_arena_new(4096)) == NULL) {
		free(r);
		return NULL;
	}
	opentelemetry__proto__resource__v1__resource__init(&r->res);
	r->res.attributes = r->attrs;
	if (build(r, agent, root) != 0) {
		tfo_resource_free(r);
		return NULL;
	}
	return r;
}

const Opentelemetry__Proto__Resource__V1__Resource *
tfo_resource_get(const struct tfo_resource *r)
{
	return &r->res;
}

void
tfo_resource_free(struct tfo_resource *r)
{
	if (r == NULL)
		return;
	tfo_arena_free(r->a);
	free(r);
}
