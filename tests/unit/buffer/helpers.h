/*
 * helpers.h - shared fixtures of the buffer unit tests: a temp store with a
 * fake clock, put/fetch shorthands, recursive cleanup.
 */
#ifndef TFO_TEST_BUFFER_HELPERS_H
#define TFO_TEST_BUFFER_HELPERS_H

#include <stdint.h>

#include "workers/buffer/store.h"

struct fix {
	char dir[256];
	char path[300];
	uint64_t now;              /* fake wall clock, ms */
	struct tfo_store_opts o;
	struct tfo_store *st;
};

void fix_init(struct fix *f, uint64_t max_bytes, uint64_t max_age_ms);
void fix_open(struct fix *f);
void fix_close(struct fix *f);
void fix_fini(struct fix *f);
void rm_rf(const char *path);

/* put_str - stage one metrics put "payload" as (role, inc, seq); returns the result */
enum tfo_put_result put_str(struct fix *f, uint32_t signal, uint64_t inc, uint64_t seq,
    const char *payload);
/* put_as - the same as role (1 system, 2 process, 3 logs) */
enum tfo_put_result put_as(struct fix *f, uint32_t signal, uint32_t role, uint64_t inc,
    uint64_t seq, const char *payload);
void commit_ok(struct fix *f);
/* batch_inflate - b's entries as payloads, as the exporter makes them (LZ4
 * blocks inflated; those that do not inflate left out, counted in *bad) */
enum tfo_err batch_inflate(struct tfo_store_batch *b, size_t *bad);
/* drain - fetch+ack everything of signal, appending payloads to out (n entries) */
size_t drain(struct fix *f, uint32_t signal, char out[][64], size_t max);

#endif
