"""Real consumers in a group, joined and removed on command, for step-by-step tests.

    group_members.py --brokers HOST:PORT --topic T --group G --assignor A [--members 2]

Starts MEMBERS confluent-kafka consumers (client ids G-0, G-1, ...) in group G
with partition.assignment.strategy A, subscribed to topic T, and keeps polling
them. It reads commands from stdin, one a line:

    join                 start one more consumer (the next index)
    leave I              close consumer I (it sends LeaveGroup)
    commit P OFFSET      the consumer that owns partition P commits OFFSET for it
    hold I               stop polling consumer I: it keeps its membership
                         (librdkafka heartbeats and rejoins in the background)
                         but serves no rebalance callback, so in a cooperative
                         rebalance it does not give up the partitions it must
                         revoke and the group stays in the first round
    release I            poll consumer I again
    quit                 close every consumer and exit

and writes JSON lines to stdout:

    {"kind": "ack", "command": "join", "commands": N, ...}
        a command was carried out (N: commands carried out so far)
    {"kind": "settled", "commands": N, "consumers": [...], "broker": {...}}
        the group has settled since the Nth command: every partition of T is
        owned by exactly one live consumer, each owns at least one, and the
        broker's DescribeGroups (read through the AdminClient) shows a Stable
        group with exactly these members and, for each, the partitions that
        the consumer itself reports in assignment(), the same in two rounds
        in a row. Each consumer: index, client_id, member_id, assignment
        ([[topic, partition], ...]). Printed once per settled state.
    {"kind": "stable", "commands": N, "broker": {...}}
        while some consumer is held: the broker's view each time it is Stable
        and differs from the last one printed
    {"kind": "error", "message": "..."}
        a command could not be carried out

The caller waits for the line it needs; nothing here sleeps to guess.
"""

import argparse
import json
import queue
import sys
import threading

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def topic_partitions(tps):
    return sorted([tp.topic, tp.partition] for tp in tps)


class Members:
    def __init__(self, args):
        self.args = args
        self.live = {}  # index -> Consumer
        self.held = set()
        self.next_index = 0

    def join(self):
        index = self.next_index
        self.next_index += 1
        client_id = f"{self.args.group}-{index}"
        consumer = Consumer(
            {
                "bootstrap.servers": self.args.brokers,
                "group.id": self.args.group,
                "client.id": client_id,
                "partition.assignment.strategy": self.args.assignor,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([self.args.topic])
        self.live[index] = consumer
        return index

    def leave(self, index):
        consumer = self.live.pop(index)
        consumer.close()

    def view(self):
        return [
            {
                "index": index,
                "client_id": f"{self.args.group}-{index}",
                "member_id": consumer.memberid(),
                "assignment": topic_partitions(consumer.assignment()),
            }
            for index, consumer in sorted(self.live.items())
        ]

    def poll(self):
        for index, consumer in self.live.items():
            if index not in self.held:
                consumer.poll(0.05)


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


def settled(seen, broker, partitions):
    owned = sorted(tp for c in seen for tp in c["assignment"])
    if owned != partitions:
        return False
    if any(not c["assignment"] or not c["member_id"] for c in seen):
        return False
    if broker is None or broker["state"] != "STABLE":
        return False
    by_broker = {m["member_id"]: m["assignment"] for m in broker["members"]}
    by_consumer = {c["member_id"]: c["assignment"] for c in seen}
    return by_broker == by_consumer


def read_commands(q):
    for line in sys.stdin:
        q.put(line.strip())
    q.put("quit")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--assignor", required=True)
    parser.add_argument("--members", type=int, default=2)
    args = parser.parse_args()

    admin = AdminClient({"bootstrap.servers": args.brokers})
    metadata = admin.list_topics(args.topic, timeout=10)
    topic = metadata.topics[args.topic]
    if topic.error is not None:
        sys.exit(f"topic {args.topic}: {topic.error}")
    partitions = sorted([args.topic, p] for p in topic.partitions)

    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()

    members = Members(args)
    for _ in range(args.members):
        members.join()
    done = 0
    previous = None
    printed = None
    last_stable = None
    try:
        while True:
            try:
                line = commands.get_nowait()
            except queue.Empty:
                line = None
            if line is not None:
                words = line.split()
                if not words:
                    continue
                if words[0] == "quit":
                    return 0
                try:
                    if words[0] == "join":
                        index = members.join()
                        done += 1
                        emit({"kind": "ack", "command": "join", "commands": done, "index": index})
                    elif words[0] == "leave" and len(words) == 2:
                        index = int(words[1])
                        member_id = members.live[index].memberid()
                        members.leave(index)
                        done += 1
                        emit(
                            {
                                "kind": "ack",
                                "command": "leave",
                                "commands": done,
                                "index": index,
                                "member_id": member_id,
                            }
                        )
                    elif words[0] in ("hold", "release") and len(words) == 2:
                        index = int(words[1])
                        if index not in members.live:
                            raise ValueError(f"no consumer {index}")
                        if words[0] == "hold":
                            members.held.add(index)
                        else:
                            members.held.discard(index)
                        done += 1
                        emit({"kind": "ack", "command": words[0], "commands": done, "index": index})
                    elif words[0] == "commit" and len(words) == 3:
                        partition, offset = int(words[1]), int(words[2])
                        tp = [args.topic, partition]
                        owner = next(
                            (
                                (i, c)
                                for i, c in sorted(members.live.items())
                                if tp in topic_partitions(c.assignment())
                            ),
                            None,
                        )
                        if owner is None:
                            raise ValueError(f"no consumer owns partition {partition}")
                        owner[1].commit(
                            offsets=[TopicPartition(args.topic, partition, offset)],
                            asynchronous=False,
                        )
                        done += 1
                        emit(
                            {
                                "kind": "ack",
                                "command": "commit",
                                "commands": done,
                                "index": owner[0],
                                "partition": partition,
                                "offset": offset,
                            }
                        )
                    else:
                        raise ValueError(f"unknown command {line!r}")
                except Exception as e:  # reported to the caller, which fails
                    emit({"kind": "error", "message": f"{line}: {e}"})
                previous = None
                continue
            members.poll()
            seen = members.view()
            described = None
            if members.held:
                broker = broker_view(admin, args.group)
                if broker["state"] == "STABLE" and broker != last_stable:
                    emit({"kind": "stable", "commands": done, "broker": broker})
                    last_stable = broker
            if sorted(tp for c in seen for tp in c["assignment"]) == partitions:
                described = broker_view(admin, args.group)
            if settled(seen, described, partitions):
                if previous == (seen, described) and printed != (done, seen):
                    emit(
                        {
                            "kind": "settled",
                            "commands": done,
                            "consumers": seen,
                            "broker": described,
                        }
                    )
                    printed = (done, seen)
                previous = (seen, described)
            else:
                previous = None
    finally:
        for consumer in members.live.values():
            consumer.close()


if __name__ == "__main__":
    sys.exit(main())
