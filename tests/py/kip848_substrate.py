"""KIP-848 consumer groups (group.protocol=consumer) on the test broker, seen by
confluent-kafka consumers and its AdminClient.

    kip848_substrate.py --brokers HOST:PORT --topic T --group G
        [--assignor uniform] [--session-timeout-ms 10000] [--timeout 60]
    kip848_substrate.py --member --brokers HOST:PORT --topic T --group G --client-id C
    kip848_substrate.py --describe --brokers HOST:PORT --group G

Topic T must exist with 6 partitions. A producer keeps writing to every
partition while consumers (client ids G-0, G-1, G-2; group.protocol=consumer,
group.remote.assignor A) join group G one after another, then G-1 leaves. After
each step the script polls until the group has settled: the consumers'
assignment() sets are disjoint, non-empty and together cover every partition,
and describe_consumer_groups shows a Stable CONSUMER group with exactly these
members, each with the assignment (and target assignment) its consumer
reports, twice in a row. Each step records what every consumer was told by its
rebalance callbacks (on_assign / on_revoke / on_lost) during the step.

Then: offsets committed with consumer.commit() are read back with committed()
and with the AdminClient; the group is listed with the CONSUMER and the CLASSIC
type filters; the old listing (AdminClient.list_groups, DescribeGroups v0)
is recorded; a member in a child process (--member) joins and is killed with
SIGKILL, and the time until the broker no longer describes it is measured; a
static member (group.instance.id) joins, closes (a temporary leave), and a new
consumer with its instance id rejoins (its assignment before, while away, and
after are recorded, and the others'); the group is deleted while it has
members (the error is recorded); at last every consumer closes, the group is
described until the static member's session is over, deleted, and listed
again.

Prints one JSON object (the caller asserts); exit status 0, or 2 with an
"error" when a step does not settle within --timeout seconds.

--member is the child's mode; --describe prints describe_consumer_groups'
answer for G (type, state, assignor, members) and nothing else, for a caller
whose consumers are not these.
"""

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

from confluent_kafka import (Consumer, ConsumerGroupType, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient

PARTITIONS = 6


def parts(tps):
    return sorted([tp.topic, tp.partition] for tp in tps)


def consumer_config(a, client_id):
    return {
        "bootstrap.servers": a.brokers,
        "group.id": a.group,
        "group.protocol": "consumer",
        "group.remote.assignor": a.assignor,
        "client.id": client_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }


class Member:
    def __init__(self, a, client_id, extra=None):
        self.client_id = client_id
        self.events = []
        self.consumed = 0
        self.consumer = Consumer(dict(consumer_config(a, client_id), **(extra or {})))
        self.consumer.subscribe(
            [a.topic],
            on_assign=lambda c, ps: self.events.append(["assign", parts(ps)]),
            on_revoke=lambda c, ps: self.events.append(["revoke", parts(ps)]),
            on_lost=lambda c, ps: self.events.append(["lost", parts(ps)]),
        )

    def poll(self):
        msg = self.consumer.poll(0.05)
        if msg is not None and msg.error() is None:
            self.consumed += 1

    def view(self):
        return {
            "client_id": self.client_id,
            "member_id": self.consumer.memberid(),
            "assignment": parts(self.consumer.assignment()),
        }


def describe(admin, group):
    d = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
    return {
        "type": d.type.name,
        "state": d.state.name,
        "partition_assignor": d.partition_assignor,
        "members": sorted(
            (
                {
                    "member_id": m.member_id,
                    "client_id": m.client_id,
                    "host": m.host,
                    "instance_id": m.group_instance_id,
                    "assignment": parts(m.assignment.topic_partitions),
                    "target_assignment": parts(m.target_assignment.topic_partitions)
                    if m.target_assignment is not None else None,
                }
                for m in d.members
            ),
            key=lambda m: m["member_id"],
        ),
    }


def settled(a, members, broker):
    views = [m.view() for m in members]
    owned = [tp for v in views for tp in v["assignment"]]
    every = [[a.topic, p] for p in range(PARTITIONS)]
    if sorted(owned) != every or any(not v["assignment"] for v in views):
        return False
    if broker["state"] != "STABLE" or broker["type"] != "CONSUMER":
        return False
    by_id = {m["member_id"]: m for m in broker["members"]}
    if sorted(by_id) != sorted(v["member_id"] for v in views):
        return False
    return all(by_id[v["member_id"]]["assignment"] == v["assignment"]
               and by_id[v["member_id"]]["target_assignment"] == v["assignment"]
               for v in views)


class Run:
    def __init__(self, a):
        self.a = a
        self.admin = AdminClient({"bootstrap.servers": a.brokers})
        self.producer = Producer({"bootstrap.servers": a.brokers, "linger.ms": 5})
        self.members = []
        self.report = {"steps": []}
        self.last_produce = 0.0

    def tick(self, extra=()):
        now = time.time()
        if now - self.last_produce > 0.2:
            for p in range(PARTITIONS):
                self.producer.produce(self.a.topic, b"x", partition=p)
            self.producer.poll(0)
            self.last_produce = now
        for m in list(self.members) + list(extra):
            m.poll()

    def settle(self, name, leaving=()):
        """Polls every member until the group has settled; records the step."""
        start = time.time()
        for m in self.members:
            m.events.clear()
        before = {m.client_id: m.view()["assignment"] for m in self.members}
        previous = None
        broker = None
        deadline = start + self.a.timeout
        last_describe = 0.0
        while time.time() < deadline:
            self.tick()
            if time.time() - last_describe < 0.3:
                continue
            last_describe = time.time()
            try:
                broker = describe(self.admin, self.a.group)
            except Exception as e:  # noqa: BLE001 - recorded, retried
                broker = {"error": str(e)}
                continue
            now = (broker, [m.view() for m in self.members])
            if settled(self.a, self.members, broker) and now == previous:
                break
            previous = now if settled(self.a, self.members, broker) else None
        step = {
            "step": name,
            "seconds": round(time.time() - start, 2),
            "before": before,
            "consumers": [m.view() for m in self.members],
            "events": {m.client_id: list(m.events) for m in self.members},
            "consumed": {m.client_id: m.consumed for m in self.members},
            "broker": broker,
            "settled": bool(broker) and settled(self.a, self.members, broker),
        }
        self.report["steps"].append(step)
        if not step["settled"]:
            self.fail(f"step {name}: the group did not settle in {self.a.timeout} s")

    def fail(self, error):
        self.report["error"] = error
        print(json.dumps(self.report))
        sys.exit(2)

    def join(self, index):
        self.members.append(Member(self.a, f"{self.a.group}-{index}"))
        self.settle(f"join {self.a.group}-{index}")

    def leave(self, client_id):
        m = next(m for m in self.members if m.client_id == client_id)
        self.members.remove(m)
        m.consumer.close()
        self.settle(f"leave {client_id}")

    def offsets(self):
        """Commits each member's position synchronously and reads it back."""
        out = {"committed": [], "read_back": [], "admin": []}
        for m in self.members:
            positions = [tp for tp in m.consumer.position(m.consumer.assignment())
                         if tp.offset >= 0]
            if not positions:
                continue
            m.consumer.commit(offsets=positions, asynchronous=False)
            out["committed"] += [[tp.topic, tp.partition, tp.offset] for tp in positions]
            back = m.consumer.committed(positions, timeout=10)
            out["read_back"] += [[tp.topic, tp.partition, tp.offset] for tp in back]
        from confluent_kafka import ConsumerGroupTopicPartitions
        res = self.admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(self.a.group)], request_timeout=10)
        for _, fut in res.items():
            out["admin"] = sorted([tp.topic, tp.partition, tp.offset]
                                  for tp in fut.result().topic_partitions
                                  if tp.offset >= 0)
        out["committed"].sort()
        out["read_back"].sort()
        self.report["offsets"] = out

    def listings(self):
        def listed(**kwargs):
            r = self.admin.list_consumer_groups(request_timeout=10, **kwargs).result(20)
            return {g.group_id: [g.type.name, g.state.name] for g in r.valid
                    if g.group_id == self.a.group}
        self.report["listed"] = {
            "unfiltered": listed(),
            "consumer": listed(types={ConsumerGroupType.CONSUMER}),
            "classic": listed(types={ConsumerGroupType.CLASSIC}),
        }
        # The old listing (ListGroups v0 + DescribeGroups v0), which kafkaterm
        # used for every group.
        old = [g for g in self.admin.list_groups(timeout=10) if g.id == self.a.group]
        self.report["old_listing"] = [
            {"state": g.state, "protocol_type": g.protocol_type,
             "members": len(g.members)} for g in old]

    def kill_member(self):
        """A member in a child process joins, is killed, and expires."""
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--member",
             "--brokers", self.a.brokers, "--topic", self.a.topic,
             "--group", self.a.group, "--assignor", self.a.assignor,
             "--client-id", f"{self.a.group}-victim"],
            stdout=subprocess.PIPE, text=True)
        victim = child.stdout.readline().strip()
        out = {"member_id": victim}
        deadline = time.time() + self.a.timeout
        joined = False
        while time.time() < deadline:
            self.tick()
            b = describe(self.admin, self.a.group)
            ids = [m["member_id"] for m in b["members"]]
            if victim in ids and b["state"] == "STABLE" and len(ids) == len(self.members) + 1:
                joined = True
                out["joined"] = b
                break
        if not joined:
            child.kill()
            self.fail("the child member did not join a stable group")
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed = time.time()
        gone = None
        while time.time() < killed + self.a.session_timeout_ms / 1000 + self.a.timeout:
            self.tick()
            b = describe(self.admin, self.a.group)
            if victim not in [m["member_id"] for m in b["members"]]:
                gone = time.time()
                out["after"] = b
                break
            time.sleep(0.2)
        out["expired_after_s"] = round(gone - killed, 2) if gone else None
        self.report["killed"] = out
        self.settle("after the kill")


def static_member(self):
    """A static member (group.instance.id) closes (member epoch -2), stays
    away for a moment, and a new consumer with its instance id takes over."""
    a = self.a
    static = {"group.instance.id": f"{a.group}-instance"}
    m = Member(a, f"{a.group}-static", static)
    self.members.append(m)
    self.settle("join a static member")
    others = sorted((o.client_id, o.view()["assignment"])
                    for o in self.members if o is not m)
    out = {"before_close": m.view()["assignment"], "others_before": others}
    self.members.remove(m)
    m.consumer.close()
    away = time.time()
    while time.time() < away + 2:
        self.tick()
    b = describe(self.admin, a.group)
    out["while_away"] = next((x["assignment"] for x in b["members"]
                              if x["instance_id"] == f"{a.group}-instance"), None)
    m = Member(a, f"{a.group}-static", static)
    self.members.append(m)
    self.settle("the static member rejoins")
    out["after_rejoin"] = m.view()["assignment"]
    out["others_after"] = sorted((o.client_id, o.view()["assignment"])
                                 for o in self.members if o is not m)
    self.report["static"] = out


def delete(self):
    """Deletes the group; returns "deleted" or the error's name."""
    fut = self.admin.delete_consumer_groups([self.a.group],
                                            request_timeout=10)[self.a.group]
    try:
        fut.result()
        return "deleted"
    except Exception as e:  # noqa: BLE001 - the error is the answer
        err = e.args[0] if e.args else e
        return err.name() if hasattr(err, "name") else str(e)


def listed_now(self):
    r = self.admin.list_consumer_groups(request_timeout=10).result(20)
    return [g.group_id for g in r.valid if g.group_id == self.a.group]


def until_empty(self):
    """Describes the group until it has no members: the static member that
    left for now is kept for its session timeout. Records how long that took."""
    closed = time.time()
    b = describe(self.admin, self.a.group)
    while b["members"] and time.time() < closed + self.a.session_timeout_ms / 1000 + self.a.timeout:
        time.sleep(0.3)
        b = describe(self.admin, self.a.group)
    self.report["static"]["kept_after_close_s"] = round(time.time() - closed, 2)
    return b


Run.until_empty = until_empty
Run.static_member = static_member
Run.delete = delete
Run.listed_now = listed_now


def member(a):
    """--member: join, print the member id once it has an assignment, poll."""
    c = Consumer(consumer_config(a, a.client_id))
    c.subscribe([a.topic])
    printed = False
    while True:
        c.poll(0.1)
        if not printed and c.assignment():
            print(c.memberid(), flush=True)
            printed = True

# --raw: the protocol by hand (flexible versions: compact strings and arrays,
# tagged fields), so that the member epochs and error codes that clients
# keep to themselves can be checked directly.


class Wire:
    def __init__(self, brokers):
        host, port = brokers.split(",")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.correlation = 0

    def call(self, api_key, version, body):
        self.correlation += 1
        client = b"kip848-raw"
        header = struct.pack(">hhih", api_key, version, self.correlation, len(client))
        frame = header + client + b"\0" + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", self.recv(4))[0]
        r = Reader(self.recv(size))
        assert r.i32() == self.correlation
        r.tags()
        return r

    def recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise SystemExit(json.dumps({"error": "the broker closed the connection"}))
            out += chunk
        return out


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def cstr(s):
    if s is None:
        return b"\0"
    b = s.encode()
    return uvarint(len(b) + 1) + b


def carr(items, enc):
    if items is None:
        return b"\0"
    return uvarint(len(items) + 1) + b"".join(enc(i) for i in items)


def i32(n):
    return struct.pack(">i", n)


TAGS = b"\0"


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    def str(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def arr(self, dec):
        n = self.uvarint()
        return None if n == 0 else [dec(self) for _ in range(n - 1)]

    def uuid(self):
        return self.take(16).hex()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def heartbeat(w, group, member, epoch, topics=None, assignor=None, owned=None):
    body = (cstr(group) + cstr(member) + i32(epoch) + cstr(None) + cstr(None)
            + i32(30000 if epoch == 0 else -1) + carr(topics, cstr) + cstr(None)
            + cstr(assignor)
            + carr(owned, lambda t: bytes.fromhex(t[0]) + carr(t[1], i32) + TAGS)
            + TAGS)
    r = w.call(68, 1, body)
    out = {"throttle": r.i32(), "error": r.i16(), "message": r.str(),
           "member_id": r.str(), "member_epoch": r.i32(), "heartbeat_interval_ms": r.i32()}
    if r.i8() >= 0:
        out["assignment"] = r.arr(lambda r: [r.uuid(), r.arr(Reader.i32), r.tags()][:2])
        r.tags()
    return out


def offset_commit(w, group, member, epoch, topic, partition, offset):
    part = i32(partition) + struct.pack(">q", offset) + i32(-1) + cstr(None) + TAGS
    body = (cstr(group) + i32(epoch) + cstr(member) + cstr(None)
            + carr([topic], lambda t: cstr(t) + carr([part], lambda p: p) + TAGS) + TAGS)
    r = w.call(8, 9, body)
    r.i32()
    topics = r.arr(lambda r: [r.str(), r.arr(lambda r: [r.i32(), r.i16(), r.tags()][:2]), r.tags()][:2])
    return topics[0][1][0][1]


def offset_fetch(w, group, member, epoch, topic, partition):
    body = (carr([group], lambda g: cstr(g) + cstr(member) + i32(epoch)
                 + carr([topic], lambda t: cstr(t) + carr([partition], i32) + TAGS) + TAGS)
            + b"\0" + TAGS)
    r = w.call(9, 9, body)
    r.i32()

    def partition_of(r):
        p = {"partition": r.i32(), "offset": r.i64(), "leader_epoch": r.i32(),
             "metadata": r.str(), "error": r.i16()}
        r.tags()
        return p

    def group_of(r):
        g = {"group": r.str(),
             "topics": r.arr(lambda r: [r.str(), r.arr(partition_of), r.tags()][:2]),
             "error": r.i16()}
        r.tags()
        return g
    return r.arr(group_of)[0]


def consumer_group_describe(w, group):
    r = w.call(69, 0, carr([group], cstr) + b"\0" + TAGS)
    r.i32()

    def assignment(r):
        a = r.arr(lambda r: [r.uuid(), r.str(), r.arr(Reader.i32), r.tags()][:3])
        r.tags()
        return a

    def member_of(r):
        m = {"member_id": r.str(), "instance_id": r.str(), "rack_id": r.str(),
             "member_epoch": r.i32(), "client_id": r.str(), "client_host": r.str(),
             "subscribed_topic_names": r.arr(Reader.str), "subscribed_topic_regex": r.str(),
             "assignment": assignment(r), "target_assignment": assignment(r)}
        r.tags()
        return m

    def group_of(r):
        g = {"error": r.i16(), "message": r.str(), "group_id": r.str(), "state": r.str(),
             "group_epoch": r.i32(), "assignment_epoch": r.i32(), "assignor": r.str(),
             "members": r.arr(member_of), "authorized_operations": r.i32()}
        r.tags()
        return g
    return r.arr(group_of)[0]


def describe_groups_v5(w, group):
    r = w.call(15, 5, carr([group], cstr) + b"\0" + TAGS)
    r.i32()

    def group_of(r):
        g = {"error": r.i16(), "group_id": r.str(), "state": r.str(),
             "protocol_type": r.str(), "protocol_data": r.str(),
             "members": len(r.arr(lambda r: r.take(0)) or [])}
        return g
    return r.arr(group_of)[0]


def raw(a):
    """--raw: members by hand (m1, then m2); each answer goes into the report."""
    w = Wire(a.brokers)
    g, t, out = a.group, a.topic, {}
    out["bogus_assignor"] = heartbeat(w, g, "m1", 0, [t], "bogus")["error"]
    out["empty_member_id_v1"] = heartbeat(w, g, "", 0, [t])["error"]
    join = heartbeat(w, g, "m1", 0, [t], "uniform", [])
    out["join"] = join
    epoch = join["member_epoch"]
    out["steady"] = heartbeat(w, g, "m1", epoch, owned=join.get("assignment"))
    out["fenced"] = heartbeat(w, g, "m1", epoch + 5)["error"]
    out["unknown_member"] = heartbeat(w, g, "nobody", 1)["error"]
    out["commit"] = offset_commit(w, g, "m1", epoch, t, 0, 42)
    out["commit_stale_epoch"] = offset_commit(w, g, "m1", epoch - 1, t, 0, 43)
    out["commit_unknown_member"] = offset_commit(w, g, "nobody", epoch, t, 0, 44)
    out["commit_admin_while_members"] = offset_commit(w, g, "", -1, t, 0, 45)
    out["fetch"] = offset_fetch(w, g, "m1", epoch, t, 0)
    out["fetch_stale_epoch"] = offset_fetch(w, g, "m1", epoch + 7, t, 0)["error"]
    out["fetch_admin"] = offset_fetch(w, g, None, -1, t, 0)
    out["describe"] = consumer_group_describe(w, g)
    out["describe_unknown"] = consumer_group_describe(w, g + "-unknown")["error"]
    out["describe_groups_v5"] = describe_groups_v5(w, g)
    # A second member: it gets its target partition only once m1, told to
    # revoke it, reports that it no longer owns it.
    m1_owned = join["assignment"]
    out["m2_join"] = heartbeat(w, g, "m2", 0, [t], "uniform", [])
    out["while_m1_holds"] = consumer_group_describe(w, g)
    out["m1_told"] = heartbeat(w, g, "m1", epoch, owned=m1_owned)
    out["m2_before_revoke"] = heartbeat(w, g, "m2", out["m2_join"]["member_epoch"])
    out["m1_revoked"] = heartbeat(w, g, "m1", epoch, owned=out["m1_told"]["assignment"])
    out["m2_after_revoke"] = heartbeat(w, g, "m2", out["m2_join"]["member_epoch"], owned=[])
    out["reconciled"] = consumer_group_describe(w, g)
    out["m2_leave"] = heartbeat(w, g, "m2", -1)
    out["leave"] = heartbeat(w, g, "m1", -1)
    out["describe_after_leave"] = consumer_group_describe(w, g)
    out["commit_admin_when_empty"] = offset_commit(w, g, "", -1, t, 0, 46)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic")
    ap.add_argument("--group", required=True)
    ap.add_argument("--assignor", default="uniform")
    ap.add_argument("--session-timeout-ms", type=int, default=10000)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--member", action="store_true")
    ap.add_argument("--client-id")
    ap.add_argument("--describe", action="store_true")
    ap.add_argument("--raw", action="store_true")
    a = ap.parse_args()
    if a.describe:
        admin = AdminClient({"bootstrap.servers": a.brokers})
        print(json.dumps(describe(admin, a.group)))
        return
    if a.topic is None:
        ap.error("--topic is required")
    if a.member:
        member(a)
        return
    if a.raw:
        raw(a)
        return

    run = Run(a)
    for i in range(3):
        run.join(i)
    run.leave(f"{a.group}-1")
    run.offsets()
    run.listings()
    run.kill_member()
    run.static_member()
    run.report["delete"] = {"with_members": run.delete()}
    for m in run.members:
        m.consumer.close()
    run.members = []
    run.report["after_close"] = run.until_empty()
    run.report["delete"]["empty"] = run.delete()
    run.report["delete"]["listed_after"] = bool(run.listed_now())
    run.producer.flush(10)
    print(json.dumps(run.report))


if __name__ == "__main__":
    main()
