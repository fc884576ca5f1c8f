"""Log in to a broker with SASL SCRAM and report whether the broker let us in.

    scram_login.py --brokers HOST:PORT --mechanism SCRAM-SHA-512 \
        --user U --password-env VAR [--topic T] [--timeout S]

Connects with confluent-kafka over SASL_PLAINTEXT (the password is read from
the environment variable VAR, so it is never on a command line) and asks for
the cluster's metadata. With --topic it also creates topic T (one partition),
produces one message to it and waits for the broker's acknowledgement. Prints one JSON object:
{"ok": bool, "brokers": [ids], "delivered": [partition, offset] or null,
 "errors": [{"code": name, "str": text}, ...]} where errors are what
librdkafka reported (error_cb and the failed request). Exits 0 when the
metadata (and, with --topic, the delivery) succeeded, 1 otherwise.
"""

import argparse
import json
import os
import sys
import time

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--mechanism", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", required=True)
    ap.add_argument("--topic")
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()
    errors = []

    def on_error(err):
        # librdkafka retries and reports each attempt: keep each error once.
        e = {"code": err.name(), "str": err.str()}
        if e not in errors and len(errors) < 10:
            errors.append(e)

    conf = {
        "bootstrap.servers": a.brokers,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": a.mechanism,
        "sasl.username": a.user,
        "sasl.password": os.environ[a.password_env],
        "error_cb": on_error,
        # librdkafka's own log of each failed attempt is not needed: the
        # errors are reported through error_cb.
        "log_level": 0,
    }
    report = {"ok": False, "brokers": [], "delivered": None, "errors": errors}
    admin = AdminClient(conf)
    # Asked in rounds of a second until the timeout, so that a refused login
    # ends when librdkafka reports the authentication failure (error_cb, served
    # by poll) rather than after the whole timeout of its retries.
    deadline = time.monotonic() + a.timeout
    while True:
        try:
            md = admin.list_topics(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
            report["brokers"] = sorted(md.brokers)
            report["ok"] = True
            break
        except KafkaException as e:
            err = e.args[0]
            admin.poll(0.2)
            if (any(x["code"] == "_AUTHENTICATION" for x in errors)
                    or time.monotonic() >= deadline):
                errors.append({"code": err.name(), "str": err.str()})
                break

    if report["ok"] and a.topic:
        delivered = []
        try:
            admin.create_topics([NewTopic(a.topic, 1)])[a.topic].result(a.timeout)
        except KafkaException as e:
            err = e.args[0]
            errors.append({"code": err.name(), "str": err.str()})

        def on_delivery(err, msg):
            if err is not None:
                errors.append({"code": err.name(), "str": err.str()})
            else:
                delivered.append([msg.partition(), msg.offset()])

        p = Producer(dict(conf, **{"message.timeout.ms": int(a.timeout * 1000)}))
        p.produce(a.topic, value=b"scram", on_delivery=on_delivery)
        p.flush(a.timeout + 5)
        report["delivered"] = delivered[0] if delivered else None
        report["ok"] = bool(delivered)

    print(json.dumps(report))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
