/*
 * hbcloud.c - cloud instance metadata (tfo-exporter, the relay's lookup thread,
 * for tfo-heartbeat): AWS IMDSv2 token flow, GCP (Metadata-Flavor: Google),
 * Azure (Metadata: true). Only when configured; 1 s per request; replies are
 * bounded and parsed as hostile.
 */
#include "workers/exporter/hbcloud.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#define REPLY_MAX 16384u

struct reply {
	char buf[REPLY_MAX];
	size_t len;
	bool overflow;
};

/* put - copy a JSON string member (printable ASCII only) into dst */
static bool
put(char *dst, size_t cap, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t j = 0;

	if (!cJSON_IsString(v) || v->valuestring == NULL || v->valuestring[0] == '\0')
		return false;
	for (const char *p = v->valuestring; *p != '\0' && j + 1 < cap; p++)
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			dst[j++] = *p;
	dst[j] = '\0';
	return j > 0;
}

/* last_segment - "projects/1/zones/us-central1-a" -> "us-central1-a" */
static void
last_segment(char *s)
{
	char *slash = strrchr(s, '/');

	if (slash != NULL)
		memmove(s, slash + 1, strlen(slash + 1) + 1);
}

int
hb_cloud_parse_aws(const char *buf, size_t len, struct tfo_cloud_info *ci)
{
	cJSON *o = cJSON_ParseWithLength(buf, len);
	int rc = -1;

	if (cJSON_IsObject(o) && put(ci->instance_id, sizeof(ci->instance_id), o, "instanceId")) {
		put(ci->instance_type, sizeof(ci->instance_type), o, "instanceType");
		put(ci->region, sizeof(ci->region), o, "region");
		put(ci->zone, sizeof(ci->zone), o, "availabilityZone");
		snprintf(ci->provider, sizeof(ci->provider), "aws");
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

/* text_value - one plain-text metadata value (no control chars) into dst */
static bool
text_value(char *dst, size_t cap, const char *v, size_t n)
{
	size_t j = 0;

	while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
		n--;
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return false;
		dst[j++] = v[i];
	}
	dst[j] = '\0';
	return true;
}

int
hb_cloud_parse_gcp(const char *id, size_t idn, const char *mtype, size_t mtn, const char *zone,
		   size_t zn, struct tfo_cloud_info *ci)
{
	char *dash;

	if (id == NULL)
		return -1;
	/* the numeric id is wider than a double: it is kept as text */
	if (!text_value(ci->instance_id, sizeof(ci->instance_id), id, idn) ||
	    strspn(ci->instance_id, "0123456789") != strlen(ci->instance_id)) {
		ci->instance_id[0] = '\0';
		return -1;
	}
	if (mtype != NULL && text_value(ci->instance_type, sizeof(ci->instance_type), mtype, mtn))
		last_segment(ci->instance_type);   /* projects/1/machineTypes/e2-medium */
	if (zone != NULL && text_value(ci->zone, sizeof(ci->zone), zone, zn)) {
		last_segment(ci->zone);             /* projects/1/zones/us-central1-a */
		snprintf(ci->region, sizeof(ci->region), "%s", ci->zone);
		if ((dash = strrchr(ci->region, '-')) != NULL)
			*dash = '\0';                  /* us-central1-a -> us-central1 */
	}
	snprintf(ci->provider, sizeof(ci->provider), "gcp");
	return 0;
}

int
hb_cloud_parse_azure(const char *buf, size_t len, struct tfo_cloud_info *ci)
{
	cJSON *o = cJSON_ParseWithLength(buf, len), *c;
	int rc = -1;

	c = cJSON_GetObjectItemCaseSensitive(o, "compute");
	if (cJSON_IsObject(c) && put(ci->instance_id, sizeof(ci->instance_id), c, "vmId")) {
		put(ci->instance_type, sizeof(ci->instance_type), c, "vmSize");
		put(ci->region, sizeof(ci->region), c, "location");
		if (!put(ci->zone, sizeof(ci->zone), c, "zone"))
			ci->zone[0] = '\0';
		snprintf(ci->provider, sizeof(ci->provider), "azure");
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

/* ---------------------------------------------------------------- HTTP */

static size_t
collect_cb(char *p, size_t sz, size_t n, void *userp)
{
	struct reply *r = userp;
	size_t take = sz * n;

	if (r->len + take >= sizeof(r->buf)) {
		r->overflow = true;
		return 0;
	}
	memcpy(r->buf + r->len, p, take);
	r->len += take;
	r->buf[r->len] = '\0';
	return take;
}

/* get - one request; 0 with the body in r on HTTP 200 */
static int
get(const char *url, const char *method, const char *h1, const char *h2, uint32_t timeout_ms,
    struct reply *r)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL, *t;
	long status = 0;
	CURLcode cc = CURLE_FAILED_INIT;

	r->len = 0;
	r->buf[0] = '\0';
	r->overflow = false;
	if (e == NULL)
		return -1;
	if (h1 != NULL && (t = curl_slist_append(h, h1)) != NULL)
		h = t;
	if (h2 != NULL && (t = curl_slist_append(h, h2)) != NULL)
		h = t;
	if (curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect_cb) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK)
		cc = curl_easy_perform(e);
	if (cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return cc == CURLE_OK && status == 200 && !r->overflow ? 0 : -1;
}

static void
url_of(char *out, size_t cap, const char *base, const char *dflt, const char *path)
{
	snprintf(out, cap, "%s%s", base != NULL && base[0] != '\0' ? base : dflt, path);
}

static int
fetch_aws(const char *base, uint32_t ms, struct reply *r, struct tfo_cloud_info *ci)
{
	char url[1024], tok[512 + 32];

	url_of(url, sizeof(url), base, "http://169.254.169.254", "/latest/api/token");
	if (get(url, "PUT", "X-aws-ec2-metadata-token-ttl-seconds: 60", NULL, ms, r) < 0 ||
	    r->len == 0 || r->len > 512 || strcspn(r->buf, "\r\n") != r->len)
		return -1;
	snprintf(tok, sizeof(tok), "X-aws-ec2-metadata-token: %.512s", r->buf);
	url_of(url, sizeof(url), base, "http://169.254.169.254",
	       "/latest/dynamic/instance-identity/document");
	if (get(url, "GET", tok, NULL, ms, r) < 0)
		return -1;
	return hb_cloud_parse_aws(r->buf, r->len, ci);
}

static int
fetch_gcp(const char *base, uint32_t ms, struct reply *r, struct tfo_cloud_info *ci)
{
	static const char *const paths[3] = {
		"/computeMetadata/v1/instance/id",
		"/computeMetadata/v1/instance/machine-type",
		"/computeMetadata/v1/instance/zone",
	};
	char url[1024], *v[3] = { NULL, NULL, NULL };
	size_t n[3] = { 0, 0, 0 };
	int rc = -1;

	for (int i = 0; i < 3; i++) {
		url_of(url, sizeof(url), base, "http://metadata.google.internal", paths[i]);
		if (get(url, "GET", "Metadata-Flavor: Google", NULL, ms, r) < 0) {
			if (i == 0)
				goto out;   /* not GCP */
			continue;
		}
		if ((v[i] = malloc(r->len + 1)) == NULL)
			goto out;
		memcpy(v[i], r->buf, r->len + 1);
		n[i] = r->len;
	}
	rc = hb_cloud_parse_gcp(v[0], n[0], v[1], n[1], v[2], n[2], ci);
out:
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return rc;
}

static int
fetch_azure(const char *base, uint32_t ms, struct reply *r, struct tfo_cloud_info *ci)
{
	char url[1024];

	url_of(url, sizeof(url), base, "http://169.254.169.254",
	       "/metadata/instance?api-version=2021-02-01");
	if (get(url, "GET", "Metadata: true", NULL, ms, r) < 0)
		return -1;
	return hb_cloud_parse_azure(r->buf, r->len, ci);
}

enum tfo_err
hb_cloud_fetch(const char *base_url, uint32_t timeout_ms, struct tfo_cloud_info *ci)
{
	static const struct {
		const char *name;
		int (*fetch)(const char *, uint32_t, struct reply *, struct tfo_cloud_info *);
	} providers[] = { { "aws", fetch_aws }, { "gcp", fetch_gcp }, { "azure", fetch_azure } };
	struct reply *r = malloc(sizeof(*r));
	struct tfo_cloud_info got;
	enum tfo_err e = TFO_ENOENT;

	if (r == NULL)
		return TFO_ENOMEM;
	for (size_t i = 0; i < 3 && e != TFO_OK; i++) {
		if (ci->provider[0] != '\0' && strcmp(ci->provider, providers[i].name) != 0)
			continue;
		memset(&got, 0, sizeof(got));
		if (providers[i].fetch(base_url, timeout_ms ? timeout_ms : HB_CLOUD_TIMEOUT_MS, r, &got) == 0) {
			*ci = got;
			e = TFO_OK;
		}
	}
	free(r);
	return e;
}
