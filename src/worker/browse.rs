//! Browse sessions: one thread per session owns a consumer that *assigns*
//! partitions (it never joins a group and never commits), polls in batches,
//! and sends records to the app. A watchdog recreates the consumer when it
//! stalls after a broker outage and resumes right after the last record sent.

use crate::worker::error::{ErrorKind, WorkerError, classify};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message as _, Offset};
use tokio::sync::mpsc;

use super::Inner;
use super::offsets;
use super::protocol::{BrowseEvent, BrowseSpec, PartitionStart, SessionId, WorkerEvent};
use crate::filter::{Filter, MsgView};
use crate::kafka::client::{self, ClientSignal, KtClient, KtContext, explain};
use crate::kafka::message;
use crate::model::{Record, TopicPartition};
use crate::timeutil::StartAt;

const BATCH_MAX: usize = 2000;
const BATCH_WAIT: Duration = Duration::from_millis(40);
const STALL_AFTER: Duration = Duration::from_secs(8);

/// What the watchdog learns from the watermarks.
#[derive(Debug, Default)]
struct Health {
    /// Data past our position is waiting.
    behind: bool,
    /// Partitions whose log now ends before our position, with their low watermark.
    reset: Vec<(i32, i64)>,
}

/// Controls shared between the worker's dispatcher and a session thread.
#[derive(Default)]
pub struct SessionCtl {
    pub stop: AtomicBool,
    pub paused: AtomicBool,
    pub search: Mutex<Option<(String, u64)>>,
    pub cancel_search: AtomicBool,
}

struct Search {
    filter: Filter,
    want: u64,
    matched: u64,
    scanned: u64,
    last_report: Instant,
}

struct Session {
    inner: Arc<Inner>,
    id: SessionId,
    ctl: Arc<SessionCtl>,
    topic: Arc<str>,
    /// Next offset to read per partition (last delivered + 1).
    next: BTreeMap<i32, i64>,
    /// The consumer's `isolation.level` (kept when it is recreated).
    isolation: crate::model::Isolation,
}

impl Session {
    fn send(&self, event: BrowseEvent) -> bool {
        self.inner
            .events
            .blocking_send(WorkerEvent::Browse {
                session: self.id,
                event,
            })
            .is_ok()
    }

    fn new_consumer(
        &self,
    ) -> Result<
        (
            KtClient<BaseConsumer<KtContext>>,
            mpsc::UnboundedReceiver<ClientSignal>,
        ),
        WorkerError,
    > {
        let group = format!("kafkaterm-browser-{}-{}", std::process::id(), self.id);
        let cfg = client::client_config(
            &self.inner.profile,
            "browser",
            &[
                ("queued.max.messages.kbytes", "16384"),
                ("fetch.wait.max.ms", "100"),
                ("fetch.queue.backoff.ms", "50"),
            ],
            &[
                ("group.id", &group),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                ("auto.offset.reset", "earliest"),
                ("isolation.level", self.isolation.as_str()),
            ],
        );
        let (tx, rx) = mpsc::unbounded_channel();
        let consumer = client::create(&cfg, KtContext { signals: Some(tx) })
            .map_err(|e| WorkerError::internal(e.to_string()))?;
        Ok((consumer, rx))
    }

    fn assign(&self, consumer: &BaseConsumer<KtContext>) -> Result<(), WorkerError> {
        let tpl = offsets::tpl_with(
            self.next
                .iter()
                .map(|(p, o)| (&*self.topic, *p, Offset::Offset(*o))),
        )?;
        consumer.assign(&tpl).map_err(|e| classify(&e))
    }

    /// Resolve partitions and start offsets, then report them.
    fn resolve(
        &mut self,
        spec: &BrowseSpec,
        consumer: &BaseConsumer<KtContext>,
    ) -> Result<(), WorkerError> {
        let starts = resolve_starts(consumer, spec)?;
        for s in &starts {
            self.next.insert(s.partition, s.start);
        }
        self.send(BrowseEvent::Started { partitions: starts });
        Ok(())
    }

    /// Where each partition stands against the log, for the watchdog:
    /// `None` while the cluster cannot be reached.
    fn health(&self, consumer: &BaseConsumer<KtContext>) -> Option<Health> {
        let tps: Vec<TopicPartition> = self
            .next
            .keys()
            .map(|p| TopicPartition::new(&self.topic, *p))
            .collect();
        let marks = offsets::watermarks(consumer, &tps, Duration::from_secs(3)).ok()?;
        let mut h = Health::default();
        for (p, next) in &self.next {
            match marks.get(&TopicPartition::new(&self.topic, *p)) {
                Some((Ok(low), Ok(high))) if *high < *next => h.reset.push((*p, *low)),
                Some((_, Ok(high))) if *high > *next => h.behind = true,
                Some((_, Ok(_))) => {}
                _ => return None,
            }
        }
        Some(h)
    }

    fn run(&mut self, spec: &BrowseSpec) -> Result<(), WorkerError> {
        let (mut consumer, mut signals) = self.new_consumer()?;
        self.resolve(spec, &consumer)?;
        self.assign(&consumer)?;
        let mut st = LoopState::new();
        loop {
            if self.ctl.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            self.take_search_requests(&mut st);
            let paused = self.ctl.paused.load(Ordering::Relaxed);
            if paused != st.locally_paused {
                if let Ok(assignment) = consumer.assignment() {
                    let _ = if paused {
                        consumer.pause(&assignment)
                    } else {
                        consumer.resume(&assignment)
                    };
                }
                st.locally_paused = paused;
            }
            // Connection trouble reported by the client.
            while let Ok(sig) = signals.try_recv() {
                if sig.all_brokers_down || sig.auth_failed || st.trouble.is_none() {
                    self.send(BrowseEvent::Status(format!("{}; retrying", sig.message)));
                }
                st.trouble = Some(sig.message);
            }
            match consumer.poll(Duration::from_millis(if st.batch.is_empty() {
                100
            } else {
                5
            })) {
                None => {}
                Some(Ok(msg)) => self.on_message(&mut st, &msg),
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    let offset = self.next.get(&p).copied().unwrap_or(0);
                    if !self.send(BrowseEvent::AtEnd {
                        partition: p,
                        offset,
                    }) {
                        return Ok(());
                    }
                }
                Some(Err(e)) => {
                    let why = explain(&e);
                    if st.trouble.as_deref() != Some(why.as_str()) {
                        self.send(BrowseEvent::Status(format!("{why}; retrying")));
                    }
                    st.trouble = Some(why);
                }
            }
            if !self.flush(&mut st) {
                return Ok(());
            }
            if st.trouble.is_some()
                && !st.locally_paused
                && st.last_progress.elapsed() > STALL_AFTER
                && st.last_watchdog.elapsed() > STALL_AFTER
                && let Some((c, s)) = self.watchdog(&consumer, &mut st)?
            {
                consumer = c;
                signals = s;
            }
        }
    }

    /// A new search asked for, or the running one cancelled.
    fn take_search_requests(&self, st: &mut LoopState) {
        if let Some((src, want)) = self.ctl.search.lock().ok().and_then(|mut s| s.take()) {
            match Filter::parse(&src, crate::timeutil::now_ms()) {
                Ok(filter) => {
                    st.search = Some(Search {
                        filter,
                        want,
                        matched: 0,
                        scanned: 0,
                        last_report: Instant::now(),
                    });
                    self.ctl.paused.store(false, Ordering::Relaxed);
                }
                Err(e) => {
                    self.send(BrowseEvent::Status(format!("search: {e}")));
                }
            }
        }
        if self.ctl.cancel_search.swap(false, Ordering::Relaxed)
            && let Some(s) = st.search.take()
        {
            self.ctl.paused.store(true, Ordering::Relaxed);
            self.send(BrowseEvent::SearchProgress {
                scanned: s.scanned,
                matched: s.matched,
                done: true,
            });
        }
    }

    /// A record read: batched, or during a search only if it matches.
    fn on_message(&mut self, st: &mut LoopState, msg: &BorrowedMessage<'_>) {
        st.last_progress = Instant::now();
        if st.trouble.take().is_some() {
            self.send(BrowseEvent::Status(String::new()));
        }
        self.next.insert(msg.partition(), msg.offset() + 1);
        if let Some(s) = st.search.as_mut() {
            s.scanned += 1;
            let mut headers = Vec::new();
            message::for_each_header(msg, |n, v| headers.push((n, v)));
            let names: Vec<std::borrow::Cow<'_, str>> = headers
                .iter()
                .map(|(n, _)| message::header_name(n))
                .collect();
            let view = MsgView {
                topic: &self.topic,
                partition: msg.partition(),
                offset: msg.offset(),
                timestamp: message::timestamp_of(msg).0,
                key: rdkafka::Message::key(msg),
                value: rdkafka::Message::payload(msg),
                headers: names
                    .iter()
                    .zip(&headers)
                    .map(|(n, (_, v))| (n.as_ref(), *v))
                    .collect(),
            };
            if s.filter.matches(&view) {
                s.matched += 1;
                st.batch.push(message::to_record(msg, &self.topic));
            }
        } else {
            if st.batch.is_empty() {
                st.batch_started = Instant::now();
            }
            st.batch.push(message::to_record(msg, &self.topic));
        }
    }

    /// Send a full or old batch, and a search's progress; false when the
    /// app is gone.
    fn flush(&self, st: &mut LoopState) -> bool {
        let flush = !st.batch.is_empty()
            && (st.batch.len() >= BATCH_MAX || st.batch_started.elapsed() >= BATCH_WAIT);
        if flush && !self.send(BrowseEvent::Records(std::mem::take(&mut st.batch))) {
            return false;
        }
        if let Some(s) = st.search.as_mut() {
            let done = s.matched >= s.want;
            if done || s.last_report.elapsed() >= Duration::from_millis(200) {
                if !st.batch.is_empty()
                    && !self.send(BrowseEvent::Records(std::mem::take(&mut st.batch)))
                {
                    return false;
                }
                s.last_report = Instant::now();
                self.send(BrowseEvent::SearchProgress {
                    scanned: s.scanned,
                    matched: s.matched,
                    done,
                });
            }
            if done {
                st.search = None;
                self.ctl.paused.store(true, Ordering::Relaxed);
            }
        }
        true
    }

    /// Watchdog: after trouble and a stall, look at the log. Data waiting
    /// that never arrives means the consumer is stuck: recreate it (the new
    /// one is returned) and resume right after the last record delivered. A
    /// log that now ends before our position was recreated (a broker that
    /// lost its data): read the new log from its start. Otherwise the
    /// trouble is over.
    #[allow(clippy::type_complexity)]
    fn watchdog(
        &mut self,
        consumer: &BaseConsumer<KtContext>,
        st: &mut LoopState,
    ) -> Result<
        Option<(
            KtClient<BaseConsumer<KtContext>>,
            mpsc::UnboundedReceiver<ClientSignal>,
        )>,
        WorkerError,
    > {
        st.last_watchdog = Instant::now();
        let Some(h) = self.health(consumer) else {
            return Ok(None);
        };
        st.trouble = None;
        if !h.behind && h.reset.is_empty() {
            self.send(BrowseEvent::Status(String::new()));
            return Ok(None);
        }
        for (p, low) in &h.reset {
            self.next.insert(*p, *low);
        }
        let (c, s) = self.new_consumer()?;
        self.assign(&c)?;
        st.last_progress = Instant::now();
        let at: Vec<String> = self.next.iter().map(|(p, o)| format!("{p}@{o}")).collect();
        let what = if h.reset.is_empty() {
            "reconnected"
        } else {
            "reconnected; the partition log was reset by the broker"
        };
        self.send(BrowseEvent::Recovered(format!(
            "{what}, resuming at {}",
            at.join(" ")
        )));
        Ok(Some((c, s)))
    }
}

/// The reading loop's state between polls.
struct LoopState {
    batch: Vec<Record>,
    batch_started: Instant,
    search: Option<Search>,
    locally_paused: bool,
    last_progress: Instant,
    trouble: Option<String>,
    last_watchdog: Instant,
}

impl LoopState {
    fn new() -> Self {
        Self {
            batch: Vec::with_capacity(256),
            batch_started: Instant::now(),
            search: None,
            locally_paused: false,
            last_progress: Instant::now(),
            trouble: None,
            last_watchdog: Instant::now(),
        }
    }
}

/// Resolve which partitions to read and where each starts: watermarks and
/// offsets-for-times in batched requests (blocking).
pub fn resolve_starts(
    consumer: &BaseConsumer<KtContext>,
    spec: &BrowseSpec,
) -> Result<Vec<PartitionStart>, WorkerError> {
    let tps: Vec<TopicPartition> = partitions_to_read(consumer, spec)?
        .iter()
        .map(|p| TopicPartition::new(&spec.topic, *p))
        .collect();
    let marks = offsets::watermarks(consumer, &tps, super::admin::METADATA_TIMEOUT)?;
    let by_time = match spec.start {
        StartAt::Timestamp(ts) => Some(offsets::list_offsets(
            consumer,
            &tps,
            Offset::Offset(ts),
            super::admin::METADATA_TIMEOUT,
        )?),
        _ => None,
    };
    let mut starts = Vec::with_capacity(tps.len());
    for tp in &tps {
        let (low, high) = match marks.get(tp) {
            Some((Ok(l), Ok(h))) => (*l, *h),
            Some((Err(e), _) | (_, Err(e))) => {
                return Err(e.clone().context(&format!("partition {}", tp.partition)));
            }
            None => return Err(crate::werr!("partition {}: no watermarks", tp.partition)),
        };
        let given = spec
            .positions
            .iter()
            .find(|(p, _)| *p == tp.partition)
            .map(|(_, o)| (*o).clamp(low, high));
        let start = match spec.start {
            _ if given.is_some() => given.unwrap_or(low),
            StartAt::Beginning => low,
            StartAt::End => high,
            StartAt::Offset(o) => o.clamp(low, high),
            StartAt::LastN(n) => high.saturating_sub(n).max(low),
            StartAt::Timestamp(_) => match by_time.as_ref().and_then(|m| m.get(tp)) {
                Some(Ok(o)) if *o >= 0 => (*o).clamp(low, high),
                Some(Err(e)) => {
                    return Err(e.clone().context(&format!("partition {}", tp.partition)));
                }
                _ => high,
            },
        };
        starts.push(PartitionStart {
            partition: tp.partition,
            start,
            low,
            high,
        });
    }
    Ok(starts)
}

/// The topic's partitions from the metadata (sorted), or those the spec
/// names, each checked to exist.
fn partitions_to_read(
    consumer: &BaseConsumer<KtContext>,
    spec: &BrowseSpec,
) -> Result<Vec<i32>, WorkerError> {
    let md = consumer
        .fetch_metadata(Some(&spec.topic), super::admin::METADATA_TIMEOUT)
        .map_err(|e| classify(&e))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == spec.topic)
        .ok_or_else(|| WorkerError::unknown_topic(&spec.topic))?;
    if let Some(e) = t.error() {
        let code: rdkafka::error::RDKafkaErrorCode = e.into();
        let kind = match code {
            rdkafka::error::RDKafkaErrorCode::UnknownTopicOrPartition => ErrorKind::UnknownTopic,
            code => super::error::kind_of(code),
        };
        return Err(WorkerError::new(
            kind,
            format!(
                "{}: {}",
                crate::sanitize::escape(&spec.topic),
                client::plain_words(code).map_or_else(|| code.to_string(), str::to_string)
            ),
        ));
    }
    let mut parts: Vec<i32> = t
        .partitions()
        .iter()
        .map(rdkafka::metadata::MetadataPartition::id)
        .collect();
    parts.sort_unstable();
    if parts.is_empty() {
        return Err(WorkerError::unknown_topic(&spec.topic));
    }
    if let Some(want) = &spec.partitions {
        for p in want {
            if !parts.contains(p) {
                return Err(crate::werr!(
                    "topic has no partition {p} (it has {})",
                    parts.len()
                ));
            }
        }
        parts.clone_from(want);
    }
    Ok(parts)
}

/// Run a browse session to completion (blocking; its own thread).
pub fn run(inner: Arc<Inner>, id: SessionId, spec: BrowseSpec, ctl: Arc<SessionCtl>) {
    let mut s = Session {
        inner,
        id,
        ctl,
        topic: Arc::from(spec.topic.as_str()),
        next: BTreeMap::new(),
        isolation: spec.isolation,
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.run(&spec)));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            s.send(BrowseEvent::Failed(e));
        }
        Err(_) => {
            s.send(BrowseEvent::Failed(WorkerError::internal(
                "internal error in the browse session (see the log)",
            )));
        }
    }
}

/// The worker's `StartBrowse`: the session on a thread of its own, known
/// by its id until it ends.
pub(super) fn start(inner: &Arc<Inner>, session: SessionId, spec: BrowseSpec) {
    let ctl = Arc::new(SessionCtl::default());
    if let Ok(mut s) = inner.sessions.lock() {
        s.insert(session, Arc::clone(&ctl));
    }
    let i = Arc::clone(inner);
    let spawned = std::thread::Builder::new()
        .name(format!("kt-browse-{session}"))
        .spawn(move || {
            run(Arc::clone(&i), session, spec, ctl);
            if let Ok(mut s) = i.sessions.lock() {
                s.remove(&session);
            }
        });
    if let Err(e) = spawned {
        let event = BrowseEvent::Failed(crate::werr!("cannot start a browse thread: {e}"));
        super::emit(inner, WorkerEvent::Browse { session, event });
    }
}

/// The worker's `StopBrowse`.
pub(super) fn stop(inner: &Inner, session: SessionId) {
    if let Some(s) = inner.session(session) {
        s.stop.store(true, Ordering::Relaxed);
    }
}

/// The worker's `PauseBrowse`.
pub(super) fn pause(inner: &Inner, session: SessionId, paused: bool) {
    if let Some(s) = inner.session(session) {
        s.paused.store(paused, Ordering::Relaxed);
    }
}

/// The worker's `SearchBrowse`: the session's thread takes it up.
pub(super) fn search(inner: &Inner, session: SessionId, filter: String, want: u64) {
    if let Some(s) = inner.session(session)
        && let Ok(mut slot) = s.search.lock()
    {
        *slot = Some((filter, want));
    }
}

/// The worker's `CancelSearch`.
pub(super) fn cancel_search(inner: &Inner, session: SessionId) {
    if let Some(s) = inner.session(session) {
        s.cancel_search.store(true, Ordering::Relaxed);
    }
}
