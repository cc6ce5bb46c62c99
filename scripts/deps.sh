#!/bin/sh
# Installs the Debian packages that building, running and testing Campus need.
# Only when something is missing does it touch apt, so a warm machine pays nothing.
set -eu

PACKAGES="build-essential cmake pkg-config git
libevent-dev libhiredis-dev libcmark-dev cmark libssl-dev openssl
libcriterion-dev libyaml-dev libjansson-dev libedit-dev zlib1g-dev libargon2-dev libsodium-dev
libstemmer-dev gettext
redis-server redis-tools redis-sentinel haproxy iproute2 python3 clang libclang-rt-14-dev
chromium nodejs"

# What the benchmarks and web tests need on top.
case "${1:-}" in
  bench) PACKAGES="$PACKAGES memcached nginx-light" ;;
esac

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node.js may come with its own npm (a vendor build): ask for npm only if absent.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
