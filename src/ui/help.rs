//! The help overlay's geometry: rows of (keys, description) wrapped to the
//! overlay's width, shared by drawing and by the app's scrolling.

use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

use super::widgets;

/// Widest key column.
const KEY_MAX: usize = 24;

/// Word-wrap `text` to `width` display columns (a word longer than the
/// width is cut).
#[must_use]
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let w = word.width();
        let need = if line.is_empty() {
            w
        } else {
            line.width() + 1 + w
        };
        if need > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.width() > width {
            let mut cut = String::new();
            for c in line.chars() {
                if (cut.clone() + &c.to_string()).width() > width {
                    break;
                }
                cut.push(c);
            }
            if cut.is_empty() {
                break;
            }
            line = line[cut.len()..].to_string();
            out.push(cut);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words_and_cuts_long_ones() {
        assert_eq!(
            wrap("move the decoder focus", 10),
            ["move the", "decoder", "focus"]
        );
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("ユーザー ab", 4), ["ユー", "ザー", "ab"]);
    }
}
