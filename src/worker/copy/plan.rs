//! A copy's plan and its validation: what is refused before anything is
//! read (read-only, a copy onto itself, a bad filter, a missing
//! destination), and where each source partition starts and ends.

use std::collections::BTreeMap;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use crate::config::ClusterProfile;
use crate::filter::Filter;
use crate::kafka::client::{self, KtClient, KtContext};
use crate::sanitize;
use crate::timeutil::StartAt;
use crate::worker::error::{WorkerError, classify};
use crate::worker::protocol::{BrowseSpec, CopySelection, CopySpec, CopyStart};

/// One source partition as the copy reads it.
#[derive(Debug)]
pub(super) struct Part {
    pub(super) id: i32,
    /// Next offset to read (everything before it is handled).
    pub(super) next: i64,
    /// Exclusive end.
    pub(super) end: i64,
    pub(super) done: bool,
    /// For a `Messages` selection: the offsets wanted, sorted.
    pub(super) wanted: Option<Vec<i64>>,
    /// Inclusive ranges not to copy, sorted.
    pub(super) skip: Vec<(i64, i64)>,
}

impl Part {
    pub(super) fn skips(&self, offset: i64) -> bool {
        self.skip.iter().any(|(a, b)| (*a..=*b).contains(&offset))
            || self
                .wanted
                .as_ref()
                .is_some_and(|w| w.binary_search(&offset).is_err())
    }
}

/// Check what can be checked before reading anything: read-only mode, a
/// copy onto itself, the filter. Returns the parsed filter.
pub fn precheck(
    profile: &ClusterProfile,
    spec: &CopySpec,
    now_ms: i64,
) -> Result<Option<Filter>, WorkerError> {
    if !spec.dry_run {
        crate::worker::error::check_writable(profile)?;
    }
    if spec.source == spec.dest && !spec.force {
        return Err(WorkerError::refused(format!(
            "{} is both the source and the destination: copying a topic onto itself needs --force",
            sanitize::escape(&spec.source)
        )));
    }
    if spec.dest.is_empty() {
        return Err(crate::werr!("no destination topic"));
    }
    spec.filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| Filter::parse(f, now_ms))
        .transpose()
        .map_err(|e| crate::werr!("filter: {e:#}"))
}

/// The consumer the copy reads with: assign-only, never commits.
pub(super) fn new_consumer(
    profile: &ClusterProfile,
) -> Result<KtClient<BaseConsumer<KtContext>>, WorkerError> {
    let group = format!("kafkaterm-copy-{}", std::process::id());
    let cfg = client::client_config(
        profile,
        "copy-read",
        &crate::kafka::defaults::CONSUMER_DEFAULTS,
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            ("auto.offset.reset", "earliest"),
            ("allow.auto.create.topics", "false"),
        ],
    );
    client::create(&cfg, KtContext::default()).map_err(|e| crate::werr!("{e:#}"))
}

/// The partitions of a topic, or `None` when the cluster does not know it.
fn topic_partitions(
    consumer: &BaseConsumer<KtContext>,
    topic: &str,
) -> Result<Option<Vec<i32>>, WorkerError> {
    let md = consumer
        .fetch_metadata(Some(topic), crate::worker::admin::METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let Some(t) = md.topics().iter().find(|t| t.name() == topic) else {
        return Ok(None);
    };
    if let Some(e) = t.error() {
        let code: RDKafkaErrorCode = e.into();
        if code == RDKafkaErrorCode::UnknownTopicOrPartition {
            return Ok(None);
        }
        return Err(crate::werr!(
            "{}: {}",
            sanitize::escape(topic),
            client::plain_words(code).map_or_else(|| code.to_string(), str::to_string)
        ));
    }
    let mut parts: Vec<i32> = t
        .partitions()
        .iter()
        .map(rdkafka::metadata::MetadataPartition::id)
        .collect();
    parts.sort_unstable();
    Ok((!parts.is_empty()).then_some(parts))
}

/// The plan of a copy whose destination exists and, when partitions are
/// kept, has every partition read.
pub(super) fn checked_plan(
    consumer: &BaseConsumer<KtContext>,
    spec: &CopySpec,
) -> Result<Vec<Part>, WorkerError> {
    let Some(dest_parts) = topic_partitions(consumer, &spec.dest)? else {
        return Err(crate::werr!(
            "destination topic {} does not exist",
            sanitize::escape(&spec.dest)
        ));
    };
    let parts = plan(consumer, spec)?;
    if spec.keep_partitions
        && let Some(p) = parts.iter().find(|p| !dest_parts.contains(&p.id))
    {
        return Err(crate::werr!(
            "{} has no partition {} (it has {}): copy without keeping partitions",
            sanitize::escape(&spec.dest),
            p.id,
            dest_parts.len()
        ));
    }
    Ok(parts)
}

/// Messages in the ranges to read: an upper bound of what is copied.
pub(super) fn total(parts: &[Part]) -> u64 {
    parts
        .iter()
        .map(|p| match &p.wanted {
            Some(w) => w.len() as u64,
            None => u64::try_from(p.end - p.next).unwrap_or(0),
        })
        .sum()
}

/// The partitions a selection names, where reading starts, its common end,
/// and (for a `Messages` selection) the offsets wanted per partition.
type Selected = (
    Option<Vec<i32>>,
    StartAt,
    Option<i64>,
    Option<BTreeMap<i32, Vec<i64>>>,
);

fn selected(selection: &CopySelection) -> Selected {
    match selection {
        CopySelection::Range {
            partitions,
            start: CopyStart::At(at),
            end,
        } => (partitions.clone(), *at, *end, None),
        CopySelection::Range {
            start: CopyStart::Offsets(map),
            end,
            ..
        } => (
            Some(map.keys().copied().collect()),
            StartAt::Beginning,
            *end,
            None,
        ),
        CopySelection::Messages(list) => {
            let mut by: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
            for (p, o) in list {
                by.entry(*p).or_default().push(*o);
            }
            for v in by.values_mut() {
                v.sort_unstable();
                v.dedup();
            }
            (
                Some(by.keys().copied().collect()),
                StartAt::Beginning,
                None,
                Some(by),
            )
        }
    }
}

/// The partitions to read, where each starts and ends.
fn plan(consumer: &BaseConsumer<KtContext>, spec: &CopySpec) -> Result<Vec<Part>, WorkerError> {
    let (partitions, start, end, wanted) = selected(&spec.selection);
    if partitions.as_ref().is_some_and(Vec::is_empty) {
        return Err(crate::werr!("nothing selected to copy"));
    }
    let starts = crate::worker::browse::resolve_starts(
        consumer,
        &BrowseSpec {
            topic: spec.source.clone(),
            partitions,
            start,
            isolation: crate::model::Isolation::default(),
            positions: Vec::new(),
        },
    )?;
    let mut parts = Vec::with_capacity(starts.len());
    for s in starts {
        let mut p = Part {
            id: s.partition,
            next: s.start,
            end: end.map_or(s.high, |e| e.clamp(s.low, s.high)),
            done: false,
            wanted: None,
            skip: spec.skip.get(&s.partition).cloned().unwrap_or_default(),
        };
        p.skip.sort_unstable();
        if let CopySelection::Range {
            start: CopyStart::Offsets(map),
            ..
        } = &spec.selection
            && let Some(o) = map.get(&s.partition)
        {
            p.next = (*o).clamp(s.low, s.high);
        }
        if let Some(by) = &wanted {
            let w: Vec<i64> = by.get(&s.partition).cloned().unwrap_or_default();
            // Offsets before the log start are gone: they count as not found.
            p.next = w.first().copied().unwrap_or(s.high).clamp(s.low, s.high);
            p.end = w.last().map_or(p.next, |l| (l + 1).clamp(s.low, s.high));
            p.wanted = Some(w);
        }
        p.done = p.next >= p.end;
        parts.push(p);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_of_messages_reads_their_partitions_sorted_and_once() {
        let (parts, start, end, wanted) = selected(&CopySelection::Messages(vec![
            (2, 9),
            (0, 4),
            (2, 3),
            (2, 9),
        ]));
        assert_eq!(parts, Some(vec![0, 2]));
        assert_eq!((start, end), (StartAt::Beginning, None));
        assert_eq!(
            wanted,
            Some(BTreeMap::from([(0, vec![4]), (2, vec![3, 9])]))
        );
        let part = Part {
            id: 2,
            next: 3,
            end: 10,
            done: false,
            wanted: Some(vec![3, 9]),
            skip: vec![(9, 9)],
        };
        assert!(!part.skips(3));
        assert!(part.skips(4), "an offset not wanted is skipped");
        assert!(part.skips(9), "a skipped range wins over a wanted offset");
        assert_eq!(total(&[part]), 2);
    }
}
