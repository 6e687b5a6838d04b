#!/bin/sh
# Fails, listing the files, when a C file differs from .clang-format's style.
cd "$(dirname "$0")/.." || exit 2
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
bad=""
for f in $files; do
	[ -f "$f" ] || continue
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
	echo "not formatted (run 'make format'):$bad"
	exit 1
fi
echo "format ok"
