#!/bin/sh
# tests/sched_aarch64.sh SRCDIR WORKDIR CC QEMU
# Cross-compiles the scheduler (aarch64 context switch, signals, reactor)
# with its unit tests as static aarch64 programs and runs them under
# qemu-user.  Registered by tests/sched.cmake when the tools are installed.
set -eu
src=$1
work=$2
cc=$3
qemu=$4
mkdir -p "$work"
flags="-O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -fno-strict-aliasing -DSTRAW_CHECK_SCHED_ONLY -I$src/include -I$src/src"
lib="$src/src/base/alloc.c $src/src/base/buf.c $src/src/base/err.c $src/src/base/log.c"
for f in ctx_aarch64.S sched.c stack.c timer.c reactor.c io.c fault.c; do
	lib="$lib $src/src/sched/$f"
done
objs=""
for f in $lib; do
	o="$work/$(basename "$f").o"
	$cc $flags -c "$f" -o "$o"
	objs="$objs $o"
done
failed=0
for t in ctx_test sched_test fault_test timer_test io_test remote_test; do
	$cc $flags -static -o "$work/$t" $objs "$src/src/sched/$t.c" -lpthread
	echo "== $t (aarch64, qemu-user)"
	# Smaller stress sizes: qemu is an emulator.
	if STRAW_TEST_TIMERS=100000 STRAW_TEST_REMOTE_N=5000 \
		"$qemu" "$work/$t"; then
		:
	else
		echo "FAILED: $t under $qemu"
		failed=1
	fi
done
exit $failed
