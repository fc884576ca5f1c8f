//! Topics & partitions pane: the topic list (filter, sort, internal toggle,
//! under-replicated marker), a topic's partitions and configuration, topic
//! creation and deletion, auto-refresh.

#[cfg(test)]
mod back_tests;
mod create;
mod detail;
mod events;
pub mod rate;
mod view;

pub use create::{CreateError, CreateForm, validate_topic_name};

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::Pane;
use super::list::{FilterChange, ListView, matches};
use crate::app::ctx::{Clock, Ctx, DrawCtx, Nav, Prefill};
use crate::app::keymap::{Action, KeyContext};
use crate::model::{ClusterSnapshot, Configs, Isolation, TopicDetail, TopicSummary};
use crate::timeutil::StartAt;
use crate::ui::layout;
use crate::ui::widgets::{self, Confirm, InputResult, Scroll};
use crate::worker::protocol::{BrowseSpec, Command, ReqId, WorkerEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Partitions,
    Messages,
    UnderReplicated,
    /// Messages/s produced, from the last two refreshes.
    Rate,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Messages,
            SortKey::Messages => SortKey::Partitions,
            SortKey::Partitions => SortKey::UnderReplicated,
            SortKey::UnderReplicated => SortKey::Rate,
            SortKey::Rate => SortKey::Name,
        }
    }
    fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Partitions => "partitions",
            SortKey::Messages => "messages",
            SortKey::UnderReplicated => "under-replicated",
            SortKey::Rate => "in/s",
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
    /// Produce rate per partition, from successive descriptions' high
    /// watermarks.
    pub rates: std::collections::BTreeMap<i32, rate::Throughput>,
    /// Since when each partition's last stable offset has been held below
    /// its high watermark (the stuck-transaction rule).
    pub lso: crate::model::lso::LsoWatch,
}

impl DetailView {
    fn rows(&self) -> usize {
        match (&self.data, self.tab) {
            (Some(t), DetailTab::Partitions) => t.partitions.len(),
            (Some(t), DetailTab::Config) => match &t.configs {
                Configs::Loaded(c) => c.len(),
                _ => 0,
            },
            (None, _) => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Create(CreateForm),
    Delete(Confirm, Option<ReqId>),
}

#[derive(Debug, Clone, Default)]
pub struct TopicsPane {
    pub snapshot: Option<ClusterSnapshot>,
    /// Indices into `snapshot.topics`, filtered and sorted, and the selection.
    pub list: ListView<usize>,
    pub show_internal: bool,
    pub sort: SortKey,
    pub reverse: bool,
    pub in_flight: Option<ReqId>,
    /// Produce rate per topic, from successive refreshes.
    pub rates: rate::Rates,
    /// The refresh in flight has listed the topics; their message counts
    /// are still arriving.
    pub counting: bool,
    pub refreshed_ms: Option<i64>,
    pub error: Option<String>,
    pub next_refresh_ms: i64,
    pub detail: Option<DetailView>,
    pub dialog: Option<Dialog>,
    /// The unknown-counts summary last shown as a warning: a refresh that
    /// ends with the same one does not warn again (the reasons stay on the
    /// list's border), a new or changed one does.
    pub warned_counts: Option<String>,
}

/// Table rows the list shows in `body` (the same layout `view` draws).
fn list_rows(body: Rect) -> usize {
    layout::table_rows(layout::header_and_body(body).1)
}

impl TopicsPane {
    /// Recompute the filtered, sorted view (on data, filter or sort changes only).
    pub fn recompute(&mut self) {
        let Some(snap) = &self.snapshot else {
            self.list.view.clear();
            return;
        };
        let needle = self.list.filter.text().to_lowercase();
        let topics = &snap.topics;
        let show_internal = self.show_internal;
        let keep = |i: &usize| {
            let t = &topics[*i];
            (show_internal || !t.internal) && matches(&t.name, &needle)
        };
        let sort = self.sort;
        let reverse = self.reverse;
        let rates = &self.rates;
        let rate_of = |t: &TopicSummary| rates.get(&t.name).and_then(rate::Throughput::current);
        let cmp = |a: &usize, b: &usize| {
            let (a, b) = (&topics[*a], &topics[*b]);
            match sort {
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Partitions => b.partitions.cmp(&a.partitions),
                // Biggest first (smallest when reversed); unknown counts
                // last either way, by name.
                SortKey::Messages => match (a.messages, b.messages) {
                    (Some(x), Some(y)) if reverse => x.cmp(&y),
                    (Some(x), Some(y)) => y.cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.name.cmp(&b.name),
                },
                SortKey::UnderReplicated => b.under_replicated.cmp(&a.under_replicated),
                // Hottest first (coldest when reversed); topics without a
                // rate yet last either way, by name.
                SortKey::Rate => match (rate_of(a), rate_of(b)) {
                    (Some(x), Some(y)) if reverse => x.total_cmp(&y),
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.name.cmp(&b.name),
                },
            }
        };
        // The messages and rate orders apply the direction themselves
        // (unknowns stay last).
        let flip = self.reverse && !matches!(sort, SortKey::Messages | SortKey::Rate);
        self.list.rebuild(0..topics.len(), keep, cmp, flip);
    }

    #[must_use]
    pub fn selected_topic(&self) -> Option<&TopicSummary> {
        let snap = self.snapshot.as_ref()?;
        self.list.selected().map(|i| &snap.topics[*i])
    }

    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight.is_none() {
            let id = ctx.id();
            self.in_flight = Some(id);
            ctx.cmds.push(Command::RefreshTopics { id });
        }
        if let Some(d) = &mut self.detail
            && d.in_flight.is_none()
        {
            let id = ctx.id();
            d.in_flight = Some(id);
            ctx.cmds.push(Command::DescribeTopic {
                id,
                topic: d.topic.clone(),
            });
        }
        self.next_refresh_ms = ctx.now_ms + ctx.env.topics_refresh_ms;
    }

    fn list_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let h = list_rows(ctx.body);
        if self.list.navigate(action, h) {
            return;
        }
        match action {
            Action::Filter => self.list.filter.start(),
            Action::Cancel => {
                if self.in_flight.take().is_some() {
                    // Counts not yet in stay unknown ("?").
                    self.counting = false;
                    ctx.info("refresh cancelled");
                } else if !self.list.filter.text().is_empty() {
                    self.list.filter.clear();
                    self.recompute();
                }
            }
            Action::ToggleInternal => {
                self.show_internal = !self.show_internal;
                self.recompute();
                self.list.scroll.keep_visible(self.list.view.len(), h);
            }
            Action::Sort => {
                self.sort = self.sort.next();
                self.recompute();
            }
            Action::ReverseSort => {
                self.reverse = !self.reverse;
                self.recompute();
            }
            Action::Refresh => self.refresh(ctx),
            Action::Open => {
                if let Some(t) = self.selected_topic() {
                    self.detail = Some(DetailView {
                        topic: t.name.clone(),
                        data: None,
                        error: None,
                        in_flight: None,
                        tab: DetailTab::Partitions,
                        scroll: Scroll::default(),
                        refreshed_ms: None,
                        rates: std::collections::BTreeMap::new(),
                        lso: crate::model::lso::LsoWatch::default(),
                    });
                    self.refresh(ctx);
                }
            }
            Action::Browse => {
                if let Some(t) = self.selected_topic() {
                    ctx.nav = Some(Nav::Browse(BrowseSpec {
                        topic: t.name.clone(),
                        partitions: None,
                        start: StartAt::LastN(100),
                        // The browser reads at its own isolation level.
                        isolation: Isolation::default(),
                        positions: Vec::new(),
                    }));
                }
            }
            Action::Produce => {
                if let Some(t) = self.selected_topic() {
                    ctx.nav = Some(Nav::Compose(Box::new(Prefill::topic(&t.name))));
                }
            }
            Action::Create if !ctx.refuse_if_read_only("creating topics") => {
                let rf = self.snapshot.as_ref().map_or(1, |s| s.brokers.len());
                self.dialog = Some(Dialog::Create(CreateForm::new(rf)));
            }
            Action::Delete => self.ask_delete(ctx),
            _ => {}
        }
    }

    fn ask_delete(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.refuse_if_read_only("deleting topics") {
            return;
        }
        let Some(t) = self.selected_topic() else {
            return;
        };
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

    fn detail_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let Some(d) = &mut self.detail else { return };
        let h = detail::detail_rows(ctx.body);
        if d.scroll.on_action(action, d.rows(), h) {
            return;
        }
        match action {
            // A description in flight is not cancelled: its answer, when it
            // comes, matches no open detail's request id and is dropped
            // (`on_topic_detail`), so it neither reopens this detail nor
            // fills the next one (see back_tests.rs).
            Action::Back => self.detail = None,
            Action::SwitchTab => {
                d.tab = match d.tab {
                    DetailTab::Partitions => DetailTab::Config,
                    DetailTab::Config => DetailTab::Partitions,
                };
                d.scroll = Scroll::default();
            }
            Action::Refresh => self.refresh(ctx),
            Action::Open | Action::Browse => {
                let partitions = match (&d.data, d.tab) {
                    (Some(t), DetailTab::Partitions) if action == Action::Open => t
                        .partitions
                        .get(d.scroll.selected)
                        .map(|p| vec![p.partition]),
                    _ => None,
                };
                ctx.nav = Some(Nav::Browse(BrowseSpec {
                    topic: d.topic.clone(),
                    partitions,
                    start: StartAt::LastN(100),
                    isolation: Isolation::default(),
                    positions: Vec::new(),
                }));
            }
            Action::Produce => {
                ctx.nav = Some(Nav::Compose(Box::new(Prefill::topic(&d.topic))));
            }
            _ => {}
        }
    }

    fn dialog_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(Dialog::Create(form)) => {
                if form.in_flight.is_some() {
                    if action == Action::Cancel {
                        self.dialog = None;
                    }
                    return;
                }
                match action {
                    Action::NextField => form.next_field(true),
                    Action::PrevField => form.next_field(false),
                    Action::Cancel => self.dialog = None,
                    Action::Submit => match form.spec() {
                        Ok(spec) => {
                            let id = ctx.id();
                            form.in_flight = Some(id);
                            form.error = None;
                            ctx.cmds.push(Command::CreateTopic { id, spec });
                        }
                        Err(e) => form.error = Some(e.to_string()),
                    },
                    _ => {}
                }
            }
            Some(Dialog::Delete(confirm, in_flight)) => {
                if in_flight.is_some() {
                    return;
                }
                match action {
                    Action::Cancel => self.dialog = None,
                    Action::Submit => {
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

    fn filter_key(&mut self, key: KeyEvent) {
        if self.list.filter.on_text_key(key) == FilterChange::Changed {
            self.recompute();
            self.list.filter_changed();
        }
    }
}

impl Pane for TopicsPane {
    fn click_row(&mut self, y: u16, area: Rect) -> Option<bool> {
        if self.detail.is_some() || self.dialog.is_some() || self.snapshot.is_none() {
            return None;
        }
        self.list.click(layout::header_and_body(area).1, y)
    }

    fn key_contexts(&self) -> Vec<KeyContext> {
        if self.dialog.is_some() || self.list.filter.editing {
            vec![KeyContext::Form]
        } else if self.detail.is_some() {
            vec![KeyContext::TopicDetail, KeyContext::Navigation]
        } else {
            vec![KeyContext::Topics, KeyContext::Navigation]
        }
    }

    fn captures_text(&self) -> bool {
        self.list.filter.editing || self.dialog.is_some()
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        if self.dialog.is_some() {
            self.dialog_action(action, ctx);
        } else if self.list.filter.editing {
            if self.list.filter.on_action(action) == FilterChange::Cleared {
                self.recompute();
            }
        } else if self.detail.is_some() {
            self.detail_action(action, ctx);
        } else {
            self.list_action(action, ctx);
        }
    }

    fn on_text_key(&mut self, key: KeyEvent, _ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(Dialog::Create(form)) if form.in_flight.is_none() => {
                let changed = form.field_mut().edit(key) == InputResult::Changed;
                if changed {
                    form.error = None;
                }
            }
            Some(Dialog::Delete(confirm, None)) => {
                confirm.input.edit(key);
            }
            Some(_) => {}
            None if self.list.filter.editing => self.filter_key(key),
            None => {}
        }
    }

    fn on_paste(&mut self, s: &str, _ctx: &mut Ctx<'_>) {
        if self.list.filter.editing {
            self.list.filter.paste(s);
            self.recompute();
            self.list.filter_changed();
        } else if let Some(Dialog::Create(f)) = &mut self.dialog {
            f.field_mut().insert_str(s);
        } else if let Some(Dialog::Delete(c, _)) = &mut self.dialog {
            c.input.insert_str(s);
        }
    }

    fn refused(&mut self, id: ReqId, _reason: &str) {
        match &mut self.dialog {
            Some(Dialog::Create(f)) if f.in_flight == Some(id) => f.in_flight = None,
            Some(Dialog::Delete(_, r)) if *r == Some(id) => self.dialog = None,
            _ => {}
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>, visible: bool) {
        let first = self.snapshot.is_none() && self.in_flight.is_none() && self.error.is_none();
        if first || (visible && ctx.now_ms >= self.next_refresh_ms) {
            self.refresh(ctx);
        }
    }

    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        self.on_event(ev, ctx);
    }

    /// A spinner while a request of the shown view runs; else the
    /// "refreshed … (N s ago)" age.
    fn clock(&self) -> Clock {
        let dialog_busy = match &self.dialog {
            Some(Dialog::Create(form)) => form.in_flight.is_some(),
            Some(Dialog::Delete(_, in_flight)) => in_flight.is_some(),
            None => false,
        };
        let (busy, refreshed) = match &self.detail {
            Some(d) => (d.in_flight.is_some(), d.refreshed_ms),
            None => (self.in_flight.is_some() || self.counting, self.refreshed_ms),
        };
        if busy || dialog_busy {
            Clock::Spinner
        } else if refreshed.is_some() || self.detail.is_some() {
            // The detail's stuck-transaction marks age with the clock too.
            Clock::Seconds
        } else {
            Clock::Still
        }
    }

    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        match &self.detail {
            Some(d) => detail::draw(d, f, area, dc),
            None => view::draw_list(self, f, area, dc),
        }
        match &self.dialog {
            Some(Dialog::Create(form)) => create::draw(form, f, area, dc),
            Some(Dialog::Delete(c, in_flight)) => {
                crate::ui::dialog::confirm(c, in_flight.is_some(), f, area, dc);
            }
            None => {}
        }
    }
}
