//! The cluster picker: the clusters of the config file with their marks and
//! what a background check found (reachable, brokers, topics, groups), a
//! filter, and the choice. Opened at start when no cluster was chosen on the
//! command line or in the config, and at any time with the picker key.
//! Pure state: the checks are `Command::Probe`s answered by the worker.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::keymap::{Action, KeyContext};
use crate::panes::list::{FilterChange, ListView, matches};
use crate::ui::layout;
use crate::worker::protocol::{Command, DEMO_CLUSTER, ProbeReport, WorkerError};

/// A check result is reused for this long when the picker opens again.
const CHECK_FRESH_MS: i64 = 30_000;

/// One cluster the console can connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEntry {
    pub name: String,
    pub brokers: String,
    pub production: bool,
    pub read_only: bool,
    pub check: Check,
}

impl ClusterEntry {
    /// The built-in demo (librdkafka's mock cluster in this process).
    #[must_use]
    pub fn demo() -> Self {
        Self {
            name: DEMO_CLUSTER.into(),
            brokers: "built-in mock cluster".into(),
            production: false,
            read_only: false,
            check: Check::Unchecked,
        }
    }

    #[must_use]
    pub fn is_demo(&self) -> bool {
        self.name == DEMO_CLUSTER
    }

    /// The name as shown (the demo's is `demo`).
    #[must_use]
    pub fn label(&self) -> &str {
        if self.is_demo() { "demo" } else { &self.name }
    }
}

/// What the background check of a cluster found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Unchecked,
    Checking,
    Reachable {
        report: ProbeReport,
        at_ms: i64,
    },
    Unreachable {
        reason: String,
        at_ms: i64,
    },
    /// Not checked in the background (its secret comes from a command).
    Skipped {
        reason: String,
    },
}

impl Check {
    fn fresh(&self, now_ms: i64) -> bool {
        match self {
            Check::Checking => true,
            Check::Reachable { at_ms, .. } | Check::Unreachable { at_ms, .. } => {
                now_ms - at_ms < CHECK_FRESH_MS
            }
            Check::Skipped { .. } => true,
            Check::Unchecked => false,
        }
    }
}

/// What a key in the picker asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerOutcome {
    Nothing,
    /// Connect to this cluster (its config name).
    Choose(String),
    Close,
}

/// The picker's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picker {
    pub entries: Vec<ClusterEntry>,
    /// Indices into `entries`, filtered, in config order.
    pub list: ListView<usize>,
    pub open: bool,
    /// Why the last connection attempt failed (shown above the list).
    pub error: Option<String>,
    /// The config file, named by the "how to add a cluster" text.
    pub config_path: String,
    /// The entry in use (its name), when a cluster is.
    pub current: Option<String>,
}

/// The list's rows in the body area: the picker's table under a header line.
#[must_use]
pub fn rows_area(body: Rect) -> Rect {
    layout::header_and_body(body).1
}

impl Picker {
    #[must_use]
    pub fn new(entries: Vec<ClusterEntry>, config_path: String) -> Self {
        let mut p = Self {
            entries,
            config_path,
            ..Self::default()
        };
        p.rebuild();
        p
    }

    fn rebuild(&mut self) {
        let needle = self.list.filter.text().to_lowercase();
        let entries = &self.entries;
        self.list.rebuild(
            0..entries.len(),
            |i| {
                let e = &entries[*i];
                matches(e.label(), &needle) || matches(&e.brokers, &needle)
            },
            Ord::cmp,
            false,
        );
    }

    /// Open the picker on `current` (selected), asking for checks of the
    /// clusters not checked lately.
    pub fn open(&mut self, current: Option<&str>, now_ms: i64, out: &mut Vec<Command>) {
        self.open = true;
        self.list.filter.clear();
        self.rebuild();
        let at = current.and_then(|c| self.entries.iter().position(|e| e.name == c));
        self.list.scroll = crate::ui::widgets::Scroll::default();
        self.list.reselect(at.as_ref(), usize::MAX / 2);
        self.check(now_ms, false, out);
    }

    /// Ask the worker to check clusters (all of them when `all`, else those
    /// without a recent answer).
    pub fn check(&mut self, now_ms: i64, all: bool, out: &mut Vec<Command>) {
        for e in &mut self.entries {
            if (all && !matches!(e.check, Check::Checking)) || !e.check.fresh(now_ms) {
                e.check = Check::Checking;
                out.push(Command::Probe {
                    cluster: e.name.clone(),
                });
            }
        }
    }

    /// A check's answer.
    pub fn probed(&mut self, cluster: &str, result: Result<ProbeReport, WorkerError>, now_ms: i64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.name == cluster) {
            e.check = match result {
                Ok(report) => Check::Reachable {
                    report,
                    at_ms: now_ms,
                },
                Err(e) if e.is_unsupported() => Check::Skipped { reason: e.message },
                Err(e) => Check::Unreachable {
                    reason: e.message,
                    at_ms: now_ms,
                },
            };
        }
    }

    #[must_use]
    pub fn editing(&self) -> bool {
        self.list.filter.editing
    }

    /// Keymap contexts for the picker's state.
    #[must_use]
    pub fn key_contexts(&self) -> Vec<KeyContext> {
        if self.editing() {
            vec![KeyContext::Form]
        } else {
            vec![KeyContext::Clusters, KeyContext::Navigation]
        }
    }

    fn selected_name(&self) -> Option<String> {
        self.list
            .selected()
            .and_then(|i| self.entries.get(*i))
            .map(|e| e.name.clone())
    }

    /// An action from the picker's contexts; `rows` is the list's height.
    pub fn on_action(
        &mut self,
        action: Action,
        rows: usize,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) -> PickerOutcome {
        if self.editing() {
            match self.list.filter.on_action(action) {
                FilterChange::Cleared | FilterChange::Changed => {
                    self.rebuild();
                    self.list.filter_changed();
                }
                FilterChange::Done | FilterChange::Nothing => {}
            }
            return PickerOutcome::Nothing;
        }
        match action {
            Action::Choose => self
                .selected_name()
                .map_or(PickerOutcome::Nothing, PickerOutcome::Choose),
            Action::Filter => {
                self.list.filter.start();
                PickerOutcome::Nothing
            }
            Action::Refresh => {
                self.check(now_ms, true, out);
                PickerOutcome::Nothing
            }
            Action::Close => {
                if self.list.filter.text().is_empty() {
                    PickerOutcome::Close
                } else {
                    self.list.filter.clear();
                    self.rebuild();
                    self.list.filter_changed();
                    PickerOutcome::Nothing
                }
            }
            a => {
                self.list.navigate(a, rows);
                PickerOutcome::Nothing
            }
        }
    }

    /// A key no context maps: text for the filter.
    pub fn on_text_key(&mut self, key: KeyEvent) {
        if self.editing() && self.list.filter.on_text_key(key) == FilterChange::Changed {
            self.rebuild();
            self.list.filter_changed();
        }
    }

    pub fn on_paste(&mut self, text: &str) {
        if self.editing() {
            self.list.filter.paste(text);
            self.rebuild();
            self.list.filter_changed();
        }
    }

    /// The row under screen row `y` of the body area, if any.
    #[must_use]
    pub fn row_at(&self, body: Rect, y: u16) -> Option<usize> {
        let rows = rows_area(body);
        // The first line of `rows` is the column header.
        let first = rows.y + 1;
        if y < first || y >= rows.y + rows.height {
            return None;
        }
        let i = self.list.scroll.offset + usize::from(y - first);
        (i < self.list.view.len()).then_some(i)
    }

    /// Select row `i` of the view; true when it was already selected.
    pub fn select(&mut self, i: usize, rows: usize) -> bool {
        let again = self.list.scroll.selected == i;
        self.list.scroll.select(i, self.list.view.len(), rows);
        again
    }

    /// The selected cluster's name, for a double click.
    #[must_use]
    pub fn chosen(&self) -> Option<String> {
        self.selected_name()
    }
}
