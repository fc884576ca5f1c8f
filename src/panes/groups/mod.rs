//! Consumer groups pane: the list (state, assignor, members, topics, lag and
//! its trend), a group's partitions and members, lag over time with rates
//! and a catch-up estimate, the rebalance timeline, offset reset with a dry
//! run, and group deletion.

mod chart;
mod delete;
mod detail;
pub use detail::lso_note;
mod events;
mod keys;
mod members848;
mod reset;
mod rows;
mod timeline;
mod view;
pub use rows::{ListRow, SortKey, Tab, Tracked};
use rows::{RATE_WINDOW_MS, status_rank};

pub use chart::{LagSeries, sparkline};
pub use delete::DeleteDialog;
pub use reset::{Flow, ResetDialog, ResetStage, parse_target};
pub use timeline::SaveDialog;

use std::collections::{BTreeMap, BTreeSet};

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::Pane;
use super::list::{FilterChange, ListView, matches};
use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::env::Env;
use crate::app::keymap::{Action, KeyContext};
use crate::lag::{GroupHistory, Health};
use crate::model::{GroupState, GroupType, TopicPartition};
use crate::ui::widgets::Scroll;
use crate::worker::protocol::{ReqId, WorkerEvent};

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Reset(ResetDialog),
    Delete(DeleteDialog),
    SaveTimeline(SaveDialog),
}

#[derive(Debug, Clone, Default)]
pub struct GroupsPane {
    /// Every group listed or watched, by name.
    pub tracked: BTreeMap<String, Tracked>,
    /// Group names, filtered and sorted, and the selection.
    pub list: ListView<String>,
    pub sort: SortKey,
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
    /// The open group's lag chart.
    pub chart: Option<LagSeries>,
    /// The chart shows the lag in time rather than in messages.
    pub chart_seconds: bool,
    /// Groups whose offsets the running refresh already delivered.
    pub observed: BTreeSet<String>,
    pub dialog: Option<Dialog>,
}

impl GroupsPane {
    #[must_use]
    pub fn new(env: &Env) -> Self {
        let mut p = Self {
            refresh_ms: env.groups_refresh_ms.max(200),
            tracked: env
                .watch_groups
                .iter()
                .map(|g| (g.clone(), Tracked::default()))
                .collect(),
            ..Default::default()
        };
        p.recompute();
        p
    }

    /// Rebuild the filtered, sorted list (on data, filter or sort changes).
    pub fn recompute(&mut self) {
        let needle = self.list.filter.text().to_lowercase();
        let tracked = &self.tracked;
        let row = |g: &String| tracked.get(g).map(|t| &t.row);
        let lag = |g: &String| row(g).and_then(|r| r.lag).unwrap_or(-1);
        let lag_ms = |g: &String| row(g).and_then(|r| r.lag_ms).unwrap_or(-1);
        let status = |g: &String| status_rank(row(g).and_then(|r| r.status));
        let state = |g: &String| {
            row(g)
                .and_then(|r| r.state.as_ref())
                .map_or("", GroupState::as_str)
        };
        let sort = self.sort;
        self.list.rebuild(
            tracked.keys().cloned(),
            |g| matches(g, &needle),
            |a, b| match sort {
                SortKey::Name => a.cmp(b),
                SortKey::Lag => lag(b).cmp(&lag(a)).then(a.cmp(b)),
                SortKey::LagTime => lag_ms(b).cmp(&lag_ms(a)).then(a.cmp(b)),
                SortKey::Status => status(a)
                    .cmp(&status(b))
                    .then(lag(b).cmp(&lag(a)))
                    .then(a.cmp(b)),
                SortKey::State => state(a).cmp(state(b)).then(a.cmp(b)),
            },
            false,
        );
    }

    /// Rebuild the list and keep the selected group selected.
    fn recompute_keeping(&mut self, body: Rect) {
        let keep = self.list.selected().cloned();
        self.recompute();
        self.list.reselect(keep.as_ref(), view::list_rows(body));
    }

    #[must_use]
    pub fn selected(&self) -> Option<&String> {
        self.list.selected()
    }

    /// The open group's history.
    #[must_use]
    pub fn current(&self) -> Option<(&String, &GroupHistory)> {
        let g = self.open.as_ref()?;
        self.tracked.get(g).map(|t| (g, &t.history))
    }

    /// While a stepped refresh runs: groups whose lag is known, of all.
    #[must_use]
    pub fn lag_known(&self) -> (usize, usize) {
        let known = self
            .tracked
            .values()
            .filter(|t| t.row.lag.is_some())
            .count();
        (known, self.tracked.len())
    }

    pub(super) fn sync_chart(&mut self) {
        match self
            .open
            .as_ref()
            .and_then(|g| Some((g, self.tracked.get(g)?)))
        {
            Some((g, t)) => LagSeries::sync(&mut self.chart, g, &t.history, self.chart_seconds),
            None => self.chart = None,
        }
    }

    pub(super) fn open_group(&mut self, group: String) {
        self.open = Some(group);
        self.tab = Tab::Partitions;
        self.detail_scroll = Scroll::default();
        self.marked.clear();
        self.sync_chart();
    }

    pub(super) fn close_group(&mut self) {
        self.open = None;
        self.chart = None;
    }
}

impl Pane for GroupsPane {
    fn click_row(&mut self, y: u16, area: Rect) -> Option<bool> {
        if self.open.is_some() || self.dialog.is_some() {
            return None;
        }
        self.list.click(view::list_table(area), y)
    }

    fn help_notes(&self) -> Vec<(String, String)> {
        if self.dialog.is_some() {
            return Vec::new();
        }
        let states = GroupState::KNOWN
            .iter()
            .map(|s| (s.as_str().to_string(), s.meaning().to_string()));
        let types = GroupType::KNOWN.iter().map(|t| {
            (
                format!("{} ({})", t.marker(), t.as_str()),
                t.meaning().to_string(),
            )
        });
        let window = crate::timeutil::human_duration(f64::from(
            u16::try_from(RATE_WINDOW_MS / 1000).unwrap_or(u16::MAX),
        ));
        let statuses = Health::ALL.iter().map(move |h| {
            (
                h.as_str().to_string(),
                format!("{} (over {window})", h.meaning()),
            )
        });
        states
            .chain(types)
            .chain(statuses)
            .chain(std::iter::once((
                "TIME".to_string(),
                "lag in time: now minus the timestamp of the next record the group reads (~: from an older record)"
                    .to_string(),
            )))
            .collect()
    }

    fn key_contexts(&self) -> Vec<KeyContext> {
        if self.dialog.is_some() || self.list.filter.editing {
            vec![KeyContext::Form]
        } else if self.open.is_some() {
            vec![KeyContext::GroupDetail, KeyContext::Navigation]
        } else {
            vec![KeyContext::Groups, KeyContext::Navigation]
        }
    }

    fn help_contexts(&self) -> Vec<KeyContext> {
        if self.open.is_some() {
            vec![KeyContext::GroupDetail, KeyContext::Navigation]
        } else {
            vec![KeyContext::Groups, KeyContext::Navigation]
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
                self.recompute_keeping(ctx.body);
            }
        } else if self.open.is_some() {
            self.detail_action(action, ctx);
        } else {
            self.list_action(action, ctx);
        }
    }

    fn on_text_key(&mut self, key: KeyEvent, _ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(Dialog::Reset(r)) => r.on_text_key(key),
            Some(Dialog::Delete(d)) => d.on_text_key(key),
            Some(Dialog::SaveTimeline(s)) => s.on_text_key(key),
            None => {
                if self.list.filter.editing
                    && self.list.filter.on_text_key(key) == FilterChange::Changed
                {
                    self.recompute();
                    self.list.filter_changed();
                }
            }
        }
    }

    fn on_paste(&mut self, text: &str, _ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(Dialog::Reset(r)) => r.paste(text),
            Some(Dialog::Delete(d)) => d.paste(text),
            Some(Dialog::SaveTimeline(s)) => s.paste(text),
            None if self.list.filter.editing => {
                self.list.filter.paste(text);
                self.recompute();
                self.list.filter_changed();
            }
            None => {}
        }
    }

    fn on_worker(&mut self, ev: WorkerEvent, ctx: &mut Ctx<'_>) {
        match ev {
            WorkerEvent::Groups { id, result } if self.in_flight == Some(id) => {
                self.in_flight = None;
                self.on_groups(result, ctx);
            }
            WorkerEvent::GroupList {
                id,
                groups,
                list_note,
            } if self.in_flight == Some(id) => self.on_list(groups, list_note, ctx),
            WorkerEvent::GroupOffsets { id, groups } if self.in_flight == Some(id) => {
                self.on_offsets(groups, ctx);
            }
            WorkerEvent::ResetPlan { id, result, .. } => {
                if let Some(Dialog::Reset(r)) = &mut self.dialog {
                    r.on_plan(id, result);
                }
            }
            WorkerEvent::ResetApplied { id, group, result } => {
                if !matches!(&self.dialog, Some(Dialog::Reset(r)) if r.applying(id)) {
                    return;
                }
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
            WorkerEvent::GroupDeleted { id, group, result } => {
                if !matches!(&self.dialog, Some(Dialog::Delete(d)) if d.in_flight == Some(id)) {
                    return;
                }
                self.dialog = None;
                match result {
                    Ok(()) => {
                        ctx.info(format!("deleted group {group}"));
                        self.close_group();
                        self.refresh(ctx);
                    }
                    Err(e) => ctx.error(format!("delete {group}: {e}")),
                }
            }
            _ => {}
        }
    }

    fn refused(&mut self, id: ReqId, _reason: &str) {
        let refused = match &self.dialog {
            Some(Dialog::Reset(r)) => r.applying(id),
            Some(Dialog::Delete(d)) => d.in_flight == Some(id),
            _ => false,
        };
        if refused {
            self.dialog = None;
        }
    }

    /// Refresh on the interval, visible or not (the history keeps growing),
    /// never two at once.
    fn tick(&mut self, ctx: &mut Ctx<'_>, _visible: bool) {
        if ctx.now_ms >= self.next_refresh_ms && self.in_flight.is_none() {
            self.refresh(ctx);
            self.next_refresh_ms = ctx.now_ms + self.refresh_ms;
        }
    }

    fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        match self.open.as_deref() {
            Some(g) => detail::draw(self, g, f, area, dc),
            None => view::draw_list(self, f, area, dc),
        }
        match &self.dialog {
            Some(Dialog::Reset(r)) => reset::draw(r, f, area, dc),
            Some(Dialog::Delete(d)) => d.draw(f, area, dc),
            Some(Dialog::SaveTimeline(s)) => s.draw(f, area, dc),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
