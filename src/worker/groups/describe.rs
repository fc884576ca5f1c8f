//! Describing groups: a listed group's description, its members'
//! assignments and subscriptions decoded from the consumer protocol's
//! bytes, or the note saying why its membership is unknown.

use rdkafka::error::RDKafkaErrorCode;

use crate::kafka::consumer_protocol;
use crate::model::{GroupDescription, GroupMember, GroupState};
use crate::worker::group_list::ListedGroup;

/// Why a listed group's membership is unknown (DescribeGroups answered it
/// with an error), in the words shown as the group's note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MembershipUnknown(pub String);

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
                ..Default::default()
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
        ..Default::default()
    }
}

/// A listed group's description, or, when DescribeGroups answered the group
/// with an error, the note saying why its membership is unknown. A group the
/// coordinator no longer knows is Dead with no members.
pub fn description_of(g: &ListedGroup) -> Result<GroupDescription, MembershipUnknown> {
    match &g.error {
        None => Ok(describe(g)),
        Some(e) if e.code == RDKafkaErrorCode::GroupIdNotFound => Ok(GroupDescription {
            group: g.name.clone(),
            state: GroupState::Dead,
            protocol_type: String::new(),
            protocol: String::new(),
            members: Vec::new(),
            ..Default::default()
        }),
        Some(e) => Err(MembershipUnknown(e.membership_note())),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::consumer_protocol::encode;
    use crate::model::TopicPartition;

    #[test]
    fn member_decoding_notes() {
        let mut m = GroupMember {
            member_id: "m1".into(),
            client_id: String::new(),
            host: String::new(),
            assignment: None,
            assignment_note: None,
            subscription: vec![],
            ..Default::default()
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
}
