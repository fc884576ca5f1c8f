//! Many clusters in one console: the picker at start, switching (nothing of
//! the old cluster shown afterwards), sends in flight when switching, the
//! composer asking before it sends to the new cluster, and the mouse
//! through crossterm events in the console's own event loop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::sync::Arc;

use kafkaterm::app::picker::{Check, ClusterEntry, Picker};
use kafkaterm::app::{App, Effect, Env, Msg, PaneId};
use kafkaterm::config::theme::Theme;
use kafkaterm::files::FileWriter;
use kafkaterm::model::{BrokerInfo, ClusterSnapshot, Record, TimestampType, TopicSummary};
use kafkaterm::tui::{Outputs, Stop, WorkerIo, event_loop_mouse};
use kafkaterm::worker::protocol::{
    BrowseEvent, ClusterInfo, Command, ConnState, ProbeReport, ProduceProgress, WorkerError,
    WorkerEvent,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use tokio::sync::mpsc;

const NOW: i64 = 1_795_000_000_000;

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(app: &mut App, c: char) -> Vec<Command> {
    key(app, KeyCode::Char(c))
}

fn ctrl(app: &mut App, c: char) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typ(app: &mut App, s: &str) -> Vec<Command> {
    s.chars().flat_map(|c| ch(app, c)).collect()
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| kafkaterm::ui::draw(app, &Theme::dark(), f))
        .unwrap();
    let b = t.backend().buffer();
    (0..b.area.height)
        .map(|y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn entry(name: &str, production: bool, read_only: bool) -> ClusterEntry {
    ClusterEntry {
        name: name.into(),
        brokers: format!("{name}-kafka:9092"),
        production,
        read_only,
        check: Check::Unchecked,
    }
}

fn entries() -> Vec<ClusterEntry> {
    vec![
        entry("dev", false, false),
        entry("prod", true, true),
        entry("staging", false, false),
    ]
}

fn info(name: &str, production: bool, read_only: bool) -> ClusterInfo {
    let mut p = kafkaterm::config::ClusterProfile::adhoc(&format!("{name}-kafka:9092"));
    p.name = name.into();
    p.production = production;
    p.read_only = read_only;
    ClusterInfo::of(&p)
}

fn topics(names: &[&str]) -> ClusterSnapshot {
    ClusterSnapshot {
        brokers: vec![BrokerInfo {
            id: 1,
            host: "localhost".into(),
            port: 9092,
        }],
        topics: names
            .iter()
            .map(|n| TopicSummary {
                messages_error: None,
                name: (*n).into(),
                partitions: 1,
                replication_factor: 1,
                messages: Some(1),
                internal: false,
                under_replicated: 0,
                offline: 0,
                error: None,
                end_offsets: None,
            })
            .collect(),
        watermark_error: None,
    }
}

fn refresh_id(cmds: &[Command]) -> u64 {
    cmds.iter()
        .rev()
        .find_map(|c| match c {
            Command::RefreshTopics { id } => Some(*id),
            _ => None,
        })
        .expect("a topic refresh was requested")
}

fn connect_of(cmds: &[Command]) -> (u64, String) {
    cmds.iter()
        .find_map(|c| match c {
            Command::Connect {
                generation,
                cluster,
            } => Some((*generation, cluster.clone())),
            _ => None,
        })
        .expect("a Connect was sent")
}

fn record(value: &str) -> Record {
    Record {
        topic: Arc::from("orders"),
        partition: 0,
        offset: 7,
        timestamp: Some(NOW),
        timestamp_type: TimestampType::CreateTime,
        key: Some(b"k".to_vec()),
        value: Some(value.as_bytes().to_vec()),
        headers: vec![],
    }
}

/// The picker at start: checks asked for every cluster, counts and reasons
/// shown as they arrive, the filter, and Enter connecting.
#[test]
fn picker_at_start_checks_filters_and_connects() {
    let (mut app, cmds) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    let probes: Vec<&str> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Probe { cluster } => Some(cluster.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(probes, ["dev", "prod", "staging"]);
    assert!(!app.connected);
    // Ticks ask nothing of a cluster while none is in use.
    app.now_ms += 60_000;
    assert!(app.update(Msg::Tick).is_empty());
    app.update(Msg::Worker(WorkerEvent::Probed {
        cluster: "prod".into(),
        result: Ok(ProbeReport {
            brokers: 3,
            topics: 17,
            groups: None,
        }),
    }));
    app.update(Msg::Worker(WorkerEvent::Probed {
        cluster: "staging".into(),
        result: Err(WorkerError::timeout("all brokers down")),
    }));
    app.update(Msg::Worker(WorkerEvent::Probed {
        cluster: "dev".into(),
        result: Err(WorkerError::unsupported(
            "not checked: its secret comes from a command",
        )),
    }));
    let s = screen(&app);
    assert!(s.contains("3 brokers, 17 topics, groups not"), "{s}");
    assert!(s.contains("– not checked: its secret"), "{s}");
    assert!(s.contains("all brokers down"), "{s}");
    assert!(s.contains("no cluster"), "the status bar says so: {s}");
    // Esc does not close the picker while no cluster is in use.
    key(&mut app, KeyCode::Esc);
    assert!(app.picker.open);
    // `/` filters; `q` typed there is text, not quit.
    ch(&mut app, '/');
    typ(&mut app, "stq");
    assert!(!app.quit);
    assert_eq!(app.picker.list.view.len(), 0);
    key(&mut app, KeyCode::Backspace);
    assert_eq!(app.picker.list.view.len(), 1);
    key(&mut app, KeyCode::Enter);
    let out = key(&mut app, KeyCode::Enter);
    assert_eq!(connect_of(&out), (1, "staging".to_string()));
    let out = app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("staging", false, false)),
    }));
    assert!(app.connected && !app.picker.open);
    app.update(Msg::Worker(WorkerEvent::Topics {
        id: refresh_id(&out),
        result: Ok(topics(&["staging-orders"])),
    }));
    let s = screen(&app);
    assert!(s.contains("staging-orders"), "{s}");
    assert!(
        s.contains(" staging "),
        "the status bar names the cluster: {s}"
    );
}

/// Connected to `dev` through the picker, browsing `orders`; returns the
/// browse session.
fn on_dev_browsing(app: &mut App) -> u64 {
    key(app, KeyCode::Enter);
    let out = app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("dev", false, false)),
    }));
    app.update(Msg::Worker(WorkerEvent::Connection(ConnState::Connected)));
    app.update(Msg::Worker(WorkerEvent::Topics {
        id: refresh_id(&out),
        result: Ok(topics(&["orders"])),
    }));
    let out = ch(app, 'b');
    let session = out
        .iter()
        .find_map(|c| match c {
            Command::StartBrowse { session, .. } => Some(*session),
            _ => None,
        })
        .expect("browsing started");
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![record("dev-message-1")]),
    }));
    assert!(screen(app).contains("dev-message-1"));
    session
}

/// Switching: events of the old cluster (its browse session, its
/// connection state, its answers) arriving before or after the worker's
/// marker never reach the new cluster's panes; marks follow the new cluster.
#[test]
fn switching_drops_every_event_of_the_old_cluster() {
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    let session = on_dev_browsing(&mut app);
    let old_refresh = {
        app.now_ms += 20_000;
        let out = app.update(Msg::Tick);
        out.iter().find_map(|c| match c {
            Command::RefreshTopics { id } => Some(*id),
            _ => None,
        })
    };
    // Open the picker from the browser, choose prod.
    ch(&mut app, 'C');
    assert!(app.picker.open);
    assert!(screen(&app).contains("●"), "the cluster in use is marked");
    key(&mut app, KeyCode::Down);
    let out = key(&mut app, KeyCode::Enter);
    let (generation, cluster) = connect_of(&out);
    assert_eq!((generation, cluster.as_str()), (2, "prod"));
    // The old worker's last events, queued before the marker.
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![record("dev-message-2")]),
    }));
    app.update(Msg::Worker(WorkerEvent::Connection(ConnState::Down(
        "dev is down".into(),
    ))));
    // A stale marker of an earlier switch is not this one.
    app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("dev", false, false)),
    }));
    assert!(app.switch.is_some());
    let out = app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 2,
        result: Ok(info("prod", true, true)),
    }));
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::RefreshTopics { .. }))
    );
    // Anything carrying the old session or request ids after the marker.
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(vec![record("dev-message-3")]),
    }));
    if let Some(id) = old_refresh {
        app.update(Msg::Worker(WorkerEvent::Topics {
            id,
            result: Ok(topics(&["dev-only-topic"])),
        }));
    }
    let s = screen(&app);
    assert!(s.contains("PROD prod"), "{s}");
    assert!(s.contains("READ-ONLY"), "{s}");
    assert!(!s.contains("dev is down"), "{s}");
    assert!(!s.contains("dev-only-topic"), "{s}");
    ch(&mut app, '2');
    let s = screen(&app);
    for old in ["dev-message-1", "dev-message-2", "dev-message-3"] {
        assert!(!s.contains(old), "{old} shown after the switch:\n{s}");
    }
    assert_eq!(app.browser.session, None, "no session carried over");
    // Writes follow the new cluster's read-only mark.
    ch(&mut app, '1');
    let out = app.update(Msg::Worker(WorkerEvent::Topics {
        id: refresh_id(&out),
        result: Ok(topics(&["prod-orders"])),
    }));
    assert!(out.is_empty());
    ch(&mut app, 'D');
    assert!(screen(&app).contains("read-only"));
}

/// A failed connection leaves no cluster in use and says why in the picker.
#[test]
fn a_failed_switch_says_why_and_keeps_the_picker() {
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    on_dev_browsing(&mut app);
    ch(&mut app, 'C');
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    let out = key(&mut app, KeyCode::Enter);
    let (generation, _) = connect_of(&out);
    app.update(Msg::Worker(WorkerEvent::Switched {
        generation,
        result: Err(WorkerError::internal("password_env X is not set")),
    }));
    assert!(!app.connected && app.picker.open);
    let s = screen(&app);
    assert!(
        s.contains("cannot connect to staging: password_env X is not set"),
        "{s}"
    );
    assert!(s.contains("no cluster"), "{s}");
}

/// Connected to `dev` with a send of 3 messages, 1 confirmed.
fn sending(app: &mut App) -> u64 {
    key(app, KeyCode::Enter);
    app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("dev", false, false)),
    }));
    ch(app, '3');
    typ(app, "orders");
    key(app, KeyCode::Tab);
    key(app, KeyCode::Tab);
    key(app, KeyCode::Backspace);
    typ(app, "3");
    let out = ctrl(app, 's');
    let id = out
        .iter()
        .find_map(|c| match c {
            Command::ProduceBatch { id, .. } => Some(*id),
            _ => None,
        })
        .expect("sent");
    app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: ProduceProgress {
            queued: 3,
            delivered: 1,
            failed: 0,
            first_error: None,
            last: None,
            elapsed_ms: 5,
            done: false,
        },
    }));
    assert_eq!(app.composer.in_flight(), 2);
    id
}

fn done(delivered: u64, failed: u64) -> ProduceProgress {
    ProduceProgress {
        queued: 3,
        delivered,
        failed,
        first_error: (failed > 0).then(|| "cancelled".into()),
        last: None,
        elapsed_ms: 50,
        done: true,
    }
}

/// Switching while a send is in flight: waiting switches once it ended and
/// reports how; cancelling cancels it first.
#[test]
fn switching_with_a_send_in_flight_waits_or_cancels() {
    // Wait.
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    let id = sending(&mut app);
    key(&mut app, KeyCode::F(2));
    key(&mut app, KeyCode::Down);
    let out = key(&mut app, KeyCode::Enter);
    assert!(out.iter().all(|c| !matches!(c, Command::Connect { .. })));
    assert!(screen(&app).contains("not confirmed yet"));
    let out = ch(&mut app, 'w');
    assert!(out.is_empty(), "waiting asks nothing: {out:?}");
    let out = app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: done(3, 0),
    }));
    assert_eq!(connect_of(&out).1, "prod");
    assert!(
        screen(&app).contains("sends to dev finished: 3 delivered, 0 not delivered"),
        "{}",
        screen(&app)
    );

    // Cancel.
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    let id = sending(&mut app);
    // The composer's field has the keys: `C` would be text there.
    key(&mut app, KeyCode::Esc);
    ch(&mut app, 'C');
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let out = ch(&mut app, 'c');
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::Cancel { id: i } if *i == id)),
        "{out:?}"
    );
    assert!(out.iter().all(|c| !matches!(c, Command::Connect { .. })));
    let out = app.update(Msg::Worker(WorkerEvent::Produce {
        id,
        progress: done(1, 2),
    }));
    assert_eq!(connect_of(&out).1, "prod");
    assert!(
        screen(&app).contains("sends to dev cancelled: 1 delivered, 2 not delivered"),
        "{}",
        screen(&app)
    );

    // Esc stays; a send that never ends is given up on after its time.
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    sending(&mut app);
    key(&mut app, KeyCode::F(2));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert!(app.switch.is_none());
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'w');
    app.now_ms += 31_000;
    let out = app.update(Msg::Tick);
    assert_eq!(connect_of(&out).1, "prod");
    let toast = app.status.toast.as_ref().unwrap().text.clone();
    assert!(toast.ends_with("2 not confirmed when leaving"), "{toast}");
}

/// The composer keeps its text across a switch; a send asks first, and
/// goes to the new cluster only when confirmed.
#[test]
fn the_composer_asks_before_sending_to_the_new_cluster() {
    let (mut app, _) = App::picking(Env::test(), entries(), "c.toml".into(), NOW, (80, 24));
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 1,
        result: Ok(info("dev", false, false)),
    }));
    ch(&mut app, '3');
    typ(&mut app, "orders");
    key(&mut app, KeyCode::Esc);
    ch(&mut app, 'C');
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Worker(WorkerEvent::Switched {
        generation: 2,
        result: Ok(info("staging", false, false)),
    }));
    assert_eq!(app.composer.topic.text, "orders", "the text stays");
    assert_eq!(app.focus, PaneId::Topics);
    ch(&mut app, '3');
    let out = ctrl(&mut app, 's');
    assert!(out.is_empty(), "{out:?}");
    let s = screen(&app);
    assert!(s.contains("written while on cluster dev"), "{s}");
    assert!(s.contains("Send it to staging?"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(app.confirm_send.is_none());
    ctrl(&mut app, 's');
    let out = key(&mut app, KeyCode::Enter);
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::ProduceBatch { .. })),
        "{out:?}"
    );
    // Asked once: the next send goes straight.
    let out = ctrl(&mut app, 's');
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::ProduceBatch { .. }))
    );
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> std::io::Result<Event> {
    Ok(Event::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }))
}

/// Mouse events from crossterm through the console's event loop: the mouse
/// key turns reporting on (the terminal is told), the wheel scrolls the
/// topic list, a click selects a row, a double click opens it, a click on a
/// tab switches panes; with the mouse off, events do nothing.
#[test]
fn mouse_events_through_the_event_loop() {
    let (mut app, first) = App::new(Env::test(), NOW, (80, 24));
    let names: Vec<String> = (0..30).map(|i| format!("topic-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    app.update(Msg::Worker(WorkerEvent::Topics {
        id: refresh_id(&first),
        result: Ok(topics(&refs)),
    }));
    // The list's first row is on screen row 4 (tabs, border, header line,
    // column header).
    let first_row = 4;
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Command>();
    let (_ev_tx, mut ev_rx) = mpsc::channel::<WorkerEvent>(16);
    let (_stop_tx, stops) = mpsc::unbounded_channel::<Stop>();
    let input = futures::stream::iter(vec![
        // Off: ignored.
        mouse(MouseEventKind::ScrollDown, 10, first_row),
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('M'),
            KeyModifiers::SHIFT,
        ))),
        mouse(MouseEventKind::ScrollDown, 10, first_row),
        mouse(MouseEventKind::ScrollDown, 10, first_row),
    ]);
    let mut captures = Vec::new();
    let mut files = FileWriter::default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(event_loop_mouse(
            &mut app,
            &Theme::dark(),
            &mut term,
            input,
            stops,
            WorkerIo {
                commands: &cmd_tx,
                events: &mut ev_rx,
            },
            &mut files,
            Outputs {
                osc52: &mut |_, _| {},
                mouse: &mut |_, on| captures.push(on),
            },
            &mut |_| {},
        ))
        .unwrap();
    assert_eq!(captures, [true], "the terminal was told once");
    assert!(app.mouse);
    assert_eq!(app.topics.list.scroll.selected, 6, "two notches of 3 rows");
    // A click selects the row under it (the view scrolled by none yet).
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 12,
        row: first_row + 2,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.topics.list.scroll.selected, 2);
    assert!(app.topics.detail.is_none());
    // A second click on it soon after opens it.
    app.now_ms += 200;
    let out = app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 12,
        row: first_row + 2,
        modifiers: KeyModifiers::NONE,
    }));
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::DescribeTopic { topic, .. } if topic == "topic-02")),
        "{out:?}"
    );
    assert!(app.topics.detail.is_some());
    // A click on the Groups tab.
    let s = screen(&app);
    let tabs = s.lines().next().unwrap();
    let col = tabs.find("4 Groups").unwrap() as u16;
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: col,
        row: 0,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.focus, PaneId::Groups);
    // The help says how to select text while the mouse is on.
    assert!(
        app.help_rows()
            .iter()
            .any(|(k, d)| k == "mouse" && d.contains("hold Shift to select text"))
    );
    // Off again: the effect asks the terminal to stop reporting.
    app.effects.clear();
    ch(&mut app, 'M');
    assert_eq!(app.effects, vec![Effect::MouseCapture(false)]);
    drop(cmd_tx);
    while cmd_rx.try_recv().is_ok() {}
    // The picker takes clicks too: a double click on a row connects.
    app.picker = Picker::new(entries(), "c.toml".into());
    app.picker.current = Some("dev".into());
    ch(&mut app, 'M');
    ch(&mut app, 'C');
    let row = first_row + 2;
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row,
        modifiers: KeyModifiers::NONE,
    }));
    app.now_ms += 100;
    let out = app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(connect_of(&out).1, "staging");
}

/// Clicks in the message browser: a click selects the message under it, a
/// second one opens its detail.
#[test]
fn mouse_selects_and_opens_a_message() {
    let (mut app, first) = App::new(Env::test(), NOW, (80, 24));
    app.update(Msg::Worker(WorkerEvent::Topics {
        id: refresh_id(&first),
        result: Ok(topics(&["orders"])),
    }));
    let out = ch(&mut app, 'b');
    let session = out
        .iter()
        .find_map(|c| match c {
            Command::StartBrowse { session, .. } => Some(*session),
            _ => None,
        })
        .expect("browsing started");
    let records: Vec<Record> = (0..5)
        .map(|i| {
            let mut r = record(&format!("value-{i}"));
            r.offset = i;
            r
        })
        .collect();
    app.update(Msg::Worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(records),
    }));
    ch(&mut app, 'M');
    let s = screen(&app);
    let row = s
        .lines()
        .position(|l| l.contains("value-2"))
        .expect("the message is listed") as u16;
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 20,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.update(Msg::Mouse(click));
    assert!(app.browser.detail.is_none());
    app.now_ms += 150;
    app.update(Msg::Mouse(click));
    let s = screen(&app);
    assert!(app.browser.detail.is_some(), "{s}");
    assert!(s.contains("value-2") && !s.contains("value-4"), "{s}");
}

/// Names from the config and reasons from the network are shown escaped.
#[test]
fn hostile_names_and_reasons_are_escaped_in_the_picker() {
    let (mut app, _) = App::picking(
        Env::test(),
        vec![entry("evil\u{1b}]0;pwn\u{7}", false, false)],
        "c.toml".into(),
        NOW,
        (80, 24),
    );
    app.update(Msg::Worker(WorkerEvent::Probed {
        cluster: "evil\u{1b}]0;pwn\u{7}".into(),
        result: Err(WorkerError::timeout("down \u{1b}[2J now")),
    }));
    let s = screen(&app);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s:?}");
    assert!(s.contains("evil\\x1b]0;pwn"), "{s}");
    assert!(s.contains("down \\x1b[2J now"), "{s}");
}
