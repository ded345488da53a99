/*
 * fuzz_control.c - fuzz harness for the supervisor's two hostile inputs: a
 * worker's fd-3 Control packets (decode + dispatch on a worker slot) and
 * tfoctl's CtlRequest (decode + verb dispatch). First byte: even = fd 3,
 * odd = control.ipc; the rest is the packet. Nothing is ever spawned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sv *
fake_sv(void)
{
	struct sv *sv = calloc(1, sizeof(*sv));

	if (sv == NULL)
		abort();
	sv->no_spawn = 1;
	if (tfo_config_defaults(&sv->cfg) != 0 || (sv->base = event_base_new()) == NULL ||
	    sv_workers_init(sv) != 0)
		abort();
	/* reload reads this: a missing file is one more refused input */
	strcpy(sv->config_path, "/nonexistent/tfo-fuzz.yaml");
	for (int r = 0; r < TFO_ROLE_COUNT; r++) {
		sv->w[r].state = SV_READY;   /* pid 0: kills are no-ops */
		sv->w[r].ping_nonce = 7;
	}
	return sv;
}

static void
free_sv(struct sv *sv)
{
	sv_workers_fini(sv);
	event_base_free(sv->base);
	tfo_config_free(&sv->cfg);
	free(sv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct sv *sv;
	size_t outlen;
	uint8_t *out;
	int deferred;

	if (!quiet) {
		tfo_log_init("fuzz", (enum tfo_log_level)(TFO_LOG_ERROR + 1), TFO_LOG_TEXT);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	sv = fake_sv();
	if ((data[0] & 1) == 0)
		sv_worker_on_packet(&sv->w[data[0] % TFO_ROLE_COUNT], data + 1, size - 1);
	else if ((out = sv_ctl_handle(sv, data + 1, size - 1, &outlen, NULL, &deferred)) != NULL)
		free(out);
	free_sv(sv);
	return 0;
}
