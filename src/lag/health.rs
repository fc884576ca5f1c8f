//! Group health at a glance, in the spirit of LinkedIn's Burrow: one status
//! per group and per partition, judged from the refreshes seen over a window.

use serde::Serialize;

use super::{GroupHistory, PartitionSample, Sample};
use crate::model::{GroupSnapshot, GroupState, TopicPartition};
use crate::timeutil;

/// A group's (or a partition's) health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    /// Caught up, or consuming without falling behind.
    Ok,
    /// Consuming, but the lag grew over the window.
    Lagging,
    /// Members present, lag left, and no commit moved over the window.
    Stalled,
    /// No member consumes, with messages waiting.
    Stopped,
    /// No members and nothing waiting.
    Empty,
    /// A rebalance is in progress.
    Rebalancing,
}

impl Health {
    pub const ALL: [Health; 6] = [
        Health::Ok,
        Health::Lagging,
        Health::Stalled,
        Health::Stopped,
        Health::Empty,
        Health::Rebalancing,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "OK",
            Health::Lagging => "LAGGING",
            Health::Stalled => "STALLED",
            Health::Stopped => "STOPPED",
            Health::Empty => "EMPTY",
            Health::Rebalancing => "REBALANCING",
        }
    }

    /// What the status means, in one line (the help).
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Health::Ok => "caught up, or consuming without falling behind",
            Health::Lagging => "consuming, but lag grew over the window",
            Health::Stalled => "members present, lag left, no commit moved over the window",
            Health::Stopped => "no member consumes while messages wait",
            Health::Empty => "no members and nothing waiting",
            Health::Rebalancing => "a rebalance is in progress",
        }
    }

    /// Needs an operator's look.
    #[must_use]
    pub fn is_bad(self) -> bool {
        matches!(self, Health::Lagging | Health::Stalled | Health::Stopped)
    }
}

/// A status and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    pub status: Health,
    pub reason: String,
}

fn report(status: Health, reason: String) -> Option<HealthReport> {
    Some(HealthReport { status, reason })
}

/// The first and last item of the window ending at the last one, when
/// they differ.
fn window<T: Copy>(
    items: impl DoubleEndedIterator<Item = T> + Clone,
    at: impl Fn(&T) -> i64,
    window_ms: i64,
) -> Option<(T, T)> {
    let last = items.clone().next_back()?;
    // From the newest back: only the window's samples are looked at.
    let first = items
        .rev()
        .take_while(|s| at(&last) - at(s) <= window_ms)
        .last()
        .filter(|s| at(s) < at(&last))?;
    Some((first, last))
}

/// Did the lag only grow over the window (never shrink between two
/// refreshes, and end higher)? A consumer at the head whose lag merely
/// wobbles is not lagging.
fn only_grew<T: Copy>(
    items: impl DoubleEndedIterator<Item = T> + Clone,
    at: impl Fn(&T) -> i64,
    lag: impl Fn(&T) -> i64,
    window_ms: i64,
) -> bool {
    let Some(last) = items.clone().next_back() else {
        return false;
    };
    let within: Vec<T> = items.filter(|s| at(&last) - at(s) <= window_ms).collect();
    within.windows(2).all(|w| lag(&w[1]) >= lag(&w[0]))
        && within.first().is_some_and(|f| lag(&last) > lag(f))
}

fn no_members(snap: &GroupSnapshot) -> bool {
    snap.members() == Some(0) || matches!(snap.state(), GroupState::Empty | GroupState::Dead)
}

#[allow(clippy::cast_precision_loss)]
fn span(ms: i64) -> String {
    timeutil::human_duration((ms.max(0) / 1000) as f64)
}

impl GroupHistory {
    /// The group's status over the last `window_ms`, with its reason;
    /// `None` when what was seen cannot tell (a group with lag and members
    /// seen only once).
    #[must_use]
    pub fn health(&self, window_ms: i64) -> Option<HealthReport> {
        let snap = self.last.as_ref()?;
        let state = snap.state();
        if state.is_rebalancing() {
            return report(
                Health::Rebalancing,
                format!("{}: partitions are being reassigned", state.as_str()),
            );
        }
        let lag = snap.total_lag();
        let known = snap.partitions.iter().any(|p| p.lag.is_some());
        if no_members(snap) {
            return if lag > 0 {
                report(
                    Health::Stopped,
                    format!("no members while {lag} message(s) wait"),
                )
            } else {
                report(Health::Empty, "no members, nothing waiting".into())
            };
        }
        if lag == 0 {
            return known.then(|| HealthReport {
                status: Health::Ok,
                reason: "caught up".into(),
            });
        }
        let (first, last): (Sample, Sample) =
            window(self.samples.iter().copied(), |s| s.at_ms, window_ms)?;
        let over = span(last.at_ms - first.at_ms);
        if first.committed_sum == last.committed_sum {
            return report(
                Health::Stalled,
                format!("no commit moved in {over} while {lag} message(s) wait"),
            );
        }
        if only_grew(
            self.samples.iter().copied(),
            |s| s.at_ms,
            |s| s.total_lag,
            window_ms,
        ) && last.end_sum - first.end_sum > last.committed_sum - first.committed_sum
        {
            return report(
                Health::Lagging,
                format!(
                    "lag grew by {} in {over}: producers outpace the group",
                    last.total_lag - first.total_lag
                ),
            );
        }
        report(
            Health::Ok,
            format!(
                "consuming: {} committed in {over}",
                last.committed_sum - first.committed_sum
            ),
        )
    }

    /// One partition's status over the last `window_ms`; `None` when its
    /// lag is unknown or one refresh cannot tell.
    #[must_use]
    pub fn partition_health(&self, tp: &TopicPartition, window_ms: i64) -> Option<Health> {
        let snap = self.last.as_ref()?;
        if snap.state().is_rebalancing() {
            return Some(Health::Rebalancing);
        }
        let p = snap
            .partitions
            .iter()
            .find(|p| p.topic == tp.topic && p.partition == tp.partition)?;
        let lag = p.lag?;
        if lag == 0 {
            return Some(Health::Ok);
        }
        if no_members(snap) {
            return Some(Health::Stopped);
        }
        // Assignments reported, and nobody owns it: nobody consumes it.
        let assignments_known = snap
            .description
            .as_ref()
            .is_some_and(|d| d.members.iter().all(|m| m.assignment.is_some()));
        if assignments_known && p.member_id.is_none() {
            return Some(Health::Stopped);
        }
        let samples = self.partition_lag.get(tp)?;
        let (first, last): (PartitionSample, PartitionSample) =
            window(samples.iter().copied(), |s| s.at_ms, window_ms)?;
        Some(if first.committed == last.committed {
            Health::Stalled
        } else if only_grew(samples.iter().copied(), |s| s.at_ms, |s| s.lag, window_ms) {
            Health::Lagging
        } else {
            Health::Ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupDescription, GroupMember, PartitionLag};

    fn member(id: &str, parts: &[i32]) -> GroupMember {
        GroupMember {
            member_id: id.into(),
            client_id: id.into(),
            host: "/127.0.0.1".into(),
            assignment: Some(parts.iter().map(|p| TopicPartition::new("t", *p)).collect()),
            assignment_note: None,
            subscription: vec!["t".into()],
            ..Default::default()
        }
    }

    /// A snapshot at `at` seconds: (partition, committed, end) per partition.
    fn snap(
        at: i64,
        state: &str,
        members: Vec<GroupMember>,
        parts: &[(i32, i64, i64)],
    ) -> GroupSnapshot {
        let owners: Vec<(i32, String)> = members
            .iter()
            .flat_map(|m| {
                m.assignment
                    .iter()
                    .flatten()
                    .map(|tp| (tp.partition, m.member_id.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        GroupSnapshot {
            group: "g".into(),
            description: Some(GroupDescription {
                group: "g".into(),
                state: state.into(),
                protocol_type: "consumer".into(),
                protocol: "range".into(),
                members,
                ..Default::default()
            }),
            description_note: None,
            partitions: parts
                .iter()
                .map(|(p, c, e)| PartitionLag {
                    topic: "t".into(),
                    partition: *p,
                    committed: Some(*c),
                    end: Some(*e),
                    lag: Some(e - c),
                    member_id: owners.iter().find(|(q, _)| q == p).map(|(_, m)| m.clone()),
                    lag_ms: None,
                    lag_ms_estimated: false,
                    lag_ms_note: None,
                    error: None,
                    lso: None,
                })
                .collect(),
            offsets_note: None,
            at_ms: at * 1000,
        }
    }

    fn history(snaps: Vec<GroupSnapshot>) -> GroupHistory {
        let mut h = GroupHistory::default();
        for s in snaps {
            h.observe(s);
        }
        h
    }

    const W: i64 = 30_000;
    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn caught_up_is_ok_at_once() {
        let h = history(vec![snap(
            0,
            "Stable",
            vec![member("a", &[0])],
            &[(0, 10, 10)],
        )]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Ok));
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Ok));
    }

    #[test]
    fn one_look_at_a_lagging_group_with_members_cannot_tell() {
        let h = history(vec![snap(
            0,
            "Stable",
            vec![member("a", &[0])],
            &[(0, 5, 10)],
        )]);
        assert_eq!(h.health(W), None);
        assert_eq!(h.partition_health(&tp(0), W), None);
    }

    #[test]
    fn commits_that_do_not_move_with_lag_left_are_stalled() {
        let m = || vec![member("a", &[0, 1])];
        let h = history(vec![
            snap(0, "Stable", m(), &[(0, 5, 10), (1, 7, 7)]),
            snap(10, "Stable", m(), &[(0, 5, 12), (1, 7, 7)]),
        ]);
        let r = h.health(W).expect("status");
        assert_eq!(r.status, Health::Stalled);
        assert_eq!(r.reason, "no commit moved in 10s while 7 message(s) wait");
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Stalled));
        assert_eq!(h.partition_health(&tp(1), W), Some(Health::Ok));
    }

    #[test]
    fn lag_growing_while_consuming_is_lagging_and_shrinking_is_ok() {
        let m = || vec![member("a", &[0])];
        let h = history(vec![
            snap(0, "Stable", m(), &[(0, 5, 10)]),
            snap(10, "Stable", m(), &[(0, 8, 30)]),
        ]);
        let r = h.health(W).expect("status");
        assert_eq!(r.status, Health::Lagging);
        assert!(
            r.reason.starts_with("lag grew by 17 in 10s"),
            "{}",
            r.reason
        );
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Lagging));
        let h = history(vec![
            snap(0, "Stable", m(), &[(0, 5, 30)]),
            snap(10, "Stable", m(), &[(0, 20, 31)]),
        ]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Ok));
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Ok));
    }

    #[test]
    fn lag_that_wobbles_is_not_lagging() {
        let m = || vec![member("a", &[0])];
        // 5, 7, 6, 8: higher at the end, but it shrank on the way.
        let h = history(vec![
            snap(0, "Stable", m(), &[(0, 100, 105)]),
            snap(2, "Stable", m(), &[(0, 101, 108)]),
            snap(4, "Stable", m(), &[(0, 104, 110)]),
            snap(6, "Stable", m(), &[(0, 105, 113)]),
        ]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Ok));
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Ok));
    }

    #[test]
    fn the_window_only_looks_back_so_far() {
        let m = || vec![member("a", &[0])];
        // Stalled long ago, consuming in the last 30 s.
        let h = history(vec![
            snap(0, "Stable", m(), &[(0, 5, 50)]),
            snap(60, "Stable", m(), &[(0, 5, 50)]),
            snap(80, "Stable", m(), &[(0, 30, 50)]),
        ]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Ok));
    }

    #[test]
    fn no_members_is_stopped_with_lag_and_empty_without() {
        let h = history(vec![snap(0, "Empty", vec![], &[(0, 5, 10)])]);
        let r = h.health(W).expect("status");
        assert_eq!(
            (r.status, r.reason.as_str()),
            (Health::Stopped, "no members while 5 message(s) wait")
        );
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Stopped));
        let h = history(vec![snap(0, "Empty", vec![], &[(0, 10, 10)])]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Empty));
    }

    #[test]
    fn a_rebalance_wins_over_everything() {
        let h = history(vec![snap(
            0,
            "PreparingRebalance",
            vec![member("a", &[0])],
            &[(0, 1, 10)],
        )]);
        assert_eq!(h.health(W).map(|r| r.status), Some(Health::Rebalancing));
        assert_eq!(h.partition_health(&tp(0), W), Some(Health::Rebalancing));
    }

    #[test]
    fn a_lagging_partition_nobody_owns_is_stopped() {
        let h = history(vec![snap(
            0,
            "Stable",
            vec![member("a", &[0])],
            &[(0, 10, 10), (1, 3, 9)],
        )]);
        assert_eq!(h.partition_health(&tp(1), W), Some(Health::Stopped));
    }

    #[test]
    fn names_are_burrows() {
        let names: Vec<&str> = Health::ALL.iter().map(|h| h.as_str()).collect();
        assert_eq!(
            names,
            [
                "OK",
                "LAGGING",
                "STALLED",
                "STOPPED",
                "EMPTY",
                "REBALANCING"
            ]
        );
        assert_eq!(
            serde_json::to_string(&Health::Rebalancing).ok().as_deref(),
            Some("\"REBALANCING\"")
        );
    }
}
