//! Configuration: `config.toml` in the config dir (or `--config`), named
//! clusters with security settings and librdkafka properties, UI settings.
//! Secrets are resolved here (inline, from an environment variable or a
//! command) and wrapped in [`Secret`], whose `Debug` never shows the value.

mod cluster;
pub mod registry;
mod sasl;
mod secret;
pub mod theme;

pub use cluster::{ClusterConfig, ClusterProfile, ProducerDefaults, TlsConfig, Unsupported};
pub use registry::{
    BearerToken, ProtobufTopics, RegistryAuth, RegistrySettings, SchemaRegistryConfig,
};
pub use sasl::{SaslConfig, SaslError, SaslMechanism, TokenSource};
pub use secret::{Secret, SecretSource, is_secret_property};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_cluster: Option<String>,
    pub theme: Option<String>,
    /// Messages kept in the browser's buffer.
    pub buffer_max_messages: Option<usize>,
    /// Megabytes kept in the browser's buffer.
    pub buffer_max_mb: Option<usize>,
    /// Entries kept in the producer history.
    pub history_max: Option<usize>,
    /// Mouse reporting in the console (wheel, clicks); off by default so
    /// the terminal selects text as usual.
    pub mouse: Option<bool>,
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterConfig>,
}

/// Turn a toml error into "FILE:LINE:COL: message".
fn located_error(path: &Path, src: &str, e: &toml::de::Error) -> anyhow::Error {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &src[..span.start.min(src.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let text = src.lines().nth(line - 1).unwrap_or("").trim();
            let text = crate::sanitize::truncate_chars(text, 80);
            // Never echo a line that may hold a secret.
            let secret = looks_secret_line(&text);
            let shown = if secret {
                "<line hidden: it may hold a secret>".into()
            } else {
                text
            };
            // toml quotes offending values in backticks: hide them on secret lines.
            let msg = if secret { redact_values(&msg) } else { msg };
            anyhow!(
                "config error in {} at line {line}, column {col}: {msg}\n  {}",
                path.display(),
                crate::sanitize::escape(&shown)
            )
        }
        None => anyhow!("config error in {}: {msg}", path.display()),
    }
}

fn redact_values(msg: &str) -> String {
    match msg
        .find("invalid type:")
        .or_else(|| msg.find("invalid value:"))
    {
        Some(i) => {
            let (head, tail) = msg.split_at(i);
            let mut out = String::from(head);
            let mut inside = false;
            let mut first = true;
            for part in tail.split('`') {
                if inside {
                    out.push_str(if first { "`***`" } else { "" });
                    first = false;
                } else {
                    out.push_str(part);
                }
                inside = !inside;
            }
            out
        }
        None => msg.to_string(),
    }
}

fn looks_secret_line(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "key_password",
        "sasl.",
        "ssl.key",
    ]
    .iter()
    .any(|k| l.contains(k))
}

impl ConfigFile {
    /// Parse config text; `path` is used in error messages.
    pub fn parse(src: &str, path: &Path) -> Result<Self> {
        let cfg: ConfigFile = toml::from_str(src).map_err(|e| located_error(path, src, &e))?;
        for (name, c) in &cfg.clusters {
            if c.brokers.trim().is_empty() {
                bail!(
                    "config error in {}: cluster `{name}`: `brokers` is empty",
                    path.display()
                );
            }
            for (k, v) in &c.properties {
                if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
                    bail!(
                        "config error in {}: cluster `{name}`: property `{k}` must be a string, number or boolean",
                        path.display()
                    );
                }
            }
            let located = |e: anyhow::Error| anyhow!("config error in {}: {e}", path.display());
            if let Some(r) = &c.schema_registry {
                r.check(
                    &format!("cluster `{name}` schema_registry"),
                    &c.legacy_registry_auth(),
                )
                .map_err(located)?;
            } else if c.schema_registry_username.is_some() {
                return Err(located(anyhow!(
                    "cluster `{name}`: schema_registry_username without schema_registry"
                )));
            }
            for (i, p) in c.protobuf.iter().enumerate() {
                p.check(&format!("cluster `{name}` protobuf entry {}", i + 1))
                    .map_err(located)?;
            }
            if let Some(p) = &c.producer.acks {
                crate::model::Acks::parse(p).map_err(|e| {
                    anyhow!(
                        "config error in {}: cluster `{name}`: producer.acks: {e}",
                        path.display()
                    )
                })?;
            }
            if let Some(p) = &c.producer.compression {
                crate::model::Compression::parse(p).map_err(|e| {
                    anyhow!(
                        "config error in {}: cluster `{name}`: producer.compression: {e}",
                        path.display()
                    )
                })?;
            }
        }
        if let Some(d) = &cfg.default_cluster
            && !cfg.clusters.contains_key(d)
        {
            bail!(
                "config error in {}: default_cluster `{d}` is not a cluster in this file",
                path.display()
            );
        }
        Ok(cfg)
    }

    /// Load from a file; a missing default file is an empty config.
    pub fn load(path: &Path, explicit: bool) -> Result<(Self, Vec<String>)> {
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok((Self::default(), vec![]));
            }
            Err(e) => return Err(anyhow!("cannot read config file {}: {e}", path.display())),
        };
        let cfg = Self::parse(&src, path)?;
        let mut warnings = Vec::new();
        if cfg.has_inline_secrets() && is_readable_by_others(path) {
            warnings.push(format!(
                "{} holds secrets and is readable by other users: run chmod 600 on it",
                path.display()
            ));
        }
        Ok((cfg, warnings))
    }

    fn has_inline_secrets(&self) -> bool {
        self.clusters.values().any(|c| {
            c.sasl.as_ref().is_some_and(|s| s.password.is_some())
                || c.tls.as_ref().is_some_and(|t| t.key_password.is_some())
                || c.schema_registry_password.is_some()
                || c.schema_registry
                    .as_ref()
                    .is_some_and(SchemaRegistryConfig::has_inline_secret)
                || c.properties.keys().any(|k| is_secret_property(k))
        })
    }
}

#[cfg(unix)]
fn is_readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn is_readable_by_others(_path: &Path) -> bool {
    false
}

/// Project directories: config, data (history, templates) and state (logs).
#[derive(Debug, Clone)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
    pub state: PathBuf,
}

impl Dirs {
    /// `KAFKATERM_CONFIG_DIR` / `KAFKATERM_DATA_DIR` override the platform dirs.
    #[must_use]
    pub fn discover() -> Self {
        let pd = directories::ProjectDirs::from("", "", "kafkaterm");
        let fallback = std::env::temp_dir().join("kafkaterm");
        let config = std::env::var_os("KAFKATERM_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| pd.as_ref().map(|p| p.config_dir().to_path_buf()))
            .unwrap_or_else(|| fallback.clone());
        let data = std::env::var_os("KAFKATERM_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| pd.as_ref().map(|p| p.data_dir().to_path_buf()))
            .unwrap_or_else(|| fallback.clone());
        let state = std::env::var_os("KAFKATERM_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                pd.as_ref().map(|p| {
                    p.state_dir()
                        .unwrap_or_else(|| p.data_local_dir())
                        .to_path_buf()
                })
            })
            .unwrap_or(fallback);
        Self {
            config,
            data,
            state,
        }
    }
}

/// Values from the command line that shape the connection.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub brokers: Option<String>,
    pub cluster: Option<String>,
    pub properties: Vec<(String, String)>,
    pub read_only: bool,
}

/// A `-X` or `-H` argument that is not `key=value`; holds the argument,
/// escaped for a terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not key=value")]
pub struct PropertyError(String);

/// Parse `-X key=value`.
pub fn parse_property(s: &str) -> Result<(String, String), PropertyError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(PropertyError(crate::sanitize::escape(s).into_owned())),
    }
}

/// Was a cluster chosen on the command line (`--cluster`, `-b`) or in the
/// config (`default_cluster`)? Without a choice the console opens its
/// cluster picker.
#[must_use]
pub fn cluster_chosen(cfg: &ConfigFile, o: &Overrides) -> bool {
    o.cluster.is_some() || o.brokers.is_some() || cfg.default_cluster.is_some()
}

/// The profile of config cluster `name` with the command line's
/// properties and `--read-only` (not its `-b` or `--cluster`).
pub fn named_cluster(cfg: &ConfigFile, o: &Overrides, name: &str) -> Result<ClusterProfile> {
    let c = cfg.clusters.get(name).ok_or_else(|| {
        anyhow!(
            "no cluster `{}` in the config file",
            crate::sanitize::escape(name)
        )
    })?;
    let mut p = ClusterProfile::from_config(name, c)?;
    p.apply(&Overrides {
        brokers: None,
        cluster: None,
        ..o.clone()
    });
    Ok(p)
}

/// Pick the cluster: `--cluster`, else `-b`, else `default_cluster`, else the only one.
pub fn resolve_cluster(
    cfg: &ConfigFile,
    o: &Overrides,
    config_path: &Path,
) -> Result<ClusterProfile> {
    let mut profile = if let Some(name) = &o.cluster {
        let c = cfg.clusters.get(name).ok_or_else(|| {
            anyhow!(
                "no cluster `{}` in {} (clusters there: {})",
                crate::sanitize::escape(name),
                config_path.display(),
                names(cfg)
            )
        })?;
        ClusterProfile::from_config(name, c)?
    } else if let Some(b) = &o.brokers {
        if b.split(',').all(|a| a.trim().is_empty()) {
            bail!("no broker address given: -b needs host:port (several separated by commas)");
        }
        ClusterProfile::adhoc(b)
    } else if let Some(d) = &cfg.default_cluster {
        ClusterProfile::from_config(d, &cfg.clusters[d])?
    } else if cfg.clusters.len() == 1 {
        let (n, c) = cfg
            .clusters
            .iter()
            .next()
            .ok_or_else(|| anyhow!("no cluster"))?;
        ClusterProfile::from_config(n, c)?
    } else {
        bail!(
            "no cluster chosen: pass -b host:port, --cluster NAME or --demo (clusters in {}: {})",
            config_path.display(),
            names(cfg)
        );
    };
    profile.apply(o);
    Ok(profile)
}

fn names(cfg: &ConfigFile) -> String {
    if cfg.clusters.is_empty() {
        "none".into()
    } else {
        cfg.clusters.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
default_cluster = "prod"
[clusters.prod]
brokers = "kafka1:9092,kafka2:9092"
read_only = true
schema_registry = "https://registry:8081"
watch_groups = ["orders-service"]
[clusters.prod.sasl]
mechanism = "SCRAM-SHA-512"
username = "ops"
password_env = "KT_TEST_PROD_PASSWORD"
[clusters.prod.tls]
ca = "/etc/kafka/ca.pem"
[clusters.prod.properties]
"client.id" = "kafkaterm"
"fetch.max.bytes" = 1048576
"#;

    #[test]
    fn parses_the_documented_example() {
        let cfg = ConfigFile::parse(EXAMPLE, Path::new("c.toml")).unwrap();
        // SAFETY of the test: a unique variable name.
        unsafe { std::env::set_var("KT_TEST_PROD_PASSWORD", "s3cret-value") };
        let p = resolve_cluster(&cfg, &Overrides::default(), Path::new("c.toml")).unwrap();
        assert_eq!(p.name, "prod");
        assert!(p.read_only);
        assert_eq!(p.watch_groups, vec!["orders-service"]);
        let get = |k: &str| {
            p.properties
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.expose().to_string())
        };
        assert_eq!(get("security.protocol").as_deref(), Some("SASL_SSL"));
        assert_eq!(get("sasl.mechanism").as_deref(), Some("SCRAM-SHA-512"));
        assert_eq!(get("sasl.password").as_deref(), Some("s3cret-value"));
        assert_eq!(get("ssl.ca.location").as_deref(), Some("/etc/kafka/ca.pem"));
        assert_eq!(get("fetch.max.bytes").as_deref(), Some("1048576"));
        assert_eq!(p.client_id, "kafkaterm");
        assert!(!format!("{p:?}").contains("s3cret-value"));
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let src = "[clusters.a]\nbrokers = \"x:1\"\nbokers = \"y\"\n";
        let e = ConfigFile::parse(src, Path::new("/tmp/k.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/tmp/k.toml"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("bokers"), "{e}");
    }

    #[test]
    fn duplicate_cluster_names_name_the_file_and_line() {
        let src = "[clusters.dev]\nbrokers = \"a:1\"\n\n[clusters.prod]\nbrokers = \"b:1\"\n\n[clusters.dev]\nbrokers = \"c:1\"\n";
        let e = ConfigFile::parse(src, Path::new("/tmp/k.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/tmp/k.toml"), "{e}");
        assert!(e.contains("line 7"), "{e}");
        assert!(e.contains("dev"), "{e}");
        // The dotted form of the same mistake.
        let src = "clusters.dev.brokers = \"a:1\"\nclusters.dev.brokers = \"b:1\"\n";
        let e = ConfigFile::parse(src, Path::new("/tmp/k.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn an_empty_broker_list_says_no_address_was_given() {
        for b in ["", " ", ",", " , "] {
            let o = Overrides {
                brokers: Some(b.into()),
                ..Default::default()
            };
            let e = resolve_cluster(&ConfigFile::default(), &o, Path::new("c"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("no broker address given"), "{b:?}: {e}");
        }
    }

    #[test]
    fn secret_lines_are_not_echoed() {
        let src = "[clusters.a]\nbrokers = \"x:1\"\n[clusters.a.sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = 12345\n";
        let e = ConfigFile::parse(src, Path::new("k.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 6"), "{e}");
        assert!(!e.contains("12345"), "{e}");
    }

    #[test]
    fn password_command_and_env() {
        let s = SecretSource {
            password_command: Some("printf 'from-cmd\\n'".into()),
            ..Default::default()
        };
        assert_eq!(s.resolve("x").unwrap().unwrap().expose(), "from-cmd");
        let s = SecretSource {
            password_env: Some("KT_SURELY_UNSET_VAR".into()),
            ..Default::default()
        };
        assert!(
            s.resolve("x")
                .unwrap_err()
                .to_string()
                .contains("KT_SURELY_UNSET_VAR")
        );
        let s = SecretSource {
            password_command: Some("exit 3".into()),
            ..Default::default()
        };
        assert!(s.resolve("x").unwrap_err().to_string().contains("failed"));
    }

    fn props_of(src: &str) -> std::collections::HashMap<String, String> {
        let cfg = ConfigFile::parse(src, Path::new("c.toml")).unwrap();
        let (name, c) = cfg.clusters.iter().next().unwrap();
        ClusterProfile::from_config(name, c)
            .unwrap()
            .properties
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_string()))
            .collect()
    }

    #[test]
    fn sasl_and_tls_become_librdkafka_properties() {
        let p = props_of(
            "[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"pw\"\n",
        );
        assert_eq!(p["security.protocol"], "SASL_PLAINTEXT");
        assert_eq!(p["sasl.mechanism"], "PLAIN");
        assert_eq!(
            (p["sasl.username"].as_str(), p["sasl.password"].as_str()),
            ("u", "pw")
        );

        let p = props_of(
            "[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.sasl]\nmechanism = \"SCRAM-SHA-256\"\nusername = \"u\"\npassword_command = \"echo pw2\"\n[clusters.a.tls]\nca = \"/ca.pem\"\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nkey_password = \"kp\"\n",
        );
        assert_eq!(p["security.protocol"], "SASL_SSL");
        assert_eq!(p["sasl.mechanism"], "SCRAM-SHA-256");
        assert_eq!(p["sasl.password"], "pw2");
        assert_eq!(p["ssl.ca.location"], "/ca.pem");
        assert_eq!(p["ssl.certificate.location"], "/c.pem");
        assert_eq!(p["ssl.key.location"], "/k.pem");
        assert_eq!(p["ssl.key.password"], "kp");

        let p = props_of(
            "[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.sasl]\nmechanism = \"OAUTHBEARER\"\ntoken_endpoint_url = \"https://idp/token\"\nusername = \"cid\"\npassword = \"csecret\"\nscope = \"kafka\"\n",
        );
        assert_eq!(p["sasl.mechanism"], "OAUTHBEARER");
        assert_eq!(p["sasl.oauthbearer.method"], "oidc");
        assert_eq!(
            p["sasl.oauthbearer.token.endpoint.url"],
            "https://idp/token"
        );
        assert_eq!(p["sasl.oauthbearer.client.id"], "cid");
        assert_eq!(p["sasl.oauthbearer.client.secret"], "csecret");
        assert_eq!(p["sasl.oauthbearer.scope"], "kafka");

        let p = props_of(
            "[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.sasl]\nmechanism = \"OAUTHBEARER\"\noauthbearer_config = \"principal=admin\"\n",
        );
        assert_eq!(p["sasl.oauthbearer.config"], "principal=admin");
        assert_eq!(p["enable.sasl.oauthbearer.unsecure.jwt"], "true");

        let p = props_of(
            "[clusters.a]\nbrokers = \"h:1\"\n[clusters.a.tls]\ninsecure_skip_verify = true\n",
        );
        assert_eq!(p["security.protocol"], "SSL");
        assert_eq!(p["enable.ssl.certificate.verification"], "false");
    }

    #[test]
    fn overrides_apply() {
        let cfg = ConfigFile::default();
        let o = Overrides {
            brokers: Some("h:1".into()),
            properties: vec![("client.id".into(), "me".into())],
            read_only: true,
            ..Default::default()
        };
        let p = resolve_cluster(&cfg, &o, Path::new("c")).unwrap();
        assert_eq!(p.brokers, "h:1");
        assert!(p.read_only);
        assert_eq!(p.properties[0].0, "client.id");
        let e = resolve_cluster(&cfg, &Overrides::default(), Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("-b host:port"));
    }
}
