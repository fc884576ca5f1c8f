"""Read a whole topic with an independent client and print what it holds.

    read_topic.py --brokers HOST:PORT --topic T

Assigns every partition of T from its low watermark and reads up to the high
watermark taken at the start (confluent-kafka, never committing). Prints one
JSON object per message, in partition then offset order:
{"partition", "offset", "timestamp", "timestamp_type", "key", "value",
"headers": [[name, value], ...]} where key, value and header values are
base64 (null when absent) and header names are base64 of their raw bytes,
headers in the order they were written. Exits 2 if the end is not reached
within --timeout seconds.
"""

import argparse
import base64
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def b64(b):
    if b is None:
        return None
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    return base64.b64encode(b).decode("ascii")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    c = Consumer({
        "bootstrap.servers": a.brokers,
        "group.id": "read-topic-py",
        "enable.auto.commit": False,
        "fetch.message.max.bytes": 67108864,
        "receive.message.max.bytes": 134217728,
    })
    md = c.list_topics(a.topic, timeout=30)
    parts = sorted(md.topics[a.topic].partitions)
    ends = {}
    starts = []
    for p in parts:
        low, high = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=30)
        if high > low:
            ends[p] = high
            starts.append(TopicPartition(a.topic, p, low))
    out = {p: [] for p in parts}
    c.assign(starts)
    deadline = time.time() + a.timeout
    while ends and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            continue
        p = m.partition()
        if p not in ends:
            continue
        if m.offset() < ends[p]:
            ts_type, ts = m.timestamp()
            out[p].append({
                "partition": p,
                "offset": m.offset(),
                "timestamp": ts,
                "timestamp_type": ts_type,
                "key": b64(m.key()),
                "value": b64(m.value()),
                "headers": [[b64(n), b64(v)] for n, v in (m.headers() or [])],
            })
        if m.offset() + 1 >= ends[p]:
            del ends[p]
    c.close()
    for p in parts:
        for r in out[p]:
            print(json.dumps(r))
    if ends:
        print(f"end not reached in partitions {sorted(ends)}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
