//! TLS against the test broker (nisshi serves TLS with `--cert/--key`), and
//! how failures read. SASL cannot be tested here: nisshi's users live in its
//! in-memory storage and can only be created through a broker that does not
//! yet require authentication, so SASL settings are covered by the
//! configuration unit tests in `src/config` instead.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Sandbox, TestBroker, json_lines, stderr, stdout};

fn self_signed(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (scripts/test.sh installs it)");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    (cert.display().to_string(), key.display().to_string())
}

fn config(sb: &Sandbox, port: u16, tls: &str) -> String {
    let path = sb.path().join("tls.toml");
    std::fs::write(
        &path,
        format!("[clusters.t]\nbrokers = \"127.0.0.1:{port}\"\n[clusters.t.tls]\n{tls}\n"),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn tls_with_the_right_ca_works_and_the_wrong_one_fails_plainly() {
    let sb = Sandbox::new();
    let (cert, key) = self_signed(sb.path(), "broker");
    let (other, _) = self_signed(sb.path(), "other");
    let broker = TestBroker::start_with(&["--cert", &cert, "--key", &key]);

    let good = config(&sb, broker.port, &format!("ca = \"{cert}\""));
    // Create a topic over TLS with a plain rdkafka admin client, then round-trip.
    common::rt().block_on(async {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        let admin: AdminClient<rdkafka::client::DefaultClientContext> =
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", broker.addr())
                .set("security.protocol", "SSL")
                .set("ssl.ca.location", &cert)
                .create()
                .unwrap();
        let r = admin
            .create_topics(
                [&NewTopic::new("secure", 1, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
        r[0].as_ref().unwrap();
    });
    let o = sb.run(
        &["--config", &good, "produce", "secure"],
        Some(b"over tls\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sb.run(&["--config", &good, "consume", "secure", "-e"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["value"], "over tls");
    let o = sb.run(&["--config", &good, "topics"], None);
    assert!(stdout(&o).contains("secure"));

    // A certificate signed by someone else: refused, one line, non-zero.
    let bad = config(&sb, broker.port, &format!("ca = \"{other}\""));
    let o = sb.run(&["--config", &bad, "topics"], None);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    // ...unless verification is switched off on purpose.
    let skip = config(
        &sb,
        broker.port,
        &format!("ca = \"{other}\"\ninsecure_skip_verify = true"),
    );
    let o = sb.run(&["--config", &skip, "topics"], None);
    assert!(o.status.success(), "{}", stderr(&o));

    // Plaintext against a TLS listener fails plainly too.
    let o = sb.run(&["-b", &broker.addr(), "topics"], None);
    assert!(!o.status.success());
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}
