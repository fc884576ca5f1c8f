//! ConsumerGroupDescribe (KIP-848: epochs, current and target assignments)
//! and ShareGroupDescribe (KIP-932), each sent to the groups' coordinators.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, FindCoordinatorRequest, GroupId, MetadataRequest,
    ShareGroupDescribeRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::conn::{Conn, Security};
use super::list::bootstrap;
use super::{WireError, code_name};
use crate::model::{
    GroupDescription, GroupMember, GroupState, GroupType, TOPIC_ID_PREFIX, TopicPartition,
};

/// What describing some groups gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeOutcome {
    /// Each group's description, or why it has none (one line).
    pub groups: BTreeMap<String, Result<GroupDescription, String>>,
}

/// Groups per request.
const CHUNK: usize = 200;
const GROUP_ID_NOT_FOUND: i16 = 69;

/// Describe KIP-848 consumer groups with ConsumerGroupDescribe.
pub fn describe_consumer_groups(
    brokers_csv: &str,
    security: &Security,
    groups: &[String],
    deadline: Instant,
) -> DescribeOutcome {
    describe_with(brokers_csv, security, groups, deadline, Api::Consumer)
}

/// Describe share groups with ShareGroupDescribe.
pub fn describe_share_groups(
    brokers_csv: &str,
    security: &Security,
    groups: &[String],
    deadline: Instant,
) -> DescribeOutcome {
    describe_with(brokers_csv, security, groups, deadline, Api::Share)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Consumer,
    Share,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Consumer => "ConsumerGroupDescribe",
            Api::Share => "ShareGroupDescribe",
        }
    }
}

fn describe_with(
    brokers_csv: &str,
    security: &Security,
    groups: &[String],
    deadline: Instant,
    api: Api,
) -> DescribeOutcome {
    let mut out = DescribeOutcome::default();
    if groups.is_empty() {
        return out;
    }
    let fail_all = |out: &mut DescribeOutcome, why: &str| {
        for g in groups {
            out.groups
                .entry(g.clone())
                .or_insert_with(|| Err(why.to_string()));
        }
    };
    let mut boot = match bootstrap(brokers_csv, security, deadline) {
        Ok(c) => c,
        Err(e) => {
            fail_all(&mut out, &format!("{} not sent: {e}", api.name()));
            return out;
        }
    };
    let coordinators = coordinators(&mut boot, groups);
    let mut by_node: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in groups {
        match coordinators.get(g) {
            Some(Ok(addr)) => by_node.entry(addr.clone()).or_default().push(g.clone()),
            Some(Err(why)) => {
                out.groups.insert(g.clone(), Err(why.clone()));
            }
            None => {
                out.groups
                    .insert(g.clone(), Err("no coordinator found for the group".into()));
            }
        }
    }
    let mut topic_ids: Option<HashMap<String, String>> = None;
    for (addr, gs) in by_node {
        let conn = if addr == boot.addr() {
            Ok(None)
        } else {
            Conn::open(&addr, security, deadline).map(Some)
        };
        let mut own;
        let c: &mut Conn = match conn {
            Ok(Some(c)) => {
                own = c;
                &mut own
            }
            Ok(None) => &mut boot,
            Err(e) => {
                for g in gs {
                    out.groups
                        .insert(g, Err(format!("{} not sent: {e}", api.name())));
                }
                continue;
            }
        };
        for chunk in gs.chunks(CHUNK) {
            let answered = match api {
                Api::Consumer => consumer_chunk(c, chunk),
                Api::Share => share_chunk(c, chunk),
            };
            match answered {
                Ok(ds) => {
                    for (g, mut d) in ds {
                        if let Ok(desc) = &mut d
                            && needs_names(desc)
                        {
                            let ids = topic_ids.get_or_insert_with(|| topic_names(c));
                            resolve_names(desc, ids);
                        }
                        out.groups.insert(g, d);
                    }
                }
                Err(e) => {
                    for g in chunk {
                        out.groups.insert(g.clone(), Err(e.to_string()));
                    }
                }
            }
        }
    }
    fail_all(
        &mut out,
        &format!("{} did not answer for the group", api.name()),
    );
    out
}

/// Each group's coordinator (`host:port`) or why it has none.
fn coordinators(conn: &mut Conn, groups: &[String]) -> HashMap<String, Result<String, String>> {
    let mut out = HashMap::new();
    if conn.version::<FindCoordinatorRequest>(4).is_some() {
        for chunk in groups.chunks(CHUNK) {
            let mut req = FindCoordinatorRequest::default();
            req.coordinator_keys = chunk
                .iter()
                .map(|g| StrBytes::from_string(g.clone()))
                .collect();
            match conn.call(&req, 4) {
                Ok((r, _)) => {
                    for c in r.coordinators {
                        let v = if c.error_code == 0 {
                            Ok(format!("{}:{}", c.host.as_str(), c.port))
                        } else {
                            Err(format!(
                                "FindCoordinator failed ({})",
                                code_name(c.error_code)
                            ))
                        };
                        out.insert(c.key.as_str().to_string(), v);
                    }
                }
                Err(e) => {
                    for g in chunk {
                        out.insert(g.clone(), Err(format!("FindCoordinator failed: {e}")));
                    }
                }
            }
        }
        return out;
    }
    for g in groups {
        let mut req = FindCoordinatorRequest::default();
        req.key = StrBytes::from_string(g.clone());
        let v = match conn.call(&req, 0) {
            Ok((r, _)) if r.error_code == 0 => Ok(format!("{}:{}", r.host.as_str(), r.port)),
            Ok((r, _)) => Err(format!(
                "FindCoordinator failed ({})",
                code_name(r.error_code)
            )),
            Err(e) => Err(format!("FindCoordinator failed: {e}")),
        };
        out.insert(g.clone(), v);
    }
    out
}

type Described = Vec<(String, Result<GroupDescription, String>)>;

/// One group's error in one line; `None` for no error.
fn group_error(api: Api, code: i16, message: Option<&StrBytes>) -> Option<String> {
    (code != 0).then(|| {
        let msg = message.map(StrBytes::as_str).filter(|m| !m.is_empty());
        match msg {
            Some(m) => format!("{} failed ({}): {m}", api.name(), code_name(code)),
            None => format!("{} failed ({})", api.name(), code_name(code)),
        }
    })
}

fn tps<'a>(topics: impl Iterator<Item = (&'a str, String, &'a [i32])>) -> Vec<TopicPartition> {
    let mut v: Vec<TopicPartition> = topics
        .flat_map(|(name, id, ps)| {
            // An empty name: resolved from metadata later (the id stands
            // in, marked so).
            let topic = if name.is_empty() {
                format!("{UNRESOLVED}{id}")
            } else {
                name.to_string()
            };
            ps.iter().map(move |p| TopicPartition::new(&topic, *p))
        })
        .collect();
    v.sort();
    v
}

/// Marks a topic known only by id in an assignment.
const UNRESOLVED: &str = "\u{0}id:";

fn consumer_chunk(c: &mut Conn, groups: &[String]) -> Result<Described, WireError> {
    let mut req = ConsumerGroupDescribeRequest::default();
    req.group_ids = groups
        .iter()
        .map(|g| GroupId(StrBytes::from_string(g.clone())))
        .collect();
    let (r, _) = c.call(&req, 0)?;
    Ok(r.groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.0.as_str().to_string();
            if g.error_code == GROUP_ID_NOT_FOUND {
                return (name, Err("the group is gone (GROUP_ID_NOT_FOUND)".into()));
            }
            if let Some(e) = group_error(Api::Consumer, g.error_code, g.error_message.as_ref()) {
                return (name, Err(e));
            }
            let members = g
                .members
                .iter()
                .map(|m| GroupMember {
                    member_id: m.member_id.as_str().to_string(),
                    client_id: m.client_id.as_str().to_string(),
                    host: m.client_host.as_str().to_string(),
                    assignment: Some(tps(m.assignment.topic_partitions.iter().map(|t| {
                        (
                            t.topic_name.0.as_str(),
                            t.topic_id.to_string(),
                            t.partitions.as_slice(),
                        )
                    }))),
                    target_assignment: Some(tps(m.target_assignment.topic_partitions.iter().map(
                        |t| {
                            (
                                t.topic_name.0.as_str(),
                                t.topic_id.to_string(),
                                t.partitions.as_slice(),
                            )
                        },
                    ))),
                    member_epoch: Some(m.member_epoch),
                    subscription: m
                        .subscribed_topic_names
                        .iter()
                        .map(|t| t.0.as_str().to_string())
                        .collect(),
                    assignment_note: None,
                })
                .collect();
            let d = GroupDescription {
                group: name.clone(),
                state: GroupState::parse(g.group_state.as_str()),
                protocol_type: "consumer".into(),
                protocol: g.assignor_name.as_str().to_string(),
                members,
                group_type: GroupType::Consumer,
                group_epoch: Some(g.group_epoch),
                assignment_epoch: Some(g.assignment_epoch),
                details_note: None,
                listed_only: false,
            };
            (name, Ok(d))
        })
        .collect())
}

fn share_chunk(c: &mut Conn, groups: &[String]) -> Result<Described, WireError> {
    let mut req = ShareGroupDescribeRequest::default();
    req.group_ids = groups
        .iter()
        .map(|g| GroupId(StrBytes::from_string(g.clone())))
        .collect();
    let (r, _) = c.call(&req, 0)?;
    Ok(r.groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.0.as_str().to_string();
            if g.error_code == GROUP_ID_NOT_FOUND {
                return (name, Err("the group is gone (GROUP_ID_NOT_FOUND)".into()));
            }
            if let Some(e) = group_error(Api::Share, g.error_code, g.error_message.as_ref()) {
                return (name, Err(e));
            }
            let members = g
                .members
                .iter()
                .map(|m| GroupMember {
                    member_id: m.member_id.as_str().to_string(),
                    client_id: m.client_id.as_str().to_string(),
                    host: m.client_host.as_str().to_string(),
                    assignment: Some(tps(m.assignment.topic_partitions.iter().map(|t| {
                        (
                            t.topic_name.0.as_str(),
                            t.topic_id.to_string(),
                            t.partitions.as_slice(),
                        )
                    }))),
                    member_epoch: Some(m.member_epoch),
                    subscription: m
                        .subscribed_topic_names
                        .iter()
                        .map(|t| t.0.as_str().to_string())
                        .collect(),
                    ..GroupMember::default()
                })
                .collect();
            let d = GroupDescription {
                group: name.clone(),
                state: GroupState::parse(g.group_state.as_str()),
                protocol_type: "share".into(),
                protocol: g.assignor_name.as_str().to_string(),
                members,
                group_type: GroupType::Share,
                group_epoch: Some(g.group_epoch),
                assignment_epoch: Some(g.assignment_epoch),
                details_note: None,
                listed_only: false,
            };
            (name, Ok(d))
        })
        .collect())
}

fn needs_names(d: &GroupDescription) -> bool {
    d.members.iter().any(|m| {
        m.assignment
            .iter()
            .chain(m.target_assignment.iter())
            .flatten()
            .any(|tp| tp.topic.starts_with(UNRESOLVED))
    })
}

/// Topic id -> name, from a Metadata request for every topic (only made when
/// an answer carried an id without its name).
fn topic_names(conn: &mut Conn) -> HashMap<String, String> {
    let mut req = MetadataRequest::default();
    req.topics = None;
    match conn.call(&req, 10) {
        Ok((r, _)) => r
            .topics
            .iter()
            // The nil id means "no id" (a broker before topic ids).
            .filter(|t| !t.topic_id.is_nil())
            .filter_map(|t| {
                Some((
                    t.topic_id.to_string(),
                    t.name.as_ref()?.0.as_str().to_string(),
                ))
            })
            .collect(),
        Err(_) => HashMap::new(),
    }
}

/// Put names for topic ids; an id the metadata does not know stays as the
/// id, and the member's note says the topic is gone.
pub(super) fn resolve_names(d: &mut GroupDescription, ids: &HashMap<String, String>) {
    for m in &mut d.members {
        let mut gone: Vec<String> = Vec::new();
        for tp in m
            .assignment
            .iter_mut()
            .chain(m.target_assignment.iter_mut())
            .flatten()
        {
            if let Some(id) = tp.topic.strip_prefix(UNRESOLVED) {
                let id = id.to_string();
                match ids.get(&id) {
                    Some(name) => tp.topic.clone_from(name),
                    None => {
                        if !gone.contains(&id) {
                            gone.push(id.clone());
                        }
                        tp.topic = format!("{TOPIC_ID_PREFIX}{id}");
                    }
                }
            }
        }
        if !gone.is_empty() {
            m.assignment_note = Some(format!(
                "topic id {} is not in the metadata (deleted?): shown as the id",
                gone.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_topic_ids_stay_as_ids_with_a_note() {
        let mut d = GroupDescription {
            members: vec![GroupMember {
                member_id: "m1".into(),
                assignment: Some(vec![
                    TopicPartition::new(&format!("{UNRESOLVED}AAAA"), 0),
                    TopicPartition::new(&format!("{UNRESOLVED}BBBB"), 1),
                ]),
                target_assignment: Some(vec![TopicPartition::new(&format!("{UNRESOLVED}AAAA"), 0)]),
                ..GroupMember::default()
            }],
            ..GroupDescription::default()
        };
        assert!(needs_names(&d));
        let ids: HashMap<String, String> = [("AAAA".to_string(), "orders".to_string())].into();
        resolve_names(&mut d, &ids);
        let m = &d.members[0];
        assert_eq!(
            m.assignment,
            Some(vec![
                TopicPartition::new("orders", 0),
                TopicPartition::new("topic id BBBB", 1)
            ])
        );
        assert_eq!(
            m.target_assignment,
            Some(vec![TopicPartition::new("orders", 0)])
        );
        assert_eq!(
            m.assignment_note.as_deref(),
            Some("topic id BBBB is not in the metadata (deleted?): shown as the id")
        );
        assert!(!needs_names(&d));
    }
}
