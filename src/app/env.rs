//! Settings fixed for a session with one cluster.

use std::path::PathBuf;
use std::sync::Arc;

use super::keymap::Keymap;
use crate::config::{ClusterProfile, Unsupported};
use crate::model::ProducerOptions;
use crate::worker::protocol::ClusterInfo;

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
        let mut env = Self {
            cluster: String::new(),
            brokers: String::new(),
            read_only: false,
            production: false,
            unsupported: Unsupported::default(),
            watch_groups: Vec::new(),
            topics_refresh_ms: 0,
            groups_refresh_ms: 0,
            buffer_max_messages: 200_000,
            buffer_max_bytes: 256 * 1024 * 1024,
            registry_configured: false,
            producer_defaults: ProducerOptions::default(),
            data_dir,
            history_max: 200,
            stuck_transaction_ms: crate::timeutil::secs_to_ms(p.stuck_transaction_secs),
            transactional_id: crate::model::generated_transactional_id(),
            keymap: Arc::new(Keymap::default()),
        };
        env.set_cluster(&ClusterInfo::of(p));
        env
    }

    /// Take the settings of another cluster (a switch in the console); the
    /// session's own settings (limits, keymap, data dir) stay.
    pub fn set_cluster(&mut self, c: &ClusterInfo) {
        self.cluster.clone_from(&c.name);
        self.brokers.clone_from(&c.brokers);
        self.read_only = c.read_only;
        self.production = c.production;
        self.unsupported = c.unsupported.clone();
        self.watch_groups.clone_from(&c.watch_groups);
        #[allow(clippy::cast_possible_truncation)]
        {
            self.topics_refresh_ms = (c.topics_refresh_secs * 1000.0) as i64;
            self.groups_refresh_ms = (c.groups_refresh_secs * 1000.0) as i64;
        }
        self.registry_configured = c.registry_configured;
        self.producer_defaults = c.producer_defaults;
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
