//! Lag over time and rebalance detection for consumer groups (pure).
//! Shared by the groups pane and `kafkaterm watch`.
//!
//! This file keeps a group's history (samples per refresh and per
//! partition); [`events`] names what changed, [`moves`] detects membership
//! changes and partition moves, [`rates`] turns samples into rates and an
//! ETA, [`health`] judges the group.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;

use crate::model::{GroupDescription, GroupSnapshot, GroupState, TopicPartition};

mod events;
mod health;
mod moves;
mod rates;
pub use events::{EventKind, GroupEvent};
pub use health::{Health, HealthReport};
pub use rates::{Eta, Idle, Rates};

/// Samples kept per group (about two hours at 2 s).
pub const MAX_SAMPLES: usize = 3600;
/// Samples kept per partition.
pub const MAX_PARTITION_SAMPLES: usize = 600;
/// Events kept per group.
pub const MAX_EVENTS: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub at_ms: i64,
    pub total_lag: i64,
    pub committed_sum: i64,
    pub end_sum: i64,
    /// The group's lag in time (its largest partition's), ms, when known.
    pub max_lag_ms: Option<i64>,
}

/// One partition's lag and committed offset at a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionSample {
    pub at_ms: i64,
    pub lag: i64,
    pub committed: i64,
}

/// Everything remembered about one group while the console runs.
#[derive(Debug, Clone, Default)]
pub struct GroupHistory {
    pub samples: VecDeque<Sample>,
    pub partition_lag: HashMap<TopicPartition, VecDeque<PartitionSample>>,
    pub events: VecDeque<GroupEvent>,
    pub last: Option<GroupSnapshot>,
    pub unstable_since: Option<i64>,
    /// The last description the broker gave: membership and state changes
    /// are measured against it, so a refresh in which DescribeGroups failed
    /// does not make every member look new afterwards.
    last_description: Option<GroupDescription>,
    last_stable_owners: Option<BTreeMap<TopicPartition, String>>,
    /// Partitions a member gave up in a stable assignment while the group
    /// still subscribes to their topic: the first round of a cooperative
    /// rebalance, in which a partition is revoked before the follow-up round
    /// gives it to another member. Each maps to the member it left, so the
    /// move is reported once, from that member to the one that takes it.
    released: BTreeMap<TopicPartition, String>,
    /// KIP-848: when the group epoch last moved while members had yet to
    /// reach the new target assignment.
    epoch_bumped_at: Option<i64>,
}

impl GroupHistory {
    /// Record a new snapshot; returns the events it reveals.
    pub fn observe(&mut self, snap: GroupSnapshot) -> Vec<GroupEvent> {
        let at = snap.at_ms;
        let group = snap.group.clone();
        let mut ev = Vec::new();
        let mut push = |kind: EventKind| {
            ev.push(GroupEvent {
                at_ms: at,
                group: group.clone(),
                kind,
            });
        };
        let state = snap.state().clone();
        match (&self.last, &self.last_description, &snap.description) {
            (None, _, _) => push(EventKind::Seen {
                state: state.clone(),
                members: snap.description.as_ref().map_or(0, |d| d.members.len()),
            }),
            // Described before: compare with that description.
            (Some(_), Some(prev), Some(now)) => moves::membership(prev, now, &state, &mut push),
            // Described for the first time: its state is news, but who was
            // there before is unknown, so nobody is said to have joined.
            (Some(prev), None, Some(_)) => {
                if *prev.state() != state {
                    push(EventKind::StateChanged {
                        from: prev.state().clone(),
                        to: state.clone(),
                    });
                }
            }
            (Some(_), _, None) => {}
        }
        self.track_epochs(&snap, &mut push);
        self.track_rebalance(&snap, &state, &mut push);
        if let Some(d) = &snap.description {
            self.last_description = Some(d.clone());
        }
        self.record_samples(&snap);
        self.last = Some(snap);
        for e in &ev {
            self.events.push_back(e.clone());
        }
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        ev
    }

    /// KIP-848: protocol conversions, epoch bumps, and the time from an
    /// epoch bump until every member reconciled.
    fn track_epochs(&mut self, snap: &GroupSnapshot, push: &mut impl FnMut(EventKind)) {
        let Some(now) = snap.description.as_ref().filter(|d| !d.listed_only) else {
            return;
        };
        if let Some(prev) = &self.last_description
            && !prev.listed_only
        {
            if prev.group_type != now.group_type {
                push(EventKind::ProtocolChanged {
                    from: prev.group_type.as_str().to_string(),
                    to: now.group_type.as_str().to_string(),
                });
            }
            if let (Some(from), Some(to)) = (prev.group_epoch, now.group_epoch)
                && from != to
            {
                push(EventKind::EpochChanged { from, to });
                self.epoch_bumped_at.get_or_insert(snap.at_ms);
            }
        }
        if !now.group_type.has_epochs() {
            self.epoch_bumped_at = None;
            return;
        }
        let settled = now.state == GroupState::Stable
            && now.assignment_epoch == now.group_epoch
            && crate::model::reconciling(now).is_empty();
        if settled && let Some(since) = self.epoch_bumped_at.take() {
            push(EventKind::Reconciled {
                after_ms: snap.at_ms - since,
            });
        }
    }

    /// Not-stable time (a rebalance, never Empty: Empty is the normal state
    /// of a group without members) and partition moves between stable
    /// assignments.
    fn track_rebalance(
        &mut self,
        snap: &GroupSnapshot,
        state: &GroupState,
        push: &mut impl FnMut(EventKind),
    ) {
        let at = snap.at_ms;
        let stable = *state == GroupState::Stable;
        if state.is_rebalancing() && self.unstable_since.is_none() && self.last.is_some() {
            self.unstable_since = Some(at);
        } else if !stable && !state.is_rebalancing() && snap.description.is_some() {
            // Empty or Dead after a rebalance: the rebalance is over, the
            // group did not become Stable again.
            self.unstable_since = None;
        }
        if !stable {
            return;
        }
        let rebalanced = self.unstable_since.is_some();
        if let Some(since) = self.unstable_since.take() {
            push(EventKind::StableAgain {
                after_ms: at - since,
            });
        }
        if let (Some(now_owners), Some(d)) = (moves::owners(snap), &snap.description) {
            if let Some(prev_owners) = &self.last_stable_owners {
                moves::partition_moves(
                    d,
                    prev_owners,
                    &now_owners,
                    &mut self.released,
                    rebalanced,
                    push,
                );
            }
            self.last_stable_owners = Some(now_owners);
        }
    }

    /// The time series: the group's totals and each partition's lag.
    fn record_samples(&mut self, snap: &GroupSnapshot) {
        let at = snap.at_ms;
        self.samples.push_back(Sample {
            at_ms: at,
            total_lag: snap.total_lag(),
            committed_sum: snap.committed_sum(),
            end_sum: snap.end_sum(),
            max_lag_ms: snap.max_lag_ms(),
        });
        while self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
        for p in &snap.partitions {
            if let (Some(lag), Some(committed)) = (p.lag, p.committed) {
                let s = self
                    .partition_lag
                    .entry(TopicPartition::new(&p.topic, p.partition))
                    .or_default();
                s.push_back(PartitionSample {
                    at_ms: at,
                    lag,
                    committed,
                });
                while s.len() > MAX_PARTITION_SAMPLES {
                    s.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
