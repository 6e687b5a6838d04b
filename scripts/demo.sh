#!/bin/sh
# scripts/demo.sh BUILDDIR - shows what straw does today, using the commands
# built in BUILDDIR.  Each step prints the command it runs.
set -eu
build=$1
straw="$build/cli/straw"
run() {
	printf '\n$ %s\n' "$*"
	"$@"
}
echo "straw demo"
run "$straw" --help

# The term codec (src/term) through `straw term`: Erlang text to ETF (hex),
# back to text, and a corrupted term that `check` refuses with its offset.
term='{ping, [1,2,3], #{k => <<"v">>}, 1.0e300, "text"}'
printf "\n\$ straw term encode --hex '%s'\n" "$term"
hex=$("$straw" term encode --hex "$term")
echo "$hex"
printf '\n$ echo %s | straw term decode --hex\n' "$hex"
echo "$hex" | "$straw" term decode --hex
bad=$(echo "$hex" | sed 's/^\(..................\)../\199/')
printf '\n$ echo %s | straw term check --hex\n' "$bad"
echo "$bad" | "$straw" term check --hex || echo "(exit status $?)"

# Processes in a container.  The container joins strawd, which straw starts
# by itself when none runs (here in a private runtime directory).
STRAW_DIR=$(mktemp -d /tmp/straw-demo-XXXXXX)
STRAW_STRAWD=$(cd "$build/daemon" && pwd)/strawd
export STRAW_DIR STRAW_STRAWD
stop_strawd() {
	if [ -f "$STRAW_DIR/strawd.lock" ]; then
		kill "$(cat "$STRAW_DIR/strawd.lock")" 2>/dev/null || true
		flock "$STRAW_DIR/strawd.lock" true
	fi
	rm -rf "$STRAW_DIR"
}
trap stop_strawd EXIT
run "$build/examples/straw_example_procs"

# The registry that strawd keeps, and the command that shows it.
run "$straw" status
run "$straw" write /demo/greeting "hello from straw"
run "$straw" read /demo/greeting
run "$straw" ls -r /
run "$straw" ps
