//! Sending a batch: every message of a source handed to the producer (with
//! room made when its queue is full), every delivery report counted, and
//! progress reported about every 100 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as RdHeader, OwnedHeaders};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

use super::source::{Source, TemplateSchemas, schemas_for};
use super::{new_progress, producer_for, report};
use crate::kafka::client::{KtContext, explain};
use crate::model::{Delivery, ProduceRequest, ProducerOptions};
use crate::worker::Inner;
use crate::worker::error::WorkerError;
use crate::worker::protocol::{BatchSource, ProduceProgress, ReqId};

/// Most messages awaiting a delivery report at once in one batch.
const MAX_PENDING: usize = 50_000;

/// How often progress is reported while sending.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// What a delivery future ends with: the report (or a closed producer),
/// when the message was handed over, and the CreateTime it was sent with.
type Sent = (
    Result<OwnedDeliveryResult, futures::channel::oneshot::Canceled>,
    Instant,
    i64,
);

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

/// Count one delivery report.
fn account(prog: &mut ProduceProgress, res: Sent, trust_append_time: bool) {
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
}

/// The record of a request, with an explicit CreateTime `sent_ts`.
fn record_of(req: &ProduceRequest, sent_ts: i64) -> FutureRecord<'_, [u8], [u8]> {
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
    record = record.timestamp(sent_ts);
    if let Some(h) = headers_of(req) {
        record = record.headers(h);
    }
    record
}

/// Send a batch, reporting progress about every 100 ms and when done.
pub(super) async fn run_batch(
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
            let batch = Batch {
                inner: &inner,
                id,
                producer: &producer,
                schemas: &schemas,
                cancel: &cancel,
                started,
            };
            batch.send_all(source, &mut prog).await;
        }
        Err(e) => {
            prog.failed = 1;
            prog.first_error = Some(e.to_string());
        }
    }
    report(&inner, id, &mut prog, started, true).await;
}

/// A batch being sent: the request it answers, the producer, the schemas
/// its messages are encoded with.
pub(super) struct Batch<'a> {
    pub(super) inner: &'a Inner,
    pub(super) id: ReqId,
    pub(super) producer: &'a FutureProducer<KtContext>,
    pub(super) schemas: &'a TemplateSchemas,
    pub(super) cancel: &'a CancellationToken,
    pub(super) started: Instant,
}

impl Batch<'_> {
    /// Send every message of `source` and wait for every delivery report,
    /// reporting progress about every 100 ms (not the final report).
    pub(super) async fn send_all(&self, mut source: Source, prog: &mut ProduceProgress) {
        let mut pending = FuturesUnordered::new();
        let mut last_report = Instant::now();
        let trust = !self.inner.profile.unsupported.log_append_time;
        'outer: while let Some(next) = source.next().await {
            if self.cancel.is_cancelled() {
                prog.first_error.get_or_insert_with(|| "cancelled".into());
                break;
            }
            let req = match next.and_then(|mut r| self.schemas.apply(&mut r).map(|()| r)) {
                Ok(r) => r,
                Err(e) => {
                    prog.failed += 1;
                    prog.first_error.get_or_insert(e.to_string());
                    continue;
                }
            };
            // Always an explicit CreateTime (what librdkafka would take at
            // this moment anyway), so the delivery report can show it.
            let sent_ts = req.timestamp.unwrap_or_else(crate::timeutil::now_ms);
            let mut record = record_of(&req, sent_ts);
            loop {
                let sent_at = Instant::now();
                match self.producer.send_result(record) {
                    Ok(fut) => {
                        prog.queued += 1;
                        pending.push(async move { (fut.await, sent_at, sent_ts) });
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        // Wait for some deliveries to make room.
                        match tokio::time::timeout(Duration::from_millis(50), pending.next()).await
                        {
                            Ok(Some(res)) => account(prog, res, trust),
                            _ if self.cancel.is_cancelled() => break 'outer,
                            _ => {}
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
                    account(prog, res, trust);
                }
            }
            // Collect what is ready without waiting.
            while let Some(Some(res)) = futures::FutureExt::now_or_never(pending.next()) {
                account(prog, res, trust);
            }
            self.report_now_and_then(prog, &mut last_report).await;
        }
        while let Some(res) = pending.next().await {
            account(prog, res, trust);
            self.report_now_and_then(prog, &mut last_report).await;
        }
    }

    async fn report_now_and_then(&self, prog: &mut ProduceProgress, last: &mut Instant) {
        if last.elapsed() >= REPORT_EVERY {
            *last = Instant::now();
            report(self.inner, self.id, prog, self.started, false).await;
        }
    }
}
