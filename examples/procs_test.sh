#!/bin/sh
# examples/procs_test.sh EXAMPLE: runs the processes example without strawd
# and checks its exit status and each line it prints (the sanitizer build
# also fails it on a leak).
set -u
out=$(STRAW_LOCAL=1 timeout 60 "$1" 2>/dev/null)
rc=$?
if [ "$rc" != 0 ]; then
	echo "FAIL: the example exited $rc"
	exit 1
fi
pid='erlang:binary_to_term(<<[^>]*>>)'
expect() {
	printf '%s\n' "$out" | sed -n "$1p" | grep -qx -- "$2" && return 0
	echo "FAIL: line $1 is '$(printf '%s\n' "$out" | sed -n "$1p")'," \
	     "expected /$2/"
	exit 1
}
expect 1 'first received {pong,1}'
expect 2 'first received {pong,2}'
expect 3 'first received {pong,3}'
expect 4 'first: mailbox still holds 1 message(s)'
expect 5 'overflow: recursing past the end of my stack'
expect 6 "first received {'EXIT',$pid,stack_overflow}"
expect 7 "first received {'DOWN',$pid,process,$pid,normal}"
expect 8 'first: done; the container exits'
[ "$(printf '%s\n' "$out" | wc -l)" = 8 ] || { echo "FAIL: not 8 lines"; exit 1; }
echo "ok: the example's 8 lines and exit status 0"
