"""ListGroups v5's type filter (KIP-848), through confluent-kafka's AdminClient.

    list_groups_types.py --brokers HOST:PORT --topic T --group G

A consumer joins group G on topic T (classic protocol) and polls until it has
its assignment; then the groups are listed three times, while it is a member:
without a filter, with types={CLASSIC} and with types={CONSUMER}. Prints
{"unfiltered": {group: [type, state]}, "classic": {...}, "consumer": {...}}
(type and state as confluent-kafka names them), exit status 0; 1 with
{"error": ...} if the consumer got no assignment.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Consumer, ConsumerGroupType
from confluent_kafka.admin import AdminClient


def listed(admin, **kwargs):
    result = admin.list_consumer_groups(request_timeout=15, **kwargs).result(20)
    if result.errors:
        raise SystemExit(json.dumps({"error": [str(e) for e in result.errors]}))
    return {g.group_id: [g.type.name, g.state.name] for g in result.valid}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    a = ap.parse_args()

    c = Consumer({"bootstrap.servers": a.brokers, "group.id": a.group,
                  "enable.auto.commit": False})
    c.subscribe([a.topic])
    deadline = time.time() + 30
    while not c.assignment() and time.time() < deadline:
        c.poll(0.2)
    if not c.assignment():
        print(json.dumps({"error": "no assignment within 30 s"}))
        sys.exit(1)

    admin = AdminClient({"bootstrap.servers": a.brokers})
    report = {
        "unfiltered": listed(admin),
        "classic": listed(admin, types={ConsumerGroupType.CLASSIC}),
        "consumer": listed(admin, types={ConsumerGroupType.CONSUMER}),
    }
    c.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
