//! The last stable offset (LSO) and the stuck-transaction rule.
//!
//! A `read_committed` consumer reads no further than the LSO: the first
//! offset of the oldest transaction still open on the partition (or the
//! high watermark when none is). An LSO below the high watermark is normal
//! while transactions come and go; an LSO that stays at the same offset
//! below the high watermark means one transaction has been open all that
//! time: a producer that died or hung mid-transaction, whose records (and
//! everything after them) `read_committed` consumers cannot read until the
//! coordinator aborts it at `transaction.timeout.ms`.
//!
//! [`LsoWatch`] keeps, per partition, since when the LSO has been held at
//! its current value below the high watermark, from successive samples.

use std::collections::HashMap;

/// How long an LSO may stay held below the high watermark before the
/// partition is flagged, unless configured otherwise.
pub const DEFAULT_STUCK_MS: i64 = 60_000;

/// One partition's LSO as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LsoState {
    /// LSO and high watermark not both known.
    Unknown,
    /// LSO = high watermark: nothing held back.
    Stable,
    /// LSO below the high watermark (by `behind` offsets) for `held_ms` so
    /// far (at least: the first sample starts the clock).
    Held { behind: i64, held_ms: i64 },
    /// Held longer than the threshold: likely a stuck transaction.
    Stuck { behind: i64, held_ms: i64 },
}

impl LsoState {
    #[must_use]
    pub fn is_stuck(self) -> bool {
        matches!(self, LsoState::Stuck { .. })
    }
}

/// Since when each partition's LSO has been held below its high watermark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsoWatch {
    /// partition → (the held LSO, the first sample that saw it held, the
    /// last sample's high watermark).
    held: HashMap<i32, (i64, i64, i64)>,
}

impl LsoWatch {
    /// Take one sample of a partition: its LSO and high watermark at `now_ms`.
    /// An LSO that moved, reached the high watermark or became unknown
    /// restarts the clock.
    pub fn observe(&mut self, partition: i32, lso: Option<i64>, high: Option<i64>, now_ms: i64) {
        match (lso, high) {
            (Some(l), Some(h)) if l >= 0 && l < h => {
                let e = self.held.entry(partition).or_insert((l, now_ms, h));
                if e.0 != l {
                    *e = (l, now_ms, h);
                } else {
                    e.2 = h;
                }
            }
            _ => {
                self.held.remove(&partition);
            }
        }
    }

    /// Forget partitions not in `keep` (a topic that shrank or was recreated).
    pub fn retain(&mut self, keep: &[i32]) {
        self.held.retain(|p, _| keep.contains(p));
    }

    /// The partition's state at `now_ms` under the stuck threshold.
    #[must_use]
    pub fn state(
        &self,
        partition: i32,
        lso: Option<i64>,
        high: Option<i64>,
        now_ms: i64,
        stuck_ms: i64,
    ) -> LsoState {
        let (Some(l), Some(h)) = (lso, high) else {
            return LsoState::Unknown;
        };
        if l < 0 || l >= h {
            return LsoState::Stable;
        }
        let behind = h - l;
        match self.held.get(&partition) {
            Some((held, since, _)) if *held == l => {
                let held_ms = (now_ms - since).max(0);
                if held_ms >= stuck_ms {
                    LsoState::Stuck { behind, held_ms }
                } else {
                    LsoState::Held { behind, held_ms }
                }
            }
            _ => LsoState::Held { behind, held_ms: 0 },
        }
    }
}

/// A duration as `45s`, `4m12s`, `2h05m`.
#[must_use]
pub fn short_age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn an_lso_held_at_one_offset_past_the_threshold_is_stuck_with_its_age() {
        let mut w = LsoWatch::default();
        // t=0: LSO 100 below HW 150; the HW keeps growing, the LSO does not.
        for (t, hw) in [(0, 150), (20_000, 180), (40_000, 220), (59_000, 260)] {
            w.observe(0, Some(100), Some(hw), t);
        }
        assert_eq!(
            w.state(0, Some(100), Some(260), 59_000, MIN),
            LsoState::Held {
                behind: 160,
                held_ms: 59_000
            }
        );
        w.observe(0, Some(100), Some(300), 61_000);
        let s = w.state(0, Some(100), Some(300), 61_000, MIN);
        assert_eq!(
            s,
            LsoState::Stuck {
                behind: 200,
                held_ms: 61_000
            }
        );
        assert!(s.is_stuck());
        // A shorter threshold flags it earlier; a longer one not yet.
        assert!(w.state(0, Some(100), Some(300), 61_000, 30_000).is_stuck());
        assert!(!w.state(0, Some(100), Some(300), 61_000, 120_000).is_stuck());
    }

    #[test]
    fn a_moving_lso_is_not_stuck_even_when_always_below_the_high_watermark() {
        // Busy transactional producer: LSO < HW at every sample, but it
        // advances (transactions complete): never flagged.
        let mut w = LsoWatch::default();
        for i in 0..20 {
            let t = i * 10_000;
            w.observe(1, Some(100 + i * 50), Some(130 + i * 50), t);
            let s = w.state(1, Some(100 + i * 50), Some(130 + i * 50), t, MIN);
            assert!(matches!(s, LsoState::Held { held_ms: 0, .. }), "{i}: {s:?}");
        }
    }

    #[test]
    fn reaching_the_high_watermark_or_losing_the_figures_restarts_the_clock() {
        let mut w = LsoWatch::default();
        w.observe(2, Some(10), Some(20), 0);
        w.observe(2, Some(10), Some(20), 50_000);
        // Committed or aborted: LSO = HW.
        w.observe(2, Some(20), Some(20), 55_000);
        assert_eq!(
            w.state(2, Some(20), Some(20), 55_000, MIN),
            LsoState::Stable
        );
        // A new transaction held at 20 from 60 s: its age counts from there.
        w.observe(2, Some(20), Some(25), 60_000);
        w.observe(2, Some(20), Some(30), 100_000);
        assert_eq!(
            w.state(2, Some(20), Some(30), 100_000, MIN),
            LsoState::Held {
                behind: 10,
                held_ms: 40_000
            }
        );
        // Unknown LSO (a failed ListOffsets) forgets the partition.
        w.observe(2, None, Some(30), 110_000);
        assert_eq!(w.state(2, None, Some(30), 110_000, MIN), LsoState::Unknown);
        w.observe(2, Some(20), Some(30), 200_000);
        assert_eq!(
            w.state(2, Some(20), Some(30), 200_000, MIN),
            LsoState::Held {
                behind: 10,
                held_ms: 0
            }
        );
    }

    #[test]
    fn partitions_are_independent_and_dropped_ones_forgotten() {
        let mut w = LsoWatch::default();
        w.observe(0, Some(5), Some(9), 0);
        w.observe(1, Some(7), Some(7), 0);
        w.observe(0, Some(5), Some(9), 70_000);
        w.observe(1, Some(7), Some(7), 70_000);
        assert!(w.state(0, Some(5), Some(9), 70_000, MIN).is_stuck());
        assert_eq!(w.state(1, Some(7), Some(7), 70_000, MIN), LsoState::Stable);
        w.retain(&[1]);
        assert!(!w.state(0, Some(5), Some(9), 70_000, MIN).is_stuck());
    }

    #[test]
    fn ages_read_short() {
        assert_eq!(short_age(59_999), "59s");
        assert_eq!(short_age(252_000), "4m12s");
        assert_eq!(short_age(7_500_000), "2h05m");
    }
}
