"""A small Schema Registry for kafkaterm's tests (standard library only).

It keeps subjects, versions and ids in memory and serves the part of the
Confluent REST API that kafkaterm and the confluent-kafka serializers use:

  GET  /schemas/ids/{id}[?format=serialized]
  GET  /schemas/ids/{id}/versions
  GET  /subjects, /subjects/{s}/versions, /subjects/{s}/versions/{n|latest}
  POST /subjects/{s}/versions      register (same schema, same id)
  POST /subjects/{s}               look a schema up
  GET  /config[/{s}]
  GET  /_stats                     how often each path was asked for (tests)

A Protobuf schema may be registered as .proto text together with an extra
`serialized` field (base64 FileDescriptorProto): `?format=serialized` then
answers with that form, as a real registry does. Schemas are not parsed or
checked: this is a fixture, not a registry.

Options: --cert/--key serve HTTPS; --client-ca requires client certificates
signed by that CA; --basic USER:PASS or --token TOKEN require credentials;
--mode html|garbage|hang answers every request with an HTML page, bytes that
are not JSON, or never. The first line on stdout is `PORT <n>`.
"""

import argparse
import base64
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_id = {}  # id -> {"schema", "schemaType", "references", "serialized"}
        self.subjects = {}  # subject -> [id, ...] (version = index + 1)
        self.stats = {}

    def _same(self, a, b):
        return (
            a["schema"] == b["schema"]
            and a["schemaType"] == b["schemaType"]
            and a["references"] == b["references"]
        )

    def register(self, subject, entry):
        with self.lock:
            versions = self.subjects.setdefault(subject, [])
            for sid in versions:
                if self._same(self.by_id[sid], entry):
                    return sid, versions.index(sid) + 1
            sid = None
            for known, e in self.by_id.items():
                if self._same(e, entry):
                    sid = known
                    break
            if sid is None:
                sid = len(self.by_id) + 1
                self.by_id[sid] = entry
            elif entry.get("serialized") and not self.by_id[sid].get("serialized"):
                self.by_id[sid]["serialized"] = entry["serialized"]
            versions.append(sid)
            return sid, len(versions)

    def lookup(self, subject, entry):
        with self.lock:
            for i, sid in enumerate(self.subjects.get(subject, [])):
                if self._same(self.by_id[sid], entry):
                    return sid, i + 1
        return None


def entry_of(body):
    return {
        "schema": body.get("schema", ""),
        "schemaType": body.get("schemaType") or "AVRO",
        "references": body.get("references") or [],
        "serialized": body.get("serialized"),
    }


def describe(entry, fmt, **extra):
    out = dict(extra)
    schema = entry["schema"]
    if fmt == "serialized" and entry.get("serialized"):
        schema = entry["serialized"]
    out["schema"] = schema
    if entry["schemaType"] != "AVRO":
        out["schemaType"] = entry["schemaType"]
    if entry["references"]:
        out["references"] = entry["references"]
    return out


def make_handler(store, args):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def setup(self):
            # The TLS handshake runs here, in the connection's thread, so a
            # client that fails it does not hold up the others.
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()
            super().setup()

        def send(self, status, body, ctype="application/vnd.schemaregistry.v1+json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, code, message):
            self.send(status, {"error_code": code, "message": message})

        def authorized(self):
            got = self.headers.get("Authorization", "")
            if args.basic:
                want = "Basic " + base64.b64encode(args.basic.encode()).decode()
                return got == want
            if args.token:
                return got == "Bearer " + args.token
            return True

        def route(self, method):
            parts = urlsplit(self.path)
            path = parts.path
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            with store.lock:
                store.stats[method + " " + path] = store.stats.get(method + " " + path, 0) + 1
            if path == "/_stats":
                with store.lock:
                    return self.send(200, dict(store.stats))
            if args.mode == "hang":
                time.sleep(3600)
                return None
            if args.mode == "html":
                return self.send(200, b"<!doctype html><html><body>Sign in</body></html>", "text/html")
            if args.mode == "garbage":
                return self.send(200, b"\x1b[31mnot json\x1b]0;pwned\x07", "application/json")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if not self.authorized():
                return self.error(401, 401, "Unauthorized")
            seg = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
            fmt = query.get("format")
            if method == "GET" and seg[:2] == ["schemas", "ids"] and len(seg) >= 3:
                sid = int(seg[2])
                entry = store.by_id.get(sid)
                if entry is None:
                    return self.error(404, 40403, "Schema %d not found" % sid)
                if len(seg) == 4 and seg[3] == "versions":
                    found = [
                        {"subject": s, "version": i + 1}
                        for s, ids in store.subjects.items()
                        for i, x in enumerate(ids)
                        if x == sid
                    ]
                    return self.send(200, found)
                return self.send(200, describe(entry, fmt))
            if method == "GET" and seg == ["subjects"]:
                return self.send(200, sorted(store.subjects))
            if seg[:1] == ["config"]:
                return self.send(200, {"compatibilityLevel": "NONE"})
            if seg[:1] == ["subjects"] and len(seg) >= 2:
                subject = seg[1]
                if method == "POST" and len(seg) == 3 and seg[2] == "versions":
                    sid, version = store.register(subject, entry_of(body))
                    return self.send(200, {"id": sid, "version": version, "subject": subject})
                if method == "POST" and len(seg) == 2:
                    found = store.lookup(subject, entry_of(body))
                    if found is None:
                        return self.error(404, 40403, "Schema not found")
                    sid, version = found
                    return self.send(
                        200, describe(store.by_id[sid], fmt, subject=subject, id=sid, version=version)
                    )
                versions = store.subjects.get(subject)
                if versions is None:
                    return self.error(404, 40401, "Subject '%s' not found." % subject)
                if method == "GET" and len(seg) == 3 and seg[2] == "versions":
                    return self.send(200, list(range(1, len(versions) + 1)))
                if method == "GET" and len(seg) == 4 and seg[2] == "versions":
                    v = seg[3]
                    n = len(versions) if v in ("latest", "-1") else int(v)
                    if not 1 <= n <= len(versions):
                        return self.error(404, 40402, "Version %s not found." % v)
                    sid = versions[n - 1]
                    return self.send(
                        200, describe(store.by_id[sid], fmt, subject=subject, id=sid, version=n)
                    )
            return self.error(404, 404, "HTTP 404 Not Found")

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    p.add_argument("--basic")
    p.add_argument("--token")
    p.add_argument("--mode", default="normal", choices=["normal", "html", "garbage", "hang"])
    args = p.parse_args()
    store = Store()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(store, args))
    server.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    print("PORT %d" % server.server_address[1], flush=True)
    # Stop when the test that started us goes away (stdin closes).
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
