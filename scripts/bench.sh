#!/usr/bin/env bash
# kafkaterm's benchmark suite. Prints figures (Markdown) and never asserts
# times. Comparisons are ratios against another client run in the same
# session, on the same broker and machine:
#   * kcat for consuming and producing: Debian's kcat binary run against a
#     current librdkafka (the librdkafka.so.1 bundled in the confluent-kafka
#     wheel, through LD_LIBRARY_PATH), and Debian's own build (librdkafka
#     2.0.2) as an extra, labelled row;
#   * Python confluent-kafka (PyPI, bundles a recent librdkafka) for
#     producing, consuming and the group-lag / topic-list references.
# The primary figure for consume and produce is the client's CPU seconds
# (user + sys of the client process): on loopback the broker bounds the
# wall time, which is reported too.
#
# It installs what it needs (apt: kcat, tmux, python3-venv; pip:
# confluent-kafka into a venv under ~/.cache/kafkaterm), starts a private
# nisshi broker (scripts/broker.sh) and a librdkafka mock cluster
# (benches/mock_broker.rs) and stops both when it ends.
#
#   scripts/bench.sh                    the whole suite (~10-15 min on 2 cores)
#   BENCH_REPS=1 scripts/bench.sh       one run per client instead of three
#   BENCH_MANY_TOPICS=0 scripts/bench.sh   skip the 10,000-topic real-broker part
#   BENCH_MANY_GROUPS=0 scripts/bench.sh   skip the 5,000-group console part
#   BENCH_ONLY=headless scripts/bench.sh   only headless consume, produce and copy
#                                          on nisshi (sections 1 and 2, no mock cluster)
#   BENCH_ONLY=copy scripts/bench.sh       only the copy (section 2c): kafkaterm copy
#                                          against consume | produce on nisshi
#   BENCH_ONLY=lagtime scripts/bench.sh    only lag in time at scale (section 7c)
#   BENCH_ONLY=musl scripts/bench.sh       only the static musl binary of scripts/package.sh
#                                          against the ordinary glibc build (section 2d);
#                                          the full run includes it when dist/ has the tarball
#
# The report goes to stdout and to target/bench-results/report.md; raw JSON
# per measurement sits beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${BENCH_MESSAGES:-1000000}
SIZE=100
REPS=${BENCH_REPS:-3}
MANY_TOPICS=${BENCH_MANY_TOPICS:-10000}
MANY_GROUPS=${BENCH_MANY_GROUPS:-5000}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in "" | headless | copy | lagtime | musl) ;; *) echo "BENCH_ONLY: expected 'headless', 'copy', 'lagtime' or 'musl', got '$ONLY'" >&2; exit 2 ;; esac
OUT=${BENCH_OUT:-$ROOT/target/bench-results}
CACHE=${KAFKATERM_CACHE:-$HOME/.cache/kafkaterm}
VENV=$CACHE/bench-venv
CONFLUENT_KAFKA_VERSION=2.16.1
K=$ROOT/scripts/bench/kclient.py
REPORT=$OUT/report.md
SUITE_START=$(date +%s)

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
sayf() { tee -a "$REPORT"; }

# ------------------------------------------------------------ installs
ensure_tools() {
  scripts/ensure-deps.sh test
  local need=()
  command -v kcat >/dev/null 2>&1 || need+=(kcat)
  command -v tmux >/dev/null 2>&1 || need+=(tmux)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} (apt)"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq </dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" </dev/null >&2
    else
      sudo apt-get update -qq </dev/null
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" </dev/null >&2
    fi
  fi
  if ! "$VENV/bin/python" -c "import confluent_kafka; assert confluent_kafka.version() == '$CONFLUENT_KAFKA_VERSION'" 2>/dev/null; then
    log "installing confluent-kafka $CONFLUENT_KAFKA_VERSION into $VENV (pip)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "confluent-kafka==$CONFLUENT_KAFKA_VERSION" >&2
  fi
}

# kcat linked against a current librdkafka: a private directory whose
# librdkafka.so.1 is the one bundled in the confluent-kafka wheel, for
# LD_LIBRARY_PATH. Checks with `kcat -V` that kcat really loads it.
kcat_current_lib() {
  local lib dir=$CACHE/kcat-librdkafka want got
  lib=$("$VENV/bin/python" -c '
import glob, os, confluent_kafka
libs = os.path.join(os.path.dirname(os.path.dirname(confluent_kafka.__file__)), "confluent_kafka.libs")
print(sorted(glob.glob(os.path.join(libs, "librdkafka*.so*")))[0])')
  mkdir -p "$dir"
  ln -sfn "$lib" "$dir/librdkafka.so.1"
  want=$("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.libversion()[0])')
  got=$(LD_LIBRARY_PATH=$dir kcat -V 2>&1 | sed -n 's/.*librdkafka \([0-9][0-9.]*\).*/\1/p' | head -1)
  if [ "$got" != "$want" ]; then
    echo "kcat with LD_LIBRARY_PATH=$dir reports librdkafka '$got', expected $want" >&2
    return 1
  fi
  echo "$dir"
}

# Paths of the bench executables (cargo builds them without running them).
bench_exe() {
  cargo bench --locked --no-run --bench ui --bench mock_broker --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$1"
}

# ------------------------------------------------------------ cleanup
TMUX_SOCK="kt-bench-$$"
MOCK_PID=""
TMPD=""
cleanup() {
  set +e
  tmux -L "$TMUX_SOCK" kill-server >/dev/null 2>&1
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
  [ -n "${KAFKATERM_BROKER_DIR:-}" ] && scripts/broker.sh stop
  [ -n "$TMPD" ] && [ -d "$TMPD/broker-lagtime" ] && KAFKATERM_BROKER_DIR=$TMPD/broker-lagtime scripts/broker.sh stop
  [ -n "$TMPD" ] && rm -rf "$TMPD"
  [ -n "${KAFKATERM_BROKER_DIR:-}" ] && rm -rf "$KAFKATERM_BROKER_DIR"
}
trap cleanup EXIT

# ------------------------------------------------------------ helpers
PY() { "$VENV/bin/python" "$K" "$@" 2>/dev/null; }
# run NAME LABEL [run options] -- CMD...: timed runs, JSON into $OUT/NAME.json
run() {
  local name=$1 label=$2
  shift 2
  log "run: $label"
  python3 "$K" run --label "$label" --out "$OUT/$name.json" "$@" >/dev/null
  if [ "$(python3 "$K" field "$OUT/$name.json" ok)" != "True" ]; then
    log "  FAILED: $(python3 "$K" field "$OUT/$name.json" stderr | tail -3)"
  fi
}
thousands() { python3 -c "print(f'{int(\"$1\"):,}')"; }

# tmux helpers (private server)
tm() { tmux -L "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t b 2>/dev/null || true; }
start_tui() { # start_tui BOOT [extra args...]: echoes the pid
  local boot=$1
  shift
  tm kill-session -t b >/dev/null 2>&1 || true
  tm new-session -d -x 200 -y 50 -s b \
    "exec env KAFKATERM_CONFIG_DIR=$TMPD/tui-config KAFKATERM_DATA_DIR=$TMPD/tui-data TERM=xterm-256color $KT -b $boot $*"
  tm list-panes -t b -F '#{pane_pid}'
}
wait_screen() { # wait_screen PATTERN TIMEOUT_S: 0 when the screen shows it
  local pat=$1 end=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$end" ]; do
    screen | grep -qE -- "$pat" && return 0
    sleep 0.05
  done
  return 1
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
status_mib() { awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# ============================================================ setup
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$REPORT"
log "checking tools"
ensure_tools
log "building (release)"
cargo build --release --locked >&2
KT=${CARGO_TARGET_DIR:-$ROOT/target}/release/kafkaterm
if [ -z "$ONLY" ]; then
  UI=$(bench_exe ui)
  MOCK=$(bench_exe mock_broker)
  [ -x "$UI" ] && [ -x "$MOCK" ] || { echo "cannot find the bench executables" >&2; exit 1; }
fi
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/kafkaterm-bench.XXXXXX")
export KAFKATERM_CONFIG_DIR=$TMPD/config KAFKATERM_DATA_DIR=$TMPD/data
unset KAFKATERM_BROKERS KAFKATERM_CONFIG
export KAFKATERM_BROKER_DIR=$TMPD/broker
B=$(scripts/broker.sh start)
log "nisshi broker at $B"
M=""
if [ -z "$ONLY" ]; then
  MOCK_OUT=$TMPD/mock.out
  MOCK_TOPICS=(mock-consume:64)
  for r in $(seq 0 $((REPS - 1))); do MOCK_TOPICS+=("pm-kt-$r:64" "pm-kcat-$r:64"); done
  "$MOCK" serve "${MOCK_TOPICS[@]}" >"$MOCK_OUT" 2>&1 &
  MOCK_PID=$!
  for _ in $(seq 1 100); do [ -s "$MOCK_OUT" ] && break; sleep 0.1; done
  M=$(head -1 "$MOCK_OUT")
  log "mock cluster at $M"
fi
KCAT_LIB=$(kcat_current_lib)
log "kcat with librdkafka from $KCAT_LIB"
# kcat on a current librdkafka talks nisshi's normal protocol. Debian's own
# build (librdkafka 2.0.2) cannot parse nisshi's ApiVersions answer; without
# the ApiVersions request (pre-0.10 fallback) it reads fine but cannot
# produce: it stays as an extra, labelled consume row.
KCAT=(env LD_LIBRARY_PATH="$KCAT_LIB" kcat -b "$B")
KCAT_DEB=(kcat -X api.version.request=false -X broker.version.fallback=0.9.0 -b "$B")
KCAT_MOCK=(env LD_LIBRARY_PATH="$KCAT_LIB" kcat -b "$M")

# ============================================================ header
{
  echo "# kafkaterm benchmark report"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' (with local changes)')"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- kafkaterm: $($KT --version) (librdkafka $(grep -m1 -A1 'name = "rdkafka-sys"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p' | sed 's/.*+//'), release build)"
  echo "- kcat: $(LD_LIBRARY_PATH=$KCAT_LIB kcat -V 2>&1 | grep -m1 Version | sed 's/ builtin.*//') (Debian's kcat binary with the wheel's librdkafka via LD_LIBRARY_PATH); extra rows: Debian's own build, $(kcat -V 2>&1 | grep -m1 Version | sed 's/ builtin.*//; s/.*(//; s/JSON, //; s/Transactions, //; s/IncrementalAssign, //')"
  echo "- Python confluent-kafka: $("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.version(), "(librdkafka", c.libversion()[0] + ")")')"
  echo "- broker: nisshi $(basename "$(dirname "$(dirname "$(scripts/install-broker.sh)")")" | sed 's/nisshi-//') (in memory) on loopback; librdkafka mock cluster (benches/mock_broker.rs) on loopback"
  echo "- messages: $(thousands "$N") of ${SIZE}-byte JSON values (for consume: with a key and one header), $REPS run(s) per client, median reported"
  echo
} | sayf

# ============================================================ 2c. copy (a function: run after
# section 2, or alone with BENCH_ONLY=copy)
copy_section() {
  log "copying"
  for r in $(seq 0 $((REPS - 1))); do
    PY create "$B" "cp-kt-$r:8" "cp-pipe-$r:8" >/dev/null
  done
  say "## 2c. Copy between topics ($(thousands "$N") messages of bench-consume: ${SIZE}-byte values with a key and one header, 8 partitions, nisshi)"
  say ""
  say "kafkaterm: \`kafkaterm -b ADDR copy bench-consume DST --keep-partitions --keep-timestamps\` (acks=all, idempotent, lz4: its defaults). The pipeline: \`kafkaterm consume bench-consume --exit-at-end --format jsonl | kafkaterm produce DST --format jsonl --acks all --idempotent --compression lz4\` (the JSON lines carry partition and timestamp, so it keeps both too). CPU s of the pipeline = both processes (and the shell). A fresh destination topic per run."
  say ""
  run cp-kt "kafkaterm copy" --reps "$REPS" -- "$KT" -b "$B" copy bench-consume "cp-kt-{rep}" --keep-partitions --keep-timestamps
  run cp-pipe "consume jsonl, piped to produce jsonl" --reps "$REPS" -- sh -c "'$KT' -b '$B' consume bench-consume --exit-at-end --format jsonl | '$KT' -b '$B' produce 'cp-pipe-{rep}' --format jsonl --acks all --idempotent --compression lz4"
  cp_count() { PY count "$B" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])'; }
  say "Messages in the destinations afterwards (first run): kafkaterm copy $(cp_count cp-kt-0), pipeline $(cp_count cp-pipe-0) (expected $N each)."
  say ""
  python3 "$K" rate-table "$N" "$OUT"/cp-kt.json "$OUT"/cp-pipe.json | sayf
  say ""
  python3 "$K" ratio "$N" "$OUT/cp-kt.json,$OUT/cp-pipe.json" | sayf
  say ""
}

# ============================================================ 7c. lag in time (a function: run
# after section 7, or alone with BENCH_ONLY=lagtime), on a broker of its own
# so that only its groups are listed
lagtime_section() {
  log "lag in time: 200 groups, half on one topic at 100 different offsets"
  local dir=$TMPD/broker-lagtime b2
  b2=$(KAFKATERM_BROKER_DIR=$dir scripts/broker.sh start)
  PY lagtime-fixture "$b2" lt 50 100 100 >"$TMPD/lagtime.json"
  say "## 7c. Lag in time at scale: 200 groups × 50 partitions, half of them sharing partitions at different offsets"
  say ""
  say "A broker of its own. 100 groups on one 50-partition topic, group i committed at offset i + 1 on every partition (100 different offsets per partition); 100 groups each on a 50-partition topic of its own, at offset 5: 10,000 (partition, offset) pairs on 5,050 partitions, every one lagging. Fixture: $(python3 -c "import json; d=json.load(open('$TMPD/lagtime.json')); print(d['groups'], 'groups in', d['seconds'], 's')"). kafkaterm reads the record at each committed offset for lag in seconds; the Python reference (list, describe, offsets per group, end offsets) computes lag without it."
  say ""
  "$KT" -b "$b2" groups --json >"$TMPD/lagtime-groups.json" 2>/dev/null || true
  say "One \`groups --json\` call: $(PY lagtime-answered "$TMPD/lagtime-groups.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["with_lag_seconds"], "of", d["groups"], "groups with max_lag_seconds")')."
  say ""
  local reps=$((REPS < 5 ? 5 : REPS))
  run lt-kt "kafkaterm groups --json (with lag in seconds)" --reps "$reps" -- "$KT" -b "$b2" groups --json
  run lt-py "python AdminClient: list, describe, offsets per group, end offsets (no lag in seconds)" --reps "$reps" -- "$VENV/bin/python" "$K" groups-ref "$b2"
  python3 "$K" time-ratio "$OUT/lt-kt.json,$OUT/lt-py.json" | sayf
  say ""
  KAFKATERM_BROKER_DIR=$dir scripts/broker.sh stop >/dev/null 2>&1 || true
}

# ============================================================ 2d. the static binary (a
# function: after section 2, or alone with BENCH_ONLY=musl, which packages first)
musl_section() {
  local tarball dir bin
  tarball=$(ls dist/kafkaterm-*-x86_64-unknown-linux-musl.tar.gz 2>/dev/null | head -1 || true)
  if [ -z "$tarball" ]; then
    log "no dist/ tarball: section 2d skipped (scripts/package.sh makes it)"
    return
  fi
  dir=$TMPD/musl
  mkdir -p "$dir"
  tar -C "$dir" -xzf "$tarball"
  bin=$(ls "$dir"/*/kafkaterm)
  log "musl against glibc"
  for r in $(seq 0 $((REPS - 1))); do PY create "$B" "pm-musl-$r:8" "pm-glibc-$r:8" >/dev/null; done
  [ -f "$TMPD/produce.txt" ] || python3 "$K" gen "$TMPD/produce.txt" "$N" "$SIZE" >/dev/null
  say "## 2d. The static musl binary against the ordinary glibc build"
  say ""
  say "musl: \`$(basename "$tarball")\` from scripts/package.sh ($(file -b "$bin" | cut -d, -f1-2); dist profile: fat LTO, one codegen unit, stripped; vendored OpenSSL; mimalloc). glibc: the release build used above. Consume as in 1 (jsonl), produce as in 2."
  say ""
  run mc-glibc "consume --format jsonl, glibc" --reps "$REPS" -- "$KT" -b "$B" consume bench-consume --from beginning --exit-at-end --format jsonl
  run mc-musl "consume --format jsonl, musl static" --reps "$REPS" -- "$bin" -b "$B" consume bench-consume --from beginning --exit-at-end --format jsonl
  run mp-glibc "produce, glibc" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "$KT" -b "$B" produce "pm-glibc-{rep}" --acks 1 --compression lz4
  run mp-musl "produce, musl static" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "$bin" -b "$B" produce "pm-musl-{rep}" --acks 1 --compression lz4
  python3 "$K" rate-table "$N" "$OUT"/mc-glibc.json "$OUT"/mc-musl.json "$OUT"/mp-glibc.json "$OUT"/mp-musl.json | sayf
  say ""
  python3 "$K" ratio "$N" "$OUT/mc-musl.json,$OUT/mc-glibc.json" "$OUT/mp-musl.json,$OUT/mp-glibc.json" | sayf
  say ""
}

# ============================================================ 1. consume
if [ "$ONLY" = lagtime ]; then
  lagtime_section
  log "BENCH_ONLY=$ONLY: done; report in $REPORT"
  exit 0
fi
log "seeding $N messages into nisshi topic bench-consume (8 partitions)"
PY create "$B" bench-consume:8 >/dev/null
PY seed "$B" bench-consume "$N" "$SIZE" >/dev/null
if [ "$ONLY" = musl ]; then
  scripts/package.sh >/dev/null
  musl_section
  log "BENCH_ONLY=$ONLY: done; report in $REPORT"
  exit 0
fi
if [ "$ONLY" = copy ]; then
  copy_section
  log "BENCH_ONLY=$ONLY: done; report in $REPORT"
  exit 0
fi
say "## 1. Headless consume to /dev/null ($(thousands "$N") messages with a key and one header, 8 partitions, nisshi)"
say ""
say "Each run is a whole process (start, metadata, read to the end, exit), stdout to /dev/null. Client CPU s = user + sys of the client process (wait4); the broker's CPU is not in it. kcat rows use librdkafka $("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.libversion()[0])') unless labelled Debian."
say ""
# Correctness first: every client delivers every message.
"$KT" -b "$B" consume bench-consume --from beginning --exit-at-end --format jsonl | wc -l >"$TMPD/kt.count"
"$KT" -b "$B" consume bench-consume --from beginning --exit-at-end --format text | wc -l >"$TMPD/kt-text.count"
"${KCAT[@]}" -C -t bench-consume -o beginning -e -q -J | wc -l >"$TMPD/kcat.count"
say "Lines written: kafkaterm jsonl $(cat "$TMPD/kt.count"), text $(cat "$TMPD/kt-text.count"), kcat -J $(cat "$TMPD/kcat.count") (expected $N)."
say ""
KTC=("$KT" -b "$B" consume bench-consume --from beginning --exit-at-end)
KCC=(-C -t bench-consume -o beginning -e -q)
KCAT_TEXT_FMT='%p/%o %T key=%k %s | %h\n'
# kafkaterm's consumer defaults (src/headless/consume.rs CONSUMER_DEFAULTS),
# so that kcat's wall time is not its 1-second fetch.queue.backoff.ms.
KCAT_FETCH=(-X fetch.wait.max.ms=100 -X fetch.queue.backoff.ms=50)
run c-kt-jsonl "kafkaterm --format jsonl" --reps "$REPS" -- "${KTC[@]}" --format jsonl
run c-kt-text "kafkaterm --format text" --reps "$REPS" -- "${KTC[@]}" --format text
run c-kcat-json "kcat -J (JSON envelope)" --reps "$REPS" -- "${KCAT[@]}" "${KCC[@]}" -J
run c-kcat-json-f "kcat -J, kafkaterm's fetch settings" --reps "$REPS" -- "${KCAT[@]}" "${KCAT_FETCH[@]}" "${KCC[@]}" -J
run c-kcat-text "kcat -f '%p/%o %T key=%k %s \\| %h\\n'" --reps "$REPS" -- "${KCAT[@]}" "${KCC[@]}" -f "$KCAT_TEXT_FMT"
run c-kcat-text-f "kcat -f (as above), kafkaterm's fetch settings" --reps "$REPS" -- "${KCAT[@]}" "${KCAT_FETCH[@]}" "${KCC[@]}" -f "$KCAT_TEXT_FMT"
run c-kcat-raw "kcat raw value dump (-C -e -q)" --reps "$REPS" -- "${KCAT[@]}" "${KCC[@]}"
run c-kcat-raw-f "kcat raw value dump, kafkaterm's fetch settings" --reps "$REPS" -- "${KCAT[@]}" "${KCAT_FETCH[@]}" "${KCC[@]}"
run c-kcat-deb-json "kcat -J, Debian's build (librdkafka 2.0.2, pre-0.10 protocol)" --reps "$REPS" -- "${KCAT_DEB[@]}" "${KCC[@]}" -J
run c-py "python confluent-kafka (count only)" --reps "$REPS" -- "$VENV/bin/python" "$K" consume "$B" bench-consume
python3 "$K" rate-table "$N" "$OUT"/c-kt-jsonl.json "$OUT"/c-kt-text.json "$OUT"/c-kcat-json.json \
  "$OUT"/c-kcat-json-f.json "$OUT"/c-kcat-text.json "$OUT"/c-kcat-text-f.json "$OUT"/c-kcat-raw.json \
  "$OUT"/c-kcat-raw-f.json "$OUT"/c-kcat-deb-json.json "$OUT"/c-py.json | sayf
say ""
python3 "$K" ratio "$N" "$OUT/c-kt-jsonl.json,$OUT/c-kcat-json.json" "$OUT/c-kt-jsonl.json,$OUT/c-kcat-json-f.json" \
  "$OUT/c-kt-jsonl.json,$OUT/c-kcat-raw.json" "$OUT/c-kt-jsonl.json,$OUT/c-kcat-raw-f.json" \
  "$OUT/c-kt-text.json,$OUT/c-kcat-text.json" "$OUT/c-kt-text.json,$OUT/c-kcat-text-f.json" \
  "$OUT/c-kt-text.json,$OUT/c-kcat-raw.json" "$OUT/c-kt-jsonl.json,$OUT/c-kcat-deb-json.json" \
  "$OUT/c-kt-jsonl.json,$OUT/c-py.json" | sayf
say ""

if [ -z "$ONLY" ]; then
log "seeding $N messages into the mock cluster (64 partitions)"
PY seed "$M" mock-consume "$N" "$SIZE" >/dev/null
say "### 1b. Same, against librdkafka's mock cluster (64 partitions)"
say ""
KTM=("$KT" -b "$M" consume mock-consume --from beginning --exit-at-end)
KCM=(-C -t mock-consume -o beginning -e -q)
run m-kt-jsonl "kafkaterm --format jsonl (mock)" --reps "$REPS" -- "${KTM[@]}" --format jsonl
run m-kt-text "kafkaterm --format text (mock)" --reps "$REPS" -- "${KTM[@]}" --format text
run m-kcat-json "kcat -J (mock)" --reps "$REPS" -- "${KCAT_MOCK[@]}" "${KCM[@]}" -J
run m-kcat-text "kcat -f (as in 1) (mock)" --reps "$REPS" -- "${KCAT_MOCK[@]}" "${KCM[@]}" -f "$KCAT_TEXT_FMT"
run m-kcat-raw "kcat raw value dump (mock)" --reps "$REPS" -- "${KCAT_MOCK[@]}" "${KCM[@]}"
python3 "$K" rate-table "$N" "$OUT"/m-kt-jsonl.json "$OUT"/m-kt-text.json "$OUT"/m-kcat-json.json \
  "$OUT"/m-kcat-text.json "$OUT"/m-kcat-raw.json | sayf
say ""
python3 "$K" ratio "$N" "$OUT/m-kt-jsonl.json,$OUT/m-kcat-json.json" "$OUT/m-kt-jsonl.json,$OUT/m-kcat-raw.json" \
  "$OUT/m-kt-text.json,$OUT/m-kcat-text.json" | sayf
say ""
fi

# ============================================================ 2. produce
log "producing"
python3 "$K" gen "$TMPD/produce.txt" "$N" "$SIZE" >/dev/null
for r in $(seq 0 $((REPS - 1))); do
  PY create "$B" "p-kt-$r:8" "p-kcat-$r:8" "p-py-$r:8" >/dev/null
done
say "## 2. Headless produce, acks=1, lz4 ($(thousands "$N") lines of $SIZE bytes from a file, 8 partitions, nisshi)"
say ""
say "kafkaterm: \`kafkaterm -b ADDR produce TOPIC --acks 1 --compression lz4 < file\`. kcat: \`kcat -P -t TOPIC -X acks=1 -z lz4\` with kafkaterm's producer settings (\`-X linger.ms=5 -X queue.buffering.max.messages=100000\`). Python: the same file, acks, codec and settings. A fresh topic per run. Each run is a whole process, including the final flush."
say ""
run p-kt "kafkaterm produce" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "$KT" -b "$B" produce "p-kt-{rep}" --acks 1 --compression lz4
run p-kcat "kcat -P -z lz4" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "${KCAT[@]}" -P -t "p-kcat-{rep}" -X acks=1 -z lz4 -X linger.ms=5 -X queue.buffering.max.messages=100000
run p-py "python confluent-kafka producer" --reps "$REPS" -- "$VENV/bin/python" "$K" produce "$B" "p-py-{rep}" "$TMPD/produce.txt" 1 lz4
count_of() { PY count "$B" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])'; }
say "Messages in the topics afterwards (first run): kafkaterm $(count_of p-kt-0), kcat $(count_of p-kcat-0), python $(count_of p-py-0) (expected $N each)."
say ""
python3 "$K" rate-table "$N" "$OUT"/p-kt.json "$OUT"/p-kcat.json "$OUT"/p-py.json | sayf
say ""
python3 "$K" ratio "$N" "$OUT/p-kt.json,$OUT/p-kcat.json" "$OUT/p-kt.json,$OUT/p-py.json" | sayf
say ""
musl_section
copy_section
if [ -n "$ONLY" ]; then
  log "BENCH_ONLY=$ONLY: done; report in $REPORT"
  exit 0
fi
say "### 2b. Same, against the mock cluster (64 partitions)"
say ""
run pm-kt "kafkaterm produce (mock)" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "$KT" -b "$M" produce "pm-kt-{rep}" --acks 1 --compression lz4
run pm-kcat "kcat -P -z lz4 (mock)" --reps "$REPS" --stdin "$TMPD/produce.txt" -- "${KCAT_MOCK[@]}" -P -t "pm-kcat-{rep}" -X acks=1 -z lz4 -X linger.ms=5 -X queue.buffering.max.messages=100000
python3 "$K" rate-table "$N" "$OUT"/pm-kt.json "$OUT"/pm-kcat.json | sayf
say ""
python3 "$K" ratio "$N" "$OUT/pm-kt.json,$OUT/pm-kcat.json" | sayf
say ""

# ============================================================ 3, 4, 6a, 5a: the App
log "UI benchmarks"
say "## 3. Render time per pane"
say ""
"$UI" render | sayf
say "## 4. Keypress-to-frame latency while ingesting"
say ""
say "The event loop of src/tui.rs reproduced (same select!, 16 ms frame pacing, 256-event drain), drawing through a crossterm backend into a sink; a feeder thread offers 2,000-record batches through the worker's bounded channel (capacity 256) at 50,000 msgs/s; ↓/↑ every ~50 ms. Latency = key sent → end of the first frame drawn after the key was handled (includes up to one 16 ms frame interval of pacing)."
say ""
"$UI" keys | sayf
say "## 6. Time to first frame on a 10,000-topic cluster"
say ""
"$UI" topics | sayf
say "## 5. Peak memory after tailing 1,000,000 messages"
say ""
"$UI" memory | sayf

# ============================================================ 5b. the real console
log "tailing $N messages in the real console (tmux)"
say "### 5b. The real console under tmux (200x50): browse bench-consume from the beginning"
say ""
tm_tail() { # tm_tail LABEL [extra kafkaterm args]
  local label=$1
  shift
  local pid t0 t1 idle
  pid=$(start_tui "$B" "$@")
  if ! wait_screen "refreshed [0-9]" 30; then
    say "| $label | console did not start | | | |"
    return
  fi
  sleep 1
  idle=$(status_mib "$pid" VmHWM)
  tm send-keys -t b 2
  tm send-keys -t b o
  tm send-keys -t b -l bench-consume
  tm send-keys -t b Tab Tab C-u
  tm send-keys -t b -l beginning
  sleep 0.3
  t0=$(now)
  tm send-keys -t b Enter
  local done_pat
  if [ "$N" -gt 200000 ]; then
    done_pat="$(thousands $((N - 200000))) dropped"
  else
    done_pat="$(thousands "$N") buffered"
  fi
  if wait_screen "$done_pat" 300; then
    t1=$(now)
    local secs rate
    secs=$(elapsed "$t0" "$t1")
    rate=$(python3 -c "print(f'{$N / $secs:,.0f}')")
    say "| $label | $idle | $(status_mib "$pid" VmHWM) | $(status_mib "$pid" VmRSS) | $secs s ($rate msgs/s) |"
  else
    say "| $label | $idle | $(status_mib "$pid" VmHWM) | $(status_mib "$pid" VmRSS) | not done in 300 s |"
  fi
  tm send-keys -t b q
  sleep 0.5
  tm kill-session -t b >/dev/null 2>&1 || true
}
say "| console | peak RSS before browsing MiB | peak RSS (VmHWM) MiB | RSS at the end MiB | time to read all $(thousands "$N") |"
say "|---|---:|---:|---:|---:|"
tm_tail "kafkaterm (defaults: 200k messages / 256 MiB cap)"
tm_tail "kafkaterm -X fetch.queue.backoff.ms=10" -X fetch.queue.backoff.ms=10
say ""
say "For comparison, peak RSS of the headless consumers in section 1: kafkaterm jsonl $(python3 -c "import json; print(round(json.load(open('$OUT/c-kt-jsonl.json'))['maxrss_kb']/1024))") MiB, kcat -J $(python3 -c "import json; print(round(json.load(open('$OUT/c-kcat-json.json'))['maxrss_kb']/1024))") MiB."
say ""

# ============================================================ 7. groups
log "groups: 200 groups x 50 partitions"
LAG_TOPICS=()
for t in $(seq 0 3); do LAG_TOPICS+=("lag-$t"); done
PY create "$B" lag-0:50 lag-1:50 lag-2:50 lag-3:50 >/dev/null
for t in "${LAG_TOPICS[@]}"; do PY seed "$B" "$t" 20000 "$SIZE" >/dev/null; done
PY commit-groups "$B" bench-group 200 "${LAG_TOPICS[@]}" >"$TMPD/commit.json"
say "## 7. Lag refresh: 200 groups × 50 partitions"
say ""
say "4 topics × 50 partitions (20,000 messages each); 200 groups committed with plain consumers (group i on every partition of topic i mod 4, at half the end offset): $(python3 -c "import json; d=json.load(open('$TMPD/commit.json')); print(d['committed'], 'offsets committed in', d['seconds'], 's')")."
say ""
"$KT" -b "$B" groups --json >"$TMPD/groups.json" 2>/dev/null || true
say "kafkaterm's answer: $(python3 -c "
import json
g = [x for x in json.load(open('$TMPD/groups.json')) if x['group'].startswith('bench-group')]
print(len(g), 'bench groups,', sum(len(x['topics']) for x in g), 'topic entries, total lag', sum(x['total_lag'] for x in g))
" 2>/dev/null || echo unreadable); Python reference: $(PY groups-ref "$B" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["groups"], "groups,", d["partitions"], "partitions, total lag", d["total_lag"])')."
say ""
GREPS=$((REPS < 5 ? 5 : REPS))
run g-kt "kafkaterm groups --json" --reps "$GREPS" -- "$KT" -b "$B" groups --json
run g-py "python AdminClient: list, describe, offsets per group, end offsets" --reps "$GREPS" -- "$VENV/bin/python" "$K" groups-ref "$B"
python3 "$K" time-ratio "$OUT/g-kt.json,$OUT/g-py.json" | sayf
say ""
lagtime_section

# ============================================================ 6b. many topics
# The groups of 7b are committed first: every new consumer's start costs
# more on a broker that already holds 100,000 partitions (26 minutes
# instead of a few for 5,000 groups).
many_groups() {
  log "committing offsets for $MANY_GROUPS groups x 10 partitions"
  PY create "$B" g5k-0:10 g5k-1:10 >/dev/null
  for t in g5k-0 g5k-1; do PY seed "$B" "$t" 10000 "$SIZE" >/dev/null; done
  PY commit-groups "$B" g5k "$MANY_GROUPS" g5k-0 g5k-1 >"$TMPD/g5k.json"
}
if [ "$MANY_TOPICS" -gt 0 ] && [ "$MANY_GROUPS" -gt 0 ]; then
  many_groups
fi
if [ "$MANY_TOPICS" -gt 0 ]; then
  log "creating $MANY_TOPICS topics x 10 partitions"
  PY create-many "$B" many "$MANY_TOPICS" 10 >"$TMPD/many.json"
  say "### 6b. The real worker against nisshi with $(thousands "$MANY_TOPICS") more topics × 10 partitions"
  say ""
  say "Created in $(python3 "$K" field "$TMPD/many.json" seconds) s. One run each (a refresh this size takes long)."
  say ""
  run t-kt "kafkaterm topics --json" -- timeout 300 "$KT" -b "$B" topics --json
  run t-py "python: metadata + watermarks in chunks of 1,000 partitions" --stdout "$TMPD/topics-ref.json" -- "$VENV/bin/python" "$K" topics-ref "$B" 1000
  python3 "$K" time-ratio "$OUT/t-kt.json,$OUT/t-py.json" | sayf
  say ""
  say "kafkaterm stderr: \`$(python3 "$K" field "$OUT/t-kt.json" stderr | tr '\n' ' ' | cut -c1-200)\`; Python reference: $(python3 -c "import json; d=json.load(open('$TMPD/topics-ref.json')); print(d['topics'], 'topics,', d['partitions'], 'partitions,', d['watermarks'], 'with both watermarks')")."
  say ""
  pid=$(start_tui "$B")
  t0=$(now)
  first=""
  while [ "$(python3 -c "print(int($(now) - $t0))")" -lt 300 ]; do
    tot=$(screen | grep -oE "Topics [0-9]+/[0-9]+" | head -1 | sed 's#.*/##' || true)
    if [ -n "$tot" ] && [ "$tot" -ge "$MANY_TOPICS" ]; then
      first=$(elapsed "$t0" "$(now)")
      break
    fi
    sleep 0.05
  done
  say "Console start → first frame listing the topics: ${first:-not within 300} s (the Python reference's metadata request alone, in the same minutes: $(python3 "$K" field "$TMPD/topics-ref.json" metadata_s) s; peak RSS $(status_mib "$pid" VmHWM) MiB); warnings on screen: $(screen | grep -oE 'watermarks unavailable[^│]*' | head -1 | sed 's/ *? help *$//; s/ *$//' || true)"
  say ""
  tm kill-session -t b >/dev/null 2>&1 || true
fi

# ============================================================ 7b. many groups in the console
if [ "$MANY_GROUPS" -gt 0 ]; then
  [ -f "$TMPD/g5k.json" ] || many_groups
  ngroups=$("$VENV/bin/python" "$K" list-groups-ref "$B" | python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"])')
  say "### 7b. The console on $(thousands "$ngroups") consumer groups"
  say ""
  say "$(thousands "$MANY_GROUPS") groups committed with plain consumers on the 10 partitions of g5k-0 or g5k-1 (in $(python3 "$K" field "$TMPD/g5k.json" seconds) s), beside the groups of section 7$([ "$MANY_TOPICS" -gt 0 ] && echo " and the $(thousands "$MANY_TOPICS") topics of 6b"). The console starts at 80x24 with \`4\` pressed at once; the screen is read every 50 ms. Listed: the Groups pane's title shows all groups (state, members, status). Lag for all: \`lag known for …\` is gone. Python: \`AdminClient.list_groups()\` (the same ListGroups + DescribeGroups librdkafka call), timed inside the process."
  say ""
  say "| run | start → all groups listed s | start → lag for all s | Python list_groups s |"
  say "|---|---:|---:|---:|"
  for r in $(seq 1 "$REPS"); do
    tm kill-session -t b >/dev/null 2>&1 || true
    t0=$(now)
    tm new-session -d -x 80 -y 24 -s b \
      "exec env KAFKATERM_CONFIG_DIR=$TMPD/tui-config KAFKATERM_DATA_DIR=$TMPD/tui-data TERM=xterm-256color $KT -b $B"
    tm send-keys -t b 4
    listed="" lagged=""
    while [ "$(python3 -c "print(int($(now) - $t0))")" -lt 120 ]; do
      s=$(screen)
      shown=$(echo "$s" | grep -oE "Consumer groups [0-9]+" | head -1 | grep -oE "[0-9]+$" || true)
      if [ -z "$listed" ] && [ -n "$shown" ] && [ "$shown" -ge "$MANY_GROUPS" ]; then listed=$(elapsed "$t0" "$(now)"); fi
      if [ -n "$listed" ] && echo "$s" | grep -qE "refreshed [0-9]" && ! echo "$s" | grep -q "lag known for"; then
        lagged=$(elapsed "$t0" "$(now)")
        break
      fi
      sleep 0.05
    done
    tm kill-session -t b >/dev/null 2>&1 || true
    py=$("$VENV/bin/python" "$K" list-groups-ref "$B" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
    say "| $r | ${listed:-not within 120} | ${lagged:-not within 120} | $py |"
  done
  say ""
fi

say "Suite time: $(($(date +%s) - SUITE_START)) s."
log "report: $REPORT"
