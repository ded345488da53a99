/*
 * test_cloud.c - cloud metadata: AWS IMDSv2 token flow, GCP and Azure headers,
 * against a fake metadata service on 127.0.0.1 (never a real endpoint), and
 * the reply parsers on garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "httpd.h"
#include "workers/exporter/hbcloud.h"

enum cloud { AWS, GCP, AZURE, NONE };

struct fake {
	enum cloud cloud;
	atomic_int requests, aws_requests;
};

static void
aws(const struct t_req *r, struct t_resp *resp)
{
	char v[128];

	if (strcmp(r->path, "/latest/api/token") == 0 && strcmp(r->method, "PUT") == 0 &&
	    t_header(r, "X-aws-ec2-metadata-token-ttl-seconds", v, sizeof(v))) {
		snprintf(resp->body, sizeof(resp->body), "TOKEN-abc==");
	} else if (strcmp(r->path, "/latest/dynamic/instance-identity/document") == 0 &&
		   t_header(r, "X-aws-ec2-metadata-token", v, sizeof(v)) &&
		   strcmp(v, "TOKEN-abc==") == 0) {
		snprintf(resp->body, sizeof(resp->body),
			 "{\"accountId\":\"1\",\"instanceId\":\"i-0abc123\",\"instanceType\":\"c6g.large\","
			 "\"region\":\"eu-west-1\",\"availabilityZone\":\"eu-west-1b\"}");
	} else {
		resp->status = 401;   /* IMDSv2 without a token */
	}
}

static void
handler(void *arg, const struct t_req *r, struct t_resp *resp)
{
	struct fake *f = arg;
	char v[64];

	atomic_fetch_add(&f->requests, 1);
	if (strncmp(r->path, "/latest/", 8) == 0)
		atomic_fetch_add(&f->aws_requests, 1);
	resp->status = 404;
	if (f->cloud == AWS) {
		resp->status = 200;
		aws(r, resp);
	} else if (f->cloud == GCP && strncmp(r->path, "/computeMetadata/v1/instance/", 29) == 0) {
		if (!t_header(r, "Metadata-Flavor", v, sizeof(v)) || strcmp(v, "Google") != 0)
			resp->status = 403;
		else if (strcmp(r->path + 29, "id") == 0)
			resp->status = 200, snprintf(resp->body, sizeof(resp->body), "4520031799277581759");
		else if (strcmp(r->path + 29, "machine-type") == 0)
			resp->status = 200, snprintf(resp->body, sizeof(resp->body), "projects/12/machineTypes/e2-medium");
		else if (strcmp(r->path + 29, "zone") == 0)
			resp->status = 200, snprintf(resp->body, sizeof(resp->body), "projects/12/zones/us-central1-a");
	} else if (f->cloud == AZURE && strncmp(r->path, "/metadata/instance?", 19) == 0) {
		if (!t_header(r, "Metadata", v, sizeof(v)) || strcmp(v, "true") != 0) {
			resp->status = 400;
		} else {
			resp->status = 200;
			snprintf(resp->body, sizeof(resp->body),
				 "{\"compute\":{\"vmId\":\"02aab8a4-74ef-476e-8182-f6d2ba4166a6\","
				 "\"vmSize\":\"Standard_D2s_v3\",\"location\":\"westeurope\",\"zone\":\"2\"}}");
		}
	}
}

static enum tfo_err
fetch(enum cloud cloud, const char *dmi_provider, struct tfo_cloud_info *ci, struct fake *f)
{
	struct t_httpd *h;
	char base[64];
	enum tfo_err e;

	memset(ci, 0, sizeof(*ci));
	snprintf(ci->provider, sizeof(ci->provider), "%s", dmi_provider);
	f->cloud = cloud;
	h = t_httpd_start(handler, f);
	assert_non_null(h);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", t_httpd_port(h));
	e = hb_cloud_fetch(base, 1000, ci);
	t_httpd_stop(h);
	return e;
}

static void
test_aws_imdsv2(void **state)
{
	struct fake f = { 0 };
	struct tfo_cloud_info ci;

	(void)state;
	assert_int_equal(fetch(AWS, "", &ci, &f), TFO_OK);
	assert_string_equal(ci.provider, "aws");
	assert_string_equal(ci.instance_id, "i-0abc123");
	assert_string_equal(ci.instance_type, "c6g.large");
	assert_string_equal(ci.region, "eu-west-1");
	assert_string_equal(ci.zone, "eu-west-1b");
	assert_int_equal(atomic_load(&f.requests), 2);   /* token, then document */
}

static void
test_gcp_after_aws_miss(void **state)
{
	struct fake f = { 0 };
	struct tfo_cloud_info ci;

	(void)state;
	assert_int_equal(fetch(GCP, "", &ci, &f), TFO_OK);
	assert_string_equal(ci.provider, "gcp");
	assert_string_equal(ci.instance_id, "4520031799277581759");   /* wider than a double */
	assert_string_equal(ci.instance_type, "e2-medium");
	assert_string_equal(ci.zone, "us-central1-a");
	assert_string_equal(ci.region, "us-central1");
}

static void
test_azure_only_when_dmi_says_azure(void **state)
{
	struct fake f = { 0 };
	struct tfo_cloud_info ci;

	(void)state;
	assert_int_equal(fetch(AZURE, "azure", &ci, &f), TFO_OK);
	assert_string_equal(ci.provider, "azure");
	assert_string_equal(ci.instance_id, "02aab8a4-74ef-476e-8182-f6d2ba4166a6");
	assert_string_equal(ci.instance_type, "Standard_D2s_v3");
	assert_string_equal(ci.region, "westeurope");
	assert_string_equal(ci.zone, "2");
	assert_int_equal(atomic_load(&f.aws_requests), 0);
	assert_int_equal(atomic_load(&f.requests), 1);
}

static void
test_nobody_answers(void **state)
{
	struct fake f = { 0 };
	struct tfo_cloud_info ci;

	(void)state;
	assert_int_equal(fetch(NONE, "", &ci, &f), TFO_ENOENT);
	assert_string_equal(ci.provider, "");
	assert_string_equal(ci.instance_id, "");
	/* the DMI provider is kept when its service is silent */
	assert_int_equal(fetch(NONE, "gcp", &ci, &f), TFO_ENOENT);
	assert_string_equal(ci.provider, "gcp");
}

static void
test_parsers_garbage(void **state)
{
	static const char *const junk[] = {
		"", "{", "[]", "null", "{\"instanceId\":5}", "{\"compute\":[]}",
		"{\"compute\":{\"vmId\":\"\"}}", "{\"instanceId\":\"\"}", "\"x\"",
	};
	struct tfo_cloud_info ci;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		memset(&ci, 0, sizeof(ci));
		assert_int_equal(hb_cloud_parse_aws(junk[i], strlen(junk[i]), &ci), -1);
		assert_int_equal(hb_cloud_parse_azure(junk[i], strlen(junk[i]), &ci), -1);
		assert_string_equal(ci.provider, "");
	}
	memset(&ci, 0, sizeof(ci));
	assert_int_equal(hb_cloud_parse_gcp("12 34", 5, NULL, 0, NULL, 0, &ci), -1);
	assert_int_equal(hb_cloud_parse_gcp("abc", 3, NULL, 0, NULL, 0, &ci), -1);
	assert_int_equal(hb_cloud_parse_gcp("", 0, NULL, 0, NULL, 0, &ci), -1);
	assert_string_equal(ci.instance_id, "");
	/* control characters never reach the payload */
	memset(&ci, 0, sizeof(ci));
	{
		const char *j = "{\"instanceId\":\"i-1\\u0001\\\"x\",\"region\":\"r\\n1\"}";
		assert_int_equal(hb_cloud_parse_aws(j, strlen(j), &ci), 0);
		assert_string_equal(ci.instance_id, "i-1x");
		assert_string_equal(ci.region, "r1");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_imdsv2),
		cmocka_unit_test(test_gcp_after_aws_miss),
		cmocka_unit_test(test_azure_only_when_dmi_says_azure),
		cmocka_unit_test(test_nobody_answers),
		cmocka_unit_test(test_parsers_garbage),
	};
	return cmocka_run_group_tests(tests, t_curl_setup, t_curl_teardown);
}
