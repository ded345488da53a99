// receiver.js - an OTLP receiver for tfo-exporter's interop tests, built from
// code the team did not write: @grpc/grpc-js for OTLP/gRPC, node's http(s)
// module for OTLP/HTTP, and the protobufjs classes generated from
// opentelemetry-proto that @opentelemetry/otlp-transformer ships. Every
// request is decoded strictly; scenario hooks inject faults.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const zlib = require('zlib');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const rootPath = path.join(__dirname, 'node_modules', '@opentelemetry', 'otlp-transformer',
  'build', 'src', 'generated', 'root.js');
if (!fs.existsSync(rootPath))
  throw new Error(`${rootPath} missing: the pinned otlp-transformer must ship generated classes`);
const root = require(rootPath);
const C = root.opentelemetry.proto.collector;

const SIGNALS = {
  metrics: {
    req: C.metrics.v1.ExportMetricsServiceRequest,
    resp: C.metrics.v1.ExportMetricsServiceResponse,
    grpcPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    httpPath: '/v1/metrics',
  },
  logs: {
    req: C.logs.v1.ExportLogsServiceRequest,
    resp: C.logs.v1.ExportLogsServiceResponse,
    grpcPath: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    httpPath: '/v1/logs',
  },
};

// google.rpc.Status / RetryInfo, as gRPC's grpc-status-details-bin carries them
// (defined here from the public google/rpc protos, not from our proto/ folder).
const rpc = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
});
const Status = rpc.lookupType('google.rpc.Status');
const RetryInfo = rpc.lookupType('google.rpc.RetryInfo');

function statusDetails(code, message, retryDelayMs) {
  const details = [];
  if (retryDelayMs !== undefined) {
    const ri = RetryInfo.encode({
      retry_delay: { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 },
    }).finish();
    details.push({ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: ri });
  }
  return Buffer.from(Status.encode({ code, message, details }).finish());
}

// decodeStrict - decode + verify; throws on anything malformed
function decodeStrict(type, buf) {
  const msg = type.decode(buf);
  const err = type.verify(msg);
  if (err)
    throw new Error(`verify: ${err}`);
  return type.toObject(msg, { longs: Number, enums: String, defaults: false });
}

function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    out[kv.key] = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? null;
  }
  return out;
}

// summarize - what the tests assert on: one row per ResourceMetrics/ResourceLogs
function summarize(signal, obj) {
  if (signal === 'metrics') {
    return (obj.resourceMetrics || []).map((rm) => {
      const resource = attrs(rm.resource && rm.resource.attributes);
      const metrics = [];
      for (const sm of rm.scopeMetrics || []) {
        for (const m of sm.metrics || []) {
          const data = m.sum || m.gauge || m.histogram || {};
          const dps = data.dataPoints || [];
          const kind = m.sum ? 'sum' : m.histogram ? 'histogram' : 'gauge';
          metrics.push({
            scope: sm.scope && sm.scope.name,
            name: m.name,
            unit: m.unit,
            kind,
            monotonic: m.sum ? !!m.sum.isMonotonic : undefined,
            temporality: m.sum || m.histogram ? data.aggregationTemporality : undefined,
            points: dps.length,
            pointAttrs: dps.map((dp) => attrs(dp.attributes)),
            // a histogram point: {count, sum, buckets, bounds}
            values: dps.map((dp) => (m.histogram
              ? { count: dp.count || 0, sum: dp.sum || 0, buckets: dp.bucketCounts || [],
                bounds: dp.explicitBounds || [] }
              : dp.asInt !== undefined ? dp.asInt : dp.asDouble)),
          });
        }
      }
      return { index: resource['tfo.entry.index'], resource, metrics };
    });
  }
  return (obj.resourceLogs || []).map((rl) => {
    const resource = attrs(rl.resource && rl.resource.attributes);
    const records = [];
    for (const sl of rl.scopeLogs || [])
      for (const lr of sl.logRecords || [])
        records.push({ body: lr.body && lr.body.stringValue, severity: lr.severityNumber });
    return { index: resource['tfo.entry.index'], resource, records };
  });
}

// startReceiver - opts.light decodes without keeping anything (bench);
// opts.grpcFault(n, signal) / opts.httpFault(n, signal) return
// undefined for success or a fault; opts.partial adds partial_success; opts.tls
// = { key, cert, ca, requestCert } serves TLS. Resolves to a handle.
async function startReceiver(opts = {}) {
  const st = { requests: [], errors: [], grpcCount: 0, httpCount: 0 };

  const grpcImpl = (signal) => (call, callback) => {
    const n = st.grpcCount++;
    const rec = {
      proto: 'grpc', signal, n, t: Date.now(), headers: call.metadata.getMap(),
      entries: call.request.entries, decodeError: call.request.error,
    };
    const fault = opts.grpcFault && opts.grpcFault(n, signal, rec);
    const reply = () => {
      if (rec.decodeError) {
        st.errors.push(rec.decodeError);
        rec.status = grpc.status.INVALID_ARGUMENT;
        st.requests.push(rec);
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: rec.decodeError });
      }
      if (fault && fault.code !== undefined) {
        rec.status = fault.code;
        st.requests.push(rec);
        const md = new grpc.Metadata();
        if (fault.retryDelayMs !== undefined || fault.details)
          md.set('grpc-status-details-bin', statusDetails(fault.code, fault.message || '', fault.retryDelayMs));
        return callback({ code: fault.code, details: fault.message || 'injected', metadata: md });
      }
      rec.status = 0;
      if (!opts.light)
        st.requests.push(rec);
      const resp = {};
      if (opts.partial)
        resp.partialSuccess = signal === 'metrics'
          ? { rejectedDataPoints: opts.partial, errorMessage: 'some points rejected' }
          : { rejectedLogRecords: opts.partial, errorMessage: 'some records rejected' };
      callback(null, resp);
    };
    if (fault && fault.delayMs)
      setTimeout(reply, fault.delayMs);
    else
      reply();
  };

  const server = new grpc.Server();
  for (const signal of Object.keys(SIGNALS)) {
    const S = SIGNALS[signal];
    const def = {
      Export: {
        path: S.grpcPath,
        requestStream: false,
        responseStream: false,
        // decode errors are reported as INVALID_ARGUMENT by the handler
        requestDeserialize: (buf) => {
          try {
            const obj = decodeStrict(S.req, buf);
            return { entries: opts.light ? [] : summarize(signal, obj) };
          } catch (e) {
            return { error: String(e.message || e) };
          }
        },
        requestSerialize: (obj) => S.req.encode(obj).finish(),
        responseSerialize: (obj) => Buffer.from(S.resp.encode(S.resp.fromObject(obj)).finish()),
        responseDeserialize: (buf) => S.resp.decode(buf),
      },
    };
    server.addService(def, { Export: grpcImpl(signal) });
  }
  let creds = grpc.ServerCredentials.createInsecure();
  if (opts.tls) {
    creds = grpc.ServerCredentials.createSsl(opts.tls.requestCert ? opts.tls.ca : null,
      [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], !!opts.tls.requestCert);
  }
  const grpcPort = await new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${opts.grpcPort || 0}`, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });

  const httpHandler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = st.httpCount++;
      const signal = req.url === '/v1/metrics' ? 'metrics' : req.url === '/v1/logs' ? 'logs' : null;
      const rec = {
        proto: 'http', signal, n, t: Date.now(), headers: req.headers, method: req.method, url: req.url,
        peerCN: req.socket.getPeerCertificate ? (req.socket.getPeerCertificate().subject || {}).CN : undefined,
      };
      const send = (status, body, headers = {}) => {
        rec.status = status;
        if (!opts.light || status !== 200)
          st.requests.push(rec);
        res.writeHead(status, { 'content-type': 'application/x-protobuf', ...headers });
        res.end(body);
      };
      try {
        if (req.method !== 'POST' || !signal)
          throw new Error(`bad request line ${req.method} ${req.url}`);
        if (req.headers['content-type'] !== 'application/x-protobuf')
          throw new Error(`bad content-type ${req.headers['content-type']}`);
        let body = Buffer.concat(chunks);
        const enc = req.headers['content-encoding'] || 'identity';
        if (enc === 'gzip')
          body = zlib.gunzipSync(body);
        else if (enc !== 'identity')
          throw new Error(`bad content-encoding ${enc}`);
        const obj = decodeStrict(SIGNALS[signal].req, body);
        rec.entries = opts.light ? [] : summarize(signal, obj);
      } catch (e) {
        rec.decodeError = String(e.message || e);
        st.errors.push(rec.decodeError);
        return send(400, Status.encode({ code: 3, message: rec.decodeError }).finish());
      }
      const fault = opts.httpFault && opts.httpFault(n, signal, rec);
      const reply = () => {
        if (fault && fault.status) {
          return send(fault.status, Status.encode({ code: 14, message: fault.message || 'injected' }).finish(),
            fault.headers || {});
        }
        const S = SIGNALS[signal];
        const resp = {};
        if (opts.partial)
          resp.partialSuccess = signal === 'metrics'
            ? { rejectedDataPoints: opts.partial, errorMessage: 'some points rejected' }
            : { rejectedLogRecords: opts.partial, errorMessage: 'some records rejected' };
        send(200, S.resp.encode(S.resp.fromObject(resp)).finish());
      };
      if (fault && fault.delayMs)
        setTimeout(reply, fault.delayMs);
      else
        reply();
    });
  };
  const httpServer = opts.tls
    ? https.createServer({
      key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca,
      requestCert: !!opts.tls.requestCert, rejectUnauthorized: !!opts.tls.requestCert,
    }, httpHandler)
    : http.createServer(httpHandler);
  const httpPort = await new Promise((resolve) => {
    httpServer.listen(opts.httpPort || 0, '127.0.0.1', () => resolve(httpServer.address().port));
  });

  return {
    grpcPort,
    httpPort,
    st,
    accepted: () => st.requests.filter((r) => r.status === 0 || r.status === 200),
    close: () => new Promise((resolve) => {
      httpServer.closeAllConnections && httpServer.closeAllConnections();
      httpServer.close(() => {
        server.tryShutdown(() => resolve());
        setTimeout(() => { server.forceShutdown(); resolve(); }, 500).unref();
      });
    }),
  };
}

module.exports = { startReceiver, statusDetails, grpc };

// As a program (bench/exporter/run.sh): serve until stdin closes, print ports.
if (require.main === module) {
  startReceiver({ light: process.argv.includes('--light') }).then((rx) => {
    console.log(JSON.stringify({ grpc: rx.grpcPort, http: rx.httpPort }));
    process.stdin.resume();
    process.stdin.on('end', () => {
      if (rx.st.errors.length)
        console.error(`receiver: ${rx.st.errors.length} requests failed to decode: ${rx.st.errors[0]}`);
      rx.close().then(() => process.exit(rx.st.errors.length ? 1 : 0));
    });
  });
}
