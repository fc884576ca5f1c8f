#!/usr/bin/env bash
# Build kafkaterm and open the console on the embedded demo cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
exec cargo run --release --locked --quiet -- --demo "$@"
