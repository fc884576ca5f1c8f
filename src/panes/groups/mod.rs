//! Consumer groups pane: the list (state, assignor, members, topics, lag and
//! its trend), a group's partitions and members, lag over time with rates
//! and a catch-up estimate, the rebalance timeline, offset reset with a dry
//! run, and group deletion.

mod chart;
mod delete;
mod detail;
pub use detail::lso_note;
mod reset;
mod timeline;
mod view;

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
use crate::app::ctx::{Ctx, DrawCtx, Nav};
use crate::app::env::Env;
use crate::app::keymap::{Action, KeyContext};
use crate::lag::{GroupHistory, Health};
use crate::model::{GroupSnapshot, GroupState, TopicPartition};
use crate::timeutil::StartAt;
use crate::ui::widgets::Scroll;
use crate::worker::protocol::{
    BrowseSpec, Command, GroupsSnapshot, ReqId, WorkerError, WorkerEvent,
};

/// The window over which rates, trends and catch-up are computed.
const RATE_WINDOW_MS: i64 = 30_000;
/// Samples in the list's trend column.
const TREND_SAMPLES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Lag,
    /// The lag in time, largest first.
    LagTime,
    /// The groups that need a look first (stopped, stalled, lagging).
    Status,
    Name,
    State,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Lag => SortKey::LagTime,
            SortKey::LagTime => SortKey::Status,
            SortKey::Status => SortKey::Name,
            SortKey::Name => SortKey::State,
            SortKey::State => SortKey::Lag,
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortKey::Lag => "lag",
            SortKey::LagTime => "lag in time",
            SortKey::Status => "status",
            SortKey::Name => "name",
            SortKey::State => "state",
        }
    }
}

/// Where a status sorts: the ones that need a look first, unknown last.
fn status_rank(h: Option<Health>) -> u8 {
    match h {
        Some(Health::Stopped) => 0,
        Some(Health::Stalled) => 1,
        Some(Health::Lagging) => 2,
        Some(Health::Rebalancing) => 3,
        Some(Health::Ok) => 4,
        Some(Health::Empty) => 5,
        None => 6,
    }
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

    fn step(self, forward: bool) -> Self {
        let n = Self::ALL.len();
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        Self::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// What the list shows of a group, computed when its samples arrive (never
/// while drawing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRow {
    /// `None` until the group was seen.
    pub state: Option<GroupState>,
    pub members: Option<usize>,
    /// `protocol type/assignor`, when described.
    pub assignor: String,
    pub topics: String,
    pub lag: Option<i64>,
    /// The group's lag in time, ms (its largest partition's).
    pub lag_ms: Option<i64>,
    pub growing: bool,
    pub trend: String,
    /// The group's health over the rate window, when it can be told.
    pub status: Option<Health>,
}

impl ListRow {
    #[must_use]
    pub fn of(h: &GroupHistory) -> Self {
        Self::with_listing(h, None)
    }

    /// The row, with state, members and assignor from a listing newer than
    /// the group's last full refresh (a stepped refresh lists every group
    /// before their offsets arrive).
    #[must_use]
    pub fn with_listing(h: &GroupHistory, listed: Option<&GroupSnapshot>) -> Self {
        let snap = match (h.last.as_ref(), listed) {
            (Some(s), Some(l)) if l.at_ms > s.at_ms => Some(l),
            (Some(s), _) => Some(s),
            (None, l) => l,
        };
        let d = snap.and_then(|s| s.description.as_ref());
        Self {
            state: snap.map(|s| s.state().clone()),
            members: d.map(|d| d.members.len()),
            assignor: d.map_or(String::new(), |d| {
                format!("{}/{}", d.protocol_type, d.protocol)
            }),
            topics: snap.map_or(String::new(), |s| s.topics().join(",")),
            lag: h.samples.back().map(|s| s.total_lag),
            lag_ms: h.samples.back().and_then(|s| s.max_lag_ms),
            growing: h.growing(RATE_WINDOW_MS),
            trend: sparkline(h, TREND_SAMPLES),
            status: h.health(RATE_WINDOW_MS).map(|r| r.status),
        }
    }
}

/// A group the pane follows: its history and its list row.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    pub history: GroupHistory,
    pub row: ListRow,
    /// The group as the current refresh's listing described it (before its
    /// offsets arrived).
    pub listed: Option<GroupSnapshot>,
}

impl Tracked {
    fn update_row(&mut self) {
        self.row = ListRow::with_listing(&self.history, self.listed.as_ref());
    }
}

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

    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.in_flight.is_none() {
            let id = ctx.id();
            self.in_flight = Some(id);
            self.in_flight_since = ctx.now_ms;
            self.observed.clear();
            // Offsets first for what the user looks at: the open group,
            // the visible rows and the watched groups.
            let mut first: Vec<String> = self.open.iter().cloned().collect();
            let rows = view::list_rows(ctx.body);
            let mut scroll = self.list.scroll;
            scroll.keep_visible(self.list.view.len(), rows);
            first.extend(
                self.list
                    .view
                    .iter()
                    .skip(scroll.offset)
                    .take(rows)
                    .cloned(),
            );
            first.extend(ctx.env.watch_groups.iter().cloned());
            let mut seen = BTreeSet::new();
            first.retain(|g| seen.insert(g.clone()));
            ctx.cmds.push(Command::RefreshGroups {
                id,
                only: None,
                first: Some(first),
            });
        }
    }

    /// A stepped refresh's listing: state, members and assignor of every
    /// group at once, lag to follow.
    fn on_list(
        &mut self,
        groups: Vec<GroupSnapshot>,
        list_note: Option<String>,
        ctx: &mut Ctx<'_>,
    ) {
        self.list_note = list_note;
        for g in groups {
            let t = self.tracked.entry(g.group.clone()).or_default();
            t.listed = Some(g);
            t.update_row();
        }
        self.recompute_keeping(ctx.body);
    }

    /// A stepped refresh's offsets for some groups.
    fn on_offsets(&mut self, groups: Vec<GroupSnapshot>, ctx: &mut Ctx<'_>) {
        for g in groups {
            self.observed.insert(g.group.clone());
            let t = self.tracked.entry(g.group.clone()).or_default();
            t.history.observe(g);
            t.listed = None;
            t.update_row();
        }
        self.recompute_keeping(ctx.body);
        self.sync_chart();
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

    fn sync_chart(&mut self) {
        match self
            .open
            .as_ref()
            .and_then(|g| Some((g, self.tracked.get(g)?)))
        {
            Some((g, t)) => LagSeries::sync(&mut self.chart, g, &t.history, self.chart_seconds),
            None => self.chart = None,
        }
    }

    fn open_group(&mut self, group: String) {
        self.open = Some(group);
        self.tab = Tab::Partitions;
        self.detail_scroll = Scroll::default();
        self.marked.clear();
        self.sync_chart();
    }

    fn close_group(&mut self) {
        self.open = None;
        self.chart = None;
    }

    fn list_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        if self.list.navigate(action, view::list_rows(ctx.body)) {
            return;
        }
        match action {
            Action::Filter => self.list.filter.start(),
            Action::Sort => {
                self.sort = self.sort.next();
                self.recompute_keeping(ctx.body);
            }
            Action::Refresh => self.refresh(ctx),
            Action::Cancel => {
                if self.in_flight.take().is_some() {
                    ctx.info("refresh cancelled; the next one follows on the interval");
                } else if !self.list.filter.text().is_empty() {
                    self.list.filter.clear();
                    self.recompute_keeping(ctx.body);
                }
            }
            Action::Open => {
                if let Some(g) = self.selected().cloned() {
                    self.open_group(g);
                }
            }
            _ => {}
        }
    }

    /// Rows of the open group's current tab (for navigation).
    fn detail_len(&self) -> usize {
        let Some((_, h)) = self.current() else {
            return 0;
        };
        let snap = h.last.as_ref();
        match self.tab {
            Tab::Partitions => snap.map_or(0, |s| s.partitions.len()),
            Tab::Members => snap.and_then(|s| s.members()).unwrap_or(0),
            Tab::Lag => 0,
            Tab::Events => h.events.len(),
        }
    }

    fn partition_at(&self, i: usize) -> Option<&crate::model::PartitionLag> {
        self.current()?.1.last.as_ref()?.partitions.get(i)
    }

    fn detail_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let Some(group) = self.open.clone() else {
            return;
        };
        let height = detail::rows(ctx.body, self.tab);
        if self
            .detail_scroll
            .on_action(action, self.detail_len(), height)
        {
            return;
        }
        let snap = self
            .tracked
            .get(&group)
            .and_then(|t| t.history.last.as_ref());
        match action {
            Action::Back => self.close_group(),
            Action::NextTab | Action::PrevTab => {
                self.tab = self.tab.step(action == Action::NextTab);
                self.detail_scroll = Scroll::default();
            }
            Action::Refresh => self.refresh(ctx),
            Action::LagUnit if self.tab == Tab::Lag => {
                self.chart_seconds = !self.chart_seconds;
                self.sync_chart();
            }
            Action::Mark if self.tab == Tab::Partitions => {
                let sel = self.detail_scroll.selected;
                if let Some(p) = self.partition_at(sel) {
                    let tp = TopicPartition::new(&p.topic, p.partition);
                    if !self.marked.remove(&tp) {
                        self.marked.insert(tp);
                    }
                    let len = self.detail_len();
                    self.detail_scroll.move_by(1, len, height);
                }
            }
            Action::Browse if self.tab == Tab::Partitions => {
                if let Some(p) = self.partition_at(self.detail_scroll.selected) {
                    ctx.nav = Some(Nav::Browse(BrowseSpec {
                        topic: p.topic.clone(),
                        partitions: Some(vec![p.partition]),
                        start: p.committed.map_or(StartAt::Beginning, StartAt::Offset),
                        // The browser reads at its own isolation level.
                        isolation: crate::model::Isolation::default(),
                        positions: Vec::new(),
                    }));
                }
            }
            Action::ResetOffsets if !ctx.refuse_if_read_only("resetting offsets") => {
                let partitions =
                    (!self.marked.is_empty()).then(|| self.marked.iter().cloned().collect());
                self.dialog = Some(Dialog::Reset(ResetDialog::new(&group, partitions)));
            }
            Action::Delete if !ctx.refuse_if_read_only("deleting groups") => {
                match DeleteDialog::open(&group, snap) {
                    Ok(d) => self.dialog = Some(Dialog::Delete(d)),
                    Err(why) => ctx.error(format!("{group} not deleted: {why}")),
                }
            }
            Action::Save => {
                let path = timeline::default_path(&ctx.env.data_dir, &group, ctx.now_ms);
                self.dialog = Some(Dialog::SaveTimeline(SaveDialog::new(&path)));
            }
            _ => {}
        }
    }

    fn dialog_action(&mut self, action: Action, ctx: &mut Ctx<'_>) {
        let history = self
            .open
            .as_ref()
            .and_then(|g| self.tracked.get(g))
            .map(|t| &t.history);
        let flow = match &mut self.dialog {
            Some(Dialog::Reset(r)) => {
                r.on_action(action, history.and_then(|h| h.last.as_ref()), ctx)
            }
            Some(Dialog::Delete(d)) => d.on_action(action, ctx),
            Some(Dialog::SaveTimeline(s)) => {
                let (flow, effect) = s.on_action(action, history);
                ctx.effects.extend(effect);
                flow
            }
            None => Flow::Stay,
        };
        if flow == Flow::Close {
            self.dialog = None;
        }
    }

    fn on_groups(&mut self, result: Result<GroupsSnapshot, WorkerError>, ctx: &mut Ctx<'_>) {
        let snap = match result {
            Ok(s) => s,
            Err(e) => {
                self.last_error = Some((ctx.now_ms, e.to_string()));
                return;
            }
        };
        self.list_note = snap.list_note;
        self.refreshed_ms = Some(snap.at_ms);
        self.last_error = None;
        let seen: BTreeSet<String> = snap.groups.iter().map(|g| g.group.clone()).collect();
        for g in snap.groups {
            let t = self.tracked.entry(g.group.clone()).or_default();
            // Seen already in this refresh's steps.
            if !self.observed.contains(&g.group) {
                t.history.observe(g);
            }
            t.listed = None;
            t.update_row();
        }
        self.observed.clear();
        // Groups that vanished (deleted) and are not watched go away.
        self.tracked
            .retain(|g, _| seen.contains(g) || ctx.env.watch_groups.contains(g));
        self.recompute_keeping(ctx.body);
        self.sync_chart();
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
        view::draw(self, f, area, dc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupDescription, GroupSnapshot, PartitionLag};

    fn snap(group: &str, state: &str, lag: i64, at_ms: i64) -> GroupSnapshot {
        GroupSnapshot {
            group: group.into(),
            description: Some(GroupDescription {
                group: group.into(),
                state: state.into(),
                protocol_type: "consumer".into(),
                protocol: "range".into(),
                members: vec![],
            }),
            description_note: None,
            partitions: vec![PartitionLag {
                lso: None,
                topic: format!("{group}.events"),
                partition: 0,
                committed: Some(0),
                end: Some(lag),
                lag: Some(lag),
                member_id: None,
                lag_ms: None,
                lag_ms_estimated: false,
                error: None,
            }],
            offsets_note: None,
            at_ms,
        }
    }

    #[test]
    fn help_explains_every_group_state() {
        let p = pane(&[("g", "Stable", 0)]);
        let notes = p.help_notes();
        let states: Vec<&str> = notes.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            states,
            [
                "Stable",
                "PreparingRebalance",
                "CompletingRebalance",
                "Empty",
                "Dead",
                "OK",
                "LAGGING",
                "STALLED",
                "STOPPED",
                "EMPTY",
                "REBALANCING",
                "TIME"
            ]
        );
        assert!(notes[3].1.contains("no members"), "{notes:?}");
    }

    fn pane(groups: &[(&str, &str, i64)]) -> GroupsPane {
        let mut p = GroupsPane::default();
        for (g, state, lag) in groups {
            let t = p.tracked.entry((*g).to_string()).or_default();
            t.history.observe(snap(g, state, *lag, 0));
            t.history.observe(snap(g, state, *lag * 2, 10_000));
            t.update_row();
        }
        p.tracked.insert("watched".into(), Tracked::default());
        p.recompute();
        p
    }

    #[test]
    fn rows_are_computed_from_the_history() {
        let p = pane(&[("a", "Stable", 100)]);
        let r = &p.tracked["a"].row;
        assert_eq!(r.state, Some(GroupState::Stable));
        assert_eq!(r.members, Some(0));
        assert_eq!(r.assignor, "consumer/range");
        assert_eq!(r.topics, "a.events");
        assert_eq!(r.lag, Some(200));
        assert!(r.growing);
        assert_eq!(r.trend, "▄█");
        let w = &p.tracked["watched"].row;
        assert_eq!((w.state.as_ref(), w.lag), (None, None));
    }

    #[test]
    fn sorting_by_lag_lag_time_status_name_and_state() {
        let mut p = pane(&[
            ("b", "Stable", 5),
            ("a", "PreparingRebalance", 50),
            ("c", "Empty", 500),
            ("d", "Weird", 0),
        ]);
        assert_eq!(p.list.view, ["c", "a", "b", "d", "watched"]);
        // Lag in time: unknown everywhere here, so by name, unknown last.
        if let Some(t) = p.tracked.get_mut("d") {
            t.row.lag_ms = Some(90_000);
        }
        p.sort = p.sort.next();
        p.recompute();
        assert_eq!(p.list.view, ["d", "a", "b", "c", "watched"]);
        // Status: the ones that need a look first (no members with lag
        // left: stopped, by lag), then rebalancing, empty, not known.
        p.sort = p.sort.next();
        p.recompute();
        assert_eq!(p.list.view, ["c", "b", "a", "d", "watched"]);
        p.sort = p.sort.next();
        p.recompute();
        assert_eq!(p.list.view, ["a", "b", "c", "d", "watched"]);
        p.sort = p.sort.next();
        p.recompute();
        // Not seen yet first, then as Kafka spells the states; an invented
        // state sorts by its own name.
        assert_eq!(p.list.view, ["watched", "c", "a", "b", "d"]);
        p.list.filter.input.insert_str("A");
        p.recompute();
        assert_eq!(p.list.view, ["watched", "a"]);
    }

    #[test]
    fn the_open_groups_chart_follows_its_samples() {
        let mut p = pane(&[("a", "Stable", 100), ("b", "Stable", 7)]);
        p.open_group("a".into());
        assert!(
            p.chart
                .as_ref()
                .is_some_and(|c| c.group == "a" && c.lag.len() == 2)
        );
        p.tracked
            .get_mut("a")
            .map(|t| t.history.observe(snap("a", "Stable", 300, 20_000)));
        p.sync_chart();
        assert_eq!(p.chart.as_ref().map(|c| c.lag.len()), Some(3));
        p.close_group();
        assert!(p.chart.is_none());
        p.open_group("b".into());
        assert_eq!(p.chart.as_ref().map(|c| c.group.as_str()), Some("b"));
    }

    #[test]
    fn tabs_cycle_both_ways() {
        assert_eq!(Tab::Partitions.step(true), Tab::Members);
        assert_eq!(Tab::Partitions.step(false), Tab::Events);
        assert_eq!(Tab::Events.step(true), Tab::Partitions);
    }
}
