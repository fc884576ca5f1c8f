//! `groups`, `lag` and `watch` through the worker.

use super::{ask, print};
use crate::config::ClusterProfile;
use crate::jsonl::{self};
use crate::lag::GroupHistory;
use crate::model::GroupSnapshot;
use crate::sanitize;
use crate::timeutil::{self};
use crate::worker::protocol::{Command, GroupsSnapshot, WorkerEvent};
use crate::worker::{self, WorkerHandle};
use anyhow::{Result, anyhow, bail};
use serde_json::json;
use std::time::Duration;

pub(super) async fn group_snapshot(
    w: &mut WorkerHandle,
    id: u64,
    only: Option<&str>,
) -> Result<GroupsSnapshot> {
    let ev = ask(
        w,
        Command::RefreshGroups {
            id,
            only: only.map(str::to_string),
        },
    )
    .await?;
    let WorkerEvent::Groups { result, .. } = ev else {
        bail!("unexpected answer");
    };
    result.map_err(|e| anyhow!("{e}"))
}

pub async fn groups(profile: ClusterProfile, json_out: bool) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let snap = group_snapshot(&mut w, 1, None).await?;
    if let Some(n) = &snap.list_note {
        eprintln!("kafkaterm: note: {}", sanitize::escape(n));
    }
    if json_out {
        let arr: Vec<_> = snap
            .groups
            .iter()
            .map(|g| {
                let d = g.description.as_ref();
                json!({
                    "group": g.group,
                    "state": g.state(),
                    "members": d.map(|d| d.members.len()),
                    "protocol_type": d.map(|d| d.protocol_type.clone()),
                    "assignor": d.map(|d| d.protocol.clone()),
                    "topics": g.topics(),
                    "total_lag": g.total_lag(),
                    "note": g.description_note.iter().chain(g.offsets_note.iter()).cloned().collect::<Vec<_>>().join("; "),
                })
            })
            .collect();
        return print(&(jsonl::to_safe_string(&arr, true) + "\n"));
    }
    let mut s = format!(
        "{:<40} {:<20} {:>7} {:>12}  {}\n",
        "GROUP", "STATE", "MEMBERS", "LAG", "TOPICS"
    );
    for g in &snap.groups {
        s.push_str(&format!(
            "{:<40} {:<20} {:>7} {:>12}  {}\n",
            sanitize::escape(&g.group),
            sanitize::escape(g.state().as_str()),
            g.description
                .as_ref()
                .map_or("?".into(), |d| d.members.len().to_string()),
            g.total_lag(),
            sanitize::escape(&g.topics().join(","))
        ));
    }
    print(&s)
}

pub(super) fn find_group(snap: GroupsSnapshot, group: &str) -> Result<GroupSnapshot> {
    let g = snap
        .groups
        .into_iter()
        .find(|g| g.group == group)
        .ok_or_else(|| anyhow!("no group {}", sanitize::escape(group)))?;
    let dead = g
        .description
        .as_ref()
        .is_none_or(|d| d.state == crate::model::GroupState::Dead);
    if dead && g.partitions.is_empty() && g.offsets_note.is_none() {
        bail!("consumer group {} does not exist", sanitize::escape(group));
    }
    Ok(g)
}

/// The `lag GROUP --json` object.
#[must_use]
pub fn lag_json(g: &GroupSnapshot) -> serde_json::Value {
    let members: Vec<_> = g
        .description
        .as_ref()
        .map(|d| {
            d.members
                .iter()
                .map(|m| {
                    json!({
                        "member_id": m.member_id,
                        "client_id": m.client_id,
                        "host": m.host,
                        "assignments": m.assignment.iter().flatten().map(|tp| json!({"topic": tp.topic, "partition": tp.partition})).collect::<Vec<_>>(),
                        "assignment_note": m.assignment_note,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "group": g.group,
        "state": g.state(),
        "protocol_type": g.description.as_ref().map(|d| d.protocol_type.clone()),
        "assignor": g.description.as_ref().map(|d| d.protocol.clone()),
        "members": members,
        "partitions": g.partitions.iter().map(|p| json!({
            "topic": p.topic,
            "partition": p.partition,
            "committed": p.committed,
            "end": p.end,
            "lag": p.lag,
            "lso": p.lso,
            "member_id": p.member_id,
            "error": p.error,
        })).collect::<Vec<_>>(),
        "total_lag": g.total_lag(),
        "notes": g
            .description_note
            .iter()
            .chain(g.offsets_note.iter())
            .cloned()
            .chain(crate::panes::groups::lso_note(g))
            .collect::<Vec<_>>(),
    })
}

pub async fn lag(profile: ClusterProfile, group: &str, json_out: bool) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let g = find_group(group_snapshot(&mut w, 1, Some(group)).await?, group)?;
    if json_out {
        return print(&(jsonl::to_safe_string(&lag_json(&g), true) + "\n"));
    }
    let mut s = format!(
        "group {}  state {}  members {}\n",
        sanitize::escape(&g.group),
        sanitize::escape(g.state().as_str()),
        g.description
            .as_ref()
            .map_or("unknown".into(), |d| d.members.len().to_string())
    );
    let held = crate::panes::groups::lso_note(&g);
    for n in g
        .description_note
        .iter()
        .chain(g.offsets_note.iter())
        .chain(held.iter())
    {
        s.push_str(&format!("note: {}\n", sanitize::escape(n)));
    }
    s.push_str(&format!(
        "\n{:<30} {:>9} {:>12} {:>12} {:>10}  {}\n",
        "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "OWNER"
    ));
    let mut per_topic: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for p in &g.partitions {
        *per_topic.entry(&p.topic).or_default() += p.lag.unwrap_or(0);
        s.push_str(&format!(
            "{:<30} {:>9} {:>12} {:>12} {:>10}  {}\n",
            sanitize::escape(&p.topic),
            p.partition,
            // "-": no commit; "?": the broker would not say (see the notes).
            p.committed.map_or_else(
                || if p.error.is_some() {
                    "?".into()
                } else {
                    "-".into()
                },
                |v| v.to_string()
            ),
            p.end.map_or("?".into(), |v| v.to_string()),
            p.lag.map_or("-".into(), |v| v.to_string()),
            p.member_id
                .as_deref()
                .map_or("-".into(), |m| sanitize::escape(m).into_owned())
        ));
    }
    s.push('\n');
    for (t, l) in per_topic {
        s.push_str(&format!("total {}: {l}\n", sanitize::escape(t)));
    }
    s.push_str(&format!("total lag: {}\n", g.total_lag()));
    print(&s)
}

/// The window `watch` judges rates over (as the console's groups view).
const WATCH_RATE_WINDOW_MS: i64 = 30_000;

/// Print rebalance events and lag changes until interrupted.
pub async fn watch(
    profile: ClusterProfile,
    group: &str,
    interval: f64,
    json_out: bool,
) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let mut history = GroupHistory::default();
    let mut last_lag: Option<i64> = None;
    let mut was_idle = false;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(interval.clamp(0.2, 3600.0)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut id = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = sigint.recv() => return Ok(()),
            _ = sigterm.recv() => return Ok(()),
        }
        id += 1;
        let snap = match group_snapshot(&mut w, id, Some(group)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "{} refresh failed: {}",
                    timeutil::format_ts(timeutil::now_ms(), true),
                    sanitize::escape(&e.to_string())
                );
                continue;
            }
        };
        let Some(g) = snap.groups.into_iter().find(|g| g.group == group) else {
            continue;
        };
        let lag = g.total_lag();
        let at = g.at_ms;
        let mut lines = String::new();
        let mut events = history.observe(g);
        if last_lag.is_some_and(|l| l != lag) {
            events.push(crate::lag::GroupEvent {
                at_ms: at,
                group: group.to_string(),
                kind: crate::lag::EventKind::LagChanged {
                    from: last_lag.unwrap_or(0),
                    to: lag,
                },
            });
        }
        last_lag = Some(lag);
        // Say once when the group stops making progress with lag left:
        // idle (no members) or no progress, since the last commit.
        match history.eta(WATCH_RATE_WINDOW_MS) {
            crate::lag::Eta::Idle(idle) => {
                if !was_idle {
                    events.push(crate::lag::GroupEvent {
                        at_ms: at,
                        group: group.to_string(),
                        kind: crate::lag::EventKind::Idle {
                            since_ms: idle.since_ms,
                            since_first_seen: idle.since_first_seen,
                            members: history.last.as_ref().and_then(GroupSnapshot::members),
                        },
                    });
                }
                was_idle = true;
            }
            _ => was_idle = false,
        }
        for e in events {
            if json_out {
                lines.push_str(&jsonl::to_safe_string(&e, false));
            } else {
                lines.push_str(&format!(
                    "{} {} {}",
                    timeutil::format_ts(e.at_ms, true),
                    sanitize::escape(group),
                    e.describe()
                ));
            }
            lines.push('\n');
        }
        if !lines.is_empty() {
            print(&lines)?;
        }
    }
}
