//! Building rdkafka clients from a cluster profile, with secrets kept out of
//! errors and logs, and broker errors turned into plain words.

use std::fmt;

use anyhow::{Result, anyhow};
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::{FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::ClusterProfile;
use crate::sanitize;

/// Does this librdkafka property carry a secret?
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

/// Properties as `k=v, ...` with secret values replaced, for logs.
#[must_use]
pub fn describe_properties(props: &[(String, crate::config::Secret)]) -> String {
    props
        .iter()
        .map(|(k, v)| {
            if is_secret_property(k) {
                format!("{k}=***")
            } else {
                format!("{k}={}", v.expose())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// librdkafka settings shared by every producer of ours: a short linger for
/// batching, the broker (not the client) deciding what is too large, no
/// topic created by a typo, and a short wait for a missing topic to appear.
pub const PRODUCER_DEFAULTS: [(&str, &str); 5] = [
    ("linger.ms", "5"),
    ("message.max.bytes", "67108864"),
    ("allow.auto.create.topics", "false"),
    ("topic.metadata.propagation.max.ms", "3000"),
    ("queue.buffering.max.messages", "1000000"),
];

/// Signals a client raises outside any request: connection trouble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSignal {
    pub all_brokers_down: bool,
    pub auth_failed: bool,
    pub message: String,
}

/// Our client context: routes librdkafka logs to tracing and client-level
/// errors to the worker.
#[derive(Clone, Default)]
pub struct KtContext {
    pub signals: Option<UnboundedSender<ClientSignal>>,
}

impl fmt::Debug for KtContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KtContext")
    }
}

impl ClientContext for KtContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        let msg = sanitize::escape(log_message);
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", "{fac}: {msg}");
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", "{fac}: {msg}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", "{fac}: {msg}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", "{fac}: {msg}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code();
        // Reaching the end of a partition is news, not trouble.
        if code == Some(RDKafkaErrorCode::PartitionEOF)
            || matches!(error, KafkaError::PartitionEOF(_))
        {
            return;
        }
        let signal = ClientSignal {
            all_brokers_down: code == Some(RDKafkaErrorCode::AllBrokersDown),
            auth_failed: matches!(
                code,
                Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed)
            ),
            message: explain_reason(code, reason),
        };
        tracing::warn!("client error: {}", signal.message);
        if let Some(tx) = &self.signals {
            let _ = tx.send(signal);
        }
    }
}

impl ConsumerContext for KtContext {}

fn log_level(level: i32) -> RDKafkaLogLevel {
    match level {
        0 => RDKafkaLogLevel::Emerg,
        1 => RDKafkaLogLevel::Alert,
        2 => RDKafkaLogLevel::Critical,
        3 => RDKafkaLogLevel::Error,
        4 => RDKafkaLogLevel::Warning,
        5 => RDKafkaLogLevel::Notice,
        6 => RDKafkaLogLevel::Info,
        _ => RDKafkaLogLevel::Debug,
    }
}

/// Most events served by one call of [`serve_main_queue`].
const MAIN_QUEUE_BATCH: usize = 1000;

/// Serve what waits on a client's main queue without blocking: log lines go
/// to the context's `log`, anything else is dropped. Returns how many events
/// were served.
///
/// rust-rdkafka serves a client's main queue only in `poll`, which an admin
/// client never calls (its thread polls the admin results' own queue), so
/// its log lines (the admin client reports errors as log lines) would pile
/// up there for the client's whole life.
pub fn serve_main_queue<C: ClientContext>(client: &rdkafka::client::Client<C>) -> usize {
    use rdkafka::bindings as rd;
    let text = |p: *const std::os::raw::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: librdkafka's NUL-terminated string, valid while the
            // event lives (it is copied out before the event is destroyed).
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .trim()
                .to_string()
        }
    };
    // SAFETY: the client handle is live for the call; the queue reference
    // taken here is released before returning, and every event polled is
    // destroyed once, after its strings were copied.
    unsafe {
        let queue = rd::rd_kafka_queue_get_main(client.native_ptr());
        if queue.is_null() {
            return 0;
        }
        let mut served = 0;
        while served < MAIN_QUEUE_BATCH {
            let ev = rd::rd_kafka_queue_poll(queue, 0);
            if ev.is_null() {
                break;
            }
            served += 1;
            if rd::rd_kafka_event_type(ev) == rd::RD_KAFKA_EVENT_LOG {
                let mut fac = std::ptr::null();
                let mut msg = std::ptr::null();
                let mut level = 0;
                if rd::rd_kafka_event_log(ev, &raw mut fac, &raw mut msg, &raw mut level) == 0 {
                    client
                        .context()
                        .log(log_level(level), &text(fac), &text(msg));
                }
            }
            rd::rd_kafka_event_destroy(ev);
        }
        rd::rd_kafka_queue_destroy(queue);
        served
    }
}

fn explain_reason(code: Option<RDKafkaErrorCode>, reason: &str) -> String {
    let plain = code.and_then(plain_words);
    let reason = sanitize::escape(reason);
    match plain {
        Some(p) if reason.is_empty() => p.to_string(),
        Some(p) => format!("{p} ({reason})"),
        None => reason.into_owned(),
    }
}

/// Plain words for the errors people meet at a console.
#[must_use]
pub fn plain_words(code: RDKafkaErrorCode) -> Option<&'static str> {
    use RDKafkaErrorCode as C;
    Some(match code {
        C::UnknownTopicOrPartition | C::UnknownTopic => "unknown topic or partition",
        C::UnknownPartition => "unknown partition",
        C::MessageSizeTooLarge | C::InvalidMessageSize => {
            "message too large for the broker (message.max.bytes)"
        }
        C::NotEnoughReplicas => "not enough in-sync replicas (min.insync.replicas not met)",
        C::NotEnoughReplicasAfterAppend => "written, but not to enough in-sync replicas",
        C::TopicAuthorizationFailed => "not authorized for this topic",
        C::GroupAuthorizationFailed => "not authorized for this consumer group",
        C::ClusterAuthorizationFailed => "not authorized for this cluster operation",
        C::MessageTimedOut => "timed out: the message was not delivered in time",
        C::RequestTimedOut | C::OperationTimedOut => "timed out waiting for the broker",
        C::AllBrokersDown => "all brokers are down or unreachable",
        C::BrokerTransportFailure => "lost the connection to a broker",
        C::Authentication | C::SaslAuthenticationFailed => "authentication failed",
        C::TopicAlreadyExists => "the topic already exists",
        C::InvalidPartitions => "invalid number of partitions",
        C::InvalidReplicationFactor => "invalid replication factor",
        C::InvalidTopic => "invalid topic name",
        C::InvalidConfig => "invalid configuration",
        C::PolicyViolation => "refused by the broker's policy",
        C::NotController => "the broker is not the controller; retry",
        C::NonEmptyGroup => "the group still has active members",
        C::GroupIdNotFound => "no such consumer group",
        C::UnsupportedVersion | C::UnsupportedFeature => "not supported by this broker",
        C::Resolve => "cannot resolve the broker's host name",
        C::LeaderNotAvailable => "the partition has no leader right now",
        C::NotLeaderForPartition => "the broker is not the partition leader",
        C::InvalidRequiredAcks => "invalid acks setting",
        C::TopicDeletionDisabled => "topic deletion is disabled on the broker",
        C::OffsetOutOfRange => "offset out of range",
        C::UnknownMemberId => "unknown group member",
        C::RebalanceInProgress => "the group is rebalancing",
        C::CoordinatorNotAvailable => "the group coordinator is not available",
        C::NotCoordinator => "the broker is not the group coordinator",
        C::SSL => "TLS error (certificate or handshake)",
        _ => return None,
    })
}

/// A KafkaError in plain words, with no secret in it.
#[must_use]
pub fn explain(e: &KafkaError) -> String {
    match e {
        KafkaError::ClientConfig(_, desc, key, _value) => {
            if is_secret_property(key) {
                format!(
                    "invalid value for client property `{}`",
                    sanitize::escape(key)
                )
            } else {
                format!(
                    "invalid client property `{}`: {}",
                    sanitize::escape(key),
                    sanitize::escape(desc)
                )
            }
        }
        KafkaError::ClientCreation(desc) => {
            format!("cannot create the Kafka client: {}", sanitize::escape(desc))
        }
        other => match other.rdkafka_error_code() {
            Some(code) => match plain_words(code) {
                Some(p) => p.to_string(),
                None => sanitize::escape(&code.to_string()).into_owned(),
            },
            None => sanitize::escape(&other.to_string()).into_owned(),
        },
    }
}

/// Build a ClientConfig for a profile: our `defaults` first (the user's
/// `-X` and config properties may override them), then the profile's
/// properties, then `forced` settings this client needs to be what it is
/// (e.g. a browser that never commits).
#[must_use]
pub fn client_config(
    p: &ClusterProfile,
    role: &str,
    defaults: &[(&str, &str)],
    forced: &[(&str, &str)],
) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &p.brokers);
    c.set("client.id", format!("{}-{role}", p.client_id));
    c.set_log_level(RDKafkaLogLevel::Warning);
    for (k, v) in defaults {
        c.set(*k, *v);
    }
    for (k, v) in &p.properties {
        c.set(k, v.expose());
    }
    for (k, v) in forced {
        c.set(*k, *v);
    }
    c
}

/// Create a client, mapping configuration errors to secret-free messages.
pub fn create<T>(config: &ClientConfig, ctx: KtContext) -> Result<T>
where
    T: FromClientConfigAndContext<KtContext>,
{
    config
        .create_with_context(ctx)
        .map_err(|e| anyhow!(explain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn secret_properties() {
        assert!(is_secret_property("sasl.password"));
        assert!(is_secret_property("ssl.key.password"));
        assert!(is_secret_property("sasl.oauthbearer.client.secret"));
        assert!(is_secret_property("ssl.key.pem"));
        assert!(!is_secret_property("client.id"));
        let d = describe_properties(&[
            ("sasl.password".into(), Secret::new("hunter2")),
            ("client.id".into(), Secret::new("me")),
        ]);
        assert_eq!(d, "sasl.password=***, client.id=me");
    }

    #[test]
    fn config_errors_hide_secret_values() {
        let err = KafkaError::ClientConfig(
            rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "Invalid value \"hunter2\"".into(),
            "sasl.password".into(),
            "hunter2".into(),
        );
        assert!(!explain(&err).contains("hunter2"));
    }
}
