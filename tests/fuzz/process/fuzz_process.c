/*
 * fuzz_process.c - libFuzzer harness for tfo-process's parsers of hostile
 * text: /proc/<pid>/{stat,status,io,cmdline,cgroup} (common/procfs_pid), the
 * passwd table and command-line redaction. The first byte picks the parser;
 * the rest is copied to an exact-size heap buffer so ASan sees any overread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/procfs_pid.h"
#include "workers/process/match.h"
#include "workers/process/owner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n >= cap || tfo_procfs_utf8_cut(s, n) != n)
		abort();        /* not terminated, or a split character */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			abort();
}

static void
run(unsigned sel, const char *b, size_t n)
{
	static struct tfo_redact red;
	static int red_ok;
	struct tfo_pid_stat st;
	struct tfo_pid_status ps;
	struct tfo_pid_io io;
	struct tfo_pid_cmdline ci;
	struct tfo_owners o = { 0 };
	char out[96];

	switch (sel % 6) {
	case 0:
		if (tfo_procfs_pid_stat(b, n, &st) == TFO_OK && (st.nfields < 24 || st.pid < 0))
			abort();
		check_text(st.comm, sizeof(st.comm));
		break;
	case 1:
		(void)tfo_procfs_pid_status(b, n, &ps);
		break;
	case 2:
		(void)tfo_procfs_pid_io(b, n, &io);
		break;
	case 3:
		tfo_procfs_pid_cmdline(b, n, out, sizeof(out), &ci);
		check_text(out, sizeof(out));
		if (ci.len != strlen(out) || ci.argv0_len > ci.len)
			abort();
		if (!red_ok) {
			static char *pats[] = { "--password[= ]([^ ]+)", "x*", "(a|b)+" };
			red_ok = tfo_redact_init(&red, pats, 3, NULL, 0) == TFO_OK;
		}
		tfo_redact_apply(&red, out, sizeof(out));
		check_text(out, sizeof(out));
		break;
	case 4:
		tfo_procfs_pid_cgroup(b, n, out, sizeof(out));
		check_text(out, sizeof(out));
		break;
	default:
		if (tfo_owners_parse(&o, b, n) == TFO_OK)
			for (size_t i = 0; i < o.n; i++)
				if ((i > 0 && o.v[i - 1].uid >= o.v[i].uid) ||
				    tfo_owners_name(&o, o.v[i].uid) != o.v[i].name)
					abort();
		tfo_owners_fini(&o);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b;

	if (size == 0)
		return 0;
	if ((b = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(b, data + 1, size - 1);
	run(data[0], b, size - 1);
	free(b);
	return 0;
}
