#!/bin/sh
# scripts/chaos.sh BUILDDIR - runs straw's fault scenarios (bench/chaos.c)
# against the strawd built in BUILDDIR (make chaos: the release build), one
# line per scenario with its figure, and ends with "N passed, N failed".
# Not part of make test: it takes about a minute.  The attacks of a second
# uid (flood, watch-leak, slow-watchers, fd-limit) need root.  What the
# scenarios say on stderr goes to BUILDDIR/chaos.log.
set -u
build=$1
chaos=$build/bench/straw_chaos
strawd=$build/daemon/strawd
if [ ! -x "$chaos" ] || [ ! -x "$strawd" ]; then
	echo "chaos: no $chaos or $strawd (make release builds them)" >&2
	exit 2
fi
log=$build/chaos.log
: > "$log"
pass=0
fail=0
for s in strawd-kill container-kill drop-accounting stalled-receiver \
	flood watch-leak slow-watchers fd-limit; do
	echo "== $s" >> "$log"
	out=$(STRAW_TEST_STRAWD=$strawd STRAW_LOG=error "$chaos" "$s" 2>>"$log")
	rc=$?
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		verdict=PASS
	else
		fail=$((fail + 1))
		verdict=FAIL
	fi
	printf '%-16s %s  %s\n' "$s" "$verdict" "$(printf '%s\n' "$out" | tail -n 1)"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
