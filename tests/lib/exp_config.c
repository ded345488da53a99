/*
 * exp_config.c - a tfo-exporter WorkerConfig for tests and benches
 * (exp_config.h).
 */
#include <string.h>

#include "tests/lib/exp_config.h"
#include "tests/lib/worker_spawn.h"

void
tfo_exp_testcfg(struct tfo_exp_testcfg *c, const char *endpoint, const char *runtime_dir,
    const char *export_url, const char *level)
{
	memset(c, 0, sizeof(*c));
	tfo_wspawn_config(&c->wc, &c->lc, TFO__V1__ROLE__ROLE_EXPORTER, level);
	tfo__v1__exporter_config__init(&c->ec);
	tfo__v1__retry_config__init(&c->rc);
	tfo__v1__agent_identity__init(&c->ai);
	c->ai.id = "agent-test";
	c->rc.initial_interval_ms = 100;
	c->rc.max_interval_ms = 400;
	c->rc.multiplier = 2.0;
	c->eps[0] = (char *)endpoint;
	c->ec.endpoints = c->eps;
	c->ec.n_endpoints = 1;
	c->ec.protocol = "http";
	c->ec.timeout_ms = 5000;
	c->ec.compression = "none";
	c->ec.retry = &c->rc;
	c->ec.flush_interval_ms = 50;
	c->ec.max_in_flight = 2;
	c->wc.agent = &c->ai;
	c->wc.runtime_dir = (char *)runtime_dir;
	c->wc.export_url = (char *)export_url;
	c->wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_EXPORTER;
	c->wc.exporter = &c->ec;
}
