//! `consume`: a tight `BaseConsumer` loop writing JSON Lines or text.

use super::{out_err, stop_flag};
use crate::cli::ConsumeFormat;
use crate::config::ClusterProfile;
use crate::filter::{Filter, MsgView};
use crate::jsonl::{self, RecordRef};
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::kafka::message::{for_each_header, header_name, timestamp_of};
use crate::sanitize;
use crate::timeutil::{self, StartAt};
use crate::worker::protocol::BrowseSpec;
use crate::worker::{self};
use anyhow::{Result, anyhow};
use rdkafka::Message as _;
use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    /// Add decoded keys and values (see `decoded::RecordDecoder`).
    pub decode: bool,
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
    let decoder = args
        .decode
        .then(|| super::decoded::RecordDecoder::new(profile, &args.topic))
        .transpose()?;
    let consumer: KtClient<BaseConsumer<KtContext>> = client::create(&cfg, KtContext::default())?;
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
        match (&decoder, args.format) {
            (Some(d), format) => d.write(&mut buf, format, record),
            (None, ConsumeFormat::Jsonl) => jsonl::write_record(&mut buf, record),
            (None, ConsumeFormat::Text) => write_text(&mut buf, record),
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
