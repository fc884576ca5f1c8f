//! The application state machine: `App::update(Msg)` changes state only in
//! response to key events, worker events, ticks and I/O results, and returns
//! the commands for the worker. Drawing (`ui::draw`) reads the state only.
//!
//! The app owns the panes and routes through the [`Pane`] contract: keys are
//! looked up in the focused pane's keymap contexts and then `[global]`;
//! worker events go to the pane that asked for them.

pub mod clock;
pub mod ctx;
pub mod env;
mod help;
pub mod keymap;
mod mouse;
pub mod picker;
mod switch;

pub use ctx::{Ctx, DrawCtx, Effect, IoResult, Level, Nav, PaneId, Prefill, Toast, WriteError};
pub use env::Env;
pub use switch::Switch;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseEvent};

use crate::decode::registry::SchemaCache;
use crate::panes::{Pane, browser, composer, groups, topics};
use crate::worker::protocol::{Command, ConnState, WorkerEvent};
use keymap::{Action, Chord, KeyContext};

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
    /// A mouse event (only while mouse reporting is on).
    Mouse(MouseEvent),
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
    pub focus: PaneId,
    pub topics: topics::TopicsPane,
    pub browser: browser::BrowserPane,
    pub composer: composer::ComposerPane,
    pub groups: groups::GroupsPane,
    pub status: Status,
    pub help: bool,
    /// First help row shown (the overlay scrolls on small terminals).
    pub help_scroll: usize,
    pub quitting: Option<Quitting>,
    pub quit: bool,
    /// Printed after the terminal is restored.
    pub exit_message: Option<String>,
    pub schemas: SchemaCache,
    pub effects: Vec<Effect>,
    next_id: u64,
    /// The clusters to switch between, and whether the picker is open.
    pub picker: picker::Picker,
    /// A cluster is in use: false before the first choice in the picker
    /// and after a failed switch (the picker stays open then).
    pub connected: bool,
    /// Counts switches; the worker's `Switched` answer carries it.
    pub generation: u64,
    /// A switch under way.
    pub switch: Option<Switch>,
    /// Mouse reporting is on.
    pub mouse: bool,
    /// The last left click: when, column, row (for double clicks).
    last_click: Option<(i64, u16, u16)>,
    /// The composer holds text written while another cluster (this one)
    /// was in use: a send asks first.
    pub composer_from: Option<String>,
    /// Asking whether to send the composer's message to the new cluster:
    /// the send action to run when confirmed.
    pub confirm_send: Option<Action>,
    /// The last tick changed the state drawn (see [`App::tick_needs_frame`]).
    tick_changed: bool,
    /// The last update changed only a pane that is not on screen.
    unseen: bool,
}

const TOAST_MS: i64 = 6000;

/// The panes, borrowed beside a [`Ctx`] that borrows the rest of the app.
struct Panes<'a> {
    topics: &'a mut topics::TopicsPane,
    browser: &'a mut browser::BrowserPane,
    composer: &'a mut composer::ComposerPane,
    groups: &'a mut groups::GroupsPane,
}

/// Which pane a worker event belongs to (`None`: the app's own).
fn route(ev: &WorkerEvent) -> Option<PaneId> {
    match ev {
        WorkerEvent::Topics { .. }
        | WorkerEvent::TopicNames { .. }
        | WorkerEvent::TopicCounts { .. }
        | WorkerEvent::TopicDetail { .. }
        | WorkerEvent::TopicCreated { .. }
        | WorkerEvent::TopicDeleted { .. } => Some(PaneId::Topics),
        WorkerEvent::Browse { .. }
        | WorkerEvent::CopyProgress { .. }
        | WorkerEvent::Copied { .. } => Some(PaneId::Browser),
        WorkerEvent::Produce { .. }
        | WorkerEvent::TxnEnded { .. }
        | WorkerEvent::Flushed { .. } => Some(PaneId::Composer),
        WorkerEvent::Groups { .. }
        | WorkerEvent::GroupList { .. }
        | WorkerEvent::GroupOffsets { .. }
        | WorkerEvent::ResetPlan { .. }
        | WorkerEvent::ResetApplied { .. }
        | WorkerEvent::GroupDeleted { .. } => Some(PaneId::Groups),
        _ => None,
    }
}

fn is_global(a: Action) -> bool {
    matches!(
        a,
        Action::Quit
            | Action::Help
            | Action::PaneTopics
            | Action::PaneBrowser
            | Action::PaneProducer
            | Action::PaneGroups
            | Action::Clusters
            | Action::Mouse
    )
}

impl App {
    /// A new app; returns the commands to send first (initial refreshes).
    pub fn new(env: Env, now_ms: i64, size: (u16, u16)) -> (Self, Vec<Command>) {
        let composer = composer::ComposerPane::new(&env);
        let groups = groups::GroupsPane::new(&env);
        let browser = browser::BrowserPane::new(&env);
        let mut app = Self {
            schemas: SchemaCache {
                configured: env.registry_configured,
                entries: std::collections::HashMap::new(),
            },
            env,
            now_ms,
            size,
            focus: PaneId::Topics,
            topics: topics::TopicsPane::default(),
            browser,
            composer,
            groups,
            status: Status {
                conn: ConnState::Connecting,
                last_error: None,
                toast: None,
            },
            help: false,
            help_scroll: 0,
            quitting: None,
            quit: false,
            exit_message: None,
            effects: Vec::new(),
            next_id: 0,
            picker: picker::Picker::default(),
            connected: true,
            generation: 0,
            switch: None,
            mouse: false,
            last_click: None,
            composer_from: None,
            confirm_send: None,
            tick_changed: false,
            unseen: false,
        };
        let cmds = app.update(Msg::Tick);
        (app, cmds)
    }

    /// A new app with no cluster in use yet: the picker is open on
    /// `entries`; returns the commands to send first (the clusters' checks).
    pub fn picking(
        env: Env,
        entries: Vec<picker::ClusterEntry>,
        config_path: String,
        now_ms: i64,
        size: (u16, u16),
    ) -> (Self, Vec<Command>) {
        let mut env = env;
        env.cluster = String::new();
        env.brokers = String::new();
        env.read_only = false;
        env.production = false;
        let (mut app, _) = Self::new(env, now_ms, size);
        // Nothing was sent: `new`'s first refreshes are dropped here.
        app.topics = topics::TopicsPane::default();
        app.groups = groups::GroupsPane::new(&app.env);
        app.browser = browser::BrowserPane::new(&app.env);
        app.connected = false;
        app.picker = picker::Picker::new(entries, config_path);
        let mut cmds = Vec::new();
        app.picker.open(None, now_ms, &mut cmds);
        (app, cmds)
    }

    /// The pane with this id, through its contract.
    #[must_use]
    pub fn pane(&self, id: PaneId) -> &dyn Pane {
        match id {
            PaneId::Topics => &self.topics,
            PaneId::Browser => &self.browser,
            PaneId::Composer => &self.composer,
            PaneId::Groups => &self.groups,
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

    /// The tick's work: toasts and the quit timeout, the switch, then every
    /// pane's tick; true when it stops before the panes (no cluster in use,
    /// or one being connected), which also keeps the commands as they are.
    fn on_tick(&mut self, out: &mut Vec<Command>) -> bool {
        if self
            .status
            .toast
            .as_ref()
            .is_some_and(|t| t.until_ms <= self.now_ms)
        {
            self.status.toast = None;
        }
        if let Some(q) = self.quitting
            && self.now_ms - q.started_ms > 8000
        {
            self.exit_message =
                Some("quit before every message was confirmed: flush timed out".into());
            self.quit = true;
        }
        let n = out.len();
        self.switch_tick(out);
        self.tick_changed |= out.len() > n;
        if !self.connected || self.switch.as_ref().is_some_and(Switch::connecting) {
            return true;
        }
        let focus = self.focus;
        for id in [
            PaneId::Topics,
            PaneId::Groups,
            PaneId::Browser,
            PaneId::Composer,
        ] {
            let n = out.len();
            self.with_pane(id, out, |p, ctx| p.tick(ctx, focus == id));
            // A request of the pane on screen shows (a spinner); one of a
            // pane out of sight does not.
            self.tick_changed |= focus == id && out.len() > n;
        }
        false
    }

    /// Handle one message; returns commands for the worker.
    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut out = Vec::new();
        self.unseen = false;
        match msg {
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::Tick => {
                self.tick_changed = false;
                let before = clock::Seen::of(self);
                let stop = self.on_tick(&mut out);
                self.tick_changed |= before != clock::Seen::of(self);
                if stop {
                    return out;
                }
            }
            Msg::Paste(s) => {
                if self.picker.open {
                    self.picker.on_paste(&s);
                } else if self.switch.is_none() && self.confirm_send.is_none() {
                    self.with_pane(self.focus, &mut out, |p, ctx| p.on_paste(&s, ctx));
                }
            }
            Msg::Mouse(m) => self.on_mouse(m, &mut out),
            Msg::Key(key) => {
                if key.kind != KeyEventKind::Release {
                    self.on_key(key, &mut out);
                }
            }
            Msg::Worker(ev) => {
                let before = self.out_of_sight(&ev).then(|| clock::Seen::of(self));
                self.on_worker(ev, &mut out);
                // A switch waiting for sends to end goes on once they have.
                self.switch_tick(&mut out);
                self.unseen = before.is_some_and(|b| b == clock::Seen::of(self));
            }
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
            Msg::Io(r @ IoResult::Export(_)) => {
                self.with_pane(PaneId::Browser, &mut out, |p, ctx| p.on_io(r, ctx));
            }
        }
        if self.switch.as_ref().is_some_and(Switch::connecting) {
            // The worker runs commands in order: anything sent after
            // `Connect` would reach the new cluster on the old panes' behalf.
            out.retain(|c| matches!(c, Command::Connect { .. } | Command::Probe { .. }));
        }
        out
    }

    /// Run pane code with a context, then apply what it asked for.
    fn with_pane(
        &mut self,
        id: PaneId,
        out: &mut Vec<Command>,
        f: impl FnOnce(&mut dyn Pane, &mut Ctx<'_>),
    ) {
        let nav = self.with_ctx(out, |panes, ctx| {
            let pane: &mut dyn Pane = match id {
                PaneId::Topics => panes.topics,
                PaneId::Browser => panes.browser,
                PaneId::Composer => panes.composer,
                PaneId::Groups => panes.groups,
            };
            f(pane, ctx);
        });
        if let Some(nav) = nav {
            self.navigate(nav, out);
        }
    }

    /// Run code on the panes with a context built from the app's state, then
    /// apply its commands, toasts and effects; returns the navigation it
    /// asked for, which the caller follows or not.
    fn with_ctx(
        &mut self,
        out: &mut Vec<Command>,
        f: impl FnOnce(&mut Panes<'_>, &mut Ctx<'_>),
    ) -> Option<Nav> {
        let mut ctx = Ctx::new(
            &self.env,
            &self.schemas,
            self.now_ms,
            self.size,
            &mut self.next_id,
        );
        let mut panes = Panes {
            topics: &mut self.topics,
            browser: &mut self.browser,
            composer: &mut self.composer,
            groups: &mut self.groups,
        };
        f(&mut panes, &mut ctx);
        let Ctx {
            cmds,
            toasts,
            effects,
            nav,
            redraw,
            ..
        } = ctx;
        self.tick_changed |= redraw;
        out.extend(cmds);
        self.absorb(toasts, effects);
        nav
    }

    /// Follow a pane's navigation; a navigation asked for while opening the
    /// browser or the composer is not followed further.
    fn navigate(&mut self, nav: Nav, out: &mut Vec<Command>) {
        match nav {
            Nav::Focus(p) => self.focus = p,
            Nav::Browse(spec) => {
                self.focus = PaneId::Browser;
                let _ = self.with_ctx(out, |p, ctx| p.browser.open(spec, ctx));
            }
            Nav::Compose(prefill) => {
                self.focus = PaneId::Composer;
                let _ = self.with_ctx(out, |p, ctx| p.composer.prefill(*prefill, ctx));
            }
        }
    }

    pub(crate) fn request_quit(&mut self, out: &mut Vec<Command>) {
        // Open transactions are aborted whichever way the console quits (the
        // worker waits for the aborts when it shuts down).
        let aborted = self.composer.abort_open_transactions(out);
        if aborted > 0 {
            self.exit_message = Some(format!(
                "aborted {aborted} open transaction(s) on quitting; nothing of them is committed"
            ));
        }
        if self.quitting.is_some() {
            // Second request: leave now.
            self.quit = true;
            return;
        }
        if self.composer.in_flight() == 0 {
            self.quit = true;
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
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
        let km = std::sync::Arc::clone(&self.env.keymap);
        let global = km.action_in(KeyContext::Global, key);
        if self.quitting.is_some() {
            if global == Some(Action::Quit) || key.code == KeyCode::Esc {
                self.quit = true;
            }
            return;
        }
        if self.help {
            self.help_key(key, global);
            return;
        }
        if self.switch_key(key, out) {
            return;
        }
        let pane = self.pane(self.focus);
        let capturing = pane.captures_text();
        let mut contexts = pane.key_contexts();
        contexts.push(KeyContext::Global);
        let action = km
            .action(&contexts, key)
            // While typing, a plain character is text, never a global action.
            .filter(|a| !(capturing && is_global(*a) && Chord::from_event(key).is_text()));
        match action {
            Some(Action::Quit) => self.request_quit(out),
            Some(Action::Help) => {
                self.help = true;
                self.help_scroll = 0;
            }
            Some(Action::PaneTopics) => self.switch_to(PaneId::Topics, out),
            Some(Action::PaneBrowser) => self.switch_to(PaneId::Browser, out),
            Some(Action::PaneProducer) => self.switch_to(PaneId::Composer, out),
            Some(Action::PaneGroups) => self.switch_to(PaneId::Groups, out),
            Some(Action::Clusters) => self.open_picker(out),
            Some(Action::Mouse) => self.toggle_mouse(),
            Some(a @ (Action::Send | Action::SendFile))
                if self.focus == PaneId::Composer
                    && self.composer_from.is_some()
                    && self.composer.dialog.is_none() =>
            {
                self.confirm_send = Some(a);
            }
            Some(a) => self.with_pane(self.focus, out, |p, ctx| p.on_action(a, ctx)),
            None => self.with_pane(self.focus, out, |p, ctx| p.on_text_key(key, ctx)),
        }
    }

    pub(crate) fn switch_to(&mut self, target: PaneId, out: &mut Vec<Command>) {
        if self.focus != target {
            self.with_pane(self.focus, out, |p, ctx| p.on_leave(ctx));
        }
        self.focus = target;
    }

    fn on_worker(&mut self, ev: WorkerEvent, out: &mut Vec<Command>) {
        // Checks for the picker, the switch's marker, and nothing of a
        // cluster being left.
        let Some(ev) = self.switch_event(ev, out) else {
            return;
        };
        match ev {
            WorkerEvent::Connection(state) => {
                if let ConnState::Down(e) | ConnState::Degraded(e) = &state {
                    self.status.last_error = Some((self.now_ms, e.clone()));
                }
                self.status.conn = state;
            }
            WorkerEvent::Schema { schema_id, result } => {
                self.schemas
                    .entries
                    .insert(schema_id, result.map_err(|e| e.to_string()));
                self.browser.schemas_changed(&self.schemas);
            }
            WorkerEvent::Flushed { id, undelivered }
                if self.quitting.is_some_and(|q| q.flush_id == id) =>
            {
                let (delivered, failed) = self.composer.totals();
                let summary = format!(
                    "producer: {delivered} delivered, {} not delivered",
                    failed + undelivered
                );
                self.exit_message = Some(match self.exit_message.take() {
                    Some(note) => format!("{summary}; {note}"),
                    None => summary,
                });
                self.quit = true;
            }
            WorkerEvent::Refused { id, reason } => {
                self.toast(Level::Error, reason.clone());
                if let Some(id) = id {
                    for p in PaneId::ALL {
                        self.with_pane(p, out, |p, _| p.refused(id, &reason));
                    }
                }
            }
            other => {
                if let Some(id) = route(&other) {
                    self.with_pane(id, out, |p, ctx| p.on_worker(other, ctx));
                }
            }
        }
    }
}
