//! The typed protocol between the app and the Kafka worker: commands in,
//! events out. No rdkafka type crosses it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::decode::RegistrySchema;
use crate::model::{
    ClusterSnapshot, Delivery, GroupSnapshot, Isolation, ProduceRequest, ProducerOptions, Record,
    TopicDetail, TopicPartition, TxnOutcome, TxnSpec,
};
use crate::template::MessageTemplate;
use crate::timeutil::StartAt;

mod copy;

pub use super::error::{ErrorKind, WorkerError};
pub use copy::{
    CopyOutcome, CopyProgress, CopyReport, CopySelection, CopySpec, CopyStart, Resume,
    SOURCE_HEADER,
};

/// Correlates a reply with its request.
pub type ReqId = u64;
/// Identifies a browse session; batches of a stopped session are dropped.
pub type SessionId = u64;

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: Vec<(String, String)>,
}

/// What to browse and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseSpec {
    pub topic: String,
    /// `None`: all partitions.
    pub partitions: Option<Vec<i32>>,
    pub start: StartAt,
    /// `read_committed` stops at the last stable offset and skips aborted
    /// transactions' records.
    pub isolation: Isolation,
    /// Start offsets of some partitions, overriding `start` for them (the
    /// browser reopening where its previous session started).
    pub positions: Vec<(i32, i64)>,
}

/// Where a batch of messages comes from.
#[derive(Debug, Clone)]
pub enum BatchSource {
    /// A template rendered `count` times (`{{i}}`, `{{uuid}}`, ...).
    Template {
        template: MessageTemplate,
        count: u64,
    },
    /// A JSON Lines file in the export format; `topic` is used when a line names none.
    File {
        path: PathBuf,
        topic: String,
    },
    Messages(Vec<ProduceRequest>),
}

/// Offset reset targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    Earliest,
    Latest,
    /// ms since the epoch, resolved with offsets-for-times.
    Timestamp(i64),
    Offset(i64),
    /// Shift the committed offset by N (negative: back).
    Shift(i64),
}

impl ResetTarget {
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            ResetTarget::Earliest => "earliest".into(),
            ResetTarget::Latest => "latest".into(),
            ResetTarget::Timestamp(t) => format!("time {}", crate::timeutil::format_ts(*t, true)),
            ResetTarget::Offset(o) => format!("offset {o}"),
            ResetTarget::Shift(n) => format!("shift by {n:+}"),
        }
    }
}

/// One row of an offset reset plan (the dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRow {
    pub tp: TopicPartition,
    pub current: Option<i64>,
    pub new: i64,
    pub low: i64,
    pub end: i64,
}

impl ResetRow {
    #[must_use]
    pub fn new_lag(&self) -> i64 {
        (self.end - self.new).max(0)
    }
}

#[derive(Debug, Clone)]
pub enum Command {
    RefreshTopics {
        id: ReqId,
    },
    DescribeTopic {
        id: ReqId,
        topic: String,
    },
    CreateTopic {
        id: ReqId,
        spec: NewTopicSpec,
    },
    DeleteTopic {
        id: ReqId,
        topic: String,
    },
    StartBrowse {
        session: SessionId,
        spec: BrowseSpec,
    },
    StopBrowse {
        session: SessionId,
    },
    PauseBrowse {
        session: SessionId,
        paused: bool,
    },
    /// Consume forward from the current position, delivering only matches,
    /// until `want` matches were found; then pause.
    SearchBrowse {
        session: SessionId,
        filter: String,
        want: u64,
    },
    CancelSearch {
        session: SessionId,
    },
    ProduceBatch {
        id: ReqId,
        options: ProducerOptions,
        source: BatchSource,
    },
    /// Send a batch in one transaction, ending in a commit or an abort as
    /// `txn` says (an abort whenever a message failed or the send was
    /// cancelled). The outcome comes as `TxnEnded` before the final
    /// `Produce`.
    ProduceTransaction {
        id: ReqId,
        options: ProducerOptions,
        source: BatchSource,
        txn: TxnSpec,
    },
    /// Wait up to `timeout_ms` for every in-flight message.
    Flush {
        id: ReqId,
        timeout_ms: u64,
    },
    FetchSchema {
        schema_id: u32,
    },
    /// Refresh every group, or `only` one (no ListGroups then). With
    /// `first`, the answer comes in steps: `GroupList` (every group's state
    /// and members) as soon as the listing is in, then `GroupOffsets` for the
    /// groups named in `first` (the visible and watched ones), then for the
    /// rest in chunks, then `Groups` with everything.
    RefreshGroups {
        id: ReqId,
        only: Option<String>,
        first: Option<Vec<String>>,
    },
    PlanOffsetReset {
        id: ReqId,
        group: String,
        target: ResetTarget,
        /// `None`: every partition the group has committed on.
        partitions: Option<Vec<TopicPartition>>,
    },
    ApplyOffsetReset {
        id: ReqId,
        group: String,
        rows: Vec<ResetRow>,
    },
    DeleteGroup {
        id: ReqId,
        group: String,
    },
    /// Copy messages to another topic (or, as a dry run, count them);
    /// progress comes as `CopyProgress`, the end as `Copied`. `Cancel`
    /// stops it.
    StartCopy {
        id: ReqId,
        spec: CopySpec,
    },
    /// Stop a long operation (a produce batch, a copy); other requests simply have
    /// their answers ignored by the app.
    Cancel {
        id: ReqId,
    },
    /// Console only (the switching worker): stop every client, session and
    /// request of the current cluster and connect to `cluster` (a name from
    /// the config file, or [`DEMO_CLUSTER`]). Answered by
    /// [`WorkerEvent::Switched`] with the same generation, which comes after
    /// every event of the old cluster and before any of the new one.
    Connect {
        generation: u64,
        cluster: String,
    },
    /// Console only: check in the background whether `cluster` answers, and
    /// how big it is (the cluster picker). Answered by [`WorkerEvent::Probed`].
    Probe {
        cluster: String,
    },
    Shutdown,
}

/// The name under which the cluster picker offers the built-in demo.
pub const DEMO_CLUSTER: &str = "--demo";

/// What the console shows of the cluster it is connected to (no secrets).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    pub name: String,
    pub brokers: String,
    pub read_only: bool,
    pub production: bool,
    pub unsupported: crate::config::Unsupported,
    pub watch_groups: Vec<String>,
    pub topics_refresh_secs: f64,
    pub groups_refresh_secs: f64,
    pub registry_configured: bool,
    pub producer_defaults: ProducerOptions,
}

impl ClusterInfo {
    #[must_use]
    pub fn of(p: &crate::config::ClusterProfile) -> Self {
        Self {
            name: p.name.clone(),
            brokers: p.brokers.clone(),
            read_only: p.read_only,
            production: p.production,
            unsupported: p.unsupported.clone(),
            watch_groups: p.watch_groups.clone(),
            topics_refresh_secs: p.topics_refresh_secs,
            groups_refresh_secs: p.groups_refresh_secs,
            registry_configured: p.schema_registry.is_some(),
            producer_defaults: p.producer_options(),
        }
    }
}

/// A background check of a cluster for the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub brokers: usize,
    pub topics: usize,
    /// `None` when the cluster does not list groups (or refused to).
    pub groups: Option<usize>,
}

impl Command {
    /// Does this command write to the cluster? (Refused in read-only mode.)
    #[must_use]
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Command::CreateTopic { .. }
                | Command::DeleteTopic { .. }
                | Command::ProduceBatch { .. }
                | Command::ProduceTransaction { .. }
                | Command::ApplyOffsetReset { .. }
                | Command::DeleteGroup { .. }
        ) || matches!(self, Command::StartCopy { spec, .. } if !spec.dry_run)
    }

    #[must_use]
    pub fn req_id(&self) -> Option<ReqId> {
        match self {
            Command::RefreshTopics { id }
            | Command::DescribeTopic { id, .. }
            | Command::CreateTopic { id, .. }
            | Command::DeleteTopic { id, .. }
            | Command::ProduceBatch { id, .. }
            | Command::ProduceTransaction { id, .. }
            | Command::Flush { id, .. }
            | Command::RefreshGroups { id, .. }
            | Command::PlanOffsetReset { id, .. }
            | Command::ApplyOffsetReset { id, .. }
            | Command::DeleteGroup { id, .. }
            | Command::StartCopy { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// The message count of one topic, as a refresh's watermarks arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCount {
    pub name: String,
    /// Sum of high − low watermarks.
    pub messages: Option<i64>,
    /// Sum of high watermarks.
    pub end_offsets: Option<i64>,
    /// Why `messages` is unknown (see `TopicSummary::messages_error`).
    pub messages_error: Option<String>,
}

/// Connection health as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Requests fail but the client is trying.
    Degraded(String),
    Down(String),
}

/// What a browse session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum BrowseEvent {
    /// Partitions assigned, with where reading starts and the watermarks then.
    Started {
        partitions: Vec<PartitionStart>,
    },
    Records(Vec<Record>),
    /// A partition reached its end (high watermark at the time).
    AtEnd {
        partition: i32,
        offset: i64,
    },
    SearchProgress {
        scanned: u64,
        matched: u64,
        done: bool,
    },
    /// Trouble the session is recovering from.
    Status(String),
    /// The session's consumer was recreated after a stall; reading resumed
    /// right after the last record delivered.
    Recovered(String),
    Failed(WorkerError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionStart {
    pub partition: i32,
    pub start: i64,
    pub low: i64,
    pub high: i64,
}

/// Progress of a produce batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceProgress {
    pub queued: u64,
    pub delivered: u64,
    pub failed: u64,
    /// The first error, in plain words.
    pub first_error: Option<String>,
    /// The last delivery report (for single sends: the one).
    pub last: Option<Delivery>,
    pub elapsed_ms: u64,
    pub done: bool,
}

#[derive(Debug, Clone)]
pub enum WorkerEvent {
    Connection(ConnState),
    Topics {
        id: ReqId,
        result: Result<ClusterSnapshot, WorkerError>,
    },
    /// A topic refresh's first answer: the topics from metadata alone, their
    /// message counts unknown (`None`) until watermarks arrive. `Topics`
    /// with the same id follows and ends the refresh.
    TopicNames {
        id: ReqId,
        snapshot: ClusterSnapshot,
    },
    /// Message counts of some topics of a refresh, as their watermarks
    /// arrive (topics in name order, a few thousand partitions at a time).
    TopicCounts {
        id: ReqId,
        counts: Vec<TopicCount>,
    },
    TopicDetail {
        id: ReqId,
        topic: String,
        result: Result<TopicDetail, WorkerError>,
    },
    TopicCreated {
        id: ReqId,
        topic: String,
        result: Result<(), WorkerError>,
    },
    TopicDeleted {
        id: ReqId,
        topic: String,
        result: Result<(), WorkerError>,
    },
    Browse {
        session: SessionId,
        event: BrowseEvent,
    },
    Produce {
        id: ReqId,
        progress: ProduceProgress,
    },
    /// How a transactional send ended (sent just before its final `Produce`).
    TxnEnded {
        id: ReqId,
        transactional_id: String,
        outcome: TxnOutcome,
    },
    Flushed {
        id: ReqId,
        /// Messages still undelivered when the flush ended.
        undelivered: u64,
    },
    Schema {
        schema_id: u32,
        result: Result<Arc<RegistrySchema>, WorkerError>,
    },
    Groups {
        id: ReqId,
        result: Result<GroupsSnapshot, WorkerError>,
    },
    /// A stepped group refresh's listing: each group's description (state,
    /// members, assignor), partitions without offsets yet.
    GroupList {
        id: ReqId,
        groups: Vec<GroupSnapshot>,
        list_note: Option<String>,
    },
    /// A stepped group refresh's offsets and lag for some of the groups.
    GroupOffsets {
        id: ReqId,
        groups: Vec<GroupSnapshot>,
    },
    ResetPlan {
        id: ReqId,
        group: String,
        result: Result<Vec<ResetRow>, WorkerError>,
    },
    ResetApplied {
        id: ReqId,
        group: String,
        result: Result<usize, WorkerError>,
    },
    GroupDeleted {
        id: ReqId,
        group: String,
        result: Result<(), WorkerError>,
    },
    /// How far a copy is (some may be skipped when the UI is behind).
    CopyProgress {
        id: ReqId,
        progress: CopyProgress,
    },
    /// A copy ended: its report, or why it could not start.
    Copied {
        id: ReqId,
        result: Result<CopyReport, WorkerError>,
    },
    /// A command refused before it reached Kafka (read-only, unsupported).
    Refused {
        id: Option<ReqId>,
        reason: String,
    },
    /// The answer to [`Command::Connect`]: the old cluster's clients are
    /// gone; the new one's are made (or could not be).
    Switched {
        generation: u64,
        result: Result<ClusterInfo, WorkerError>,
    },
    /// The answer to [`Command::Probe`].
    Probed {
        cluster: String,
        result: Result<ProbeReport, WorkerError>,
    },
}

impl WorkerEvent {
    /// The request this event finally answers (a produce batch only when it
    /// is done), if any.
    #[must_use]
    pub fn answers(&self) -> Option<ReqId> {
        match self {
            WorkerEvent::Topics { id, .. }
            | WorkerEvent::TopicDetail { id, .. }
            | WorkerEvent::TopicCreated { id, .. }
            | WorkerEvent::TopicDeleted { id, .. }
            | WorkerEvent::Flushed { id, .. }
            | WorkerEvent::Groups { id, .. }
            | WorkerEvent::ResetPlan { id, .. }
            | WorkerEvent::ResetApplied { id, .. }
            | WorkerEvent::GroupDeleted { id, .. }
            | WorkerEvent::Copied { id, .. } => Some(*id),
            WorkerEvent::Produce { id, progress } if progress.done => Some(*id),
            WorkerEvent::Refused { id, .. } => *id,
            _ => None,
        }
    }
}

/// One refresh of every group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsSnapshot {
    pub groups: Vec<GroupSnapshot>,
    /// Why the group list is incomplete (ListGroups refused or unsupported).
    pub list_note: Option<String>,
    pub at_ms: i64,
}
