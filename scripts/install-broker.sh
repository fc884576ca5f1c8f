#!/usr/bin/env bash
# Installs the nisshi test broker once into a cache directory outside the clone
# and prints the path of its binary. Later runs reuse the cached build.
#
# The broker is nisshi 0.8.1 from crates.io with every patch in tests/broker/
# (*.patch, applied in sorted order; each file's header says what Kafka
# behaviour it reproduces) applied to the published sources of nisshi-sans-io
# (the protocol's message descriptors), nisshi-storage, nisshi-storage-dynostore
# and nisshi-broker. The binary's directory is named by
# a hash of the patches' names and contents, so a build without exactly these
# patches is never reused. The build keeps its target directory
# (~/.cache/kafkaterm/nisshi-work/target), so an interrupted install resumes
# where it stopped and a changed patch rebuilds only the nisshi crates.
set -euo pipefail
cd "$(dirname "$0")/.."
NISSHI_VERSION=0.8.1
# The patched crates: each is copied out of cargo's registry, patched, and made a
# path dependency of nisshi.
CRATES="nisshi-broker nisshi-sans-io nisshi-storage nisshi-storage-dynostore"
PATCHES=()
while IFS= read -r patch; do
  PATCHES+=("$patch")
done < <(LC_ALL=C ls -1 "$PWD"/tests/broker/*.patch)
if [ "${#PATCHES[@]}" -eq 0 ]; then
  echo "no patches in tests/broker/" >&2
  exit 1
fi
CACHE="${KAFKATERM_CACHE:-$HOME/.cache/kafkaterm}"
# Each patch's name and contents, in the order they are applied.
KEY="$(for patch in "${PATCHES[@]}"; do basename "$patch"; sha256sum <"$patch"; done | sha256sum | cut -c1-12)"
ROOT="$CACHE/nisshi-$NISSHI_VERSION-patched-$KEY"
BIN="$ROOT/bin/nisshi"
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

WORK="$CACHE/nisshi-work"
mkdir -p "$WORK"
# One install at a time: a second one waits here, then finds the binary.
exec 9>"$WORK/install.lock"
flock 9
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
echo "installing nisshi $NISSHI_VERSION with $(for p in "${PATCHES[@]}"; do basename "$p"; done | paste -sd' ') into $ROOT (first time only, ~20 minutes on an idle 2-core machine)" >&2

# The published sources, fetched by cargo into its registry: a throwaway package
# that depends on exactly these versions. cargo metadata says where the library
# crates are; nisshi itself (a binary crate, which cargo metadata
# leaves out of a dependency graph) is unpacked beside them.
FETCH="$WORK/fetch"
mkdir -p "$FETCH/src"
cat >"$FETCH/Cargo.toml" <<TOML
[package]
name = "kafkaterm-nisshi-sources"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
nisshi = { version = "=$NISSHI_VERSION", default-features = false, features = ["dynostore"] }
nisshi-storage = { version = "=$NISSHI_VERSION", default-features = false }
nisshi-broker = { version = "=$NISSHI_VERSION", default-features = false }
nisshi-storage-dynostore = { version = "=$NISSHI_VERSION", default-features = false }
nisshi-sans-io = { version = "=$NISSHI_VERSION", default-features = false }
TOML
: >"$FETCH/src/lib.rs"
cargo fetch --quiet --manifest-path "$FETCH/Cargo.toml" >&2
manifests="$(cargo metadata --quiet --offline --format-version 1 --manifest-path "$FETCH/Cargo.toml" |
  python3 -c '
import json, os, sys
version, crates = sys.argv[1], sys.argv[2].split()
found = {p["name"]: p["manifest_path"] for p in json.load(sys.stdin)["packages"]
         if p["name"] in crates and p["version"] == version}
if len(found) != len(crates):
    sys.exit("cargo did not fetch " + " and ".join(crates) + " " + version)
registry = os.path.dirname(os.path.dirname(found["nisshi-storage"]))
found["nisshi"] = os.path.join(registry, "nisshi-" + version, "Cargo.toml")
if not os.path.isfile(found["nisshi"]):
    sys.exit("cargo did not fetch nisshi " + version)
for name in sorted(found):
    print(found[name])
' "$NISSHI_VERSION" "$CRATES")"

# The patched sources, prepared afresh unless a finished preparation for this
# set of patches is there (kept, so that a resumed build does not recompile them).
SRC="$WORK/src-$KEY"
if [ ! -f "$SRC/.prepared" ]; then
  rm -rf "$SRC"
  mkdir -p "$SRC"
  while read -r manifest; do
    cp -R "$(dirname "$manifest")" "$SRC/"
  done <<<"$manifests"
  chmod -R u+w "$SRC"
  # A patched crate is a path dependency, and cargo resolves the dev-dependencies
  # of path dependencies too (some need a newer rustc): drop them, and the test,
  # bench and example targets that use them, from the patched manifests.
  for crate in $CRATES; do
    m="$SRC/$crate-$NISSHI_VERSION/Cargo.toml"
    awk '/^\[/ { skip = ($0 ~ /^\[\[(test|bench|example)\]\]/ || $0 ~ /^\[(target\.[^]]*\.)?dev-dependencies[].]/) } !skip { print }' \
      "$m" >"$m.stripped"
    mv "$m.stripped" "$m"
  done
  # git apply outside any repository (GIT_CEILING_DIRECTORIES keeps it from
  # finding one above the cache), with the paths in the patch relative to $SRC.
  for patch in "${PATCHES[@]}"; do
    (cd "$SRC" && GIT_CEILING_DIRECTORIES="$(dirname "$SRC")" git apply -p1 "$patch")
  done
  {
    printf '\n[patch.crates-io]\n'
    for crate in $CRATES; do
      printf '%s = { path = "../%s-%s" }\n' "$crate" "$crate" "$NISSHI_VERSION"
    done
  } >>"$SRC/nisshi-$NISSHI_VERSION/Cargo.toml"
  # The shipped Cargo.lock, with the patched crates' entries made path
  # entries (no source, no checksum); the build runs --locked, so cargo refuses
  # to build if it would resolve anything differently.
  lock="$SRC/nisshi-$NISSHI_VERSION/Cargo.lock"
  awk -v crates="$CRATES" '
       BEGIN { n = split(crates, list, " "); for (i = 1; i <= n; i++) patched["\"" list[i] "\""] = 1 }
       /^name = / { pkg = $3 }
       /^\[\[package\]\]/ { pkg = "" }
       (pkg in patched) && /^(source|checksum) = / { next }
       { print }' "$lock" >"$lock.patched"
  mv "$lock.patched" "$lock"
  touch "$SRC/.prepared"
fi

start=$(date +%s)
(cd "$SRC/nisshi-$NISSHI_VERSION" &&
  cargo build --release --locked --ignore-rust-version --no-default-features --features dynostore \
    --target-dir "$WORK/target" >&2)
echo "built nisshi in $(( $(date +%s) - start )) s" >&2
mkdir -p "$ROOT/bin"
cp "$WORK/target/release/nisshi" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
# Sources prepared for other versions of the patch are no longer needed.
for old in "$WORK"/src-*; do
  [ "$old" = "$SRC" ] || rm -rf "$old"
done
echo "$BIN"
