//! `groups`, `lag` and `watch` through the worker.

use super::{ask, print};
use crate::config::ClusterProfile;
use crate::jsonl::{self};
use crate::lag::{GroupHistory, Health, HealthReport};
use crate::model::{GroupSnapshot, TopicPartition};
use crate::sanitize;
use crate::timeutil::{self};
use crate::worker::protocol::{Command, GroupsSnapshot, WorkerEvent};
use crate::worker::{self, WorkerHandle};
use anyhow::{Result, anyhow, bail};
use serde_json::json;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

/// Exit status of `groups` and `lag` when the output was printed but is
/// incomplete: the group listing was cut short or failed, or a group could
/// not be described (the notes say why).
pub const EXIT_INCOMPLETE: u8 = 5;

/// Could the group's membership not be described although the cluster was
/// asked (not a cluster whose profile says it lacks DescribeGroups)?
fn not_described(profile: &ClusterProfile, g: &GroupSnapshot) -> bool {
    g.members().is_none() && !profile.unsupported.describe_groups
}

/// Why a group of another protocol than the classic one has no members or
/// no KIP-848 details (a classic group's note, that the cluster has no
/// KIP-848 details to give, is the console's, not the JSON's).
fn type_note(g: &GroupSnapshot) -> Option<&String> {
    g.description
        .as_ref()
        .filter(|d| d.group_type != crate::model::GroupType::Classic)
        .and_then(|d| d.details_note.as_ref())
}

fn exit_code(incomplete: bool) -> ExitCode {
    if incomplete {
        ExitCode::from(EXIT_INCOMPLETE)
    } else {
        ExitCode::SUCCESS
    }
}

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
            first: None,
        },
    )
    .await?;
    let WorkerEvent::Groups { result, .. } = ev else {
        bail!("unexpected answer");
    };
    result.map_err(|e| anyhow!("{e}"))
}

/// Seconds as JSON: ms precision.
#[allow(clippy::cast_precision_loss)]
fn seconds(ms: Option<i64>) -> Option<f64> {
    ms.map(|ms| ms as f64 / 1000.0)
}

/// The window a status is judged over after looks `window` seconds apart
/// (with room for the refreshes' own time).
#[allow(clippy::cast_possible_truncation)]
fn status_window_ms(window: f64) -> i64 {
    (window.max(0.0) * 1000.0) as i64 + 60_000
}

/// One look at the groups, or two `window` seconds apart: each group's
/// history over them, by name, and the list's note.
async fn look(
    w: &mut WorkerHandle,
    only: Option<&str>,
    window: f64,
) -> Result<(BTreeMap<String, GroupHistory>, Option<String>)> {
    let mut histories: BTreeMap<String, GroupHistory> = BTreeMap::new();
    let first = group_snapshot(w, 1, only).await?;
    for g in first.groups {
        histories.entry(g.group.clone()).or_default().observe(g);
    }
    let mut note = first.list_note;
    if window > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(window.min(3600.0))).await;
        let second = group_snapshot(w, 2, only).await?;
        let seen: std::collections::BTreeSet<String> =
            second.groups.iter().map(|g| g.group.clone()).collect();
        for g in second.groups {
            histories.entry(g.group.clone()).or_default().observe(g);
        }
        // Gone by the second look: not listed.
        histories.retain(|g, _| seen.contains(g));
        note = second.list_note;
    }
    Ok((histories, note))
}

/// `groups`: every group, also when some could not be listed or described
/// (their notes go to stderr, and to `note` in JSON); exits
/// [`EXIT_INCOMPLETE`] then.
pub async fn groups(profile: ClusterProfile, json_out: bool, window: f64) -> Result<ExitCode> {
    let mut w = worker::spawn(profile.clone())?;
    let (histories, list_note) = look(&mut w, None, window).await?;
    if let Some(n) = &list_note {
        crate::eline!("kafkaterm: note: {}", sanitize::escape(n));
    }
    let window_ms = status_window_ms(window);
    let groups: Vec<(&GroupSnapshot, Option<HealthReport>)> = histories
        .values()
        .filter_map(|h| Some((h.last.as_ref()?, h.health(window_ms))))
        .collect();
    for (g, _) in &groups {
        for n in g.description_note.iter().chain(g.offsets_note.iter()) {
            crate::eline!(
                "kafkaterm: note: group {}: {}",
                sanitize::escape(&g.group),
                sanitize::escape(n)
            );
        }
    }
    // A list note on a cluster that lacks ListGroups by its profile says
    // what is shown; any other means the listing failed or was cut short.
    let incomplete = (list_note.is_some() && !profile.unsupported.list_groups)
        || groups.iter().any(|(g, _)| not_described(&profile, g));
    if json_out {
        let arr: Vec<_> = groups
            .iter()
            .map(|(g, health)| {
                let d = g.description.as_ref();
                json!({
                    "group": g.group,
                    "state": g.state(),
                    "status": health.as_ref().map(|r| r.status),
                    "status_reason": health.as_ref().map(|r| r.reason.clone()),
                    "type": d.map(|d| d.group_type.as_str().to_string()),
                    "members": g.members(),
                    "protocol_type": d.map(|d| d.protocol_type.clone()),
                    "assignor": d.map(|d| d.protocol.clone()),
                    "topics": g.topics(),
                    "total_lag": g.total_lag(),
                    "max_lag_seconds": seconds(g.max_lag_ms()),
                    "note": g.description_note.iter().chain(type_note(g)).chain(g.offsets_note.iter()).cloned().chain(g.lag_time_note()).collect::<Vec<_>>().join("; "),
                })
            })
            .collect();
        print(&(jsonl::to_safe_string(&arr, true) + "\n"))?;
        return Ok(exit_code(incomplete));
    }
    let mut s = format!(
        "{:<40} {:<20} {:<11} {:>7} {:>12} {:>8}  {}\n",
        "GROUP", "STATE", "STATUS", "MEMBERS", "LAG", "TIME", "TOPICS"
    );
    for (g, health) in &groups {
        s.push_str(&format!(
            "{:<40} {:<20} {:<11} {:>7} {:>12} {:>8}  {}\n",
            sanitize::escape(&g.group),
            sanitize::escape(g.state().as_str()),
            health.as_ref().map_or("?", |r| r.status.as_str()),
            g.members().map_or("?".into(), |n| n.to_string()),
            g.total_lag(),
            lag_time(g.max_lag_ms()),
            sanitize::escape(&g.topics().join(","))
        ));
    }
    print(&s)?;
    Ok(exit_code(incomplete))
}

/// A lag in time for text output.
fn lag_time(ms: Option<i64>) -> String {
    #[allow(clippy::cast_precision_loss)]
    ms.map_or("-".into(), |ms| {
        timeutil::human_duration((ms / 1000) as f64)
    })
}

pub(super) fn find_group(snap: Option<GroupSnapshot>, group: &str) -> Result<GroupSnapshot> {
    let g = snap.ok_or_else(|| anyhow!("no group {}", sanitize::escape(group)))?;
    // Not described because DescribeGroups answered with an error: the
    // group exists (a broker listed it), its membership is unknown.
    let dead = match &g.description {
        Some(d) => d.state == crate::model::GroupState::Dead,
        None => g.description_note.as_deref().is_none_or(|n| {
            n == worker::groups::NOT_DESCRIBED || n == worker::groups::NO_DESCRIBE_GROUPS
        }),
    };
    if dead && g.partitions.is_empty() && g.offsets_note.is_none() {
        bail!("consumer group {} does not exist", sanitize::escape(group));
    }
    Ok(g)
}

/// The `lag GROUP --json` object, with the statuses judged over `window_ms`.
#[must_use]
pub fn lag_json(h: &GroupHistory, window_ms: i64) -> serde_json::Value {
    let Some(g) = h.last.as_ref() else {
        return serde_json::Value::Null;
    };
    let health = h.health(window_ms);
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
                        "member_epoch": m.member_epoch,
                        "target_assignments": m.target_assignment.as_ref().map(|t| t.iter().map(|tp| json!({"topic": tp.topic, "partition": tp.partition})).collect::<Vec<_>>()),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "group": g.group,
        "state": g.state(),
        "status": health.as_ref().map(|r| r.status),
        "status_reason": health.as_ref().map(|r| r.reason.clone()),
        "type": g.description.as_ref().map(|d| d.group_type.as_str().to_string()),
        "group_epoch": g.description.as_ref().and_then(|d| d.group_epoch),
        "assignment_epoch": g.description.as_ref().and_then(|d| d.assignment_epoch),
        "protocol_type": g.description.as_ref().map(|d| d.protocol_type.clone()),
        "assignor": g.description.as_ref().map(|d| d.protocol.clone()),
        "members": members,
        "reconciling": g.description.as_ref().map(|d| crate::model::reconciling(d).iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
        "partitions": g.partitions.iter().map(|p| json!({
            "topic": p.topic,
            "partition": p.partition,
            "committed": p.committed,
            "end": p.end,
            "lag": p.lag,
            "lag_seconds": seconds(p.lag_ms),
            "lag_seconds_estimated": p.lag_ms_estimated,
            "lag_seconds_note": p.lag_ms_note,
            "status": h.partition_health(&TopicPartition::new(&p.topic, p.partition), window_ms),
            "lso": p.lso,
            "member_id": p.member_id,
            "error": p.error,
        })).collect::<Vec<_>>(),
        "total_lag": g.total_lag(),
        "max_lag_seconds": seconds(g.max_lag_ms()),
        "notes": g
            .description_note
            .iter()
            .chain(type_note(g))
            .chain(g.offsets_note.iter())
            .cloned()
            .chain(crate::panes::groups::lso_note(g))
            .chain(g.lag_time_note())
            .collect::<Vec<_>>(),
    })
}

/// `lag GROUP`: exits [`EXIT_INCOMPLETE`] when the group's membership could
/// not be described (the offsets and lag are printed all the same).
pub async fn lag(
    profile: ClusterProfile,
    group: &str,
    json_out: bool,
    window: f64,
) -> Result<ExitCode> {
    let mut w = worker::spawn(profile.clone())?;
    let (mut histories, _) = look(&mut w, Some(group), window).await?;
    let h = histories.remove(group).unwrap_or_default();
    let g = find_group(h.last.clone(), group)?;
    let incomplete = not_described(&profile, &g);
    let window_ms = status_window_ms(window);
    if json_out {
        print(&(jsonl::to_safe_string(&lag_json(&h, window_ms), true) + "\n"))?;
        return Ok(exit_code(incomplete));
    }
    let health = h.health(window_ms);
    let mut s = format!(
        "group {}  state {}  members {}  status {}\n",
        sanitize::escape(&g.group),
        sanitize::escape(g.state().as_str()),
        g.description
            .as_ref()
            .map_or("unknown".into(), |d| d.members.len().to_string()),
        health.as_ref().map_or_else(
            || "? (lag left: --window SECS tells OK, LAGGING and STALLED apart)".to_string(),
            |r| format!("{} ({})", r.status.as_str(), sanitize::escape(&r.reason))
        ),
    );
    let held = crate::panes::groups::lso_note(&g);
    let untimed = g.lag_time_note();
    for n in g
        .description_note
        .iter()
        .chain(g.offsets_note.iter())
        .chain(held.iter())
        .chain(untimed.iter())
    {
        s.push_str(&format!("note: {}\n", sanitize::escape(n)));
    }
    s.push_str(&format!(
        "\n{:<30} {:>9} {:>12} {:>12} {:>10} {:>8} {:<11}  {}\n",
        "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "TIME", "STATUS", "OWNER"
    ));
    let mut per_topic: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for p in &g.partitions {
        *per_topic.entry(&p.topic).or_default() += p.lag.unwrap_or(0);
        let status = h.partition_health(&TopicPartition::new(&p.topic, p.partition), window_ms);
        s.push_str(&format!(
            "{:<30} {:>9} {:>12} {:>12} {:>10} {:>8} {:<11}  {}\n",
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
            lag_time(p.lag_ms),
            status.map_or("?", Health::as_str),
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
    if let Some(ms) = g.max_lag_ms() {
        s.push_str(&format!("lag in time: {}\n", lag_time(Some(ms))));
    }
    print(&s)?;
    Ok(exit_code(incomplete))
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
    let mut last_status: Option<Health> = None;
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
                crate::eline!(
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
                    max_lag_ms: history.last.as_ref().and_then(GroupSnapshot::max_lag_ms),
                },
            });
        }
        last_lag = Some(lag);
        // Say when the group's health changes.
        if let Some(r) = history.health(WATCH_RATE_WINDOW_MS)
            && last_status != Some(r.status)
        {
            events.push(crate::lag::GroupEvent {
                at_ms: at,
                group: group.to_string(),
                kind: crate::lag::EventKind::StatusChanged {
                    from: last_status,
                    to: r.status,
                    reason: r.reason,
                },
            });
            last_status = Some(r.status);
        }
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
