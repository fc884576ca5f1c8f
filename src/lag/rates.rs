//! Rates, catch-up estimates and idleness from a group's samples.

use super::GroupHistory;
use crate::timeutil;

/// Catch-up estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Eta {
    CaughtUp,
    Seconds(f64),
    /// Lag grows because production outpaces consumption.
    FallingBehind,
    /// Nothing was consumed over the window: the lag stands (or was moved by
    /// an offset reset) because nobody makes progress.
    Idle(Idle),
    Unknown,
}

/// Since when a group made no progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idle {
    /// When its committed offsets last changed, or when it was first seen
    /// (see `since_first_seen`).
    pub since_ms: i64,
    /// No commit changed since the group was first seen.
    pub since_first_seen: bool,
}

impl Idle {
    /// "idle: no members, last commit 3m ago" for a group without members,
    /// "no progress, …" for one whose members commit nothing.
    #[must_use]
    pub fn status(&self, members: Option<usize>, now_ms: i64) -> String {
        let what = if members == Some(0) {
            "idle: no members"
        } else {
            "no progress"
        };
        format!("{what}, {}", self.describe(now_ms))
    }

    /// "last commit 3m ago" / "no commit since first seen 3m ago".
    #[must_use]
    pub fn describe(&self, now_ms: i64) -> String {
        #[allow(clippy::cast_precision_loss)]
        let secs = ((now_ms - self.since_ms).max(0) / 1000) as f64;
        let ago = timeutil::human_duration(secs);
        if self.since_first_seen {
            format!("no commit since first seen {ago} ago")
        } else {
            format!("last commit {ago} ago")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Messages per second appended to the group's partitions.
    pub produce: f64,
    /// Offsets per second committed by the group.
    pub consume: f64,
    /// Change of total lag per second.
    pub lag_trend: f64,
}

impl GroupHistory {
    /// Rates over the last `window_ms` of samples.
    #[must_use]
    pub fn rates(&self, window_ms: i64) -> Option<Rates> {
        let last = self.samples.back()?;
        let first = self
            .samples
            .iter()
            .find(|s| last.at_ms - s.at_ms <= window_ms)
            .filter(|s| s.at_ms < last.at_ms)?;
        #[allow(clippy::cast_precision_loss)]
        let dt = (last.at_ms - first.at_ms) as f64 / 1000.0;
        #[allow(clippy::cast_precision_loss)]
        Some(Rates {
            produce: (last.end_sum - first.end_sum).max(0) as f64 / dt,
            consume: (last.committed_sum - first.committed_sum).max(0) as f64 / dt,
            lag_trend: (last.total_lag - first.total_lag) as f64 / dt,
        })
    }

    /// When the group's committed offsets last changed (a commit or a
    /// reset), or when it was first seen if they never changed since.
    #[must_use]
    pub fn last_commit(&self) -> Option<Idle> {
        let first = self.samples.front()?;
        let changed = self
            .samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .filter(|(a, b)| a.committed_sum != b.committed_sum)
            .map(|(_, b)| b.at_ms)
            .next_back();
        Some(match changed {
            Some(at) => Idle {
                since_ms: at,
                since_first_seen: false,
            },
            None => Idle {
                since_ms: first.at_ms,
                since_first_seen: true,
            },
        })
    }

    /// Time to catch up at the current rates. "Falling behind" only when
    /// the lag grows because production outpaces consumption; a group that
    /// consumed nothing over the window is idle (a reset that moved its
    /// offsets back grows the lag without anybody falling behind).
    #[must_use]
    pub fn eta(&self, window_ms: i64) -> Eta {
        let Some(last) = self.samples.back() else {
            return Eta::Unknown;
        };
        if last.total_lag == 0 {
            return Eta::CaughtUp;
        }
        let Some(r) = self.rates(window_ms) else {
            return Eta::Unknown;
        };
        let net = r.consume - r.produce;
        if r.lag_trend > 0.0 && r.produce > r.consume {
            Eta::FallingBehind
        } else if net > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            Eta::Seconds(last.total_lag as f64 / net)
        } else if r.consume <= 0.0 {
            self.last_commit().map_or(Eta::Unknown, Eta::Idle)
        } else {
            Eta::Unknown
        }
    }

    /// Is lag growing over the window because production outpaces
    /// consumption? (Not when a reset moved the committed offsets back.)
    #[must_use]
    pub fn growing(&self, window_ms: i64) -> bool {
        self.rates(window_ms)
            .is_some_and(|r| r.lag_trend > 0.0 && r.produce > r.consume)
            && self.samples.back().is_some_and(|s| s.total_lag > 0)
    }
}
