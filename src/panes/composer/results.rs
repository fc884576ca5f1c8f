//! The composer's sends, newest first: each fitted to the width (details
//! dropped first, then wrapped), a send cut at the bottom ending in `…`.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use super::{Batch, ComposerPane, Focus};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::config::theme::Theme;
use crate::model::TxnOutcome;
use crate::ui::{text, widgets};
use crate::worker::protocol::ReqId;

/// Parts of a line: rank 0 always shows; higher ranks are details dropped,
/// highest first, when the line is too wide.
type Parts = Vec<(Span<'static>, u8)>;

fn result_parts(id: ReqId, b: &Batch, cancel: &str, dc: &DrawCtx<'_>) -> Parts {
    let t = dc.theme;
    let p = &b.progress;
    let mut v: Parts = vec![(Span::styled(format!("#{id} "), t.muted), 0)];
    if !p.done {
        in_flight_parts(&mut v, b, cancel, dc);
        return v;
    }
    if let Some(x) = &b.txn {
        return txn_result(v, b, x, dc);
    }
    if p.failed > 0 {
        v.push((Span::styled("✗ ", t.error), 0));
        v.push((widgets::text(&b.label, t.text), 0));
        v.push((
            Span::styled(
                format!(": {} delivered, {} failed: ", p.delivered, p.failed),
                t.error,
            ),
            0,
        ));
        v.push((
            widgets::text(p.first_error.as_deref().unwrap_or("unknown error"), t.error),
            0,
        ));
        return v;
    }
    v.push((Span::styled("✓ ", t.ok), 0));
    v.push((widgets::text(&b.label, t.text), 0));
    delivered_parts(&mut v, b, t);
    v
}

/// A send still going: the spinner, the count delivered, the cancel key.
fn in_flight_parts(v: &mut Parts, b: &Batch, cancel: &str, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let p = &b.progress;
    let in_txn = match &b.txn {
        Some(x) if x.aborting => " (aborting its transaction)",
        Some(_) => " in a transaction",
        None => "",
    };
    v.push((
        Span::styled(
            format!(
                "{} sending {}{in_txn}: {}/{} delivered",
                dc.spinner(),
                crate::sanitize::escape(&b.label),
                p.delivered,
                b.count.max(p.queued)
            ),
            t.accent,
        ),
        0,
    ));
    if !cancel.is_empty() {
        let what = if b.txn.is_some() { "aborts" } else { "cancels" };
        let c = cancel.replace("cancels", what);
        v.push((Span::styled(format!(" ({c})"), t.accent), 1));
    }
}

/// A send delivered in full: where one message went, or the count and rate.
fn delivered_parts(v: &mut Parts, b: &Batch, t: &Theme) {
    let p = &b.progress;
    match (&p.last, b.count) {
        (Some(d), 1) => {
            v.push((
                Span::styled(
                    format!(" → partition {} offset {}", d.partition, d.offset),
                    t.text,
                ),
                0,
            ));
            v.push((
                Span::styled(format!(" in {:.1} ms", d.latency_ms), t.text),
                1,
            ));
            if let Some(ts) = d.timestamp {
                v.push((
                    Span::styled(
                        format!("  ts {}", crate::timeutil::format_ts(ts, true)),
                        t.muted,
                    ),
                    2,
                ));
            }
        }
        _ => {
            #[allow(clippy::cast_precision_loss)]
            let rate = if p.elapsed_ms > 0 {
                p.delivered as f64 * 1000.0 / p.elapsed_ms as f64
            } else {
                0.0
            };
            v.push((
                Span::styled(format!(": {} delivered", p.delivered), t.text),
                0,
            ));
            v.push((Span::styled(format!(", {rate:.0} msg/s"), t.text), 1));
        }
    }
}

/// A finished transactional send: how the transaction ended first, then
/// the counts and the reason.
fn txn_result(mut v: Parts, b: &Batch, x: &super::TxnBatch, dc: &DrawCtx<'_>) -> Parts {
    let t = dc.theme;
    let p = &b.progress;
    let as_asked = matches!(
        (&x.outcome, x.commit),
        (Some(TxnOutcome::Committed), true) | (Some(TxnOutcome::Aborted), false)
    ) && p.failed == 0;
    let words = x
        .outcome
        .as_ref()
        .map_or("transaction ended", TxnOutcome::words);
    if as_asked {
        v.push((Span::styled("✓ ", t.ok), 0));
        v.push((widgets::text(&b.label, t.text), 0));
        v.push((Span::styled(format!(": {words}"), t.ok), 0));
        let verb = if x.commit { "delivered" } else { "written" };
        v.push((Span::styled(format!(", {} {verb}", p.delivered), t.text), 0));
        if let (Some(d), 1) = (&p.last, b.count) {
            v.push((
                Span::styled(
                    format!(" (partition {} offset {})", d.partition, d.offset),
                    t.text,
                ),
                1,
            ));
        }
        v.push((
            widgets::text(&format!("  id {}", x.transactional_id), t.muted),
            2,
        ));
        return v;
    }
    v.push((Span::styled("✗ ", t.error), 0));
    v.push((widgets::text(&b.label, t.text), 0));
    v.push((Span::styled(format!(": {words}"), t.error), 0));
    if p.delivered + p.failed > 0 {
        v.push((
            Span::styled(
                format!(" ({} written, {} failed)", p.delivered, p.failed),
                t.error,
            ),
            1,
        ));
    }
    if let Some(e) = &p.first_error {
        // "no transaction started: starting the transaction: …" says it twice.
        let e = match x.outcome {
            Some(TxnOutcome::NotStarted) => {
                e.strip_prefix("starting the transaction: ").unwrap_or(e)
            }
            _ => e,
        };
        v.push((Span::styled(": ", t.error), 0));
        v.push((widgets::text(e, t.error), 0));
    }
    v
}

/// Drop details until the parts fit `width`; what still does not fit wraps.
fn fit(mut parts: Parts, width: usize) -> Vec<Line<'static>> {
    let total = |p: &Parts| {
        p.iter()
            .map(|(s, _)| text::columns(&s.content))
            .sum::<usize>()
    };
    while total(&parts) > width {
        let Some(worst) = parts.iter().map(|(_, r)| *r).max().filter(|r| *r > 0) else {
            break;
        };
        if let Some(i) = parts.iter().rposition(|(_, r)| *r == worst) {
            parts.remove(i);
        }
    }
    let spans: Vec<Span<'static>> = parts.into_iter().map(|(s, _)| s).collect();
    text::wrap_spans(&spans, width)
}

/// Running sends, then finished ones, newest first, as many as `area`
/// holds; a send cut at the bottom ends in `…`.
pub(super) fn result_lines(p: &ComposerPane, dc: &DrawCtx<'_>, area: Rect) -> Vec<Line<'static>> {
    let t = dc.theme;
    let width = usize::from(area.width);
    let rows = usize::from(area.height);
    let esc = dc.keymap.key_label(KeyContext::Producer, Action::Cancel);
    let cancel = match (esc.is_empty(), p.focus == Focus::Options) {
        (true, _) => String::new(),
        (false, true) => format!("{esc} cancels"),
        (false, false) => format!("{esc} twice cancels"),
    };
    let sends = p
        .batches
        .iter()
        .rev()
        .map(|(id, b)| (*id, b))
        .chain(p.results.iter().map(|(id, b)| (*id, b)));
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (id, b) in sends {
        if lines.len() >= rows {
            break;
        }
        let mut more = fit(result_parts(id, b, &cancel, dc), width);
        let room = rows - lines.len();
        if more.len() > room {
            // The rows that do not fit join the last one shown, cut with `…`.
            let rest: Vec<Span<'static>> = more.drain(room - 1..).flat_map(|l| l.spans).collect();
            more.push(ellipsis(rest, width, t));
        }
        lines.extend(more);
    }
    if lines.is_empty() {
        lines.push(Line::from(if dc.env.read_only {
            Span::styled(
                "read-only mode: sending is disabled for this cluster",
                t.warn,
            )
        } else {
            Span::styled("no messages sent yet", t.muted)
        }));
    }
    lines
}

/// The spans cut to `width` columns between graphemes, ending in `…`.
fn ellipsis(spans: Vec<Span<'static>>, width: usize, t: &Theme) -> Line<'static> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut room = width.saturating_sub(1);
    'spans: for s in spans {
        let mut cut = String::new();
        for g in s.content.graphemes(true) {
            let w = text::columns(g);
            if w > room {
                out.push(Span::styled(cut, s.style));
                break 'spans;
            }
            room -= w;
            cut.push_str(g);
        }
        out.push(Span::styled(cut, s.style));
    }
    out.push(Span::styled("…", t.muted));
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn details_go_first_then_lines_wrap() {
        let parts: Parts = vec![
            (Span::raw("#1 sent"), 0),
            (Span::raw(" in 3 ms"), 1),
            (Span::raw(" at noon"), 2),
        ];
        assert_eq!(text(&fit(parts.clone(), 30)), ["#1 sent in 3 ms at noon"]);
        assert_eq!(text(&fit(parts.clone(), 16)), ["#1 sent in 3 ms"]);
        assert_eq!(text(&fit(parts, 10)), ["#1 sent"]);
        let long = vec![(Span::raw("#2 failed: broker said no way"), 0)];
        assert_eq!(
            text(&fit(long, 16)),
            ["#2 failed: ", "broker said no ", "way"]
        );
        let cut = ellipsis(
            vec![Span::raw("abc"), Span::raw("défgh")],
            6,
            &Theme::dark(),
        );
        assert_eq!(cut.to_string(), "abcdé…");
        // Wide characters and combining marks: cut between graphemes.
        let wide = ellipsis(vec![Span::raw("ユーザー")], 4, &Theme::dark());
        assert_eq!(wide.to_string(), "ユ…");
        let accents = ellipsis(vec![Span::raw("e\u{301}".repeat(4))], 3, &Theme::dark());
        assert_eq!(accents.to_string(), "e\u{301}e\u{301}…");
    }
}
