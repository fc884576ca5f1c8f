//! Hostile input on every pane: the corpus in `tests/hostile` is fed to an
//! `App` the way the worker would deliver it (topic, group and browse events,
//! pasted text), every message is opened in the detail view with every
//! decoder, and every state is drawn at 80x24 and 200x50.
//!
//! Each drawing is checked three ways:
//! * the full screen (`ui::draw`, including its final scrub) on a
//!   `TestBackend`: no cell holds a character `sanitize::needs_escape` flags;
//! * the focused pane alone, without the scrub: the pane escapes hostile text
//!   itself (visible `\x1b`), rather than leaving it to the last line of
//!   defence, which would only show `�`;
//! * the full screen through the crossterm backend into a byte buffer: the
//!   stream holds only the backend's own cursor and colour sequences, none of
//!   the corpus's sequences.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod hostile;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::Write;
use std::rc::Rc;

use kafkaterm::app::{App, DrawCtx, Env, Msg, PaneId};
use kafkaterm::config::theme::Theme;
use kafkaterm::decode::registry::parse_registry_response;
use kafkaterm::model::{
    BrokerInfo, ClusterSnapshot, ConfigEntry, Configs, GroupDescription, GroupMember,
    GroupSnapshot, PartitionInfo, PartitionLag, TopicDetail, TopicPartition, TopicSummary,
};
use kafkaterm::sanitize::needs_escape;
use kafkaterm::ui;
use kafkaterm::worker::protocol::{
    BrowseEvent, Command, ConnState, GroupsSnapshot, PartitionStart, ProduceProgress, ResetRow,
    WorkerEvent,
};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};

const NOW: i64 = 1_700_000_000_000;
const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

/// The app under test, with helpers to drive it and check every drawing.
struct Harness {
    app: App,
    theme: Theme,
    /// Fail at once when the focused pane, drawn without the final scrub,
    /// holds a raw character; otherwise such leaks are only recorded.
    strict: bool,
    leaks: BTreeSet<String>,
    draws: usize,
}

impl Harness {
    fn new(env: Env) -> (Self, Vec<Command>) {
        let (app, cmds) = App::new(env, NOW, (200, 50));
        (
            Self {
                app,
                theme: Theme::dark(),
                strict: true,
                leaks: BTreeSet::new(),
                draws: 0,
            },
            cmds,
        )
    }

    fn send(&mut self, msg: Msg) -> Vec<Command> {
        self.app.update(msg)
    }

    fn key(&mut self, code: KeyCode) -> Vec<Command> {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn ch(&mut self, c: char) -> Vec<Command> {
        self.key(KeyCode::Char(c))
    }

    fn ctrl(&mut self, c: char) -> Vec<Command> {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )))
    }

    fn paste(&mut self, s: &str) -> Vec<Command> {
        self.send(Msg::Paste(s.to_string()))
    }

    fn worker(&mut self, ev: WorkerEvent) -> Vec<Command> {
        self.send(Msg::Worker(ev))
    }

    /// Draw at both sizes and check; returns the screen text at each size.
    /// The crossterm stream is checked at the larger size only: it is the
    /// serialization of the same cells.
    fn check(&mut self, what: &str) -> Vec<String> {
        SIZES
            .iter()
            .map(|&(w, h)| self.check_at(what, w, h))
            .collect()
    }

    /// Draw at 200x50 only and check; returns the screen text.
    fn check_wide(&mut self, what: &str) -> String {
        let (w, h) = SIZES[1];
        self.check_at(what, w, h)
    }

    fn check_at(&mut self, what: &str, w: u16, h: u16) -> String {
        self.app.update(Msg::Resize(w, h));
        let label = format!("{what} at {w}x{h}");
        let screen = self.check_ui(&label, w, h);
        self.check_pane(&label, w, h);
        if (w, h) == SIZES[1] {
            self.check_crossterm(&label, w, h);
        }
        self.draws += 1;
        screen
    }

    /// Fail on the pane leaks recorded by a lenient harness.
    fn finish(&self) {
        for l in &self.leaks {
            eprintln!("LEAK {l}");
        }
        assert!(
            self.leaks.is_empty(),
            "{} pane leak(s):\n{}",
            self.leaks.len(),
            self.leaks.iter().cloned().collect::<Vec<_>>().join("\n")
        );
    }

    /// The full screen, through `ui::draw`.
    fn check_ui(&self, what: &str, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| ui::draw(&self.app, &self.theme, f)).unwrap();
        let buf = term.backend().buffer();
        assert_cells_clean(&format!("screen: {what}"), buf);
        buffer_text(buf)
    }

    /// The focused pane alone, without `ui::draw`'s final scrub.
    fn check_pane(&mut self, what: &str, w: u16, h: u16) {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let body = Rect::new(0, 1, w, h - 2);
        let dc = DrawCtx {
            theme: &self.theme,
            env: &self.app.env,
            keymap: &self.app.env.keymap,
            now_ms: self.app.now_ms,
            schemas: &self.app.schemas,
        };
        term.draw(|f| self.app.pane(self.app.focus).draw(f, body, &dc))
            .unwrap();
        let pane = format!("{:?} pane (unscrubbed): {what}", self.app.focus);
        if let Err(e) = cells_clean(&pane, term.backend().buffer()) {
            assert!(!self.strict, "{e}");
            self.leaks.insert(e);
        }
    }

    /// The full screen through a real terminal backend, into bytes.
    fn check_crossterm(&self, what: &str, w: u16, h: u16) {
        let sink = Sink::default();
        let backend = CrosstermBackend::new(sink.clone());
        let mut term = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )
        .unwrap();
        term.draw(|f| ui::draw(&self.app, &self.theme, f)).unwrap();
        drop(term);
        let out = sink.0.borrow().clone();
        assert!(!out.is_empty(), "{what}: the backend wrote nothing");
        hostile::assert_clean_stream(&format!("crossterm stream: {what}"), &out);
    }
}

/// A writer whose bytes stay readable after the terminal took it.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[track_caller]
fn assert_cells_clean(what: &str, buf: &Buffer) {
    if let Err(e) = cells_clean(what, buf) {
        panic!("{e}");
    }
}

fn cells_clean(what: &str, buf: &Buffer) -> Result<(), String> {
    let width = usize::from(buf.area.width.max(1));
    for (i, cell) in buf.content.iter().enumerate() {
        let sym = cell.symbol();
        if let Some(c) = sym.chars().find(|c| needs_escape(*c)) {
            let (x, y) = (i % width, i / width);
            let row: String = buf.content[y * width..(y + 1) * width]
                .iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect();
            return Err(format!(
                "{what}: cell ({x},{y}) holds {sym:?} with raw U+{:04X}; row: {row:?}",
                c as u32
            ));
        }
    }
    Ok(())
}

fn buffer_text(buf: &Buffer) -> String {
    let width = usize::from(buf.area.width.max(1));
    buf.content
        .chunks(width)
        .map(|row| {
            row.iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn find_cmd<T>(cmds: &[Command], f: impl Fn(&Command) -> Option<T>) -> Option<T> {
    cmds.iter().find_map(f)
}

fn hostile_env() -> Env {
    let mut env = Env::test();
    env.cluster = "prod\x1b]0;CLUSTER\x07\u{202e}".into();
    env.registry_configured = true;
    env
}

fn snapshot() -> ClusterSnapshot {
    let mut topics: Vec<TopicSummary> = hostile::names()
        .into_iter()
        .enumerate()
        .map(|(i, name)| TopicSummary {
            messages_error: None,
            name,
            partitions: i + 1,
            replication_factor: 1,
            messages: if i % 3 == 0 {
                None
            } else {
                Some(i64::try_from(i).unwrap() * 1000)
            },
            internal: i % 7 == 6,
            under_replicated: i % 2,
            offline: i % 4 / 3,
            error: (i % 5 == 0).then(|| format!("Broker: \x1b]52;c;RVJS\x07{i}\u{202e}")),
            end_offsets: None,
        })
        .collect();
    topics.push(TopicSummary {
        messages_error: None,
        name: hostile::TOPIC.into(),
        partitions: 3,
        replication_factor: 1,
        messages: Some(i64::MAX),
        internal: false,
        under_replicated: 0,
        offline: 0,
        error: None,
        end_offsets: None,
    });
    ClusterSnapshot {
        brokers: vec![BrokerInfo {
            id: 1,
            host: "broker\x1b[2J\u{200b}".into(),
            port: 9092,
        }],
        topics,
        watermark_error: Some("watermarks: \x1b]0;WM\x07 failed\u{2066}".into()),
    }
}

/// The topic's detail; `hostile_source` puts hostile text in the config
/// source column too (the worker fills it from an rdkafka enum today).
fn topic_detail(hostile_source: bool) -> TopicDetail {
    let names = hostile::names();
    TopicDetail {
        name: hostile::TOPIC.into(),
        internal: false,
        partitions: (0..3)
            .map(|p| PartitionInfo {
                lso: None,
                partition: p,
                leader: if p == 2 { -1 } else { 1 },
                replicas: vec![1, 2, 3],
                isr: vec![1],
                low: Some(0),
                high: if p == 1 { None } else { Some(i64::MAX) },
                error: (p > 0)
                    .then(|| format!("leader not available \x1b[2J\x1b]52;c;UA==\x07 {p}")),
            })
            .collect(),
        configs: Configs::Loaded(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| ConfigEntry {
                    name: n.clone(),
                    value: (i % 4 != 0).then(|| names[(i + 3) % names.len()].clone()),
                    is_default: i % 2 == 0,
                    is_sensitive: i % 5 == 0,
                    source: if hostile_source {
                        format!("DYNAMIC\x1b]8;;x\x1b\\{i}")
                    } else {
                        "DynamicTopic".into()
                    },
                })
                .collect(),
        ),
    }
}

fn member(i: usize, names: &[String], topics: &[String]) -> GroupMember {
    let n = |k: usize| names[(i + k) % names.len()].clone();
    GroupMember {
        member_id: n(0),
        client_id: n(1),
        host: n(2),
        assignment: (i % 3 != 2).then(|| {
            vec![
                TopicPartition::new(&topics[i % topics.len()], 0),
                TopicPartition::new(hostile::TOPIC, i32::try_from(i).unwrap()),
            ]
        }),
        assignment_note: (i % 3 == 2).then(|| format!("undecodable \x1b]52;c;QQ==\x07 {i}")),
        subscription: vec![n(3), hostile::TOPIC.into()],
        ..Default::default()
    }
}

/// Group state, protocol type and assignor as the broker reports them.
#[derive(Clone, Copy)]
struct Meta {
    state: &'static str,
    protocol_type: &'static str,
    protocol: &'static str,
}

const PLAIN: Meta = Meta {
    state: "Stable",
    protocol_type: "consumer",
    protocol: "range",
};

const HOSTILE_META: Meta = Meta {
    state: "Stable\x1b]0;STATE\x07\x1b[2J\u{202e}",
    protocol_type: "consumer\x1b[2J",
    protocol: "range\x1b]0;ASSIGNOR\x07\u{202e}",
};

fn group_snapshot(group: &str, meta: Meta, at_ms: i64, shift: usize) -> GroupSnapshot {
    let names = hostile::names();
    let topics = names.clone();
    GroupSnapshot {
        group: group.into(),
        description: Some(GroupDescription {
            group: group.into(),
            state: meta.state.into(),
            protocol_type: meta.protocol_type.into(),
            protocol: meta.protocol.into(),
            members: (shift..shift + 4)
                .map(|i| member(i, &names, &topics))
                .collect(),
            ..Default::default()
        }),
        description_note: Some("describe: \x1b]0;NOTE\x07".into()),
        partitions: names
            .iter()
            .enumerate()
            .map(|(i, t)| PartitionLag {
                lso: None,
                topic: t.clone(),
                partition: i32::try_from(i).unwrap(),
                committed: (i % 4 != 0).then_some(10 + i64::try_from(shift).unwrap()),
                end: Some(100 + i64::try_from(i * shift).unwrap()),
                lag: (i % 4 != 0).then_some(90),
                member_id: (i % 2 == 0).then(|| names[(i + shift) % names.len()].clone()),
                lag_ms: None,
                lag_ms_estimated: false,
                lag_ms_note: None,
                error: None,
            })
            .collect(),
        offsets_note: Some("offsets: \x1b[6n\u{200b}".into()),
        at_ms,
    }
}

fn groups_snapshot(at_ms: i64, shift: usize, meta: Meta) -> GroupsSnapshot {
    let mut groups: Vec<GroupSnapshot> = hostile::names()
        .iter()
        .take(6)
        .map(|g| group_snapshot(g, meta, at_ms, shift))
        .collect();
    groups.push(GroupSnapshot {
        group: "no-description\x1b]52;c;Tk8=\x07".into(),
        description: None,
        description_note: Some("DescribeGroups refused: \x1b]0;X\x07".into()),
        partitions: vec![],
        offsets_note: None,
        at_ms,
    });
    GroupsSnapshot {
        groups,
        list_note: Some("ListGroups: \x1b]52;c;TElTVA==\x07 partial\u{202e}".into()),
        at_ms,
    }
}

/// Feed the first topic refresh the app asked for.
fn answer_topics(h: &mut Harness, first: &[Command]) {
    let id = find_cmd(first, |c| match c {
        Command::RefreshTopics { id } => Some(*id),
        _ => None,
    })
    .expect("the app asks for topics first");
    h.worker(WorkerEvent::Topics {
        id,
        result: Ok(snapshot()),
    });
}

/// Select the corpus topic in the topic list (filter "orders").
fn select_corpus_topic(h: &mut Harness) {
    h.app.focus = PaneId::Topics;
    h.ch('/');
    h.paste("orders");
    h.key(KeyCode::Enter);
    h.ch('g');
    assert_eq!(
        h.app.topics.selected_topic().map(|t| t.name.as_str()),
        Some(hostile::TOPIC)
    );
}

/// Open the corpus topic in the browser through the topic list (`b`) and
/// return the browse session it started.
fn open_browser(h: &mut Harness) -> u64 {
    select_corpus_topic(h);
    let cmds = h.ch('b');
    assert_eq!(h.app.focus, PaneId::Browser);
    find_cmd(&cmds, |c| match c {
        Command::StartBrowse { session, spec } => {
            assert_eq!(spec.topic, hostile::TOPIC);
            Some(*session)
        }
        _ => None,
    })
    .expect("browsing starts a session")
}

/// Answer every schema fetch: some schemas, one hostile failure; one id stays pending.
fn answer_schemas(h: &mut Harness, cmds: &[Command]) {
    let answers = hostile::registry_answers();
    for c in cmds {
        if let Command::FetchSchema { schema_id } = c {
            let Some((_, a)) = answers.iter().find(|(id, _)| id == schema_id) else {
                continue;
            };
            let result = match a {
                Ok(body) => Ok(std::sync::Arc::new(
                    parse_registry_response(*schema_id, body).unwrap(),
                )),
                Err(e) => Err(kafkaterm::worker::protocol::WorkerError::internal(
                    e.as_str(),
                )),
            };
            h.worker(WorkerEvent::Schema {
                schema_id: *schema_id,
                result,
            });
        }
    }
}

fn load_corpus(h: &mut Harness, session: u64, big: bool) {
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Started {
            partitions: (0..3)
                .map(|p| PartitionStart {
                    partition: p,
                    start: 0,
                    low: 0,
                    high: i64::MAX,
                })
                .collect(),
        },
    });
    let mut cmds = Vec::new();
    for batch in hostile::records(big).chunks(16) {
        cmds.extend(h.worker(WorkerEvent::Browse {
            session,
            event: BrowseEvent::Records(batch.to_vec()),
        }));
    }
    answer_schemas(h, &cmds);
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Status("fetch: \x1b]52;c;U1RBVFVT\x07 retrying\u{202e}".into()),
    });
}

#[test]
fn topic_list_and_detail_escape_hostile_names() {
    let (mut h, first) = Harness::new(hostile_env());
    h.check("topics before the first refresh");
    answer_topics(&mut h, &first);
    let screens = h.check("topic list");
    for s in &screens {
        assert!(s.contains("\\x1b"), "escaped names are visible:\n{s}");
    }
    assert!(
        screens[1].contains("\\u{202e}"),
        "bidi override shown escaped:\n{}",
        screens[1]
    );
    // Every sort, internal topics shown, every row selected.
    for _ in 0..4 {
        h.ch('s');
        h.check("topic list sorted");
    }
    h.ch('S');
    h.ch('i');
    for _ in 0..30 {
        h.ch('j');
    }
    h.check("topic list, last row");
    // A filter typed as a hostile paste.
    h.ch('/');
    h.paste("\x1b]0;FILTER\x07\u{202e}\u{200b}x");
    h.check("topic filter with a hostile paste");
    h.key(KeyCode::Esc);
    // The corpus topic's detail: partitions with hostile errors, hostile configs.
    select_corpus_topic(&mut h);
    let cmds = h.key(KeyCode::Enter);
    let (id, topic) = find_cmd(&cmds, |c| match c {
        Command::DescribeTopic { id, topic } => Some((*id, topic.clone())),
        _ => None,
    })
    .expect("the detail asks for the topic");
    h.check("topic detail loading");
    h.worker(WorkerEvent::TopicDetail {
        id,
        topic,
        result: Ok(topic_detail(false)),
    });
    let screens = h.check("topic partitions");
    assert!(screens[1].contains("\\x1b"), "{}", screens[1]);
    h.key(KeyCode::Tab);
    h.check("topic configuration");
    for _ in 0..40 {
        h.ch('j');
    }
    h.check("topic configuration, scrolled");
    // A failed describe and a failed refresh, with hostile errors.
    let cmds = h.ch('r');
    for c in &cmds {
        match c {
            Command::DescribeTopic { id, topic } => {
                h.worker(WorkerEvent::TopicDetail {
                    id: *id,
                    topic: topic.clone(),
                    result: Err(kafkaterm::worker::protocol::WorkerError::internal(
                        "describe failed \x1b]52;c;REVTQw==\x07\x1b[2J",
                    )),
                });
            }
            Command::RefreshTopics { id } => {
                h.worker(WorkerEvent::Topics {
                    id: *id,
                    result: Err(kafkaterm::worker::protocol::WorkerError::internal(
                        "refresh failed \x1b]0;REFRESH\x07\u{202e}",
                    )),
                });
            }
            _ => {}
        }
    }
    h.check("topic detail and list errors");
    // Configuration that could not be read, with a hostile reason.
    for configs in [
        Configs::Failed("DescribeConfigs: \x1b]52;c;Q0ZH\x07\u{202e}".into()),
        Configs::Unsupported("not supported \x1b]0;UNSUP\x07\x1b[2J".into()),
    ] {
        let cmds = h.ch('r');
        let (id, topic) = find_cmd(&cmds, |c| match c {
            Command::DescribeTopic { id, topic } => Some((*id, topic.clone())),
            _ => None,
        })
        .expect("r refreshes the detail");
        let mut d = topic_detail(false);
        d.configs = configs;
        h.worker(WorkerEvent::TopicDetail {
            id,
            topic,
            result: Ok(d),
        });
        h.check("topic configuration unavailable");
    }
    h.key(KeyCode::Esc);
    // The delete confirmation shows the hostile name to type.
    h.ch('D');
    h.paste("\x1b[2J\u{202e}typed");
    h.check("delete confirmation");
    h.key(KeyCode::Esc);
    // The create dialog with a hostile pasted name: validation error.
    h.ch('c');
    h.paste("evil\x1b]0;NEW\x07\u{202e}name");
    h.key(KeyCode::Enter);
    h.check("create dialog with a hostile name");
    h.key(KeyCode::Esc);
    // Status bar: hostile connection errors and refusals.
    h.worker(WorkerEvent::Connection(ConnState::Down(
        "down: \x1b]52;c;Q09OTg==\x07\x1b[2J\u{202e}".into(),
    )));
    h.check("connection down");
    h.worker(WorkerEvent::Refused {
        id: None,
        reason: "refused \x1b]0;REFUSED\x07".into(),
    });
    h.ch('?');
    h.check("help over hostile data");
    h.key(KeyCode::Esc);
    h.finish();
}

/// Open the corpus topic's configuration tab with a hostile config source.
fn show_hostile_config_source(h: &mut Harness) {
    select_corpus_topic(h);
    let cmds = h.key(KeyCode::Enter);
    let (id, topic) = find_cmd(&cmds, |c| match c {
        Command::DescribeTopic { id, topic } => Some((*id, topic.clone())),
        _ => None,
    })
    .expect("the detail asks for the topic");
    h.worker(WorkerEvent::TopicDetail {
        id,
        topic,
        result: Ok(topic_detail(true)),
    });
    h.key(KeyCode::Tab);
    h.check("topic configuration with hostile sources");
    h.key(KeyCode::Esc);
}

/// The screen stays clean (`ui::draw` scrubs) with a hostile config source.
#[test]
fn topic_config_source_survives() {
    let (mut h, first) = Harness::new(hostile_env());
    h.strict = false;
    answer_topics(&mut h, &first);
    show_hostile_config_source(&mut h);
}

/// The topics pane must escape the config source column itself.
#[test]
fn topic_config_source_is_escaped() {
    let (mut h, first) = Harness::new(hostile_env());
    answer_topics(&mut h, &first);
    show_hostile_config_source(&mut h);
    h.finish();
}

/// Walk every message of the browser: detail view, every decoder for the
/// value, the key and the first header; long detail views scrolled.
fn walk_messages(h: &mut Harness, visible_escapes: bool) {
    let total = h.app.browser.view_len();
    assert!(total > 0);
    h.ch('g');
    for pos in 0..total {
        let rec = h
            .app
            .browser
            .selected_record()
            .cloned()
            .expect("a selection");
        let name = format!("message at offset {}", rec.offset);
        h.key(KeyCode::Enter);
        assert!(h.app.browser.detail.is_some(), "{name}: detail opens");
        let screens = h.check(&format!("{name}: detail"));
        // Hostile text records (≤ 2 headers, short): the escapes are visible.
        let texty = rec
            .value
            .as_ref()
            .is_some_and(|v| v.len() < 2000 && v.contains(&0x1b) && std::str::from_utf8(v).is_ok());
        if visible_escapes && texty && rec.headers.len() <= 2 {
            assert!(
                screens[1].contains("\\x1b"),
                "{name}: escapes are visible in the detail:\n{}",
                screens[1]
            );
        }
        for field in 0..3 {
            if field == 2 && rec.headers.is_empty() {
                break;
            }
            for mode in 0..7 {
                h.ch('d');
                let what = format!("{name}: field {field}, decoder {mode}");
                if field == 0 {
                    h.check(&what);
                } else {
                    h.check_wide(&what);
                }
            }
            h.key(KeyCode::Tab);
        }
        if rec.headers.len() > 2 || rec.value.as_ref().is_some_and(|v| v.len() > 4096) {
            h.key(KeyCode::PageDown);
            h.check(&format!("{name}: detail page 2"));
            h.ch('G');
            h.check(&format!("{name}: detail end"));
            h.ch('t');
            h.check(&format!("{name}: detail, UTC"));
            h.ch('t');
        }
        h.key(KeyCode::Esc);
        assert!(h.app.browser.detail.is_none());
        if pos + 1 < total {
            h.ch('j');
        }
    }
}

#[test]
fn browser_list_and_detail_escape_every_message() {
    let (mut h, first) = Harness::new(hostile_env());
    answer_topics(&mut h, &first);
    let session = open_browser(&mut h);
    h.check("browser waiting");
    // A stale session's records are dropped.
    h.worker(WorkerEvent::Browse {
        session: session + 1000,
        event: BrowseEvent::Records(hostile::records(false)),
    });
    assert_eq!(h.app.browser.ring.records.len(), 0);
    load_corpus(&mut h, session, false);
    let n = hostile::records(false).len();
    assert_eq!(h.app.browser.ring.records.len(), n);
    let screens = h.check("browser list");
    for s in &screens {
        assert!(s.contains("\\x1b"), "escaped values are visible:\n{s}");
    }
    // The list with every value and key decoder, both orders.
    for _ in 0..7 {
        h.ch('d');
        h.check("browser list, value decoder");
    }
    for _ in 0..7 {
        h.ch('D');
        h.check("browser list, key decoder");
    }
    h.ch('r');
    h.check("browser list, oldest first");
    h.ch('r');
    walk_messages(&mut h, true);
    // Hostile filters: a paste that does not parse, then one that does.
    h.ch('/');
    h.paste("value ~ \"\x1b]52;c;RklMVA==\x07\u{202e}");
    h.key(KeyCode::Enter);
    h.check("filter that does not parse");
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    h.paste("value ~ \"\u{202e}\" || key ~ \"]52;\" || header.\u{200b}");
    h.key(KeyCode::Enter);
    h.check("filter on hostile text");
    assert!(h.app.browser.filter.is_some());
    h.key(KeyCode::Esc);
    // Open dialog with a hostile paste, export dialog, search dialog.
    h.ch('o');
    h.paste("\x1b]0;OPEN\x07\u{202e}topic");
    h.check("open dialog");
    h.key(KeyCode::Esc);
    h.ch('w');
    h.check("export dialog");
    h.key(KeyCode::Enter);
    let mut job = h
        .app
        .effects
        .iter()
        .find_map(|e| match e {
            kafkaterm::app::Effect::Export(job) => Some(job.clone()),
            _ => None,
        })
        .expect("the export writes a file");
    let dir = tempfile::tempdir().unwrap();
    job.path = dir.path().join("export.jsonl");
    kafkaterm::export::run(&job, |_, _| {}).unwrap();
    let export = std::fs::read_to_string(&job.path).unwrap();
    hostile::assert_clean_text("export file", &export, true);
    assert_eq!(export.lines().count(), n);
    // Copy: the OSC 52 effect carries the raw text; the terminal gets base64.
    h.ch('y');
    h.ch('Y');
    h.ch('K');
    for e in &h.app.effects {
        if let kafkaterm::app::Effect::Osc52(text) = e {
            let mut out = Vec::new();
            kafkaterm::term::osc52(&mut out, text).unwrap();
            let s = String::from_utf8(out).unwrap();
            let b64 = s
                .strip_prefix("\x1b]52;c;")
                .and_then(|r| r.strip_suffix('\x07'))
                .expect("one OSC 52 sequence");
            assert!(
                b64.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')),
                "the clipboard payload is base64 only: {b64:?}"
            );
        }
    }
    // Browse failures with hostile text.
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Recovered("recovered \x1b]0;REC\x07".into()),
    });
    h.check("browse recovered");
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Failed(kafkaterm::worker::protocol::WorkerError::internal(
            "failed \x1b]52;c;RkFJTA==\x07\x1b[2J\u{202e}",
        )),
    });
    h.check("browse failed");
    h.finish();
}

#[test]
fn browser_survives_extreme_metadata() {
    let (mut h, first) = Harness::new(hostile_env());
    answer_topics(&mut h, &first);
    let session = open_browser(&mut h);
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(hostile::extreme_records()),
    });
    h.check("extreme metadata list");
    h.ch('t');
    h.check("extreme metadata list, UTC");
    walk_messages(&mut h, false);
    h.finish();
}

#[test]
fn browser_handles_ten_megabyte_value_and_thousand_headers() {
    let (mut h, first) = Harness::new(hostile_env());
    answer_topics(&mut h, &first);
    let session = open_browser(&mut h);
    let big = hostile::records(true)
        .into_iter()
        .filter(|r| {
            r.headers.len() == 1000
                || r.value
                    .as_ref()
                    .is_some_and(|v| v.len() == hostile::BIG_LEN)
        })
        .collect::<Vec<_>>();
    assert_eq!(big.len(), 2);
    h.worker(WorkerEvent::Browse {
        session,
        event: BrowseEvent::Records(big),
    });
    let screens = h.check("big messages list");
    assert!(screens[1].contains("10.0M"), "{}", screens[1]);
    h.ch('g');
    for _ in 0..2 {
        let rec = h.app.browser.selected_record().cloned().unwrap();
        h.key(KeyCode::Enter);
        let screens = h.check("big message detail");
        if rec.headers.len() == 1000 {
            assert!(screens[1].contains("Headers (1000)"), "{}", screens[1]);
        }
        for _ in 0..7 {
            h.ch('d');
            h.check("big message, value decoder");
            h.key(KeyCode::PageDown);
            h.check("big message, value decoder, page 2");
        }
        h.ch('G');
        h.check("big message, end");
        if rec.headers.len() == 1000 {
            // Every header's decoder focus, a few decoders each.
            h.ch('g');
            h.key(KeyCode::Tab);
            for i in 0..6 {
                h.key(KeyCode::Tab);
                h.ch('d');
                h.ch('d');
                h.check_wide(&format!("thousand headers, header {i} decoder"));
            }
        }
        h.key(KeyCode::Esc);
        h.ch('j');
    }
    h.finish();
}

/// The groups pane through its states: list, filter, rebalances, every
/// group's four tabs, offset reset, deletion, timeline export, a failed refresh.
fn groups_scenario(meta: Meta, strict: bool) -> Harness {
    let (mut h, first) = Harness::new(hostile_env());
    h.strict = strict;
    let id = find_cmd(&first, |c| match c {
        Command::RefreshGroups { id, .. } => Some(*id),
        _ => None,
    })
    .expect("the app asks for groups first");
    h.app.focus = PaneId::Groups;
    h.check("groups before the first refresh");
    h.worker(WorkerEvent::Groups {
        id,
        result: Ok(groups_snapshot(NOW, 0, meta)),
    });
    let screens = h.check("group list");
    for s in &screens {
        assert!(s.contains("\\x1b"), "escaped group names are visible:\n{s}");
    }
    for _ in 0..3 {
        h.ch('s');
        h.check("group list sorted");
    }
    h.ch('/');
    h.paste("\x1b]0;GF\x07\u{202e}");
    h.check("group filter with a hostile paste");
    h.key(KeyCode::Esc);
    // A second and third refresh: members leave and join, the state changes.
    let rebalancing = Meta {
        state: if meta.state == PLAIN.state {
            "PreparingRebalance"
        } else {
            "PreparingRebalance\x1b[2J\u{200b}"
        },
        ..meta
    };
    for (shift, m) in [(2, rebalancing), (5, meta)] {
        h.app.now_ms += 5_000;
        let cmds = h.ch('r');
        let id = find_cmd(&cmds, |c| match c {
            Command::RefreshGroups { id, .. } => Some(*id),
            _ => None,
        })
        .expect("r refreshes");
        h.worker(WorkerEvent::Groups {
            id,
            result: Ok(groups_snapshot(h.app.now_ms, shift, m)),
        });
    }
    h.check("group list after rebalances");
    for row in 0..7 {
        h.ch('g');
        for _ in 0..row {
            h.ch('j');
        }
        h.key(KeyCode::Enter);
        for tab in 0..4 {
            let screens = h.check(&format!("group {row} tab {tab}"));
            if row < 6 && tab < 2 {
                assert!(
                    screens[1].contains("\\x1b") || screens[1].contains("\\u{"),
                    "group {row} tab {tab}: escapes visible:\n{}",
                    screens[1]
                );
            }
            for _ in 0..30 {
                h.ch('j');
            }
            h.check(&format!("group {row} tab {tab}, scrolled"));
            h.key(KeyCode::Tab);
        }
        h.key(KeyCode::Esc);
    }
    // Offset reset on a hostile group: hostile target, hostile plan, hostile errors.
    h.ch('g');
    h.key(KeyCode::Enter);
    h.key(KeyCode::Char(' '));
    h.ch('R');
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    h.paste("\x1b]0;TARGET\x07\u{202e}");
    h.key(KeyCode::Enter);
    h.check("reset with a hostile target");
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    h.paste("earliest");
    let cmds = h.key(KeyCode::Enter);
    let (id, group) = find_cmd(&cmds, |c| match c {
        Command::PlanOffsetReset { id, group, .. } => Some((*id, group.clone())),
        _ => None,
    })
    .expect("a plan is asked for");
    h.check("reset planning");
    let names = hostile::names();
    h.worker(WorkerEvent::ResetPlan {
        id,
        group: group.clone(),
        result: Ok(names
            .iter()
            .enumerate()
            .map(|(i, t)| ResetRow {
                tp: TopicPartition::new(t, i32::try_from(i).unwrap()),
                current: (i % 2 == 0).then_some(5),
                new: 0,
                low: 0,
                end: 100,
            })
            .collect()),
    });
    h.check("reset plan");
    h.paste("\x1b[2J\u{202e}confirm");
    h.key(KeyCode::Enter);
    h.check("reset refused");
    h.key(KeyCode::Esc);
    h.ch('R');
    let cmds = h.key(KeyCode::Enter);
    let (id, group) = find_cmd(&cmds, |c| match c {
        Command::PlanOffsetReset { id, group, .. } => Some((*id, group.clone())),
        _ => None,
    })
    .expect("a plan is asked for");
    h.worker(WorkerEvent::ResetPlan {
        id,
        group,
        result: Err(kafkaterm::worker::protocol::WorkerError::internal(
            "plan failed \x1b]52;c;UExBTg==\x07\x1b[2J\u{202e}",
        )),
    });
    h.check("reset plan failed");
    h.key(KeyCode::Esc);
    // Delete confirmation, save-timeline dialog.
    h.ch('D');
    h.paste("\x1b]52;c;REVM\x07");
    h.check("delete group confirmation");
    h.key(KeyCode::Esc);
    h.ch('w');
    h.check("save timeline dialog");
    h.key(KeyCode::Enter);
    for e in &h.app.effects {
        if let kafkaterm::app::Effect::WriteFile { contents, .. } = e {
            hostile::assert_clean_text("timeline file", contents, true);
        }
    }
    h.key(KeyCode::Esc);
    // A failed refresh with a hostile error.
    h.app.now_ms += 5_000;
    let cmds = h.ch('r');
    if let Some(id) = find_cmd(&cmds, |c| match c {
        Command::RefreshGroups { id, .. } => Some(*id),
        _ => None,
    }) {
        h.worker(WorkerEvent::Groups {
            id,
            result: Err(kafkaterm::worker::protocol::WorkerError::internal(
                "groups failed \x1b]0;GROUPS\x07\x1b[2J\u{202e}",
            )),
        });
    }
    h.check("groups refresh failed");
    h
}

#[test]
fn groups_pane_escapes_hostile_groups_members_and_hosts() {
    groups_scenario(PLAIN, true).finish();
}

/// Hostile group state, protocol type and assignor (broker-reported strings):
/// the screen stays clean (`ui::draw` scrubs), whatever the pane does.
#[test]
fn groups_pane_survives_hostile_state_and_protocol() {
    let h = groups_scenario(HOSTILE_META, false);
    assert!(h.draws > 50);
}

/// The groups pane itself must escape the state and protocol it shows.
#[test]
fn groups_pane_escapes_hostile_state_and_protocol() {
    groups_scenario(HOSTILE_META, true).finish();
}

/// Paste hostile text into every composer field, send, and show hostile
/// delivery errors.
fn compose_hostile(h: &mut Harness) {
    h.app.focus = PaneId::Composer;
    h.check("composer, empty");
    let evil = "\x1b]52;c;UEFTVEU=\x07\x1b[2J\x1b]0;PASTE\x07\u{202e}rtl\u{200b}\u{9b}31m\x7f\r\nsecond line\x1b[5;31;47m";
    // topic, partition, count, timestamp, options, key, headers, value
    for field in 0..8 {
        h.paste(evil);
        h.check(&format!("composer field {field} after a hostile paste"));
        h.key(KeyCode::Tab);
    }
    h.ctrl('f');
    h.check("composer after formatting hostile JSON");
    let cmds = h.ctrl('s');
    h.check("composer after sending hostile fields");
    for c in cmds {
        if let Command::ProduceBatch { id, .. } = c {
            h.worker(WorkerEvent::Produce {
                id,
                progress: ProduceProgress {
                    queued: 1,
                    delivered: 0,
                    failed: 1,
                    first_error: Some("Broker: \x1b]52;c;REVMSVY=\x07\x1b[2J\u{202e}".into()),
                    last: None,
                    elapsed_ms: 3,
                    done: true,
                },
            });
        }
    }
    h.check("composer with a hostile delivery error");
    h.ctrl('r');
    h.check("composer history");
    h.key(KeyCode::Esc);
    h.ctrl('t');
    h.ch('s');
    h.paste("tmpl\x1b]0;T\x07\u{202e}");
    h.check("composer template name");
    h.key(KeyCode::Esc);
}

/// Open every corpus message in the composer with `e` (edit and resend).
fn resend_every_message(h: &mut Harness) {
    let session = open_browser(h);
    load_corpus(h, session, false);
    let total = h.app.browser.view_len();
    h.app.focus = PaneId::Browser;
    h.ch('g');
    for pos in 0..total {
        h.app.focus = PaneId::Browser;
        h.ch('e');
        assert_eq!(h.app.focus, PaneId::Composer);
        h.check(&format!("composer prefilled from message {pos}"));
        h.app.focus = PaneId::Browser;
        h.ch('j');
    }
}

/// The screen stays clean (`ui::draw` scrubs) whatever is pasted.
#[test]
fn composer_survives_hostile_paste() {
    let (mut h, first) = Harness::new(hostile_env());
    h.strict = false;
    answer_topics(&mut h, &first);
    compose_hostile(&mut h);
}

/// The screen stays clean whatever message is loaded for resending.
#[test]
fn composer_survives_resending_every_hostile_message() {
    let (mut h, first) = Harness::new(hostile_env());
    h.strict = false;
    answer_topics(&mut h, &first);
    resend_every_message(&mut h);
}

/// The composer's text areas must show pasted or loaded controls as visible
/// escapes, not leave them to the final scrub (which shows `�`).
#[test]
fn composer_escapes_pasted_and_prefilled_text_visibly() {
    let (mut h, first) = Harness::new(hostile_env());
    answer_topics(&mut h, &first);
    compose_hostile(&mut h);
    resend_every_message(&mut h);
    h.finish();
}
