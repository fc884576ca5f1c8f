//! Every group type in one refresh: the typed listing (ListGroups v5) names
//! every group with its type and state at once; classic groups are then
//! described through librdkafka as before, consumer (KIP-848) groups with
//! ConsumerGroupDescribe and share groups with ShareGroupDescribe, both our
//! own requests (see `wire`). Merging is pure and tested here.

use crate::model::{GroupDescription, GroupState, GroupType};

use super::wire::TypedGroup;

/// Why a streams group has no members here.
pub const NO_STREAMS_DESCRIBE: &str =
    "members unavailable: StreamsGroupDescribe (API 89) is not spoken by this build";

/// The description a typed listing alone gives: type and state, members
/// not known yet (`listed_only`).
#[must_use]
pub fn listed_description(g: &TypedGroup) -> GroupDescription {
    GroupDescription {
        group: g.name.clone(),
        state: g.state.clone(),
        protocol_type: g.protocol_type.clone(),
        group_type: g.group_type.clone(),
        listed_only: true,
        ..GroupDescription::default()
    }
}

/// Merge what is known of one group: `typed` from the listing, `classic`
/// from librdkafka's DescribeGroups (which answers a group of another
/// protocol with Dead and no members), `own` from our describe of its type.
///
/// A group the listing names under another protocol is never Dead by the
/// classic answer: its own describe wins, else the listing's state with a
/// note saying why its members are missing.
pub fn merge(
    typed: &TypedGroup,
    classic: Option<GroupDescription>,
    own: Option<Result<GroupDescription, String>>,
) -> Result<GroupDescription, String> {
    match &typed.group_type {
        GroupType::Classic => match classic {
            Some(mut d) => {
                d.group_type = GroupType::Classic;
                Ok(d)
            }
            None => Err("membership unavailable: the broker did not describe this group".into()),
        },
        t => {
            if let Some(Ok(mut d)) = own {
                d.group_type = t.clone();
                if d.state == GroupState::Dead || matches!(d.state, GroupState::Unknown(_)) {
                    d.state = typed.state.clone();
                }
                return Ok(d);
            }
            let why = match own {
                Some(Err(e)) => format!("members unavailable: {e}"),
                _ if *t == GroupType::Streams => NO_STREAMS_DESCRIBE.into(),
                _ => format!("members unavailable: this build does not describe {t} groups"),
            };
            let mut d = listed_description(typed);
            d.details_note = Some(why);
            Ok(d)
        }
    }
}

/// Group names of one type in a listing, the ones in `first` first.
#[must_use]
pub fn names_of(groups: &[TypedGroup], t: &GroupType, first: Option<&[String]>) -> Vec<String> {
    let mut v: Vec<String> = groups
        .iter()
        .filter(|g| g.group_type == *t)
        .map(|g| g.name.clone())
        .collect();
    if let Some(first) = first {
        v.sort_by_key(|g| !first.contains(g));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GroupMember;

    fn typed(name: &str, t: GroupType, state: GroupState) -> TypedGroup {
        TypedGroup {
            name: name.into(),
            group_type: t,
            state,
            protocol_type: "consumer".into(),
        }
    }

    #[test]
    fn a_consumer_group_is_never_dead_by_the_classic_answer() {
        let t = typed("g", GroupType::Consumer, GroupState::Reconciling);
        let dead = GroupDescription {
            group: "g".into(),
            state: GroupState::Dead,
            ..GroupDescription::default()
        };
        // Our describe failed: the listing's state, with why.
        let d = merge(
            &t,
            Some(dead.clone()),
            Some(Err("ConsumerGroupDescribe failed (error 1)".into())),
        )
        .unwrap();
        assert_eq!(d.state, GroupState::Reconciling);
        assert_eq!(d.group_type, GroupType::Consumer);
        assert_eq!(
            d.details_note.as_deref(),
            Some("members unavailable: ConsumerGroupDescribe failed (error 1)")
        );
        assert!(d.listed_only);
        // Our describe answered: it wins.
        let own = GroupDescription {
            group: "g".into(),
            state: GroupState::Stable,
            group_epoch: Some(7),
            members: vec![GroupMember::default()],
            ..GroupDescription::default()
        };
        let d = merge(&t, Some(dead), Some(Ok(own))).unwrap();
        assert_eq!(
            (d.state, d.group_epoch, d.members.len()),
            (GroupState::Stable, Some(7), 1)
        );
        assert_eq!(d.group_type, GroupType::Consumer);
        assert!(!d.listed_only);
    }

    #[test]
    fn streams_and_classic_groups() {
        let s = merge(
            &typed("s", GroupType::Streams, GroupState::NotReady),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.state, GroupState::NotReady);
        assert_eq!(s.details_note.as_deref(), Some(NO_STREAMS_DESCRIBE));
        let c = typed("c", GroupType::Classic, GroupState::Stable);
        assert!(merge(&c, None, None).is_err());
        let d = merge(
            &c,
            Some(GroupDescription {
                state: GroupState::Stable,
                ..GroupDescription::default()
            }),
            None,
        )
        .unwrap();
        assert_eq!(d.group_type, GroupType::Classic);
        let names = names_of(
            &[
                typed("a", GroupType::Consumer, GroupState::Stable),
                typed("b", GroupType::Consumer, GroupState::Stable),
                c,
            ],
            &GroupType::Consumer,
            Some(&["b".to_string()]),
        );
        assert_eq!(names, ["b", "a"]);
    }
}
