#!/bin/sh
# The straw command's dispatcher: help, unknown commands, exit codes.
set -u
straw=$1
fail=0
expect() { # expect STATUS CMD...
	want=$1; shift
	"$@" >/dev/null 2>&1; got=$?
	if [ "$got" != "$want" ]; then echo "FAIL: $* -> $got, want $want"; fail=1; fi
}
expect 0 "$straw" --help
expect 2 "$straw"
expect 2 "$straw" no-such-command
"$straw" no-such-command 2>&1 | grep -q "unknown command 'no-such-command'" ||
	{ echo "FAIL: unknown command message"; fail=1; }
exit $fail
