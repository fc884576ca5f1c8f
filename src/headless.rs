//! Headless commands for scripts: `topics`, `describe`, `groups`, `lag` and
//! `watch` ask the same worker the console uses; `consume` and `produce` run
//! their own tight loops for throughput. Errors return `Err` (one line, no
//! secrets); `main` prints it to stderr and exits non-zero.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as RdHeader, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset};
use serde_json::json;

use crate::cli::{ConsumeFormat, ProduceFormat};
use crate::config::ClusterProfile;
use crate::filter::{Filter, MsgView};
use crate::jsonl::{self, RecordRef};
use crate::kafka::client::{self, Acks, Compression, KtContext, ProducerOptions, explain};
use crate::kafka::message::{for_each_header, header_name, timestamp_of};
use crate::lag::GroupHistory;
use crate::model::{GroupSnapshot, Header};
use crate::sanitize;
use crate::timeutil::{self, StartAt};
use crate::worker::protocol::{BrowseSpec, Command, GroupsSnapshot, WorkerEvent};
use crate::worker::{self, WorkerHandle};

const ASK_TIMEOUT: Duration = Duration::from_secs(60);

/// Send one command and wait for the event that answers it (see
/// `WorkerEvent::answers`); other events are skipped.
pub async fn ask(w: &mut WorkerHandle, cmd: Command) -> Result<WorkerEvent> {
    let id = cmd.req_id();
    w.commands
        .send(cmd)
        .map_err(|_| anyhow!("the Kafka worker stopped"))?;
    let deadline = tokio::time::Instant::now() + ASK_TIMEOUT;
    loop {
        let ev = tokio::time::timeout_at(deadline, w.events.recv())
            .await
            .map_err(|_| {
                anyhow!(
                    "no answer from the cluster within {}s",
                    ASK_TIMEOUT.as_secs()
                )
            })?
            .ok_or_else(|| anyhow!("the Kafka worker stopped"))?;
        if id.is_some() && ev.answers() == id {
            return Ok(ev);
        }
    }
}

fn out_err(e: &io::Error) -> Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(anyhow!("cannot write output: {e}"))
    }
}

fn print(s: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => out_err(&e),
    }
}

pub async fn topics(profile: ClusterProfile, json_out: bool, internal: bool) -> Result<()> {
    let mut w = worker::spawn(profile)?;
    let WorkerEvent::Topics { result, .. } = ask(&mut w, Command::RefreshTopics { id: 1 }).await?
    else {
        bail!("unexpected answer");
    };
    let snap = result.map_err(|e| anyhow!("cannot list topics: {e}"))?;
    if let Some(e) = &snap.watermark_error {
        eprintln!("kafkaterm: warning: {}", sanitize::escape(e));
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
    if json_out {
        let v = json!({
            "name": d.name,
            "internal": d.internal,
            "partitions": d.partitions.iter().map(|p| json!({
                "partition": p.partition,
                "leader": p.leader,
                "replicas": p.replicas,
                "isr": p.isr,
                "low": p.low,
                "high": p.high,
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
        "{:>9} {:>6} {:<12} {:<12} {:>12} {:>12} {:>12}\n",
        "PARTITION", "LEADER", "REPLICAS", "ISR", "LOW", "HIGH", "MESSAGES"
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
            "{:>9} {:>6} {:<12} {:<12} {:>12} {:>12} {:>12}{}\n",
            p.partition,
            p.leader,
            join(&p.replicas),
            join(&p.isr),
            p.low.map_or("?".into(), |v| v.to_string()),
            p.high.map_or("?".into(), |v| v.to_string()),
            p.messages().map_or("?".into(), |v| v.to_string()),
            if oos.is_empty() {
                String::new()
            } else {
                format!("  out of sync: {}", join(&oos))
            }
        ));
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

async fn group_snapshot(
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
            sanitize::escape(g.state()),
            g.description
                .as_ref()
                .map_or("?".into(), |d| d.members.len().to_string()),
            g.total_lag(),
            sanitize::escape(&g.topics().join(","))
        ));
    }
    print(&s)
}

fn find_group(snap: GroupsSnapshot, group: &str) -> Result<GroupSnapshot> {
    let g = snap
        .groups
        .into_iter()
        .find(|g| g.group == group)
        .ok_or_else(|| anyhow!("no group {}", sanitize::escape(group)))?;
    let dead = g.description.as_ref().is_none_or(|d| d.state == "Dead");
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
            "member_id": p.member_id,
        })).collect::<Vec<_>>(),
        "total_lag": g.total_lag(),
        "notes": g.description_note.iter().chain(g.offsets_note.iter()).cloned().collect::<Vec<_>>(),
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
        sanitize::escape(g.state()),
        g.description
            .as_ref()
            .map_or("unknown".into(), |d| d.members.len().to_string())
    );
    for n in g.description_note.iter().chain(g.offsets_note.iter()) {
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
            p.committed.map_or("-".into(), |v| v.to_string()),
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

// ---------------------------------------------------------------- consume

/// Stop flag set by SIGINT / SIGTERM for the blocking loops.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    tokio::spawn(async move {
        let mut int =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = async { if let Some(s) = int.as_mut() { s.recv().await } else { std::future::pending().await } } => {}
            _ = async { if let Some(s) = term.as_mut() { s.recv().await } else { std::future::pending().await } } => {}
        }
        f.store(true, Ordering::Relaxed);
    });
    flag
}

/// Consumer settings of ours the user may override: fetch promptly, and do
/// not idle a second between fetches once behind (librdkafka 2.x waits
/// `fetch.queue.backoff.ms`, default 1000 ms, when its queue is full).
pub const CONSUMER_DEFAULTS: [(&str, &str); 2] = [
    ("fetch.wait.max.ms", "100"),
    ("fetch.queue.backoff.ms", "50"),
];

/// One line of `consume --format text`: `partition/offset time key=KEY VALUE`
/// then ` | name=value` per header, every field escaped for the terminal.
pub fn write_text<'a, H>(out: &mut String, r: RecordRef<'a, H>)
where
    H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
{
    use std::fmt::Write as _;
    let null = || Cow::Borrowed("null");
    let _ = write!(
        out,
        "{}/{} {} key={} ",
        r.partition,
        r.offset,
        r.timestamp
            .map_or("-".into(), |t| timeutil::format_ts(t, true)),
        r.key.map_or_else(null, sanitize::escape_bytes)
    );
    out.push_str(&r.value.map_or_else(null, sanitize::escape_bytes));
    for (n, v) in r.headers {
        let _ = write!(
            out,
            " | {}={}",
            sanitize::escape(n),
            v.map_or_else(null, sanitize::escape_bytes)
        );
    }
    out.push('\n');
}

pub struct ConsumeArgs {
    pub topic: String,
    pub from: String,
    pub partitions: Vec<i32>,
    pub count: Option<u64>,
    pub exit_at_end: bool,
    pub filter: Option<String>,
    pub format: ConsumeFormat,
}

pub async fn consume(profile: ClusterProfile, args: ConsumeArgs) -> Result<()> {
    let start = StartAt::parse(&args.from, timeutil::now_ms())?;
    let filter = args
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, timeutil::now_ms()))
        .transpose()
        .map_err(|e| anyhow!("--filter: {e}"))?;
    let stop = stop_flag();
    tokio::task::spawn_blocking(move || {
        consume_blocking(&profile, &args, start, filter.as_ref(), &stop)
    })
    .await
    .map_err(|e| anyhow!("consume task failed: {e}"))?
}

fn consume_blocking(
    profile: &ClusterProfile,
    args: &ConsumeArgs,
    start: StartAt,
    filter: Option<&Filter>,
    stop: &AtomicBool,
) -> Result<()> {
    let group = format!("kafkaterm-consume-{}", std::process::id());
    let cfg = client::client_config(
        profile,
        "consume",
        &CONSUMER_DEFAULTS,
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            (
                "enable.partition.eof",
                if args.exit_at_end { "true" } else { "false" },
            ),
            ("auto.offset.reset", "earliest"),
        ],
    );
    let consumer: BaseConsumer<KtContext> = client::create(&cfg, KtContext::default())?;
    let spec = BrowseSpec {
        topic: args.topic.clone(),
        partitions: (!args.partitions.is_empty()).then(|| args.partitions.clone()),
        start,
    };
    let starts = worker::browse::resolve_starts(&consumer, &spec).map_err(|e| anyhow!("{e}"))?;
    let tpl = worker::offsets::tpl_with(
        starts
            .iter()
            .map(|s| (args.topic.as_str(), s.partition, Offset::Offset(s.start))),
    )
    .map_err(|e| anyhow!(e))?;
    let mut remaining_partitions: std::collections::BTreeSet<i32> =
        starts.iter().map(|s| s.partition).collect();
    consumer.assign(&tpl).map_err(|e| anyhow!(explain(&e)))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf = String::with_capacity(1 << 16);
    let mut written: u64 = 0;
    let mut last_error: Option<(Instant, String)> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if args.count.is_some_and(|c| written >= c) {
            break;
        }
        if args.exit_at_end && remaining_partitions.is_empty() {
            break;
        }
        let Some(res) = consumer.poll(Duration::from_millis(100)) else {
            if !buf.is_empty() {
                if let Err(e) = out.write_all(buf.as_bytes()).and_then(|()| out.flush()) {
                    return out_err(&e);
                }
                buf.clear();
            }
            continue;
        };
        let msg = match res {
            Ok(m) => m,
            Err(KafkaError::PartitionEOF(p)) => {
                remaining_partitions.remove(&p);
                continue;
            }
            Err(e) => {
                let why = explain(&e);
                // Report each distinct error once a while, keep trying.
                if last_error
                    .as_ref()
                    .is_none_or(|(t, m)| *m != why || t.elapsed() > Duration::from_secs(10))
                {
                    eprintln!("kafkaterm: {why}; retrying");
                    last_error = Some((Instant::now(), why));
                }
                continue;
            }
        };
        let mut headers: Vec<(Cow<'_, str>, Option<&[u8]>)> = Vec::new();
        for_each_header(&msg, |n, v| headers.push((header_name(n), v)));
        let (timestamp, timestamp_type) = timestamp_of(&msg);
        if let Some(f) = filter {
            let view = MsgView {
                topic: &args.topic,
                partition: msg.partition(),
                offset: msg.offset(),
                timestamp,
                key: msg.key(),
                value: msg.payload(),
                headers: headers.iter().map(|(n, v)| (n.as_ref(), *v)).collect(),
            };
            if !f.matches(&view) {
                continue;
            }
        }
        let record = RecordRef {
            topic: &args.topic,
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp,
            timestamp_type,
            key: msg.key(),
            value: msg.payload(),
            headers: headers.iter().map(|(n, v)| (n.as_ref(), *v)),
        };
        match args.format {
            ConsumeFormat::Jsonl => jsonl::write_record(&mut buf, record),
            ConsumeFormat::Text => write_text(&mut buf, record),
        }
        written += 1;
        if buf.len() >= 1 << 16 {
            if let Err(e) = out.write_all(buf.as_bytes()) {
                return out_err(&e);
            }
            buf.clear();
        }
    }
    if let Err(e) = out.write_all(buf.as_bytes()).and_then(|()| out.flush()) {
        return out_err(&e);
    }
    Ok(())
}

// ---------------------------------------------------------------- produce

#[derive(Default)]
struct Counts {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

struct CountingContext(Arc<Counts>);

impl ClientContext for CountingContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, msg: &str) {
        KtContext::default().log(level, fac, msg);
    }
}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, (): ()) {
        match r {
            Ok(_) => {
                self.0.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut f) = self.0.first_error.lock() {
                    f.get_or_insert_with(|| explain(e));
                }
            }
        }
    }
}

pub struct ProduceArgs {
    pub topic: String,
    pub file: Option<std::path::PathBuf>,
    pub format: ProduceFormat,
    pub key: Option<String>,
    pub headers: Vec<(String, String)>,
    pub acks: String,
    pub compression: String,
    pub partition: Option<i32>,
    pub idempotent: bool,
}

/// Summary of a headless produce.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceSummary {
    pub delivered: u64,
    pub failed: u64,
    pub seconds: f64,
    pub first_error: Option<String>,
}

pub async fn produce(profile: ClusterProfile, args: ProduceArgs) -> Result<ProduceSummary> {
    if profile.read_only {
        bail!(
            "read-only mode: cluster {} does not allow writes",
            sanitize::escape(&profile.name)
        );
    }
    let options = ProducerOptions {
        acks: Acks::parse(&args.acks)?,
        compression: Compression::parse(&args.compression)?,
        idempotent: args.idempotent,
    };
    options.validate()?;
    let stop = stop_flag();
    tokio::task::spawn_blocking(move || produce_blocking(&profile, &args, options, &stop))
        .await
        .map_err(|e| anyhow!("produce task failed: {e}"))?
}

/// topic, partition, key, value, headers, timestamp of one message to send.
type OutMsg<'a> = (
    &'a str,
    Option<i32>,
    Option<&'a [u8]>,
    Option<&'a [u8]>,
    &'a [Header],
    Option<i64>,
);

fn produce_blocking(
    profile: &ClusterProfile,
    args: &ProduceArgs,
    options: ProducerOptions,
    stop: &AtomicBool,
) -> Result<ProduceSummary> {
    let counts = Arc::new(Counts::default());
    let cfg = client::client_config(
        profile,
        "produce",
        &client::PRODUCER_DEFAULTS,
        &options.properties(),
    );
    let producer: BaseProducer<CountingContext> = cfg
        .create_with_context(CountingContext(Arc::clone(&counts)))
        .map_err(|e| anyhow!(explain(&e)))?;
    let input: Box<dyn BufRead> = match &args.file {
        Some(p) => Box::new(io::BufReader::new(
            std::fs::File::open(p).map_err(|e| anyhow!("cannot open {}: {e}", p.display()))?,
        )),
        None => Box::new(io::BufReader::with_capacity(1 << 16, io::stdin().lock())),
    };
    let fixed_headers: Vec<Header> = args
        .headers
        .iter()
        .map(|(n, v)| Header {
            name: n.clone(),
            value: Some(v.as_bytes().to_vec()),
        })
        .collect();
    let started = Instant::now();
    let mut parse_failed = 0u64;
    let mut first_parse_error: Option<String> = None;
    let mut sent = 0u64;
    let mut line = Vec::with_capacity(1024);
    let mut input = input;
    let mut line_no = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| anyhow!("cannot read input: {e}"))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        // Build the message.
        let parsed;
        let (topic, partition, key, value, headers, timestamp): OutMsg<'_> = match args.format {
            ProduceFormat::Lines => (
                &args.topic,
                args.partition,
                args.key.as_deref().map(str::as_bytes),
                Some(&line[..]),
                &fixed_headers,
                None,
            ),
            ProduceFormat::Jsonl => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let text = match std::str::from_utf8(&line) {
                    Ok(t) => t,
                    Err(_) => {
                        parse_failed += 1;
                        first_parse_error
                            .get_or_insert_with(|| format!("line {line_no}: not UTF-8"));
                        continue;
                    }
                };
                match jsonl::parse_line(text) {
                    Ok(m) => {
                        parsed = m;
                        (
                            args.topic.as_str(),
                            args.partition.or(parsed.partition),
                            parsed.key.as_deref(),
                            parsed.value.as_deref(),
                            &parsed.headers,
                            parsed.timestamp,
                        )
                    }
                    Err(e) => {
                        parse_failed += 1;
                        first_parse_error.get_or_insert_with(|| format!("line {line_no}: {e:#}"));
                        continue;
                    }
                }
            }
        };
        let mut rec: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::to(topic);
        if let Some(k) = key {
            rec = rec.key(k);
        }
        if let Some(v) = value {
            rec = rec.payload(v);
        }
        if let Some(p) = partition {
            rec = rec.partition(p);
        }
        if let Some(t) = timestamp {
            rec = rec.timestamp(t);
        }
        if !headers.is_empty() {
            let mut h = OwnedHeaders::new_with_capacity(headers.len());
            for hd in headers {
                h = h.insert(RdHeader {
                    key: &hd.name,
                    value: hd.value.as_deref(),
                });
            }
            rec = rec.headers(h);
        }
        loop {
            match producer.send(rec) {
                Ok(()) => {
                    sent += 1;
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    rec = r;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut f) = counts.first_error.lock() {
                        f.get_or_insert_with(|| explain(&e));
                    }
                    break;
                }
            }
        }
        if sent % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    let _ = producer.flush(Duration::from_secs(30));
    let undelivered = u64::try_from(producer.in_flight_count().max(0)).unwrap_or(0);
    let seconds = started.elapsed().as_secs_f64();
    let failed = counts.failed.load(Ordering::Relaxed) + parse_failed + undelivered;
    let first_error = first_parse_error
        .or_else(|| counts.first_error.lock().ok().and_then(|f| f.clone()))
        .or_else(|| {
            (undelivered > 0)
                .then(|| format!("{undelivered} message(s) still undelivered after 30 s"))
        });
    Ok(ProduceSummary {
        delivered: counts.delivered.load(Ordering::Relaxed),
        failed,
        seconds,
        first_error,
    })
}
