"""Transactions written by an independent client (confluent-kafka) for the
console's broker tests (tests/broker_txn.rs).

    txn_console.py MODE --brokers HOST:PORT --topic T --txn-id ID [--timeout-ms MS]

Every record goes to partition 0 of T.
  history  three transactions: c1 c2 c3 committed, a1 a2 a3 aborted, c4
           committed (offsets 0-2, marker 3, 4-6, marker 7, 8, marker 9).
           Prints {"done": true}.
  open     begins a transaction (transaction.timeout.ms MS) over o1 o2,
           flushes them, prints {"open": true} and sleeps until killed or
           until the broker aborts it; the transaction is never ended.
  fence    init_transactions with ID and nothing else: the broker bumps the
           epoch, which aborts the transaction of the older producer with ID
           and fences it. Prints {"fenced": true}.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Producer


def producer(a):
    p = Producer({"bootstrap.servers": a.brokers, "transactional.id": a.txn_id,
                  "transaction.timeout.ms": a.timeout_ms, "linger.ms": 0})
    p.init_transactions(30)
    return p


def send(p, topic, values):
    for v in values:
        p.produce(topic, value=v.encode(), partition=0)
    p.flush(30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--txn-id", required=True)
    ap.add_argument("--timeout-ms", type=int, default=60000)
    a = ap.parse_args()
    if a.mode == "history":
        p = producer(a)
        for values, commit in ((["c1", "c2", "c3"], True), (["a1", "a2", "a3"], False),
                               (["c4"], True)):
            p.begin_transaction()
            send(p, a.topic, values)
            (p.commit_transaction if commit else p.abort_transaction)(30)
        print(json.dumps({"done": True}), flush=True)
    elif a.mode == "open":
        p = producer(a)
        p.begin_transaction()
        send(p, a.topic, ["o1", "o2"])
        print(json.dumps({"open": True}), flush=True)
        while True:
            time.sleep(60)
    elif a.mode == "fence":
        producer(a)
        print(json.dumps({"fenced": True}), flush=True)
    else:
        sys.exit("unknown mode " + a.mode)


if __name__ == "__main__":
    main()
