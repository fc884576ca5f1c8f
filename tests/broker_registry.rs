//! `consume --decode` and `produce --value-subject` against the test broker
//! and the HTTPS test registry, with the confluent-kafka serializers as the
//! independent other side: Python-produced Avro (with a reference),
//! Protobuf (with an import, two message types) and JSON Schema records
//! decode to the expected JSON; records kafkaterm produces for a subject
//! read back with the Python deserializers; bad input and a broken registry
//! leave records raw with a reason; local protobuf types decode without a
//! registry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
mod registry_support;

use std::path::Path;

use common::{Msg, Sandbox, brokers, create_topic, json_lines, stderr, unique};
use registry_support::{Certs, Registry, RegistryOpts, py_clients, py_clients_output};
use serde_json::{Value, json};

const BASIC: &str = "ops:s3cret-pw";

/// A config file for the test broker and the registry; returns its path.
fn config(sb: &Sandbox, r: &Registry, certs: &Certs, extra: &str) -> String {
    let path = sb.path().join("registry.toml");
    std::fs::write(
        &path,
        format!(
            "[clusters.t]\nbrokers = \"{}\"\n{extra}\n[clusters.t.schema_registry]\nurl = \"{}\"\nca = \"{}\"\nusername = \"ops\"\npassword_env = \"KT_TEST_REGISTRY_PW\"\ntimeout_secs = 2\n",
            brokers(),
            r.url,
            certs.path("ca.pem")
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn run(sb: &Sandbox, cfg: &str, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut c = sb.cmd();
    c.env("KT_TEST_REGISTRY_PW", "s3cret-pw")
        .args(["--config", cfg, "--cluster", "t"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn py_args(r: &Registry, certs: &Certs, cmd: &str, topic: &str, kind: &str) -> Vec<String> {
    vec![
        cmd.into(),
        "--registry".into(),
        r.url.clone(),
        "--ca".into(),
        certs.path("ca.pem"),
        "--basic".into(),
        BASIC.into(),
        "--brokers".into(),
        brokers(),
        "--topic".into(),
        topic.into(),
        "--kind".into(),
        kind.into(),
    ]
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

fn python_produce(
    r: &Registry,
    certs: &Certs,
    topic: &str,
    kind: &str,
    subject: &str,
    message: &str,
    records: &Value,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut a = py_args(r, certs, "produce", topic, kind);
    a.extend([
        "--subject".into(),
        subject.into(),
        "--message".into(),
        message.into(),
        "--records".into(),
        write_json(dir.path(), "records.json", records),
    ]);
    py_clients(&a, None);
}

fn python_consume(
    r: &Registry,
    certs: &Certs,
    topic: &str,
    kind: &str,
    message: &str,
    expected: &Value,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut a = py_args(r, certs, "consume", topic, kind);
    a.extend([
        "--message".into(),
        message.into(),
        "--expect".into(),
        write_json(dir.path(), "expected.json", expected),
    ]);
    let o = py_clients_output(&a, None);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn started() -> (Certs, Registry, Value) {
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
    (certs, r, ids)
}

#[test]
fn python_serialized_records_consume_decoded() {
    let (certs, r, ids) = started();
    let sb = Sandbox::new();
    let cfg = config(&sb, &r, &certs, "");
    let avro = json!([
        {"id": 1, "ship_to": {"city": "Lyon", "zip": null}, "items": [{"sku": "a", "price": 1.5}], "status": "NEW", "tags": {}, "note": null},
        {"id": 2, "ship_to": {"city": "Oslo", "zip": "0150"}, "items": [], "status": "SHIPPED", "tags": {"gift": 1}, "note": "ring twice"}
    ]);
    let order = json!({"id": "o-1", "total": {"currency": "EUR", "units": 12},
        "lines": [{"sku": "a", "price": 1.5}], "counts": {"x": 3}, "status": "PAID",
        "created": "2024-05-01T10:00:00.250Z", "ttl": "1.5s", "note": "fragile"});
    let refund = json!({"order_id": "o-1", "amount": {"currency": "EUR", "units": 5}});
    let js =
        json!([{"id": 3, "ship_to": {"city": "Rome"}, "items": [{"sku": "z", "price": 9.99}]}]);
    for (kind, subject, message, records) in [
        ("avro", "orders-avro-value", "acme.Order", avro.clone()),
        (
            "protobuf",
            "orders-proto-value",
            "acme.Order",
            json!([order.clone()]),
        ),
        (
            "protobuf",
            "orders-proto-value",
            "acme.Refund",
            json!([refund.clone()]),
        ),
        ("json", "orders-json-value", "acme.Order", js.clone()),
    ] {
        let topic = unique("reg-in");
        create_topic(&brokers(), &topic, 1);
        python_produce(&r, &certs, &topic, kind, subject, message, &records);
        let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
        assert!(o.status.success(), "{}", stderr(&o));
        let lines = json_lines(&o);
        let want = records.as_array().unwrap();
        assert_eq!(lines.len(), want.len(), "{kind}: {lines:?}");
        let id = ids[subject].as_u64().unwrap();
        for (line, want) in lines.iter().zip(want) {
            assert_eq!(line["value_schema_id"], id, "{line}");
            assert!(line.get("value_decode_error").is_none(), "{line}");
            // Raw fields stay.
            assert!(line.get("value_base64").is_some() || line.get("value").is_some());
            assert_eq!(line["key_decoded"], Value::Null);
            let mut expected = want.clone();
            if message == "acme.Order" && kind == "protobuf" {
                // Timestamps and durations in their JSON forms.
                expected["created"] = json!("2024-05-01T10:00:00.250Z");
                expected["ttl"] = json!("1.500s");
            }
            assert_eq!(line["value_decoded"], expected, "{kind} {message}");
        }
        // The text format prints the decoded value.
        let o = run(
            &sb,
            &cfg,
            &["consume", &topic, "-e", "--decode", "--format", "text"],
            None,
        );
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let first = text.lines().next().unwrap_or_default().to_string();
        let shown: Value =
            serde_json::from_str(first.rsplit_once(" key=null ").unwrap().1).unwrap();
        assert_eq!(shown, lines[0]["value_decoded"], "{first}");
    }
    // Each consume run (a process) fetched each schema id once, however
    // many records used it: avro 2 runs, protobuf 2 topics x 2 runs, json 2.
    let stats = r.stats(&certs);
    for (subject, runs) in [
        ("orders-avro-value", 2),
        ("orders-proto-value", 4),
        ("orders-json-value", 2),
    ] {
        assert_eq!(
            stats[format!("GET /schemas/ids/{}", ids[subject])],
            runs,
            "{subject}: {stats}"
        );
    }
}

#[test]
fn produce_for_a_subject_reads_back_with_the_python_deserializers() {
    let (certs, r, ids) = started();
    let sb = Sandbox::new();
    let cfg = config(&sb, &r, &certs, "");
    let avro = json!([
        {"id": 10, "ship_to": {"city": "Lyon"}, "items": [{"sku": "a", "price": 3.0}], "status": "PAID", "tags": {"a": 1}},
        {"id": 11, "ship_to": {"city": "Bern", "zip": "3000"}, "items": [], "status": "NEW", "tags": {}, "note": "n"}
    ]);
    // Defaults filled in as the Python side will see them.
    let avro_seen = json!([
        {"id": 10, "ship_to": {"city": "Lyon", "zip": null}, "items": [{"sku": "a", "price": 3.0}], "status": "PAID", "tags": {"a": 1}, "note": null},
        {"id": 11, "ship_to": {"city": "Bern", "zip": "3000"}, "items": [], "status": "NEW", "tags": {}, "note": "n"}
    ]);
    let proto = json!([{"id": "o-9", "total": {"currency": "USD", "units": 99}, "lines": [{"sku": "q", "price": 0.5}],
        "counts": {"k": 1}, "status": "NEW", "created": "2023-01-02T03:04:05Z", "ttl": "60s", "note": "x"}]);
    let js = json!([{"id": 4, "items": [{"sku": "s", "price": 1}]}]);
    for (kind, subject, extra, records, seen, message) in [
        (
            "avro",
            "orders-avro-value",
            vec![],
            avro.clone(),
            avro_seen.clone(),
            "acme.Order",
        ),
        (
            "protobuf",
            "orders-proto-value",
            vec![],
            proto.clone(),
            proto.clone(),
            "acme.Order",
        ),
        (
            "protobuf",
            "orders-proto-value",
            vec!["--value-message", "acme.Refund"],
            json!([{"order_id": "r-1", "amount": {"currency": "EUR", "units": 7}}]),
            json!([{"order_id": "r-1", "amount": {"currency": "EUR", "units": 7}}]),
            "acme.Refund",
        ),
        (
            "json",
            "orders-json-value",
            vec!["--value-schema-version", "1"],
            js.clone(),
            js.clone(),
            "acme.Order",
        ),
    ] {
        let topic = unique("reg-out");
        create_topic(&brokers(), &topic, 1);
        let input: String = records
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{v}\n"))
            .collect();
        let mut args = vec!["produce", topic.as_str(), "--value-subject", subject];
        args.extend(extra.iter().copied());
        let o = run(&sb, &cfg, &args, Some(input.as_bytes()));
        assert!(o.status.success(), "{kind}: {}", stderr(&o));
        let verdict = python_consume(&r, &certs, &topic, kind, message, &seen);
        assert_eq!(verdict["ok"], true, "{kind} {message}: {verdict}");
        // And kafkaterm reads its own records back the same way.
        let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
        let lines = json_lines(&o);
        assert_eq!(lines[0]["value_schema_id"], ids[subject]);
    }

    // Keys too, by schema id; JSON Lines input with key_decoded/value_decoded.
    let topic = unique("reg-keys");
    create_topic(&brokers(), &topic, 1);
    let key_id = ids["address-json"].to_string();
    let line = json!({"key_decoded": {"city": "Turin"}, "value_decoded": {"id": 5, "items": []}, "headers": [{"name": "h", "value": "1"}]});
    let o = run(
        &sb,
        &cfg,
        &[
            "produce",
            &topic,
            "--format",
            "jsonl",
            "--key-schema-id",
            &key_id,
            "--value-subject",
            "orders-json-value",
        ],
        Some(format!("{line}\n").as_bytes()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
    let l = &json_lines(&o)[0];
    assert_eq!(l["key_decoded"], json!({"city": "Turin"}));
    assert_eq!(l["key_schema_id"], ids["address-json"]);
    assert_eq!(l["value_decoded"], json!({"id": 5, "items": []}));
    assert_eq!(l["headers"][0]["name"], "h");
}

#[test]
fn lines_that_do_not_fit_are_named_and_not_sent() {
    let (certs, r, _) = started();
    let sb = Sandbox::new();
    let cfg = config(&sb, &r, &certs, "");
    let topic = unique("reg-bad");
    create_topic(&brokers(), &topic, 1);
    let input = concat!(
        "{\"id\": 1, \"ship_to\": {\"city\": \"A\"}, \"items\": [], \"status\": \"NEW\", \"tags\": {}}\n",
        "{\"id\": 2, \"ship_to\": {\"city\": \"B\"}, \"items\": [{\"sku\": \"a\", \"price\": 1}, {\"sku\": \"b\", \"price\": 2}, {\"sku\": \"c\", \"price\": \"three\"}], \"status\": \"NEW\", \"tags\": {}}\n",
        "not json\n",
        "{\"id\": 4, \"ship_to\": {\"city\": \"D\"}, \"items\": [], \"status\": \"NEW\", \"tags\": {}}\n",
    );
    let o = run(
        &sb,
        &cfg,
        &["produce", &topic, "--value-subject", "orders-avro-value"],
        Some(input.as_bytes()),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("line 2: value $.items[2].price: expected a number, found a string"),
        "{err}"
    );
    assert!(err.contains("line 3: not JSON"), "{err}");
    assert!(err.contains("2 message(s) failed"), "{err}");
    let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
    let ids: Vec<Value> = json_lines(&o)
        .iter()
        .map(|l| l["value_decoded"]["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(1), json!(4)]);

    // A subject that does not exist stops before anything is sent.
    let o = run(
        &sb,
        &cfg,
        &["produce", &topic, "--value-subject", "nope-value"],
        Some(b"{}\n"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("value schema: subject nope-value version latest: subject not found"),
        "{}",
        stderr(&o)
    );
    // A wrong password: plain words, no secret.
    let mut c = sb.cmd();
    let o = c
        .env("KT_TEST_REGISTRY_PW", "wrong-pw")
        .args([
            "--config",
            &cfg,
            "--cluster",
            "t",
            "produce",
            &topic,
            "--value-subject",
            "orders-avro-value",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("refused the credentials"), "{e}");
    assert!(!e.contains("wrong-pw"), "{e}");
}

#[test]
fn undecodable_records_stay_raw_with_a_reason() {
    let (certs, r, ids) = started();
    let sb = Sandbox::new();
    let cfg = config(&sb, &r, &certs, "");
    let topic = unique("reg-hostile");
    create_topic(&brokers(), &topic, 1);
    let proto_id = u32::try_from(ids["orders-proto-value"].as_u64().unwrap()).unwrap();
    let avro_id = u32::try_from(ids["orders-avro-value"].as_u64().unwrap()).unwrap();
    let framed = |id: u32, rest: &[u8]| {
        let mut v = vec![0];
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(rest);
        v
    };
    // Schemas the registry holds but that do not parse (with a hostile name).
    let bad_proto = u32::try_from(r.register(
        &certs,
        Some(BASIC),
        "broken-proto",
        &json!({"schema": "syntax = \"proto3\";\nmessage \u{1b}[2J { int32 x = 1 }", "schemaType": "PROTOBUF"}),
    ))
    .unwrap();
    let bad_avro = u32::try_from(r.register(
        &certs,
        Some(BASIC),
        "broken-avro",
        &json!({"schema": "{\"type\": \"record\", \"name\": \"R\"}"}),
    ))
    .unwrap();
    let values: Vec<Vec<u8>> = vec![
        framed(proto_id, &[2, 18, 0x0a, 0x01, b'x']), // message index [9]: nowhere
        framed(avro_id, &[0x02]),                     // truncated Avro
        framed(4242, b"{}"),                          // unknown schema id
        b"\xff\xfe binary".to_vec(),                  // not framed, not text
        b"plain \x1b[2J text".to_vec(),               // text (escaped in output)
        framed(bad_proto, &[0, 0x08, 0x01]),
        framed(bad_avro, &[0x02]),
    ];
    let msgs: Vec<Msg> = values
        .iter()
        .map(|v| Msg {
            value: Some(v.clone()),
            ..Default::default()
        })
        .collect();
    common::produce(&brokers(), &topic, &msgs);
    let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let raw = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!raw.contains('\x1b'));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 7);
    let err = |i: usize| {
        lines[i]["value_decode_error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(err(0).contains("points nowhere"), "{}", lines[0]);
    assert_eq!(lines[0]["value_schema_id"], proto_id);
    assert!(err(1).contains("Avro"), "{}", lines[1]);
    assert!(
        err(2).contains("schema 4242: schema not found"),
        "{}",
        lines[2]
    );
    assert!(err(3).contains("binary"), "{}", lines[3]);
    assert_eq!(lines[4]["value_decoded"], "plain \u{1b}[2J text");
    assert!(err(5).contains("invalid Protobuf schema"), "{}", lines[5]);
    assert!(!err(5).contains('\x1b'), "{}", lines[5]);
    assert!(err(6).contains("invalid Avro schema"), "{}", lines[6]);
    for l in lines[..4].iter().chain(&lines[5..]) {
        assert!(l.get("value_decoded").is_none(), "{l}");
        assert!(
            l.get("value_base64").is_some() || l.get("value").is_some(),
            "{l}"
        );
    }
    // Text output: raw, escaped, with the reason.
    let o = run(
        &sb,
        &cfg,
        &["consume", &topic, "-e", "--decode", "--format", "text"],
        None,
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!text.contains('\x1b'));
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("[value not decoded: "),
        "{text}"
    );
    assert!(text.contains("plain \\x1b[2J text"), "{text}");

    // A registry that hangs or answers HTML: every record still comes out.
    for mode in ["hang", "html"] {
        let broken = Registry::start(
            &certs,
            &RegistryOpts {
                tls: true,
                mode: Some(mode),
                ..Default::default()
            },
        );
        let cfg = config(&sb, &broken, &certs, "");
        let o = run(&sb, &cfg, &["consume", &topic, "-e", "--decode"], None);
        assert!(o.status.success(), "{mode}: {}", stderr(&o));
        let lines = json_lines(&o);
        assert_eq!(lines.len(), 7, "{mode}");
        let e = lines[0]["value_decode_error"].as_str().unwrap();
        let want = if mode == "hang" {
            "no answer from the registry within 2 s"
        } else {
            "HTML page"
        };
        assert!(e.contains(want), "{mode}: {e}");
    }
}

#[test]
fn local_protobuf_types_decode_without_a_registry() {
    let sb = Sandbox::new();
    let protos = sb.path().join("protos");
    std::fs::create_dir_all(protos.join("acme")).unwrap();
    std::fs::write(
        protos.join("acme/common.proto"),
        registry_support::schema_file("common.proto"),
    )
    .unwrap();
    std::fs::write(
        protos.join("order.proto"),
        registry_support::schema_file("order.proto"),
    )
    .unwrap();
    let cfg = sb.path().join("local.toml");
    std::fs::write(
        &cfg,
        format!(
            "[clusters.t]\nbrokers = \"{}\"\n[[clusters.t.protobuf]]\ntopics = [\"local-pb-*\"]\nfiles = [\"{}\"]\ninclude = [\"{}\"]\nvalue = \"acme.Refund\"\nkey = \"acme.common.Money\"\n",
            brokers(),
            protos.join("order.proto").display(),
            protos.display()
        ),
    )
    .unwrap();
    let topic = unique("local-pb");
    create_topic(&brokers(), &topic, 1);
    // Refund{order_id: "r", amount: {currency: "EUR", units: 3}}; key Money{units: 1}
    let value = [
        0x0a, 0x01, b'r', 0x12, 0x07, 0x0a, 0x03, b'E', b'U', b'R', 0x10, 0x03,
    ];
    common::produce(
        &brokers(),
        &topic,
        &[Msg {
            key: Some(vec![0x10, 0x01]),
            value: Some(value.to_vec()),
            ..Default::default()
        }],
    );
    let cfg = cfg.display().to_string();
    let o = sb.run(
        &[
            "--config",
            &cfg,
            "--cluster",
            "t",
            "consume",
            &topic,
            "-e",
            "--decode",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let l = &json_lines(&o)[0];
    assert_eq!(
        l["value_decoded"],
        json!({"order_id": "r", "amount": {"currency": "EUR", "units": 3}})
    );
    assert_eq!(l["key_decoded"], json!({"currency": "", "units": 1}));
    assert!(l.get("value_schema_id").is_none());
    // A type that is not there stops consume before reading.
    std::fs::write(
        &cfg,
        format!(
            "[clusters.t]\nbrokers = \"{}\"\n[[clusters.t.protobuf]]\ntopics = [\"x\"]\nfiles = [\"{}\"]\ninclude = [\"{}\"]\nvalue = \"acme.Nope\"\n",
            brokers(),
            protos.join("order.proto").display(),
            protos.display()
        ),
    )
    .unwrap();
    let o = sb.run(
        &[
            "--config",
            &cfg,
            "--cluster",
            "t",
            "consume",
            &topic,
            "-e",
            "--decode",
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("protobuf entry 1: message type acme.Nope"),
        "{}",
        stderr(&o)
    );
}

/// The console, as a user sees it over tmux at 80x24: records that the
/// Python confluent-kafka Avro serializer wrote (an independent encoder)
/// show decoded in the browser's list and in the message view, with their
/// schema id.
#[test]
fn the_browser_shows_python_serialized_records_decoded() {
    let (certs, r, ids) = started();
    let topic = unique("reg-tui");
    create_topic(&brokers(), &topic, 1);
    let avro = json!([
        {"id": 41, "ship_to": {"city": "Lyon", "zip": null}, "items": [{"sku": "a", "price": 1.5}], "status": "NEW", "tags": {}, "note": null}
    ]);
    python_produce(
        &r,
        &certs,
        &topic,
        "avro",
        "orders-avro-value",
        "acme.Order",
        &avro,
    );
    let sb = Sandbox::new();
    let cfg = config(&sb, &r, &certs, "");
    let tm = common::Tmux::start_in(
        sb,
        &["--config", &cfg, "--cluster", "t"],
        80,
        24,
        &[("KT_TEST_REGISTRY_PW", "s3cret-pw")],
    );
    let t = std::time::Duration::from_secs(30);
    tm.wait_for("refreshed", t);
    tm.keys(&["/"]);
    tm.type_text(&topic);
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", t);
    tm.keys(&["b"]);
    // The list's preview is the decoded record, not the framed bytes.
    let id = ids["orders-avro-value"].as_u64().unwrap();
    tm.wait_for(&format!("[avro, schema id {id}] {{\"id\""), t);
    // The message view shows all of it.
    tm.keys(&["Enter"]);
    let s = tm.wait_for("\"city\": \"Lyon\"", t);
    assert!(
        s.contains(&format!("Value [avro, schema id {id}]")) && s.contains("\"id\": 41"),
        "{s}"
    );
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", t);
}

/// What the composer sends for the `schema` encoding (a template through
/// the worker's ProduceBatch, as the composer builds it) reads back with the
/// Python deserializer, for a chosen subject and version and for a schema id.
#[test]
fn composer_schema_sends_read_back_with_the_python_deserializer() {
    use kafkaterm::config::{ClusterProfile, RegistryAuth, RegistrySettings, Secret};
    use kafkaterm::registry::SchemaSelector;
    use kafkaterm::template::{Encoding, MessageTemplate, SchemaChoice};
    use kafkaterm::worker::protocol::{BatchSource, Command, WorkerEvent};

    let (certs, r, ids) = started();
    let mut profile = ClusterProfile::adhoc(&brokers());
    let mut reg = RegistrySettings::new(&r.url);
    reg.ca = Some(certs.path("ca.pem").into());
    reg.auth = RegistryAuth::Basic {
        username: "ops".into(),
        password: Secret::new("s3cret-pw"),
    };
    profile.schema_registry = Some(reg);
    let rt = common::rt();
    let avro_id = u32::try_from(ids["orders-avro-value"].as_u64().unwrap()).unwrap();
    for (n, choice) in [
        SchemaChoice {
            subject: Some("orders-avro-value".into()),
            selector: SchemaSelector::Version(1),
        },
        SchemaChoice {
            subject: None,
            selector: SchemaSelector::Id(avro_id),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let topic = unique("reg-composer");
        create_topic(&brokers(), &topic, 1);
        let value = r#"{"id": 77, "ship_to": {"city": "Nice"}, "items": [{"sku": "c", "price": 2.5}], "status": "NEW", "tags": {"x": 2}}"#;
        let event = rt.block_on(async {
            let mut w = kafkaterm::worker::spawn(profile.clone()).unwrap();
            kafkaterm::headless::ask(
                &mut w,
                Command::ProduceBatch {
                    id: 1,
                    options: Default::default(),
                    source: BatchSource::Template {
                        template: MessageTemplate {
                            topic: topic.clone(),
                            partition: Some(0),
                            key: Some("k".into()),
                            value: Some(value.into()),
                            value_encoding: Encoding::Schema,
                            value_schema: choice.clone(),
                            ..Default::default()
                        },
                        count: 2,
                    },
                },
            )
            .await
            .unwrap()
        });
        let WorkerEvent::Produce { progress, .. } = event else {
            panic!("{event:?}");
        };
        assert_eq!(
            (progress.delivered, progress.failed),
            (2, 0),
            "{n}: {progress:?}"
        );
        let seen = json!({"id": 77, "ship_to": {"city": "Nice", "zip": null}, "items": [{"sku": "c", "price": 2.5}], "status": "NEW", "tags": {"x": 2}, "note": null});
        let verdict = python_consume(
            &r,
            &certs,
            &topic,
            "avro",
            "acme.Order",
            &json!([seen, seen]),
        );
        assert_eq!(verdict["ok"], true, "{n}: {verdict}");
    }
    // A version the subject does not have: nothing is sent, the reason names it.
    let topic = unique("reg-composer-bad");
    create_topic(&brokers(), &topic, 1);
    let event = rt.block_on(async {
        let mut w = kafkaterm::worker::spawn(profile.clone()).unwrap();
        kafkaterm::headless::ask(
            &mut w,
            Command::ProduceBatch {
                id: 1,
                options: Default::default(),
                source: BatchSource::Template {
                    template: MessageTemplate {
                        topic: topic.clone(),
                        value: Some("{}".into()),
                        value_encoding: Encoding::Schema,
                        value_schema: SchemaChoice {
                            subject: Some("orders-avro-value".into()),
                            selector: SchemaSelector::Version(99),
                        },
                        ..Default::default()
                    },
                    count: 1,
                },
            },
        )
        .await
        .unwrap()
    });
    let WorkerEvent::Produce { progress, .. } = event else {
        panic!("{event:?}");
    };
    assert_eq!(progress.delivered, 0, "{progress:?}");
    let why = progress.first_error.unwrap_or_default();
    assert!(why.contains("orders-avro-value"), "{why}");
}
