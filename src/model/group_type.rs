//! Which group protocol a group speaks (ListGroups v5's `GroupType`), and
//! what a KIP-848 group's members still have to do to reach their target
//! assignment.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{GroupDescription, TopicPartition};

/// A group's protocol, as ListGroups v5 names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupType {
    /// The classic protocol (JoinGroup/SyncGroup; every group before Kafka 4).
    #[default]
    Classic,
    /// KIP-848's consumer protocol (ConsumerGroupHeartbeat, server-side
    /// assignment, member epochs).
    Consumer,
    /// KIP-932's share groups (queues).
    Share,
    /// KIP-1071's streams groups.
    Streams,
    /// A type this build does not know, as the broker spelled it (raw:
    /// escape it before it reaches a terminal).
    Unknown(String),
}

impl GroupType {
    /// From ListGroups' `GroupType` (Kafka spells them in lower case).
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "classic" | "Classic" => GroupType::Classic,
            "consumer" | "Consumer" => GroupType::Consumer,
            "share" | "Share" => GroupType::Share,
            "streams" | "Streams" => GroupType::Streams,
            other => GroupType::Unknown(other.to_string()),
        }
    }

    /// As Kafka spells it (the JSON `type`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            GroupType::Classic => "classic",
            GroupType::Consumer => "consumer",
            GroupType::Share => "share",
            GroupType::Streams => "streams",
            GroupType::Unknown(s) if s.is_empty() => "unknown",
            GroupType::Unknown(s) => s,
        }
    }

    /// Two letters for a narrow list (`cl`, `co`, `sh`, `st`, `?`).
    #[must_use]
    pub fn marker(&self) -> &'static str {
        match self {
            GroupType::Classic => "cl",
            GroupType::Consumer => "co",
            GroupType::Share => "sh",
            GroupType::Streams => "st",
            GroupType::Unknown(_) => "?",
        }
    }

    /// The protocol has member epochs and a server-side target assignment
    /// (consumer and streams groups).
    #[must_use]
    pub fn has_epochs(&self) -> bool {
        matches!(self, GroupType::Consumer | GroupType::Streams)
    }

    /// Committed offsets (and so lag) exist for groups of this type.
    #[must_use]
    pub fn has_committed_offsets(&self) -> bool {
        !matches!(self, GroupType::Share)
    }

    /// What the type means, in one line (the Groups pane's help).
    #[must_use]
    pub fn meaning(&self) -> &'static str {
        match self {
            GroupType::Classic => {
                "classic protocol: a rebalance stops every member until the leader's assignment arrives"
            }
            GroupType::Consumer => {
                "KIP-848 consumer protocol: the broker assigns; members move partition by partition, each with its member epoch"
            }
            GroupType::Share => {
                "KIP-932 share group: members share partitions record by record; no committed offsets, no lag column"
            }
            GroupType::Streams => {
                "KIP-1071 streams group: Kafka Streams with broker-side assignment"
            }
            GroupType::Unknown(_) => "a group type this build does not know",
        }
    }

    /// Every known type, for the help.
    pub const KNOWN: [GroupType; 4] = [
        GroupType::Classic,
        GroupType::Consumer,
        GroupType::Share,
        GroupType::Streams,
    ];
}

impl fmt::Display for GroupType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GroupType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A member of a KIP-848 group that has not reached its target assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciling {
    pub member_id: String,
    /// Target partitions the member already owns.
    pub owned: usize,
    /// Its target assignment's size.
    pub target: usize,
    /// Target partitions another member still owns: (partition, owner).
    pub waiting: Vec<(TopicPartition, String)>,
    /// Target partitions nobody owns that the member has yet to take.
    pub to_take: Vec<TopicPartition>,
    /// Partitions it owns that are not in its target: it must revoke them.
    pub to_revoke: Vec<TopicPartition>,
}

fn tp(p: &TopicPartition) -> String {
    format!("{}/{}", p.topic, p.partition)
}

fn list(ps: &[TopicPartition]) -> String {
    const SHOWN: usize = 3;
    let mut s = ps.iter().take(SHOWN).map(tp).collect::<Vec<_>>().join(", ");
    if ps.len() > SHOWN {
        s.push_str(&format!(" and {} more", ps.len() - SHOWN));
    }
    s
}

impl fmt::Display for Reconciling {
    /// "m2 reconciling: 2 of 3 target partitions, waiting for t/4 to be
    /// revoked by m1" (raw member ids: escape before a terminal).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} reconciling: {} of {} target partitions",
            self.member_id, self.owned, self.target
        )?;
        let mut by_owner: BTreeMap<&str, Vec<TopicPartition>> = BTreeMap::new();
        for (p, owner) in &self.waiting {
            by_owner.entry(owner).or_default().push(p.clone());
        }
        for (owner, ps) in by_owner {
            write!(f, ", waiting for {} to be revoked by {owner}", list(&ps))?;
        }
        if !self.to_take.is_empty() {
            write!(f, ", yet to take {}", list(&self.to_take))?;
        }
        if !self.to_revoke.is_empty() {
            write!(f, ", revoking {}", list(&self.to_revoke))?;
        }
        Ok(())
    }
}

/// The members of a described group whose current assignment differs from
/// their target assignment (only groups whose description carries target
/// assignments: KIP-848 ones), in member order.
#[must_use]
pub fn reconciling(d: &GroupDescription) -> Vec<Reconciling> {
    let mut owner: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
    for m in &d.members {
        for p in m.assignment.iter().flatten() {
            owner.insert(p, &m.member_id);
        }
    }
    let mut out = Vec::new();
    for m in &d.members {
        let Some(target) = &m.target_assignment else {
            continue;
        };
        let current: &[TopicPartition] = m.assignment.as_deref().unwrap_or(&[]);
        let mut r = Reconciling {
            member_id: m.member_id.clone(),
            owned: 0,
            target: target.len(),
            waiting: Vec::new(),
            to_take: Vec::new(),
            to_revoke: current
                .iter()
                .filter(|p| !target.contains(p))
                .cloned()
                .collect(),
        };
        for p in target {
            if current.contains(p) {
                r.owned += 1;
            } else {
                match owner.get(p) {
                    Some(o) if *o != m.member_id => r.waiting.push((p.clone(), (*o).to_string())),
                    _ => r.to_take.push(p.clone()),
                }
            }
        }
        if r.owned != r.target || !r.to_revoke.is_empty() {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupMember, GroupState};

    fn member(id: &str, current: &[i32], target: Option<&[i32]>) -> GroupMember {
        let tps = |ps: &[i32]| ps.iter().map(|p| TopicPartition::new("t", *p)).collect();
        GroupMember {
            member_id: id.into(),
            assignment: Some(tps(current)),
            target_assignment: target.map(tps),
            member_epoch: Some(5),
            ..GroupMember::default()
        }
    }

    fn group(members: Vec<GroupMember>) -> GroupDescription {
        GroupDescription {
            group: "g".into(),
            state: GroupState::Reconciling,
            group_type: GroupType::Consumer,
            members,
            ..GroupDescription::default()
        }
    }

    #[test]
    fn types_parse_and_print_as_kafka_spells_them() {
        for t in GroupType::KNOWN {
            assert_eq!(GroupType::parse(t.as_str()), t);
        }
        assert_eq!(GroupType::parse("Consumer"), GroupType::Consumer);
        assert_eq!(
            GroupType::parse("queue"),
            GroupType::Unknown("queue".into())
        );
        assert_eq!(GroupType::Unknown(String::new()).as_str(), "unknown");
        assert_eq!(
            serde_json::to_string(&GroupType::Streams).unwrap(),
            "\"streams\""
        );
        assert!(GroupType::Consumer.has_epochs() && !GroupType::Classic.has_epochs());
        assert!(!GroupType::Share.has_committed_offsets());
    }

    #[test]
    fn a_member_waiting_for_a_revocation_is_named_with_the_owner() {
        // m1 still owns 0 and 4; its target is 0 only. m2's target 1, 2, 4.
        let g = group(vec![
            member("m1", &[0, 4], Some(&[0])),
            member("m2", &[1, 2], Some(&[1, 2, 4])),
        ]);
        let r = reconciling(&g);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].to_string(),
            "m1 reconciling: 1 of 1 target partitions, revoking t/4"
        );
        assert_eq!(
            r[1].to_string(),
            "m2 reconciling: 2 of 3 target partitions, waiting for t/4 to be revoked by m1"
        );
    }

    #[test]
    fn a_free_partition_is_to_take_and_a_reconciled_member_is_not_listed() {
        let g = group(vec![
            member("m1", &[0], Some(&[0])),
            member("m2", &[], Some(&[1, 2, 3, 5])),
            // No target known (classic describe): never reported.
            member("m3", &[7], None),
        ]);
        let r = reconciling(&g);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_string(),
            "m2 reconciling: 0 of 4 target partitions, yet to take t/1, t/2, t/3 and 1 more"
        );
    }

    #[test]
    fn an_empty_target_with_nothing_owned_is_reconciled() {
        let g = group(vec![
            member("m1", &[], Some(&[])),
            member("m2", &[3], Some(&[])),
        ]);
        let r = reconciling(&g);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].member_id, "m2");
        assert_eq!(
            r[0].to_string(),
            "m2 reconciling: 0 of 0 target partitions, revoking t/3"
        );
    }
}
