//! The events a group's history reports, and their one-line texts.

use serde::Serialize;

use super::{Health, Idle};
use crate::model::GroupState;
use crate::timeutil;

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
    /// KIP-848: the group epoch changed (membership or subscriptions did).
    EpochChanged {
        from: i32,
        to: i32,
    },
    /// KIP-848: every member reached the target assignment, `after_ms`
    /// after the epoch bump that started it.
    Reconciled {
        after_ms: i64,
    },
    /// The group changed protocol (a classic group converted to a consumer
    /// group when a member joined with `group.protocol=consumer`, or back).
    ProtocolChanged {
        from: String,
        to: String,
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
            EventKind::EpochChanged { from, to } => format!("group epoch {from} → {to}"),
            EventKind::Reconciled { after_ms } => {
                #[allow(clippy::cast_precision_loss)]
                let secs = *after_ms as f64 / 1000.0;
                format!(
                    "every member reconciled {} after the epoch bump",
                    timeutil::human_duration(secs)
                )
            }
            EventKind::ProtocolChanged { from, to } => format!(
                "converted from the {} protocol to the {} protocol",
                crate::sanitize::escape(from),
                crate::sanitize::escape(to)
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
