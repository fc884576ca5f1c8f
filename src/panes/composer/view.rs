//! Drawing the composer: the field rows, the text areas, the stored check,
//! the sends (`results`) and a footer of the keys that fit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{Area, ComposerPane, Focus, OPTIONS, ValueCheck, dialogs};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::config::theme::Theme;
use crate::model::TxnMode;
use crate::template::Encoding;
use crate::ui::widgets::{self, LineInput};

/// Widest one-line field besides the topic (a timestamp fits).
const FIELD_MAX: usize = 26;

pub(super) fn draw(p: &ComposerPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let mut title = vec![Span::styled(" Producer ", t.title)];
    if p.txn_mode != TxnMode::Off {
        // Transaction mode names its id and end on the frame.
        title.push(Span::styled("transaction ", t.muted));
        title.push(widgets::text(p.transactional_id(dc.env), t.accent));
        title.push(Span::styled(
            format!(" → {} ", p.txn_mode.as_str()),
            t.accent,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Line::from(title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let results_h: u16 = if inner.height > 20 { 4 } else { 2 };
    let [row1, row2, key_a, hdr_a, val_a, valid, results, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(if inner.height > 18 { 5 } else { 3 }),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(results_h),
        Constraint::Length(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(fields_row(p, t, row1.width)), row1);
    f.render_widget(Paragraph::new(options_row(p, t, row2.width)), row2);
    let m = &p.message;
    let enc = |a: Area| m.encoding(a).as_str();
    text_box(
        p,
        f,
        Area::Key,
        key_a,
        format!(
            " Key ({}) ",
            if m.is_null(Area::Key) {
                "null"
            } else {
                enc(Area::Key)
            }
        ),
        t,
    );
    text_box(
        p,
        f,
        Area::Headers,
        hdr_a,
        " Headers (name: value) ".into(),
        t,
    );
    let value_title = if m.is_null(Area::Value) {
        " Value (null: tombstone) ".to_string()
    } else {
        format!(" Value ({}) ", enc(Area::Value))
    };
    text_box(p, f, Area::Value, val_a, value_title, t);
    f.render_widget(Paragraph::new(check_line(p, dc, valid.width)), valid);
    f.render_widget(
        Paragraph::new(super::results::result_lines(p, dc, results)),
        results,
    );
    f.render_widget(Paragraph::new(footer(p, dc, hints.width)), hints);
    dialogs::draw_open(p, f, area, dc);
}

fn text_box(p: &ComposerPane, f: &mut Frame<'_>, a: Area, area: Rect, title: String, t: &Theme) {
    let focused = p.focus.area() == Some(a);
    let b = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focused } else { t.border })
        .title(Span::styled(title, if focused { t.title } else { t.muted }));
    let inner = b.inner(area);
    f.render_widget(b, area);
    if p.message.is_null(a) {
        f.render_widget(Paragraph::new(Span::styled("∅ null", t.null)), inner);
    } else {
        f.render_widget(p.message.area(a), inner);
    }
}

/// Topic, partition, count and timestamp; the topic takes the room the
/// others leave, each long input shows a window around its cursor.
fn fields_row(p: &ComposerPane, t: &Theme, width: u16) -> Line<'static> {
    let fields: [(&str, &LineInput, Focus); 4] = [
        ("topic", &p.topic, Focus::Topic),
        ("partition", &p.partition, Focus::Partition),
        ("count", &p.count, Focus::Count),
        ("timestamp", &p.timestamp, Focus::Timestamp),
    ];
    let shown = |i: &LineInput| crate::sanitize::escape(&i.text).width() + 1;
    let others: usize = fields[1..]
        .iter()
        .map(|(l, i, _)| l.len() + 3 + shown(i).min(FIELD_MAX))
        .sum();
    let topic_room = usize::from(width)
        .saturating_sub(others + "topic ".len())
        .max(8);
    let mut spans = Vec::new();
    for (n, (label, input, focus)) in fields.into_iter().enumerate() {
        let on = p.focus == focus;
        if n > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            format!("{label} "),
            if on { t.key_hint } else { t.muted },
        ));
        let room = if n == 0 {
            topic_room
        } else {
            shown(input).min(FIELD_MAX)
        };
        spans.extend(input.spans_in(t, on, room));
    }
    Line::from(spans)
}

/// Short names of the options, where the full row does not fit.
const SHORT_OPTIONS: [&str; 7] = ["acks", "comp", "idem", "key", "value", "null", "txn"];

fn options_row(p: &ComposerPane, t: &Theme, width: u16) -> Line<'static> {
    let m = &p.message;
    let on_off = |b: bool| if b { "on" } else { "off" };
    let values = [
        p.options.acks.as_str(),
        p.options.compression.as_str(),
        on_off(p.options.idempotent),
        if m.is_null(Area::Key) {
            "null"
        } else {
            m.encoding(Area::Key).as_str()
        },
        m.encoding(Area::Value).as_str(),
        on_off(m.is_null(Area::Value)),
        p.txn_mode.as_str(),
    ];
    let full: usize = OPTIONS
        .iter()
        .zip(values)
        .map(|(n, v)| n.len() + v.len() + 2)
        .sum();
    let names = if full <= usize::from(width) {
        OPTIONS
    } else {
        SHORT_OPTIONS
    };
    let mut spans = Vec::new();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        let on = p.focus == Focus::Options && p.opt_cursor == i;
        spans.push(Span::styled(
            format!("{name}:"),
            if on { t.key_hint } else { t.muted },
        ));
        spans.push(Span::styled(value, if on { t.selection } else { t.accent }));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// The stored check of key and value (computed when they changed).
fn check_line(p: &ComposerPane, dc: &DrawCtx<'_>, width: u16) -> Line<'static> {
    let t = dc.theme;
    let c = p.message.check();
    let (mark, mark_style, text, style) = match (&c.key, &c.value) {
        (Some(k), ValueCheck::Invalid(v)) => {
            // Both wrong: the key's reason, and the value's when it fits.
            let both = format!("{k}; value: {v}");
            let text = if both.width() + 2 <= usize::from(width) {
                both
            } else {
                format!("{k}; the value is invalid too")
            };
            ("✗ ", t.error, text, t.error)
        }
        (Some(k), _) => ("✗ ", t.error, k.clone(), t.error),
        (None, ValueCheck::Invalid(v)) => ("✗ ", t.error, v.clone(), t.error),
        (None, ValueCheck::Null) => ("✓ ", t.ok, "value: null (tombstone)".into(), t.muted),
        (None, ValueCheck::Empty) => {
            let null = dc
                .keymap
                .key_label(KeyContext::Producer, Action::ToggleNull);
            let hint = if null.is_empty() {
                String::new()
            } else {
                format!(" ({null} makes it null)")
            };
            (
                "✓ ",
                t.muted,
                format!("value: empty, 0 bytes{hint}"),
                t.muted,
            )
        }
        (None, ValueCheck::Template(e)) => (
            "✓ ",
            t.ok,
            format!("value: {} template", e.as_str()),
            t.muted,
        ),
        (None, ValueCheck::Ok(Encoding::Schema, _)) => (
            "✓ ",
            t.ok,
            format!(
                "value: JSON ok; encoded for {} when sent",
                crate::sanitize::escape(&p.schema_label(&p.value_schema))
            ),
            t.muted,
        ),
        (None, ValueCheck::Ok(e, n)) => (
            "✓ ",
            t.ok,
            format!("value: {} ok, {n} bytes", e.as_str()),
            t.muted,
        ),
    };
    Line::from(vec![
        Span::styled(mark, mark_style),
        widgets::text_cut(&text, usize::from(width).saturating_sub(2), style),
    ])
}

/// Key hints from the keymap, as many as fit `width`, most useful first;
/// shown in their usual order.
fn footer(p: &ComposerPane, dc: &DrawCtx<'_>, width: u16) -> Line<'static> {
    let km = dc.keymap;
    let pk = |a: Action| km.key_label(KeyContext::Producer, a);
    let ok = |a: Action| km.key_label(KeyContext::ProducerOptions, a);
    // (key, what, rank: lower is kept first)
    let hints: Vec<(String, &str, u8)> = if p.focus == Focus::Options {
        let move_keys: Vec<String> = [ok(Action::OptionLeft), ok(Action::OptionRight)]
            .into_iter()
            .filter(|k| !k.is_empty())
            .collect();
        vec![
            (move_keys.join("/"), "option", 0),
            (ok(Action::OptionNext), "change", 1),
            (pk(Action::NextField), "field", 2),
            (pk(Action::Send), "send", 3),
            (
                pk(Action::Cancel),
                if p.running().is_empty() {
                    "leave"
                } else {
                    "cancel sends"
                },
                4,
            ),
        ]
    } else {
        let null = if p.focus == Focus::Key {
            "null key"
        } else {
            "null"
        };
        vec![
            (pk(Action::Send), "send", 0),
            (pk(Action::NextField), "field", 1),
            (pk(Action::ToggleNull), null, 2),
            (pk(Action::FormatJson), "format", 5),
            (pk(Action::History), "history", 3),
            (pk(Action::Templates), "templates", 4),
            (pk(Action::SendFile), "file", 6),
        ]
    };
    let cost = |(k, d, _): &(String, &str, u8)| k.width() + 1 + d.width() + 2;
    let mut room = usize::from(width) + 2;
    let mut order: Vec<usize> = (0..hints.len()).collect();
    order.sort_by_key(|i| hints[*i].2);
    let mut keep = vec![false; hints.len()];
    for i in order {
        let h = &hints[i];
        if !h.0.is_empty() && cost(h) <= room {
            room -= cost(h);
            keep[i] = true;
        }
    }
    let shown: Vec<(&str, &str)> = hints
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((k, d, _), _)| (k.as_str(), *d))
        .collect();
    widgets::hints(dc.theme, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_topic_leaves_room_for_the_other_fields() {
        let mut p = ComposerPane::new(&crate::app::env::Env::test());
        p.topic = LineInput::with(&"orders-".repeat(20));
        let row = fields_row(&p, &Theme::dark(), 78);
        let s = row.to_string();
        assert!(row.width() <= 78, "{s}");
        assert!(s.ends_with("timestamp now "), "{s}");
        assert!(s.starts_with("topic …") && s.contains("orders- "), "{s}");
    }
}
