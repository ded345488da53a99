/*
 * bufsource.h - the batch source tfo-exporter uses in production: tfo-buffer's
 * export channel through common/bufclient (synchronous REQ/REP).
 */
#ifndef TFO_EXP_BUFSOURCE_H
#define TFO_EXP_BUFSOURCE_H

#include <stdint.h>
#include <time.h>

#include "common/bufclient.h"
#include "workers/exporter/pipeline.h"

struct tfo_exp_bufsource {
	struct tfo_bufclient c;
	uint64_t errors;
	time_t logged_at;
};

enum tfo_err tfo_exp_bufsource_open(struct tfo_exp_bufsource *bs, const char *url, int timeout_ms,
    uint32_t buffer_uid);
void tfo_exp_bufsource_close(struct tfo_exp_bufsource *bs);
struct tfo_exp_source tfo_exp_bufsource_source(struct tfo_exp_bufsource *bs);

#endif
