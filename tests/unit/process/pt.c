/*
 * pt.c - helpers of the tfo-process unit tests (pt.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/process/pt.h"

int
pt_emit(void *arg, const uint8_t *p, size_t len, uint32_t points)
{
	struct pt_out *o = arg;
	rm_t *rm;

	if (o->fail_after != 0 && ++o->calls >= (size_t)o->fail_after)
		return -1;
	rm = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL, len, p);
	assert_non_null(rm);
	assert_int_equal(tu_points(rm), points);
	assert_true(o->n < PT_MAXOUT);
	o->rm[o->n++] = rm;
	return 0;
}

void
pt_out_free(struct pt_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(o->rm[i], NULL);
	memset(o, 0, sizeof(*o));
}

const rm_t *
pt_of_pid(const struct pt_out *o, pid_t pid)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", (int)pid);
	for (size_t i = 0; i < o->n; i++) {
		const char *v = tu_res(o->rm[i], "process.pid");
		if (v != NULL && strcmp(v, want) == 0)
			return o->rm[i];
	}
	return NULL;
}

struct tfo_priv *
pt_helper_start(struct tfo_proccol *c, const char *proc)
{
	char err[256];
	struct tfo_priv_spawn sp = { .path = TFO_BUILD_BINDIR "/tfo-procpriv", .uid = -1,
		.gid = -1, .seccomp = "kill", .log_level = "warn", .log_format = "text" };
	struct tfo_priv *p;

	assert_true((sp.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	if ((p = tfo_priv_start(&sp, err, sizeof(err))) == NULL)
		fail_msg("tfo_priv_start: %s", err);
	close(sp.procfd);
	tfo_proccol_set_priv(c, p);
	return p;
}

void
pt_helper_stop(struct tfo_proccol *c, struct tfo_priv *p)
{
	int st;

	tfo_proccol_set_priv(c, NULL);
	assert_int_equal(shutdown(tfo_priv_fd(p), SHUT_RDWR), 0);
	assert_int_equal(tfo_priv_reap(p, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	tfo_priv_close(p);
}
