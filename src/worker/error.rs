//! The worker's error: what kind of failure (so the UI can choose its words
//! and colour without reading text) and the plain words to show. Carried in
//! the protocol; no rdkafka type in it.

/// What went wrong, as far as the UI needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer in time.
    Timeout,
    /// The cluster does not offer the operation (an API it refuses, an old
    /// broker, the demo's mock cluster).
    Unsupported,
    /// Authentication failed or the principal is not authorized.
    Auth,
    /// The broker answered with an error; the Kafka/librdkafka error code.
    Broker(i32),
    /// The connection to the brokers, or a local file.
    Io,
    /// Refused by a rule: the group is not Empty, read-only mode.
    Refused,
    /// The topic does not exist (or is not visible to this principal).
    UnknownTopic,
    /// What was asked for does not exist (a registry subject, version or
    /// schema).
    NotFound,
    /// Anything else: a bug, bad input.
    Internal,
}

/// A failed worker request: its kind and a terminal-safe, secret-free
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WorkerError {
    pub kind: ErrorKind,
    pub message: String,
}

impl WorkerError {
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    /// Anything without a more precise kind.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// A change refused by kafkaterm's own rules (for example resetting a
    /// group that is not Empty).
    #[must_use]
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }
    /// The one refusal of a write on a read-only cluster, wherever the
    /// write is asked for.
    #[must_use]
    pub fn read_only(cluster: &str) -> Self {
        Self::refused(format!(
            "read-only mode: cluster {} does not allow writes",
            crate::sanitize::escape(cluster)
        ))
    }
    #[must_use]
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    #[must_use]
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    /// A topic that the cluster does not know.
    #[must_use]
    pub fn unknown_topic(topic: &str) -> Self {
        Self::new(
            ErrorKind::UnknownTopic,
            format!("unknown topic {}", crate::sanitize::escape(topic)),
        )
    }
    /// The same kind, the message prefixed with what was being done.
    #[must_use]
    pub fn context(self, what: &str) -> Self {
        Self {
            kind: self.kind,
            message: format!("{what}: {}", self.message),
        }
    }
    /// Is this worth a warning rather than an error (the cluster simply does
    /// not offer it)?
    #[must_use]
    pub fn is_unsupported(&self) -> bool {
        self.kind == ErrorKind::Unsupported
    }
}

/// Refuse a write when the cluster is read-only (the one gate, see
/// [`WorkerError::read_only`]).
pub fn check_writable(profile: &crate::config::ClusterProfile) -> Result<(), WorkerError> {
    if profile.read_only {
        return Err(WorkerError::read_only(&profile.name));
    }
    Ok(())
}

/// A [`WorkerError`] of kind `Internal` from `format!` arguments.
#[macro_export]
macro_rules! werr {
    ($($arg:tt)*) => {
        $crate::worker::error::WorkerError::internal(format!($($arg)*))
    };
}

/// A Schema Registry failure keeps its kind: credentials are `Auth`, a
/// missing subject or schema `NotFound`, TLS, connection and certificate
/// files and answers that are not a registry's `Io`, an unset registry
/// `Unsupported`; a bad schema or value is `Internal` (bad input).
impl From<crate::registry::RegistryError> for WorkerError {
    fn from(e: crate::registry::RegistryError) -> Self {
        use crate::registry::{HttpErrorKind as H, RegistryErrorKind as R};
        let kind = match e.kind() {
            R::NotConfigured => ErrorKind::Unsupported,
            R::Http(H::Auth) => ErrorKind::Auth,
            R::Http(H::Timeout) => ErrorKind::Timeout,
            R::Http(H::NotFound) => ErrorKind::NotFound,
            R::Http(H::Tls | H::Unreachable | H::File | H::BadAnswer) | R::BadAnswer => {
                ErrorKind::Io
            }
            R::Http(H::Config) | R::BadSchema | R::BadInput => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

/// A librdkafka error as a [`WorkerError`]: the kind from its code, the
/// message in plain words without secrets ([`explain`]).
#[must_use]
pub fn classify(e: &rdkafka::error::KafkaError) -> WorkerError {
    let kind = crate::kafka::client::error_code(e).map_or(ErrorKind::Internal, kind_of);
    WorkerError::new(kind, crate::kafka::client::explain(e))
}

/// A broker or librdkafka error code as a [`WorkerError`] in plain words.
#[must_use]
pub fn from_code(code: rdkafka::types::RDKafkaErrorCode) -> WorkerError {
    WorkerError::new(
        kind_of(code),
        crate::kafka::client::plain_words(code).map_or_else(
            || crate::sanitize::escape(&code.to_string()).into_owned(),
            str::to_string,
        ),
    )
}

/// The kind of a librdkafka error code.
#[must_use]
pub fn kind_of(code: rdkafka::types::RDKafkaErrorCode) -> ErrorKind {
    use rdkafka::types::RDKafkaErrorCode as C;
    match code {
        C::RequestTimedOut | C::OperationTimedOut | C::MessageTimedOut => ErrorKind::Timeout,
        C::UnsupportedVersion | C::UnsupportedFeature | C::UnsupportedForMessageFormat => {
            ErrorKind::Unsupported
        }
        C::Authentication
        | C::SaslAuthenticationFailed
        | C::TopicAuthorizationFailed
        | C::GroupAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed
        | C::DelegationTokenAuthorizationFailed => ErrorKind::Auth,
        C::AllBrokersDown
        | C::BrokerTransportFailure
        | C::Resolve
        | C::NetworkException
        | C::FileSystem => ErrorKind::Io,
        code => ErrorKind::Broker(code as i32),
    }
}

/// Plain words for the errors of a transaction's coordinator calls
/// (InitProducerId, AddPartitionsToTxn, EndTxn), which mean something more
/// precise there than in general.
#[must_use]
pub fn transaction_words(code: rdkafka::types::RDKafkaErrorCode) -> Option<&'static str> {
    use rdkafka::types::RDKafkaErrorCode as C;
    Some(match code {
        C::TransactionalIdAuthorizationFailed => {
            "the cluster refused transactions: not authorized for this transactional.id \
             (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)"
        }
        C::ClusterAuthorizationFailed => {
            "the cluster refused the transactional producer: not authorized for \
             idempotent writes (CLUSTER_AUTHORIZATION_FAILED)"
        }
        C::Fenced
        | C::ProducerFenced
        | C::InvalidProducerEpoch
        | C::TransactionCoordinatorFenced => {
            // The broker answers the same when it aborted the transaction
            // itself for outliving transaction.timeout.ms (it bumps the
            // epoch): librdkafka cannot tell the two apart.
            "fenced: another producer with the same transactional.id took over, \
             or the transaction outlived its transaction.timeout.ms; \
             the broker aborted it"
        }
        C::ConcurrentTransactions => {
            "another transaction with this transactional.id is still completing; retry shortly"
        }
        C::InvalidTransactionTimeout => {
            "transaction.timeout.ms is above the broker's transaction.max.timeout.ms"
        }
        C::CoordinatorNotAvailable
        | C::CoordinatorLoadInProgress
        | C::NotCoordinator
        | C::WaitingForCoordinator => "the transaction coordinator is not available",
        C::OperationTimedOut | C::RequestTimedOut => {
            "timed out waiting for the transaction coordinator"
        }
        C::UnsupportedVersion | C::UnsupportedFeature => {
            "the cluster does not support transactions"
        }
        C::InvalidTransactionalState => "the transaction is in an invalid state",
        _ => return None,
    })
}

/// A transaction call's error as a [`WorkerError`]: the kind from its
/// code, in the words of [`transaction_words`] where they apply (else as
/// [`classify`] says), prefixed with what was being done.
#[must_use]
pub fn classify_transaction(what: &str, e: &rdkafka::error::KafkaError) -> WorkerError {
    let code = crate::kafka::client::error_code(e);
    let kind = code.map_or(ErrorKind::Internal, kind_of);
    let words = code.and_then(transaction_words).map_or_else(
        || match e {
            // librdkafka's own text says which call and why.
            rdkafka::error::KafkaError::Transaction(t) => {
                let text = crate::sanitize::escape(&t.string()).into_owned();
                match code.and_then(crate::kafka::client::plain_words) {
                    Some(p) if !text.is_empty() => format!("{p} ({text})"),
                    Some(p) => p.to_string(),
                    None => text,
                }
            }
            other => crate::kafka::client::explain(other),
        },
        str::to_string,
    );
    WorkerError::new(kind, format!("{what}: {words}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as C;

    #[test]
    fn kinds_from_librdkafka_codes() {
        let k = |c| classify(&KafkaError::AdminOp(c)).kind;
        assert_eq!(k(C::OperationTimedOut), ErrorKind::Timeout);
        assert_eq!(k(C::SaslAuthenticationFailed), ErrorKind::Auth);
        assert_eq!(k(C::GroupAuthorizationFailed), ErrorKind::Auth);
        assert_eq!(k(C::UnsupportedVersion), ErrorKind::Unsupported);
        assert_eq!(k(C::AllBrokersDown), ErrorKind::Io);
        assert_eq!(
            k(C::NonEmptyGroup),
            ErrorKind::Broker(C::NonEmptyGroup as i32)
        );
        let e = classify(&KafkaError::AdminOp(C::NonEmptyGroup));
        assert_eq!(e.to_string(), "the group still has active members");
        assert_eq!(
            classify(&KafkaError::ClientCreation("x".into())).kind,
            ErrorKind::Internal
        );
    }

    #[test]
    fn transaction_errors_in_plain_words() {
        let t = |c| classify_transaction("committing", &KafkaError::AdminOp(c));
        let refused = t(C::TransactionalIdAuthorizationFailed);
        assert_eq!(refused.kind, ErrorKind::Auth);
        assert!(
            refused
                .message
                .starts_with("committing: the cluster refused transactions"),
            "{}",
            refused.message
        );
        assert!(
            refused
                .message
                .contains("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")
        );
        for fenced in [C::ProducerFenced, C::Fenced, C::InvalidProducerEpoch] {
            assert!(
                t(fenced).message.contains("fenced: another producer"),
                "{fenced:?}"
            );
        }
        let late = t(C::OperationTimedOut);
        assert_eq!(late.kind, ErrorKind::Timeout);
        assert_eq!(
            late.message,
            "committing: timed out waiting for the transaction coordinator"
        );
        // Codes without transaction words keep the general ones.
        assert_eq!(
            t(C::MessageSizeTooLarge).message,
            "committing: message too large for the broker (message.max.bytes)"
        );
    }

    #[test]
    fn unknown_topics_have_their_own_kind() {
        let e = WorkerError::unknown_topic("a\x1b[2Jb");
        assert_eq!(e.kind, ErrorKind::UnknownTopic);
        assert!(e.message.starts_with("unknown topic a"), "{e}");
        assert!(!e.message.contains('\x1b'), "{e}");
        assert_eq!(crate::werr!("x {}", 1).kind, ErrorKind::Internal);
        // Every code has a kind; none falls through to `Internal`.
        assert_eq!(kind_of(C::MessageTimedOut), ErrorKind::Timeout);
        assert_eq!(kind_of(C::FileSystem), ErrorKind::Io);
    }

    #[test]
    fn registry_failures_keep_their_kind() {
        use crate::registry::{HttpError, RegistryError as R};
        let status = |status| {
            R::from(HttpError::Status {
                status,
                message: format!("HTTP {status}"),
            })
            .context("schema 5")
        };
        let w = WorkerError::from(status(401));
        assert_eq!(w.kind, ErrorKind::Auth);
        assert_eq!(w.message, "schema 5: HTTP 401");
        assert_eq!(WorkerError::from(status(403)).kind, ErrorKind::Auth);
        assert_eq!(WorkerError::from(status(404)).kind, ErrorKind::NotFound);
        assert_eq!(WorkerError::from(status(500)).kind, ErrorKind::Io);
        let tls = R::from(HttpError::Tls(
            "the registry's TLS certificate has expired".into(),
        ));
        assert_eq!(WorkerError::from(tls).kind, ErrorKind::Io);
        let late = R::from(HttpError::Timeout(std::time::Duration::from_secs(2)));
        let w = WorkerError::from(late);
        assert_eq!(w.kind, ErrorKind::Timeout);
        assert_eq!(w.message, "no answer from the registry within 2 s");
        assert_eq!(
            WorkerError::from(R::NotConfigured).kind,
            ErrorKind::Unsupported
        );
        assert_eq!(WorkerError::from(R::NoSubject).kind, ErrorKind::Internal);
    }

    #[test]
    fn context_keeps_the_kind() {
        let e = WorkerError::timeout("no answer").context("describing groups");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.to_string(), "describing groups: no answer");
    }
}
