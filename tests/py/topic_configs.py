"""Describe a topic's configs, alter one, and describe them again.

    topic_configs.py --brokers HOST:PORT --topic T --alter KEY=VALUE \
        --keys K1,K2,...

1. AdminClient.describe_configs of topic T (confluent-kafka): "before".
2. AdminClient.incremental_alter_configs: SET KEY=VALUE on T.
3. AdminClient.describe_configs again: "after".
4. A DescribeConfigs v3 request written by hand (the Kafka protocol, not
   librdkafka), for T with configuration_keys K1,K2,... and synonyms: "raw",
   which carries what confluent-kafka does not expose (config_type, the key
   filter as sent, the synonyms' sources).

Prints one JSON object {"before": {name: entry}, "after": {name: entry},
"raw": {"error_code", "configs": [entry]}} where a confluent-kafka entry is
{"value", "source" (the ConfigSource name), "is_default", "is_read_only",
"is_sensitive"} and a raw entry is {"name", "value", "read_only",
"config_source", "is_sensitive", "config_type", "synonyms": [[name, value,
source]]} with the numbers of the protocol.
"""

import argparse
import json
import socket
import struct

from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry,
                                   ConfigResource, ConfigSource, ResourceType)


def entries(admin, topic):
    res = ConfigResource(ResourceType.TOPIC, topic)
    described = admin.describe_configs([res], request_timeout=15)[res].result(20)
    return {
        name: {
            "value": e.value,
            "source": ConfigSource(e.source).name,
            "is_default": e.is_default,
            "is_read_only": e.is_read_only,
            "is_sensitive": e.is_sensitive,
        }
        for name, e in described.items()
    }


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.i)
        self.i += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.b[self.i:self.i + n].decode()
        self.i += n
        return s


def raw_describe(brokers, topic, keys):
    """DescribeConfigs v3 (not flexible) for one topic, with keys and synonyms."""
    host, port = brokers.split(",")[0].rsplit(":", 1)
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + string(topic)
    body += struct.pack(">i", len(keys)) + b"".join(string(k) for k in keys)
    body += struct.pack(">??", True, False)
    header = struct.pack(">hhi", 32, 3, 7) + string("topic-configs-py")
    frame = header + body
    with socket.create_connection((host, int(port)), timeout=15) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        r = Reader(recv_exact(s, size))
    assert r.take(">i") == 7, "correlation id"
    r.take(">i")  # throttle_time_ms
    assert r.take(">i") == 1, "one result"
    out = {"error_code": r.take(">h"), "error_message": r.string()}
    r.take(">b")
    out["resource_name"] = r.string()
    configs = []
    for _ in range(r.take(">i")):
        c = {"name": r.string(), "value": r.string(), "read_only": r.take(">?"),
             "config_source": r.take(">b"), "is_sensitive": r.take(">?")}
        c["synonyms"] = [[r.string(), r.string(), r.take(">b")] for _ in range(r.take(">i"))]
        c["config_type"] = r.take(">b")
        c["documentation"] = r.string()
        configs.append(c)
    out["configs"] = configs
    return out


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("broker closed the connection")
        b += chunk
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--alter", required=True)
    ap.add_argument("--keys", required=True)
    a = ap.parse_args()
    admin = AdminClient({"bootstrap.servers": a.brokers})
    before = entries(admin, a.topic)
    key, value = a.alter.split("=", 1)
    res = ConfigResource(ResourceType.TOPIC, a.topic, incremental_configs=[
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([res], request_timeout=15)[res].result(20)
    after = entries(admin, a.topic)
    raw = raw_describe(a.brokers, a.topic, a.keys.split(","))
    print(json.dumps({"before": before, "after": after, "raw": raw}))


if __name__ == "__main__":
    main()
