#!/bin/sh
# The tsan_threads test: builds the tests named after CC with
# ThreadSanitizer in a tree of its own (BUILD_DIR, kept, so that a rerun
# only rebuilds what changed) and runs them with halt_on_error=1 and the
# checked-in suppressions (tests/tsan.supp, empty).  It fails when the
# control program's deliberate data race is not reported (TSan not
# active), when a test fails, or on any TSan report.
#
# Usage: tsan_threads.sh SOURCE_DIR BUILD_DIR CC TEST...
set -u
src=$1
dir=$2
cc=$3
shift 3
jobs=$(nproc 2>/dev/null || echo 2)

fail() {
	echo "tsan_threads: $*"
	exit 1
}

# Runs the command with its output in the log, shown if it fails.
logged() {
	log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log"
		return 1
	fi
}

mkdir -p "$dir" || fail "cannot create $dir"
logged "$dir/configure.log" cmake -S "$src" -B "$dir" \
	-DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSTRAW_SANITIZE=thread -DSTRAW_FUZZ=OFF -DSTRAW_BENCH=OFF \
	-DSTRAW_TESTS=ON || fail "configuring $dir failed"
logged "$dir/build.log" cmake --build "$dir" -j "$jobs" \
	--target tsan_race_control "$@" || fail "building in $dir failed"

# User options first: ours come later and win.
TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=1 exitcode=66 suppressions=$src/tests/tsan.supp"
export TSAN_OPTIONS

"$dir/tests/tsan_race_control" >"$dir/control.log" 2>&1
rc=$?
if [ "$rc" -ne 66 ] ||
	! grep -q 'WARNING: ThreadSanitizer: data race' "$dir/control.log"; then
	cat "$dir/control.log"
	fail "the control's data race was not reported (exit $rc):" \
		"ThreadSanitizer is not active or does not report"
fi
echo "control: data race reported (exit $rc)"

regex="^($(echo "$@" | tr ' ' '|'))\$"
(cd "$dir" && ctest -R "$regex" --no-tests=error -V) >"$dir/tests.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] || grep -q 'ThreadSanitizer' "$dir/tests.log"; then
	cat "$dir/tests.log"
	fail "a test failed or ThreadSanitizer reported (ctest exit $rc)"
fi
grep -q "tests passed, 0 tests failed out of $#\$" "$dir/tests.log" || {
	cat "$dir/tests.log"
	fail "expected $# tests: $*"
}
grep -E '^ *[0-9]+/[0-9]+ Test|% tests passed' "$dir/tests.log"
