#!/usr/bin/env python3
"""Helpers for scripts/bench.sh: the reference client (Python confluent-kafka,
which bundles a recent librdkafka), data generation, seeding, and a process
timer. Every sub-command prints one JSON object on stdout (figures only; no
thresholds: benchmarks never assert times).

  gen FILE N SIZE                   N lines of SIZE-byte JSON-ish values
  create BOOT NAME:PARTS...         create topics (waits for them)
  create-many BOOT PREFIX COUNT PARTS   COUNT topics PREFIX-00000.. in batches
  seed BOOT TOPIC N SIZE            produce N messages with a key and one header, quickly
  produce BOOT TOPIC FILE ACKS CODEC   the produce reference: lines of FILE
  consume BOOT TOPIC                the consume reference: read to the end
  commit-groups BOOT PREFIX NGROUPS TOPIC...   commit offsets for groups
  groups-ref BOOT                   list groups + committed + end offsets
  lagtime-fixture BOOT PREFIX PARTS SHARED OWN   groups sharing a topic at
                                    different offsets, and groups on topics of their own
  lagtime-answered FILE             groups of a `groups --json` file with lag in seconds
  topics-ref BOOT [CHUNK]           metadata + watermarks of every partition
  count BOOT TOPIC                  messages in a topic (sum of high watermarks)
  run [--reps R] [--stdin F] [--stdout F] [--label L] [--out F] -- CMD...
                                    wall time, client CPU and peak RSS of each run
  rate-table N FILE...              Markdown rows: CPU s, wall s, msgs/s of `run` files
  ratio N A,B...                    kafkaterm ÷ other CPU s and wall s of `run` files
  time-ratio A,B...                 other ÷ kafkaterm time from `run` files
  field FILE KEY...                 one field of a JSON file
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def out(**kw):
    print(json.dumps(kw), flush=True)


def value_of(i, size):
    base = '{"id":%d,"user":"u%d","amount":%d.%02d,"status":"paid","pad":"' % (
        i,
        i % 1000,
        i % 500,
        i % 100,
    )
    pad = max(0, size - len(base) - 2)
    return (base + "x" * pad + '"}')[: max(size, len(base) + 2)]


def cmd_gen(path, n, size):
    n, size = int(n), int(size)
    with open(path, "w") as f:
        for i in range(n):
            f.write(value_of(i, size))
            f.write("\n")
    out(file=path, lines=n, bytes=os.path.getsize(path))


def admin(boot):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": boot})


def create_topics(boot, specs):
    from confluent_kafka.admin import NewTopic

    a = admin(boot)
    futs = a.create_topics(
        [NewTopic(n, int(p), 1) for n, p in specs], request_timeout=60
    )
    failed = 0
    for name, f in futs.items():
        try:
            f.result()
        except Exception as e:  # already exists is fine for re-runs
            if "already exists" not in str(e).lower():
                failed += 1
                print(f"create {name}: {e}", file=sys.stderr)
    return failed


def wait_topics(boot, names, timeout=60):
    a = admin(boot)
    want = set(names)
    deadline = time.time() + timeout
    while time.time() < deadline:
        md = a.list_topics(timeout=30)
        have = {t for t, m in md.topics.items() if m.error is None and m.partitions}
        if want <= have:
            return True
        time.sleep(0.2)
    return False


def cmd_create(boot, *specs):
    pairs = [s.rsplit(":", 1) for s in specs]
    t0 = time.time()
    failed = create_topics(boot, pairs)
    ok = wait_topics(boot, [n for n, _ in pairs])
    out(created=len(pairs), failed=failed, ready=ok, seconds=round(time.time() - t0, 3))


def cmd_create_many(boot, prefix, count, parts):
    count, parts = int(count), int(parts)
    names = [f"{prefix}-{i:05d}" for i in range(count)]
    t0 = time.time()
    failed = 0
    for i in range(0, count, 500):
        failed += create_topics(boot, [(n, parts) for n in names[i : i + 500]])
    ok = wait_topics(boot, names, timeout=300)
    out(created=count, partitions=count * parts, failed=failed, ready=ok,
        seconds=round(time.time() - t0, 3))


def producer(boot, **extra):
    from confluent_kafka import Producer

    conf = {
        "bootstrap.servers": boot,
        "linger.ms": 5,
        "queue.buffering.max.messages": 100000,
        "message.max.bytes": 67108864,
    }
    conf.update(extra)
    return Producer(conf)


def produce_all(p, topic, values, keyed):
    errors = [0]

    def cb(err, _msg):
        if err is not None:
            errors[0] += 1

    n = 0
    for i, v in enumerate(values):
        while True:
            try:
                if keyed:
                    p.produce(topic, v, b"key-%d" % i, on_delivery=cb,
                              headers=[("trace-id", b"%016x" % i)])
                else:
                    p.produce(topic, v, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.005)
        n += 1
        if n % 1024 == 0:
            p.poll(0)
    left = p.flush(120)
    return n, errors[0] + left


def cmd_seed(boot, topic, n, size):
    """N values of SIZE bytes, each with a key (`key-I`) and one header
    (`trace-id`: 16 hex digits), uncompressed."""
    n, size = int(n), int(size)
    p = producer(boot, acks=1, **{"compression.type": "none", "linger.ms": 20})
    t0 = time.time()
    values = (value_of(i, size).encode() for i in range(n))
    sent, failed = produce_all(p, topic, values, keyed=True)
    dt = time.time() - t0
    out(topic=topic, sent=sent, failed=failed, seconds=round(dt, 3))
    if failed:
        sys.exit(1)


def cmd_produce(boot, topic, path, acks, codec):
    """The reference producer: same input file, same acks/codec, and the
    librdkafka settings kafkaterm's producer uses (linger.ms=5, a 1M queue)."""
    p = producer(boot, acks=acks, **{"compression.type": codec})
    t0 = time.time()
    with open(path, "rb") as f:
        values = (line.rstrip(b"\n") for line in f)
        sent, failed = produce_all(p, topic, values, keyed=False)
    dt = time.time() - t0
    out(sent=sent, failed=failed, seconds=round(dt, 3),
        msgs_per_s=round(sent / dt) if dt > 0 else 0)


def cmd_consume(boot, topic):
    """The reference consumer: assign every partition from the beginning,
    read to the end, count messages and bytes (no formatting, no output)."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition, OFFSET_BEGINNING

    t0 = time.time()
    c = Consumer({
        "bootstrap.servers": boot,
        "group.id": f"bench-ref-{os.getpid()}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
    })
    md = c.list_topics(topic, timeout=30)
    parts = list(md.topics[topic].partitions)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    remaining = set(parts)
    n = 0
    nbytes = 0
    while remaining:
        for m in c.consume(10000, timeout=1.0):
            err = m.error()
            if err is None:
                n += 1
                v = m.value()
                nbytes += len(v) if v else 0
            elif err.code() == KafkaError._PARTITION_EOF:
                remaining.discard(m.partition())
    c.close()
    dt = time.time() - t0
    out(messages=n, bytes=nbytes, seconds=round(dt, 3),
        msgs_per_s=round(n / dt) if dt > 0 else 0)


def cmd_commit_groups(boot, prefix, ngroups, *topics):
    """Commit offsets for NGROUPS groups with plain consumers (no group join):
    group i commits every partition of topics[i % len(topics)] at half its
    end offset, so every partition shows a lag."""
    from confluent_kafka import Consumer, TopicPartition

    ngroups = int(ngroups)
    probe = Consumer({"bootstrap.servers": boot, "group.id": f"{prefix}-probe"})
    ends = {}
    for t in topics:
        md = probe.list_topics(t, timeout=30)
        for p in md.topics[t].partitions:
            _lo, hi = probe.get_watermark_offsets(TopicPartition(t, p), timeout=10)
            ends[(t, p)] = hi
    probe.close()
    t0 = time.time()
    committed = 0
    for g in range(ngroups):
        t = topics[g % len(topics)]
        c = Consumer({
            "bootstrap.servers": boot,
            "group.id": f"{prefix}-{g:03d}",
            "enable.auto.commit": False,
        })
        offs = [TopicPartition(t, p, max(0, hi // 2)) for (tt, p), hi in ends.items() if tt == t]
        c.commit(offsets=offs, asynchronous=False)
        committed += len(offs)
        c.close()
    out(groups=ngroups, committed=committed, seconds=round(time.time() - t0, 3))


def cmd_lagtime_fixture(boot, prefix, parts, shared_groups, own_groups):
    """Lag in time at scale: topic PREFIX-shared (PARTS partitions, 120
    records each, written 0.1 s apart in timestamp) read by SHARED_GROUPS
    groups at different offsets (group i commits offset i + 1 on every
    partition), and OWN_GROUPS groups each on a topic of its own (PARTS
    partitions, 10 records each), committed at offset 5."""
    from confluent_kafka import Consumer, TopicPartition

    parts, shared_groups, own_groups = int(parts), int(shared_groups), int(own_groups)
    if shared_groups + 1 > 120:
        sys.exit("at most 119 shared groups (120 records per partition)")
    t0 = time.time()
    shared = f"{prefix}-shared"
    own = [f"{prefix}-own-{j:03d}" for j in range(own_groups)]
    failed = create_topics(boot, [(shared, parts)] + [(t, parts) for t in own])
    ready = wait_topics(boot, [shared] + own, timeout=300)
    p = producer(boot, acks=1)
    base = int(time.time() * 1000) - 3_600_000
    for part in range(parts):
        for i in range(120):
            p.produce(shared, b"v", partition=part, timestamp=base + i * 100)
        p.poll(0)
    for t in own:
        for part in range(parts):
            for i in range(10):
                p.produce(t, b"v", partition=part, timestamp=base + i * 100)
        p.poll(0)
    left = p.flush(120)

    def commit(group, topic, offset):
        c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition(topic, q, offset) for q in range(parts)], asynchronous=False)
        c.close()

    for i in range(shared_groups):
        commit(f"{prefix}-s-{i:03d}", shared, i + 1)
    for j, t in enumerate(own):
        commit(f"{prefix}-o-{j:03d}", t, 5)
    out(groups=shared_groups + own_groups, partitions=parts, failed=failed + left, ready=ready,
        seconds=round(time.time() - t0, 3))


def cmd_lagtime_answered(path):
    """How many groups of a `groups --json` output have a max_lag_seconds."""
    with open(path) as f:
        groups = json.load(f)
    out(groups=len(groups), with_lag_seconds=sum(1 for g in groups if g.get("max_lag_seconds") is not None))


def cmd_groups_ref(boot):
    """What `kafkaterm groups --json` computes, with the Python admin API:
    list groups, describe them, committed offsets per group (one request per
    group: the API takes one group at a time), end offsets in one batch."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    t0 = time.time()
    a = admin(boot)
    listed = a.list_consumer_groups(request_timeout=30).result()
    names = sorted(g.group_id for g in listed.valid)
    desc = a.describe_consumer_groups(names, request_timeout=30) if names else {}
    for f in desc.values():
        f.result()
    futs = [
        a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=30)
        for g in names
    ]
    committed = {}
    for fmap in futs:
        for g, f in fmap.items():
            committed[g] = [tp for tp in f.result().topic_partitions if tp.offset >= 0]
    parts = {(tp.topic, tp.partition) for tps in committed.values() for tp in tps}
    ends = {}
    if parts:
        req = {TopicPartition(t, p): OffsetSpec.latest() for t, p in parts}
        for tp, f in a.list_offsets(req, request_timeout=30).items():
            ends[(tp.topic, tp.partition)] = f.result().offset
    total_lag = sum(
        max(0, ends.get((tp.topic, tp.partition), 0) - tp.offset)
        for tps in committed.values() for tp in tps
    )
    out(groups=len(names), partitions=sum(len(v) for v in committed.values()),
        total_lag=total_lag, seconds=round(time.time() - t0, 3))


def cmd_list_groups_ref(boot):
    """The group listing the console's Groups pane starts from (ListGroups,
    then DescribeGroups: state, members, protocol), with the Python client's
    AdminClient.list_groups, which makes the same librdkafka call."""
    from confluent_kafka.admin import AdminClient

    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    a = AdminClient({"bootstrap.servers": boot})
    t0 = time.time()
    groups = a.list_groups(timeout=60)
    out(groups=len(groups), seconds=round(time.time() - t0, 3))


def cmd_topics_ref(boot, chunk="1000"):
    """What `kafkaterm topics` computes (metadata, low and high watermark of
    every partition) with the Python client, asking for the watermarks in
    chunks of CHUNK partitions."""
    from confluent_kafka import Consumer, TopicPartition

    chunk = int(chunk)
    t0 = time.time()
    c = Consumer({"bootstrap.servers": boot, "group.id": f"bench-ref-{os.getpid()}"})
    md = c.list_topics(timeout=60)
    parts = [(t, p) for t, m in md.topics.items() for p in m.partitions]
    t1 = time.time()
    got = 0
    messages = 0
    for i in range(0, len(parts), chunk):
        part = parts[i : i + chunk]
        hi = c.offsets_for_times([TopicPartition(t, p, -1) for t, p in part], timeout=60)
        lo = c.offsets_for_times([TopicPartition(t, p, -2) for t, p in part], timeout=60)
        for h, l in zip(hi, lo):
            if h.error is None and l.error is None and h.offset >= 0 and l.offset >= 0:
                got += 1
                messages += h.offset - l.offset
    c.close()
    out(topics=len(md.topics), partitions=len(parts), watermarks=got, messages=messages,
        metadata_s=round(t1 - t0, 3), seconds=round(time.time() - t0, 3))


def cmd_count(boot, topic):
    """Sum of high watermarks of a topic (messages produced into it)."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": boot, "group.id": f"bench-count-{os.getpid()}"})
    md = c.list_topics(topic, timeout=30)
    n = 0
    for p in md.topics[topic].partitions:
        _lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        n += hi
    c.close()
    out(topic=topic, messages=n)


def cmd_run(*args):
    """Run a command REPS times; record for each run the wall seconds, the
    client CPU seconds (user + sys of the process and its children, from
    wait4) and the peak RSS, and the exit codes. Options before `--`:
      --reps R        (default 1); `{rep}` in the command becomes 0..R-1
      --stdin FILE    stdin of each run (default: /dev/null)
      --stdout FILE   stdout of each run (default: /dev/null)
      --label TEXT    the row's name in tables
      --out FILE      write the JSON there too
    A failing run is reported (exit code, stderr tail), never retried."""
    args = list(args)
    stdin_path, stdout_path, reps, label, out_path = None, os.devnull, 1, None, None
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--stdin":
            stdin_path = args.pop(0)
        elif opt == "--stdout":
            stdout_path = args.pop(0)
        elif opt == "--reps":
            reps = int(args.pop(0))
        elif opt == "--label":
            label = args.pop(0)
        elif opt == "--out":
            out_path = args.pop(0)
        else:
            sys.exit(f"run: unknown option {opt}")
    args.pop(0)
    walls, cpus, rss, exits, stderr = [], [], [], [], ""
    for rep in range(reps):
        argv = [a.replace("{rep}", str(rep)) for a in args]
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        with open(stdout_path, "wb") as so, tempfile.TemporaryFile() as se:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdin=stdin, stdout=so, stderr=se)
            _pid, status, ru = os.wait4(p.pid, 0)
            walls.append(time.perf_counter() - t0)
            p.returncode = os.waitstatus_to_exitcode(status)
            se.seek(0)
            err = se.read()
        if stdin_path:
            stdin.close()
        cpus.append(ru.ru_utime + ru.ru_stime)
        rss.append(ru.ru_maxrss)
        exits.append(p.returncode)
        if p.returncode != 0 or not stderr:
            stderr = err.decode(errors="replace")[-1500:]
    res = dict(label=label or " ".join(args[:3]), walls=[round(w, 4) for w in walls],
               median_s=round(median(walls), 4), min_s=round(min(walls), 4),
               cpus=[round(c, 3) for c in cpus], cpu_median_s=round(median(cpus), 3),
               maxrss_kb=max(rss), exits=exits, ok=all(e == 0 for e in exits),
               stderr=stderr)
    if out_path:
        with open(out_path, "w") as f:
            json.dump(res, f)
    out(**res)


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def load(path):
    with open(path) as f:
        return json.load(f)


def rate(r, n):
    return n / r["median_s"] if r["ok"] and r["median_s"] > 0 else float("nan")


def cmd_rate_table(n, *paths):
    """Markdown rows: label | CPU s (median; runs) | wall s (median; runs) |
    msgs/s | peak RSS. CPU seconds (user + sys of the client process) come
    first: on loopback the broker bounds the wall time."""
    n = int(n)
    print("| client / mode | client CPU s (median) | CPU s runs | wall s (median) | wall s runs "
          "| msgs/s (wall) | µs CPU per message | peak RSS MiB |")
    print("|---|---:|---|---:|---|---:|---:|---:|")
    for p in paths:
        r = load(p)
        status = "" if r["ok"] else f" (FAILED: exit {r['exits']})"
        cruns = ", ".join(f"{c:.2f}" for c in r["cpus"])
        wruns = ", ".join(f"{w:.2f}" for w in r["walls"])
        print(f"| {r['label']}{status} | {r['cpu_median_s']:.2f} | {cruns} | {r['median_s']:.2f} | "
              f"{wruns} | {rate(r, n):,.0f} | {r['cpu_median_s'] * 1e6 / n:.2f} | "
              f"{r['maxrss_kb'] / 1024:.0f} |")


def cmd_ratio(n, *pairs):
    """Markdown rows for A/B pairs: CPU A ÷ CPU B (below 1: A needs less CPU)
    and wall A ÷ wall B (below 1: A is faster)."""
    print("| kafkaterm | vs | kafkaterm CPU s | other CPU s | CPU ratio (kafkaterm ÷ other) "
          "| kafkaterm wall s | other wall s | wall ratio (kafkaterm ÷ other) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for pair in pairs:
        a, b = (load(x) for x in pair.split(","))
        ca, cb = a["cpu_median_s"], b["cpu_median_s"]
        wa, wb = a["median_s"], b["median_s"]
        fa = "" if a["ok"] else " FAILED"
        fb = "" if b["ok"] else " FAILED"
        print(f"| {a['label']}{fa} | {b['label']}{fb} | {ca:.2f} | {cb:.2f} | "
              f"**{ca / cb:.2f}×** | {wa:.2f} | {wb:.2f} | {wa / wb:.2f}× |")


def cmd_time_ratio(*pairs):
    """Markdown rows for A/B pairs of timed runs: B time ÷ A time (>1: A faster)."""
    print("| kafkaterm | vs | kafkaterm s (median; runs) | other s (median; runs) "
          "| speed ratio (other time ÷ kafkaterm time) |")
    print("|---|---|---:|---:|---:|")
    for pair in pairs:
        a, b = (load(x) for x in pair.split(","))
        ra = ", ".join(f"{w:.2f}" for w in a["walls"])
        rb = ", ".join(f"{w:.2f}" for w in b["walls"])
        fa = "" if a["ok"] else " FAILED"
        fb = "" if b["ok"] else " FAILED"
        print(f"| {a['label']}{fa} | {b['label']}{fb} | {a['median_s']:.2f} ({ra}) | "
              f"{b['median_s']:.2f} ({rb}) | {b['median_s'] / a['median_s']:.2f}× |")


def cmd_field(path, *keys):
    """Print fields of a JSON file (for the shell)."""
    r = load(path)
    for k in keys:
        r = r[k] if not isinstance(r, list) else r[int(k)]
    print(r)


COMMANDS = {
    "gen": cmd_gen,
    "create": cmd_create,
    "create-many": cmd_create_many,
    "seed": cmd_seed,
    "produce": cmd_produce,
    "consume": cmd_consume,
    "commit-groups": cmd_commit_groups,
    "groups-ref": cmd_groups_ref,
    "lagtime-fixture": cmd_lagtime_fixture,
    "lagtime-answered": cmd_lagtime_answered,
    "list-groups-ref": cmd_list_groups_ref,
    "run": cmd_run,
    "topics-ref": cmd_topics_ref,
    "count": cmd_count,
    "rate-table": cmd_rate_table,
    "ratio": cmd_ratio,
    "time-ratio": cmd_time_ratio,
    "field": cmd_field,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
