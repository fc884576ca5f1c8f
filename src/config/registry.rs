//! A cluster's Schema Registry (`schema_registry = "URL"` or a
//! `[clusters.NAME.schema_registry]` table with TLS files and credentials)
//! and its local protobuf types (`[[clusters.NAME.protobuf]]`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{Secret, SecretSource};

/// How long one registry request may take unless `timeout_secs` says otherwise.
pub const DEFAULT_REGISTRY_TIMEOUT: Duration = Duration::from_secs(10);

/// The `schema_registry` setting as written: a URL, or a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaRegistryConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_command: Option<String>,
    /// Bearer token, from one of three sources.
    pub token: Option<Secret>,
    pub token_env: Option<String>,
    pub token_command: Option<String>,
    /// CA certificate(s) (PEM) that signed the registry's certificate;
    /// without it the system's roots and the Mozilla roots are trusted.
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) and its unencrypted key, for mutual TLS.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub timeout_secs: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    url: String,
    username: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    password_command: Option<String>,
    token: Option<Secret>,
    token_env: Option<String>,
    token_command: Option<String>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    timeout_secs: Option<f64>,
}

impl<'de> Deserialize<'de> for SchemaRegistryConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SchemaRegistryConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the registry's URL, or a table with `url`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(SchemaRegistryConfig {
                    url: s.to_string(),
                    ..Default::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SchemaRegistryConfig {
                    url: t.url,
                    username: t.username,
                    password: t.password,
                    password_env: t.password_env,
                    password_command: t.password_command,
                    token: t.token,
                    token_env: t.token_env,
                    token_command: t.token_command,
                    ca: t.ca,
                    cert: t.cert,
                    key: t.key,
                    timeout_secs: t.timeout_secs,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The older flat credential keys on the cluster, still accepted.
#[derive(Debug, Clone, Default)]
pub struct LegacyRegistryAuth<'a> {
    pub username: Option<&'a String>,
    pub password: Option<&'a Secret>,
    pub password_env: Option<&'a String>,
}

/// Where a bearer token comes from. A command is run when a token is first
/// needed and again when the registry refuses the one it gave.
#[derive(Clone, PartialEq, Eq)]
pub enum BearerToken {
    Static(Secret),
    Command(Secret),
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BearerToken::Static(_) => f.write_str("Static(***)"),
            BearerToken::Command(_) => f.write_str("Command(***)"),
        }
    }
}

/// How kafkaterm authenticates to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RegistryAuth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Bearer(BearerToken),
}

/// A resolved registry: what the client connects with. The URL never
/// holds credentials (user info in it becomes basic auth).
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySettings {
    pub url: String,
    pub auth: RegistryAuth,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub timeout: Duration,
}

impl RegistrySettings {
    /// A registry at `url` without credentials or TLS files.
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            auth: RegistryAuth::None,
            ca: None,
            cert: None,
            key: None,
            timeout: DEFAULT_REGISTRY_TIMEOUT,
        }
    }
}

fn count(flags: &[bool]) -> usize {
    flags.iter().filter(|b| **b).count()
}

/// Split `scheme://user:pass@host/...` into the URL without user info and
/// the (percent-decoded) credentials.
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    (
        format!("{scheme}://{host}{path}"),
        Some((dec(user), dec(pass))),
    )
}

impl SchemaRegistryConfig {
    /// Static checks, at load time: `what` names the setting in errors.
    pub fn check(&self, what: &str, legacy: &LegacyRegistryAuth<'_>) -> Result<()> {
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        let https = lower.starts_with("https://");
        if !https && !lower.starts_with("http://") {
            bail!("{what}: the URL must start with http:// or https://");
        }
        let host = url.split_once("://").map_or("", |(_, rest)| rest);
        if host.is_empty() || host.starts_with('/') {
            bail!("{what}: the URL has no host");
        }
        if !https && (self.ca.is_some() || self.cert.is_some() || self.key.is_some()) {
            bail!("{what}: ca, cert and key need an https:// URL");
        }
        if self.cert.is_some() != self.key.is_some() {
            bail!("{what}: a client certificate needs both `cert` and `key`");
        }
        let passwords = count(&[
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_command.is_some(),
        ]);
        if passwords > 1 {
            bail!("{what}: give only one of password, password_env, password_command");
        }
        let tokens = count(&[
            self.token.is_some(),
            self.token_env.is_some(),
            self.token_command.is_some(),
        ]);
        if tokens > 1 {
            bail!("{what}: give only one of token, token_env, token_command");
        }
        let legacy_given =
            legacy.username.is_some() || legacy.password.is_some() || legacy.password_env.is_some();
        let table_basic = self.username.is_some() || passwords > 0;
        if legacy_given && table_basic {
            bail!(
                "{what}: credentials are given both in the table and as schema_registry_username/password on the cluster: keep one"
            );
        }
        if passwords > 0 && self.username.is_none() {
            bail!("{what}: a password needs `username`");
        }
        if (legacy.password.is_some() || legacy.password_env.is_some()) && legacy.username.is_none()
        {
            bail!("{what}: schema_registry_password needs schema_registry_username");
        }
        if tokens > 0 && (table_basic || legacy_given || split_userinfo(url).1.is_some()) {
            bail!("{what}: use either a bearer token or a username and password, not both");
        }
        if let Some(t) = self.timeout_secs
            && !(t > 0.0 && t <= 3600.0)
        {
            bail!("{what}: timeout_secs must be between 0 and 3600");
        }
        Ok(())
    }

    /// Resolve secrets (environment variables and password commands run
    /// now; a token command runs when a token is needed).
    pub fn resolve(&self, what: &str, legacy: &LegacyRegistryAuth<'_>) -> Result<RegistrySettings> {
        self.check(what, legacy)?;
        let (url, userinfo) = split_userinfo(self.url.trim());
        let mut s = RegistrySettings::new(&url);
        s.ca.clone_from(&self.ca);
        s.cert.clone_from(&self.cert);
        s.key.clone_from(&self.key);
        if let Some(t) = self.timeout_secs {
            s.timeout = Duration::from_secs_f64(t);
        }
        let basic = if let Some(user) = &self.username {
            let src = SecretSource {
                password: self.password.clone(),
                password_env: self.password_env.clone(),
                password_command: self.password_command.clone(),
            };
            Some((user.clone(), src))
        } else if let Some(user) = legacy.username {
            let src = SecretSource {
                password: legacy.password.cloned(),
                password_env: legacy.password_env.cloned(),
                password_command: None,
            };
            Some((user.clone(), src))
        } else {
            None
        };
        if let Some((user, src)) = basic {
            let password = src
                .resolve(&format!("{what} password"))?
                .unwrap_or_default();
            s.auth = RegistryAuth::Basic {
                username: user,
                password,
            };
        } else if let Some((user, pass)) = userinfo {
            s.auth = RegistryAuth::Basic {
                username: user,
                password: Secret::new(pass),
            };
        } else if let Some(t) = &self.token {
            s.auth = RegistryAuth::Bearer(BearerToken::Static(t.clone()));
        } else if let Some(var) = &self.token_env {
            match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => {
                    s.auth = RegistryAuth::Bearer(BearerToken::Static(Secret::new(v.trim())));
                }
                Ok(_) => bail!("{what} token: environment variable {var} is empty"),
                Err(_) => bail!("{what} token: environment variable {var} is not set"),
            }
        } else if let Some(cmd) = &self.token_command {
            s.auth = RegistryAuth::Bearer(BearerToken::Command(Secret::new(cmd.clone())));
        }
        Ok(s)
    }

    /// Does the file itself hold a secret?
    #[must_use]
    pub fn has_inline_secret(&self) -> bool {
        self.password.is_some() || self.token.is_some() || split_userinfo(&self.url).1.is_some()
    }
}

/// `[[clusters.NAME.protobuf]]`: topics whose keys and/or values are plain
/// protobuf (no registry framing) of a message type found in local `.proto`
/// files or a compiled descriptor set.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProtobufTopics {
    /// Topic names or glob patterns (`orders.*`, `payments-?`, `[a-c]*`).
    pub topics: Vec<String>,
    /// `.proto` files to compile.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Import search path for `files` (default: each file's directory).
    #[serde(default)]
    pub include: Vec<PathBuf>,
    /// A `FileDescriptorSet` (`protoc --include_imports -o FILE`, `buf build -o FILE`).
    pub descriptor_set: Option<PathBuf>,
    /// Fully qualified message type of the key.
    pub key: Option<String>,
    /// Fully qualified message type of the value.
    pub value: Option<String>,
}

impl ProtobufTopics {
    /// Static checks at load time.
    pub fn check(&self, what: &str) -> Result<()> {
        if self.topics.is_empty() {
            bail!("{what}: `topics` is empty");
        }
        for t in &self.topics {
            if let Err(e) = glob::Pattern::new(t) {
                bail!(
                    "{what}: topic pattern `{}` is not a valid glob: {e}",
                    crate::sanitize::escape(t)
                );
            }
        }
        match (self.files.is_empty(), self.descriptor_set.is_some()) {
            (true, false) => bail!("{what}: give `files` (.proto) or `descriptor_set`"),
            (false, true) => bail!("{what}: give either `files` or `descriptor_set`, not both"),
            _ => {}
        }
        if !self.include.is_empty() && self.files.is_empty() {
            bail!("{what}: `include` only applies to `files`");
        }
        if self.key.is_none() && self.value.is_none() {
            bail!("{what}: name the message type of the `value`, the `key` or both");
        }
        Ok(())
    }

    /// Does this entry cover `topic`?
    #[must_use]
    pub fn matches(&self, topic: &str) -> bool {
        self.topics
            .iter()
            .any(|p| glob::Pattern::new(p).is_ok_and(|g| g.matches(topic)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct W {
        schema_registry: SchemaRegistryConfig,
    }

    fn parse(src: &str) -> std::result::Result<SchemaRegistryConfig, toml::de::Error> {
        toml::from_str::<W>(src).map(|w| w.schema_registry)
    }

    #[test]
    fn string_and_table_forms() {
        let c = parse("schema_registry = \"https://r:8081/\"").unwrap();
        assert_eq!(c.url, "https://r:8081/");
        let s = c.resolve("r", &LegacyRegistryAuth::default()).unwrap();
        assert_eq!(s.url, "https://r:8081");
        assert_eq!(s.auth, RegistryAuth::None);
        assert_eq!(s.timeout, DEFAULT_REGISTRY_TIMEOUT);

        let c = parse(
            "[schema_registry]\nurl = \"https://r\"\nca = \"/ca.pem\"\ncert = \"/c.pem\"\nkey = \"/k.pem\"\ntoken = \"t0k\"\ntimeout_secs = 2.5\n",
        )
        .unwrap();
        let s = c.resolve("r", &LegacyRegistryAuth::default()).unwrap();
        assert_eq!(s.ca.as_deref(), Some(std::path::Path::new("/ca.pem")));
        assert_eq!(
            s.auth,
            RegistryAuth::Bearer(BearerToken::Static(Secret::new("t0k")))
        );
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert!(!format!("{s:?}").contains("t0k"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse("[schema_registry]\nurl = \"https://r\"\ncacert = \"/x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cacert"), "{e}");
        let e = parse("schema_registry = 5").unwrap_err().to_string();
        assert!(e.contains("URL"), "{e}");
    }

    #[test]
    fn credentials_from_the_url_become_basic_auth() {
        let c = parse("schema_registry = \"https://ops:p%40ss@r:8081/ctx\"").unwrap();
        assert!(c.has_inline_secret());
        let s = c.resolve("r", &LegacyRegistryAuth::default()).unwrap();
        assert_eq!(s.url, "https://r:8081/ctx");
        assert_eq!(
            s.auth,
            RegistryAuth::Basic {
                username: "ops".into(),
                password: Secret::new("p@ss")
            }
        );
        assert!(!format!("{s:?}").contains("p@ss"));
    }

    #[test]
    fn contradictions_are_refused() {
        let none = LegacyRegistryAuth::default();
        for (src, needle) in [
            ("schema_registry = \"registry:8081\"", "http://"),
            (
                "[schema_registry]\nurl = \"http://r\"\nca = \"/ca\"\n",
                "https://",
            ),
            (
                "[schema_registry]\nurl = \"https://r\"\ncert = \"/c\"\n",
                "both `cert` and `key`",
            ),
            (
                "[schema_registry]\nurl = \"https://r\"\ntoken = \"a\"\ntoken_env = \"B\"\n",
                "only one of token",
            ),
            (
                "[schema_registry]\nurl = \"https://r\"\npassword = \"a\"\n",
                "needs `username`",
            ),
            (
                "[schema_registry]\nurl = \"https://r\"\nusername = \"u\"\npassword = \"p\"\ntoken = \"t\"\n",
                "not both",
            ),
            (
                "[schema_registry]\nurl = \"https://r\"\ntimeout_secs = 0\n",
                "timeout_secs",
            ),
        ] {
            let c = parse(src).unwrap();
            let e = c.check("cluster `a` schema_registry", &none).unwrap_err();
            assert!(e.to_string().contains(needle), "{src}: {e}");
            assert!(!e.to_string().contains("\"p\""), "{e}");
        }
        let user = "u".to_string();
        let c = parse("[schema_registry]\nurl = \"https://r\"\nusername = \"v\"\n").unwrap();
        let legacy = LegacyRegistryAuth {
            username: Some(&user),
            ..Default::default()
        };
        assert!(
            c.check("x", &legacy)
                .unwrap_err()
                .to_string()
                .contains("keep one")
        );
    }

    #[test]
    fn token_sources() {
        let c = parse("[schema_registry]\nurl = \"https://r\"\ntoken_command = \"echo tok\"\n")
            .unwrap();
        let s = c.resolve("x", &LegacyRegistryAuth::default()).unwrap();
        assert!(matches!(
            s.auth,
            RegistryAuth::Bearer(BearerToken::Command(_))
        ));
        assert!(!format!("{s:?}").contains("echo tok"));
        let c = parse(
            "[schema_registry]\nurl = \"https://r\"\ntoken_env = \"KT_SURELY_UNSET_TOKEN\"\n",
        )
        .unwrap();
        let e = c.resolve("x", &LegacyRegistryAuth::default()).unwrap_err();
        assert!(e.to_string().contains("KT_SURELY_UNSET_TOKEN"), "{e}");
    }

    #[test]
    fn protobuf_topics_check_and_match() {
        let p = ProtobufTopics {
            topics: vec!["orders.*".into(), "pay-?".into()],
            files: vec!["/p/a.proto".into()],
            include: vec![],
            descriptor_set: None,
            key: None,
            value: Some("acme.Order".into()),
        };
        p.check("x").unwrap();
        assert!(p.matches("orders.eu"));
        assert!(p.matches("pay-1"));
        assert!(!p.matches("payments"));
        let mut bad = p.clone();
        bad.value = None;
        assert!(
            bad.check("x")
                .unwrap_err()
                .to_string()
                .contains("message type")
        );
        let mut bad = p.clone();
        bad.descriptor_set = Some("/d.pb".into());
        assert!(bad.check("x").unwrap_err().to_string().contains("not both"));
        let mut bad = p;
        bad.topics = vec!["[".into()];
        assert!(bad.check("x").unwrap_err().to_string().contains("glob"));
    }
}
