#!/usr/bin/env bash
# Creates, once, the Python virtual environment that the tests use to drive an
# independent Kafka client (confluent-kafka, from tests/py/requirements.txt)
# and prints the path of its interpreter. The environment lives under
# ~/.cache/kafkaterm in a directory named by a hash of the requirements file,
# so a changed file gets a new environment and an unchanged one is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=tests/py/requirements.txt
CACHE="${KAFKATERM_CACHE:-$HOME/.cache/kafkaterm}"
KEY="$(sha256sum "$REQ" | cut -c1-12)"
VENV="$CACHE/py-$KEY"
PY="$VENV/bin/python"
ready() { [ -f "$VENV/.complete" ] && "$PY" -c 'import confluent_kafka' >/dev/null 2>&1; }
if ready; then
  echo "$PY"
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/py-$KEY.lock"
flock 9
if ready; then
  echo "$PY"
  exit 0
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "installing python3-venv (apt)" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >&2
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq </dev/null
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >&2
  else
    echo "please install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
echo "creating the test Python environment in $VENV (pip: $(grep -v '^#' "$REQ" | tr '\n' ' '))" >&2
rm -rf "$VENV"
python3 -m venv "$VENV"
"$PY" -m pip install -q --disable-pip-version-check -r "$REQ" </dev/null >&2
"$PY" -c 'import confluent_kafka' >/dev/null
touch "$VENV/.complete"
echo "$PY"
