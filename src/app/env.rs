//! Settings fixed for a session with one cluster.

use std::path::PathBuf;
use std::sync::Arc;

use super::keymap::Keymap;
use crate::config::{ClusterProfile, Unsupported};
use crate::model::ProducerOptions;

/// Settings fixed for the session.
#[derive(Debug, Clone)]
pub struct Env {
    pub cluster: String,
    pub brokers: String,
    pub read_only: bool,
    pub production: bool,
    pub unsupported: Unsupported,
    pub watch_groups: Vec<String>,
    pub topics_refresh_ms: i64,
    pub groups_refresh_ms: i64,
    pub buffer_max_messages: usize,
    pub buffer_max_bytes: usize,
    pub registry_configured: bool,
    pub producer_defaults: ProducerOptions,
    pub data_dir: PathBuf,
    pub history_max: usize,
    /// LSO held below the high watermark this long: a likely stuck transaction.
    pub stuck_transaction_ms: i64,
    /// The composer's `transactional.id` unless one is typed:
    /// `kafkaterm-<host>-<random>`, one per session.
    pub transactional_id: String,
    /// The keymap: defaults patched by the user's `keymap.toml`.
    pub keymap: Arc<Keymap>,
}

impl Env {
    #[must_use]
    pub fn from_profile(p: &ClusterProfile, data_dir: PathBuf) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        Self {
            cluster: p.name.clone(),
            brokers: p.brokers.clone(),
            read_only: p.read_only,
            production: p.production,
            unsupported: p.unsupported.clone(),
            watch_groups: p.watch_groups.clone(),
            topics_refresh_ms: (p.topics_refresh_secs * 1000.0) as i64,
            groups_refresh_ms: (p.groups_refresh_secs * 1000.0) as i64,
            buffer_max_messages: 200_000,
            buffer_max_bytes: 256 * 1024 * 1024,
            registry_configured: p.schema_registry.is_some(),
            producer_defaults: p.producer_options(),
            data_dir,
            history_max: 200,
            stuck_transaction_ms: (p.stuck_transaction_secs * 1000.0) as i64,
            transactional_id: crate::model::generated_transactional_id(),
            keymap: Arc::new(Keymap::default()),
        }
    }

    /// A minimal environment for tests.
    #[must_use]
    pub fn test() -> Self {
        let mut p = ClusterProfile::adhoc("127.0.0.1:9092");
        p.name = "test".into();
        let mut env = Self::from_profile(&p, std::env::temp_dir().join("kafkaterm-test"));
        env.transactional_id = "kafkaterm-test-00c0ffee".into();
        env
    }
}
