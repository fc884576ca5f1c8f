//! The producer composer: topic, partition, count and timestamp as one-line
//! inputs; key, headers and value as text areas; acks, compression,
//! idempotence, encodings and the null value as a row of toggles; delivery
//! reports; history, named templates and JSON Lines import.

mod dialogs;
mod error;
mod fields;
mod results;
mod saved;
mod send;
mod view;

pub use dialogs::Dialog;
pub use error::ComposerError;
pub use fields::{Area, Check, Message, ValueCheck};
pub use saved::{HISTORY_FILE, History, Saved, TEMPLATES_FILE, Templates, load_saved};
pub use send::{Batch, TxnBatch};

use std::collections::{BTreeMap, VecDeque};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use super::Pane;
use crate::app::ctx::{Clock, Ctx, DrawCtx, Nav, PaneId, Prefill};
use crate::app::keymap::{Action, KeyContext};
use crate::model::{Acks, Compression, ProducerOptions, TxnMode};
use crate::template::{self, Encoding};
use crate::ui::widgets::LineInput;
use crate::worker::protocol::{Command, ReqId, WorkerEvent};

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

impl Focus {
    /// The text area with this focus.
    #[must_use]
    pub fn area(self) -> Option<Area> {
        match self {
            Focus::Key => Some(Area::Key),
            Focus::Headers => Some(Area::Headers),
            Focus::Value => Some(Area::Value),
            _ => None,
        }
    }
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
pub const OPTIONS: [&str; 7] = [
    "acks",
    "compression",
    "idempotence",
    "key",
    "value",
    "null",
    "txn",
];

/// The options row's `txn` toggle.
const TXN_OPTION: usize = 6;

pub struct ComposerPane {
    pub topic: LineInput,
    pub partition: LineInput,
    pub count: LineInput,
    pub timestamp: LineInput,
    /// Key, headers and value, their encodings and their stored check.
    pub message: Message,
    pub focus: Focus,
    pub options: ProducerOptions,
    /// Transaction mode: each send is one transaction, committed or aborted.
    pub txn_mode: TxnMode,
    /// The `transactional.id` typed for transaction mode; empty: the
    /// session's generated one (`Env::transactional_id`).
    pub txn_id: String,
    /// The registry schema of the value's `schema` encoding.
    pub value_schema: crate::template::SchemaChoice,
    pub opt_cursor: usize,
    pub batches: BTreeMap<ReqId, Batch>,
    /// Finished sends, newest first.
    pub results: VecDeque<(ReqId, Batch)>,
    pub delivered_total: u64,
    pub failed_total: u64,
    pub history: Vec<Saved>,
    pub templates: Templates,
    pub dialog: Option<Dialog>,
    pub pending_flush: Option<ReqId>,
    history_max: usize,
    /// Problems reading history or templates, shown at the next tick.
    load_warnings: Vec<String>,
}

/// Field notes for the help overlay (they are not keys).
const NOTES: &[(&str, &str)] = &[
    (
        "headers",
        "one `name: value` per line; repeated names are kept; `name: null` is a null header; `name:: BASE64` gives exact bytes",
    ),
    ("partition", "`auto` (chosen by the key) or a number"),
    (
        "timestamp",
        "`now`, an RFC 3339 time (2026-11-22T10:00:00Z), a relative time (-15m) or ms since the epoch",
    ),
    (
        "Enter",
        "in topic, partition, count, timestamp and key: the next field",
    ),
];

/// The next (or previous) of `all` after `cur`.
fn cycle<T: PartialEq + Copy>(all: &[T], cur: T, back: bool) -> T {
    let n = all.len();
    let i = all.iter().position(|x| *x == cur).unwrap_or(0);
    all[if back { (i + n - 1) % n } else { (i + 1) % n }]
}

impl ComposerPane {
    #[must_use]
    pub fn new(env: &crate::app::env::Env) -> Self {
        let null = env
            .keymap
            .key_label(KeyContext::Producer, Action::ToggleNull);
        let key_placeholder = if null.is_empty() {
            "key (empty line = empty key)".to_string()
        } else {
            format!("key (empty line = empty key; {null} on the key field: null key)")
        };
        let mut c = Self {
            topic: LineInput::default(),
            partition: LineInput::with("auto"),
            count: LineInput::with("1"),
            timestamp: LineInput::with("now"),
            message: Message::new(key_placeholder),
            focus: Focus::Topic,
            options: env.producer_defaults,
            txn_mode: TxnMode::Off,
            txn_id: String::new(),
            value_schema: crate::template::SchemaChoice::default(),
            opt_cursor: 0,
            batches: BTreeMap::new(),
            results: VecDeque::new(),
            delivered_total: 0,
            failed_total: 0,
            history: Vec::new(),
            templates: Templates::default(),
            dialog: None,
            pending_flush: None,
            history_max: env.history_max,
            load_warnings: Vec::new(),
        };
        c.set_focus(Focus::Topic);
        c
    }

    fn set_focus(&mut self, f: Focus) {
        self.focus = f;
        self.message.focus(f.area());
    }

    fn move_focus(&mut self, forward: bool) {
        self.set_focus(cycle(&ORDER, self.focus, !forward));
    }

    /// History and templates read from the data dir at start-up; what
    /// could not be read is reported at the next tick.
    pub fn load_saved(&mut self, history: History, templates: Templates) {
        self.load_warnings
            .extend(history.warning().into_iter().chain(templates.warning()));
        self.history = history.entries;
        self.templates = templates;
    }

    /// Another cluster is in use: sends, their results and the producer
    /// options start afresh (the options from the new cluster's defaults);
    /// the fields keep their text. Returns whether any text was kept.
    pub fn switch_cluster(&mut self, env: &crate::app::env::Env) -> bool {
        self.batches.clear();
        self.results.clear();
        self.delivered_total = 0;
        self.failed_total = 0;
        self.dialog = None;
        self.pending_flush = None;
        self.options = env.producer_defaults;
        !self.topic.text.trim().is_empty()
            || [Area::Key, Area::Headers, Area::Value]
                .iter()
                .any(|a| !self.message.text(*a).is_empty())
    }

    pub fn prefill(&mut self, p: Prefill, ctx: &mut Ctx<'_>) {
        self.topic = LineInput::with(&p.topic);
        if p.replace_fields {
            self.partition = LineInput::with(&p.partition.map_or("auto".into(), |x| x.to_string()));
            for (area, bytes, json_ok) in [
                (Area::Key, p.key.as_deref(), false),
                (Area::Value, p.value.as_deref(), true),
            ] {
                match bytes.map(|b| fields::text_and_encoding(b, json_ok)) {
                    Some((text, enc)) => self.message.set(area, Some(&text), enc),
                    None => self.message.set(area, None, Encoding::Text),
                }
            }
            let headers: Vec<String> = p
                .headers
                .iter()
                .map(|h| template::HeaderText::line(&h.name, h.value.as_deref()))
                .collect();
            self.message
                .set(Area::Headers, Some(&headers.join("\n")), Encoding::Text);
            self.set_focus(Focus::Value);
            ctx.info(format!(
                "loaded the message: edit it and press {} to send",
                ctx.keymap.key_label(KeyContext::Producer, Action::Send)
            ));
        } else {
            self.set_focus(Focus::Key);
        }
    }

    fn toggle_option(&mut self, back: bool) {
        match self.opt_cursor {
            0 => {
                self.options.acks = cycle(&Acks::ALL, self.options.acks, back);
                if self.options.acks != Acks::All {
                    self.txn_mode = TxnMode::Off;
                }
            }
            1 => {
                self.options.compression = cycle(&Compression::ALL, self.options.compression, back);
            }
            2 => {
                self.options.idempotent = !self.options.idempotent;
                if self.options.idempotent {
                    self.options.acks = Acks::All;
                } else {
                    // Transactions need idempotence.
                    self.txn_mode = TxnMode::Off;
                }
            }
            TXN_OPTION => {
                self.txn_mode = cycle(&TxnMode::ALL, self.txn_mode, back);
                if self.txn_mode != TxnMode::Off {
                    // A transactional producer is idempotent, acks=all.
                    self.options.idempotent = true;
                    self.options.acks = Acks::All;
                }
            }
            3 | 4 => {
                let a = if self.opt_cursor == 3 {
                    Area::Key
                } else {
                    Area::Value
                };
                let enc = cycle(&Encoding::ALL, self.message.encoding(a), back);
                self.message.set_encoding(a, enc);
            }
            _ => self.message.toggle_null(Area::Value),
        }
    }

    fn format_json(&mut self, ctx: &mut Ctx<'_>) {
        let text = self.message.text(Area::Value);
        let r = if text.contains('\n') {
            template::compact_json(&text)
        } else {
            template::pretty_json(&text)
        };
        match r {
            Ok(s) => {
                let enc = self.message.encoding(Area::Value);
                self.message.set(Area::Value, Some(&s), enc);
            }
            Err(e) => ctx.error(format!("{e:#}")),
        }
    }

    /// Esc: leave a field for the options row; there, cancel running sends
    /// or leave the pane.
    fn cancel(&mut self, ctx: &mut Ctx<'_>) {
        if self.focus != Focus::Options {
            self.set_focus(Focus::Options);
            return;
        }
        let running = self.running();
        if running.is_empty() {
            ctx.nav = Some(Nav::Focus(PaneId::Topics));
            self.on_leave(ctx);
        } else {
            // Long sends stop; what was queued is still reported; an open
            // transaction is aborted.
            for id in &running {
                ctx.cmds.push(Command::Cancel { id: *id });
            }
            let txns = self.open_transactions().len();
            if txns > 0 {
                ctx.info(format!(
                    "cancelling {} running send(s); {txns} open transaction(s) will be aborted",
                    running.len()
                ));
            } else {
                ctx.info(format!("cancelling {} running send(s)", running.len()));
            }
        }
    }

    fn main_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let n = OPTIONS.len();
        match action {
            Action::Send => self.send(ctx),
            Action::ToggleNull => self.message.toggle_null(if self.focus == Focus::Key {
                Area::Key
            } else {
                Area::Value
            }),
            Action::FormatJson => self.format_json(ctx),
            Action::History => self.dialog = Some(Dialog::history()),
            Action::Templates => self.dialog = Some(Dialog::templates()),
            Action::SendFile => self.dialog = Some(Dialog::send_file(&ctx.env.data_dir)),
            Action::NextField => self.move_focus(true),
            Action::PrevField => self.move_focus(false),
            Action::Cancel => self.cancel(ctx),
            Action::OptionLeft => self.opt_cursor = (self.opt_cursor + n - 1) % n,
            Action::OptionRight => self.opt_cursor = (self.opt_cursor + 1) % n,
            Action::OptionNext => self.toggle_option(false),
            Action::OptionPrev => self.toggle_option(true),
            Action::TransactionalId => {
                self.dialog = Some(Dialog::TxnId(LineInput::with(&self.txn_id)));
            }
            Action::ValueSchema => {
                self.dialog = Some(Dialog::Schema(LineInput::with(
                    &self.value_schema.describe(),
                )));
            }
            _ => {}
        }
    }
}

impl Pane for ComposerPane {
    fn key_contexts(&self) -> Vec<KeyContext> {
        match &self.dialog {
            Some(d) if d.is_picker() => vec![KeyContext::Picker, KeyContext::Navigation],
            Some(_) => vec![KeyContext::Form],
            None if self.focus == Focus::Options => {
                vec![KeyContext::ProducerOptions, KeyContext::Producer]
            }
            None => vec![KeyContext::Producer],
        }
    }

    fn help_contexts(&self) -> Vec<KeyContext> {
        if self.dialog.is_some() {
            self.key_contexts()
        } else {
            vec![KeyContext::Producer, KeyContext::ProducerOptions]
        }
    }

    fn help_notes(&self) -> Vec<(String, String)> {
        if self.dialog.is_some() {
            return Vec::new();
        }
        NOTES
            .iter()
            .map(|(k, d)| ((*k).to_string(), (*d).to_string()))
            .collect()
    }

    fn captures_text(&self) -> bool {
        match &self.dialog {
            Some(d) => !d.is_picker(),
            None => self.focus != Focus::Options,
        }
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_action(action, ctx);
        } else {
            self.main_action(action, ctx);
        }
    }

    fn on_text_key(&mut self, key: KeyEvent, _ctx: &mut Ctx<'_>) {
        if let Some(d) = &mut self.dialog {
            d.text_key(key);
            return;
        }
        // Enter ends a one-line field; everything else is the field's own
        // editing.
        let input = match self.focus {
            Focus::Topic => &mut self.topic,
            Focus::Partition => &mut self.partition,
            Focus::Count => &mut self.count,
            Focus::Timestamp => &mut self.timestamp,
            Focus::Options => return,
            Focus::Key if key.code == KeyCode::Enter => return self.move_focus(true),
            Focus::Key => return self.message.input(Area::Key, key),
            Focus::Headers => return self.message.input(Area::Headers, key),
            Focus::Value => return self.message.input(Area::Value, key),
        };
        if key.code == KeyCode::Enter {
            self.move_focus(true);
        } else {
            input.edit(key);
        }
    }

    fn on_paste(&mut self, s: &str, _ctx: &mut Ctx<'_>) {
        if let Some(d) = &mut self.dialog {
            d.paste(s);
            return;
        }
        match self.focus {
            Focus::Topic => self.topic.insert_str(s),
            Focus::Partition => self.partition.insert_str(s),
            Focus::Count => self.count.insert_str(s),
            Focus::Timestamp => self.timestamp.insert_str(s),
            Focus::Options => {}
            Focus::Key => self.message.paste(Area::Key, s),
            Focus::Headers => self.message.paste(Area::Headers, s),
            Focus::Value => self.message.paste(Area::Value, s),
        }
    }

    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Produce { id, progress } => self.on_produce(id, progress, ctx),
            WorkerEvent::TxnEnded { id, outcome, .. } => {
                if let Some(t) = self.batches.get_mut(&id).and_then(|b| b.txn.as_mut()) {
                    t.outcome = Some(outcome);
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

    fn refused(&mut self, id: ReqId, reason: &str) {
        if let Some(mut b) = self.batches.remove(&id) {
            b.progress.failed = b.count;
            b.progress.first_error = Some(reason.to_string());
            b.progress.done = true;
            self.failed_total += b.count;
            self.push_result(id, b);
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>, _visible: bool) {
        for w in self.load_warnings.drain(..) {
            ctx.warn(w);
        }
    }

    /// A spinner while a send is under way; the results' times are clock
    /// times, not ages.
    fn clock(&self) -> Clock {
        if self.batches.values().any(|b| !b.progress.done) {
            Clock::Spinner
        } else {
            Clock::Still
        }
    }

    fn on_leave(&mut self, ctx: &mut Ctx<'_>) {
        // Never leave a transaction open behind the pane.
        let open = self.abort_open_transactions(&mut ctx.cmds);
        if open > 0 {
            ctx.warn(format!(
                "left the producer: aborting {open} open transaction(s); nothing of them is committed"
            ));
        }
        if self.in_flight() > 0 && self.pending_flush.is_none() {
            let id = ctx.id();
            self.pending_flush = Some(id);
            ctx.cmds.push(Command::Flush {
                id,
                timeout_ms: 5000,
            });
        }
    }

    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        view::draw(self, f, area, dc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane() -> ComposerPane {
        ComposerPane::new(&crate::app::env::Env::test())
    }

    #[test]
    fn idempotence_forces_acks_all_and_options_cycle_both_ways() {
        let mut c = pane();
        c.opt_cursor = 2;
        c.toggle_option(false);
        assert!(c.options.idempotent);
        assert_eq!(c.options.acks, Acks::All);
        c.opt_cursor = 4;
        c.toggle_option(true);
        assert_eq!(c.message.encoding(Area::Value), Encoding::Text);
        c.toggle_option(false);
        assert_eq!(c.message.encoding(Area::Value), Encoding::Json);
    }

    #[test]
    fn contexts_follow_the_focus_and_dialogs() {
        let mut c = pane();
        assert_eq!(c.key_contexts(), [KeyContext::Producer]);
        assert!(c.captures_text());
        c.set_focus(Focus::Options);
        assert_eq!(
            c.key_contexts(),
            [KeyContext::ProducerOptions, KeyContext::Producer]
        );
        assert!(!c.captures_text());
        assert!(!c.help_notes().is_empty());
        c.dialog = Some(Dialog::history());
        assert_eq!(
            c.key_contexts(),
            [KeyContext::Picker, KeyContext::Navigation]
        );
        assert!(!c.captures_text());
        assert!(c.help_notes().is_empty());
        c.dialog = Some(Dialog::send_file(std::path::Path::new("/d")));
        assert_eq!(c.key_contexts(), [KeyContext::Form]);
        assert!(c.captures_text());
    }
}
