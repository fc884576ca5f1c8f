//! A consumer group's state as its coordinator reports it, and the one rule
//! for changing a group's offsets or deleting it (shared by the console and
//! the worker, so every path refuses the same groups with the same words).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::GroupType;

/// The state of a group, in any of Kafka's group protocols (classic:
/// DescribeGroups; consumer, KIP-848: ConsumerGroupDescribe; share, KIP-932;
/// streams, KIP-1071). The protocols share some names (Empty, Stable, Dead)
/// and each has its own others; what a state means depends on the group's
/// [`GroupType`] (see [`GroupState::meaning_for`]).
///
/// Serialized as Kafka spells it, so JSON output carries the broker's string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum GroupState {
    /// Members joined and hold their assignments.
    Stable,
    /// A member joined or left: the coordinator waits for every member to rejoin.
    PreparingRebalance,
    /// Every member rejoined: the coordinator waits for the leader's assignment.
    CompletingRebalance,
    /// No members; committed offsets may remain.
    Empty,
    /// Consumer or streams protocol: the group epoch moved past the
    /// assignment epoch; the coordinator computes the new target assignment.
    Assigning,
    /// Consumer or streams protocol: the target assignment is computed; some
    /// members still revoke or take partitions to reach it.
    Reconciling,
    /// Streams protocol: the group's topology cannot run yet (internal
    /// topics missing, or members disagree about the topology).
    NotReady,
    /// The group has no members and no metadata left (or does not exist).
    Dead,
    /// A state this build does not know, as the broker spelled it; empty when
    /// the group was not described at all.
    Unknown(String),
}

impl Default for GroupState {
    fn default() -> Self {
        GroupState::unknown()
    }
}

impl GroupState {
    /// The state of a group whose description is missing.
    #[must_use]
    pub fn unknown() -> Self {
        GroupState::Unknown(String::new())
    }

    /// What the state means, in one line (the Groups pane's help).
    #[must_use]
    pub fn meaning(&self) -> &'static str {
        match self {
            GroupState::Stable => {
                "members hold their assignments and consume; commits move the lag"
            }
            GroupState::PreparingRebalance => {
                "a member joined, left or timed out: consumption pauses until every member rejoins"
            }
            GroupState::CompletingRebalance => {
                "every member rejoined: waiting for the leader's assignment to reach them"
            }
            GroupState::Empty => {
                "no members; committed offsets are kept (offsets can be reset or the group deleted)"
            }
            GroupState::Dead => "no members and no metadata: the group is gone or being removed",
            GroupState::Assigning => {
                "consumer/streams protocol: membership or subscriptions changed (group epoch bumped): the coordinator computes the new target assignment"
            }
            GroupState::Reconciling => {
                "consumer/streams protocol: members move to the new target assignment, partition by partition (a partition goes to its new owner once the old one revoked it); the others keep consuming"
            }
            GroupState::NotReady => {
                "streams protocol: the topology cannot run yet (internal topics missing or members disagree)"
            }
            GroupState::Unknown(_) => {
                "the broker did not describe the group, or used a name this build does not know"
            }
        }
    }

    /// What the state means for a group of type `t`: the shared names
    /// (Stable, Empty) read differently in the new protocols.
    #[must_use]
    pub fn meaning_for(&self, t: GroupType) -> &'static str {
        match (t, self) {
            (GroupType::Share, GroupState::Stable) => {
                "share group: members fetch records of the topics together; no committed offsets, so no lag per member"
            }
            (GroupType::Share, GroupState::Empty) => {
                "share group without members; its share-partition start offsets are kept"
            }
            (GroupType::Consumer | GroupType::Streams, GroupState::Stable) => {
                "every member reached the target assignment at the group's epoch and consumes"
            }
            _ => self.meaning(),
        }
    }

    /// The states a broker reports, in lifecycle order: the classic
    /// protocol's, then the states only the new protocols have.
    pub const KNOWN: [GroupState; 8] = [
        GroupState::Stable,
        GroupState::PreparingRebalance,
        GroupState::CompletingRebalance,
        GroupState::Empty,
        GroupState::Dead,
        GroupState::Assigning,
        GroupState::Reconciling,
        GroupState::NotReady,
    ];

    /// The states a group of type `t` can be in (`Unknown`: every known one).
    #[must_use]
    pub fn of_type(t: GroupType) -> &'static [GroupState] {
        use GroupState::{
            Assigning, CompletingRebalance, Dead, Empty, NotReady, PreparingRebalance, Reconciling,
            Stable,
        };
        const CLASSIC: [GroupState; 5] =
            [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead];
        const CONSUMER: [GroupState; 5] = [Empty, Assigning, Reconciling, Stable, Dead];
        const SHARE: [GroupState; 3] = [Empty, Stable, Dead];
        const STREAMS: [GroupState; 6] = [Empty, NotReady, Assigning, Reconciling, Stable, Dead];
        match t {
            GroupType::Classic => &CLASSIC,
            GroupType::Consumer => &CONSUMER,
            GroupType::Share => &SHARE,
            GroupType::Streams => &STREAMS,
            GroupType::Unknown(_) => &GroupState::KNOWN,
        }
    }

    /// From the broker's string (exact spelling; anything else is `Unknown`).
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "Stable" => GroupState::Stable,
            "PreparingRebalance" => GroupState::PreparingRebalance,
            "CompletingRebalance" => GroupState::CompletingRebalance,
            "Empty" => GroupState::Empty,
            "Dead" => GroupState::Dead,
            "Assigning" => GroupState::Assigning,
            "Reconciling" => GroupState::Reconciling,
            "NotReady" => GroupState::NotReady,
            "" | "Unknown" => GroupState::unknown(),
            other => GroupState::Unknown(other.to_string()),
        }
    }

    /// As Kafka spells it (an unknown state as the broker sent it; raw: escape
    /// it before it reaches a terminal).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            GroupState::Stable => "Stable",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Empty => "Empty",
            GroupState::Dead => "Dead",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
            GroupState::NotReady => "NotReady",
            GroupState::Unknown(s) if s.is_empty() => "Unknown",
            GroupState::Unknown(s) => s,
        }
    }

    /// A rebalance is in progress (classic: the stop-the-world one;
    /// consumer/streams: a new target assignment being computed or reached).
    #[must_use]
    pub fn is_rebalancing(&self) -> bool {
        matches!(
            self,
            GroupState::PreparingRebalance
                | GroupState::CompletingRebalance
                | GroupState::Assigning
                | GroupState::Reconciling
        )
    }

    /// Nobody consumes for the group, so its offsets may be changed (and the
    /// group deleted): Empty, or Dead (gone).
    #[must_use]
    pub fn allows_offset_changes(&self) -> bool {
        matches!(self, GroupState::Empty | GroupState::Dead)
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for GroupState {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl From<String> for GroupState {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}

impl From<GroupState> for String {
    fn from(s: GroupState) -> Self {
        s.as_str().to_string()
    }
}

/// A change that needs a group nobody consumes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupChange {
    ResetOffsets,
    Delete,
}

impl GroupChange {
    fn rule(self) -> &'static str {
        match self {
            GroupChange::ResetOffsets => "offsets can only be reset while it is Empty",
            GroupChange::Delete => "a group can only be deleted while it is Empty",
        }
    }
}

/// May `change` be made to a group in `state` with `members` members
/// (`None`: not known)? The rule: the group is Empty (or Dead, i.e. gone) and
/// has no members. Kafka refuses commits from outside a live group and
/// deletion of a group with members anyway; checking first says why in plain
/// words instead of a broker error code. The error is one line (raw: escape it
/// before it reaches a terminal).
pub fn check_group_change(
    change: GroupChange,
    state: &GroupState,
    members: Option<usize>,
) -> Result<(), String> {
    let rule = change.rule();
    match (state, members) {
        (s, None | Some(0)) if s.allows_offset_changes() => Ok(()),
        (GroupState::Unknown(s), _) if s.is_empty() => {
            Err(format!("the group's state is not known: {rule}"))
        }
        (GroupState::Unknown(s), _) => Err(format!(
            "the group's state `{s}` is not one kafkaterm knows: {rule}"
        )),
        (s, Some(n)) => Err(format!(
            "the group is {s} with {n} member(s): {rule} (stop its consumers first)"
        )),
        (s, None) => Err(format!(
            "the group is {s}: {rule} (stop its consumers first)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_as_kafka_spells_it() {
        for s in [
            "Stable",
            "PreparingRebalance",
            "CompletingRebalance",
            "Empty",
            "Dead",
        ] {
            let st = GroupState::parse(s);
            assert!(!matches!(st, GroupState::Unknown(_)), "{s}");
            assert_eq!(st.to_string(), s);
        }
        assert_eq!(GroupState::parse("Unknown"), GroupState::unknown());
        assert_eq!(GroupState::parse(""), GroupState::unknown());
        assert_eq!(GroupState::unknown().as_str(), "Unknown");
        // Case matters: the broker spells the states exactly.
        assert_eq!(
            GroupState::parse("stable"),
            GroupState::Unknown("stable".into())
        );
        let odd = GroupState::parse("Assigning\x1b[2J");
        assert_eq!(odd.as_str(), "Assigning\x1b[2J");
        for s in ["Assigning", "Reconciling", "NotReady"] {
            assert_eq!(GroupState::parse(s).as_str(), s);
        }
        assert!(GroupState::Reconciling.is_rebalancing());
        assert!(GroupState::Assigning.is_rebalancing());
        // Each protocol's own states, from the KIPs.
        let names = |t| {
            GroupState::of_type(t)
                .iter()
                .map(GroupState::as_str)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(GroupType::Consumer),
            ["Empty", "Assigning", "Reconciling", "Stable", "Dead"]
        );
        assert_eq!(names(GroupType::Share), ["Empty", "Stable", "Dead"]);
        assert_eq!(
            names(GroupType::Streams),
            [
                "Empty",
                "NotReady",
                "Assigning",
                "Reconciling",
                "Stable",
                "Dead"
            ]
        );
        assert_ne!(
            GroupState::Stable.meaning_for(GroupType::Share),
            GroupState::Stable.meaning_for(GroupType::Classic)
        );
        assert!(GroupState::PreparingRebalance.is_rebalancing());
        assert!(!GroupState::Stable.is_rebalancing());
    }

    #[test]
    fn serializes_as_the_string() {
        let v = serde_json::to_string(&[
            GroupState::Stable,
            GroupState::unknown(),
            GroupState::Unknown("Weird".into()),
        ])
        .unwrap();
        assert_eq!(v, r#"["Stable","Unknown","Weird"]"#);
        let back: Vec<GroupState> = serde_json::from_str(&v).unwrap();
        assert_eq!(back[0], GroupState::Stable);
        assert_eq!(back[2], GroupState::Unknown("Weird".into()));
    }

    #[test]
    fn only_an_empty_or_dead_group_without_members_may_change() {
        use GroupChange::{Delete, ResetOffsets};
        assert!(check_group_change(ResetOffsets, &GroupState::Empty, Some(0)).is_ok());
        assert!(check_group_change(ResetOffsets, &GroupState::Empty, None).is_ok());
        assert!(check_group_change(Delete, &GroupState::Dead, Some(0)).is_ok());
        let e = check_group_change(ResetOffsets, &GroupState::Stable, Some(3)).unwrap_err();
        assert_eq!(
            e,
            "the group is Stable with 3 member(s): offsets can only be reset while it is Empty (stop its consumers first)"
        );
        let e = check_group_change(Delete, &GroupState::PreparingRebalance, None).unwrap_err();
        assert!(e.contains("only be deleted while it is Empty"), "{e}");
        assert!(e.starts_with("the group is PreparingRebalance:"), "{e}");
        // Empty but members reported: not idle.
        assert!(check_group_change(ResetOffsets, &GroupState::Empty, Some(1)).is_err());
        let e = check_group_change(ResetOffsets, &GroupState::unknown(), Some(0)).unwrap_err();
        assert!(e.starts_with("the group's state is not known"), "{e}");
        let e =
            check_group_change(ResetOffsets, &GroupState::parse("Sleeping"), Some(0)).unwrap_err();
        assert!(e.contains("`Sleeping`"), "{e}");
        // KIP-848 groups: the same rule.
        let e = check_group_change(Delete, &GroupState::Reconciling, Some(2)).unwrap_err();
        assert!(
            e.starts_with("the group is Reconciling with 2 member(s)"),
            "{e}"
        );
        assert!(check_group_change(ResetOffsets, &GroupState::Assigning, Some(0)).is_err());
        assert!(check_group_change(ResetOffsets, &GroupState::NotReady, None).is_err());
    }
}
