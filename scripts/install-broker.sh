#!/usr/bin/env bash
# Installs the nisshi test broker once into a cache directory outside the clone
# and prints the path of its binary. Later runs reuse the cached build.
set -euo pipefail
NISSHI_VERSION=0.8.1
CACHE="${KAFKATERM_CACHE:-$HOME/.cache/kafkaterm}"
ROOT="$CACHE/nisshi-$NISSHI_VERSION"
BIN="$ROOT/bin/nisshi"
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$CACHE"
echo "installing nisshi $NISSHI_VERSION into $ROOT (first time only, ~16 minutes on 2 cores)" >&2
# A persistent target dir lets an interrupted build resume where it stopped.
cargo install nisshi --version "$NISSHI_VERSION" --locked --ignore-rust-version \
  --no-default-features --features dynostore \
  --root "$ROOT" --target-dir "$CACHE/nisshi-build" >&2
rm -rf "$CACHE/nisshi-build"
echo "$BIN"
