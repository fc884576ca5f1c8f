//! Groups on a cluster that refuses DescribeGroups for some groups, or whose
//! brokers do not all answer in time: the rest is shown.
//!
//! Neither the nisshi test broker nor librdkafka's mock cluster can refuse
//! DescribeGroups for one group on demand (the mock has no ListGroups or
//! DescribeGroups at all), so a small fake Kafka broker written with the
//! `kafka-protocol` crate answers ApiVersions, Metadata, FindCoordinator,
//! ListGroups (groups a, b, c), DescribeGroups (b refused with
//! GROUP_AUTHORIZATION_FAILED), OffsetFetch and ListOffsets. It can also
//! advertise a second broker that lists group d and never answers its
//! DescribeGroups within the test's timeout, or refuse ListGroups outright.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;

use common::fake_kafka::{api, read_request, respond};

use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, DescribeGroupsRequest, DescribeGroupsResponse,
    FindCoordinatorResponse, GroupId, ListGroupsResponse, ListOffsetsRequest, ListOffsetsResponse,
    MetadataRequest, MetadataResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafkaterm::config::ClusterProfile;
use kafkaterm::kafka::consumer_protocol::encode;
use kafkaterm::model::{GroupSnapshot, GroupState, TopicPartition};
use kafkaterm::worker::group_list;
use kafkaterm::worker::protocol::{Command, GroupsSnapshot, WorkerEvent};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;

const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

/// End offsets of topic `t`: partition 0 at 5, partition 1 at 7.
fn end_of(partition: i32) -> i64 {
    if partition == 0 { 5 } else { 7 }
}

/// What each group committed (all caught up, so no record is ever read).
fn commits(group: &str) -> Vec<(i32, i64)> {
    match group {
        "a" => vec![(0, 5)],
        "b" => vec![(1, 7)],
        "c" => vec![(0, 5), (1, 7)],
        _ => Vec::new(),
    }
}

#[derive(Clone, Copy, Default)]
struct Setup {
    /// Advertise a second broker that lists group d and holds its
    /// DescribeGroups answer back until the broker stops.
    slow_second: bool,
    /// Every ListGroups is refused (CLUSTER_AUTHORIZATION_FAILED).
    refuse_list: bool,
}

struct FakeBroker {
    ports: Vec<u16>,
    stop: Arc<AtomicBool>,
    /// Requests the broker could not answer (a failing test says which).
    unanswered: Arc<Mutex<Vec<String>>>,
}

impl FakeBroker {
    fn start(setup: Setup) -> Self {
        let n = if setup.slow_second { 2 } else { 1 };
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let unanswered = Arc::new(Mutex::new(Vec::new()));
        for (i, listener) in listeners.into_iter().enumerate() {
            let node = i as i32 + 1;
            let (ports, stop, unanswered) =
                (ports.clone(), Arc::clone(&stop), Arc::clone(&unanswered));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (ports, stop, unanswered) =
                        (ports.clone(), Arc::clone(&stop), Arc::clone(&unanswered));
                    std::thread::spawn(move || {
                        serve(conn, node, &ports, setup, &stop, &unanswered);
                    });
                }
            });
        }
        Self {
            ports,
            stop,
            unanswered,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.ports[0])
    }

    fn unanswered(&self) -> Vec<String> {
        self.unanswered.lock().unwrap().clone()
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for p in &self.ports {
            let _ = TcpStream::connect(("127.0.0.1", *p));
        }
    }
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

fn described(group: &str) -> DescribedGroup {
    let mut g = DescribedGroup::default();
    g.group_id = GroupId(s(group));
    match group {
        "b" => g.error_code = GROUP_AUTHORIZATION_FAILED,
        "c" => {
            g.group_state = s("Empty");
            g.protocol_type = s("consumer");
        }
        // a, and d on the second broker: one member owning t/0.
        _ => {
            g.group_state = s("Stable");
            g.protocol_type = s("consumer");
            g.protocol_data = s("range");
            let mut m = DescribedGroupMember::default();
            m.member_id = s(&format!("{group}-member-1"));
            m.client_id = s(&format!("client-{group}"));
            m.client_host = s("/10.0.0.7");
            m.member_metadata = Bytes::from(encode::subscription(1, &["t"], None, &[], -1, None));
            m.member_assignment =
                Bytes::from(encode::assignment(1, &[TopicPartition::new("t", 0)], None));
            g.members = vec![m];
        }
    }
    g
}

fn serve(
    mut conn: TcpStream,
    node: i32,
    ports: &[u16],
    setup: Setup,
    stop: &AtomicBool,
    unanswered: &Mutex<Vec<String>>,
) {
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
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
                    api(ApiKey::Metadata, 0, 4),
                    api(ApiKey::FindCoordinator, 0, 2),
                    api(ApiKey::ListGroups, 0, 0),
                    api(ApiKey::DescribeGroups, 0, 0),
                    api(ApiKey::OffsetFetch, 2, 5),
                    api(ApiKey::ListOffsets, 1, 2),
                ];
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::Metadata => {
                let Ok(req) = MetadataRequest::decode(&mut buf, v) else {
                    return;
                };
                let mut r = MetadataResponse::default();
                for (i, port) in ports.iter().enumerate() {
                    let mut b = MetadataResponseBroker::default();
                    b.node_id = BrokerId(i as i32 + 1);
                    b.host = s("127.0.0.1");
                    b.port = i32::from(*port);
                    r.brokers.push(b);
                }
                r.controller_id = BrokerId(1);
                let mut t = MetadataResponseTopic::default();
                t.name = Some(TopicName(s("t")));
                for p in 0..2 {
                    let mut mp = MetadataResponsePartition::default();
                    mp.partition_index = p;
                    mp.leader_id = BrokerId(1);
                    mp.replica_nodes = vec![BrokerId(1)];
                    mp.isr_nodes = vec![BrokerId(1)];
                    t.partitions.push(mp);
                }
                r.topics.push(t);
                for asked in req.topics.unwrap_or_default() {
                    let Some(name) = asked.name else { continue };
                    if &*name.0 != "t" {
                        let mut u = MetadataResponseTopic::default();
                        u.name = Some(name);
                        u.error_code = UNKNOWN_TOPIC_OR_PARTITION;
                        r.topics.push(u);
                    }
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::FindCoordinator => {
                let mut r = FindCoordinatorResponse::default();
                r.node_id = BrokerId(1);
                r.host = s("127.0.0.1");
                r.port = i32::from(ports[0]);
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::ListGroups => {
                let mut r = ListGroupsResponse::default();
                if setup.refuse_list {
                    r.error_code = CLUSTER_AUTHORIZATION_FAILED;
                } else {
                    let names: &[&str] = if node == 1 { &["a", "b", "c"] } else { &["d"] };
                    for n in names {
                        let mut g = ListedGroup::default();
                        g.group_id = GroupId(s(n));
                        g.protocol_type = s("consumer");
                        r.groups.push(g);
                    }
                }
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::DescribeGroups => {
                let Ok(req) = DescribeGroupsRequest::decode(&mut buf, v) else {
                    return;
                };
                if node == 2 {
                    // The slow broker: no answer while the test runs.
                    let until = Instant::now() + Duration::from_secs(60);
                    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                let mut r = DescribeGroupsResponse::default();
                r.groups = req.groups.iter().map(|g| described(&g.0)).collect();
                respond(&mut conn, corr, v, &r)
            }
            ApiKey::OffsetFetch => {
                let Ok(req) = OffsetFetchRequest::decode(&mut buf, v) else {
                    return;
                };
                let have = commits(&req.group_id.0);
                let asked: Vec<(i32, bool)> = match &req.topics {
                    // Every partition the group committed on.
                    None => have.iter().map(|(p, _)| (*p, true)).collect(),
                    Some(topics) => topics
                        .iter()
                        .flat_map(|t| {
                            let ours = &*t.name.0 == "t";
                            t.partition_indexes.iter().map(move |p| (*p, ours))
                        })
                        .collect(),
                };
                let mut topic = OffsetFetchResponseTopic::default();
                topic.name = TopicName(s("t"));
                for (p, _) in asked.into_iter().filter(|(_, ours)| *ours) {
                    let mut rp = OffsetFetchResponsePartition::default();
                    rp.partition_index = p;
                    rp.committed_offset =
                        have.iter().find(|(q, _)| *q == p).map_or(-1, |(_, o)| *o);
                    rp.committed_leader_epoch = -1;
                    topic.partitions.push(rp);
                }
                let mut r = OffsetFetchResponse::default();
                if !topic.partitions.is_empty() {
                    r.topics.push(topic);
                }
                respond(&mut conn, corr, v, &r)
            }
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
                        rp.offset = if p.timestamp == -2 {
                            0
                        } else {
                            end_of(p.partition_index)
                        };
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

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Refresh the groups through the worker, stepped as the console asks:
/// the listing event, then the final answer.
fn refresh(profile: ClusterProfile) -> (Vec<GroupSnapshot>, Option<String>, GroupsSnapshot) {
    let rt = rt();
    rt.block_on(async {
        let mut w = kafkaterm::worker::spawn(profile).unwrap();
        w.commands
            .send(Command::RefreshGroups {
                id: 7,
                only: None,
                first: Some(Vec::new()),
            })
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut listed = None;
        loop {
            let ev = tokio::time::timeout_at(deadline, w.events.recv())
                .await
                .expect("timed out waiting for the groups")
                .expect("worker stopped");
            match ev {
                WorkerEvent::GroupList {
                    id: 7,
                    groups,
                    list_note,
                } => listed = Some((groups, list_note)),
                WorkerEvent::Groups { id: 7, result } => {
                    let (groups, note) = listed.expect("the listing came before the answer");
                    return (groups, note, result.expect("the refresh succeeded"));
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
        .unwrap_or_else(|| panic!("group {name} not in {:?}", names(groups)))
}

fn names(groups: &[GroupSnapshot]) -> Vec<&str> {
    groups.iter().map(|g| g.group.as_str()).collect()
}

const REFUSED_NOTE: &str = "membership unavailable: DescribeGroups refused: not authorized for this consumer group (GROUP_AUTHORIZATION_FAILED)";

#[test]
fn worker_lists_every_group_and_notes_the_refused_one() {
    let broker = FakeBroker::start(Setup::default());
    let (listed, list_note, done) = refresh(ClusterProfile::adhoc(&broker.addr()));
    assert_eq!(
        broker.unanswered(),
        Vec::<String>::new(),
        "requests the fake broker did not expect"
    );
    for groups in [&listed, &done.groups] {
        assert_eq!(names(groups), ["a", "b", "c"]);
        let a = by_name(groups, "a");
        assert_eq!(*a.state(), GroupState::Stable);
        let d = a.description.as_ref().unwrap();
        assert_eq!(d.protocol, "range");
        assert_eq!(d.members.len(), 1);
        assert_eq!(d.members[0].client_id, "client-a");
        assert_eq!(d.members[0].host, "/10.0.0.7");
        assert_eq!(
            d.members[0].assignment,
            Some(vec![TopicPartition::new("t", 0)])
        );
        assert_eq!(d.members[0].subscription, vec!["t"]);
        assert_eq!(a.description_note, None);
        assert_eq!(*by_name(groups, "c").state(), GroupState::Empty);
        assert_eq!(by_name(groups, "c").members(), Some(0));
        let b = by_name(groups, "b");
        assert_eq!(b.description, None);
        assert_eq!(*b.state(), GroupState::unknown());
        assert_eq!(b.description_note.as_deref(), Some(REFUSED_NOTE));
    }
    assert_eq!(list_note, None);
    assert_eq!(done.list_note, None);
    // Offsets came for every group, the refused one too.
    let offsets = |g: &GroupSnapshot| -> Vec<(i32, Option<i64>, Option<i64>)> {
        g.partitions
            .iter()
            .map(|p| (p.partition, p.committed, p.end))
            .collect()
    };
    assert_eq!(offsets(by_name(&done.groups, "a")), [(0, Some(5), Some(5))]);
    assert_eq!(offsets(by_name(&done.groups, "b")), [(1, Some(7), Some(7))]);
    assert_eq!(
        offsets(by_name(&done.groups, "c")),
        [(0, Some(5), Some(5)), (1, Some(7), Some(7))]
    );
    assert_eq!(
        by_name(&done.groups, "a").partitions[0]
            .member_id
            .as_deref(),
        Some("a-member-1")
    );
}

#[test]
fn headless_groups_json_shows_the_rest_and_exits_incomplete() {
    let broker = FakeBroker::start(Setup::default());
    let sb = common::Sandbox::new();
    let o = sb.run(&["-b", &broker.addr(), "groups", "--json"], None);
    let (out, err) = (common::stdout(&o), common::stderr(&o));
    assert_eq!(o.status.code(), Some(5), "stdout: {out}\nstderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    let row = |g: &str| rows.iter().find(|r| r["group"] == g).unwrap().clone();
    assert_eq!(rows.len(), 3, "{out}");
    assert_eq!(row("a")["state"], "Stable");
    assert_eq!(row("a")["members"], 1);
    assert_eq!(row("a")["assignor"], "range");
    assert_eq!(row("a")["topics"], serde_json::json!(["t"]));
    assert_eq!(row("a")["note"], "");
    assert_eq!(row("c")["state"], "Empty");
    assert_eq!(row("c")["members"], 0);
    assert_eq!(row("b")["state"], "Unknown");
    assert_eq!(row("b")["members"], Value::Null);
    assert_eq!(row("b")["note"], REFUSED_NOTE);
    assert_eq!(row("b")["total_lag"], 0);
    assert_eq!(row("b")["topics"], serde_json::json!(["t"]));
    assert!(
        err.contains(&format!("kafkaterm: note: group b: {REFUSED_NOTE}")),
        "{err}"
    );

    // Text: the same rows, the note on stderr.
    let o = sb.run(&["-b", &broker.addr(), "groups"], None);
    let (out, err) = (common::stdout(&o), common::stderr(&o));
    assert_eq!(o.status.code(), Some(5), "stdout: {out}\nstderr: {err}");
    let line = |g: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(g))
            .unwrap_or_else(|| panic!("no row for {g} in {out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(&line("a")[..2], ["a", "Stable"]);
    assert_eq!(&line("c")[..2], ["c", "Empty"]);
    assert_eq!(&line("b")[..2], ["b", "Unknown"]);
    assert!(err.contains(REFUSED_NOTE), "{err}");

    // lag on the refused group: its offsets, the note, exit 5; on a
    // described one: exit 0.
    let o = sb.run(&["-b", &broker.addr(), "lag", "b", "--json"], None);
    assert_eq!(o.status.code(), Some(5), "{}", common::stderr(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["notes"], serde_json::json!([REFUSED_NOTE]));
    assert_eq!(v["partitions"][0]["committed"], 7);
    assert_eq!(v["members"], serde_json::json!([]));
    let o = sb.run(&["-b", &broker.addr(), "lag", "a", "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert_eq!(broker.unanswered(), Vec::<String>::new());
}

#[test]
fn a_broker_that_does_not_answer_in_time_leaves_a_partial_listing() {
    let broker = FakeBroker::start(Setup {
        slow_second: true,
        ..Setup::default()
    });
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .create()
        .unwrap();
    // Both brokers known before listing.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let md = consumer
            .fetch_metadata(None, Duration::from_secs(5))
            .unwrap();
        if md.brokers().len() == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the metadata never named both brokers"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let listing = group_list::list_groups(consumer.client(), None, Duration::from_secs(2)).unwrap();
    assert!(listing.partial, "{listing:?}");
    let mut got: Vec<&str> = listing.groups.iter().map(|g| g.name.as_str()).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        ["a", "b", "c"],
        "d's broker never answered DescribeGroups"
    );
    assert_eq!(
        listing.note().as_deref(),
        Some("3 groups listed; some brokers did not answer in time")
    );
    let b = listing.groups.iter().find(|g| g.name == "b").unwrap();
    assert_eq!(
        b.error.as_ref().map(|e| e.name.as_str()),
        Some("GROUP_AUTHORIZATION_FAILED")
    );
    let a = listing.groups.iter().find(|g| g.name == "a").unwrap();
    assert_eq!((a.state.as_str(), a.members.len()), ("Stable", 1));
    assert!(a.error.is_none());
    assert!(!a.members[0].assignment.is_empty());
}

#[test]
fn a_refused_listing_falls_back_to_the_configured_groups() {
    let broker = FakeBroker::start(Setup {
        refuse_list: true,
        ..Setup::default()
    });
    // Without configured groups: an error in plain words, exit 1.
    let sb = common::Sandbox::new();
    let o = sb.run(&["-b", &broker.addr(), "groups", "--json"], None);
    assert_eq!(o.status.code(), Some(1), "{}", common::stdout(&o));
    let err = common::stderr(&o);
    assert!(
        err.contains("listing groups failed: not authorized for this cluster operation"),
        "{err}"
    );
    // With watch_groups: they are shown with their offsets, and the list's
    // note says why only they are.
    let mut p = ClusterProfile::adhoc(&broker.addr());
    p.watch_groups = vec!["a".into(), "c".into()];
    let (listed, list_note, done) = refresh(p);
    assert_eq!(names(&listed), ["a", "c"]);
    let note = list_note.unwrap();
    assert!(
        note.starts_with("listing groups failed (not authorized for this cluster operation)"),
        "{note}"
    );
    assert_eq!(done.list_note.as_deref(), Some(note.as_str()));
    let a = by_name(&done.groups, "a");
    assert_eq!(a.partitions.len(), 1);
    assert_eq!(a.partitions[0].committed, Some(5));
    // librdkafka lists on every broker before describing one group, so the
    // refusal keeps the membership unknown.
    assert!(
        a.description_note.as_deref().is_some_and(
            |n| n.starts_with("membership unavailable: the group could not be described")
        ),
        "{:?}",
        a.description_note
    );
}
