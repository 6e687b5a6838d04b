#!/bin/sh
# Installs the build in $1 into a scratch DESTDIR and builds examples/hello.c
# against it with `pkg-config --cflags --libs straw`, then runs it, and the
# processes example against the static libstraw.a.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/straw-install-test
DESTDIR="$tmp" cmake --install "$build" --prefix "$prefix" >/dev/null
root="$tmp$prefix"
for f in lib/libstraw.a include/straw/err.h lib/pkgconfig/straw.pc \
	 lib/cmake/straw/strawConfig.cmake bin/straw; do
	[ -e "$root/$f" ] || { echo "missing after install: $f"; exit 1; }
done
soname=$(objdump -p "$root"/lib/libstraw.so | awk '/SONAME/ {print $2}')
[ "$soname" = "libstraw.so.0" ] || { echo "bad SONAME: '$soname'"; exit 1; }
export PKG_CONFIG_PATH="$root/lib/pkgconfig"
flags=$(pkg-config --cflags --libs straw)
# Sanitizer builds need the same runtime when linking the example.
extra=$(sed -n 's/^STRAW_SANITIZE:STRING=\(..*\)$/-fsanitize=\1/p' "$build/CMakeCache.txt")
cc_=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
$cc_ $extra -o "$tmp/hello" "$src/examples/hello.c" $flags
LD_LIBRARY_PATH="$root/lib" "$tmp/hello" > "$tmp/out"
grep -qx 'straw: malformed term' "$tmp/out" || { cat "$tmp/out"; exit 1; }
# Static: a program of processes linked against libstraw.a alone works as
# with the shared library, because no layer is reached through a weak
# symbol or a constructor (a weak reference does not pull an object out of
# an archive).  Only the compiler's and sanitizers' own symbols may be weak.
weak=$(nm "$root/lib/libstraw.a" 2>/dev/null | awk '$1 ~ /^[wWvV]$/ || $2 ~ /^[wWvV]$/' |
	grep -v -e '__start_' -e '__stop_' -e '__sancov' -e '__asan' \
		-e '__ubsan' -e '__lsan' -e '__tsan' || true)
[ -z "$weak" ] || { echo "weak symbols in libstraw.a:"; echo "$weak"; exit 1; }
sflags=$(pkg-config --cflags straw)
$cc_ $extra -o "$tmp/procs-static" "$src/examples/procs.c" $sflags \
	"$root/lib/libstraw.a" $(pkg-config --libs-only-other --static straw) \
	-lz -lpthread
sh "$src/examples/procs_test.sh" "$tmp/procs-static"
echo "install test ok"
