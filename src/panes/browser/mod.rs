//! The live message browser: a bounded buffer of records shown newest or
//! oldest first by time, follow and pause, per-field decoders, a filter
//! applied to what is buffered and what arrives, forward search, the
//! message detail, OSC 52 copy, and JSON Lines saves that stream to the
//! file off the UI thread.
//!
//! `mod.rs` holds the state and the actions; `view` draws the list,
//! `message` the detail (its rows built by `detail`), `dialogs` the open,
//! save and search dialogs, `copy` the copy-to-another-topic dialog; `events` takes what the browse session sends;
//! `ring` is the buffer, `order` the time order, `preview` the list's decoded
//! previews.

mod actions;
pub mod copy;
pub mod detail;
mod dialogs;
mod error;
mod events;
mod message;
mod order;
mod preview;
mod ring;
mod save;
mod view;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

pub use detail::{Field, Modes};
pub use dialogs::{Dialog, OpenForm};
pub use error::FormError;
pub use message::DetailView;
pub use order::{OrderKey, TimeOrder};
pub use preview::PreviewCache;
pub use ring::Ring;

use super::Pane;
use super::list::FilterLine;
use crate::app::ctx::{Clock, Ctx, DrawCtx, IoResult};
use crate::app::keymap::{Action, KeyContext};
use crate::decode::registry::SchemaCache;
use crate::export::CancelFlag;
use crate::filter::Filter;
use crate::model::Record;
use crate::ui::widgets::{InputResult, LineInput};
use crate::worker::protocol::{BrowseSpec, Command, PartitionStart, SessionId, WorkerEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchState {
    pub want: u64,
    pub matched: u64,
    pub scanned: u64,
    pub done: bool,
}

/// A save streaming to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportState {
    pub id: u64,
    pub path: PathBuf,
    pub total: usize,
    pub written: usize,
    pub bytes: u64,
    pub cancel: CancelFlag,
}

const CONNECTING: &str = "connecting…";

#[derive(Debug, Clone)]
pub struct BrowserPane {
    pub session: Option<SessionId>,
    pub spec: Option<BrowseSpec>,
    pub starts: Vec<PartitionStart>,
    pub at_end: BTreeSet<i32>,
    pub ring: Ring,
    /// Every buffered record, in time order.
    pub order: TimeOrder,
    pub filter: Option<Filter>,
    pub filter_line: FilterLine,
    pub filter_error: Option<String>,
    /// The records matching the filter, in time order.
    pub matches: TimeOrder,
    pub scanned: u64,
    pub newest_first: bool,
    pub follow: bool,
    pub paused: bool,
    /// Selected record (sequence number).
    pub selected: Option<u64>,
    /// Rows between the top of the list and the selection.
    pub sel_row: usize,
    pub utc: bool,
    /// The isolation level every session of this browser reads at.
    pub isolation: crate::model::Isolation,
    pub modes: Modes,
    pub detail: Option<DetailView>,
    pub dialog: Option<Dialog>,
    pub search: Option<SearchState>,
    pub export: Option<ExportState>,
    pub status: Option<String>,
    pub error: Option<String>,
    pub requested_schemas: HashSet<u32>,
    pub marked: BTreeSet<u64>,
    pub received: u64,
    pub previews: PreviewCache,
    /// The pane's area at the last update (for work done without a `Ctx`).
    body: Rect,
}

impl BrowserPane {
    #[must_use]
    pub fn new(env: &crate::app::env::Env) -> Self {
        Self {
            session: None,
            spec: None,
            starts: Vec::new(),
            at_end: BTreeSet::new(),
            ring: Ring::new(env.buffer_max_messages, env.buffer_max_bytes),
            order: TimeOrder::default(),
            filter: None,
            filter_line: FilterLine::default(),
            filter_error: None,
            matches: TimeOrder::default(),
            scanned: 0,
            newest_first: true,
            follow: true,
            paused: false,
            selected: None,
            sel_row: 0,
            utc: false,
            isolation: crate::model::Isolation::default(),
            modes: Modes::default(),
            detail: None,
            dialog: None,
            search: None,
            export: None,
            status: None,
            error: None,
            requested_schemas: HashSet::new(),
            marked: BTreeSet::new(),
            received: 0,
            previews: PreviewCache::default(),
            body: Rect::default(),
        }
    }

    // ---- the view: which records, in which order ----

    /// The records the list shows, oldest first by time.
    pub(super) fn view(&self) -> &TimeOrder {
        if self.filter.is_some() {
            &self.matches
        } else {
            &self.order
        }
    }

    #[must_use]
    pub fn view_len(&self) -> usize {
        self.view().len()
    }

    /// Sequence number at a display position.
    #[must_use]
    pub fn seq_at(&self, pos: usize) -> Option<u64> {
        let len = self.view_len();
        if pos >= len {
            return None;
        }
        let idx = if self.newest_first {
            len - 1 - pos
        } else {
            pos
        };
        self.view().get(idx)
    }

    /// Display position of a buffered record (or of the nearest one shown).
    #[must_use]
    pub fn pos_of(&self, seq: u64) -> Option<usize> {
        let len = self.view_len();
        if len == 0 {
            return None;
        }
        let key = OrderKey::of(self.ring.get(seq)?, seq);
        let idx = match self.view().index_of(&key) {
            Ok(i) => i,
            Err(i) => i.min(len - 1),
        };
        Some(if self.newest_first {
            len - 1 - idx
        } else {
            idx
        })
    }

    pub(super) fn newest_pos(&self) -> usize {
        if self.newest_first {
            0
        } else {
            self.view_len().saturating_sub(1)
        }
    }

    /// The rows on screen for a list `height`: `(top, end, selected)`.
    fn window(&self, height: usize) -> (usize, usize, usize) {
        let height = height.max(1);
        let len = self.view_len();
        let sel_pos = self.selected.and_then(|s| self.pos_of(s)).unwrap_or(0);
        let top = sel_pos.saturating_sub(self.sel_row.min(height - 1));
        let top = top.min(len.saturating_sub(height));
        (top, (top + height).min(len), sel_pos)
    }

    pub(super) fn select_pos(&mut self, pos: usize, height: usize) {
        let old = self.selected.and_then(|s| self.pos_of(s));
        self.selected = self.seq_at(pos);
        if let Some(old) = old {
            self.shift_row(pos, old, height);
        }
        self.sel_row = self.sel_row.min(pos);
    }

    /// The selection moved from display position `old` to `new`: move its
    /// row on screen by as much, within the list.
    fn shift_row(&mut self, new: usize, old: usize, height: usize) {
        let delta = isize::try_from(new).unwrap_or(0) - isize::try_from(old).unwrap_or(0);
        let row = isize::try_from(self.sel_row).unwrap_or(0) + delta;
        let last = isize::try_from(height.saturating_sub(1)).unwrap_or(0);
        self.sel_row = usize::try_from(row.clamp(0, last)).unwrap_or(0);
    }

    pub(super) fn snap_to_newest(&mut self, height: usize) {
        let p = self.newest_pos();
        self.selected = self.seq_at(p);
        self.sel_row = if self.newest_first {
            0
        } else {
            p.min(height.saturating_sub(1))
        };
    }

    #[must_use]
    pub fn selected_record(&self) -> Option<&Record> {
        self.selected.and_then(|s| self.ring.get(s))
    }

    /// Make the previews of the rows on screen (drawing only reads them).
    fn refresh_previews(&mut self, schemas: &SchemaCache) {
        if self.spec.is_none() || self.detail.is_some() {
            return;
        }
        let area = self.body;
        let spec = view::preview_spec(self, area);
        let (top, end, _) = self.window(view::list_rows(area));
        let seqs: Vec<u64> = (top..end).filter_map(|p| self.seq_at(p)).collect();
        let ring = &self.ring;
        self.previews.fill(
            spec,
            seqs.iter().filter_map(|s| ring.get(*s).map(|r| (*s, r))),
            schemas,
        );
    }

    // ---- sessions ----

    /// Open a topic at a position (stops the current session).
    pub fn open(&mut self, mut spec: BrowseSpec, ctx: &mut Ctx<'_>) {
        self.body = ctx.body;
        spec.isolation = self.isolation;
        if let Some(old) = self.session.take() {
            ctx.cmds.push(Command::StopBrowse { session: old });
        }
        let session = ctx.id();
        self.session = Some(session);
        self.ring.clear();
        self.order.clear();
        self.matches.clear();
        self.previews.clear();
        self.marked.clear();
        self.scanned = 0;
        self.received = 0;
        self.selected = None;
        self.sel_row = 0;
        self.detail = None;
        self.search = None;
        self.starts.clear();
        self.at_end.clear();
        self.status = Some(CONNECTING.into());
        self.error = None;
        self.paused = false;
        self.follow = true;
        self.spec = Some(spec.clone());
        ctx.cmds.push(Command::StartBrowse { session, spec });
    }

    /// Switch read_uncommitted / read_committed, reopening the session at
    /// the offsets where it started, so the same range is read again at the
    /// new level.
    pub fn toggle_isolation(&mut self, ctx: &mut Ctx<'_>) {
        self.isolation = self.isolation.toggled();
        let what = match self.isolation {
            crate::model::Isolation::ReadCommitted => {
                "read_committed: committed records only, up to the last stable offset"
            }
            crate::model::Isolation::ReadUncommitted => {
                "read_uncommitted: every record, open and aborted transactions' too"
            }
        };
        let Some(mut spec) = self.spec.clone() else {
            ctx.info(format!("browsing at {what}"));
            return;
        };
        if !self.starts.is_empty() {
            spec.positions = self.starts.iter().map(|s| (s.partition, s.start)).collect();
        }
        self.open(spec, ctx);
        ctx.info(format!("reopened at the same positions, {what}"));
    }

    /// A schema arrived: previews and the open detail may now decode further.
    pub fn schemas_changed(&mut self, schemas: &SchemaCache) {
        self.previews.invalidate();
        self.refresh_previews(schemas);
        self.rebuild_detail(schemas, self.body);
    }

    // ---- the filter ----

    pub(super) fn apply_filter(&mut self, src: &str, ctx: &mut Ctx<'_>) {
        if src.trim().is_empty() {
            self.filter = None;
            self.filter_error = None;
            self.matches.clear();
            return;
        }
        match Filter::parse(src, ctx.now_ms) {
            Ok(f) => {
                let ring = &self.ring;
                let keys = self
                    .order
                    .seqs()
                    .filter_map(|s| ring.get(s).map(|r| (s, r)))
                    .filter(|(_, r)| f.matches_record(r))
                    .map(|(s, r)| OrderKey::of(r, s))
                    .collect();
                self.matches = TimeOrder::from_keys(keys);
                self.scanned = self.ring.records.len() as u64;
                self.filter = Some(f);
                self.filter_error = None;
                self.snap_to_newest(view::list_rows(ctx.body));
            }
            Err(e) => self.filter_error = Some(format!("{e:#}")),
        }
    }

    fn filter_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        match action {
            Action::Submit => {
                let src = self.filter_line.input.text.clone();
                self.apply_filter(&src, ctx);
                if self.filter_error.is_none() {
                    self.filter_line.editing = false;
                }
            }
            Action::Cancel => {
                // Back to the filter in force.
                self.filter_line.editing = false;
                self.filter_error = None;
                let applied = self.filter.as_ref().map_or("", Filter::source);
                self.filter_line.input = LineInput::with(applied);
            }
            _ => {}
        }
    }

    fn title(&self) -> String {
        match &self.spec {
            None => " Browser ".into(),
            Some(s) => {
                let parts = s
                    .partitions
                    .as_ref()
                    .map_or("all partitions".to_string(), |p| {
                        format!(
                            "partition {}",
                            p.iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    });
                format!(
                    " {} · {parts} · from {} · {} ",
                    crate::sanitize::escape(&s.topic),
                    s.start.describe(self.utc),
                    self.isolation.as_str()
                )
            }
        }
    }
}

impl Pane for BrowserPane {
    fn click_row(&mut self, y: u16, area: Rect) -> Option<bool> {
        if self.detail.is_some() || self.dialog.is_some() || self.filter_line.editing {
            return None;
        }
        let table = view::list_table(area);
        let first = table.y + 1;
        if y < first || y >= table.y + table.height {
            return None;
        }
        let height = view::list_rows(area);
        let (top, end, sel_pos) = self.window(height);
        let pos = top + usize::from(y - first);
        if pos >= end {
            return None;
        }
        self.select_pos(pos, height);
        if pos != self.newest_pos() {
            self.follow = false;
        }
        Some(pos == sel_pos)
    }

    fn key_contexts(&self) -> Vec<KeyContext> {
        if self.dialog.is_some() || self.filter_line.editing {
            vec![KeyContext::Form]
        } else if self.detail.is_some() {
            vec![KeyContext::Message, KeyContext::Navigation]
        } else {
            vec![KeyContext::Browser, KeyContext::Navigation]
        }
    }

    fn captures_text(&self) -> bool {
        self.filter_line.editing || self.dialog.is_some()
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        self.body = ctx.body;
        if self.dialog.is_some() {
            self.dialog_action(action, ctx);
        } else if self.filter_line.editing {
            self.filter_action(action, ctx);
        } else if self.detail.is_some() {
            self.detail_action(action, ctx);
        } else {
            self.list_action(action, ctx);
        }
        self.refresh_previews(ctx.schemas);
    }

    fn on_text_key(&mut self, key: KeyEvent, _ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_text_key(key);
        } else if self.filter_line.editing
            && self.filter_line.input.edit(key) == InputResult::Changed
        {
            self.filter_error = None;
        }
    }

    fn on_paste(&mut self, text: &str, _ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_paste(text);
        } else if self.filter_line.editing {
            self.filter_line.paste(text);
            self.filter_error = None;
        }
    }

    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        self.body = ctx.body;
        match ev {
            WorkerEvent::Browse { session, event } => {
                self.on_browse(session, event, ctx);
                self.refresh_previews(ctx.schemas);
            }
            WorkerEvent::CopyProgress { id, progress } => {
                if let Some(Dialog::Copy(c)) = &mut self.dialog {
                    c.on_progress(id, progress);
                }
            }
            WorkerEvent::Copied { id, result } => {
                if let Some(Dialog::Copy(c)) = &mut self.dialog {
                    c.on_copied(id, result, ctx.env.production);
                }
            }
            _ => {}
        }
    }

    fn refused(&mut self, id: crate::worker::protocol::ReqId, reason: &str) {
        if let Some(Dialog::Copy(c)) = &mut self.dialog {
            c.refused(id, reason);
        }
    }

    fn on_io(&mut self, result: IoResult, ctx: &mut Ctx<'_>) {
        if let IoResult::Export(ev) = result {
            self.on_export(ev, ctx);
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>, _visible: bool) {
        // The terminal may have been resized since the last update.
        self.body = ctx.body;
        if self.detail_needs_rewrap(ctx.body) {
            self.rebuild_detail(ctx.schemas, ctx.body);
            ctx.redraw = true;
        }
        self.refresh_previews(ctx.schemas);
    }

    /// A spinner while a search, a save or a copy runs; nothing else on
    /// the browser's screens ages.
    fn clock(&self) -> Clock {
        let copying = matches!(
            &self.dialog,
            Some(Dialog::Copy(c)) if matches!(c.stage, copy::Stage::Counting(_) | copy::Stage::Running { .. })
        );
        if copying || self.export.is_some() || self.search.is_some_and(|s| !s.done) {
            Clock::Spinner
        } else {
            Clock::Still
        }
    }

    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        if let Some(d) = &self.detail {
            message::draw(d, f, area, dc);
        } else {
            view::draw(self, f, area, dc);
        }
        if let Some(dialog) = &self.dialog {
            dialogs::draw(self, dialog, f, area, dc);
        }
    }
}
