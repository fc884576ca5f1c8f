//! The harness of the snapshot suite (`tests/snapshots.rs`): an `App` built
//! with `App::new`, driven only through `App::update` (keys, pastes, resizes,
//! ticks and synthetic `WorkerEvent`s) and drawn with `kafkaterm::ui::draw`
//! on ratatui's `TestBackend`. Nothing here reads or writes a pane's fields,
//! so moving the panes around leaves the suite compiling and the screens
//! comparable.
//!
//! Determinism:
//! * the clock is `NOW` (2026-11-22T10:00:00Z) plus offsets the scenario
//!   chooses; the app never reads the system clock while drawing;
//! * local times are formatted by chrono's `Local`, which reads `TZ`: the
//!   suite sets `TZ` to a fixed POSIX zone two hours east of UTC, without
//!   daylight saving, before anything formats a time (see `fixed_tz`), so
//!   local and UTC renderings differ visibly and never depend on the host;
//! * request and session ids are counters inside the app, and every fixture
//!   is literal data (no uuid, no random numbers);
//! * the data directory shown in file dialogs is a fixed path.

#![allow(dead_code)]

pub mod fixtures;
pub mod group_fixtures;

use std::path::PathBuf;
use std::sync::Once;

use kafkaterm::app::{App, Env, Msg};
use kafkaterm::config::theme::Theme;
use kafkaterm::model::{ClusterSnapshot, TopicDetail};
use kafkaterm::worker::protocol::{
    BrowseEvent, Command, ConnState, GroupsSnapshot, ProduceProgress, ReqId, SessionId, WorkerEvent,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

/// 2026-11-22T10:00:00Z; 12:00:00 in the suite's local zone.
pub const NOW: i64 = 1_795_341_600_000;

/// The suite's local time zone: POSIX `SNAP-2` is UTC+2 all year.
pub const TZ: &str = "SNAP-2";

/// The data directory shown by the export, JSON Lines and timeline dialogs.
pub const DATA_DIR: &str = "/home/op/.local/share/kafkaterm";

/// The sizes every scenario is drawn at.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

static SET_TZ: Once = Once::new();

/// Pin the local time zone for this process before any time is formatted.
pub fn fixed_tz() {
    SET_TZ.call_once(|| {
        // SAFETY: every test of this binary calls `fixed_tz` first, before it
        // formats a time or starts a thread, and `Once` makes the others wait
        // until the variable is set; nextest runs each test in its own
        // process, where this is the only thread touching the environment.
        unsafe { std::env::set_var("TZ", TZ) };
    });
    assert_eq!(
        std::env::var("TZ").as_deref(),
        Ok(TZ),
        "the snapshot suite needs TZ={TZ}"
    );
}

/// The environment of a plain development cluster.
#[must_use]
pub fn env() -> Env {
    let mut e = Env::test();
    e.cluster = "dev".into();
    e.brokers = "kafka-1:9092,kafka-2:9092,kafka-3:9092".into();
    e.data_dir = PathBuf::from(DATA_DIR);
    e
}

/// The app under test and every command it has sent so far.
pub struct H {
    pub app: App,
    pub cmds: Vec<Command>,
    answered: Vec<ReqId>,
    size: (u16, u16),
}

impl H {
    /// A fresh app at `NOW`: still connecting, first refreshes in flight.
    #[must_use]
    pub fn fresh(size: (u16, u16)) -> Self {
        Self::fresh_with(size, env())
    }

    #[must_use]
    pub fn fresh_with(size: (u16, u16), env: Env) -> Self {
        fixed_tz();
        let (app, cmds) = App::new(env, NOW, size);
        Self {
            app,
            cmds,
            answered: Vec::new(),
            size,
        }
    }

    /// No cluster in use yet: the cluster picker open on `entries`.
    #[must_use]
    pub fn picking(size: (u16, u16), entries: Vec<kafkaterm::app::picker::ClusterEntry>) -> Self {
        fixed_tz();
        let (app, cmds) = App::picking(
            env(),
            entries,
            "/home/op/.config/kafkaterm/config.toml".into(),
            NOW,
            size,
        );
        Self {
            app,
            cmds,
            answered: Vec::new(),
            size,
        }
    }

    /// Connected, with the standard cluster's topics listed.
    #[must_use]
    pub fn new(size: (u16, u16)) -> Self {
        Self::with(size, env())
    }

    #[must_use]
    pub fn with(size: (u16, u16), env: Env) -> Self {
        let mut h = Self::fresh_with(size, env);
        h.worker(WorkerEvent::Connection(ConnState::Connected));
        h.answer_topics(Ok(fixtures::cluster()));
        h
    }

    /// Move the clock to `NOW + offset_ms` (no tick is sent).
    pub fn at(&mut self, offset_ms: i64) {
        self.app.now_ms = NOW + offset_ms;
    }

    pub fn send(&mut self, msg: Msg) {
        let out = self.app.update(msg);
        self.cmds.extend(out);
    }

    pub fn tick(&mut self) {
        self.send(Msg::Tick);
    }

    pub fn key_mod(&mut self, code: KeyCode, m: KeyModifiers) {
        self.send(Msg::Key(KeyEvent::new(code, m)));
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_mod(code, KeyModifiers::NONE);
    }

    pub fn keys(&mut self, codes: &[KeyCode]) {
        for c in codes {
            self.key(*c);
        }
    }

    /// One character key (upper case is sent as such, as terminals do).
    pub fn ch(&mut self, c: char) {
        self.key(KeyCode::Char(c));
    }

    pub fn ctrl(&mut self, c: char) {
        self.key_mod(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    pub fn tab(&mut self) {
        self.key(KeyCode::Tab);
    }

    pub fn backtab(&mut self) {
        self.key_mod(KeyCode::BackTab, KeyModifiers::SHIFT);
    }

    pub fn esc(&mut self) {
        self.key(KeyCode::Esc);
    }

    pub fn enter(&mut self) {
        self.key(KeyCode::Enter);
    }

    /// Type text key by key; `\n` is Enter.
    pub fn typ(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.enter();
            } else {
                self.ch(c);
            }
        }
    }

    pub fn paste(&mut self, s: &str) {
        self.send(Msg::Paste(s.to_string()));
    }

    pub fn worker(&mut self, ev: WorkerEvent) {
        self.send(Msg::Worker(ev));
    }

    pub fn conn(&mut self, state: ConnState) {
        self.worker(WorkerEvent::Connection(state));
    }

    /// The newest request matching `pick`, which must not be answered yet.
    fn pending(&mut self, what: &str, pick: impl Fn(&Command) -> Option<ReqId>) -> ReqId {
        let id = self
            .cmds
            .iter()
            .rev()
            .find_map(pick)
            .unwrap_or_else(|| panic!("no {what} was requested"));
        assert!(
            !self.answered.contains(&id),
            "the last {what} (#{id}) was answered already"
        );
        self.answered.push(id);
        id
    }

    pub fn answer_topics(&mut self, result: Result<ClusterSnapshot, String>) {
        let id = self.pending("topic refresh", |c| match c {
            Command::RefreshTopics { id } => Some(*id),
            _ => None,
        });
        self.worker(WorkerEvent::Topics {
            id,
            result: result.map_err(kafkaterm::worker::protocol::WorkerError::internal),
        });
    }

    pub fn answer_detail(&mut self, result: Result<TopicDetail, String>) {
        let mut topic = String::new();
        let id = self.pending("topic description", |c| match c {
            Command::DescribeTopic { id, .. } => Some(*id),
            _ => None,
        });
        for c in &self.cmds {
            if let Command::DescribeTopic { id: i, topic: t } = c
                && *i == id
            {
                topic.clone_from(t);
            }
        }
        self.worker(WorkerEvent::TopicDetail {
            id,
            topic,
            result: result.map_err(kafkaterm::worker::protocol::WorkerError::internal),
        });
    }

    pub fn answer_groups(&mut self, result: Result<GroupsSnapshot, String>) {
        let id = self.pending("group refresh", |c| match c {
            Command::RefreshGroups { id, .. } => Some(*id),
            _ => None,
        });
        self.worker(WorkerEvent::Groups {
            id,
            result: result.map_err(kafkaterm::worker::protocol::WorkerError::internal),
        });
    }

    /// Feed the groups pane one refresh per snapshot, each at its own
    /// `at_ms` (the clock follows, and a tick asks for the next refresh).
    pub fn group_rounds(&mut self, rounds: Vec<GroupsSnapshot>) {
        for (i, snap) in rounds.into_iter().enumerate() {
            self.app.now_ms = snap.at_ms;
            if i > 0 {
                self.tick();
            }
            self.answer_groups(Ok(snap));
        }
    }

    /// The newest request id of a kind, answered or not.
    #[must_use]
    pub fn last_id(&self, pick: impl Fn(&Command) -> Option<ReqId>) -> ReqId {
        self.cmds
            .iter()
            .rev()
            .find_map(pick)
            .expect("the command was sent")
    }

    #[must_use]
    pub fn produce_id(&self) -> ReqId {
        self.last_id(|c| match c {
            Command::ProduceBatch { id, .. } | Command::ProduceTransaction { id, .. } => Some(*id),
            _ => None,
        })
    }

    /// The last transactional send ended as `outcome`.
    pub fn txn_ended(&mut self, outcome: kafkaterm::model::TxnOutcome) {
        let id = self.produce_id();
        self.worker(WorkerEvent::TxnEnded {
            id,
            transactional_id: "kafkaterm-test-00c0ffee".into(),
            outcome,
        });
    }

    pub fn produce(&mut self, progress: ProduceProgress) {
        let id = self.produce_id();
        self.worker(WorkerEvent::Produce { id, progress });
    }

    #[must_use]
    pub fn session(&self) -> SessionId {
        self.cmds
            .iter()
            .rev()
            .find_map(|c| match c {
                Command::StartBrowse { session, .. } => Some(*session),
                _ => None,
            })
            .expect("browsing started")
    }

    pub fn browse(&mut self, event: BrowseEvent) {
        let session = self.session();
        self.worker(WorkerEvent::Browse { session, event });
    }

    /// The terminal changes size; the app is told, as the event loop does.
    pub fn resize(&mut self, w: u16, h: u16) {
        self.size = (w, h);
        self.send(Msg::Resize(w, h));
    }

    #[must_use]
    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    /// The screen as text, one line per row, trailing spaces trimmed. A
    /// double-width character covers the next cell, which is skipped, so a
    /// line reads as a terminal shows it.
    #[must_use]
    pub fn screen(&self) -> String {
        let (w, h) = self.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|f| kafkaterm::ui::draw(&self.app, &Theme::dark(), f))
            .expect("draw");
        let b = t.backend().buffer();
        let mut out = String::new();
        for y in 0..b.area.height {
            let mut line = String::new();
            let mut skip = 0usize;
            for x in 0..b.area.width {
                let sym = b[(x, y)].symbol();
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                line.push_str(sym);
                skip = sym.width().saturating_sub(1);
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Draw the scenario's final state and compare it with the stored snapshot
/// `{name}_{w}x{h}`.
pub fn check(name: &str, description: &str, h: &H) {
    refuse_accepting_in_ci();
    let (w, hh) = h.size();
    let screen = h.screen();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("{description} ({w}x{hh})"));
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}_{w}x{hh}"), screen);
    });
}

/// In CI a snapshot is compared, never written or accepted: refuse the
/// settings that would make insta accept a changed screen or pass anyway.
fn refuse_accepting_in_ci() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let ci = !matches!(var("CI").as_str(), "" | "0" | "false");
    if !ci {
        return;
    }
    let update = var("INSTA_UPDATE");
    assert!(
        matches!(update.as_str(), "" | "no" | "auto"),
        "CI is set: INSTA_UPDATE={update} would accept changed snapshots; use INSTA_UPDATE=no"
    );
    for k in [
        "INSTA_FORCE_PASS",
        "INSTA_FORCE_UPDATE",
        "INSTA_FORCE_UPDATE_SNAPSHOTS",
    ] {
        assert!(
            matches!(var(k).as_str(), "" | "0"),
            "CI is set: {k} would let a changed snapshot pass"
        );
    }
}

/// `scenario!(name, "what it shows", |size| { ...; h })` defines one test per
/// size (80x24 and 200x50); the closure builds the state at that size and
/// returns the harness. A list of `test_name => (w, h)` replaces the sizes.
macro_rules! scenario {
    ($name:ident, $desc:literal, [$($test:ident => ($w:literal, $h:literal)),+ $(,)?], $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $test() {
                    let build: fn((u16, u16)) -> $crate::snap::H = $body;
                    let h = build(($w, $h));
                    $crate::snap::check(stringify!($name), $desc, &h);
                }
            )+
        }
    };
    ($name:ident, $desc:literal, $body:expr) => {
        scenario!($name, $desc, [at_80x24 => (80, 24), at_200x50 => (200, 50)], $body);
    };
}
