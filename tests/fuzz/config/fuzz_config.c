/*
 * fuzz_config.c - libFuzzer harness: arbitrary bytes as a config file, then
 * (when they load) every role's WorkerConfig packed, the summary formatted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tfo_cfg_diags d;
	struct tfo_config cfg;
	char line[1024];

	if (tfo_config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &d) == 0) {
		for (int r = 0; r < TFO_ROLE_COUNT; r++) {
			struct tfo_worker_msg *m = tfo_config_worker_msg(&cfg, (enum tfo_role)r, "id", 1);
			Tfo__V1__WorkerConfig *wc = tfo_worker_msg_get(m);
			size_t n = wc ? tfo__v1__worker_config__get_packed_size(wc) : 0;
			uint8_t *buf = malloc(n + 1);
			if (wc != NULL && buf != NULL)
				tfo__v1__worker_config__pack(wc, buf);
			free(buf);
			tfo_worker_msg_free(m);
		}
		tfo_config_summary(&cfg, line, sizeof(line));
		tfo_config_free(&cfg);
	}
	for (size_t i = 0; i < d.n; i++)
		tfo_cfg_diag_format(NULL, d.file, &d.d[i], line, sizeof(line));
	return 0;
}
