"""Real consumers join a group; report what they and the broker say about it.

    group_substrate.py --brokers HOST:PORT --topic T --group G --assignor A [--members 3]

Starts MEMBERS confluent-kafka consumers (client ids G-0, G-1, ...) in group
G with partition.assignment.strategy A, subscribed to topic T, and polls them
until the group has settled: every partition of T is owned by exactly one
consumer, each consumer owns at least one, and the broker's DescribeGroups (read
through the AdminClient's describe_consumer_groups) shows a Stable group with
exactly these members, the same in two rounds in a row. It then prints one
JSON object on stdout with what each consumer reports (member id, client id,
assignment()) and what the broker reports (state, assignor, each member's id,
client id, host and assignment), and leaves the group. The caller compares them.

If the group does not settle within --timeout seconds it prints the last
observation with an "error" and exits with status 2.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient


def topic_partitions(tps):
    return sorted([tp.topic, tp.partition] for tp in tps)


def consumer_view(consumers):
    return [
        {
            "client_id": client_id,
            "member_id": consumer.memberid(),
            "assignment": topic_partitions(consumer.assignment()),
        }
        for client_id, consumer in consumers
    ]


def broker_view(admin, group):
    futures = admin.describe_consumer_groups([group], request_timeout=10)
    description = futures[group].result()
    return {
        "state": description.state.name,
        "partition_assignor": description.partition_assignor,
        "members": sorted(
            (
                {
                    "member_id": m.member_id,
                    "client_id": m.client_id,
                    "host": m.host,
                    "assignment": topic_partitions(m.assignment.topic_partitions),
                }
                for m in description.members
            ),
            key=lambda m: m["member_id"],
        ),
    }


def settled(consumers_seen, broker_seen, partitions):
    owned = [tp for c in consumers_seen for tp in c["assignment"]]
    if sorted(owned) != partitions:
        return False
    if any(not c["assignment"] or not c["member_id"] for c in consumers_seen):
        return False
    if broker_seen is None or broker_seen["state"] != "STABLE":
        return False
    return sorted(m["member_id"] for m in broker_seen["members"]) == sorted(
        c["member_id"] for c in consumers_seen
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--assignor", required=True)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args()

    admin = AdminClient({"bootstrap.servers": args.brokers})
    metadata = admin.list_topics(args.topic, timeout=10)
    topic = metadata.topics[args.topic]
    if topic.error is not None:
        sys.exit(f"topic {args.topic}: {topic.error}")
    partitions = sorted([args.topic, p] for p in topic.partitions)

    consumers = []
    for i in range(args.members):
        client_id = f"{args.group}-{i}"
        consumer = Consumer(
            {
                "bootstrap.servers": args.brokers,
                "group.id": args.group,
                "client.id": client_id,
                "partition.assignment.strategy": args.assignor,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([args.topic])
        consumers.append((client_id, consumer))

    deadline = time.monotonic() + args.timeout
    previous = None
    observation = None
    rounds = 0
    try:
        while True:
            rounds += 1
            for _, consumer in consumers:
                consumer.poll(0.1)
            seen = consumer_view(consumers)
            described = None
            if sorted(tp for c in seen for tp in c["assignment"]) == partitions:
                described = broker_view(admin, args.group)
            observation = {
                "assignor": args.assignor,
                "group": args.group,
                "partitions": partitions,
                "consumers": seen,
                "broker": described,
                "rounds": rounds,
            }
            if settled(seen, described, partitions):
                if previous is not None and previous == (seen, described):
                    print(json.dumps(observation))
                    return 0
                previous = (seen, described)
            else:
                previous = None
            if time.monotonic() > deadline:
                observation["error"] = (
                    f"the group did not settle within {args.timeout:.0f} s"
                )
                print(json.dumps(observation))
                return 2
    finally:
        for _, consumer in consumers:
            consumer.close()


if __name__ == "__main__":
    sys.exit(main())
