//! The reading loop of a copy: batches straight from librdkafka's buffers,
//! each message read once, selected by range, skips and filter, and handed
//! to the producer with its key, value and headers byte for byte.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use smallvec::SmallVec;

use super::plan::{self, Part};
use super::send::{CopyProducer, Tracker};
use crate::filter::{Filter, MsgView};
use crate::kafka::client::{KtContext, explain};
use crate::kafka::message::{FetchQueue, MessageView, TopicProducer, for_each_header, header_name};
use crate::worker::error::{WorkerError, classify};
use crate::worker::offsets;
use crate::worker::protocol::{CopyOutcome, CopyProgress, CopySpec, SOURCE_HEADER};

/// Messages taken from the source at a time.
const BATCH: usize = 1024;
/// How long one wait for messages may block.
const WAIT: Duration = Duration::from_millis(100);
/// Progress reports at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A consumed message's headers as raw names and values, in order.
type RawHeaders<'m> = SmallVec<[(&'m [u8], Option<&'m [u8]>); 8]>;
/// The same with names as the filter sees them.
type NamedHeaders<'m> = SmallVec<[(Cow<'m, str>, Option<&'m [u8]>); 4]>;

/// Milliseconds since `started`.
pub(super) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A copy under way: the partitions it reads, what it has counted, and
/// where it sends (nowhere for a dry run).
pub(super) struct Copier<'a> {
    spec: &'a CopySpec,
    filter: Option<&'a Filter>,
    pub(super) parts: Vec<Part>,
    pub(super) prog: CopyProgress,
    tracker: &'a Mutex<Tracker>,
    out: Option<(TopicProducer<'a>, &'a CopyProducer)>,
    /// The value of the source header, reused.
    label: String,
    last_read_error: Option<(Instant, String)>,
    /// Why a send was refused at once (reading stops).
    failed_send: Option<String>,
}

impl<'a> Copier<'a> {
    pub(super) fn new(
        spec: &'a CopySpec,
        filter: Option<&'a Filter>,
        parts: Vec<Part>,
        tracker: &'a Mutex<Tracker>,
        out: Option<(TopicProducer<'a>, &'a CopyProducer)>,
    ) -> Self {
        let prog = CopyProgress {
            total: plan::total(&parts),
            ..CopyProgress::default()
        };
        Self {
            spec,
            filter,
            parts,
            prog,
            tracker,
            out,
            label: String::new(),
            last_read_error: None,
            failed_send: None,
        }
    }

    fn count_reached(&self) -> bool {
        self.spec.count.is_some_and(|c| self.prog.selected >= c)
    }

    /// Read every partition to its end (or until stopped, the count is
    /// reached, or a message fails) and send what is selected.
    pub(super) fn read_all(
        &mut self,
        consumer: &BaseConsumer<KtContext>,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(&CopyProgress),
        started: Instant,
    ) -> Result<CopyOutcome, WorkerError> {
        let reading: Vec<(i32, i64)> = self
            .parts
            .iter()
            .filter(|p| !p.done)
            .map(|p| (p.id, p.next))
            .collect();
        if reading.is_empty() {
            return Ok(CopyOutcome::Complete);
        }
        let source = self.spec.source.as_str();
        let tpl = offsets::tpl_with(
            reading
                .iter()
                .map(|(p, o)| (source, *p, Offset::Offset(*o))),
        )?;
        let mut queue = FetchQueue::new(consumer, source, reading.iter().map(|p| p.0), BATCH)
            .map_err(WorkerError::internal)?;
        consumer.assign(&tpl).map_err(|e| classify(&e))?;
        let mut last_report = Instant::now();
        loop {
            if stop() {
                return Ok(CopyOutcome::Cancelled);
            }
            if let Ok(t) = self.tracker.lock() {
                if t.failed > 0 {
                    return Ok(CopyOutcome::Failed(
                        t.first_error.clone().unwrap_or_default(),
                    ));
                }
                self.prog.confirmed = t.confirmed;
            }
            if self.parts.iter().all(|p| p.done) || self.count_reached() {
                return Ok(CopyOutcome::Complete);
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                self.prog.elapsed_ms = elapsed_ms(started);
                progress(&self.prog);
                last_report = Instant::now();
            }
            // Client errors and logs live on the consumer's own queue.
            match consumer.poll(Duration::ZERO) {
                Some(Err(e)) if !matches!(e, KafkaError::PartitionEOF(_)) => {
                    note_read_error(&mut self.last_read_error, &explain(&e));
                }
                _ => {}
            }
            if let Some((_, p)) = &self.out {
                p.poll(Duration::ZERO);
            }
            let mut batch = queue.poll_batch(WAIT);
            batch.drain(|msg| self.take(msg, stop));
            drop(batch);
            if let Some(e) = self.failed_send.take() {
                return Ok(CopyOutcome::Failed(e));
            }
        }
    }

    /// Take one message of a batch: read it, and send it when selected.
    /// `false` stops the batch.
    fn take(&mut self, msg: MessageView<'_>, stop: &dyn Fn() -> bool) -> bool {
        if self.count_reached() {
            return false;
        }
        let Ok(idx) = self.parts.binary_search_by_key(&msg.partition(), |p| p.id) else {
            return true;
        };
        let part = &mut self.parts[idx];
        if let Some(err) = msg.error() {
            let code = RDKafkaErrorCode::from(err);
            if code == RDKafkaErrorCode::PartitionEOF {
                part.done = true;
            } else {
                note_read_error(
                    &mut self.last_read_error,
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
        self.prog.read += 1;
        if part.skips(offset) || !matches_filter(self.filter, &self.spec.source, msg) {
            return true;
        }
        self.prog.selected += 1;
        if self.out.is_none() {
            return true;
        }
        self.send(idx, msg, stop)
    }

    /// Send a selected message, waiting for room in the producer's queue.
    /// A message not sent (stopped, or refused at once) is not read either:
    /// a resume reads it again. `false` stops the batch.
    fn send(&mut self, idx: usize, msg: MessageView<'_>, stop: &dyn Fn() -> bool) -> bool {
        let Some((sender, producer)) = &self.out else {
            return true;
        };
        let spec = self.spec;
        let id = self.parts[idx].id;
        let offset = msg.offset();
        let mut headers: RawHeaders<'_> = SmallVec::new();
        for_each_header(msg, |n, v| headers.push((n, v)));
        if spec.source_header {
            source_label(&mut self.label, &spec.source, id, offset);
            headers.push((SOURCE_HEADER.as_bytes(), Some(self.label.as_bytes())));
        }
        let timestamp = if spec.keep_timestamps {
            msg.timestamp().0
        } else {
            None
        };
        let partition = spec.keep_partitions.then_some(id);
        let opaque = match self.tracker.lock() {
            Ok(mut t) => t.sending(idx, offset),
            Err(_) => return false,
        };
        let refused = loop {
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
                        break None;
                    }
                }
                Err(code) => break Some(explain(&KafkaError::MessageProduction(code))),
            }
        };
        if let Ok(mut t) = self.tracker.lock() {
            t.unsend(idx);
        }
        self.parts[idx].next = offset;
        self.prog.selected -= 1;
        self.failed_send = refused;
        false
    }
}

/// `topic/partition@offset`, the value of [`SOURCE_HEADER`].
pub fn source_label(out: &mut String, topic: &str, partition: i32, offset: i64) {
    out.clear();
    let _ = write!(out, "{topic}/{partition}@{offset}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_label_names_topic_partition_and_offset() {
        let mut s = String::from("old");
        source_label(&mut s, "dlq", 3, 42);
        assert_eq!(s, "dlq/3@42");
    }
}
