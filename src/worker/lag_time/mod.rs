//! Lag in time: how long ago the next record a group will read was written.
//!
//! For each lagging partition the worker reads the record at the group's
//! committed offset ([`probe`]: one throwaway consumer per refresh that
//! assigns, never subscribes or commits) and takes its timestamp; the lag in time is the
//! snapshot's time minus that timestamp. Readings are kept per group and
//! partition, so a partition whose committed offset did not move costs
//! nothing on the next refresh. At most [`PROBE_BUDGET`] records are read
//! per refresh (the partitions never read first, then the oldest readings):
//! a partition left out keeps its last reading, measured from an older
//! record, which can only overstate the lag (marked as an estimate).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use super::Inner;
use crate::model::{GroupSnapshot, TopicPartition};

mod probe;
pub use probe::{Answer, record_timestamps};

/// Offsets read per refresh, at most. One pass reads every offset asked
/// of a partition, so the cost is about one small fetch per partition:
/// 200 groups × 50 partitions (10,000 offsets on 5,050 partitions) fit,
/// measured in scripts/bench.sh (lag in time at scale).
pub const PROBE_BUDGET: usize = 20_000;
/// How long the reads of one refresh may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The record at a committed offset, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The committed offset the record was read at.
    pub offset: i64,
    /// The record's timestamp; `None` for a record without one, or none
    /// readable.
    pub timestamp: Option<i64>,
    /// When it was read, ms since the epoch.
    pub read_at_ms: i64,
    /// Why no record can be read at the offset, when none can.
    pub note: Option<String>,
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
/// an older one as an estimate; `None` without a reading or a timestamp,
/// with the reason when one is known (from the reading, or from `unread`:
/// offsets this refresh could not read).
pub fn apply(
    groups: &mut [GroupSnapshot],
    readings: &HashMap<(String, TopicPartition), Reading>,
    unread: &HashMap<(TopicPartition, i64), String>,
) {
    for g in groups {
        let at = g.at_ms;
        for p in &mut g.partitions {
            p.lag_ms = None;
            p.lag_ms_estimated = false;
            p.lag_ms_note = None;
            match (p.lag, p.committed) {
                (Some(0), _) => p.lag_ms = Some(0),
                (Some(_), Some(committed)) => {
                    let tp = TopicPartition::new(&p.topic, p.partition);
                    let reading = readings.get(&(g.group.clone(), tp.clone()));
                    if let Some(r) = reading
                        && let Some(ts) = r.timestamp.filter(|t| *t >= 0)
                    {
                        p.lag_ms = Some((at - ts).max(0));
                        p.lag_ms_estimated = r.offset != committed;
                    } else if let Some(why) = unread.get(&(tp, committed)) {
                        p.lag_ms_note = Some(why.clone());
                    } else if let Some(r) = reading.filter(|r| r.offset == committed) {
                        p.lag_ms_note = Some(r.note.clone().unwrap_or_else(|| {
                            format!("the record at offset {committed} has no timestamp")
                        }));
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
        let mut unread: HashMap<(TopicPartition, i64), String> = HashMap::new();
        if !want.is_empty() {
            match record_timestamps(inner, &want, PROBE_TIMEOUT) {
                Ok(found) => {
                    let now = crate::timeutil::now_ms();
                    for g in groups.iter() {
                        for p in &g.partitions {
                            let tp = TopicPartition::new(&p.topic, p.partition);
                            let Some(c) = p.committed else { continue };
                            let key = (tp, c);
                            let (timestamp, note) = match found.get(&key) {
                                Some(Answer::Read(ts)) => (*ts, None),
                                Some(Answer::Unreadable {
                                    reason,
                                    lasting: true,
                                }) => (None, Some(reason.clone())),
                                // Asked again next refresh.
                                Some(Answer::Unreadable { reason, .. }) => {
                                    unread.insert(key, reason.clone());
                                    continue;
                                }
                                None => continue,
                            };
                            readings.insert(
                                (g.group.clone(), key.0),
                                Reading {
                                    offset: c,
                                    timestamp,
                                    read_at_ms: now,
                                    note,
                                },
                            );
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!("reading records at committed offsets: {e}");
                    let reason = format!("the records could not be read: {}", e.message);
                    unread.extend(want.into_iter().map(|k| (k, reason.clone())));
                }
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
        apply(groups, &readings, &unread);
    }
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
                    lag_ms_note: None,
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
            note: None,
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
        apply(&mut gs, &r, &HashMap::new());
        let p = &gs[0].partitions;
        assert_eq!(p[0].lag_ms, Some(0));
        assert_eq!((p[1].lag_ms, p[1].lag_ms_estimated), (Some(120_000), false));
        assert_eq!((p[2].lag_ms, p[2].lag_ms_estimated), (Some(50_000), true));
        assert_eq!(p[3].lag_ms, None);
        assert_eq!(p[4].lag_ms, Some(0));
        assert_eq!(gs[0].max_lag_ms(), Some(120_000));
    }
}
