//! Building rdkafka clients from a cluster profile, with secrets kept out of
//! errors and logs, and broker errors turned into plain words. Every client
//! of ours is made by [`create`], which also gives it OAUTHBEARER tokens when
//! the profile has a token source (AWS MSK IAM, `token_command`).

use std::fmt;
use std::ops::Deref;
use std::path::Path;

use anyhow::{Result, anyhow};
use rdkafka::ClientConfig;
use rdkafka::admin::AdminClient;
use rdkafka::bindings as rd;
use rdkafka::client::ClientContext;
use rdkafka::config::{FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, FutureProducer, Producer, ProducerContext};
use tokio::sync::mpsc::UnboundedSender;

use super::oauth;
use crate::config::{ClusterProfile, TokenSource};
use crate::sanitize;

pub use crate::config::is_secret_property;

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
/// topic created by a typo, a short wait for a missing topic to appear, and
/// a queue of at most 100,000 messages: a bigger one only lets the reader
/// of a file run far ahead of the broker (with 1,000,000, a headless
/// produce of 1M lines used ~40 % more CPU, mostly the kernel faulting in
/// the queue's memory, for no gain in wall time).
pub const PRODUCER_DEFAULTS: [(&str, &str); 5] = [
    ("linger.ms", "5"),
    ("message.max.bytes", "67108864"),
    ("allow.auto.create.topics", "false"),
    ("topic.metadata.propagation.max.ms", "3000"),
    ("queue.buffering.max.messages", "100000"),
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
        // A transactional producer's message refused after a newer producer
        // initialised the same transactional.id, or after the broker
        // aborted the transaction for outliving transaction.timeout.ms
        // (both bump the epoch): librdkafka's text names neither.
        C::ProducerFenced | C::Fenced => {
            "fenced: another producer with the same transactional.id took over, \
             or the transaction outlived its transaction.timeout.ms; \
             the broker aborted it"
        }
        _ => return None,
    })
}

/// The librdkafka error code of an error, including an admin operation's
/// (which rust-rdkafka's `rdkafka_error_code` leaves out).
#[must_use]
pub fn error_code(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    match e {
        KafkaError::AdminOp(code) => Some(*code),
        other => other.rdkafka_error_code(),
    }
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
        other => match error_code(other) {
            Some(code) => match plain_words(code) {
                Some(p) => p.to_string(),
                None => sanitize::escape(&code.to_string()).into_owned(),
            },
            None => sanitize::escape(&other.to_string()).into_owned(),
        },
    }
}

/// What [`create`] needs to make a client: librdkafka's settings and, when
/// kafkaterm supplies OAUTHBEARER tokens itself, where they come from.
#[derive(Clone)]
pub struct ClientSettings {
    config: ClientConfig,
    tokens: Option<TokenSource>,
}

impl ClientSettings {
    /// A librdkafka property as it will be set.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.config.get(key)
    }

    /// Set a librdkafka property.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.config.set(key, value);
        self
    }

    /// Where this client's OAUTHBEARER tokens come from, if kafkaterm supplies them.
    #[must_use]
    pub fn token_source(&self) -> Option<&TokenSource> {
        self.tokens.as_ref()
    }
}

/// Build the settings for a profile: our `defaults` first (the user's
/// `-X` and config properties may override them), then the profile's
/// properties, then `forced` settings this client needs to be what it is
/// (e.g. a browser that never commits).
#[must_use]
pub fn client_config(
    p: &ClusterProfile,
    role: &str,
    defaults: &[(&str, &str)],
    forced: &[(&str, &str)],
) -> ClientSettings {
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
    ClientSettings {
        config: c,
        tokens: p.token_source.clone(),
    }
}

/// The settings with the system CA bundle as `ssl.ca.location` when the
/// static build (whose OpenSSL knows no system path) speaks TLS without a
/// CA of its own; otherwise the settings as they are.
fn with_system_ca(config: &ClientConfig) -> Result<std::borrow::Cow<'_, ClientConfig>> {
    if !cfg!(feature = "static") || !super::ca::needs_ca(|k| config.get(k)) {
        return Ok(std::borrow::Cow::Borrowed(config));
    }
    let bundle = super::ca::system_bundle(Path::is_file)?;
    let mut config = config.clone();
    config.set("ssl.ca.location", bundle);
    Ok(std::borrow::Cow::Owned(config))
}

/// The librdkafka handle inside an rdkafka client.
pub trait RawHandle {
    fn raw_handle(&self) -> *mut rd::rd_kafka_t;
}

impl<C: ConsumerContext> RawHandle for BaseConsumer<C> {
    fn raw_handle(&self) -> *mut rd::rd_kafka_t {
        self.client().native_ptr()
    }
}

impl<C: ProducerContext> RawHandle for BaseProducer<C> {
    fn raw_handle(&self) -> *mut rd::rd_kafka_t {
        self.client().native_ptr()
    }
}

impl<C: ClientContext + 'static> RawHandle for FutureProducer<C> {
    fn raw_handle(&self) -> *mut rd::rd_kafka_t {
        self.client().native_ptr()
    }
}

impl<C: ClientContext> RawHandle for AdminClient<C> {
    fn raw_handle(&self) -> *mut rd::rd_kafka_t {
        self.inner().native_ptr()
    }
}

/// A client of ours: the rdkafka client, plus its place on the token
/// provider's list when kafkaterm supplies its OAUTHBEARER tokens. It
/// dereferences to the client; dropping it takes the client off the list
/// before the client itself is destroyed.
pub struct KtClient<T> {
    tokens: Option<oauth::Registration>,
    client: T,
}

impl<T> KtClient<T> {
    /// The provider of this client's tokens, if kafkaterm supplies them.
    #[must_use]
    pub fn token_provider(&self) -> Option<&std::sync::Arc<oauth::TokenProvider>> {
        self.tokens.as_ref().map(oauth::Registration::provider)
    }
}

impl<T> Deref for KtClient<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.client
    }
}

impl<T> Drop for KtClient<T> {
    fn drop(&mut self) {
        // Before `client` is destroyed: the refresher must be done with it.
        drop(self.tokens.take());
    }
}

impl<T> fmt::Debug for KtClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KtClient")
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// Create a client, mapping configuration errors to secret-free messages.
/// With a token source, the first token is obtained before the client is
/// made (so missing credentials are a clear error rather than a hang), set
/// on the client at once, and renewed before it expires for as long as the
/// client lives.
pub fn create<C, T>(settings: &ClientSettings, ctx: C) -> Result<KtClient<T>>
where
    C: ClientContext,
    T: FromClientConfigAndContext<C> + RawHandle,
{
    let provider = match &settings.tokens {
        Some(source) => {
            let p = oauth::provider_for(source)?;
            let first = p.token()?;
            Some((p, first))
        }
        None => None,
    };
    let config = with_system_ca(&settings.config)?;
    let client: T = config
        .as_ref()
        .create_with_context(ctx)
        .map_err(|e| anyhow!(explain(&e)))?;
    let tokens = match provider {
        Some((p, first)) => {
            let handle = client.raw_handle();
            // SAFETY: `client` is alive for the whole of this call.
            unsafe { oauth::install(handle, &first) }?;
            // SAFETY: the registration lives in the KtClient next to the
            // client and is dropped first (see `Drop for KtClient`).
            Some(unsafe { p.register(handle) })
        }
        None => None,
    };
    Ok(KtClient { tokens, client })
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

    /// The SASL settings a config file gives make a client that librdkafka
    /// accepts (the properties' names and values are librdkafka's).
    #[test]
    fn librdkafka_accepts_the_sasl_settings() {
        use crate::config::ConfigFile;
        use std::path::Path;
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let src = format!(
                "[clusters.a]\nbrokers = \"127.0.0.1:1\"\n[clusters.a.sasl]\nmechanism = \"{mech}\"\nusername = \"u\"\npassword = \"p\"\n"
            );
            let cfg = ConfigFile::parse(&src, Path::new("c.toml")).unwrap();
            let p = ClusterProfile::from_config("a", &cfg.clusters["a"]).unwrap();
            let c = client_config(&p, "test", &[], &[]);
            let made: Result<KtClient<rdkafka::consumer::BaseConsumer<KtContext>>, _> =
                create(&c, KtContext::default());
            assert!(made.is_ok(), "{mech}: {:?}", made.err());
        }
    }
}
