/*
 * main.c - tfo-process, the per-process metrics collector (runs as
 * tfo-process). LIFECYCLE STUB until the process-collector issue: it runs the
 * shared skeleton and answers pings; it collects nothing yet.
 */
#include <linux/capability.h>

#include "common/worker.h"

static const int process_caps[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, -1 };

static void
process_shutdown(struct tfo_worker *w, uint32_t deadline_ms, void *arg)
{
	(void)deadline_ms;
	(void)arg;
	tfo_worker_exit(w, 0);
}

int
main(int argc, char **argv)
{
	static const struct tfo_worker_ops ops = {
		.role = "process",
		.role_id = TFO__V1__ROLE__ROLE_PROCESS,
		.caps = process_caps,
		.shutdown = process_shutdown,
	};

	return tfo_worker_main(argc, argv, &ops, NULL);
}
