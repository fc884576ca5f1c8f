#!/usr/bin/env bash
# Checks what scripts/package.sh built, as a jump host would meet it:
#  - the static binary alone in an empty root directory (chroot: no libc, no
#    OpenSSL, no CA files, no /etc) lists the seeded topics of a test broker,
#    in plain text and over TLS with a test CA given as ssl.ca.location, and
#    without a CA says in one line which paths it tried;
#  - the .deb installs with dpkg into an empty root with a fresh dpkg
#    database (no package installed, so no Depends could be met), with its
#    man page readable by man and its bash completion completing commands.
# Usage: scripts/check-package.sh TARBALL DEB
set -euo pipefail
cd "$(dirname "$0")/.."
TARBALL="$1"
DEB="$2"
fail() { echo "check-package: $*" >&2; exit 1; }
# chroot as root, or as root of a user namespace when not.
if [ "$(id -u)" = 0 ]; then
  CHROOT=(chroot)
elif unshare -r true 2>/dev/null; then
  CHROOT=(unshare -r chroot)
else
  fail "chroot needs root or unprivileged user namespaces"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kafkaterm-check-package.XXXXXX")"
export KAFKATERM_BROKER_DIR="$WORK/broker" 
TLS_DIR="$WORK/broker-tls"
cleanup() {
  scripts/broker.sh stop || true
  KAFKATERM_BROKER_DIR="$TLS_DIR" scripts/broker.sh stop || true
  rm -rf "$WORK"
}
trap cleanup EXIT

tar -C "$WORK" -xzf "$TARBALL"
BIN="$(find "$WORK" -maxdepth 2 -name kafkaterm -type f -perm -u+x | head -1)"
[ -n "$BIN" ] || fail "no kafkaterm in $TARBALL"
file -b "$BIN" | grep -q 'static' || fail "not static: $(file -b "$BIN")"
for f in README.md LICENSE-MIT LICENSE-APACHE man/kafkaterm.1 completions/kafkaterm.bash \
  completions/_kafkaterm completions/kafkaterm.fish; do
  [ -f "$(dirname "$BIN")/$f" ] || fail "$f missing from the tarball"
done

# The empty root: the binary and, for TLS, the test CA; nothing else.
ROOT="$WORK/root"
mkdir -p "$ROOT"
cp "$BIN" "$ROOT/kafkaterm"
in_root() { env -i HOME=/ PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout 60 "${CHROOT[@]}" "$ROOT" /kafkaterm "$@"; }

PLAIN="$(scripts/broker.sh start)"
seeded="kafkaterm-package-$$"
PY="$(scripts/python-env.sh)"
create_topic() { # BROKER TOPIC [librdkafka properties as k=v...]
  "$PY" - "$@" <<'PYEOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
conf = {"bootstrap.servers": sys.argv[1]}
conf.update(kv.split("=", 1) for kv in sys.argv[3:])
admin = AdminClient(conf)
for f in admin.create_topics([NewTopic(sys.argv[2], 2, 1)]).values():
    f.result(30)
PYEOF
}
create_topic "$PLAIN" "$seeded"
in_root -b "$PLAIN" topics --json >"$WORK/plain.json"
grep -q "\"name\": \"$seeded\"" "$WORK/plain.json" || fail "topics --json in the empty root does not list $seeded: $(head -c 300 "$WORK/plain.json")"
echo "static binary in an empty root: topics --json lists the seeded topic" >&2

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$WORK/broker.key" -out "$WORK/broker.pem" 2>/dev/null
TLS_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
TLS="$(KAFKATERM_BROKER_DIR="$TLS_DIR" scripts/broker.sh start "$TLS_PORT" --cert "$WORK/broker.pem" --key "$WORK/broker.key")"
cp "$WORK/broker.pem" "$ROOT/ca.pem"
create_topic "$TLS" "$seeded-tls" security.protocol=ssl ssl.ca.location="$WORK/broker.pem"
in_root -b "$TLS" -X security.protocol=ssl -X ssl.ca.location=/ca.pem topics --json >"$WORK/tls.json"
grep -q "\"name\": \"$seeded-tls\"" "$WORK/tls.json" || fail "topics --json over TLS in the empty root does not list $seeded-tls"
echo "static binary in an empty root: topics --json over TLS with ssl.ca.location" >&2
set +e
in_root -b "$TLS" -X security.protocol=ssl topics --json >/dev/null 2>"$WORK/noca.err"
code=$?
set -e
[ "$code" != 0 ] || fail "TLS without any CA succeeded"
[ "$(wc -l <"$WORK/noca.err")" = 1 ] || fail "no-CA error is not one line: $(cat "$WORK/noca.err")"
grep -q 'ssl.ca.location' "$WORK/noca.err" && grep -q '/etc/ssl/certs/ca-certificates.crt' "$WORK/noca.err" ||
  fail "no-CA error does not name ssl.ca.location and the paths tried: $(cat "$WORK/noca.err")"
echo "static binary in an empty root without a CA: $(cat "$WORK/noca.err")" >&2

# The .deb into an empty root with a fresh dpkg database.
DROOT="$WORK/debroot"
mkdir -p "$DROOT/var/lib/dpkg/info" "$DROOT/var/lib/dpkg/updates"
: >"$DROOT/var/lib/dpkg/status"
: >"$DROOT/var/lib/dpkg/available"
dpkg --root="$DROOT" --force-script-chrootless --log=/dev/null -i "$DEB" >&2
for f in usr/bin/kafkaterm usr/share/man/man1/kafkaterm.1.gz usr/share/man/man1/kafkaterm-consume.1.gz \
  usr/share/bash-completion/completions/kafkaterm usr/share/zsh/vendor-completions/_kafkaterm \
  usr/share/fish/vendor_completions.d/kafkaterm.fish usr/share/doc/kafkaterm/config.example.toml \
  usr/share/doc/kafkaterm/copyright; do
  [ -f "$DROOT/$f" ] || fail "$f not installed by the .deb"
done
depends="$(dpkg-deb -f "$DEB" Depends)"
[ -z "$depends" ] || fail "the .deb depends on $depends"
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$DROOT/usr/share/man/man1/kafkaterm.1.gz" 2>/dev/null | grep -q 'terminal operations console' ||
    fail "man cannot read the installed page"
else
  zcat "$DROOT/usr/share/man/man1/kafkaterm.1.gz" | grep -q '^\.TH kafkaterm 1' || fail "the man page is not roff"
fi
words="$(bash -c '
  source "$1"
  COMP_WORDS=(kafkaterm gr); COMP_CWORD=1; COMP_LINE="kafkaterm gr"; COMP_POINT=${#COMP_LINE}
  _kafkaterm kafkaterm gr kafkaterm
  echo "${COMPREPLY[*]}"' _ "$DROOT/usr/share/bash-completion/completions/kafkaterm")"
[ "$words" = "groups" ] || fail "bash completion of 'kafkaterm gr' gave '$words'"
"${CHROOT[@]}" "$DROOT" /usr/bin/kafkaterm --version | grep -q '^librdkafka ' || fail "the installed binary does not run"
echo "the .deb installs into an empty root; man page and bash completion work" >&2
