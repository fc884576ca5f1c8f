//! ListGroups v5 on every broker: every group's name, type and state at
//! once, without describing any (KIP-848 made the type part of the answer).

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::{ListGroupsRequest, MetadataRequest};

use super::conn::{Conn, Security};
use super::{WireError, code_name};
use crate::model::{GroupState, GroupType};

/// One group as ListGroups v5 gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedGroup {
    pub name: String,
    pub group_type: GroupType,
    pub state: GroupState,
    pub protocol_type: String,
}

/// Every broker's groups, with the brokers that did not answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypedListing {
    pub groups: Vec<TypedGroup>,
    /// Each broker that failed, with why (its groups are missing).
    pub failed: Vec<String>,
    /// The brokers, `id -> host:port`, for the describes that follow.
    pub brokers: BTreeMap<i32, String>,
}

/// Connect to the first bootstrap broker that answers.
pub(super) fn bootstrap(
    brokers: &str,
    security: &Security,
    deadline: Instant,
) -> Result<Conn, WireError> {
    let mut last = WireError::Failed("no bootstrap broker given".into());
    for addr in brokers.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match Conn::open(addr, security, deadline) {
            Ok(c) => return Ok(c),
            Err(e @ WireError::Unsupported(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The cluster's brokers, `id -> host:port` (Metadata without topics).
pub(super) fn brokers(conn: &mut Conn) -> Result<BTreeMap<i32, String>, WireError> {
    let mut req = MetadataRequest::default();
    req.topics = Some(Vec::new());
    let (r, _) = conn.call(&req, 1)?;
    Ok(r.brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
        .collect())
}

/// List every group on every broker with ListGroups v5 (all types).
///
/// `Err(Unsupported)` when this client cannot reach the cluster or a broker
/// does not offer v5 (the caller falls back to the untyped listing); a
/// broker that fails otherwise is in `failed` and the others' groups are
/// kept.
pub fn list_typed(
    brokers_csv: &str,
    security: &Security,
    deadline: Instant,
) -> Result<TypedListing, WireError> {
    let mut boot = bootstrap(brokers_csv, security, deadline)?;
    if boot.version::<ListGroupsRequest>(5).is_none() {
        return Err(WireError::Unsupported(format!(
            "the broker does not offer ListGroups v5 (group types): {}",
            "KIP-848 details are missing (a Kafka 3.x broker has no KIP-848 groups)"
        )));
    }
    let brokers = brokers(&mut boot)?;
    let mut out = TypedListing {
        brokers: brokers.clone(),
        ..TypedListing::default()
    };
    for addr in brokers.values() {
        let listed = if addr == boot.addr() {
            list_one(&mut boot)
        } else {
            Conn::open(addr, security, deadline).and_then(|mut c| list_one(&mut c))
        };
        match listed {
            Ok(gs) => out.groups.extend(gs),
            Err(WireError::Unsupported(why)) => return Err(WireError::Unsupported(why)),
            Err(WireError::Failed(why)) => out.failed.push(why),
        }
    }
    out.groups.sort_by(|a, b| a.name.cmp(&b.name));
    out.groups.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

fn list_one(conn: &mut Conn) -> Result<Vec<TypedGroup>, WireError> {
    let (r, _) = conn.call(&ListGroupsRequest::default(), 5)?;
    if r.error_code != 0 {
        return Err(WireError::Failed(format!(
            "{}: ListGroups failed ({})",
            conn.addr(),
            code_name(r.error_code)
        )));
    }
    Ok(r.groups
        .iter()
        .map(|g| TypedGroup {
            name: g.group_id.0.as_str().to_string(),
            group_type: if g.group_type.is_empty() {
                // A v5 answer always names the type; an empty one is a
                // group the broker did not classify: by its protocol type.
                if g.protocol_type.is_empty() || g.protocol_type.as_str() == "consumer" {
                    GroupType::Classic
                } else {
                    GroupType::Unknown(String::new())
                }
            } else {
                GroupType::parse(g.group_type.as_str())
            },
            state: GroupState::parse(g.group_state.as_str()),
            protocol_type: g.protocol_type.as_str().to_string(),
        })
        .collect())
}
