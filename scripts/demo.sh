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
