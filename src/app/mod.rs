//! The application state machine: `App::update(Msg)` changes state only in
//! response to key events, worker events, ticks and I/O results, and returns
//! the commands for the worker. Drawing (`ui::draw`) reads the state only.

pub mod keymap;

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::config::{ClusterProfile, Unsupported};
use crate::decode::registry::SchemaCache;
use crate::model::ProducerOptions;
use crate::panes::{browser, composer, groups, topics};
use crate::worker::protocol::{Command, ConnState, WorkerEvent};

/// Input to the state machine.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// A slow tick (about 4 Hz): clocks, auto-refresh, toasts.
    Tick,
    Worker(WorkerEvent),
    Io(IoResult),
}

/// Side effects the event loop performs for the app (local I/O, terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write a file; `what` names it in the result toast.
    WriteFile {
        path: PathBuf,
        contents: String,
        what: String,
    },
    /// Copy to the clipboard with OSC 52 (the text is base64-encoded there).
    Osc52(String),
}

/// Results of effects, fed back as messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoResult {
    Written {
        what: String,
        path: PathBuf,
        result: Result<usize, String>,
    },
}

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Topics,
    Browser,
    Composer,
    Groups,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Topics, Pane::Browser, Pane::Composer, Pane::Groups];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Pane::Topics => "Topics",
            Pane::Browser => "Browser",
            Pane::Composer => "Producer",
            Pane::Groups => "Groups",
        }
    }
}

/// Settings fixed for the session.
#[derive(Debug, Clone)]
pub struct Env {
    pub cluster: String,
    pub brokers: String,
    pub read_only: bool,
    pub production: bool,
    pub unsupported: Unsupported,
    pub watch_groups: Vec<String>,
    pub topics_refresh_ms: i64,
    pub groups_refresh_ms: i64,
    pub buffer_max_messages: usize,
    pub buffer_max_bytes: usize,
    pub registry_configured: bool,
    pub producer_defaults: ProducerOptions,
    pub data_dir: PathBuf,
    pub history_max: usize,
}

impl Env {
    #[must_use]
    pub fn from_profile(p: &ClusterProfile, data_dir: PathBuf) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        Self {
            cluster: p.name.clone(),
            brokers: p.brokers.clone(),
            read_only: p.read_only,
            production: p.production,
            unsupported: p.unsupported.clone(),
            watch_groups: p.watch_groups.clone(),
            topics_refresh_ms: (p.topics_refresh_secs * 1000.0) as i64,
            groups_refresh_ms: (p.groups_refresh_secs * 1000.0) as i64,
            buffer_max_messages: 200_000,
            buffer_max_bytes: 256 * 1024 * 1024,
            registry_configured: p.schema_registry.is_some(),
            producer_defaults: p.producer_options(),
            data_dir,
            history_max: 200,
        }
    }

    /// A minimal environment for tests.
    #[must_use]
    pub fn test() -> Self {
        let mut p = ClusterProfile::adhoc("127.0.0.1:9092");
        p.name = "test".into();
        Self::from_profile(&p, std::env::temp_dir().join("kafkaterm-test"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub level: Level,
    pub until_ms: i64,
}

/// Where a pane asks the app to go.
#[derive(Debug, Clone)]
pub enum Nav {
    Browse(crate::worker::protocol::BrowseSpec),
    Compose(Box<composer::Prefill>),
    Focus(Pane),
}

/// What a pane gets while handling a key or an event.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub now_ms: i64,
    pub size: (u16, u16),
    next_id: &'a mut u64,
    pub cmds: Vec<Command>,
    pub toasts: Vec<(Level, String)>,
    pub effects: Vec<Effect>,
    pub nav: Option<Nav>,
}

impl Ctx<'_> {
    /// A fresh request or session id.
    pub fn id(&mut self) -> u64 {
        *self.next_id += 1;
        *self.next_id
    }
    pub fn info(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Info, s.into()));
    }
    pub fn warn(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Warn, s.into()));
    }
    pub fn error(&mut self, s: impl Into<String>) {
        self.toasts.push((Level::Error, s.into()));
    }
    /// Refuse a write in read-only mode; true when refused.
    pub fn refuse_if_read_only(&mut self, what: &str) -> bool {
        if self.env.read_only {
            self.error(format!(
                "read-only mode: {what} is disabled for cluster {}",
                self.env.cluster
            ));
            true
        } else {
            false
        }
    }
    /// Body height available to panes (terminal minus tab and status rows).
    #[must_use]
    pub fn body_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(2))
    }
}

/// Connection status for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub conn: ConnState,
    pub last_error: Option<(i64, String)>,
    pub toast: Option<Toast>,
}

/// A quit waiting for in-flight messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quitting {
    pub flush_id: u64,
    pub started_ms: i64,
}

pub struct App {
    pub env: Env,
    pub now_ms: i64,
    pub size: (u16, u16),
    pub focus: Pane,
    pub topics: topics::TopicsPane,
    pub browser: browser::BrowserPane,
    pub composer: composer::ComposerPane,
    pub groups: groups::GroupsPane,
    pub status: Status,
    pub help: bool,
    pub quitting: Option<Quitting>,
    pub quit: bool,
    /// Printed after the terminal is restored.
    pub exit_message: Option<String>,
    pub schemas: SchemaCache,
    pub effects: Vec<Effect>,
    next_id: u64,
}

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

const TOAST_MS: i64 = 6000;

impl App {
    /// A new app; returns the commands to send first (initial refreshes).
    pub fn new(env: Env, now_ms: i64, size: (u16, u16)) -> (Self, Vec<Command>) {
        let composer = composer::ComposerPane::new(&env);
        let groups = groups::GroupsPane::new(&env);
        let mut app = Self {
            schemas: SchemaCache {
                configured: env.registry_configured,
                entries: std::collections::HashMap::new(),
            },
            env,
            now_ms,
            size,
            focus: Pane::Topics,
            topics: topics::TopicsPane::default(),
            browser: browser::BrowserPane::default(),
            composer,
            groups,
            status: Status {
                conn: ConnState::Connecting,
                last_error: None,
                toast: None,
            },
            help: false,
            quitting: None,
            quit: false,
            exit_message: None,
            effects: Vec::new(),
            next_id: 0,
        };
        let cmds = app.update(Msg::Tick);
        (app, cmds)
    }

    fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            env: &self.env,
            now_ms: self.now_ms,
            size: self.size,
            next_id: &mut self.next_id,
            cmds: Vec::new(),
            toasts: Vec::new(),
            effects: Vec::new(),
            nav: None,
        }
    }

    fn absorb(&mut self, toasts: Vec<(Level, String)>, effects: Vec<Effect>) {
        for (level, text) in toasts {
            if level == Level::Error {
                self.status.last_error = Some((self.now_ms, text.clone()));
            }
            self.status.toast = Some(Toast {
                text,
                level,
                until_ms: self.now_ms + TOAST_MS,
            });
        }
        self.effects.extend(effects);
    }

    /// Show a message in the status bar.
    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.absorb(vec![(level, text.into())], vec![]);
    }

    /// Handle one message; returns commands for the worker.
    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut out = Vec::new();
        match msg {
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::Tick => {
                if self
                    .status
                    .toast
                    .as_ref()
                    .is_some_and(|t| t.until_ms <= self.now_ms)
                {
                    self.status.toast = None;
                }
                if let Some(q) = self.quitting {
                    if self.now_ms - q.started_ms > 8000 {
                        self.exit_message =
                            Some("quit before every message was confirmed: flush timed out".into());
                        self.quit = true;
                    }
                }
                let visible = self.focus;
                self.with_pane(&mut out, |app, ctx| {
                    app.topics.tick(ctx, visible == Pane::Topics);
                    app.groups.tick(ctx);
                    app.browser.tick(ctx);
                });
            }
            Msg::Paste(s) => {
                let focus = self.focus;
                self.with_pane(&mut out, |app, ctx| match focus {
                    Pane::Composer => app.composer.paste(&s, ctx),
                    Pane::Topics => app.topics.paste(&s),
                    Pane::Browser => app.browser.paste(&s),
                    Pane::Groups => app.groups.paste(&s),
                });
            }
            Msg::Key(key) => {
                if key.kind != KeyEventKind::Release {
                    self.on_key(key, &mut out);
                }
            }
            Msg::Worker(ev) => self.on_worker(ev, &mut out),
            Msg::Io(IoResult::Written { what, path, result }) => match result {
                Ok(n) => self.toast(
                    Level::Info,
                    format!("{what}: wrote {n} bytes to {}", path.display()),
                ),
                Err(e) => self.toast(
                    Level::Error,
                    format!("{what}: cannot write {}: {e}", path.display()),
                ),
            },
        }
        out
    }

    /// Run pane code with a context, then apply what it asked for.
    fn with_pane(
        &mut self,
        out: &mut Vec<Command>,
        f: impl FnOnce(&mut PaneSet<'_>, &mut Ctx<'_>),
    ) {
        let mut ctx = Ctx {
            env: &self.env,
            now_ms: self.now_ms,
            size: self.size,
            next_id: &mut self.next_id,
            cmds: Vec::new(),
            toasts: Vec::new(),
            effects: Vec::new(),
            nav: None,
        };
        let mut panes = PaneSet {
            topics: &mut self.topics,
            browser: &mut self.browser,
            composer: &mut self.composer,
            groups: &mut self.groups,
            schemas: &mut self.schemas,
        };
        f(&mut panes, &mut ctx);
        let Ctx {
            cmds,
            toasts,
            effects,
            nav,
            ..
        } = ctx;
        out.extend(cmds);
        self.absorb(toasts, effects);
        if let Some(nav) = nav {
            self.navigate(nav, out);
        }
    }

    fn navigate(&mut self, nav: Nav, out: &mut Vec<Command>) {
        match nav {
            Nav::Focus(p) => self.focus = p,
            Nav::Browse(spec) => {
                self.focus = Pane::Browser;
                self.with_pane(out, |app, ctx| app.browser.open(spec, ctx));
            }
            Nav::Compose(prefill) => {
                self.focus = Pane::Composer;
                self.with_pane(out, |app, ctx| app.composer.prefill(*prefill, ctx));
            }
        }
    }

    fn request_quit(&mut self, out: &mut Vec<Command>) {
        if self.quitting.is_some() {
            // Second request: leave now.
            self.quit = true;
            return;
        }
        let in_flight = self.composer.in_flight();
        if in_flight == 0 {
            self.quit = true;
            return;
        }
        let mut ctx = self.ctx();
        let id = ctx.id();
        drop(ctx);
        self.quitting = Some(Quitting {
            flush_id: id,
            started_ms: self.now_ms,
        });
        out.push(Command::Flush {
            id,
            timeout_ms: 5000,
        });
    }

    fn on_key(&mut self, key: KeyEvent, out: &mut Vec<Command>) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.request_quit(out);
            return;
        }
        if self.quitting.is_some() {
            if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc) {
                self.quit = true;
            }
            return;
        }
        if self.help {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter
            ) {
                self.help = false;
            }
            return;
        }
        let capturing = match self.focus {
            Pane::Topics => self.topics.captures_keys(),
            Pane::Browser => self.browser.captures_keys(),
            Pane::Composer => self.composer.captures_keys(),
            Pane::Groups => self.groups.captures_keys(),
        };
        if !capturing {
            match key.code {
                KeyCode::Char('q') => {
                    self.request_quit(out);
                    return;
                }
                KeyCode::Char('?') => {
                    self.help = true;
                    return;
                }
                KeyCode::Char(c @ '1'..='4') => {
                    let idx = usize::from(c as u8 - b'1');
                    let target = Pane::ALL[idx];
                    self.switch_to(target, out);
                    return;
                }
                _ => {}
            }
        }
        let focus = self.focus;
        self.with_pane(out, |app, ctx| match focus {
            Pane::Topics => app.topics.on_key(key, ctx),
            Pane::Browser => app.browser.on_key(key, ctx, app.schemas),
            Pane::Composer => app.composer.on_key(key, ctx),
            Pane::Groups => app.groups.on_key(key, ctx),
        });
    }

    fn switch_to(&mut self, target: Pane, out: &mut Vec<Command>) {
        if self.focus == Pane::Composer && target != Pane::Composer {
            self.with_pane(out, |app, ctx| app.composer.on_leave(ctx));
        }
        self.focus = target;
    }

    fn on_worker(&mut self, ev: WorkerEvent, out: &mut Vec<Command>) {
        match ev {
            WorkerEvent::Connection(state) => {
                if let ConnState::Down(e) | ConnState::Degraded(e) = &state {
                    self.status.last_error = Some((self.now_ms, e.clone()));
                }
                self.status.conn = state;
            }
            WorkerEvent::Schema { schema_id, result } => {
                self.schemas.entries.insert(schema_id, result);
                self.browser.schemas_changed(&self.schemas);
            }
            WorkerEvent::Flushed { id, undelivered }
                if self.quitting.is_some_and(|q| q.flush_id == id) =>
            {
                let (delivered, failed) = self.composer.totals();
                self.exit_message = Some(format!(
                    "producer: {delivered} delivered, {} not delivered",
                    failed + undelivered
                ));
                self.quit = true;
            }
            WorkerEvent::Refused { id, reason } => {
                self.toast(Level::Error, reason.clone());
                self.with_pane(out, |app, ctx| {
                    if let Some(id) = id {
                        app.topics.refused(id);
                        app.composer.refused(id, &reason);
                        app.groups.refused(id);
                    }
                    let _ = ctx;
                });
            }
            other => {
                self.with_pane(out, |app, ctx| match other {
                    WorkerEvent::Topics { .. }
                    | WorkerEvent::TopicDetail { .. }
                    | WorkerEvent::TopicCreated { .. }
                    | WorkerEvent::TopicDeleted { .. } => app.topics.on_worker(other, ctx),
                    WorkerEvent::Browse { session, event } => {
                        app.browser.on_browse(session, event, ctx, app.schemas)
                    }
                    WorkerEvent::Produce { .. } | WorkerEvent::Flushed { .. } => {
                        app.composer.on_worker(other, ctx)
                    }
                    WorkerEvent::Groups { .. }
                    | WorkerEvent::ResetPlan { .. }
                    | WorkerEvent::ResetApplied { .. }
                    | WorkerEvent::GroupDeleted { .. } => app.groups.on_worker(other, ctx),
                    _ => {}
                });
            }
        }
    }

    /// Help rows for the focused pane: global keys, then the pane's.
    #[must_use]
    pub fn help_rows(&self) -> Vec<(&'static str, &'static str)> {
        let mut rows = vec![
            ("1-4", "switch pane: topics, browser, producer, groups"),
            ("?", "this help (Esc closes)"),
            (
                "q / Ctrl-C",
                "quit (waits for in-flight messages; twice to force)",
            ),
        ];
        rows.extend_from_slice(match self.focus {
            Pane::Topics => self.topics.help(),
            Pane::Browser => self.browser.help(),
            Pane::Composer => composer::HELP,
            Pane::Groups => self.groups.help(),
        });
        rows
    }
}

/// Mutable access to every pane at once (for routing).
pub struct PaneSet<'a> {
    pub topics: &'a mut topics::TopicsPane,
    pub browser: &'a mut browser::BrowserPane,
    pub composer: &'a mut composer::ComposerPane,
    pub groups: &'a mut groups::GroupsPane,
    pub schemas: &'a mut SchemaCache,
}

/// What drawing needs besides the state.
pub struct DrawCtx<'a> {
    pub theme: &'a crate::config::theme::Theme,
    pub env: &'a Env,
    pub now_ms: i64,
    pub schemas: &'a SchemaCache,
}

impl DrawCtx<'_> {
    /// A spinner frame that advances with the clock.
    #[must_use]
    pub fn spinner(&self) -> char {
        const FRAMES: [char; 4] = ['◐', '◓', '◑', '◒'];
        FRAMES[usize::try_from((self.now_ms / 250).rem_euclid(4)).unwrap_or(0)]
    }
}
