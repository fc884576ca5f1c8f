//! The producer composer: topic, partition, key, value and headers edited
//! with tui-textarea; acks, compression, idempotence, encodings, null value,
//! timestamp and send count as visible toggles; delivery reports; history,
//! named templates and JSON Lines import.

use std::collections::{BTreeMap, VecDeque};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use serde::{Deserialize, Serialize};
use tui_textarea::TextArea;

use crate::app::{Ctx, DrawCtx, Effect};
use crate::model::{Acks, Compression, ProducerOptions};
use crate::template::{self, Encoding, MessageTemplate};
use crate::ui::widgets::{self, InputResult, LineInput, Scroll};
use crate::worker::protocol::{BatchSource, Command, ProduceProgress, ReqId, WorkerEvent};

pub use crate::app::Prefill;

/// A sent message, kept in the history file and used for templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Option<String>,
    pub key_encoding: String,
    pub value: Option<String>,
    pub value_encoding: String,
    /// The header lines as typed (`name: value`, `name:: BASE64`).
    pub headers: String,
    pub acks: String,
    pub compression: String,
    pub idempotent: bool,
    pub count: u64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Topic,
    Partition,
    Count,
    Timestamp,
    Options,
    Key,
    Headers,
    Value,
}

const ORDER: [Focus; 8] = [
    Focus::Topic,
    Focus::Partition,
    Focus::Count,
    Focus::Timestamp,
    Focus::Options,
    Focus::Key,
    Focus::Headers,
    Focus::Value,
];

/// The toggles in the options row, in order.
const OPTIONS: [&str; 6] = ["acks", "compression", "idempotence", "key", "value", "null"];

#[derive(Debug, Clone)]
pub struct Batch {
    pub count: u64,
    pub progress: ProduceProgress,
    pub label: String,
}

#[derive(Debug, Clone)]
pub enum Dialog {
    History(Scroll),
    Templates(Scroll),
    SaveTemplate(LineInput),
    LoadFile(LineInput),
}

pub struct ComposerPane {
    pub topic: LineInput,
    pub partition: LineInput,
    pub count: LineInput,
    pub timestamp: LineInput,
    pub key: TextArea<'static>,
    pub value: TextArea<'static>,
    pub headers: TextArea<'static>,
    pub focus: Focus,
    pub options: ProducerOptions,
    pub opt_cursor: usize,
    pub key_encoding: Encoding,
    pub value_encoding: Encoding,
    pub null_value: bool,
    pub null_key: bool,
    pub batches: BTreeMap<ReqId, Batch>,
    /// Finished sends, newest first.
    pub results: VecDeque<(ReqId, Batch)>,
    pub delivered_total: u64,
    pub failed_total: u64,
    pub history: Vec<Saved>,
    pub templates: BTreeMap<String, Saved>,
    pub dialog: Option<Dialog>,
    pub pending_flush: Option<ReqId>,
    history_max: usize,
}

pub const HELP: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "next / previous field"),
    (
        "Ctrl-S",
        "send (count times, with {{i}} {{uuid}} {{now}} {{random_int(a,b)}} filled in)",
    ),
    (
        "Ctrl-N",
        "toggle a null value (tombstone), distinct from an empty value",
    ),
    (
        "Ctrl-F",
        "pretty-format the JSON value; again to compact it",
    ),
    ("Ctrl-R", "history of sent messages (Enter recalls)"),
    (
        "Ctrl-T",
        "templates: Enter loads, s saves the current message as a template",
    ),
    (
        "Ctrl-O",
        "send every line of a JSON Lines file (the browser's export format)",
    ),
    (
        "options row",
        "←→ choose, Space or Enter changes: acks, compression, idempotence, key/value encoding, null",
    ),
    (
        "headers",
        "one `name: value` per line; repeated names kept; `name: null` is a null header",
    ),
    ("partition", "`auto` (by key) or a number"),
    ("timestamp", "`now`, 2026-11-22T10:00:00Z, -15m or ms"),
    (
        "Esc",
        "leave the field focus; in the options row: cancel running sends, else leave",
    ),
];

fn area_with(lines: Vec<String>, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    });
    t.set_placeholder_text(placeholder);
    t.set_cursor_line_style(Style::default());
    t
}

fn lines_of(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

impl ComposerPane {
    #[must_use]
    pub fn new(env: &crate::app::Env) -> Self {
        let mut c = Self {
            topic: LineInput::default(),
            partition: LineInput::with("auto"),
            count: LineInput::with("1"),
            timestamp: LineInput::with("now"),
            key: area_with(
                vec![],
                "key (empty line = empty key; Ctrl-N on the key field: null key)",
            ),
            value: area_with(vec![], "value"),
            headers: area_with(vec![], "name: value (one per line)"),
            focus: Focus::Topic,
            options: env.producer_defaults,
            opt_cursor: 0,
            key_encoding: Encoding::Text,
            value_encoding: Encoding::Json,
            null_value: false,
            null_key: false,
            batches: BTreeMap::new(),
            results: VecDeque::new(),
            delivered_total: 0,
            failed_total: 0,
            history: Vec::new(),
            templates: BTreeMap::new(),
            dialog: None,
            pending_flush: None,
            history_max: env.history_max,
        };
        c.restyle();
        c
    }

    fn restyle(&mut self) {
        let focus = self.focus;
        for (f, ta) in [
            (Focus::Key, &mut self.key),
            (Focus::Value, &mut self.value),
            (Focus::Headers, &mut self.headers),
        ] {
            ta.set_cursor_style(if f == focus {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    #[must_use]
    pub fn captures_keys(&self) -> bool {
        // Every field is a text input except the options row.
        self.dialog.is_some() || self.focus != Focus::Options
    }

    /// Messages queued but not yet confirmed either way.
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        self.batches
            .values()
            .filter(|b| !b.progress.done)
            .map(|b| {
                b.count
                    .saturating_sub(b.progress.delivered + b.progress.failed)
            })
            .sum()
    }

    #[must_use]
    pub fn totals(&self) -> (u64, u64) {
        (self.delivered_total, self.failed_total)
    }

    /// Load history and templates read from the data dir at start-up.
    pub fn load_saved(&mut self, history: Vec<Saved>, templates: BTreeMap<String, Saved>) {
        self.history = history;
        self.templates = templates;
    }

    pub fn prefill(&mut self, p: Prefill, ctx: &mut Ctx<'_>) {
        self.topic = LineInput::with(&p.topic);
        if p.replace_fields {
            self.partition = LineInput::with(&p.partition.map_or("auto".into(), |x| x.to_string()));
            self.null_key = p.key.is_none();
            let (ktext, kenc) = text_and_encoding(p.key.as_deref(), false);
            self.key = area_with(lines_of(&ktext), "key");
            self.key_encoding = kenc;
            self.null_value = p.value.is_none();
            let (vtext, venc) = text_and_encoding(p.value.as_deref(), true);
            self.value = area_with(lines_of(&vtext), "value");
            self.value_encoding = venc;
            let hl: Vec<String> = p
                .headers
                .iter()
                .map(|h| template::HeaderText::line(&h.name, h.value.as_deref()))
                .collect();
            self.headers = area_with(hl, "name: value (one per line)");
            self.focus = Focus::Value;
            ctx.info("loaded the message: edit it and press Ctrl-S to send");
        } else {
            self.focus = Focus::Key;
        }
        self.restyle();
    }

    /// Build the template from the fields, or say what is wrong.
    pub fn build(&self, now_ms: i64) -> Result<(MessageTemplate, u64), String> {
        let topic = self.topic.text.trim();
        if topic.is_empty() {
            return Err("enter a topic".into());
        }
        let partition = match self.partition.text.trim() {
            "" | "auto" => None,
            p => Some(
                p.parse::<i32>()
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or("partition must be `auto` or a number")?,
            ),
        };
        let count: u64 = self
            .count
            .text
            .trim()
            .parse()
            .ok()
            .filter(|c| *c >= 1)
            .ok_or("count must be a number ≥ 1")?;
        let timestamp = match self.timestamp.text.trim() {
            "" | "now" => None,
            t => Some(
                crate::timeutil::parse_time(t, now_ms).map_err(|e| format!("timestamp: {e}"))?,
            ),
        };
        let headers = template::parse_header_lines(&self.headers.lines().join("\n"))
            .map_err(|e| e.to_string())?;
        let t = MessageTemplate {
            topic: topic.to_string(),
            partition,
            key: (!self.null_key).then(|| self.key.lines().join("\n")),
            key_encoding: self.key_encoding,
            value: (!self.null_value).then(|| self.value.lines().join("\n")),
            value_encoding: self.value_encoding,
            headers,
            timestamp,
        };
        // Check the first variation now, so errors show before sending.
        t.render(0, now_ms).map_err(|e| format!("{e:#}"))?;
        self.options.validate().map_err(|e| e.to_string())?;
        Ok((t, count))
    }

    /// Live validation shown under the value.
    #[must_use]
    pub fn validation(&self) -> (bool, String) {
        if self.null_value {
            return (true, "value: null (tombstone)".into());
        }
        let text = self.value.lines().join("\n");
        if text.contains("{{") {
            return (
                true,
                format!("value: {} template", self.value_encoding.as_str()),
            );
        }
        match self.value_encoding.encode(&text) {
            Ok(b) => (
                true,
                format!(
                    "value: {} ok, {} bytes",
                    self.value_encoding.as_str(),
                    b.len()
                ),
            ),
            Err(e) => (false, format!("{e:#}")),
        }
    }

    fn saved_now(&self, t: &MessageTemplate, count: u64, now_ms: i64) -> Saved {
        Saved {
            topic: t.topic.clone(),
            partition: t.partition,
            key: t.key.clone(),
            key_encoding: t.key_encoding.as_str().into(),
            value: t.value.clone(),
            value_encoding: t.value_encoding.as_str().into(),
            headers: self.headers.lines().join("\n"),
            acks: self.options.acks.as_str().into(),
            compression: self.options.compression.as_str().into(),
            idempotent: self.options.idempotent,
            count,
            at_ms: now_ms,
        }
    }

    fn apply_saved(&mut self, s: &Saved) {
        self.topic = LineInput::with(&s.topic);
        self.partition = LineInput::with(&s.partition.map_or("auto".into(), |p| p.to_string()));
        self.count = LineInput::with(&s.count.to_string());
        self.null_key = s.key.is_none();
        self.key = area_with(lines_of(s.key.as_deref().unwrap_or("")), "key");
        self.key_encoding = Encoding::parse(&s.key_encoding).unwrap_or_default();
        self.null_value = s.value.is_none();
        self.value = area_with(lines_of(s.value.as_deref().unwrap_or("")), "value");
        self.value_encoding = Encoding::parse(&s.value_encoding).unwrap_or_default();
        self.headers = area_with(lines_of(&s.headers), "name: value (one per line)");
        self.options.acks = Acks::parse(&s.acks).unwrap_or_default();
        self.options.compression = Compression::parse(&s.compression).unwrap_or_default();
        self.options.idempotent = s.idempotent;
        self.restyle();
    }

    fn history_effect(&self, ctx: &Ctx<'_>) -> Effect {
        let mut contents = String::new();
        for h in &self.history {
            contents.push_str(&serde_json::to_string(h).unwrap_or_default());
            contents.push('\n');
        }
        Effect::WriteFile {
            path: ctx.env.data_dir.join(HISTORY_FILE),
            contents,
            what: "history".into(),
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.refuse_if_read_only("producing") {
            return;
        }
        match self.build(ctx.now_ms) {
            Err(e) => ctx.error(format!("not sent: {e}")),
            Ok((t, count)) => {
                let id = ctx.id();
                let label = if count == 1 {
                    format!("1 message to {}", t.topic)
                } else {
                    format!("{count} messages to {}", t.topic)
                };
                self.batches.insert(
                    id,
                    Batch {
                        count,
                        progress: empty_progress(),
                        label,
                    },
                );
                let saved = self.saved_now(&t, count, ctx.now_ms);
                self.history.retain(|h| !same_message(h, &saved));
                self.history.insert(0, saved);
                self.history.truncate(self.history_max);
                ctx.effects.push(self.history_effect(ctx));
                ctx.cmds.push(Command::ProduceBatch {
                    id,
                    options: self.options,
                    source: BatchSource::Template { template: t, count },
                });
            }
        }
    }

    pub fn on_leave_legacy(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight() > 0 && self.pending_flush.is_none() {
            let id = ctx.id();
            self.pending_flush = Some(id);
            ctx.cmds.push(Command::Flush {
                id,
                timeout_ms: 5000,
            });
        }
    }

    pub fn refused_legacy(&mut self, id: ReqId, reason: &str) {
        if let Some(mut b) = self.batches.remove(&id) {
            b.progress.failed = b.count;
            b.progress.first_error = Some(reason.to_string());
            b.progress.done = true;
            self.failed_total += b.count;
            self.push_result(id, b);
        }
    }

    fn push_result(&mut self, id: ReqId, b: Batch) {
        self.results.push_front((id, b));
        self.results.truncate(50);
    }

    pub fn paste_legacy(&mut self, s: &str, _ctx: &mut Ctx<'_>) {
        match self.focus {
            Focus::Topic => self.topic.insert_str(s),
            Focus::Partition => self.partition.insert_str(s),
            Focus::Count => self.count.insert_str(s),
            Focus::Timestamp => self.timestamp.insert_str(s),
            Focus::Key => {
                self.key.insert_str(pasteable(s));
            }
            Focus::Headers => {
                self.headers.insert_str(pasteable(s));
            }
            Focus::Value => {
                self.value.insert_str(pasteable(s));
            }
            Focus::Options => {}
        }
    }

    fn move_focus(&mut self, forward: bool) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = ORDER.len();
        self.focus = ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
        self.restyle();
    }

    fn toggle_option(&mut self, back: bool) {
        let cycle = |i: usize, n: usize| if back { (i + n - 1) % n } else { (i + 1) % n };
        match self.opt_cursor {
            0 => {
                let i = Acks::ALL
                    .iter()
                    .position(|a| *a == self.options.acks)
                    .unwrap_or(0);
                self.options.acks = Acks::ALL[cycle(i, 3)];
            }
            1 => {
                let i = Compression::ALL
                    .iter()
                    .position(|a| *a == self.options.compression)
                    .unwrap_or(0);
                self.options.compression = Compression::ALL[cycle(i, 5)];
            }
            2 => {
                self.options.idempotent = !self.options.idempotent;
                if self.options.idempotent {
                    self.options.acks = Acks::All;
                }
            }
            3 => self.key_encoding = self.key_encoding.next(),
            4 => self.value_encoding = self.value_encoding.next(),
            _ => self.null_value = !self.null_value,
        }
    }

    pub fn on_key_legacy(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_key(key, ctx);
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl {
            match key.code {
                KeyCode::Char('s') => return self.send(ctx),
                KeyCode::Char('n') => {
                    if self.focus == Focus::Key {
                        self.null_key = !self.null_key;
                    } else {
                        self.null_value = !self.null_value;
                    }
                    return;
                }
                KeyCode::Char('f') => {
                    let text = self.value.lines().join("\n");
                    let pretty = text.contains('\n');
                    let r = if pretty {
                        template::compact_json(&text)
                    } else {
                        template::pretty_json(&text)
                    };
                    match r {
                        Ok(s) => self.value = area_with(lines_of(&s), "value"),
                        Err(e) => ctx.error(format!("{e:#}")),
                    }
                    self.restyle();
                    return;
                }
                KeyCode::Char('r') => {
                    self.dialog = Some(Dialog::History(Scroll::default()));
                    return;
                }
                KeyCode::Char('t') => {
                    self.dialog = Some(Dialog::Templates(Scroll::default()));
                    return;
                }
                KeyCode::Char('o') => {
                    let default = ctx
                        .env
                        .data_dir
                        .join("messages.jsonl")
                        .display()
                        .to_string();
                    self.dialog = Some(Dialog::LoadFile(LineInput::with(&default)));
                    return;
                }
                _ => {}
            }
        }
        match key.code {
            KeyCode::Tab => return self.move_focus(true),
            KeyCode::BackTab => return self.move_focus(false),
            KeyCode::Esc => {
                let running: Vec<ReqId> = self
                    .batches
                    .iter()
                    .filter(|(_, b)| !b.progress.done)
                    .map(|(id, _)| *id)
                    .collect();
                if self.focus == Focus::Options && !running.is_empty() {
                    // Long sends stop on Esc; what was queued is still reported.
                    for id in &running {
                        ctx.cmds.push(Command::Cancel { id: *id });
                    }
                    ctx.info(format!("cancelling {} running send(s)", running.len()));
                } else if self.focus == Focus::Options {
                    ctx.nav = Some(crate::app::Nav::Focus(crate::app::PaneId::Topics));
                    self.on_leave_legacy(ctx);
                } else {
                    self.focus = Focus::Options;
                    self.restyle();
                }
                return;
            }
            _ => {}
        }
        match self.focus {
            Focus::Options => match key.code {
                KeyCode::Left | KeyCode::Char('h') => {
                    self.opt_cursor = (self.opt_cursor + OPTIONS.len() - 1) % OPTIONS.len()
                }
                KeyCode::Right | KeyCode::Char('l') => {
                    self.opt_cursor = (self.opt_cursor + 1) % OPTIONS.len()
                }
                KeyCode::Char(' ') | KeyCode::Enter | KeyCode::Down | KeyCode::Char('j') => {
                    self.toggle_option(false)
                }
                KeyCode::Up | KeyCode::Char('k') => self.toggle_option(true),
                _ => {}
            },
            Focus::Topic | Focus::Partition | Focus::Count | Focus::Timestamp => {
                let input = match self.focus {
                    Focus::Topic => &mut self.topic,
                    Focus::Partition => &mut self.partition,
                    Focus::Count => &mut self.count,
                    _ => &mut self.timestamp,
                };
                if input.handle(key) == InputResult::Submit {
                    self.move_focus(true);
                }
            }
            Focus::Key => {
                if key.code == KeyCode::Enter {
                    self.move_focus(true);
                } else {
                    self.key.input(key);
                }
            }
            Focus::Headers => {
                self.headers.input(key);
            }
            Focus::Value => {
                self.value.input(key);
            }
        }
    }

    fn dialog_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let h = ctx.body_height().saturating_sub(8).max(1);
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        match dialog {
            Dialog::History(scroll) => {
                if scroll.handle_nav(key, self.history.len(), h) {
                    return;
                }
                match key.code {
                    KeyCode::Esc | KeyCode::Char('q') => self.dialog = None,
                    KeyCode::Enter => {
                        if let Some(s) = self.history.get(scroll.selected).cloned() {
                            self.apply_saved(&s);
                            self.dialog = None;
                            ctx.info("recalled from history: Ctrl-S sends it again");
                        }
                    }
                    _ => {}
                }
            }
            Dialog::Templates(scroll) => {
                if scroll.handle_nav(key, self.templates.len(), h) {
                    return;
                }
                match key.code {
                    KeyCode::Esc | KeyCode::Char('q') => self.dialog = None,
                    KeyCode::Char('s') => {
                        self.dialog = Some(Dialog::SaveTemplate(LineInput::default()))
                    }
                    KeyCode::Char('D') => {
                        if let Some(name) = self.templates.keys().nth(scroll.selected).cloned() {
                            self.templates.remove(&name);
                            ctx.effects.push(templates_effect(&self.templates, ctx));
                            ctx.info(format!("deleted template {name}"));
                        }
                    }
                    KeyCode::Enter => {
                        if let Some(s) = self.templates.values().nth(scroll.selected).cloned() {
                            self.apply_saved(&s);
                            self.dialog = None;
                        }
                    }
                    _ => {}
                }
            }
            Dialog::SaveTemplate(input) => match input.handle(key) {
                InputResult::Cancel => self.dialog = None,
                InputResult::Submit => {
                    let name = input.text.trim().to_string();
                    if name.is_empty() {
                        ctx.warn("enter a template name");
                        return;
                    }
                    match self.build(ctx.now_ms) {
                        Ok((t, count)) => {
                            let saved = self.saved_now(&t, count, ctx.now_ms);
                            self.templates.insert(name.clone(), saved);
                            ctx.effects.push(templates_effect(&self.templates, ctx));
                            ctx.info(format!("saved template {name}"));
                            self.dialog = None;
                        }
                        Err(e) => ctx.error(format!("cannot save: {e}")),
                    }
                }
                _ => {}
            },
            Dialog::LoadFile(input) => match input.handle(key) {
                InputResult::Cancel => self.dialog = None,
                InputResult::Submit => {
                    let path = std::path::PathBuf::from(input.text.trim());
                    self.dialog = None;
                    if ctx.refuse_if_read_only("producing") {
                        return;
                    }
                    let topic = self.topic.text.trim().to_string();
                    let id = ctx.id();
                    self.batches.insert(
                        id,
                        Batch {
                            count: 0,
                            progress: empty_progress(),
                            label: format!("file {}", path.display()),
                        },
                    );
                    ctx.cmds.push(Command::ProduceBatch {
                        id,
                        options: self.options,
                        source: BatchSource::File { path, topic },
                    });
                }
                _ => {}
            },
        }
    }

    pub fn on_worker_legacy(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Produce { id, progress } => {
                let Some(b) = self.batches.get_mut(&id) else {
                    return;
                };
                if b.count == 0 || progress.done {
                    // File batches learn their size as they go.
                    b.count = b
                        .count
                        .max(progress.queued.max(progress.delivered + progress.failed));
                }
                b.progress = progress;
                if b.progress.done {
                    if let Some(b) = self.batches.remove(&id) {
                        self.delivered_total += b.progress.delivered;
                        self.failed_total += b.progress.failed;
                        if let Some(e) = &b.progress.first_error {
                            ctx.error(format!("send failed: {e}"));
                        }
                        self.push_result(id, b);
                    }
                }
            }
            WorkerEvent::Flushed { id, undelivered } if self.pending_flush == Some(id) => {
                self.pending_flush = None;
                if undelivered > 0 {
                    ctx.warn(format!(
                        "left the producer: {undelivered} message(s) not delivered after 5 s"
                    ));
                } else {
                    ctx.info(format!(
                        "producer flushed: {} delivered, {} failed in this session",
                        self.delivered_total, self.failed_total
                    ));
                }
            }
            _ => {}
        }
    }

    // ---- drawing ----

    pub fn draw_legacy(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(" Producer ", t.title));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let results_h: u16 = if inner.height > 20 { 4 } else { 2 };
        let [row1, row2, key_a, hdr_a, val_a, valid, results, hints] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Length(if inner.height > 18 { 5 } else { 3 }),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(results_h),
            Constraint::Length(1),
        ])
        .areas(inner);
        // Row 1: topic, partition, count, timestamp.
        let label = |s: &str, on: bool| {
            Span::styled(format!("{s} "), if on { t.key_hint } else { t.muted })
        };
        let mut s1 = vec![label("topic", self.focus == Focus::Topic)];
        s1.extend(self.topic.spans(t, self.focus == Focus::Topic));
        s1.push(Span::raw("  "));
        s1.push(label("partition", self.focus == Focus::Partition));
        s1.extend(self.partition.spans(t, self.focus == Focus::Partition));
        s1.push(Span::raw("  "));
        s1.push(label("count", self.focus == Focus::Count));
        s1.extend(self.count.spans(t, self.focus == Focus::Count));
        s1.push(Span::raw("  "));
        s1.push(label("timestamp", self.focus == Focus::Timestamp));
        s1.extend(self.timestamp.spans(t, self.focus == Focus::Timestamp));
        f.render_widget(Paragraph::new(Line::from(s1)), row1);
        // Row 2: options.
        let values = [
            self.options.acks.as_str().to_string(),
            self.options.compression.as_str().to_string(),
            if self.options.idempotent { "on" } else { "off" }.to_string(),
            if self.null_key {
                "null".into()
            } else {
                self.key_encoding.as_str().to_string()
            },
            self.value_encoding.as_str().to_string(),
            if self.null_value { "on" } else { "off" }.to_string(),
        ];
        let mut s2 = Vec::new();
        for (i, name) in OPTIONS.iter().enumerate() {
            let on = self.focus == Focus::Options && self.opt_cursor == i;
            s2.push(Span::styled(
                format!("{name}:"),
                if on { t.key_hint } else { t.muted },
            ));
            s2.push(Span::styled(
                values[i].clone(),
                if on { t.selection } else { t.accent },
            ));
            s2.push(Span::raw(" "));
        }
        f.render_widget(Paragraph::new(Line::from(s2)), row2);
        // Text areas.
        let boxed = |f: &mut Frame<'_>,
                     ta: &TextArea<'static>,
                     area: Rect,
                     title: String,
                     focused: bool,
                     null: bool| {
            let b = Block::default()
                .borders(Borders::ALL)
                .border_style(if focused { t.border_focused } else { t.border })
                .title(Span::styled(title, if focused { t.title } else { t.muted }));
            let inner = b.inner(area);
            f.render_widget(b, area);
            if null {
                f.render_widget(Paragraph::new(Span::styled("∅ null", t.null)), inner);
            } else {
                f.render_widget(ta, inner);
            }
        };
        boxed(
            f,
            &self.key,
            key_a,
            format!(
                " Key ({}) ",
                if self.null_key {
                    "null"
                } else {
                    self.key_encoding.as_str()
                }
            ),
            self.focus == Focus::Key,
            self.null_key,
        );
        boxed(
            f,
            &self.headers,
            hdr_a,
            " Headers (name: value) ".into(),
            self.focus == Focus::Headers,
            false,
        );
        boxed(
            f,
            &self.value,
            val_a,
            format!(
                " Value ({}) ",
                if self.null_value {
                    "null: tombstone"
                } else {
                    self.value_encoding.as_str()
                }
            ),
            self.focus == Focus::Value,
            self.null_value,
        );
        let (ok, msg) = self.validation();
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    if ok { "✓ " } else { "✗ " },
                    if ok { t.ok } else { t.error },
                ),
                widgets::text(&msg, if ok { t.muted } else { t.error }),
            ])),
            valid,
        );
        // Results: running batches, then finished ones.
        let mut lines: Vec<Line<'static>> = Vec::new();
        for (id, b) in self.batches.iter().rev() {
            lines.push(progress_line(*id, b, dc));
        }
        for (id, b) in &self.results {
            lines.push(progress_line(*id, b, dc));
        }
        if lines.is_empty() {
            lines.push(Line::from(Span::styled(
                if dc.env.read_only {
                    "read-only mode: sending is disabled for this cluster"
                } else {
                    "no messages sent yet"
                },
                if dc.env.read_only { t.warn } else { t.muted },
            )));
        }
        lines.truncate(usize::from(results_h));
        f.render_widget(Paragraph::new(lines), results);
        f.render_widget(
            Paragraph::new(widgets::hints(
                t,
                &[
                    ("Ctrl-S", "send"),
                    ("Tab", "field"),
                    ("Ctrl-N", "null"),
                    ("Ctrl-F", "format"),
                    ("Ctrl-R", "history"),
                    ("Ctrl-T", "templates"),
                    ("Ctrl-O", "file"),
                ],
            )),
            hints,
        );
        if let Some(d) = &self.dialog {
            self.draw_dialog(d, f, area, dc);
        }
    }

    fn draw_dialog(&self, d: &Dialog, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let r = widgets::centered(
            area,
            area.width.saturating_sub(8).min(100),
            area.height.saturating_sub(4),
        );
        f.render_widget(Clear, r);
        let (title, lines): (&str, Vec<Line<'static>>) = match d {
            Dialog::History(scroll) | Dialog::Templates(scroll) => {
                let is_hist = matches!(d, Dialog::History(_));
                let items: Vec<(String, &Saved)> = if is_hist {
                    self.history
                        .iter()
                        .map(|s| (crate::timeutil::format_clock(s.at_ms), s))
                        .collect()
                } else {
                    self.templates.iter().map(|(n, s)| (n.clone(), s)).collect()
                };
                let h = usize::from(r.height.saturating_sub(3)).max(1);
                let mut sc = *scroll;
                sc.keep_visible(items.len(), h);
                let mut lines: Vec<Line<'static>> = items
                    .iter()
                    .enumerate()
                    .skip(sc.offset)
                    .take(h)
                    .map(|(i, (label, s))| {
                        let style = if i == sc.selected {
                            t.selection
                        } else {
                            t.text
                        };
                        let summary = format!(
                            "{label}  {} ×{}  key={}  value={}",
                            s.topic,
                            s.count,
                            s.key.as_deref().unwrap_or("null"),
                            s.value.as_deref().unwrap_or("null").replace('\n', " ")
                        );
                        Line::from(widgets::text_cut(
                            &summary,
                            usize::from(r.width.saturating_sub(4)),
                            style,
                        ))
                    })
                    .collect();
                if items.is_empty() {
                    lines.push(Line::from(Span::styled(
                        if is_hist {
                            "no history yet"
                        } else {
                            "no templates yet: s saves the current message"
                        },
                        t.muted,
                    )));
                }
                lines.push(if is_hist {
                    widgets::hints(t, &[("Enter", "recall"), ("Esc", "close")])
                } else {
                    widgets::hints(
                        t,
                        &[
                            ("Enter", "load"),
                            ("s", "save current"),
                            ("D", "delete"),
                            ("Esc", "close"),
                        ],
                    )
                });
                (if is_hist { " History " } else { " Templates " }, lines)
            }
            Dialog::SaveTemplate(input) => {
                let mut s = vec![Span::styled("name: ", t.muted)];
                s.extend(input.spans(t, true));
                (
                    " Save template ",
                    vec![
                        Line::from(s),
                        widgets::hints(t, &[("Enter", "save"), ("Esc", "cancel")]),
                    ],
                )
            }
            Dialog::LoadFile(input) => {
                let mut s = vec![Span::styled("file: ", t.muted)];
                s.extend(input.spans(t, true));
                (
                    " Send a JSON Lines file ",
                    vec![
                        Line::from(Span::styled(
                            "Every line is sent; lines without a topic go to the composer's topic.",
                            t.muted,
                        )),
                        Line::from(s),
                        widgets::hints(t, &[("Enter", "send"), ("Esc", "cancel")]),
                    ],
                )
            }
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(title, t.title));
        let inner = block.inner(r);
        f.render_widget(block, r);
        f.render_widget(Paragraph::new(lines), inner);
    }
}

fn empty_progress() -> ProduceProgress {
    ProduceProgress {
        queued: 0,
        delivered: 0,
        failed: 0,
        first_error: None,
        last: None,
        elapsed_ms: 0,
        done: false,
    }
}

fn same_message(a: &Saved, b: &Saved) -> bool {
    a.topic == b.topic
        && a.key == b.key
        && a.value == b.value
        && a.headers == b.headers
        && a.count == b.count
}

/// The history file in the data dir (JSON Lines, newest first).
pub const HISTORY_FILE: &str = "history.jsonl";
/// The templates file in the data dir.
pub const TEMPLATES_FILE: &str = "templates.json";

fn templates_effect(templates: &BTreeMap<String, Saved>, ctx: &Ctx<'_>) -> Effect {
    Effect::WriteFile {
        path: ctx.env.data_dir.join(TEMPLATES_FILE),
        contents: serde_json::to_string_pretty(templates).unwrap_or_default(),
        what: "templates".into(),
    }
}

/// Read history and templates (missing or broken files are empty).
#[must_use]
pub fn load_saved(data_dir: &std::path::Path, max: usize) -> (Vec<Saved>, BTreeMap<String, Saved>) {
    let history = std::fs::read_to_string(data_dir.join(HISTORY_FILE))
        .map(|s| {
            s.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .take(max)
                .collect()
        })
        .unwrap_or_default();
    let templates = std::fs::read_to_string(data_dir.join(TEMPLATES_FILE))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    (history, templates)
}

/// Typed text and encoding for existing bytes: text when UTF-8 (JSON when
/// it parses and `json_ok`), else base64.
/// Typed text and encoding for existing bytes, exactly: text when they are
/// printable UTF-8 (JSON when they parse as a JSON object or array and
/// `json_ok`), otherwise base64, so that resending sends the same bytes and
/// nothing unprintable lands in a text area.
fn text_and_encoding(b: Option<&[u8]>, json_ok: bool) -> (String, Encoding) {
    use base64::Engine as _;
    match b {
        None => (String::new(), Encoding::Text),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s)
                if !s
                    .chars()
                    .any(|c| c != '\n' && c != '\t' && crate::sanitize::needs_escape(c)) =>
            {
                let json = json_ok
                    && serde_json::from_str::<serde_json::Value>(s)
                        .is_ok_and(|v| v.is_object() || v.is_array());
                (
                    s.to_string(),
                    if json { Encoding::Json } else { Encoding::Text },
                )
            }
            _ => (
                base64::engine::general_purpose::STANDARD.encode(b),
                Encoding::Base64,
            ),
        },
    }
}

/// Pasted text for a text area: newlines and tabs stay, every other control
/// or invisible character is inserted as its visible escape (to send raw
/// bytes, use the hex or base64 encoding).
fn pasteable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (seg, bad) in crate::sanitize::escape_segments(&s.replace("\r\n", "\n"), true) {
        if bad {
            out.push_str(&seg.replace("\\t", "\t"));
        } else {
            out.push_str(&seg);
        }
    }
    out
}

fn progress_line(id: ReqId, b: &Batch, dc: &DrawCtx<'_>) -> Line<'static> {
    let t = dc.theme;
    let p = &b.progress;
    let mut spans = vec![Span::styled(format!("#{id} "), t.muted)];
    #[allow(clippy::cast_precision_loss)]
    let rate = if p.elapsed_ms > 0 {
        p.delivered as f64 * 1000.0 / p.elapsed_ms as f64
    } else {
        0.0
    };
    if !p.done {
        spans.push(Span::styled(
            format!(
                "{} sending {}: {}/{} delivered (Esc in the options row cancels)",
                dc.spinner(),
                b.label,
                p.delivered,
                b.count.max(p.queued)
            ),
            t.accent,
        ));
        return Line::from(spans);
    }
    if p.failed == 0 {
        spans.push(Span::styled("✓ ", t.ok));
        match (&p.last, b.count) {
            (Some(d), 1) => {
                spans.push(widgets::text(&b.label, t.text));
                spans.push(Span::styled(
                    format!(
                        " → partition {} offset {} in {:.1} ms",
                        d.partition, d.offset, d.latency_ms
                    ),
                    t.text,
                ));
                if let Some(ts) = d.timestamp {
                    spans.push(Span::styled(
                        format!("  ts {}", crate::timeutil::format_ts(ts, true)),
                        t.muted,
                    ));
                }
            }
            _ => {
                spans.push(widgets::text(&b.label, t.text));
                spans.push(Span::styled(
                    format!(": {} delivered, {rate:.0} msg/s", p.delivered),
                    t.text,
                ));
            }
        }
    } else {
        spans.push(Span::styled("✗ ", t.error));
        spans.push(widgets::text(&b.label, t.text));
        spans.push(Span::styled(
            format!(": {} delivered, {} failed: ", p.delivered, p.failed),
            t.error,
        ));
        spans.push(widgets::text(
            p.first_error.as_deref().unwrap_or("unknown error"),
            t.error,
        ));
    }
    Line::from(spans)
}

impl super::Pane for ComposerPane {
    fn key_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        Vec::new()
    }
    fn help_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        use crate::app::keymap::KeyContext;
        vec![KeyContext::Producer, KeyContext::ProducerOptions]
    }
    fn captures_text(&self) -> bool {
        self.captures_keys()
    }
    fn on_action(&mut self, _action: crate::app::keymap::Action, _ctx: &mut Ctx<'_>) {}
    fn on_text_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        self.on_key_legacy(key, ctx);
    }
    fn on_paste(&mut self, text: &str, ctx: &mut Ctx<'_>) {
        self.paste_legacy(text, ctx);
    }
    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        self.on_worker_legacy(ev, ctx);
    }
    fn refused(&mut self, id: ReqId, reason: &str) {
        self.refused_legacy(id, reason);
    }
    fn on_leave(&mut self, ctx: &mut Ctx<'_>) {
        self.on_leave_legacy(ctx);
    }
    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        self.draw_legacy(f, area, dc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane() -> ComposerPane {
        ComposerPane::new(&crate::app::Env::test())
    }

    #[test]
    fn builds_template_from_fields() {
        let mut c = pane();
        c.topic = LineInput::with("orders");
        c.key = area_with(vec!["k-{{i}}".into()], "");
        c.value = area_with(lines_of("{\n \"n\": 1\n}"), "");
        c.headers = area_with(vec!["a: 1".into(), "a: 2".into()], "");
        c.count = LineInput::with("3");
        let (t, n) = c.build(0).unwrap();
        assert_eq!(n, 3);
        assert_eq!(t.topic, "orders");
        assert_eq!(t.headers.len(), 2);
        assert_eq!(t.render(2, 0).unwrap().key.unwrap(), b"k-2");
    }

    #[test]
    fn invalid_json_is_reported_with_position() {
        let mut c = pane();
        c.topic = LineInput::with("t");
        c.value = area_with(lines_of("{\n  \"a\": ,\n}"), "");
        let e = c.build(0).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(!c.validation().0);
        c.null_value = true;
        assert!(c.build(0).unwrap().0.value.is_none());
    }

    #[test]
    fn idempotence_forces_acks_all() {
        let mut c = pane();
        c.opt_cursor = 2;
        c.toggle_option(false);
        assert!(c.options.idempotent);
        assert_eq!(c.options.acks, Acks::All);
    }
}
