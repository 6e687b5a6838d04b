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

# The registry: strawd in a private runtime directory, stopped at the end.
STRAW_DIR=$(mktemp -d /tmp/straw-demo-XXXXXX)
export STRAW_DIR STRAW_AUTOSTART=0
run "$build/daemon/strawd" --daemon
strawd_pid=$(cat "$STRAW_DIR/strawd.lock")
run "$straw" status
run "$straw" write /demo/greeting "hello from straw"
run "$straw" ls -r /
run "$straw" ps
kill "$strawd_pid"
flock "$STRAW_DIR/strawd.lock" true
rm -rf "$STRAW_DIR"
