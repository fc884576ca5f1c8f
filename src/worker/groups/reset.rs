//! Resetting a group's offsets: the plan (a dry run: where each partition
//! stands and where it would go), the check that the group may be changed
//! now, and the commit of the plan.

use std::collections::HashMap;

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use super::TIMEOUT;
use crate::kafka::client::{self, KtClient, KtContext};
use crate::model::{GroupChange, GroupState, TopicPartition, check_group_change};
use crate::worker::Inner;
use crate::worker::error::{WorkerError, classify, from_code};
use crate::worker::group_list;
use crate::worker::offsets::{self, OffsetMap, Watermarks};
use crate::worker::protocol::{ResetRow, ResetTarget};

/// Each partition's committed offset now (`None`: none), or why unknown.
type Current = HashMap<TopicPartition, Result<Option<i64>, WorkerError>>;

/// Compute the new offsets for a reset (blocking; a dry run, writes nothing).
pub fn plan_reset(
    inner: &Inner,
    group: &str,
    target: ResetTarget,
    partitions: Option<Vec<TopicPartition>>,
) -> Result<Vec<ResetRow>, WorkerError> {
    let (current, parts) = committed_now(inner, group, partitions)?;
    let marks = offsets::watermarks(&inner.meta, &parts, TIMEOUT)?;
    let by_time = match target {
        ResetTarget::Timestamp(ts) => {
            let by_time = offsets::list_offsets(&inner.meta, &parts, Offset::Offset(ts), TIMEOUT)?;
            check_after_log_start(inner, ts, &parts, &by_time, &marks)?;
            Some(by_time)
        }
        _ => None,
    };
    let mut rows = Vec::with_capacity(parts.len());
    for tp in parts {
        let (low, high) = match marks.get(&tp) {
            Some((Ok(l), Ok(h))) => (*l, *h),
            Some((Err(e), _) | (_, Err(e))) => {
                return Err(e.clone().context(&format!("{}/{}", tp.topic, tp.partition)));
            }
            None => return Err(crate::werr!("{}/{}: no watermarks", tp.topic, tp.partition)),
        };
        // A plan shows where each partition stands: one whose committed
        // offset the broker would not give cannot be planned honestly.
        let cur = match current.get(&tp) {
            Some(Ok(o)) => *o,
            Some(Err(e)) => {
                return Err(crate::werr!(
                    "{}/{}: committed offset unknown: {e}",
                    tp.topic,
                    tp.partition
                ));
            }
            None => None,
        };
        let new = match target {
            ResetTarget::Earliest => low,
            ResetTarget::Latest => high,
            ResetTarget::Offset(o) => o.clamp(low, high),
            ResetTarget::Shift(n) => cur.unwrap_or(low).saturating_add(n).clamp(low, high),
            ResetTarget::Timestamp(_) => match by_time.as_ref().and_then(|m| m.get(&tp)) {
                Some(Ok(o)) if *o >= 0 => *o,
                Some(Ok(_)) => high,
                Some(Err(e)) => {
                    return Err(e.clone().context(&format!("{}/{}", tp.topic, tp.partition)));
                }
                None => high,
            },
        };
        rows.push(ResetRow {
            tp,
            current: cur,
            new,
            low,
            end: high,
        });
    }
    Ok(rows)
}

/// The group's committed offsets, and the partitions to reset: those
/// asked for, or every partition the group committed on.
fn committed_now(
    inner: &Inner,
    group: &str,
    partitions: Option<Vec<TopicPartition>>,
) -> Result<(Current, Vec<TopicPartition>), WorkerError> {
    let committed = offsets::committed_offsets(
        inner.admin.inner(),
        &[(group.to_string(), partitions.clone())],
        TIMEOUT,
    )
    .remove(group)
    .unwrap_or_else(|| Err(crate::werr!("no answer")))?;
    let current: Current = committed.into_iter().collect();
    let parts: Vec<TopicPartition> = match partitions {
        Some(p) => p,
        None => {
            let mut p: Vec<TopicPartition> = current
                .iter()
                .filter(|(_, o)| !matches!(o, Ok(None)))
                .map(|(tp, _)| tp.clone())
                .collect();
            p.sort();
            p
        }
    };
    if parts.is_empty() {
        return Err(crate::werr!(
            "the group has no committed offsets: choose partitions to reset"
        ));
    }
    Ok((current, parts))
}

/// A time before a partition's first retained record is not a position
/// in its log: say so rather than quietly resetting to the log start.
fn check_after_log_start(
    inner: &Inner,
    ts: i64,
    parts: &[TopicPartition],
    by_time: &OffsetMap,
    marks: &Watermarks,
) -> Result<(), WorkerError> {
    let at_start: Vec<(TopicPartition, i64)> = parts
        .iter()
        .filter_map(|tp| match (by_time.get(tp), marks.get(tp)) {
            (Some(Ok(o)), Some((Ok(low), Ok(high)))) if *o >= 0 && *o == *low && low < high => {
                Some((tp.clone(), *low))
            }
            _ => None,
        })
        .collect();
    if at_start.is_empty() {
        return Ok(());
    }
    let first = crate::worker::lag_time::record_timestamps(inner, &at_start, TIMEOUT)?;
    for (tp, low) in &at_start {
        if let Some(crate::worker::lag_time::Answer::Read(Some(t0))) =
            first.get(&(tp.clone(), *low))
            && ts < *t0
        {
            return Err(crate::werr!(
                "{}/{}: {} is before the log start (the first retained record, offset {low}, is from {}): use earliest",
                crate::sanitize::escape(&tp.topic),
                tp.partition,
                crate::timeutil::format_ts(ts, true),
                crate::timeutil::format_ts(*t0, true),
            ));
        }
    }
    Ok(())
}

/// The group's state and member count now, or why they cannot be known.
/// A group the coordinator does not know is Dead with no members.
pub fn group_state(inner: &Inner, group: &str) -> Result<(GroupState, usize), WorkerError> {
    if inner.profile.unsupported.describe_groups {
        return Err(WorkerError::unsupported(
            "this cluster does not support DescribeGroups, so the group cannot be checked to be Empty",
        ));
    }
    let listing = group_list::list_groups(inner.meta.client(), Some(group), TIMEOUT)
        .map_err(|e| e.context("cannot check the group's state"))?;
    let classic = match listing.groups.iter().find(|g| g.name == group) {
        Some(g) => match &g.error {
            None => (GroupState::parse(&g.state), g.members.len()),
            Some(e) if e.code == RDKafkaErrorCode::GroupIdNotFound => (GroupState::Dead, 0),
            Some(e) => return Err(from_code(e.code).context("cannot check the group's state")),
        },
        None if listing.partial => {
            return Err(WorkerError::timeout(
                "cannot check the group's state: not every broker answered in time",
            ));
        }
        None => (GroupState::Dead, 0),
    };
    if classic.0 != GroupState::Dead {
        return Ok(classic);
    }
    // Dead to DescribeGroups: a KIP-848 or share group is, too. Ask.
    match super::other::describe_other(inner, group) {
        super::other::Other::Found(d) => Ok((d.state, d.members.len())),
        super::other::Other::NotFound => Ok(classic),
        super::other::Other::Unknown(why) => Err(WorkerError::new(
            crate::worker::error::ErrorKind::Unsupported,
            format!("cannot check the group's state: DescribeGroups says Dead, and {why}"),
        )),
    }
}

/// Check with the coordinator that `change` may be made to the group now.
pub fn check_change(inner: &Inner, group: &str, change: GroupChange) -> Result<(), WorkerError> {
    let (state, members) = group_state(inner, group)?;
    check_group_change(change, &state, Some(members)).map_err(WorkerError::refused)
}

/// Commit the planned offsets, only if the group is Empty (blocking).
pub fn apply_reset(inner: &Inner, group: &str, rows: &[ResetRow]) -> Result<usize, WorkerError> {
    check_change(inner, group, GroupChange::ResetOffsets)?;
    let cfg = client::client_config(
        &inner.profile,
        "reset",
        &[],
        &[
            ("group.id", group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
        ],
    );
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(&cfg, KtContext::default())
        .map_err(|e| WorkerError::internal(e.to_string()))?;
    let tpl = offsets::tpl_with(
        rows.iter()
            .map(|r| (r.tp.topic.as_str(), r.tp.partition, Offset::Offset(r.new))),
    )?;
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|e| classify(&e))?;
    Ok(rows.len())
}
