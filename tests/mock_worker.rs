//! The worker against librdkafka's in-process mock cluster: fast, and able
//! to inject faults (brokers down and up, request errors, added latency).
//! The mock lacks ListGroups, DescribeGroups, CreateTopics, DeleteTopics and
//! DescribeConfigs, so those paths are tested against nisshi instead; here
//! the profile says they are unsupported, as `--demo` does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafkaterm::config::{ClusterProfile, Unsupported};
use kafkaterm::model::{Configs, ProduceRequest, Record};
use kafkaterm::timeutil::StartAt;
use kafkaterm::worker::protocol::{
    BatchSource, BrowseEvent, BrowseSpec, Command, ConnState, NewTopicSpec, WorkerEvent,
};
use kafkaterm::worker::{self, WorkerHandle};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn profile(bs: &str) -> ClusterProfile {
    let mut p = ClusterProfile::adhoc(bs);
    p.name = "mock".into();
    p.unsupported = Unsupported::mock();
    p
}

fn produce_n(bs: &str, topic: &str, partition: i32, from: usize, n: usize) {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .create()
        .unwrap();
    for i in from..from + n {
        let key = format!("k{partition}-{i}");
        p.send(
            BaseRecord::<str, str>::to(topic)
                .partition(partition)
                .key(&key)
                .payload("v"),
        )
        .unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
}

/// Wait for an event matching `f`, skipping others.
fn wait<T>(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    timeout: Duration,
    mut f: impl FnMut(WorkerEvent) -> Option<T>,
) -> T {
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ev = tokio::time::timeout_at(deadline, w.events.recv())
                .await
                .expect("timed out waiting for a worker event")
                .expect("worker stopped");
            if let Some(t) = f(ev) {
                return t;
            }
        }
    })
}

fn refresh_topics(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    id: u64,
) -> Result<kafkaterm::model::ClusterSnapshot, String> {
    w.commands.send(Command::RefreshTopics { id }).unwrap();
    wait(rt, w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::Topics { id: i, result } if i == id => Some(result.map_err(|e| e.to_string())),
        _ => None,
    })
}

#[test]
fn topic_snapshot_counts_messages_from_watermarks() {
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("orders", 4, 3).unwrap();
    let bs = mock.bootstrap_servers();
    produce_n(&bs, "orders", 0, 0, 7);
    produce_n(&bs, "orders", 3, 0, 5);
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    let snap = refresh_topics(&rt, &mut w, 1).unwrap();
    let t = snap.topics.iter().find(|t| t.name == "orders").unwrap();
    assert_eq!(
        (t.partitions, t.replication_factor, t.messages),
        (4, 3, Some(12))
    );
    assert_eq!(snap.brokers.len(), 3);
    // Unsupported operations say so instead of failing silently.
    w.commands
        .send(Command::DescribeTopic {
            id: 2,
            topic: "orders".into(),
        })
        .unwrap();
    let d = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::TopicDetail { result, .. } => Some(result),
        _ => None,
    })
    .unwrap();
    assert_eq!(d.partitions.len(), 4);
    assert_eq!(d.partitions[0].messages(), Some(7));
    assert!(matches!(d.configs, Configs::Unsupported(ref why) if why.contains("DescribeConfigs")));
    w.commands
        .send(Command::CreateTopic {
            id: 3,
            spec: NewTopicSpec {
                name: "x".into(),
                partitions: 1,
                replication_factor: 1,
                configs: vec![],
            },
        })
        .unwrap();
    let r = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::TopicCreated { result, .. } => Some(result),
        _ => None,
    });
    let e = r.unwrap_err();
    assert!(e.message.contains("does not support CreateTopics"), "{e}");
    assert_eq!(e.kind, kafkaterm::worker::protocol::ErrorKind::Unsupported);
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn every_write_is_refused_by_the_worker_in_read_only_mode() {
    let mock = MockCluster::new(1).unwrap();
    let mut p = profile(&mock.bootstrap_servers());
    p.read_only = true;
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let writes = vec![
        Command::CreateTopic {
            id: 1,
            spec: NewTopicSpec {
                name: "t".into(),
                partitions: 1,
                replication_factor: 1,
                configs: vec![],
            },
        },
        Command::DeleteTopic {
            id: 2,
            topic: "t".into(),
        },
        Command::ProduceBatch {
            id: 3,
            options: Default::default(),
            source: BatchSource::Messages(vec![ProduceRequest {
                topic: "t".into(),
                ..Default::default()
            }]),
        },
        Command::ApplyOffsetReset {
            id: 4,
            group: "g".into(),
            rows: vec![],
        },
        Command::DeleteGroup {
            id: 5,
            group: "g".into(),
        },
    ];
    for cmd in writes {
        let id = cmd.req_id();
        assert!(cmd.is_write());
        w.commands.send(cmd).unwrap();
        let reason = wait(&rt, &mut w, Duration::from_secs(10), |ev| match ev {
            WorkerEvent::Refused { id: i, reason } if i == id => Some(reason),
            WorkerEvent::Refused { .. } => panic!("refusal for the wrong request"),
            WorkerEvent::Produce { .. }
            | WorkerEvent::TopicCreated { .. }
            | WorkerEvent::TopicDeleted { .. } => {
                panic!("a write went through in read-only mode")
            }
            _ => None,
        });
        assert!(reason.contains("read-only"), "{reason}");
    }
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn produce_batch_reports_deliveries() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 2, 1).unwrap();
    let rt = rt();
    // The mock profile marks the mock's LogAppendTime (1234 ms) as no time.
    let p = profile(&mock.bootstrap_servers());
    let before = kafkaterm::timeutil::now_ms();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let template = kafkaterm::template::MessageTemplate {
        topic: "t".into(),
        partition: Some(1),
        key: Some("k-{{i}}".into()),
        value: Some("{\"i\": {{i}}}".into()),
        value_encoding: kafkaterm::template::Encoding::Json,
        headers: vec![(
            "h".into(),
            kafkaterm::template::HeaderText::Text("v".into()),
        )],
        ..Default::default()
    };
    w.commands
        .send(Command::ProduceBatch {
            id: 9,
            options: Default::default(),
            source: BatchSource::Template {
                template,
                count: 100,
            },
        })
        .unwrap();
    let done = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::Produce { id: 9, progress } if progress.done => Some(progress),
        _ => None,
    });
    assert_eq!((done.delivered, done.failed), (100, 0), "{done:?}");
    let last = done.last.unwrap();
    assert_eq!(last.partition, 1);
    assert!(last.latency_ms >= 0.0);
    // The report shows when the message was sent, not the mock's 1970 answer.
    let ts = last.timestamp.unwrap();
    assert!(
        ts >= before && ts <= kafkaterm::timeutil::now_ms(),
        "{ts} not between {before} and now"
    );
    drop(w);
    drop(rt);
    drop(mock);
}

/// Records per partition as the browser received them.
fn collect(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    got: &mut Vec<Record>,
    until: usize,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    while got.len() < until {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "only {} of {until} records arrived",
            got.len()
        );
        let ev = rt.block_on(async { tokio::time::timeout(left, w.events.recv()).await });
        if let Ok(Some(WorkerEvent::Browse {
            event: BrowseEvent::Records(batch),
            ..
        })) = ev
        {
            got.extend(batch);
        }
    }
}

#[test]
fn browser_resumes_after_all_brokers_go_down_without_duplicates_or_gaps() {
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("live", 2, 3).unwrap();
    let bs = mock.bootstrap_servers();
    produce_n(&bs, "live", 0, 0, 50);
    produce_n(&bs, "live", 1, 0, 50);
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    w.commands
        .send(Command::StartBrowse {
            session: 1,
            spec: BrowseSpec {
                isolation: kafkaterm::model::Isolation::default(),
                positions: Vec::new(),
                topic: "live".into(),
                partitions: None,
                start: StartAt::Beginning,
            },
        })
        .unwrap();
    let mut got = Vec::new();
    collect(&rt, &mut w, &mut got, 100, Duration::from_secs(30));

    for b in 1..=3 {
        mock.broker_down(b).unwrap();
    }
    // The topic refresh fails and the connection is reported down.
    let r = refresh_topics(&rt, &mut w, 50);
    assert!(r.is_err(), "a refresh with every broker down succeeded");
    std::thread::sleep(Duration::from_secs(2));
    for b in 1..=3 {
        mock.broker_up(b).unwrap();
    }
    produce_n(&bs, "live", 0, 50, 50);
    produce_n(&bs, "live", 1, 50, 50);
    collect(&rt, &mut w, &mut got, 200, Duration::from_secs(60));
    let mut per: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for r in &got {
        per.entry(r.partition).or_default().push(r.offset);
    }
    for (p, offs) in per {
        assert_eq!(
            offs,
            (0..100).collect::<Vec<i64>>(),
            "partition {p}: duplicates or gaps"
        );
    }
    let snap =
        refresh_topics(&rt, &mut w, 51).expect("refresh works again after the brokers return");
    assert_eq!(
        snap.topics
            .iter()
            .find(|t| t.name == "live")
            .unwrap()
            .messages,
        Some(200)
    );
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn connection_state_goes_down_and_comes_back() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&mock.bootstrap_servers())).unwrap() });
    refresh_topics(&rt, &mut w, 1).unwrap();
    mock.broker_down(1).unwrap();
    w.commands.send(Command::RefreshTopics { id: 2 }).unwrap();
    let down = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::Connection(ConnState::Down(why)) => Some(why),
        _ => None,
    });
    assert!(!down.is_empty());
    mock.broker_up(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut id = 3;
    loop {
        assert!(Instant::now() < deadline, "never reconnected");
        if refresh_topics(&rt, &mut w, id).is_ok() {
            break;
        }
        id += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn added_latency_slows_answers_but_they_come() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&mock.bootstrap_servers())).unwrap() });
    refresh_topics(&rt, &mut w, 1).unwrap();
    mock.broker_round_trip_time(1, Duration::from_millis(1500))
        .unwrap();
    let start = Instant::now();
    refresh_topics(&rt, &mut w, 2).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "latency was not applied"
    );
    mock.broker_round_trip_time(1, Duration::ZERO).unwrap();
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn failed_group_refresh_is_shown_then_recovers() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 2, 1).unwrap();
    let bs = mock.bootstrap_servers();
    produce_n(&bs, "t", 0, 0, 10);
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("group.id", "watched")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("t", 0, Offset::Offset(4)).unwrap();
    c.commit(&tpl, CommitMode::Sync).unwrap();
    let mut p = profile(&bs);
    p.watch_groups = vec!["watched".into()];
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let refresh = |rt: &tokio::runtime::Runtime, w: &mut WorkerHandle, id: u64| {
        w.commands
            .send(Command::RefreshGroups {
                id,
                only: None,
                first: None,
            })
            .unwrap();
        wait(rt, w, Duration::from_secs(30), |ev| match ev {
            WorkerEvent::Groups { id: i, result } if i == id => Some(result),
            _ => None,
        })
    };
    let ok = refresh(&rt, &mut w, 1).unwrap();
    let g = &ok.groups[0];
    assert_eq!(g.group, "watched");
    assert!(ok.list_note.as_deref().unwrap().contains("ListGroups"));
    assert!(g.description.is_none());
    assert!(
        g.description_note
            .as_deref()
            .unwrap()
            .contains("DescribeGroups")
    );
    assert_eq!(g.partitions.len(), 1);
    assert_eq!(
        (
            g.partitions[0].committed,
            g.partitions[0].end,
            g.partitions[0].lag
        ),
        (Some(4), Some(10), Some(6))
    );

    // The coordinator refuses OffsetFetch: the refresh says so plainly.
    mock.request_errors(
        RDKafkaApiKey::OffsetFetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED; 4],
    );
    let bad = refresh(&rt, &mut w, 2).unwrap();
    let note = bad.groups[0].offsets_note.clone().unwrap_or_default();
    assert!(note.contains("committed offsets unavailable"), "{note:?}");
    assert!(note.contains("not authorized"), "{note:?}");
    mock.clear_request_errors(RDKafkaApiKey::OffsetFetch);

    // And the next refresh is whole again.
    let again = refresh(&rt, &mut w, 3).unwrap();
    assert_eq!(again.groups[0].offsets_note, None);
    assert_eq!(again.groups[0].total_lag(), 6);
    drop(w);
    drop(rt);
    drop(c);
    drop(mock);
}

/// A minimal Schema Registry: answers `GET /schemas/ids/1` with an Avro
/// schema and 404 for anything else.
fn fake_registry() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let schema = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"}]}"#;
            let (status, body) = if request.starts_with("GET /schemas/ids/1 ") {
                (
                    "200 OK",
                    serde_json::json!({ "schema": schema }).to_string(),
                )
            } else if request.starts_with("GET /subjects/t-value/versions/latest ") {
                (
                    "200 OK",
                    serde_json::json!({
                        "subject": "t-value", "version": 3, "id": 1, "schema": schema
                    })
                    .to_string(),
                )
            } else {
                (
                    "404 Not Found",
                    r#"{"error_code":40403,"message":"Schema not found"}"#.to_string(),
                )
            };
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn schema_registry_schemas_are_fetched_and_decode_avro() {
    use kafkaterm::decode::{Content, DecodeMode, decode, registry::SchemaCache};
    let mock = MockCluster::new(1).unwrap();
    let mut p = profile(&mock.bootstrap_servers());
    p.schema_registry = Some(kafkaterm::config::RegistrySettings::new(&fake_registry()));
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let mut cache = SchemaCache {
        configured: true,
        ..Default::default()
    };
    for id in [1u32, 2] {
        w.commands
            .send(Command::FetchSchema { schema_id: id })
            .unwrap();
        let (sid, result) = wait(&rt, &mut w, Duration::from_secs(20), |ev| match ev {
            WorkerEvent::Schema { schema_id, result } => Some((schema_id, result)),
            _ => None,
        });
        cache.entries.insert(sid, result.map_err(|e| e.to_string()));
    }
    assert!(
        cache.entries[&2]
            .as_ref()
            .unwrap_err()
            .contains("schema not found"),
        "{:?}",
        cache.entries[&2]
    );
    // Magic byte, schema id 1, Avro: "o-1" (len 3 → zigzag 6), qty 5 (zigzag 10).
    let framed = [0u8, 0, 0, 0, 1, 6, b'o', b'-', b'1', 10];
    let d = decode(Some(&framed), DecodeMode::Auto, &cache);
    assert_eq!(d.label, "avro, schema id 1");
    assert_eq!(
        d.content,
        Content::Json(serde_json::json!({"id": "o-1", "qty": 5}))
    );
    let unknown = [0u8, 0, 0, 0, 2, 1, 2];
    let d = decode(Some(&unknown), DecodeMode::Auto, &cache);
    assert!(d.note.unwrap().contains("schema not found"));
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn produce_batch_from_a_json_lines_file() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 3, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"key":"a","value":"1","partition":2,"headers":[{"name":"h","value":"x"}]}"#,
            "\n\n",
            r#"{"key_base64":"/w==","value":null}"#,
            "\n",
            r#"{"topic":"t","value":{"json":"object"}}"#,
            "\n",
            "not json\n"
        ),
    )
    .unwrap();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&mock.bootstrap_servers())).unwrap() });
    w.commands
        .send(Command::ProduceBatch {
            id: 1,
            options: Default::default(),
            source: BatchSource::File {
                path,
                topic: "t".into(),
            },
        })
        .unwrap();
    let done = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::Produce { progress, .. } if progress.done => Some(progress),
        _ => None,
    });
    assert_eq!((done.delivered, done.failed), (3, 1), "{done:?}");
    assert!(done.first_error.unwrap().contains("line 5"));
    drop(w);
    drop(rt);
    drop(mock);
}

/// Wait until browse session `session` reports progress on a search: it has
/// taken the search (no record arrives before the search starts here).
fn search_started(rt: &tokio::runtime::Runtime, w: &mut WorkerHandle, session: u64) {
    wait(rt, w, Duration::from_secs(20), |ev| match ev {
        WorkerEvent::Browse {
            session: s,
            event: BrowseEvent::SearchProgress { done: false, .. },
        } if s == session => Some(()),
        WorkerEvent::Browse {
            session: s,
            event: BrowseEvent::Records(batch),
        } if s == session => panic!("{} records arrived before the search", batch.len()),
        _ => None,
    });
}

#[test]
fn forward_search_stops_after_n_matches_and_can_be_cancelled() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("s", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    produce_n(&bs, "s", 0, 0, 300); // keys k0-0 .. k0-299
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    w.commands
        .send(Command::StartBrowse {
            session: 5,
            spec: BrowseSpec {
                isolation: kafkaterm::model::Isolation::default(),
                positions: Vec::new(),
                topic: "s".into(),
                partitions: None,
                start: StartAt::End,
            },
        })
        .unwrap();
    wait(&rt, &mut w, Duration::from_secs(20), |ev| match ev {
        WorkerEvent::Browse {
            event: BrowseEvent::Started { .. },
            ..
        } => Some(()),
        _ => None,
    });
    // Search forward from the end; the matches arrive afterwards, once the
    // session has taken the search (its first progress report says so).
    w.commands
        .send(Command::SearchBrowse {
            session: 5,
            filter: r#"key =~ /7$/"#.into(),
            want: 3,
        })
        .unwrap();
    search_started(&rt, &mut w, 5);
    produce_n(&bs, "s", 0, 300, 100); // keys k0-300 .. k0-399
    let mut found: Vec<Record> = Vec::new();
    let (scanned, matched) = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::Browse {
            session: 5,
            event: BrowseEvent::Records(batch),
        } => {
            found.extend(batch);
            None
        }
        WorkerEvent::Browse {
            session: 5,
            event:
                BrowseEvent::SearchProgress {
                    scanned,
                    matched,
                    done: true,
                },
        } => Some((scanned, matched)),
        _ => None,
    });
    let keys: Vec<String> = found
        .iter()
        .filter_map(|r| {
            r.key
                .as_ref()
                .map(|k| String::from_utf8_lossy(k).into_owned())
        })
        .collect();
    assert_eq!(matched, 3);
    assert_eq!(
        keys,
        vec!["k0-307", "k0-317", "k0-327"],
        "only matches are delivered"
    );
    assert_eq!(scanned, 28, "scanned up to the third match");
    // The session is paused now: no more records arrive.
    let more = rt.block_on(async {
        let mut n = 0;
        let end = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(Some(ev)) = tokio::time::timeout_at(end, w.events.recv()).await {
            if matches!(
                ev,
                WorkerEvent::Browse {
                    session: 5,
                    event: BrowseEvent::Records(_)
                }
            ) {
                n += 1;
            }
        }
        n
    });
    assert_eq!(
        more, 0,
        "records kept arriving after the search was satisfied"
    );
    // A search that cannot finish is cancelled.
    w.commands
        .send(Command::SearchBrowse {
            session: 5,
            filter: "key == \"never\"".into(),
            want: 1,
        })
        .unwrap();
    search_started(&rt, &mut w, 5);
    w.commands
        .send(Command::CancelSearch { session: 5 })
        .unwrap();
    let done = wait(&rt, &mut w, Duration::from_secs(10), |ev| match ev {
        WorkerEvent::Browse {
            session: 5,
            event:
                BrowseEvent::SearchProgress {
                    matched,
                    done: true,
                    ..
                },
        } => Some(matched),
        _ => None,
    });
    assert_eq!(done, 0);
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn sends_during_an_outage_fail_with_a_reason_and_work_again_after() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let mut p = profile(&mock.bootstrap_servers());
    // The user's librdkafka settings override our defaults: a short delivery timeout.
    p.properties.push((
        "message.timeout.ms".into(),
        kafkaterm::config::Secret::new("2000"),
    ));
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let mut send = |id: u64| {
        w.commands
            .send(Command::ProduceBatch {
                id,
                options: Default::default(),
                source: BatchSource::Messages(vec![ProduceRequest {
                    topic: "t".into(),
                    value: Some(b"v".to_vec()),
                    ..Default::default()
                }]),
            })
            .unwrap();
        wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
            WorkerEvent::Produce { id: i, progress } if i == id && progress.done => Some(progress),
            _ => None,
        })
    };
    assert_eq!(send(1).delivered, 1);
    mock.broker_down(1).unwrap();
    let failed = send(2);
    assert_eq!(failed.failed, 1);
    assert!(
        failed.first_error.as_deref().unwrap().contains("timed out"),
        "{failed:?}"
    );
    mock.broker_up(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut id = 3;
    while send(id).delivered != 1 {
        assert!(Instant::now() < deadline, "sending never recovered");
        id += 1;
    }
    drop(w);
    drop(rt);
    drop(mock);
}

/// A producer thread that keeps `topic` hot until `stop` is set: bursts of
/// small records, waiting out a full queue (and an outage) instead of
/// dropping anything. Paced so the mock's small partitions do not drop data
/// before the browsers read it.
fn firehose(
    bs: &str,
    topic: &str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let topic = topic.to_string();
    std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            for _ in 0..200 {
                let key = format!("{n}");
                if p.send(BaseRecord::<str, str>::to(&topic).key(&key).payload("x"))
                    .is_err()
                {
                    break;
                }
                n += 1;
            }
            p.poll(Duration::from_millis(5));
        }
        n
    })
}

/// Wait (without reading) until the event channel is full: the UI is behind.
fn wait_channel_full(w: &WorkerHandle, deadline: Instant) {
    while w.events.len() < worker::EVENT_CAPACITY {
        assert!(
            Instant::now() < deadline,
            "the firehose never filled the event channel ({} of {})",
            w.events.len(),
            worker::EVENT_CAPACITY
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A slow UI: one event every 50 ms, always from a full channel. Each
/// browse session has a new batch ready within 40 ms of sending one, so at
/// every read several sessions are waiting for room, and whatever else the
/// worker sends meanwhile meets a full channel.
fn slow_read(w: &mut WorkerHandle, deadline: Instant) -> WorkerEvent {
    std::thread::sleep(Duration::from_millis(50));
    wait_channel_full(w, deadline);
    w.events.try_recv().expect("a full channel has an event")
}

#[test]
fn connection_changes_reach_a_slow_ui_behind_a_firehose() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("hot", 2, 1).unwrap();
    let bs = mock.bootstrap_servers();
    let stop = Arc::new(AtomicBool::new(false));
    let hose = firehose(&bs, "hot", Arc::clone(&stop));
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    refresh_topics(&rt, &mut w, 1).unwrap();
    // The hot topic, followed by four browse sessions (the UI opened it
    // again and again): the event channel fills up.
    for session in 1..=4 {
        w.commands
            .send(Command::StartBrowse {
                session,
                spec: BrowseSpec {
                    isolation: kafkaterm::model::Isolation::default(),
                    positions: Vec::new(),
                    topic: "hot".into(),
                    partitions: None,
                    start: StartAt::End,
                },
            })
            .unwrap();
    }
    // The last connection state the UI has been told.
    let mut shown: Option<ConnState> = None;

    // The outage: the refresh fails and the UI must be told.
    wait_channel_full(&w, Instant::now() + Duration::from_secs(60));
    mock.broker_down(1).unwrap();
    w.commands.send(Command::RefreshTopics { id: 2 }).unwrap();
    let mut refreshed = false;
    wait(&rt, &mut w, Duration::from_secs(60), |ev| {
        match ev {
            WorkerEvent::Connection(s) => shown = Some(s),
            WorkerEvent::Topics { id: 2, result } => {
                assert!(result.is_err(), "a refresh with the broker down succeeded");
                refreshed = true;
            }
            _ => {}
        }
        (refreshed && matches!(shown, Some(ConnState::Down(_)))).then_some(())
    });

    // Recovery: the firehose is back, and the UI, slower than it, is
    // behind while a refresh succeeds.
    mock.broker_up(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut id = 3;
    loop {
        wait_channel_full(&w, deadline);
        w.commands.send(Command::RefreshTopics { id }).unwrap();
        let ok = loop {
            match slow_read(&mut w, deadline) {
                WorkerEvent::Connection(s) => shown = Some(s),
                WorkerEvent::Topics { id: i, result } if i == id => break result.is_ok(),
                _ => {}
            }
        };
        if ok {
            break;
        }
        id += 1;
    }
    // Let the UI catch up: it must now show the connection as up.
    stop.store(true, Ordering::Relaxed);
    assert!(hose.join().unwrap() > 0);
    for session in 1..=4 {
        w.commands.send(Command::StopBrowse { session }).unwrap();
    }
    let caught_up = rt.block_on(async {
        let end = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Ok(Some(ev)) = tokio::time::timeout_at(end, w.events.recv()).await {
            if let WorkerEvent::Connection(s) = ev {
                shown = Some(s);
            }
            if shown == Some(ConnState::Connected) {
                return true;
            }
        }
        false
    });
    assert!(
        caught_up,
        "the status never came back after the outage: the UI still shows {shown:?}"
    );
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn the_metadata_client_reports_an_outage_by_itself() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&mock.bootstrap_servers())).unwrap() });
    refresh_topics(&rt, &mut w, 1).unwrap();
    // Only the worker's own clients are alive: no browse session, no
    // producer, no request in flight. The outage must still show.
    mock.broker_down(1).unwrap();
    let state = wait(&rt, &mut w, Duration::from_secs(60), |ev| match ev {
        WorkerEvent::Connection(s @ (ConnState::Down(_) | ConnState::Degraded(_))) => Some(s),
        _ => None,
    });
    let why = match state {
        ConnState::Down(why) | ConnState::Degraded(why) => why,
        other => panic!("not an outage: {other:?}"),
    };
    assert!(!why.is_empty());
    mock.broker_up(1).unwrap();
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn committed_offsets_keep_each_groups_own_failure_and_partition_errors() {
    use kafkaterm::model::TopicPartition;
    use kafkaterm::worker::offsets::committed_offsets;
    use rdkafka::admin::AdminClient;
    use rdkafka::client::DefaultClientContext;
    use rdkafka::mocking::MockCoordinator;
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("t", 2, 1).unwrap();
    for p in 0..2 {
        mock.partition_leader("t", p, Some(1)).unwrap();
    }
    let bs = mock.bootstrap_servers();
    // carol has a commit on t/0; alice's coordinator is broker 2, bob's is 3.
    mock.coordinator(MockCoordinator::Group("carol".into()), 1)
        .unwrap();
    mock.coordinator(MockCoordinator::Group("alice".into()), 2)
        .unwrap();
    mock.coordinator(MockCoordinator::Group("bob".into()), 3)
        .unwrap();
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("group.id", "carol")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("t", 0, Offset::Offset(4)).unwrap();
    c.commit(&tpl, CommitMode::Sync).unwrap();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .create()
        .unwrap();

    // Two groups fail at once, each in its own way: alice's coordinator is
    // down (her request times out), bob's refuses (not authorized).
    mock.broker_down(2).unwrap();
    mock.request_errors(
        RDKafkaApiKey::OffsetFetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED],
    );
    let got = committed_offsets(
        admin.inner(),
        &[("alice".into(), None), ("bob".into(), None)],
        Duration::from_secs(3),
    );
    let alice = got["alice"].as_ref().unwrap_err();
    let bob = got["bob"].as_ref().unwrap_err();
    assert!(alice.message.contains("timed out"), "alice: {alice}");
    assert!(bob.message.contains("not authorized"), "bob: {bob}");
    // The kinds the UI words and colours by.
    assert_eq!(alice.kind, kafkaterm::worker::protocol::ErrorKind::Timeout);
    assert_eq!(bob.kind, kafkaterm::worker::protocol::ErrorKind::Auth);
    mock.clear_request_errors(RDKafkaApiKey::OffsetFetch);

    // A partition the broker answers with an error is reported, not dropped
    // (t/7 does not exist).
    let got = committed_offsets(
        admin.inner(),
        &[(
            "carol".into(),
            Some(vec![
                TopicPartition::new("t", 0),
                TopicPartition::new("t", 1),
                TopicPartition::new("t", 7),
            ]),
        )],
        Duration::from_secs(10),
    );
    let carol = got["carol"].as_ref().unwrap();
    let of = |p: i32| {
        carol
            .iter()
            .find(|(tp, _)| tp.partition == p)
            .map(|(_, o)| o.clone())
    };
    assert_eq!(of(0), Some(Ok(Some(4))));
    assert_eq!(of(1), Some(Ok(None)));
    let t7 = of(7).unwrap_or_else(|| panic!("t/7's error vanished: {carol:?}"));
    assert!(
        t7.as_ref()
            .is_err_and(|e| e.message.contains("unknown topic or partition")),
        "t/7: {t7:?}"
    );
    drop(admin);
    drop(c);
    drop(mock);
}

/// A topic refresh answers with the topic list from metadata first (counts
/// unknown), then the counts in name order a few thousand partitions at a
/// time, then the final snapshot, whose counts are the ones sent before.
#[test]
fn topic_refresh_lists_names_first_then_counts() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("big-a", 1500, 1).unwrap();
    mock.create_topic("big-b", 1500, 1).unwrap();
    mock.create_topic("small", 2, 1).unwrap();
    produce_n(&mock.bootstrap_servers(), "small", 1, 0, 5);
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&mock.bootstrap_servers())).unwrap() });
    w.commands.send(Command::RefreshTopics { id: 4 }).unwrap();
    let mut names = None;
    let mut counts: Vec<Vec<kafkaterm::worker::protocol::TopicCount>> = Vec::new();
    let last = wait(&rt, &mut w, Duration::from_secs(60), |ev| match ev {
        WorkerEvent::TopicNames { id: 4, snapshot } => {
            assert!(counts.is_empty(), "names come before any count");
            names = Some(snapshot);
            None
        }
        WorkerEvent::TopicCounts { id: 4, counts: c } => {
            assert!(names.is_some(), "counts come after the names");
            counts.push(c);
            None
        }
        WorkerEvent::Topics { id: 4, result } => Some(result.unwrap()),
        _ => None,
    });
    let names = names.expect("the names came first");
    let listed: Vec<&str> = names.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(listed, ["big-a", "big-b", "small"]);
    assert!(names.topics.iter().all(|t| t.messages.is_none()));
    assert!(names.topics.iter().any(|t| t.partitions == 1500));
    // 3,002 partitions: more than one batch, whole topics, in name order.
    assert!(counts.len() >= 2, "{counts:?}");
    let order: Vec<String> = counts.iter().flatten().map(|c| c.name.clone()).collect();
    assert_eq!(order, ["big-a", "big-b", "small"]);
    for c in counts.iter().flatten() {
        let fin = last.topics.iter().find(|t| t.name == c.name).unwrap();
        assert_eq!(fin.messages, c.messages, "{}", c.name);
        assert_eq!(fin.end_offsets, c.end_offsets, "{}", c.name);
    }
    assert_eq!(
        last.topics
            .iter()
            .find(|t| t.name == "small")
            .unwrap()
            .messages,
        Some(5)
    );
    drop(w);
    drop(rt);
    drop(mock);
}

/// The composer's `schema` encoding: the value typed as JSON is sent encoded
/// for the topic's `TOPIC-value` subject (latest), Confluent-framed; a value
/// that does not fit is refused before anything is sent, naming the field.
#[test]
fn template_values_are_encoded_for_the_topic_value_subject() {
    use kafkaterm::decode::{Content, DecodeMode, decode, registry::SchemaCache};
    use kafkaterm::template::{Encoding, MessageTemplate};
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let mut p = profile(&mock.bootstrap_servers());
    p.schema_registry = Some(kafkaterm::config::RegistrySettings::new(&fake_registry()));
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let send = |w: &mut WorkerHandle, id: u64, value: &str| {
        w.commands
            .send(Command::ProduceBatch {
                id,
                options: Default::default(),
                source: BatchSource::Template {
                    template: MessageTemplate {
                        topic: "t".into(),
                        partition: Some(0),
                        value: Some(value.into()),
                        value_encoding: Encoding::Schema,
                        ..Default::default()
                    },
                    count: 1,
                },
            })
            .unwrap();
        wait(&rt, w, Duration::from_secs(30), |ev| match ev {
            WorkerEvent::Produce { id: i, progress } if i == id && progress.done => Some(progress),
            _ => None,
        })
    };
    let ok = send(&mut w, 1, r#"{"id": "o-1", "qty": 5}"#);
    assert_eq!((ok.delivered, ok.failed), (1, 0), "{ok:?}");
    let bad = send(&mut w, 2, r#"{"id": "o-2", "qty": "five"}"#);
    assert_eq!((bad.delivered, bad.failed), (0, 1), "{bad:?}");
    let why = bad.first_error.unwrap();
    assert!(why.contains("t-value") && why.contains("qty"), "{why}");
    // Exactly one message is on the topic, and it decodes back.
    let mut got = Vec::new();
    let spec = BrowseSpec {
        isolation: kafkaterm::model::Isolation::default(),
        positions: Vec::new(),
        topic: "t".into(),
        partitions: None,
        start: kafkaterm::timeutil::StartAt::Beginning,
    };
    w.commands
        .send(Command::StartBrowse { session: 5, spec })
        .unwrap();
    collect(&rt, &mut w, &mut got, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    let value = got[0].value.clone().unwrap();
    assert_eq!(&value[..5], &[0, 0, 0, 0, 1], "magic byte and schema id 1");
    let mut cache = SchemaCache {
        configured: true,
        ..Default::default()
    };
    w.commands
        .send(Command::FetchSchema { schema_id: 1 })
        .unwrap();
    let result = wait(&rt, &mut w, Duration::from_secs(20), |ev| match ev {
        WorkerEvent::Schema { result, .. } => Some(result),
        _ => None,
    });
    cache.entries.insert(1, result.map_err(|e| e.to_string()));
    let d = decode(Some(&value), DecodeMode::Auto, &cache);
    assert_eq!(
        d.content,
        Content::Json(serde_json::json!({"id": "o-1", "qty": 5}))
    );
    drop(w);
    drop(rt);
    drop(mock);
}

/// A transactional send's end: the `TxnEnded` event and the final report.
fn txn_send(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    id: u64,
    count: u64,
    txn: kafkaterm::model::TxnSpec,
    then: impl FnOnce(&mut WorkerHandle),
) -> (
    kafkaterm::model::TxnOutcome,
    kafkaterm::worker::protocol::ProduceProgress,
) {
    let template = kafkaterm::template::MessageTemplate {
        topic: "t".into(),
        partition: Some(0),
        key: Some("k-{{i}}".into()),
        value: Some("v-{{i}}".into()),
        ..Default::default()
    };
    w.commands
        .send(Command::ProduceTransaction {
            id,
            options: Default::default(),
            source: BatchSource::Template { template, count },
            txn,
        })
        .unwrap();
    then(w);
    let mut outcome = None;
    let done = wait(rt, w, Duration::from_secs(60), |ev| match ev {
        WorkerEvent::TxnEnded {
            id: i, outcome: o, ..
        } if i == id => {
            outcome = Some(o);
            None
        }
        WorkerEvent::Produce { id: i, progress } if i == id && progress.done => Some(progress),
        _ => None,
    });
    (
        outcome.expect("TxnEnded comes before the final report"),
        done,
    )
}

/// Records of partition 0 of `t`, read at `read_committed`.
fn read_all(bs: &str, n: usize) -> Vec<(i64, String)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("group.id", "txn-check")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("t", 0, Offset::Beginning).unwrap();
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < n && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            use rdkafka::Message;
            out.push((
                m.offset(),
                String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            ));
        }
    }
    out
}

#[test]
fn transactional_sends_commit_or_abort_the_n_messages_as_asked() {
    use kafkaterm::model::{TxnOutcome, TxnSpec};
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    let (o, p) = txn_send(&rt, &mut w, 1, 5, TxnSpec::new("kt-commit", true), |_| {});
    assert_eq!(o, TxnOutcome::Committed);
    assert_eq!((p.delivered, p.failed, p.first_error), (5, 0, None));
    // The five went out through the transactional producer, in order, one
    // after the other on the partition.
    let got = read_all(&bs, 5);
    assert_eq!(
        got,
        (0..5).map(|i| (i, format!("v-{i}"))).collect::<Vec<_>>()
    );
    // An abort on purpose: written, then aborted; the report says so and
    // it is not a failure.
    let (o, p) = txn_send(&rt, &mut w, 2, 3, TxnSpec::new("kt-abort", false), |_| {});
    assert_eq!(o, TxnOutcome::Aborted);
    assert_eq!((p.delivered, p.failed, p.first_error), (3, 0, None));
    // The same id again, committed: the old epoch is fenced, the new works.
    let (o, p) = txn_send(&rt, &mut w, 3, 2, TxnSpec::new("kt-commit", true), |_| {});
    assert_eq!((o, p.delivered), (TxnOutcome::Committed, 2));
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn coordinator_errors_are_reported_in_plain_words() {
    use kafkaterm::model::{TxnOutcome, TxnSpec};
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });

    // Refused by the cluster: no transaction, nothing sent.
    mock.request_errors(
        RDKafkaApiKey::InitProducerId,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    );
    let (o, p) = txn_send(&rt, &mut w, 1, 3, TxnSpec::new("kt-refused", true), |_| {});
    assert_eq!(o, TxnOutcome::NotStarted);
    assert_eq!((p.delivered, p.queued), (0, 0));
    let e = p.first_error.unwrap();
    assert!(
        e.starts_with("starting the transaction: the cluster refused transactions"),
        "{e}"
    );

    // Fenced at commit time: a newer producer took the id over.
    mock.request_errors(
        RDKafkaApiKey::EndTxn,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED],
    );
    let (o, p) = txn_send(&rt, &mut w, 2, 3, TxnSpec::new("kt-fenced", true), |_| {});
    let e = p.first_error.unwrap();
    assert_eq!(o, TxnOutcome::AbortedOnFailure, "{e}");
    assert!(e.starts_with("committing: fenced: another producer"), "{e}");
    mock.clear_request_errors(RDKafkaApiKey::EndTxn);

    // No coordinator within the time allowed.
    mock.request_errors(
        RDKafkaApiKey::FindCoordinator,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE; 200],
    );
    let mut late = TxnSpec::new("kt-late", true);
    late.timeout_ms = 2_000;
    let (o, p) = txn_send(&rt, &mut w, 3, 3, late, |_| {});
    assert_eq!(o, TxnOutcome::NotStarted);
    let e = p.first_error.unwrap();
    assert!(
        e.starts_with("starting the transaction: ")
            && (e.contains("timed out waiting for the transaction coordinator")
                || e.contains("the transaction coordinator is not available")),
        "{e}"
    );
    mock.clear_request_errors(RDKafkaApiKey::FindCoordinator);

    // And a healthy coordinator again.
    let (o, _) = txn_send(&rt, &mut w, 4, 1, TxnSpec::new("kt-ok", true), |_| {});
    assert_eq!(o, TxnOutcome::Committed);
    drop(w);
    drop(rt);
    drop(mock);
}

#[test]
fn a_cancelled_send_or_a_worker_shutdown_aborts_the_open_transaction() {
    use kafkaterm::model::{TxnOutcome, TxnSpec};
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    let rt = rt();
    let mut w = rt.block_on(async { worker::spawn(profile(&bs)).unwrap() });
    // Slow acknowledgements keep the transaction open while we cancel.
    mock.broker_round_trip_time(1, Duration::from_millis(300))
        .unwrap();
    let wait_started = |w: &mut WorkerHandle, id: u64| {
        wait(&rt, w, Duration::from_secs(30), |ev| match ev {
            WorkerEvent::Produce { id: i, progress } if i == id && progress.queued > 0 => Some(()),
            _ => None,
        });
    };
    let (o, p) = txn_send(
        &rt,
        &mut w,
        1,
        1_000_000,
        TxnSpec::new("kt-cancel", true),
        |w| {
            wait_started(w, 1);
            w.commands.send(Command::Cancel { id: 1 }).unwrap();
        },
    );
    assert_eq!(o, TxnOutcome::AbortedOnFailure);
    assert!(p.delivered < 1_000_000);
    assert!(
        p.first_error.as_deref().unwrap().contains("cancelled"),
        "{p:?}"
    );
    // Shutdown (the console quitting) aborts, too.
    let (o, _) = txn_send(
        &rt,
        &mut w,
        2,
        1_000_000,
        TxnSpec::new("kt-quit", true),
        |w| {
            wait_started(w, 2);
            w.commands.send(Command::Shutdown).unwrap();
        },
    );
    assert_eq!(o, TxnOutcome::AbortedOnFailure);
    drop(w);
    drop(rt);
    drop(mock);
}

/// `kafkaterm produce --transactional` against the mock cluster: the lines
/// go out in one transaction, committed, or aborted with `--abort`; stderr
/// says which with the id, and the exit status is zero for both.
#[test]
fn headless_transactional_produce_commits_or_aborts() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let bs = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        use std::io::Write;
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kafkaterm"));
        c.env("KAFKATERM_CONFIG_DIR", dir.path().join("config"))
            .env("KAFKATERM_DATA_DIR", dir.path().join("data"))
            .env_remove("KAFKATERM_BROKERS")
            .args(["-b", &bs, "produce", "t", "--transactional"])
            .args(extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"a\nb\nc\n").unwrap();
        let o = child.wait_with_output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, e) = run(&["--transactional-id", "kt-headless"]);
    assert!(ok, "{e}");
    assert!(e.contains("3 delivered, 0 failed"), "{e}");
    assert!(
        e.contains("transaction committed (transactional.id kt-headless)"),
        "{e}"
    );
    let (ok, e) = run(&["--abort"]);
    assert!(ok, "{e}");
    assert!(e.contains("transaction aborted (as asked)"), "{e}");
    assert!(e.contains("(transactional.id kafkaterm-"), "{e}");
    // The six were written (the mock keeps aborted records too).
    assert_eq!(
        read_all(&bs, 6)
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>(),
        ["a", "b", "c", "a", "b", "c"]
    );
    // Refused by the cluster: one line, non-zero.
    mock.request_errors(
        RDKafkaApiKey::InitProducerId,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    );
    let (ok, e) = run(&[]);
    assert!(!ok);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("the cluster refused transactions"), "{e}");
    drop(mock);
}

/// Make the next ListOffsets request that broker `broker` alone receives
/// answer with `err` after `rtt_ms` (librdkafka's per-broker error stack,
/// which rust-rdkafka does not wrap).
fn push_list_offsets_error(
    client: &rdkafka::client::Client<impl rdkafka::ClientContext>,
    broker: i32,
    err: RDKafkaRespErr,
    rtt_ms: i32,
) {
    use rdkafka::bindings as rd;
    // SAFETY: the client owns a live mock cluster (test.mock.num.brokers);
    // the variadic tail is one (error, rtt) pair of C ints, as cnt says.
    let r = unsafe {
        let mc = rd::rd_kafka_handle_mock_cluster(client.native_ptr());
        assert!(!mc.is_null(), "the client has no mock cluster");
        rd::rd_kafka_mock_broker_push_request_error_rtts(
            mc,
            broker,
            RDKafkaApiKey::ListOffsets as i16,
            1,
            err as std::os::raw::c_int,
            rtt_ms as std::os::raw::c_int,
        )
    };
    assert_eq!(r, RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR);
}

/// A refresh's counts events and final snapshot.
fn refresh_with_counts(
    rt: &tokio::runtime::Runtime,
    w: &mut WorkerHandle,
    id: u64,
) -> (
    Vec<kafkaterm::worker::protocol::TopicCount>,
    kafkaterm::model::ClusterSnapshot,
) {
    w.commands.send(Command::RefreshTopics { id }).unwrap();
    let mut counts = Vec::new();
    let snap = wait(rt, w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::TopicCounts { id: i, counts: c } if i == id => {
            counts.extend(c);
            None
        }
        WorkerEvent::Topics { id: i, result } if i == id => Some(result.unwrap()),
        _ => None,
    });
    (counts, snap)
}

/// One leader that refuses ListOffsets, or answers too slowly, leaves only
/// the topics it leads partitions of without a count, each with the reason
/// (naming the leader, and how many partitions when only some failed); the
/// others keep their exact counts, in the progressive counts as in the final
/// snapshot and in headless `topics --json`.
#[test]
fn a_refusing_or_slow_leader_leaves_only_its_topics_unknown_with_the_reason() {
    // A mock cluster made through a client, so its handle reaches the
    // per-broker error stack.
    let owner: BaseProducer = ClientConfig::new()
        .set("test.mock.num.brokers", "3")
        .create()
        .unwrap();
    let mock = owner.client().mock_cluster().unwrap();
    mock.create_topic("alpha", 2, 1).unwrap();
    mock.create_topic("beta", 2, 1).unwrap();
    mock.create_topic("mixed", 2, 1).unwrap();
    for p in 0..2 {
        mock.partition_leader("alpha", p, Some(1)).unwrap();
        mock.partition_leader("beta", p, Some(2)).unwrap();
    }
    mock.partition_leader("mixed", 0, Some(1)).unwrap();
    mock.partition_leader("mixed", 1, Some(2)).unwrap();
    let bs = mock.bootstrap_servers();
    produce_n(&bs, "alpha", 0, 0, 3);
    produce_n(&bs, "alpha", 1, 0, 4);
    produce_n(&bs, "beta", 0, 0, 5);
    produce_n(&bs, "mixed", 0, 0, 2);
    produce_n(&bs, "mixed", 1, 0, 6);
    let rt = rt();
    let mut p = profile(&bs);
    p.watermarks_timeout_secs = 1.5;
    let mut w = rt.block_on(async { worker::spawn(p).unwrap() });
    let find = |s: &kafkaterm::model::ClusterSnapshot, n: &str| {
        s.topics.iter().find(|t| t.name == n).unwrap().clone()
    };

    // All leaders answer: exact counts, no reasons.
    let (_, snap) = refresh_with_counts(&rt, &mut w, 1);
    for (name, n) in [("alpha", 7), ("beta", 5), ("mixed", 8)] {
        let t = find(&snap, name);
        assert_eq!((t.messages, t.messages_error), (Some(n), None), "{name}");
    }
    assert_eq!(snap.watermark_error, None);

    // Broker 2 refuses ListOffsets.
    push_list_offsets_error(
        owner.client(),
        2,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        0,
    );
    let (counts, snap) = refresh_with_counts(&rt, &mut w, 2);
    let alpha = find(&snap, "alpha");
    assert_eq!((alpha.messages, alpha.messages_error), (Some(7), None));
    let beta = find(&snap, "beta");
    assert_eq!(beta.messages, None);
    assert_eq!(
        beta.messages_error.as_deref(),
        Some("watermarks unavailable: not authorized for this topic (leader 2)")
    );
    let mixed = find(&snap, "mixed");
    assert_eq!(mixed.messages, None);
    assert_eq!(
        mixed.messages_error.as_deref(),
        Some(
            "watermarks unavailable: not authorized for this topic (leader 2) on 1 of 2 partitions"
        )
    );
    // The progressive counts said the same before the final answer.
    for c in &counts {
        let t = find(&snap, &c.name);
        assert_eq!(
            (&c.messages, &c.messages_error),
            (&t.messages, &t.messages_error)
        );
    }
    assert_eq!(counts.len(), 3, "{counts:?}");
    let summary = snap.watermark_error.unwrap();
    assert!(
        summary.starts_with("message counts unknown for 2 topics: "),
        "{summary}"
    );

    // The topic detail keeps the partition whose leader answered, and says
    // why the other has no watermarks.
    push_list_offsets_error(
        owner.client(),
        2,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        0,
    );
    w.commands
        .send(Command::DescribeTopic {
            id: 10,
            topic: "mixed".into(),
        })
        .unwrap();
    let d = wait(&rt, &mut w, Duration::from_secs(30), |ev| match ev {
        WorkerEvent::TopicDetail { id: 10, result, .. } => Some(result.unwrap()),
        _ => None,
    });
    assert_eq!(d.partitions[0].messages(), Some(2));
    assert_eq!(d.partitions[1].messages(), None);
    assert_eq!(
        d.partitions[1].error.as_deref(),
        Some("watermarks unavailable: not authorized for this topic")
    );
    assert_eq!(
        kafkaterm::model::unknown_count_reason(&d.partitions).as_deref(),
        Some(
            "watermarks unavailable: not authorized for this topic (leader 2) on 1 of 2 partitions"
        )
    );

    // Broker 2 answers ListOffsets only after 5 s, past the 1.5 s timeout:
    // the refresh still ends, the others' counts exact.
    push_list_offsets_error(
        owner.client(),
        2,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR,
        5_000,
    );
    let (_, snap) = refresh_with_counts(&rt, &mut w, 3);
    assert_eq!(find(&snap, "alpha").messages, Some(7));
    assert_eq!(
        find(&snap, "beta").messages_error.as_deref(),
        Some("watermarks timed out (leader 2)")
    );
    assert_eq!(
        find(&snap, "mixed").messages_error.as_deref(),
        Some("watermarks timed out (leader 2) on 1 of 2 partitions")
    );
    drop(w);
    drop(rt);

    // Headless `topics --json`: the reason is a field, null when the count
    // is known; the text output shows `?` and the reason.
    let dir = tempfile::tempdir().unwrap();
    let run = |json: bool| {
        push_list_offsets_error(
            owner.client(),
            2,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
            0,
        );
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kafkaterm"));
        c.env("KAFKATERM_CONFIG_DIR", dir.path().join("config"))
            .env("KAFKATERM_DATA_DIR", dir.path().join("data"))
            .env_remove("KAFKATERM_BROKERS")
            .args(["-b", &bs, "topics"]);
        if json {
            c.arg("--json");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (out, err) = run(true);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let topic = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(topic("alpha")["messages"], 7);
    assert!(topic("alpha")["messages_error"].is_null());
    assert!(topic("beta")["messages"].is_null());
    assert_eq!(
        topic("beta")["messages_error"],
        "watermarks unavailable: not authorized for this topic (leader 2)"
    );
    assert!(err.contains("message counts unknown for 2 topics"), "{err}");
    let (out, _) = run(false);
    let beta = out.lines().find(|l| l.starts_with("beta ")).unwrap();
    assert!(
        beta.contains(" ? ")
            && beta.ends_with(
                "messages-unknown: watermarks unavailable: not authorized for this topic (leader 2)"
            ),
        "{out}"
    );
    drop(mock);
    drop(owner);
}
