//! Topics & partitions pane: the topic list (filter, sort, internal toggle,
//! under-replicated marker), a topic's partitions and configuration, topic
//! creation and deletion, auto-refresh.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table};

use crate::app::{Ctx, DrawCtx, Nav};
use crate::model::{ClusterSnapshot, Configs, TopicDetail, TopicSummary};
use crate::timeutil::{self, StartAt};
use crate::ui::widgets::{self, Confirm, InputResult, LineInput, Scroll};
use crate::worker::protocol::{BrowseSpec, Command, NewTopicSpec, ReqId, WorkerEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Partitions,
    Messages,
    UnderReplicated,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Messages,
            SortKey::Messages => SortKey::Partitions,
            SortKey::Partitions => SortKey::UnderReplicated,
            SortKey::UnderReplicated => SortKey::Name,
        }
    }
    fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Partitions => "partitions",
            SortKey::Messages => "messages",
            SortKey::UnderReplicated => "under-replicated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailTab {
    #[default]
    Partitions,
    Config,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetailView {
    pub topic: String,
    pub data: Option<TopicDetail>,
    pub error: Option<String>,
    pub in_flight: Option<ReqId>,
    pub tab: DetailTab,
    pub scroll: Scroll,
    pub refreshed_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForm {
    pub fields: [LineInput; 4],
    pub focus: usize,
    pub error: Option<String>,
    pub in_flight: Option<ReqId>,
}

const CREATE_LABELS: [&str; 4] = [
    "name",
    "partitions",
    "replication factor",
    "configs (k=v, …)",
];

impl CreateForm {
    fn new(default_rf: usize) -> Self {
        Self {
            fields: [
                LineInput::default(),
                LineInput::with("3"),
                LineInput::with(&default_rf.clamp(1, 3).to_string()),
                LineInput::default(),
            ],
            focus: 0,
            error: None,
            in_flight: None,
        }
    }

    /// Validate into a spec, or say what is wrong.
    pub fn spec(&self) -> Result<NewTopicSpec, String> {
        let name = self.fields[0].text.trim();
        validate_topic_name(name)?;
        let partitions: i32 = self.fields[1]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("partitions must be a positive number")?;
        let replication_factor: i32 = self.fields[2]
            .text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("replication factor must be a positive number")?;
        let mut configs = Vec::new();
        for part in self.fields[3]
            .text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("config `{part}` is not key=value"))?;
            configs.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(NewTopicSpec {
            name: name.to_string(),
            partitions,
            replication_factor,
            configs,
        })
    }
}

/// Kafka's topic name rules.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the topic name is empty".into());
    }
    if name == "." || name == ".." {
        return Err("the topic name cannot be . or ..".into());
    }
    if name.len() > 249 {
        return Err("the topic name is longer than 249 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{}` is not allowed in a topic name (use letters, digits, . _ -)",
            crate::sanitize::escape(&c.to_string())
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Create(CreateForm),
    Delete(Confirm, Option<ReqId>),
}

#[derive(Debug, Clone, Default)]
pub struct TopicsPane {
    pub snapshot: Option<ClusterSnapshot>,
    /// Indices into `snapshot.topics`, filtered and sorted.
    pub view: Vec<usize>,
    pub filter: LineInput,
    pub filtering: bool,
    pub show_internal: bool,
    pub sort: SortKey,
    pub reverse: bool,
    pub scroll: Scroll,
    pub in_flight: Option<ReqId>,
    pub refreshed_ms: Option<i64>,
    pub error: Option<String>,
    pub next_refresh_ms: i64,
    pub detail: Option<DetailView>,
    pub dialog: Option<Dialog>,
}

pub const HELP: &[(&str, &str)] = &[
    ("↑↓ / j k", "move; PgUp PgDn, g G: page, top, bottom"),
    ("Enter", "partitions and configuration of the topic"),
    ("/", "filter topics as you type (Esc clears)"),
    ("s / S", "cycle sort key / reverse order"),
    ("i", "show or hide internal topics"),
    ("r", "refresh now"),
    ("b", "browse the topic's messages"),
    ("p", "produce to the topic"),
    ("c", "create a topic"),
    ("D", "delete the topic (typed confirmation)"),
    ("Esc", "cancel a running refresh / close the detail"),
];

pub const DETAIL_HELP: &[(&str, &str)] = &[
    ("Tab", "switch partitions / configuration"),
    ("↑↓ / j k", "scroll"),
    ("b / Enter", "browse this topic"),
    ("p", "produce to this topic"),
    ("r", "refresh"),
    ("Esc", "back to the topic list"),
];

impl TopicsPane {
    #[must_use]
    pub fn captures_keys(&self) -> bool {
        self.filtering || self.dialog.is_some()
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
        // Pane block (2) + header line + table header.
        ctx.body_height().saturating_sub(5).max(1)
    }

    /// Recompute the filtered, sorted view (on data, filter or sort changes only).
    pub fn recompute(&mut self) {
        let Some(snap) = &self.snapshot else {
            self.view.clear();
            return;
        };
        let needle = self.filter.text.to_lowercase();
        let mut v: Vec<usize> = snap
            .topics
            .iter()
            .enumerate()
            .filter(|(_, t)| self.show_internal || !t.internal)
            .filter(|(_, t)| needle.is_empty() || t.name.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect();
        let topics = &snap.topics;
        match self.sort {
            SortKey::Name => v.sort_by(|a, b| topics[*a].name.cmp(&topics[*b].name)),
            SortKey::Partitions => {
                v.sort_by(|a, b| topics[*b].partitions.cmp(&topics[*a].partitions))
            }
            SortKey::Messages => v.sort_by(|a, b| topics[*b].messages.cmp(&topics[*a].messages)),
            SortKey::UnderReplicated => {
                v.sort_by(|a, b| {
                    topics[*b]
                        .under_replicated
                        .cmp(&topics[*a].under_replicated)
                });
            }
        }
        if self.reverse {
            v.reverse();
        }
        self.view = v;
    }

    #[must_use]
    pub fn selected_topic(&self) -> Option<&TopicSummary> {
        let snap = self.snapshot.as_ref()?;
        self.view
            .get(self.scroll.selected)
            .map(|i| &snap.topics[*i])
    }

    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight.is_none() {
            let id = ctx.id();
            self.in_flight = Some(id);
            ctx.cmds.push(Command::RefreshTopics { id });
        }
        if let Some(d) = &mut self.detail {
            if d.in_flight.is_none() {
                let id = ctx.id();
                d.in_flight = Some(id);
                ctx.cmds.push(Command::DescribeTopic {
                    id,
                    topic: d.topic.clone(),
                });
            }
        }
        self.next_refresh_ms = ctx.now_ms + ctx.env.topics_refresh_ms;
    }

    pub fn tick(&mut self, ctx: &mut Ctx<'_>, visible: bool) {
        let first = self.snapshot.is_none() && self.in_flight.is_none() && self.error.is_none();
        if first || (visible && ctx.now_ms >= self.next_refresh_ms) {
            self.refresh(ctx);
        }
    }

    pub fn paste(&mut self, s: &str) {
        if self.filtering {
            self.filter.insert_str(s);
            self.recompute();
            self.scroll = Scroll::default();
        } else if let Some(Dialog::Create(f)) = &mut self.dialog {
            f.fields[f.focus].insert_str(s);
        } else if let Some(Dialog::Delete(c, _)) = &mut self.dialog {
            c.input.insert_str(s);
        }
    }

    pub fn refused(&mut self, id: ReqId) {
        match &mut self.dialog {
            Some(Dialog::Create(f)) if f.in_flight == Some(id) => f.in_flight = None,
            Some(Dialog::Delete(_, r)) if *r == Some(id) => self.dialog = None,
            _ => {}
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
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
        if self.detail.is_some() {
            self.detail_key(key, ctx);
            return;
        }
        let h = Self::list_height(ctx);
        if self.scroll.handle_nav(key, self.view.len(), h) {
            return;
        }
        match key.code {
            KeyCode::Char('/') => self.filtering = true,
            KeyCode::Esc => {
                if self.in_flight.take().is_some() {
                    ctx.info("refresh cancelled");
                } else if !self.filter.text.is_empty() {
                    self.filter = LineInput::default();
                    self.recompute();
                }
            }
            KeyCode::Char('i') => {
                self.show_internal = !self.show_internal;
                self.recompute();
                self.scroll.keep_visible(self.view.len(), h);
            }
            KeyCode::Char('s') => {
                self.sort = self.sort.next();
                self.recompute();
            }
            KeyCode::Char('S') => {
                self.reverse = !self.reverse;
                self.recompute();
            }
            KeyCode::Char('r') => self.refresh(ctx),
            KeyCode::Enter => {
                if let Some(t) = self.selected_topic() {
                    let topic = t.name.clone();
                    self.detail = Some(DetailView {
                        topic,
                        data: None,
                        error: None,
                        in_flight: None,
                        tab: DetailTab::Partitions,
                        scroll: Scroll::default(),
                        refreshed_ms: None,
                    });
                    self.refresh(ctx);
                }
            }
            KeyCode::Char('b') => {
                if let Some(t) = self.selected_topic() {
                    ctx.nav = Some(Nav::Browse(BrowseSpec {
                        topic: t.name.clone(),
                        partitions: None,
                        start: StartAt::LastN(100),
                    }));
                }
            }
            KeyCode::Char('p') => {
                if let Some(t) = self.selected_topic() {
                    ctx.nav = Some(Nav::Compose(Box::new(super::composer::Prefill::topic(
                        &t.name,
                    ))));
                }
            }
            KeyCode::Char('c') => self.open_create(ctx),
            KeyCode::Char('D') => {
                if ctx.refuse_if_read_only("deleting topics") {
                    return;
                }
                if let Some(t) = self.selected_topic() {
                    if t.internal {
                        ctx.error(format!(
                            "{} is internal: kafkaterm does not delete internal topics",
                            t.name
                        ));
                        return;
                    }
                    let detail = vec![
                        format!(
                            "{} partitions, {} messages will be lost.",
                            t.partitions,
                            t.messages.map_or("unknown".into(), widgets::thousands)
                        ),
                        "Type the topic name to confirm.".into(),
                    ];
                    self.dialog = Some(Dialog::Delete(
                        Confirm::new("Delete topic", &t.name, detail),
                        None,
                    ));
                }
            }
            _ => {}
        }
    }

    fn open_create(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.refuse_if_read_only("creating topics") {
            return;
        }
        let rf = self.snapshot.as_ref().map_or(1, |s| s.brokers.len());
        self.dialog = Some(Dialog::Create(CreateForm::new(rf)));
    }

    fn detail_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        let Some(d) = &mut self.detail else { return };
        let len = match (&d.data, d.tab) {
            (Some(t), DetailTab::Partitions) => t.partitions.len(),
            (Some(t), DetailTab::Config) => match &t.configs {
                Configs::Loaded(c) => c.len(),
                _ => 0,
            },
            (None, _) => 0,
        };
        let h = ctx.body_height().saturating_sub(6).max(1);
        if d.scroll.handle_nav(key, len, h) {
            return;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Char('h') | KeyCode::Left => {
                self.detail = None
            }
            KeyCode::Tab | KeyCode::BackTab => {
                d.tab = match d.tab {
                    DetailTab::Partitions => DetailTab::Config,
                    DetailTab::Config => DetailTab::Partitions,
                };
                d.scroll = Scroll::default();
            }
            KeyCode::Char('r') => self.refresh(ctx),
            KeyCode::Enter | KeyCode::Char('b') => {
                let partitions = match (&d.data, d.tab) {
                    (Some(t), DetailTab::Partitions) if key.code == KeyCode::Enter => t
                        .partitions
                        .get(d.scroll.selected)
                        .map(|p| vec![p.partition]),
                    _ => None,
                };
                ctx.nav = Some(Nav::Browse(BrowseSpec {
                    topic: d.topic.clone(),
                    partitions,
                    start: StartAt::LastN(100),
                }));
            }
            KeyCode::Char('p') => {
                ctx.nav = Some(Nav::Compose(Box::new(super::composer::Prefill::topic(
                    &d.topic,
                ))));
            }
            _ => {}
        }
    }

    fn dialog_key(&mut self, key: KeyEvent, ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(Dialog::Create(form)) => {
                if form.in_flight.is_some() {
                    if key.code == KeyCode::Esc {
                        self.dialog = None;
                    }
                    return;
                }
                match key.code {
                    KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 4,
                    KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 3) % 4,
                    _ => match form.fields[form.focus].handle(key) {
                        InputResult::Cancel => self.dialog = None,
                        InputResult::Submit => match form.spec() {
                            Ok(spec) => {
                                let id = ctx.id();
                                form.in_flight = Some(id);
                                form.error = None;
                                ctx.cmds.push(Command::CreateTopic { id, spec });
                            }
                            Err(e) => form.error = Some(e),
                        },
                        InputResult::Changed => form.error = None,
                        _ => {}
                    },
                }
            }
            Some(Dialog::Delete(confirm, in_flight)) => {
                if in_flight.is_some() {
                    return;
                }
                match confirm.input.handle(key) {
                    InputResult::Cancel => self.dialog = None,
                    InputResult::Submit => {
                        if confirm.matches() {
                            let id = ctx.id();
                            *in_flight = Some(id);
                            ctx.cmds.push(Command::DeleteTopic {
                                id,
                                topic: confirm.expected.clone(),
                            });
                        } else {
                            ctx.warn("the name typed does not match: nothing deleted");
                            self.dialog = None;
                        }
                    }
                    _ => {}
                }
            }
            None => {}
        }
    }

    pub fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Topics { id, result } => {
                if self.in_flight != Some(id) {
                    return;
                }
                self.in_flight = None;
                match result {
                    Ok(snap) => {
                        let keep = self.selected_topic().map(|t| t.name.clone());
                        if let Some(e) = &snap.watermark_error {
                            ctx.warn(e.clone());
                        }
                        self.snapshot = Some(snap);
                        self.error = None;
                        self.refreshed_ms = Some(ctx.now_ms);
                        self.recompute();
                        let h = Self::list_height(ctx);
                        if let Some(name) = keep {
                            if let Some(pos) = self.view.iter().position(|i| {
                                self.snapshot
                                    .as_ref()
                                    .is_some_and(|s| s.topics[*i].name == name)
                            }) {
                                self.scroll.select(pos, self.view.len(), h);
                            }
                        }
                        self.scroll.keep_visible(self.view.len(), h);
                    }
                    Err(e) => {
                        // Keep what we had on screen; show the error.
                        self.error = Some(e.clone());
                        ctx.error(format!("topic refresh failed: {e}"));
                    }
                }
            }
            WorkerEvent::TopicDetail { id, topic, result } => {
                let Some(d) = &mut self.detail else { return };
                if d.in_flight != Some(id) || d.topic != topic {
                    return;
                }
                d.in_flight = None;
                match result {
                    Ok(t) => {
                        d.data = Some(t);
                        d.error = None;
                        d.refreshed_ms = Some(ctx.now_ms);
                    }
                    Err(e) => d.error = Some(e),
                }
            }
            WorkerEvent::TopicCreated { id, topic, result } => {
                if let Some(Dialog::Create(f)) = &mut self.dialog {
                    if f.in_flight == Some(id) {
                        f.in_flight = None;
                        match result {
                            Ok(()) => {
                                self.dialog = None;
                                ctx.info(format!("created topic {topic}"));
                                self.in_flight = None;
                                self.refresh(ctx);
                            }
                            Err(e) => f.error = Some(e),
                        }
                    }
                }
            }
            WorkerEvent::TopicDeleted { id, topic, result } => {
                if let Some(Dialog::Delete(_, r)) = &self.dialog {
                    if *r == Some(id) {
                        self.dialog = None;
                        match result {
                            Ok(()) => {
                                ctx.info(format!("deleted topic {topic}"));
                                self.in_flight = None;
                                self.refresh(ctx);
                            }
                            Err(e) => ctx.error(format!("delete {topic}: {e}")),
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // ---- drawing ----

    pub fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        if let Some(d) = &self.detail {
            draw_detail(d, f, area, dc);
        } else {
            self.draw_list(f, area, dc);
        }
        match &self.dialog {
            Some(Dialog::Create(form)) => draw_create(form, f, area, dc),
            Some(Dialog::Delete(c, in_flight)) => draw_confirm(c, in_flight.is_some(), f, area, dc),
            None => {}
        }
    }

    fn draw_list(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let total = self.snapshot.as_ref().map_or(0, |s| s.topics.len());
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(
                format!(" Topics {}/{} ", self.view.len(), total),
                t.title,
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        // Header: filter, sort, internal, refresh state.
        let mut spans = vec![];
        if self.filtering || !self.filter.text.is_empty() {
            spans.push(Span::styled("/", t.key_hint));
            spans.extend(self.filter.spans(t, self.filtering));
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            format!(
                "sort {}{}  internal {}  ",
                self.sort.label(),
                if self.reverse { " ↓" } else { "" },
                if self.show_internal {
                    "shown"
                } else {
                    "hidden"
                }
            ),
            t.muted,
        ));
        spans.push(refresh_span(
            self.in_flight.is_some(),
            self.refreshed_ms,
            dc,
        ));
        f.render_widget(Paragraph::new(Line::from(spans)), head);

        let Some(snap) = &self.snapshot else {
            let msg = match &self.error {
                Some(e) => Line::from(widgets::text(&format!("cannot list topics: {e}"), t.error)),
                None => Line::from(Span::styled("loading topics…", t.muted)),
            };
            f.render_widget(Paragraph::new(msg), body);
            return;
        };
        if self.view.is_empty() {
            let msg = if total == 0 {
                "the cluster has no topics (c creates one)"
            } else {
                "no topic matches the filter"
            };
            f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), body);
            return;
        }
        let height = usize::from(body.height.saturating_sub(1)).max(1);
        let mut scroll = self.scroll;
        scroll.keep_visible(self.view.len(), height);
        let name_w = body.width.saturating_sub(38).max(10);
        let rows = self
            .view
            .iter()
            .enumerate()
            .skip(scroll.offset)
            .take(height)
            .map(|(pos, &i)| {
                let tp = &snap.topics[i];
                let style = if pos == scroll.selected {
                    t.selection
                } else {
                    t.text
                };
                let mut flags = String::new();
                if tp.under_replicated > 0 {
                    flags.push_str("URP ");
                }
                if tp.offline > 0 {
                    flags.push_str("OFFLINE ");
                }
                if tp.error.is_some() {
                    flags.push_str("ERR");
                }
                let name_style = if tp.internal {
                    t.muted
                } else {
                    Style::default()
                };
                Row::new(vec![
                    Cell::from(widgets::text_cut(&tp.name, usize::from(name_w), name_style)),
                    Cell::from(tp.partitions.to_string()),
                    Cell::from(tp.replication_factor.to_string()),
                    Cell::from(tp.messages.map_or("?".into(), widgets::thousands)),
                    Cell::from(Span::styled(
                        flags,
                        if tp.under_replicated + tp.offline > 0 {
                            t.warn
                        } else {
                            t.error
                        },
                    )),
                ])
                .style(style)
            });
        let table = Table::new(
            rows,
            [
                Constraint::Min(10),
                Constraint::Length(6),
                Constraint::Length(3),
                Constraint::Length(14),
                Constraint::Length(12),
            ],
        )
        .header(Row::new(vec!["NAME", "PARTS", "RF", "MESSAGES", ""]).style(t.header));
        f.render_widget(table, body);
    }
}

fn refresh_span(in_flight: bool, refreshed: Option<i64>, dc: &DrawCtx<'_>) -> Span<'static> {
    let t = dc.theme;
    match (in_flight, refreshed) {
        (true, _) => Span::styled(format!("{} refreshing…", dc.spinner()), t.accent),
        (false, Some(ms)) => Span::styled(
            format!(
                "refreshed {} ({})",
                timeutil::format_clock(ms),
                timeutil::ago(dc.now_ms, ms)
            ),
            t.muted,
        ),
        (false, None) => Span::styled("never refreshed", t.warn),
    }
}

fn draw_detail(d: &DetailView, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Line::from(vec![
            Span::styled(" Topic ", t.title),
            widgets::text(&d.topic, t.title),
            Span::raw(" "),
        ]));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let tab = |label: &str, on: bool| {
        Span::styled(format!(" {label} "), if on { t.tab_active } else { t.tab })
    };
    let mut spans = vec![
        tab("Partitions", d.tab == DetailTab::Partitions),
        Span::raw(" "),
        tab("Configuration", d.tab == DetailTab::Config),
        Span::raw("  "),
        refresh_span(d.in_flight.is_some(), d.refreshed_ms, dc),
    ];
    if let Some(e) = &d.error {
        spans.push(Span::raw("  "));
        spans.push(widgets::text(e, t.error));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), head);
    let Some(data) = &d.data else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.muted)), body);
        return;
    };
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let mut scroll = d.scroll;
    match d.tab {
        DetailTab::Partitions => {
            scroll.keep_visible(data.partitions.len(), height);
            let rows = data
                .partitions
                .iter()
                .enumerate()
                .skip(scroll.offset)
                .take(height)
                .map(|(i, p)| {
                    let oos = p.out_of_sync();
                    let isr_spans: Vec<Span<'static>> = p
                        .replicas
                        .iter()
                        .map(|r| {
                            let s = if oos.contains(r) { t.warn } else { t.text };
                            Span::styled(format!("{r} "), s)
                        })
                        .collect();
                    let isr_line = if oos.is_empty() {
                        Line::from(Span::styled(join(&p.isr), t.ok))
                    } else {
                        let mut v = vec![Span::styled(format!("{} ", join(&p.isr)), t.text)];
                        v.push(Span::styled(
                            format!("(out of sync: {})", join(&oos)),
                            t.warn,
                        ));
                        Line::from(v)
                    };
                    let style = if i == scroll.selected {
                        t.selection
                    } else {
                        t.text
                    };
                    Row::new(vec![
                        Cell::from(p.partition.to_string()),
                        Cell::from(if p.leader < 0 {
                            Span::styled("none", t.error)
                        } else {
                            Span::raw(p.leader.to_string())
                        }),
                        Cell::from(Line::from(isr_spans)),
                        Cell::from(isr_line),
                        Cell::from(p.low.map_or("?".into(), widgets::thousands)),
                        Cell::from(p.high.map_or("?".into(), widgets::thousands)),
                        Cell::from(p.messages().map_or("?".into(), widgets::thousands)),
                    ])
                    .style(style)
                });
            let table = Table::new(
                rows,
                [
                    Constraint::Length(4),
                    Constraint::Length(6),
                    Constraint::Length(9),
                    Constraint::Min(14),
                    Constraint::Length(10),
                    Constraint::Length(10),
                    Constraint::Length(10),
                ],
            )
            .header(
                Row::new(vec![
                    "PART", "LEADER", "REPLICAS", "ISR", "LOW", "HIGH", "MESSAGES",
                ])
                .style(t.header),
            );
            f.render_widget(table, body);
        }
        DetailTab::Config => match &data.configs {
            Configs::Loaded(entries) if entries.is_empty() => {
                f.render_widget(
                    Paragraph::new(Span::styled(
                        "the broker returned no configuration entries",
                        t.muted,
                    )),
                    body,
                );
            }
            Configs::Loaded(entries) => {
                scroll.keep_visible(entries.len(), height);
                let rows = entries
                    .iter()
                    .enumerate()
                    .skip(scroll.offset)
                    .take(height)
                    .map(|(i, e)| {
                        let marker = if e.is_default { " " } else { "*" };
                        let value = if e.is_sensitive {
                            "(sensitive)".to_string()
                        } else {
                            e.value.clone().unwrap_or_else(|| "(null)".into())
                        };
                        let vstyle = if e.is_default { t.muted } else { t.accent };
                        let style = if i == scroll.selected {
                            t.selection
                        } else {
                            t.text
                        };
                        Row::new(vec![
                            Cell::from(Span::styled(marker, t.accent)),
                            Cell::from(widgets::text(&e.name, Style::default())),
                            Cell::from(widgets::text(&value, vstyle)),
                            Cell::from(widgets::text(&e.source, t.muted)),
                        ])
                        .style(style)
                    });
                let table = Table::new(
                    rows,
                    [
                        Constraint::Length(1),
                        Constraint::Min(20),
                        Constraint::Min(12),
                        Constraint::Length(22),
                    ],
                )
                .header(
                    Row::new(vec!["", "NAME (* = not default)", "VALUE", "SOURCE"]).style(t.header),
                );
                f.render_widget(table, body);
            }
            Configs::Unsupported(why) => f.render_widget(
                Paragraph::new(widgets::text(
                    &format!("configuration unavailable: {why}"),
                    t.warn,
                )),
                body,
            ),
            Configs::Failed(why) => f.render_widget(
                Paragraph::new(widgets::text(
                    &format!("configuration unavailable: {why}"),
                    t.error,
                )),
                body,
            ),
        },
    }
}

fn join(v: &[i32]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn draw_create(form: &CreateForm, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let r = widgets::centered(area, 64, 10);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(" Create topic ", t.title));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, label) in CREATE_LABELS.iter().enumerate() {
        let mut spans = vec![Span::styled(
            format!("{label:>20}: "),
            if i == form.focus { t.key_hint } else { t.muted },
        )];
        spans.extend(form.fields[i].spans(t, i == form.focus));
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines.push(match (&form.error, form.in_flight) {
        (_, Some(_)) => Line::from(Span::styled(
            format!("{} creating…", dc.spinner()),
            t.accent,
        )),
        (Some(e), None) => Line::from(widgets::text(e, t.error)),
        (None, None) => widgets::hints(
            t,
            &[
                ("Tab", "next field"),
                ("Enter", "create"),
                ("Esc", "cancel"),
            ],
        ),
    });
    f.render_widget(Paragraph::new(lines), inner);
}

/// Draw a typed-confirmation dialog (shared by panes).
pub fn draw_confirm(c: &Confirm, busy: bool, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let h = u16::try_from(c.detail.len()).unwrap_or(8) + 6;
    let r = widgets::centered(area, 70, h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.error)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", c.title), t.error),
            widgets::text(&c.expected, t.error),
            Span::raw(" "),
        ]));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line<'static>> = c
        .detail
        .iter()
        .map(|d| Line::from(widgets::text(d, t.text)))
        .collect();
    lines.push(Line::raw(""));
    let mut spans = vec![
        Span::styled("type ", t.muted),
        widgets::text(&c.expected, t.key_hint),
        Span::styled(": ", t.muted),
    ];
    spans.extend(c.input.spans(t, !busy));
    lines.push(Line::from(spans));
    lines.push(if busy {
        Line::from(Span::styled(format!("{} working…", dc.spinner()), t.accent))
    } else {
        widgets::hints(t, &[("Enter", "confirm"), ("Esc", "cancel")])
    });
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_name_rules() {
        assert!(validate_topic_name("orders.v1_x-y").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(
            validate_topic_name("bad name")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }

    #[test]
    fn create_form_validates() {
        let mut f = CreateForm::new(3);
        f.fields[0] = LineInput::with("t1");
        f.fields[3] = LineInput::with("cleanup.policy=compact, retention.ms=1000");
        let s = f.spec().unwrap();
        assert_eq!(s.partitions, 3);
        assert_eq!(s.replication_factor, 3);
        assert_eq!(s.configs.len(), 2);
        f.fields[1] = LineInput::with("0");
        assert!(f.spec().unwrap_err().contains("partitions"));
    }
}
