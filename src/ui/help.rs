//! The help overlay's geometry: rows of (keys, description) wrapped to the
//! overlay's width, shared by drawing and by the app's scrolling.

use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

use super::text::wrap;
use super::widgets;

/// Widest key column.
const KEY_MAX: usize = 24;

/// The overlay's rectangle in `area` and its lines: `(key column, text)`.
#[must_use]
pub fn layout(rows: &[(String, String)], area: Rect) -> (Rect, Vec<(String, String)>) {
    let width = area.width.saturating_sub(4).min(110);
    let key_w = rows
        .iter()
        .map(|(k, _)| k.width())
        .max()
        .unwrap_or(8)
        .clamp(8, KEY_MAX);
    let desc_w = usize::from(width.saturating_sub(2)).saturating_sub(key_w + 1);
    let mut lines = Vec::new();
    for (k, d) in rows {
        for (i, part) in wrap(d, desc_w).into_iter().enumerate() {
            let key = if i == 0 { k.as_str() } else { "" };
            let pad = key_w.saturating_sub(key.width()) + 1;
            lines.push((format!("{key}{}", " ".repeat(pad)), part));
        }
    }
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    (widgets::centered(area, width, h.min(area.height)), lines)
}

/// Lines the overlay can scroll past in `area`.
#[must_use]
pub fn max_scroll(rows: &[(String, String)], area: Rect) -> usize {
    let (r, lines) = layout(rows, area);
    lines
        .len()
        .saturating_sub(usize::from(r.height.saturating_sub(2)))
}
