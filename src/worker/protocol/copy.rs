//! The copy's part of the protocol: what to copy, how far it is, how it
//! ended and where it resumes. Shared by the copy engine (`worker::copy`),
//! the browser's copy dialog and `kafkaterm copy`.

use std::collections::BTreeMap;

use crate::model::Compression;
use crate::timeutil::StartAt;

/// The header `source_header` adds: `topic/partition@offset` of the
/// original message.
pub const SOURCE_HEADER: &str = "kafkaterm.source";

/// Where reading starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyStart {
    /// The same position in every partition.
    At(StartAt),
    /// An offset per partition (a resume); only these partitions are read.
    Offsets(BTreeMap<i32, i64>),
}

/// Which messages of the source to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySelection {
    /// Partitions (`None`: all) from a start up to `end` (exclusive; `None`:
    /// each partition's end when the copy starts).
    Range {
        partitions: Option<Vec<i32>>,
        start: CopyStart,
        end: Option<i64>,
    },
    /// Exactly these messages (partition, offset), e.g. the marked ones.
    Messages(Vec<(i32, i64)>),
}

/// A copy to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    pub source: String,
    pub dest: String,
    pub selection: CopySelection,
    /// Offsets not to copy, as inclusive ranges per partition (what an
    /// interrupted copy confirmed past its resume point).
    pub skip: BTreeMap<i32, Vec<(i64, i64)>>,
    /// Stop after this many messages were selected.
    pub count: Option<u64>,
    /// A filter expression (see `crate::filter`).
    pub filter: Option<String>,
    pub keep_timestamps: bool,
    pub keep_partitions: bool,
    pub source_header: bool,
    pub compression: Compression,
    /// Count what would be copied; send nothing.
    pub dry_run: bool,
    /// Allow copying a topic onto itself.
    pub force: bool,
}

impl CopySpec {
    /// A copy of a whole topic, lz4-compressed, keeping nothing optional.
    #[must_use]
    pub fn new(source: &str, dest: &str, selection: CopySelection) -> Self {
        Self {
            source: source.to_string(),
            dest: dest.to_string(),
            selection,
            skip: BTreeMap::new(),
            count: None,
            filter: None,
            keep_timestamps: false,
            keep_partitions: false,
            source_header: false,
            compression: Compression::Lz4,
            dry_run: false,
            force: false,
        }
    }
}

/// How far a copy is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyProgress {
    /// Messages in the ranges to read (an upper bound of what is copied).
    pub total: u64,
    /// Messages read from the source.
    pub read: u64,
    /// Messages selected (matching the filter, not skipped); sent unless a
    /// dry run.
    pub selected: u64,
    /// Acknowledged by the destination.
    pub confirmed: u64,
    /// Failed (not written, or not known to be written).
    pub failed: u64,
    pub elapsed_ms: u64,
}

/// How a copy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// Everything selected was copied (or, for a dry run, counted).
    Complete,
    /// Stopped by the user; what was sent before was waited for.
    Cancelled,
    /// A message failed (the first error, in plain words); reading stopped.
    Failed(String),
}

/// Where an interrupted copy resumes without copying a confirmed message
/// twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// Per unfinished source partition, the first offset not confirmed.
    pub from: BTreeMap<i32, i64>,
    /// Confirmed messages past those offsets, as inclusive ranges.
    pub skip: BTreeMap<i32, Vec<(i64, i64)>>,
    /// Of `--count`, what is left to copy.
    pub count: Option<u64>,
}

/// The end of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub progress: CopyProgress,
    pub dry_run: bool,
    pub outcome: CopyOutcome,
    /// Failed messages the broker may have written all the same (their
    /// request was sent but never answered); a resume copies them again.
    pub uncertain: u64,
    /// For an unfinished range copy: how to resume it.
    pub resume: Option<Resume>,
}
