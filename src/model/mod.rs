//! Plain data types shared by the worker, the panes and the headless commands.
//! None of them carries an rdkafka type, so the UI and tests never need a client.

mod counts;
mod group_state;
mod group_type;
pub mod lso;
mod produce;

pub use counts::unknown_count_reason;
pub use group_state::{GroupChange, GroupState, check_group_change};
pub use group_type::{GroupType, Reconciling, reconciling};
pub use produce::{
    Acks, Compression, ProduceRequest, ProducerOptions, TXN_TIMEOUT_MS, TxnMode, TxnOutcome,
    TxnSpec, check_transactional_id, generated_transactional_id,
};

use std::sync::Arc;

use serde::Serialize;

/// A consumer's isolation level: whether it reads records of open and
/// aborted transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Every record up to the high watermark, aborted ones included
    /// (Kafka's consumer default).
    #[default]
    ReadUncommitted,
    /// Committed records only, up to the last stable offset.
    ReadCommitted,
}

impl Isolation {
    /// As librdkafka's `isolation.level` spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "read_uncommitted",
            Isolation::ReadCommitted => "read_committed",
        }
    }

    #[must_use]
    pub fn toggled(self) -> Self {
        match self {
            Isolation::ReadUncommitted => Isolation::ReadCommitted,
            Isolation::ReadCommitted => Isolation::ReadUncommitted,
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "read_uncommitted" | "uncommitted" => Ok(Isolation::ReadUncommitted),
            "read_committed" | "committed" => Ok(Isolation::ReadCommitted),
            other => anyhow::bail!(
                "`{}` is not an isolation level (read_committed or read_uncommitted)",
                crate::sanitize::escape(other)
            ),
        }
    }
}

/// One broker of the cluster, from metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// A row of the topic list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSummary {
    pub name: String,
    pub partitions: usize,
    pub replication_factor: usize,
    /// Sum over partitions of high − low watermark; `None` when the
    /// watermarks could not be fetched.
    pub messages: Option<i64>,
    /// Why `messages` is unknown once the watermarks were asked for, in
    /// plain words (see [`unknown_count_reason`]); `None` while the count
    /// is known or not yet asked.
    pub messages_error: Option<String>,
    pub internal: bool,
    /// Partitions whose ISR is smaller than the replica set.
    pub under_replicated: usize,
    /// Partitions without a leader.
    pub offline: usize,
    /// A topic-level metadata error, in plain words.
    pub error: Option<String>,
    /// Sum of the partitions' high watermarks (log-end offsets), for the
    /// produce rate between refreshes; `None` while unknown.
    #[serde(skip)]
    pub end_offsets: Option<i64>,
}

/// One partition of a topic, with its watermarks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub low: Option<i64>,
    pub high: Option<i64>,
    /// Last stable offset (ListOffsets at `read_committed`): where a
    /// `read_committed` consumer must stop; below `high` while a
    /// transaction is open.
    pub lso: Option<i64>,
    pub error: Option<String>,
}

impl PartitionInfo {
    /// Messages currently retained: high − low watermark.
    #[must_use]
    pub fn messages(&self) -> Option<i64> {
        match (self.low, self.high) {
            (Some(l), Some(h)) => Some((h - l).max(0)),
            _ => None,
        }
    }

    /// Replicas that are not in the ISR.
    #[must_use]
    pub fn out_of_sync(&self) -> Vec<i32> {
        self.replicas
            .iter()
            .copied()
            .filter(|r| !self.isr.contains(r))
            .collect()
    }
}

/// One configuration entry of a topic (DescribeConfigs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub is_sensitive: bool,
    pub source: String,
}

/// What we know of a topic's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Configs {
    Loaded(Vec<ConfigEntry>),
    /// The broker does not implement DescribeConfigs (e.g. librdkafka's mock).
    Unsupported(String),
    Failed(String),
}

/// Everything the partitions pane shows about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDetail {
    pub name: String,
    pub internal: bool,
    pub partitions: Vec<PartitionInfo>,
    pub configs: Configs,
}

/// The result of a topic-list refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSnapshot {
    pub brokers: Vec<BrokerInfo>,
    pub topics: Vec<TopicSummary>,
    /// Set when watermarks could not be fetched for some topics.
    pub watermark_error: Option<String>,
}

/// Kafka timestamp type of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampType {
    NotAvailable,
    CreateTime,
    LogAppendTime,
}

impl TimestampType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampType::NotAvailable => "not_available",
            TimestampType::CreateTime => "create_time",
            TimestampType::LogAppendTime => "log_append_time",
        }
    }

    #[must_use]
    pub fn short(self) -> &'static str {
        match self {
            TimestampType::NotAvailable => "-",
            TimestampType::CreateTime => "C",
            TimestampType::LogAppendTime => "L",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "not_available" => Some(Self::NotAvailable),
            "create_time" => Some(Self::CreateTime),
            "log_append_time" => Some(Self::LogAppendTime),
            _ => None,
        }
    }
}

/// A record header; `value` is `None` for a null header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Option<Vec<u8>>,
}

/// One consumed record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub timestamp_type: TimestampType,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

impl Record {
    /// Bytes held by this record (key + value + headers), for memory caps.
    #[must_use]
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|h| h.name.len() + h.value.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }

    /// The approximate memory cost of this record in the browser's buffer.
    #[must_use]
    pub fn footprint(&self) -> usize {
        self.size()
            + std::mem::size_of::<Self>()
            + self.headers.len() * std::mem::size_of::<Header>()
    }
}

/// Delivery report of one produced message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub latency_ms: f64,
}

/// A member of a consumer group as reported by DescribeGroups (classic) or
/// ConsumerGroupDescribe (KIP-848).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupMember {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    /// Decoded assignment; `None` when the broker returned no assignment bytes.
    pub assignment: Option<Vec<TopicPartition>>,
    /// Why the assignment could not be decoded, in plain words.
    pub assignment_note: Option<String>,
    /// Topics from the member's subscription metadata, when decodable.
    pub subscription: Vec<String>,
    /// KIP-848: the member's epoch (the group epoch it reconciled to last).
    pub member_epoch: Option<i32>,
    /// KIP-848: the partitions the coordinator wants the member to own
    /// (`None`: not known, e.g. a classic group).
    pub target_assignment: Option<Vec<TopicPartition>>,
}

/// How an assignment names a topic known only by its id, which the
/// metadata does not know (deleted): `topic id <uuid>` (a space is not
/// valid in a topic name, so this never names a real topic).
pub const TOPIC_ID_PREFIX: &str = "topic id ";

/// A topic/partition pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    #[must_use]
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: topic.to_string(),
            partition,
        }
    }

    /// The topic is known only by an id the metadata lacks (see
    /// [`TOPIC_ID_PREFIX`]): no offsets can be asked for it.
    #[must_use]
    pub fn is_unknown_topic_id(&self) -> bool {
        self.topic.starts_with(TOPIC_ID_PREFIX)
    }
}

/// A consumer group's description (ListGroups + DescribeGroups, or
/// ConsumerGroupDescribe for a KIP-848 group).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupDescription {
    pub group: String,
    pub state: GroupState,
    pub protocol_type: String,
    /// The assignor (e.g. `range`, `cooperative-sticky`).
    pub protocol: String,
    pub members: Vec<GroupMember>,
    /// The group's protocol (ListGroups v5; classic when not told).
    pub group_type: GroupType,
    /// KIP-848: the group epoch (bumped when membership or subscriptions
    /// change).
    pub group_epoch: Option<i32>,
    /// KIP-848: the epoch of the target assignment.
    pub assignment_epoch: Option<i32>,
    /// Why the KIP-848 details (epochs, target assignments) or a share or
    /// streams group's members are missing, in one line.
    #[serde(skip)]
    pub details_note: Option<String>,
    /// Only a listing named the group (type and state): its members are not
    /// known yet.
    #[serde(skip)]
    pub listed_only: bool,
}

/// Per-partition lag of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    pub committed: Option<i64>,
    pub end: Option<i64>,
    pub lag: Option<i64>,
    pub member_id: Option<String>,
    /// How far behind the group is in time, ms: the snapshot's time minus
    /// the timestamp of the record at the committed offset (the next one the
    /// group reads); 0 when caught up; `None` when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<i64>,
    /// The lag in time is an estimate: the record at the committed offset
    /// was not read this refresh, so it is measured from an older one (an
    /// upper bound).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lag_ms_estimated: bool,
    /// Why the lag in time is unknown although the group lags, when the
    /// reason is known (the record at the committed offset was deleted, the
    /// offset is past the readable end, or it was not read in time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_ms_note: Option<String>,
    /// Last stable offset, when it could be read: below `end` while a
    /// transaction is open, and a `read_committed` consumer cannot pass it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lso: Option<i64>,
    /// Why the committed or end offset is missing, when the broker said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Lag = log end offset − committed offset; no commit means no lag figure.
#[must_use]
pub fn lag(committed: Option<i64>, end: Option<i64>) -> Option<i64> {
    match (committed, end) {
        (Some(c), Some(e)) if c >= 0 && e >= 0 => Some((e - c).max(0)),
        _ => None,
    }
}

/// A full refresh of one group: description (when the broker gave one),
/// committed offsets and end offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSnapshot {
    pub group: String,
    /// `None` when DescribeGroups was refused or not supported.
    pub description: Option<GroupDescription>,
    /// Why the description is missing, in plain words.
    pub description_note: Option<String>,
    pub partitions: Vec<PartitionLag>,
    /// Why committed or end offsets are missing, in plain words.
    pub offsets_note: Option<String>,
    /// When this snapshot was taken, ms since the epoch.
    pub at_ms: i64,
}

impl GroupSnapshot {
    #[must_use]
    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.lag).sum()
    }

    /// The group's lag in time: the largest of its partitions', ms.
    #[must_use]
    pub fn max_lag_ms(&self) -> Option<i64> {
        self.partitions.iter().filter_map(|p| p.lag_ms).max()
    }

    /// Which lagging partitions have no lag in time, and why (the first
    /// two named, the count of the rest): `None` when every one has it.
    #[must_use]
    pub fn lag_time_note(&self) -> Option<String> {
        let unknown: Vec<String> = self
            .partitions
            .iter()
            .filter_map(|p| {
                p.lag_ms_note
                    .as_ref()
                    .map(|why| format!("{}/{}: {why}", p.topic, p.partition))
            })
            .collect();
        let n = unknown.len();
        let first = unknown.into_iter().take(2).collect::<Vec<_>>().join("; ");
        match n {
            0 => None,
            1 | 2 => Some(format!("lag in time unknown on {first}")),
            _ => Some(format!(
                "lag in time unknown on {first}; and {} more partitions",
                n - 2
            )),
        }
    }

    /// Sum of committed offsets (for the consumption rate).
    #[must_use]
    pub fn committed_sum(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.committed).sum()
    }

    /// Sum of end offsets over partitions the group has committed on (for the production rate).
    #[must_use]
    pub fn end_sum(&self) -> i64 {
        self.partitions
            .iter()
            .filter(|p| p.committed.is_some())
            .filter_map(|p| p.end)
            .sum()
    }

    /// The group's state; unknown when the group was not described.
    #[must_use]
    pub fn state(&self) -> &GroupState {
        static NOT_DESCRIBED: GroupState = GroupState::Unknown(String::new());
        self.description
            .as_ref()
            .map_or(&NOT_DESCRIBED, |d| &d.state)
    }

    /// Members, when the group was described.
    #[must_use]
    pub fn members(&self) -> Option<usize> {
        self.description
            .as_ref()
            .filter(|d| !d.listed_only)
            .map(|d| d.members.len())
    }

    /// May `change` be made to the group now, by what this snapshot says?
    pub fn check_change(&self, change: GroupChange) -> Result<(), String> {
        check_group_change(change, self.state(), self.members())
    }

    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        let mut t: Vec<String> = self.partitions.iter().map(|p| p.topic.clone()).collect();
        t.sort();
        t.dedup();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_end_minus_committed() {
        assert_eq!(lag(Some(10), Some(25)), Some(15));
        assert_eq!(lag(None, Some(25)), None);
        assert_eq!(lag(Some(30), Some(25)), Some(0));
        assert_eq!(lag(Some(-1001), Some(25)), None);
    }

    #[test]
    fn out_of_sync_replicas() {
        let p = PartitionInfo {
            lso: None,
            partition: 0,
            leader: 1,
            replicas: vec![1, 2, 3],
            isr: vec![1, 3],
            low: Some(5),
            high: Some(9),
            error: None,
        };
        assert_eq!(p.out_of_sync(), vec![2]);
        assert_eq!(p.messages(), Some(4));
    }
}
