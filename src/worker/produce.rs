//! Producing for the composer: one producer per option set (acks,
//! compression, idempotence), batches with progress and cancel, delivery
//! reports with partition, offset, timestamp and latency.

use crate::worker::error::{WorkerError, classify_transaction};
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as RdHeader, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio_util::sync::CancellationToken;

use super::Inner;
use super::protocol::{BatchSource, ProduceProgress, ReqId, WorkerEvent};
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::model::Delivery;
use crate::model::{ProduceRequest, ProducerOptions, TxnOutcome, TxnSpec};

/// Most messages awaiting a delivery report at once in one batch.
const MAX_PENDING: usize = 50_000;

pub type KtProducer = KtClient<FutureProducer<KtContext>>;

/// Get or create the producer for an option set.
pub fn producer_for(
    inner: &Inner,
    options: ProducerOptions,
) -> Result<Arc<KtProducer>, WorkerError> {
    let mut map = inner
        .producers
        .lock()
        .map_err(|_| "producer registry poisoned".to_string())?;
    if let Some(p) = map.get(&options) {
        return Ok(Arc::clone(p));
    }
    let mut defaults: Vec<(&str, &str)> = client::PRODUCER_DEFAULTS.to_vec();
    defaults.push(("message.timeout.ms", "30000"));
    let cfg = client::client_config(&inner.profile, "producer", &defaults, &options.properties());
    let p: KtProducer = client::create(
        &cfg,
        KtContext {
            signals: Some(inner.signals_tx.clone()),
        },
    )
    .map_err(|e| e.to_string())?;
    let p = Arc::new(p);
    map.insert(options, Arc::clone(&p));
    Ok(p)
}

fn headers_of(req: &ProduceRequest) -> Option<OwnedHeaders> {
    if req.headers.is_empty() {
        return None;
    }
    let mut h = OwnedHeaders::new_with_capacity(req.headers.len());
    for hd in &req.headers {
        h = h.insert(RdHeader {
            key: &hd.name,
            value: hd.value.as_deref(),
        });
    }
    Some(h)
}

/// The registry schemas a template's `schema` encodings use: the subjects
/// chosen (the topic's `TOPIC-key` / `TOPIC-value` by default) at the chosen
/// version or id, fetched once per batch before anything is sent.
#[derive(Default)]
struct TemplateSchemas {
    key: Option<(String, crate::registry::SubjectSchema)>,
    value: Option<(String, crate::registry::SubjectSchema)>,
}

impl TemplateSchemas {
    fn fetch(inner: &Inner, t: &crate::template::MessageTemplate) -> Result<Self, WorkerError> {
        use crate::template::{Encoding, SchemaChoice};
        let want = |e: Encoding| e == Encoding::Schema;
        if !want(t.key_encoding) && !want(t.value_encoding) {
            return Ok(Self::default());
        }
        let client = inner.registry.get()?;
        let fetch = |suffix: &str,
                     choice: &SchemaChoice|
         -> Result<(String, crate::registry::SubjectSchema), WorkerError> {
            let subject = choice
                .subject
                .clone()
                .unwrap_or_else(|| format!("{}-{suffix}", t.topic));
            let named = match choice.selector {
                crate::registry::SchemaSelector::Id(id) => format!("schema id {id}"),
                _ => format!("subject {subject}"),
            };
            client
                .schema_for(Some(&subject), choice.selector)
                .map(|s| (named.clone(), s))
                .map_err(|e| crate::werr!("schema of {named}: {e}"))
        };
        Ok(Self {
            key: want(t.key_encoding)
                .then(|| fetch("key", &t.key_schema))
                .transpose()?,
            value: want(t.value_encoding)
                .then(|| fetch("value", &t.value_schema))
                .transpose()?,
        })
    }

    /// Encode the rendered JSON of key and value for their subjects.
    fn apply(&self, req: &mut ProduceRequest) -> Result<(), WorkerError> {
        for (which, field, name) in [
            (&self.key, &mut req.key, "key"),
            (&self.value, &mut req.value, "value"),
        ] {
            let (Some((subject, s)), Some(bytes)) = (which, field.as_mut()) else {
                continue;
            };
            if bytes.is_empty() {
                return Err(crate::werr!(
                    "{name}: nothing typed, and the schema of {subject} needs a JSON value"
                ));
            }
            let json: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| crate::werr!("{name} is not JSON: {e}"))?;
            *bytes = crate::decode::encode_json(&s.schema, &json, None).map_err(|e| {
                crate::werr!(
                    "{name} does not fit {subject}{}: {e}",
                    s.version.map_or_else(String::new, |v| format!(" v{v}"))
                )
            })?;
        }
        Ok(())
    }
}

/// Messages of a batch, produced lazily so a million-line file or template
/// never sits in memory whole.
enum Source {
    Template(crate::template::MessageTemplate, u64, u64),
    File(
        std::io::Lines<std::io::BufReader<std::fs::File>>,
        String,
        u64,
    ),
    Messages(std::vec::IntoIter<ProduceRequest>),
}

impl Source {
    fn open(src: BatchSource) -> Result<Self, WorkerError> {
        Ok(match src {
            BatchSource::Template { template, count } => Source::Template(template, 0, count),
            BatchSource::File { path, topic } => {
                let f = std::fs::File::open(&path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                Source::File(std::io::BufReader::new(f).lines(), topic, 0)
            }
            BatchSource::Messages(v) => Source::Messages(v.into_iter()),
        })
    }

    /// Next message, or an error naming the line / variation.
    fn next(&mut self) -> Option<Result<ProduceRequest, WorkerError>> {
        match self {
            Source::Template(t, i, count) => {
                if *i >= *count {
                    return None;
                }
                let r = t
                    .render(*i, crate::timeutil::now_ms())
                    .map_err(|e| crate::werr!("message {}: {e}", *i));
                *i += 1;
                Some(r)
            }
            Source::File(lines, topic, n) => loop {
                let line = lines.next()?;
                *n += 1;
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return Some(Err(crate::werr!("line {}: {e}", *n))),
                };
                if line.trim().is_empty() {
                    continue;
                }
                return Some(
                    crate::jsonl::parse_line(&line)
                        .map(|m| ProduceRequest {
                            topic: m.topic.unwrap_or_else(|| topic.clone()),
                            partition: m.partition,
                            key: m.key,
                            value: m.value,
                            headers: m.headers,
                            timestamp: m.timestamp,
                        })
                        .map_err(|e| crate::werr!("line {}: {e:#}", *n)),
                );
            },
            Source::Messages(it) => it.next().map(Ok),
        }
    }
}

/// A delivery report. `sent_ts` is the CreateTime the message was sent
/// with; the broker's LogAppendTime replaces it unless the cluster's is not
/// a real time (`trust_append_time` false: the mock cluster).
fn delivery_of(
    d: &rdkafka::producer::future_producer::Delivery,
    started: Instant,
    sent_ts: i64,
    trust_append_time: bool,
) -> Delivery {
    let timestamp = match d.timestamp {
        rdkafka::Timestamp::LogAppendTime(t) if trust_append_time => Some(t),
        _ => Some(sent_ts),
    };
    Delivery {
        partition: d.partition,
        offset: d.offset,
        timestamp,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn new_progress() -> ProduceProgress {
    ProduceProgress {
        queued: 0,
        delivered: 0,
        failed: 0,
        first_error: None,
        last: None,
        elapsed_ms: 0,
        done: false,
    }
}

/// Send the batch's progress (the final report when `done`).
async fn report(
    inner: &Inner,
    id: ReqId,
    prog: &mut ProduceProgress,
    started: Instant,
    done: bool,
) {
    prog.done = done;
    prog.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let _ = inner
        .events
        .send(WorkerEvent::Produce {
            id,
            progress: prog.clone(),
        })
        .await;
}

/// Registry schemas for a template's `schema` encodings: fetched (blocking
/// HTTP, off the async threads) before the first message.
async fn schemas_for(inner: &Arc<Inner>, source: &Source) -> Result<TemplateSchemas, WorkerError> {
    match source {
        Source::Template(t, ..) => {
            let t = t.clone();
            super::blocking(inner, move |inner| TemplateSchemas::fetch(inner, &t)).await
        }
        _ => Ok(TemplateSchemas::default()),
    }
}

/// Send a batch, reporting progress about every 100 ms and when done.
pub async fn run_batch(
    inner: Arc<Inner>,
    id: ReqId,
    options: ProducerOptions,
    source: BatchSource,
    cancel: CancellationToken,
) {
    let started = Instant::now();
    let mut prog = new_progress();
    let setup = options
        .validate()
        .map_err(|e| WorkerError::internal(e.to_string()))
        .and_then(|()| producer_for(&inner, options))
        .and_then(|p| Source::open(source).map(|s| (p, s)));
    let ready = match setup {
        Ok((producer, source)) => schemas_for(&inner, &source)
            .await
            .map(|schemas| (producer, source, schemas)),
        Err(e) => Err(e),
    };
    match ready {
        Ok((producer, source, schemas)) => {
            send_all(
                &inner, id, &producer, source, &schemas, &cancel, &mut prog, started,
            )
            .await;
        }
        Err(e) => {
            prog.failed = 1;
            prog.first_error = Some(e.to_string());
        }
    }
    report(&inner, id, &mut prog, started, true).await;
}

/// Send every message of `source` and wait for every delivery report,
/// reporting progress about every 100 ms (not the final report).
#[allow(clippy::too_many_arguments)]
async fn send_all(
    inner: &Inner,
    id: ReqId,
    producer: &FutureProducer<KtContext>,
    mut source: Source,
    schemas: &TemplateSchemas,
    cancel: &CancellationToken,
    prog: &mut ProduceProgress,
    started: Instant,
) {
    let mut pending = FuturesUnordered::new();
    let mut last_report = Instant::now();
    let trust_append_time = !inner.profile.unsupported.log_append_time;
    let account = |prog: &mut ProduceProgress,
                   res: (
        Result<rdkafka::producer::future_producer::OwnedDeliveryResult, _>,
        Instant,
        i64,
    )| {
        match res.0 {
            Ok(Ok(d)) => {
                prog.delivered += 1;
                prog.last = Some(delivery_of(&d, res.1, res.2, trust_append_time));
            }
            Ok(Err((e, _))) => {
                prog.failed += 1;
                prog.first_error.get_or_insert_with(|| explain(&e));
            }
            Err(_) => {
                prog.failed += 1;
                prog.first_error
                    .get_or_insert_with(|| "the producer was closed".into());
            }
        }
    };
    'outer: while let Some(next) = source.next() {
        if cancel.is_cancelled() {
            prog.first_error.get_or_insert_with(|| "cancelled".into());
            break;
        }
        let req = match next.and_then(|mut r| schemas.apply(&mut r).map(|()| r)) {
            Ok(r) => r,
            Err(e) => {
                prog.failed += 1;
                prog.first_error.get_or_insert(e.to_string());
                continue;
            }
        };
        let mut record = FutureRecord::<[u8], [u8]>::to(&req.topic);
        if let Some(k) = req.key.as_deref() {
            record = record.key(k);
        }
        if let Some(v) = req.value.as_deref() {
            record = record.payload(v);
        }
        if let Some(p) = req.partition {
            record = record.partition(p);
        }
        // Always an explicit CreateTime (what librdkafka would take at this
        // moment anyway), so the delivery report can show it.
        let sent_ts = req.timestamp.unwrap_or_else(crate::timeutil::now_ms);
        record = record.timestamp(sent_ts);
        if let Some(h) = headers_of(&req) {
            record = record.headers(h);
        }
        loop {
            let sent_at = Instant::now();
            match producer.send_result(record) {
                Ok(fut) => {
                    prog.queued += 1;
                    pending.push(async move { (fut.await, sent_at, sent_ts) });
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    // Wait for some deliveries to make room.
                    match tokio::time::timeout(Duration::from_millis(50), pending.next()).await {
                        Ok(Some(res)) => account(prog, res),
                        _ => {
                            if cancel.is_cancelled() {
                                break 'outer;
                            }
                        }
                    }
                }
                Err((e, _)) => {
                    prog.failed += 1;
                    prog.first_error.get_or_insert_with(|| explain(&e));
                    break;
                }
            }
        }
        while pending.len() >= MAX_PENDING {
            if let Some(res) = pending.next().await {
                account(prog, res);
            }
        }
        // Collect what is ready without waiting.
        while let Some(Some(res)) = futures::FutureExt::now_or_never(pending.next()) {
            account(prog, res);
        }
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            report(inner, id, prog, started, false).await;
        }
    }
    while let Some(res) = pending.next().await {
        account(prog, res);
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            report(inner, id, prog, started, false).await;
        }
    }
}

/// A producer for one transactional send. Not shared: a `transactional.id`
/// has one transaction at a time, and the producer is closed after it.
fn transactional_producer(
    inner: &Inner,
    options: ProducerOptions,
    txn: &TxnSpec,
) -> Result<KtProducer, WorkerError> {
    let mut defaults: Vec<(&str, &str)> = client::PRODUCER_DEFAULTS.to_vec();
    defaults.push(("message.timeout.ms", "30000"));
    // A console that dies mid-transaction leaves it to the coordinator
    // for at most this long.
    defaults.push(("transaction.timeout.ms", "60000"));
    let forced = [
        ("acks", "all"),
        ("compression.type", options.compression.as_str()),
        ("enable.idempotence", "true"),
        ("transactional.id", txn.transactional_id.as_str()),
    ];
    let cfg = client::client_config(&inner.profile, "txn-producer", &defaults, &forced);
    client::create(
        &cfg,
        KtContext {
            signals: Some(inner.signals_tx.clone()),
        },
    )
    .map_err(|e| WorkerError::internal(e.to_string()))
}

/// Send a batch in one transaction: init (fencing an older producer with
/// the same id), begin, send and wait for every delivery, then commit or
/// abort. Any failed message or a cancel (the composer left, the console
/// quit) aborts. The coordinator calls block, so they run off the async
/// threads. `TxnEnded` precedes the final progress report.
pub async fn run_transaction(
    inner: Arc<Inner>,
    id: ReqId,
    options: ProducerOptions,
    source: BatchSource,
    txn: TxnSpec,
    cancel: CancellationToken,
) {
    let started = Instant::now();
    let mut prog = new_progress();
    let outcome = transaction(
        &inner, id, options, source, &txn, &cancel, &mut prog, started,
    )
    .await;
    tracing::info!(
        transactional_id = %txn.transactional_id,
        outcome = outcome.words(),
        delivered = prog.delivered,
        failed = prog.failed,
        "transactional send"
    );
    let _ = inner
        .events
        .send(WorkerEvent::TxnEnded {
            id,
            transactional_id: crate::sanitize::escape(&txn.transactional_id).into_owned(),
            outcome,
        })
        .await;
    report(&inner, id, &mut prog, started, true).await;
}

#[allow(clippy::too_many_arguments)]
async fn transaction(
    inner: &Arc<Inner>,
    id: ReqId,
    options: ProducerOptions,
    source: BatchSource,
    txn: &TxnSpec,
    cancel: &CancellationToken,
    prog: &mut ProduceProgress,
    started: Instant,
) -> TxnOutcome {
    let timeout = Duration::from_millis(txn.timeout_ms);
    let fail = |prog: &mut ProduceProgress, e: String| {
        prog.failed = prog.failed.max(1);
        prog.first_error.get_or_insert(e);
    };
    let source = match crate::model::check_transactional_id(&txn.transactional_id)
        .map_err(|e| WorkerError::internal(e.to_string()))
        .and_then(|()| Source::open(source))
    {
        Ok(s) => s,
        Err(e) => {
            fail(prog, e.to_string());
            return TxnOutcome::NotStarted;
        }
    };
    let schemas = match schemas_for(inner, &source).await {
        Ok(s) => s,
        Err(e) => {
            fail(prog, e.to_string());
            return TxnOutcome::NotStarted;
        }
    };
    let spec = txn.clone();
    let started_txn = super::blocking(inner, move |inner| {
        let p = transactional_producer(inner, options, &spec)?;
        p.init_transactions(timeout)
            .map_err(|e| classify_transaction("starting the transaction", &e))?;
        p.begin_transaction()
            .map_err(|e| classify_transaction("beginning the transaction", &e))?;
        Ok(Arc::new(p))
    })
    .await;
    let producer = match started_txn {
        Ok(p) => p,
        Err(e) => {
            fail(prog, e.to_string());
            return TxnOutcome::NotStarted;
        }
    };
    send_all(
        inner, id, &producer, source, &schemas, cancel, prog, started,
    )
    .await;
    let commit = txn.commit && prog.failed == 0 && !cancel.is_cancelled();
    if cancel.is_cancelled() {
        prog.first_error
            .get_or_insert_with(|| "cancelled: the transaction was aborted".into());
    }
    let p = Arc::clone(&producer);
    let ended = super::blocking(inner, move |_| {
        let r: Result<TxnOutcome, (TxnOutcome, WorkerError)> = if commit {
            match p.commit_transaction(timeout) {
                Ok(()) => Ok(TxnOutcome::Committed),
                Err(e) => {
                    let why = classify_transaction("committing", &e);
                    // An abortable error (a failed message) ends in an
                    // abort; fenced, the newer producer aborted it; any
                    // other leaves it to the coordinator's timeout.
                    let abortable =
                        matches!(&e, KafkaError::Transaction(t) if t.txn_requires_abort());
                    if (abortable && p.abort_transaction(timeout).is_ok()) || is_fenced(&e) {
                        Err((TxnOutcome::AbortedOnFailure, why))
                    } else {
                        Err((TxnOutcome::Unresolved, why))
                    }
                }
            }
        } else {
            match p.abort_transaction(timeout) {
                Ok(()) => Ok(TxnOutcome::Aborted),
                Err(e) if is_fenced(&e) => Err((
                    TxnOutcome::AbortedOnFailure,
                    classify_transaction("aborting", &e),
                )),
                Err(e) => Err((TxnOutcome::Unresolved, classify_transaction("aborting", &e))),
            }
        };
        Ok(r)
    })
    .await;
    // The producer is closed off the async threads (closing may wait).
    let _ = tokio::task::spawn_blocking(move || drop(producer)).await;
    match ended {
        Ok(Ok(TxnOutcome::Aborted)) if !txn.commit => TxnOutcome::Aborted,
        Ok(Ok(TxnOutcome::Aborted)) => TxnOutcome::AbortedOnFailure,
        Ok(Ok(o)) => o,
        Ok(Err((o, e))) => {
            fail(prog, e.to_string());
            o
        }
        Err(e) => {
            fail(prog, e.to_string());
            TxnOutcome::Unresolved
        }
    }
}

/// Fenced by a newer producer with the same `transactional.id`: its
/// initialisation aborted this transaction.
fn is_fenced(e: &KafkaError) -> bool {
    matches!(
        crate::kafka::client::error_code(e),
        Some(
            RDKafkaErrorCode::Fenced
                | RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
        )
    )
}

/// Flush every producer, waiting up to `timeout`; returns how many messages
/// were still undelivered (blocking).
pub fn flush_all(inner: &Inner, timeout: Duration) -> u64 {
    let producers: Vec<Arc<KtProducer>> = inner
        .producers
        .lock()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    let deadline = Instant::now() + timeout;
    let mut undelivered = 0u64;
    for p in producers {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = p.flush(left);
        undelivered += u64::try_from(p.in_flight_count().max(0)).unwrap_or(0);
    }
    undelivered
}
