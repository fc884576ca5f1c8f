#!/usr/bin/env bash
# Start or stop a nisshi test broker on a loopback port.
#   scripts/broker.sh start [PORT]        prints the bootstrap address
#   scripts/broker.sh start-sasl [PORT]   a second broker that requires SASL
#                                         SCRAM-SHA-256/512 (SASL_PLAINTEXT);
#                                         prints its bootstrap address
#   scripts/broker.sh stop                stops both
# The SASL broker's users are $KAFKATERM_SCRAM_USERS (user:password pairs
# separated by commas; default kafkaterm:kafkaterm-secret), created at start-up
# for both mechanisms by the patched broker (tests/broker/nisshi-scram-memory.patch).
# State (pid, port, log) lives in $KAFKATERM_BROKER_DIR (default: a temp dir
# per checkout), so tests and CI can stop exactly what they started.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${KAFKATERM_BROKER_DIR:-${TMPDIR:-/tmp}/kafkaterm-broker-$(echo "$here" | md5sum | cut -c1-8)}"
mkdir -p "$state"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() {
  local port=$1 i
  for i in $(seq 1 150); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# start_broker PREFIX PORT [nisshi args...]: starts a broker whose pid, port and
# log are $state/PREFIXpid, PREFIXport and PREFIXlog (the plain broker's prefix
# is empty, the SASL broker's "sasl-").
start_broker() {
  local p=$1 port=$2 bin
  shift 2
  bin="$("$here/install-broker.sh")"
  if [ -f "$state/${p}pid" ] && kill -0 "$(cat "$state/${p}pid")" 2>/dev/null; then
    echo "127.0.0.1:$(cat "$state/${p}port")"
    return 0
  fi
  # KIP-848 consumer groups (tests/broker/nisshi-consumer-groups.patch): Kafka's
  # defaults are a 45 s session timeout and a 5 s heartbeat interval; the test
  # broker uses 10 s and 1 s so that rebalances and expiries take seconds.
  NISSHI_CONSUMER_SESSION_TIMEOUT_MS="${KAFKATERM_CONSUMER_SESSION_TIMEOUT_MS:-10000}" \
    NISSHI_CONSUMER_HEARTBEAT_INTERVAL_MS="${KAFKATERM_CONSUMER_HEARTBEAT_INTERVAL_MS:-1000}" \
    "$bin" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://nisshi/ --group-initial-rebalance-delay 0s --silent "$@" \
    >"$state/${p}log" 2>&1 &
  echo $! >"$state/${p}pid"
  echo "$port" >"$state/${p}port"
  if ! wait_ready "$port"; then
    echo "nisshi did not start; its log:" >&2
    tail -20 "$state/${p}log" >&2
    return 1
  fi
  echo "127.0.0.1:$port"
}

stop_broker() {
  local pid
  if [ -f "$state/$1" ]; then
    pid="$(cat "$state/$1")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$state/$1"
  fi
}

case "${1:-}" in
  start)
    port="${2:-$(free_port)}"
    # Extra arguments after the port go to nisshi (TLS or authentication).
    shift $(( $# >= 2 ? 2 : 1 ))
    start_broker "" "$port" "$@"
    ;;
  start-sasl)
    port="${2:-$(free_port)}"
    shift $(( $# >= 2 ? 2 : 1 ))
    NISSHI_SCRAM_USERS="${KAFKATERM_SCRAM_USERS:-kafkaterm:kafkaterm-secret}" \
      start_broker sasl- "$port" --authentication "$@"
    ;;
  stop)
    stop_broker pid
    stop_broker sasl-pid
    ;;
  *)
    echo "usage: $0 start [PORT] [nisshi args...] | start-sasl [PORT] [nisshi args...] | stop" >&2
    exit 2
    ;;
esac
