//! `topics` and `describe` through the worker.

use super::{ask, print};
use crate::config::ClusterProfile;
use crate::jsonl::{self};
use crate::sanitize;
use crate::worker::protocol::{Command, WorkerEvent};
use crate::worker::{self};
use anyhow::{Result, anyhow, bail};
use serde_json::json;

pub async fn topics(profile: ClusterProfile, json_out: bool, internal: bool) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let WorkerEvent::Topics { result, .. } = ask(&mut w, Command::RefreshTopics { id: 1 }).await?
    else {
        bail!("unexpected answer");
    };
    let snap = result.map_err(|e| anyhow!("cannot list topics: {e}"))?;
    if let Some(e) = &snap.watermark_error {
        crate::eline!("kafkaterm: warning: {}", sanitize::escape(e));
    }
    if json_out {
        let arr: Vec<_> = snap
            .topics
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "partitions": t.partitions,
                    "replication_factor": t.replication_factor,
                    "messages": t.messages,
                    "messages_error": t.messages_error,
                    "internal": t.internal,
                    "under_replicated": t.under_replicated,
                    "offline": t.offline,
                    "error": t.error,
                })
            })
            .collect();
        return print(&(jsonl::to_safe_string(&arr, true) + "\n"));
    }
    let mut s = format!(
        "{:<40} {:>10} {:>3} {:>14}  {}\n",
        "NAME", "PARTITIONS", "RF", "MESSAGES", "FLAGS"
    );
    for t in snap.topics.iter().filter(|t| internal || !t.internal) {
        let mut flags = Vec::new();
        if t.internal {
            flags.push("internal".to_string());
        }
        if t.under_replicated > 0 {
            flags.push(format!("under-replicated:{}", t.under_replicated));
        }
        if let Some(e) = &t.error {
            flags.push(sanitize::escape(e).into_owned());
        }
        // Last: the reason is words, the flags before it are single tokens.
        if let Some(e) = &t.messages_error {
            flags.push(format!("messages-unknown: {}", sanitize::escape(e)));
        }
        s.push_str(&format!(
            "{:<40} {:>10} {:>3} {:>14}  {}\n",
            sanitize::escape(&t.name),
            t.partitions,
            t.replication_factor,
            t.messages.map_or("?".into(), |m| m.to_string()),
            flags.join(" ")
        ));
    }
    print(&s)
}

pub async fn describe(profile: ClusterProfile, topic: &str, json_out: bool) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let ev = ask(
        &mut w,
        Command::DescribeTopic {
            id: 1,
            topic: topic.to_string(),
        },
    )
    .await?;
    let WorkerEvent::TopicDetail { result, .. } = ev else {
        bail!("unexpected answer");
    };
    let d = result.map_err(|e| anyhow!("{e}"))?;
    let (configs, configs_error) = match &d.configs {
        crate::model::Configs::Loaded(c) => (c.clone(), None),
        crate::model::Configs::Unsupported(e) | crate::model::Configs::Failed(e) => {
            (Vec::new(), Some(e.clone()))
        }
    };
    let messages_error = crate::model::unknown_count_reason(&d.partitions);
    if json_out {
        let v = json!({
            "name": d.name,
            "internal": d.internal,
            "messages": d.partitions.iter().map(crate::model::PartitionInfo::messages).sum::<Option<i64>>(),
            "messages_error": messages_error,
            "partitions": d.partitions.iter().map(|p| json!({
                "partition": p.partition,
                "leader": p.leader,
                "replicas": p.replicas,
                "isr": p.isr,
                "low": p.low,
                "high": p.high,
                "lso": p.lso,
                "messages": p.messages(),
                "error": p.error,
            })).collect::<Vec<_>>(),
            "configs": configs.iter().map(|c| json!({
                "name": c.name,
                "value": c.value,
                "is_default": c.is_default,
                "is_sensitive": c.is_sensitive,
                "source": c.source,
            })).collect::<Vec<_>>(),
            "configs_error": configs_error,
        });
        return print(&(jsonl::to_safe_string(&v, true) + "\n"));
    }
    let mut s = format!("topic {}\n\n", sanitize::escape(&d.name));
    s.push_str(&format!(
        "{:>9} {:>6} {:<12} {:<12} {:>12} {:>12} {:>12} {:>12}\n",
        "PARTITION", "LEADER", "REPLICAS", "ISR", "LOW", "HIGH", "LSO", "MESSAGES"
    ));
    let join = |v: &[i32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    for p in &d.partitions {
        let oos = p.out_of_sync();
        s.push_str(&format!(
            "{:>9} {:>6} {:<12} {:<12} {:>12} {:>12} {:>12} {:>12}{}{}\n",
            p.partition,
            p.leader,
            join(&p.replicas),
            join(&p.isr),
            p.low.map_or("?".into(), |v| v.to_string()),
            p.high.map_or("?".into(), |v| v.to_string()),
            p.lso.map_or("?".into(), |v| v.to_string()),
            p.messages().map_or("?".into(), |v| v.to_string()),
            if oos.is_empty() {
                String::new()
            } else {
                format!("  out of sync: {}", join(&oos))
            },
            p.error.as_ref().map_or(String::new(), |e| format!(
                "  error: {}",
                sanitize::escape(e)
            ))
        ));
    }
    if let Some(e) = &messages_error {
        s.push_str(&format!("\nmessages unknown: {}\n", sanitize::escape(e)));
    }
    s.push_str("\nconfiguration (* = not default)\n");
    if let Some(e) = &configs_error {
        s.push_str(&format!("  unavailable: {}\n", sanitize::escape(e)));
    } else if configs.is_empty() {
        s.push_str("  the broker returned no configuration entries\n");
    }
    for c in &configs {
        s.push_str(&format!(
            "{} {} = {}\n",
            if c.is_default { " " } else { "*" },
            sanitize::escape(&c.name),
            if c.is_sensitive {
                "(sensitive)".into()
            } else {
                sanitize::escape(c.value.as_deref().unwrap_or("(null)")).into_owned()
            }
        ));
    }
    print(&s)
}
