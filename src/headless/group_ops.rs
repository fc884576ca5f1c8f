//! `reset` and `delete-group`: the console's offset reset and group deletion
//! for scripts. Both are dry runs unless `--execute` is given, and both go
//! through the worker's `PlanOffsetReset` / `ApplyOffsetReset` / `DeleteGroup`
//! commands, so the rule (the group must be Empty) and the code that commits
//! are the console's.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use serde_json::json;

use super::groups::{find_group, group_snapshot};
use super::{ask, print};
use crate::config::ClusterProfile;
use crate::jsonl;
use crate::model::{GroupChange, GroupSnapshot, TopicPartition};
use crate::sanitize;
use crate::worker::protocol::{Command, ErrorKind, ResetRow, ResetTarget, WorkerEvent};
use crate::worker::{self, WorkerHandle};

/// Exit code: refused because the group is not Empty; nothing was changed.
pub const EXIT_NOT_EMPTY: u8 = 3;
/// Exit code: refused because the cluster is read-only.
pub const EXIT_READ_ONLY: u8 = 4;

/// What `kafkaterm reset` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetArgs {
    pub group: String,
    /// `--to`'s value.
    pub to: String,
    /// The number after `--to offset` / `--to shift`.
    pub number: Option<String>,
    pub topics: Vec<String>,
    /// `TOPIC:N` as typed.
    pub partitions: Vec<String>,
    pub execute: bool,
    pub json: bool,
}

impl ResetArgs {
    /// Undo a misreading of the command line: with `--to offset 5 GROUP` the
    /// parser takes the number for the group and the group for the number.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        if let Some(n) = self.number.take() {
            self.number = Some(
                if n.parse::<i64>().is_err() && self.group.parse::<i64>().is_ok() {
                    std::mem::replace(&mut self.group, n)
                } else {
                    n
                },
            );
        }
        self
    }
}

/// The reset target from `--to` (and its number), parsed by the console's
/// parser.
pub fn parse_reset_target(to: &str, number: Option<&str>, now_ms: i64) -> Result<ResetTarget> {
    let word = to.trim();
    let text = match number {
        Some(n) if matches!(word, "offset" | "shift") => format!("{word} {n}"),
        Some(n) => bail!(
            "`--to {}` takes no number (`{}` given): use earliest, latest, offset N, shift ±N, @TIME or -15m",
            sanitize::escape(word),
            sanitize::escape(n)
        ),
        None if matches!(word, "offset" | "shift") => {
            bail!("`--to {word}` needs a number: `--to {word} N`")
        }
        None => word.to_string(),
    };
    let target = crate::panes::groups::parse_target(&text, now_ms)
        .map_err(|e| anyhow!("malformed target: {}", sanitize::escape(&e)))?;
    if let ResetTarget::Offset(o) = target
        && o < 0
    {
        bail!("malformed target: offset {o} is negative");
    }
    Ok(target)
}

/// `TOPIC:N` from `--partition`.
pub fn parse_partition(s: &str) -> Result<TopicPartition> {
    let bad = || {
        anyhow!(
            "`{}` is not a partition: use TOPIC:N, e.g. orders:3",
            sanitize::escape(s)
        )
    };
    let (topic, n) = s.rsplit_once(':').ok_or_else(bad)?;
    let n: i32 = n.trim().parse().map_err(|_| bad())?;
    if topic.is_empty() || n < 0 {
        return Err(bad());
    }
    Ok(TopicPartition::new(topic, n))
}

/// Where a row's new offset was moved into the log's range, in words.
#[must_use]
pub fn clamp_note(target: ResetTarget, row: &ResetRow) -> Option<String> {
    let wanted = match target {
        ResetTarget::Offset(o) => o,
        ResetTarget::Shift(n) => row.current.unwrap_or(row.low).saturating_add(n),
        _ => return None,
    };
    let (topic, p) = (sanitize::escape(&row.tp.topic), row.tp.partition);
    let from = match target {
        ResetTarget::Shift(n) => match row.current {
            Some(c) => format!("shift {n:+} from {c}"),
            None => format!("shift {n:+} from the log start {} (no commit)", row.low),
        },
        _ => format!("offset {wanted}"),
    };
    if wanted < row.low {
        Some(format!(
            "{topic}/{p}: {from} is before the log start: clamped to the log start {}",
            row.low
        ))
    } else if wanted > row.end {
        Some(format!(
            "{topic}/{p}: {from} is past the log end: clamped to the log end {}",
            row.end
        ))
    } else {
        None
    }
}

/// The partitions `--topic` and `--partition` name, checked against the
/// cluster's metadata; `None` when neither was given (every partition the
/// group has committed on).
async fn scope(
    w: &mut WorkerHandle,
    topics: &[String],
    partitions: &[TopicPartition],
) -> Result<Option<Vec<TopicPartition>>> {
    if topics.is_empty() && partitions.is_empty() {
        return Ok(None);
    }
    let names: BTreeSet<&str> = topics
        .iter()
        .map(String::as_str)
        .chain(partitions.iter().map(|tp| tp.topic.as_str()))
        .collect();
    let mut known: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (i, t) in names.into_iter().enumerate() {
        let ev = ask(
            w,
            Command::DescribeTopic {
                id: 100 + i as u64,
                topic: t.to_string(),
            },
        )
        .await?;
        let WorkerEvent::TopicDetail { result, .. } = ev else {
            bail!("unexpected answer");
        };
        let detail = result.map_err(|e| anyhow!("{e}"))?;
        known.insert(t, detail.partitions.iter().map(|p| p.partition).collect());
    }
    let mut out: BTreeSet<TopicPartition> = BTreeSet::new();
    for t in topics {
        for p in known.get(t.as_str()).into_iter().flatten() {
            out.insert(TopicPartition::new(t, *p));
        }
    }
    for tp in partitions {
        let have = known.get(tp.topic.as_str()).map_or(&[][..], Vec::as_slice);
        if !have.contains(&tp.partition) {
            bail!(
                "unknown partition {}:{} (the topic has {} partition(s))",
                sanitize::escape(&tp.topic),
                tp.partition,
                have.len()
            );
        }
        out.insert(tp.clone());
    }
    Ok(Some(out.into_iter().collect()))
}

fn reset_json(
    g: &GroupSnapshot,
    target: ResetTarget,
    rows: &[ResetRow],
    applied: bool,
    notes: &[String],
    refused: Option<&str>,
) -> String {
    let v = json!({
        "group": g.group,
        "state": g.state(),
        "target": target.describe(),
        "partitions": rows.iter().map(|r| json!({
            "topic": r.tp.topic,
            "partition": r.tp.partition,
            "current": r.current,
            "new": r.new,
            "new_lag": r.new_lag(),
        })).collect::<Vec<_>>(),
        "applied": applied,
        "notes": notes,
        "refused": refused,
    });
    jsonl::to_safe_string(&v, true) + "\n"
}

fn reset_text(g: &GroupSnapshot, target: ResetTarget, rows: &[ResetRow], applied: bool) -> String {
    let mut s = format!(
        "group {}  state {}  target {}  {}\n\n",
        sanitize::escape(&g.group),
        sanitize::escape(g.state().as_str()),
        target.describe(),
        if applied {
            "committed"
        } else {
            "dry run: nothing committed"
        }
    );
    s.push_str(&format!(
        "{:<30} {:>9} {:>12} {:>12} {:>10}\n",
        "TOPIC", "PARTITION", "CURRENT", "NEW", "NEW LAG"
    ));
    for r in rows {
        s.push_str(&format!(
            "{:<30} {:>9} {:>12} {:>12} {:>10}\n",
            sanitize::escape(&r.tp.topic),
            r.tp.partition,
            r.current.map_or("-".into(), |c| c.to_string()),
            r.new,
            r.new_lag()
        ));
    }
    s
}

fn refuse(why: &str) -> ExitCode {
    crate::eline!("kafkaterm: refused: {}", sanitize::escape(why));
    ExitCode::from(EXIT_NOT_EMPTY)
}

fn read_only(profile: &ClusterProfile, what: &str) -> ExitCode {
    crate::eline!(
        "kafkaterm: refused: read-only mode: cluster {} does not allow {what}",
        sanitize::escape(&profile.name)
    );
    ExitCode::from(EXIT_READ_ONLY)
}

/// `kafkaterm reset`: plan, print, and with `--execute` commit while the
/// group is Empty.
pub async fn reset(profile: ClusterProfile, args: ResetArgs) -> Result<ExitCode> {
    if profile.read_only {
        return Ok(read_only(&profile, "offset resets"));
    }
    let args = args.normalized();
    let target = parse_reset_target(&args.to, args.number.as_deref(), crate::timeutil::now_ms())?;
    let parts: Vec<TopicPartition> = args
        .partitions
        .iter()
        .map(|p| parse_partition(p))
        .collect::<Result<_>>()?;
    let group = args.group.as_str();
    let mut w = worker::spawn(profile)?;
    let g = find_group(
        group_snapshot(&mut w, 1, Some(group))
            .await?
            .groups
            .into_iter()
            .find(|g| g.group == group),
        group,
    )?;
    let partitions = scope(&mut w, &args.topics, &parts).await?;
    let ev = ask(
        &mut w,
        Command::PlanOffsetReset {
            id: 2,
            group: group.to_string(),
            target,
            partitions,
        },
    )
    .await?;
    let WorkerEvent::ResetPlan { result, .. } = ev else {
        bail!("unexpected answer");
    };
    let rows = result.map_err(|e| anyhow!("{e}"))?;
    let notes: Vec<String> = rows.iter().filter_map(|r| clamp_note(target, r)).collect();
    let out = |applied: bool, refused: Option<&str>| {
        if args.json {
            reset_json(&g, target, &rows, applied, &notes, refused)
        } else {
            reset_text(&g, target, &rows, applied)
        }
    };
    for n in &notes {
        crate::eline!("kafkaterm: note: {n}");
    }
    if !args.execute {
        let check = g.check_change(GroupChange::ResetOffsets);
        print(&out(false, check.as_ref().err().map(String::as_str)))?;
        return Ok(match check {
            Ok(()) => {
                crate::eline!(
                    "kafkaterm: dry run: nothing committed (add --execute to commit this plan)"
                );
                ExitCode::SUCCESS
            }
            Err(why) => refuse(&format!("{why}: --execute would be refused")),
        });
    }
    let ev = ask(
        &mut w,
        Command::ApplyOffsetReset {
            id: 3,
            group: group.to_string(),
            rows: rows.clone(),
        },
    )
    .await?;
    match ev {
        WorkerEvent::ResetApplied { result: Ok(n), .. } => {
            print(&out(true, None))?;
            crate::eline!(
                "kafkaterm: committed {n} offset(s) of group {}",
                sanitize::escape(group)
            );
            Ok(ExitCode::SUCCESS)
        }
        WorkerEvent::ResetApplied { result: Err(e), .. } if e.kind == ErrorKind::Refused => {
            let why = e.message;
            print(&out(false, Some(&why)))?;
            Ok(refuse(&format!("{why}: nothing committed")))
        }
        WorkerEvent::ResetApplied { result: Err(e), .. } => {
            bail!("offset reset of {} failed: {e}", sanitize::escape(group))
        }
        WorkerEvent::Refused { reason, .. } => {
            crate::eline!("kafkaterm: refused: {}", sanitize::escape(&reason));
            Ok(ExitCode::from(EXIT_READ_ONLY))
        }
        _ => bail!("unexpected answer"),
    }
}

/// What `kafkaterm delete-group` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteArgs {
    pub group: String,
    pub execute: bool,
    pub json: bool,
}

fn delete_out(g: &GroupSnapshot, deleted: bool, refused: Option<&str>, json_out: bool) -> String {
    let committed: Vec<_> = g
        .partitions
        .iter()
        .filter(|p| p.committed.is_some())
        .collect();
    if json_out {
        let v = json!({
            "group": g.group,
            "state": g.state(),
            "members": g.members(),
            "partitions": committed.iter().map(|p| json!({
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
            })).collect::<Vec<_>>(),
            "deleted": deleted,
            "refused": refused,
        });
        return jsonl::to_safe_string(&v, true) + "\n";
    }
    let topics = g.topics();
    format!(
        "group {}  state {}  members {}: {} the group and its committed offsets on {} partition(s){}\n",
        sanitize::escape(&g.group),
        sanitize::escape(g.state().as_str()),
        g.members().map_or("unknown".into(), |n| n.to_string()),
        if deleted { "deleted" } else { "would delete" },
        committed.len(),
        if topics.is_empty() {
            String::new()
        } else {
            format!(" of {}", sanitize::escape(&topics.join(",")))
        }
    )
}

/// `kafkaterm delete-group`: describe, and with `--execute` delete while
/// the group is Empty.
pub async fn delete_group(profile: ClusterProfile, args: DeleteArgs) -> Result<ExitCode> {
    if profile.read_only {
        return Ok(read_only(&profile, "deleting groups"));
    }
    let group = args.group.as_str();
    let mut w = worker::spawn(profile)?;
    let g = find_group(
        group_snapshot(&mut w, 1, Some(group))
            .await?
            .groups
            .into_iter()
            .find(|g| g.group == group),
        group,
    )?;
    if !args.execute {
        let check = g.check_change(GroupChange::Delete);
        print(&delete_out(
            &g,
            false,
            check.as_ref().err().map(String::as_str),
            args.json,
        ))?;
        return Ok(match check {
            Ok(()) => {
                crate::eline!(
                    "kafkaterm: dry run: nothing deleted (add --execute to delete the group)"
                );
                ExitCode::SUCCESS
            }
            Err(why) => refuse(&format!("{why}: --execute would be refused")),
        });
    }
    let ev = ask(
        &mut w,
        Command::DeleteGroup {
            id: 2,
            group: group.to_string(),
        },
    )
    .await?;
    match ev {
        WorkerEvent::GroupDeleted { result: Ok(()), .. } => {
            print(&delete_out(&g, true, None, args.json))?;
            Ok(ExitCode::SUCCESS)
        }
        WorkerEvent::GroupDeleted { result: Err(e), .. } if e.kind == ErrorKind::Refused => {
            let why = e.message;
            print(&delete_out(&g, false, Some(&why), args.json))?;
            Ok(refuse(&format!("{why}: nothing deleted")))
        }
        WorkerEvent::GroupDeleted { result: Err(e), .. } => {
            bail!("deleting group {} failed: {e}", sanitize::escape(group))
        }
        WorkerEvent::Refused { reason, .. } => {
            crate::eline!("kafkaterm: refused: {}", sanitize::escape(&reason));
            Ok(ExitCode::from(EXIT_READ_ONLY))
        }
        _ => bail!("unexpected answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(current: Option<i64>, new: i64, low: i64, end: i64) -> ResetRow {
        ResetRow {
            tp: TopicPartition::new("t", 0),
            current,
            new,
            low,
            end,
        }
    }

    #[test]
    fn targets_parse_like_the_console() {
        let t = |to: &str, n: Option<&str>| parse_reset_target(to, n, 60_000);
        assert_eq!(t("earliest", None).unwrap(), ResetTarget::Earliest);
        assert_eq!(t("latest", None).unwrap(), ResetTarget::Latest);
        assert_eq!(t("offset", Some("7")).unwrap(), ResetTarget::Offset(7));
        assert_eq!(t("shift", Some("-5")).unwrap(), ResetTarget::Shift(-5));
        assert_eq!(t("shift", Some("+5")).unwrap(), ResetTarget::Shift(5));
        assert_eq!(t("shift -5", None).unwrap(), ResetTarget::Shift(-5));
        assert_eq!(t("-1m", None).unwrap(), ResetTarget::Timestamp(0));
        assert_eq!(
            t("@1970-01-01T00:00:01Z", None).unwrap(),
            ResetTarget::Timestamp(1000)
        );
        for (to, n) in [
            ("offset", None),
            ("shift", Some("x")),
            ("earliest", Some("5")),
            ("sideways", None),
            ("offset", Some("-3")),
            ("@yesterday-ish", None),
        ] {
            let e = t(to, n).unwrap_err().to_string();
            assert!(!e.contains('\n'), "{e}");
            assert!(
                e.contains("malformed target")
                    || e.contains("needs a number")
                    || e.contains("takes no number"),
                "{to} {n:?}: {e}"
            );
        }
    }

    #[test]
    fn partitions_parse_as_topic_colon_n() {
        assert_eq!(
            parse_partition("orders:3").unwrap(),
            TopicPartition::new("orders", 3)
        );
        assert_eq!(
            parse_partition("ns:orders:0").unwrap(),
            TopicPartition::new("ns:orders", 0)
        );
        for bad in ["orders", "orders:", ":1", "orders:x", "orders:-1"] {
            assert!(parse_partition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn swapped_group_and_number_are_put_back() {
        let a = ResetArgs {
            group: "5".into(),
            to: "offset".into(),
            number: Some("my-group".into()),
            topics: vec![],
            partitions: vec![],
            execute: false,
            json: false,
        }
        .normalized();
        assert_eq!(
            (a.group.as_str(), a.number.as_deref()),
            ("my-group", Some("5"))
        );
        let b = ResetArgs {
            group: "g".into(),
            number: Some("-5".into()),
            ..a.clone()
        }
        .normalized();
        assert_eq!((b.group.as_str(), b.number.as_deref()), ("g", Some("-5")));
    }

    #[test]
    fn clamping_is_said() {
        // Shift past the start and the end.
        let n = clamp_note(ResetTarget::Shift(-50), &row(Some(10), 0, 0, 20)).unwrap();
        assert_eq!(
            n,
            "t/0: shift -50 from 10 is before the log start: clamped to the log start 0"
        );
        let n = clamp_note(ResetTarget::Shift(50), &row(Some(10), 20, 0, 20)).unwrap();
        assert!(
            n.ends_with("past the log end: clamped to the log end 20"),
            "{n}"
        );
        assert_eq!(
            clamp_note(ResetTarget::Shift(5), &row(Some(10), 15, 0, 20)),
            None
        );
        assert_eq!(
            clamp_note(ResetTarget::Shift(20), &row(Some(0), 20, 0, 20)),
            None,
            "exactly the end is no clamp"
        );
        let n = clamp_note(ResetTarget::Offset(3), &row(None, 5, 5, 9)).unwrap();
        assert_eq!(
            n,
            "t/0: offset 3 is before the log start: clamped to the log start 5"
        );
        assert_eq!(clamp_note(ResetTarget::Latest, &row(None, 9, 5, 9)), None);
    }
}
