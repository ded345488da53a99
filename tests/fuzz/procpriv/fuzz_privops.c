/*
 * fuzz_privops.c - libFuzzer harness for both ends of the tfo-process <->
 * tfo-procpriv contract (common/privops.h). Mode byte bit 0 clear: the bytes
 * are a request served by the helper's real operations (workers/procpriv/
 * ops.c) over the live /proc (bit 1: fd/ counted by listing); its reply must
 * be well-formed and within bounds. Bit 0 set: the bytes are a reply to
 * min(32, byte 1 + 1) requests for pids 1..n, parsed by tfo-process's client
 * (workers/process/priv.c); what it accepts must be within bounds. The rest
 * is copied to an exact-size heap buffer so ASan sees any overread.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workers/process/priv.h"
#include "workers/procpriv/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t reply[TFO_PRIVOPS_REPLY_MAX];

/* check_reply - a served reply: header, n records, lengths that add up */
static void
check_reply(const uint8_t *req, size_t rlen)
{
	struct tfo_privops_hdr h, q;
	size_t off = sizeof(h);

	if (rlen < sizeof(h) || rlen > sizeof(reply))
		abort();
	memcpy(&h, reply, sizeof(h));
	memcpy(&q, req, sizeof(q));
	if (h.magic != TFO_PRIVOPS_MAGIC || h.type != TFO_PRIVMSG_READ || h.n != q.n)
		abort();
	for (uint32_t i = 0; i < h.n; i++) {
		struct tfo_privops_res r;
		if (rlen - off < sizeof(r))
			abort();
		memcpy(&r, reply + off, sizeof(r));
		if (r.exe_len > TFO_PRIVOPS_EXE_MAX || (r.exe_len > 0) != (r.err_exe == 0))
			abort();
		off += sizeof(r) + TFO_PRIVOPS_PAD8(r.exe_len);
	}
	if (off != rlen)
		abort();
}

static void
serve(const uint8_t *b, size_t n, int list)
{
	static int procfd = -1;
	struct tfo_privops_env env;
	size_t rlen;

	if (procfd < 0 && (procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	env.procfd = procfd;
	env.list_fds = list;
	if (tfo_privops_serve(&env, b, n, reply, sizeof(reply), &rlen) == TFO_OK)
		check_reply(b, rlen);
}

static void
parse(const uint8_t *b, size_t n, unsigned count)
{
	struct tfo_privops_req req[TFO_PRIVOPS_BATCH];
	struct tfo_priv_ans ans[TFO_PRIVOPS_BATCH];
	uint8_t *buf = malloc(n + 1);

	if (buf == NULL)
		return;
	memcpy(buf, b, n);
	for (unsigned i = 0; i < count; i++)
		req[i] = (struct tfo_privops_req){ .pid = (int32_t)i + 1, .ops = TFO_PRIVOP_ALL };
	if (tfo_priv_parse_reply(buf, n, req, count, ans) == TFO_OK) {
		for (unsigned i = 0; i < count; i++)
			if (ans[i].pid != (int32_t)i + 1 || (ans[i].exe != NULL &&
			    (ans[i].exe_len == 0 || ans[i].exe_len > TFO_PRIVOPS_EXE_MAX ||
			    strlen(ans[i].exe) != ans[i].exe_len)))
				abort();
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b;

	if (size < 2)
		return 0;
	if ((b = malloc(size - 1)) == NULL)
		return 0;
	memcpy(b, data + 1, size - 1);
	if (data[0] & 1)
		parse(b + 1, size - 2, (unsigned)data[1] % TFO_PRIVOPS_BATCH + 1);
	else
		serve(b, size - 1, (data[0] & 2) != 0);
	free(b);
	return 0;
}
