//! The groups list's state: sort keys, detail tabs and the rows computed
//! from each group's history.

use super::sparkline;
use crate::lag::{GroupHistory, Health};
use crate::model::{GroupSnapshot, GroupState, GroupType};

/// The window over which rates, trends and catch-up are computed.
pub(super) const RATE_WINDOW_MS: i64 = 30_000;
/// Samples in the list's trend column.
pub(super) const TREND_SAMPLES: usize = 12;

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
    pub(super) fn next(self) -> Self {
        match self {
            SortKey::Lag => SortKey::LagTime,
            SortKey::LagTime => SortKey::Status,
            SortKey::Status => SortKey::Name,
            SortKey::Name => SortKey::State,
            SortKey::State => SortKey::Lag,
        }
    }

    pub(super) fn label(self) -> &'static str {
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
pub(super) fn status_rank(h: Option<Health>) -> u8 {
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
    pub(super) const ALL: [Tab; 4] = [Tab::Partitions, Tab::Members, Tab::Lag, Tab::Events];

    pub(super) fn label(self) -> &'static str {
        match self {
            Tab::Partitions => "Partitions",
            Tab::Members => "Members",
            Tab::Lag => "Lag",
            Tab::Events => "Rebalances",
        }
    }

    pub(super) fn step(self, forward: bool) -> Self {
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
    /// The group's protocol, when listed or described.
    pub group_type: Option<GroupType>,
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
            group_type: d.map(|d| d.group_type.clone()),
            members: snap.and_then(GroupSnapshot::members),
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
    pub(super) fn update_row(&mut self) {
        self.row = ListRow::with_listing(&self.history, self.listed.as_ref());
    }
}
