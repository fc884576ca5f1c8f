//! Reading the records at committed offsets: one throwaway consumer per
//! call, every partition assigned once at the lowest offset asked of it and
//! read forward, so any number of groups at different offsets of one
//! partition cost one pass (a long gap between two asked offsets is
//! skipped with a seek). A partition is paused only once every offset
//! asked of it is answered, and never assigned again, so nothing is left
//! paused for a later round; the call returns as soon as every offset is
//! answered. An offset that cannot be read gets the reason, from the
//! partition's watermarks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;

use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::model::TopicPartition;
use crate::worker::Inner;
use crate::worker::error::{WorkerError, classify};
use crate::worker::offsets::{self, Watermarks};

/// What the probe learnt of one committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The first record at or after the offset was read: its timestamp
    /// (`None` for a record without one).
    Read(Option<i64>),
    /// No record can be read there; why, in plain words. `lasting` says the
    /// reason holds until the committed offset moves (the records were
    /// deleted), so it need not be asked again.
    Unreadable { reason: String, lasting: bool },
}

/// Offsets further apart than this on one partition are reached with a
/// seek rather than by reading the records between them.
const SEEK_GAP: i64 = 64;

/// What to do with a partition after one of its records arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Every offset asked of it is answered: pause it.
    Pause,
    /// The next asked offset is far ahead: seek there.
    Seek(i64),
    /// Keep reading forward.
    Read,
}

/// The offsets still asked per partition and the answers so far (pure).
#[derive(Debug, Default)]
pub(super) struct Plan {
    asked: BTreeMap<TopicPartition, BTreeSet<i64>>,
    answers: BTreeMap<(TopicPartition, i64), Answer>,
    /// Answered by a record after the offset (a gap: compacted away,
    /// transaction markers, or deleted by retention, which the watermarks
    /// tell apart).
    gaps: BTreeSet<(TopicPartition, i64)>,
    /// Partitions whose end was reached with offsets still asked.
    ended: BTreeSet<TopicPartition>,
    /// The offset each partition was last told to seek to, so records
    /// fetched before the seek took effect do not start it again.
    seeking: HashMap<TopicPartition, i64>,
}

impl Plan {
    pub(super) fn new(at: &[(TopicPartition, i64)]) -> Self {
        let mut asked: BTreeMap<TopicPartition, BTreeSet<i64>> = BTreeMap::new();
        for (tp, o) in at {
            asked.entry(tp.clone()).or_default().insert(*o);
        }
        Self {
            asked,
            ..Self::default()
        }
    }

    /// Where each partition starts: its lowest asked offset.
    pub(super) fn starts(&self) -> Vec<(TopicPartition, i64)> {
        self.asked
            .iter()
            .filter_map(|(tp, os)| os.first().map(|o| (tp.clone(), *o)))
            .collect()
    }

    pub(super) fn done(&self) -> bool {
        self.asked.is_empty()
    }

    /// Partitions with offsets still asked.
    pub(super) fn open(&self) -> impl Iterator<Item = &TopicPartition> {
        self.asked.keys()
    }

    /// A record at `offset` of `tp` arrived: it answers every asked offset
    /// at or before it (the first record at or after each).
    pub(super) fn record(&mut self, tp: &TopicPartition, offset: i64, ts: Option<i64>) -> Next {
        let Some(os) = self.asked.get_mut(tp) else {
            // Already answered; its pause has not taken effect yet.
            return Next::Pause;
        };
        let below: Vec<i64> = os.range(..=offset).copied().collect();
        for o in below {
            os.remove(&o);
            if o < offset {
                self.gaps.insert((tp.clone(), o));
            }
            self.answers.insert((tp.clone(), o), Answer::Read(ts));
        }
        match os.first().copied() {
            None => {
                self.asked.remove(tp);
                Next::Pause
            }
            Some(next) if next - offset > SEEK_GAP => {
                if self.seeking.insert(tp.clone(), next) == Some(next) {
                    Next::Read
                } else {
                    Next::Seek(next)
                }
            }
            Some(_) => Next::Read,
        }
    }

    /// The end of `tp`'s log was reached with offsets still asked: no
    /// record follows them (until one is written).
    pub(super) fn end_reached(&mut self, tp: &TopicPartition) {
        if self.asked.remove(tp).is_some() {
            self.ended.insert(tp.clone());
        }
    }

    /// Partitions whose answers the watermarks must settle: a gap, an end
    /// reached, or not read at all.
    pub(super) fn to_check(&self) -> Vec<TopicPartition> {
        let mut parts: BTreeSet<TopicPartition> =
            self.gaps.iter().map(|(tp, _)| tp.clone()).collect();
        parts.extend(self.ended.iter().cloned());
        parts.extend(self.asked.keys().cloned());
        parts.into_iter().collect()
    }

    /// Every asked offset's answer. `marks` are the watermarks of
    /// [`Plan::to_check`]'s partitions (or why they are unknown); `unread`
    /// is said of an offset that nothing answered.
    pub(super) fn finish(
        mut self,
        at: &[(TopicPartition, i64)],
        marks: &Result<Watermarks, WorkerError>,
        unread: &str,
    ) -> BTreeMap<(TopicPartition, i64), Answer> {
        for (tp, o) in at {
            let key = (tp.clone(), *o);
            let answered = self.answers.contains_key(&key);
            let gap = self.gaps.contains(&key);
            if answered && !gap {
                continue;
            }
            let ended = self.ended.contains(tp);
            let mark = match marks {
                Ok(m) => m
                    .get(tp)
                    .map(|(l, h)| (l.as_ref().ok().copied(), h.as_ref().ok().copied())),
                Err(_) => None,
            };
            let verdict = match mark {
                Some((Some(low), _)) if *o < low => Some(Answer::Unreadable {
                    reason: format!(
                        "the record at offset {o} was deleted (the log starts at {low} now); \
                         the group will start where its auto.offset.reset says"
                    ),
                    lasting: true,
                }),
                Some((_, Some(high))) if *o >= high => Some(Answer::Unreadable {
                    reason: format!(
                        "offset {o} is at or past the readable end of the log ({high})"
                    ),
                    lasting: false,
                }),
                // At or after the log start: the later record is the next
                // one the group reads (compacted away or a transaction
                // marker between).
                Some((Some(_), _)) if gap => None,
                _ if gap => Some(Answer::Unreadable {
                    reason: format!(
                        "the first record read after offset {o} was later, and the log start \
                         could not be read to tell whether offset {o} was deleted{}",
                        marks
                            .as_ref()
                            .err()
                            .map(|e| format!(" ({})", e.message))
                            .unwrap_or_default()
                    ),
                    lasting: false,
                }),
                _ if ended => Some(Answer::Unreadable {
                    reason: format!(
                        "no readable record from offset {o} to the log end (only transaction \
                         markers, aborted records or records held by an open transaction)"
                    ),
                    lasting: false,
                }),
                _ => Some(Answer::Unreadable {
                    reason: unread.to_string(),
                    lasting: false,
                }),
            };
            if let Some(v) = verdict {
                self.answers.insert(key, v);
            }
        }
        self.answers
    }
}

/// What each `(partition, offset)` reads (blocking; a throwaway consumer
/// that assigns, never subscribes or commits): the timestamp of the first
/// record at or after the offset, or why there is none. Returns as soon as
/// every offset is answered, and at `timeout` at the latest.
pub fn record_timestamps(
    inner: &Inner,
    at: &[(TopicPartition, i64)],
    timeout: Duration,
) -> Result<BTreeMap<(TopicPartition, i64), Answer>, WorkerError> {
    if at.is_empty() {
        return Ok(BTreeMap::new());
    }
    let deadline = Instant::now() + timeout;
    let consumer = probe_consumer(inner)?;
    let mut plan = Plan::new(at);
    let starts = plan.starts();
    let tpl = offsets::tpl_with(
        starts
            .iter()
            .map(|(tp, o)| (tp.topic.as_str(), tp.partition, Offset::Offset(*o))),
    )?;
    consumer.assign(&tpl).map_err(|e| classify(&e))?;
    read(&consumer, &mut plan, &starts, deadline);
    let check = plan.to_check();
    let marks = if check.is_empty() {
        Ok(Watermarks::new())
    } else {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        offsets::watermarks(&consumer, &check, left)
    };
    let unread = format!(
        "no record at the offset was read within {} s",
        timeout.as_secs_f64()
    );
    let _ = consumer.unassign();
    Ok(plan.finish(at, &marks, &unread))
}

fn probe_consumer(inner: &Inner) -> Result<KtClient<BaseConsumer<KtContext>>, WorkerError> {
    let group = format!("kafkaterm-probe-{}", std::process::id());
    let cfg = client::client_config(
        &inner.profile,
        "probe",
        &[
            ("fetch.wait.max.ms", "100"),
            // A few records per partition are all we want: small fetches.
            ("fetch.message.max.bytes", "4096"),
            ("queued.max.messages.kbytes", "1024"),
        ],
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            // To stop waiting on a partition with nothing more to read.
            ("enable.partition.eof", "true"),
        ],
    );
    client::create(&cfg, KtContext::default()).map_err(|e| crate::werr!("{e}"))
}

/// Poll until every offset is answered or the deadline passes.
fn read(
    consumer: &BaseConsumer<KtContext>,
    plan: &mut Plan,
    starts: &[(TopicPartition, i64)],
    deadline: Instant,
) {
    use rdkafka::Message as _;
    // The end-of-partition event names the partition but not the topic:
    // it is taken only for a partition number no other assigned topic has.
    let mut numbers: HashMap<i32, usize> = HashMap::new();
    for (tp, _) in starts {
        *numbers.entry(tp.partition).or_default() += 1;
    }
    let unique: HashSet<i32> = numbers
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(p, _)| p)
        .collect();
    while !plan.done() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match consumer.poll(left.min(Duration::from_millis(100))) {
            Some(Ok(m)) => {
                let tp = TopicPartition::new(m.topic(), m.partition());
                let ts = crate::kafka::message::timestamp_of(&m).0;
                match plan.record(&tp, m.offset(), ts) {
                    Next::Pause => pause(consumer, &tp),
                    Next::Seek(o) => {
                        // Zero timeout: the seek is only started; records
                        // already fetched before it are below `o` and
                        // answer nothing.
                        if let Err(e) = consumer.seek(
                            &tp.topic,
                            tp.partition,
                            Offset::Offset(o),
                            Duration::ZERO,
                        ) {
                            tracing::debug!("probe seek: {}", explain(&e));
                        }
                    }
                    Next::Read => {}
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) if unique.contains(&p) => {
                let tp = plan.open().find(|tp| tp.partition == p).cloned();
                if let Some(tp) = tp {
                    plan.end_reached(&tp);
                    pause(consumer, &tp);
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) => {}
            Some(Err(e)) => tracing::debug!("reading records: {}", explain(&e)),
            None => {}
        }
    }
}

fn pause(consumer: &BaseConsumer<KtContext>, tp: &TopicPartition) {
    if let Ok(one) = offsets::tpl_with(std::iter::once((
        tp.topic.as_str(),
        tp.partition,
        Offset::Invalid,
    ))) {
        let _ = consumer.pause(&one);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn marks(parts: &[(i32, i64, i64)]) -> Result<Watermarks, WorkerError> {
        Ok(parts
            .iter()
            .map(|(p, l, h)| (tp(*p), (Ok(*l), Ok(*h))))
            .collect())
    }

    #[test]
    fn one_pass_answers_every_offset_of_a_partition_in_order() {
        // Three groups at 1, 5 and 7 of one partition: one start, at 1.
        let at = vec![(tp(0), 5), (tp(0), 1), (tp(0), 7)];
        let mut plan = Plan::new(&at);
        assert_eq!(plan.starts(), vec![(tp(0), 1)]);
        assert_eq!(plan.record(&tp(0), 1, Some(10)), Next::Read);
        assert_eq!(plan.record(&tp(0), 2, Some(20)), Next::Read);
        assert_eq!(plan.record(&tp(0), 5, Some(50)), Next::Read);
        assert!(!plan.done());
        // Paused only once the last one is answered.
        assert_eq!(plan.record(&tp(0), 7, Some(70)), Next::Pause);
        assert!(plan.done());
        let out = plan.finish(&at, &marks(&[]), "unread");
        assert_eq!(out[&(tp(0), 1)], Answer::Read(Some(10)));
        assert_eq!(out[&(tp(0), 5)], Answer::Read(Some(50)));
        assert_eq!(out[&(tp(0), 7)], Answer::Read(Some(70)));
    }

    #[test]
    fn a_far_offset_is_reached_with_a_seek_and_late_records_answer_nothing() {
        let at = vec![(tp(0), 1), (tp(0), 10_000)];
        let mut plan = Plan::new(&at);
        assert_eq!(plan.record(&tp(0), 1, Some(1)), Next::Seek(10_000));
        // A record fetched before the seek took effect.
        assert_eq!(plan.record(&tp(0), 2, Some(2)), Next::Read);
        assert_eq!(plan.record(&tp(0), 10_000, Some(9)), Next::Pause);
        assert!(plan.to_check().is_empty());
        let out = plan.finish(&at, &marks(&[]), "unread");
        assert_eq!(out[&(tp(0), 10_000)], Answer::Read(Some(9)));
    }

    #[test]
    fn a_gap_is_the_next_record_unless_the_offset_was_deleted() {
        // Offset 3 of partition 0 was deleted (log starts at 5); offset 8
        // of partition 1 is a transaction marker, the next record is at 9.
        let at = vec![(tp(0), 3), (tp(1), 8)];
        let mut plan = Plan::new(&at);
        assert_eq!(plan.record(&tp(0), 5, Some(50)), Next::Pause);
        assert_eq!(plan.record(&tp(1), 9, Some(90)), Next::Pause);
        assert_eq!(plan.to_check(), vec![tp(0), tp(1)]);
        let out = plan.finish(&at, &marks(&[(0, 5, 10), (1, 0, 10)]), "unread");
        let Answer::Unreadable { reason, lasting } = &out[&(tp(0), 3)] else {
            panic!("{out:?}");
        };
        assert!(
            reason.contains("deleted (the log starts at 5 now)"),
            "{reason}"
        );
        assert!(*lasting);
        assert_eq!(out[&(tp(1), 8)], Answer::Read(Some(90)));
    }

    #[test]
    fn a_gap_without_watermarks_is_not_trusted() {
        let at = vec![(tp(0), 3)];
        let mut plan = Plan::new(&at);
        plan.record(&tp(0), 5, Some(50));
        let out = plan.finish(
            &at,
            &Err(WorkerError::timeout("watermarks timed out")),
            "unread",
        );
        let Answer::Unreadable { reason, lasting } = &out[&(tp(0), 3)] else {
            panic!("{out:?}");
        };
        assert!(reason.contains("watermarks timed out"), "{reason}");
        assert!(!lasting);
    }

    #[test]
    fn unanswered_offsets_get_the_reason_the_watermarks_give() {
        let at = vec![(tp(0), 3), (tp(1), 12), (tp(2), 4), (tp(3), 4)];
        let mut plan = Plan::new(&at);
        plan.end_reached(&tp(2));
        let out = plan.finish(
            &at,
            &marks(&[(0, 0, 10), (1, 0, 10), (2, 0, 10), (3, 6, 10)]),
            "not read in time",
        );
        let reason = |p| match &out[&(tp(p), at.iter().find(|x| x.0 == tp(p)).unwrap().1)] {
            Answer::Unreadable { reason, .. } => reason.clone(),
            a => panic!("{a:?}"),
        };
        assert_eq!(reason(0), "not read in time");
        assert!(
            reason(1).contains("past the readable end of the log (10)"),
            "{}",
            reason(1)
        );
        assert!(
            reason(2).contains("no readable record from offset 4"),
            "{}",
            reason(2)
        );
        assert!(reason(3).contains("deleted"), "{}", reason(3));
    }
}
