//! The Schema Registry over HTTPS, against the small registry of
//! tests/py/registry started here with certificates made at test time:
//! Avro with references, Protobuf with an import, JSON Schema; payloads
//! encoded by the confluent-kafka serializers (an independent encoder)
//! decode through the worker and the app's decoder, and kafkaterm's
//! encoding reads back with the confluent-kafka deserializers. Failures
//! (wrong CA, wrong password, client certificates, tokens, a registry that
//! answers HTML, garbage or nothing) read in plain words, without secrets.
//! No Kafka broker is needed: the worker runs against librdkafka's mock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod registry_support;

use std::sync::Arc;
use std::time::Duration;

use kafkaterm::config::{BearerToken, ClusterProfile, RegistryAuth, RegistrySettings, Secret};
use kafkaterm::decode::registry::SchemaCache;
use kafkaterm::decode::{Content, DecodeMode, SchemaKind, decode};
use kafkaterm::registry::{
    Client, HttpErrorKind as H, RegistryError, RegistryErrorKind as K, SchemaSelector,
};
use kafkaterm::worker::{self, protocol::Command, protocol::WorkerEvent};
use rdkafka::mocking::MockCluster;
use registry_support::{Certs, Registry, RegistryOpts, py_clients};
use serde_json::{Value, json};

const BASIC: &str = "ops:s3cret-pw";

fn settings(r: &Registry, certs: &Certs) -> RegistrySettings {
    let mut s = RegistrySettings::new(&r.url);
    s.ca = Some(certs.path("ca.pem").into());
    s.auth = RegistryAuth::Basic {
        username: "ops".into(),
        password: Secret::new("s3cret-pw"),
    };
    s
}

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn order_avro() -> Value {
    json!({"id": 7, "ship_to": {"city": "Lyon", "zip": "69001"},
           "items": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 20.0}],
           "status": "PAID", "tags": {"x": 1}, "note": null})
}

fn order_proto() -> Value {
    json!({"id": "o-1", "total": {"currency": "EUR", "units": 12},
           "lines": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 2.25}],
           "counts": {"x": 3}, "status": "PAID", "created": "2024-05-01T10:00:00Z",
           "ttl": "90s", "note": "fragile"})
}

fn refund_proto() -> Value {
    json!({"order_id": "o-1", "amount": {"currency": "EUR", "units": 5}})
}

fn order_json() -> Value {
    json!({"id": 1, "ship_to": {"city": "Oslo"}, "items": [{"sku": "a", "price": 2}]})
}

/// Values encoded by the Python serializers for `subject`.
fn python_encode(
    r: &Registry,
    certs: &Certs,
    kind: &str,
    subject: &str,
    message: Option<&str>,
    records: &[Value],
) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.json");
    std::fs::write(&file, serde_json::to_string(records).unwrap()).unwrap();
    let mut args: Vec<String> = vec![
        "encode".into(),
        "--registry".into(),
        r.url.clone(),
        "--ca".into(),
        certs.path("ca.pem"),
        "--basic".into(),
        BASIC.into(),
        "--kind".into(),
        kind.into(),
        "--subject".into(),
        subject.into(),
        "--records".into(),
        file.display().to_string(),
    ];
    if let Some(m) = message {
        args.push("--message".into());
        args.push(m.into());
    }
    let out = py_clients(&args, None);
    let list: Vec<String> = serde_json::from_str(out.trim()).unwrap();
    list.iter().map(|s| unb64(s)).collect()
}

/// Whether the Python deserializers read `values` as `expected`.
fn python_decode(
    r: &Registry,
    certs: &Certs,
    kind: &str,
    message: Option<&str>,
    values: &[Vec<u8>],
    expected: &[Value],
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expected.json");
    std::fs::write(&file, serde_json::to_string(expected).unwrap()).unwrap();
    let mut args: Vec<String> = vec![
        "decode".into(),
        "--registry".into(),
        r.url.clone(),
        "--ca".into(),
        certs.path("ca.pem"),
        "--basic".into(),
        BASIC.into(),
        "--kind".into(),
        kind.into(),
        "--expect".into(),
        file.display().to_string(),
    ];
    if let Some(m) = message {
        args.push("--message".into());
        args.push(m.into());
    }
    let input: Vec<String> = values.iter().map(|v| b64(v)).collect();
    let out =
        registry_support::py_clients_output(&args, Some(&serde_json::to_string(&input).unwrap()));
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "python decode: {e}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Fetch schemas through the worker (as the console does) into the app's cache.
fn fetch_through_worker(s: &RegistrySettings, ids: &[u32]) -> SchemaCache {
    let mock = MockCluster::new(1).unwrap();
    let mut p = ClusterProfile::adhoc(&mock.bootstrap_servers());
    p.unsupported = kafkaterm::config::Unsupported::mock();
    p.schema_registry = Some(s.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let mut cache = SchemaCache {
        configured: true,
        ..Default::default()
    };
    for &id in ids {
        w.commands
            .send(Command::FetchSchema { schema_id: id })
            .unwrap();
    }
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while cache.entries.len() < ids.len() {
            let ev = tokio::time::timeout_at(deadline, w.events.recv())
                .await
                .expect("schemas arrive")
                .expect("worker runs");
            if let WorkerEvent::Schema { schema_id, result } = ev {
                cache
                    .entries
                    .insert(schema_id, result.map_err(|e| e.to_string()));
            }
        }
    });
    drop(w);
    drop(rt);
    drop(mock);
    cache
}

/// A failure's kind and its sentence.
fn why<T: std::fmt::Debug>(r: Result<T, RegistryError>) -> (K, String) {
    let e = r.unwrap_err();
    (e.kind(), e.to_string())
}

#[test]
fn python_encoded_records_decode_through_the_worker_and_back() {
    let certs = Certs::new();
    let r = Registry::start(
        &certs,
        &RegistryOpts {
            tls: true,
            basic: Some(BASIC),
            ..Default::default()
        },
    );
    let ids = r.setup(&certs, Some(BASIC));
    let id = |s: &str| u32::try_from(ids[s].as_u64().unwrap()).unwrap();
    let s = settings(&r, &certs);

    let avro = python_encode(
        &r,
        &certs,
        "avro",
        "orders-avro-value",
        None,
        &[order_avro()],
    );
    let proto = python_encode(
        &r,
        &certs,
        "protobuf",
        "orders-proto-value",
        None,
        &[order_proto()],
    );
    let refund = python_encode(
        &r,
        &certs,
        "protobuf",
        "orders-proto-value",
        Some("acme.Refund"),
        &[refund_proto()],
    );
    let js = python_encode(
        &r,
        &certs,
        "json",
        "orders-json-value",
        None,
        &[order_json()],
    );

    let cache = fetch_through_worker(
        &s,
        &[
            id("orders-avro-value"),
            id("orders-proto-value"),
            id("orders-json-value"),
        ],
    );
    for (bytes, label, want) in [
        (
            &avro[0],
            format!("avro, schema id {}", id("orders-avro-value")),
            order_avro(),
        ),
        (
            &proto[0],
            format!(
                "protobuf acme.Order, schema id {}",
                id("orders-proto-value")
            ),
            order_proto(),
        ),
        (
            &refund[0],
            format!(
                "protobuf acme.Refund, schema id {}",
                id("orders-proto-value")
            ),
            refund_proto(),
        ),
        (
            &js[0],
            format!("json schema, schema id {}", id("orders-json-value")),
            order_json(),
        ),
    ] {
        let d = decode(Some(bytes), DecodeMode::Auto, &cache);
        assert_eq!(d.note, None, "{label}");
        assert_eq!(d.label, label);
        assert_eq!(d.content, Content::Json(want), "{label}");
    }

    // kafkaterm's encoding, read by the Python deserializers.
    let client = Client::new(&s).unwrap();
    for (kind, subject, message, value) in [
        ("avro", "orders-avro-value", None, order_avro()),
        ("protobuf", "orders-proto-value", None, order_proto()),
        (
            "protobuf",
            "orders-proto-value",
            Some("acme.Refund"),
            refund_proto(),
        ),
        ("json", "orders-json-value", None, order_json()),
    ] {
        let bytes = client
            .encode(Some(subject), SchemaSelector::Latest, message, &value)
            .unwrap();
        let verdict = python_decode(
            &r,
            &certs,
            kind,
            message,
            &[bytes],
            std::slice::from_ref(&value),
        );
        assert_eq!(verdict["ok"], true, "{kind} {message:?}: {verdict}");
    }

    // A value that does not fit names the field, for each kind.
    let mut bad = order_avro();
    bad["items"][1]["price"] = json!("twenty");
    let (kind, e) = why(client.encode(
        Some("orders-avro-value"),
        SchemaSelector::Latest,
        None,
        &bad,
    ));
    assert_eq!(kind, K::BadInput, "{e}");
    assert_eq!(e, "$.items[1].price: expected a number, found a string");
    let mut bad = order_proto();
    bad["lines"][1]["price"] = json!("cheap");
    let (kind, e) = why(client.encode(
        Some("orders-proto-value"),
        SchemaSelector::Latest,
        None,
        &bad,
    ));
    assert_eq!(kind, K::BadInput, "{e}");
    assert!(e.starts_with("$.lines[1].price: "), "{e}");
    let mut bad = order_json();
    bad["items"][0]["price"] = json!("x");
    let (kind, e) = why(client.encode(
        Some("orders-json-value"),
        SchemaSelector::Latest,
        None,
        &bad,
    ));
    assert_eq!(kind, K::BadInput, "{e}");
    assert!(e.starts_with("$.items[0].price: "), "{e}");
    // By version and by id as well.
    let by_version = client
        .schema_for(Some("orders-avro-value"), SchemaSelector::Version(1))
        .unwrap();
    assert_eq!(by_version.schema.id, id("orders-avro-value"));
    assert_eq!(by_version.schema.kind, SchemaKind::Avro);
    let by_id = client
        .schema_for(None, SchemaSelector::Id(id("orders-proto-value")))
        .unwrap();
    assert_eq!(by_id.schema.kind, SchemaKind::Protobuf);
    let (kind, e) = why(client.schema_for(Some("no-such-subject"), SchemaSelector::Latest));
    assert_eq!(kind, K::Http(H::NotFound), "{e}");
    assert!(e.contains("subject not found"), "{e}");
}

#[test]
fn schemas_are_fetched_once_per_id() {
    let certs = Certs::new();
    let r = Registry::start(
        &certs,
        &RegistryOpts {
            tls: true,
            ..Default::default()
        },
    );
    let ids = r.setup(&certs, None);
    let id = u32::try_from(ids["orders-avro-value"].as_u64().unwrap()).unwrap();
    let mut s = RegistrySettings::new(&r.url);
    s.ca = Some(certs.path("ca.pem").into());
    let c = Client::new(&s).unwrap();
    let first = c.schema_by_id(id).unwrap();
    for _ in 0..5 {
        assert!(Arc::ptr_eq(&first, &c.schema_by_id(id).unwrap()));
    }
    assert!(
        c.schema_by_id(999)
            .unwrap_err()
            .to_string()
            .contains("schema not found")
    );
    assert!(c.schema_by_id(999).is_err());
    let stats = r.stats(&certs);
    assert_eq!(stats[format!("GET /schemas/ids/{id}")], 1, "{stats}");
    assert_eq!(stats["GET /schemas/ids/999"], 1, "{stats}");
    // The reference was fetched once too.
    assert_eq!(stats["GET /subjects/acme-address/versions/1"], 1, "{stats}");
}

#[test]
fn wrong_ca_and_wrong_password_read_plainly() {
    let certs = Certs::new();
    let r = Registry::start(
        &certs,
        &RegistryOpts {
            tls: true,
            basic: Some(BASIC),
            ..Default::default()
        },
    );
    r.setup(&certs, Some(BASIC));
    let good = settings(&r, &certs);
    Client::new(&good).unwrap().schema_by_id(1).unwrap();

    let mut wrong_ca = good.clone();
    wrong_ca.ca = Some(certs.path("other-ca.pem").into());
    let (kind, e) = why(Client::new(&wrong_ca).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Tls), "{e}");
    assert!(e.contains("not signed by a trusted CA"), "{e}");

    // Without `ca` the system and Mozilla roots do not know the test CA either.
    let mut no_ca = good.clone();
    no_ca.ca = None;
    let (kind, e) = why(Client::new(&no_ca).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Tls), "{e}");
    assert!(e.contains("not signed by a trusted CA"), "{e}");

    let mut wrong_pw = good.clone();
    wrong_pw.auth = RegistryAuth::Basic {
        username: "ops".into(),
        password: Secret::new("not-the-password"),
    };
    let (kind, e) = why(Client::new(&wrong_pw).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Auth), "{e}");
    assert!(e.contains("refused the credentials (HTTP 401)"), "{e}");
    assert!(!e.contains("not-the-password"), "{e}");

    let mut none = good.clone();
    none.auth = RegistryAuth::None;
    let (kind, e) = why(Client::new(&none).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Auth), "{e}");
    assert!(e.contains("wants credentials"), "{e}");

    // Plain HTTP to the HTTPS port.
    let mut http = good;
    http.url = r.url.replace("https://", "http://");
    http.ca = None;
    let (kind, e) = why(Client::new(&http).unwrap().schema_by_id(1));
    assert!(
        matches!(kind, K::Http(H::Tls | H::Unreachable)),
        "{kind:?}: {e}"
    );
    assert!(!e.contains("s3cret"), "{e}");
    assert!(e.starts_with("schema 1: "), "{e}");
}

#[test]
fn client_certificates_are_required_and_checked() {
    let certs = Certs::new();
    let r = Registry::start(
        &certs,
        &RegistryOpts {
            tls: true,
            client_certs: true,
            ..Default::default()
        },
    );
    let mut s = RegistrySettings::new(&r.url);
    s.ca = Some(certs.path("ca.pem").into());
    let (kind, e) = why(Client::new(&s).unwrap().schema_by_id(1));
    assert!(
        matches!(kind, K::Http(H::Tls | H::Unreachable)),
        "{kind:?}: {e}"
    );
    assert!(
        e.contains("client certificate"),
        "without a client certificate: {e}"
    );
    let mut rogue = s.clone();
    rogue.cert = Some(certs.path("rogue-client.pem").into());
    rogue.key = Some(certs.path("rogue-client.key").into());
    let (kind, e) = why(Client::new(&rogue).unwrap().schema_by_id(1));
    assert!(
        matches!(kind, K::Http(H::Tls | H::Unreachable)),
        "{kind:?}: {e}"
    );
    assert!(
        e.contains("refused our client certificate") || e.contains("client certificate"),
        "a certificate from another CA: {e}"
    );
    let mut good = s;
    good.cert = Some(certs.path("client.pem").into());
    good.key = Some(certs.path("client.key").into());
    let (kind, e) = why(Client::new(&good).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::NotFound), "{e}");
    assert!(e.contains("schema not found"), "accepted, then asked: {e}");
    // A key file without a key is named.
    let mut bad_key = good.clone();
    bad_key.key = Some(certs.path("client.pem").into());
    let (kind, e) = why(Client::new(&bad_key));
    assert_eq!(kind, K::Http(H::File), "{e}");
    assert!(e.contains("holds no unencrypted private key"), "{e}");
}

#[test]
fn bearer_tokens_static_and_from_a_command() {
    let certs = Certs::new();
    let r = Registry::start(
        &certs,
        &RegistryOpts {
            tls: true,
            token: Some("tok-123"),
            ..Default::default()
        },
    );
    let mut s = RegistrySettings::new(&r.url);
    s.ca = Some(certs.path("ca.pem").into());
    let ask = |s: &RegistrySettings| Client::new(s).unwrap().schema_by_id(1);
    s.auth = RegistryAuth::Bearer(BearerToken::Static(Secret::new("tok-123")));
    assert!(
        ask(&s)
            .unwrap_err()
            .to_string()
            .contains("schema not found")
    );
    s.auth = RegistryAuth::Bearer(BearerToken::Static(Secret::new("tok-999")));
    let (kind, e) = why(ask(&s));
    assert_eq!(kind, K::Http(H::Auth), "{e}");
    assert!(e.contains("refused the credentials"), "{e}");
    assert!(!e.contains("tok-999"), "{e}");

    // A command whose first token has expired: refused once, asked again.
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    let cmd = format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; if [ $n = 1 ]; then echo expired-tok; else echo tok-123; fi",
        c = counter.display()
    );
    s.auth = RegistryAuth::Bearer(BearerToken::Command(Secret::new(cmd)));
    let c = Client::new(&s).unwrap();
    assert!(
        c.schema_by_id(1)
            .unwrap_err()
            .to_string()
            .contains("schema not found")
    );
    assert!(
        c.schema_by_id(2)
            .unwrap_err()
            .to_string()
            .contains("schema not found")
    );
    assert_eq!(std::fs::read_to_string(&counter).unwrap().trim(), "2");
    // A command that fails says so, without its output.
    s.auth = RegistryAuth::Bearer(BearerToken::Command(Secret::new(
        "echo leaked-output; exit 2",
    )));
    let (kind, e) = why(ask(&s));
    assert_eq!(kind, K::Http(H::Auth), "{e}");
    assert!(e.contains("token_command failed"), "{e}");
    assert!(!e.contains("leaked-output"), "{e}");
}

#[test]
fn a_broken_registry_is_a_reason_not_a_hang() {
    let certs = Certs::new();
    for (mode, needle, want) in [
        ("html", "HTML page", K::BadAnswer),
        ("garbage", "not JSON", K::BadAnswer),
        (
            "hang",
            "no answer from the registry within 1 s",
            K::Http(H::Timeout),
        ),
    ] {
        let r = Registry::start(
            &certs,
            &RegistryOpts {
                tls: true,
                mode: Some(mode),
                ..Default::default()
            },
        );
        let mut s = RegistrySettings::new(&r.url);
        s.ca = Some(certs.path("ca.pem").into());
        s.timeout = Duration::from_secs(1);
        let (kind, e) = why(Client::new(&s).unwrap().schema_by_id(3));
        assert_eq!(kind, want, "{mode}: {e}");
        assert!(e.contains(needle), "{mode}: {e}");
        assert!(
            !e.chars().any(kafkaterm::sanitize::needs_escape),
            "{mode}: {e:?}"
        );
        // The record is still shown, raw, with the reason.
        let mut cache = SchemaCache {
            configured: true,
            ..Default::default()
        };
        cache.entries.insert(3, Err(e.clone()));
        let d = decode(Some(&[0, 0, 0, 0, 3, 0xff, 0x01]), DecodeMode::Auto, &cache);
        assert!(
            d.note.as_deref().unwrap().starts_with(e.as_str()),
            "{:?}",
            d.note
        );
        assert!(matches!(d.content, Content::Hex(_)));
    }
    // Nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = RegistrySettings::new(&format!("https://127.0.0.1:{port}"));
    let (kind, e) = why(Client::new(&s).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Unreachable), "{e}");
    assert!(e.contains("connection refused"), "{e}");
    // HTTPS to a plain HTTP registry.
    let r = Registry::start(&certs, &RegistryOpts::default());
    let s = RegistrySettings::new(&r.url.replace("http://", "https://"));
    let (kind, e) = why(Client::new(&s).unwrap().schema_by_id(1));
    assert_eq!(kind, K::Http(H::Tls), "{e}");
    assert!(e.contains("does not answer in TLS"), "{e}");
}
