//! The `[clusters.NAME.sasl]` table: the mechanisms, the checks of which
//! fields go with which mechanism, and where OAUTHBEARER tokens come from.

use serde::Deserialize;

use super::{Secret, SecretSource};

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

/// A `[sasl]` table whose fields do not fit its mechanism.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("sasl `{field}` does not apply to mechanism {mechanism} ({why})")]
    NotFor {
        field: &'static str,
        mechanism: &'static str,
        why: &'static str,
    },
    #[error(
        "sasl mechanism {0} needs `username` and one of password, password_env, password_command"
    )]
    NeedsPassword(&'static str),
    #[error(
        "sasl mechanism OAUTHBEARER needs one of token_command, token_endpoint_url (OIDC) or oauthbearer_config (unsecured test tokens)"
    )]
    NoTokenSource,
    #[error(
        "sasl mechanism OAUTHBEARER takes only one of token_command, token_endpoint_url, oauthbearer_config"
    )]
    TokenSources,
    #[error("sasl `token_command` gives the token itself: drop username, password*, scope")]
    TokenCommandWithCredentials,
    #[error("sasl `token_command` is empty")]
    EmptyTokenCommand,
    #[error(
        "sasl mechanism AWS_MSK_IAM needs `region`, the AWS region of the cluster (e.g. region = \"eu-west-1\")"
    )]
    NoRegion,
    /// The region as written, escaped and cut for one line.
    #[error("sasl `region` = \"{0}\" is not an AWS region name (like eu-west-1)")]
    BadRegion(String),
    #[error("sasl `profile` is empty: leave it out to use the default AWS credential chain")]
    EmptyProfile,
}

impl TryFrom<SaslFields> for SaslConfig {
    type Error = SaslError;

    fn try_from(f: SaslFields) -> Result<Self, SaslError> {
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
    fn check(&self) -> Result<(), SaslError> {
        let mech = self.mechanism.as_str();
        let not_for = |field: &'static str, why: &'static str| {
            Err(SaslError::NotFor {
                field,
                mechanism: mech,
                why,
            })
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
                    return Err(SaslError::NeedsPassword(mech));
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
                    return Err(SaslError::NoTokenSource);
                }
                if ways > 1 {
                    return Err(SaslError::TokenSources);
                }
                if self.token_command.is_some() {
                    if self.username.is_some() || self.secret().is_set() || self.scope.is_some() {
                        return Err(SaslError::TokenCommandWithCredentials);
                    }
                    if self
                        .token_command
                        .as_deref()
                        .is_some_and(|c| c.trim().is_empty())
                    {
                        return Err(SaslError::EmptyTokenCommand);
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
                        return Err(SaslError::NoRegion);
                    }
                    Some(r) if !is_region_name(r) => {
                        return Err(SaslError::BadRegion(
                            crate::sanitize::escape(&crate::sanitize::truncate_chars(r, 40))
                                .into_owned(),
                        ));
                    }
                    Some(_) => {}
                }
                if self.profile.as_deref().is_some_and(|p| p.trim().is_empty()) {
                    return Err(SaslError::EmptyProfile);
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
