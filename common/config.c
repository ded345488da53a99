/*
 * config.c - load a config: defaults from the table, the YAML file, then the
 * TELEMETRYFLOW_* environment; relative paths resolved, cross-key checks,
 * diagnostics as "FILE:LINE:COL: KEY: message". Runs in supervisor and tfoctl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config_impl.h"
#include "common/safepath.h"

/* Environment overrides (env > file > defaults). Empty variables are ignored. */
static const struct {
	const char *env, *key;
} overrides[] = {
	{ "TELEMETRYFLOW_API_KEY_ID", "telemetryflow.api_key_id" },
	{ "TELEMETRYFLOW_API_KEY_SECRET", "telemetryflow.api_key_secret" },
	{ "TELEMETRYFLOW_ENDPOINT", "telemetryflow.endpoint" },
	{ "TELEMETRYFLOW_ENVIRONMENT", "telemetryflow.environment" },
	{ "TELEMETRYFLOW_AGENT_ID", "agent.id" },
	{ "TELEMETRYFLOW_AGENT_NAME", "agent.name" },
};

/* tfo_cfg_override - the i-th environment override (for the manual page); -1 past the end */
int
tfo_cfg_override(size_t i, const char **env, const char **key)
{
	if (i >= sizeof(overrides) / sizeof(overrides[0]))
		return -1;
	*env = overrides[i].env;
	*key = overrides[i].key;
	return 0;
}

/* tfo_cfg_set_defaults - every row's default, nothing derived; -1 on a broken row */
int
tfo_cfg_set_defaults(struct tfo_config *cfg)
{
	char err[512];
	int bad = 0;

	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		if (r->type == CT_LIST || r->type == CT_MAP)
			continue;
		if (tfo_cfg_set(r, cfg, r->def ? r->def : "", err, sizeof(err)) != 0)
			bad = 1;        /* a broken table row: the unit tests catch it */
	}
	return bad ? -1 : 0;
}

/* derive - values that follow from others: buffer.path, endpoint from endpoints[0] */
static int
derive(struct tfo_config *cfg)
{
	if (cfg->buffer.path[0] == '\0') {
		size_t n = strlen(cfg->agent.state_dir) + sizeof("/buffer");
		char *p = malloc(n);
		if (p == NULL)
			return -1;
		snprintf(p, n, "%s/buffer", cfg->agent.state_dir);
		free(cfg->buffer.path);
		cfg->buffer.path = p;
	}
	return 0;
}

int
tfo_config_defaults(struct tfo_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (tfo_cfg_set_defaults(cfg) != 0 || derive(cfg) != 0) {
		tfo_config_free(cfg);
		return -1;
	}
	return 0;
}

void
tfo_config_free(struct tfo_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < tfo_cfg_nrows; i++)
		tfo_cfg_row_clear(&tfo_cfg_rows[i], cfg);
	free(cfg->path);
	free(cfg->pos);
	memset(cfg, 0, sizeof(*cfg));
}

static const struct cfg_mark *
mark_of(const struct cfg_loader *ld, const char *key)
{
	static const struct cfg_mark none;
	int row = tfo_cfg_row_find(key);

	return row >= 0 ? &ld->seen[row] : &none;
}

/* at - diagnostic at the place the file set `where` (no position otherwise) */
#define AT(ld, where, key, ...) do { \
	const struct cfg_mark *m_ = mark_of(ld, where); \
	tfo_cfg_diag(ld, 0, m_->line, m_->column, key, __VA_ARGS__); \
} while (0)

static void
apply_env(struct cfg_loader *ld)
{
	char err[512];

	for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
		const char *v = getenv(overrides[i].env);
		int row = tfo_cfg_row_find(overrides[i].key);
		if (v == NULL || v[0] == '\0' || row < 0)
			continue;
		if (tfo_cfg_set(&tfo_cfg_rows[row], ld->cfg, v, err, sizeof(err)) != 0) {
			tfo_cfg_diag(ld, 0, 0, 0, overrides[i].key, "from %s: %s", overrides[i].env, err);
			continue;
		}
		ld->seen[row].line = ld->seen[row].column = 0;
		ld->seen[row].env = 1;
		if (strcmp(overrides[i].key, "telemetryflow.endpoint") == 0) {
			/* the environment names THE endpoint: no file failover list */
			tfo_cfg_row_clear(&tfo_cfg_rows[tfo_cfg_row_find("telemetryflow.endpoints")],
			    ld->cfg);
		}
	}
}

/* absolutize - make *p absolute against cwd ("./x" -> "<cwd>/x") */
static int
absolutize(char **p, size_t max, char *err, size_t errsz)
{
	char cwd[4096], *n;
	const char *rel = *p;
	size_t len;

	if (rel[0] == '\0' || rel[0] == '/')
		return 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(err, errsz, "cannot resolve relative path: %s", strerror(errno));
		return -1;
	}
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (strcmp(rel, ".") == 0)
		rel = "";
	len = strlen(cwd) + 1 + strlen(rel);
	if (len > max) {
		snprintf(err, errsz, "too long once made absolute: %zu bytes (max %zu)", len, max);
		return -1;
	}
	if ((n = malloc(len + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (rel[0] == '\0')
		snprintf(n, len + 1, "%s", cwd);
	else
		snprintf(n, len + 1, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", rel);
	free(*p);
	*p = n;
	return 0;
}

/* resolve_paths - every CF_PATH value relative to the current directory */
static void
resolve_paths(struct cfg_loader *ld)
{
	char err[256];

	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		const struct cfg_row *r = &tfo_cfg_rows[i];
		char *base = (char *)ld->cfg + r->off;
		const struct cfg_mark *m = &ld->seen[i];
		if (!(r->flags & CF_PATH))
			continue;
		if (r->type == CT_STR) {
			if (absolutize((char **)(void *)base, r->max, err, sizeof(err)) != 0)
				tfo_cfg_diag(ld, 0, m->line, m->column, r->key, "%s", err);
		} else if (r->type == CT_LIST) {
			struct tfo_strlist *l = (struct tfo_strlist *)(void *)base;
			for (size_t j = 0; j < l->n; j++)
				if (absolutize(&l->v[j], r->max, err, sizeof(err)) != 0)
					tfo_cfg_diag(ld, 0, m->line, m->column, r->key, "%s", err);
		}
	}
}

static int
valid_url(const char *s)
{
	const char *h = !strncmp(s, "http://", 7) ? s + 7 : !strncmp(s, "https://", 8) ? s + 8 : NULL;

	return h != NULL && h[0] != '\0' && h[0] != '/' && strpbrk(s, " \t\r\n") == NULL;
}

/* valid_endpoint - "host:port", "[v6]:port" or an http(s) URL */
static int
valid_endpoint(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (strstr(s, "://") != NULL)
		return valid_url(s);
	if (colon == NULL || colon == s || strpbrk(s, "/ \t\r\n") != NULL)
		return 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	return errno == 0 && end != colon + 1 && *end == '\0' && colon[1] >= '0' &&
	    colon[1] <= '9' && port >= 1 && port <= 65535;
}

static void
check_endpoints(struct cfg_loader *ld)
{
	struct tfo_config *cfg = ld->cfg;
	const struct tfo_strlist *l = &cfg->telemetryflow.endpoints;
	const struct cfg_mark *me = mark_of(ld, "telemetryflow.endpoint");

	if (l->n > 0) {
		if (me->line && strcmp(cfg->telemetryflow.endpoint, l->v[0]) != 0)
			AT(ld, "telemetryflow.endpoint", "telemetryflow.endpoint",
			    "conflicts with telemetryflow.endpoints[0] \"%s\"; set only one of them",
			    l->v[0]);
		char *c = strdup(l->v[0]);
		if (c != NULL) {
			free(cfg->telemetryflow.endpoint);
			cfg->telemetryflow.endpoint = c;
		}
	}
	if (l->n == 0 && !valid_endpoint(cfg->telemetryflow.endpoint))
		AT(ld, "telemetryflow.endpoint", "telemetryflow.endpoint", "bad endpoint \"%s\": "
		    "expected host:port or an http:// or https:// URL", cfg->telemetryflow.endpoint);
	for (size_t i = 0; i < l->n; i++)
		if (!valid_endpoint(l->v[i]))
			AT(ld, "telemetryflow.endpoints", "telemetryflow.endpoints", "bad endpoint "
			    "\"%s\": expected host:port or an http:// or https:// URL", l->v[i]);
}

/* check_order - `lo` must not exceed `hi` (strict: must be below it) */
static void
check_order(struct cfg_loader *ld, const char *lo, uint32_t lov, const char *hi, uint32_t hiv,
    int strict)
{
	char b[32];

	if (strict ? lov < hiv : lov <= hiv)
		return;
	tfo_cfg_fmt_duration(hiv, b, sizeof(b));
	if (strict)
		AT(ld, lo, lo, "must be less than %s (%s)", hi, b);
	else
		AT(ld, lo, lo, "must not exceed %s (%s)", hi, b);
}

static void
check_required(struct cfg_loader *ld, const char *key, const char *because_key, const char *because)
{
	AT(ld, because_key, key, "missing required key (needed when %s %s)", because_key, because);
}

/* written - whether the file or the environment set row `i` */
static int
written(const struct cfg_loader *ld, int i)
{
	return ld->seen[i].line != 0 || ld->seen[i].env;
}

/*
 * follow_defaults - a key of a bounded pair (tfo_cfg_pairs) that the file and
 * the environment leave out follows the one they set: lo = min(its default,
 * hi / lo_div), hi = max(its default, lo * hi_mul) when hi_mul is not 0.
 * A key the user never wrote so never refuses a config (issue 19). Every
 * field of a pair is a CT_DUR uint32_t.
 */
static void
follow_defaults(struct cfg_loader *ld)
{
	for (size_t i = 0; i < tfo_cfg_npairs; i++) {
		const struct cfg_pair *f = &tfo_cfg_pairs[i];
		int lo = tfo_cfg_row_find(f->lo), hi = tfo_cfg_row_find(f->hi);
		uint32_t *lov, *hiv;
		uint64_t want;

		/* a renamed key or another type: test_config_good's pair tests fail */
		if (lo < 0 || hi < 0 || tfo_cfg_rows[lo].type != CT_DUR ||
		    tfo_cfg_rows[hi].type != CT_DUR)
			continue;
		lov = (uint32_t *)(void *)((char *)ld->cfg + tfo_cfg_rows[lo].off);
		hiv = (uint32_t *)(void *)((char *)ld->cfg + tfo_cfg_rows[hi].off);
		if (!written(ld, lo) && written(ld, hi) && *hiv / f->lo_div < *lov)
			*lov = *hiv / f->lo_div;
		if (f->hi_mul && !written(ld, hi) && written(ld, lo) &&
		    (want = (uint64_t)*lov * f->hi_mul) > *hiv)
			*hiv = want > tfo_cfg_rows[hi].max ? (uint32_t)tfo_cfg_rows[hi].max :
			    (uint32_t)want;
	}
}

static void
check_cross(struct cfg_loader *ld)
{
	const struct tfo_config *c = ld->cfg;

	check_endpoints(ld);
	if (!valid_url(c->telemetryflow.api_endpoint))
		AT(ld, "telemetryflow.api_endpoint", "telemetryflow.api_endpoint",
		    "bad URL \"%s\": expected http:// or https://", c->telemetryflow.api_endpoint);
	if (c->heartbeat.cloud_metadata_url[0] && !valid_url(c->heartbeat.cloud_metadata_url))
		AT(ld, "heartbeat.cloud_metadata_url", "heartbeat.cloud_metadata_url",
		    "bad URL \"%s\": expected http:// or https://", c->heartbeat.cloud_metadata_url);
	if (c->telemetryflow.tls.cert_file[0] && !c->telemetryflow.tls.key_file[0])
		check_required(ld, "telemetryflow.tls.key_file", "telemetryflow.tls.cert_file", "is set");
	if (c->telemetryflow.tls.key_file[0] && !c->telemetryflow.tls.cert_file[0])
		check_required(ld, "telemetryflow.tls.cert_file", "telemetryflow.tls.key_file", "is set");
	if (c->logs.enabled && c->logs.paths.n == 0)
		check_required(ld, "collectors.logs.paths", "collectors.logs.enabled", "is true");
	for (size_t i = 0; i < tfo_cfg_npairs; i++) {
		const struct cfg_pair *f = &tfo_cfg_pairs[i];
		int lo = tfo_cfg_row_find(f->lo), hi = tfo_cfg_row_find(f->hi);
		if (lo < 0 || hi < 0 || tfo_cfg_rows[lo].type != CT_DUR ||
		    tfo_cfg_rows[hi].type != CT_DUR)
			continue;
		check_order(ld, f->lo,
		    *(const uint32_t *)(const void *)((const char *)c + tfo_cfg_rows[lo].off),
		    f->hi, *(const uint32_t *)(const void *)((const char *)c + tfo_cfg_rows[hi].off),
		    f->strict);
	}
}

/*
 * endpoint_host - the host of an endpoint ("host:port", "[v6]:port" or an
 * http(s) URL) into host, and whether it is spoken to in clear: http://, or a
 * bare host:port without telemetryflow.tls.enabled (h2c / plain HTTP), as the
 * exporter decides (workers/exporter/wire.c). -1 when there is no host.
 */
static int
endpoint_host(const char *ep, int tls, char *host, size_t hostsz, int *plain)
{
	const char *h = ep, *end;

	*plain = !tls;
	if (strncmp(ep, "http://", 7) == 0) {
		h = ep + 7;
		*plain = 1;
	} else if (strncmp(ep, "https://", 8) == 0) {
		h = ep + 8;
		*plain = 0;
	}
	if (h[0] == '[') {
		if ((end = strchr(++h, ']')) == NULL)
			return -1;
	} else if ((end = h + strcspn(h, ":/")) == h)
		return -1;
	if ((size_t)(end - h) >= hostsz)
		return -1;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	return 0;
}

/* loopback - a host name that never leaves the machine: localhost, 127/8, ::1 */
static int
loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* warn_plain - one endpoint that receives the secret */
static void
warn_plain(struct cfg_loader *ld, const char *ep, const char *who)
{
	const struct cfg_mark *m = mark_of(ld, "telemetryflow.api_key_secret");
	char host[256];
	int plain;

	if (endpoint_host(ep, ld->cfg->telemetryflow.tls.enabled, host, sizeof(host), &plain) != 0 ||
	    !plain || loopback(host))
		return;
	tfo_cfg_diag(ld, 1, m->line, m->column, "telemetryflow.api_key_secret",
	    "sent in clear text (no TLS) to %s %s, which is not a loopback address: use an "
	    "https:// URL or telemetryflow.tls.enabled", who, ep);
}

/* check_plain_secret - the secret must not cross a network unencrypted */
static void
check_plain_secret(struct cfg_loader *ld)
{
	const struct tfo_config *c = ld->cfg;
	const struct tfo_strlist *l = &c->telemetryflow.endpoints;

	if (c->telemetryflow.api_key_secret == NULL || c->telemetryflow.api_key_secret[0] == '\0')
		return;
	if (l->n == 0)
		warn_plain(ld, c->telemetryflow.endpoint, "endpoint");
	for (size_t i = 0; i < l->n; i++)
		warn_plain(ld, l->v[i], "endpoint");
	if (c->heartbeat.enabled)
		warn_plain(ld, c->telemetryflow.api_endpoint, "api_endpoint");
}

/* check_secret_mode - a literal secret in a file others can read is a warning */
static void
check_secret_mode(struct cfg_loader *ld, int mode)
{
	const struct cfg_mark *m = mark_of(ld, "telemetryflow.api_key_secret");

	if (mode < 0 || !(mode & 077) || m->line == 0 || !m->literal ||
	    ld->cfg->telemetryflow.api_key_secret[0] == '\0')
		return;
	tfo_cfg_diag(ld, 1, m->line, m->column, "telemetryflow.api_key_secret",
	    "secret in a file readable by other users (mode %04o); chmod 600 the file "
	    "or use TELEMETRYFLOW_API_KEY_SECRET", mode & 07777);
}

/* keep_positions - where the file set each key, for checks after the load */
static void
keep_positions(struct cfg_loader *ld)
{
	if ((ld->cfg->pos = calloc(tfo_cfg_nrows, sizeof(*ld->cfg->pos))) == NULL)
		return;         /* diagnostics after the load then go without a position */
	for (size_t i = 0; i < tfo_cfg_nrows; i++) {
		ld->cfg->pos[i].line = ld->seen[i].line;
		ld->cfg->pos[i].column = ld->seen[i].column;
	}
}

void
tfo_cfg_diag_key(struct tfo_cfg_diags *d, const struct tfo_config *cfg, int warning,
    const char *key, const char *fmt, ...)
{
	struct cfg_loader ld = { .name = cfg->path, .diags = d };
	int row = tfo_cfg_row_find(key);
	char msg[sizeof(d->d[0].msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (row >= 0 && cfg->pos != NULL)
		tfo_cfg_diag(&ld, warning, cfg->pos[row].line, cfg->pos[row].column, key, "%s", msg);
	else
		tfo_cfg_diag(&ld, warning, 0, 0, key, "%s", msg);
}

static int
load_buf(const char *name, const char *text, size_t len, int mode, struct tfo_config *cfg,
    struct tfo_cfg_diags *diags)
{
	struct cfg_loader ld = { .name = name, .cfg = cfg, .diags = diags };

	memset(cfg, 0, sizeof(*cfg));
	ld.seen = calloc(tfo_cfg_nrows, sizeof(*ld.seen));
	cfg->path = strdup(name);
	if (ld.seen == NULL || cfg->path == NULL) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "out of memory");
		goto out;
	}
	if (tfo_cfg_set_defaults(cfg) != 0)
		tfo_cfg_diag(&ld, 0, 0, 0, "", "internal error: a default does not parse");
	if (text != NULL)
		tfo_cfg_parse_yaml(&ld, text, len);
	if (ld.aborted)
		goto out;
	apply_env(&ld);
	resolve_paths(&ld);
	if (derive(cfg) != 0)
		tfo_cfg_diag(&ld, 0, 0, 0, "", "out of memory");
	follow_defaults(&ld);
	check_cross(&ld);
	check_secret_mode(&ld, mode);
	if (diags->errors == 0)
		check_plain_secret(&ld);
	keep_positions(&ld);
out:
	free(ld.seen);
	if (diags->errors == 0)
		return 0;
	tfo_config_free(cfg);
	return -1;
}

/*
 * own_diags - the caller's diagnostics, or ours on the heap when it passed
 * none: a struct tfo_cfg_diags is ~50 KiB, and on the stack every page of it
 * is touched (stack-clash probes) and stays resident in the supervisor for
 * good (issue 18 §2). NULL when out of memory.
 */
static struct tfo_cfg_diags *
own_diags(struct tfo_cfg_diags *diags, struct tfo_cfg_diags **own)
{
	*own = NULL;
	if (diags != NULL)
		return diags;
	return *own = malloc(sizeof(**own));
}

int
tfo_config_load_string(const char *name, const char *text, size_t len, struct tfo_config *cfg,
    struct tfo_cfg_diags *diags)
{
	struct tfo_cfg_diags *own;
	int rc;

	if ((diags = own_diags(diags, &own)) == NULL)
		return -1;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", name ? name : "<string>");
	rc = load_buf(name ? name : "<string>", text, len, -1, cfg, diags);
	free(own);
	return rc;
}

/* read_fd - the whole file behind fd (bounded), its mode; NULL with a diagnostic */
static char *
read_fd(const char *path, int fd, size_t *len, int *mode, struct tfo_cfg_diags *diags)
{
	struct cfg_loader ld = { .name = path, .diags = diags };
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;

	if (fstat(fd, &st) != 0) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "cannot read: not a regular file");
		return NULL;
	}
	if (st.st_size > CFG_MAX_FILE) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "file too large (max %u bytes)", CFG_MAX_FILE);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "out of memory");
		return NULL;
	}
	*len = 0;
	while (*len < (size_t)st.st_size &&
	    (n = read(fd, buf + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	if (n < 0) {
		tfo_cfg_diag(&ld, 0, 0, 0, "", "cannot read: %s", strerror(errno));
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	*mode = (int)(st.st_mode & 07777);
	return buf;
}

/* load_fd - read fd (closed here) and load it; fd < 0: nothing to read */
static int
load_fd(const char *path, int fd, struct tfo_config *cfg, struct tfo_cfg_diags *diags)
{
	size_t len = 0;
	int mode = -1, rc = -1;
	char *text = NULL;

	if (fd >= 0) {
		text = read_fd(path, fd, &len, &mode, diags);
		close(fd);
	}
	if (text != NULL)
		rc = load_buf(path, text, len, mode, cfg, diags);
	free(text);
	return rc;
}

/* diags_init - empty diagnostics about `path` (own_diags), cfg zeroed */
static struct tfo_cfg_diags *
diags_init(struct tfo_cfg_diags *diags, struct tfo_cfg_diags **own, const char *path,
    struct tfo_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if ((diags = own_diags(diags, own)) == NULL)
		return NULL;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", path);
	return diags;
}

int
tfo_config_load(const char *path, struct tfo_config *cfg, struct tfo_cfg_diags *diags)
{
	struct tfo_cfg_diags *own;
	struct cfg_loader ld = { .name = path };
	int fd, rc;

	if ((ld.diags = diags = diags_init(diags, &own, path, cfg)) == NULL)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		tfo_cfg_diag(&ld, 0, 0, 0, "", "cannot read: %s", strerror(errno));
	rc = load_fd(path, fd, cfg, diags);
	free(own);
	return rc;
}

/* open_trusted - open path (relative: to where we run) as a file root may
 * trust; -1 with a diagnostic */
static int
open_trusted(struct cfg_loader *ld, const char *path)
{
	struct tfo_safe_opts o = { .self = geteuid() };
	char abs[8192], cwd[4096], err[1024];
	int fd;

	/* a relative path is relative to where we run, as every path in the file */
	if (path[0] == '/')
		snprintf(abs, sizeof(abs), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs)) {
		tfo_cfg_diag(ld, 0, 0, 0, "", "cannot read: cannot make the path absolute");
		return -1;
	}
	if ((fd = tfo_safe_open_file(abs, &o, O_RDONLY, err, sizeof(err))) < 0) {
		if (errno == EPERM)
			tfo_cfg_diag(ld, 0, 0, 0, "", "refused: %s (root acts on this file: it must "
			    "be root's alone, not writable by group or other)", err);
		else
			tfo_cfg_diag(ld, 0, 0, 0, "", "cannot read: %s", err);
	}
	return fd;
}

int
tfo_config_load_trusted(const char *path, struct tfo_config *cfg, struct tfo_cfg_diags *diags)
{
	struct tfo_cfg_diags *own;
	struct cfg_loader ld = { .name = path };
	int rc;

	if ((ld.diags = diags = diags_init(diags, &own, path, cfg)) == NULL)
		return -1;
	rc = load_fd(path, open_trusted(&ld, path), cfg, diags);
	free(own);
	return rc;
}

void
tfo_cfg_diag_format(const struct tfo_config *cfg, const char *path, const struct tfo_cfg_diag *d,
    char *buf, size_t bufsz)
{
	const char *file = path ? path : cfg && cfg->path ? cfg->path : "<config>";
	char pos[32] = "";

	if (d->line > 0)
		snprintf(pos, sizeof(pos), ":%d:%d", d->line, d->column);
	snprintf(buf, bufsz, "%s%s: %s%s%s%s", file, pos, d->warning ? "warning: " : "",
	    d->key, d->key[0] ? ": " : "", d->msg);
}

void
tfo_cfg_diags_print(FILE *fp, const char *path, const struct tfo_cfg_diags *diags)
{
	char line[1024];

	for (size_t i = 0; i < diags->n; i++) {
		tfo_cfg_diag_format(NULL, path ? path : diags->file, &diags->d[i], line, sizeof(line));
		fprintf(fp, "%s\n", line);
	}
}

void
tfo_config_summary(const struct tfo_config *cfg, char *buf, size_t bufsz)
{
	char sys[16] = "off", proc[16] = "off", hb[16] = "off", logs[32] = "off", age[16];
	char self[16] = "off";

	if (cfg->system.enabled)
		tfo_cfg_fmt_duration(cfg->system.interval_ms, sys, sizeof(sys));
	if (cfg->process.enabled)
		tfo_cfg_fmt_duration(cfg->process.interval_ms, proc, sizeof(proc));
	if (cfg->heartbeat.enabled)
		tfo_cfg_fmt_duration(cfg->heartbeat.interval_ms, hb, sizeof(hb));
	if (cfg->logs.enabled)
		snprintf(logs, sizeof(logs), "%zu path%s", cfg->logs.paths.n,
		    cfg->logs.paths.n == 1 ? "" : "s");
	if (cfg->agent.self_metrics_enabled)
		tfo_cfg_fmt_duration(cfg->agent.self_metrics_interval_ms, self, sizeof(self));
	tfo_cfg_fmt_duration(cfg->buffer.max_age_ms, age, sizeof(age));
	snprintf(buf, bufsz, "endpoint %s (%s, %s%s%s), system %s, process %s, logs %s, "
	    "heartbeat %s, self metrics %s, buffer %s (%llu MiB, %s)", cfg->telemetryflow.endpoint,
	    cfg->telemetryflow.protocol, cfg->telemetryflow.compression,
	    cfg->telemetryflow.tls.enabled ? ", tls" : "",
	    cfg->telemetryflow.endpoints.n > 1 ? ", failover" : "", sys, proc, logs, hb, self,
	    cfg->buffer.path, (unsigned long long)cfg->buffer.max_size_mb, age);
}
