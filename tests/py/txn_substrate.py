"""Transactions against the test broker, with confluent-kafka.

    txn_substrate.py MODE --brokers HOST:PORT --topic T [--timeout-ms MS]

Modes (T has one partition, 0):
  commit-abort  three transactions: c1 c2 c3 committed, a1 a2 a3 aborted,
                c4 committed; then T read from the start at both isolation
                levels. {"committed": [values], "uncommitted": [values]}
  open-commit   a transaction left open over o1 o2 (flushed), the offsets
                seen while it is open, then after it commits:
                {"open": offsets, "committed": offsets}, offsets being
                {"high": HW, "lso": ListOffsets(latest, READ_COMMITTED),
                 "fetch_lso": the last stable offset of a read_committed
                 consumer's Fetch (librdkafka statistics ls_offset),
                 "fetch_high": that Fetch's high watermark}
  fence         producer A opens a transaction; producer B calls
                init_transactions with the same transactional id; A's commit
                then fails. {"error": name, "fatal": bool, "read_committed": values}
  open          opens a transaction over k1 k2 (transaction.timeout.ms MS),
                flushes, prints {"open": offsets} and sleeps until killed
  await-abort   waits until the last stable offset reaches the high watermark
                (the broker aborted the transaction), then reads T:
                {"waited_s", "offsets", "committed": values, "uncommitted": values}
  timeout-live  like open, then waits for the broker to abort the transaction
                and tries to commit it: {"waited_s", "error", "fatal"}
"""

import argparse
import json
import sys
import time

from confluent_kafka import (Consumer, IsolationLevel, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, OffsetSpec


def producer(a, txn_id, timeout_ms=60000):
    p = Producer({"bootstrap.servers": a.brokers, "transactional.id": txn_id,
                  "transaction.timeout.ms": timeout_ms})
    p.init_transactions(30)
    return p


def send(p, topic, values):
    for v in values:
        p.produce(topic, value=v.encode(), partition=0)
    p.flush(30)


def read(a, isolation):
    """Every value of partition 0 up to the end as the isolation level sees it."""
    c = Consumer({"bootstrap.servers": a.brokers, "group.id": "txn-substrate-py",
                  "enable.auto.commit": False, "isolation.level": isolation,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(a.topic, 0, 0)])
    out, deadline = [], time.time() + 30
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise KafkaException(m.error())
        out.append(m.value().decode())
    c.close()
    return out


def offsets(a):
    admin = AdminClient({"bootstrap.servers": a.brokers})
    tp = TopicPartition(a.topic, 0)

    def latest(level):
        r = admin.list_offsets({tp: OffsetSpec.latest()}, isolation_level=level,
                               request_timeout=15)
        return r[tp].result(20).offset

    stats = {}

    def on_stats(s):
        p = json.loads(s).get("topics", {}).get(a.topic, {}).get("partitions", {}).get("0")
        if p and p.get("fetch_state") == "active" and p.get("ls_offset", -1) >= 0:
            stats["lso"], stats["high"] = p["ls_offset"], p["hi_offset"]

    c = Consumer({"bootstrap.servers": a.brokers, "group.id": "txn-substrate-stats",
                  "isolation.level": "read_committed", "statistics.interval.ms": 200,
                  "stats_cb": on_stats, "enable.auto.commit": False})
    c.assign([TopicPartition(a.topic, 0, 0)])
    deadline = time.time() + 20
    while "lso" not in stats and time.time() < deadline:
        c.poll(0.2)
    stats.clear()
    deadline = time.time() + 5
    while "lso" not in stats and time.time() < deadline:
        c.poll(0.2)
    c.close()
    return {"high": latest(IsolationLevel.READ_UNCOMMITTED),
            "lso": latest(IsolationLevel.READ_COMMITTED),
            "fetch_lso": stats.get("lso"), "fetch_high": stats.get("high")}


def err(e):
    k = e.args[0]
    return {"error": k.name(), "fatal": k.fatal(), "str": k.str()}


def await_abort(a, started):
    deadline = started + 60
    while time.time() < deadline:
        o = offsets(a)
        if o["lso"] == o["high"]:
            return time.time() - started, o
        time.sleep(1)
    return None, offsets(a)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--timeout-ms", type=int, default=60000)
    a = ap.parse_args()
    txn_id = "txn-substrate-" + a.topic

    if a.mode == "commit-abort":
        p = producer(a, txn_id)
        for values, commit in ((["c1", "c2", "c3"], True), (["a1", "a2", "a3"], False),
                               (["c4"], True)):
            p.begin_transaction()
            send(p, a.topic, values)
            (p.commit_transaction if commit else p.abort_transaction)(30)
        report = {"committed": read(a, "read_committed"),
                  "uncommitted": read(a, "read_uncommitted")}
    elif a.mode == "open-commit":
        p = producer(a, txn_id)
        p.begin_transaction()
        send(p, a.topic, ["o1", "o2"])
        report = {"open": offsets(a), "open_read_committed": read(a, "read_committed")}
        p.commit_transaction(30)
        report["committed"] = offsets(a)
        report["read_committed"] = read(a, "read_committed")
    elif a.mode == "fence":
        pa = producer(a, txn_id)
        pa.begin_transaction()
        send(pa, a.topic, ["f1", "f2"])
        pb = producer(a, txn_id)
        try:
            pa.commit_transaction(30)
            report = {"error": None, "fatal": False}
        except KafkaException as e:
            report = err(e)
        pb.begin_transaction()
        send(pb, a.topic, ["g1"])
        pb.commit_transaction(30)
        report["read_committed"] = read(a, "read_committed")
    elif a.mode == "open":
        p = producer(a, txn_id, a.timeout_ms)
        p.begin_transaction()
        send(p, a.topic, ["k1", "k2"])
        print(json.dumps({"open": offsets(a)}), flush=True)
        while True:
            time.sleep(60)
    elif a.mode == "await-abort":
        waited, o = await_abort(a, time.time())
        report = {"waited_s": waited, "offsets": o,
                  "committed": read(a, "read_committed"),
                  "uncommitted": read(a, "read_uncommitted")}
    elif a.mode == "timeout-live":
        p = producer(a, txn_id, a.timeout_ms)
        p.begin_transaction()
        send(p, a.topic, ["t1", "t2"])
        started = time.time()
        waited, o = await_abort(a, started)
        report = {"waited_s": waited, "offsets": o}
        try:
            p.commit_transaction(30)
            report.update({"error": None, "fatal": False})
        except KafkaException as e:
            report.update(err(e))
        report["committed"] = read(a, "read_committed")
    else:
        sys.exit("unknown mode " + a.mode)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
