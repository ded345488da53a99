#!/bin/sh
# run.sh - tfo-exporter bench: start the Node OTLP receiver (tests/interop,
# official OpenTelemetry JS decoders, --light: decode only) and run
# bench_exporter against it for gRPC and HTTP, gzip on and off.
# usage: bench/exporter/run.sh <build-dir> [bench_exporter options]
set -eu
build=${1:?usage: run.sh <build-dir> [options]}
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
interop="$src/tests/interop"
[ -d "$interop/node_modules/@grpc/grpc-js" ] ||
	(cd "$interop" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fifo=$(mktemp -u)
mkfifo "$fifo"
trap 'rm -f "$fifo"' EXIT
# the receiver lives as long as its stdin (the fifo) stays open
node "$interop/receiver.js" --light <"$fifo" >"$fifo.out" &
exec 3>"$fifo"
i=0
while [ ! -s "$fifo.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ports=$(cat "$fifo.out")
rm -f "$fifo.out"
grpc=$(echo "$ports" | sed 's/.*"grpc":\([0-9]*\).*/\1/')
http=$(echo "$ports" | sed 's/.*"http":\([0-9]*\).*/\1/')
"$build/bench/bench_exporter" --grpc-endpoint "127.0.0.1:$grpc" --http-endpoint "127.0.0.1:$http" "$@"
exec 3>&-
wait
