//! OAUTHBEARER tokens that kafkaterm supplies itself: AWS MSK IAM and
//! `token_command`.
//!
//! - The MSK IAM signer's output is checked for structure and expiry with
//!   fixed credentials and a fixed clock, and its SigV4 signature is
//!   recomputed here independently (HMAC-SHA256 by hand), the recomputation
//!   itself being checked against AWS's published SigV4 example.
//! - A small fake Kafka broker (ApiVersions, SaslHandshake, SaslAuthenticate
//!   with a session lifetime so that librdkafka re-authenticates (KIP-368),
//!   Metadata) sees the tokens librdkafka actually sends: it verifies MSK
//!   signatures with the expected secret key and rejects expired
//!   `token_command` tokens. Neither librdkafka's mock cluster nor the nisshi
//!   test broker accepts OAUTHBEARER, hence this broker.
//! - Secrets (secret key, session token, the token) never reach stdout,
//!   stderr, the JSON output or the log file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use common::fake_kafka::{api, read_request, respond};

use std::collections::{BTreeSet, HashMap};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, ListOffsetsRequest, ListOffsetsResponse,
    MetadataResponse, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafkaterm::config::{ClusterProfile, ConfigFile};
use kafkaterm::kafka::client::{self, KtClient, KtContext};
use kafkaterm::kafka::oauth;
use rdkafka::admin::AdminClient;
use rdkafka::consumer::{BaseConsumer, Consumer};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// SigV4, recomputed independently of the signer

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

/// RFC 3986 encoding as SigV4 canonicalizes query components.
fn uri_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sigv4_signature(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    hex(&hmac(&k, to_sign.as_bytes()))
}

/// The recomputation above against AWS's published SigV4 example (the IAM
/// `ListUsers` request of 2015-08-30 in the SigV4 documentation).
#[test]
fn independent_sigv4_matches_the_published_aws_example() {
    let canonical = "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(
        sha256_hex(canonical.as_bytes()),
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    assert_eq!(
        sigv4_signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "iam",
            canonical
        ),
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
}

struct Expect<'a> {
    region: &'a str,
    access_key: &'a str,
    secret: &'a str,
    session_token: Option<&'a str>,
}

/// What a verified MSK IAM token said.
#[derive(Debug)]
struct Verified {
    amz_date: String,
    params: HashMap<String, String>,
}

/// Check an MSK IAM token the way the broker side would: decode it, check
/// every part of the presigned URL, and recompute the signature.
fn verify_msk_token(token: &str, e: &Expect<'_>) -> Result<Verified, String> {
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|x| format!("not unpadded base64url: {x}"))?;
    let url = String::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    let host = format!("kafka.{}.amazonaws.com", e.region);
    let query = url
        .strip_prefix(&format!("https://{host}/?"))
        .ok_or_else(|| format!("unexpected URL start: {url}"))?;
    let mut params = HashMap::new();
    let mut order = Vec::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').ok_or("a query part without =")?;
        let k = percent_encoding::percent_decode_str(k)
            .decode_utf8()
            .map_err(|_| "bad key")?
            .into_owned();
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .map_err(|_| "bad value")?
            .into_owned();
        order.push(k.clone());
        if params.insert(k.clone(), v).is_some() {
            return Err(format!("{k} given twice"));
        }
    }
    let get = |k: &str| params.get(k).cloned().ok_or(format!("no {k}"));
    if order.first().map(String::as_str) != Some("Action") {
        return Err("Action is not first".into());
    }
    if get("Action")? != "kafka-cluster:Connect" {
        return Err("wrong Action".into());
    }
    if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err("wrong algorithm".into());
    }
    let amz_date = get("X-Amz-Date")?;
    if amz_date.len() != 16 || &amz_date[8..9] != "T" || !amz_date.ends_with('Z') {
        return Err(format!("bad X-Amz-Date {amz_date}"));
    }
    let cred = get("X-Amz-Credential")?;
    let want = format!(
        "{}/{}/{}/kafka-cluster/aws4_request",
        e.access_key,
        &amz_date[..8],
        e.region
    );
    if cred != want {
        return Err(format!("credential {cred}, expected {want}"));
    }
    if get("X-Amz-Expires")? != "900" {
        return Err("expiry is not 900 s".into());
    }
    if get("X-Amz-SignedHeaders")? != "host" {
        return Err("signed headers are not just host".into());
    }
    if !get("User-Agent")?.starts_with("kafkaterm/") {
        return Err("no kafkaterm User-Agent".into());
    }
    match (e.session_token, params.get("X-Amz-Security-Token")) {
        (Some(want), Some(got)) if want == got => {}
        (None, None) => {}
        _ => return Err("session token missing or wrong".into()),
    }
    let sig = get("X-Amz-Signature")?;
    let mut canon: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "X-Amz-Signature" && k.as_str() != "User-Agent")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    canon.sort();
    let canonical_query = canon
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "GET\n/\n{canonical_query}\nhost:{host}\n\nhost\n{}",
        sha256_hex(b"")
    );
    let want_sig = sigv4_signature(e.secret, &amz_date, e.region, "kafka-cluster", &canonical);
    if sig != want_sig {
        return Err("the signature does not verify".into());
    }
    Ok(Verified { amz_date, params })
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

// 2024-01-02T03:04:05Z
const FIXED: u64 = 1_704_164_645;

#[test]
fn msk_token_structure_signature_and_expiry_at_a_fixed_clock() {
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("Sess+Token/With=Chars".into()),
        None,
        "test",
    );
    let t = oauth::msk_token("eu-west-1", &creds, at(FIXED)).unwrap();
    let v = verify_msk_token(
        t.value.expose(),
        &Expect {
            region: "eu-west-1",
            access_key: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: Some("Sess+Token/With=Chars"),
        },
    )
    .unwrap();
    assert_eq!(v.amz_date, "20240102T030405Z");
    // A third implementation agrees: botocore 1.44.8 (`SigV4QueryAuth`,
    // service kafka-cluster, region eu-west-1, expires 900, the same
    // credentials and clock) presigns this URL with this signature.
    assert_eq!(
        v.params["X-Amz-Signature"],
        "e39ee24ec20f431a640031d7e605d0857f827d7e6fced2b15358f5c6275fb85b"
    );
    assert_eq!(t.issued_at_ms, FIXED as i64 * 1000);
    assert_eq!(t.expires_at_ms, (FIXED as i64 + 900) * 1000);
    // Same inputs, same token; another second, another signature.
    let again = oauth::msk_token("eu-west-1", &creds, at(FIXED)).unwrap();
    assert_eq!(again.value.expose(), t.value.expose());
    let later = oauth::msk_token("eu-west-1", &creds, at(FIXED + 1)).unwrap();
    assert_ne!(later.value.expose(), t.value.expose());
    // A wrong secret does not verify: the check can fail.
    assert!(
        verify_msk_token(
            t.value.expose(),
            &Expect {
                region: "eu-west-1",
                access_key: "AKIDEXAMPLE",
                secret: "another-secret",
                session_token: Some("Sess+Token/With=Chars"),
            },
        )
        .unwrap_err()
        .contains("signature")
    );
    // Debug output hides the token.
    assert!(!format!("{t:?}").contains(t.value.expose()));
}

#[test]
fn msk_token_without_session_token_and_with_expiring_credentials() {
    let creds = Credentials::new(
        "AKIDLONGTERM",
        "secret-long-term",
        None,
        Some(at(FIXED + 300)),
        "test",
    );
    let t = oauth::msk_token("us-east-1", &creds, at(FIXED)).unwrap();
    let v = verify_msk_token(
        t.value.expose(),
        &Expect {
            region: "us-east-1",
            access_key: "AKIDLONGTERM",
            secret: "secret-long-term",
            session_token: None,
        },
    )
    .unwrap();
    assert!(!v.params.contains_key("X-Amz-Security-Token"));
    // The token cannot outlive the credentials it was signed with.
    assert_eq!(t.expires_at_ms, (FIXED as i64 + 300) * 1000);
}

// ---------------------------------------------------------------------------
// A fake broker that speaks just enough Kafka for SASL/OAUTHBEARER

type Check = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

#[derive(Debug, Clone)]
struct Auth {
    client_id: String,
    token: String,
    ok: bool,
    reason: String,
}

struct FakeBroker {
    port: u16,
    auths: Arc<Mutex<Vec<Auth>>>,
    stop: Arc<AtomicBool>,
}

impl FakeBroker {
    /// `session_ms`: the session lifetime the broker grants, after which
    /// librdkafka re-authenticates on the same connection.
    fn start(check: Check, session_ms: i64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let auths = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (Arc::clone(&auths), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (a, check, s) = (Arc::clone(&a), Arc::clone(&check), Arc::clone(&s));
                std::thread::spawn(move || serve(conn, port, &check, &a, session_ms, &s));
            }
        });
        Self { port, auths, stop }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn auths(&self) -> Vec<Auth> {
        self.auths.lock().unwrap().clone()
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// The bearer token in a SASL OAUTHBEARER client first message
/// (`n,,\x01auth=Bearer TOKEN\x01\x01`, RFC 7628).
fn bearer(msg: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(msg).ok()?;
    text.split('\x01')
        .find_map(|kv| kv.strip_prefix("auth=Bearer "))
        .map(str::to_string)
}

fn serve(
    mut conn: TcpStream,
    port: u16,
    check: &Check,
    auths: &Mutex<Vec<Auth>>,
    session_ms: i64,
    stop: &AtomicBool,
) {
    let mut authenticated = false;
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Some((header, key, mut buf)) = read_request(&mut conn) else {
            return;
        };
        let v = header.request_api_version;
        let corr = header.correlation_id;
        let client_id = header
            .client_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let sent = match key {
            ApiKey::ApiVersions => {
                let mut r = ApiVersionsResponse::default();
                r.api_keys = vec![
                    api(ApiKey::ApiVersions, 0, 3),
                    api(ApiKey::SaslHandshake, 0, 1),
                    api(ApiKey::SaslAuthenticate, 0, 1),
                    api(ApiKey::Metadata, 0, 4),
                    api(ApiKey::ListOffsets, 1, 2),
                ];
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::SaslHandshake => {
                let Ok(req) = SaslHandshakeRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = SaslHandshakeResponse::default();
                r.mechanisms = vec![StrBytes::from_static_str("OAUTHBEARER")];
                if &*req.mechanism != "OAUTHBEARER" {
                    r.error_code = 33; // UNSUPPORTED_SASL_MECHANISM
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::SaslAuthenticate => {
                let Ok(req) = SaslAuthenticateRequest::decode(&mut buf, v) else {
                    return;
                };
                let token = bearer(&req.auth_bytes).unwrap_or_default();
                let verdict = check(&token);
                authenticated = verdict.is_ok();
                auths.lock().unwrap().push(Auth {
                    client_id,
                    token,
                    ok: verdict.is_ok(),
                    reason: verdict.clone().err().unwrap_or_default(),
                });
                let mut r = SaslAuthenticateResponse::default();
                match verdict {
                    Ok(()) => r.session_lifetime_ms = session_ms,
                    Err(reason) => {
                        r.error_code = 58; // SASL_AUTHENTICATION_FAILED
                        r.error_message = Some(StrBytes::from_string(reason));
                    }
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::Metadata if authenticated => {
                let mut b = MetadataResponseBroker::default();
                b.node_id = BrokerId(1);
                b.host = StrBytes::from_static_str("127.0.0.1");
                b.port = i32::from(port);
                let mut p = MetadataResponsePartition::default();
                p.leader_id = BrokerId(1);
                p.replica_nodes = vec![BrokerId(1)];
                p.isr_nodes = vec![BrokerId(1)];
                let mut t = MetadataResponseTopic::default();
                t.name = Some(TopicName(StrBytes::from_static_str("iam-topic")));
                t.partitions = vec![p];
                let mut r = MetadataResponse::default();
                r.brokers = vec![b];
                r.controller_id = BrokerId(1);
                r.topics = vec![t];
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::ListOffsets if authenticated => {
                let Ok(req) = ListOffsetsRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = ListOffsetsResponse::default();
                for t in req.topics {
                    let mut rt = ListOffsetsTopicResponse::default();
                    rt.name = t.name;
                    for p in t.partitions {
                        let mut rp = ListOffsetsPartitionResponse::default();
                        rp.partition_index = p.partition_index;
                        // Five messages: offsets 0 (earliest) to 5 (latest).
                        rp.offset = if p.timestamp == -2 { 0 } else { 5 };
                        rp.timestamp = -1;
                        rt.partitions.push(rp);
                    }
                    r.topics.push(rt);
                }
                respond(&mut conn, corr, v, &r)
            }
            _ => {
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// MSK IAM end to end: the binary, the AWS credential chain, librdkafka

const SECRET_KEY: &str = "kt-test-SECRET-wJalrXUtnFEMIK7MDENGbPxRfiCY";
const SESSION_TOKEN: &str = "kt-test-SESSION-IQoJb3JpZ2luX2VjEJr//////////wEaCXVz";

fn msk_check(access_key: &'static str, session: Option<&'static str>) -> Check {
    Arc::new(move |token: &str| {
        let v = verify_msk_token(
            token,
            &Expect {
                region: "eu-west-1",
                access_key,
                secret: SECRET_KEY,
                session_token: session,
            },
        )?;
        // Signed just now (the broker side checks the clock too).
        let date = chrono::NaiveDateTime::parse_from_str(&v.amz_date, "%Y%m%dT%H%M%SZ")
            .map_err(|e| e.to_string())?
            .and_utc()
            .timestamp();
        let now = chrono::Utc::now().timestamp();
        if (now - date).abs() > 300 {
            return Err(format!("signed at {date}, now {now}"));
        }
        Ok(())
    })
}

fn msk_config(dir: &Path, addr: &str, profile: Option<&str>) -> std::path::PathBuf {
    let profile = profile
        .map(|p| format!("profile = \"{p}\"\n"))
        .unwrap_or_default();
    let cfg = format!(
        "[clusters.msk]\nbrokers = \"{addr}\"\n[clusters.msk.sasl]\nmechanism = \"AWS_MSK_IAM\"\nregion = \"eu-west-1\"\n{profile}[clusters.msk.properties]\n# the fake broker has no TLS\n\"security.protocol\" = \"SASL_PLAINTEXT\"\n"
    );
    let path = dir.join("kafkaterm.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// The binary with an AWS environment of our making only: no instance
/// metadata lookups, no real ~/.aws.
fn aws_cmd(sb: &common::Sandbox, env: &[(&str, &str)]) -> std::process::Command {
    let mut c = sb.cmd();
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", sb.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", sb.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            sb.path().join("no-aws-credentials"),
        )
        .env("KAFKATERM_LOG", "debug");
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::null());
    c
}

fn log_of(sb: &common::Sandbox) -> String {
    std::fs::read_to_string(sb.path().join("data/kafkaterm.log")).unwrap_or_default()
}

fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!text.contains(s), "{what} contains a secret:\n{text}");
    }
}

#[test]
fn msk_iam_with_environment_credentials_reaches_the_broker() {
    let broker = FakeBroker::start(msk_check("AKIDENVEXAMPLE", Some(SESSION_TOKEN)), 60_000);
    let sb = common::Sandbox::new();
    let cfg = msk_config(sb.path(), &broker.addr(), None);
    let out = aws_cmd(
        &sb,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ],
    )
    .args([
        "--config",
        cfg.to_str().unwrap(),
        "--cluster",
        "msk",
        "topics",
        "--json",
    ])
    .output()
    .unwrap();
    let (stdout, stderr) = (common::stdout(&out), common::stderr(&out));
    assert!(
        out.status.success(),
        "stderr: {stderr}\nauths: {:?}",
        broker.auths()
    );
    assert!(stdout.contains("iam-topic"), "{stdout}");
    let auths = broker.auths();
    assert!(!auths.is_empty() && auths.iter().all(|a| a.ok), "{auths:?}");
    // Every client of the worker authenticated (metadata and admin).
    let ids: BTreeSet<&str> = auths.iter().map(|a| a.client_id.as_str()).collect();
    assert!(ids.iter().any(|i| i.ends_with("-meta")), "{ids:?}");
    let token = auths[0].token.clone();
    let log = log_of(&sb);
    assert!(log.contains("obtained a new OAUTHBEARER token"), "{log}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("log", &log)] {
        assert_no_secrets(what, text, &[SECRET_KEY, SESSION_TOKEN, &token]);
    }
}

#[test]
fn msk_iam_with_a_named_profile_uses_that_profile() {
    let broker = FakeBroker::start(msk_check("AKIDPROFILEPROD", None), 60_000);
    let sb = common::Sandbox::new();
    let cfg = msk_config(sb.path(), &broker.addr(), Some("prod"));
    std::fs::write(
        sb.path().join("aws-credentials"),
        format!(
            "[default]\naws_access_key_id = AKIDDEFAULTPROFILE\naws_secret_access_key = other-secret\n\n[prod]\naws_access_key_id = AKIDPROFILEPROD\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        sb.path().join("aws-config"),
        "[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n",
    )
    .unwrap();
    let creds = sb.path().join("aws-credentials");
    let conf = sb.path().join("aws-config");
    let out = aws_cmd(
        &sb,
        &[
            ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
            ("AWS_CONFIG_FILE", conf.to_str().unwrap()),
            // The configured profile wins over credentials in the environment.
            ("AWS_ACCESS_KEY_ID", "AKIDFROMENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-not-for-prod"),
        ],
    )
    .args([
        "--config",
        cfg.to_str().unwrap(),
        "--cluster",
        "msk",
        "topics",
        "--json",
    ])
    .output()
    .unwrap();
    let stderr = common::stderr(&out);
    assert!(
        out.status.success(),
        "stderr: {stderr}\nauths: {:?}",
        broker.auths()
    );
    assert!(broker.auths().iter().all(|a| a.ok), "{:?}", broker.auths());
    assert_no_secrets("stderr", &stderr, &[SECRET_KEY]);
}

#[test]
fn msk_iam_failures_are_plain_words_without_secrets() {
    // Without credentials: a clear error before any connection.
    let broker = FakeBroker::start(msk_check("AKIDENVEXAMPLE", Some(SESSION_TOKEN)), 60_000);
    let sb = common::Sandbox::new();
    let cfg = msk_config(sb.path(), &broker.addr(), None);
    let out = aws_cmd(&sb, &[])
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--cluster",
            "msk",
            "topics",
        ])
        .output()
        .unwrap();
    let stderr = common::stderr(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(broker.auths().is_empty());

    // A wrong secret key: the broker refuses the signature.
    let out = aws_cmd(
        &sb,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "kt-test-WRONG-secret-key-value"),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ],
    )
    .args([
        "--config",
        cfg.to_str().unwrap(),
        "--cluster",
        "msk",
        "topics",
        "--json",
    ])
    .output()
    .unwrap();
    let (stdout, stderr) = (common::stdout(&out), common::stderr(&out));
    assert!(!out.status.success(), "{stdout}");
    // The headless command gives the reason, in one line: the broker
    // refused the authentication (not just "lost the connection").
    assert!(stderr.starts_with("kafkaterm: "), "{stderr}");
    assert!(
        stderr.contains("authentication failed") && stderr.contains("signature does not verify"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let log = log_of(&sb);
    assert!(
        log.contains("authentication failed") && log.contains("the signature does not verify"),
        "{log}"
    );
    let auths = broker.auths();
    assert!(
        !auths.is_empty() && auths.iter().all(|a| !a.ok),
        "{auths:?}"
    );
    assert!(auths[0].reason.contains("signature"), "{auths:?}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("log", &log)] {
        assert_no_secrets(
            what,
            text,
            &[
                "kt-test-WRONG-secret-key-value",
                SESSION_TOKEN,
                &auths[0].token,
            ],
        );
    }
}

// ---------------------------------------------------------------------------
// token_command: refresh while clients keep working

fn command_profile(addr: &str, command: &str) -> ClusterProfile {
    let src = format!(
        "[clusters.c]\nbrokers = \"{addr}\"\nproperties = {{ \"security.protocol\" = \"SASL_PLAINTEXT\" }}\n[clusters.c.sasl]\nmechanism = \"OAUTHBEARER\"\ntoken_command = '''{command}'''\n"
    );
    let cfg = ConfigFile::parse(&src, Path::new("t.toml")).unwrap();
    let mut p = ClusterProfile::from_config("c", &cfg.clusters["c"]).unwrap();
    p.client_id = "kt-oauth".into();
    p
}

/// A token_command printing `tok-N.EXPIRY` and the expiry (now + `life`
/// seconds) on a second line; N counts the runs in `dir/count`.
fn counting_command(dir: &Path, life: u32) -> String {
    let script = dir.join("token.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nf='{}'\nn=$(cat \"$f\" 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > \"$f\"\nexp=$(( $(date +%s) + {life} ))\necho \"tok-$n.$exp\"\necho \"$exp\"\n",
            dir.join("count").display()
        ),
    )
    .unwrap();
    format!("sh '{}'", script.display())
}

fn unexpired_check() -> Check {
    Arc::new(|token: &str| {
        let exp: i64 = token
            .rsplit('.')
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or("not a test token")?;
        let now = chrono::Utc::now().timestamp();
        if now >= exp {
            return Err(format!("token expired at {exp} (now {now})"));
        }
        Ok(())
    })
}

#[test]
fn short_lived_command_tokens_are_refreshed_while_clients_keep_working() {
    // Tokens live 4 s; the broker grants 1.5 s sessions, so librdkafka
    // re-authenticates every ~1.35 s with whatever token it holds then.
    let broker = FakeBroker::start(unexpired_check(), 1_500);
    let dir = tempfile::tempdir().unwrap();
    let profile = command_profile(&broker.addr(), &counting_command(dir.path(), 4));
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(
        &client::client_config(&profile, "meta", &[], &[]),
        KtContext::default(),
    )
    .unwrap();
    let admin: KtClient<AdminClient<KtContext>> = client::create(
        &client::client_config(&profile, "admin", &[], &[]),
        KtContext::default(),
    )
    .unwrap();
    let provider = consumer.token_provider().unwrap().clone();
    assert!(Arc::ptr_eq(&provider, admin.token_provider().unwrap()));

    let distinct_ok = |suffix: &str| -> BTreeSet<String> {
        broker
            .auths()
            .into_iter()
            .filter(|a| a.ok && a.client_id.ends_with(suffix))
            .map(|a| a.token)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut calls = 0;
    while distinct_ok("-meta").len() < 3 || distinct_ok("-admin").len() < 3 {
        assert!(
            Instant::now() < deadline,
            "no refresh seen: {:?}",
            broker.auths()
        );
        // Both clients keep working throughout.
        let md = consumer
            .fetch_metadata(None, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("consumer metadata failed: {e}; {:?}", broker.auths()));
        assert_eq!(md.topics()[0].name(), "iam-topic");
        admin
            .inner()
            .fetch_metadata(None, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("admin metadata failed: {e}; {:?}", broker.auths()));
        calls += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let auths = broker.auths();
    assert!(
        auths.iter().all(|a| a.ok),
        "an expired or bad token was sent: {auths:?}"
    );
    // One command run serves both clients: tokens are shared, not per client.
    let runs: u64 = std::fs::read_to_string(dir.path().join("count"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(runs >= 3, "{runs}");
    assert_eq!(provider.minted(), runs);
    assert!(calls > 5);
}

#[test]
fn token_command_failures_are_plain_words_without_the_token() {
    let broker = FakeBroker::start(unexpired_check(), 60_000);
    // Failing from the start: client creation says why.
    let profile = command_profile(
        &broker.addr(),
        "echo 'login expired: run kinit again' >&2; exit 3",
    );
    let err = client::create::<_, BaseConsumer<KtContext>>(
        &client::client_config(&profile, "meta", &[], &[]),
        KtContext::default(),
    )
    .err()
    .map(|e| format!("{e:#}"));
    let err = err.unwrap_or_default();
    assert!(err.contains("token_command failed"), "{err}");
    assert!(err.contains("login expired: run kinit again"), "{err}");

    // Working first, then failing: the client hears of it as an
    // authentication error in plain words, without the token.
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("broken");
    let script = dir.path().join("t.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e '{}' ]; then echo 'refresh token revoked' >&2; exit 1; fi\nexp=$(( $(date +%s) + 3 ))\necho \"kt-secret-token-value.$exp\"\necho \"$exp\"\n",
            flag.display()
        ),
    )
    .unwrap();
    let profile = command_profile(&broker.addr(), &format!("sh '{}'", script.display()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(
        &client::client_config(&profile, "meta", &[], &[]),
        KtContext { signals: Some(tx) },
    )
    .unwrap();
    consumer
        .fetch_metadata(None, Duration::from_secs(5))
        .unwrap();
    std::fs::write(&flag, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let signal = loop {
        assert!(Instant::now() < deadline, "no failure reported");
        // Serve the client's events (errors reach the context on poll).
        let _ = consumer.poll(Duration::from_millis(100));
        if let Ok(s) = rx.try_recv()
            && s.message.contains("refresh token revoked")
        {
            break s;
        }
    };
    assert!(signal.auth_failed, "{signal:?}");
    assert!(
        signal.message.contains("token_command failed"),
        "{signal:?}"
    );
    assert!(
        !signal.message.contains("kt-secret-token-value"),
        "{signal:?}"
    );
}
