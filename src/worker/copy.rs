//! Copying messages from one topic to another (a dead-letter redrive): the
//! engine behind `kafkaterm copy` and the browser's copy dialog.
//!
//! One blocking loop reads the source with the headless consumer's parts
//! (an assign-only consumer, [`FetchQueue`] batches straight from
//! librdkafka's buffers, the same [`Filter`]) and sends each selected
//! message with the headless producer's [`TopicProducer`]: key, value and
//! headers (raw names, in order, null values kept) byte for byte, copied by
//! librdkafka straight from the consumed message. Memory is bounded by the
//! consumer's fetch queue and the producer's queue limits, whatever the
//! size of the copy.
//!
//! Every message is tracked until its delivery report: per source partition
//! a queue of the messages in flight, in source order. The confirmed prefix
//! of that queue is forgotten as it is acknowledged; the first failure stops
//! reading. The report then names, per source partition, the first offset
//! not confirmed (where a resumed copy starts) and any later messages that
//! were confirmed anyway (which a resumed copy skips), so a resume never
//! copies a confirmed message twice.
//!
//! The copy reads each partition up to its end *when the copy starts*, so a
//! copy onto its own topic (allowed only with `force`) ends.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext, PurgeConfig};
use rdkafka::{ClientContext, Offset};
use smallvec::SmallVec;

use super::error::{WorkerError, classify};
use super::offsets;
use super::protocol::BrowseSpec;
use crate::config::ClusterProfile;
use crate::filter::{Filter, MsgView};
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::kafka::message::{FetchQueue, MessageView, TopicProducer, for_each_header, header_name};
use crate::model::Compression;
use crate::sanitize;
use crate::timeutil::StartAt;

/// The header `source_header` adds: `topic/partition@offset` of the
/// original message.
pub const SOURCE_HEADER: &str = "kafkaterm.source";

/// Where reading starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyStart {
    /// The same position in every partition.
    At(StartAt),
    /// An offset per partition (a resume); only these partitions are read.
    Offsets(BTreeMap<i32, i64>),
}

/// Which messages of the source to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySelection {
    /// Partitions (`None`: all) from a start up to `end` (exclusive; `None`:
    /// each partition's end when the copy starts).
    Range {
        partitions: Option<Vec<i32>>,
        start: CopyStart,
        end: Option<i64>,
    },
    /// Exactly these messages (partition, offset), e.g. the marked ones.
    Messages(Vec<(i32, i64)>),
}

/// A copy to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    pub source: String,
    pub dest: String,
    pub selection: CopySelection,
    /// Offsets not to copy, as inclusive ranges per partition (what an
    /// interrupted copy confirmed past its resume point).
    pub skip: BTreeMap<i32, Vec<(i64, i64)>>,
    /// Stop after this many messages were selected.
    pub count: Option<u64>,
    /// A filter expression (see `crate::filter`).
    pub filter: Option<String>,
    pub keep_timestamps: bool,
    pub keep_partitions: bool,
    pub source_header: bool,
    pub compression: Compression,
    /// Count what would be copied; send nothing.
    pub dry_run: bool,
    /// Allow copying a topic onto itself.
    pub force: bool,
}

impl CopySpec {
    /// A copy of a whole topic, lz4-compressed, keeping nothing optional.
    #[must_use]
    pub fn new(source: &str, dest: &str, selection: CopySelection) -> Self {
        Self {
            source: source.to_string(),
            dest: dest.to_string(),
            selection,
            skip: BTreeMap::new(),
            count: None,
            filter: None,
            keep_timestamps: false,
            keep_partitions: false,
            source_header: false,
            compression: Compression::Lz4,
            dry_run: false,
            force: false,
        }
    }
}

/// How far a copy is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyProgress {
    /// Messages in the ranges to read (an upper bound of what is copied).
    pub total: u64,
    /// Messages read from the source.
    pub read: u64,
    /// Messages selected (matching the filter, not skipped); sent unless a
    /// dry run.
    pub selected: u64,
    /// Acknowledged by the destination.
    pub confirmed: u64,
    /// Failed (not written, or not known to be written).
    pub failed: u64,
    pub elapsed_ms: u64,
}

/// How a copy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// Everything selected was copied (or, for a dry run, counted).
    Complete,
    /// Stopped by the user; what was sent before was waited for.
    Cancelled,
    /// A message failed (the first error, in plain words); reading stopped.
    Failed(String),
}

/// Where an interrupted copy resumes without copying a confirmed message
/// twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// Per unfinished source partition, the first offset not confirmed.
    pub from: BTreeMap<i32, i64>,
    /// Confirmed messages past those offsets, as inclusive ranges.
    pub skip: BTreeMap<i32, Vec<(i64, i64)>>,
    /// Of `--count`, what is left to copy.
    pub count: Option<u64>,
}

/// The end of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub progress: CopyProgress,
    pub dry_run: bool,
    pub outcome: CopyOutcome,
    /// Failed messages the broker may have written all the same (their
    /// request was sent but never answered); a resume copies them again.
    pub uncertain: u64,
    /// For an unfinished range copy: how to resume it.
    pub resume: Option<Resume>,
}

/// Messages taken from the source at a time.
const BATCH: usize = 1024;
/// How long one wait for messages may block.
const WAIT: Duration = Duration::from_millis(100);
/// Progress reports at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How long to wait for outstanding acknowledgements at the end before
/// giving up on them (their messages then count as failed).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// Producer settings of ours the user may override: bounded queues (memory
/// stays bounded however large the copy), batches large enough for speed,
/// and a delivery timeout short enough for an outage to be reported.
const PRODUCER_DEFAULTS: [(&str, &str); 7] = [
    ("linger.ms", "5"),
    ("batch.size", "1000000"),
    ("message.max.bytes", "67108864"),
    ("topic.metadata.propagation.max.ms", "3000"),
    ("queue.buffering.max.messages", "100000"),
    ("queue.buffering.max.kbytes", "131072"),
    ("message.timeout.ms", "60000"),
];

/// A consumed message's headers as raw names and values, in order.
type RawHeaders<'m> = SmallVec<[(&'m [u8], Option<&'m [u8]>); 8]>;
/// The same with names as the filter sees them.
type NamedHeaders<'m> = SmallVec<[(std::borrow::Cow<'m, str>, Option<&'m [u8]>); 4]>;

/// The state of one message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    InFlight,
    Confirmed,
    Failed,
}

/// One source partition's messages in flight, in source order.
#[derive(Debug, Default)]
struct Flight {
    /// (source offset, state); the front is the oldest not yet forgotten.
    slots: VecDeque<(i64, Slot)>,
    /// Sequence number (within the partition) of `slots[0]`.
    base: u64,
    /// Sequence number of the next message sent.
    next_seq: u64,
}

/// What delivery reports have told so far.
#[derive(Debug, Default)]
struct Tracker {
    flights: Vec<Flight>,
    confirmed: u64,
    failed: u64,
    uncertain: u64,
    first_error: Option<String>,
}

/// Bits of the delivery opaque that carry the sequence number; the rest
/// carry the partition's index.
const SEQ_BITS: u32 = 40;

impl Tracker {
    /// A message of partition index `idx` at `offset` is about to be sent:
    /// its opaque.
    fn sending(&mut self, idx: usize, offset: i64) -> usize {
        let f = &mut self.flights[idx];
        let seq = f.next_seq;
        f.next_seq += 1;
        f.slots.push_back((offset, Slot::InFlight));
        (idx << SEQ_BITS) | usize::try_from(seq & ((1 << SEQ_BITS) - 1)).unwrap_or(0)
    }

    /// The send of the message just registered failed at once.
    fn unsend(&mut self, idx: usize) {
        let f = &mut self.flights[idx];
        f.slots.pop_back();
        f.next_seq -= 1;
    }

    fn delivered(&mut self, opaque: usize, ok: bool) {
        let idx = opaque >> SEQ_BITS;
        let seq = (opaque as u64) & ((1 << SEQ_BITS) - 1);
        let Some(f) = self.flights.get_mut(idx) else {
            return;
        };
        let Some(at) = seq
            .checked_sub(f.base & ((1 << SEQ_BITS) - 1))
            .and_then(|d| usize::try_from(d).ok())
        else {
            return;
        };
        let Some(slot) = f.slots.get_mut(at) else {
            return;
        };
        if slot.1 != Slot::InFlight {
            return;
        }
        if ok {
            slot.1 = Slot::Confirmed;
            self.confirmed += 1;
        } else {
            slot.1 = Slot::Failed;
            self.failed += 1;
        }
        // Forget the confirmed prefix.
        while f.slots.front().is_some_and(|s| s.1 == Slot::Confirmed) {
            f.slots.pop_front();
            f.base += 1;
        }
    }

    fn in_flight(&self) -> bool {
        self.flights
            .iter()
            .any(|f| f.slots.iter().any(|s| s.1 == Slot::InFlight))
    }
}

/// The producer's context: delivery reports go to the tracker.
struct CopyContext(Arc<Mutex<Tracker>>);

impl ClientContext for CopyContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, msg: &str) {
        KtContext::default().log(level, fac, msg);
    }
}

impl ProducerContext for CopyContext {
    type DeliveryOpaque = usize;
    fn delivery(&self, r: &DeliveryResult<'_>, opaque: usize) {
        let Ok(mut t) = self.0.lock() else {
            return;
        };
        match r {
            Ok(_) => t.delivered(opaque, true),
            Err((e, msg)) => {
                // SAFETY: a message of a delivery report, alive for the call.
                let status = unsafe { rd::rd_kafka_message_status(msg.ptr()) };
                if status != rd::rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_NOT_PERSISTED {
                    t.uncertain += 1;
                }
                t.first_error.get_or_insert_with(|| explain(e));
                t.delivered(opaque, false);
            }
        }
    }
}

/// One source partition as the copy reads it.
#[derive(Debug)]
struct Part {
    id: i32,
    /// Next offset to read (everything before it is handled).
    next: i64,
    /// Exclusive end.
    end: i64,
    done: bool,
    /// For a `Messages` selection: the offsets wanted, sorted.
    wanted: Option<Vec<i64>>,
    /// Inclusive ranges not to copy, sorted.
    skip: Vec<(i64, i64)>,
}

impl Part {
    fn skips(&self, offset: i64) -> bool {
        self.skip.iter().any(|(a, b)| (*a..=*b).contains(&offset))
            || self
                .wanted
                .as_ref()
                .is_some_and(|w| w.binary_search(&offset).is_err())
    }
}

fn refused(msg: String) -> WorkerError {
    WorkerError::refused(msg)
}

/// Check what can be checked before reading anything: read-only mode, a
/// copy onto itself, the filter. Returns the parsed filter.
pub fn precheck(
    profile: &ClusterProfile,
    spec: &CopySpec,
    now_ms: i64,
) -> Result<Option<Filter>, WorkerError> {
    if profile.read_only && !spec.dry_run {
        return Err(refused(format!(
            "read-only mode: cluster {} does not allow writes",
            sanitize::escape(&profile.name)
        )));
    }
    if spec.source == spec.dest && !spec.force {
        return Err(refused(format!(
            "{} is both the source and the destination: copying a topic onto itself needs --force",
            sanitize::escape(&spec.source)
        )));
    }
    if spec.dest.is_empty() {
        return Err(crate::werr!("no destination topic"));
    }
    spec.filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| Filter::parse(f, now_ms))
        .transpose()
        .map_err(|e| crate::werr!("filter: {e:#}"))
}

/// The partitions of a topic, or `None` when the cluster does not know it.
fn topic_partitions(
    consumer: &BaseConsumer<KtContext>,
    topic: &str,
) -> Result<Option<Vec<i32>>, WorkerError> {
    let md = consumer
        .fetch_metadata(Some(topic), super::admin::METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let Some(t) = md.topics().iter().find(|t| t.name() == topic) else {
        return Ok(None);
    };
    if let Some(e) = t.error() {
        let code: RDKafkaErrorCode = e.into();
        if code == RDKafkaErrorCode::UnknownTopicOrPartition {
            return Ok(None);
        }
        return Err(crate::werr!(
            "{}: {}",
            sanitize::escape(topic),
            client::plain_words(code).map_or_else(|| code.to_string(), str::to_string)
        ));
    }
    let mut parts: Vec<i32> = t
        .partitions()
        .iter()
        .map(rdkafka::metadata::MetadataPartition::id)
        .collect();
    parts.sort_unstable();
    Ok((!parts.is_empty()).then_some(parts))
}

/// The partitions to read, where each starts and ends.
fn plan(consumer: &BaseConsumer<KtContext>, spec: &CopySpec) -> Result<Vec<Part>, WorkerError> {
    let (partitions, start, end, wanted): (Option<Vec<i32>>, StartAt, Option<i64>, _) =
        match &spec.selection {
            CopySelection::Range {
                partitions,
                start: CopyStart::At(at),
                end,
            } => (partitions.clone(), *at, *end, None),
            CopySelection::Range {
                start: CopyStart::Offsets(map),
                end,
                ..
            } => (
                Some(map.keys().copied().collect()),
                StartAt::Beginning,
                *end,
                None,
            ),
            CopySelection::Messages(list) => {
                let mut by: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
                for (p, o) in list {
                    by.entry(*p).or_default().push(*o);
                }
                for v in by.values_mut() {
                    v.sort_unstable();
                    v.dedup();
                }
                (
                    Some(by.keys().copied().collect()),
                    StartAt::Beginning,
                    None,
                    Some(by),
                )
            }
        };
    if partitions.as_ref().is_some_and(Vec::is_empty) {
        return Err(crate::werr!("nothing selected to copy"));
    }
    let starts = super::browse::resolve_starts(
        consumer,
        &BrowseSpec {
            topic: spec.source.clone(),
            partitions,
            start,
            isolation: crate::model::Isolation::default(),
            positions: Vec::new(),
        },
    )?;
    let mut parts = Vec::with_capacity(starts.len());
    for s in starts {
        let mut p = Part {
            id: s.partition,
            next: s.start,
            end: end.map_or(s.high, |e| e.clamp(s.low, s.high)),
            done: false,
            wanted: None,
            skip: spec.skip.get(&s.partition).cloned().unwrap_or_default(),
        };
        p.skip.sort_unstable();
        if let CopySelection::Range {
            start: CopyStart::Offsets(map),
            ..
        } = &spec.selection
            && let Some(o) = map.get(&s.partition)
        {
            p.next = (*o).clamp(s.low, s.high);
        }
        if let Some(by) = &wanted {
            let w: Vec<i64> = by.get(&s.partition).cloned().unwrap_or_default();
            // Offsets before the log start are gone: they count as not found.
            p.next = w.first().copied().unwrap_or(s.high).clamp(s.low, s.high);
            p.end = w.last().map_or(p.next, |l| (l + 1).clamp(s.low, s.high));
            p.wanted = Some(w);
        }
        p.done = p.next >= p.end;
        parts.push(p);
    }
    Ok(parts)
}

/// `topic/partition@offset`, the value of [`SOURCE_HEADER`].
pub fn source_label(out: &mut String, topic: &str, partition: i32, offset: i64) {
    out.clear();
    let _ = write!(out, "{topic}/{partition}@{offset}");
}

/// Inclusive ranges from sorted offsets.
fn ranges(offsets: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for o in offsets {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == o => *b = o,
            _ => out.push((o, o)),
        }
    }
    out
}

/// The consumer the copy reads with: assign-only, never commits.
fn new_consumer(
    profile: &ClusterProfile,
) -> Result<KtClient<BaseConsumer<KtContext>>, WorkerError> {
    let group = format!("kafkaterm-copy-{}", std::process::id());
    let cfg = client::client_config(
        profile,
        "copy-read",
        &crate::kafka::defaults::CONSUMER_DEFAULTS,
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            ("auto.offset.reset", "earliest"),
            ("allow.auto.create.topics", "false"),
        ],
    );
    client::create(&cfg, KtContext::default()).map_err(|e| crate::werr!("{e:#}"))
}

/// Run a copy to its end (blocking: call from a thread of its own or
/// `spawn_blocking`). `stop` is asked between batches; `progress` hears
/// how far the copy is a few times a second. Errors before the first
/// message is sent (read-only, unknown topics, a bad filter) are `Err`;
/// from then on the report says what happened.
pub fn run(
    profile: &ClusterProfile,
    spec: &CopySpec,
    now_ms: i64,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyReport, WorkerError> {
    let filter = precheck(profile, spec, now_ms)?;
    let consumer = new_consumer(profile)?;
    let Some(dest_parts) = topic_partitions(&consumer, &spec.dest)? else {
        return Err(crate::werr!(
            "destination topic {} does not exist",
            sanitize::escape(&spec.dest)
        ));
    };
    let mut parts = plan(&consumer, spec)?;
    if spec.keep_partitions
        && let Some(p) = parts.iter().find(|p| !dest_parts.contains(&p.id))
    {
        return Err(crate::werr!(
            "{} has no partition {} (it has {}): copy without keeping partitions",
            sanitize::escape(&spec.dest),
            p.id,
            dest_parts.len()
        ));
    }
    let started = Instant::now();
    let mut prog = CopyProgress {
        total: parts
            .iter()
            .map(|p| match &p.wanted {
                Some(w) => w.len() as u64,
                None => u64::try_from(p.end - p.next).unwrap_or(0),
            })
            .sum(),
        ..CopyProgress::default()
    };
    let tracker = Arc::new(Mutex::new(Tracker {
        flights: parts.iter().map(|_| Flight::default()).collect(),
        ..Tracker::default()
    }));
    let producer: Option<KtClient<BaseProducer<CopyContext>>> = if spec.dry_run {
        None
    } else {
        let mut cfg = client::client_config(
            profile,
            "copy-write",
            &PRODUCER_DEFAULTS,
            &[
                ("acks", "all"),
                ("enable.idempotence", "true"),
                ("compression.type", spec.compression.as_str()),
                ("allow.auto.create.topics", "false"),
            ],
        );
        cfg.set("delivery.report.only.error", "false");
        Some(
            client::create(&cfg, CopyContext(Arc::clone(&tracker)))
                .map_err(|e| crate::werr!("{e:#}"))?,
        )
    };
    let sender = producer
        .as_ref()
        .map(|p| TopicProducer::new(p, &spec.dest))
        .transpose()
        .map_err(WorkerError::internal)?;

    let reading: Vec<&Part> = parts.iter().filter(|p| !p.done).collect();
    let mut outcome = CopyOutcome::Complete;
    if !reading.is_empty() {
        let tpl = offsets::tpl_with(
            reading
                .iter()
                .map(|p| (spec.source.as_str(), p.id, Offset::Offset(p.next))),
        )?;
        let mut queue =
            FetchQueue::new(&consumer, &spec.source, reading.iter().map(|p| p.id), BATCH)
                .map_err(WorkerError::internal)?;
        consumer.assign(&tpl).map_err(|e| classify(&e))?;
        let mut label = String::new();
        let mut last_report = Instant::now();
        let mut last_read_error: Option<(Instant, String)> = None;
        loop {
            if stop() {
                outcome = CopyOutcome::Cancelled;
                break;
            }
            if let Ok(t) = tracker.lock() {
                if t.failed > 0 {
                    outcome = CopyOutcome::Failed(t.first_error.clone().unwrap_or_default());
                    break;
                }
                prog.confirmed = t.confirmed;
            }
            if parts.iter().all(|p| p.done) || spec.count.is_some_and(|c| prog.selected >= c) {
                break;
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                prog.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                progress(&prog);
                last_report = Instant::now();
            }
            // Client errors and logs live on the consumer's own queue.
            match consumer.poll(Duration::ZERO) {
                Some(Err(e)) if !matches!(e, KafkaError::PartitionEOF(_)) => {
                    note_read_error(&mut last_read_error, &explain(&e));
                }
                _ => {}
            }
            if let Some(p) = &producer {
                p.poll(Duration::ZERO);
            }
            let mut batch = queue.poll_batch(WAIT);
            let mut failed_send: Option<String> = None;
            batch.drain(|msg| {
                if spec.count.is_some_and(|c| prog.selected >= c) {
                    return false;
                }
                let Ok(idx) = parts.binary_search_by_key(&msg.partition(), |p| p.id) else {
                    return true;
                };
                let part = &mut parts[idx];
                if let Some(err) = msg.error() {
                    let code = RDKafkaErrorCode::from(err);
                    if code == RDKafkaErrorCode::PartitionEOF {
                        part.done = true;
                    } else {
                        note_read_error(
                            &mut last_read_error,
                            &explain(&KafkaError::MessageConsumption(code)),
                        );
                    }
                    return true;
                }
                let offset = msg.offset();
                if part.done || offset < part.next {
                    return true;
                }
                if offset >= part.end {
                    part.done = true;
                    return true;
                }
                part.next = offset + 1;
                part.done = part.next >= part.end;
                prog.read += 1;
                if part.skips(offset) || !matches_filter(filter.as_ref(), &spec.source, msg) {
                    return true;
                }
                prog.selected += 1;
                let (Some(sender), Some(producer)) = (&sender, &producer) else {
                    return true;
                };
                let mut headers: RawHeaders<'_> = SmallVec::new();
                for_each_header(msg, |n, v| headers.push((n, v)));
                if spec.source_header {
                    source_label(&mut label, &spec.source, part.id, offset);
                    headers.push((SOURCE_HEADER.as_bytes(), Some(label.as_bytes())));
                }
                let timestamp = if spec.keep_timestamps {
                    msg.timestamp().0
                } else {
                    None
                };
                let partition = spec.keep_partitions.then_some(part.id);
                let opaque = match tracker.lock() {
                    Ok(mut t) => t.sending(idx, offset),
                    Err(_) => return false,
                };
                loop {
                    match sender.send_with(
                        partition,
                        msg.key(),
                        msg.payload(),
                        headers.iter().copied(),
                        timestamp,
                        opaque,
                    ) {
                        Ok(()) => return true,
                        Err(RDKafkaErrorCode::QueueFull) => {
                            producer.poll(Duration::from_millis(5));
                            if stop() {
                                if let Ok(mut t) = tracker.lock() {
                                    t.unsend(idx);
                                }
                                parts[idx].next = offset;
                                prog.selected -= 1;
                                return false;
                            }
                        }
                        Err(code) => {
                            if let Ok(mut t) = tracker.lock() {
                                t.unsend(idx);
                            }
                            parts[idx].next = offset;
                            prog.selected -= 1;
                            failed_send = Some(explain(&KafkaError::MessageProduction(code)));
                            return false;
                        }
                    }
                }
            });
            drop(batch);
            if let Some(e) = failed_send {
                outcome = CopyOutcome::Failed(e);
                break;
            }
        }
    }
    // Wait for what is in flight, so the counts are exact.
    if let Some(p) = &producer {
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        loop {
            p.poll(Duration::from_millis(1));
            if !tracker.lock().map(|t| t.in_flight()).unwrap_or(false) {
                break;
            }
            if Instant::now() >= deadline {
                // Give up on them: purged messages come back as failures.
                p.purge(PurgeConfig::default().queue().inflight());
                let end = Instant::now() + Duration::from_secs(5);
                while tracker.lock().map(|t| t.in_flight()).unwrap_or(false) && Instant::now() < end
                {
                    p.poll(Duration::from_millis(10));
                }
                break;
            }
        }
    }
    let t = tracker
        .lock()
        .map_err(|_| crate::werr!("internal error in the copy"))?;
    prog.confirmed = t.confirmed;
    prog.failed = t.failed;
    prog.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if outcome == CopyOutcome::Complete && t.failed > 0 {
        outcome = CopyOutcome::Failed(t.first_error.clone().unwrap_or_default());
    }
    if let (CopyOutcome::Cancelled, Some(e)) = (&outcome, &t.first_error)
        && t.failed > 0
    {
        outcome = CopyOutcome::Failed(e.clone());
    }
    let resume = (outcome != CopyOutcome::Complete
        && !spec.dry_run
        && matches!(spec.selection, CopySelection::Range { .. }))
    .then(|| resume_point(&parts, &t, spec));
    progress(&prog);
    Ok(CopyReport {
        progress: prog,
        dry_run: spec.dry_run,
        outcome,
        uncertain: t.uncertain,
        resume,
    })
}

/// Where each unfinished partition resumes, and what past that point is
/// confirmed already.
fn resume_point(parts: &[Part], t: &Tracker, spec: &CopySpec) -> Resume {
    let mut r = Resume {
        count: spec.count.map(|c| c.saturating_sub(t.confirmed)),
        ..Resume::default()
    };
    for (part, flight) in parts.iter().zip(&t.flights) {
        let first_open = flight.slots.iter().position(|s| s.1 != Slot::Confirmed);
        let from = match first_open {
            Some(i) => flight.slots[i].0,
            None if part.done => continue,
            None => part.next,
        };
        r.from.insert(part.id, from);
        let mut skip: Vec<(i64, i64)> = part
            .skip
            .iter()
            .copied()
            .filter(|(_, b)| *b >= from)
            .collect();
        if let Some(i) = first_open {
            skip.extend(ranges(
                flight
                    .slots
                    .iter()
                    .skip(i)
                    .filter(|s| s.1 == Slot::Confirmed)
                    .map(|s| s.0),
            ));
        }
        if !skip.is_empty() {
            skip.sort_unstable();
            r.skip.insert(part.id, skip);
        }
    }
    r
}

fn matches_filter(filter: Option<&Filter>, topic: &str, msg: MessageView<'_>) -> bool {
    let Some(f) = filter else {
        return true;
    };
    let mut headers: NamedHeaders<'_> = SmallVec::new();
    for_each_header(msg, |n, v| headers.push((header_name(n), v)));
    f.matches(&MsgView {
        topic,
        partition: msg.partition(),
        offset: msg.offset(),
        timestamp: msg.timestamp().0,
        key: msg.key(),
        value: msg.payload(),
        headers: headers.iter().map(|(n, v)| (n.as_ref(), *v)).collect(),
    })
}

/// Read errors are retried by librdkafka; log each distinct one now and then.
fn note_read_error(last: &mut Option<(Instant, String)>, why: &str) {
    if last
        .as_ref()
        .is_none_or(|(t, m)| m != why || t.elapsed() > Duration::from_secs(10))
    {
        tracing::warn!("copy: reading the source: {why}; retrying");
        *last = Some((Instant::now(), why.to_string()));
    }
}

/// `P:OFFSET,P:OFFSET`, as `copy --from` takes it.
#[must_use]
pub fn offsets_arg(from: &BTreeMap<i32, i64>) -> String {
    from.iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `P:A-B,P:C`, as `copy --skip` takes it.
#[must_use]
pub fn skip_arg(skip: &BTreeMap<i32, Vec<(i64, i64)>>) -> String {
    let mut out = Vec::new();
    for (p, rs) in skip {
        for (a, b) in rs {
            out.push(if a == b {
                format!("{p}:{a}")
            } else {
                format!("{p}:{a}-{b}")
            });
        }
    }
    out.join(",")
}

/// Parse `P:OFFSET[,P:OFFSET...]` (a `--from` that gives each partition its
/// own start); `None` when `s` is not of that form.
pub fn parse_offsets_arg(s: &str) -> Option<Result<BTreeMap<i32, i64>, String>> {
    if !s.contains(':') || s.starts_with('@') {
        return None;
    }
    let mut out = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((p, o)) = item.split_once(':') else {
            return Some(Err(format!("`{item}`: expected PARTITION:OFFSET")));
        };
        let (Ok(p), Ok(o)) = (p.trim().parse::<i32>(), o.trim().parse::<i64>()) else {
            return Some(Err(format!("`{item}`: expected PARTITION:OFFSET")));
        };
        if p < 0 || o < 0 {
            return Some(Err(format!("`{item}`: expected PARTITION:OFFSET")));
        }
        out.insert(p, o);
    }
    if out.is_empty() {
        return Some(Err(format!("`{s}`: expected PARTITION:OFFSET[,...]")));
    }
    Some(Ok(out))
}

/// Parse `P:A-B,P:C` (inclusive ranges per partition).
pub fn parse_skip_arg(s: &str) -> Result<BTreeMap<i32, Vec<(i64, i64)>>, String> {
    let mut out: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = || format!("`{item}`: expected PARTITION:OFFSET or PARTITION:FIRST-LAST");
        let (p, r) = item.split_once(':').ok_or_else(bad)?;
        let p: i32 = p.trim().parse().map_err(|_| bad())?;
        let (a, b) = match r.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ),
            None => {
                let o: i64 = r.trim().parse().map_err(|_| bad())?;
                (o, o)
            }
        };
        if a > b || a < 0 {
            return Err(bad());
        }
        out.entry(p).or_default().push((a, b));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracker_forgets_the_confirmed_prefix_and_keeps_what_follows_a_failure() {
        let mut t = Tracker {
            flights: vec![Flight::default(), Flight::default()],
            ..Tracker::default()
        };
        let a: Vec<usize> = (10..15).map(|o| t.sending(0, o)).collect();
        let b = t.sending(1, 7);
        t.delivered(a[0], true);
        t.delivered(a[2], true);
        assert_eq!(t.flights[0].slots.len(), 4, "only the prefix is forgotten");
        t.delivered(a[1], false);
        t.delivered(a[3], true);
        t.delivered(a[4], true);
        t.delivered(b, true);
        t.delivered(b, true); // a repeated report changes nothing
        assert_eq!((t.confirmed, t.failed), (5, 1));
        assert!(!t.in_flight());
        let parts = vec![
            Part {
                id: 0,
                next: 15,
                end: 100,
                done: false,
                wanted: None,
                skip: vec![],
            },
            Part {
                id: 3,
                next: 8,
                end: 8,
                done: true,
                wanted: None,
                skip: vec![],
            },
        ];
        let spec = CopySpec {
            count: Some(10),
            ..CopySpec::new(
                "a",
                "b",
                CopySelection::Range {
                    partitions: None,
                    start: CopyStart::At(StartAt::Beginning),
                    end: None,
                },
            )
        };
        let r = resume_point(&parts, &t, &spec);
        assert_eq!(r.from, BTreeMap::from([(0, 11)]));
        assert_eq!(r.skip, BTreeMap::from([(0, vec![(12, 14)])]));
        assert_eq!(r.count, Some(5));
    }

    #[test]
    fn an_unsent_message_leaves_no_trace() {
        let mut t = Tracker {
            flights: vec![Flight::default()],
            ..Tracker::default()
        };
        let a = t.sending(0, 1);
        t.sending(0, 2);
        t.unsend(0);
        let c = t.sending(0, 2);
        t.delivered(a, true);
        t.delivered(c, true);
        assert!(t.flights[0].slots.is_empty());
        assert_eq!(t.confirmed, 2);
    }

    #[test]
    fn offsets_and_skips_round_trip_through_their_arguments() {
        let from = BTreeMap::from([(0, 12), (3, 0)]);
        assert_eq!(parse_offsets_arg(&offsets_arg(&from)), Some(Ok(from)));
        assert_eq!(parse_offsets_arg("beginning"), None);
        assert_eq!(parse_offsets_arg("-15m"), None);
        assert!(matches!(parse_offsets_arg("0:x"), Some(Err(_))));
        assert!(matches!(parse_offsets_arg("0:-1"), Some(Err(_))));
        let skip = BTreeMap::from([(0, vec![(3, 3), (5, 9)]), (2, vec![(1, 4)])]);
        assert_eq!(skip_arg(&skip), "0:3,0:5-9,2:1-4");
        assert_eq!(parse_skip_arg(&skip_arg(&skip)).unwrap(), skip);
        assert!(parse_skip_arg("0:9-5").is_err());
        assert!(parse_skip_arg("x").is_err());
        assert_eq!(ranges([1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
    }

    #[test]
    fn the_source_label_names_topic_partition_and_offset() {
        let mut s = String::from("old");
        source_label(&mut s, "dlq", 3, 42);
        assert_eq!(s, "dlq/3@42");
    }
}
