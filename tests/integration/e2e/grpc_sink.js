// grpc_sink.js OUT - the interop receiver of tests/interop (receiver.js: the
// official OpenTelemetry JS classes, @grpc/grpc-js) as a far end for the
// whole-tree tests: prints {"grpc":PORT,"http":PORT}, appends every request it
// answered (accepted or not) to OUT as one JSON line {proto, signal, status,
// decodeError, entries}, and exits when stdin closes (status 1 if any request
// failed to decode).
'use strict';
const fs = require('fs');
const path = require('path');
const { startReceiver } = require(path.join(__dirname, '..', '..', 'interop', 'receiver.js'));

const out = process.argv[2];
startReceiver({}).then((rx) => {
  let done = 0;
  const flush = () => {
    const reqs = rx.st.requests;
    let text = '';
    for (; done < reqs.length; done++) {
      const r = reqs[done];
      text += JSON.stringify({ proto: r.proto, signal: r.signal, status: r.status,
        decodeError: r.decodeError, entries: r.entries || [] }) + '\n';
    }
    if (text)
      fs.appendFileSync(out, text);
  };
  const timer = setInterval(flush, 50);
  console.log(JSON.stringify({ grpc: rx.grpcPort, http: rx.httpPort }));
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearInterval(timer);
    flush();
    rx.close().then(() => process.exit(rx.st.errors.length ? 1 : 0));
  });
});
