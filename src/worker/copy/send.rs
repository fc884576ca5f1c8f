//! The sending side of a copy: the producer, and the tracker that follows
//! every message sent until its delivery report.
//!
//! Per source partition a queue of the messages in flight, in source order.
//! The confirmed prefix of that queue is forgotten as it is acknowledged, so
//! what is left says exactly which messages a resume must copy again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::bindings as rd;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext, PurgeConfig};

use super::super::error::WorkerError;
use super::super::protocol::CopySpec;
use crate::config::ClusterProfile;
use crate::kafka::client::{self, KtClient, KtContext, explain};

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

/// The state of one message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    InFlight,
    Confirmed,
    Failed,
}

/// One source partition's messages in flight, in source order.
#[derive(Debug, Default)]
pub(super) struct Flight {
    /// (source offset, state); the front is the oldest not yet forgotten.
    pub(super) slots: VecDeque<(i64, Slot)>,
    /// Sequence number (within the partition) of `slots[0]`.
    base: u64,
    /// Sequence number of the next message sent.
    next_seq: u64,
}

/// What delivery reports have told so far.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    pub(super) flights: Vec<Flight>,
    pub(super) confirmed: u64,
    pub(super) failed: u64,
    pub(super) uncertain: u64,
    pub(super) first_error: Option<String>,
}

/// Bits of the delivery opaque that carry the sequence number; the rest
/// carry the partition's index.
const SEQ_BITS: u32 = 40;

impl Tracker {
    /// A tracker for `partitions` source partitions, nothing sent yet.
    pub(super) fn new(partitions: usize) -> Self {
        Self {
            flights: (0..partitions).map(|_| Flight::default()).collect(),
            ..Self::default()
        }
    }

    /// A message of partition index `idx` at `offset` is about to be sent:
    /// its opaque.
    pub(super) fn sending(&mut self, idx: usize, offset: i64) -> usize {
        let f = &mut self.flights[idx];
        let seq = f.next_seq;
        f.next_seq += 1;
        f.slots.push_back((offset, Slot::InFlight));
        (idx << SEQ_BITS) | usize::try_from(seq & ((1 << SEQ_BITS) - 1)).unwrap_or(0)
    }

    /// The send of the message just registered failed at once.
    pub(super) fn unsend(&mut self, idx: usize) {
        let f = &mut self.flights[idx];
        f.slots.pop_back();
        f.next_seq -= 1;
    }

    pub(super) fn delivered(&mut self, opaque: usize, ok: bool) {
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

    pub(super) fn in_flight(&self) -> bool {
        self.flights
            .iter()
            .any(|f| f.slots.iter().any(|s| s.1 == Slot::InFlight))
    }
}

/// The producer's context: delivery reports go to the tracker.
pub(super) struct CopyContext(Arc<Mutex<Tracker>>);

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

/// The copy's producer: idempotent, every message acknowledged by all
/// replicas, each delivery reported to `tracker`.
pub(super) type CopyProducer = KtClient<BaseProducer<CopyContext>>;

/// The producer a copy sends with (`None` for a dry run).
pub(super) fn new_producer(
    profile: &ClusterProfile,
    spec: &CopySpec,
    tracker: &Arc<Mutex<Tracker>>,
) -> Result<Option<CopyProducer>, WorkerError> {
    if spec.dry_run {
        return Ok(None);
    }
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
    client::create(&cfg, CopyContext(Arc::clone(tracker)))
        .map(Some)
        .map_err(|e| crate::werr!("{e:#}"))
}

fn in_flight(tracker: &Mutex<Tracker>) -> bool {
    tracker.lock().map(|t| t.in_flight()).unwrap_or(false)
}

/// Wait for what is in flight, so the counts are exact; after
/// [`FLUSH_TIMEOUT`] give up on it (purged messages come back as failures).
pub(super) fn settle(producer: &CopyProducer, tracker: &Mutex<Tracker>) {
    let deadline = Instant::now() + FLUSH_TIMEOUT;
    loop {
        producer.poll(Duration::from_millis(1));
        if !in_flight(tracker) {
            return;
        }
        if Instant::now() >= deadline {
            producer.purge(PurgeConfig::default().queue().inflight());
            let end = Instant::now() + Duration::from_secs(5);
            while in_flight(tracker) && Instant::now() < end {
                producer.poll(Duration::from_millis(10));
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracker_forgets_the_confirmed_prefix_and_keeps_what_follows_a_failure() {
        let mut t = Tracker::new(2);
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
        let offsets: Vec<(i64, Slot)> = t.flights[0].slots.iter().copied().collect();
        assert_eq!(
            offsets,
            vec![
                (11, Slot::Failed),
                (12, Slot::Confirmed),
                (13, Slot::Confirmed),
                (14, Slot::Confirmed)
            ]
        );
    }

    #[test]
    fn an_unsent_message_leaves_no_trace() {
        let mut t = Tracker::new(1);
        let a = t.sending(0, 1);
        t.sending(0, 2);
        t.unsend(0);
        let c = t.sending(0, 2);
        t.delivered(a, true);
        t.delivered(c, true);
        assert!(t.flights[0].slots.is_empty());
        assert_eq!(t.confirmed, 2);
    }
}
