//! Text cut to a width: word wrap, styled-span wrap, and fitting spans into
//! a row with `…`. Widths are display columns counted grapheme by grapheme
//! as `sanitize::columns` counts them (CJK and most emoji take two,
//! combining marks none), and a cut never splits a grapheme cluster.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

pub use crate::sanitize::columns;

/// Text cut into lines of at most `width` columns, between words where it
/// can; a word wider than a line is cut between graphemes (a grapheme wider
/// than the whole line gets a line of its own).
#[must_use]
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut used = 0;
    for word in s.split(' ') {
        if !cur.is_empty() && used + 1 + columns(word) > width {
            lines.push(std::mem::take(&mut cur));
            used = 0;
        }
        if !cur.is_empty() {
            cur.push(' ');
            used += 1;
        }
        for g in word.graphemes(true) {
            let w = g.width();
            if used + w > width && !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                used = 0;
            }
            cur.push_str(g);
            used += w;
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Spans cut to `width` columns, ending with `…` when something was cut.
#[must_use]
pub fn fit(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| columns(&s.content)).sum();
    if total <= width {
        return spans;
    }
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = columns(&s.content);
        if used + w < width {
            used += w;
            out.push(s);
            continue;
        }
        // What fits in the room left, less a column for the `…`.
        let room = width.saturating_sub(used);
        let mut text = String::new();
        let mut w = 0;
        for g in s.content.graphemes(true) {
            let gw = g.width();
            if w + gw + 1 > room {
                break;
            }
            w += gw;
            text.push_str(g);
        }
        if room > 0 {
            text.push('…');
        }
        out.push(Span::styled(text, s.style));
        break;
    }
    out
}

/// Styled spans wrapped to `width` columns, breaking after a space in the
/// second half of the row where there is one, else anywhere between
/// graphemes; each row keeps the pieces' styles.
#[must_use]
pub fn wrap_spans(spans: &[Span<'_>], width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let cells: Vec<(&str, Style)> = spans
        .iter()
        .flat_map(|s| s.content.graphemes(true).map(move |g| (g, s.style)))
        .collect();
    let mut rows: Vec<&[(&str, Style)]> = Vec::new();
    let mut start = 0;
    while start < cells.len() {
        let mut end = start;
        let mut used = 0;
        while end < cells.len() && used + cells[end].0.width() <= width {
            used += cells[end].0.width();
            end += 1;
        }
        if end == start {
            end += 1; // a grapheme wider than the row
        } else if end < cells.len() {
            // Break after the last space in the second half of the row.
            if let Some(sp) = cells[start..end].iter().rposition(|(g, _)| *g == " ")
                && sp > (end - start) / 2
            {
                end = start + sp + 1;
            }
        }
        rows.push(&cells[start..end]);
        start = end;
    }
    rows.into_iter()
        .map(|row| {
            let mut out: Vec<Span<'static>> = Vec::new();
            for (g, style) in row {
                match out.last_mut() {
                    Some(s) if s.style == *style => s.content.to_mut().push_str(g),
                    _ => out.push(Span::styled((*g).to_string(), *style)),
                }
            }
            Line::from(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "é" as `e` and a combining acute accent: one column, two chars.
    const E_ACUTE: &str = "e\u{301}";

    #[test]
    fn errors_wrap_between_words() {
        let e = "`yesterday` is not a start position: use beginning, end, an offset, @2026-11-22T10:00:00Z, -15m or -N";
        let lines = wrap(e, 30);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(columns(l) <= 30, "{l:?}");
        }
        assert_eq!(lines.join(" "), e);
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(
            wrap("move the decoder focus", 10),
            ["move the", "decoder", "focus"]
        );
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
    }

    #[test]
    fn wrap_counts_wide_and_combining_characters_as_the_terminal_does() {
        // Two columns each: two to a row of four.
        assert_eq!(wrap("ユーザー ab", 4), ["ユー", "ザー", "ab"]);
        // A wide character never straddles the edge of an odd width.
        assert_eq!(wrap("ユーザー", 3), ["ユ", "ー", "ザ", "ー"]);
        // Combining marks take no column and stay on their letter.
        let word = E_ACUTE.repeat(6);
        let lines = wrap(&format!("{word} {E_ACUTE}"), 6);
        assert_eq!(lines, [word.clone(), E_ACUTE.to_string()]);
        let cut = wrap(&word, 4);
        assert_eq!(cut, [E_ACUTE.repeat(4), E_ACUTE.repeat(2)]);
        // A grapheme wider than the row gets a row of its own.
        assert_eq!(wrap("ユa", 1), ["ユ", "a"]);
    }

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn fit_cuts_with_an_ellipsis_between_graphemes() {
        let spans = vec![Span::raw("abc "), Span::raw("defghij")];
        assert_eq!(text(&fit(spans.clone(), 11)), "abc defghij");
        assert_eq!(text(&fit(spans.clone(), 8)), "abc def…");
        assert_eq!(text(&fit(spans, 0)), "");
        // Wide characters: never past the width, even by one column.
        let wide = vec![Span::raw("ユーザー")];
        let cut = fit(wide.clone(), 5);
        assert_eq!(text(&cut), "ユー…");
        assert_eq!(text(&fit(wide, 4)), "ユ…");
        // Combining marks take no room and are never cut from their letter.
        let accents = vec![Span::raw(E_ACUTE.repeat(5))];
        assert_eq!(text(&fit(accents.clone(), 5)), E_ACUTE.repeat(5));
        assert_eq!(text(&fit(accents, 4)), E_ACUTE.repeat(3) + "…");
    }

    #[test]
    fn styled_wrap_breaks_after_a_space_and_keeps_styles() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let rows = wrap_spans(
            &[
                Span::raw("#2 failed: "),
                Span::styled("broker said no way", bold),
            ],
            16,
        );
        let texts: Vec<String> = rows.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["#2 failed: ", "broker said no ", "way"]);
        assert_eq!(rows[1].spans[0].style, bold);
        for row in wrap_spans(&[Span::raw("ユーザーユーザー")], 5) {
            assert!(row.width() <= 5, "{row}");
        }
        let accents = wrap_spans(&[Span::raw(E_ACUTE.repeat(6))], 4);
        let texts: Vec<String> = accents.iter().map(ToString::to_string).collect();
        assert_eq!(texts, [E_ACUTE.repeat(4), E_ACUTE.repeat(2)]);
    }
}
