#!/usr/bin/env bash
# Make sure the Debian packages a build (and, with "test", the test suite)
# needs are present; installs the missing ones with apt-get when it can.
set -euo pipefail
need=()
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
for p in gcc g++ make pkg-config libssl-dev zlib1g-dev python3 perl; do
  have_pkg "$p" || need+=("$p")
done
if [ "${1:-}" = "test" ] || [ "${2:-}" = "test" ]; then
  for p in tmux procps openssl; do
    have_pkg "$p" || need+=("$p")
  done
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing missing packages: ${need[*]}" >&2
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" </dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq </dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" </dev/null
else
  echo "please install: ${need[*]} (apt-get install ${need[*]})" >&2
  exit 1
fi
