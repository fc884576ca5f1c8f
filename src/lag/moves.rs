//! Rebalance detection: membership and state changes between two
//! descriptions, and partitions that moved between stable assignments.

use std::collections::{BTreeMap, BTreeSet};

use super::events::EventKind;
use crate::model::{GroupDescription, GroupSnapshot, GroupState, TopicPartition};

/// Who owns each partition, when every member reported its assignment.
pub(super) fn owners(s: &GroupSnapshot) -> Option<BTreeMap<TopicPartition, String>> {
    let d = s.description.as_ref()?;
    if d.members.iter().any(|m| m.assignment.is_none()) {
        return None; // assignments not reported: nothing to compare
    }
    let mut out = BTreeMap::new();
    for m in &d.members {
        for tp in m.assignment.iter().flatten() {
            out.insert(tp.clone(), m.member_id.clone());
        }
    }
    Some(out)
}

/// State changes and members that joined or left, from the last
/// description to this one.
pub(super) fn membership(
    prev: &GroupDescription,
    now: &GroupDescription,
    state: &GroupState,
    push: &mut impl FnMut(EventKind),
) {
    if prev.state != *state {
        push(EventKind::StateChanged {
            from: prev.state.clone(),
            to: state.clone(),
        });
    }
    let before: BTreeSet<&str> = prev.members.iter().map(|m| m.member_id.as_str()).collect();
    let after: BTreeSet<&str> = now.members.iter().map(|m| m.member_id.as_str()).collect();
    for m in &now.members {
        if !before.contains(m.member_id.as_str()) {
            push(EventKind::MemberJoined {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                host: m.host.clone(),
            });
        }
    }
    for m in &prev.members {
        if !after.contains(m.member_id.as_str()) {
            push(EventKind::MemberLeft {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
            });
        }
    }
}

/// Partition moves between the last stable assignment and this one.
/// `released` holds partitions revoked by the first round of a cooperative
/// rebalance, reported once the next round shows where they went.
pub(super) fn partition_moves(
    d: &GroupDescription,
    prev_owners: &BTreeMap<TopicPartition, String>,
    now_owners: &BTreeMap<TopicPartition, String>,
    released: &mut BTreeMap<TopicPartition, String>,
    rebalanced: bool,
    push: &mut impl FnMut(EventKind),
) {
    let subscribed: BTreeSet<&str> = d
        .members
        .iter()
        .flat_map(|m| m.subscription.iter().map(String::as_str))
        .collect();
    let keys: BTreeSet<TopicPartition> = prev_owners
        .keys()
        .chain(now_owners.keys())
        .chain(released.keys())
        .cloned()
        .collect();
    for tp in keys {
        let to = now_owners.get(&tp);
        let from = prev_owners.get(&tp).or_else(|| released.get(&tp)).cloned();
        if to.is_none() {
            let Some(from) = from else { continue };
            // Still wanted by the group: a cooperative rebalance revoked it
            // and its next round gives it to someone. Wait for that round
            // (seen, or the owner showing up) before saying where it went.
            let pending = subscribed.contains(tp.topic.as_str())
                && (prev_owners.contains_key(&tp) || !rebalanced);
            if pending {
                released.insert(tp, from);
                continue;
            }
            released.remove(&tp);
            push(EventKind::PartitionMoved {
                topic: tp.topic.clone(),
                partition: tp.partition,
                from: Some(from),
                to: None,
            });
            continue;
        }
        released.remove(&tp);
        if from.as_ref() != to {
            push(EventKind::PartitionMoved {
                topic: tp.topic.clone(),
                partition: tp.partition,
                from,
                to: to.cloned(),
            });
        }
    }
}
