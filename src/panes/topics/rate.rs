//! Produce rate per topic: messages/s between successive refreshes, from
//! the sum of the partitions' high watermarks (log-end offsets), which only
//! grows while the topic exists (retention moves the low watermark, not the
//! high one).

use std::collections::{HashMap, VecDeque};

/// Rates kept per topic for the sparkline.
const KEEP: usize = 16;
/// Samples closer than this are not a rate (a count arriving right after
/// the refresh that listed it).
const MIN_GAP_MS: i64 = 1_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Throughput {
    /// The last sample: when, and the log-end offsets then.
    last: Option<(i64, i64)>,
    /// Messages/s between samples, oldest first.
    pub rates: VecDeque<f64>,
}

impl Throughput {
    /// The latest rate, once two samples are known.
    #[must_use]
    pub fn current(&self) -> Option<f64> {
        self.rates.back().copied()
    }

    /// Add a sample of the log-end offsets `end` at `at_ms`.
    pub fn sample(&mut self, at_ms: i64, end: i64) {
        match self.last {
            Some((_, e)) if end < e => {
                // Offsets went back: the topic was deleted and recreated.
                self.rates.clear();
                self.last = Some((at_ms, end));
            }
            Some((t, _)) if at_ms - t < MIN_GAP_MS => {}
            Some((t, e)) => {
                #[allow(clippy::cast_precision_loss)] // counts and ms far below 2^52
                let rate = (end - e) as f64 * 1000.0 / (at_ms - t) as f64;
                if self.rates.len() == KEEP {
                    self.rates.pop_front();
                }
                self.rates.push_back(rate);
                self.last = Some((at_ms, end));
            }
            None => self.last = Some((at_ms, end)),
        }
    }
}

/// Rates of every topic seen, by name.
pub type Rates = HashMap<String, Throughput>;

/// A rate as a short figure: `0`, `12`, `3.4k`, `1.2M` (per second).
#[must_use]
pub fn short_rate(r: f64) -> String {
    if r < 0.05 {
        "0".into()
    } else if r < 10.0 {
        format!("{r:.1}")
    } else if r < 1_000.0 {
        format!("{r:.0}")
    } else if r < 1_000_000.0 {
        format!("{:.1}k", r / 1_000.0)
    } else {
        format!("{:.1}M", r / 1_000_000.0)
    }
}

/// The last `width` rates as block characters scaled to their maximum.
#[must_use]
pub fn bars(rates: &VecDeque<f64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let n = rates.len().min(width);
    let pts: Vec<f64> = rates.iter().skip(rates.len() - n).copied().collect();
    let max = pts.iter().copied().fold(0.0, f64::max);
    pts.iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let i = ((v / max) * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_between_samples_and_resets() {
        let mut t = Throughput::default();
        t.sample(0, 100);
        assert_eq!(t.current(), None);
        t.sample(500, 150); // too close: not a rate
        assert_eq!(t.current(), None);
        t.sample(10_000, 600);
        assert_eq!(t.current(), Some(50.0));
        t.sample(20_000, 600);
        assert_eq!(t.current(), Some(0.0));
        // Recreated topic: offsets went back.
        t.sample(30_000, 10);
        assert_eq!(t.current(), None);
        t.sample(32_000, 30);
        assert_eq!(t.current(), Some(10.0));
    }

    #[test]
    fn short_rates_and_bars() {
        assert_eq!(short_rate(0.0), "0");
        assert_eq!(short_rate(4.25), "4.2");
        assert_eq!(short_rate(512.0), "512");
        assert_eq!(short_rate(12_345.0), "12.3k");
        assert_eq!(short_rate(2_500_000.0), "2.5M");
        let r: VecDeque<f64> = [0.0, 50.0, 100.0].into_iter().collect();
        assert_eq!(bars(&r, 8), "▁▅█");
        assert_eq!(bars(&r, 2), "▅█");
        let z: VecDeque<f64> = [0.0, 0.0].into_iter().collect();
        assert_eq!(bars(&z, 8), "▁▁");
    }
}
