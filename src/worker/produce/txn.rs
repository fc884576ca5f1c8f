//! Sending a batch in one transaction: a producer of its own for the
//! `transactional.id`, begun, sent through, then committed or aborted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer;
use tokio_util::sync::CancellationToken;

use super::send::Batch;
use super::source::{Source, TemplateSchemas, schemas_for};
use super::{KtProducer, new_progress, report};
use crate::kafka::client::{self, KtContext};
use crate::model::{ProducerOptions, TxnOutcome, TxnSpec};
use crate::worker::error::{WorkerError, classify_transaction};
use crate::worker::protocol::{BatchSource, ProduceProgress, ReqId, WorkerEvent};
use crate::worker::{Inner, blocking};

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
pub(super) async fn run_transaction(
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

/// The batch failed: the first error is kept.
fn fail(prog: &mut ProduceProgress, e: String) {
    prog.failed = prog.failed.max(1);
    prog.first_error.get_or_insert(e);
}

/// What a begun transaction sends, the schemas it encodes with, and the
/// producer it runs on.
type Begun = (Source, TemplateSchemas, Arc<KtProducer>);

/// Open the source, fetch its schemas, make the producer and begin the
/// transaction; nothing is sent yet.
async fn begin(
    inner: &Arc<Inner>,
    options: ProducerOptions,
    source: BatchSource,
    txn: &TxnSpec,
) -> Result<Begun, WorkerError> {
    let timeout = Duration::from_millis(txn.timeout_ms);
    crate::model::check_transactional_id(&txn.transactional_id)
        .map_err(|e| WorkerError::internal(e.to_string()))?;
    let source = Source::open(source)?;
    let schemas = schemas_for(inner, &source).await?;
    let spec = txn.clone();
    let producer = blocking(inner, move |inner| {
        let p = transactional_producer(inner, options, &spec)?;
        p.init_transactions(timeout)
            .map_err(|e| classify_transaction("starting the transaction", &e))?;
        p.begin_transaction()
            .map_err(|e| classify_transaction("beginning the transaction", &e))?;
        Ok(Arc::new(p))
    })
    .await?;
    Ok((source, schemas, producer))
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
    let (source, schemas, producer) = match begin(inner, options, source, txn).await {
        Ok(b) => b,
        Err(e) => {
            fail(prog, e.to_string());
            return TxnOutcome::NotStarted;
        }
    };
    let batch = Batch {
        inner,
        id,
        producer: &producer,
        schemas: &schemas,
        cancel,
        started,
    };
    batch.send_all(source, prog).await;
    // Fenced, the producer is in a fatal state and refuses the messages
    // after it with a local "Erroneous state", which may come first: the
    // fencing is the cause, and what the report says.
    if let Some(words) = producer
        .client()
        .fatal_error()
        .filter(|(code, _)| is_fenced_code(*code))
        .and_then(|(code, _)| crate::worker::error::transaction_words(code))
    {
        prog.first_error = Some(words.to_string());
    }
    let commit = txn.commit && prog.failed == 0 && !cancel.is_cancelled();
    if cancel.is_cancelled() {
        prog.first_error
            .get_or_insert_with(|| "cancelled: the transaction was aborted".into());
    }
    let timeout = Duration::from_millis(txn.timeout_ms);
    let p = Arc::clone(&producer);
    let ended = blocking(inner, move |_| Ok(end(&p, commit, timeout))).await;
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

/// Commit (or abort) the transaction (blocking): how it ended, or how it
/// ended and why it failed.
fn end(
    p: &KtProducer,
    commit: bool,
    timeout: Duration,
) -> Result<TxnOutcome, (TxnOutcome, WorkerError)> {
    if commit {
        match p.commit_transaction(timeout) {
            Ok(()) => Ok(TxnOutcome::Committed),
            Err(e) => {
                let why = classify_transaction("committing", &e);
                // An abortable error (a failed message) ends in an
                // abort; fenced, the newer producer aborted it; any
                // other leaves it to the coordinator's timeout.
                let abortable = matches!(&e, KafkaError::Transaction(t) if t.txn_requires_abort());
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
    }
}

/// Fenced by a newer producer with the same `transactional.id`: its
/// initialisation aborted this transaction.
fn is_fenced(e: &KafkaError) -> bool {
    client::error_code(e).is_some_and(is_fenced_code)
}

fn is_fenced_code(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Fenced
            | RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
    )
}
