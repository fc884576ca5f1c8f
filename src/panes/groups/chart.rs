//! The Lag tab: total lag, production and commit rates over time. The series
//! are computed when a sample arrives ([`LagSeries::sync`]), never while
//! drawing; the list's trend column is computed with the row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition, Paragraph};

use crate::app::ctx::DrawCtx;
use crate::lag::GroupHistory;

/// The chart's data for one group, built from its samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LagSeries {
    pub group: String,
    /// Sample count, time of the last sample and unit the series were built from.
    built_from: (usize, i64, bool),
    /// Lag in time (seconds) rather than in messages.
    pub seconds: bool,
    /// (seconds since the first sample, total lag in messages, or the
    /// group's lag in time in seconds)
    pub lag: Vec<(f64, f64)>,
    /// Messages appended per second between consecutive samples.
    pub produce: Vec<(f64, f64)>,
    /// Offsets committed per second between consecutive samples.
    pub consume: Vec<(f64, f64)>,
    pub x_max: f64,
    pub y_max: f64,
}

#[allow(clippy::cast_precision_loss)]
fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl LagSeries {
    /// The series of `group`'s history: lag in messages with the rates, or
    /// (`seconds`) the group's lag in time alone.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn of(group: &str, h: &GroupHistory, seconds: bool) -> Self {
        let first = h.samples.front().map_or(0, |s| s.at_ms);
        let lag: Vec<(f64, f64)> = h
            .samples
            .iter()
            .filter_map(|s| {
                let y = if seconds {
                    secs(s.max_lag_ms?)
                } else {
                    s.total_lag as f64
                };
                Some((secs(s.at_ms - first), y))
            })
            .collect();
        let mut produce = Vec::with_capacity(lag.len());
        let mut consume = Vec::with_capacity(lag.len());
        let pairs = h.samples.iter().zip(h.samples.iter().skip(1));
        for (a, b) in pairs.filter(|_| !seconds) {
            let dt = secs(b.at_ms - a.at_ms).max(0.001);
            let x = secs(b.at_ms - first);
            produce.push((x, (b.end_sum - a.end_sum).max(0) as f64 / dt));
            consume.push((x, (b.committed_sum - a.committed_sum).max(0) as f64 / dt));
        }
        let x_max = lag.last().map_or(1.0, |p| p.0).max(1.0);
        let y_max = lag
            .iter()
            .chain(&produce)
            .chain(&consume)
            .map(|p| p.1)
            .fold(1.0f64, f64::max)
            * 1.1;
        Self {
            group: group.to_string(),
            built_from: Self::key(h, seconds),
            seconds,
            lag,
            produce,
            consume,
            x_max,
            y_max,
        }
    }

    fn key(h: &GroupHistory, seconds: bool) -> (usize, i64, bool) {
        (
            h.samples.len(),
            h.samples.back().map_or(0, |s| s.at_ms),
            seconds,
        )
    }

    /// Is this the chart of `group` as of its last sample, in its unit?
    #[must_use]
    pub fn is_current(&self, group: &str, h: &GroupHistory) -> bool {
        self.group == group && self.built_from == Self::key(h, self.seconds)
    }

    /// Rebuild `slot` when `group` has samples the chart does not show yet,
    /// or the unit changed.
    pub fn sync(slot: &mut Option<Self>, group: &str, h: &GroupHistory, seconds: bool) {
        if !slot
            .as_ref()
            .is_some_and(|c| c.seconds == seconds && c.is_current(group, h))
        {
            *slot = Some(Self::of(group, h, seconds));
        }
    }
}

/// Draw the chart (or say that samples are still coming).
pub(super) fn draw(series: Option<&LagSeries>, f: &mut Frame<'_>, body: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let Some(s) = series.filter(|s| s.lag.len() >= 2) else {
        let msg = if series.is_some_and(|s| s.seconds) {
            "collecting samples of the lag in time…"
        } else {
            "collecting samples…"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), body);
        return;
    };
    let datasets = if s.seconds {
        vec![line_of("lag in time (s)", t.lag_warn, &s.lag)]
    } else {
        vec![
            line_of("total lag", t.lag_warn, &s.lag),
            line_of("produced/s", t.accent, &s.produce),
            line_of("committed/s", t.ok, &s.consume),
        ]
    };
    let y_top = if s.seconds {
        crate::timeutil::human_duration(s.y_max.floor())
    } else {
        format!("{:.0}", s.y_max)
    };
    let chart = Chart::new(datasets)
        .legend_position(Some(LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)))
        .x_axis(
            Axis::default()
                .style(t.muted)
                .bounds([0.0, s.x_max])
                .labels(vec![Span::raw("0s"), Span::raw(format!("{:.0}s", s.x_max))]),
        )
        .y_axis(
            Axis::default()
                .style(t.muted)
                .bounds([0.0, s.y_max])
                .labels(vec![Span::raw("0"), Span::raw(y_top)]),
        );
    f.render_widget(chart, body);
}

/// One line of the chart.
fn line_of<'a>(name: &'static str, style: Style, data: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(symbols::Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

/// Total lag over the last `width` samples as block characters.
#[must_use]
pub fn sparkline(h: &GroupHistory, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let n = h.samples.len().min(width);
    let pts: Vec<i64> = h
        .samples
        .iter()
        .skip(h.samples.len() - n)
        .map(|s| s.total_lag)
        .collect();
    let max = pts.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        return "▁".repeat(pts.len());
    }
    pts.iter()
        .map(|v| BARS[usize::try_from(v * 7 / max).unwrap_or(0).min(7)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lag::Sample;

    fn history(samples: &[(i64, i64, i64, i64)]) -> GroupHistory {
        let mut h = GroupHistory::default();
        for &(at_ms, total_lag, committed_sum, end_sum) in samples {
            h.samples.push_back(Sample {
                at_ms,
                total_lag,
                committed_sum,
                end_sum,
                max_lag_ms: Some(total_lag * 1000),
            });
        }
        h
    }

    #[test]
    fn series_are_rates_between_samples() {
        let h = history(&[(0, 100, 0, 100), (10_000, 50, 200, 250)]);
        let s = LagSeries::of("g", &h, false);
        assert_eq!(s.lag, vec![(0.0, 100.0), (10.0, 50.0)]);
        assert_eq!(s.produce, vec![(10.0, 15.0)]);
        assert_eq!(s.consume, vec![(10.0, 20.0)]);
        assert!((s.x_max - 10.0).abs() < 1e-9);
        assert!((s.y_max - 110.0).abs() < 1e-9);
    }

    #[test]
    fn series_are_rebuilt_only_when_a_sample_arrives() {
        let mut h = history(&[(0, 100, 0, 100), (2_000, 90, 10, 100)]);
        let mut slot = None;
        LagSeries::sync(&mut slot, "g", &h, false);
        let first = slot.clone().unwrap();
        assert!(first.is_current("g", &h));
        // Nothing new: the same series (nothing rebuilt).
        slot.as_mut().unwrap().y_max = -1.0;
        LagSeries::sync(&mut slot, "g", &h, false);
        assert!((slot.as_ref().unwrap().y_max + 1.0).abs() < 1e-9);
        // Another group, or a new sample: rebuilt.
        assert!(!first.is_current("other", &h));
        h.samples.push_back(Sample {
            at_ms: 4_000,
            total_lag: 80,
            committed_sum: 20,
            end_sum: 100,
            max_lag_ms: None,
        });
        LagSeries::sync(&mut slot, "g", &h, false);
        assert_eq!(slot.as_ref().unwrap().lag.len(), 3);
        // The cap drops the oldest sample and adds one: same count, new time.
        h.samples.pop_front();
        h.samples.push_back(Sample {
            at_ms: 6_000,
            total_lag: 70,
            committed_sum: 30,
            end_sum: 100,
            max_lag_ms: None,
        });
        assert!(!slot.as_ref().unwrap().is_current("g", &h));
    }

    #[test]
    fn the_seconds_chart_is_the_lag_in_time_alone() {
        let mut h = history(&[(0, 3, 0, 3), (10_000, 5, 0, 5)]);
        h.samples.push_back(Sample {
            at_ms: 20_000,
            total_lag: 9,
            committed_sum: 0,
            end_sum: 9,
            max_lag_ms: None, // unknown at that refresh: no point
        });
        let s = LagSeries::of("g", &h, true);
        assert_eq!(s.lag, vec![(0.0, 3.0), (10.0, 5.0)]);
        assert!(s.produce.is_empty() && s.consume.is_empty());
        let mut slot = Some(LagSeries::of("g", &h, false));
        LagSeries::sync(&mut slot, "g", &h, true);
        assert!(slot.is_some_and(|s| s.seconds));
    }

    #[test]
    fn sparkline_scales_to_the_maximum() {
        let h = history(&[(0, 0, 0, 0), (1, 7, 0, 0), (2, 14, 0, 0)]);
        assert_eq!(sparkline(&h, 12), "▁▄█");
        assert_eq!(sparkline(&h, 2), "▄█");
        assert_eq!(sparkline(&history(&[(0, 0, 0, 0)]), 12), "▁");
    }
}
