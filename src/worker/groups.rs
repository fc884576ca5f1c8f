//! Consumer groups: list and describe, committed and end offsets (batched),
//! offset reset planning and applying.

use crate::worker::error::{WorkerError, classify, from_code};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use super::Inner;
use super::group_list::{self, ListedGroup};
use super::offsets;
use super::protocol::{GroupsSnapshot, ResetRow, ResetTarget};
use crate::kafka::client::{self, KtClient, KtContext};
use crate::kafka::consumer_protocol;
use crate::model::{
    GroupChange, GroupDescription, GroupMember, GroupSnapshot, GroupState, PartitionLag,
    TopicPartition, check_group_change, lag,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The note of a named group that no broker listed (it may not exist).
pub const NOT_DESCRIBED: &str = "membership unavailable: the broker did not describe this group";

/// The note of a named group on a cluster without DescribeGroups.
pub const NO_DESCRIBE_GROUPS: &str =
    "membership unavailable: this cluster does not support DescribeGroups";

/// Turn a listed group into our description, decoding each member's
/// assignment and subscription (see [`description_of`] for a group that
/// DescribeGroups answered with an error).
#[must_use]
pub fn describe(g: &ListedGroup) -> GroupDescription {
    let consumer_protocol = g.protocol_type == "consumer" || g.protocol_type.is_empty();
    let state = GroupState::parse(&g.state);
    let members = g
        .members
        .iter()
        .map(|m| {
            let mut member = GroupMember {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                host: m.host.clone(),
                assignment: None,
                assignment_note: None,
                subscription: Vec::new(),
            };
            decode_member(
                &mut member,
                Some(&m.metadata),
                Some(&m.assignment),
                consumer_protocol,
                &state,
            );
            member
        })
        .collect();
    GroupDescription {
        group: g.name.clone(),
        state,
        protocol_type: g.protocol_type.clone(),
        protocol: g.protocol.clone(),
        members,
    }
}

/// A listed group's description, or, when DescribeGroups answered the group
/// with an error, the note saying why its membership is unknown. A group the
/// coordinator no longer knows is Dead with no members.
pub fn description_of(g: &ListedGroup) -> Result<GroupDescription, String> {
    match &g.error {
        None => Ok(describe(g)),
        Some(e) if e.code == RDKafkaErrorCode::GroupIdNotFound => Ok(GroupDescription {
            group: g.name.clone(),
            state: GroupState::Dead,
            protocol_type: String::new(),
            protocol: String::new(),
            members: Vec::new(),
        }),
        Some(e) => Err(e.membership_note()),
    }
}

/// Fill a member's assignment and subscription from the raw protocol bytes.
pub fn decode_member(
    member: &mut GroupMember,
    metadata: Option<&[u8]>,
    assignment: Option<&[u8]>,
    consumer_protocol: bool,
    state: &GroupState,
) {
    if !consumer_protocol {
        member.assignment_note = Some("not the consumer protocol: assignment not decoded".into());
        return;
    }
    if let Some(md) = metadata.filter(|b| !b.is_empty())
        && let Ok(s) = consumer_protocol::decode_subscription(md)
    {
        member.subscription = s.topics;
    }
    match assignment.filter(|b| !b.is_empty()) {
        None => {
            member.assignment_note = Some(if *state == GroupState::Stable {
                "assignment not reported by broker".into()
            } else {
                format!("no assignment while the group is {state}")
            });
        }
        Some(b) => match consumer_protocol::decode_assignment(b) {
            Ok(a) => member.assignment = Some(a.partitions),
            Err(e) => {
                member.assignment_note = Some(format!("assignment could not be decoded: {e}"))
            }
        },
    }
}

/// Build a group's snapshot from its parts (pure).
#[must_use]
pub fn build_snapshot(
    group: &str,
    description: Option<GroupDescription>,
    description_note: Option<String>,
    committed: &Result<offsets::Committed, WorkerError>,
    ends: &HashMap<TopicPartition, Result<i64, WorkerError>>,
    ends_error: Option<&str>,
    at_ms: i64,
) -> GroupSnapshot {
    let mut owners: BTreeMap<TopicPartition, String> = BTreeMap::new();
    if let Some(d) = &description {
        for m in &d.members {
            for tp in m.assignment.iter().flatten() {
                owners.insert(tp.clone(), m.member_id.clone());
            }
        }
    }
    let mut committed_map: BTreeMap<TopicPartition, &Result<Option<i64>, WorkerError>> =
        BTreeMap::new();
    if let Ok(c) = committed {
        for (tp, off) in c {
            committed_map.insert(tp.clone(), off);
        }
    }
    // Partitions with a commit, or an error where one may be, or an owner.
    let all: BTreeSet<TopicPartition> = committed_map
        .iter()
        .filter(|(_, o)| !matches!(o, Ok(None)))
        .map(|(tp, _)| tp.clone())
        .chain(owners.keys().cloned())
        .collect();
    let mut failed = Vec::new();
    let partitions: Vec<PartitionLag> = all
        .into_iter()
        .map(|tp| {
            let mut errors = Vec::new();
            let committed = match committed_map.get(&tp) {
                Some(Ok(o)) => *o,
                Some(Err(e)) => {
                    failed.push(format!("{}/{}: {e}", tp.topic, tp.partition));
                    errors.push(format!("committed offset: {e}"));
                    None
                }
                None => None,
            };
            let end = match ends.get(&tp) {
                Some(Ok(e)) => Some(*e).filter(|e| *e >= 0),
                Some(Err(e)) => {
                    errors.push(format!("end offset: {e}"));
                    None
                }
                None => None,
            };
            PartitionLag {
                lag: lag(committed, end),
                member_id: owners.get(&tp).cloned(),
                lag_ms: None,
                lag_ms_estimated: false,
                topic: tp.topic,
                partition: tp.partition,
                committed,
                end,
                lso: None,
                error: (!errors.is_empty()).then(|| errors.join("; ")),
            }
        })
        .collect();
    let mut notes = Vec::new();
    if let Err(e) = committed {
        notes.push(format!("committed offsets unavailable: {e}"));
    }
    if !failed.is_empty() {
        const SHOWN: usize = 3;
        let more = failed.len().saturating_sub(SHOWN);
        failed.truncate(SHOWN);
        let mut note = format!("committed offsets unavailable for {}", failed.join(", "));
        if more > 0 {
            note.push_str(&format!(" and {more} more partition(s)"));
        }
        notes.push(note);
    }
    if let Some(e) = ends_error {
        notes.push(format!("end offsets unavailable: {e}"));
    }
    GroupSnapshot {
        group: group.to_string(),
        description,
        description_note,
        partitions,
        offsets_note: (!notes.is_empty()).then(|| notes.join("; ")),
        at_ms,
    }
}

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
        .filter(|t| !super::admin::is_internal(t.name()))
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| TopicPartition::new(t.name(), p.id()))
        })
        .collect())
}

/// Take a listing's groups into a refresh: each group's name, and its
/// description or the note saying why its membership is unknown. Returns the
/// list's note (a partial listing says so).
fn take_listing(
    listing: &group_list::GroupListing,
    described: &mut BTreeMap<String, GroupDescription>,
    notes: &mut HashMap<String, String>,
    names: &mut BTreeSet<String>,
) -> Option<String> {
    for g in &listing.groups {
        names.insert(g.name.clone());
        match description_of(g) {
            Ok(d) => {
                described.insert(g.name.clone(), d);
            }
            Err(note) => {
                notes.insert(g.name.clone(), note);
            }
        }
    }
    listing.note()
}

/// A step of a stepped group refresh (see [`refresh_in_steps`]).
pub enum Step {
    /// Every group's description, before any offsets.
    Listed(Vec<GroupSnapshot>, Option<String>),
    /// Offsets and lag of some groups.
    Offsets(Vec<GroupSnapshot>),
}

/// Groups whose offsets one step fetches, after the first ones.
const OFFSETS_CHUNK: usize = 500;

/// Refresh every group: list + describe, committed offsets per group, end
/// offsets for all their partitions in one batch (blocking).
pub fn refresh(inner: &Inner, only: Option<&str>) -> Result<GroupsSnapshot, WorkerError> {
    refresh_in_steps(inner, only, None, &mut |_| {})
}

/// [`refresh`], telling `step` the listing as soon as it is in, then the
/// offsets of the groups in `first`, then of the others in chunks
/// (`first: None`: one step with everything).
pub fn refresh_in_steps(
    inner: &Inner,
    only: Option<&str>,
    first: Option<&[String]>,
    step: &mut dyn FnMut(Step),
) -> Result<GroupsSnapshot, WorkerError> {
    // librdkafka's group listing waits for the client's first metadata,
    // which a fresh client only requests on a one-second timer: ask now.
    if !inner
        .warmed
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        // One topic's metadata brings the broker list without the cost of
        // every topic's (seconds on a cluster of 100,000 partitions).
        let _ = inner
            .meta
            .fetch_metadata(Some("__consumer_offsets"), TIMEOUT);
    }
    let at_ms = crate::timeutil::now_ms();
    let unsupported = &inner.profile.unsupported;
    let mut described: BTreeMap<String, GroupDescription> = BTreeMap::new();
    let mut notes: HashMap<String, String> = HashMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut list_note = None;
    let single: Vec<String> = only.map(|g| vec![g.to_string()]).unwrap_or_default();
    let named: &[String] = if only.is_some() {
        &single
    } else {
        &inner.profile.watch_groups
    };
    if only.is_some() {
        // One group: DescribeGroups only.
    } else if unsupported.list_groups {
        list_note = Some(
            "no ListGroups on this cluster: showing the groups named in the config".to_string(),
        );
    } else {
        match group_list::list_groups(inner.meta.client(), None, TIMEOUT) {
            Ok(listing) => {
                list_note = take_listing(&listing, &mut described, &mut notes, &mut names);
            }
            Err(e) => {
                // librdkafka gives no list at all when any broker's
                // ListGroups fails: fall back to the configured groups.
                if named.is_empty() {
                    return Err(e.context("listing groups failed"));
                }
                list_note = Some(format!(
                    "listing groups failed ({e}): showing the groups named in the config"
                ));
            }
        }
    }
    for g in named {
        if !names.insert(g.clone()) {
            // Listed already, described or with its reason.
            continue;
        }
        if unsupported.describe_groups {
            // The demo's groups: membership from its own consumers.
            if let Some(d) = crate::demo::membership::describe(g) {
                described.insert(g.clone(), d);
                notes.insert(
                    g.clone(),
                    "demo: members as the demo's own consumers report them".into(),
                );
                continue;
            }
            notes.insert(g.clone(), NO_DESCRIBE_GROUPS.into());
            continue;
        }
        match group_list::list_groups(inner.meta.client(), Some(g), TIMEOUT) {
            Ok(listing) => match listing.groups.iter().find(|x| x.name == *g) {
                Some(info) => match description_of(info) {
                    Ok(d) => {
                        described.insert(g.clone(), d);
                    }
                    Err(note) => {
                        notes.insert(g.clone(), note);
                    }
                },
                None if listing.partial => {
                    notes.insert(
                        g.clone(),
                        "membership unavailable: not every broker answered in time".into(),
                    );
                }
                None => {
                    notes.insert(g.clone(), NOT_DESCRIBED.into());
                }
            },
            Err(e) => {
                notes.insert(
                    g.clone(),
                    // librdkafka lists the group on every broker before
                    // describing it: a refused ListGroups fails this too.
                    format!("membership unavailable: the group could not be described ({e})"),
                );
            }
        }
    }
    let at_ms_listed = at_ms;
    if first.is_some() {
        let listed = names
            .iter()
            .map(|g| {
                build_snapshot(
                    g,
                    described.get(g).cloned(),
                    notes.get(g).cloned(),
                    &Ok(Vec::new()),
                    &HashMap::new(),
                    None,
                    at_ms_listed,
                )
            })
            .collect();
        step(Step::Listed(listed, list_note.clone()));
    }
    // The order offsets are fetched in: the groups asked for first, then
    // the others in chunks.
    let chunks: Vec<Vec<String>> = match first {
        None => vec![names.iter().cloned().collect()],
        Some(first) => {
            let head: Vec<String> = first
                .iter()
                .filter(|g| names.contains(*g))
                .cloned()
                .collect();
            let rest: Vec<String> = names
                .iter()
                .filter(|g| !head.contains(g))
                .cloned()
                .collect();
            std::iter::once(head)
                .chain(rest.chunks(OFFSETS_CHUNK).map(<[String]>::to_vec))
                .filter(|c| !c.is_empty())
                .collect()
        }
    };
    let mut groups = Vec::with_capacity(names.len());
    let mut meta = None;
    for chunk in chunks {
        let snaps = offsets_of(
            inner,
            &chunk,
            &mut described,
            &mut notes,
            at_ms,
            only.is_none() && first.is_none(),
            &mut meta,
        );
        if first.is_some() {
            step(Step::Offsets(snaps.clone()));
        }
        groups.extend(snaps);
    }
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(GroupsSnapshot {
        groups,
        list_note,
        at_ms,
    })
}

/// Committed and end offsets, lag and lag in time of `names` (blocking).
fn offsets_of(
    inner: &Inner,
    names: &[String],
    described: &mut BTreeMap<String, GroupDescription>,
    notes: &mut HashMap<String, String>,
    at_ms: i64,
    whole: bool,
    meta: &mut Option<Vec<TopicPartition>>,
) -> Vec<GroupSnapshot> {
    // Committed offsets: ask for everything the group committed; where that
    // comes back empty (brokers or mocks that ignore "all topics"), ask again
    // for the partitions of the topics the group subscribes to, or of every topic.
    let first: Vec<(String, Option<Vec<TopicPartition>>)> =
        names.iter().map(|g| (g.clone(), None)).collect();
    let mut committed = offsets::committed_offsets(inner.admin.inner(), &first, TIMEOUT);
    let retry: Vec<String> = committed
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(Vec::is_empty))
        .map(|(g, _)| g.clone())
        .collect();
    if !retry.is_empty() {
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
    }
    // End offsets for every partition any group touches, in one batch.
    let mut parts: BTreeSet<TopicPartition> = BTreeSet::new();
    for r in committed.values().flatten() {
        parts.extend(
            r.iter()
                .filter(|(_, o)| matches!(o, Ok(Some(_))))
                .map(|(tp, _)| tp.clone()),
        );
    }
    for d in described.values() {
        for m in &d.members {
            parts.extend(m.assignment.iter().flatten().cloned());
        }
    }
    let parts: Vec<TopicPartition> = parts.into_iter().collect();
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
                .unwrap_or_else(|| Err("not fetched".into()));
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

/// Compute the new offsets for a reset (blocking; a dry run, writes nothing).
pub fn plan_reset(
    inner: &Inner,
    group: &str,
    target: ResetTarget,
    partitions: Option<Vec<TopicPartition>>,
) -> Result<Vec<ResetRow>, WorkerError> {
    let committed = offsets::committed_offsets(
        inner.admin.inner(),
        &[(group.to_string(), partitions.clone())],
        TIMEOUT,
    )
    .remove(group)
    .unwrap_or_else(|| Err("no answer".into()))?;
    let current: HashMap<TopicPartition, Result<Option<i64>, WorkerError>> =
        committed.into_iter().collect();
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
        return Err("the group has no committed offsets: choose partitions to reset".into());
    }
    let marks = offsets::watermarks(&inner.meta, &parts, TIMEOUT)?;
    let by_time = match target {
        ResetTarget::Timestamp(ts) => Some(offsets::list_offsets(
            &inner.meta,
            &parts,
            Offset::Offset(ts),
            TIMEOUT,
        )?),
        _ => None,
    };
    // A time before a partition's first retained record is not a position
    // in its log: say so rather than quietly resetting to the log start.
    if let (ResetTarget::Timestamp(ts), Some(by_time)) = (target, by_time.as_ref()) {
        let at_start: Vec<(TopicPartition, i64)> = parts
            .iter()
            .filter_map(|tp| match (by_time.get(tp), marks.get(tp)) {
                (Some(Ok(o)), Some((Ok(low), Ok(high)))) if *o >= 0 && *o == *low && low < high => {
                    Some((tp.clone(), *low))
                }
                _ => None,
            })
            .collect();
        if !at_start.is_empty() {
            let first = super::lag_time::record_timestamps(inner, &at_start, TIMEOUT)?;
            for (tp, low) in &at_start {
                if let Some(Some(t0)) = first.get(&(tp.clone(), *low))
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
        }
    }
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
    match listing.groups.iter().find(|g| g.name == group) {
        Some(g) => match &g.error {
            None => Ok((GroupState::parse(&g.state), g.members.len())),
            Some(e) if e.code == RDKafkaErrorCode::GroupIdNotFound => Ok((GroupState::Dead, 0)),
            Some(e) => Err(from_code(e.code).context("cannot check the group's state")),
        },
        None if listing.partial => Err(WorkerError::timeout(
            "cannot check the group's state: not every broker answered in time",
        )),
        None => Ok((GroupState::Dead, 0)),
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
    let consumer: KtClient<BaseConsumer<KtContext>> =
        client::create(&cfg, KtContext::default()).map_err(|e| e.to_string())?;
    let tpl = offsets::tpl_with(
        rows.iter()
            .map(|r| (r.tp.topic.as_str(), r.tp.partition, Offset::Offset(r.new))),
    )?;
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|e| classify(&e))?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::consumer_protocol::encode;

    #[test]
    fn member_decoding_notes() {
        let mut m = GroupMember {
            member_id: "m1".into(),
            client_id: String::new(),
            host: String::new(),
            assignment: None,
            assignment_note: None,
            subscription: vec![],
        };
        decode_member(&mut m, None, Some(&[]), true, &GroupState::Stable);
        assert_eq!(
            m.assignment_note.as_deref(),
            Some("assignment not reported by broker")
        );
        let a = encode::assignment(3, &[TopicPartition::new("t", 1)], Some(b"x"));
        let s = encode::subscription(1, &["t"], None, &[], -1, None);
        decode_member(&mut m, Some(&s), Some(&a), true, &GroupState::Stable);
        assert_eq!(m.assignment, Some(vec![TopicPartition::new("t", 1)]));
        assert_eq!(m.subscription, vec!["t"]);
    }

    #[test]
    fn snapshot_lag_and_owners() {
        let desc = GroupDescription {
            group: "g".into(),
            state: GroupState::Stable,
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: vec![GroupMember {
                member_id: "m1".into(),
                client_id: "c".into(),
                host: "/h".into(),
                assignment: Some(vec![
                    TopicPartition::new("t", 0),
                    TopicPartition::new("t", 1),
                ]),
                assignment_note: None,
                subscription: vec!["t".into()],
            }],
        };
        let committed = Ok(vec![
            (TopicPartition::new("t", 0), Ok(Some(5))),
            (TopicPartition::new("t", 1), Ok(None)),
        ]);
        let ends: HashMap<_, _> = [
            (TopicPartition::new("t", 0), Ok(12)),
            (TopicPartition::new("t", 1), Ok(3)),
        ]
        .into();
        let s = build_snapshot("g", Some(desc), None, &committed, &ends, None, 0);
        assert_eq!(s.partitions.len(), 2);
        assert_eq!(s.partitions[0].lag, Some(7));
        assert_eq!(s.partitions[0].member_id.as_deref(), Some("m1"));
        assert_eq!(s.partitions[1].committed, None);
        assert_eq!(s.partitions[1].lag, None);
        assert_eq!(s.total_lag(), 7);
    }

    #[test]
    fn partition_errors_show_in_the_row_and_the_note() {
        let committed = Ok(vec![
            (TopicPartition::new("t", 0), Ok(Some(5))),
            (
                TopicPartition::new("t", 1),
                Err("not authorized for this topic".into()),
            ),
            (TopicPartition::new("t", 2), Ok(None)),
        ]);
        let ends: HashMap<_, _> = [
            (
                TopicPartition::new("t", 0),
                Err("leader not available".into()),
            ),
            (TopicPartition::new("t", 1), Ok(9)),
        ]
        .into();
        let s = build_snapshot("g", None, None, &committed, &ends, None, 0);
        let rows: Vec<_> = s
            .partitions
            .iter()
            .map(|p| (p.partition, p.committed, p.end, p.error.as_deref()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0, Some(5), None, Some("end offset: leader not available")),
                (
                    1,
                    None,
                    Some(9),
                    Some("committed offset: not authorized for this topic")
                ),
            ],
            "t/2 has no commit and no owner: no row"
        );
        assert_eq!(
            s.offsets_note.as_deref(),
            Some("committed offsets unavailable for t/1: not authorized for this topic")
        );
    }

    fn listed(name: &str, state: &str, error: Option<RDKafkaErrorCode>) -> ListedGroup {
        ListedGroup {
            name: name.into(),
            state: state.into(),
            protocol_type: if error.is_some() { "" } else { "consumer" }.into(),
            protocol: "range".into(),
            members: Vec::new(),
            error: error.map(|code| group_list::GroupError {
                code,
                name: "GROUP_AUTHORIZATION_FAILED".into(),
            }),
        }
    }

    #[test]
    fn a_partial_listing_with_a_refused_group_keeps_every_listed_group() {
        let mut a = listed("a", "Stable", None);
        a.members.push(group_list::ListedMember {
            member_id: "m1".into(),
            client_id: "c1".into(),
            host: "/10.0.0.1".into(),
            metadata: encode::subscription(1, &["t"], None, &[], -1, None),
            assignment: encode::assignment(1, &[TopicPartition::new("t", 0)], None),
        });
        let listing = group_list::GroupListing {
            groups: vec![
                a,
                listed("b", "", Some(RDKafkaErrorCode::GroupAuthorizationFailed)),
                listed("gone", "", Some(RDKafkaErrorCode::GroupIdNotFound)),
            ],
            partial: true,
        };
        let (mut described, mut notes, mut names) = Default::default();
        let note = take_listing(&listing, &mut described, &mut notes, &mut names);
        assert_eq!(
            note.as_deref(),
            Some("3 groups listed; some brokers did not answer in time")
        );
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "gone"]
        );
        let a = &described["a"];
        assert_eq!(a.state, GroupState::Stable);
        assert_eq!(a.members[0].client_id, "c1");
        assert_eq!(
            a.members[0].assignment,
            Some(vec![TopicPartition::new("t", 0)])
        );
        assert_eq!(a.members[0].subscription, vec!["t"]);
        assert!(!described.contains_key("b"));
        assert_eq!(
            notes.get("b").map(String::as_str),
            Some(
                "membership unavailable: DescribeGroups refused: not authorized for this consumer group (GROUP_AUTHORIZATION_FAILED)"
            )
        );
        assert_eq!(described["gone"].state, GroupState::Dead);
        assert!(!notes.contains_key("gone"));
        // The refused group's snapshot: state unknown, the note, offsets as usual.
        let committed = Ok(vec![(TopicPartition::new("t", 1), Ok(Some(4)))]);
        let ends: HashMap<_, _> = [(TopicPartition::new("t", 1), Ok(9))].into();
        let s = build_snapshot(
            "b",
            described.remove("b"),
            notes.remove("b"),
            &committed,
            &ends,
            None,
            0,
        );
        assert_eq!(*s.state(), GroupState::unknown());
        assert_eq!(s.members(), None);
        assert!(
            s.description_note
                .as_deref()
                .is_some_and(|n| n.contains("GROUP_AUTHORIZATION_FAILED"))
        );
        assert_eq!(s.total_lag(), 5);
    }

    #[test]
    fn a_complete_listing_has_no_note() {
        let listing = group_list::GroupListing {
            groups: vec![listed("a", "Empty", None)],
            partial: false,
        };
        let (mut described, mut notes, mut names) = Default::default();
        assert_eq!(
            take_listing(&listing, &mut described, &mut notes, &mut names),
            None
        );
        assert_eq!(described["a"].state, GroupState::Empty);
        assert!(notes.is_empty());
    }
}
