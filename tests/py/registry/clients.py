"""The independent side of kafkaterm's Schema Registry tests: the
confluent-kafka serializers and deserializers (Avro, Protobuf, JSON Schema).

  setup    register the fixture schemas (schemas/) in a registry; prints
           {"subject": id, ...}
  produce  serialize JSON records (a file with a JSON list) for a subject
           and produce them to a topic
  consume  read N records of a topic, deserialize them and compare them with
           the expected JSON list; prints {"ok": ..., "got": [...]}
  encode   like produce, without a broker: prints the framed values (base64)
  decode   like consume, without a broker: framed values (base64, a JSON
           list on stdin)

The Protobuf message classes are built here from hand-written descriptors
(no protoc, no .proto parsing), so the .proto text kafkaterm compiles and
the types Python encodes with are written independently. The registry gets
both: the text, and the serialized descriptor the Python serializers ask
for with ?format=serialized.
"""

import argparse
import base64
import json
import os
import ssl
import sys
import time
import urllib.request
import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    timestamp_pb2,
    wrappers_pb2,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "schemas")
F = descriptor_pb2.FieldDescriptorProto


def field(msg, name, number, ftype, type_name=None, repeated=False):
    f = msg.field.add(name=name, number=number, type=ftype)
    f.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    if type_name:
        f.type_name = type_name
    return f


def common_file():
    fd = descriptor_pb2.FileDescriptorProto(name="acme/common.proto", package="acme.common", syntax="proto3")
    money = fd.message_type.add(name="Money")
    field(money, "currency", 1, F.TYPE_STRING)
    field(money, "units", 2, F.TYPE_INT64)
    status = fd.enum_type.add(name="Status")
    for i, n in enumerate(["STATUS_UNKNOWN", "NEW", "PAID"]):
        status.value.add(name=n, number=i)
    return fd


def order_file():
    fd = descriptor_pb2.FileDescriptorProto(name="order.proto", package="acme", syntax="proto3")
    fd.dependency.extend(
        [
            "acme/common.proto",
            "google/protobuf/timestamp.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/wrappers.proto",
        ]
    )
    order = fd.message_type.add(name="Order")
    field(order, "id", 1, F.TYPE_STRING)
    field(order, "total", 2, F.TYPE_MESSAGE, ".acme.common.Money")
    field(order, "lines", 3, F.TYPE_MESSAGE, ".acme.Order.Line", repeated=True)
    field(order, "counts", 4, F.TYPE_MESSAGE, ".acme.Order.CountsEntry", repeated=True)
    field(order, "status", 5, F.TYPE_ENUM, ".acme.common.Status")
    field(order, "created", 6, F.TYPE_MESSAGE, ".google.protobuf.Timestamp")
    field(order, "ttl", 7, F.TYPE_MESSAGE, ".google.protobuf.Duration")
    field(order, "note", 8, F.TYPE_MESSAGE, ".google.protobuf.StringValue")
    entry = order.nested_type.add(name="CountsEntry")
    entry.options.map_entry = True
    field(entry, "key", 1, F.TYPE_STRING)
    field(entry, "value", 2, F.TYPE_INT32)
    line = order.nested_type.add(name="Line")
    field(line, "sku", 1, F.TYPE_STRING)
    field(line, "price", 2, F.TYPE_DOUBLE)
    refund = fd.message_type.add(name="Refund")
    field(refund, "order_id", 1, F.TYPE_STRING)
    field(refund, "amount", 2, F.TYPE_MESSAGE, ".acme.common.Money")
    return fd


def message_class(name):
    pool = descriptor_pool.DescriptorPool()
    for m in (timestamp_pb2, duration_pb2, wrappers_pb2):
        pool.AddSerializedFile(m.DESCRIPTOR.serialized_pb)
    pool.Add(common_file())
    pool.Add(order_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def read(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return f.read()


def b64(fd):
    return base64.b64encode(fd.SerializeToString()).decode()


def registry_conf(a):
    conf = {"url": a.registry}
    if a.ca:
        conf["ssl.ca.location"] = a.ca
    if a.basic:
        conf["basic.auth.user.info"] = a.basic
    return conf


def post(a, path, body):
    ctx = ssl.create_default_context(cafile=a.ca) if a.ca else None
    req = urllib.request.Request(a.registry.rstrip("/") + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    if a.basic:
        req.add_header("Authorization", "Basic " + base64.b64encode(a.basic.encode()).decode())
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.loads(r.read())


def setup(a):
    ref = lambda name, subject: [{"name": name, "subject": subject, "version": 1}]  # noqa: E731
    plan = [
        ("acme-address", {"schema": read("address.avsc")}),
        ("orders-avro-value", {"schema": read("order.avsc"), "references": ref("acme.Address", "acme-address")}),
        (
            "acme-common",
            {"schema": read("common.proto"), "schemaType": "PROTOBUF", "serialized": b64(common_file())},
        ),
        (
            "orders-proto-value",
            {
                "schema": read("order.proto"),
                "schemaType": "PROTOBUF",
                "serialized": b64(order_file()),
                "references": ref("acme/common.proto", "acme-common"),
            },
        ),
        ("address-json", {"schema": read("address.schema.json"), "schemaType": "JSON"}),
        (
            "orders-json-value",
            {
                "schema": read("order.schema.json"),
                "schemaType": "JSON",
                "references": ref("address.schema.json", "address-json"),
            },
        ),
    ]
    ids = {}
    for subject, body in plan:
        ids[subject] = post(a, "/subjects/%s/versions" % subject, body)["id"]
    print(json.dumps(ids))


def serializer(a, client):
    conf = {
        "auto.register.schemas": False,
        "use.latest.version": True,
        "subject.name.strategy": lambda ctx, record_name: a.subject,
    }
    if a.kind == "avro":
        return AvroSerializer(client, None, conf=conf), lambda r: r
    if a.kind == "json":
        return JSONSerializer(None, client, conf=conf), lambda r: r
    cls = message_class(a.message)
    return ProtobufSerializer(cls, client, conf=conf), lambda r: json_format.ParseDict(r, cls())


def encode(a):
    client = SchemaRegistryClient(registry_conf(a))
    ser, make = serializer(a, client)
    with open(a.records) as f:
        records = json.load(f)
    ctx = SerializationContext(a.topic or "t", MessageField.VALUE)
    print(json.dumps([base64.b64encode(ser(make(r), ctx)).decode() for r in records]))
    return 0


def deserializer(a, client):
    if a.kind == "avro":
        return AvroDeserializer(client), None
    if a.kind == "json":
        return JSONDeserializer(None, schema_registry_client=client), None
    cls = message_class(a.message)
    return ProtobufDeserializer(cls, {}, client), cls


def verdict(values, expected, cls):
    if cls is not None:
        got = [json_format.MessageToDict(v, preserving_proto_field_name=True) for v in values]
        want = [json_format.ParseDict(e, cls()) for e in expected]
        ok = len(values) == len(want) and all(x == y for x, y in zip(values, want))
    else:
        got = values
        ok = values == expected
    print(json.dumps({"ok": ok, "got": got}, default=str))
    return 0 if ok else 1


def decode(a):
    client = SchemaRegistryClient(registry_conf(a))
    de, cls = deserializer(a, client)
    with open(a.expect) as f:
        expected = json.load(f)
    ctx = SerializationContext(a.topic or "t", MessageField.VALUE)
    values = [de(base64.b64decode(v), ctx) for v in json.load(sys.stdin)]
    return verdict(values, expected, cls)


def produce(a):
    client = SchemaRegistryClient(registry_conf(a))
    ser, make = serializer(a, client)
    with open(a.records) as f:
        records = json.load(f)
    p = Producer({"bootstrap.servers": a.brokers})
    ctx = SerializationContext(a.topic, MessageField.VALUE)
    for r in records:
        p.produce(a.topic, value=ser(make(r), ctx))
    left = p.flush(30)
    print(json.dumps({"produced": len(records) - left}))
    return 0 if left == 0 else 1


def consume(a):
    client = SchemaRegistryClient(registry_conf(a))
    de, cls = deserializer(a, client)
    with open(a.expect) as f:
        expected = json.load(f)
    c = Consumer(
        {
            "bootstrap.servers": a.brokers,
            "group.id": "kt-py-" + uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([a.topic])
    values = []
    deadline = time.time() + 60
    while len(values) < len(expected) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        values.append(de(m.value(), SerializationContext(a.topic, MessageField.VALUE)))
    c.close()
    return verdict(values, expected, cls)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["setup", "produce", "consume", "encode", "decode"])
    p.add_argument("--registry", required=True)
    p.add_argument("--ca")
    p.add_argument("--basic")
    p.add_argument("--brokers")
    p.add_argument("--topic")
    p.add_argument("--kind", choices=["avro", "protobuf", "json"])
    p.add_argument("--subject")
    p.add_argument("--message", default="acme.Order")
    p.add_argument("--records")
    p.add_argument("--expect")
    a = p.parse_args()
    if a.command == "setup":
        setup(a)
        return 0
    return {"produce": produce, "consume": consume, "encode": encode, "decode": decode}[a.command](a)


if __name__ == "__main__":
    sys.exit(main())
