//! Configuration: `config.toml` in the config dir (or `--config`), named
//! clusters with security settings and librdkafka properties, UI settings.
//! Secrets are resolved here (inline, from an environment variable or a
//! command) and wrapped in [`Secret`], whose `Debug` never shows the value.

pub mod theme;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

/// A secret string: never printed, never logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Where a secret comes from: exactly one of the three may be given.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_command: Option<String>,
}

impl SaslConfig {
    #[must_use]
    pub fn secret(&self) -> SecretSource {
        SecretSource {
            password: self.password.clone(),
            password_env: self.password_env.clone(),
            password_command: self.password_command.clone(),
        }
    }
}

impl SecretSource {
    fn is_set(&self) -> bool {
        self.password.is_some() || self.password_env.is_some() || self.password_command.is_some()
    }

    /// Resolve the secret; `what` names it in errors (never the value).
    pub fn resolve(&self, what: &str) -> Result<Option<Secret>> {
        let given = [
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_command.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given > 1 {
            bail!("{what}: give only one of password, password_env, password_command");
        }
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(v) => Ok(Some(Secret(v))),
                Err(_) => bail!("{what}: environment variable {var} is not set"),
            };
        }
        if let Some(cmd) = &self.password_command {
            let out = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .with_context(|| format!("{what}: could not run password_command"))?;
            if !out.status.success() {
                bail!("{what}: password_command failed ({})", out.status);
            }
            let s = String::from_utf8(out.stdout)
                .map_err(|_| anyhow!("{what}: password_command output is not UTF-8"))?;
            return Ok(Some(Secret(s.trim_end_matches(['\n', '\r']).to_string())));
        }
        Ok(None)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "OAUTHBEARER")]
    OAuthBearer,
}

impl SaslMechanism {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    pub mechanism: SaslMechanism,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_command: Option<String>,
    /// OAUTHBEARER with OIDC: the token endpoint (client id = `username`,
    /// client secret = the password source).
    pub token_endpoint_url: Option<String>,
    pub scope: Option<String>,
    /// OAUTHBEARER unsecured-JWT config string (`sasl.oauthbearer.config`), for test setups.
    pub oauthbearer_config: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificate file (PEM).
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM).
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    pub key: Option<PathBuf>,
    /// Password of the client key, from any secret source.
    pub key_password: Option<Secret>,
    pub key_password_env: Option<String>,
    pub key_password_command: Option<String>,
    /// Skip server certificate verification (testing only).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Producer defaults for the composer and `produce`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct ProducerDefaults {
    pub acks: Option<String>,
    pub compression: Option<String>,
    pub idempotence: Option<bool>,
}

/// One cluster section of the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub brokers: String,
    #[serde(default)]
    pub read_only: bool,
    /// Marks a production cluster: shown in a distinct colour.
    #[serde(default)]
    pub production: bool,
    pub schema_registry: Option<String>,
    pub schema_registry_username: Option<String>,
    pub schema_registry_password: Option<Secret>,
    pub schema_registry_password_env: Option<String>,
    #[serde(default)]
    pub watch_groups: Vec<String>,
    pub sasl: Option<SaslConfig>,
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub properties: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub producer: ProducerDefaults,
    /// Group view refresh interval in seconds (default 2).
    pub groups_refresh_secs: Option<f64>,
    /// Topic list refresh interval in seconds (default 10).
    pub topics_refresh_secs: Option<f64>,
}

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
            if let Some(s) = &c.sasl {
                if s.mechanism != SaslMechanism::OAuthBearer
                    && (s.username.is_none() || !s.secret().is_set())
                {
                    bail!(
                        "config error in {}: cluster `{name}`: sasl mechanism {} needs `username` and one of password, password_env, password_command",
                        path.display(),
                        s.mechanism.as_str()
                    );
                }
            }
            for (k, v) in &c.properties {
                if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
                    bail!(
                        "config error in {}: cluster `{name}`: property `{k}` must be a string, number or boolean",
                        path.display()
                    );
                }
            }
            if let Some(p) = &c.producer.acks {
                crate::kafka::client::Acks::parse(p).map_err(|e| {
                    anyhow!(
                        "config error in {}: cluster `{name}`: producer.acks: {e}",
                        path.display()
                    )
                })?;
            }
            if let Some(p) = &c.producer.compression {
                crate::kafka::client::Compression::parse(p).map_err(|e| {
                    anyhow!(
                        "config error in {}: cluster `{name}`: producer.compression: {e}",
                        path.display()
                    )
                })?;
            }
        }
        if let Some(d) = &cfg.default_cluster {
            if !cfg.clusters.contains_key(d) {
                bail!(
                    "config error in {}: default_cluster `{d}` is not a cluster in this file",
                    path.display()
                );
            }
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
                || c.properties
                    .keys()
                    .any(|k| crate::kafka::client::is_secret_property(k))
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

/// Parse `-X key=value`.
pub fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{}` is not key=value", crate::sanitize::escape(s))),
    }
}

/// Operations a cluster is known not to support (the demo's mock cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unsupported {
    pub describe_configs: bool,
    pub list_groups: bool,
    pub describe_groups: bool,
    pub create_topics: bool,
    pub delete_topics: bool,
    pub delete_groups: bool,
}

impl Unsupported {
    /// librdkafka's mock cluster.
    #[must_use]
    pub fn mock() -> Self {
        Self {
            describe_configs: true,
            list_groups: true,
            describe_groups: true,
            create_topics: true,
            delete_topics: true,
            delete_groups: true,
        }
    }
}

/// A resolved cluster: what the worker needs to connect.
#[derive(Debug, Clone)]
pub struct ClusterProfile {
    pub name: String,
    pub brokers: String,
    pub read_only: bool,
    pub production: bool,
    pub schema_registry: Option<String>,
    pub schema_registry_auth: Option<(String, Secret)>,
    pub watch_groups: Vec<String>,
    /// librdkafka properties; values of secret-bearing keys are never shown.
    pub properties: Vec<(String, Secret)>,
    pub producer: ProducerDefaults,
    pub groups_refresh_secs: f64,
    pub topics_refresh_secs: f64,
    pub unsupported: Unsupported,
    /// Client ids and the like are prefixed with this.
    pub client_id: String,
}

impl ClusterProfile {
    /// A bare profile for `-b` without a config section.
    #[must_use]
    pub fn adhoc(brokers: &str) -> Self {
        Self {
            name: brokers.to_string(),
            brokers: brokers.to_string(),
            read_only: false,
            production: false,
            schema_registry: None,
            schema_registry_auth: None,
            watch_groups: Vec::new(),
            properties: Vec::new(),
            producer: ProducerDefaults::default(),
            groups_refresh_secs: 2.0,
            topics_refresh_secs: 10.0,
            unsupported: Unsupported::default(),
            client_id: "kafkaterm".into(),
        }
    }

    /// Build the profile for a config section.
    pub fn from_config(name: &str, c: &ClusterConfig) -> Result<Self> {
        let mut p = Self::adhoc(&c.brokers);
        p.name = name.to_string();
        p.read_only = c.read_only;
        p.production = c.production;
        p.schema_registry = c.schema_registry.clone();
        if let Some(user) = &c.schema_registry_username {
            let src = SecretSource {
                password: c.schema_registry_password.clone(),
                password_env: c.schema_registry_password_env.clone(),
                password_command: None,
            };
            let pass = src
                .resolve(&format!("cluster `{name}` schema registry"))?
                .unwrap_or_default();
            p.schema_registry_auth = Some((user.clone(), pass));
        }
        p.watch_groups = c.watch_groups.clone();
        p.producer = c.producer.clone();
        if let Some(s) = c.groups_refresh_secs {
            p.groups_refresh_secs = s.clamp(0.2, 3600.0);
        }
        if let Some(s) = c.topics_refresh_secs {
            p.topics_refresh_secs = s.clamp(0.5, 86_400.0);
        }
        let mut props: Vec<(String, Secret)> = Vec::new();
        let mut tls_on = false;
        if let Some(t) = &c.tls {
            tls_on = true;
            if let Some(ca) = &t.ca {
                props.push(("ssl.ca.location".into(), Secret(ca.display().to_string())));
            }
            if let Some(cert) = &t.cert {
                props.push((
                    "ssl.certificate.location".into(),
                    Secret(cert.display().to_string()),
                ));
            }
            if let Some(key) = &t.key {
                props.push(("ssl.key.location".into(), Secret(key.display().to_string())));
            }
            let kp = SecretSource {
                password: t.key_password.clone(),
                password_env: t.key_password_env.clone(),
                password_command: t.key_password_command.clone(),
            };
            if let Some(pw) = kp.resolve(&format!("cluster `{name}` tls key password"))? {
                props.push(("ssl.key.password".into(), pw));
            }
            if t.insecure_skip_verify {
                props.push((
                    "enable.ssl.certificate.verification".into(),
                    Secret("false".into()),
                ));
            }
        }
        if let Some(s) = &c.sasl {
            props.push((
                "security.protocol".into(),
                Secret(if tls_on { "SASL_SSL" } else { "SASL_PLAINTEXT" }.into()),
            ));
            props.push(("sasl.mechanism".into(), Secret(s.mechanism.as_str().into())));
            let secret = s
                .secret()
                .resolve(&format!("cluster `{name}` sasl password"))?;
            match s.mechanism {
                SaslMechanism::OAuthBearer => {
                    if let Some(url) = &s.token_endpoint_url {
                        props.push(("sasl.oauthbearer.method".into(), Secret("oidc".into())));
                        props.push((
                            "sasl.oauthbearer.token.endpoint.url".into(),
                            Secret(url.clone()),
                        ));
                        if let Some(u) = &s.username {
                            props.push(("sasl.oauthbearer.client.id".into(), Secret(u.clone())));
                        }
                        if let Some(pw) = secret {
                            props.push(("sasl.oauthbearer.client.secret".into(), pw));
                        }
                        if let Some(scope) = &s.scope {
                            props.push(("sasl.oauthbearer.scope".into(), Secret(scope.clone())));
                        }
                    } else if let Some(cfg) = &s.oauthbearer_config {
                        props.push(("sasl.oauthbearer.config".into(), Secret(cfg.clone())));
                        props.push((
                            "enable.sasl.oauthbearer.unsecure.jwt".into(),
                            Secret("true".into()),
                        ));
                    } else {
                        bail!(
                            "cluster `{name}`: OAUTHBEARER needs token_endpoint_url (OIDC) or oauthbearer_config"
                        );
                    }
                }
                _ => {
                    props.push((
                        "sasl.username".into(),
                        Secret(s.username.clone().unwrap_or_default()),
                    ));
                    props.push(("sasl.password".into(), secret.unwrap_or_default()));
                }
            }
        } else if tls_on {
            props.push(("security.protocol".into(), Secret("SSL".into())));
        }
        for (k, v) in &c.properties {
            let v = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            set_prop(&mut props, k, v);
        }
        if let Some((_, id)) = props.iter().find(|(k, _)| k == "client.id") {
            p.client_id = id.expose().to_string();
        }
        p.properties = props;
        Ok(p)
    }

    /// Apply command-line overrides.
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(b) = &o.brokers {
            self.brokers.clone_from(b);
        }
        for (k, v) in &o.properties {
            set_prop(&mut self.properties, k, v.clone());
        }
        if o.read_only {
            self.read_only = true;
        }
    }
}

fn set_prop(props: &mut Vec<(String, Secret)>, k: &str, v: String) {
    if let Some(slot) = props.iter_mut().find(|(key, _)| key == k) {
        slot.1 = Secret(v);
    } else {
        props.push((k.to_string(), Secret(v)));
    }
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
    fn librdkafka_accepts_the_sasl_settings() {
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let src = format!(
                "[clusters.a]\nbrokers = \"127.0.0.1:1\"\n[clusters.a.sasl]\nmechanism = \"{mech}\"\nusername = \"u\"\npassword = \"p\"\n"
            );
            let cfg = ConfigFile::parse(&src, Path::new("c.toml")).unwrap();
            let p = ClusterProfile::from_config("a", &cfg.clusters["a"]).unwrap();
            let c = crate::kafka::client::client_config(&p, "test", &[], &[]);
            let made: Result<rdkafka::consumer::BaseConsumer<crate::kafka::client::KtContext>, _> =
                crate::kafka::client::create(&c, crate::kafka::client::KtContext::default());
            assert!(made.is_ok(), "{mech}: {:?}", made.err());
        }
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
