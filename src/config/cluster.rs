//! Cluster sections of the config file and the resolved `ClusterProfile`
//! the worker connects with.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::registry::{LegacyRegistryAuth, ProtobufTopics, RegistrySettings, SchemaRegistryConfig};
use super::{Overrides, Secret, SecretSource};
use crate::model::{Acks, Compression, ProducerOptions};

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
    /// AWS MSK IAM: kafkaterm signs a token with the AWS credentials and
    /// hands it to librdkafka as an OAUTHBEARER token.
    #[serde(rename = "AWS_MSK_IAM")]
    AwsMskIam,
}

impl SaslMechanism {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
            SaslMechanism::AwsMskIam => "AWS_MSK_IAM",
        }
    }
}

/// The `[clusters.NAME.sasl]` table, checked when it is read so that a
/// mistake is reported with the file and line of the table.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "SaslFields")]
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
    /// OAUTHBEARER: a command whose output is the token (and its expiry).
    pub token_command: Option<String>,
    /// AWS_MSK_IAM: the AWS region of the cluster (e.g. `eu-west-1`).
    pub region: Option<String>,
    /// AWS_MSK_IAM: the AWS profile to take credentials from (default: the
    /// standard AWS credential chain).
    pub profile: Option<String>,
}

/// The fields of a `[sasl]` table as written, before the checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaslFields {
    mechanism: SaslMechanism,
    username: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    password_command: Option<String>,
    token_endpoint_url: Option<String>,
    scope: Option<String>,
    oauthbearer_config: Option<String>,
    token_command: Option<String>,
    region: Option<String>,
    profile: Option<String>,
}

impl TryFrom<SaslFields> for SaslConfig {
    type Error = String;

    fn try_from(f: SaslFields) -> Result<Self, String> {
        let s = SaslConfig {
            mechanism: f.mechanism,
            username: f.username,
            password: f.password,
            password_env: f.password_env,
            password_command: f.password_command,
            token_endpoint_url: f.token_endpoint_url,
            scope: f.scope,
            oauthbearer_config: f.oauthbearer_config,
            token_command: f.token_command,
            region: f.region,
            profile: f.profile,
        };
        s.check()?;
        Ok(s)
    }
}

/// Is this a plausible AWS region name (it becomes part of a host name)?
fn is_region_name(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 40
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !r.starts_with('-')
        && !r.ends_with('-')
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

    /// The combinations that make sense for each mechanism.
    fn check(&self) -> Result<(), String> {
        let mech = self.mechanism.as_str();
        let not_for = |field: &str, what: &str| {
            Err(format!(
                "sasl `{field}` does not apply to mechanism {mech} ({what})"
            ))
        };
        if self.mechanism != SaslMechanism::AwsMskIam {
            if self.region.is_some() {
                return not_for("region", "it is for AWS_MSK_IAM");
            }
            if self.profile.is_some() {
                return not_for("profile", "it is the AWS profile for AWS_MSK_IAM");
            }
        }
        if self.mechanism != SaslMechanism::OAuthBearer && self.token_command.is_some() {
            return not_for("token_command", "it is for OAUTHBEARER");
        }
        match self.mechanism {
            SaslMechanism::Plain | SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                if self.username.is_none() || !self.secret().is_set() {
                    return Err(format!(
                        "sasl mechanism {mech} needs `username` and one of password, password_env, password_command"
                    ));
                }
            }
            SaslMechanism::OAuthBearer => {
                let ways = [
                    self.token_endpoint_url.is_some(),
                    self.oauthbearer_config.is_some(),
                    self.token_command.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if ways == 0 {
                    return Err(
                        "sasl mechanism OAUTHBEARER needs one of token_command, token_endpoint_url (OIDC) or oauthbearer_config (unsecured test tokens)"
                            .into(),
                    );
                }
                if ways > 1 {
                    return Err(
                        "sasl mechanism OAUTHBEARER takes only one of token_command, token_endpoint_url, oauthbearer_config"
                            .into(),
                    );
                }
                if self.token_command.is_some() {
                    if self.username.is_some() || self.secret().is_set() || self.scope.is_some() {
                        return Err(
                            "sasl `token_command` gives the token itself: drop username, password*, scope"
                                .into(),
                        );
                    }
                    if self
                        .token_command
                        .as_deref()
                        .is_some_and(|c| c.trim().is_empty())
                    {
                        return Err("sasl `token_command` is empty".into());
                    }
                }
            }
            SaslMechanism::AwsMskIam => {
                let what = "AWS_MSK_IAM signs with your AWS credentials";
                for (field, given) in [
                    ("username", self.username.is_some()),
                    ("password", self.password.is_some()),
                    ("password_env", self.password_env.is_some()),
                    ("password_command", self.password_command.is_some()),
                    ("token_endpoint_url", self.token_endpoint_url.is_some()),
                    ("scope", self.scope.is_some()),
                    ("oauthbearer_config", self.oauthbearer_config.is_some()),
                ] {
                    if given {
                        return not_for(field, what);
                    }
                }
                match self.region.as_deref() {
                    None => {
                        return Err(
                            "sasl mechanism AWS_MSK_IAM needs `region`, the AWS region of the cluster (e.g. region = \"eu-west-1\")"
                                .into(),
                        );
                    }
                    Some(r) if !is_region_name(r) => {
                        return Err(format!(
                            "sasl `region` = \"{}\" is not an AWS region name (like eu-west-1)",
                            crate::sanitize::escape(&crate::sanitize::truncate_chars(r, 40))
                        ));
                    }
                    Some(_) => {}
                }
                if self.profile.as_deref().is_some_and(|p| p.trim().is_empty()) {
                    return Err("sasl `profile` is empty: leave it out to use the default AWS credential chain".into());
                }
            }
        }
        Ok(())
    }
}

/// Where OAUTHBEARER tokens come from when kafkaterm supplies them itself
/// (rather than librdkafka's OIDC or unsecured-JWT support).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// Sign an AWS MSK IAM token with the AWS credential chain.
    AwsMskIam {
        region: String,
        profile: Option<String>,
    },
    /// Run a command whose output is the token.
    Command { command: String },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::AwsMskIam { region, profile } => f
                .debug_struct("AwsMskIam")
                .field("region", region)
                .field("profile", profile)
                .finish(),
            // A command line may carry a secret of its own.
            TokenSource::Command { .. } => f.write_str("Command(***)"),
        }
    }
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
    /// The registry's URL, or a table with TLS files and credentials.
    pub schema_registry: Option<SchemaRegistryConfig>,
    pub schema_registry_username: Option<String>,
    pub schema_registry_password: Option<Secret>,
    pub schema_registry_password_env: Option<String>,
    /// Topics holding plain protobuf of local message types.
    #[serde(default)]
    pub protobuf: Vec<ProtobufTopics>,
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
    /// Seconds a partition's last stable offset may stay held below its
    /// high watermark before topic detail flags a likely stuck transaction
    /// (default 60).
    pub stuck_transaction_secs: Option<f64>,
    /// How long the topic list and topic detail wait for each partition
    /// leader's watermarks, in seconds (default 10); a leader that does not
    /// answer in time leaves only its own partitions' counts unknown.
    pub watermarks_timeout_secs: Option<f64>,
}

impl ClusterConfig {
    /// Does connecting run a command of the user's (a password or token
    /// command)? Such a command may prompt, so background checks skip it.
    #[must_use]
    pub fn runs_commands(&self) -> bool {
        self.sasl
            .as_ref()
            .is_some_and(|s| s.password_command.is_some() || s.token_command.is_some())
            || self
                .tls
                .as_ref()
                .is_some_and(|t| t.key_password_command.is_some())
            || self
                .schema_registry
                .as_ref()
                .is_some_and(|r| r.password_command.is_some() || r.token_command.is_some())
    }

    /// The flat `schema_registry_username` / `_password[_env]` keys.
    #[must_use]
    pub fn legacy_registry_auth(&self) -> LegacyRegistryAuth<'_> {
        LegacyRegistryAuth {
            username: self.schema_registry_username.as_ref(),
            password: self.schema_registry_password.as_ref(),
            password_env: self.schema_registry_password_env.as_ref(),
        }
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
    /// The produce response's LogAppendTime is not a real time (the mock
    /// answers 1234 ms after the epoch): delivery reports show the message's
    /// own timestamp instead.
    pub log_append_time: bool,
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
            log_append_time: true,
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
    pub schema_registry: Option<RegistrySettings>,
    /// Local protobuf types by topic pattern.
    pub protobuf: Vec<ProtobufTopics>,
    pub watch_groups: Vec<String>,
    /// librdkafka properties; values of secret-bearing keys are never shown.
    pub properties: Vec<(String, Secret)>,
    /// OAUTHBEARER tokens that kafkaterm fetches or signs itself (AWS MSK
    /// IAM, `token_command`); every client gets them in `kafka::client::create`.
    pub token_source: Option<TokenSource>,
    pub producer: ProducerDefaults,
    pub groups_refresh_secs: f64,
    pub topics_refresh_secs: f64,
    /// See `ClusterConfig::stuck_transaction_secs`.
    pub stuck_transaction_secs: f64,
    /// See `ClusterConfig::watermarks_timeout_secs`.
    pub watermarks_timeout_secs: f64,
    pub unsupported: Unsupported,
    /// Client ids and the like are prefixed with this.
    pub client_id: String,
}

impl ClusterProfile {
    /// Defaults from the cluster's `[producer]` section.
    #[must_use]
    pub fn producer_options(&self) -> ProducerOptions {
        let p = self;
        ProducerOptions {
            acks: p
                .producer
                .acks
                .as_deref()
                .and_then(|a| Acks::parse(a).ok())
                .unwrap_or_default(),
            compression: p
                .producer
                .compression
                .as_deref()
                .and_then(|c| Compression::parse(c).ok())
                .unwrap_or_default(),
            idempotent: p.producer.idempotence.unwrap_or(false),
        }
    }

    /// A bare profile for `-b` without a config section.
    #[must_use]
    pub fn adhoc(brokers: &str) -> Self {
        Self {
            name: brokers.to_string(),
            brokers: brokers.to_string(),
            read_only: false,
            production: false,
            schema_registry: None,
            protobuf: Vec::new(),
            watch_groups: Vec::new(),
            properties: Vec::new(),
            token_source: None,
            producer: ProducerDefaults::default(),
            groups_refresh_secs: 2.0,
            topics_refresh_secs: 10.0,
            stuck_transaction_secs: 60.0,
            watermarks_timeout_secs: 10.0,
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
        if let Some(r) = &c.schema_registry {
            let what = format!("cluster `{name}` schema_registry");
            p.schema_registry = Some(r.resolve(&what, &c.legacy_registry_auth())?);
        }
        p.protobuf = c.protobuf.clone();
        p.watch_groups = c.watch_groups.clone();
        p.producer = c.producer.clone();
        if let Some(s) = c.groups_refresh_secs {
            p.groups_refresh_secs = s.clamp(0.2, 3600.0);
        }
        if let Some(s) = c.topics_refresh_secs {
            p.topics_refresh_secs = s.clamp(0.5, 86_400.0);
        }
        if let Some(s) = c.stuck_transaction_secs {
            p.stuck_transaction_secs = s.clamp(1.0, 7.0 * 86_400.0);
        }
        if let Some(s) = c.watermarks_timeout_secs {
            p.watermarks_timeout_secs = s.clamp(0.5, 300.0);
        }
        let mut props: Vec<(String, Secret)> = Vec::new();
        let mut tls_on = false;
        if let Some(t) = &c.tls {
            tls_on = true;
            if let Some(ca) = &t.ca {
                props.push((
                    "ssl.ca.location".into(),
                    Secret::new(ca.display().to_string()),
                ));
            }
            if let Some(cert) = &t.cert {
                props.push((
                    "ssl.certificate.location".into(),
                    Secret::new(cert.display().to_string()),
                ));
            }
            if let Some(key) = &t.key {
                props.push((
                    "ssl.key.location".into(),
                    Secret::new(key.display().to_string()),
                ));
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
                    Secret::new("false"),
                ));
            }
        }
        if let Some(s) = &c.sasl {
            // MSK serves IAM only over TLS (port 9098), with public CAs.
            let tls = tls_on || s.mechanism == SaslMechanism::AwsMskIam;
            props.push((
                "security.protocol".into(),
                Secret::new(if tls { "SASL_SSL" } else { "SASL_PLAINTEXT" }),
            ));
            let mechanism = match s.mechanism {
                SaslMechanism::AwsMskIam => SaslMechanism::OAuthBearer,
                m => m,
            };
            props.push(("sasl.mechanism".into(), Secret::new(mechanism.as_str())));
            match s.mechanism {
                SaslMechanism::AwsMskIam => {
                    let Some(region) = s.region.clone() else {
                        bail!("cluster `{name}`: sasl mechanism AWS_MSK_IAM needs `region`");
                    };
                    p.token_source = Some(TokenSource::AwsMskIam {
                        region,
                        profile: s.profile.clone(),
                    });
                }
                SaslMechanism::OAuthBearer => {
                    let secret = s
                        .secret()
                        .resolve(&format!("cluster `{name}` sasl password"))?;
                    if let Some(command) = &s.token_command {
                        p.token_source = Some(TokenSource::Command {
                            command: command.clone(),
                        });
                    } else if let Some(url) = &s.token_endpoint_url {
                        props.push(("sasl.oauthbearer.method".into(), Secret::new("oidc")));
                        props.push((
                            "sasl.oauthbearer.token.endpoint.url".into(),
                            Secret::new(url.clone()),
                        ));
                        if let Some(u) = &s.username {
                            props.push((
                                "sasl.oauthbearer.client.id".into(),
                                Secret::new(u.clone()),
                            ));
                        }
                        if let Some(pw) = secret {
                            props.push(("sasl.oauthbearer.client.secret".into(), pw));
                        }
                        if let Some(scope) = &s.scope {
                            props.push((
                                "sasl.oauthbearer.scope".into(),
                                Secret::new(scope.clone()),
                            ));
                        }
                    } else if let Some(cfg) = &s.oauthbearer_config {
                        props.push(("sasl.oauthbearer.config".into(), Secret::new(cfg.clone())));
                        props.push((
                            "enable.sasl.oauthbearer.unsecure.jwt".into(),
                            Secret::new("true"),
                        ));
                    } else {
                        bail!(
                            "cluster `{name}`: OAUTHBEARER needs token_command, token_endpoint_url (OIDC) or oauthbearer_config"
                        );
                    }
                }
                SaslMechanism::Plain | SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                    let secret = s
                        .secret()
                        .resolve(&format!("cluster `{name}` sasl password"))?;
                    props.push((
                        "sasl.username".into(),
                        Secret::new(s.username.clone().unwrap_or_default()),
                    ));
                    props.push(("sasl.password".into(), secret.unwrap_or_default()));
                }
            }
        } else if tls_on {
            props.push(("security.protocol".into(), Secret::new("SSL")));
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
        slot.1 = Secret::new(v);
    } else {
        props.push((k.to_string(), Secret::new(v)));
    }
}
