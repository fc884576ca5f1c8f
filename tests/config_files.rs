//! Every config in tests/fixtures/valid parses; every one in
//! tests/fixtures/invalid fails with a message naming the file and what is
//! wrong (line or field). Secrets never show in errors or debug output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::path::{Path, PathBuf};

use kafkaterm::config::{ConfigFile, Overrides, resolve_cluster};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

#[test]
fn valid_configs_parse_and_resolve() {
    // SAFETY (test): a variable only this test reads.
    unsafe { std::env::set_var("PROD_KAFKA_PASSWORD", "from-the-env") };
    // SAFETY (test): as above.
    unsafe { std::env::set_var("REGISTRY_PASSWORD", "registry-from-env") };
    for path in fixtures("valid") {
        let (cfg, _) =
            ConfigFile::load(&path, true).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        for name in cfg.clusters.keys() {
            let o = Overrides {
                cluster: Some(name.clone()),
                ..Default::default()
            };
            let p = resolve_cluster(&cfg, &o, &path)
                .unwrap_or_else(|e| panic!("{} {name}: {e:#}", path.display()));
            assert!(!p.brokers.is_empty());
            let debug = format!("{p:?}");
            for secret in [
                "from-the-env",
                "inline-key-password",
                "registry-from-env",
                "inline-registry-pw",
                "inline-url-pw",
                "never-run-at-load",
            ] {
                assert!(!debug.contains(secret), "{debug}");
            }
        }
    }
}

#[test]
fn invalid_configs_fail_naming_file_and_field() {
    let expect = [
        ("unknown_field.toml", vec!["line 3", "bokers"]),
        ("duplicate_cluster.toml", vec!["line 8", "dev"]),
        ("missing_brokers.toml", vec!["brokers"]),
        ("bad_mechanism.toml", vec!["line 4", "SCRAM-SHA-1"]),
        ("bad_acks.toml", vec!["producer.acks", "`2`"]),
        ("wrong_type.toml", vec!["line 3", "bool"]),
        ("sasl_without_password.toml", vec!["line 3", "password"]),
        (
            "msk_without_region.toml",
            vec!["line 4", "AWS_MSK_IAM", "`region`"],
        ),
        ("msk_unknown_field.toml", vec!["line 6", "aws_profile"]),
        (
            "oauth_two_token_sources.toml",
            vec!["line 3", "token_command", "oauthbearer_config"],
        ),
        ("bad_default.toml", vec!["default_cluster", "nope"]),
        ("not_toml.toml", vec!["line 1"]),
        ("registry_unknown_field.toml", vec!["line 5", "cacert"]),
        (
            "registry_tls_over_http.toml",
            vec!["cluster `a` schema_registry", "https://"],
        ),
        ("registry_two_tokens.toml", vec!["only one of token"]),
        (
            "protobuf_without_files.toml",
            vec!["cluster `a` protobuf entry 1", "files"],
        ),
    ];
    let files = fixtures("invalid");
    assert_eq!(
        files.len(),
        expect.len(),
        "every invalid fixture has expectations"
    );
    for (name, needles) in expect {
        let path = files.iter().find(|p| p.ends_with(name)).unwrap();
        let e = format!("{:#}", ConfigFile::load(path, true).unwrap_err());
        assert!(e.contains(&path.display().to_string()), "{name}: {e}");
        assert!(!e.contains("inline-token-value"), "{name}: {e}");
        for n in needles {
            assert!(e.contains(n), "{name}: {e:?} lacks {n:?}");
        }
    }
}

#[test]
fn the_shipped_example_is_a_valid_fixture() {
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config.toml"))
            .unwrap();
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/example.toml"),
    )
    .unwrap();
    assert_eq!(
        shipped, fixture,
        "assets/config.toml and its fixture copy differ"
    );
}

#[cfg(unix)]
#[test]
fn secrets_in_a_world_readable_file_warn() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[clusters.a]\nbrokers = \"x:1\"\n[clusters.a.sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, warnings) = ConfigFile::load(&path, true).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("chmod 600"));
    assert!(!warnings[0].contains("hunter2"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, warnings) = ConfigFile::load(&path, true).unwrap();
    assert!(warnings.is_empty());
}

#[test]
fn secrets_never_reach_logs_or_json() {
    // The worker logs its client properties: secret values are masked.
    let mut p = kafkaterm::config::ClusterProfile::adhoc("x:1");
    p.properties.push((
        "sasl.password".into(),
        kafkaterm::config::Secret::new("hunter2"),
    ));
    p.properties.push((
        "ssl.key.password".into(),
        kafkaterm::config::Secret::new("keypass"),
    ));
    let logged = kafkaterm::kafka::client::describe_properties(&p.properties);
    assert!(
        !logged.contains("hunter2") && !logged.contains("keypass"),
        "{logged}"
    );
    assert!(!format!("{p:?}").contains("hunter2"));
}

#[test]
fn msk_iam_and_token_command_become_oauthbearer_with_a_token_source() {
    use kafkaterm::config::TokenSource;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/msk_iam.toml");
    let (cfg, _) = ConfigFile::load(&path, true).unwrap();
    let resolve = |name: &str| {
        let o = Overrides {
            cluster: Some(name.into()),
            ..Default::default()
        };
        resolve_cluster(&cfg, &o, &path).unwrap()
    };
    let prop = |p: &kafkaterm::config::ClusterProfile, k: &str| {
        p.properties
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.expose().to_string())
    };
    let msk = resolve("msk");
    assert_eq!(prop(&msk, "sasl.mechanism").as_deref(), Some("OAUTHBEARER"));
    assert_eq!(prop(&msk, "security.protocol").as_deref(), Some("SASL_SSL"));
    assert_eq!(prop(&msk, "sasl.username"), None);
    assert_eq!(
        msk.token_source,
        Some(TokenSource::AwsMskIam {
            region: "us-east-1".into(),
            profile: Some("analytics".into())
        })
    );
    let tokens = resolve("tokens");
    assert_eq!(
        prop(&tokens, "security.protocol").as_deref(),
        Some("SASL_PLAINTEXT")
    );
    assert_eq!(prop(&tokens, "enable.sasl.oauthbearer.unsecure.jwt"), None);
    assert!(matches!(
        tokens.token_source,
        Some(TokenSource::Command { .. })
    ));
    // The command line is not shown in debug output (it may hold a secret).
    assert!(!format!("{tokens:?}").contains("/run/secrets"));
}

#[test]
fn sasl_fields_of_another_mechanism_are_refused() {
    for (sasl, needle) in [
        (
            "mechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"p\"\nregion = \"eu-west-1\"",
            "`region` does not apply to mechanism PLAIN",
        ),
        (
            "mechanism = \"SCRAM-SHA-512\"\nusername = \"u\"\npassword = \"p\"\ntoken_command = \"x\"",
            "`token_command` does not apply",
        ),
        (
            "mechanism = \"AWS_MSK_IAM\"\nregion = \"eu-west-1\"\npassword_env = \"X\"",
            "`password_env` does not apply to mechanism AWS_MSK_IAM",
        ),
        (
            "mechanism = \"AWS_MSK_IAM\"\nregion = \"eu west 1\"",
            "not an AWS region name",
        ),
        (
            "mechanism = \"OAUTHBEARER\"\ntoken_command = \"x\"\nusername = \"u\"",
            "drop username",
        ),
        ("mechanism = \"OAUTHBEARER\"", "needs one of token_command"),
    ] {
        let src = format!("[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.sasl]\n{sasl}\n");
        let e = format!(
            "{:#}",
            ConfigFile::parse(&src, Path::new("k.toml")).unwrap_err()
        );
        assert!(e.contains("k.toml") && e.contains("line 3"), "{e}");
        assert!(e.contains(needle), "{sasl}: {e}");
    }
}
