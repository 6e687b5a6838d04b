#!/bin/sh
# bench/run.sh BUILDDIR [SUITE]
# Runs every benchmark suite built in BUILDDIR (or only SUITE), printing each
# suite's table and writing one JSON object per result line to
# bench/results/latest.json.  QUICK=1 (or STRAW_BENCH_QUICK=1) shortens runs.
set -eu
build=$1
suite=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/results"
export STRAW_BENCH_JSON="$here/results/latest.json"
export STRAW_BENCH_QUICK="${QUICK:-${STRAW_BENCH_QUICK:-0}}"
: > "$STRAW_BENCH_JSON"
found=0
for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	name=${b##*/bench_}
	[ -n "$suite" ] && [ "$suite" != "$name" ] && continue
	found=1
	"$b"
done
if [ "$found" = 0 ]; then
	echo "no benchmark suite${suite:+ named '$suite'} in $build/bench" >&2
	exit 2
fi
echo
echo "results: $STRAW_BENCH_JSON"
