/*
 * exp_config.h - test and bench helper: a tfo-exporter WorkerConfig in one
 * struct (the protobuf-c messages point into it, so it is filled in place
 * and never copied), with the defaults test runs share; the caller changes
 * what its run is about, then hands &c->wc to tfo_wspawn_start.
 */
#ifndef TFO_TESTS_EXP_CONFIG_H
#define TFO_TESTS_EXP_CONFIG_H

#include "tfo/v1/tfo.pb-c.h"

struct tfo_exp_testcfg {
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lc;
	Tfo__V1__ExporterConfig ec;
	Tfo__V1__RetryConfig rc;
	Tfo__V1__AgentIdentity ai;
	char *eps[1];
};

/*
 * tfo_exp_testcfg - c for one endpoint, the buffer's export channel at
 * export_url, runtime_dir for its sockets, logging at level: OTLP/HTTP
 * uncompressed, 5 s timeout, retries 100 ms doubling to 400 ms, two requests
 * in flight, a 50 ms flush interval, agent id "agent-test". The strings are
 * not copied: they must outlive c.
 */
void tfo_exp_testcfg(struct tfo_exp_testcfg *c, const char *endpoint, const char *runtime_dir,
    const char *export_url, const char *level);

#endif
