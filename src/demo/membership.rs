//! Group membership as the demo's own consumers know it.
//!
//! librdkafka's mock cluster answers no ListGroups or DescribeGroups, but
//! every member of the demo's groups is a consumer of this process: its
//! rebalance callbacks say what it was assigned, and librdkafka knows its
//! member id. [`describe`] builds the same [`GroupDescription`] a broker's
//! DescribeGroups would give, so the worker serves it through the usual
//! group refresh and the panes need no special case.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::{LazyLock, Mutex, MutexGuard};

use rdkafka::bindings as rd;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

use crate::model::{GroupDescription, GroupMember, GroupState, TopicPartition};

/// The assignor the demo's consumers use (librdkafka's default first).
pub const ASSIGNOR: &str = "range";

#[derive(Debug, Clone, Default)]
struct Member {
    member_id: String,
    assignment: Vec<TopicPartition>,
    /// Revoked and not yet assigned again: a rebalance is under way.
    rebalancing: bool,
    subscription: Vec<String>,
}

/// group → client id → member.
type Groups = BTreeMap<String, BTreeMap<String, Member>>;

static GROUPS: LazyLock<Mutex<Groups>> = LazyLock::new(Mutex::default);

fn groups() -> MutexGuard<'static, Groups> {
    GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The group as its members report it; `None` for a group with no member of
/// this process ever (not a demo group).
#[must_use]
pub fn describe(group: &str) -> Option<GroupDescription> {
    let all = groups();
    let members = all.get(group)?;
    let state = if members.is_empty() {
        GroupState::Empty
    } else if members
        .values()
        .any(|m| m.rebalancing || m.member_id.is_empty())
    {
        GroupState::PreparingRebalance
    } else {
        GroupState::Stable
    };
    Some(GroupDescription {
        group: group.to_string(),
        state,
        protocol_type: "consumer".into(),
        protocol: if members.is_empty() {
            String::new()
        } else {
            ASSIGNOR.into()
        },
        // A consumer still joining has no member id yet: a broker would
        // not list it either.
        members: members
            .iter()
            .filter(|(_, m)| !m.member_id.is_empty())
            .map(|(client_id, m)| GroupMember {
                member_id: m.member_id.clone(),
                client_id: client_id.clone(),
                host: "/127.0.0.1".into(),
                assignment: Some(m.assignment.clone()),
                assignment_note: None,
                subscription: m.subscription.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

/// A demo consumer's context: records its rebalances.
pub struct Tracked {
    group: String,
    client_id: String,
}

impl Tracked {
    /// Register a member about to join `group` subscribed to `topics`.
    #[must_use]
    pub fn join(group: &str, client_id: &str, topics: &[&str]) -> Self {
        let mut all = groups();
        let members = all.entry(group.to_string()).or_default();
        // A join starts a rebalance for everyone (the eager protocol).
        for m in members.values_mut() {
            m.rebalancing = true;
        }
        members.insert(
            client_id.to_string(),
            Member {
                rebalancing: true,
                subscription: topics.iter().map(|t| (*t).to_string()).collect(),
                ..Member::default()
            },
        );
        drop(all);
        Self {
            group: group.to_string(),
            client_id: client_id.to_string(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Member)) {
        if let Some(m) = groups()
            .get_mut(&self.group)
            .and_then(|g| g.get_mut(&self.client_id))
        {
            f(m);
        }
    }
}

impl Drop for Tracked {
    /// The consumer is gone: it left the group.
    fn drop(&mut self) {
        if let Some(g) = groups().get_mut(&self.group) {
            g.remove(&self.client_id);
            // The others rejoin and are assigned again: until their next
            // assignment the group is rebalancing, so partitions move from
            // the old owner to the new one in one step.
            for m in g.values_mut() {
                m.rebalancing = true;
            }
        }
    }
}

impl ClientContext for Tracked {}

/// librdkafka's member id of a consumer ("" before it joined).
fn member_id(c: &BaseConsumer<Tracked>) -> String {
    // SAFETY: the client pointer is live for the duration of the callback;
    // rd_kafka_memberid returns a string librdkafka allocated (or NULL), which
    // we copy and give back with rd_kafka_mem_free.
    unsafe {
        let rk = c.client().native_ptr();
        let p = rd::rd_kafka_memberid(rk);
        if p.is_null() {
            return String::new();
        }
        let id = CStr::from_ptr(p).to_string_lossy().into_owned();
        rd::rd_kafka_mem_free(rk, p.cast());
        id
    }
}

impl ConsumerContext for Tracked {
    fn pre_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            self.update(|m| {
                m.assignment.clear();
                m.rebalancing = true;
            });
        }
    }

    fn post_rebalance(&self, c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let id = member_id(c);
            let mut parts: Vec<TopicPartition> = tpl
                .elements()
                .iter()
                .map(|e| TopicPartition::new(e.topic(), e.partition()))
                .collect();
            parts.sort();
            self.update(|m| {
                m.member_id = id;
                m.assignment = parts;
                m.rebalancing = false;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_joining_rebalancing_and_leaving() {
        assert!(describe("unit-demo-group").is_none());
        let a = Tracked::join("unit-demo-group", "unit-demo-group-1", &["orders"]);
        let d = describe("unit-demo-group").unwrap();
        assert_eq!(d.state, GroupState::PreparingRebalance);
        assert!(d.members.is_empty(), "not listed before it has a member id");
        a.update(|m| {
            m.member_id = "m-1".into();
            m.assignment = vec![TopicPartition::new("orders", 0)];
            m.rebalancing = false;
        });
        let d = describe("unit-demo-group").unwrap();
        assert_eq!(d.state, GroupState::Stable);
        assert_eq!(d.protocol, ASSIGNOR);
        assert_eq!(d.members[0].member_id, "m-1");
        assert_eq!(d.members[0].client_id, "unit-demo-group-1");
        assert_eq!(
            d.members[0].assignment.as_deref(),
            Some(&[TopicPartition::new("orders", 0)][..])
        );
        // A second member joins: a rebalance for everyone.
        let b = Tracked::join("unit-demo-group", "unit-demo-group-2", &["orders"]);
        let d = describe("unit-demo-group").unwrap();
        assert_eq!(d.state, GroupState::PreparingRebalance);
        assert_eq!(d.members.len(), 1);
        b.update(|m| {
            m.member_id = "m-2".into();
            m.rebalancing = false;
        });
        a.update(|m| m.rebalancing = false);
        assert_eq!(
            describe("unit-demo-group").unwrap().state,
            GroupState::Stable
        );
        // It leaves: the one left rebalances, keeping its partitions until
        // it is assigned again.
        drop(b);
        let d = describe("unit-demo-group").unwrap();
        assert_eq!(d.state, GroupState::PreparingRebalance);
        assert_eq!(d.members.len(), 1);
        drop(a);
        let d = describe("unit-demo-group").unwrap();
        assert_eq!(d.state, GroupState::Empty);
        assert!(d.members.is_empty());
    }
}
