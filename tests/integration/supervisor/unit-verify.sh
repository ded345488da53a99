#!/bin/sh
# unit-verify.sh - `systemd-analyze verify` on configs/tfo-agent.service (run
# by ctest): a temp copy points ExecStart at the build's tfo-supervisor, since
# verify requires the binary to exist. Any complaint about the unit fails.
set -eu
SRC=$1
BIN=$2
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sed "s|/usr/bin/tfo-supervisor|$BIN/tfo-supervisor|g" "$SRC/configs/tfo-agent.service" \
	>"$T/tfo-agent.service"
grep -q "ExecStart=$BIN/tfo-supervisor" "$T/tfo-agent.service"
for key in Type=notify NotifyAccess=main WatchdogSec=30s Restart=on-failure \
	'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$key" "$T/tfo-agent.service" || { echo "FAIL: unit lacks $key"; exit 1; }
done
rc=0
out=$(systemd-analyze verify "$T/tfo-agent.service" 2>&1) || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -q 'tfo-agent.service'; then
	echo "FAIL: systemd-analyze verify (rc=$rc)"
	exit 1
fi
echo "ok: systemd-analyze verify"
