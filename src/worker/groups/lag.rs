//! Groups' offsets and lag: committed offsets per group (asked again for
//! the partitions a group subscribes to where "all" came back empty), end
//! offsets and last stable offsets for every partition in one batch, and
//! each group's snapshot built from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rdkafka::consumer::Consumer;

use super::TIMEOUT;
use super::snapshot::build_snapshot;
use crate::model::{GroupDescription, GroupSnapshot, TopicPartition};
use crate::worker::Inner;
use crate::worker::error::{WorkerError, classify};
use crate::worker::offsets;

/// Ask again for a group's offsets on every partition of the cluster only
/// up to this many partitions.
const EVERY_PARTITION_RETRY_MAX: usize = 20_000;

/// Every partition of the cluster's topics, fetched once per refresh.
fn cached_partitions<'a>(
    inner: &Inner,
    cache: &'a mut Option<Vec<TopicPartition>>,
) -> &'a [TopicPartition] {
    cache.get_or_insert_with(|| all_topic_partitions(inner).unwrap_or_default())
}

/// Every partition of the cluster's non-internal topics (blocking).
fn all_topic_partitions(inner: &Inner) -> Result<Vec<TopicPartition>, WorkerError> {
    let md = inner
        .meta
        .fetch_metadata(None, TIMEOUT)
        .map_err(|e| classify(&e))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| !crate::worker::admin::is_internal(t.name()))
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| TopicPartition::new(t.name(), p.id()))
        })
        .collect())
}

/// Each group's committed offsets, or why they are unknown.
type CommittedByGroup = HashMap<String, Result<offsets::Committed, WorkerError>>;

/// Committed offsets of `names`: everything each group committed; where
/// that comes back empty (brokers or mocks that ignore "all topics"), asked
/// again for the partitions of the topics the group subscribes to, or of
/// every topic (blocking).
fn committed_of(
    inner: &Inner,
    names: &[String],
    described: &BTreeMap<String, GroupDescription>,
    meta: &mut Option<Vec<TopicPartition>>,
) -> CommittedByGroup {
    let first: Vec<(String, Option<Vec<TopicPartition>>)> =
        names.iter().map(|g| (g.clone(), None)).collect();
    let mut committed = offsets::committed_offsets(inner.admin.inner(), &first, TIMEOUT);
    let retry: Vec<String> = committed
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(Vec::is_empty))
        .map(|(g, _)| g.clone())
        .collect();
    if retry.is_empty() {
        return committed;
    }
    let all = cached_partitions(inner, meta);
    let mut second = Vec::new();
    for g in retry {
        let subscribed: BTreeSet<String> = described
            .get(&g)
            .map(|d| {
                d.members
                    .iter()
                    .flat_map(|m| m.subscription.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        let parts: Vec<TopicPartition> = if subscribed.is_empty() {
            // Every partition of the cluster, where that is a sane
            // request: on a big cluster a group that committed nothing
            // is simply shown without offsets.
            if all.len() > EVERY_PARTITION_RETRY_MAX {
                continue;
            }
            all.to_vec()
        } else {
            all.iter()
                .filter(|tp| subscribed.contains(&tp.topic))
                .cloned()
                .collect()
        };
        if !parts.is_empty() {
            second.push((g, Some(parts)));
        }
    }
    committed.extend(offsets::committed_offsets(
        inner.admin.inner(),
        &second,
        TIMEOUT,
    ));
    committed
}

/// Every partition any group committed on or is assigned.
fn touched(
    names: &[String],
    committed: &CommittedByGroup,
    described: &BTreeMap<String, GroupDescription>,
) -> Vec<TopicPartition> {
    let mut parts: BTreeSet<TopicPartition> = BTreeSet::new();
    for r in committed.values().flatten() {
        parts.extend(
            r.iter()
                .filter(|(_, o)| matches!(o, Ok(Some(_))))
                .map(|(tp, _)| tp.clone()),
        );
    }
    // The chunk's groups only; a topic known only by a deleted id has no
    // offsets to ask for.
    for d in names.iter().filter_map(|g| described.get(g)) {
        for m in &d.members {
            parts.extend(
                m.assignment
                    .iter()
                    .flatten()
                    .filter(|tp| !tp.is_unknown_topic_id())
                    .cloned(),
            );
        }
    }
    parts.into_iter().collect()
}

/// Committed and end offsets, lag and lag in time of `names` (blocking).
/// Their descriptions and notes are taken out of `described` and `notes`.
pub(super) fn offsets_of(
    inner: &Inner,
    names: &[String],
    described: &mut BTreeMap<String, GroupDescription>,
    notes: &mut HashMap<String, String>,
    at_ms: i64,
    whole: bool,
    meta: &mut Option<Vec<TopicPartition>>,
) -> Vec<GroupSnapshot> {
    let committed = committed_of(inner, names, described, meta);
    // End offsets for every partition any group touches, in one batch.
    let parts = touched(names, &committed, described);
    let (ends, ends_error) = match offsets::end_offsets(&inner.meta, &parts, TIMEOUT) {
        Ok(m) => (m, None),
        Err(e) => (HashMap::new(), Some(e)),
    };
    // Last stable offsets, to tell lag held by an open transaction.
    let lsos = offsets::end_offsets(&inner.lso, &parts, TIMEOUT).unwrap_or_default();
    let mut groups: Vec<GroupSnapshot> = names
        .iter()
        .map(|g| {
            let c = committed
                .get(g)
                .cloned()
                .unwrap_or_else(|| Err(crate::werr!("not fetched")));
            let mut s = build_snapshot(
                g,
                described.remove(g),
                notes.remove(g),
                &c,
                &ends,
                ends_error.as_ref().map(|e| e.message.as_str()),
                at_ms,
            );
            for p in &mut s.partitions {
                p.lso = lsos
                    .get(&TopicPartition::new(&p.topic, p.partition))
                    .and_then(|r| r.as_ref().ok().copied())
                    .filter(|o| *o >= 0);
            }
            s
        })
        .collect();
    inner.lag_times.fill(inner, &mut groups, whole);
    groups
}
