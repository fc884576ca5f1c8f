//! Lag over time and rebalance detection for consumer groups (pure).
//! Shared by the groups pane and `kafkaterm watch`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use crate::model::{GroupDescription, GroupSnapshot, GroupState, TopicPartition};
use crate::timeutil;

mod health;
pub use health::{Health, HealthReport};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// First time the console saw the group.
    Seen {
        state: GroupState,
        members: usize,
    },
    StateChanged {
        from: GroupState,
        to: GroupState,
    },
    MemberJoined {
        member_id: String,
        client_id: String,
        host: String,
    },
    MemberLeft {
        member_id: String,
        client_id: String,
    },
    /// A partition changed owner between two stable assignments.
    PartitionMoved {
        topic: String,
        partition: i32,
        from: Option<String>,
        to: Option<String>,
    },
    /// The group is Stable again after a rebalance.
    StableAgain {
        after_ms: i64,
    },
    LagChanged {
        from: i64,
        to: i64,
        /// The group's lag in time then, in seconds in JSON.
        #[serde(rename = "max_lag_seconds", serialize_with = "ms_as_seconds")]
        max_lag_ms: Option<i64>,
    },
    /// The group's health status changed (see [`Health`]).
    StatusChanged {
        from: Option<Health>,
        to: Health,
        reason: String,
    },
    /// Nothing consumed for a while with lag left (see [`Idle`]); `since_ms`
    /// is the last commit, or when the group was first seen.
    Idle {
        since_ms: i64,
        since_first_seen: bool,
        members: Option<usize>,
    },
}

/// Milliseconds written as seconds (JSON).
#[allow(clippy::ref_option, clippy::cast_precision_loss)]
fn ms_as_seconds<S: serde::Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_f64(*ms as f64 / 1000.0),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupEvent {
    pub at_ms: i64,
    pub group: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

fn short(member: &str) -> String {
    crate::sanitize::truncate_chars(&crate::sanitize::escape(member), 40).into_owned()
}

impl GroupEvent {
    /// One line of plain text (escaped).
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.kind {
            EventKind::Seen { state, members } => {
                format!(
                    "watching: {}, {members} member(s)",
                    crate::sanitize::escape(state.as_str())
                )
            }
            EventKind::StateChanged { from, to } => {
                format!(
                    "state {} → {}",
                    crate::sanitize::escape(from.as_str()),
                    crate::sanitize::escape(to.as_str())
                )
            }
            EventKind::MemberJoined {
                member_id,
                client_id,
                host,
            } => {
                let who = [client_id.as_str(), host.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| crate::sanitize::escape(s).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                if who.is_empty() {
                    format!("member joined {}", short(member_id))
                } else {
                    format!("member joined {} ({who})", short(member_id))
                }
            }
            EventKind::MemberLeft { member_id, .. } => format!("member left {}", short(member_id)),
            EventKind::PartitionMoved {
                topic,
                partition,
                from,
                to,
            } => format!(
                "{}/{partition} moved {} → {}",
                crate::sanitize::escape(topic),
                from.as_deref().map_or("unassigned".into(), short),
                to.as_deref().map_or("unassigned".into(), short)
            ),
            EventKind::StableAgain { after_ms } => {
                #[allow(clippy::cast_precision_loss)]
                let secs = *after_ms as f64 / 1000.0;
                format!(
                    "Stable again after {} not stable",
                    timeutil::human_duration(secs)
                )
            }
            EventKind::LagChanged {
                from,
                to,
                max_lag_ms,
            } => match max_lag_ms {
                #[allow(clippy::cast_precision_loss)]
                Some(ms) => format!(
                    "lag {from} → {to} ({:+}), {} behind",
                    to - from,
                    timeutil::human_duration((ms / 1000) as f64)
                ),
                None => format!("lag {from} → {to} ({:+})", to - from),
            },
            EventKind::StatusChanged { from, to, reason } => format!(
                "status {} → {}: {}",
                from.map_or("?", Health::as_str),
                to.as_str(),
                crate::sanitize::escape(reason)
            ),
            EventKind::Idle {
                since_ms,
                since_first_seen,
                members,
            } => {
                let idle = Idle {
                    since_ms: *since_ms,
                    since_first_seen: *since_first_seen,
                };
                idle.status(*members, self.at_ms)
            }
        }
    }
}

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
}

fn owners(s: &GroupSnapshot) -> Option<BTreeMap<TopicPartition, String>> {
    let d = s.description.as_ref()?;
    if d.members.iter().any(|m| m.assignment.is_none()) {
        return None; // assignments not reported: nothing to compare
    }
    let mut out = BTreeMap::new();
    for m in &d.members {
        for tp in m.assignment.iter().flatten() {
            out.insert(tp.clone(), m.member_id.clone());
        }
    }
    Some(out)
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
            (Some(_), Some(prev), Some(now)) => {
                if prev.state != state {
                    push(EventKind::StateChanged {
                        from: prev.state.clone(),
                        to: state.clone(),
                    });
                }
                let before: BTreeSet<&str> =
                    prev.members.iter().map(|m| m.member_id.as_str()).collect();
                let after: BTreeSet<&str> =
                    now.members.iter().map(|m| m.member_id.as_str()).collect();
                for m in &now.members {
                    if !before.contains(m.member_id.as_str()) {
                        push(EventKind::MemberJoined {
                            member_id: m.member_id.clone(),
                            client_id: m.client_id.clone(),
                            host: m.host.clone(),
                        });
                    }
                }
                for m in &prev.members {
                    if !after.contains(m.member_id.as_str()) {
                        push(EventKind::MemberLeft {
                            member_id: m.member_id.clone(),
                            client_id: m.client_id.clone(),
                        });
                    }
                }
            }
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
        // Not-stable time (a rebalance, never Empty: Empty is the normal
        // state of a group without members) and partition moves between
        // stable assignments.
        let stable = state == GroupState::Stable;
        if state.is_rebalancing() && self.unstable_since.is_none() && self.last.is_some() {
            self.unstable_since = Some(at);
        } else if !stable && !state.is_rebalancing() && snap.description.is_some() {
            // Empty or Dead after a rebalance: the rebalance is over, the
            // group did not become Stable again.
            self.unstable_since = None;
        }
        if stable {
            let rebalanced = self.unstable_since.is_some();
            if let Some(since) = self.unstable_since.take() {
                push(EventKind::StableAgain {
                    after_ms: at - since,
                });
            }
            if let (Some(now_owners), Some(d)) = (owners(&snap), &snap.description) {
                if let Some(prev_owners) = &self.last_stable_owners {
                    let subscribed: BTreeSet<&str> = d
                        .members
                        .iter()
                        .flat_map(|m| m.subscription.iter().map(String::as_str))
                        .collect();
                    let keys: BTreeSet<TopicPartition> = prev_owners
                        .keys()
                        .chain(now_owners.keys())
                        .chain(self.released.keys())
                        .cloned()
                        .collect();
                    for tp in keys {
                        let to = now_owners.get(&tp);
                        let from = prev_owners
                            .get(&tp)
                            .or_else(|| self.released.get(&tp))
                            .cloned();
                        if to.is_none() {
                            let Some(from) = from else { continue };
                            // Still wanted by the group: a cooperative
                            // rebalance revoked it and its next round gives
                            // it to someone. Wait for that round (seen, or
                            // the owner showing up) before saying where it went.
                            let pending = subscribed.contains(tp.topic.as_str())
                                && (prev_owners.contains_key(&tp) || !rebalanced);
                            if pending {
                                self.released.insert(tp, from);
                                continue;
                            }
                            self.released.remove(&tp);
                            push(EventKind::PartitionMoved {
                                topic: tp.topic.clone(),
                                partition: tp.partition,
                                from: Some(from),
                                to: None,
                            });
                            continue;
                        }
                        self.released.remove(&tp);
                        if from.as_ref() != to {
                            push(EventKind::PartitionMoved {
                                topic: tp.topic.clone(),
                                partition: tp.partition,
                                from,
                                to: to.cloned(),
                            });
                        }
                    }
                }
                self.last_stable_owners = Some(now_owners);
            }
        }
        if let Some(d) = &snap.description {
            self.last_description = Some(d.clone());
        }
        // Time series.
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
        self.last = Some(snap);
        for e in &ev {
            self.events.push_back(e.clone());
        }
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        ev
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupDescription, GroupMember, PartitionLag};

    fn member(id: &str, tps: &[(&str, i32)]) -> GroupMember {
        GroupMember {
            member_id: id.into(),
            client_id: format!("client-{id}"),
            host: "/10.0.0.1".into(),
            assignment: Some(
                tps.iter()
                    .map(|(t, p)| TopicPartition::new(t, *p))
                    .collect(),
            ),
            assignment_note: None,
            subscription: vec![],
        }
    }

    fn snap(
        at: i64,
        state: &str,
        members: Vec<GroupMember>,
        lag: i64,
        committed: i64,
    ) -> GroupSnapshot {
        GroupSnapshot {
            group: "g".into(),
            description: Some(GroupDescription {
                group: "g".into(),
                state: state.into(),
                protocol_type: "consumer".into(),
                protocol: "range".into(),
                members,
            }),
            description_note: None,
            partitions: vec![PartitionLag {
                lso: None,
                topic: "t".into(),
                partition: 0,
                committed: Some(committed),
                end: Some(committed + lag),
                lag: Some(lag),
                member_id: None,
                lag_ms: None,
                lag_ms_estimated: false,
                error: None,
            }],
            offsets_note: None,
            at_ms: at,
        }
    }

    #[test]
    fn detects_join_rebalance_and_moves() {
        let mut h = GroupHistory::default();
        let e = h.observe(snap(
            0,
            "Stable",
            vec![member("a", &[("t", 0), ("t", 1)])],
            10,
            100,
        ));
        assert!(matches!(e[0].kind, EventKind::Seen { .. }));
        let e = h.observe(snap(
            2000,
            "PreparingRebalance",
            vec![member("a", &[]), member("b", &[])],
            10,
            100,
        ));
        assert!(e.iter().any(
            |e| matches!(&e.kind, EventKind::StateChanged { to, .. } if *to == GroupState::PreparingRebalance)
        ));
        assert!(e.iter().any(
            |e| matches!(&e.kind, EventKind::MemberJoined { member_id, .. } if member_id == "b")
        ));
        let e = h.observe(snap(
            5000,
            "Stable",
            vec![member("a", &[("t", 0)]), member("b", &[("t", 1)])],
            10,
            100,
        ));
        assert!(
            e.iter().any(
                |e| matches!(&e.kind, EventKind::StableAgain { after_ms } if *after_ms == 3000)
            ),
            "{e:?}"
        );
        let moved: Vec<_> = e
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::PartitionMoved {
                    partition,
                    from,
                    to,
                    ..
                } => Some((*partition, from.clone(), to.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(moved, vec![(1, Some("a".into()), Some("b".into()))]);
        let e = h.observe(snap(
            7000,
            "Stable",
            vec![member("b", &[("t", 0), ("t", 1)])],
            10,
            100,
        ));
        assert!(e.iter().any(
            |e| matches!(&e.kind, EventKind::MemberLeft { member_id, .. } if member_id == "a")
        ));
    }

    #[test]
    fn rates_and_eta() {
        let mut h = GroupHistory::default();
        // Production 10/s, consumption 20/s: lag shrinks by 10/s.
        h.observe(snap(0, "Stable", vec![], 100, 0));
        h.observe(snap(10_000, "Stable", vec![], 0, 200));
        let r = h.rates(60_000).unwrap();
        assert!((r.consume - 20.0).abs() < 1e-9);
        assert!((r.produce - 10.0).abs() < 1e-9, "{r:?}");
        assert_eq!(h.eta(60_000), Eta::CaughtUp);
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![], 100, 0));
        h.observe(snap(10_000, "Stable", vec![], 200, 0));
        assert_eq!(h.eta(60_000), Eta::FallingBehind);
        assert!(h.growing(60_000));
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![], 100, 0));
        h.observe(snap(10_000, "Stable", vec![], 50, 100));
        match h.eta(60_000) {
            Eta::Seconds(s) => assert!((s - 10.0).abs() < 1e-9, "{s}"),
            other => panic!("{other:?}"),
        }
    }

    fn empty(at: i64, lag: i64, committed: i64) -> GroupSnapshot {
        snap(at, "Empty", vec![], lag, committed)
    }

    #[test]
    fn a_reset_is_not_falling_behind_and_an_idle_group_says_since_when() {
        let mut h = GroupHistory::default();
        // Caught up, then reset to earliest: committed 150 → 0, end stays 150.
        h.observe(empty(0, 0, 150));
        h.observe(empty(2_000, 150, 0));
        h.observe(empty(21_000, 150, 0));
        assert!(!h.growing(60_000), "a reset is not growth from production");
        assert_eq!(
            h.eta(60_000),
            Eta::Idle(Idle {
                since_ms: 2_000,
                since_first_seen: false
            })
        );
        assert_eq!(
            Idle {
                since_ms: 2_000,
                since_first_seen: false
            }
            .describe(21_000),
            "last commit 19s ago"
        );
        assert_eq!(h.unstable_since, None, "Empty is not a rebalance");
        // Never committed while watched: since first seen.
        let mut h = GroupHistory::default();
        h.observe(empty(5_000, 40, 10));
        h.observe(empty(65_000, 40, 10));
        let Eta::Idle(i) = h.eta(120_000) else {
            panic!("{:?}", h.eta(120_000));
        };
        assert!(i.since_first_seen);
        assert_eq!(i.describe(65_000), "no commit since first seen 1m 0s ago");
        // Production into an Empty group: lag grows because nobody consumes.
        let mut h = GroupHistory::default();
        h.observe(empty(0, 10, 10));
        h.observe(empty(10_000, 60, 10));
        assert_eq!(h.eta(60_000), Eta::FallingBehind);
        assert!(h.growing(60_000));
    }

    #[test]
    fn not_stable_only_while_rebalancing() {
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![member("a", &[("t", 0)])], 0, 10));
        h.observe(empty(1_000, 0, 10));
        assert_eq!(
            h.unstable_since, None,
            "Empty after Stable is not a rebalance"
        );
        h.observe(snap(
            2_000,
            "PreparingRebalance",
            vec![member("a", &[])],
            0,
            10,
        ));
        assert_eq!(h.unstable_since, Some(2_000));
        h.observe(snap(
            3_000,
            "CompletingRebalance",
            vec![member("a", &[])],
            0,
            10,
        ));
        assert_eq!(h.unstable_since, Some(2_000));
        // Everybody left during the rebalance: the group is Empty, not unstable.
        h.observe(empty(4_000, 0, 10));
        assert_eq!(h.unstable_since, None);
        let e = h.observe(snap(5_000, "Stable", vec![member("b", &[("t", 0)])], 0, 10));
        assert!(
            !e.iter()
                .any(|e| matches!(e.kind, EventKind::StableAgain { .. })),
            "Empty → Stable is no 'stable again after … not stable': {e:?}"
        );
    }

    fn subscribed(id: &str, tps: &[(&str, i32)]) -> GroupMember {
        GroupMember {
            subscription: vec!["t".into()],
            ..member(id, tps)
        }
    }

    fn moves(e: &[GroupEvent]) -> Vec<(i32, Option<String>, Option<String>)> {
        e.iter()
            .filter_map(|e| match &e.kind {
                EventKind::PartitionMoved {
                    partition,
                    from,
                    to,
                    ..
                } => Some((*partition, from.clone(), to.clone())),
                _ => None,
            })
            .collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn a_cooperative_move_is_one_event_from_the_old_owner_to_the_new() {
        let four = [("t", 0), ("t", 1), ("t", 2), ("t", 3)];
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![subscribed("a", &four)], 0, 0));
        // First round: a gives up t/2 and t/3; b joined with nothing yet.
        let e = h.observe(snap(
            1000,
            "Stable",
            vec![subscribed("a", &[("t", 0), ("t", 1)]), subscribed("b", &[])],
            0,
            0,
        ));
        assert_eq!(moves(&e), vec![], "released, not yet moved: {e:?}");
        let e = h.observe(snap(
            2000,
            "PreparingRebalance",
            vec![subscribed("a", &[("t", 0), ("t", 1)]), subscribed("b", &[])],
            0,
            0,
        ));
        assert_eq!(moves(&e), vec![]);
        // Second round: b takes them.
        let e = h.observe(snap(
            3000,
            "Stable",
            vec![
                subscribed("a", &[("t", 0), ("t", 1)]),
                subscribed("b", &[("t", 2), ("t", 3)]),
            ],
            0,
            0,
        ));
        assert_eq!(
            moves(&e),
            vec![(2, some("a"), some("b")), (3, some("a"), some("b"))]
        );
        // Nothing more to report once settled.
        let e = h.observe(snap(
            4000,
            "Stable",
            vec![
                subscribed("a", &[("t", 0), ("t", 1)]),
                subscribed("b", &[("t", 2), ("t", 3)]),
            ],
            0,
            0,
        ));
        assert_eq!(moves(&e), vec![]);
    }

    #[test]
    fn a_released_partition_returned_to_its_owner_did_not_move() {
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![subscribed("a", &[("t", 0)])], 0, 0));
        assert_eq!(
            moves(&h.observe(snap(1000, "Stable", vec![subscribed("a", &[])], 0, 0))),
            vec![]
        );
        assert_eq!(
            moves(&h.observe(snap(
                2000,
                "Stable",
                vec![subscribed("a", &[("t", 0)])],
                0,
                0
            ))),
            vec![]
        );
    }

    #[test]
    fn a_partition_nobody_takes_after_the_next_rebalance_is_unassigned() {
        let mut h = GroupHistory::default();
        let two = [("t", 0), ("t", 1)];
        h.observe(snap(0, "Stable", vec![subscribed("a", &two)], 0, 0));
        let one = vec![subscribed("a", &[("t", 0)])];
        assert_eq!(
            moves(&h.observe(snap(1000, "Stable", one.clone(), 0, 0))),
            vec![]
        );
        assert_eq!(
            moves(&h.observe(snap(2000, "Stable", one.clone(), 0, 0))),
            vec![],
            "no rebalance seen yet"
        );
        h.observe(snap(3000, "CompletingRebalance", one.clone(), 0, 0));
        assert_eq!(
            moves(&h.observe(snap(4000, "Stable", one, 0, 0))),
            vec![(1, some("a"), None)]
        );
    }

    #[test]
    fn a_partition_of_a_topic_no_longer_subscribed_is_unassigned_at_once() {
        let mut h = GroupHistory::default();
        h.observe(snap(
            0,
            "Stable",
            vec![member("a", &[("t", 0), ("u", 0)])],
            0,
            0,
        ));
        let a = GroupMember {
            subscription: vec!["u".into()],
            ..member("a", &[("u", 0)])
        };
        assert_eq!(
            moves(&h.observe(snap(1000, "Stable", vec![a], 0, 0))),
            vec![(0, some("a"), None)]
        );
    }

    #[test]
    fn a_refresh_without_description_does_not_make_members_new() {
        let mut h = GroupHistory::default();
        h.observe(snap(0, "Stable", vec![member("a", &[("t", 0)])], 0, 0));
        let mut blind = snap(1000, "Stable", vec![], 0, 0);
        blind.description = None;
        blind.description_note = Some("DescribeGroups failed".into());
        assert_eq!(h.observe(blind), vec![]);
        let e = h.observe(snap(
            2000,
            "Stable",
            vec![member("a", &[("t", 0)]), member("b", &[])],
            0,
            0,
        ));
        let kinds: Vec<_> = e.iter().map(|e| &e.kind).collect();
        assert_eq!(
            kinds,
            vec![&EventKind::MemberJoined {
                member_id: "b".into(),
                client_id: "client-b".into(),
                host: "/10.0.0.1".into(),
            }],
            "only b is new, and the state did not change"
        );
    }
}
