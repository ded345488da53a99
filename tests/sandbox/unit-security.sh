#!/bin/sh
# unit-security.sh - `systemd-analyze security --offline=true` on a copy of
# configs/tfo-agent.service (ExecStart pointed at the build, as unit-verify.sh
# does): fails when the overall exposure is above 3.5, when the line cannot
# be parsed, or when a hardening directive the issue requires is missing.
set -eu
SRC=$1
BIN=$2
MAX=3.5
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sed "s|/usr/bin/tfo-supervisor|$BIN/tfo-supervisor|g" "$SRC/configs/tfo-agent.service" \
	>"$T/tfo-agent.service"
for key in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
	ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
	ProtectControlGroups=yes RestrictNamespaces=yes LockPersonality=yes \
	MemoryDenyWriteExecute=yes SystemCallArchitectures=native UMask=0077 \
	"ReadWritePaths=/var/lib/tfo-agent /run/tfo-agent"; do
	grep -qxF "$key" "$T/tfo-agent.service" || { echo "FAIL: unit lacks $key"; exit 1; }
done
for key in RestrictAddressFamilies= SystemCallFilter= CapabilityBoundingSet=; do
	grep -q "^$key" "$T/tfo-agent.service" || { echo "FAIL: unit lacks $key"; exit 1; }
done
# the collectors read every process: /proc must stay whole
if grep -Eq '^(ProtectProc=invisible|ProcSubset=pid)' "$T/tfo-agent.service"; then
	echo "FAIL: ProtectProc=invisible / ProcSubset=pid hide /proc from the collectors"
	exit 1
fi
rc=0
out=$(systemd-analyze security --offline=true "$T/tfo-agent.service" 2>&1) || rc=$?
printf '%s\n' "$out" | tail -5
# "→ Overall exposure level for tfo-agent.service: 3.2 OK 🙂"
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p')
if [ -z "$level" ]; then
	echo "FAIL: no 'Overall exposure level' line (rc=$rc)"
	exit 1
fi
if awk -v l="$level" -v m="$MAX" 'BEGIN { exit !(l > m) }'; then
	echo "FAIL: exposure $level is above $MAX"
	exit 1
fi
echo "ok: exposure $level <= $MAX"
