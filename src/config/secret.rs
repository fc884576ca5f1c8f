//! Secrets: values that never reach the screen, logs or errors, and where
//! they come from (inline, an environment variable or a command).

use std::fmt;
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

impl SecretSource {
    pub(crate) fn is_set(&self) -> bool {
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

/// Does this librdkafka property carry a secret? (Config validation and
/// client construction both ask.)
#[must_use]
pub fn is_secret_property(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k == "ssl.key.pem"
        || k == "ssl_key"
        || k.contains("oauthbearer.config")
        || k.contains("jaas")
        || k.ends_with(".token")
}
