//! Lag in time: how long ago the next record a group will read was written.
//!
//! For each lagging partition the worker reads the one record at the
//! group's committed offset (a throwaway consumer that assigns, never
//! subscribes or commits) and takes its timestamp; the lag in time is the
//! snapshot's time minus that timestamp. Readings are kept per group and
//! partition, so a partition whose committed offset did not move costs
//! nothing on the next refresh. At most [`PROBE_BUDGET`] records are read
//! per refresh (the partitions never read first, then the oldest readings):
//! a partition left out keeps its last reading, measured from an older
//! record, which can only overstate the lag (marked as an estimate).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::Inner;
use super::offsets;
use crate::kafka::client::{self, KtClient, KtContext, explain};
use crate::model::{GroupSnapshot, TopicPartition};
use crate::worker::error::{WorkerError, classify};

/// Records read per refresh, at most.
pub const PROBE_BUDGET: usize = 500;
/// How long one round of reads may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The record at a committed offset, as last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The committed offset the record was read at.
    pub offset: i64,
    /// The record's timestamp; `None` for a record without one.
    pub timestamp: Option<i64>,
    /// When it was read, ms since the epoch.
    pub read_at_ms: i64,
}

/// Readings per group and partition.
#[derive(Debug, Default)]
pub struct LagTimes {
    readings: Mutex<HashMap<(String, TopicPartition), Reading>>,
}

/// Which `(partition, committed offset)` pairs to read now: lagging
/// partitions whose reading is missing or at another offset, never-read
/// ones first, then the oldest readings, at most `budget` distinct pairs.
#[must_use]
pub fn wanted(
    groups: &[GroupSnapshot],
    readings: &HashMap<(String, TopicPartition), Reading>,
    budget: usize,
) -> Vec<(TopicPartition, i64)> {
    // (age key, pair): i64::MIN for never read, else when it was read.
    let mut candidates: Vec<(i64, TopicPartition, i64)> = Vec::new();
    for g in groups {
        for p in &g.partitions {
            let (Some(committed), Some(lag)) = (p.committed, p.lag) else {
                continue;
            };
            if lag <= 0 {
                continue;
            }
            let tp = TopicPartition::new(&p.topic, p.partition);
            match readings.get(&(g.group.clone(), tp.clone())) {
                Some(r) if r.offset == committed => {}
                Some(r) => candidates.push((r.read_at_ms, tp, committed)),
                None => candidates.push((i64::MIN, tp, committed)),
            }
        }
    }
    candidates.sort();
    let mut seen = BTreeSet::new();
    candidates
        .into_iter()
        .filter(|(_, tp, o)| seen.insert((tp.clone(), *o)))
        .take(budget)
        .map(|(_, tp, o)| (tp, o))
        .collect()
}

/// Set each partition's lag in time from the readings (pure): 0 when
/// caught up; measured from the reading at the committed offset, or from
/// an older one as an estimate; `None` without a reading or a timestamp.
pub fn apply(groups: &mut [GroupSnapshot], readings: &HashMap<(String, TopicPartition), Reading>) {
    for g in groups {
        let at = g.at_ms;
        for p in &mut g.partitions {
            p.lag_ms = None;
            p.lag_ms_estimated = false;
            match (p.lag, p.committed) {
                (Some(0), _) => p.lag_ms = Some(0),
                (Some(_), Some(committed)) => {
                    let key = (g.group.clone(), TopicPartition::new(&p.topic, p.partition));
                    if let Some(r) = readings.get(&key)
                        && let Some(ts) = r.timestamp.filter(|t| *t >= 0)
                    {
                        p.lag_ms = Some((at - ts).max(0));
                        p.lag_ms_estimated = r.offset != committed;
                    }
                }
                _ => {}
            }
        }
    }
}

impl LagTimes {
    /// Read what is missing and set every lagging partition's lag in time
    /// (blocking). `whole` says the snapshots are every group, so readings
    /// of groups and partitions no longer present are dropped.
    pub fn fill(&self, inner: &Inner, groups: &mut [GroupSnapshot], whole: bool) {
        let Ok(mut readings) = self.readings.lock() else {
            return;
        };
        let want = wanted(groups, &readings, PROBE_BUDGET);
        if !want.is_empty() {
            match record_timestamps(inner, &want, PROBE_TIMEOUT) {
                Ok(found) => {
                    let now = crate::timeutil::now_ms();
                    for g in groups.iter() {
                        for p in &g.partitions {
                            let tp = TopicPartition::new(&p.topic, p.partition);
                            let Some(c) = p.committed else { continue };
                            if let Some(ts) = found.get(&(tp.clone(), c)) {
                                readings.insert(
                                    (g.group.clone(), tp),
                                    Reading {
                                        offset: c,
                                        timestamp: *ts,
                                        read_at_ms: now,
                                    },
                                );
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!("reading records at committed offsets: {e}"),
            }
        }
        let present: BTreeSet<(&str, TopicPartition)> = groups
            .iter()
            .flat_map(|g| {
                g.partitions
                    .iter()
                    .map(|p| (g.group.as_str(), TopicPartition::new(&p.topic, p.partition)))
            })
            .collect();
        let names: BTreeSet<&str> = groups.iter().map(|g| g.group.as_str()).collect();
        readings.retain(|(g, tp), _| {
            let ours = whole || names.contains(g.as_str());
            !ours || present.contains(&(g.as_str(), tp.clone()))
        });
        apply(groups, &readings);
    }
}

/// The timestamp of the first record at or after each `(partition, offset)`
/// (blocking; a throwaway consumer that assigns, never subscribes or
/// commits, and pauses each partition once its record came). `None` for a
/// record without a timestamp; a pair whose record did not arrive within
/// `timeout` is missing from the answer.
pub fn record_timestamps(
    inner: &Inner,
    at: &[(TopicPartition, i64)],
    timeout: Duration,
) -> Result<BTreeMap<(TopicPartition, i64), Option<i64>>, WorkerError> {
    use rdkafka::Message as _;
    let mut out = BTreeMap::new();
    if at.is_empty() {
        return Ok(out);
    }
    let group = format!("kafkaterm-probe-{}", std::process::id());
    let cfg = client::client_config(
        &inner.profile,
        "probe",
        &[
            ("fetch.wait.max.ms", "100"),
            // One record per partition is all we want: small fetches.
            ("fetch.message.max.bytes", "4096"),
            ("queued.max.messages.kbytes", "1024"),
        ],
        &[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
        ],
    );
    let consumer: KtClient<BaseConsumer<KtContext>> =
        client::create(&cfg, KtContext::default()).map_err(|e| crate::werr!("{e}"))?;
    // Several groups may want one partition at different offsets: one
    // round per distinct offset of a partition.
    let mut rounds: Vec<Vec<(TopicPartition, i64)>> = Vec::new();
    let mut per_tp: HashMap<&TopicPartition, usize> = HashMap::new();
    for (tp, o) in at {
        let n = per_tp.entry(tp).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        if let Some(r) = rounds.get_mut(*n) {
            r.push((tp.clone(), *o));
        }
        *n += 1;
    }
    let deadline = Instant::now() + timeout;
    for round in rounds {
        let tpl = offsets::tpl_with(
            round
                .iter()
                .map(|(tp, o)| (tp.topic.as_str(), tp.partition, Offset::Offset(*o))),
        )?;
        consumer.assign(&tpl).map_err(|e| classify(&e))?;
        let mut left: HashMap<TopicPartition, i64> = round.into_iter().collect();
        while !left.is_empty() && Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let tp = TopicPartition::new(m.topic(), m.partition());
                    if let Some(o) = left.get(&tp).copied().filter(|o| m.offset() >= *o) {
                        left.remove(&tp);
                        out.insert((tp.clone(), o), crate::kafka::message::timestamp_of(&m).0);
                        if let Ok(one) = offsets::tpl_with(std::iter::once((
                            tp.topic.as_str(),
                            tp.partition,
                            Offset::Invalid,
                        ))) {
                            let _ = consumer.pause(&one);
                        }
                    }
                }
                Some(Err(e)) => tracing::debug!("reading records: {}", explain(&e)),
                None => {}
            }
        }
        let _ = consumer.unassign();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartitionLag;

    fn group(name: &str, at: i64, parts: &[(i32, Option<i64>, Option<i64>)]) -> GroupSnapshot {
        GroupSnapshot {
            group: name.into(),
            description: None,
            description_note: None,
            partitions: parts
                .iter()
                .map(|(p, c, l)| PartitionLag {
                    topic: "t".into(),
                    partition: *p,
                    committed: *c,
                    end: c.zip(*l).map(|(c, l)| c + l),
                    lag: *l,
                    member_id: None,
                    lag_ms: None,
                    lag_ms_estimated: false,
                    error: None,
                    lso: None,
                })
                .collect(),
            offsets_note: None,
            at_ms: at,
        }
    }

    fn reading(offset: i64, timestamp: i64, read_at_ms: i64) -> Reading {
        Reading {
            offset,
            timestamp: Some(timestamp),
            read_at_ms,
        }
    }

    #[test]
    fn only_lagging_partitions_without_a_current_reading_are_read() {
        let g = group(
            "g",
            10_000,
            &[
                (0, Some(5), Some(0)), // caught up
                (1, Some(5), Some(3)), // read at 5 already
                (2, Some(9), Some(3)), // read at an older offset
                (3, Some(7), Some(1)), // never read
                (4, None, None),       // no commit
            ],
        );
        let mut r = HashMap::new();
        r.insert(
            ("g".to_string(), TopicPartition::new("t", 1)),
            reading(5, 1, 100),
        );
        r.insert(
            ("g".to_string(), TopicPartition::new("t", 2)),
            reading(8, 1, 100),
        );
        let w = wanted(&[g], &r, 10);
        // Never read first, then the oldest reading.
        assert_eq!(
            w,
            vec![
                (TopicPartition::new("t", 3), 7),
                (TopicPartition::new("t", 2), 9)
            ]
        );
    }

    #[test]
    fn the_budget_prefers_partitions_never_read_and_shares_pairs() {
        let a = group("a", 0, &[(0, Some(5), Some(1)), (1, Some(5), Some(1))]);
        let b = group("b", 0, &[(0, Some(5), Some(1))]);
        let mut r = HashMap::new();
        r.insert(
            ("a".to_string(), TopicPartition::new("t", 1)),
            reading(4, 1, 50),
        );
        // a/0 and b/0 want the same record: read once.
        let w = wanted(&[a.clone(), b.clone()], &r, 10);
        assert_eq!(
            w,
            vec![
                (TopicPartition::new("t", 0), 5),
                (TopicPartition::new("t", 1), 5)
            ]
        );
        assert_eq!(
            wanted(&[a, b], &r, 1),
            vec![(TopicPartition::new("t", 0), 5)]
        );
    }

    #[test]
    fn lag_in_time_is_now_minus_the_next_records_timestamp() {
        let mut gs = vec![group(
            "g",
            200_000,
            &[
                (0, Some(5), Some(0)),
                (1, Some(5), Some(3)),
                (2, Some(9), Some(3)),
                (3, Some(7), Some(1)),
                (4, Some(7), Some(2)),
            ],
        )];
        let mut r = HashMap::new();
        let tp = |p| ("g".to_string(), TopicPartition::new("t", p));
        r.insert(tp(1), reading(5, 80_000, 1));
        r.insert(tp(2), reading(8, 150_000, 1));
        r.insert(tp(4), reading(7, 250_000, 1)); // a timestamp in the future
        apply(&mut gs, &r);
        let p = &gs[0].partitions;
        assert_eq!(p[0].lag_ms, Some(0));
        assert_eq!((p[1].lag_ms, p[1].lag_ms_estimated), (Some(120_000), false));
        assert_eq!((p[2].lag_ms, p[2].lag_ms_estimated), (Some(50_000), true));
        assert_eq!(p[3].lag_ms, None);
        assert_eq!(p[4].lag_ms, Some(0));
        assert_eq!(gs[0].max_lag_ms(), Some(120_000));
    }
}
