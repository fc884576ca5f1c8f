//! One named group that DescribeGroups calls Dead (or does not know): is it
//! a group of another protocol? Asked with ConsumerGroupDescribe, then
//! ShareGroupDescribe (our own requests), so `lag GROUP`, `reset` and
//! `delete-group` see a KIP-848 group as it is, not as Dead.

use std::time::Instant;

use super::TIMEOUT;
use super::wire::{self, Security};
use crate::model::GroupDescription;
use crate::worker::Inner;

/// What the other protocols say of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Other {
    Found(GroupDescription),
    /// No protocol of ours knows it (or the broker has none of them, or
    /// our client cannot reach the cluster).
    NotFound,
    /// It could not be told, and why (one line).
    Unknown(String),
}

/// The describe's answer says the group is not of that protocol, or the
/// broker lacks the API.
fn not_there(why: &str) -> bool {
    why.contains("GROUP_ID_NOT_FOUND") || why.contains("does not offer")
}

/// Describe `group` as a consumer (KIP-848) group, else as a share group.
pub fn describe_other(inner: &Inner, group: &str) -> Other {
    if inner.profile.unsupported.list_groups || inner.profile.unsupported.describe_groups {
        return Other::NotFound;
    }
    // A cluster our client cannot speak to: as before KIP-848 (the
    // classic answer stands); the listing's note says why.
    let Ok(security) = Security::of(&inner.profile) else {
        return Other::NotFound;
    };
    let names = [group.to_string()];
    let deadline = Instant::now() + TIMEOUT;
    let brokers = &inner.profile.brokers;
    type Describe = fn(&str, &Security, &[String], Instant) -> wire::DescribeOutcome;
    let asks: [Describe; 2] = [wire::describe_consumer_groups, wire::describe_share_groups];
    for ask in asks {
        match ask(brokers, &security, &names, deadline)
            .groups
            .remove(group)
        {
            Some(Ok(d)) => return Other::Found(d),
            Some(Err(why)) if not_there(&why) => {}
            Some(Err(why)) => return Other::Unknown(why),
            None => {}
        }
    }
    Other::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_and_missing_apis_are_not_errors() {
        assert!(not_there("the group is gone (GROUP_ID_NOT_FOUND)"));
        assert!(not_there(
            "127.0.0.1:9092: the broker does not offer ConsumerGroupDescribe v0 or later"
        ));
        assert!(!not_there(
            "ConsumerGroupDescribe failed (GROUP_AUTHORIZATION_FAILED)"
        ));
    }
}
