//! What a producer sends and how: acks, compression, idempotence, and one
//! message to produce. Plain data shared by the UI, templates and the worker.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::model::Header;
use crate::sanitize;

/// Producer acknowledgement level. Stored as librdkafka spells it (`0`,
/// `1`, `all`); the aliases `parse` accepts are read too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Acks {
    #[serde(rename = "0", alias = "none")]
    Zero,
    #[default]
    #[serde(rename = "1", alias = "leader")]
    One,
    #[serde(rename = "all", alias = "-1")]
    All,
}

impl Acks {
    pub const ALL: [Acks; 3] = [Acks::Zero, Acks::One, Acks::All];

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "0" | "none" => Ok(Acks::Zero),
            "1" | "leader" => Ok(Acks::One),
            "all" | "-1" => Ok(Acks::All),
            other => bail!(
                "`{}` is not an acks level (0, 1 or all)",
                sanitize::escape(other)
            ),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

/// Compression codec, stored by its librdkafka name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            other => bail!(
                "`{}` is not a compression codec (none, gzip, snappy, lz4, zstd)",
                sanitize::escape(other)
            ),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Producer send options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProducerOptions {
    pub acks: Acks,
    pub compression: Compression,
    pub idempotent: bool,
}

impl ProducerOptions {
    /// librdkafka properties for these options.
    #[must_use]
    pub fn properties(&self) -> [(&'static str, &'static str); 3] {
        [
            ("acks", self.acks.as_str()),
            ("compression.type", self.compression.as_str()),
            (
                "enable.idempotence",
                if self.idempotent { "true" } else { "false" },
            ),
        ]
    }

    /// Idempotence requires acks=all; librdkafka refuses the combination
    /// otherwise, so say it before sending.
    pub fn validate(&self) -> Result<()> {
        if self.idempotent && self.acks != Acks::All {
            bail!("idempotence requires acks=all");
        }
        Ok(())
    }
}

/// A composer send's transaction mode: none, or one transaction per send
/// that ends in a commit or an abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxnMode {
    #[default]
    Off,
    Commit,
    Abort,
}

impl TxnMode {
    pub const ALL: [TxnMode; 3] = [TxnMode::Off, TxnMode::Commit, TxnMode::Abort];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TxnMode::Off => "off",
            TxnMode::Commit => "commit",
            TxnMode::Abort => "abort",
        }
    }
}

/// One transactional send: the `transactional.id` and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnSpec {
    pub transactional_id: String,
    /// Commit when every message was delivered; `false`: abort on purpose.
    pub commit: bool,
    /// How long each coordinator call (init, commit, abort) may take.
    pub timeout_ms: u64,
}

/// How long a coordinator call may take unless told otherwise.
pub const TXN_TIMEOUT_MS: u64 = 30_000;

impl TxnSpec {
    #[must_use]
    pub fn new(transactional_id: impl Into<String>, commit: bool) -> Self {
        Self {
            transactional_id: transactional_id.into(),
            commit,
            timeout_ms: TXN_TIMEOUT_MS,
        }
    }
}

/// A `transactional.id` for a console's hand-made transactions:
/// `kafkaterm-<host>-<8 hex digits>`, new for each call.
#[must_use]
pub fn generated_transactional_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("kafkaterm-{host}-{:08x}", rand::random::<u32>())
}

/// Check a given `transactional.id` (Kafka takes any non-empty string;
/// control characters would only confuse the reports).
pub fn check_transactional_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        bail!("the transactional.id is empty");
    }
    if id.chars().any(char::is_control) {
        bail!("the transactional.id contains control characters");
    }
    if id.len() > 249 {
        bail!("the transactional.id is longer than 249 bytes");
    }
    Ok(())
}

/// How a transactional send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnOutcome {
    Committed,
    /// Aborted as asked.
    Aborted,
    /// Aborted because a message failed, the send was cancelled or the
    /// console left it (the reason is the send's first error).
    AbortedOnFailure,
    /// No transaction was opened (the coordinator refused or did not answer).
    NotStarted,
    /// The commit or abort itself failed: the coordinator aborts the
    /// transaction when `transaction.timeout.ms` expires.
    Unresolved,
}

impl TxnOutcome {
    /// In a report: "transaction committed", ...
    #[must_use]
    pub fn words(&self) -> &'static str {
        match self {
            TxnOutcome::Committed => "transaction committed",
            TxnOutcome::Aborted => "transaction aborted (as asked)",
            TxnOutcome::AbortedOnFailure => "transaction aborted",
            TxnOutcome::NotStarted => "no transaction started",
            TxnOutcome::Unresolved => {
                "transaction not resolved: the coordinator aborts it at transaction.timeout.ms"
            }
        }
    }
}

/// One message to produce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProduceRequest {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
    /// ms since the epoch; `None`: now.
    pub timestamp: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_and_compression() {
        assert_eq!(Acks::parse("all").unwrap(), Acks::All);
        assert_eq!(Acks::parse("0").unwrap(), Acks::Zero);
        assert!(Acks::parse("2").is_err());
        assert_eq!(Compression::parse("zstd").unwrap(), Compression::Zstd);
        assert!(Compression::parse("brotli").is_err());
        let o = ProducerOptions {
            acks: Acks::One,
            compression: Compression::None,
            idempotent: true,
        };
        assert!(o.validate().is_err());
    }

    #[test]
    fn stored_as_librdkafka_spells_them() {
        for a in Acks::ALL {
            let s = serde_json::to_string(&a).unwrap();
            assert_eq!(s, format!("\"{}\"", a.as_str()));
            assert_eq!(serde_json::from_str::<Acks>(&s).unwrap(), a);
        }
        for c in Compression::ALL {
            let s = serde_json::to_string(&c).unwrap();
            assert_eq!(s, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Compression>(&s).unwrap(), c);
        }
        assert_eq!(serde_json::from_str::<Acks>("\"-1\"").unwrap(), Acks::All);
        assert!(serde_json::from_str::<Acks>("\"2\"").is_err());
        assert!(serde_json::from_str::<Compression>("\"brotli\"").is_err());
    }
}
