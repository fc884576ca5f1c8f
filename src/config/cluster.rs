//! Cluster sections of the config file and the resolved `ClusterProfile`
//! the worker connects with.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::registry::{LegacyRegistryAuth, ProtobufTopics, RegistrySettings, SchemaRegistryConfig};
use super::sasl::{SaslConfig, SaslMechanism, TokenSource};
use super::{Overrides, Secret, SecretSource};
use crate::model::{Acks, Compression, ProducerOptions};

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

    /// Build the profile for a config section: the plain settings, then the
    /// librdkafka properties of TLS, SASL and the section's own
    /// `properties` (which win), in that order.
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
        p.set_intervals(c);
        let mut props = match &c.tls {
            Some(t) => tls_props(name, t)?,
            None => Vec::new(),
        };
        let tls_on = c.tls.is_some();
        if let Some(s) = &c.sasl {
            p.token_source = sasl_props(name, s, tls_on, &mut props)?;
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

    /// The section's refresh intervals and timeouts, each clamped to a
    /// sensible range.
    fn set_intervals(&mut self, c: &ClusterConfig) {
        if let Some(s) = c.groups_refresh_secs {
            self.groups_refresh_secs = s.clamp(0.2, 3600.0);
        }
        if let Some(s) = c.topics_refresh_secs {
            self.topics_refresh_secs = s.clamp(0.5, 86_400.0);
        }
        if let Some(s) = c.stuck_transaction_secs {
            self.stuck_transaction_secs = s.clamp(1.0, 7.0 * 86_400.0);
        }
        if let Some(s) = c.watermarks_timeout_secs {
            self.watermarks_timeout_secs = s.clamp(0.5, 300.0);
        }
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

/// The librdkafka properties of a `[tls]` table (its key password resolved).
fn tls_props(name: &str, t: &TlsConfig) -> Result<Vec<(String, Secret)>> {
    let mut props = Vec::new();
    for (key, path) in [
        ("ssl.ca.location", &t.ca),
        ("ssl.certificate.location", &t.cert),
        ("ssl.key.location", &t.key),
    ] {
        if let Some(path) = path {
            props.push((key.into(), Secret::new(path.display().to_string())));
        }
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
    Ok(props)
}

/// Push the librdkafka properties of a `[sasl]` table (its secrets
/// resolved); returns where kafkaterm itself gets OAUTHBEARER tokens, if it
/// does.
fn sasl_props(
    name: &str,
    s: &SaslConfig,
    tls_on: bool,
    props: &mut Vec<(String, Secret)>,
) -> Result<Option<TokenSource>> {
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
            Ok(Some(TokenSource::AwsMskIam {
                region,
                profile: s.profile.clone(),
            }))
        }
        SaslMechanism::OAuthBearer => oauthbearer_props(name, s, props),
        SaslMechanism::Plain | SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let secret = s
                .secret()
                .resolve(&format!("cluster `{name}` sasl password"))?;
            props.push((
                "sasl.username".into(),
                Secret::new(s.username.clone().unwrap_or_default()),
            ));
            props.push(("sasl.password".into(), secret.unwrap_or_default()));
            Ok(None)
        }
    }
}

/// OAUTHBEARER: a token command of kafkaterm's, librdkafka's OIDC client, or
/// its unsecured test tokens.
fn oauthbearer_props(
    name: &str,
    s: &SaslConfig,
    props: &mut Vec<(String, Secret)>,
) -> Result<Option<TokenSource>> {
    let secret = s
        .secret()
        .resolve(&format!("cluster `{name}` sasl password"))?;
    if let Some(command) = &s.token_command {
        return Ok(Some(TokenSource::Command {
            command: command.clone(),
        }));
    }
    if let Some(url) = &s.token_endpoint_url {
        props.push(("sasl.oauthbearer.method".into(), Secret::new("oidc")));
        props.push((
            "sasl.oauthbearer.token.endpoint.url".into(),
            Secret::new(url.clone()),
        ));
        if let Some(u) = &s.username {
            props.push(("sasl.oauthbearer.client.id".into(), Secret::new(u.clone())));
        }
        if let Some(pw) = secret {
            props.push(("sasl.oauthbearer.client.secret".into(), pw));
        }
        if let Some(scope) = &s.scope {
            props.push(("sasl.oauthbearer.scope".into(), Secret::new(scope.clone())));
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
    Ok(None)
}
