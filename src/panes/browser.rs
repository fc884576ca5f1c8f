//! The live message browser: a bounded ring buffer of records, follow and
//! pause, newest-first or oldest-first, per-field decoders, a filter applied
//! to what is buffered and what arrives, forward search, the detail view,
//! OSC 52 copy and JSON Lines export.

use std::collections::{BTreeSet, HashSet, VecDeque};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::detail::{self, DLine, Field, Modes};
use crate::app::{Ctx, DrawCtx, Effect, Nav};
use crate::decode;
use crate::decode::registry::SchemaCache;
use crate::filter::Filter;
use crate::model::Record;
use crate::timeutil::{self, StartAt};
use crate::ui::widgets::{self, InputResult, LineInput};
use crate::worker::protocol::{BrowseEvent, BrowseSpec, Command, PartitionStart, SessionId};

/// A ring buffer capped in messages and bytes. Records are numbered by an
/// absolute sequence number that survives eviction.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    pub records: VecDeque<Record>,
    /// Sequence number of `records[0]`.
    pub base: u64,
    pub bytes: usize,
    pub max_messages: usize,
    pub max_bytes: usize,
    pub evicted: u64,
}

impl Ring {
    #[must_use]
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            max_messages: max_messages.max(1),
            max_bytes: max_bytes.max(1),
            ..Default::default()
        }
    }

    /// Sequence number the next record will get.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base + self.records.len() as u64
    }

    #[must_use]
    pub fn get(&self, seq: u64) -> Option<&Record> {
        seq.checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.records.get(i))
    }

    /// Add a record, evicting the oldest ones past the caps.
    pub fn push(&mut self, r: Record) {
        self.bytes += r.footprint();
        self.records.push_back(r);
        while self.records.len() > self.max_messages
            || (self.bytes > self.max_bytes && self.records.len() > 1)
        {
            if let Some(old) = self.records.pop_front() {
                self.bytes = self.bytes.saturating_sub(old.footprint());
                self.base += 1;
                self.evicted += 1;
            }
        }
    }

    pub fn clear(&mut self) {
        self.base = self.end();
        self.records.clear();
        self.bytes = 0;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetailView {
    pub seq: u64,
    pub record: Record,
    pub lines: Vec<DLine>,
    pub scroll: usize,
    pub focus: Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenForm {
    pub fields: [LineInput; 3],
    pub focus: usize,
    pub error: Option<String>,
}

const OPEN_LABELS: [&str; 3] = [
    "topic",
    "partitions (blank = all, or 0,2)",
    "from (beginning, end, offset, @time, -15m, -N)",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Open(OpenForm),
    Export(LineInput),
    Search(LineInput),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchState {
    pub want: u64,
    pub matched: u64,
    pub scanned: u64,
    pub done: bool,
}

const CONNECTING: &str = "connecting…";

#[derive(Debug, Clone, Default)]
pub struct BrowserPane {
    pub session: Option<SessionId>,
    pub spec: Option<BrowseSpec>,
    pub starts: Vec<PartitionStart>,
    pub at_end: BTreeSet<i32>,
    pub ring: Ring,
    pub filter: Option<Filter>,
    pub filter_input: LineInput,
    pub filter_editing: bool,
    pub filter_error: Option<String>,
    /// Sequence numbers of matching records (ascending), when filtering.
    pub matches: VecDeque<u64>,
    pub scanned: u64,
    pub newest_first: bool,
    pub follow: bool,
    pub paused: bool,
    /// Selected record (sequence number).
    pub selected: Option<u64>,
    /// Rows between the top of the list and the selection.
    pub sel_row: usize,
    pub utc: bool,
    pub modes: Modes,
    pub detail: Option<DetailView>,
    pub dialog: Option<Dialog>,
    pub search: Option<SearchState>,
    pub status: Option<String>,
    pub error: Option<String>,
    pub requested_schemas: HashSet<u32>,
    pub marked: BTreeSet<u64>,
    pub received: u64,
    initialized: bool,
}

pub const HELP: &[(&str, &str)] = &[
    ("↑↓ / j k", "move; PgUp PgDn, g: page, oldest/top"),
    ("G / End", "jump to the newest message and follow"),
    ("Enter", "message detail"),
    (
        "o",
        "open a topic / seek: beginning, end, offset, @time, -15m, last N",
    ),
    ("f", "live follow on/off"),
    ("Space", "pause / resume consuming"),
    ("r", "newest-first / oldest-first"),
    ("t", "local time / UTC"),
    (
        "/",
        "filter: key ~ \"x\", value.user.id == \"u42\", value.amount > 100, header.h, partition == 1, /re/",
    ),
    (
        "n",
        "search forward until N matches of the filter (Esc cancels)",
    ),
    (
        "d / D",
        "cycle the value / key decoder (auto, text, json, hex, base64, protobuf, registry)",
    ),
    ("m", "mark or unmark the message for export"),
    (
        "w",
        "save marked, filtered or all buffered messages as JSON Lines",
    ),
    ("y / Y / K", "copy value / whole message / key (OSC 52)"),
    ("e", "edit and resend in the producer"),
    ("Esc", "clear the filter / cancel a search"),
];

pub const DETAIL_HELP: &[(&str, &str)] = &[
    ("↑↓ / j k", "scroll; PgUp PgDn, g G"),
    ("Tab", "move the decoder focus: key, value, each header"),
    ("d", "cycle the focused field's decoder"),
    ("t", "local time / UTC"),
    ("y / Y / K", "copy value / whole message / key (OSC 52)"),
    ("w", "save this message as JSON Lines"),
    ("e", "edit and resend in the producer"),
    ("Esc / q", "back to the list"),
];

impl BrowserPane {
    #[must_use]
    pub fn new(env: &crate::app::Env) -> Self {
        Self {
            ring: Ring::new(env.buffer_max_messages, env.buffer_max_bytes),
            newest_first: true,
            follow: true,
            initialized: true,
            ..Self::default()
        }
    }

    fn init(&mut self, ctx: &Ctx<'_>) {
        if !self.initialized {
            self.initialized = true;
            self.ring = Ring::new(ctx.env.buffer_max_messages, ctx.env.buffer_max_bytes);
            self.newest_first = true;
            self.follow = true;
        }
    }

    #[must_use]
    pub fn captures_keys(&self) -> bool {
        self.filter_editing || self.dialog.is_some()
    }

    #[must_use]
    pub fn help(&self) -> &'static [(&'static str, &'static str)] {
        if self.detail.is_some() {
            DETAIL_HELP
        } else {
            HELP
        }
    }

    fn list_height(ctx: &Ctx<'_>) -> usize {
        ctx.body_height().saturating_sub(5).max(1)
    }

    // ---- the view: which records, in which order ----

    #[must_use]
    pub fn view_len(&self) -> usize {
        if self.filter.is_some() {
            self.matches.len()
        } else {
            self.ring.records.len()
        }
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
        if self.filter.is_some() {
            self.matches.get(idx).copied()
        } else {
            Some(self.ring.base + idx as u64)
        }
    }

    /// Display position of a sequence number (or of the nearest one still shown).
    #[must_use]
    pub fn pos_of(&self, seq: u64) -> Option<usize> {
        let len = self.view_len();
        if len == 0 {
            return None;
        }
        let idx = if self.filter.is_some() {
            match self.matches.binary_search(&seq) {
                Ok(i) => i,
                Err(i) => i.min(len - 1),
            }
        } else {
            usize::try_from(seq.saturating_sub(self.ring.base))
                .unwrap_or(usize::MAX)
                .min(len - 1)
        };
        Some(if self.newest_first {
            len - 1 - idx
        } else {
            idx
        })
    }

    fn newest_pos(&self) -> usize {
        if self.newest_first {
            0
        } else {
            self.view_len().saturating_sub(1)
        }
    }

    fn select_pos(&mut self, pos: usize, height: usize) {
        let old = self.selected.and_then(|s| self.pos_of(s));
        self.selected = self.seq_at(pos);
        if let Some(old) = old {
            let delta = isize::try_from(pos).unwrap_or(0) - isize::try_from(old).unwrap_or(0);
            let row = isize::try_from(self.sel_row).unwrap_or(0) + delta;
            self.sel_row = usize::try_from(
                row.clamp(0, isize::try_from(height.saturating_sub(1)).unwrap_or(0)),
            )
            .unwrap_or(0);
        }
        self.sel_row = self.sel_row.min(pos);
    }

    fn snap_to_newest(&mut self, height: usize) {
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

    // ---- sessions ----

    /// Open a topic at a position (stops the current session).
    pub fn open(&mut self, spec: BrowseSpec, ctx: &mut Ctx<'_>) {
        self.init(ctx);
        if let Some(old) = self.session.take() {
            ctx.cmds.push(Command::StopBrowse { session: old });
        }
        let session = ctx.id();
        self.session = Some(session);
        self.ring.clear();
        self.matches.clear();
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

    /// A schema arrived: the open detail view may now decode further.
    pub fn schemas_changed(&mut self, schemas: &SchemaCache) {
        self.rebuild_detail(schemas);
    }

    pub fn tick_legacy(&mut self, ctx: &mut Ctx<'_>) {
        self.init(ctx);
    }

    fn request_schemas(&mut self, r: &Record, ctx: &mut Ctx<'_>, schemas: &SchemaCache) {
        if !ctx.env.registry_configured {
            return;
        }
        for b in [r.key.as_deref(), r.value.as_deref()].into_iter().flatten() {
            if let Some(id) = decode::registry_header(b) {
                if !schemas.entries.contains_key(&id) && self.requested_schemas.insert(id) {
                    ctx.cmds.push(Command::FetchSchema { schema_id: id });
                }
            }
        }
    }

    pub fn on_browse(
        &mut self,
        session: SessionId,
        ev: BrowseEvent,
        ctx: &mut Ctx<'_>,
        schemas: &SchemaCache,
    ) {
        if self.session != Some(session) {
            return; // a stale session's leftovers
        }
        let h = Self::list_height(ctx);
        match ev {
            BrowseEvent::Started { partitions } => {
                self.starts = partitions;
                self.status = None;
            }
            BrowseEvent::Records(batch) => {
                if self.status.as_deref() == Some(CONNECTING) {
                    self.status = None;
                }
                let before_len = self.view_len();
                for r in batch {
                    self.at_end.remove(&r.partition);
                    self.request_schemas(&r, ctx, schemas);
                    let seq = self.ring.end();
                    if let Some(f) = &self.filter {
                        self.scanned += 1;
                        if f.matches_record(&r) {
                            self.matches.push_back(seq);
                        }
                    }
                    self.received += 1;
                    self.ring.push(r);
                }
                // Forget what was evicted.
                while self.matches.front().is_some_and(|s| *s < self.ring.base) {
                    self.matches.pop_front();
                }
                self.marked = self.marked.split_off(&self.ring.base);
                if self.follow {
                    self.snap_to_newest(h);
                } else if let Some(sel) = self.selected {
                    if sel < self.ring.base {
                        self.selected = Some(self.ring.base);
                    }
                    // In newest-first order new rows push the selection down.
                    if self.newest_first {
                        let added = self.view_len().saturating_sub(before_len);
                        self.sel_row = (self.sel_row + added).min(h.saturating_sub(1));
                    }
                } else if self.view_len() > 0 {
                    self.snap_to_newest(h);
                }
            }
            BrowseEvent::AtEnd { partition, .. } => {
                self.at_end.insert(partition);
            }
            BrowseEvent::SearchProgress {
                scanned,
                matched,
                done,
            } => {
                if let Some(s) = &mut self.search {
                    s.scanned = scanned;
                    s.matched = matched;
                    s.done = done;
                    if done {
                        self.paused = true;
                        ctx.info(format!(
                            "search: {matched} match(es) in {scanned} scanned; paused"
                        ));
                    }
                }
            }
            BrowseEvent::Status(s) => self.status = (!s.is_empty()).then_some(s),
            BrowseEvent::Recovered(s) => {
                self.status = None;
                ctx.info(s);
            }
            BrowseEvent::Failed(e) => {
                self.error = Some(e.clone());
                self.session = None;
                ctx.error(format!("browser: {e}"));
            }
        }
    }

    fn apply_filter(&mut self, src: &str, ctx: &mut Ctx<'_>) {
        if src.trim().is_empty() {
            self.filter = None;
            self.filter_error = None;
            self.matches.clear();
            return;
        }
        match Filter::parse(src, ctx.now_ms) {
            Ok(f) => {
                self.matches = self
                    .ring
                    .records
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| f.matches_record(r))
                    .map(|(i, _)| self.ring.base + i as u64)
                    .collect();
                self.scanned = self.ring.records.len() as u64;
                self.filter = Some(f);
                self.filter_error = None;
                let h = Self::list_height(ctx);
                self.snap_to_newest(h);
            }
            Err(e) => self.filter_error = Some(format!("{e:#}")),
        }
    }

    pub fn paste_legacy(&mut self, s: &str) {
        if self.filter_editing {
            self.filter_input.insert_str(s);
        } else if let Some(d) = &mut self.dialog {
            match d {
                Dialog::Open(f) => f.fields[f.focus].insert_str(s),
                Dialog::Export(i) | Dialog::Search(i) => i.insert_str(s),
            }
        }
    }

    fn export_path(&self, ctx: &Ctx<'_>) -> String {
        let topic = self.spec.as_ref().map_or("messages", |s| s.topic.as_str());
        let safe: String = topic
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        ctx.env
            .data_dir
            .join(format!("export-{safe}-{}.jsonl", ctx.now_ms))
            .display()
            .to_string()
    }

    /// The records an export writes: marked, else filtered, else all.
    #[must_use]
    pub fn export_set(&self) -> Vec<&Record> {
        if !self.marked.is_empty() {
            self.marked
                .iter()
                .filter_map(|s| self.ring.get(*s))
                .collect()
        } else if self.filter.is_some() {
            self.matches
                .iter()
                .filter_map(|s| self.ring.get(*s))
                .collect()
        } else {
            self.ring.records.iter().collect()
        }
    }

    fn copy(&self, what: char, ctx: &mut Ctx<'_>) {
        let r = match &self.detail {
            Some(d) => Some(&d.record),
            None => self.selected_record(),
        };
        let Some(r) = r else {
            ctx.warn("no message selected");
            return;
        };
        let text = match what {
            'v' => r
                .value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            'k' => r
                .key
                .as_ref()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            _ => {
                let mut s = String::new();
                crate::jsonl::write_owned(&mut s, r);
                Some(s.trim_end().to_string())
            }
        };
        match text {
            Some(t) => {
                let n = t.len();
                ctx.effects.push(Effect::Osc52(t));
                ctx.info(format!("copied {n} bytes to the clipboard (OSC 52)"));
            }
            None => ctx.warn("nothing to copy: the field is null"),
        }
    }

    fn open_detail(&mut self, schemas: &SchemaCache) {
        if let (Some(seq), Some(r)) = (self.selected, self.selected_record()) {
            let record = r.clone();
            let lines = detail::build(&record, &self.modes, schemas, self.utc, Field::Value);
            self.detail = Some(DetailView {
                seq,
                record,
                lines,
                scroll: 0,
                focus: Field::Value,
            });
        }
    }

    fn rebuild_detail(&mut self, schemas: &SchemaCache) {
        if let Some(d) = &mut self.detail {
            d.lines = detail::build(&d.record, &self.modes, schemas, self.utc, d.focus);
        }
    }

    fn resend(&self, ctx: &mut Ctx<'_>) {
        let r = match &self.detail {
            Some(d) => Some(&d.record),
            None => self.selected_record(),
        };
        if let Some(r) = r {
            ctx.nav = Some(Nav::Compose(Box::new(crate::app::Prefill::from_record(r))));
        }
    }

    pub fn on_key_legacy(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>, schemas: &SchemaCache) {
        self.init(ctx);
        if self.dialog.is_some() {
            self.dialog_key(key, ctx);
            return;
        }
        if self.filter_editing {
            match self.filter_input.handle(key) {
                InputResult::Submit => {
                    let src = self.filter_input.text.clone();
                    self.apply_filter(&src, ctx);
                    if self.filter_error.is_none() {
                        self.filter_editing = false;
                    }
                }
                InputResult::Cancel => {
                    self.filter_editing = false;
                    self.filter_error = None;
                }
                InputResult::Changed => self.filter_error = None,
                _ => {}
            }
            return;
        }
        if self.detail.is_some() {
            self.detail_key(key, ctx, schemas);
            return;
        }
        let h = Self::list_height(ctx);
        let len = self.view_len();
        let cur = self.selected.and_then(|s| self.pos_of(s)).unwrap_or(0);
        let page = isize::try_from(h).unwrap_or(1);
        let delta: Option<isize> = match key.code {
            KeyCode::Down | KeyCode::Char('j') => Some(1),
            KeyCode::Up | KeyCode::Char('k') => Some(-1),
            KeyCode::PageDown => Some(page),
            KeyCode::PageUp => Some(-page),
            KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(page / 2),
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(-page / 2),
            KeyCode::Home | KeyCode::Char('g') => Some(isize::MIN / 2),
            _ => None,
        };
        if let Some(d) = delta {
            if len > 0 {
                let target = (isize::try_from(cur).unwrap_or(0) + d)
                    .clamp(0, isize::try_from(len - 1).unwrap_or(0));
                let target = usize::try_from(target).unwrap_or(0);
                self.select_pos(target, h);
                self.follow = target == self.newest_pos() && self.follow;
                if target != self.newest_pos() {
                    self.follow = false;
                }
            }
            return;
        }
        match key.code {
            KeyCode::End | KeyCode::Char('G') => {
                self.follow = true;
                self.snap_to_newest(h);
            }
            KeyCode::Enter => self.open_detail(schemas),
            KeyCode::Char('/') => {
                self.filter_editing = true;
                if self.filter.is_none() {
                    self.filter_input = LineInput::default();
                }
            }
            KeyCode::Esc => {
                if self.search.is_some_and(|s| !s.done) {
                    if let Some(session) = self.session {
                        ctx.cmds.push(Command::CancelSearch { session });
                    }
                } else if self.filter.is_some() {
                    self.apply_filter("", ctx);
                    self.filter_input = LineInput::default();
                    self.snap_to_newest(h);
                }
            }
            KeyCode::Char('f') => {
                self.follow = !self.follow;
                if self.follow {
                    self.snap_to_newest(h);
                }
            }
            KeyCode::Char(' ' | 'p') => {
                if let Some(session) = self.session {
                    self.paused = !self.paused;
                    ctx.cmds.push(Command::PauseBrowse {
                        session,
                        paused: self.paused,
                    });
                }
            }
            KeyCode::Char('r') => {
                let sel = self.selected;
                self.newest_first = !self.newest_first;
                self.sel_row = 0;
                self.selected = sel;
                if let Some(p) = sel.and_then(|s| self.pos_of(s)) {
                    self.sel_row = p.min(h / 2);
                }
            }
            KeyCode::Char('t') => self.utc = !self.utc,
            KeyCode::Char('d') => self.modes.value = self.modes.value.next(),
            KeyCode::Char('D') => self.modes.key = self.modes.key.next(),
            KeyCode::Char('m') => {
                if let Some(s) = self.selected {
                    if !self.marked.remove(&s) {
                        self.marked.insert(s);
                    }
                    self.select_pos(
                        (self.pos_of(s).unwrap_or(0) + 1).min(len.saturating_sub(1)),
                        h,
                    );
                }
            }
            KeyCode::Char('o') => {
                let topic = self
                    .spec
                    .as_ref()
                    .map_or(String::new(), |s| s.topic.clone());
                let parts = self
                    .spec
                    .as_ref()
                    .and_then(|s| s.partitions.clone())
                    .map_or(String::new(), |p| {
                        p.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    });
                self.dialog = Some(Dialog::Open(OpenForm {
                    fields: [
                        LineInput::with(&topic),
                        LineInput::with(&parts),
                        LineInput::with("end"),
                    ],
                    focus: if topic.is_empty() { 0 } else { 2 },
                    error: None,
                }));
            }
            KeyCode::Char('w') => {
                if self.ring.records.is_empty() {
                    ctx.warn("nothing to save: the buffer is empty");
                } else {
                    self.dialog = Some(Dialog::Export(LineInput::with(&self.export_path(ctx))));
                }
            }
            KeyCode::Char('n') => {
                if self.filter.is_none() {
                    ctx.warn("set a filter first (/), then search forward with n");
                } else if self.session.is_none() {
                    ctx.warn("no topic open");
                } else {
                    self.dialog = Some(Dialog::Search(LineInput::with("10")));
                }
            }
            KeyCode::Char('y') => self.copy('v', ctx),
            KeyCode::Char('Y') => self.copy('m', ctx),
            KeyCode::Char('K') => self.copy('k', ctx),
            KeyCode::Char('e') => self.resend(ctx),
            _ => {}
        }
    }

    fn detail_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>, schemas: &SchemaCache) {
        let h = ctx.body_height().saturating_sub(2).max(1);
        let Some(d) = &mut self.detail else { return };
        let max = d.lines.len().saturating_sub(1);
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => d.scroll = (d.scroll + 1).min(max),
            KeyCode::Up | KeyCode::Char('k') => d.scroll = d.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => d.scroll = (d.scroll + h).min(max),
            KeyCode::PageUp => d.scroll = d.scroll.saturating_sub(h),
            KeyCode::Home | KeyCode::Char('g') => d.scroll = 0,
            KeyCode::End | KeyCode::Char('G') => d.scroll = max.saturating_sub(h / 2),
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Backspace => self.detail = None,
            KeyCode::Tab => {
                let n = d.record.headers.len();
                d.focus = match d.focus {
                    Field::Value => Field::Key,
                    Field::Key if n > 0 => Field::Header(0),
                    Field::Header(i) if i + 1 < n => Field::Header(i + 1),
                    _ => Field::Value,
                };
                self.rebuild_detail(schemas);
            }
            KeyCode::Char('d') => {
                match d.focus {
                    Field::Key => self.modes.key = self.modes.key.next(),
                    Field::Value => self.modes.value = self.modes.value.next(),
                    Field::Header(i) => {
                        if let Some(h) = d.record.headers.get(i) {
                            let m = self.modes.header(&h.name).next();
                            self.modes.headers.insert(h.name.clone(), m);
                        }
                    }
                }
                self.rebuild_detail(schemas);
            }
            KeyCode::Char('t') => {
                self.utc = !self.utc;
                self.rebuild_detail(schemas);
            }
            KeyCode::Char('y') => self.copy('v', ctx),
            KeyCode::Char('Y') => self.copy('m', ctx),
            KeyCode::Char('K') => self.copy('k', ctx),
            KeyCode::Char('e') => self.resend(ctx),
            KeyCode::Char('w') => {
                let mut s = String::new();
                crate::jsonl::write_owned(&mut s, &d.record);
                let path = ctx.env.data_dir.join(format!(
                    "message-{}-{}-{}.jsonl",
                    d.record.partition, d.record.offset, ctx.now_ms
                ));
                ctx.effects.push(Effect::WriteFile {
                    path,
                    contents: s,
                    what: "save message".into(),
                });
            }
            _ => {}
        }
    }

    fn dialog_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        match dialog {
            Dialog::Open(form) => match key.code {
                KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 3,
                KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
                _ => match form.fields[form.focus].handle(key) {
                    InputResult::Cancel => self.dialog = None,
                    InputResult::Submit => match parse_open(form, ctx.now_ms) {
                        Ok(spec) => {
                            self.dialog = None;
                            self.open(spec, ctx);
                        }
                        Err(e) => form.error = Some(e),
                    },
                    InputResult::Changed => form.error = None,
                    _ => {}
                },
            },
            Dialog::Export(input) => match input.handle(key) {
                InputResult::Cancel => self.dialog = None,
                InputResult::Submit => {
                    let path = std::path::PathBuf::from(input.text.trim());
                    self.dialog = None;
                    let set = self.export_set();
                    let mut contents = String::new();
                    for r in &set {
                        crate::jsonl::write_owned(&mut contents, r);
                    }
                    ctx.effects.push(Effect::WriteFile {
                        path,
                        contents,
                        what: format!("export of {} message(s)", set.len()),
                    });
                }
                _ => {}
            },
            Dialog::Search(input) => match input.handle(key) {
                InputResult::Cancel => self.dialog = None,
                InputResult::Submit => match input.text.trim().parse::<u64>() {
                    Ok(want) if want > 0 => {
                        self.dialog = None;
                        if let (Some(session), Some(f)) = (self.session, &self.filter) {
                            self.search = Some(SearchState {
                                want,
                                matched: 0,
                                scanned: 0,
                                done: false,
                            });
                            self.paused = false;
                            self.follow = true;
                            ctx.cmds.push(Command::SearchBrowse {
                                session,
                                filter: f.source().to_string(),
                                want,
                            });
                        }
                    }
                    _ => ctx.warn("enter how many matches to find (a positive number)"),
                },
                _ => {}
            },
        }
    }

    // ---- drawing ----

    pub fn draw_legacy(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        if let Some(d) = &self.detail {
            self.draw_detail(d, f, area, dc);
        } else {
            self.draw_list(f, area, dc);
        }
        if let Some(dialog) = &self.dialog {
            draw_dialog(dialog, f, area, dc);
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
                    " {} · {parts} · from {} ",
                    crate::sanitize::escape(&s.topic),
                    s.start.describe(self.utc)
                )
            }
        }
    }

    fn state_spans(&self, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
        let t = dc.theme;
        let mut v = Vec::new();
        let state = if self.session.is_none() {
            Span::styled("stopped", t.muted)
        } else if self.paused {
            Span::styled("⏸ paused", t.warn)
        } else if self.follow {
            Span::styled("● following", t.ok)
        } else {
            Span::styled("○ not following", t.muted)
        };
        v.push(state);
        v.push(Span::styled(
            format!(
                "  {} buffered{}  {}  {}",
                widgets::thousands(i64::try_from(self.ring.records.len()).unwrap_or(0)),
                if self.ring.evicted > 0 {
                    format!(
                        " ({} dropped by the cap)",
                        widgets::thousands(i64::try_from(self.ring.evicted).unwrap_or(0))
                    )
                } else {
                    String::new()
                },
                if self.newest_first {
                    "newest first"
                } else {
                    "oldest first"
                },
                if self.utc { "UTC" } else { "local" },
            ),
            t.muted,
        ));
        if !self.starts.is_empty() && self.at_end.len() == self.starts.len() {
            v.push(Span::styled("  at end", t.muted));
        }
        if !self.marked.is_empty() {
            v.push(Span::styled(
                format!("  {} marked", self.marked.len()),
                t.accent,
            ));
        }
        v.push(Span::styled(
            format!(
                "  key:{} value:{}",
                self.modes.key.label(),
                self.modes.value.label()
            ),
            t.muted,
        ));
        v
    }

    fn draw_list(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(self.title(), t.title));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [state, filter, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(Line::from(self.state_spans(dc))), state);
        // Filter / search / status line.
        let mut spans: Vec<Span<'static>> = Vec::new();
        if self.filter_editing || self.filter.is_some() {
            spans.push(Span::styled("filter ", t.key_hint));
            spans.extend(self.filter_input.spans(t, self.filter_editing));
            if self.filter.is_some() {
                spans.push(Span::styled(
                    format!(
                        "  {} matched / {} scanned",
                        widgets::thousands(i64::try_from(self.matches.len()).unwrap_or(0)),
                        widgets::thousands(i64::try_from(self.scanned).unwrap_or(0))
                    ),
                    t.accent,
                ));
            }
        }
        if let Some(e) = &self.filter_error {
            spans.push(Span::raw("  "));
            spans.push(widgets::text(e, t.error));
        }
        if let Some(s) = &self.search {
            spans.push(Span::styled(
                format!(
                    "  {} search {}/{} found, {} scanned{}",
                    if s.done {
                        "✓".to_string()
                    } else {
                        dc.spinner().to_string()
                    },
                    s.matched,
                    s.want,
                    widgets::thousands(i64::try_from(s.scanned).unwrap_or(0)),
                    if s.done { "" } else { " (Esc cancels)" }
                ),
                t.accent,
            ));
        }
        if let Some(s) = &self.status {
            spans.push(Span::raw("  "));
            spans.push(widgets::text(s, t.warn));
        }
        if let Some(e) = &self.error {
            spans.push(Span::raw("  "));
            spans.push(widgets::text(e, t.error));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), filter);

        if self.spec.is_none() {
            let lines = vec![
                Line::from(Span::styled("No topic open.", t.muted)),
                Line::from(vec![
                    Span::styled("Press ", t.muted),
                    Span::styled("o", t.key_hint),
                    Span::styled(
                        " to open one, or pick a topic in pane 1 and press ",
                        t.muted,
                    ),
                    Span::styled("b", t.key_hint),
                    Span::styled(".", t.muted),
                ]),
            ];
            f.render_widget(Paragraph::new(lines), body);
            return;
        }
        let height = usize::from(body.height.saturating_sub(1)).max(1);
        let len = self.view_len();
        let sel_pos = self.selected.and_then(|s| self.pos_of(s)).unwrap_or(0);
        let top = sel_pos.saturating_sub(self.sel_row.min(height - 1));
        let top = top.min(len.saturating_sub(height));
        let wide = body.width >= 120;
        let ts_w: u16 = if wide { 25 } else { 12 };
        let fixed = 3 + 10 + ts_w + 3 + 7 + 6;
        let free = body.width.saturating_sub(fixed);
        let key_w = (free / 4).clamp(6, 30);
        let val_w = free.saturating_sub(key_w + 1).max(8);
        let rows = (top..(top + height).min(len)).filter_map(|pos| {
            let seq = self.seq_at(pos)?;
            let r = self.ring.get(seq)?;
            let ts = r.timestamp.map_or("-".to_string(), |ms| {
                let full = timeutil::format_ts(ms, self.utc);
                if wide {
                    full
                } else {
                    full.get(11..).unwrap_or(&full).to_string()
                }
            });
            let style = if pos == sel_pos { t.selection } else { t.text };
            let key = decode::preview(
                r.key.as_deref(),
                self.modes.key,
                dc.schemas,
                usize::from(key_w),
            );
            let value = decode::preview(
                r.value.as_deref(),
                self.modes.value,
                dc.schemas,
                usize::from(val_w),
            );
            let mark = if self.marked.contains(&seq) { "*" } else { "" };
            let null_style = |v: &Option<Vec<u8>>| {
                if v.is_none() {
                    t.null
                } else {
                    ratatui::style::Style::default()
                }
            };
            Some(
                Row::new(vec![
                    Cell::from(format!("{mark}{}", r.partition)),
                    Cell::from(r.offset.to_string()),
                    Cell::from(ts),
                    Cell::from(Span::styled(r.timestamp_type.short(), t.muted)),
                    Cell::from(Span::styled(key, null_style(&r.key))),
                    Cell::from(Span::styled(value, null_style(&r.value))),
                    Cell::from(if r.headers.is_empty() {
                        String::new()
                    } else {
                        r.headers.len().to_string()
                    }),
                    Cell::from(widgets::bytes(r.size())),
                ])
                .style(style),
            )
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Length(10),
                Constraint::Length(ts_w),
                Constraint::Length(1),
                Constraint::Length(key_w),
                Constraint::Min(8),
                Constraint::Length(3),
                Constraint::Length(6),
            ],
        )
        .header(
            Row::new(vec![
                "P",
                "OFFSET",
                "TIMESTAMP",
                "",
                "KEY",
                "VALUE",
                "H",
                "SIZE",
            ])
            .style(t.header),
        );
        f.render_widget(table, body);
        if len == 0 {
            let msg = if self.filter.is_some() && !self.ring.records.is_empty() {
                "no buffered message matches the filter"
            } else if self.at_end.len() == self.starts.len() && !self.starts.is_empty() {
                "no messages yet: waiting for new ones at the end of the topic"
            } else {
                "waiting for messages…"
            };
            let [_, msg_area] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), msg_area);
        }
    }

    fn draw_detail(&self, d: &DetailView, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let title = format!(
            " Message {}/{}@{} ",
            crate::sanitize::escape(&d.record.topic),
            d.record.partition,
            d.record.offset
        );
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(title, t.title))
            .title_bottom(widgets::hints(
                t,
                &[
                    ("Tab", "field"),
                    ("d", "decoder"),
                    ("y/Y/K", "copy"),
                    ("e", "resend"),
                    ("Esc", "back"),
                ],
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let height = usize::from(inner.height);
        // Lines are built in `update` (on open, decoder change, new schema).
        let lines = &d.lines;
        let start = d.scroll.min(lines.len().saturating_sub(1));
        let end = (start + height).min(lines.len());
        let visible = detail::render(&lines[start..end], t);
        f.render_widget(Paragraph::new(visible).wrap(Wrap { trim: false }), inner);
    }
}

fn parse_open(form: &OpenForm, now_ms: i64) -> Result<BrowseSpec, String> {
    let topic = form.fields[0].text.trim();
    if topic.is_empty() {
        return Err("enter a topic".into());
    }
    let parts = form.fields[1].text.trim();
    let partitions = if parts.is_empty() || parts == "all" {
        None
    } else {
        let mut v = Vec::new();
        for p in parts.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            v.push(
                p.parse::<i32>()
                    .map_err(|_| format!("`{p}` is not a partition number"))?,
            );
        }
        Some(v)
    };
    let start = StartAt::parse(&form.fields[2].text, now_ms).map_err(|e| e.to_string())?;
    Ok(BrowseSpec {
        topic: topic.to_string(),
        partitions,
        start,
    })
}

fn draw_dialog(dialog: &Dialog, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let (title, lines, h): (&str, Vec<Line<'static>>, u16) = match dialog {
        Dialog::Open(form) => {
            let mut lines = Vec::new();
            for (i, label) in OPEN_LABELS.iter().enumerate() {
                lines.push(Line::from(Span::styled(
                    (*label).to_string(),
                    if i == form.focus { t.key_hint } else { t.muted },
                )));
                let mut s = vec![Span::raw("  ")];
                s.extend(form.fields[i].spans(t, i == form.focus));
                lines.push(Line::from(s));
            }
            lines.push(match &form.error {
                Some(e) => Line::from(widgets::text(e, t.error)),
                None => widgets::hints(t, &[("Tab", "next"), ("Enter", "open"), ("Esc", "cancel")]),
            });
            (" Open topic ", lines, 10)
        }
        Dialog::Export(input) => {
            let mut s = vec![Span::styled("file: ", t.muted)];
            s.extend(input.spans(t, true));
            (
                " Save as JSON Lines ",
                vec![
                    Line::from(Span::styled(
                        "Marked messages, else the filtered ones, else all buffered:",
                        t.muted,
                    )),
                    Line::from(s),
                    widgets::hints(t, &[("Enter", "save"), ("Esc", "cancel")]),
                ],
                5,
            )
        }
        Dialog::Search(input) => {
            let mut s = vec![Span::styled("matches to find: ", t.muted)];
            s.extend(input.spans(t, true));
            (
                " Search forward ",
                vec![
                    Line::from(Span::styled(
                        "Consume forward until this many messages match the filter:",
                        t.muted,
                    )),
                    Line::from(s),
                    widgets::hints(t, &[("Enter", "search"), ("Esc", "cancel")]),
                ],
                5,
            )
        }
    };
    let r = widgets::centered(area, 72, h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(title, t.title));
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines), inner);
}

impl super::Pane for BrowserPane {
    fn key_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        Vec::new()
    }
    fn help_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        use crate::app::keymap::KeyContext;
        if self.detail.is_some() {
            vec![KeyContext::Message, KeyContext::Navigation]
        } else {
            vec![KeyContext::Browser, KeyContext::Navigation]
        }
    }
    fn captures_text(&self) -> bool {
        self.captures_keys()
    }
    fn on_action(&mut self, _action: crate::app::keymap::Action, _ctx: &mut Ctx<'_>) {}
    fn on_text_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let schemas = ctx.schemas;
        self.on_key_legacy(key, ctx, schemas);
    }
    fn on_paste(&mut self, text: &str, _ctx: &mut Ctx<'_>) {
        self.paste_legacy(text);
    }
    fn on_worker(&mut self, ev: crate::worker::protocol::WorkerEvent, ctx: &mut Ctx<'_>) {
        if let crate::worker::protocol::WorkerEvent::Browse { session, event } = ev {
            let schemas = ctx.schemas;
            self.on_browse(session, event, ctx, schemas);
        }
    }
    fn tick(&mut self, ctx: &mut Ctx<'_>, _visible: bool) {
        self.tick_legacy(ctx);
    }
    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        self.draw_legacy(f, area, dc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimestampType;

    fn rec(p: i32, o: i64, size: usize) -> Record {
        Record {
            topic: "t".into(),
            partition: p,
            offset: o,
            timestamp: Some(0),
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(vec![b'x'; size]),
            headers: vec![],
        }
    }

    #[test]
    fn ring_caps_messages_and_bytes() {
        let mut r = Ring::new(3, usize::MAX);
        for i in 0..5 {
            r.push(rec(0, i, 10));
        }
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.base, 2);
        assert_eq!(r.get(2).unwrap().offset, 2);
        assert!(r.get(1).is_none());
        let one = rec(0, 0, 1000).footprint();
        let mut r = Ring::new(1000, one * 2 + 10);
        for i in 0..10 {
            r.push(rec(0, i, 1000));
        }
        assert_eq!(r.records.len(), 2);
        assert!(r.bytes <= one * 2 + 10);
        assert_eq!(r.evicted, 8);
    }
}
