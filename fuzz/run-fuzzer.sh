#!/bin/sh
# run-fuzzer.sh BINARY WORKDIR SEEDDIR SECONDS
# Runs one libFuzzer target for a bounded time on a scratch copy of its seed
# corpus; fails if the fuzzer finds a crash, a leak or a timeout.
set -eu
bin=$1 work=$2 seeds=$3 secs=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
[ -d "$seeds" ] && cp -r "$seeds/." "$work/corpus/" 2>/dev/null || true
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
