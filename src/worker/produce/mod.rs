//! Producing for the composer: one producer per option set (acks,
//! compression, idempotence), batches with progress and cancel, delivery
//! reports with partition, offset, timestamp and latency.
//!
//! The parts: [`source`] makes a batch's messages one at a time; [`send`]
//! sends a batch and counts its delivery reports; [`txn`] sends one in a
//! transaction.

mod send;
mod source;
mod txn;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, Producer};
use tokio_util::sync::CancellationToken;

use super::Inner;
use super::protocol::{BatchSource, ProduceProgress, ReqId, WorkerEvent};
use crate::kafka::client::{self, KtClient, KtContext};
use crate::model::{ProducerOptions, TxnSpec};
use crate::worker::error::WorkerError;

pub type KtProducer = KtClient<FutureProducer<KtContext>>;

/// Get or create the producer for an option set.
pub fn producer_for(
    inner: &Inner,
    options: ProducerOptions,
) -> Result<Arc<KtProducer>, WorkerError> {
    let mut map = inner
        .producers
        .lock()
        .map_err(|_| crate::werr!("producer registry poisoned"))?;
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
    .map_err(|e| WorkerError::internal(e.to_string()))?;
    let p = Arc::new(p);
    map.insert(options, Arc::clone(&p));
    Ok(p)
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

/// The worker's `ProduceBatch`: cancelled by `Cancel { id }` or shutdown.
pub(super) fn start_batch(
    inner: Arc<Inner>,
    id: ReqId,
    options: ProducerOptions,
    source: BatchSource,
) {
    let token = CancellationToken::new();
    if let Ok(mut c) = inner.cancels.lock() {
        c.insert(id, token.clone());
    }
    tokio::spawn(async move {
        send::run_batch(Arc::clone(&inner), id, options, source, token).await;
        if let Ok(mut c) = inner.cancels.lock() {
            c.remove(&id);
        }
    });
}

/// The worker's `ProduceTransaction`: known until it ends, so that a
/// cancel or the worker's shutdown aborts it rather than leaving it open.
pub(super) fn start_transaction(
    inner: Arc<Inner>,
    id: ReqId,
    options: ProducerOptions,
    source: BatchSource,
    txn: TxnSpec,
) {
    let token = CancellationToken::new();
    let t2 = token.clone();
    let i2 = Arc::clone(&inner);
    let task = tokio::spawn(async move {
        txn::run_transaction(Arc::clone(&i2), id, options, source, txn, t2).await;
        if let Ok(mut t) = i2.txns.lock() {
            t.remove(&id);
        }
    });
    if let Ok(mut t) = inner.txns.lock()
        && !task.is_finished()
    {
        t.insert(id, (token, task));
    }
}

/// The worker's `Flush`: how many messages were left undelivered.
pub(super) fn flush(inner: Arc<Inner>, id: ReqId, timeout_ms: u64) {
    super::reply(inner, move |i| async move {
        let undelivered = super::blocking(&i, move |inner| {
            Ok(flush_all(inner, Duration::from_millis(timeout_ms)))
        })
        .await
        .unwrap_or(0);
        WorkerEvent::Flushed { id, undelivered }
    });
}
