#!/bin/sh
# Installs the Debian packages straw's build, tests and benchmarks need, and
# only those that are missing.  As root it runs apt-get; as another user it
# prints the command to run.
set -eu
pkgs="cmake make gcc clang libclang-rt-14-dev clang-format pkg-config
      zlib1g-dev libssl-dev erlang-nox erlang-dev libzmq3-dev libnng-dev
      binutils qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "straw needs these Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
