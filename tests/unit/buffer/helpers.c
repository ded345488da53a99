/*
 * helpers.c - fixtures for the buffer unit tests (see helpers.h).
 */
#include "tests/unit/buffer/helpers.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t
fake_now(void *arg)
{
	return ((struct fix *)arg)->now;
}

void
fix_init(struct fix *f, uint64_t max_bytes, uint64_t max_age_ms)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tfo-buffer-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/queue", f->dir);
	f->now = 1700000000000ull;
	f->o.path = f->path;
	f->o.max_bytes = max_bytes;
	f->o.max_age_ms = max_age_ms;
	f->o.sync = 0;
	f->o.now_ms = fake_now;
	f->o.now_arg = f;
	fix_open(f);
}

void
fix_open(struct fix *f)
{
	enum tfo_err e;
	char err[256];

	f->st = tfo_store_open(&f->o, &e, err, sizeof(err));
	if (f->st == NULL)
		fail_msg("store open: %s: %s", tfo_strerror(e), err);
}

void
fix_close(struct fix *f)
{
	tfo_store_close(f->st);
	f->st = NULL;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
rm_rf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
fix_fini(struct fix *f)
{
	fix_close(f);
	rm_rf(f->dir);
}

enum tfo_put_result
put_str(struct fix *f, uint32_t signal, uint64_t inc, uint64_t seq, const char *payload)
{
	return put_as(f, signal, 1, inc, seq, payload);
}

enum tfo_put_result
put_as(struct fix *f, uint32_t signal, uint32_t role, uint64_t inc, uint64_t seq,
    const char *payload)
{
	struct tfo_store_put p = {
		.role = role, .incarnation = inc, .seq = seq, .signal = signal,
		.payload = payload, .len = strlen(payload), .points = 1,
	};
	const char *why = NULL;

	return tfo_store_put(f->st, &p, &why);
}

void
commit_ok(struct fix *f)
{
	char err[256];

	assert_int_equal(tfo_store_commit(f->st, err, sizeof(err)), TFO_OK);
}

enum tfo_err
batch_inflate(struct tfo_store_batch *b, size_t *bad)
{
	uint8_t *blob;
	enum tfo_err e;

	*bad = 0;
	if (b->raw_lens == NULL)
		return TFO_OK;
	if ((e = tfo_payload_inflate(&b->n, b->data, b->len, b->raw_lens, &blob, bad)) != TFO_OK)
		return e;
	free(b->blob);
	b->blob = blob;
	memset(b->raw_lens, 0, b->n * sizeof(*b->raw_lens));
	return TFO_OK;
}

size_t
drain(struct fix *f, uint32_t signal, char out[][64], size_t max)
{
	struct tfo_store_batch b;
	size_t n = 0;

	while (tfo_store_fetch(f->st, signal, 64, &b) == TFO_OK) {
		size_t bad;
		assert_int_equal(batch_inflate(&b, &bad), TFO_OK);
		assert_int_equal(bad, 0);
		for (size_t i = 0; i < b.n; i++) {
			assert_true(n < max);
			assert_true(b.len[i] < 64);
			memcpy(out[n], b.data[i], b.len[i]);
			out[n][b.len[i]] = '\0';
			n++;
		}
		assert_int_equal(tfo_store_ack(f->st, b.id), TFO_OK);
		tfo_store_batch_free(&b);
		commit_ok(f);
	}
	return n;
}
