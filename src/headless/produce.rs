//! `produce`: a `BaseProducer` loop over lines or JSON Lines from stdin or a file.
//!
//! Messages go out through a topic handle made once
//! (`kafka::message::TopicProducer`). librdkafka reports failed deliveries
//! only (`delivery.report.only.error`): what was sent and did not fail, and
//! is not still in flight at the end, was delivered. The final flush waits
//! in 1 ms steps, not rust-rdkafka's 100 ms.

use super::decoded::{EncodedLine, LineEncoder, LineError, SchemaChoice};
use super::stop_flag;
use crate::cli::ProduceFormat;
use crate::config::ClusterProfile;
use crate::jsonl::{self};
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::kafka::message::TopicProducer;
use crate::model::Header;
use crate::model::{Acks, Compression, ProducerOptions, TxnOutcome, TxnSpec};
use crate::sanitize;
use crate::worker::error::classify_transaction;
use anyhow::{Result, anyhow, bail};
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use std::io::{self, BufRead};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Failed deliveries, as librdkafka reports them.
#[derive(Default)]
struct Counts {
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
            // Only failures are reported (`delivery.report.only.error`).
            Ok(_) => {}
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
    /// Send everything in one transaction, ending as it says.
    pub transaction: Option<TxnSpec>,
    /// Encode keys / values for registry schemas (input is JSON).
    pub key_schema: SchemaChoice,
    pub value_schema: SchemaChoice,
}

/// Summary of a headless produce.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceSummary {
    pub delivered: u64,
    pub failed: u64,
    pub seconds: f64,
    pub first_error: Option<String>,
    /// The transactional.id and how the transaction ended.
    pub transaction: Option<(String, TxnOutcome)>,
}

pub async fn produce(profile: ClusterProfile, args: ProduceArgs) -> Result<ProduceSummary> {
    if profile.read_only {
        bail!(
            "read-only mode: cluster {} does not allow writes",
            sanitize::escape(&profile.name)
        );
    }
    let mut options = ProducerOptions {
        acks: Acks::parse(&args.acks)?,
        compression: Compression::parse(&args.compression)?,
        idempotent: args.idempotent,
    };
    if let Some(t) = &args.transaction {
        crate::model::check_transactional_id(&t.transactional_id)?;
        // A transactional producer is idempotent and waits for all replicas.
        options.acks = Acks::All;
        options.idempotent = true;
    }
    options.validate()?;
    let stop = stop_flag();
    tokio::task::spawn_blocking(move || produce_blocking(&profile, &args, options, &stop))
        .await
        .map_err(|e| anyhow!("produce task failed: {e}"))?
}

/// How long the final flush may wait for acknowledgements.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// partition, key, value, headers, timestamp of one message to send (to
/// the topic given on the command line).
type OutMsg<'a> = (
    Option<i32>,
    Option<&'a [u8]>,
    Option<&'a [u8]>,
    &'a [Header],
    Option<i64>,
);

/// Most lines whose schema errors are printed one by one.
const MAX_LINE_ERRORS_SHOWN: u64 = 20;

/// A line that does not fit its schema: counted, reported on stderr (one
/// line each, the first few), and kept as the first error.
fn note_line_error(failed: &mut u64, first: &mut Option<String>, line_no: u64, err: &LineError) {
    *failed += 1;
    let msg = format!("line {line_no}: {}", sanitize::escape(&err.to_string()));
    if *failed <= MAX_LINE_ERRORS_SHOWN {
        crate::eline!("kafkaterm: not sent: {msg}");
    } else if *failed == MAX_LINE_ERRORS_SHOWN + 1 {
        crate::eline!("kafkaterm: more lines do not fit the schema; not showing them");
    }
    first.get_or_insert(msg);
}

fn produce_blocking(
    profile: &ClusterProfile,
    args: &ProduceArgs,
    options: ProducerOptions,
    stop: &AtomicBool,
) -> Result<ProduceSummary> {
    // Schemas are fetched before anything is sent.
    let encoder = LineEncoder::new(profile, &args.key_schema, &args.value_schema)?;
    let fixed_key: Option<Vec<u8>> = match (&encoder, args.format) {
        (Some(e), ProduceFormat::Lines) => e.fixed_key(args.key.as_deref())?,
        _ => args.key.as_ref().map(|k| k.as_bytes().to_vec()),
    };
    let counts = Arc::new(Counts::default());
    let mut cfg = client::client_config(
        profile,
        "produce",
        &client::PRODUCER_DEFAULTS,
        &options.properties(),
    );
    cfg.set("delivery.report.only.error", "true");
    if let Some(t) = &args.transaction {
        cfg.set("transactional.id", &t.transactional_id);
        cfg.set("transaction.timeout.ms", "60000");
    }
    let producer: KtClient<BaseProducer<CountingContext>> =
        client::create(&cfg, CountingContext(Arc::clone(&counts)))?;
    if let Some(t) = &args.transaction {
        // Before any input is read: a cluster that refuses transactions
        // costs nothing.
        let timeout = Duration::from_millis(t.timeout_ms);
        producer
            .init_transactions(timeout)
            .map_err(|e| anyhow!("{}", classify_transaction("starting the transaction", &e)))?;
        producer
            .begin_transaction()
            .map_err(|e| anyhow!("{}", classify_transaction("beginning the transaction", &e)))?;
    }
    let sender = TopicProducer::new(&producer, &args.topic).map_err(|e| anyhow!(e))?;
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
    // Queued for delivery, and refused by librdkafka at once.
    let mut sent = 0u64;
    let mut send_failed = 0u64;
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
        let encoded: EncodedLine;
        let (partition, key, value, headers, timestamp): OutMsg<'_> = match args.format {
            ProduceFormat::Lines => {
                let value = match &encoder {
                    None => Some(&line[..]),
                    Some(_) if line.iter().all(u8::is_ascii_whitespace) => continue,
                    Some(e) => match e.value_line(&line) {
                        Ok(v) => {
                            encoded = EncodedLine {
                                key: None,
                                value: Some(v),
                            };
                            encoded.value.as_ref().and_then(Option::as_deref)
                        }
                        Err(err) => {
                            note_line_error(
                                &mut parse_failed,
                                &mut first_parse_error,
                                line_no,
                                &err,
                            );
                            continue;
                        }
                    },
                };
                (
                    args.partition,
                    fixed_key.as_deref(),
                    value,
                    &fixed_headers,
                    None,
                )
            }
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
                        // Key and value encoded for their schemas, both
                        // before sending: a line that does not fit is not sent.
                        encoded = match encoder.as_ref().map(|e| e.jsonl_line(text)) {
                            None => EncodedLine::default(),
                            Some(Ok(kv)) => kv,
                            Some(Err(err)) => {
                                note_line_error(
                                    &mut parse_failed,
                                    &mut first_parse_error,
                                    line_no,
                                    &err,
                                );
                                continue;
                            }
                        };
                        (
                            args.partition.or(parsed.partition),
                            match &encoded.key {
                                Some(k) => k.as_deref(),
                                None => parsed.key.as_deref(),
                            },
                            match &encoded.value {
                                Some(v) => v.as_deref(),
                                None => parsed.value.as_deref(),
                            },
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
        loop {
            match sender.send(partition, key, value, headers, timestamp) {
                Ok(()) => {
                    sent += 1;
                    break;
                }
                Err(RDKafkaErrorCode::QueueFull) => {
                    producer.poll(Duration::from_millis(5));
                }
                Err(code) => {
                    send_failed += 1;
                    if let Ok(mut f) = counts.first_error.lock() {
                        f.get_or_insert_with(|| explain(&KafkaError::MessageProduction(code)));
                    }
                    break;
                }
            }
        }
        if sent.is_multiple_of(1024) {
            producer.poll(Duration::ZERO);
        }
    }
    // rust-rdkafka's flush waits in 100 ms steps; 1 ms steps end the run as
    // soon as the last acknowledgement is in.
    let deadline = Instant::now() + FLUSH_TIMEOUT;
    while producer.flush(Duration::from_millis(1)).is_err() && Instant::now() < deadline {}
    let undelivered = u64::try_from(producer.in_flight_count().max(0)).unwrap_or(0);
    let mut txn_error = None;
    let transaction = args.transaction.as_ref().map(|t| {
        let failed_so_far =
            counts.failed.load(Ordering::Relaxed) + send_failed + parse_failed + undelivered;
        let stopped = stop.load(Ordering::Relaxed);
        let (outcome, err) = end_transaction(
            &producer,
            t,
            failed_so_far == 0 && !stopped,
            Duration::from_millis(t.timeout_ms),
        );
        txn_error = err.or_else(|| {
            (stopped && outcome != TxnOutcome::Unresolved)
                .then(|| "interrupted: the transaction was aborted".to_string())
        });
        (sanitize::escape(&t.transactional_id).into_owned(), outcome)
    });
    let seconds = started.elapsed().as_secs_f64();
    let failed_deliveries = counts.failed.load(Ordering::Relaxed);
    let failed = failed_deliveries + send_failed + parse_failed + undelivered;
    let first_error = first_parse_error
        .or(txn_error)
        .or_else(|| counts.first_error.lock().ok().and_then(|f| f.clone()))
        .or_else(|| {
            (undelivered > 0).then(|| {
                format!(
                    "{undelivered} message(s) still undelivered after {} s",
                    FLUSH_TIMEOUT.as_secs()
                )
            })
        });
    Ok(ProduceSummary {
        delivered: sent.saturating_sub(failed_deliveries + undelivered),
        failed,
        seconds,
        first_error,
        transaction,
    })
}

/// Commit (when `commit` and the transaction was asked to commit) or abort
/// the open transaction, after every message was acknowledged; says how
/// it ended and why, when not as asked.
fn end_transaction<C: ProducerContext>(
    producer: &BaseProducer<C>,
    t: &TxnSpec,
    all_delivered: bool,
    timeout: Duration,
) -> (TxnOutcome, Option<String>) {
    let fenced = |e: &KafkaError| {
        matches!(
            client::error_code(e),
            Some(
                RDKafkaErrorCode::Fenced
                    | RDKafkaErrorCode::ProducerFenced
                    | RDKafkaErrorCode::InvalidProducerEpoch
            )
        )
    };
    if t.commit && all_delivered {
        return match producer.commit_transaction(timeout) {
            Ok(()) => (TxnOutcome::Committed, None),
            Err(e) => {
                let why = classify_transaction("committing", &e).to_string();
                let abortable = matches!(&e, KafkaError::Transaction(x) if x.txn_requires_abort());
                if (abortable && producer.abort_transaction(timeout).is_ok()) || fenced(&e) {
                    (TxnOutcome::AbortedOnFailure, Some(why))
                } else {
                    (TxnOutcome::Unresolved, Some(why))
                }
            }
        };
    }
    match producer.abort_transaction(timeout) {
        Ok(()) if t.commit => (TxnOutcome::AbortedOnFailure, None),
        Ok(()) => (TxnOutcome::Aborted, None),
        Err(e) if fenced(&e) => (
            TxnOutcome::AbortedOnFailure,
            Some(classify_transaction("aborting", &e).to_string()),
        ),
        Err(e) => (
            TxnOutcome::Unresolved,
            Some(classify_transaction("aborting", &e).to_string()),
        ),
    }
}
