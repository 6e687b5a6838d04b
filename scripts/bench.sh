#!/bin/sh
# scripts/bench.sh BUILDDIR SUITE QUICK - builds the benchmarks and runs them.
set -eu
build=$1 suite=$2 quick=$3
cmake -S . -B "$build" -DSTRAW_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
QUICK=$quick exec bench/run.sh "$build" $suite
