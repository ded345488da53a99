/*
 * ingest_forge.c - a compromised collector speaking on tfo-buffer's ingest
 * socket (issue 24 §1), for tests/integration/buffer/test_forged_roles.py.
 * Started as root, it becomes uid:gid (the role user it plays) and, on ONE
 * connection, sends requests naming role logs:
 *
 *   forge                  a Put of a log record "FORGED record <n>"
 *   dedupe FIRST LAST      a Put with seq 2^63-1 for each incarnation FIRST..LAST
 *                          (tfo-logs' incarnation is a spawn counter: guessable)
 *   checkpoints            a GetCheckpoints; prints "checkpoint <offset> <file_id>"
 *                          for each one it is given
 *   cpput FILE_ID OFFSET   a Put carrying a checkpoint of FILE_ID at OFFSET
 *   ownsig                 a Put of a log record "FORGED record <n>" naming role
 *                          system, the attacker's own: log lines only tfo-logs reads
 *   flood N KIB            N Puts of metrics as role system (its own, a valid
 *                          request each) of KIB KiB of random bytes: to push
 *                          other roles' queued data out of the bounded buffer
 *   garbage N              N requests of 64 random bytes (no valid message),
 *                          each answered (exit 0 when all were refused)
 *   batches ROLE FIRST LAST KIB MS
 *                          Puts of metrics as ROLE (system or process: its own,
 *                          valid), one per batch number FIRST..LAST, MS ms apart:
 *                          a gauge "tfo.forge.batch" whose point holds the
 *                          number (value, and time_unix_nano 1.7e18 + number),
 *                          padded to KIB KiB; one incarnation per run, seqs
 *                          from 1; Busy is waited out and the put sent again
 *
 * usage: ingest_forge URL UID GID ATTACK [ARGS]
 * exit: 0 every request was refused (Error), 3 some request was accepted
 * (each printed), 2 no answer or a usage/setup error.
 */
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/ipc.h"
#include "tfo/v1/tfo.pb-c.h"

#define V TFO__V1__PROTO_VERSION__TFO_PROTO_VERSION

static unsigned accepted, refused;

/* put_len - protobuf length-delimited field `tag` holding len bytes */
static size_t
put_len(uint8_t *o, uint8_t tag, size_t len)
{
	size_t n = 0;

	o[n++] = tag;
	do {
		o[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len);
	return n;
}

/* nest - field `tag` holding the len bytes at in, written at o: its length */
static size_t
nest(uint8_t *o, uint8_t tag, const void *in, size_t len)
{
	size_t n = put_len(o, tag, len);

	memcpy(o + n, in, len);
	return n + len;
}

/* record - a ResourceLogs holding one LogRecord whose body is text: what the
 * exporter would ship as a line tfo-logs read */
static size_t
record(uint8_t *out, const char *text)
{
	uint8_t any[256], lr[300], sl[340];
	size_t na, nl, ns;

	na = nest(any, 0x0a, text, strlen(text));  /* AnyValue.string_value = 1 */
	nl = nest(lr, 0x2a, any, na);              /* LogRecord.body = 5 */
	ns = nest(sl, 0x12, lr, nl);               /* ScopeLogs.log_records = 2 */
	return nest(out, 0x12, sl, ns);            /* ResourceLogs.scope_logs = 2 */
}

/* ask - one request, its answer judged and printed; -1 when none came */
static int
ask(nng_socket s, const Tfo__V1__IngestRequest *r, const char *what)
{
	Tfo__V1__IngestReply *rep;
	enum tfo_err e;

	if (tfo_msg_send(s, &r->base) != TFO_OK) {
		fprintf(stderr, "%s: send failed\n", what);
		return -1;
	}
	rep = (Tfo__V1__IngestReply *)tfo_msg_recv(s, &tfo__v1__ingest_reply__descriptor,
	    16u << 20, &e);
	if (rep == NULL) {
		fprintf(stderr, "%s: no answer: %s\n", what, tfo_strerror(e));
		return -1;
	}
	if (rep->msg_case == TFO__V1__INGEST_REPLY__MSG_ERROR) {
		refused++;
	} else {
		accepted++;
		printf("ACCEPTED %s (reply case %d)\n", what, (int)rep->msg_case);
		for (size_t i = 0; rep->msg_case == TFO__V1__INGEST_REPLY__MSG_CHECKPOINTS &&
		    i < rep->checkpoints->n_checkpoints; i++)
			printf("checkpoint %" PRIu64 " %s\n", rep->checkpoints->checkpoints[i]->offset,
			    rep->checkpoints->checkpoints[i]->file_id);
	}
	tfo__v1__ingest_reply__free_unpacked(rep, NULL);
	return 0;
}

static int
put_logs(nng_socket s, Tfo__V1__Role role, uint64_t incarnation, uint64_t seq,
    Tfo__V1__Checkpoint *cp, const char *what)
{
	Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put p = TFO__V1__PUT__INIT;
	Tfo__V1__Checkpoint *cps[1] = { cp };
	uint8_t payload[512];
	char text[96];

	snprintf(text, sizeof(text), "FORGED record %" PRIu64 " claiming to be tfo-logs", seq);
	p.role = role;
	p.incarnation = incarnation;
	p.seq = seq;
	p.signal = TFO__V1__SIGNAL__SIGNAL_LOGS;
	p.payload.len = record(payload, text);
	p.payload.data = payload;
	p.points = 1;
	p.checkpoints = cp ? cps : NULL;
	p.n_checkpoints = cp ? 1 : 0;
	r.version = V;
	r.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	r.put = &p;
	return ask(s, &r, what);
}

/* flood - n metrics puts of kib KiB each under the attacker's own role */
static int
flood(nng_socket s, unsigned n, size_t kib)
{
	Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put p = TFO__V1__PUT__INIT;
	size_t len = kib << 10;
	uint8_t *payload = malloc(len + 16);
	size_t h;

	if (payload == NULL || len < 64)
		return -1;
	/* a ResourceMetrics holding one unknown bytes field (15) of random
	 * bytes: parsers skip it, LZ4 cannot shrink it */
	h = put_len(payload, 0x7a, len - 8);
	for (size_t i = h; i < h + len - 8; i++)
		payload[i] = (uint8_t)random();
	p.role = TFO__V1__ROLE__ROLE_SYSTEM;
	p.incarnation = ((uint64_t)getpid() << 32) | (uint64_t)random();
	p.signal = TFO__V1__SIGNAL__SIGNAL_METRICS;
	p.payload.data = payload;
	p.payload.len = h + len - 8;
	p.points = 1;
	r.version = V;
	r.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	r.put = &p;
	for (unsigned i = 1; i <= n; i++) {
		p.seq = i;
		if (ask(s, &r, "flood Put role=system signal=metrics") != 0) {
			free(payload);
			return -1;
		}
	}
	free(payload);
	return 0;
}

/* le64 - v little-endian at o (a fixed64 field's value) */
static size_t
le64(uint8_t *o, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		o[i] = (uint8_t)v;
	return 8;
}

/* batch_metrics - a ResourceMetrics holding gauge "tfo.forge.batch" with one
 * point of value n, padded with an unknown bytes field (15) to about len */
static size_t
batch_metrics(uint8_t *out, uint64_t n, size_t len)
{
	static const char name[] = "tfo.forge.batch";
	uint8_t pt[32], g[40], m[80], sm[96];
	size_t np = 0, ng, nm, ns, no, pad;

	pt[np++] = 0x19;                           /* NumberDataPoint.time_unix_nano = 3 */
	np += le64(pt + np, 1700000000000000000ull + n);
	pt[np++] = 0x31;                           /* as_int = 6 (sfixed64) */
	np += le64(pt + np, n);
	ng = nest(g, 0x0a, pt, np);                /* Gauge.data_points = 1 */
	nm = nest(m, 0x0a, name, sizeof(name) - 1);        /* Metric.name = 1 */
	nm += nest(m + nm, 0x2a, g, ng);           /* Metric.gauge = 5 */
	ns = nest(sm, 0x12, m, nm);                /* ScopeMetrics.metrics = 2 */
	no = nest(out, 0x12, sm, ns);              /* ResourceMetrics.scope_metrics = 2 */
	pad = len > no + 8 ? len - no - 8 : 1;
	no += put_len(out + no, 0x7a, pad);        /* field 15: skipped by parsers */
	for (size_t i = 0; i < pad; i++)
		out[no + i] = (uint8_t)random();
	return no + pad;
}

/* batches - numbered metrics batches first..last as role, each taken (a
 * Busy waited out and sent again, the same seq) */
static int
batches(nng_socket s, const char *role, uint64_t first, uint64_t last, size_t kib,
    unsigned ms)
{
	Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
	Tfo__V1__Put p = TFO__V1__PUT__INIT;
	size_t len = kib << 10;
	uint8_t *payload = malloc(len + 64);
	uint64_t seq = 0;

	if (payload == NULL || len < 64)
		return -1;
	p.role = strcmp(role, "process") == 0 ? TFO__V1__ROLE__ROLE_PROCESS :
	    TFO__V1__ROLE__ROLE_SYSTEM;
	p.incarnation = ((uint64_t)getpid() << 32) | (uint64_t)random();
	p.signal = TFO__V1__SIGNAL__SIGNAL_METRICS;
	p.payload.data = payload;
	p.points = 1;
	r.version = V;
	r.msg_case = TFO__V1__INGEST_REQUEST__MSG_PUT;
	r.put = &p;
	for (uint64_t n = first; n <= last; n++) {
		Tfo__V1__IngestReply *rep;
		enum tfo_err e;
		int tries = 0;

		p.payload.len = batch_metrics(payload, n, len);
		p.seq = ++seq;
		for (;;) {
			if (tfo_msg_send(s, &r.base) != TFO_OK ||
			    (rep = (Tfo__V1__IngestReply *)tfo_msg_recv(s,
			    &tfo__v1__ingest_reply__descriptor, 16u << 20, &e)) == NULL) {
				fprintf(stderr, "batch %" PRIu64 ": no answer\n", n);
				free(payload);
				return -1;
			}
			int c = (int)rep->msg_case;
			tfo__v1__ingest_reply__free_unpacked(rep, NULL);
			if (c == TFO__V1__INGEST_REPLY__MSG_BUSY && ++tries < 600) {
				usleep(100000);
				continue;
			}
			if (c == TFO__V1__INGEST_REPLY__MSG_ERROR)
				refused++;
			else if (c == TFO__V1__INGEST_REPLY__MSG_PUT_OK)
				accepted++;
			else {
				fprintf(stderr, "batch %" PRIu64 ": reply case %d\n", n, c);
				free(payload);
				return -1;
			}
			break;
		}
		if (ms)
			usleep(ms * 1000u);
	}
	printf("batches %" PRIu64 "..%" PRIu64 " put as %s\n", first, last, role);
	free(payload);
	return 0;
}

/* garbage - n requests that are no message: each must be answered Error */
static int
garbage(nng_socket s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t req[64];
		void *rep = NULL;
		size_t len = 0;
		Tfo__V1__IngestReply *r;
		int rv;

		for (size_t k = 0; k < sizeof(req); k++)
			req[k] = (uint8_t)random();
		req[0] = 0xff;          /* field 31, a group: never a valid request */
		if ((rv = nng_send(s, req, sizeof(req), 0)) != 0 ||
		    (rv = nng_recv(s, &rep, &len, NNG_FLAG_ALLOC)) != 0) {
			fprintf(stderr, "garbage %u: %s\n", i, nng_strerror(rv));
			return -1;
		}
		r = tfo__v1__ingest_reply__unpack(NULL, len, rep);
		if (r != NULL && r->msg_case == TFO__V1__INGEST_REPLY__MSG_ERROR)
			refused++;
		else
			accepted++;
		if (r != NULL)
			tfo__v1__ingest_reply__free_unpacked(r, NULL);
		nng_free(rep, len);
	}
	return 0;
}

static int
attack(nng_socket s, int argc, char **argv)
{
	const char *a = argv[0];
	char what[96];

	if (strcmp(a, "forge") == 0 && argc == 1)
		return put_logs(s, TFO__V1__ROLE__ROLE_LOGS, 1, 1, NULL,
		    "Put role=logs (forged record)");
	if (strcmp(a, "ownsig") == 0 && argc == 1)
		return put_logs(s, TFO__V1__ROLE__ROLE_SYSTEM, 1, 1, NULL,
		    "Put role=system signal=logs (forged record)");
	if (strcmp(a, "dedupe") == 0 && argc == 3) {
		uint64_t first = strtoull(argv[1], NULL, 10), last = strtoull(argv[2], NULL, 10);
		for (uint64_t i = first; i <= last; i++) {
			snprintf(what, sizeof(what), "Put role=logs incarnation=%" PRIu64
			    " seq=2^63-1", i);
			if (put_logs(s, TFO__V1__ROLE__ROLE_LOGS, i, (uint64_t)INT64_MAX, NULL,
			    what) != 0)
				return -1;
		}
		return 0;
	}
	if (strcmp(a, "batches") == 0 && argc == 6)
		return batches(s, argv[1], strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
		    (size_t)strtoul(argv[4], NULL, 10), (unsigned)strtoul(argv[5], NULL, 10));
	if (strcmp(a, "garbage") == 0 && argc == 2)
		return garbage(s, (unsigned)strtoul(argv[1], NULL, 10));
	if (strcmp(a, "flood") == 0 && argc == 3)
		return flood(s, (unsigned)strtoul(argv[1], NULL, 10),
		    (size_t)strtoul(argv[2], NULL, 10));
	if (strcmp(a, "checkpoints") == 0 && argc == 1) {
		Tfo__V1__IngestRequest r = TFO__V1__INGEST_REQUEST__INIT;
		Tfo__V1__GetCheckpoints g = TFO__V1__GET_CHECKPOINTS__INIT;
		g.role = TFO__V1__ROLE__ROLE_LOGS;
		r.version = V;
		r.msg_case = TFO__V1__INGEST_REQUEST__MSG_GET_CHECKPOINTS;
		r.get_checkpoints = &g;
		return ask(s, &r, "GetCheckpoints role=logs");
	}
	if (strcmp(a, "cpput") == 0 && argc == 3) {
		Tfo__V1__Checkpoint cp = TFO__V1__CHECKPOINT__INIT;
		cp.file_id = argv[1];
		cp.offset = strtoull(argv[2], NULL, 10);
		snprintf(what, sizeof(what), "Put role=logs with checkpoint offset %" PRIu64,
		    (uint64_t)cp.offset);
		return put_logs(s, TFO__V1__ROLE__ROLE_LOGS, 1, 2, &cp, what);
	}
	fprintf(stderr, "unknown attack or arguments: %s\n", a);
	return -1;
}

int
main(int argc, char **argv)
{
	nng_socket s;
	uid_t uid;
	gid_t gid;
	int rv;

	if (argc < 5) {
		fprintf(stderr, "usage: %s URL UID GID ATTACK [ARGS]\n", argv[0]);
		return 2;
	}
	uid = (uid_t)strtoul(argv[2], NULL, 10);
	gid = (gid_t)strtoul(argv[3], NULL, 10);
	/* the role user's identity: its uid and the agent's group, no other */
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || getuid() != uid) {
		perror("becoming the role user");
		return 2;
	}
	if ((rv = tfo_ipc_req_dial(&s, argv[1], 16u << 20, 5000, NULL)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000)) != 0) {
		fprintf(stderr, "dial %s: %s\n", argv[1], nng_strerror(rv));
		return 2;
	}
	rv = attack(s, argc - 4, argv + 4);
	nng_close(s);
	printf("%u refused, %u accepted\n", refused, accepted);
	if (rv != 0)
		return 2;
	return accepted ? 3 : 0;
}
