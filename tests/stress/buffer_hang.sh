#!/bin/bash
# buffer_hang.sh - the stress that found issue 16 §2's hang: many copies of
# integration.buffer_crash at once (two writer threads put through bufclient
# with a 300 ms answer timeout while tfo-buffer is kill -9'd and restarted
# twice, then an exporter drains and counts every put). A run that has not
# finished within the timeout is a hang: what it looked like is kept (process
# tree, fds and sockets of tfo-buffer, backtraces when gdb is installed) and the
# run is killed. Exit 0 only when every run passed.
#
# usage: tests/stress/buffer_hang.sh [-j PARALLEL] [-n RUNS] [-t TIMEOUT_S]
#                                    [-b BUILD_DIR] [-o OUT_DIR]
# defaults: -j 6 -n 200 -t 90 -b build-test (from the repo root), -o a new temp dir.
# A passing run takes ~3 s alone; on 2 busy cores with -j 6 about 10-20 s.
set -u

jobs=6 runs=200 timeout=90 build=build-test out=""
if [ "${1:-}" = "--one" ]; then
	mode=one
	shift
else
	mode=all
fi

one_run() {
	local i=$1 d pid rc t0 t1 end
	d="$OUT/run.$i"
	mkdir -p "$d/tmp"
	t0=$(date +%s.%N)
	# its own session: a hung run is killed whole, by its process group id
	TMPDIR="$d/tmp" setsid "$DRIVER" "$BUFFER" >"$d/out" 2>&1 &
	pid=$!
	end=$((SECONDS + TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			diagnose "$pid" "$d" >"$d/hang.txt" 2>&1
			kill -KILL -- "-$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			echo "run $i HANG (kept in $d)"
			return
		fi
		sleep 0.5
	done
	wait "$pid"
	rc=$?
	t1=$(date +%s.%N)
	if [ $rc -eq 0 ]; then
		printf 'run %s pass %.1f s\n' "$i" "$(echo "$t1 - $t0" | bc)"
		rm -rf "$d"
	else
		echo "run $i FAIL rc=$rc (kept in $d)"
	fi
}

# diagnose - what a hung run looks like, for the record
diagnose() {
	local pid=$1 d=$2 b
	echo "== process tree"
	ps -o pid,stat,etime,time,cmd --ppid "$pid" -p "$pid"
	for b in $(ps -o pid= --ppid "$pid"); do
		echo "== child $b: $(ls /proc/"$b"/fd 2>/dev/null | wc -l) fds"
		ss -xp 2>/dev/null | grep "pid=$b," | awk '{print $1, $2, "recvq=" $3, $5}' |
			sort | uniq -c | sort -rn | head -5
		if command -v gdb >/dev/null; then
			echo "== backtraces of $b"
			timeout 60 gdb -p "$b" -batch -ex "thread apply all bt 12" 2>/dev/null |
				grep -E '^(Thread|#)'
		fi
	done
	if command -v gdb >/dev/null; then
		echo "== backtraces of the driver $pid"
		timeout 60 gdb -p "$pid" -batch -ex "thread apply all bt 16" 2>/dev/null |
			grep -E '^(Thread|#)'
	fi
	echo "== driver output"
	tail -20 "$d/out"
}

if [ $mode = one ]; then
	one_run "$1"
	exit 0
fi

while getopts "j:n:t:b:o:h" o; do
	case $o in
	j) jobs=$OPTARG ;;
	n) runs=$OPTARG ;;
	t) timeout=$OPTARG ;;
	b) build=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,16p' "$0"; exit 2 ;;
	esac
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "no build dir" >&2; exit 2; }
DRIVER=$build/tests/buffer_crash
BUFFER=$build/bin/tfo-buffer
for f in "$DRIVER" "$BUFFER"; do
	[ -x "$f" ] || { echo "missing $f: build first" >&2; exit 2; }
done
command -v bc >/dev/null || { echo "needs bc" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/buffer_hang.XXXXXX)
mkdir -p "$out"
OUT=$(cd "$out" && pwd)
export DRIVER BUFFER OUT TIMEOUT=$timeout

echo "buffer_hang: $runs runs of buffer_crash, $jobs at a time, hang = over $timeout s;" \
	"load before: $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"
start=$SECONDS
seq 1 "$runs" | xargs -P "$jobs" -I{} "$0" --one {} | tee "$OUT/results"
pass=$(grep -c ' pass ' "$OUT/results")
fail=$(grep -c ' FAIL ' "$OUT/results")
hang=$(grep -c ' HANG ' "$OUT/results")
slow=$(awk '/ pass /{ if ($4 > m) m = $4 } END { print m + 0 }' "$OUT/results")
echo "buffer_hang: $pass of $runs passed, $fail failed, $hang hung;" \
	"$((SECONDS - start)) s wall, slowest pass ${slow} s, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$pass" -eq "$runs" ]
