/*
 * proc_drive.c - drives the real tfo-process as tfo-supervisor would (fd 3 =
 * SOCK_SEQPACKET socketpair, one Control{config}, wait for Ready) while
 * playing tfo-buffer's ingest REP. Prints one JSON line for the worker's
 * identity ({"worker": pid, "uid": .., "capeff": ".."}) and one per put:
 * {"t": ns, "res": {attrs}, "m": {"name|k=v": value}}. After puts of
 * `cycles` distinct collection times it asks for the worker's stats
 * ({"stats": {name: value}}) and, in TFO_TEST_HOOKS builds, has it attempt
 * open_shadow, open_root_shadow and proc_mem ({"action": name, "err": errno,
 * 0 = it worked}), then shuts it down. Its privileged reader tfo-procpriv,
 * when there is one, is described like the worker ({"helper": pid, ...})
 * and must be gone after the worker ({"helper_gone": true}).
 * -u: collectors.process.privileged_reads false.
 * Usage: proc_drive [-u] tfo-process-binary user cycles interval_ms top_n [include...]
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"
#include "tests/lib/worker_spawn.h"

#define MAX_TIMES 64

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
json_kv_value(const kv_t *kv)
{
	if (kv->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
		json_str(kv->value->string_value);
	else if (kv->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
		printf("%lld", (long long)kv->value->int_value);
	else
		printf("null");
}

/* print_rm - one ResourceMetrics as a JSON line; returns its points' time */
static uint64_t
print_rm(const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm)
{
	uint64_t t = 0;
	int first = 1;

	printf("{\"res\": {");
	for (size_t i = 0; rm->resource != NULL && i < rm->resource->n_attributes; i++) {
		printf("%s", i ? ", " : "");
		json_str(rm->resource->attributes[i]->key);
		printf(": ");
		json_kv_value(rm->resource->attributes[i]);
	}
	printf("}, \"m\": {");
	for (size_t s = 0; s < rm->n_scope_metrics; s++) {
		for (size_t j = 0; j < rm->scope_metrics[s]->n_metrics; j++) {
			const Opentelemetry__Proto__Metrics__V1__Metric *m = rm->scope_metrics[s]->metrics[j];
			Opentelemetry__Proto__Metrics__V1__NumberDataPoint **pts;
			size_t np;
			if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE)
				pts = m->gauge->data_points, np = m->gauge->n_data_points;
			else
				pts = m->sum->data_points, np = m->sum->n_data_points;
			for (size_t k = 0; k < np; k++) {
				char key[256];
				int n = snprintf(key, sizeof(key), "%s", m->name);
				for (size_t a = 0; a < pts[k]->n_attributes && n > 0 && (size_t)n < sizeof(key); a++)
					n += snprintf(key + n, sizeof(key) - (size_t)n, "|%s=%s",
					    pts[k]->attributes[a]->key, pts[k]->attributes[a]->value->string_value);
				printf("%s", first ? "" : ", ");
				first = 0;
				json_str(key);
				if (pts[k]->value_case ==
				    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE)
					printf(": %.9g", pts[k]->as_double);
				else
					printf(": %lld", (long long)pts[k]->as_int);
				t = pts[k]->time_unix_nano;
			}
		}
	}
	printf("}, \"t\": %llu}\n", (unsigned long long)t);
	fflush(stdout);
	return t;
}

/* start - tfo-process as the supervisor runs it: dropped to pw, seccomp kill;
 * prints the landlock text of its Ready */
static int
start(struct tfo_wspawn *w, const char *bin, const char *dir, const char *url,
    const struct passwd *pw, int privileged, uint32_t cycles_ms, uint32_t top_n, char **inc,
    size_t ninc)
{
	Tfo__V1__Control *m;
	Tfo__V1__WorkerConfig wc;
	Tfo__V1__LoggingConfig lc;
	Tfo__V1__ProcessConfig pc = TFO__V1__PROCESS_CONFIG__INIT;
	static char *redact[] = { "--password[= ]([^ ]+)" };

	tfo_wspawn_config(&wc, &lc, TFO__V1__ROLE__ROLE_PROCESS, "info");
	pc.interval_ms = cycles_ms;
	pc.top_n = top_n;
	pc.include = inc;
	pc.n_include = ninc;
	pc.cmdline_max_len = 256;
	pc.redact_patterns = redact;
	pc.n_redact_patterns = 1;
	pc.privileged_reads = privileged;
	wc.runtime_dir = (char *)dir;
	wc.ingest_url = (char *)url;
	wc.uid = pw->pw_uid;
	wc.gid = pw->pw_gid;
	wc.drop_privileges = 1;
	wc.seccomp_mode = "kill";
	wc.section_case = TFO__V1__WORKER_CONFIG__SECTION_PROCESS;
	wc.process = &pc;
	if (tfo_wspawn_exec(w, bin, NULL) != 0)
		return -1;
	if (tfo_wspawn_send_config(w, &wc) != 0 ||
	    (m = tfo_wspawn_wait(w, TFO__V1__CONTROL__MSG_READY, 15000)) == NULL) {
		(void)tfo_wspawn_kill(w);
		return -1;
	}
	printf("{\"landlock\": ");
	json_str(m->ready->landlock != NULL ? m->ready->landlock : "");
	printf("}\n");
	tfo__v1__control__free_unpacked(m, NULL);
	return 0;
}

/* print_identity - {"<key>": pid, "uid": .., "capeff": "..", "capbnd": "..",
 * "nnp": .., "seccomp": ..} from /proc/<pid>/status */
static void
print_identity(const char *key, pid_t pid)
{
	static const char *const fields[] = { "Uid:", "CapEff:", "CapBnd:", "NoNewPrivs:",
		"Seccomp:" };
	char path[64], line[256], v[5][64] = { "0", "", "", "0", "0" };
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		for (size_t i = 0; i < 5; i++)
			if (strncmp(line, fields[i], strlen(fields[i])) == 0)
				sscanf(line + strlen(fields[i]), "%63s", v[i]);
	fclose(f);
	printf("{\"%s\": %d, \"uid\": %s, \"capeff\": \"%s\", \"capbnd\": \"%s\", "
	    "\"nnp\": %s, \"seccomp\": %s}\n", key, (int)pid, v[0], v[1], v[2], v[3], v[4]);
	fflush(stdout);
}

/* helper_of - the tfo-procpriv child of the worker, or 0 */
static pid_t
helper_of(pid_t worker)
{
	char path[300], buf[512], *pp;
	struct dirent *de;
	pid_t found = 0;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d != NULL && found == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		if (strncmp(buf, "Name:\ttfo-procpriv\n", 19) == 0 &&
		    (pp = strstr(buf, "\nPPid:\t")) != NULL && atoi(pp + 7) == (int)worker)
			found = (pid_t)atoi(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* helper_gone - the helper exited with the worker (within 2 s) */
static int
helper_gone(pid_t helper)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)helper);
	for (int i = 0; i < 200; i++) {
		if (access(path, F_OK) != 0)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* print_payload - one payload of a put as a JSON line; 0 and *t its time, -1 */
static int
print_payload(const ProtobufCBinaryData *b, uint64_t *t)
{
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm;

	rm = opentelemetry__proto__metrics__v1__resource_metrics__unpack(NULL, b->len, b->data);
	if (rm == NULL) {
		fprintf(stderr, "proc_drive: payload is not a ResourceMetrics\n");
		return -1;
	}
	*t = print_rm(rm);
	opentelemetry__proto__metrics__v1__resource_metrics__free_unpacked(rm, NULL);
	return 0;
}

/* serve_one - answer one put (its payloads printed, then {"put": payloads,
 * "t": time}); 0 with *t its time, 1 nothing came within the receive
 * timeout, -1 error */
static int
serve_one(nng_socket s, uint64_t *t)
{
	Tfo__V1__IngestReply r = TFO__V1__INGEST_REPLY__INIT;
	Tfo__V1__PutOk ok = TFO__V1__PUT_OK__INIT;
	Tfo__V1__IngestRequest *q;
	enum tfo_err e;
	int rc;

	q = (Tfo__V1__IngestRequest *)tfo_msg_recv(s, &tfo__v1__ingest_request__descriptor,
	    16u << 20, &e);
	if (q == NULL)
		return 1;
	if (q->msg_case != TFO__V1__INGEST_REQUEST__MSG_PUT) {
		fprintf(stderr, "proc_drive: unexpected ingest message %d\n", (int)q->msg_case);
		tfo__v1__ingest_request__free_unpacked(q, NULL);
		return -1;
	}
	rc = print_payload(&q->put->payload, t);
	for (size_t i = 0; rc == 0 && i < q->put->n_more; i++)
		rc = print_payload(&q->put->more[i]->payload, t);
	if (rc != 0) {
		tfo__v1__ingest_request__free_unpacked(q, NULL);
		return -1;
	}
	printf("{\"put\": %zu, \"t\": %" PRIu64 "}\n", 1 + q->put->n_more, *t);
	fflush(stdout);
	ok.seq = q->put->seq;
	r.version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	r.msg_case = TFO__V1__INGEST_REPLY__MSG_PUT_OK;
	r.put_ok = &ok;
	tfo__v1__ingest_request__free_unpacked(q, NULL);
	return tfo_msg_send(s, &r.base) == TFO_OK ? 0 : -1;
}

/* serve - answer puts until `cycles` distinct times were seen or time is up */
static int
serve(nng_socket s, int cycles, uint32_t interval_ms)
{
	uint64_t times[MAX_TIMES], t;
	size_t ntimes = 0, i;
	time_t deadline = time(NULL) + 10 + (time_t)((uint64_t)cycles * interval_ms / 1000) * 3;
	int rc;

	while (time(NULL) < deadline) {
		if ((rc = serve_one(s, &t)) == -1)
			return 1;
		if (rc == 1)
			continue;       /* receive timeout */
		for (i = 0; i < ntimes && times[i] != t; i++)
			;
		if (i == ntimes && ntimes < MAX_TIMES)
			times[ntimes++] = t;
		if (ntimes > (size_t)cycles)
			return 0;       /* a put of the cycle after the last one */
	}
	fprintf(stderr, "proc_drive: only %zu cycles before the deadline\n", ntimes);
	return 1;
}

/* ask - send one control message and wait for the reply of kind, serving
 * the puts of a cycle in progress meanwhile (the worker answers fd 3 only
 * between them); the reply, or NULL */
static Tfo__V1__Control *
ask(struct tfo_wspawn *w, nng_socket s, Tfo__V1__Control *req, Tfo__V1__Control__MsgCase kind)
{
	Tfo__V1__Control *m;
	time_t deadline = time(NULL) + 20;
	uint64_t t;

	req->version = TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION;
	if (tfo_control_send(w->ctl, req) != TFO_OK)
		return NULL;
	while (time(NULL) < deadline) {
		if ((m = tfo_wspawn_wait(w, kind, 50)) != NULL)
			return m;
		if (serve_one(s, &t) == -1)
			return NULL;
	}
	fprintf(stderr, "proc_drive: no reply %d from the worker\n", (int)kind);
	return NULL;
}

/* print_stats - the worker's stats as one JSON line */
static int
print_stats(struct tfo_wspawn *w, nng_socket s)
{
	Tfo__V1__Control req = TFO__V1__CONTROL__INIT, *m;
	Tfo__V1__Ping ping = TFO__V1__PING__INIT;

	ping.nonce = 7;
	ping.stats = 1;
	req.msg_case = TFO__V1__CONTROL__MSG_PING;
	req.ping = &ping;
	if ((m = ask(w, s, &req, TFO__V1__CONTROL__MSG_PONG)) == NULL)
		return 1;
	printf("{\"stats\": {");
	for (size_t i = 0; i < m->pong->n_stats; i++) {
		printf("%s", i ? ", " : "");
		json_str(m->pong->stats[i]->name);
		printf(": %.17g", m->pong->stats[i]->value);
	}
	printf("}}\n");
	fflush(stdout);
	tfo__v1__control__free_unpacked(m, NULL);
	return 0;
}

/* try_actions - test builds: the worker attempts reading /etc/shadow (also
 * through pid 1's root) and another process's memory (this driver's) */
static int
try_actions(struct tfo_wspawn *w, nng_socket s)
{
#ifdef TFO_TEST_HOOKS
	static const char *const actions[] = { "open_shadow", "open_root_shadow", "proc_mem" };
	char me[24];

	snprintf(me, sizeof(me), "%d", (int)getpid());
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		Tfo__V1__Control req = TFO__V1__CONTROL__INIT, *m;
		Tfo__V1__TestAction ta = TFO__V1__TEST_ACTION__INIT;

		ta.action = (char *)actions[i];
		ta.arg = strcmp(actions[i], "proc_mem") == 0 ? me : "";
		req.msg_case = TFO__V1__CONTROL__MSG_TEST_ACTION;
		req.test_action = &ta;
		if ((m = ask(w, s, &req, TFO__V1__CONTROL__MSG_TEST_RESULT)) == NULL)
			return 1;
		printf("{\"action\": ");
		json_str(actions[i]);
		printf(", \"err\": %d}\n", (int)m->test_result->err);
		fflush(stdout);
		tfo__v1__control__free_unpacked(m, NULL);
	}
	printf("{\"hooks\": true}\n");
#else
	(void)w;
	(void)s;
	printf("{\"hooks\": false}\n");
#endif
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/tfo-proc-it.XXXXXX", url[128], sock[96];
	struct tfo_ipc_policy pol;
	struct tfo_wspawn w = TFO_WSPAWN_INIT;
	struct passwd *pw;
	nng_socket s;
	pid_t helper;
	int rc, privileged = 1;

	if (argc > 1 && strcmp(argv[1], "-u") == 0) {
		privileged = 0;
		argv++;
		argc--;
	}
	if (argc < 6) {
		fprintf(stderr, "usage: %s [-u] tfo-process user cycles interval_ms top_n "
		    "[include...]\n", argv[0]);
		return 2;
	}
	if ((pw = getpwnam(argv[2])) == NULL || mkdtemp(dir) == NULL || chmod(dir, 0755) != 0) {
		fprintf(stderr, "proc_drive: no user %s or no temp dir\n", argv[2]);
		return 77;
	}
	snprintf(sock, sizeof(sock), "%s/ingest.ipc", dir);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	tfo_ipc_policy_init(&pol, "ingest");
	tfo_ipc_policy_allow(&pol, pw->pw_uid);
	if ((rc = tfo_ipc_rep_listen(&s, url, 16u << 20, 0666, &pol)) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 500) != 0) {
		fprintf(stderr, "proc_drive: listen %s: %s\n", url, nng_strerror(rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (start(&w, argv[1], dir, url, pw, privileged, (uint32_t)atoi(argv[4]),
	    (uint32_t)atoi(argv[5]), argv + 6, (size_t)(argc - 6)) != 0) {
		fprintf(stderr, "proc_drive: worker did not start\n");
		return 1;
	}
	print_identity("worker", w.pid);
	if ((helper = helper_of(w.pid)) > 0)
		print_identity("helper", helper);
	rc = serve(s, atoi(argv[3]), (uint32_t)atoi(argv[4]));
	if (rc == 0)
		rc = print_stats(&w, s) || try_actions(&w, s);
	(void)tfo_wspawn_shutdown(&w, 2000);
	nng_close(s);           /* a put in flight must not hold the worker */
	if (tfo_wspawn_reap(&w) != 0) {
		fprintf(stderr, "proc_drive: worker ended badly (status 0x%x)\n", w.status);
		rc = 1;
	}
	if (helper > 0) {
		printf("{\"helper_gone\": %s}\n", helper_gone(helper) ? "true" : "false");
		fflush(stdout);
	}
	unlink(sock);
	rmdir(dir);
	return rc;
}
