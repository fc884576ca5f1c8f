#!/usr/bin/env bash
# Start or stop a nisshi test broker on a loopback port.
#   scripts/broker.sh start [PORT]   prints the bootstrap address
#   scripts/broker.sh stop
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

case "${1:-}" in
  start)
    bin="$("$here/install-broker.sh")"
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "127.0.0.1:$(cat "$state/port")"
      exit 0
    fi
    port="${2:-$(free_port)}"
    # Extra arguments after the port go to nisshi (TLS or authentication).
    shift $(( $# >= 2 ? 2 : 1 ))
    "$bin" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine memory://nisshi/ --group-initial-rebalance-delay 0s --silent "$@" \
      >"$state/log" 2>&1 &
    echo $! >"$state/pid"
    echo "$port" >"$state/port"
    if ! wait_ready "$port"; then
      echo "nisshi did not start; its log:" >&2
      tail -20 "$state/log" >&2
      exit 1
    fi
    echo "127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$state/pid" ]; then
      pid="$(cat "$state/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$state/pid"
    fi
    ;;
  *)
    echo "usage: $0 start [PORT] [nisshi args...] | stop" >&2
    exit 2
    ;;
esac
