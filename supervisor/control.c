/*
 * control.c - tfo-supervisor's control socket for tfoctl: an nng REP socket
 * served by one thread that hands each request to the libevent loop through
 * a pipe; the loop decodes, dispatches on CtlRequest.verb and replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

#define CTL_NNG_MAX (64 * 1024)      /* larger is dropped by nng itself */

struct sv_ctl {
	nng_socket sock;
	int sock_open;
	struct tfo_ipc_policy pol;
	pthread_t thr;
	int thr_started;
	int wake[2];                 /* thread -> loop */
	struct event *ev;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	nng_msg *req;                /* handed to the loop */
	uint8_t *reply;
	size_t reply_len;
	int have_reply, closing;
	int deferred;                /* the loop answers later (ctl_complete) */
	char path[4096];
};

/* ------------------------------------------------------------------ thread */

static void
send_reply(struct sv_ctl *c, uint8_t *buf, size_t len)
{
	nng_msg *m;

	if (buf && nng_msg_alloc(&m, len) == 0) {
		memcpy(nng_msg_body(m), buf, len);
		if (nng_sendmsg(c->sock, m, 0) != 0)
			nng_msg_free(m);
	}
	free(buf);
}

static void *
ctl_thread(void *arg)
{
	struct sv_ctl *c = arg;
	nng_msg *m;
	int rv;

	for (;;) {
		if ((rv = nng_recvmsg(c->sock, &m, 0)) != 0) {
			if (rv == NNG_ECLOSED)
				break;
			continue;
		}
		pthread_mutex_lock(&c->mu);
		c->req = m;
		c->have_reply = 0;
		pthread_mutex_unlock(&c->mu);
		if (write(c->wake[1], "r", 1) != 1) {
			pthread_mutex_lock(&c->mu);
			c->req = NULL;
			pthread_mutex_unlock(&c->mu);
			nng_msg_free(m);
			continue;
		}
		pthread_mutex_lock(&c->mu);
		while (!c->have_reply && !c->closing)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->have_reply) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		c->have_reply = 0;
		pthread_mutex_unlock(&c->mu);
		send_reply(c, c->reply, c->reply_len);
	}
	return NULL;
}

static void ctl_complete(void *arg, uint8_t *out, size_t len);

/* on_wake - loop side: take the request, answer it, wake the thread */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;
	struct sv_ctl *c = sv->ctl;
	nng_msg *m;
	uint8_t *out, b;
	size_t outlen = 0;
	int deferred;
	const struct sv_ctl_done done = { ctl_complete, sv };

	(void)what;
	if (read(fd, &b, 1) != 1)
		return;
	pthread_mutex_lock(&c->mu);
	m = c->req;
	c->req = NULL;
	pthread_mutex_unlock(&c->mu);
	if (m == NULL)
		return;
	out = sv_ctl_handle(sv, nng_msg_body(m), nng_msg_len(m), &outlen, &done, &deferred);
	nng_msg_free(m);
	if (deferred) {
		c->deferred = 1;
		return;
	}                 /* the thread keeps waiting for ctl_complete */
	pthread_mutex_lock(&c->mu);
	c->reply = out;
	c->reply_len = outlen;
	c->have_reply = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ctl_complete - the deferred reply (sv_ctl_done): wake the thread with it */
static void
ctl_complete(void *arg, uint8_t *out, size_t len)
{
	struct sv *sv = arg;
	struct sv_ctl *c = sv->ctl;

	if (c == NULL || !c->deferred) {
		free(out);
		return;
	}
	c->deferred = 0;
	pthread_mutex_lock(&c->mu);
	c->reply = out;
	c->reply_len = len;
	c->have_reply = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------------ socket */

/* socket_in_use - another supervisor answers on path */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rv;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	rv = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rv == 0;
}

static int
ctl_listen(struct sv *sv, struct sv_ctl *c)
{
	char url[4200];
	struct group *g = getgrnam(sv->cfg.supervisor.admin_group);
	int rv;

	tfo_ipc_policy_init(&c->pol, "control");
	tfo_ipc_policy_allow(&c->pol, 0);
	tfo_ipc_policy_allow(&c->pol, (uint32_t)geteuid());
	if (g) {
		c->pol.gid = g->gr_gid;
		c->pol.allow_gid = 1;
	} else
		log_warn("control: admin group %s does not exist: root only",
		    sv->cfg.supervisor.admin_group);
	if (socket_in_use(c->path)) {
		log_error("control: %s is in use: another tfo-supervisor is running", c->path);
		return -1;
	}
	(void)unlink(c->path);
	snprintf(url, sizeof(url), "ipc://%s", c->path);
	if ((rv = tfo_ipc_rep_listen(&c->sock, url, CTL_NNG_MAX, 0660, &c->pol)) != 0) {
		log_error("control: listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	c->sock_open = 1;
	/* A reply never blocks the control thread for long. */
	(void)nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, 5000);
	/* never through a link: the runtime dir is group-writable (sticky) */
	if (sv->root && g && fchownat(AT_FDCWD, c->path, 0, g->gr_gid, AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("control: chown %s: %s", c->path, strerror(errno));
	return 0;
}

int
sv_ctl_init(struct sv *sv)
{
	struct sv_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	sv->ctl = c;
	c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/control.ipc",
	    sv->cfg.agent.runtime_dir) >= sizeof(c->path))
		return -1;
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) == -1 || ctl_listen(sv, c) == -1)
		return -1;
	c->ev = event_new(sv->base, c->wake[0], EV_READ | EV_PERSIST, on_wake, sv);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1)
		return -1;
	if (pthread_create(&c->thr, NULL, ctl_thread, c) != 0)
		return -1;
	c->thr_started = 1;
	log_info("control: listening on %s", c->path);
	return 0;
}

void
sv_ctl_fini(struct sv *sv)
{
	struct sv_ctl *c = sv->ctl;

	if (c == NULL)
		return;
#ifdef TFO_TEST_HOOKS
	sv_test_action_fini(sv);
#endif
	pthread_mutex_lock(&c->mu);
	c->closing = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->sock_open)
		nng_close(c->sock);
	if (c->thr_started)
		pthread_join(c->thr, NULL);
	if (c->req)
		nng_msg_free(c->req);
	if (c->ev)
		event_free(c->ev);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	if (c->sock_open)
		(void)unlink(c->path);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	sv->ctl = NULL;
}
