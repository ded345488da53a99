#!/bin/sh
# install.sh BUILD SRC - `cmake --install BUILD` into a temporary root, then
# check what landed as an operator meets it: every program answers --version
# and --help (and refuses a bad option with its usage on stderr); the man
# pages render without a groff warning and describe every option, verb and
# config key; the unit names files that were installed; the config is 0600.
set -u
B=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
checks=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
check() { checks=$((checks + 1)); }

if ! DESTDIR="$T/root" cmake --install "$B" >"$T/install.log" 2>&1; then
	cat "$T/install.log"
	exit 1
fi
R=$T/root
ver=$(sed -n 's/^project(tfo-agent VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
one() { find "$R" -path "$1" | head -1; }

# ---- every installed program: bin/ and the workers, whatever their number
progs=$(find "$R" -type f -perm -u+x \( -path '*/bin/*' -o -path '*/libexec/tfo-agent/*' \) | sort)
n_progs=$(printf '%s\n' "$progs" | grep -c .)
[ "$n_progs" -ge 8 ] || fail "only $n_progs programs installed: $progs"
for p in $progs; do
	n=$(basename "$p")
	check
	out=$("$p" --version 2>"$T/err")
	rc=$?
	case "$rc:$out" in
	"0:$n $ver (protocol "[0-9]*")") ;;
	*) fail "$n --version: exit $rc, printed '$out' $(cat "$T/err")" ;;
	esac
	check
	"$p" --help >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^usage: $n" "$T/out" || [ -s "$T/err" ]; then
		fail "$n --help: exit $rc, stdout '$(head -1 "$T/out")', stderr '$(head -1 "$T/err")'"
	fi
	check
	"$p" --no-such-option >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 0 ] || [ -s "$T/out" ] || ! grep -q "usage: $n" "$T/err"; then
		fail "$n --no-such-option: exit $rc, usage not on stderr alone"
	fi
done

# ---- man pages: present, clean under groff -ww, and complete
man5=$(one '*/man5/tfo-agent.yaml.5')
sv8=$(one '*/man8/tfo-supervisor.8')
ctl8=$(one '*/man8/tfoctl.8')
for m in "$man5" "$sv8" "$ctl8"; do
	check
	if [ ! -s "$m" ]; then
		fail "man page missing (man5/tfo-agent.yaml.5, man8/tfo-supervisor.8, man8/tfoctl.8)"
		continue
	fi
	w=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$m" 2>&1)
	[ -z "$w" ] || fail "$(basename "$m"): groff warns: $w"
done
# roff spells '-' as '\-' in option and key names
roffed() { printf '%s' "$1" | sed 's/-/\\\\-/g'; }
sv=$(one '*/bin/tfo-supervisor')
for o in $("$sv" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	check
	grep -q -- "$(roffed "$o")" "$sv8" || fail "tfo-supervisor(8) does not describe $o"
done
ctl=$(one '*/bin/tfoctl')
for o in $("$ctl" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	check
	grep -q -- "$(roffed "$o")" "$ctl8" || fail "tfoctl(8) does not describe $o"
done
for v in $("$ctl" --help | sed -n '/^verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
	check
	grep -Eq "^\.B[IR]? \"?$v( |\"|$)" "$ctl8" || fail "tfoctl(8) has no entry for the verb $v"
done
keys=$(sed -n 's/^| `\([a-z0-9_.]*\)` |.*/\1/p' "$SRC/docs/configuration.md")
[ -n "$keys" ] || fail "no keys read from docs/configuration.md"
for k in $keys; do
	check
	grep -qxF ".B $k" "$man5" || fail "tfo-agent.yaml(5) lacks the key $k"
done

# ---- the unit and the files it names
unit=$(one '*/systemd/system/tfo-agent.service')
check
if [ -z "$unit" ]; then
	fail "tfo-agent.service not installed"
else
	for f in $(sed -n 's|^ExecStart=\([^ ]*\).*|\1|p; s|.*--config \([^ ]*\).*|\1|p; s|^Documentation=file://||p' "$unit" | sort -u); do
		check
		[ -e "$R$f" ] || fail "the unit names $f, which was not installed"
	done
fi
check
[ -n "$(one '*/sysusers.d/tfo-agent.conf')" ] || fail "sysusers.d/tfo-agent.conf not installed"
check
[ -n "$(one '*/tmpfiles.d/tfo-agent.conf')" ] || fail "tmpfiles.d/tfo-agent.conf not installed"
cfg=$(one '*/etc/tfo-agent/tfo-agent.yaml')
check
if [ -z "$cfg" ]; then
	fail "etc/tfo-agent/tfo-agent.yaml not installed"
else
	[ "$(stat -c %a "$cfg")" = 600 ] || fail "tfo-agent.yaml mode $(stat -c %a "$cfg"), want 600"
	cmp -s "$cfg" "$SRC/configs/tfo-agent.yaml" || fail "installed config differs from configs/"
fi

echo "package.install: $n_progs programs; $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
