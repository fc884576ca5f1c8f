//! A small Kafka protocol client of our own (the `kafka-protocol` crate's
//! messages over a blocking TCP connection) for the group requests
//! librdkafka does not make or does not hand over: ListGroups v5 with every
//! group type, ConsumerGroupDescribe (group, assignment and member epochs)
//! and ShareGroupDescribe. See ARCHITECTURE.md, "Group protocols".
//!
//! It speaks PLAINTEXT and SASL_PLAINTEXT with PLAIN, with the cluster's
//! own `security.protocol`, `sasl.mechanism(s)`, `sasl.username` and
//! `sasl.password`; for anything else (TLS, SCRAM, OAUTHBEARER, GSSAPI) it
//! says so in one line ([`WireError::Unsupported`]) and the caller keeps
//! the librdkafka path. Blocking: call from `spawn_blocking`.

mod conn;
mod describe;
mod list;

pub use conn::{Conn, Security};
pub use describe::{DescribeOutcome, describe_consumer_groups, describe_share_groups};
pub use list::{TypedGroup, TypedListing, list_typed};

/// Why a request of ours could not be made or answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// This client cannot speak to the cluster (security it lacks) or the
    /// broker lacks the API or version: the reason, in one line.
    #[error("{0}")]
    Unsupported(String),
    /// The connection failed, timed out or the answer did not decode.
    #[error("{0}")]
    Failed(String),
}

/// Kafka's name for an error code we meet here (others as the number).
#[must_use]
pub fn code_name(code: i16) -> String {
    match code {
        0 => "NONE".into(),
        3 => "UNKNOWN_TOPIC_OR_PARTITION".into(),
        14 => "COORDINATOR_LOAD_IN_PROGRESS".into(),
        15 => "COORDINATOR_NOT_AVAILABLE".into(),
        16 => "NOT_COORDINATOR".into(),
        29 => "TOPIC_AUTHORIZATION_FAILED".into(),
        30 => "GROUP_AUTHORIZATION_FAILED".into(),
        31 => "CLUSTER_AUTHORIZATION_FAILED".into(),
        35 => "UNSUPPORTED_VERSION".into(),
        58 => "SASL_AUTHENTICATION_FAILED".into(),
        69 => "GROUP_ID_NOT_FOUND".into(),
        other => format!("error {other}"),
    }
}
