//! Consumer groups pane: the list (state, assignor, members, topics, lag and
//! its trend), a group's partitions and members, lag over time with rates
//! and a catch-up estimate, the rebalance timeline, offset reset with a dry
//! run, and group deletion.

use std::collections::{BTreeMap, BTreeSet};

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Cell, Chart, Clear, Dataset, GraphType, Paragraph, Row, Table,
};

use crate::app::{Ctx, DrawCtx, Effect, Nav};
use crate::lag::{Eta, GroupHistory};
use crate::model::{GroupSnapshot, TopicPartition};
use crate::timeutil::{self, StartAt};
use crate::ui::widgets::{self, Confirm, InputResult, LineInput, Scroll};
use crate::worker::protocol::{BrowseSpec, Command, ReqId, ResetRow, ResetTarget, WorkerEvent};

const RATE_WINDOW_MS: i64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Lag,
    Name,
    State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Partitions,
    Members,
    Lag,
    Events,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Partitions, Tab::Members, Tab::Lag, Tab::Events];
    fn label(self) -> &'static str {
        match self {
            Tab::Partitions => "Partitions",
            Tab::Members => "Members",
            Tab::Lag => "Lag",
            Tab::Events => "Rebalances",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResetStage {
    /// Typing the target.
    Target(LineInput, Option<String>),
    Planning(ReqId),
    /// The dry run; typed confirmation to apply.
    Plan(Vec<ResetRow>, Confirm),
    Applying(ReqId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetDialog {
    pub group: String,
    pub partitions: Option<Vec<TopicPartition>>,
    pub stage: ResetStage,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Reset(ResetDialog),
    Delete(Confirm, Option<ReqId>),
    SaveTimeline(LineInput),
}

#[derive(Debug, Clone, Default)]
pub struct GroupsPane {
    pub histories: BTreeMap<String, GroupHistory>,
    /// Group names in display order.
    pub view: Vec<String>,
    pub filter: LineInput,
    pub filtering: bool,
    pub sort: SortKey,
    pub scroll: Scroll,
    pub in_flight: Option<ReqId>,
    pub in_flight_since: i64,
    pub refreshed_ms: Option<i64>,
    pub last_error: Option<(i64, String)>,
    pub list_note: Option<String>,
    pub next_refresh_ms: i64,
    pub refresh_ms: i64,
    /// The group shown in detail.
    pub open: Option<String>,
    pub tab: Tab,
    pub detail_scroll: Scroll,
    pub marked: BTreeSet<TopicPartition>,
    pub dialog: Option<Dialog>,
}

pub const HELP: &[(&str, &str)] = &[
    ("↑↓ / j k", "move"),
    (
        "Enter",
        "group detail: partitions, members, lag chart, rebalances",
    ),
    ("/", "filter groups"),
    ("s", "sort by lag, name or state"),
    ("r", "refresh now"),
    ("Esc", "cancel a running refresh"),
];

pub const DETAIL_HELP: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "partitions, members, lag, rebalances"),
    ("↑↓ / j k", "move / scroll"),
    ("Space", "mark a partition for an offset reset"),
    ("b", "browse the partition from its committed offset"),
    ("R", "reset offsets (dry run first; group must be Empty)"),
    ("D", "delete the group (must be Empty; typed confirmation)"),
    ("w", "save the rebalance timeline as JSON Lines"),
    ("r", "refresh now"),
    ("Esc", "back to the list"),
];

impl GroupsPane {
    #[must_use]
    pub fn new(env: &crate::app::Env) -> Self {
        Self {
            refresh_ms: env.groups_refresh_ms.max(200),
            histories: env
                .watch_groups
                .iter()
                .map(|g| (g.clone(), GroupHistory::default()))
                .collect(),
            ..Default::default()
        }
    }

    #[must_use]
    pub fn captures_keys(&self) -> bool {
        self.filtering || self.dialog.is_some()
    }

    #[must_use]
    pub fn help(&self) -> &'static [(&'static str, &'static str)] {
        if self.open.is_some() {
            DETAIL_HELP
        } else {
            HELP
        }
    }

    fn list_height(ctx: &Ctx<'_>) -> usize {
        ctx.body_height().saturating_sub(5).max(1)
    }

    pub fn recompute(&mut self) {
        let needle = self.filter.text.to_lowercase();
        let mut v: Vec<&String> = self
            .histories
            .keys()
            .filter(|g| needle.is_empty() || g.to_lowercase().contains(&needle))
            .collect();
        let lag = |g: &str| {
            self.histories
                .get(g)
                .and_then(|h| h.samples.back())
                .map_or(-1, |s| s.total_lag)
        };
        let state = |g: &str| {
            self.histories
                .get(g)
                .and_then(|h| h.last.as_ref())
                .map_or(String::new(), |s| s.state().to_string())
        };
        match self.sort {
            SortKey::Name => v.sort(),
            SortKey::Lag => v.sort_by(|a, b| lag(b).cmp(&lag(a)).then(a.cmp(b))),
            SortKey::State => v.sort_by(|a, b| state(a).cmp(&state(b)).then(a.cmp(b))),
        }
        self.view = v.into_iter().cloned().collect();
    }

    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight.is_none() {
            let id = ctx.id();
            self.in_flight = Some(id);
            self.in_flight_since = ctx.now_ms;
            ctx.cmds.push(Command::RefreshGroups { id, only: None });
        }
    }

    /// Refresh on the interval, never two at once.
    pub fn tick_legacy(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.now_ms >= self.next_refresh_ms && self.in_flight.is_none() {
            self.refresh(ctx);
            self.next_refresh_ms = ctx.now_ms + self.refresh_ms;
        }
    }

    pub fn paste_legacy(&mut self, s: &str) {
        if self.filtering {
            self.filter.insert_str(s);
            self.recompute();
            self.scroll = Scroll::default();
        }
        match &mut self.dialog {
            Some(Dialog::Reset(ResetDialog {
                stage: ResetStage::Target(i, _),
                ..
            })) => i.insert_str(s),
            Some(Dialog::Reset(ResetDialog {
                stage: ResetStage::Plan(_, c),
                ..
            })) => c.input.insert_str(s),
            Some(Dialog::Delete(c, _)) => c.input.insert_str(s),
            Some(Dialog::SaveTimeline(i)) => i.insert_str(s),
            _ => {}
        }
    }

    pub fn refused_legacy(&mut self, id: ReqId) {
        match &self.dialog {
            Some(Dialog::Reset(ResetDialog {
                stage: ResetStage::Applying(r),
                ..
            })) if *r == id => self.dialog = None,
            Some(Dialog::Delete(_, Some(r))) if *r == id => self.dialog = None,
            _ => {}
        }
    }

    #[must_use]
    pub fn selected(&self) -> Option<&String> {
        self.view.get(self.scroll.selected)
    }

    #[must_use]
    pub fn current(&self) -> Option<(&String, &GroupHistory)> {
        let g = self.open.as_ref()?;
        self.histories.get_key_value(g)
    }

    pub fn on_key_legacy(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_key(key, ctx);
            return;
        }
        if self.filtering {
            match self.filter.handle(key) {
                InputResult::Submit => self.filtering = false,
                InputResult::Cancel => {
                    self.filtering = false;
                    self.filter = LineInput::default();
                    self.recompute();
                }
                InputResult::Changed => {
                    self.recompute();
                    self.scroll = Scroll::default();
                }
                _ => {}
            }
            return;
        }
        if self.open.is_some() {
            self.detail_key(key, ctx);
            return;
        }
        let h = Self::list_height(ctx);
        if self.scroll.handle_nav(key, self.view.len(), h) {
            return;
        }
        match key.code {
            KeyCode::Char('/') => self.filtering = true,
            KeyCode::Char('s') => {
                self.sort = match self.sort {
                    SortKey::Lag => SortKey::Name,
                    SortKey::Name => SortKey::State,
                    SortKey::State => SortKey::Lag,
                };
                self.recompute();
            }
            KeyCode::Char('r') => self.refresh(ctx),
            KeyCode::Esc => {
                if self.in_flight.take().is_some() {
                    ctx.info("refresh cancelled; the next one follows on the interval");
                } else if !self.filter.text.is_empty() {
                    self.filter = LineInput::default();
                    self.recompute();
                }
            }
            KeyCode::Enter => {
                if let Some(g) = self.selected().cloned() {
                    self.open = Some(g);
                    self.tab = Tab::Partitions;
                    self.detail_scroll = Scroll::default();
                    self.marked.clear();
                }
            }
            _ => {}
        }
    }

    fn detail_len(&self) -> usize {
        let Some((_, h)) = self.current() else {
            return 0;
        };
        match self.tab {
            Tab::Partitions => h.last.as_ref().map_or(0, |s| s.partitions.len()),
            Tab::Members => h
                .last
                .as_ref()
                .and_then(|s| s.description.as_ref())
                .map_or(0, |d| d.members.len()),
            Tab::Lag => 0,
            Tab::Events => h.events.len(),
        }
    }

    fn detail_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let h = ctx.body_height().saturating_sub(7).max(1);
        let len = self.detail_len();
        if self.detail_scroll.handle_nav(key, len, h) {
            return;
        }
        let Some(group) = self.open.clone() else {
            return;
        };
        match key.code {
            KeyCode::Esc | KeyCode::Backspace => self.open = None,
            KeyCode::Tab | KeyCode::BackTab => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                self.tab = Tab::ALL[if key.code == KeyCode::Tab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
                self.detail_scroll = Scroll::default();
            }
            KeyCode::Char('r') => self.refresh(ctx),
            KeyCode::Char(' ') if self.tab == Tab::Partitions => {
                if let Some(tp) = self.partition_at(self.detail_scroll.selected) {
                    if !self.marked.remove(&tp) {
                        self.marked.insert(tp);
                    }
                    self.detail_scroll.move_by(1, len, h);
                }
            }
            KeyCode::Char('b') if self.tab == Tab::Partitions => {
                let sel = self.detail_scroll.selected;
                let row = self
                    .current()
                    .and_then(|(_, hist)| hist.last.as_ref())
                    .and_then(|s| s.partitions.get(sel))
                    .cloned();
                if let Some(p) = row {
                    ctx.nav = Some(Nav::Browse(BrowseSpec {
                        topic: p.topic.clone(),
                        partitions: Some(vec![p.partition]),
                        start: p.committed.map_or(StartAt::Beginning, StartAt::Offset),
                    }));
                }
            }
            KeyCode::Char('R') => {
                if ctx.refuse_if_read_only("resetting offsets") {
                    return;
                }
                let partitions =
                    (!self.marked.is_empty()).then(|| self.marked.iter().cloned().collect());
                self.dialog = Some(Dialog::Reset(ResetDialog {
                    group,
                    partitions,
                    stage: ResetStage::Target(LineInput::with("earliest"), None),
                }));
            }
            KeyCode::Char('D') => {
                if ctx.refuse_if_read_only("deleting groups") {
                    return;
                }
                let detail = vec![
                    "The group's committed offsets are deleted with it.".to_string(),
                    "Only an Empty group can be deleted. Type the group name to confirm."
                        .to_string(),
                ];
                self.dialog = Some(Dialog::Delete(
                    Confirm::new("Delete group", &group, detail),
                    None,
                ));
            }
            KeyCode::Char('w') => {
                let safe: String = group
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let path = ctx
                    .env
                    .data_dir
                    .join(format!("rebalances-{safe}-{}.jsonl", ctx.now_ms));
                self.dialog = Some(Dialog::SaveTimeline(LineInput::with(
                    &path.display().to_string(),
                )));
            }
            _ => {}
        }
    }

    fn partition_at(&self, i: usize) -> Option<TopicPartition> {
        let (_, h) = self.current()?;
        h.last
            .as_ref()?
            .partitions
            .get(i)
            .map(|p| TopicPartition::new(&p.topic, p.partition))
    }

    fn dialog_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let state = self.current().and_then(|(_, h)| h.last.as_ref()).map(|s| {
            (
                s.state().to_string(),
                s.description.as_ref().map_or(0, |d| d.members.len()),
            )
        });
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        match dialog {
            Dialog::Reset(r) => match &mut r.stage {
                ResetStage::Target(input, err) => match input.handle(key) {
                    InputResult::Cancel => self.dialog = None,
                    InputResult::Submit => match parse_target(&input.text, ctx.now_ms) {
                        Ok(target) => {
                            let id = ctx.id();
                            ctx.cmds.push(Command::PlanOffsetReset {
                                id,
                                group: r.group.clone(),
                                target,
                                partitions: r.partitions.clone(),
                            });
                            r.stage = ResetStage::Planning(id);
                        }
                        Err(e) => *err = Some(e),
                    },
                    InputResult::Changed => *err = None,
                    _ => {}
                },
                ResetStage::Planning(_) | ResetStage::Applying(_) => {
                    if key.code == KeyCode::Esc {
                        self.dialog = None;
                    }
                }
                ResetStage::Plan(rows, confirm) => match confirm.input.handle(key) {
                    InputResult::Cancel => self.dialog = None,
                    InputResult::Submit => {
                        let empty = matches!(&state, Some((s, 0)) if s == "Empty" || s == "Dead");
                        if !empty {
                            let why = match &state {
                                Some((s, n)) if s == "Unknown" => {
                                    format!(
                                        "the group's state is unknown ({n} member(s) seen): it must be Empty"
                                    )
                                }
                                Some((s, n)) => format!(
                                    "the group is {s} with {n} member(s): stop its consumers first"
                                ),
                                None => "the group's state is not known yet".into(),
                            };
                            ctx.error(format!("offsets not reset: {why}"));
                        } else if !confirm.matches() {
                            ctx.warn("the name typed does not match: nothing changed");
                            self.dialog = None;
                        } else {
                            let id = ctx.id();
                            ctx.cmds.push(Command::ApplyOffsetReset {
                                id,
                                group: r.group.clone(),
                                rows: rows.clone(),
                            });
                            r.stage = ResetStage::Applying(id);
                        }
                    }
                    _ => {}
                },
            },
            Dialog::Delete(confirm, in_flight) => {
                if in_flight.is_some() {
                    return;
                }
                match confirm.input.handle(key) {
                    InputResult::Cancel => self.dialog = None,
                    InputResult::Submit => {
                        if confirm.matches() {
                            let id = ctx.id();
                            *in_flight = Some(id);
                            ctx.cmds.push(Command::DeleteGroup {
                                id,
                                group: confirm.expected.clone(),
                            });
                        } else {
                            ctx.warn("the name typed does not match: nothing deleted");
                            self.dialog = None;
                        }
                    }
                    _ => {}
                }
            }
            Dialog::SaveTimeline(input) => match input.handle(key) {
                InputResult::Cancel => self.dialog = None,
                InputResult::Submit => {
                    let path = std::path::PathBuf::from(input.text.trim());
                    self.dialog = None;
                    if let Some((_, h)) = self.current() {
                        let mut contents = String::new();
                        for e in &h.events {
                            contents.push_str(&crate::jsonl::to_safe_string(e, false));
                            contents.push('\n');
                        }
                        ctx.effects.push(Effect::WriteFile {
                            path,
                            contents,
                            what: format!("timeline ({} events)", h.events.len()),
                        });
                    }
                }
                _ => {}
            },
        }
    }

    pub fn on_worker_legacy(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Groups { id, result } => {
                if self.in_flight != Some(id) {
                    return;
                }
                self.in_flight = None;
                match result {
                    Ok(snap) => {
                        self.list_note = snap.list_note;
                        self.refreshed_ms = Some(snap.at_ms);
                        self.last_error = None;
                        let keep = self.selected().cloned();
                        let seen: BTreeSet<String> =
                            snap.groups.iter().map(|g| g.group.clone()).collect();
                        for g in snap.groups {
                            self.histories
                                .entry(g.group.clone())
                                .or_default()
                                .observe(g);
                        }
                        // Groups that vanished (deleted) and are not watched go away.
                        self.histories
                            .retain(|g, _| seen.contains(g) || ctx.env.watch_groups.contains(g));
                        self.recompute();
                        if let Some(k) = keep {
                            if let Some(p) = self.view.iter().position(|g| *g == k) {
                                self.scroll
                                    .select(p, self.view.len(), Self::list_height(ctx));
                            }
                        }
                        self.scroll
                            .keep_visible(self.view.len(), Self::list_height(ctx));
                    }
                    Err(e) => {
                        self.last_error = Some((ctx.now_ms, e.clone()));
                    }
                }
            }
            WorkerEvent::ResetPlan { id, group, result } => {
                if let Some(Dialog::Reset(r)) = &mut self.dialog {
                    if r.stage == ResetStage::Planning(id) {
                        match result {
                            Ok(rows) => {
                                let confirm = Confirm::new("Reset offsets of", &group, vec![]);
                                r.stage = ResetStage::Plan(rows, confirm);
                            }
                            Err(e) => {
                                r.stage = ResetStage::Target(LineInput::with("earliest"), Some(e))
                            }
                        }
                    }
                }
            }
            WorkerEvent::ResetApplied { id, group, result } => {
                if let Some(Dialog::Reset(r)) = &self.dialog {
                    if r.stage == ResetStage::Applying(id) {
                        self.dialog = None;
                        match result {
                            Ok(n) => {
                                ctx.info(format!("reset {n} partition offset(s) of {group}"));
                                self.marked.clear();
                                self.refresh(ctx);
                            }
                            Err(e) => ctx.error(format!("offset reset of {group} failed: {e}")),
                        }
                    }
                }
            }
            WorkerEvent::GroupDeleted { id, group, result } => {
                if let Some(Dialog::Delete(_, Some(r))) = &self.dialog {
                    if *r == id {
                        self.dialog = None;
                        match result {
                            Ok(()) => {
                                ctx.info(format!("deleted group {group}"));
                                self.open = None;
                                self.refresh(ctx);
                            }
                            Err(e) => ctx.error(format!("delete {group}: {e}")),
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // ---- drawing ----

    fn refresh_spans(&self, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
        let t = dc.theme;
        let mut v = Vec::new();
        if self.in_flight.is_some() {
            v.push(Span::styled(
                format!("{} refreshing", dc.spinner()),
                t.accent,
            ));
            let waited = dc.now_ms - self.in_flight_since;
            if waited > 3000 {
                v.push(Span::styled(
                    format!(" ({}s, Esc cancels)", waited / 1000),
                    t.warn,
                ));
            }
            v.push(Span::raw("  "));
        }
        match self.refreshed_ms {
            Some(ms) => v.push(Span::styled(
                format!(
                    "refreshed {} ({})",
                    timeutil::format_clock(ms),
                    timeutil::ago(dc.now_ms, ms)
                ),
                t.muted,
            )),
            None => v.push(Span::styled("not refreshed yet", t.muted)),
        }
        v
    }

    fn error_line(&self, dc: &DrawCtx<'_>) -> Option<Line<'static>> {
        let (at, e) = self.last_error.as_ref()?;
        Some(Line::from(vec![
            Span::styled(
                format!("last refresh failed at {}: ", timeutil::format_clock(*at)),
                dc.theme.error,
            ),
            widgets::text(e, dc.theme.error),
        ]))
    }

    pub fn draw_legacy(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        if let Some((g, h)) = self.current() {
            self.draw_detail(g, h, f, area, dc);
        } else {
            self.draw_list(f, area, dc);
        }
        match &self.dialog {
            Some(Dialog::Reset(r)) => draw_reset(r, f, area, dc),
            Some(Dialog::Delete(c, busy)) => {
                crate::ui::dialog::confirm(c, busy.is_some(), f, area, dc)
            }
            Some(Dialog::SaveTimeline(input)) => {
                let r = widgets::centered(area, 72, 4);
                f.render_widget(Clear, r);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(dc.theme.border_focused)
                    .title(Span::styled(
                        " Save the rebalance timeline ",
                        dc.theme.title,
                    ));
                let inner = block.inner(r);
                f.render_widget(block, r);
                let mut s = vec![Span::styled("file: ", dc.theme.muted)];
                s.extend(input.spans(dc.theme, true));
                f.render_widget(
                    Paragraph::new(vec![
                        Line::from(s),
                        widgets::hints(dc.theme, &[("Enter", "save"), ("Esc", "cancel")]),
                    ]),
                    inner,
                );
            }
            None => {}
        }
    }

    fn draw_list(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(
                format!(" Consumer groups {} ", self.view.len()),
                t.title,
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [head, note, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        let mut spans = Vec::new();
        if self.filtering || !self.filter.text.is_empty() {
            spans.push(Span::styled("/", t.key_hint));
            spans.extend(self.filter.spans(t, self.filtering));
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            format!(
                "sort {}  ",
                match self.sort {
                    SortKey::Lag => "lag",
                    SortKey::Name => "name",
                    SortKey::State => "state",
                }
            ),
            t.muted,
        ));
        spans.extend(self.refresh_spans(dc));
        f.render_widget(Paragraph::new(Line::from(spans)), head);
        if let Some(line) = self.error_line(dc) {
            f.render_widget(Paragraph::new(line), note);
        } else if let Some(n) = &self.list_note {
            f.render_widget(Paragraph::new(widgets::text(n, t.warn)), note);
        }
        if self.view.is_empty() {
            let msg = if self.refreshed_ms.is_none() {
                "loading groups…"
            } else {
                "no consumer groups"
            };
            f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), body);
            return;
        }
        let height = usize::from(body.height.saturating_sub(1)).max(1);
        let mut scroll = self.scroll;
        scroll.keep_visible(self.view.len(), height);
        let wide = body.width >= 110;
        let show_topics = body.width >= 96;
        let rows = self
            .view
            .iter()
            .enumerate()
            .skip(scroll.offset)
            .take(height)
            .map(|(i, g)| {
                let h = &self.histories[g];
                let snap = h.last.as_ref();
                let state = snap.map_or("…".to_string(), |s| s.state().to_string());
                let members = snap
                    .and_then(|s| s.description.as_ref())
                    .map_or("?".to_string(), |d| d.members.len().to_string());
                let assignor = snap
                    .and_then(|s| s.description.as_ref())
                    .map_or(String::new(), |d| {
                        format!("{}/{}", d.protocol_type, d.protocol)
                    });
                let topics = snap.map_or(String::new(), |s| s.topics().join(","));
                let lag = h.samples.back().map(|s| s.total_lag);
                let growing = h.growing(RATE_WINDOW_MS);
                let lag_style = match lag {
                    Some(l) if growing && l > 1000 => t.lag_crit,
                    Some(_) if growing => t.lag_warn,
                    _ => t.lag_ok,
                };
                let style = if i == scroll.selected {
                    t.selection
                } else {
                    t.text
                };
                let mut cells = vec![
                    Cell::from(widgets::text_cut(g, 40, Style::default())),
                    Cell::from(widgets::text(&state, state_style(&state, dc))),
                    Cell::from(members),
                ];
                if wide {
                    cells.push(Cell::from(widgets::text_cut(&assignor, 24, t.muted)));
                }
                if show_topics {
                    cells.push(Cell::from(widgets::text_cut(&topics, 30, t.muted)));
                }
                cells.push(Cell::from(Span::styled(
                    lag.map_or("?".into(), widgets::thousands) + if growing { " ↑" } else { "" },
                    lag_style,
                )));
                cells.push(Cell::from(Span::styled(sparkline(h, 12), lag_style)));
                Row::new(cells).style(style)
            });
        let mut widths = vec![
            Constraint::Min(12),
            Constraint::Length(19),
            Constraint::Length(7),
        ];
        let mut header = vec!["GROUP", "STATE", "MEMBERS"];
        if wide {
            widths.push(Constraint::Length(24));
            header.push("PROTOCOL/ASSIGNOR");
        }
        if show_topics {
            widths.push(Constraint::Length(16));
            header.push("TOPICS");
        }
        widths.extend([Constraint::Length(13), Constraint::Length(12)]);
        header.extend(["LAG", "TREND"]);
        f.render_widget(
            Table::new(rows, widths).header(Row::new(header).style(t.header)),
            body,
        );
    }

    fn draw_detail(
        &self,
        g: &str,
        h: &GroupHistory,
        f: &mut Frame<'_>,
        area: Rect,
        dc: &DrawCtx<'_>,
    ) {
        let t = dc.theme;
        let snap = h.last.as_ref();
        let state = snap.map_or("…".to_string(), |s| s.state().to_string());
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Line::from(vec![
                Span::styled(" Group ", t.title),
                widgets::text(g, t.title),
                Span::raw(" "),
                Span::styled(
                    format!(" {} ", crate::sanitize::escape(&state)),
                    state_style(&state, dc),
                ),
            ]));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [tabs, summary, notes, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        let mut ts = Vec::new();
        for tab in Tab::ALL {
            ts.push(Span::styled(
                format!(" {} ", tab.label()),
                if tab == self.tab { t.tab_active } else { t.tab },
            ));
            ts.push(Span::raw(" "));
        }
        ts.extend(self.refresh_spans(dc));
        f.render_widget(Paragraph::new(Line::from(ts)), tabs);
        // Summary: lag, rates, ETA.
        let total = h.samples.back().map(|s| s.total_lag);
        let mut s = vec![
            Span::styled("lag ", t.muted),
            Span::styled(total.map_or("?".into(), widgets::thousands), t.accent),
        ];
        if let Some(r) = h.rates(RATE_WINDOW_MS) {
            s.push(Span::styled(
                format!("  in {:.1}/s  out {:.1}/s  ", r.produce, r.consume),
                t.muted,
            ));
        }
        s.push(match h.eta(RATE_WINDOW_MS) {
            Eta::CaughtUp => Span::styled("caught up", t.ok),
            Eta::Seconds(secs) => Span::styled(
                format!("catch-up in ~{}", timeutil::human_duration(secs)),
                t.ok,
            ),
            Eta::FallingBehind => Span::styled("falling behind", t.lag_crit),
            Eta::Unknown => Span::styled("catch-up time unknown yet", t.muted),
        });
        if let Some(d) = snap.and_then(|s| s.description.as_ref()) {
            s.push(Span::styled(
                format!(
                    "  {} member(s)  {}/{}",
                    d.members.len(),
                    crate::sanitize::escape(&d.protocol_type),
                    if d.protocol.is_empty() {
                        std::borrow::Cow::Borrowed("assignor not reported")
                    } else {
                        crate::sanitize::escape(&d.protocol)
                    }
                ),
                t.muted,
            ));
        }
        if let Some(since) = h.unstable_since {
            s.push(Span::styled(
                format!(
                    "  not stable for {}",
                    timeutil::human_duration(((dc.now_ms - since) / 1000) as f64)
                ),
                t.warn,
            ));
        }
        f.render_widget(Paragraph::new(Line::from(s)), summary);
        let note: Vec<String> = snap
            .map(|s| {
                s.description_note
                    .iter()
                    .chain(s.offsets_note.iter())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if let Some(line) = self.error_line(dc) {
            f.render_widget(Paragraph::new(line), notes);
        } else if !note.is_empty() {
            f.render_widget(
                Paragraph::new(widgets::text(&note.join("; "), t.warn)),
                notes,
            );
        } else if !self.marked.is_empty() {
            f.render_widget(
                Paragraph::new(Span::styled(
                    format!("{} partition(s) marked for reset", self.marked.len()),
                    t.accent,
                )),
                notes,
            );
        }
        let Some(snap) = snap else {
            f.render_widget(
                Paragraph::new(Span::styled("waiting for the first refresh…", t.muted)),
                body,
            );
            return;
        };
        let height = usize::from(body.height.saturating_sub(1)).max(1);
        let mut scroll = self.detail_scroll;
        match self.tab {
            Tab::Partitions => self.draw_partitions(snap, &mut scroll, height, f, body, dc),
            Tab::Members => draw_members(snap, &mut scroll, height, f, body, dc),
            Tab::Lag => draw_chart(h, f, body, dc),
            Tab::Events => {
                scroll.keep_visible(h.events.len(), height + 1);
                let lines: Vec<Line<'static>> = if h.events.is_empty() {
                    vec![Line::from(Span::styled("no events yet", t.muted))]
                } else {
                    h.events
                        .iter()
                        .rev()
                        .skip(scroll.offset)
                        .take(height + 1)
                        .map(|e| {
                            Line::from(vec![
                                Span::styled(
                                    format!("{}  ", timeutil::format_clock(e.at_ms)),
                                    t.muted,
                                ),
                                Span::styled(e.describe(), t.text),
                            ])
                        })
                        .collect()
                };
                f.render_widget(Paragraph::new(lines), body);
            }
        }
    }

    fn draw_partitions(
        &self,
        snap: &GroupSnapshot,
        scroll: &mut Scroll,
        height: usize,
        f: &mut Frame<'_>,
        body: Rect,
        dc: &DrawCtx<'_>,
    ) {
        let t = dc.theme;
        if snap.partitions.is_empty() {
            f.render_widget(
                Paragraph::new(Span::styled(
                    "no committed offsets and no assignments",
                    t.muted,
                )),
                body,
            );
            return;
        }
        // Per-topic totals as a footer line.
        let mut per_topic: BTreeMap<&str, i64> = BTreeMap::new();
        for p in &snap.partitions {
            *per_topic.entry(&p.topic).or_default() += p.lag.unwrap_or(0);
        }
        let [table_a, totals_a] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(body);
        let height = height.saturating_sub(1).max(1);
        scroll.keep_visible(snap.partitions.len(), height);
        let members_known = snap.description.is_some();
        let rows = snap
            .partitions
            .iter()
            .enumerate()
            .skip(scroll.offset)
            .take(height)
            .map(|(i, p)| {
                let marked = self
                    .marked
                    .contains(&TopicPartition::new(&p.topic, p.partition));
                let owner = match (&p.member_id, members_known) {
                    (Some(m), _) => widgets::text_cut(m, 36, t.text),
                    (None, true) => {
                        let reported = snap
                            .description
                            .as_ref()
                            .is_some_and(|d| d.members.iter().all(|m| m.assignment.is_some()));
                        if reported {
                            Span::styled("unassigned", t.muted)
                        } else {
                            Span::styled("not reported by broker", t.muted)
                        }
                    }
                    (None, false) => Span::styled("unknown", t.muted),
                };
                let style = if i == scroll.selected {
                    t.selection
                } else {
                    t.text
                };
                Row::new(vec![
                    Cell::from(if marked { "*" } else { " " }),
                    Cell::from(widgets::text_cut(&p.topic, 30, Style::default())),
                    Cell::from(p.partition.to_string()),
                    Cell::from(p.committed.map_or("none".into(), widgets::thousands)),
                    Cell::from(p.end.map_or("?".into(), widgets::thousands)),
                    Cell::from(Span::styled(
                        p.lag.map_or("-".into(), widgets::thousands),
                        if p.lag.unwrap_or(0) > 0 {
                            t.lag_warn
                        } else {
                            t.lag_ok
                        },
                    )),
                    Cell::from(owner),
                ])
                .style(style)
            });
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Min(10),
                Constraint::Length(5),
                Constraint::Length(12),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new(vec![
                "",
                "TOPIC",
                "PART",
                "COMMITTED",
                "END",
                "LAG",
                "OWNER",
            ])
            .style(t.header),
        );
        f.render_widget(table, table_a);
        let mut spans = vec![Span::styled("per topic: ", t.muted)];
        for (topic, lag) in per_topic {
            spans.push(widgets::text(topic, t.text));
            spans.push(Span::styled(
                format!(" {}  ", widgets::thousands(lag)),
                t.accent,
            ));
        }
        spans.push(Span::styled(
            format!("group total {}", widgets::thousands(snap.total_lag())),
            t.accent,
        ));
        f.render_widget(Paragraph::new(Line::from(spans)), totals_a);
    }
}

fn state_style(state: &str, dc: &DrawCtx<'_>) -> Style {
    let t = dc.theme;
    match state {
        "Stable" => t.ok,
        "Empty" => t.muted,
        "PreparingRebalance" | "CompletingRebalance" => t.warn,
        "Dead" => t.error,
        _ => t.muted,
    }
}

/// Total lag over the last samples as block characters.
#[must_use]
pub fn sparkline(h: &GroupHistory, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let n = h.samples.len().min(width);
    let pts: Vec<i64> = h
        .samples
        .iter()
        .skip(h.samples.len() - n)
        .map(|s| s.total_lag)
        .collect();
    let max = pts.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        return "▁".repeat(pts.len());
    }
    pts.iter()
        .map(|v| {
            let i = usize::try_from(v * 7 / max).unwrap_or(0).min(7);
            BARS[i]
        })
        .collect()
}

fn draw_members(
    snap: &GroupSnapshot,
    scroll: &mut Scroll,
    height: usize,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let Some(d) = &snap.description else {
        let why = snap
            .description_note
            .clone()
            .unwrap_or_else(|| "membership not reported".into());
        f.render_widget(Paragraph::new(widgets::text(&why, t.warn)), body);
        return;
    };
    if d.members.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("no members (the group is empty)", t.muted)),
            body,
        );
        return;
    }
    scroll.keep_visible(d.members.len(), height);
    let rows = d
        .members
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, m)| {
            let or_unreported = |s: &str| {
                if s.is_empty() {
                    Span::styled("not reported by broker", t.muted)
                } else {
                    widgets::text_cut(s, 30, t.text)
                }
            };
            let assigned = match (&m.assignment, &m.assignment_note) {
                (Some(a), _) => {
                    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
                    for tp in a {
                        by_topic.entry(&tp.topic).or_default().push(tp.partition);
                    }
                    let s = by_topic
                        .iter()
                        .map(|(tp, ps)| {
                            format!(
                                "{tp}[{}]",
                                ps.iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join(",")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    widgets::text_cut(
                        if s.is_empty() { "nothing assigned" } else { &s },
                        60,
                        t.text,
                    )
                }
                (None, Some(n)) => widgets::text(n, t.muted),
                (None, None) => Span::styled("not reported by broker", t.muted),
            };
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Row::new(vec![
                Cell::from(widgets::text_cut(&m.member_id, 44, t.text)),
                Cell::from(or_unreported(&m.client_id)),
                Cell::from(or_unreported(&m.host)),
                Cell::from(assigned),
            ])
            .style(style)
        });
    let table = Table::new(
        rows,
        [
            Constraint::Min(16),
            Constraint::Length(22),
            Constraint::Length(22),
            Constraint::Min(16),
        ],
    )
    .header(Row::new(vec!["MEMBER", "CLIENT ID", "HOST", "ASSIGNED"]).style(t.header));
    f.render_widget(table, body);
}

#[allow(clippy::cast_precision_loss)]
fn draw_chart(h: &GroupHistory, f: &mut Frame<'_>, body: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    if h.samples.len() < 2 {
        f.render_widget(
            Paragraph::new(Span::styled("collecting samples…", t.muted)),
            body,
        );
        return;
    }
    let first = h.samples.front().map_or(0, |s| s.at_ms);
    let lag: Vec<(f64, f64)> = h
        .samples
        .iter()
        .map(|s| ((s.at_ms - first) as f64 / 1000.0, s.total_lag as f64))
        .collect();
    // Rates between consecutive samples.
    let mut produce = Vec::new();
    let mut consume = Vec::new();
    for w in h.samples.iter().collect::<Vec<_>>().windows(2) {
        let dt = ((w[1].at_ms - w[0].at_ms) as f64 / 1000.0).max(0.001);
        let x = (w[1].at_ms - first) as f64 / 1000.0;
        produce.push((x, (w[1].end_sum - w[0].end_sum).max(0) as f64 / dt));
        consume.push((
            x,
            (w[1].committed_sum - w[0].committed_sum).max(0) as f64 / dt,
        ));
    }
    let xmax = lag.last().map_or(1.0, |p| p.0).max(1.0);
    let ymax = lag
        .iter()
        .chain(&produce)
        .chain(&consume)
        .map(|p| p.1)
        .fold(1.0f64, f64::max)
        * 1.1;
    let datasets = vec![
        Dataset::default()
            .name("total lag")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.lag_warn)
            .data(&lag),
        Dataset::default()
            .name("produced/s")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.accent)
            .data(&produce),
        Dataset::default()
            .name("committed/s")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.ok)
            .data(&consume),
    ];
    let chart = Chart::new(datasets)
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)))
        .x_axis(
            Axis::default()
                .style(t.muted)
                .bounds([0.0, xmax])
                .labels(vec![Span::raw("0s"), Span::raw(format!("{xmax:.0}s"))]),
        )
        .y_axis(
            Axis::default()
                .style(t.muted)
                .bounds([0.0, ymax])
                .labels(vec![Span::raw("0"), Span::raw(format!("{ymax:.0}"))]),
        );
    f.render_widget(chart, body);
}

fn draw_reset(r: &ResetDialog, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let rect = widgets::centered(
        area,
        area.width.saturating_sub(6).min(96),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.error)
        .title(Line::from(vec![
            Span::styled(" Reset offsets of ", t.error),
            widgets::text(&r.group, t.error),
            Span::raw(" "),
        ]));
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let scope = match &r.partitions {
        None => "all partitions with committed offsets".to_string(),
        Some(p) => format!("{} marked partition(s)", p.len()),
    };
    let mut lines: Vec<Line<'static>> =
        vec![Line::from(Span::styled(format!("scope: {scope}"), t.muted))];
    match &r.stage {
        ResetStage::Target(input, err) => {
            lines.push(Line::from(Span::styled(
                "target: earliest | latest | offset N | shift ±N | @2026-11-22T10:00:00Z | -15m",
                t.muted,
            )));
            let mut s = vec![Span::styled("> ", t.key_hint)];
            s.extend(input.spans(t, true));
            lines.push(Line::from(s));
            if let Some(e) = err {
                lines.push(Line::from(widgets::text(e, t.error)));
            }
            lines.push(widgets::hints(
                t,
                &[("Enter", "dry run"), ("Esc", "cancel")],
            ));
        }
        ResetStage::Planning(_) => lines.push(Line::from(Span::styled(
            format!("{} computing the dry run…", dc.spinner()),
            t.accent,
        ))),
        ResetStage::Applying(_) => lines.push(Line::from(Span::styled(
            format!("{} committing…", dc.spinner()),
            t.accent,
        ))),
        ResetStage::Plan(rows, confirm) => {
            lines.push(Line::from(Span::styled(
                "dry run — nothing is changed until you confirm:",
                t.warn,
            )));
            lines.push(Line::from(Span::styled(
                format!(
                    "{:<30} {:>5} {:>12}    {:>12} {:>10}",
                    "TOPIC", "PART", "CURRENT", "NEW", "NEW LAG"
                ),
                t.header,
            )));
            let room = usize::from(inner.height).saturating_sub(7);
            for row in rows.iter().take(room) {
                lines.push(Line::from(vec![
                    widgets::text_cut(&format!("{:<30}", row.tp.topic), 30, t.text),
                    Span::styled(
                        format!(
                            " {:>5} {:>12} →  {:>12} {:>10}",
                            row.tp.partition,
                            row.current.map_or("none".into(), |c| c.to_string()),
                            row.new,
                            row.new_lag()
                        ),
                        t.text,
                    ),
                ]));
            }
            if rows.len() > room {
                lines.push(Line::from(Span::styled(
                    format!("… and {} more", rows.len() - room),
                    t.muted,
                )));
            }
            let mut s = vec![Span::styled("type the group name to apply: ", t.muted)];
            s.extend(confirm.input.spans(t, true));
            lines.push(Line::from(s));
            lines.push(widgets::hints(
                t,
                &[("Enter", "apply (group must be Empty)"), ("Esc", "cancel")],
            ));
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// Parse a reset target typed by the user.
pub fn parse_target(s: &str, now_ms: i64) -> Result<ResetTarget, String> {
    let s = s.trim();
    match s {
        "earliest" | "beginning" => return Ok(ResetTarget::Earliest),
        "latest" | "end" => return Ok(ResetTarget::Latest),
        _ => {}
    }
    if let Some(n) = s.strip_prefix("offset ") {
        return n
            .trim()
            .parse()
            .map(ResetTarget::Offset)
            .map_err(|_| format!("`{n}` is not an offset"));
    }
    if let Some(n) = s.strip_prefix("shift ") {
        return n
            .trim()
            .parse()
            .map(ResetTarget::Shift)
            .map_err(|_| format!("`{n}` is not a number"));
    }
    if let Some(ts) = s.strip_prefix('@') {
        return timeutil::parse_time(ts, now_ms)
            .map(ResetTarget::Timestamp)
            .map_err(|e| e.to_string());
    }
    if s.starts_with('-') && s.chars().any(|c| c.is_ascii_alphabetic()) {
        return timeutil::parse_time(s, now_ms)
            .map(ResetTarget::Timestamp)
            .map_err(|e| e.to_string());
    }
    if let Ok(o) = s.parse::<i64>() {
        return Ok(ResetTarget::Offset(o));
    }
    Err(format!(
        "`{s}`: use earliest, latest, offset N, shift ±N, @TIME or -15m"
    ))
}

impl super::Pane for GroupsPane {
    fn key_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        Vec::new()
    }
    fn help_contexts(&self) -> Vec<crate::app::keymap::KeyContext> {
        use crate::app::keymap::KeyContext;
        if self.open.is_some() {
            vec![KeyContext::GroupDetail, KeyContext::Navigation]
        } else {
            vec![KeyContext::Groups, KeyContext::Navigation]
        }
    }
    fn captures_text(&self) -> bool {
        self.captures_keys()
    }
    fn on_action(&mut self, _action: crate::app::keymap::Action, _ctx: &mut Ctx<'_>) {}
    fn on_text_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        self.on_key_legacy(key, ctx);
    }
    fn on_paste(&mut self, text: &str, _ctx: &mut Ctx<'_>) {
        self.paste_legacy(text);
    }
    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        self.on_worker_legacy(ev, ctx);
    }
    fn refused(&mut self, id: ReqId, _reason: &str) {
        self.refused_legacy(id);
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

    #[test]
    fn reset_targets() {
        assert_eq!(parse_target("earliest", 0).unwrap(), ResetTarget::Earliest);
        assert_eq!(
            parse_target("offset 42", 0).unwrap(),
            ResetTarget::Offset(42)
        );
        assert_eq!(
            parse_target("shift -10", 0).unwrap(),
            ResetTarget::Shift(-10)
        );
        assert_eq!(
            parse_target("-1m", 60_000).unwrap(),
            ResetTarget::Timestamp(0)
        );
        assert_eq!(
            parse_target("@1970-01-01T00:00:01Z", 0).unwrap(),
            ResetTarget::Timestamp(1000)
        );
        assert!(parse_target("sideways", 0).is_err());
    }
}
