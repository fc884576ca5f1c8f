#!/usr/bin/env bash
# Builds what a jump host installs, into dist/:
#   kafkaterm-VERSION-x86_64-unknown-linux-musl.tar.gz  a fully static binary
#       (librdkafka with OpenSSL, zlib, zstd, lz4 and snappy compiled in),
#       README, licences, man pages and bash/zsh/fish completions;
#   kafkaterm_VERSION_amd64.deb  the same binary, man pages in
#       usr/share/man/man1, completions where bash, zsh and fish look, the
#       example config in usr/share/doc/kafkaterm; no Depends (nothing to need).
# Installs with apt-get what it needs (musl-tools) and the Rust musl target
# with rustup. The build directory is kept outside the clone
# (~/.cache/kafkaterm/package-target), so a second run rebuilds only what
# changed. Archives get the last commit's time and root ownership, so two runs
# of the same commit give byte-identical files.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
CACHE="${KAFKATERM_CACHE:-$HOME/.cache/kafkaterm}"
export CARGO_TARGET_DIR="${KAFKATERM_PACKAGE_TARGET:-$CACHE/package-target}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

scripts/ensure-deps.sh
need=()
for p in musl-tools file; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo -n); fi
  "${sudo[@]}" apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" </dev/null
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET" >&2
fi

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
# musl-gcc for the C parts (librdkafka, OpenSSL, zstd, mimalloc).
export CC_x86_64_unknown_linux_musl=musl-gcc
# A plain static executable rather than a static PIE: no run-time
# relocations to carry (1.5 MB of .rela.dyn in the static PIE).
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C relocation-model=static"
cargo build --locked --profile dist --target "$TARGET" --features static >&2
BIN="$CARGO_TARGET_DIR/$TARGET/dist/kafkaterm"
if ! file -b "$BIN" | grep -q 'static'; then
  echo "not a static binary: $(file -b "$BIN")" >&2
  exit 1
fi

DIST="$PWD/dist"
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/kafkaterm-package.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$DIST"

# Man pages and completions, from the binary's own clap definition.
GEN="$STAGE/gen"
mkdir -p "$GEN/man" "$GEN/completions"
"$BIN" manpage --dir "$GEN/man"
"$BIN" completions bash >"$GEN/completions/kafkaterm.bash"
"$BIN" completions zsh >"$GEN/completions/_kafkaterm"
"$BIN" completions fish >"$GEN/completions/kafkaterm.fish"

# Deterministic archives: sorted names, one time, root owner, no gzip name.
stamp() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }
tarball() { # DIR NAME OUT
  stamp "$1/$2"
  tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$SOURCE_DATE_EPOCH" --format=gnu -cf - "$2" | gzip -9 -n >"$3"
}

NAME="kafkaterm-$VERSION-$TARGET"
T="$STAGE/$NAME"
mkdir -p "$T/man" "$T/completions"
install -m 0755 "$BIN" "$T/kafkaterm"
install -m 0644 README.md LICENSE-MIT LICENSE-APACHE "$T/"
install -m 0644 assets/config.toml "$T/config.example.toml"
install -m 0644 "$GEN"/man/*.1 "$T/man/"
install -m 0644 "$GEN"/completions/* "$T/completions/"
tarball "$STAGE" "$NAME" "$DIST/$NAME.tar.gz"

D="$STAGE/deb"
install -D -m 0755 "$BIN" "$D/usr/bin/kafkaterm"
mkdir -p "$D/usr/share/man/man1"
for page in "$GEN"/man/*.1; do
  gzip -9 -n -c "$page" >"$D/usr/share/man/man1/$(basename "$page").gz"
done
install -D -m 0644 "$GEN/completions/kafkaterm.bash" "$D/usr/share/bash-completion/completions/kafkaterm"
install -D -m 0644 "$GEN/completions/_kafkaterm" "$D/usr/share/zsh/vendor-completions/_kafkaterm"
install -D -m 0644 "$GEN/completions/kafkaterm.fish" "$D/usr/share/fish/vendor_completions.d/kafkaterm.fish"
DOC="$D/usr/share/doc/kafkaterm"
install -D -m 0644 assets/config.toml "$DOC/config.example.toml"
install -m 0644 README.md "$DOC/README.md"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: kafkaterm"
  echo
  echo "Files: *"
  echo "Copyright: 2026 the kafkaterm developers"
  echo "License: MIT or Apache-2.0"
  echo " The MIT licence follows; the Apache licence 2.0 is in"
  echo " /usr/share/common-licenses/Apache-2.0."
  echo " ."
  sed 's/^$/./; s/^/ /' LICENSE-MIT
} >"$DOC/copyright"
chmod 0644 "$DOC/copyright"
mkdir -p "$D/DEBIAN"
size_kb="$(du -sk --exclude=DEBIAN "$D" | cut -f1)"
cat >"$D/DEBIAN/control" <<CONTROL
Package: kafkaterm
Version: $VERSION
Architecture: amd64
Maintainer: kafkaterm developers <kafkaterm@users.noreply.github.com>
Installed-Size: $size_kb
Section: net
Priority: optional
Description: terminal operations console for Apache Kafka
 Browse topics and messages over SSH, send test messages by hand, and watch
 consumer groups rebalance and lag in real time; headless commands (topics,
 describe, consume, produce, copy, groups, lag, watch, reset) for scripts.
 A static binary: librdkafka, OpenSSL and the compression codecs are built in.
CONTROL
stamp "$D"
dpkg-deb --root-owner-group -Zxz --build "$D" "$DIST/kafkaterm_${VERSION}_amd64.deb" >&2

ls -l "$DIST/$NAME.tar.gz" "$DIST/kafkaterm_${VERSION}_amd64.deb" >&2
echo "$DIST/$NAME.tar.gz"
echo "$DIST/kafkaterm_${VERSION}_amd64.deb"
