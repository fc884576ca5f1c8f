//! Esc while a topic's description is in flight: the detail closes at once
//! and the answer, when it comes, is dropped by its request id (a describe
//! is a few short admin calls on a blocking thread, not worth a cancel in
//! the worker). It never reopens the detail, nor fills another topic's.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{App, Env, Msg};
use crate::model::{ClusterSnapshot, Configs, TopicDetail, TopicSummary};
use crate::worker::protocol::{Command, ReqId, WorkerEvent};

const NOW: i64 = 1_795_000_000_000;

fn summary(name: &str) -> TopicSummary {
    TopicSummary {
        messages_error: None,
        name: name.into(),
        partitions: 1,
        replication_factor: 1,
        messages: Some(0),
        internal: false,
        under_replicated: 0,
        offline: 0,
        error: None,
        end_offsets: None,
    }
}

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// An app listing topics `alpha` and `beta`.
fn app() -> App {
    let (mut app, cmds) = App::new(Env::test(), NOW, (100, 30));
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::RefreshTopics { id } => Some(*id),
            _ => None,
        })
        .expect("a first refresh");
    app.update(Msg::Worker(WorkerEvent::Topics {
        id,
        result: Ok(ClusterSnapshot {
            brokers: Vec::new(),
            topics: vec![summary("alpha"), summary("beta")],
            watermark_error: None,
        }),
    }));
    app
}

fn describe_id(cmds: &[Command], want: &str) -> ReqId {
    cmds.iter()
        .find_map(|c| match c {
            Command::DescribeTopic { id, topic } if topic == want => Some(*id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no describe of {want} in {cmds:?}"))
}

fn answer(app: &mut App, id: ReqId, topic: &str) {
    app.update(Msg::Worker(WorkerEvent::TopicDetail {
        id,
        topic: topic.into(),
        result: Ok(TopicDetail {
            name: topic.into(),
            internal: false,
            partitions: Vec::new(),
            configs: Configs::Loaded(Vec::new()),
        }),
    }));
}

#[test]
fn esc_closes_the_detail_and_its_late_answer_does_not_reopen_it() {
    let mut app = app();
    let id = describe_id(&key(&mut app, KeyCode::Enter), "alpha");
    assert!(
        app.topics
            .detail
            .as_ref()
            .is_some_and(|d| d.in_flight == Some(id))
    );
    key(&mut app, KeyCode::Esc);
    assert!(app.topics.detail.is_none());
    answer(&mut app, id, "alpha");
    assert!(app.topics.detail.is_none(), "the late answer reopened it");
    assert_eq!(app.topics.list.view.len(), 2);
}

#[test]
fn a_late_answer_does_not_fill_the_next_detail() {
    let mut app = app();
    let old = describe_id(&key(&mut app, KeyCode::Enter), "alpha");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('j'));
    let new = describe_id(&key(&mut app, KeyCode::Enter), "beta");
    assert_ne!(old, new);
    answer(&mut app, old, "alpha");
    let d = app.topics.detail.as_ref().expect("beta's detail");
    assert_eq!(d.topic, "beta");
    assert!(d.data.is_none(), "alpha's answer filled beta's detail");
    assert_eq!(
        d.in_flight,
        Some(new),
        "beta's own request is still awaited"
    );
    answer(&mut app, new, "beta");
    let d = app.topics.detail.as_ref().expect("beta's detail");
    assert_eq!(d.data.as_ref().map(|t| t.name.as_str()), Some("beta"));
    assert_eq!(d.in_flight, None);
}

#[test]
fn reopening_the_same_topic_waits_for_its_new_request_only() {
    let mut app = app();
    let old = describe_id(&key(&mut app, KeyCode::Enter), "alpha");
    key(&mut app, KeyCode::Esc);
    let new = describe_id(&key(&mut app, KeyCode::Enter), "alpha");
    assert_ne!(old, new);
    answer(&mut app, old, "alpha");
    let d = app.topics.detail.as_ref().expect("alpha's detail");
    assert!(d.data.is_none() && d.in_flight == Some(new));
}
