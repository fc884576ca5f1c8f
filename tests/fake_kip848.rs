//! Every group type through the worker, against a fake Kafka 4 broker
//! (written with the `kafka-protocol` crate) that answers ListGroups v5
//! with classic, consumer (KIP-848), share and streams groups,
//! ConsumerGroupDescribe with epochs and current/target assignments,
//! ShareGroupDescribe, and DescribeGroups as Apache Kafka does for a group
//! of another protocol (Dead, no members).
//!
//! No broker here speaks KIP-848 yet (the nisshi patch is not in), so this
//! fake is the only check of these paths; the answers follow the KIP and
//! the message schemas. Variants: a broker without ListGroups v5 and
//! ConsumerGroupDescribe (Kafka 3.x), and one whose ConsumerGroupDescribe
//! answers are malformed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

mod common;

use common::fake_kafka::{api, read_request, respond};

use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup as CgdGroup, Member as CgdMember, TopicPartitions,
};
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::share_group_describe_response as sgd;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, ConsumerGroupDescribeRequest,
    ConsumerGroupDescribeResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, ListGroupsResponse,
    ListOffsetsRequest, ListOffsetsResponse, MetadataResponse, OffsetFetchResponse,
    ShareGroupDescribeRequest, ShareGroupDescribeResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafkaterm::config::ClusterProfile;
use kafkaterm::model::{GroupSnapshot, GroupState, GroupType, TopicPartition, reconciling};
use kafkaterm::worker::protocol::{Command, GroupsSnapshot, WorkerEvent};
use serde_json::{Value, json};

const GROUP_AUTHORIZATION_FAILED: i16 = 30;

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Broker {
    /// Kafka 4: ListGroups v5, ConsumerGroupDescribe, ShareGroupDescribe.
    #[default]
    Kafka4,
    /// Kafka 3.x: ListGroups up to v4, no ConsumerGroupDescribe.
    Kafka3,
    /// Kafka 4, but ConsumerGroupDescribe answers bytes that do not decode.
    MalformedCgd,
}

struct FakeBroker {
    port: u16,
    stop: Arc<AtomicBool>,
    unanswered: Arc<Mutex<Vec<String>>>,
}

impl FakeBroker {
    fn start(kind: Broker) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let unanswered = Arc::new(Mutex::new(Vec::new()));
        let (st, un) = (Arc::clone(&stop), Arc::clone(&unanswered));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let un = Arc::clone(&un);
                std::thread::spawn(move || serve(conn, port, kind, &un));
            }
        });
        Self {
            port,
            stop,
            unanswered,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// (name, type, state) of every group the broker lists.
const GROUPS: [(&str, &str, &str); 6] = [
    ("classic-a", "classic", "Stable"),
    ("kip-b", "consumer", "Reconciling"),
    ("kip-err", "consumer", "Stable"),
    ("kip-gone", "consumer", "Stable"),
    ("share-s", "share", "Stable"),
    ("streams-x", "streams", "NotReady"),
];

fn tps(topic: &str, ps: &[i32]) -> Assignment {
    let mut a = Assignment::default();
    if !ps.is_empty() {
        let mut t = TopicPartitions::default();
        t.topic_name = TopicName(s(topic));
        t.partitions = ps.to_vec();
        a.topic_partitions = vec![t];
    }
    a
}

fn cgd_member(id: &str, epoch: i32, current: Assignment, target: Assignment) -> CgdMember {
    let mut m = CgdMember::default();
    m.member_id = s(id);
    m.member_epoch = epoch;
    m.client_id = s(&format!("client-{id}"));
    m.client_host = s("/10.0.0.8");
    m.subscribed_topic_names = vec![TopicName(s("t"))];
    m.assignment = current;
    m.target_assignment = target;
    m
}

fn cgd_group(name: &str) -> CgdGroup {
    let mut g = CgdGroup::default();
    g.group_id = GroupId(s(name));
    g.assignor_name = s("uniform");
    match name {
        "kip-b" => {
            g.group_state = s("Reconciling");
            g.group_epoch = 6;
            g.assignment_epoch = 6;
            // m1 still owns t/1, which the target gives to m2.
            g.members = vec![
                cgd_member("m1", 6, tps("t", &[0, 1]), tps("t", &[0])),
                cgd_member("m2", 5, tps("t", &[]), tps("t", &[1])),
            ];
        }
        "kip-gone" => {
            g.group_state = s("Stable");
            g.group_epoch = 3;
            g.assignment_epoch = 3;
            // A topic known only by an id the metadata lacks (deleted),
            // and an empty target assignment.
            let mut gone = TopicPartitions::default();
            gone.partitions = vec![2];
            let mut current = Assignment::default();
            current.topic_partitions = vec![gone];
            g.members = vec![cgd_member("m9", 3, current, Assignment::default())];
        }
        "kip-err" => g.error_code = GROUP_AUTHORIZATION_FAILED,
        _ => g.error_code = 69,
    }
    g
}

fn serve(mut conn: TcpStream, port: u16, kind: Broker, unanswered: &Mutex<Vec<String>>) {
    let kafka4 = kind != Broker::Kafka3;
    loop {
        let Some((header, key, mut buf)) = read_request(&mut conn) else {
            return;
        };
        let v = header.request_api_version;
        let corr = header.correlation_id;
        let sent = match key {
            ApiKey::ApiVersions => {
                let mut r = ApiVersionsResponse::default();
                r.api_keys = vec![
                    api(ApiKey::ApiVersions, 0, 3),
                    api(ApiKey::Metadata, 0, if kafka4 { 12 } else { 4 }),
                    api(ApiKey::FindCoordinator, 0, if kafka4 { 4 } else { 2 }),
                    api(ApiKey::ListGroups, 0, if kafka4 { 5 } else { 4 }),
                    api(ApiKey::DescribeGroups, 0, 0),
                    api(ApiKey::OffsetFetch, 2, 5),
                    api(ApiKey::ListOffsets, 1, 2),
                ];
                if kafka4 {
                    r.api_keys.push(api(ApiKey::ConsumerGroupDescribe, 0, 1));
                    r.api_keys.push(api(ApiKey::ShareGroupDescribe, 0, 1));
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::Metadata => {
                let mut r = MetadataResponse::default();
                let mut b = MetadataResponseBroker::default();
                b.node_id = BrokerId(1);
                b.host = s("127.0.0.1");
                b.port = i32::from(port);
                r.brokers.push(b);
                r.controller_id = BrokerId(1);
                let mut t = MetadataResponseTopic::default();
                t.name = Some(TopicName(s("t")));
                for p in 0..3 {
                    let mut mp = MetadataResponsePartition::default();
                    mp.partition_index = p;
                    mp.leader_id = BrokerId(1);
                    mp.replica_nodes = vec![BrokerId(1)];
                    mp.isr_nodes = vec![BrokerId(1)];
                    t.partitions.push(mp);
                }
                r.topics.push(t);
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::FindCoordinator => {
                let Ok(req) = FindCoordinatorRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = FindCoordinatorResponse::default();
                if v >= 4 {
                    r.coordinators = req
                        .coordinator_keys
                        .iter()
                        .map(|k| {
                            let mut c = Coordinator::default();
                            c.key = k.clone();
                            c.node_id = BrokerId(1);
                            c.host = s("127.0.0.1");
                            c.port = i32::from(port);
                            c
                        })
                        .collect();
                } else {
                    r.node_id = BrokerId(1);
                    r.host = s("127.0.0.1");
                    r.port = i32::from(port);
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::ListGroups => {
                let mut r = ListGroupsResponse::default();
                for (name, t, state) in GROUPS {
                    // Kafka 3.x has classic groups only.
                    if !kafka4 && t != "classic" {
                        continue;
                    }
                    let mut g = ListedGroup::default();
                    g.group_id = GroupId(s(name));
                    g.protocol_type = s(if t == "classic" || t == "consumer" {
                        "consumer"
                    } else {
                        t
                    });
                    g.group_state = s(state);
                    g.group_type = s(t);
                    r.groups.push(g);
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::DescribeGroups => {
                let Ok(req) = DescribeGroupsRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = DescribeGroupsResponse::default();
                r.groups = req
                    .groups
                    .iter()
                    .map(|g| {
                        let mut d = DescribedGroup::default();
                        d.group_id = g.clone();
                        if &*g.0 == "classic-a" {
                            d.group_state = s("Stable");
                            d.protocol_type = s("consumer");
                            d.protocol_data = s("range");
                        } else {
                            // Apache Kafka, DescribeGroups v0-v5, for a
                            // group of another protocol: Dead, no members.
                            d.group_state = s("Dead");
                        }
                        d
                    })
                    .collect();
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::ConsumerGroupDescribe if kafka4 => {
                let Ok(req) = ConsumerGroupDescribeRequest::decode(&mut buf, v) else {
                    return;
                };
                if kind == Broker::MalformedCgd {
                    // A frame of the right correlation id and junk after it.
                    use std::io::Write;
                    let mut frame = 8i32.to_be_bytes().to_vec();
                    frame.extend_from_slice(&corr.to_be_bytes());
                    frame.extend_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
                    conn.write_all(&frame)
                } else {
                    let mut r = ConsumerGroupDescribeResponse::default();
                    r.groups = req.group_ids.iter().map(|g| cgd_group(&g.0)).collect();
                    respond(&mut conn, corr, v, &r)
                }
            }
            ApiKey::ShareGroupDescribe if kafka4 => {
                let Ok(req) = ShareGroupDescribeRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = ShareGroupDescribeResponse::default();
                r.groups = req
                    .group_ids
                    .iter()
                    .map(|g| {
                        let mut d = sgd::DescribedGroup::default();
                        d.group_id = g.clone();
                        d.group_state = s("Stable");
                        d.group_epoch = 2;
                        d.assignment_epoch = 2;
                        d.assignor_name = s("simple");
                        let mut m = sgd::Member::default();
                        m.member_id = s("share-m1");
                        m.member_epoch = 2;
                        m.client_id = s("client-share");
                        let mut t = sgd::TopicPartitions::default();
                        t.topic_name = TopicName(s("t"));
                        t.partitions = vec![0, 1, 2];
                        m.assignment.topic_partitions = vec![t];
                        d.members = vec![m];
                        d
                    })
                    .collect();
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::OffsetFetch => respond(&mut conn, corr, v, &OffsetFetchResponse::default()),
            ApiKey::ListOffsets => {
                let Ok(req) = ListOffsetsRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = ListOffsetsResponse::default();
                for t in req.topics {
                    let mut rt = ListOffsetsTopicResponse::default();
                    rt.name = t.name;
                    for p in t.partitions {
                        let mut rp = ListOffsetsPartitionResponse::default();
                        rp.partition_index = p.partition_index;
                        rp.offset = if p.timestamp == -2 { 0 } else { 9 };
                        rp.timestamp = -1;
                        rt.partitions.push(rp);
                    }
                    r.topics.push(rt);
                }
                respond(&mut conn, corr, v, &r)
            }
            other => {
                unanswered.lock().unwrap().push(format!("{other:?} v{v}"));
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// A stepped refresh through the worker: the first listing event (before
/// any describe), the last one, and the final answer.
fn refresh(addr: &str) -> (Vec<GroupSnapshot>, GroupsSnapshot) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut w = kafkaterm::worker::spawn(ClusterProfile::adhoc(addr)).unwrap();
        w.commands
            .send(Command::RefreshGroups {
                id: 3,
                only: None,
                first: Some(vec!["kip-b".into()]),
            })
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut first = None;
        loop {
            let ev = tokio::time::timeout_at(deadline, w.events.recv())
                .await
                .expect("timed out waiting for the groups")
                .expect("worker stopped");
            match ev {
                WorkerEvent::GroupList { id: 3, groups, .. } => {
                    first.get_or_insert(groups);
                }
                WorkerEvent::Groups { id: 3, result } => {
                    return (first.expect("a listing came first"), result.unwrap());
                }
                _ => {}
            }
        }
    })
}

fn by_name<'a>(groups: &'a [GroupSnapshot], name: &str) -> &'a GroupSnapshot {
    groups
        .iter()
        .find(|g| g.group == name)
        .unwrap_or_else(|| panic!("group {name} missing"))
}

#[test]
fn every_type_is_listed_at_once_and_kip848_groups_are_described_with_epochs() {
    let broker = FakeBroker::start(Broker::Kafka4);
    let started = Instant::now();
    let (first, done) = refresh(&broker.addr());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        broker.unanswered.lock().unwrap().clone(),
        Vec::<String>::new()
    );
    // The first listing: every group with type and state, members unknown.
    let names: Vec<&str> = first.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, GROUPS.map(|g| g.0));
    for (name, t, state) in GROUPS {
        let g = by_name(&first, name);
        let d = g.description.as_ref().unwrap();
        assert_eq!(d.group_type, GroupType::parse(t), "{name}");
        assert_eq!(d.state.as_str(), state, "{name}");
        assert_eq!(
            g.members(),
            None,
            "{name}: members not known from a listing"
        );
    }
    let groups = &done.groups;
    // Classic: as librdkafka described it.
    let a = by_name(groups, "classic-a").description.clone().unwrap();
    assert_eq!(
        (a.group_type, a.state),
        (GroupType::Classic, GroupState::Stable)
    );
    // KIP-848: never Dead (DescribeGroups said so); epochs and targets.
    let b = by_name(groups, "kip-b").description.clone().unwrap();
    assert_eq!(b.group_type, GroupType::Consumer);
    assert_eq!(b.state, GroupState::Reconciling);
    assert_eq!((b.group_epoch, b.assignment_epoch), (Some(6), Some(6)));
    assert_eq!(b.protocol, "uniform");
    assert_eq!(b.members.len(), 2);
    let m2 = &b.members[1];
    assert_eq!((m2.member_id.as_str(), m2.member_epoch), ("m2", Some(5)));
    assert_eq!(m2.assignment, Some(vec![]));
    assert_eq!(
        m2.target_assignment,
        Some(vec![TopicPartition::new("t", 1)])
    );
    assert_eq!(m2.client_id, "client-m2");
    let r: Vec<String> = reconciling(&b).iter().map(ToString::to_string).collect();
    assert_eq!(
        r,
        [
            "m1 reconciling: 1 of 1 target partitions, revoking t/1",
            "m2 reconciling: 0 of 1 target partitions, waiting for t/1 to be revoked by m1"
        ]
    );
    // The partitions' owners are the current owners.
    let owner = |g: &GroupSnapshot, p: i32| {
        g.partitions
            .iter()
            .find(|x| x.partition == p)
            .and_then(|x| x.member_id.clone())
    };
    assert_eq!(owner(by_name(groups, "kip-b"), 1).as_deref(), Some("m1"));
    // An unknown topic id stays as the id; an empty target is no error.
    let gone = by_name(groups, "kip-gone").description.clone().unwrap();
    let m9 = &gone.members[0];
    assert_eq!(
        m9.assignment,
        Some(vec![TopicPartition::new(
            "topic id 00000000-0000-0000-0000-000000000000",
            2
        )])
    );
    assert_eq!(m9.target_assignment, Some(vec![]));
    assert!(
        m9.assignment_note
            .as_deref()
            .is_some_and(|n| n.contains("is not in the metadata")),
        "{m9:?}"
    );
    // A refused describe: the listing's state and why the members are missing.
    let e = by_name(groups, "kip-err").description.clone().unwrap();
    assert_eq!(e.state, GroupState::Stable);
    assert_eq!(
        e.details_note.as_deref(),
        Some("members unavailable: ConsumerGroupDescribe failed (GROUP_AUTHORIZATION_FAILED)")
    );
    assert_eq!(by_name(groups, "kip-err").members(), None);
    // Share: members from ShareGroupDescribe; streams: state, and why no members.
    let sh = by_name(groups, "share-s").description.clone().unwrap();
    assert_eq!(
        (sh.group_type, sh.state),
        (GroupType::Share, GroupState::Stable)
    );
    assert_eq!(sh.members[0].member_id, "share-m1");
    assert_eq!(sh.members[0].target_assignment, None);
    let st = by_name(groups, "streams-x").description.clone().unwrap();
    assert_eq!(
        (st.group_type, st.state),
        (GroupType::Streams, GroupState::NotReady)
    );
    assert!(st.details_note.unwrap().contains("StreamsGroupDescribe"));
    assert_eq!(done.list_note, None);
}

#[test]
fn a_kafka3_broker_keeps_the_classic_view_and_says_why_kip848_details_are_missing() {
    let broker = FakeBroker::start(Broker::Kafka3);
    let (_, done) = refresh(&broker.addr());
    assert_eq!(
        broker.unanswered.lock().unwrap().clone(),
        Vec::<String>::new()
    );
    let names: Vec<&str> = done.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, ["classic-a"]);
    let a = done.groups[0].description.clone().unwrap();
    assert_eq!(
        (a.group_type, a.state),
        (GroupType::Classic, GroupState::Stable)
    );
    assert_eq!(
        a.details_note.as_deref(),
        Some(
            "KIP-848 details unavailable: the broker does not offer ListGroups v5 (group types): KIP-848 details are missing (a Kafka 3.x broker has no KIP-848 groups)"
        )
    );
    assert_eq!(done.list_note, None);
}

#[test]
fn a_malformed_consumer_group_describe_is_a_note_not_a_panic() {
    let broker = FakeBroker::start(Broker::MalformedCgd);
    let (_, done) = refresh(&broker.addr());
    let b = by_name(&done.groups, "kip-b").description.clone().unwrap();
    assert_eq!(
        b.state,
        GroupState::Reconciling,
        "the listing's state stays"
    );
    let note = b.details_note.unwrap();
    assert!(
        note.starts_with("members unavailable: ") && note.contains("malformed answer"),
        "{note}"
    );
    // The other types are unaffected.
    let sh = by_name(&done.groups, "share-s")
        .description
        .clone()
        .unwrap();
    assert_eq!(sh.members.len(), 1);
}

#[test]
fn headless_json_carries_types_epochs_and_target_assignments() {
    let broker = FakeBroker::start(Broker::Kafka4);
    let sb = common::Sandbox::new();
    let o = sb.run(&["-b", &broker.addr(), "groups", "--json"], None);
    let out = common::stdout(&o);
    // kip-err's members are unknown (its describe was refused): exit 5.
    assert_eq!(o.status.code(), Some(5), "{out}\n{}", common::stderr(&o));
    let v: Value = serde_json::from_str(&out).unwrap();
    let row = |g: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == g)
            .unwrap()
            .clone()
    };
    for (name, t, state) in GROUPS {
        assert_eq!(row(name)["type"], t, "{name}");
        assert_eq!(row(name)["state"], state, "{name}");
    }
    assert_eq!(row("kip-b")["members"], 2);
    assert_eq!(row("kip-err")["members"], Value::Null);
    assert!(
        row("streams-x")["note"]
            .as_str()
            .unwrap()
            .contains("StreamsGroupDescribe"),
        "{v}"
    );
    assert_eq!(row("classic-a")["note"], "");

    let o = sb.run(&["-b", &broker.addr(), "lag", "kip-b", "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["type"], "consumer");
    assert_eq!(v["state"], "Reconciling");
    assert_eq!(
        (v["group_epoch"].clone(), v["assignment_epoch"].clone()),
        (json!(6), json!(6))
    );
    let m2 = &v["members"][1];
    assert_eq!(m2["member_id"], "m2");
    assert_eq!(m2["member_epoch"], 5);
    assert_eq!(m2["assignments"], json!([]));
    assert_eq!(
        m2["target_assignments"],
        json!([{"topic": "t", "partition": 1}])
    );
    assert_eq!(
        v["reconciling"][1],
        "m2 reconciling: 0 of 1 target partitions, waiting for t/1 to be revoked by m1"
    );
    // A classic group by name: as before, no KIP-848 fields.
    let o = sb.run(&["-b", &broker.addr(), "lag", "classic-a", "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["type"], "classic");
    assert_eq!(v["group_epoch"], Value::Null);
    assert_eq!(v["notes"], json!([]));
}

#[test]
fn a_live_kip848_group_is_refused_by_the_empty_only_rule() {
    let broker = FakeBroker::start(Broker::Kafka4);
    let sb = common::Sandbox::new();
    let a = broker.addr();
    for args in [
        vec!["-b", &a, "delete-group", "kip-b", "--execute"],
        vec![
            "-b",
            &a,
            "reset",
            "kip-b",
            "--to",
            "earliest",
            "--topic",
            "t",
            "--execute",
        ],
    ] {
        let o = sb.run(&args, None);
        let e = common::stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {e}");
        assert!(
            e.contains("the group is Reconciling with 2 member(s)")
                && e.contains("while it is Empty"),
            "{e}"
        );
    }
    assert_eq!(
        broker.unanswered.lock().unwrap().clone(),
        Vec::<String>::new()
    );
}
