//! Switching clusters: the picker's keys, sends in flight (wait or cancel),
//! the `Connect` command and its `Switched` answer, and the rule that
//! nothing of the cluster being left reaches the panes afterwards.
//!
//! The worker sends `Switched { generation }` after the last event of the
//! old cluster and before the first of the new one, so the app drops every
//! event while a switch is connecting. Panes are made afresh when the answer
//! arrives; request and session ids keep counting up across switches, so an
//! id of the old cluster can never match a request of the new one.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{Action, Chord, KeyContext};
use super::picker::PickerOutcome;
use super::{App, Level, PaneId, is_global};
use crate::panes::{browser, groups, topics};
use crate::ui::layout::{Screen, table_rows};
use crate::worker::protocol::{ClusterInfo, Command, ConnState, WorkerError, WorkerEvent};

/// How long leaving waits for sends in flight before it gives up on them.
const WAIT_MS: i64 = 30_000;
/// How long leaving waits for cancelled sends to stop.
const CANCEL_MS: i64 = 10_000;

/// A switch under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// Sends are in flight: wait for them, cancel them, or stay?
    Ask { target: String },
    /// Waiting for the sends (cancelled ones when `cancel`) to end first.
    Draining {
        target: String,
        cancel: bool,
        started_ms: i64,
        /// The composer's delivered and failed totals when this began.
        before: (u64, u64),
    },
    /// `Connect` was sent: everything until `Switched` with this generation
    /// is the old cluster's.
    Connecting { target: String, generation: u64 },
}

impl Switch {
    #[must_use]
    pub fn connecting(&self) -> bool {
        matches!(self, Switch::Connecting { .. })
    }

    #[must_use]
    pub fn target(&self) -> &str {
        match self {
            Switch::Ask { target }
            | Switch::Draining { target, .. }
            | Switch::Connecting { target, .. } => target,
        }
    }
}

impl App {
    /// The picker's list height at the current size.
    fn picker_rows(&self) -> usize {
        table_rows(super::picker::rows_area(Screen::of_size(self.size).body))
    }

    /// Open the cluster picker (the picker key again closes it).
    pub(crate) fn open_picker(&mut self, out: &mut Vec<Command>) {
        if self.picker.open {
            self.close_picker();
            return;
        }
        let current = if self.connected {
            self.picker.current.clone()
        } else {
            None
        };
        self.picker.open(current.as_deref(), self.now_ms, out);
    }

    fn close_picker(&mut self) {
        // Without a cluster in use there is nothing to go back to.
        if self.connected && !self.switch.as_ref().is_some_and(Switch::connecting) {
            self.picker.open = false;
        }
    }

    /// Keys for the switch's dialogs and the picker; true when taken.
    pub(crate) fn switch_key(&mut self, key: KeyEvent, out: &mut Vec<Command>) -> bool {
        let km = std::sync::Arc::clone(&self.env.keymap);
        if let Some(Switch::Ask { target }) = &self.switch {
            let target = target.clone();
            match key.code {
                KeyCode::Char('w') => self.drain(target, false, out),
                KeyCode::Char('c') => self.drain(target, true, out),
                _ if km.action_in(KeyContext::Form, key) == Some(Action::Cancel) => {
                    self.switch = None;
                }
                _ => {}
            }
            return true;
        }
        if let Some(action) = self.confirm_send {
            match km.action_in(KeyContext::Form, key) {
                Some(Action::Submit) => {
                    self.confirm_send = None;
                    self.composer_from = None;
                    self.with_pane(PaneId::Composer, out, |p, ctx| p.on_action(action, ctx));
                }
                Some(Action::Cancel) => self.confirm_send = None,
                _ => {}
            }
            return true;
        }
        if !self.picker.open {
            return false;
        }
        let editing = self.picker.editing();
        let mut contexts = self.picker.key_contexts();
        contexts.push(KeyContext::Global);
        let action = km
            .action(&contexts, key)
            .filter(|a| !(editing && is_global(*a) && Chord::from_event(key).is_text()));
        match action {
            Some(Action::Quit) => self.request_quit(out),
            Some(Action::Help) => {
                self.help = true;
                self.help_scroll = 0;
            }
            Some(Action::Clusters) => self.close_picker(),
            Some(Action::Mouse) => self.toggle_mouse(),
            Some(
                a @ (Action::PaneTopics
                | Action::PaneBrowser
                | Action::PaneProducer
                | Action::PaneGroups),
            ) => {
                self.close_picker();
                if !self.picker.open {
                    let p = match a {
                        Action::PaneTopics => PaneId::Topics,
                        Action::PaneBrowser => PaneId::Browser,
                        Action::PaneProducer => PaneId::Composer,
                        _ => PaneId::Groups,
                    };
                    self.switch_to(p, out);
                }
            }
            Some(a) => {
                let rows = self.picker_rows();
                match self.picker.on_action(a, rows, self.now_ms, out) {
                    PickerOutcome::Choose(name) => self.choose(name, out),
                    PickerOutcome::Close => self.close_picker(),
                    PickerOutcome::Nothing => {}
                }
            }
            None => self.picker.on_text_key(key),
        }
        true
    }

    /// The user chose a cluster in the picker.
    pub(crate) fn choose(&mut self, target: String, out: &mut Vec<Command>) {
        if self.switch.is_some() {
            return;
        }
        if self.connected && self.picker.current.as_deref() == Some(target.as_str()) {
            self.picker.open = false;
            let shown = self.picker_label(&target);
            self.toast(Level::Info, format!("already on {shown}"));
            return;
        }
        if self.connected && self.composer.in_flight() > 0 {
            self.switch = Some(Switch::Ask { target });
            return;
        }
        self.connect(target, out);
    }

    fn picker_label(&self, name: &str) -> String {
        self.picker
            .entries
            .iter()
            .find(|e| e.name == name)
            .map_or_else(|| name.to_string(), |e| e.label().to_string())
    }

    /// Wait for (or cancel) the sends in flight, then switch.
    fn drain(&mut self, target: String, cancel: bool, out: &mut Vec<Command>) {
        if cancel {
            for id in self.composer.running() {
                out.push(Command::Cancel { id });
            }
        }
        self.switch = Some(Switch::Draining {
            target,
            cancel,
            started_ms: self.now_ms,
            before: self.composer.totals(),
        });
        self.drained(out);
    }

    /// While draining: switch once no send is in flight (or time is up),
    /// saying how the sends ended.
    fn drained(&mut self, out: &mut Vec<Command>) {
        let Some(Switch::Draining {
            target,
            cancel,
            started_ms,
            before,
        }) = &self.switch
        else {
            return;
        };
        let left = self.composer.in_flight();
        let limit = if *cancel { CANCEL_MS } else { WAIT_MS };
        if left > 0 && self.now_ms - started_ms < limit {
            return;
        }
        let (d, f) = self.composer.totals();
        let (delivered, failed) = (d.saturating_sub(before.0), f.saturating_sub(before.1));
        let what = if *cancel { "cancelled" } else { "finished" };
        let mut text = format!(
            "sends to {} {what}: {delivered} delivered, {failed} not delivered",
            crate::sanitize::escape(&self.env.cluster)
        );
        if left > 0 {
            text.push_str(&format!(", {left} not confirmed when leaving"));
        }
        let level = if failed > 0 || left > 0 {
            Level::Warn
        } else {
            Level::Info
        };
        let target = target.clone();
        self.switch = None;
        self.toast(level, text);
        self.connect(target, out);
    }

    /// Leave the current cluster and connect to `target`.
    fn connect(&mut self, target: String, out: &mut Vec<Command>) {
        self.generation += 1;
        out.push(Command::Connect {
            generation: self.generation,
            cluster: target.clone(),
        });
        self.picker.error = None;
        // The picker stays up (and takes the keys) until the answer, so no
        // pane of the old cluster can ask anything meanwhile.
        self.picker.open = true;
        self.switch = Some(Switch::Connecting {
            target,
            generation: self.generation,
        });
    }

    /// The tick's part: draining ends on time.
    pub(crate) fn switch_tick(&mut self, out: &mut Vec<Command>) {
        if matches!(self.switch, Some(Switch::Draining { .. })) {
            self.drained(out);
        }
    }

    /// Worker events the switch handles or drops; the rest is returned.
    pub(crate) fn switch_event(
        &mut self,
        ev: WorkerEvent,
        out: &mut Vec<Command>,
    ) -> Option<WorkerEvent> {
        match ev {
            WorkerEvent::Probed { cluster, result } => {
                self.picker.probed(&cluster, result, self.now_ms);
                None
            }
            WorkerEvent::Switched { generation, result } => {
                if matches!(&self.switch, Some(Switch::Connecting { generation: g, .. }) if *g == generation)
                {
                    self.switched(result, out);
                }
                None
            }
            // Everything before the marker belongs to the cluster being left.
            _ if self.switch.as_ref().is_some_and(Switch::connecting) || !self.connected => None,
            // The cluster in use (while draining, until its sends end).
            ev => Some(ev),
        }
    }

    /// The worker connected to the new cluster (or could not).
    fn switched(&mut self, result: Result<ClusterInfo, WorkerError>, out: &mut Vec<Command>) {
        let target = self
            .switch
            .take()
            .map(|s| s.target().to_string())
            .unwrap_or_default();
        let old = self.connected.then(|| self.env.cluster.clone());
        match result {
            Ok(info) => {
                self.env.set_cluster(&info);
                self.fresh_panes(old);
                self.picker.current = Some(target);
                self.connected = true;
                self.picker.open = false;
                self.picker.error = None;
                let shown = self.picker_label(&info.name);
                self.toast(
                    Level::Info,
                    format!("connected to {}", crate::sanitize::escape(&shown)),
                );
                // The new panes' first refreshes.
                out.extend(self.update(super::Msg::Tick));
            }
            Err(e) => {
                self.fresh_panes(old);
                self.picker.current = None;
                self.connected = false;
                self.env.cluster = String::new();
                self.env.brokers = String::new();
                self.env.read_only = false;
                self.env.production = false;
                self.picker.open = true;
                let shown = self.picker_label(&target);
                self.picker.error = Some(format!(
                    "cannot connect to {}: {}",
                    crate::sanitize::escape(&shown),
                    e.message
                ));
            }
        }
    }

    /// New panes for another cluster: nothing of the old one stays but the
    /// composer's text (a send then asks first).
    fn fresh_panes(&mut self, old: Option<String>) {
        self.topics = topics::TopicsPane::default();
        self.browser = browser::BrowserPane::new(&self.env);
        self.groups = groups::GroupsPane::new(&self.env);
        let kept = self.composer.switch_cluster(&self.env);
        self.composer_from = match (kept, old) {
            (true, Some(old)) if old != self.env.cluster => Some(old),
            (true, _) => self.composer_from.take(),
            (false, _) => None,
        };
        self.confirm_send = None;
        self.schemas.configured = self.env.registry_configured;
        self.schemas.entries.clear();
        self.status.conn = ConnState::Connecting;
        self.status.last_error = None;
        self.status.toast = None;
        self.focus = PaneId::Topics;
        self.help = false;
        self.quitting = None;
    }
}
