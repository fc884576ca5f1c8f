#!/usr/bin/env bash
# The whole test suite: unit, drawing, mock-cluster, real-broker and tmux
# end-to-end tests. Installs the nisshi test broker once (cached in
# ~/.cache/kafkaterm), starts it on a loopback port, runs the tests against
# it, and stops it again. Extra arguments go to the test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh test
export KAFKATERM_NISSHI="$(scripts/install-broker.sh)"
# An independent Kafka client (Python confluent-kafka) for the tests that check
# kafkaterm and the broker against real consumer groups.
export KAFKATERM_PYTHON="$(scripts/python-env.sh)"
export KAFKATERM_BROKER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kafkaterm-test-broker.XXXXXX")"
cleanup() {
  scripts/broker.sh stop || true
  rm -rf "$KAFKATERM_BROKER_DIR"
}
trap cleanup EXIT
export KAFKATERM_TEST_BROKERS="$(scripts/broker.sh start)"
echo "test broker: $KAFKATERM_TEST_BROKERS" >&2
# A second broker that requires SASL SCRAM-SHA-256/512 with these users
# (user:password pairs; test secrets, nothing else uses them), for the tests
# that log in. `scripts/broker.sh stop` in cleanup stops both.
export KAFKATERM_SCRAM_USERS="${KAFKATERM_SCRAM_USERS:-kafkaterm:kafkaterm-secret}"
export KAFKATERM_TEST_SASL_BROKERS="$(scripts/broker.sh start-sasl)"
echo "test SASL broker: $KAFKATERM_TEST_SASL_BROKERS" >&2
# Screen snapshots (tests/snapshots.rs) are compared, never written or
# accepted here: a changed screen fails the run. To review a change, run
# `INSTA_UPDATE=new cargo nextest run --test snapshots` and read the
# `.snap.new` files next to the stored ones.
export INSTA_UPDATE=no INSTA_FORCE_PASS=0
unset INSTA_FORCE_UPDATE INSTA_FORCE_UPDATE_SNAPSHOTS
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast --failure-output final "$@"
else
  cargo test --locked --no-fail-fast "$@"
fi
