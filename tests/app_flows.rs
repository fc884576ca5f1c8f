//! The app as a state machine: keys and synthetic worker events in,
//! commands and screens out. Screens are drawn with ratatui's TestBackend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::sync::Arc;

use kafkaterm::app::{App, Env, Msg, PaneId};
use kafkaterm::config::theme::Theme;
use kafkaterm::model::{
    BrokerInfo, ClusterSnapshot, Configs, GroupDescription, GroupMember, GroupSnapshot,
    PartitionInfo, PartitionLag, Record, TimestampType, TopicDetail, TopicPartition, TopicSummary,
};
use kafkaterm::panes::composer::Area;
use kafkaterm::timeutil::StartAt;
use kafkaterm::worker::protocol::{
    BatchSource, BrowseEvent, Command, ConnState, GroupsSnapshot, ProduceProgress, WorkerEvent,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

const NOW: i64 = 1_795_000_000_000;

fn app_with(env: Env) -> (App, Vec<Command>) {
    App::new(env, NOW, (80, 24))
}

fn app() -> (App, Vec<Command>) {
    app_with(Env::test())
}

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(app: &mut App, c: char) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| kafkaterm::ui::draw(app, &Theme::dark(), f))
        .unwrap();
    t
}

fn lines(t: &Terminal<TestBackend>) -> Vec<String> {
    let b = t.backend().buffer();
    (0..b.area.height)
        .map(|y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

fn screen(app: &App) -> String {
    lines(&draw(app, 80, 24)).join("\n")
}

fn topic(name: &str, partitions: usize, messages: i64, urp: usize) -> TopicSummary {
    TopicSummary {
        messages_error: None,
        name: name.into(),
        partitions,
        replication_factor: 3,
        messages: Some(messages),
        internal: name.starts_with('_'),
        under_replicated: urp,
        offline: 0,
        error: None,
        end_offsets: None,
    }
}

/// The id of the topic refresh among `cmds`, if one was asked for.
fn topics_refresh(cmds: &[Command]) -> Option<kafkaterm::worker::protocol::ReqId> {
    cmds.iter().find_map(|c| match c {
        Command::RefreshTopics { id } => Some(*id),
        _ => None,
    })
}

fn snapshot() -> ClusterSnapshot {
    ClusterSnapshot {
        brokers: vec![BrokerInfo {
            id: 1,
            host: "localhost".into(),
            port: 9092,
        }],
        topics: vec![
            topic("__consumer_offsets", 50, 0, 0),
            topic("orders", 6, 1_234_567, 0),
            topic("payments", 3, 42, 1),
            topic("users", 3, 7, 0),
        ],
        watermark_error: None,
    }
}

fn answer_topics(app: &mut App, cmds: &[Command]) -> Vec<Command> {
    let id = topics_refresh(cmds).expect("a topic refresh was requested");
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Ok(snapshot()),
    }))
}

fn record(p: i32, o: i64, key: Option<&str>, value: Option<&[u8]>) -> Record {
    Record {
        topic: Arc::from("orders"),
        partition: p,
        offset: o,
        timestamp: Some(NOW),
        timestamp_type: TimestampType::CreateTime,
        key: key.map(|k| k.as_bytes().to_vec()),
        value: value.map(<[u8]>::to_vec),
        headers: vec![kafkaterm::model::Header {
            name: "trace-id".into(),
            value: Some(b"abc-123".to_vec()),
        }],
    }
}

fn open_browser(app: &mut App) -> u64 {
    let cmds = key(app, KeyCode::Char('b'));
    cmds.iter()
        .find_map(|c| match c {
            Command::StartBrowse { session, spec } => {
                assert_eq!(spec.topic, "orders");
                assert_eq!(spec.start, StartAt::LastN(100));
                Some(*session)
            }
            _ => None,
        })
        .expect("browsing started")
}

#[test]
fn start_requests_topics_and_groups_once() {
    let (mut app, cmds) = app();
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::RefreshTopics { .. }))
    );
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::RefreshGroups { .. }))
    );
    // Ticks while the refreshes are in flight never pile up requests.
    for i in 1..100 {
        app.now_ms = NOW + i * 1000;
        let more = app.update(Msg::Tick);
        assert!(more.is_empty(), "tick {i} sent {more:?}");
    }
    // Once answered, the next interval refreshes again.
    answer_topics(&mut app, &cmds);
    app.now_ms += 11_000;
    let more = app.update(Msg::Tick);
    assert!(
        more.iter()
            .any(|c| matches!(c, Command::RefreshTopics { .. }))
    );
}

#[test]
fn topic_list_filters_sorts_and_hides_internal_topics() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let s = screen(&app);
    assert!(s.contains("orders") && s.contains("1,234,567"), "{s}");
    assert!(
        !s.contains("__consumer_offsets"),
        "internal topics hidden by default"
    );
    assert!(s.contains("URP"), "under-replicated marker: {s}");
    assert!(s.contains("refreshed"), "{s}");
    key(&mut app, KeyCode::Char('i'));
    assert!(screen(&app).contains("__consumer_offsets"));
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "pay");
    assert_eq!(app.topics.list.view.len(), 1);
    assert_eq!(app.topics.selected_topic().unwrap().name, "payments");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.topics.list.view.len(), 4);
    // Sort by messages: orders first.
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.topics.selected_topic().unwrap().name, "orders");
}

#[test]
fn topic_detail_shows_partitions_isr_and_configs() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    key(&mut app, KeyCode::Char('j')); // orders (sorted by name, internal hidden)
    let cmds = key(&mut app, KeyCode::Enter);
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::DescribeTopic { id, topic } => {
                assert_eq!(topic, "payments");
                Some(*id)
            }
            _ => None,
        })
        .expect("describe requested");
    let detail = TopicDetail {
        name: "payments".into(),
        internal: false,
        partitions: vec![
            PartitionInfo {
                lso: None,
                partition: 0,
                leader: 1,
                replicas: vec![1, 2, 3],
                isr: vec![1, 2, 3],
                low: Some(0),
                high: Some(20),
                error: None,
            },
            PartitionInfo {
                lso: None,
                partition: 1,
                leader: 2,
                replicas: vec![2, 3, 1],
                isr: vec![2, 3],
                low: Some(5),
                high: Some(27),
                error: None,
            },
        ],
        configs: Configs::Loaded(vec![
            kafkaterm::model::ConfigEntry {
                name: "cleanup.policy".into(),
                value: Some("compact".into()),
                is_default: false,
                is_sensitive: false,
                source: "DynamicTopic".into(),
            },
            kafkaterm::model::ConfigEntry {
                name: "retention.ms".into(),
                value: Some("604800000".into()),
                is_default: true,
                is_sensitive: false,
                source: "Default".into(),
            },
        ]),
    };
    app.update(Msg::Worker(WorkerEvent::TopicDetail {
        id,
        topic: "payments".into(),
        result: Ok(detail),
    }));
    let t = draw(&app, 80, 24);
    let s = lines(&t).join("\n");
    assert!(s.contains("out of sync: 1"), "{s}");
    assert!(s.contains("22"), "messages of partition 1: {s}");
    // The out-of-sync replica is drawn in the warning style.
    let buf = t.backend().buffer();
    let warn = Theme::dark().warn.fg;
    let row = lines(&t)
        .iter()
        .position(|l| l.contains("out of sync"))
        .unwrap();
    let col = lines(&t)[row].find("(out").unwrap();
    assert_eq!(
        buf[(u16::try_from(col).unwrap(), u16::try_from(row).unwrap())].fg,
        warn.unwrap()
    );
    key(&mut app, KeyCode::Tab);
    let s = screen(&app);
    assert!(
        s.contains("* cleanup.policy") || s.contains("*cleanup.policy") || s.contains("│* "),
        "{s}"
    );
    assert!(s.contains("compact") && s.contains("retention.ms"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(app.topics.detail.is_none());
}

#[test]
fn writes_are_refused_in_read_only_mode_everywhere_in_the_ui() {
    let mut env = Env::test();
    env.read_only = true;
    let (mut app, cmds) = app_with(env);
    answer_topics(&mut app, &cmds);
    assert!(key(&mut app, KeyCode::Char('c')).is_empty());
    assert!(app.topics.dialog.is_none());
    assert!(
        app.status
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("read-only")
    );
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(app.topics.dialog.is_none());
    // Composer.
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.focus, PaneId::Composer);
    typ(&mut app, "orders");
    let cmds = ctrl(&mut app, 's');
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::ProduceBatch { .. }))
    );
    assert!(
        app.status
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("read-only")
    );
    assert!(screen(&app).contains("READ-ONLY"));
    // Groups: reset and delete.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('4'));
    let gid = app.groups.in_flight.unwrap();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id: gid,
        result: Ok(groups_snapshot("Empty", vec![])),
    }));
    key(&mut app, KeyCode::Enter);
    assert!(key(&mut app, KeyCode::Char('R')).is_empty());
    assert!(app.groups.dialog.is_none());
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(app.groups.dialog.is_none());
}

#[test]
fn delete_topic_needs_the_typed_name() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('D'));
    assert!(screen(&app).contains("Delete topic"));
    typ(&mut app, "paymentz");
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(cmds.is_empty(), "a wrong name deletes nothing");
    key(&mut app, KeyCode::Char('D'));
    typ(&mut app, "payments");
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::DeleteTopic { topic, .. }] if topic == "payments"));
}

#[test]
fn browser_buffers_filters_and_drops_stale_sessions() {
    let mut env = Env::test();
    env.buffer_max_messages = 500;
    let (mut app, cmds) = app_with(env);
    answer_topics(&mut app, &cmds);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('k'));
    // Select orders (second visible after payments? sorted by name: orders, payments, users).
    let session = open_browser(&mut app);
    assert_eq!(app.focus, PaneId::Browser);
    let batch: Vec<Record> = (0..1000)
        .map(|i| {
            let mut r = record(
                i % 3,
                i64::from(i),
                Some(&format!("k{i}")),
                Some(format!("{{\"n\":{i}}}").as_bytes()),
            );
            r.timestamp = Some(NOW + i64::from(i));
            r
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(batch),
    }));
    assert_eq!(
        app.browser.ring.records.len(),
        500,
        "the ring buffer is capped"
    );
    assert_eq!(app.browser.ring.evicted, 500);
    // Newest first, following: the newest is selected.
    assert_eq!(app.browser.selected_record().unwrap().offset, 999);
    // A stale session's batch is ignored.
    app.update(Msg::Worker(WorkerEvent::Browse {
        session: session + 1000,
        event: BrowseEvent::Records(vec![record(0, 5000, None, None)]),
    }));
    assert_eq!(app.browser.ring.records.len(), 500);
    // Filter on buffered and arriving messages.
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "value.n >= 990");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.browser.view_len(), 10);
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![
            record(0, 1000, Some("x"), Some(b"{\"n\":1000}")),
            record(0, 1001, Some("y"), Some(b"{\"n\":1}")),
        ]),
    }));
    assert_eq!(app.browser.view_len(), 11);
    let s = screen(&app);
    assert!(s.contains("11 matched / 502 scanned"), "{s}");
    // Moving up stops following; G resumes.
    key(&mut app, KeyCode::Char('j'));
    assert!(!app.browser.follow);
    key(&mut app, KeyCode::Char('G'));
    assert!(app.browser.follow);
}

#[test]
fn detail_view_shows_headers_pretty_json_and_escapes() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![
            record(2, 40, Some("bin"), Some(b"\x00\xff\xfe binary")),
            record(2, 41, Some("evil\x1b[2J"), Some(b"\x1b]0;pwned\x07 hi")),
            record(
                2,
                42,
                Some("user-42"),
                Some(br#"{"user":{"id":"u42","tags":["a","b"]},"amount":150}"#),
            ),
        ]),
    }));
    let list = screen(&app);
    assert!(list.contains("evil\\x1b"), "{list}");
    assert!(
        list.contains("{\"user\":{\"id\":\"u42\""),
        "compact JSON in the list: {list}"
    );
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(s.contains("trace-id [text]: abc-123"), "{s}");
    assert!(s.contains("\"user\": {"), "{s}");
    assert!(s.contains("\"id\": \"u42\""), "{s}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(s.contains("\\x1b]0;pwned\\x07"), "{s}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(
        s.contains("binary, 10 bytes") && s.contains("00 ff fe 20"),
        "{s}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Enter);
    // Decoder cycling: value as hex.
    key(&mut app, KeyCode::Char('d')); // text
    key(&mut app, KeyCode::Char('d')); // json
    key(&mut app, KeyCode::Char('d')); // hex
    let s = screen(&app);
    assert!(s.contains("1b 5d 30 3b"), "{s}");
    // Edit and resend carries the message into the composer.
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(app.focus, PaneId::Composer);
    assert_eq!(app.composer.topic.text, "orders");
    assert_eq!(
        app.composer.message.text(Area::Headers),
        "trace-id: abc-123"
    );
}

#[test]
fn composer_sends_templates_and_shows_the_delivery_report() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    key(&mut app, KeyCode::Tab); // partition
    key(&mut app, KeyCode::Tab); // count
    key(&mut app, KeyCode::Backspace);
    typ(&mut app, "5");
    key(&mut app, KeyCode::Tab); // timestamp
    key(&mut app, KeyCode::Tab); // options
    key(&mut app, KeyCode::Char(' ')); // acks 1 -> all
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char(' ')); // compression none -> gzip
    key(&mut app, KeyCode::Tab); // key
    typ(&mut app, "user-{{i}}");
    key(&mut app, KeyCode::Tab); // headers
    typ(&mut app, "source: test");
    key(&mut app, KeyCode::Tab); // value
    typ(&mut app, "{\"n\": {{i}}}");
    let cmds = ctrl(&mut app, 's');
    let (id, template, count, options) = cmds
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch {
                id,
                options,
                source: BatchSource::Template { template, count },
            } => Some((*id, template.clone(), *count, *options)),
            _ => None,
        })
        .expect("a produce batch");
    assert_eq!(count, 5);
    assert_eq!(options.acks, kafkaterm::model::Acks::All);
    assert_eq!(options.compression, kafkaterm::model::Compression::Gzip);
    let r = template.render(3, 0).unwrap();
    assert_eq!(r.key.unwrap(), b"user-3");
    assert_eq!(r.value.unwrap(), b"{\"n\": 3}");
    assert_eq!(r.headers[0].name, "source");
    assert_eq!(app.composer.in_flight(), 5);
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: ProduceProgress {
            queued: 5,
            delivered: 5,
            failed: 0,
            first_error: None,
            last: Some(kafkaterm::model::Delivery {
                partition: 2,
                offset: 17,
                timestamp: Some(NOW),
                latency_ms: 3.2,
            }),
            elapsed_ms: 10,
            done: true,
        },
    }));
    assert_eq!(app.composer.in_flight(), 0);
    let s = screen(&app);
    assert!(s.contains("5 delivered"), "{s}");
    // A failed send shows the broker's reason.
    let cmds = ctrl(&mut app, 's');
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: ProduceProgress {
            queued: 0,
            delivered: 0,
            failed: 5,
            first_error: Some("unknown topic or partition".into()),
            last: None,
            elapsed_ms: 3000,
            done: true,
        },
    }));
    let s = screen(&app);
    assert!(s.contains("unknown topic or partition"), "{s}");
}

#[test]
fn composer_single_send_reports_partition_and_offset_and_invalid_json_blocks() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    for _ in 0..4 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Tab); // key
    key(&mut app, KeyCode::Tab); // headers
    key(&mut app, KeyCode::Tab); // value
    typ(&mut app, "{\"a\": ");
    assert!(
        screen(&app).contains("invalid JSON at line 1"),
        "{}",
        screen(&app)
    );
    let cmds = ctrl(&mut app, 's');
    assert!(cmds.is_empty(), "invalid JSON is not sent");
    typ(&mut app, "1}");
    let cmds = ctrl(&mut app, 's');
    let id = match &cmds[..] {
        [Command::ProduceBatch { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: ProduceProgress {
            queued: 1,
            delivered: 1,
            failed: 0,
            first_error: None,
            last: Some(kafkaterm::model::Delivery {
                partition: 4,
                offset: 99,
                timestamp: Some(NOW),
                latency_ms: 2.5,
            }),
            elapsed_ms: 3,
            done: true,
        },
    }));
    let s = screen(&app);
    assert!(s.contains("partition 4 offset 99"), "{s}");
    // Tombstone toggle.
    ctrl(&mut app, 'n');
    assert!(screen(&app).contains("null (tombstone)"));
}

#[test]
fn quitting_waits_for_in_flight_messages() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    for _ in 0..7 {
        key(&mut app, KeyCode::Tab);
    }
    typ(&mut app, "{}");
    assert_eq!(ctrl(&mut app, 's').len(), 1);
    key(&mut app, KeyCode::Esc); // options row: global keys work
    let cmds = key(&mut app, KeyCode::Char('q'));
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::Flush { id, .. } => Some(*id),
            _ => None,
        })
        .expect("quit flushes first");
    assert!(!app.quit);
    assert!(screen(&app).contains("in-flight"));
    app.update(Msg::Worker(WorkerEvent::Flushed { id, undelivered: 1 }));
    assert!(app.quit);
    assert!(app.exit_message.unwrap().contains("1 not delivered"));
}

fn groups_snapshot(state: &str, members: Vec<GroupMember>) -> GroupsSnapshot {
    GroupsSnapshot {
        groups: vec![GroupSnapshot {
            group: "orders-service".into(),
            description: Some(GroupDescription {
                group: "orders-service".into(),
                state: state.into(),
                protocol_type: "consumer".into(),
                protocol: "range".into(),
                members,
                ..Default::default()
            }),
            description_note: None,
            partitions: vec![PartitionLag {
                lso: None,
                topic: "orders".into(),
                partition: 0,
                committed: Some(10),
                end: Some(25),
                lag: Some(15),
                member_id: None,
                lag_ms: None,
                lag_ms_estimated: false,
                lag_ms_note: None,
                error: None,
            }],
            offsets_note: None,
            at_ms: NOW,
        }],
        list_note: None,
        at_ms: NOW,
    }
}

/// A group as a stepped refresh's listing gives it: state and members, no offsets.
fn listed(name: &str, state: &str, at_ms: i64) -> GroupSnapshot {
    GroupSnapshot {
        group: name.into(),
        description: Some(GroupDescription {
            group: name.into(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: vec![],
            ..Default::default()
        }),
        description_note: None,
        partitions: vec![],
        offsets_note: None,
        at_ms,
    }
}

#[test]
fn groups_list_at_once_and_lag_fills_in_visible_first() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    // The listing: 3,000 groups with their states at once, lag loading.
    let names: Vec<String> = (0..3000).map(|i| format!("g-{i:04}")).collect();
    app.update(Msg::Worker(WorkerEvent::GroupList {
        id,
        groups: names.iter().map(|n| listed(n, "Empty", NOW)).collect(),
        list_note: None,
    }));
    let s = screen(&app);
    assert!(s.contains("Consumer groups 3000"), "{s}");
    assert!(s.contains("lag known for 0 of 3,000"), "{s}");
    assert!(
        s.contains("g-0000") && s.contains("Empty") && s.contains('…'),
        "{s}"
    );
    // The list scrolls and filters while lag loads.
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "g-2999");
    assert!(
        screen(&app).contains("Consumer groups 1"),
        "{}",
        screen(&app)
    );
    key(&mut app, KeyCode::Esc);
    assert!(
        screen(&app).contains("Consumer groups 3000"),
        "{}",
        screen(&app)
    );
    assert_eq!(app.groups.in_flight, Some(id));
    key(&mut app, KeyCode::Home);
    // Offsets of some groups: their lag shows, the count follows.
    let with_lag = |name: &str, lag: i64| {
        let mut g = listed(name, "Empty", NOW + 1);
        g.partitions = vec![PartitionLag {
            topic: "orders".into(),
            partition: 0,
            committed: Some(10),
            end: Some(10 + lag),
            lag: Some(lag),
            member_id: None,
            lag_ms: Some(lag * 1000),
            lag_ms_estimated: false,
            lag_ms_note: None,
            error: None,
            lso: None,
        }];
        g
    };
    app.update(Msg::Worker(WorkerEvent::GroupOffsets {
        id,
        groups: vec![with_lag("g-0001", 4242)],
    }));
    let s = screen(&app);
    assert!(
        s.contains("4,242") && s.contains("lag known for 1 of 3,000"),
        "{s}"
    );
    // The final answer carries everything: a group seen in a step is not
    // counted twice.
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(GroupsSnapshot {
            groups: names
                .iter()
                .map(|n| with_lag(n, if n == "g-0001" { 4242 } else { 1 }))
                .collect(),
            list_note: None,
            at_ms: NOW + 1,
        }),
    }));
    assert_eq!(app.groups.in_flight, None);
    assert_eq!(app.groups.tracked["g-0001"].history.samples.len(), 1);
    assert_eq!(app.groups.tracked["g-0002"].history.samples.len(), 1);
    assert!(!screen(&app).contains("lag known for"), "{}", screen(&app));
    // The next refresh asks for the visible rows (sorted by lag) first.
    app.now_ms += 60_000;
    let cmds = app.update(Msg::Tick);
    let first = cmds
        .iter()
        .find_map(|c| match c {
            Command::RefreshGroups { first, .. } => first.clone(),
            _ => None,
        })
        .expect("a refresh");
    assert_eq!(
        first.first().map(String::as_str),
        Some("g-0001"),
        "{first:?}"
    );
    assert!(first.len() > 5 && first.len() < 40, "{first:?}");
}

#[test]
fn groups_view_shows_lag_members_and_rebalances() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    let member = GroupMember {
        member_id: "consumer-1-abc".into(),
        client_id: String::new(),
        host: String::new(),
        assignment: None,
        assignment_note: Some("assignment not reported by broker".into()),
        subscription: vec![],
        ..Default::default()
    };
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot("Stable", vec![member.clone()])),
    }));
    let s = screen(&app);
    assert!(
        s.contains("orders-service") && s.contains("Stable") && s.contains("15"),
        "{s}"
    );
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(s.contains("COMMITTED") && s.contains("25"), "{s}");
    key(&mut app, KeyCode::Tab);
    let s = screen(&app);
    assert!(
        s.contains("consumer-1-abc") && s.contains("not reported by broker"),
        "{s}"
    );
    // A second member joins: a rebalance event appears in the timeline.
    app.now_ms = NOW + 2000;
    app.update(Msg::Tick);
    let id = app.groups.in_flight.expect("refresh on the interval");
    let mut two = member.clone();
    two.member_id = "consumer-2-def".into();
    let mut snap = groups_snapshot("Stable", vec![member, two]);
    snap.groups[0].at_ms = NOW + 2000;
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(snap),
    }));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    let s = screen(&app);
    assert!(s.contains("member joined consumer-2-def"), "{s}");
    // A failed refresh is shown; the data stays.
    app.now_ms = NOW + 4000;
    app.update(Msg::Tick);
    let id = app.groups.in_flight.unwrap();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Err(kafkaterm::worker::protocol::WorkerError::internal(
            "timed out waiting for the broker",
        )),
    }));
    let s = screen(&app);
    assert!(s.contains("last refresh failed"), "{s}");
    assert!(s.contains("member joined"), "{s}");
}

#[test]
fn offset_reset_refuses_a_group_that_is_not_empty() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot(
            "Stable",
            vec![GroupMember {
                member_id: "m".into(),
                client_id: "c".into(),
                host: "/h".into(),
                assignment: Some(vec![TopicPartition::new("orders", 0)]),
                assignment_note: None,
                subscription: vec![],
                ..Default::default()
            }],
        )),
    }));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('R'));
    let cmds = key(&mut app, KeyCode::Enter); // target "earliest"
    let id = match &cmds[..] {
        [Command::PlanOffsetReset { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    app.update(Msg::Worker(WorkerEvent::ResetPlan {
        id,
        group: "orders-service".into(),
        result: Ok(vec![kafkaterm::worker::protocol::ResetRow {
            tp: TopicPartition::new("orders", 0),
            current: Some(10),
            new: 0,
            low: 0,
            end: 25,
        }]),
    }));
    let s = screen(&app);
    assert!(s.contains("dry run") && s.contains("10 →"), "{s}");
    typ(&mut app, "orders-service");
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(cmds.is_empty(), "no reset while the group is Stable");
    // The dialog stays open and says why, in the model's words.
    let s = screen(&app);
    assert!(
        s.contains("the group is Stable with 1 member(s): offsets can only be")
            && s.contains("10 →"),
        "{s}"
    );
    // Typing again clears the refusal; Esc closes the dialog.
    key(&mut app, KeyCode::Backspace);
    assert!(!screen(&app).contains("the group is Stable with"));
    key(&mut app, KeyCode::Esc);
    assert!(!screen(&app).contains("dry run"));
}

/// The reset wizard from target to applied: a bad target is explained in
/// place, answers to requests no longer awaited are dropped, a wrong name
/// changes nothing, and an applied reset refreshes the groups.
#[test]
fn offset_reset_wizard_from_target_to_applied() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot("Empty", vec![])),
    }));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('R'));
    assert!(screen(&app).contains("scope: 1 marked partition(s)"));
    ctrl(&mut app, 'u');
    typ(&mut app, "sideways");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(
        screen(&app).contains("`sideways`: use earliest"),
        "{}",
        screen(&app)
    );
    ctrl(&mut app, 'u');
    typ(&mut app, "shift -5");
    let cmds = key(&mut app, KeyCode::Enter);
    let plan_id = match &cmds[..] {
        [
            Command::PlanOffsetReset {
                id,
                group,
                target,
                partitions,
            },
        ] => {
            assert_eq!(group, "orders-service");
            assert_eq!(*target, kafkaterm::worker::protocol::ResetTarget::Shift(-5));
            assert_eq!(partitions, &Some(vec![TopicPartition::new("orders", 0)]));
            *id
        }
        other => panic!("{other:?}"),
    };
    let rows = vec![kafkaterm::worker::protocol::ResetRow {
        tp: TopicPartition::new("orders", 0),
        current: Some(10),
        new: 5,
        low: 0,
        end: 25_000,
    }];
    // A stale answer is ignored.
    app.update(Msg::Worker(WorkerEvent::ResetPlan {
        id: plan_id + 100,
        group: "orders-service".into(),
        result: Err(kafkaterm::worker::protocol::WorkerError::internal("stale")),
    }));
    assert!(screen(&app).contains("computing the dry run"));
    app.update(Msg::Worker(WorkerEvent::ResetPlan {
        id: plan_id,
        group: "orders-service".into(),
        result: Ok(rows.clone()),
    }));
    let s = screen(&app);
    assert!(s.contains("10 →") && s.contains("24,995"), "{s}");
    // A wrong name: nothing applied, the dialog closes.
    typ(&mut app, "orders");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(!screen(&app).contains("dry run"));
    // Again, with the right name.
    key(&mut app, KeyCode::Char('R'));
    let cmds = key(&mut app, KeyCode::Enter);
    let Some(Command::PlanOffsetReset { id: plan_id, .. }) = cmds.first() else {
        panic!("{cmds:?}")
    };
    app.update(Msg::Worker(WorkerEvent::ResetPlan {
        id: *plan_id,
        group: "orders-service".into(),
        result: Ok(rows.clone()),
    }));
    typ(&mut app, "orders-service");
    let cmds = key(&mut app, KeyCode::Enter);
    let apply_id = match &cmds[..] {
        [Command::ApplyOffsetReset { id, group, rows: r }] => {
            assert_eq!(group, "orders-service");
            assert_eq!(r, &rows);
            *id
        }
        other => panic!("{other:?}"),
    };
    assert!(screen(&app).contains("committing"));
    let cmds = app.update(Msg::Worker(WorkerEvent::ResetApplied {
        id: apply_id,
        group: "orders-service".into(),
        result: Ok(1),
    }));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::RefreshGroups { .. })),
        "{cmds:?}"
    );
    assert!(app.groups.dialog.is_none() && app.groups.marked.is_empty());
    assert!(
        app.status
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("reset 1 partition offset(s) of orders-service")
    );
}

/// Deleting a group with members is refused before anything is typed, with
/// the same rule the worker applies.
#[test]
fn deleting_a_live_group_is_refused_up_front() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    let member = GroupMember {
        member_id: "m".into(),
        client_id: "c".into(),
        host: "/h".into(),
        assignment: Some(vec![TopicPartition::new("orders", 0)]),
        assignment_note: None,
        subscription: vec![],
        ..Default::default()
    };
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot("PreparingRebalance", vec![member])),
    }));
    key(&mut app, KeyCode::Enter);
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(app.groups.dialog.is_none());
    let toast = &app.status.toast.as_ref().unwrap().text;
    assert!(
        toast.contains("the group is PreparingRebalance with 1 member(s): a group can only be deleted while it is Empty"),
        "{toast}"
    );
}

/// A user keymap remaps a groups action and the form's submit: the new keys
/// act, the old ones do not, and the hints and help show the new keys.
#[test]
fn group_keys_follow_a_user_keymap() {
    use kafkaterm::app::keymap::Keymap;
    let mut env = Env::test();
    env.keymap = Arc::new(
        Keymap::with_user(
            "[group_detail]\nreset_offsets = [\"O\"]\n[form]\nsubmit = [\"ctrl-s\"]\n",
            std::path::Path::new("keymap.toml"),
        )
        .unwrap(),
    );
    let (mut app, _) = app_with(env);
    key(&mut app, KeyCode::Char('4'));
    let id = app.groups.in_flight.unwrap();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot("Empty", vec![])),
    }));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('R'));
    assert!(app.groups.dialog.is_none(), "R no longer resets");
    key(&mut app, KeyCode::Char('?'));
    assert!(
        app.help_rows()
            .iter()
            .any(|(k, d)| k == "O" && d.starts_with("reset offsets")),
        "{:?}",
        app.help_rows()
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('O'));
    let s = screen(&app);
    assert!(
        s.contains("Reset offsets of") && s.contains("Ctrl-S dry run"),
        "{s}"
    );
    // Enter is not submit any more: it is ignored by the field.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    let cmds = ctrl(&mut app, 's');
    assert!(
        matches!(&cmds[..], [Command::PlanOffsetReset { .. }]),
        "{cmds:?}"
    );
}

#[test]
fn status_bar_shows_disconnection_and_keeps_data() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    app.update(Msg::Worker(WorkerEvent::Connection(ConnState::Connected)));
    assert!(screen(&app).contains("connected"));
    app.update(Msg::Worker(WorkerEvent::Connection(ConnState::Down(
        "all brokers are down or unreachable".into(),
    ))));
    app.now_ms += 11_000;
    let cmds = app.update(Msg::Tick);
    let id = topics_refresh(&cmds).unwrap();
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Err(kafkaterm::worker::protocol::WorkerError::internal(
            "timed out waiting for the broker",
        )),
    }));
    let s = screen(&app);
    assert!(s.contains("disconnected"), "{s}");
    assert!(s.contains("orders"), "data stays on screen: {s}");
}

#[test]
fn help_lists_the_keys_of_the_current_pane() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('?'));
    let s = lines(&draw(&app, 100, 40)).join("\n");
    assert!(
        s.contains("Keys: Topics") && s.contains("filter topics"),
        "{s}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('?'));
    let s = lines(&draw(&app, 100, 40)).join("\n");
    assert!(
        s.contains("Keys: Browser") && s.contains("live follow"),
        "{s}"
    );
}

#[test]
fn small_terminals_get_a_notice_and_80x24_fits() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let s = lines(&draw(&app, 40, 10)).join("\n");
    assert!(s.contains("terminal too small"), "{s}");
    let l = lines(&draw(&app, 80, 24));
    assert!(l[0].contains("1 Topics") && l[0].contains("4 Groups"));
    assert!(l[23].contains("? help"));
}

#[test]
fn production_clusters_stand_out_and_no_color_stays_readable() {
    let mut env = Env::test();
    env.production = true;
    let (app, _) = app_with(env);
    let t = draw(&app, 80, 24);
    let l = lines(&t);
    let col = l[23].find("PROD").expect("PROD marker in the status bar");
    let prod = Theme::dark().status_production;
    assert_eq!(
        t.backend().buffer()[(u16::try_from(col).unwrap(), 23)].bg,
        prod.bg.unwrap()
    );
    // The whole status bar takes the production colour.
    assert_eq!(t.backend().buffer()[(70, 23)].bg, prod.bg.unwrap());
    assert!(
        l[23].contains("test"),
        "the cluster name is in the status bar: {}",
        l[23]
    );
    // The mono theme uses no colour at all.
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| kafkaterm::ui::draw(&app, &Theme::mono(), f))
        .unwrap();
    for c in &term.backend().buffer().content {
        assert!(
            matches!(c.fg, Color::Reset) && matches!(c.bg, Color::Reset),
            "{c:?}"
        );
    }
}

#[test]
fn composer_history_templates_and_cancel() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    for _ in 0..5 {
        key(&mut app, KeyCode::Tab);
    }
    typ(&mut app, "k1");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    typ(&mut app, "{\"v\": 1}");
    let cmds = ctrl(&mut app, 's');
    let id = match &cmds[..] {
        [Command::ProduceBatch { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    // The history file is written through an effect.
    let hist = app
        .effects
        .iter()
        .find_map(|e| match e {
            kafkaterm::app::Effect::WriteFile { path, contents, .. }
                if path.ends_with("history.jsonl") =>
            {
                Some(contents.clone())
            }
            _ => None,
        })
        .expect("history saved");
    assert!(
        hist.contains("\"topic\":\"orders\"") && hist.contains("\"key\":\"k1\""),
        "{hist}"
    );
    app.effects.clear();
    // Esc in the options row cancels the running send instead of leaving.
    key(&mut app, KeyCode::Esc);
    let cmds = key(&mut app, KeyCode::Esc);
    assert!(
        matches!(&cmds[..], [Command::Cancel { id: c }] if *c == id),
        "{cmds:?}"
    );
    assert_eq!(app.focus, PaneId::Composer);
    // Save as a template, change the key, load the template back.
    ctrl(&mut app, 't');
    key(&mut app, KeyCode::Char('s'));
    typ(&mut app, "order-template");
    key(&mut app, KeyCode::Enter);
    let tpl = app
        .effects
        .iter()
        .find_map(|e| match e {
            kafkaterm::app::Effect::WriteFile { path, contents, .. }
                if path.ends_with("templates.json") =>
            {
                Some(contents.clone())
            }
            _ => None,
        })
        .expect("templates saved");
    assert!(tpl.contains("order-template"), "{tpl}");
    key(&mut app, KeyCode::Tab); // options row → key
    typ(&mut app, "-changed");
    assert_eq!(app.composer.message.text(Area::Key), "k1-changed");
    ctrl(&mut app, 't');
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.composer.message.text(Area::Key), "k1");
    // History recall.
    app.composer.topic = kafkaterm::ui::widgets::LineInput::with("other");
    ctrl(&mut app, 'r');
    assert!(screen(&app).contains("History"));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.composer.topic.text, "orders");
}

/// The save the last key asked for.
fn export_job(app: &App) -> kafkaterm::export::ExportJob {
    app.effects
        .iter()
        .rev()
        .find_map(|e| match e {
            kafkaterm::app::Effect::Export(job) => Some(job.clone()),
            _ => None,
        })
        .expect("a save was started")
}

#[test]
fn browser_export_is_json_lines_the_producer_reads_back() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    let recs = vec![
        record(0, 1, Some("a"), Some(b"{\"x\":1}")),
        record(1, 2, None, None),
        record(2, 3, Some("bin"), Some(&[0xff, 0, 1])),
    ];
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(recs.clone()),
    }));
    key(&mut app, KeyCode::Char('w'));
    assert!(screen(&app).contains("Save all 3 buffered message(s)"));
    key(&mut app, KeyCode::Enter);
    let dir = tempfile::tempdir().unwrap();
    let mut job = export_job(&app);
    assert_eq!(job.records.len(), 3);
    job.path = dir.path().join("out.jsonl");
    kafkaterm::export::run(&job, |_, _| {}).unwrap();
    let contents = std::fs::read_to_string(&job.path).unwrap();
    let back: Vec<_> = contents
        .lines()
        .map(|l| kafkaterm::jsonl::parse_line(l).unwrap())
        .collect();
    assert_eq!(back.len(), 3);
    for (b, r) in back.iter().zip(&recs) {
        assert_eq!(b.key, r.key);
        assert_eq!(b.value, r.value);
        assert_eq!(b.partition, Some(r.partition));
        assert_eq!(b.headers, r.headers);
    }
    // One save at a time.
    app.effects.clear();
    key(&mut app, KeyCode::Char('w'));
    assert!(app.browser.dialog.is_none());
    app.update(Msg::Io(kafkaterm::app::IoResult::Export(
        kafkaterm::export::ExportEvent::Done {
            id: job.id,
            result: Ok(kafkaterm::export::ExportDone {
                messages: 3,
                bytes: 100,
            }),
        },
    )));
    assert!(app.browser.export.is_none());
    // Marked messages only.
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Char('w'));
    assert!(screen(&app).contains("Save the 1 marked message(s)"));
    key(&mut app, KeyCode::Enter);
    assert_eq!(export_job(&app).records.len(), 1);
}

#[test]
fn browser_save_shows_progress_and_esc_cancels_it() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    let batch: Vec<Record> = (0..5000)
        .map(|i| record(i % 3, i64::from(i), Some("k"), Some(b"v")))
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(batch),
    }));
    key(&mut app, KeyCode::Char('w'));
    key(&mut app, KeyCode::Enter);
    let job = export_job(&app);
    assert_eq!(job.records.len(), 5000);
    // The save runs elsewhere; the pane shows how far it got.
    app.update(Msg::Io(kafkaterm::app::IoResult::Export(
        kafkaterm::export::ExportEvent::Progress {
            id: job.id,
            written: 2000,
            bytes: 150_000,
        },
    )));
    let s = screen(&app);
    assert!(s.contains("saving 2,000/5,000"), "{s}");
    assert!(s.contains("Esc cancels"), "{s}");
    // Keys still work meanwhile.
    key(&mut app, KeyCode::Char('j'));
    assert!(!app.browser.follow);
    // Esc raises the flag the writer checks.
    key(&mut app, KeyCode::Esc);
    assert!(job.cancel.is_cancelled());
    assert!(screen(&app).contains("cancelling"));
    // The writer's answer ends it; nothing was left behind.
    let dir = tempfile::tempdir().unwrap();
    let job = kafkaterm::export::ExportJob {
        path: dir.path().join("x.jsonl"),
        ..job
    };
    let result = kafkaterm::export::run(&job, |_, _| {});
    assert_eq!(result, Err(kafkaterm::export::ExportError::Cancelled));
    assert!(!job.path.exists());
    app.update(Msg::Io(kafkaterm::app::IoResult::Export(
        kafkaterm::export::ExportEvent::Done { id: job.id, result },
    )));
    assert!(app.browser.export.is_none());
    assert!(
        app.status
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("save cancelled")),
        "{:?}",
        app.status.toast
    );
}

#[test]
fn browser_lists_newest_first_by_time_across_partitions() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    // "Last 100 per partition": partition 0's records arrive, then
    // partition 1's, whose times interleave with them.
    let at = |p: i32, o: i64, secs: i64| {
        let mut r = record(p, o, Some(&format!("p{p}o{o}")), Some(b"{}"));
        r.timestamp = Some(NOW + secs * 1000);
        r
    };
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![at(0, 10, 1), at(0, 11, 3), at(0, 12, 5)]),
    }));
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![at(1, 20, 2), at(1, 21, 4), at(1, 22, 6)]),
    }));
    let keys = |app: &App| -> Vec<String> {
        (0..app.browser.view_len())
            .map(|pos| {
                let seq = app.browser.seq_at(pos).unwrap();
                String::from_utf8(app.browser.ring.get(seq).unwrap().key.clone().unwrap()).unwrap()
            })
            .collect()
    };
    assert_eq!(
        keys(&app),
        ["p1o22", "p0o12", "p1o21", "p0o11", "p1o20", "p0o10"]
    );
    // The newest by time is selected while following.
    assert_eq!(app.browser.selected_record().unwrap().offset, 22);
    let s = screen(&app);
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("p0o") || l.contains("p1o"))
        .collect();
    assert!(
        rows[0].contains("p1o22") && rows[5].contains("p0o10"),
        "{s}"
    );
    // Oldest first is the same order reversed; a late record with an old
    // time lands in its place, and the selection stays on its record.
    key(&mut app, KeyCode::Char('r'));
    key(&mut app, KeyCode::Char('k'));
    let selected = app.browser.selected_record().unwrap().offset;
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![at(2, 30, 0)]),
    }));
    assert_eq!(
        keys(&app),
        [
            "p2o30", "p0o10", "p1o20", "p0o11", "p1o21", "p0o12", "p1o22"
        ]
    );
    assert_eq!(app.browser.selected_record().unwrap().offset, selected);
    // Filtered views keep the same order.
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "partition != 2");
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        keys(&app),
        ["p0o10", "p1o20", "p0o11", "p1o21", "p0o12", "p1o22"]
    );
}

#[test]
fn browser_shows_a_lone_combining_mark_visibly() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    // The key 0xDE 0xAD is U+07AD, a combining mark with no base.
    let mut r = record(4, 300, None, Some(b"v"));
    r.key = Some(vec![0xde, 0xad]);
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![r]),
    }));
    assert!(screen(&app).contains("\\u{7ad}"), "{}", screen(&app));
    key(&mut app, KeyCode::Enter);
    assert!(screen(&app).contains("\\u{7ad}"), "{}", screen(&app));
}

#[test]
fn browser_previews_are_decoded_once_per_record_and_decoder() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    let batch: Vec<Record> = (0..1000)
        .map(|i| {
            record(
                0,
                i64::from(i),
                Some(&format!("k{i}")),
                Some(format!("{{\"n\":{i}}}").as_bytes()),
            )
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(batch),
    }));
    // 80x24: 17 rows on screen, each decoded once when the batch arrived.
    let rows = 17;
    assert_eq!(app.browser.previews.decoded, rows);
    assert!(screen(&app).contains("{\"n\":999}"));
    // Frames and moves within the screen decode nothing.
    for _ in 0..5 {
        screen(&app);
        key(&mut app, KeyCode::Char('j'));
        app.update(Msg::Tick);
    }
    assert_eq!(app.browser.previews.decoded, rows);
    // Moving past the bottom shows one new row: one decode.
    for _ in 0..12 {
        key(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(app.browser.previews.decoded, rows + 1);
    // Back up: still cached.
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.browser.previews.decoded, rows + 1);
    // Another decoder: the rows on screen once more.
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(app.browser.previews.decoded, 2 * rows + 1);
    assert!(screen(&app).contains("value:text"));
}

#[test]
fn browser_actions_follow_a_user_keymap() {
    let mut env = Env::test();
    env.keymap = Arc::new(
        kafkaterm::app::keymap::Keymap::with_user(
            "[browser]\norder = [\"o\"]\nseek = [\"O\"]\n[message]\nback = [\"left\"]\n",
            std::path::Path::new("keymap.toml"),
        )
        .unwrap(),
    );
    let (mut app, cmds) = app_with(env);
    answer_topics(&mut app, &cmds);
    key(&mut app, KeyCode::Char('2'));
    // The empty browser names the remapped key.
    assert!(
        screen(&app).contains("Press O to open one"),
        "{}",
        screen(&app)
    );
    key(&mut app, KeyCode::Char('1'));
    let session = open_browser(&mut app);
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![record(0, 1, Some("a"), Some(b"x"))]),
    }));
    assert!(screen(&app).contains("newest first"));
    key(&mut app, KeyCode::Char('r'));
    assert!(screen(&app).contains("newest first"), "r is free now");
    key(&mut app, KeyCode::Char('o'));
    assert!(screen(&app).contains("oldest first"));
    assert!(app.browser.dialog.is_none());
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('O'),
        KeyModifiers::SHIFT,
    )));
    assert!(app.browser.dialog.is_some());
    key(&mut app, KeyCode::Esc);
    // The detail's footer and keys follow the remapped back key.
    key(&mut app, KeyCode::Enter);
    assert!(screen(&app).contains("← back"), "{}", screen(&app));
    key(&mut app, KeyCode::Esc);
    assert!(app.browser.detail.is_some());
    key(&mut app, KeyCode::Left);
    assert!(app.browser.detail.is_none());
}

#[test]
fn copy_uses_osc52_effects() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![record(0, 7, Some("the-key"), Some(b"the value"))]),
    }));
    key(&mut app, KeyCode::Char('y'));
    key(&mut app, KeyCode::Char('K'));
    key(&mut app, KeyCode::Char('Y'));
    let copies: Vec<String> = app
        .effects
        .iter()
        .filter_map(|e| match e {
            kafkaterm::app::Effect::Osc52(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(copies[0], "the value");
    assert_eq!(copies[1], "the-key");
    let whole = kafkaterm::jsonl::parse_line(&copies[2]).unwrap();
    assert_eq!(whole.value.as_deref(), Some(&b"the value"[..]));
}

#[test]
fn huge_clusters_and_groups_stay_usable() {
    let (mut app, cmds) = app();
    let id = topics_refresh(&cmds).unwrap();
    let topics: Vec<TopicSummary> = (0..10_000)
        .map(|i| topic(&format!("topic-{i:05}"), 10, i64::from(i), 0))
        .collect();
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Ok(ClusterSnapshot {
            brokers: vec![],
            topics,
            watermark_error: None,
        }),
    }));
    assert!(screen(&app).contains("Topics 10000/10000"));
    key(&mut app, KeyCode::Char('G'));
    assert!(screen(&app).contains("topic-09999"));
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "-00424");
    assert_eq!(app.topics.list.view.len(), 1);
    assert!(screen(&app).contains("topic-00424"));
    // A group with 500 members over 1,000 partitions.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('4'));
    let gid = app.groups.in_flight.unwrap();
    let members: Vec<GroupMember> = (0..500)
        .map(|m| GroupMember {
            member_id: format!("member-{m:03}"),
            client_id: "c".into(),
            host: "/10.0.0.1".into(),
            assignment: Some(
                (0..2)
                    .map(|k| TopicPartition::new("big", m * 2 + k))
                    .collect(),
            ),
            assignment_note: None,
            subscription: vec!["big".into()],
            ..Default::default()
        })
        .collect();
    let mut snap = groups_snapshot("Stable", members);
    snap.groups[0].partitions = (0..1000)
        .map(|p| PartitionLag {
            lso: None,
            topic: "big".into(),
            partition: p,
            committed: Some(10),
            end: Some(20),
            lag: Some(10),
            member_id: Some(format!("member-{:03}", p / 2)),
            lag_ms: None,
            lag_ms_estimated: false,
            lag_ms_note: None,
            error: None,
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Groups {
        id: gid,
        result: Ok(snap),
    }));
    let s = screen(&app);
    assert!(s.contains("10,000") && s.contains("500"), "{s}");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('G'));
    assert!(screen(&app).contains("member-499"));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('G'));
    assert!(screen(&app).contains("member-499"), "{}", screen(&app));
}

fn produced(cmds: &[Command]) -> bool {
    cmds.iter()
        .any(|c| matches!(c, Command::ProduceBatch { .. }))
}

/// The 80x24 screen row `y`, trailing blanks trimmed.
fn row(app: &App, y: usize) -> String {
    lines(&draw(app, 80, 24))[y].trim_end().to_string()
}

#[test]
fn composer_keys_follow_a_user_keymap() {
    let km = kafkaterm::app::keymap::Keymap::with_user(
        "[producer]\nsend = [\"F5\"]\n\n[producer_options]\noption_next = [\"x\"]\n",
        std::path::Path::new("keymap.toml"),
    )
    .unwrap();
    let mut env = Env::test();
    env.keymap = Arc::new(km);
    let (mut app, _) = app_with(env);
    key(&mut app, KeyCode::Char('3'));
    // Text fields take plain characters, global keys included.
    typ(&mut app, "q1?orders");
    assert_eq!(app.composer.topic.text, "q1?orders");
    assert_eq!(app.focus, PaneId::Composer);
    assert!(!app.help && !app.quit);
    // The old key is free (typed nowhere: Ctrl-S is not text), the new one sends.
    assert!(!produced(&ctrl(&mut app, 's')));
    assert!(produced(&key(&mut app, KeyCode::F(5))));
    // The footer names the key the user chose.
    let footer = row(&app, 21);
    assert!(footer.contains("F5 send"), "{footer}");
    assert!(!footer.contains("Ctrl-S"), "{footer}");
    // In the options row `x` changes acks; Space no longer does.
    key(&mut app, KeyCode::Esc);
    let acks = app.composer.options.acks;
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.composer.options.acks, acks);
    key(&mut app, KeyCode::Char('x'));
    assert_ne!(app.composer.options.acks, acks);
    let footer = row(&app, 21);
    assert!(footer.contains("x change"), "{footer}");
}

#[test]
fn composer_checks_the_value_when_it_changes_not_when_drawn() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    // Nothing typed: an empty value is what will be sent, not an error.
    let s = screen(&app);
    assert!(s.contains("value: empty, 0 bytes"), "{s}");
    assert!(!s.contains("invalid JSON"), "{s}");
    for _ in 0..7 {
        key(&mut app, KeyCode::Tab);
    }
    typ(&mut app, "{\"a\": ");
    let checks = app.composer.message.checks();
    for _ in 0..5 {
        assert!(screen(&app).contains("invalid JSON at line 1"));
    }
    assert_eq!(
        app.composer.message.checks(),
        checks,
        "drawing checks nothing"
    );
    key(&mut app, KeyCode::Left); // the cursor moves, the text does not change
    assert_eq!(app.composer.message.checks(), checks);
    typ(&mut app, "1}");
    assert_eq!(app.composer.message.checks(), checks + 2);
    assert!(screen(&app).contains("value: json ok, 8 bytes"));
    // An encoding change in the options row checks again: the key as hex.
    key(&mut app, KeyCode::Esc);
    for _ in 0..3 {
        key(&mut app, KeyCode::Right);
    }
    typ(&mut app, "  ");
    assert!(app.composer.message.checks() >= checks + 4);
    // The empty key is fine in any encoding; JSON `{"a": 1}` is not hex.
    let s = screen(&app);
    assert!(s.contains("✓ value: json ok"), "{s}");
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char(' ')); // value: json → hex
    assert!(screen(&app).contains("is not hex"));
}

#[test]
fn composer_help_lists_the_field_notes_after_the_keys() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Esc);
    let rows = app.help_rows();
    let pos = |k: &str| rows.iter().position(|(key, _)| key == k);
    let send = pos("Ctrl-S").expect("the send key");
    let headers = pos("headers").expect("the headers note");
    assert!(send < headers);
    assert!(rows[headers].1.contains("`name: null` is a null header"));
    assert!(rows[headers].1.contains("`name:: BASE64`"));
    assert!(pos("partition").is_some() && pos("timestamp").is_some());
    // The other panes have no notes; the composer's pickers neither.
    key(&mut app, KeyCode::Char('1'));
    assert!(app.help_rows().iter().all(|(k, _)| k != "headers"));
    key(&mut app, KeyCode::Char('3'));
    ctrl(&mut app, 'r');
    assert!(app.help_rows().iter().all(|(k, _)| k != "headers"));
}

#[test]
fn composer_reads_old_history_pages_its_pickers_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"topic":"orders","partition":null,"key":"k1","key_encoding":"hex","value":"{\"v\": 1}","value_encoding":"json","headers":"","acks":"all","compression":"zstd","idempotent":true,"count":2,"at_ms":1795000000000}"#;
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&line.replace("\"count\":2", &format!("\"count\":{}", i + 1)));
        text.push('\n');
    }
    text.push_str("{\"topic\": \"broken\", \"acks\": 7}\n");
    std::fs::write(dir.path().join("history.jsonl"), text).unwrap();
    let (history, templates) = kafkaterm::panes::composer::load_saved(dir.path(), 200);
    assert_eq!(history.entries.len(), 40);
    let (mut app, _) = app();
    app.composer.load_saved(history, templates);
    app.update(Msg::Tick);
    let toast = app.status.toast.clone().unwrap().text;
    assert!(toast.contains("skipped 1 unreadable line"), "{toast}");
    key(&mut app, KeyCode::Char('3'));
    ctrl(&mut app, 'r');
    // A page is what the picker shows: 15 rows at 80x24.
    key(&mut app, KeyCode::PageDown);
    let s = screen(&app);
    let selected = match &app.composer.dialog {
        Some(kafkaterm::panes::composer::Dialog::History(sc)) => *sc,
        other => panic!("{other:?}"),
    };
    assert_eq!(selected.selected, 15, "{s}");
    assert!(s.contains("×16"), "the selection is on screen: {s}");
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Enter);
    assert!(app.composer.dialog.is_none());
    let o = app.composer.options;
    assert_eq!(
        (o.acks, o.compression, o.idempotent),
        (
            kafkaterm::model::Acks::All,
            kafkaterm::model::Compression::Zstd,
            true
        )
    );
    assert_eq!(
        app.composer.message.encoding(Area::Key),
        kafkaterm::template::Encoding::Hex
    );
    assert_eq!(app.composer.count.text, "1");
}

#[test]
fn composer_footer_and_results_fit_80_columns() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    for _ in 0..7 {
        key(&mut app, KeyCode::Tab);
    }
    typ(&mut app, "{}");
    let cmds = ctrl(&mut app, 's');
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    let err = "Broker: Topic authorization failed: not allowed to write to orders-eu-west";
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: ProduceProgress {
            queued: 1,
            delivered: 0,
            failed: 1,
            first_error: Some(err.into()),
            last: None,
            elapsed_ms: 3,
            done: true,
        },
    }));
    let rows: Vec<String> = (19..22).map(|y| row(&app, y)).collect();
    // The error wraps onto the next row instead of being cut.
    let joined = rows[0..2]
        .iter()
        .map(|r| r.trim_start_matches('│').trim_end_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("orders-eu-west"), "{rows:?}");
    // Each hint in the footer is whole: it ends with a description, not a cut word.
    let footer = rows[2]
        .trim_start_matches('│')
        .trim_end_matches('│')
        .trim_end();
    assert!(footer.ends_with("templates"), "{footer}");
}

/// On a big cluster the list shows as soon as metadata arrives: names,
/// partitions and replication first, counts marked as counting; the list
/// filters while counts arrive; the final answer ends the refresh.
#[test]
fn topic_list_shows_before_its_counts_and_filters_meanwhile() {
    let (mut app, cmds) = app();
    let id = topics_refresh(&cmds).unwrap();
    let mut names = snapshot();
    for t in &mut names.topics {
        t.messages = None;
    }
    app.update(Msg::Worker(WorkerEvent::TopicNames {
        id,
        snapshot: names,
    }));
    let s = screen(&app);
    assert!(s.contains("orders") && s.contains("payments"), "{s}");
    assert!(s.contains("counting messages"), "{s}");
    assert!(s.contains("counting…"), "{s}");
    app.update(Msg::Worker(WorkerEvent::TopicCounts {
        id,
        counts: vec![kafkaterm::worker::protocol::TopicCount {
            name: "orders".into(),
            messages: Some(1_234_567),
            end_offsets: Some(1_300_000),
            messages_error: None,
        }],
    }));
    // Filtering works while the rest are counted.
    key(&mut app, KeyCode::Char('/'));
    for c in "pay".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(s.contains("payments") && !s.contains("users"), "{s}");
    // Backspace the filter away.
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('/'));
        key(&mut app, KeyCode::Backspace);
        key(&mut app, KeyCode::Enter);
    }
    let s = screen(&app);
    assert!(s.contains("1,234,567") && s.contains("users"), "{s}");
    // No second refresh while this one is still counting.
    assert!(app.topics.in_flight == Some(id));
    answer_topics(&mut app, &cmds);
    let s = screen(&app);
    assert!(s.contains("refreshed") && !s.contains("counting"), "{s}");
    assert!(app.topics.in_flight.is_none());
}

/// Messages/s per topic from successive refreshes' log-end offsets: shown
/// in the list, sortable (hottest first), with a trend on wide screens.
#[test]
fn topic_throughput_from_successive_refreshes() {
    let (mut app, cmds) = app();
    let with_ends = |ends: &[(&str, i64)]| {
        let mut s = snapshot();
        for t in &mut s.topics {
            t.end_offsets = ends.iter().find(|(n, _)| *n == t.name).map(|(_, e)| *e);
        }
        s
    };
    let answer = |app: &mut App, cmds: &[Command], snap: ClusterSnapshot| {
        let id = topics_refresh(cmds).expect("a refresh was asked for");
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(snap),
        }));
    };
    answer(
        &mut app,
        &cmds,
        with_ends(&[("orders", 1_000), ("users", 7)]),
    );
    let s = screen(&app);
    assert!(s.contains("IN/s"), "{s}");
    // Ten seconds later: orders took 500 more messages, users none.
    app.now_ms += 10_000;
    let more = app.update(Msg::Tick);
    answer(
        &mut app,
        &more,
        with_ends(&[("orders", 1_500), ("users", 7)]),
    );
    let s = screen(&app);
    let row = |name: &str| {
        s.lines()
            .find(|l| l.contains(&format!("│{name} ")))
            .unwrap_or_else(|| panic!("{name}: {s}"))
            .to_string()
    };
    assert!(row("orders").contains(" 50 "), "{s}");
    assert!(row("users").contains(" 0 "), "{s}");
    // payments has no log-end offsets: no rate.
    assert!(row("payments").contains(" - "), "{s}");
    // Sorted by rate: orders first.
    for _ in 0..4 {
        key(&mut app, KeyCode::Char('s'));
    }
    let s = screen(&app);
    assert!(s.contains("sort in/s"), "{s}");
    let first = s.lines().nth(4).unwrap_or_default();
    assert!(first.contains("orders"), "{s}");
    // Reversed: the coldest topic with a rate first, the one without a rate
    // still last.
    key(&mut app, KeyCode::Char('S'));
    let s = screen(&app);
    let order: Vec<&str> = s
        .lines()
        .skip(4)
        .take(3)
        .map(|l| l.trim_start_matches('│').split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(order, ["users", "orders", "payments"], "{s}");
    key(&mut app, KeyCode::Char('S'));
    // A trend column from 100 columns on.
    let wide = lines(&draw(&app, 120, 30)).join("\n");
    assert!(wide.contains("TREND") && wide.contains('█'), "{wide}");
}

/// The topic detail shows each partition's produce rate from successive
/// descriptions' high watermarks.
#[test]
fn partition_throughput_in_the_topic_detail() {
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    key(&mut app, KeyCode::Char('j'));
    let describe = |app: &mut App, cmds: &[Command], highs: [i64; 2]| {
        let id = cmds
            .iter()
            .find_map(|c| match c {
                Command::DescribeTopic { id, .. } => Some(*id),
                _ => None,
            })
            .expect("describe requested");
        let part = |partition: i32, high: i64| PartitionInfo {
            lso: None,
            partition,
            leader: 1,
            replicas: vec![1],
            isr: vec![1],
            low: Some(0),
            high: Some(high),
            error: None,
        };
        app.update(Msg::Worker(WorkerEvent::TopicDetail {
            id,
            topic: "payments".into(),
            result: Ok(TopicDetail {
                name: "payments".into(),
                internal: false,
                partitions: vec![part(0, highs[0]), part(1, highs[1])],
                configs: Configs::Loaded(vec![]),
            }),
        }));
    };
    let cmds = key(&mut app, KeyCode::Enter);
    describe(&mut app, &cmds, [100, 500]);
    let s = screen(&app);
    assert!(s.contains("IN/s"), "{s}");
    app.now_ms += 10_000;
    let more = app.update(Msg::Tick);
    describe(&mut app, &more, [100, 1_500]);
    let s = screen(&app);
    let row = |p: &str| {
        s.lines()
            .find(|l| l.starts_with(&format!("│{p} ")))
            .unwrap_or_else(|| panic!("partition {p}: {s}"))
            .to_string()
    };
    assert!(
        row("0").trim_end_matches('│').trim_end().ends_with(" 0"),
        "{s}"
    );
    assert!(
        row("1").trim_end_matches('│').trim_end().ends_with(" 100"),
        "{s}"
    );
}

/// The composer's `schema` encoding: the value is checked as JSON, the check
/// line names the subject it is encoded for, and the template sent to the
/// worker asks for the schema encoding (the worker encodes it).
#[test]
fn composer_schema_encoding_names_the_subject_and_sends_json_for_it() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "payments");
    app.composer.message.set(
        Area::Value,
        Some("{\"id\": \"p-1\", \"amount\": 12}"),
        kafkaterm::template::Encoding::Schema,
    );
    let s = lines(&draw(&app, 120, 30)).join("\n");
    assert!(s.contains("encoded for subject payments-value"), "{s}");
    let cmds = ctrl(&mut app, 's');
    let template = cmds
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch {
                source: BatchSource::Template { template, .. },
                ..
            } => Some(template.clone()),
            _ => None,
        })
        .expect("a produce batch");
    assert_eq!(
        template.value_encoding,
        kafkaterm::template::Encoding::Schema
    );
    assert_eq!(
        template.value_schema,
        kafkaterm::template::SchemaChoice::default()
    );
    // Another subject and version, typed in the options row (s).
    for _ in 0..4 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Char('s'));
    let s = lines(&draw(&app, 120, 30)).join("\n");
    assert!(
        s.contains("Schema for the value") && s.contains("latest"),
        "{s}"
    );
    for _ in 0..6 {
        key(&mut app, KeyCode::Backspace);
    }
    typ(&mut app, "v0");
    key(&mut app, KeyCode::Enter);
    assert!(
        app.composer.dialog.is_some(),
        "a bad version keeps the dialog open"
    );
    for _ in 0..2 {
        key(&mut app, KeyCode::Backspace);
    }
    typ(&mut app, "payments-v2@3");
    key(&mut app, KeyCode::Enter);
    assert!(app.composer.dialog.is_none());
    let s = lines(&draw(&app, 120, 30)).join("\n");
    assert!(s.contains("encoded for subject payments-v2 v3"), "{s}");
    let cmds = ctrl(&mut app, 's');
    let template = cmds
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch {
                source: BatchSource::Template { template, .. },
                ..
            } => Some(template.clone()),
            _ => None,
        })
        .expect("a produce batch");
    assert_eq!(
        template.value_schema,
        kafkaterm::template::SchemaChoice {
            subject: Some("payments-v2".into()),
            selector: kafkaterm::registry::SchemaSelector::Version(3),
        }
    );
    // Not JSON: refused before anything is sent.
    app.composer.message.set(
        Area::Value,
        Some("{\"id\": "),
        kafkaterm::template::Encoding::Schema,
    );
    let cmds = ctrl(&mut app, 's');
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::ProduceBatch { .. })),
        "{cmds:?}"
    );
}

fn copy_started(cmds: &[Command]) -> Option<(u64, kafkaterm::worker::protocol::CopySpec)> {
    cmds.iter().find_map(|c| match c {
        Command::StartCopy { id, spec } => Some((*id, spec.clone())),
        _ => None,
    })
}

fn copy_report(
    dry_run: bool,
    selected: u64,
    confirmed: u64,
    outcome: kafkaterm::worker::protocol::CopyOutcome,
) -> kafkaterm::worker::protocol::CopyReport {
    kafkaterm::worker::protocol::CopyReport {
        progress: kafkaterm::worker::protocol::CopyProgress {
            total: selected,
            read: selected,
            selected,
            confirmed,
            failed: 0,
            elapsed_ms: 10,
        },
        dry_run,
        outcome,
        uncertain: 0,
        resume: None,
    }
}

/// The StartBrowse among `cmds`.
fn started(cmds: &[Command]) -> (u64, kafkaterm::worker::protocol::BrowseSpec) {
    cmds.iter()
        .find_map(|c| match c {
            Command::StartBrowse { session, spec } => Some((*session, spec.clone())),
            _ => None,
        })
        .expect("a browse session started")
}

#[test]
fn isolation_toggle_reopens_the_browser_at_the_same_positions() {
    use kafkaterm::model::Isolation;
    use kafkaterm::worker::protocol::PartitionStart;
    let (mut app, cmds) = app();
    answer_topics(&mut app, &cmds);
    let cmds = key(&mut app, KeyCode::Char('b'));
    let (s1, spec) = started(&cmds);
    assert_eq!(spec.isolation, Isolation::ReadUncommitted);
    assert!(spec.positions.is_empty());
    assert!(
        screen(&app).contains("read_uncommitted"),
        "{}",
        screen(&app)
    );
    // The session started at "last 100" of two partitions.
    let starts = vec![
        PartitionStart {
            partition: 0,
            start: 40,
            low: 0,
            high: 140,
        },
        PartitionStart {
            partition: 1,
            start: 7,
            low: 7,
            high: 90,
        },
    ];
    app.update(Msg::Worker(WorkerEvent::Browse {
        session: s1,
        event: BrowseEvent::Started {
            partitions: starts.clone(),
        },
    }));
    app.update(Msg::Worker(WorkerEvent::Browse {
        session: s1,
        event: BrowseEvent::Records(vec![record(0, 40, Some("a"), Some(b"x"))]),
    }));
    assert_eq!(app.browser.ring.records.len(), 1);
    // `i`: read_committed, the old session stopped, a new one from the
    // same offsets of the same partitions.
    let cmds = key(&mut app, KeyCode::Char('i'));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::StopBrowse { session } if *session == s1)),
        "{cmds:?}"
    );
    let (s2, spec2) = started(&cmds);
    assert_ne!(s2, s1);
    assert_eq!(spec2.isolation, Isolation::ReadCommitted);
    assert_eq!(spec2.positions, vec![(0, 40), (1, 7)]);
    assert_eq!(
        (spec2.topic.as_str(), spec2.start),
        ("orders", StartAt::LastN(100))
    );
    assert_eq!(spec2.partitions, spec.partitions);
    assert!(
        app.browser.ring.records.is_empty(),
        "the range is read again"
    );
    let s = screen(&app);
    assert!(
        s.contains("read_committed") && !s.contains("read_uncommitted"),
        "{s}"
    );
    // The old session's late records are dropped.
    app.update(Msg::Worker(WorkerEvent::Browse {
        session: s1,
        event: BrowseEvent::Records(vec![record(0, 41, Some("b"), Some(b"y"))]),
    }));
    assert!(app.browser.ring.records.is_empty());
    // Back again, from where the read_committed session started.
    app.update(Msg::Worker(WorkerEvent::Browse {
        session: s2,
        event: BrowseEvent::Started { partitions: starts },
    }));
    let (_, spec3) = started(&key(&mut app, KeyCode::Char('i')));
    assert_eq!(spec3.isolation, Isolation::ReadUncommitted);
    assert_eq!(spec3.positions, vec![(0, 40), (1, 7)]);
    // Opening another topic keeps the chosen level but not the positions.
    key(&mut app, KeyCode::Char('i'));
    let cmds = key(&mut app, KeyCode::Char('1'));
    let _ = cmds;
    let (_, spec4) = started(&key(&mut app, KeyCode::Char('b')));
    assert_eq!(spec4.isolation, Isolation::ReadCommitted);
    assert!(spec4.positions.is_empty());
}

/// The options row's txn toggle: from the topic field, Tab to the options
/// row and Right to `txn`.
fn to_txn_option(app: &mut App) {
    for _ in 0..4 {
        key(app, KeyCode::Tab);
    }
    for _ in 0..6 {
        key(app, KeyCode::Right);
    }
}

fn txn_sent(cmds: &[Command]) -> (u64, kafkaterm::model::TxnSpec, u64) {
    cmds.iter()
        .find_map(|c| match c {
            Command::ProduceTransaction {
                id,
                options,
                txn,
                source: BatchSource::Template { count, .. },
            } => {
                assert_eq!(options.acks, kafkaterm::model::Acks::All);
                assert!(options.idempotent);
                Some((*id, txn.clone(), *count))
            }
            _ => None,
        })
        .expect("a transactional send")
}

fn done(delivered: u64, failed: u64, error: Option<&str>) -> ProduceProgress {
    ProduceProgress {
        queued: delivered + failed,
        delivered,
        failed,
        first_error: error.map(str::to_string),
        last: None,
        elapsed_ms: 20,
        done: true,
    }
}

#[test]
fn browser_copy_counts_first_then_copies_with_progress_cancel_and_a_report() {
    use kafkaterm::worker::protocol::{CopyOutcome, CopyProgress, CopySelection};
    let mut env = Env::test();
    env.production = true;
    let (mut app, cmds) = app_with(env);
    answer_topics(&mut app, &cmds);
    let session = open_browser(&mut app);
    let batch: Vec<Record> = (0..6)
        .map(|i| {
            let mut r = record(i % 2, i64::from(i), Some("k"), None);
            r.timestamp = Some(NOW + i64::from(i));
            r
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(batch),
    }));
    // Mark the newest two (offsets 5 and 4), then open the copy dialog.
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Char('m'));
    assert!(key(&mut app, KeyCode::Char('c')).is_empty());
    assert!(screen(&app).contains("the 2 marked message(s)"));
    // Enter without a destination: an error, nothing sent.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(screen(&app).contains("enter the destination topic"));
    typ(&mut app, "orders-retry");
    // Space on an option toggles it: tab to "keep partition numbers".
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char(' '));
    // Enter: a dry run first.
    let (id, spec) = copy_started(&key(&mut app, KeyCode::Enter)).expect("a dry run");
    assert!(spec.dry_run && spec.keep_partitions && spec.keep_timestamps);
    assert_eq!(spec.dest, "orders-retry");
    assert_eq!(
        spec.selection,
        CopySelection::Messages(vec![(0, 4), (1, 5)])
    );
    assert!(screen(&app).contains("counting"));
    app.update(Msg::Worker(WorkerEvent::Copied {
        id,
        result: Ok(copy_report(true, 2, 0, CopyOutcome::Complete)),
    }));
    // Production: the destination's name must be typed.
    assert!(screen(&app).contains("type orders-retry"));
    assert!(copy_started(&key(&mut app, KeyCode::Enter)).is_none());
    typ(&mut app, "orders-retry");
    let (id, spec) = copy_started(&key(&mut app, KeyCode::Enter)).expect("the copy");
    assert!(!spec.dry_run);
    app.update(Msg::Worker(WorkerEvent::CopyProgress {
        id,
        progress: CopyProgress {
            total: 2,
            read: 1,
            selected: 1,
            confirmed: 1,
            failed: 0,
            elapsed_ms: 5,
        },
    }));
    assert!(screen(&app).contains("confirmed 1"));
    // Esc cancels the running copy (once), and the report closes the dialog.
    let cmds = key(&mut app, KeyCode::Esc);
    assert!(matches!(cmds.as_slice(), [Command::Cancel { id: c }] if *c == id));
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    app.update(Msg::Worker(WorkerEvent::Copied {
        id,
        result: Ok(copy_report(false, 1, 1, CopyOutcome::Cancelled)),
    }));
    assert!(screen(&app).contains("Cancelled: 1 message(s) confirmed"));
    key(&mut app, KeyCode::Enter);
    assert!(app.browser.dialog.is_none());
}

#[test]
fn browser_copy_is_refused_in_read_only_mode() {
    let mut env = Env::test();
    env.read_only = true;
    let (mut app, cmds) = app_with(env);
    answer_topics(&mut app, &cmds);
    open_browser(&mut app);
    assert!(key(&mut app, KeyCode::Char('c')).is_empty());
    assert!(app.browser.dialog.is_none());
    assert!(
        app.status
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("read-only")
    );
}

#[test]
fn composer_transaction_mode_commits_aborts_and_never_leaves_one_open() {
    use kafkaterm::model::TxnOutcome;
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab); // count
    key(&mut app, KeyCode::Backspace);
    typ(&mut app, "3");
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab); // back to topic
    to_txn_option(&mut app);
    key(&mut app, KeyCode::Char(' ')); // txn off -> commit
    assert!(screen(&app).contains("transaction kafkaterm-test-00c0ffee → commit"));
    let (id, txn, count) = txn_sent(&ctrl(&mut app, 's'));
    assert_eq!(count, 3);
    assert_eq!(txn.transactional_id, "kafkaterm-test-00c0ffee");
    assert!(txn.commit);
    // A second send with the same id while the first is open is refused.
    let again = ctrl(&mut app, 's');
    assert!(again.is_empty(), "{again:?}");
    assert!(
        screen(&app).contains("not sent: transaction #3 is still open"),
        "{}",
        screen(&app)
    );
    app.update(Msg::Worker(WorkerEvent::TxnEnded {
        id,
        transactional_id: txn.transactional_id.clone(),
        outcome: TxnOutcome::Committed,
    }));
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: done(3, 0, None),
    }));
    let s = screen(&app);
    assert!(
        s.contains("✓ 3 messages to orders: transaction committed, 3 delivered"),
        "{s}"
    );

    // Abort mode with a typed id.
    key(&mut app, KeyCode::Char(' ')); // commit -> abort
    key(&mut app, KeyCode::Char('t'));
    typ(&mut app, "ops-replay-1");
    key(&mut app, KeyCode::Enter);
    let (id, txn, _) = txn_sent(&ctrl(&mut app, 's'));
    assert_eq!(txn.transactional_id, "ops-replay-1");
    assert!(!txn.commit);
    app.update(Msg::Worker(WorkerEvent::TxnEnded {
        id,
        transactional_id: txn.transactional_id.clone(),
        outcome: TxnOutcome::Aborted,
    }));
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: done(3, 0, None),
    }));
    let s = screen(&app);
    assert!(
        s.contains("transaction aborted (as asked), 3 written"),
        "{s}"
    );

    // Refused by the cluster: the report says why, in plain words.
    let (id, txn, _) = txn_sent(&ctrl(&mut app, 's'));
    app.update(Msg::Worker(WorkerEvent::TxnEnded {
        id,
        transactional_id: txn.transactional_id,
        outcome: TxnOutcome::NotStarted,
    }));
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: done(
            0,
            1,
            Some("starting the transaction: the cluster refused transactions"),
        ),
    }));
    let s = screen(&app);
    assert!(
        s.contains("✗ 3 messages to orders: no transaction started"),
        "{s}"
    );

    // Leaving the pane with a transaction open aborts it, with a note.
    let (id, _, _) = txn_sent(&ctrl(&mut app, 's'));
    let cmds = key(&mut app, KeyCode::Char('1'));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Cancel { id: i } if *i == id)),
        "{cmds:?}"
    );
    assert!(
        screen(&app).contains("aborting 1 open transaction"),
        "{}",
        screen(&app)
    );
    // Once: coming back and leaving again does not cancel it twice.
    key(&mut app, KeyCode::Char('3'));
    let cmds = key(&mut app, KeyCode::Char('1'));
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, Command::Cancel { id: i } if *i == id)),
        "{cmds:?}"
    );
}

#[test]
fn quitting_aborts_an_open_transaction_with_a_note() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('3'));
    typ(&mut app, "orders");
    to_txn_option(&mut app);
    key(&mut app, KeyCode::Char(' '));
    let (id, _, _) = txn_sent(&ctrl(&mut app, 's'));
    let cmds = key(&mut app, KeyCode::Char('q'));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Cancel { id: i } if *i == id)),
        "{cmds:?}"
    );
    let flush = cmds
        .iter()
        .find_map(|c| match c {
            Command::Flush { id, .. } => Some(*id),
            _ => None,
        })
        .expect("quit waits for the send");
    app.update(Msg::Worker(WorkerEvent::Flushed {
        id: flush,
        undelivered: 0,
    }));
    assert!(app.quit);
    let note = app.exit_message.unwrap();
    assert!(
        note.contains("aborted 1 open transaction(s) on quitting"),
        "{note}"
    );
}

/// A topic whose watermarks failed shows `?` in the warning colour, and the
/// reason for the selected topic on the list's bottom border (80x24); the
/// rest of the list moves, filters, sorts (unknown counts last both ways)
/// and opens as usual; the topic detail says why on its own border.
#[test]
fn an_unknown_count_shows_its_reason_for_the_selected_topic() {
    let (mut app, cmds) = app();
    let id = topics_refresh(&cmds).unwrap();
    let mut snap = snapshot();
    for t in &mut snap.topics {
        if t.name == "orders" {
            t.messages = None;
            t.messages_error = Some("watermarks timed out (leader 2)\x1b[2J".into());
        }
    }
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Ok(snap),
    }));
    let t = draw(&app, 80, 24);
    let ls = lines(&t);
    // Internal topics hidden: orders is first and selected.
    let bottom = &ls[22];
    assert!(
        bottom.contains("orders: messages unknown: watermarks timed out (leader 2)"),
        "{}",
        ls.join("\n")
    );
    // Nothing raw from the broker reaches the screen.
    assert!(!ls.join("").contains('\x1b'), "{}", ls.join("\n"));
    let row = ls.iter().position(|l| l.contains("orders ")).unwrap();
    let col = ls[row].chars().position(|c| c == '?').expect("a `?` count");
    assert_eq!(
        t.backend().buffer()[(u16::try_from(col).unwrap(), u16::try_from(row).unwrap())].fg,
        Theme::dark().warn.fg.unwrap()
    );
    // Another topic selected: its count is known, no reason shown.
    key(&mut app, KeyCode::Down);
    assert!(!row_text(&app, 22).contains("messages unknown"));
    // Sorting by messages puts the unknown count last, in either direction.
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.topics.sort, kafkaterm::panes::topics::SortKey::Messages);
    let order = |app: &App| -> Vec<String> {
        let snap = app.topics.snapshot.as_ref().unwrap();
        app.topics
            .list
            .view
            .iter()
            .map(|i| snap.topics[*i].name.clone())
            .collect()
    };
    assert_eq!(order(&app), ["payments", "users", "orders"]);
    key(&mut app, KeyCode::Char('S'));
    assert_eq!(order(&app), ["users", "payments", "orders"]);
    // Filtering keeps working and finds it again; it opens as usual.
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "ord");
    key(&mut app, KeyCode::Enter);
    assert_eq!(order(&app), ["orders"]);
    assert!(row_text(&app, 22).contains("orders: messages unknown"));
    let cmds = key(&mut app, KeyCode::Enter);
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::DescribeTopic { id, topic } if topic == "orders" => Some(*id),
            _ => None,
        })
        .expect("describe requested");
    let part = |partition: i32, leader: i32, marks: Option<(i64, i64)>| PartitionInfo {
        lso: None,
        partition,
        leader,
        replicas: vec![leader],
        isr: vec![leader],
        low: marks.map(|m| m.0),
        high: marks.map(|m| m.1),
        error: marks.is_none().then(|| "watermarks timed out".to_string()),
    };
    app.update(Msg::Worker(WorkerEvent::TopicDetail {
        id,
        topic: "orders".into(),
        result: Ok(TopicDetail {
            name: "orders".into(),
            internal: false,
            partitions: vec![part(0, 1, Some((0, 10))), part(1, 2, None)],
            configs: Configs::Unsupported("no".into()),
        }),
    }));
    let s = screen(&app);
    assert!(
        s.contains("messages unknown: watermarks timed out (leader 2) on 1 of 2 partitions"),
        "{s}"
    );
}

fn row_text(app: &App, y: usize) -> String {
    lines(&draw(app, 80, 24))[y].clone()
}

/// Unknown counts warn when their summary first appears or changes, not on
/// every refresh that ends the same (the reasons stay on the list's border);
/// after a refresh with every count known, the next failure warns again.
#[test]
fn the_same_unknown_counts_warn_once_not_on_every_refresh() {
    let (mut app, cmds) = app();
    let mut id = topics_refresh(&cmds).unwrap();
    let mut refresh = |app: &mut App, summary: Option<&str>| -> Option<String> {
        let mut snap = snapshot();
        snap.watermark_error = summary.map(str::to_string);
        app.status.toast = None;
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(snap),
        }));
        let shown = app.status.toast.as_ref().map(|t| t.text.clone());
        id = topics_refresh(&key(app, KeyCode::Char('r'))).unwrap();
        shown
    };
    let one = "message counts unknown for 1 topic: watermarks timed out (leader 2)";
    let two = "message counts unknown for 2 topics: watermarks timed out (leader 2)";
    assert!(refresh(&mut app, Some(one)).unwrap().contains("leader 2"));
    assert_eq!(refresh(&mut app, Some(one)), None);
    assert_eq!(refresh(&mut app, Some(one)), None);
    assert!(refresh(&mut app, Some(two)).unwrap().contains("2 topics"));
    assert_eq!(refresh(&mut app, None), None);
    assert!(refresh(&mut app, Some(two)).unwrap().contains("2 topics"));
}
